"""``nsreason eval clevr``: CLEVR questions answered on their scenes.

:func:`evaluate_clevr` answers every question of a CLEVR questions file on its scene and
reports answer accuracy, per-step accuracy against the generator's ``_output`` (when the
file has it), failures, throughput, and, when the executor gives confidences, their
calibration. With gold programs and the symbolic executor it runs that executor's fast
path (compile, then execute: both timed); with another executor (``executor="neural"``,
any registered name or an instance) every program runs through its ``execute_many`` in one
batch when it has one, else ``execute`` per question. With a parser it answers through
:meth:`Reasoner.answer_parsed <nsreason.api.Reasoner.answer_parsed>`, the path
:meth:`Reasoner.ask <nsreason.api.Reasoner.ask>` takes, execution-guided fallback included
(batched by :meth:`~nsreason.api.Reasoner.answer_parsed_many` for an executor with
``execute_many``).

Scenes may come in any format :func:`nsreason.scene.load_scenes` reads (auto-detected, or
forced by ``scene_format``); each question's ``image_index`` names its scene by id (an
integer, or a string of its digits such as ``"12"``).
"""

from __future__ import annotations

import gc
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from ..api import Reasoner
from ..datasets.clevr import ClevrQuestion, load_clevr_questions
from ..errors import InputError, ProgramError
from ..execute.answer import Answer, answer_text
from ..execute.executors import Executor, execute_pairs, get_executor
from ..execute.symbolic import SymbolicExecutor, decode_value
from ..parse.base import Parser, get_parser
from ..program.ir import Program
from ..scene.graph import SceneGraph
from ..scene.io import load_scenes
from ..trace.trace import Failure
from ..train.split import in_images
from .calibration import calibration_summary

