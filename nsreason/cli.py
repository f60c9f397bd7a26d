"""The ``nsreason`` command.

::

    nsreason ask --scene FILE [--index N] [--scene-format auto|clevr|gqa|native] [--parser NAME|DIR]
                 [--executor symbolic|neural|NAME] [--kb default|SPEC ...] [--okvqa-model DIR] [--json]
                 [--html FILE] "QUESTION"
    nsreason run --scene FILE [--index N] [--scene-format auto|clevr|gqa|native] --program PROGRAM
                 [--executor symbolic|neural|NAME] [--json]
    nsreason ground --scene FILE [--index N] [--scene-format auto|clevr|gqa|native]
                    ("EXPRESSION" [--parser NAME|DIR|tree] [--weights DIR] | --program PROGRAM)
                    [--executor symbolic|neural|NAME] [--json]
    nsreason eval clevr --scenes FILE [--scene-format auto|clevr|gqa|native] --questions FILE
                        [--parser gold|default|NAME|DIR] [--executor symbolic|neural|NAME]
                        [--images all|even|odd] [--limit N] [--no-trace] [--json] [--predictions FILE]
                        [--html DIR [--html-limit N] [--html-successes K]]   (also for gqa and refexp)
    nsreason eval gqa --scenes FILE --questions FILE [--parser gold|default] [--executor NAME] [--limit N]
                      [--json] [--predictions FILE]
    nsreason eval refexp --scenes FILE --refexps FILE [--parser gold|default|tree|NAME|DIR] [--weights DIR]
        [--no-verify]
                         [--executor NAME] [--images all|even|odd] [--limit N] [--json] [--predictions FILE]
    nsreason eval fvqa --questions FILE --concepts FILE [--kb default|SPEC ...]
    nsreason eval okvqa --questions FILE --answers FILE --detections FILE [FILE ...]
                        [--mavex FILE] [--answerer prior|kb|NAME|MODULE:FACTORY]
                        [--prior-from FILE] [--folds K] [--model DIR] [--json] [--predictions FILE]
    nsreason train parser --questions FILE [FILE ...] --out DIR [--epochs N] [--seed S]
    nsreason train okvqa --questions FILE --answers FILE --detections FILE [FILE ...] --out DIR
                         [--answerer kb|kb-without-kb] [--kb SPEC ...] [--seed S]
    nsreason train tree --scenes FILE --refexps FILE --out DIR [--images even|odd|all] [--epochs N]
    nsreason train executor --scenes FILE --questions FILE --out DIR [--steps N] [--seed S]
                            [--levels MIN MAX] [--no-message-passing] [--device cpu|cuda]
    nsreason serve --scenes FILE [--kb FILE ...] [--host 127.0.0.1] [--port 0] [--allow-remote]
    nsreason vocab [NAME]

Errors in the input (a malformed file, an unknown op, an unknown executor...) print one
line naming the file, the place and what was expected, and exit with status 2.

``--executor`` picks the executor by registered name (:data:`nsreason.execute.EXECUTORS`;
default ``symbolic``). Answers of an executor that gives probabilities show them in the
trace ("answer: red (p=0.93)"), in ``--predictions`` lines (``"confidence"``) and, for
``eval clevr``, as ``ece`` and ``mean_confidence`` in the report.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from typing import IO, Any

from .errors import NSReasonError

__all__ = ["build_parser", "main"]

_HTML_HELP = "write the trace as one self-contained HTML page (the scene drawn, steps selectable; opens offline)"


def _executor_help() -> str:
    """The help of ``--executor``, listing the registered executors (nothing imported but
    the registry: a declared executor's module is not loaded to list it)."""
    from .execute.executors import EXECUTORS

    return f"executor by registered name: {', '.join(EXECUTORS.names())} (default: symbolic)"


def build_parser() -> argparse.ArgumentParser:
    executor_help = _executor_help()
    p = argparse.ArgumentParser(
        prog="nsreason",
        description="Neuro-symbolic reasoning over scene graphs, with a trace of every step.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    ask = sub.add_parser("ask", help="answer a question about a scene and print the trace")
    ask.add_argument("question", help="the question, in English")
    ask.add_argument("--scene", required=True, help="scene file (CLEVR, GQA or native JSON)")
    ask.add_argument("--index", type=int, default=0, help="which scene of the file (default 0)")
    ask.add_argument("--scene-format", default="auto", choices=["auto", "clevr", "gqa", "native"])
    ask.add_argument("--parser", default="clevr", help="parser name or checkpoint folder (default: clevr)")
    ask.add_argument("--executor", default="symbolic", help=executor_help)
    ask.add_argument("--kb", action="append", default=None,
                     help="knowledge base: 'default' (bundled), a spec (rdf:FILE, oxigraph:DIR, sparql:URL, "
                     "...) or 'none'; repeat to add RDF files next to the default KB (default: default). "
                     "Its relations named in the question join the scene's steps (\"how many things can "
                     "roll?\" -> count(kb_filter[\"can roll\"](scene()))); questions the parser cannot map "
                     "go to its ranked facts")
    ask.add_argument("--okvqa-model", default=None, metavar="DIR",
                     help="a saved OK-VQA answer model (nsreason train okvqa --out DIR) that answers "
                     "questions about detection scenes (objects whose 'source' attribute names a detector)")
    ask.add_argument("--json", action="store_true", help="print the trace as JSON")
    ask.add_argument("--html", metavar="FILE", help=_HTML_HELP)
    ask.add_argument("--image-dir", metavar="DIR", help="where the scene's image file is looked up for --html "
                     "(default: the scene file's folder)")
    ask.set_defaults(func=_ask)

    run = sub.add_parser("run", help="execute one program on one scene and print the trace")
    run.add_argument("--scene", required=True, help="scene file (CLEVR, GQA or native JSON)")
    run.add_argument("--index", type=int, default=0, help="which scene of the file (default 0)")
    run.add_argument("--scene-format", default="auto", choices=["auto", "clevr", "gqa", "native"])
    run.add_argument(
        "--program",
        required=True,
        help="program: one-line form 'count(filter_color[red](scene()))', CLEVR JSON nodes, "
        "prefix/postfix tokens, or @FILE",
    )
    run.add_argument(
        "--program-format", default="auto", choices=["auto", "text", "clevr", "prefix", "postfix"]
    )
    run.add_argument("--vocabulary", default="clevr", help="op vocabulary: name or file (default clevr)")
    run.add_argument("--executor", default="symbolic", help=executor_help)
    run.add_argument("--json", action="store_true", help="print the trace as JSON")
    run.add_argument("--html", metavar="FILE", help=_HTML_HELP)
    run.add_argument("--image-dir", metavar="DIR", help="where the scene's image is looked up for --html")
    run.set_defaults(func=_run)

    gr = sub.add_parser("ground", help="ground a referring expression (its text or program) on one scene")
    gr.add_argument("expression", nargs="?", default=None,
                    help="the expression in words (or give --program)")
    gr.add_argument("--parser", default="clevr",
                    help="what reads the words: a program parser's name or checkpoint folder (default: clevr, "
                    "the shipped one), or 'tree': the syntax-tree grounder (nsreason.parse.tree)")
    gr.add_argument("--text", default=None, help="the expression in words (same as the positional argument)")
    gr.add_argument("--weights", default=None, help="with --parser tree: the grounder folder (default: shipped)")
    gr.add_argument("--scene", required=True, help="scene file (CLEVR, CLEVR-Ref+, GQA or native JSON)")
    gr.add_argument("--index", type=int, default=0, help="which scene of the file (default 0)")
    gr.add_argument("--scene-format", default="auto", choices=["auto", "clevr", "gqa", "native"])
    gr.add_argument("--program", default=None,
                    help="the expression's program: one-line form, CLEVR(-Ref+) JSON nodes, prefix/postfix "
                    "tokens, or @FILE; it must end in an object set or an object")
    gr.add_argument(
        "--program-format", default="auto", choices=["auto", "text", "clevr", "prefix", "postfix"]
    )
    gr.add_argument("--vocabulary", default="clevr", help="op vocabulary: name or file (default clevr)")
    gr.add_argument("--executor", default="symbolic", help=executor_help)
    gr.add_argument("--json", action="store_true",
                    help="print {objects, scores, failure, trace} as JSON")
    gr.add_argument("--html", metavar="FILE", help=_HTML_HELP)
    gr.add_argument("--image-dir", metavar="DIR", help="where the scene's image is looked up for --html")
    gr.set_defaults(func=_ground)

    ev = sub.add_parser("eval", help="evaluate on a data set")
    ev_sub = ev.add_subparsers(dest="dataset", required=True)
    clevr = ev_sub.add_parser("clevr", help="CLEVR questions (release or generator format)")
    clevr.add_argument("--scenes", required=True,
                       help="scenes file in any format the loaders read (CLEVR, GQA/Visual Genome, "
                       "native JSON with confidences); scene ids are the questions' image_index")
    clevr.add_argument("--scene-format", default="auto", choices=["auto", "clevr", "gqa", "native"],
                       help="format of --scenes (default: auto-detected)")
    clevr.add_argument("--questions", required=True, help="CLEVR questions file (either format)")
    clevr.add_argument(
        "--parser",
        default="gold",
        help="'gold': each question's own program; 'default'/'clevr': the shipped neural "
        "parser; or a parser name or checkpoint folder",
    )
    clevr.add_argument("--executor", default="symbolic", help=executor_help)
    clevr.add_argument("--limit", type=int, default=None, help="only the first N questions")
    clevr.add_argument("--images", choices=["all", "even", "odd"], default="all",
                       help="only the questions about even/odd image indices (halves of a split by image)")
    clevr.add_argument("--no-trace", action="store_true", help="execute without traces")
    clevr.add_argument("--json", action="store_true", help="print one JSON object")
    clevr.add_argument("--predictions", help="write one JSON line per question to this file "
                       "(answer, its confidence, program, failure)")
    clevr.add_argument(
        "--fallback-beam", type=int, default=20,
        help="when a parsed program fails on its scene, run the first of this many candidates "
        "that works (0: never; default 20)",
    )
    clevr.add_argument("--kb", action="append", default=None,
                       help="a knowledge base the questions may need ('default', rdf:FILE, a .ttl/.nt file, "
                       "oxigraph:DIR, sparql:URL...; repeatable): each question is asked as Reasoner.ask "
                       "asks it, relations of the KB named in its words joined with the scene "
                       "(docs/knowledge.md)")
    _add_html_flags(clevr)
    clevr.set_defaults(func=_eval, evaluate=_eval_clevr, width=15)

    gqa = ev_sub.add_parser("gqa", help="GQA questions on GQA scene graphs (exact match)")
    gqa.add_argument("--scenes", required=True, help="GQA scene graphs file (image id -> graph)")
    gqa.add_argument("--scene-format", default="auto", choices=["auto", "clevr", "gqa", "native"],
                     help="format of --scenes (default: auto-detected)")
    gqa.add_argument("--questions", required=True,
                     help="GQA questions file {questionId: {imageId, answer, semantic, types}}")
    gqa.add_argument("--parser", default="gold",
                     help="'gold': each question's own semantic program; 'default': the "
                     "question's text, read by the scene_graph parser on its scene graph "
                     "('tree' is later work)")
    gqa.add_argument("--executor", default="symbolic", help=executor_help)
    gqa.add_argument("--limit", type=int, default=None, help="only the first N questions")
    gqa.add_argument("--json", action="store_true", help="print one JSON object")
    gqa.add_argument("--predictions", help="write GQA prediction rows {questionId, prediction}, "
                     "one JSON line per question")
    gqa.add_argument("--kb", action="append", default=None,
                     help="a knowledge base for questions that ask for outside knowledge (with --parser "
                     "default; repeatable; see `eval clevr --kb`)")
    _add_html_flags(gqa)
    gqa.set_defaults(func=_eval, evaluate=_eval_gqa, width=14)

    rx = ev_sub.add_parser("refexp", help="CLEVR-Ref+ referring expressions (exact-set accuracy)")
    rx.add_argument("--scenes", required=True, help="CLEVR-Ref+ scenes file (with obj_mask/obj_bbox)")
    rx.add_argument("--scene-format", default="auto", choices=["auto", "clevr", "gqa", "native"],
                    help="format of --scenes (default: auto-detected)")
    rx.add_argument("--refexps", required=True, help="CLEVR-Ref+ refexps file")
    rx.add_argument("--parser", default="gold",
                    help="'gold': each expression's own program; 'default': the shipped program parser reads "
                    "the words; 'tree': the syntax-tree grounder grounds them; or a parser name or checkpoint folder")
    rx.add_argument("--weights", default=None,
                    help="the tree grounder folder (default: the shipped weights): with --parser tree it "
                    "grounds the words; with a program parser it checks each program (see --no-verify)")
    rx.add_argument("--no-verify", dest="verify", action="store_false",
                    help="score a program parser alone, without the tree grounder's check")
    rx.add_argument("--executor", default="symbolic", help=executor_help)
    rx.add_argument("--images", choices=["all", "even", "odd"], default="all",
                    help="only the expressions about even/odd image indices (held out from a parser "
                    "trained with `nsreason train supervised --images` on the other half)")
    rx.add_argument("--limit", type=int, default=None, help="only the first N expressions")
    rx.add_argument("--json", action="store_true", help="print one JSON object")
    rx.add_argument("--predictions", help="write one JSON line per expression, in file order: "
                    "{refexp_index, objects, scores}")
    _add_html_flags(rx)
    rx.set_defaults(func=_eval, evaluate=_eval_refexp, width=18)

    fvqa = ev_sub.add_parser("fvqa", help="FVQA questions on concept labels with a knowledge base")
    fvqa.add_argument("--questions", required=True, help="FVQA questions_*.json")
    fvqa.add_argument("--concepts", required=True, help="concepts_*.json: each image's labels (its scene)")
    fvqa.add_argument("--kb", action="append", default=[],
                      help="knowledge base: 'default' (bundled) or a spec (rdf:FILE, oxigraph:DIR, "
                      "sparql:URL, ...); repeat to combine (default: default)")
    fvqa.add_argument("--ranker", help="fact ranker folder (default: the shipped one)")
    fvqa.add_argument("--limit", type=int, default=None, help="only the first N questions")
    fvqa.add_argument("--json", action="store_true", help="print one JSON object")
    fvqa.add_argument("--predictions", help="write one JSON line per question to this file")
    fvqa.set_defaults(func=_eval, evaluate=_eval_fvqa, width=18)

    okvqa = ev_sub.add_parser("okvqa", help="OK-VQA questions on detector labels (soft VQA accuracy)")
    okvqa.add_argument("--questions", required=True, help="OK-VQA questions file")
    okvqa.add_argument("--answers", required=True, help="official annotations or soft-score answers")
    okvqa.add_argument("--detections", nargs="+", action="extend", default=[],
                       help="detection files {image id: [label, ...]} (COCO, Places, ImageNet)")
    okvqa.add_argument("--mavex", help="MAVEx knowledge-type labels: adds by_knowledge_type")
    okvqa.add_argument("--answerer", default="prior",
                       help="'prior' (answer prior per question prefix), 'kb' (classifier, "
                       "neighbours, labels and KB facts, reranked: nsreason.okvqa), "
                       "'kb-without-kb' (the same without the KB's candidates: the ablation), a "
                       "registered answerer or MODULE:FACTORY (nsreason.okvqa.answerer)")
    okvqa.add_argument("--prior-from", help="answers file the prior learns from (default: the "
                       "--answers file, cross-validated by image so no question sees itself)")
    okvqa.add_argument("--model", help="a saved answer model (nsreason train okvqa --out DIR): it answers "
                       "every question, nothing is fitted, no folds (instead of --answerer)")
    okvqa.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    okvqa.add_argument("--seed", type=int, default=0, help="seed of the fold split")
    okvqa.add_argument("--limit", type=int, default=None, help="only the first N questions")
    okvqa.add_argument("--json", action="store_true", help="print one JSON object")
    okvqa.add_argument("--predictions", help="write one JSON line per question to this file")
    okvqa.set_defaults(func=_eval, evaluate=_eval_okvqa, width=25)

    train = sub.add_parser("train", help="train a model")
    train_sub = train.add_subparsers(dest="model", required=True)
    tp = train_sub.add_parser("parser", help="train the neural question -> program parser")
    tp.set_defaults(func=_train_parser)
    tp.add_argument("--questions", nargs="+", required=True, help="CLEVR question files (either format)")
    tp.add_argument("--out", required=True, help="checkpoint folder to write")
    tp.add_argument("--epochs", type=int, default=12)
    tp.add_argument("--batch-size", type=int, default=64)
    tp.add_argument("--lr", type=float, default=1e-3)
    tp.add_argument("--seed", type=int, default=0)
    tp.add_argument("--limit", type=int, default=None, help="only the first N questions of each file")
    tp.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    tp.add_argument(
        "--generate-scenes",
        help="also instantiate CLEVR's official templates on these CLEVR scenes for more training questions",
    )
    tp.add_argument("--generate-per-scene", type=int, default=0, help="generated questions per scene")
    tp.add_argument(
        "--grow-per-scene", type=int, default=0,
        help="questions per scene of --generate-scenes from templates grown by relative clauses "
        "(nsreason.datasets.clevr.augment: deeper nesting, clauses inside and/or and comparisons, "
        "superlatives such as 'the leftmost cube')",
    )

    tr = train_sub.add_parser("ranker", help="train the fact ranker on FVQA questions (nsreason.retrieve)")
    tr.set_defaults(func=_train_ranker)
    tr.add_argument("--questions", required=True, help="FVQA questions_*.json")
    tr.add_argument("--concepts", required=True, help="concepts_*.json of their images")
    tr.add_argument("--kb", action="append", default=[], help="knowledge base spec(s) (default: default)")
    tr.add_argument("--folds", type=int, default=0,
                    help="first report cross-validated figures on this many folds of the images")
    tr.add_argument("--out", required=True, help="ranker folder to write")

    to = train_sub.add_parser(
        "okvqa", help="fit an OK-VQA answer model once on every question given and save it "
        "(safetensors + JSON; nsreason.train.okvqa)")
    to.set_defaults(func=_train_okvqa)
    to.add_argument("--questions", required=True, help="OK-VQA questions file")
    to.add_argument("--answers", required=True, help="official annotations or soft-score answers")
    to.add_argument("--detections", nargs="+", action="extend", default=[], required=True,
                    help="detection files (COCO objects, Places, ImageNet labels), merged per image")
    to.add_argument("--out", required=True, help="model folder to write (config.json, arrays.safetensors, "
                    "tables.json)")
    to.add_argument("--answerer", default="kb", choices=["kb", "kb-without-kb"],
                    help="kb: candidates from a classifier, neighbours, labels and KB facts, reranked "
                    "(default); kb-without-kb: the same without the KB's candidates")
    to.add_argument("--kb", action="append", default=[], help="knowledge base spec(s) of the kb answerer's "
                    "candidates (default: default)")
    to.add_argument("--seed", type=int, default=0, help="seed of the stacking's image folds and the reranker")

    tt = train_sub.add_parser(
        "tree", help="train the syntax-tree grounder on CLEVR-Ref+ expressions (nsreason.train.tree)")
    tt.set_defaults(func=_train_tree)
    tt.add_argument("--scenes", required=True, help="CLEVR-Ref+ scenes file (with obj_mask/obj_bbox)")
    tt.add_argument("--refexps", required=True, help="CLEVR-Ref+ refexps file")
    tt.add_argument("--out", required=True, help="folder to write (model.safetensors, config.json, training.json)")
    tt.add_argument("--images", default="even", choices=["even", "odd", "all"],
                    help="train on the expressions of these scenes (image_index parity); the other half "
                    "is measured (default even)")
    tt.add_argument("--epochs", type=int, default=20)
    tt.add_argument("--batch-size", type=int, default=16)
    tt.add_argument("--lr", type=float, default=0.05)
    tt.add_argument("--seed", type=int, default=0)
    tt.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")

    te = train_sub.add_parser(
        "executor",
        help="train the neural executor's scene encoder from (program, answer) pairs on noisy copies "
        "of CLEVR scenes (nsreason.train.executor)",
    )
    te.set_defaults(func=_train_executor)
    te.add_argument("--scenes", required=True, help="CLEVR scenes file (clean; noise is simulated)")
    te.add_argument("--questions", required=True, help="CLEVR questions with programs and answers")
    te.add_argument("--out", required=True, help="model folder to write (model.safetensors, config.json)")
    te.add_argument("--steps", type=int, default=1000, help="optimiser steps")
    te.add_argument("--batch-size", type=int, default=128, help="questions per step")
    te.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate (decays linearly to 0)")
    te.add_argument("--levels", type=float, nargs=2, default=(0.0, 2.0), metavar=("MIN", "MAX"),
                    help="noise levels drawn per scene (nsreason.datasets.clevr.noise.NoiseLevel.at)")
    te.add_argument("--drop-relations", type=float, default=0.25,
                    help="share of noisy scenes that lose their relations (positions kept)")
    te.add_argument("--duplicates", type=float, default=0.0,
                    help="share of noisy scenes that also get duplicate detections (1.5 a scene on average; "
                    "default 0, as the shipped weights)")
    te.add_argument("--no-message-passing", action="store_true",
                    help="the ablation: no GATConv layers, each object refined from itself alone")
    te.add_argument("--seed", type=int, default=0)
    te.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    te.add_argument("--device", default=None, help="cpu, cuda... (default: cuda when available)")

    ft = train_sub.add_parser(
        "finetune",
        help="fine-tune a parser on questions with answers only, through the executor "
        "(searched programs whose answer is right; nsreason.train.finetune)",
    )
    ft.set_defaults(func=_train_finetune)
    ft.add_argument("--parser", default="clevr", help="parser name or checkpoint folder to start from")
    ft.add_argument("--questions", required=True, help="CLEVR-format questions with answers (programs unused)")
    ft.add_argument("--scenes", required=True, help="their CLEVR scenes file")
    ft.add_argument("--replay", nargs="*", default=[],
                    help="CLEVR question files with programs, replayed so nothing is forgotten")
    ft.add_argument("--replay-limit", type=int, default=None, help="first N questions of each replay file")
    ft.add_argument("--images", choices=["all", "even", "odd"], default="all",
                    help="train only on questions about even/odd image indices (the others stay unseen)")
    ft.add_argument("--dev-fraction", type=float, default=0.1,
                    help="share of the questions (by image) kept to pick the best round")
    ft.add_argument("--rounds", type=int, default=3)
    ft.add_argument("--beam", type=int, default=10, help="search width for consistent programs")
    ft.add_argument("--epochs-per-round", type=int, default=2)
    ft.add_argument("--lr", type=float, default=3e-4)
    ft.add_argument("--objective", choices=["hard", "mml"], default="hard")
    ft.add_argument("--replay-per-round", type=int, default=None,
                    help="replay pairs drawn per round (default: as many as questions trained on)")
    ft.add_argument("--min-score", type=float, default=0.0,
                    help="skip questions whose best consistent program is less probable than this")
    ft.add_argument("--seed", type=int, default=0)
    ft.add_argument("--threads", type=int, default=None)
    ft.add_argument("--out", required=True, help="checkpoint folder to write")

    sv = train_sub.add_parser(
        "supervised",
        help="continue training a parser on (text, program) pairs: CLEVR-Ref+ referring expressions, "
        "more questions; grows its words and program tokens, replays what it knew "
        "(nsreason.train.supervised)",
    )
    sv.set_defaults(func=_train_supervised)
    sv.add_argument("--parser", default="clevr", help="parser name or checkpoint folder to start from")
    sv.add_argument("--refexps", nargs="*", default=[], help="CLEVR-Ref+ refexps files (with programs)")
    sv.add_argument("--questions", nargs="*", default=[], help="CLEVR question files with programs (new pairs)")
    sv.add_argument("--images", choices=["all", "even", "odd"], default="all",
                    help="use only the refexps and questions of even/odd image indices (the others stay unseen)")
    sv.add_argument("--swaps", type=int, default=0,
                    help="value-swapped copies of each new pair (nsreason.datasets.clevr.swap)")
    sv.add_argument("--replay", nargs="*", default=[],
                    help="CLEVR question files with programs, replayed so nothing is forgotten")
    sv.add_argument("--replay-limit", type=int, default=None, help="first N questions of each replay file")
    sv.add_argument("--replay-answered", default=None,
                    help="CLEVR-format questions with answers (CLEVR-Humans): the starting parser's own programs "
                    "for them, where they give the right answer on --replay-scenes, are replayed too")
    sv.add_argument("--replay-scenes", default=None, help="the scenes of --replay-answered")
    sv.add_argument("--dev-fraction", type=float, default=0.05,
                    help="share of each source's pairs (by image) kept to choose the epoch")
    sv.add_argument("--epochs", type=int, default=4)
    sv.add_argument("--batch-size", type=int, default=64)
    sv.add_argument("--lr", type=float, default=5e-4)
    sv.add_argument("--seed", type=int, default=0)
    sv.add_argument("--threads", type=int, default=None)
    sv.add_argument("--out", required=True, help="checkpoint folder to write")

    sv = sub.add_parser("serve", help="the local trace explorer: pick a scene, type a question, see its trace page")
    sv.add_argument("--scenes", required=True, help="scene file (CLEVR, GQA or native JSON)")
    sv.add_argument("--scene-format", default="auto", choices=["auto", "clevr", "gqa", "native"])
    sv.add_argument("--kb", action="append", default=None,
                    help="knowledge base, as for `nsreason ask` ('default', a spec, a .ttl file, or 'none'; "
                    "repeatable; default: default)")
    sv.add_argument("--parser", default="clevr", help="parser name or checkpoint folder (default: clevr)")
    sv.add_argument("--executor", default="symbolic", help=executor_help)
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    sv.add_argument("--port", type=int, default=0, help="port (default 0: a free one, printed)")
    sv.add_argument("--allow-remote", action="store_true",
                    help="allow a --host other than loopback (anyone who reaches it can run questions)")
    sv.add_argument("--image-dir", metavar="DIR", help="where the scenes' images are looked up "
                    "(default: the scene file's folder)")
    sv.set_defaults(func=_serve)

    vocab = sub.add_parser("vocab", help="list the ops of a vocabulary")
    vocab.add_argument("name", nargs="?", default="clevr")
    vocab.set_defaults(func=_vocab)
    return p


def _add_html_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--html", metavar="DIR", help="write DIR/index.html (accuracy per family or type, every "
                   "question, wrong first, filterable) linking a trace page per chosen question (nsreason.eval.pages)")
    p.add_argument("--html-limit", type=int, default=500, metavar="N",
                   help="at most N question pages: wrong answers first (default 500)")
    p.add_argument("--html-successes", type=int, default=20, metavar="K",
                   help="pages for K right answers sampled evenly through the set (default 20)")


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # an unencodable character never ends a run
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except NSReasonError as err:
        from .trace.render import printable

        print(f"nsreason: error: {printable(str(err))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `nsreason ... | head`
        return 0


def _load_scene(args: argparse.Namespace) -> Any:
    from .errors import InputError
    from .scene.io import load_scenes

    scenes = load_scenes(args.scene, args.scene_format)
    if not 0 <= args.index < len(scenes):
        raise InputError(
            f"--index {args.index} is out of range: the file has {len(scenes)} scene(s)",
            source=args.scene,
        )
    return scenes[args.index]


def _print_trace(trace: Any, as_json: bool) -> None:
    print(trace.to_json(indent=2) if as_json else trace.render_text())


def _write_html(args: argparse.Namespace, trace: Any, scene: Any) -> None:
    """``--html FILE``: the trace's page (nsreason.trace.html), the scene drawn."""
    if not getattr(args, "html", None) or trace is None:
        return
    from pathlib import Path

    from .errors import InputError

    image_dir = args.image_dir or str(Path(args.scene).parent)
    try:
        Path(args.html).write_text(trace.to_html(scene, image_dir=image_dir), encoding="utf-8")
    except OSError as err:
        raise InputError(f"cannot write the page: {err.strerror}", source=args.html) from None
    print(f"wrote {args.html}", file=sys.stderr)


def _ask(args: argparse.Namespace) -> int:
    from .api import Reasoner

    scene = _load_scene(args)
    kb = args.kb or ["default"]
    reasoner = Reasoner(args.parser, args.executor, kb=None if kb == ["none"] else kb,
                        okvqa_model=args.okvqa_model)
    answer = reasoner.ask(scene, args.question)
    _write_html(args, answer.trace, scene)
    _print_trace(answer.trace, args.json)
    return 0 if answer.ok else 1


def _train_parser(args: argparse.Namespace) -> int:
    from .datasets.clevr import load_clevr_questions
    from .train.parser import train_parser

    pairs = []
    for path in args.questions:
        qs = load_clevr_questions(path)[: args.limit]
        pairs += [(q.question, q.program) for q in qs if q.program is not None]
    if args.generate_scenes and (args.generate_per_scene > 0 or args.grow_per_scene > 0):
        from .datasets.clevr import generate_questions
        from .datasets.clevr.augment import generate_augmented
        from .scene.clevr import load_clevr_scenes

        scenes = load_clevr_scenes(args.generate_scenes)
        made: list[dict[str, Any]] = []
        if args.generate_per_scene > 0:
            print(f"generating {args.generate_per_scene} questions per scene of {args.generate_scenes}",
                  file=sys.stderr, flush=True)
            made += generate_questions(scenes, per_scene=args.generate_per_scene, seed=args.seed)
        if args.grow_per_scene > 0:
            print(f"generating {args.grow_per_scene} questions per scene from grown templates",
                  file=sys.stderr, flush=True)
            made += generate_augmented(scenes, per_scene=args.grow_per_scene, seed=args.seed)
        generated = load_clevr_questions({"questions": made})
        pairs += [(q.question, q.program) for q in generated if q.program is not None]
    report = train_parser(
        pairs,
        args.out,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        threads=args.threads,
        progress=None if not sys.stderr.isatty() else _tqdm_desc,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(json.dumps({k: v for k, v in report.items() if k != "history"}, indent=2))
    return 0


def _train_supervised(args: argparse.Namespace) -> int:
    import random
    from pathlib import Path

    from .datasets.clevr import load_clevr_questions
    from .datasets.clevr.refexps import load_refexps
    from .datasets.clevr.swap import swapped_pairs
    from .errors import InputError
    from .parse.base import get_parser
    from .parse.seq2seq import Seq2SeqParser
    from .train.split import in_images
    from .train.supervised import continue_training

    parser = get_parser(args.parser)
    if not isinstance(parser, Seq2SeqParser):
        raise InputError(f"continued training needs a neural (seq2seq) parser, got {parser!r}")
    rng = random.Random(args.seed)

    def split(items: list[tuple[int, str, Any]]) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
        """(train, dev) pairs of the chosen images, dev = a share of the images."""
        kept = [(i, t, p) for i, t, p in items if in_images(i, args.images)]
        images = sorted({i for i, _, _ in kept})
        rng.shuffle(images)
        dev_images = set(images[: int(len(images) * args.dev_fraction)])
        return ([(t, p) for i, t, p in kept if i not in dev_images],
                [(t, p) for i, t, p in kept if i in dev_images])

    sources: dict[str, list[tuple[str, Any]]] = {}
    dev: dict[str, list[tuple[str, Any]]] = {}
    new: list[tuple[int, str, Any]] = []
    for path in args.refexps:
        new += [(r.image_index, r.text, r.program) for r in load_refexps(path)]
    for path in args.questions:
        new += [(q.image_index, q.question, q.program) for q in load_clevr_questions(path) if q.program is not None]
    if new:
        train, dev["new"] = split(new)
        sources["new"] = train
        if args.swaps > 0:
            sources["swapped"] = swapped_pairs(train, args.swaps, seed=args.seed)
    replay = []
    for path in args.replay:
        qs = load_clevr_questions(path)[: args.replay_limit]
        replay += [(q.question, q.program) for q in qs if q.program is not None]
    if args.replay_answered:
        if not args.replay_scenes:
            raise InputError("--replay-answered needs --replay-scenes")
        from .scene.clevr import load_clevr_scenes
        from .train.finetune import AnswerExample
        from .train.supervised import right_programs

        scenes = {s.id: s for s in load_clevr_scenes(args.replay_scenes)}
        answered = [AnswerExample(q.question, scenes[q.image_index], q.answer)
                    for q in load_clevr_questions(args.replay_answered) if q.image_index in scenes]
        kept = right_programs(parser, answered)
        print(f"replaying the starting parser's programs for {len(kept)} of {len(answered)} answered "
              "questions (those it answers right)", file=sys.stderr, flush=True)
        replay += kept
    if replay:
        rng.shuffle(replay)
        n_dev = int(len(replay) * args.dev_fraction)
        dev["replay"], sources["replay"] = replay[:n_dev], replay[n_dev:]
    if not sources:
        raise InputError("nothing to train on: give --refexps, --questions or --replay")
    provenance = {"images": args.images, "refexps": [Path(p).name for p in args.refexps],
                  "questions": [Path(p).name for p in args.questions], "swaps": args.swaps,
                  "replay": [Path(p).name for p in args.replay], "replay_limit": args.replay_limit,
                  "replay_answered": Path(args.replay_answered).name if args.replay_answered else None}
    report = continue_training(
        parser, sources, dev=dev, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        seed=args.seed, threads=args.threads, log=lambda line: print(line, file=sys.stderr, flush=True),
        provenance=provenance,
    )
    parser.save(args.out)
    print(json.dumps({k: v for k, v in report.items() if k != "history"}, indent=2))
    return 0


def _train_finetune(args: argparse.Namespace) -> int:
    import random

    from .datasets.clevr import load_clevr_questions
    from .errors import InputError
    from .parse.base import get_parser
    from .parse.seq2seq import Seq2SeqParser
    from .scene.clevr import load_clevr_scenes
    from .train.finetune import AnswerExample, finetune_on_answers
    from .train.split import in_images

    parser = get_parser(args.parser)
    if not isinstance(parser, Seq2SeqParser):
        raise InputError(f"fine-tuning needs a neural (seq2seq) parser, got {parser!r}")
    scenes = {s.id: s for s in load_clevr_scenes(args.scenes)}
    examples = []
    for i, q in enumerate(load_clevr_questions(args.questions)):
        if not in_images(q.image_index, args.images):
            continue
        if q.image_index not in scenes:
            raise InputError(f"no scene with image_index {q.image_index} in {args.scenes}",
                             path=f"questions[{i}].image_index", source=args.questions)
        examples.append(AnswerExample(q.question, scenes[q.image_index], q.answer))
    images = sorted({e.scene.id for e in examples}, key=str)
    random.Random(args.seed).shuffle(images)
    dev_images = set(images[: int(len(images) * args.dev_fraction)])
    train = [e for e in examples if e.scene.id not in dev_images]
    dev = [e for e in examples if e.scene.id in dev_images]
    replay = []
    for path in args.replay:
        qs = load_clevr_questions(path)[: args.replay_limit]
        replay += [(q.question, q.program) for q in qs if q.program is not None]
    print(f"fine-tuning on {len(train)} questions ({len(dev)} for choosing the round), "
          f"{len(replay)} replay pairs", file=sys.stderr, flush=True)
    report = finetune_on_answers(
        parser, train, replay=replay, dev=dev, rounds=args.rounds, beam=args.beam,
        epochs_per_round=args.epochs_per_round, lr=args.lr, objective=args.objective,
        min_score=args.min_score, replay_per_round=args.replay_per_round, seed=args.seed,
        threads=args.threads, log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    parser.save(args.out)
    print(json.dumps({k: v for k, v in report.items() if k != "rounds"}, indent=2))
    return 0


def _run(args: argparse.Namespace) -> int:
    from .execute import get_executor
    from .program.formats import read_program

    executor = get_executor(args.executor)
    scene = _load_scene(args)
    program = read_program(args.program, args.vocabulary, args.program_format)
    program.validate()
    answer = executor.execute(program, scene)
    if answer.trace is not None and answer.confidence is not None:
        answer.trace.confidence = answer.confidence
    _write_html(args, answer.trace, scene)
    _print_trace(answer.trace, args.json)
    return 0 if answer.ok else 1


def _eval(args: argparse.Namespace) -> int:
    """Every ``nsreason eval``: run the data set's evaluation (``args.evaluate``), with the
    ``--predictions`` file open, and print its report."""
    from contextlib import nullcontext

    from .eval.report import render_report

    html = getattr(args, "html", None)
    with open(args.predictions, "w", encoding="utf-8") if args.predictions else nullcontext() as predictions:
        sink = _Lines(predictions) if html else predictions
        report = args.evaluate(args, sink)
    print(render_report(report, as_json=args.json, width=args.width))
    if html:
        _eval_pages(args, sink.lines, report)  # type: ignore[union-attr]
    return 0


class _Lines:
    """A predictions sink that keeps every line (for ``--html``) and passes it on to the
    ``--predictions`` file, if any."""

    def __init__(self, inner: IO[str] | None) -> None:
        self.inner = inner
        self.lines: list[str] = []

    def write(self, text: str) -> int:
        self.lines.extend(text.splitlines())
        return self.inner.write(text) if self.inner is not None else len(text)


def _eval_pages(args: argparse.Namespace, rows: list[str], report: dict[str, Any]) -> None:
    """``eval ... --html DIR``: the index and the question pages (nsreason.eval.pages)."""
    from pathlib import Path

    from .eval import pages

    common = {"parser": args.parser, "executor": args.executor, "limit": args.limit,
              "scene_format": args.scene_format}
    if args.dataset == "clevr":
        items = pages.clevr_items(rows, scenes=args.scenes, questions=args.questions, images=args.images,
                                  kb=_kb_specs(args.kb), fallback_beam=args.fallback_beam, **common)
    elif args.dataset == "gqa":
        items = pages.gqa_items(rows, scenes=args.scenes, questions=args.questions, kb=_kb_specs(args.kb), **common)
    else:
        items = pages.refexp_items(rows, scenes=args.scenes, refexps=args.refexps, images=args.images,
                                   tree_weights=args.weights, verify=args.verify, **common)
    title = f"nsreason eval {args.dataset}: {Path(getattr(args, 'questions', None) or args.refexps).name}"
    done = pages.write_pages(args.html, items, report, title=title, limit=args.html_limit,
                             successes=args.html_successes, image_dir=str(Path(args.scenes).parent))
    print(f"wrote {done['index']} and {done['pages']} question pages ({done['failures_shown']} wrong, "
          f"{done['successes_shown']} right)", file=sys.stderr)


def _eval_clevr(args: argparse.Namespace, predictions: IO[str] | None) -> dict[str, Any]:
    from .eval.clevr import evaluate_clevr

    return evaluate_clevr(
        args.scenes, args.questions, parser=args.parser, limit=args.limit, images=args.images,
        trace=not args.no_trace, predictions=predictions, fallback_beam=args.fallback_beam,
        progress=None if args.json or not sys.stderr.isatty() else _tqdm,
        executor=args.executor, scene_format=args.scene_format, kb=_kb_specs(args.kb),
    )


def _kb_specs(specs: list[str] | None) -> list[str] | None:
    """``--kb`` values: None for none given or ``--kb none``."""
    return None if not specs or specs == ["none"] else specs


def _eval_gqa(args: argparse.Namespace, predictions: IO[str] | None) -> dict[str, Any]:
    from .eval.gqa import evaluate_gqa

    return evaluate_gqa(
        args.scenes, args.questions, parser=args.parser, executor=args.executor,
        limit=args.limit, predictions=predictions, scene_format=args.scene_format, kb=_kb_specs(args.kb),
    )


def _eval_refexp(args: argparse.Namespace, predictions: IO[str] | None) -> dict[str, Any]:
    from .eval.refexp import evaluate_refexp

    return evaluate_refexp(
        args.scenes, args.refexps, parser=args.parser, executor=args.executor,
        limit=args.limit, predictions=predictions, scene_format=args.scene_format, images=args.images,
        tree_weights=args.weights, verify=args.verify,
    )


def _ground(args: argparse.Namespace) -> int:
    """``nsreason ground``: the referred objects, each object's score, and the trace."""
    from .errors import InputError

    text = args.text if args.text is not None else args.expression
    if text is None and args.program is None:
        raise InputError("give the expression's text, or its program with --program")
    if text is not None and args.parser == "tree":
        from .execute.grounding import grounding_from_tree
        from .parse.tree import TreeGrounder

        scene = _load_scene(args)
        g = grounding_from_tree(TreeGrounder.load(args.weights).ground(scene, text), scene.id)
        return _print_grounding(args, g, scene)
    from .api import Reasoner
    from .program.formats import read_program

    reasoner = Reasoner(parser=args.parser, executor=args.executor)
    scene = _load_scene(args)
    if text is not None:
        g = reasoner.ground(scene, text)
    else:
        program = read_program(args.program, args.vocabulary, args.program_format)
        program.validate()
        g = reasoner.ground(scene, program)
    return _print_grounding(args, g, scene)


def _print_grounding(args: argparse.Namespace, g: Any, scene: Any) -> int:
    _write_html(args, g.trace, scene)
    if args.json:
        print(json.dumps(g.to_dict(), indent=2))  # ASCII: escapes whatever the scene holds
    else:
        from .trace.render import printable

        print(printable("objects: " + (", ".join(map(str, g.objects)) if g.ok
                                       else f"(none: {g.failure})")))
        if g.scores:
            print(printable("scores:  " + ", ".join(f"{k}: {v:.4g}" for k, v in g.scores.items())))
        if g.trace is not None:
            print(g.trace.render_text())
    return 0 if g.ok else 1


def _eval_okvqa(args: argparse.Namespace, predictions: IO[str] | None) -> dict[str, Any]:
    from .eval.okvqa import evaluate_okvqa

    return evaluate_okvqa(
        args.questions, args.answers, args.detections, mavex=args.mavex,
        answerer=args.answerer, prior_from=args.prior_from, folds=args.folds,
        seed=args.seed, limit=args.limit, predictions=predictions, model=args.model,
    )


def _eval_fvqa(args: argparse.Namespace, predictions: IO[str] | None) -> dict[str, Any]:
    from .eval.fvqa import run_eval_fvqa

    return run_eval_fvqa(args.questions, args.concepts, args.kb, ranker=args.ranker,
                         limit=args.limit, predictions=predictions)


def _train_ranker(args: argparse.Namespace) -> int:
    from .train.ranker import run_train_ranker

    report = run_train_ranker(args.questions, args.concepts, args.kb, args.out, folds=args.folds)
    print(json.dumps(report, indent=2))
    return 0


def _train_okvqa(args: argparse.Namespace) -> int:
    import shlex

    from .train.okvqa import train_okvqa

    kb = args.kb or ["default"]
    command = shlex.join(["nsreason", "train", "okvqa", "--questions", args.questions, "--answers", args.answers,
                          "--detections", *args.detections, "--out", args.out, "--answerer", args.answerer,
                          *([a for spec in kb for a in ("--kb", spec)] if args.answerer == "kb" else []),
                          "--seed", str(args.seed)])
    report = train_okvqa(args.questions, args.answers, args.detections, args.out, answerer=args.answerer,
                         kb=kb, seed=args.seed, command=command,
                         log=lambda line: print(line, file=sys.stderr, flush=True))
    print(json.dumps({k: v for k, v in report.items() if k != "classes"}, indent=2))
    return 0


def _train_tree(args: argparse.Namespace) -> int:
    from .train.tree import train_tree

    report = train_tree(args.scenes, args.refexps, out=args.out, images=args.images, epochs=args.epochs,
                        batch_size=args.batch_size, lr=args.lr, seed=args.seed, threads=args.threads,
                        log=lambda line: print(line, file=sys.stderr, flush=True))
    print(json.dumps({k: v for k, v in report.items() if k != "loss"}, indent=2))
    return 0


def _train_executor(args: argparse.Namespace) -> int:
    import torch

    from .train.executor import train_executor

    if args.threads:
        torch.set_num_threads(args.threads)
    _, report = train_executor(
        args.scenes, args.questions, out=args.out, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
        levels=tuple(args.levels), drop_relations=args.drop_relations, duplicates=args.duplicates,
        message_passing=not args.no_message_passing, seed=args.seed, device=args.device,
        log=lambda line: print(line, file=sys.stderr, flush=True))
    print(json.dumps(report, indent=2))
    return 0


def _serve(args: argparse.Namespace) -> int:
    """``nsreason serve``: load the scenes and the reasoner, print the URL, serve until Ctrl-C."""
    from pathlib import Path

    from .api import Reasoner
    from .errors import InputError
    from .scene.io import load_scenes
    from .serve import Explorer, make_server

    if not 0 <= args.port <= 65535:
        raise InputError(f"--port {args.port} is not a port (0-65535; 0 picks a free one)")
    scenes = load_scenes(args.scenes, args.scene_format)
    kb = args.kb or ["default"]
    reasoner = Reasoner(args.parser, args.executor, kb=None if kb == ["none"] else kb)
    explorer = Explorer(scenes, reasoner, source=Path(args.scenes).name,
                        image_dir=args.image_dir or str(Path(args.scenes).parent))
    try:
        server = make_server(explorer, args.host, args.port, allow_remote=args.allow_remote,
                             log=lambda line: print(line, file=sys.stderr, flush=True))
    except OSError as err:
        raise InputError(f"cannot listen on {args.host}:{args.port}: {err.strerror or err}") from None
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in str(host) else host
    print(f"nsreason explorer: http://{shown}:{port}/  ({len(scenes)} scenes; Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _vocab(args: argparse.Namespace) -> int:
    from .program.vocab import get_vocabulary

    vocab = get_vocabulary(args.name)
    print(f"{vocab.name}: {vocab.description}")
    for op in vocab.ops.values():
        flag = "  (template only)" if op.template_only else ""
        print(f"  {op.describe()}{flag}")
        if op.doc:
            print(f"      {op.doc}")
    return 0


def _tqdm(items: Iterable[Any], total: int) -> Iterable[Any]:
    try:
        from tqdm import tqdm
    except ImportError:  # progress bars are optional
        return items
    return tqdm(items, total=total, unit="q", file=sys.stderr, leave=False)


def _tqdm_desc(items: Iterable[Any], total: int, desc: str) -> Iterable[Any]:
    try:
        from tqdm import tqdm
    except ImportError:
        return items
    return tqdm(items, total=total, desc=desc, unit="batch", file=sys.stderr, leave=False)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
