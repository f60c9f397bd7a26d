"""Evaluation loops behind ``nsreason eval``: each reads a data set's files, answers every
question through the library (:class:`~nsreason.api.Reasoner` and its parts) and returns a
report, a flat ``dict`` of figures that :func:`nsreason.eval.report.render_report` prints.

| module | data set |
| --- | --- |
| :mod:`.clevr` | CLEVR questions (release or generator format), gold programs or a parser |
| :mod:`.fvqa` | FVQA questions over concept labels and a knowledge base |
| :mod:`.okvqa` | OK-VQA questions over detector labels, soft VQA accuracy |

Evaluation code sits above the inference layers (``../shared/docs/DESIGN.md``): nothing in
``nsreason`` outside ``eval/`` and the command line imports it.
"""
