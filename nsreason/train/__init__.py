"""Training loops: fit the library's models on data sets (layer 5).

Training code may read data sets (:mod:`nsreason.datasets`) and run the executor;
inference code (layers 0-4) never imports it.
"""
