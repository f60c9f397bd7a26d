"""``nsreason eval gqa``: GQA questions answered on their scene graphs.

:func:`evaluate_gqa` reads GQA scene graphs (any format :func:`~nsreason.scene.load_scenes`
reads; GQA's is auto-detected) and a GQA questions file (``{questionId: {"imageId",
"question", "answer", "semantic", "types": {"structural", "semantic", "detailed"}}}``),
answers each question with its own ``semantic`` program converted by
:func:`~nsreason.program.gqa.program_from_gqa` (``parser="gold"``; the question parsers
``default`` and ``tree`` are later work), and scores exact match against ``answer``,
overall and per ``types.structural`` and ``types.semantic``. Values become GQA answer
strings as GQA writes them: ``True``/``False`` → ``yes``/``no``, a count → its digits, a
name or value as it is. A question whose program does not convert, or fails on its scene,
counts as wrong and is listed under its reason in ``failures``.

With ``predictions`` (a text file open for writing) one JSON line per question, in file
order, in GQA's prediction format: ``{"questionId": ..., "prediction": ...}`` (``""`` when
there is no answer).

>>> import json, tempfile, os
>>> scenes = {"1": {"objects": {"5": {"name": "man", "attributes": [], "relations": [
...     {"name": "wearing", "object": "6"}]}, "6": {"name": "hat", "attributes": ["red"],
...     "relations": []}}}}
>>> questions = {"q1": {"imageId": "1", "question": "What color is the hat?", "answer": "red",
...     "types": {"structural": "query", "semantic": "attr"}, "semantic": [
...     {"operation": "select", "argument": "hat (6)", "dependencies": []},
...     {"operation": "query", "argument": "color", "dependencies": [0]}]}}
>>> report = evaluate_gqa(scenes, questions)
>>> report["accuracy"], report["by_structural"]
(1.0, {'query': {'accuracy': 1.0, 'questions': 1}})
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from ..errors import InputError, NSReasonError, ProgramError, RegistryError
from ..execute.executors import Executor, get_executor
from ..jsonio import read_json
from ..program.gqa import program_from_gqa
from ..scene.graph import SceneGraph
from ..scene.io import load_scenes

__all__ = ["PARSERS", "evaluate_gqa", "gqa_answer", "load_gqa_questions"]

PARSERS = ("gold", "default", "scene_graph", "tree")
"""Values of ``parser``: ``gold`` runs each question's own ``semantic`` program;
``default`` (= ``scene_graph``) reads the question's text with
:class:`~nsreason.parse.scene_graph.SceneGraphParser`, grounded on its scene, and runs the
program the way :meth:`Reasoner.ask <nsreason.api.Reasoner.ask>` does (execution-guided
fallback to the parse's alternatives); ``tree`` is later work."""


def gqa_answer(value: Any) -> str:
    """A value as a GQA answer string.

    >>> gqa_answer(True), gqa_answer(False), gqa_answer(2), gqa_answer("red")
    ('yes', 'no', '2', 'red')
    """
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def load_gqa_questions(source: str | Path | Mapping[str, Any], *,
                       programs: bool = True) -> dict[str, dict[str, Any]]:
    """A GQA questions file (or its parsed JSON) checked for what the evaluation reads:
    each question an object with string ``imageId`` and ``answer`` and a ``semantic`` list
    (its steps are checked when converted). Raises :class:`InputError` naming the
    question and field. ``programs=False``: the ``semantic`` list may be absent (questions
    answered from their text), but ``question`` must be a string."""
    origin = str(source) if isinstance(source, (str, Path)) else None
    data = read_json(source, InputError) if origin is not None else source
    try:
        if not isinstance(data, Mapping):
            raise InputError(
                f"expected GQA questions {{questionId: {{imageId, answer, semantic, ...}}}}, "
                f"got {type(data).__name__}"
            )
        out: dict[str, dict[str, Any]] = {}
        for qid, q in data.items():
            if not isinstance(q, Mapping):
                raise InputError(f"expected a question object, got {type(q).__name__}", path=str(qid))
            for field in ("imageId", "answer"):
                if not isinstance(q.get(field), (str, int)) or isinstance(q.get(field), bool):
                    raise InputError(f"expected a string, got {q.get(field)!r}",
                                     path=f"{qid}.{field}")
            if not programs and not isinstance(q.get("question"), str):
                raise InputError(f"expected a string, got {q.get('question')!r}",
                                 path=f"{qid}.question")
            if programs and not isinstance(q.get("semantic"), list):
                raise InputError(f"expected a list of steps, got {q.get('semantic')!r}",
                                 path=f"{qid}.semantic")
            types = q.get("types", {})
            if not isinstance(types, Mapping):
                raise InputError(f"expected an object, got {types!r}", path=f"{qid}.types")
            out[str(qid)] = dict(q)
        return out
    except InputError as err:
        if origin:
            err.with_source(origin)
        raise


def evaluate_gqa(
    scenes: str | Path | Any,
    questions: str | Path | Mapping[str, Any],
    *,
    parser: str = "gold",
    executor: str | Executor | None = "symbolic",
    limit: int | None = None,
    predictions: IO[str] | None = None,
    scene_format: str = "auto",
    kb: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Answer GQA questions with their converted gold programs (``parser="gold"``) or
    from their text (``"default"``); the report (see the module docstring). Another
    ``parser`` is a :class:`RegistryError` naming what is available. ``kb``: knowledge
    base specs for the questions that ask for outside knowledge (from text only: as
    :meth:`Reasoner.ask <nsreason.api.Reasoner.ask>` routes them)."""
    if parser not in ("gold", "default", "scene_graph"):
        raise RegistryError(
            f"parser {parser!r} is not available for GQA yet: 'gold' (each question's own "
            f"semantic program) and 'default' (the question's text) are; 'tree' is later work"
            if parser in PARSERS else f"unknown parser {parser!r} for GQA; available: gold, default"
        )
    run = get_executor(executor)
    reasoner = None
    if parser != "gold":
        from ..api import Reasoner, scene_graph_parser

        reasoner = Reasoner(scene_graph_parser(), run, kb=list(kb) if kb else None)
    by_id: dict[str, SceneGraph] = {str(s.id): s for s in load_scenes(scenes, scene_format)}
    items = list(load_gqa_questions(questions, programs=parser == "gold").items())
    if limit is not None:
        items = items[: max(limit, 0)]
    correct = 0
    per: dict[str, dict[str, list[int]]] = {"structural": defaultdict(lambda: [0, 0]),
                                            "semantic": defaultdict(lambda: [0, 0]),
                                            "detailed": defaultdict(lambda: [0, 0])}
    failures: dict[str, list[str]] = defaultdict(list)
    start = time.perf_counter()
    for qid, q in items:
        prediction, reason = (_answer(q, by_id, run) if reasoner is None
                              else _answer_text(q, by_id, reasoner))
        if reason is not None:
            failures[reason].append(qid)
        ok = prediction == str(q["answer"])
        correct += ok
        for kind in per:
            key = str(q.get("types", {}).get(kind) or "unknown")
            per[kind][key][0] += ok
            per[kind][key][1] += 1
        if predictions is not None:
            predictions.write(json.dumps({"questionId": qid, "prediction": prediction}) + "\n")
    seconds = time.perf_counter() - start
    n = len(items)
    return {
        "questions": n,
        "accuracy": correct / n if n else 0.0,
        "by_structural": _breakdown(per["structural"]),
        "by_semantic": _breakdown(per["semantic"]),
        "by_detailed": _breakdown(per["detailed"]),
        "parser": parser,
        "failed": sum(len(v) for v in failures.values()),
        "failures": dict(sorted(failures.items())),
        "seconds": round(seconds, 4),
    }


def _answer(q: Mapping[str, Any], scenes: Mapping[str, SceneGraph], run: Executor) -> tuple[str, str | None]:
    """(prediction, failure reason or None)."""
    scene = scenes.get(str(q["imageId"]))
    if scene is None:
        return "", "no scene graph for its imageId"
    try:
        program = program_from_gqa(q["semantic"])
    except ProgramError as err:
        return "", f"conversion: {err}"
    try:
        answer = run.execute(program, scene, trace=False)
    except NSReasonError as err:  # e.g. an executor without a soft op for this program
        return "", f"execution: {err.message}"
    if answer.failure is not None:
        return "", f"execution: {answer.failure.code}"
    return gqa_answer(answer.value), None


def _answer_text(q: Mapping[str, Any], scenes: Mapping[str, SceneGraph], reasoner: Any) -> tuple[str, str | None]:
    """(prediction, failure reason or None) from the question's text."""
    scene = scenes.get(str(q["imageId"]))
    if scene is None:
        return "", "no scene graph for its imageId"
    question = q.get("question")
    if not isinstance(question, str):
        return "", "no question text"
    parsed = reasoner.parser.parse(question, scene=scene)
    if not parsed.ok:
        return "", f"parse: {parsed.failure.code}"
    try:
        answer = reasoner.answer_parsed(scene, parsed, trace=False)
    except NSReasonError as err:
        return "", f"execution: {err.message}"
    if answer.failure is not None:
        return "", f"execution: {answer.failure.code}"
    return gqa_answer(answer.value), None


def _breakdown(counts: Mapping[str, list[int]]) -> dict[str, dict[str, Any]]:
    return {k: {"accuracy": c / t, "questions": t} for k, (c, t) in sorted(counts.items())}

