"""Evaluation loops behind ``nsreason eval``.

:func:`evaluate_clevr` answers every question of a CLEVR questions file on its scene and
reports answer accuracy, per-step accuracy against the generator's ``_output`` (when the
file has it), failures, and execution throughput (loading and compiling excluded).
"""

from __future__ import annotations

import gc
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from .api import execution_guided
from .datasets.clevr import ClevrQuestion, load_clevr_questions
from .errors import InputError, ProgramError
from .execute.answer import answer_text
from .execute.symbolic import SymbolicExecutor, decode_value
from .parse.base import Parser, ParseResult, get_parser
from .program.ir import Program
from .scene.clevr import load_clevr_scenes
from .scene.graph import SceneGraph
from .trace.trace import Failure

__all__ = ["evaluate_clevr", "outputs_match"]

Progress = Callable[[Iterable[Any], int], Iterable[Any]]


def outputs_match(ours: Any, expected: Any) -> bool:
    """Whether a decoded step output equals CLEVR's ``_output`` (types must agree, so
    ``True`` never matches ``1``)."""
    if isinstance(expected, list):
        return isinstance(ours, list) and ours == expected
    return type(ours) is type(expected) and ours == expected


def evaluate_clevr(
    scenes: str | Path,
    questions: str | Path,
    *,
    parser: str | Parser = "gold",
    limit: int | None = None,
    trace: bool = True,
    predictions: IO[str] | None = None,
    progress: Progress | None = None,
    fallback_beam: int = 20,
) -> dict[str, Any]:
    """Answer every question and score it. ``parser="gold"`` runs each question's own
    program; any other parser (a name, a checkpoint folder, an instance) parses the
    question text first, in batches.

    Returns the report printed by ``nsreason eval clevr --json``: ``questions``,
    ``accuracy``, ``step_accuracy`` (None without ``_output``), ``program_accuracy``
    (parsed program == gold program after canonicalisation; None for the gold parser or
    without gold programs), ``failures``, ``execute_qps``, ``parse_qps`` and more.

    With a parser, a program that fails on its scene is replaced by the first alternative
    that runs (:func:`nsreason.api.execution_guided`, wider search ``fallback_beam``);
    ``fallbacks`` counts those questions and ``program_accuracy`` scores the programs run.
    """
    gold = parser == "gold"
    the_parser = None if gold else get_parser(parser)  # type: ignore[arg-type]
    executor = SymbolicExecutor()
    with _gc_paused():  # loading makes millions of objects and no garbage
        t0 = time.perf_counter()
        jobs = _load_jobs(scenes, questions, limit, need_programs=gold)
        load_seconds = time.perf_counter() - t0

    parse_seconds = program_accuracy = None
    parse_failures: list[Failure | None] = [None] * len(jobs)
    parsed: list[ParseResult | None] = [None] * len(jobs)
    if the_parser is None:
        programs: list[Program | None] = [q.program for q, _ in jobs]
    else:
        t0 = time.perf_counter()
        parsed = list(the_parser.parse_batch([q.question for q, _ in jobs]))
        parse_seconds = time.perf_counter() - t0
        programs = [r.program for r in parsed]
        parse_failures = [r.failure for r in parsed]

    with _gc_paused():
        t0 = time.perf_counter()
        for program in programs:
            if program is not None:
                executor.compile(program)
        compile_seconds = time.perf_counter() - t0

    items: Iterable[Any] = list(zip(programs, jobs, parse_failures))
    if progress is not None:
        items = progress(items, len(jobs))
    results: list[tuple[Any, Any]] = []
    gc.freeze()  # the loaded data stays: keep the collector from rescanning it while timing
    try:
        start = time.perf_counter()
        run_traced, run, compile_ = executor.run_traced, executor.run, executor.compile
        for program, (_, scene), parse_failure in items:
            if program is None:
                results.append((None, parse_failure))
            elif trace:
                answer = run_traced(compile_(program), scene)
                results.append((answer.value, answer.failure))
            else:
                results.append(run(compile_(program), scene.index))
        execute_seconds = time.perf_counter() - start
    finally:
        gc.unfreeze()
    fallbacks = 0
    decoded: set[int] = set()  # results that execute() decoded already
    for i, (_, failure) in enumerate(results):  # execution-guided: outside the timing
        p, scene = parsed[i], jobs[i][1]
        if failure is None or p is None or not p.ok:
            continue
        answer, used, _ = execution_guided(
            p, lambda prog, scene=scene: executor.execute(prog, scene, trace=False), the_parser,
            fallback_beam)
        if used is not None:
            fallbacks += 1
            programs[i] = used.program
            results[i] = (answer.value, None)
            decoded.add(i)
    if the_parser is not None and jobs and all(q.program is not None for q, _ in jobs):
        program_accuracy = sum(
            p is not None and _same_program(p, q.program) for p, (q, _) in zip(programs, jobs)
        ) / len(jobs)
    if not trace:  # decode raw values outside the timed loop
        results = [
            (v if i in decoded or f is not None or p is None
             else decode_value(v, executor.compile(p).kinds[-1], s.index), f)
            for i, ((v, f), p, (_, s)) in enumerate(zip(results, programs, jobs))
        ]

    correct = 0
    failure_codes: Counter[str] = Counter()
    steps_total = steps_ok = 0
    has_outputs = gold and bool(jobs) and all(q.outputs is not None for q, _ in jobs)
    for program, (q, scene), (value, failure) in zip(programs, jobs, results):
        text = None if failure is not None else answer_text(value)
        if failure is not None:
            failure_codes[failure.code] += 1
        elif text == q.answer:
            correct += 1
        if has_outputs:
            steps_total += len(q.outputs)
            steps_ok += _count_matching_steps(executor, executor.compile(program), scene, q)
        if predictions is not None:
            predictions.write(json.dumps(_prediction(q, program, text, failure)) + "\n")
    n = len(jobs)
    return {
        "parser": parser if isinstance(parser, str) else repr(parser),
        "questions": n,
        "correct": correct,
        "accuracy": correct / n if n else None,
        "step_accuracy": steps_ok / steps_total if has_outputs and steps_total else None,
        "steps": steps_total if has_outputs else None,
        "program_accuracy": program_accuracy,
        "failures": sum(failure_codes.values()),
        "fallbacks": fallbacks if the_parser is not None else None,
        "failure_codes": dict(failure_codes),
        "traced": trace,
        "execute_seconds": execute_seconds,
        "execute_qps": n / execute_seconds if execute_seconds > 0 else None,
        "parse_seconds": parse_seconds,
        "parse_qps": n / parse_seconds if parse_seconds else None,
        "load_seconds": load_seconds,
        "compile_seconds": compile_seconds,
    }