__all__ = ["evaluate_clevr", "outputs_match", "same_answer", "scenes_by_image"]

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
    executor: str | Executor = "symbolic",
    scene_format: str = "auto",
    kb: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Answer every question and score it. ``parser="gold"`` runs each question's own
    program; any other parser (a name, a checkpoint folder, an instance) parses the
    question text first, in batches. ``images``: ``all``, or only the questions about
    ``even`` or ``odd`` image indices (the halves of a split by image,
    :func:`nsreason.train.split.in_images`: what ``nsreason train finetune --images`` trained on).
    ``executor``: a registered executor name or an instance
    (:func:`nsreason.execute.get_executor`). ``scene_format``: ``"auto"`` or a format of
    :data:`nsreason.scene.io.SCENE_FORMATS`. ``kb``: knowledge base specs (see
    :class:`~nsreason.api.Reasoner`); with them each question is asked one by one as
    :meth:`Reasoner.ask <nsreason.api.Reasoner.ask>` asks it (questions that join the scene
    and the KB's relations included).

    Returns the report printed by ``nsreason eval clevr --json``: ``questions``,
    ``accuracy``, ``step_accuracy`` (None without ``_output``, and for executors other
    than the symbolic one), ``program_accuracy`` (program run == gold program after
    canonicalisation; None for the gold parser or without gold programs), ``failures``,
    ``fallbacks`` (questions whose parsed program failed on the scene and gave way to an
    alternative that runs), throughputs and times. ``qps`` is end to end after loading
    (parse, compile and execute); with gold programs ``execute_qps`` counts execution alone
    and ``compile_seconds`` the compiling (symbolic executor only). When any answer has a
    confidence, ``ece`` (expected calibration error over 15 bins) and ``mean_confidence``
    follow (:func:`nsreason.eval.calibration.calibration_summary`: a failed answer counts
    as wrong with confidence 0).
    """
    in_images(0, images)  # an unknown `images` is an error before anything is loaded
    gold = parser == "gold"
    runner = get_executor(executor)  # an unknown name is an error before anything is loaded
    # the symbolic executor's compiled fast path (and step accuracy); a subclass may
    # change execute(), so it goes the general way
    symbolic = runner if type(runner) is SymbolicExecutor else None
    with _gc_paused():  # loading makes millions of objects and no garbage
        t0 = time.perf_counter()
        jobs = _load_jobs(scenes, questions, limit, need_programs=gold, scene_format=scene_format)
        if images != "all":
            jobs = [(q, s) for q, s in jobs if in_images(q.image_index, images)]
        load_seconds = time.perf_counter() - t0
    programs: list[Program | None]
    if gold:
        programs = [q.program for q, _ in jobs]
        if symbolic is not None:
            results, times = _run_gold(symbolic, programs, jobs, trace, progress)
        else:
            results, times = _run_gold_with(runner, programs, jobs, trace)
        parse_seconds = program_accuracy = fallbacks = None
    else:
        reasoner = Reasoner(get_parser(parser), runner, fallback_beam=fallback_beam, kb=list(kb) if kb else None)
        if kb:
            results, programs, fallbacks, times = _run_asked(reasoner, jobs, trace, progress)
        else:
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
    has_outputs = gold and symbolic is not None and bool(jobs) and all(q.outputs is not None for q, _ in jobs)
    rights: list[bool] = []
    for program, (q, scene), (value, failure, confidence) in zip(programs, jobs, results):
        text = None if failure is not None else answer_text(value)
        right = failure is None and same_answer(text, q.answer)
        rights.append(right)
        if failure is not None:
            failure_codes[failure.code] += 1
        elif right:
            correct += 1
        if has_outputs and symbolic is not None and program is not None:
            steps_total += len(q.outputs or ())
            steps_ok += _count_matching_steps(symbolic, symbolic.compile(program), scene, q)
        if predictions is not None:
            predictions.write(json.dumps(_prediction(q, program, text, failure, confidence)) + "\n")
    n = len(jobs)
    total = times["total"]
    calibration = calibration_summary([c for _, _, c in results], rights,
                                      [f is not None for _, f, _ in results]) if results else None
    return {
        "parser": parser if isinstance(parser, str) else repr(parser),
        "executor": executor if isinstance(executor, str) else repr(executor),
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
        **(calibration or {}),
    }


Job = tuple[ClevrQuestion, SceneGraph]
Result = tuple[Any, Failure | None, float | None]
"""An answer as the scoring keeps it: value, failure, confidence."""


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
        raw: list[tuple[Any, Failure | None]] = []
        for c, (_, scene) in items:
            if trace:
                answer = run_traced(c, scene)
                raw.append((answer.value, answer.failure))
            else:
                raw.append(run(c, scene.index))
        execute_seconds = time.perf_counter() - start
    finally:
        gc.unfreeze()
    if trace:
        results = [(v, f, None) for v, f in raw]
    else:
        results = [(v if f is not None else decode_value(v, c.kinds[-1], s.index), f, None)
                   for (v, f), c, (_, s) in zip(raw, compiled, jobs)]
    return results, {"compile": compile_seconds, "execute": execute_seconds,
                     "total": compile_seconds + execute_seconds}


def _run_gold_with(executor: Executor, programs: list[Program | None], jobs: list[Job],
                   trace: bool) -> tuple[list[Result], dict[str, float]]:
    """Each question's own program on any executor: all in one batch through its
    ``execute_many`` when it has one, else ``execute`` per question (timed together)."""
    pairs = [(p, s) for p, (_, s) in zip(programs, jobs) if p is not None]
    gc.freeze()
    try:
        start = time.perf_counter()
        answers = iter(execute_pairs(executor, pairs, trace=trace))
        execute_seconds = time.perf_counter() - start
    finally:
        gc.unfreeze()
    missing = Failure("invalid_program", "the question has no program")
    results: list[Result] = []
    for p in programs:
        if p is None:  # not reached: gold programs are checked when loading
            results.append((None, missing, None))
        else:
            a = next(answers)
            results.append((a.value, a.failure, a.confidence))
    return results, {"execute": execute_seconds, "total": execute_seconds}


def same_answer(predicted: str | None, gold: str | None) -> bool:
    """Whether an answer string is the gold one, ignoring case and runs of white space
    (CLEVR's answers are lower case; a KB's label "Thomas Edison" answers "thomas edison").

    >>> same_answer("Thomas  Edison", "thomas edison"), same_answer("2", "3")
    (True, False)
    """
    if predicted is None or gold is None:
        return False
    return " ".join(predicted.lower().split()) == " ".join(str(gold).lower().split())


def _run_asked(reasoner: Reasoner, jobs: list[Job], trace: bool, progress: Progress | None
               ) -> tuple[list[Result], list[Program | None], int, dict[str, float]]:
    """Ask every question through :meth:`Reasoner.ask` (a reasoner with a KB: parsing and
    answering are not timed apart)."""
    items: Iterable[Any] = jobs
    if progress is not None:
        items = progress(items, len(jobs))
    start = time.perf_counter()
    answers = [reasoner.ask(scene, q.question, trace=trace) for q, scene in items]
    seconds = time.perf_counter() - start
    results = [(a.value, a.failure, a.confidence) for a in answers]
    return results, [a.program for a in answers], 0, {"parse": 0.0, "execute": seconds, "total": seconds}


def _run_parser(reasoner: Reasoner, jobs: list[Job], trace: bool, progress: Progress | None
                ) -> tuple[list[Result], list[Program | None], int, dict[str, float]]:
    """Parse every question in batches (timed), then answer each through the reasoner
    (timed: compiling, executing, and the fallbacks of programs that fail on the scene);
    an executor with ``execute_many`` runs the parsed programs in one batch
    (:meth:`Reasoner.answer_parsed_many <nsreason.api.Reasoner.answer_parsed_many>`)."""
    t0 = time.perf_counter()
    parsed = list(reasoner.parser.parse_batch([q.question for q, _ in jobs]))
    parse_seconds = time.perf_counter() - t0
    answers: list[Answer] = []
    start = time.perf_counter()
    if callable(getattr(reasoner.executor, "execute_many", None)):
        answers = reasoner.answer_parsed_many([(s, p) for p, (_, s) in zip(parsed, jobs)], trace=trace)
    else:
        items: Iterable[Any] = list(zip(parsed, jobs))
        if progress is not None:
            items = progress(items, len(jobs))
        for p, (_, scene) in items:
            answers.append(reasoner.answer_parsed(scene, p, trace=trace))
    execute_seconds = time.perf_counter() - start
    fallbacks = sum(p.ok and a.program is not p.program for a, p in zip(answers, parsed))
    results = [(a.value, a.failure, a.confidence) for a in answers]
    programs = [a.program if p.ok else p.program for a, p in zip(answers, parsed)]
    return results, programs, fallbacks, {
        "parse": parse_seconds, "execute": execute_seconds,
        "total": parse_seconds + execute_seconds}


def scenes_by_image(scenes: list[SceneGraph], source: str | Path | None = None) -> dict[Any, SceneGraph]:
    """The scenes by the ``image_index`` that questions name them by: a scene's id, a
    string id of digits equal to ``str(i)`` (``"12"``, not ``"012"``) standing for the
    integer ``i``. Scenes without an id are left out; two scenes under one id are an
    :class:`InputError` naming ``source``.

    >>> from nsreason.scene.graph import SceneGraph
    >>> list(scenes_by_image([SceneGraph([], id="12"), SceneGraph([], id=3),
    ...                       SceneGraph([], id="kitchen"), SceneGraph([], id="007")]))
    [12, 3, 'kitchen', '007']
    """
    by_image: dict[Any, SceneGraph] = {}
    for k, scene in enumerate(scenes):
        key = scene.id
        if key is None:
            continue
        if isinstance(key, str) and key.isdigit() and key.isascii() and str(int(key)) == key:
            key = int(key)
        if key in by_image:
            raise InputError(f"two scenes have the image id {scene.id!r}", path=f"scenes[{k}].id",
                             source=None if source is None else str(source))
        by_image[key] = scene
    return by_image


def scene_of(by_image: dict[Any, SceneGraph], image_index: Any, scenes: str | Path, path: str,
             source: str | Path) -> SceneGraph:
    """The scene ``image_index`` names in ``by_image`` (:func:`scenes_by_image`), or an
    :class:`InputError` naming ``source`` and ``path`` (where the index was read) and
    ``scenes`` (the file that lacks it)."""
    scene = by_image.get(image_index)
    if scene is None:
        raise InputError(
            f"no scene with image_index {image_index} in {scenes} (it has {len(by_image)} scene(s) with an id)",
            path=path, source=str(source))
    return scene


def _load_jobs(
    scenes: str | Path, questions: str | Path, limit: int | None, *, need_programs: bool,
    scene_format: str = "auto",
) -> list[tuple[ClevrQuestion, SceneGraph]]:
    """(question, scene) for every question, scene indexes built."""
    by_image = scenes_by_image(load_scenes(scenes, scene_format), scenes)
    qs = load_clevr_questions(questions)
    if limit is not None:
        qs = qs[:limit]
    jobs = []
    for i, q in enumerate(qs):
        scene = scene_of(by_image, q.image_index, scenes, f"questions[{i}].image_index", questions)
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
    q: ClevrQuestion, program: Program | None, answer: str | None, failure: Any,
    confidence: float | None = None,
) -> dict[str, Any]:
    try:
        text = program.to_text() if program is not None else None
    except ProgramError:
        text = None
    return {
        "question_index": q.question_index,
        "image_index": q.image_index,
        "answer": answer,
        "confidence": confidence,
        "program": text,
        "failure": None if failure is None else str(failure),
    }
