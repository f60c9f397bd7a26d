"""Evaluation loops: answer a data set's questions and score them (layer 5).

One module per data set (``fvqa``, ``okvqa``, ...). Evaluation code may import every
layer below it and the task answerers (:mod:`nsreason.okvqa`); nothing in the library
imports it but the command line.
"""
