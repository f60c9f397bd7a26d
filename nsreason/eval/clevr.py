"""``nsreason eval clevr``: CLEVR questions answered on their scenes.

:func:`evaluate_clevr` answers every question of a CLEVR questions file on its scene and
reports answer accuracy, per-step accuracy against the generator's ``_output`` (when the
file has it), failures, and throughput. With gold programs it runs the executor's fast path
(compile, then execute: both timed); with a parser it answers through
:meth:`Reasoner.answer_parsed <nsreason.api.Reasoner.answer_parsed>`, the path
:meth:`Reasoner.ask <nsreason.api.Reasoner.ask>` takes, execution-guided fallback included.
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

from ..api import Reasoner
from ..datasets.clevr import ClevrQuestion, load_clevr_questions
from ..errors import InputError, ProgramError
from ..execute.answer import Answer, answer_text
from ..execute.symbolic import SymbolicExecutor, decode_value
from ..parse.base import Parser, get_parser
from ..program.ir import Program
from ..scene.clevr import load_clevr_scenes
from ..scene.graph import SceneGraph
from ..trace.trace import Failure
from ..train.split import in_images

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
    images: str = "all",
    trace: bool = True,
    predictions: IO[str] | None = None,
    progress: Progress | None = None,
    fallback_beam: int = 20,
) -> dict[str, Any]:
    """Answer every question and score it. ``parser="gold"`` runs each question's own
    program; any other parser (a name, a checkpoint folder, an instance) parses the
    question text first, in batches. ``images``: ``all``, or only the questions about
    ``even`` or ``odd`` image indices (the halves of a split by image,
    :func:`nsreason.train.split.in_images`: what ``nsreason train finetune --images`` trained on).

    Returns the report printed by ``nsreason eval clevr --json``: ``questions``,
    ``accuracy``, ``step_accuracy`` (None without ``_output``), ``program_accuracy``
    (program run == gold program after canonicalisation; None for the gold parser or
    without gold programs), ``failures``, ``fallbacks`` (questions whose parsed program
    failed on the scene and gave way to an alternative that runs), throughputs and times.
    ``qps`` is end to end after loading (parse, compile and execute); with gold programs
    ``execute_qps`` counts execution alone and ``compile_seconds`` the compiling.
    """
    in_images(0, images)  # an unknown `images` is an error before anything is loaded
    gold = parser == "gold"
    with _gc_paused():  # loading makes millions of objects and no garbage
        t0 = time.perf_counter()
        jobs = _load_jobs(scenes, questions, limit, need_programs=gold)
        if images != "all":
            jobs = [(q, s) for q, s in jobs if in_images(q.image_index, images)]
        load_seconds = time.perf_counter() - t0
    if gold:
        executor = SymbolicExecutor()
        programs: list[Program | None] = [q.program for q, _ in jobs]
        results, times = _run_gold(executor, programs, jobs, trace, progress)
        parse_seconds = program_accuracy = fallbacks = None
    else:
        executor = None
        reasoner = Reasoner(get_parser(parser), fallback_beam=fallback_beam)  # type: ignore[arg-type]
        results, programs, fallbacks, times = _run_parser(reasoner, jobs, trace, progress)
        parse_seconds = times["parse"]
        program_accuracy = None
        if jobs and all(q.program is not None for q, _ in jobs):
            program_accuracy = sum(
                p is not None and _same_program(p, q.program) for p, (q, _) in zip(programs, jobs)
            ) / len(jobs)

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
        if has_outputs and executor is not None and program is not None:
            steps_total += len(q.outputs or ())
            steps_ok += _count_matching_steps(executor, executor.compile(program), scene, q)
        if predictions is not None:
            predictions.write(json.dumps(_prediction(q, program, text, failure)) + "\n")
    n = len(jobs)
    total = times["total"]
    return {
        "parser": parser if isinstance(parser, str) else repr(parser),
        "questions": n,
        "correct": correct,
        "accuracy": correct / n if n else None,
        "step_accuracy": steps_ok / steps_total if has_outputs and steps_total else None,
        "steps": steps_total if has_outputs else None,
        "program_accuracy": program_accuracy,
        "failures": sum(failure_codes.values()),
        "fallbacks": fallbacks,
        "failure_codes": dict(failure_codes),
        "traced": trace,
        "images": images,
        "qps": n / total if total > 0 else None,
        "execute_seconds": times["execute"],
        "execute_qps": n / times["execute"] if times["execute"] > 0 else None,
        "parse_seconds": parse_seconds,
        "parse_qps": n / parse_seconds if parse_seconds else None,
        "load_seconds": load_seconds,
        "compile_seconds": times.get("compile"),
    }


Job = tuple[ClevrQuestion, SceneGraph]
Result = tuple[Any, Failure | None]


def _run_gold(executor: SymbolicExecutor, programs: list[Program | None], jobs: list[Job],
              trace: bool, progress: Progress | None) -> tuple[list[Result], dict[str, float]]:
    """Each question's own program: compiled (timed), then run (timed). Untraced raw
    values are decoded after the clock stops."""
    with _gc_paused():
        t0 = time.perf_counter()
        compiled = [executor.compile(p) if p is not None else None for p in programs]
        compile_seconds = time.perf_counter() - t0
    items: Iterable[Any] = list(zip(compiled, jobs))
    if progress is not None:
        items = progress(items, len(jobs))
    results: list[Result] = []
    gc.freeze()  # the loaded data stays: keep the collector from rescanning it while timing
    try:
        start = time.perf_counter()
        run_traced, run = executor.run_traced, executor.run
        for c, (_, scene) in items:
            if trace:
                answer = run_traced(c, scene)
                results.append((answer.value, answer.failure))
            else:
                results.append(run(c, scene.index))
        execute_seconds = time.perf_counter() - start
    finally:
        gc.unfreeze()
    if not trace:
        results = [(v if f is not None else decode_value(v, c.kinds[-1], s.index), f)
                   for (v, f), c, (_, s) in zip(results, compiled, jobs)]
    return results, {"compile": compile_seconds, "execute": execute_seconds,
                     "total": compile_seconds + execute_seconds}


def _run_parser(reasoner: Reasoner, jobs: list[Job], trace: bool, progress: Progress | None
                ) -> tuple[list[Result], list[Program | None], int, dict[str, float]]:
    """Parse every question in batches (timed), then answer each through the reasoner
    (timed: compiling, executing, and the fallbacks of programs that fail on the scene)."""
    t0 = time.perf_counter()
    parsed = list(reasoner.parser.parse_batch([q.question for q, _ in jobs]))
    parse_seconds = time.perf_counter() - t0
    items: Iterable[Any] = list(zip(parsed, jobs))
    if progress is not None:
        items = progress(items, len(jobs))
    answers: list[Answer] = []
    start = time.perf_counter()
    for p, (_, scene) in items:
        answers.append(reasoner.answer_parsed(scene, p, trace=trace))
    execute_seconds = time.perf_counter() - start
    fallbacks = sum(p.ok and a.program is not p.program for a, p in zip(answers, parsed))
    results = [(a.value, a.failure) for a in answers]
    programs = [a.program if p.ok else p.program for a, p in zip(answers, parsed)]
    return results, programs, fallbacks, {
        "parse": parse_seconds, "execute": execute_seconds,
        "total": parse_seconds + execute_seconds}


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