def _load_jobs(
    scenes: str | Path, questions: str | Path, limit: int | None, *, need_programs: bool
) -> list[tuple[ClevrQuestion, SceneGraph]]:
    """(question, scene) for every question, scene indexes built."""
    by_image: dict[Any, SceneGraph] = {s.id: s for s in load_clevr_scenes(scenes)}
    qs = load_clevr_questions(questions)
    if limit is not None:
        qs = qs[:limit]
    jobs = []
    for i, q in enumerate(qs):
        scene = by_image.get(q.image_index)
        if scene is None:
            raise InputError(
                f"no scene with image_index {q.image_index} in {scenes}",
                path=f"questions[{i}].image_index",
                source=str(questions),
            )
        if need_programs and q.program is None:
            raise InputError(
                "this question has no program; --parser gold needs programs",
                path=f"questions[{i}].program",
                source=str(questions),
            )
        scene.index  # noqa: B018  build the bitset index now, not while timing execution
        jobs.append((q, scene))
    return jobs


@contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _count_matching_steps(
    executor: SymbolicExecutor, compiled: Any, scene: SceneGraph, q: ClevrQuestion
) -> int:
    outs, _, _ = executor.run_all(compiled, scene.index)
    kinds = compiled.kinds
    return sum(
        outputs_match(decode_value(raw, kinds[k], scene.index), expected)
        for k, (raw, expected) in enumerate(zip(outs, q.outputs or ()))
    )


def _same_program(a: Program, b: Program) -> bool:
    try:
        return a.canonical() == b.canonical()
    except ProgramError:
        return False


def _prediction(
    q: ClevrQuestion, program: Program | None, answer: str | None, failure: Any
) -> dict[str, Any]:
    try:
        text = program.to_text() if program is not None else None
    except ProgramError:
        text = None
    return {
        "question_index": q.question_index,
        "image_index": q.image_index,
        "answer": answer,
        "program": text,
        "failure": None if failure is None else str(failure),
    }
