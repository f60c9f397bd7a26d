"""Executor throughput on CLEVR: nsreason's symbolic executor against an NS-VQA-style peer,
end to end (compile + execute) and execute-only.

For each split (``val``, ``train``) and each questions file (release format
``CLEVR_<split>_questions.json`` and generator format ``..._questions_generator.json``)
everything is loaded first: scenes (nsreason ``SceneGraph`` + bitset index built with
``scene.index``, once per scene as ``nsreason eval`` does; the peer's lists of object
dicts), questions, programs (nsreason: read by ``load_clevr_questions`` and compiled with
code generated, ``SymbolicExecutor(generate_after=0)``; the peer: NS-VQA prefix tokens).
Then, in one process, the same questions are answered by eight loops, interleaved over
``--repeats`` repetitions (the order rotates every repetition; the loaded data is moved out
of the cyclic GC's way with ``gc.freeze()``, and a ``gc.collect()`` precedes each loop):

* ``peer``       ``NSVQAStyleExecutor.run(tokens, scene)`` (see ``nsvqa_style.py``): an
  interpreter, no compile step;
* ``e2e``        end to end, as ``nsreason eval clevr --parser gold --no-trace`` pays it in
  a new process: programs freshly read from the file's JSON by ``load_clevr_questions``
  (not timed), then per question ``executor.run_program(program, scene.index)`` (the value
  and failure of ``executor.run(executor.compile(program), scene.index)``; a program not
  compiled yet runs without a compile step where the executor's caches know its steps) on
  a new ``SymbolicExecutor()``, with the process-wide memo of generated code emptied;
* ``e2e traced`` the same with ``executor.execute(program, scene)`` (the answer and trace of
  ``executor.run_traced(executor.compile(program), scene)``, likewise without compiling);
* ``e2e warm``   the same as ``e2e`` on the executor that compiled these questions at load
  (its caches know every step and structure, their code is generated), with freshly read
  programs all the same: a long-running process answering questions it has seen the like of;
* ``untraced``   execute-only: ``executor.run(compiled, scene.index)`` on programs compiled
  at load: the raw final value;
* ``traced``     ``executor.run_traced(compiled, scene)``: an ``Answer`` with a lazy trace
  (every step's raw output and clock reading recorded; decoding deferred);
* ``+steps``     traced, then ``answer.trace.steps`` read (the trace materialised);
* ``+to_json``   traced, then ``answer.trace.to_json()``.

Each loop keeps what an evaluation loop keeps: the peer's answer string, the untraced
``(raw value, failure)``, and for the traced loops ``(answer.value, answer.failure)`` as
``nsreason.eval.clevr`` does, so the trace is dropped after use. ``--keep-answers`` keeps
every traced execute-only ``Answer`` (and its trace) alive instead, which adds the cyclic
GC's cost of walking them.

Only the loop over questions is timed (loading and indexing are not, nor, in the
execute-only rows, compiling). ``--clock cpu`` times by this process's CPU time instead of
the wall clock: steadier on a shared machine. Reported: best and median questions/s over
the repetitions; the ratio to the peer as best over best and as the median of paired
ratios (peer time / executor time within each repetition, whose loops run back to back,
so slow phases of a shared machine hit both); and answer accuracy against the file's
answers (from the first repetition's outputs).

Run from the repository root::

    .venv/bin/python benchmarks/executor_throughput.py              # val and train
    .venv/bin/python benchmarks/executor_throughput.py --split val --format generator --clock cpu
    .venv/bin/python benchmarks/executor_throughput.py --json results.json
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # nsvqa_style, _machine

from _machine import machine_info, machine_line, write_json
from nsvqa_style import NSVQAStyleExecutor, load_scenes, to_tokens

from nsreason.datasets.clevr import load_clevr_questions
from nsreason.execute import codegen
from nsreason.execute.answer import answer_text
from nsreason.execute.symbolic import SymbolicExecutor, decode_value
from nsreason.program.ir import Program
from nsreason.scene.clevr import load_clevr_scenes

# ../shared/data beside the repository, or wherever NSREASON_SHARED_DATA points (as in tests)
DATA = Path(
    os.environ.get("NSREASON_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
) / "clevr"

clock: Callable[[], float] = time.perf_counter  # --clock cpu: time.process_time

VARIANTS = ("peer", "e2e", "e2e traced", "e2e warm", "untraced", "traced", "+steps", "+to_json")
LABELS = {
    "peer": "NS-VQA-style peer",
    "e2e": "end to end untraced",
    "e2e traced": "end to end traced (lazy)",
    "e2e warm": "end to end untraced, warm",
    "untraced": "nsreason untraced",
    "traced": "nsreason traced (lazy)",
    "+steps": "traced + .trace.steps",
    "+to_json": "traced + trace.to_json()",
}


# -- the timed loops: the same shape for every executor ---------------------------------------
def loop_peer(ctx: dict[str, Any]) -> tuple[float, list[Any]]:
    run = ctx["peer"].run
    out: list[Any] = []
    ap = out.append
    jobs = ctx["peer_jobs"]
    t0 = clock()
    for tokens, scene in jobs:
        ap(run(tokens, scene))
    return clock() - t0, out


def loop_untraced(ctx: dict[str, Any]) -> tuple[float, list[Any]]:
    run = ctx["executor"].run
    out: list[Any] = []
    ap = out.append
    jobs = ctx["index_jobs"]
    t0 = clock()
    for compiled, index in jobs:
        ap(run(compiled, index))
    return clock() - t0, out


def loop_e2e(ctx: dict[str, Any]) -> tuple[float, list[Any]]:
    """Compile (on an executor that has compiled nothing yet) and run, untraced."""
    forget_generated_code()
    executor = SymbolicExecutor()
    run = executor.run_program  # run(compile(program), index), without compiling when cold
    out: list[Any] = []
    ap = out.append
    programs = fresh_programs(ctx)
    jobs = list(zip(programs, ctx["indexes"]))
    t0 = clock()
    for program, index in jobs:
        ap(run(program, index))
    seconds = clock() - t0
    release(programs)
    return seconds, out


def loop_e2e_traced(ctx: dict[str, Any]) -> tuple[float, list[Any]]:
    """Compile (on a new executor) and run traced, keeping ``(value, failure)``."""
    forget_generated_code()
    executor = SymbolicExecutor()
    run = executor.execute  # run_traced(compile(program), scene), without compiling when cold
    out: list[Any] = []
    ap = out.append
    programs = fresh_programs(ctx)
    jobs = list(zip(programs, ctx["scenes"]))
    t0 = clock()
    for program, scene in jobs:
        answer = run(program, scene)
        ap((answer.value, answer.failure))
    seconds = clock() - t0
    release(programs)
    return seconds, out


def loop_e2e_warm(ctx: dict[str, Any]) -> tuple[float, list[Any]]:
    """Compile and run untraced on the executor of the compiled loops, which has seen
    these questions' steps and shapes before (new ``Program`` objects all the same)."""
    executor = ctx["executor"]
    run = executor.run_program
    out: list[Any] = []
    ap = out.append
    programs = fresh_programs(ctx)
    jobs = list(zip(programs, ctx["indexes"]))
    t0 = clock()
    for program, index in jobs:
        ap(run(program, index))
    seconds = clock() - t0
    release(programs)
    return seconds, out


def fresh_programs(ctx: dict[str, Any]) -> list[Program]:
    """New ``Program`` objects read from the file's JSON by the eval loop's loader
    (``load_clevr_questions``), so no compiled form is cached on them; not timed. Like the
    loaded data (and like ``nsreason eval``, which freezes its loaded programs before its
    timed loop), they are moved out of the cyclic GC's way."""
    programs = [q.program for q in load_clevr_questions(ctx["raw"])]
    gc.freeze()
    return programs


def forget_generated_code() -> None:
    """Empty the process-wide memo of generated code (``nsreason.execute.codegen``), so
    that a cold loop pays what a new process running ``nsreason eval`` pays."""
    codegen._GENERATED.clear()


def release(programs: list[Program]) -> None:
    """Break each program's cycle to its compiled form (program → compiled → program), so
    that frozen programs are freed by reference counting once dropped."""
    for program in programs:
        program._compiled = None


def loop_traced(ctx: dict[str, Any]) -> tuple[float, list[Any]]:
    run = ctx["executor"].run_traced
    out: list[Any] = []
    ap = out.append
    jobs = ctx["scene_jobs"]
    if ctx["keep_answers"]:
        t0 = clock()
        for compiled, scene in jobs:
            ap(run(compiled, scene))
        return clock() - t0, out
    t0 = clock()
    for compiled, scene in jobs:
        answer = run(compiled, scene)
        ap((answer.value, answer.failure))
    return clock() - t0, out


def loop_steps(ctx: dict[str, Any]) -> tuple[float, list[Any]]:
    run = ctx["executor"].run_traced
    out: list[Any] = []
    ap = out.append
    jobs = ctx["scene_jobs"]
    if ctx["keep_answers"]:
        t0 = clock()
        for compiled, scene in jobs:
            answer = run(compiled, scene)
            answer.trace.steps  # noqa: B018  materialise: decode every step's output
            ap(answer)
        return clock() - t0, out
    t0 = clock()
    for compiled, scene in jobs:
        answer = run(compiled, scene)
        answer.trace.steps  # noqa: B018  materialise: decode every step's output
        ap((answer.value, answer.failure))
    return clock() - t0, out


def loop_json(ctx: dict[str, Any]) -> tuple[float, list[Any]]:
    run = ctx["executor"].run_traced
    out: list[Any] = []
    ap = out.append
    jobs = ctx["scene_jobs"]
    if ctx["keep_answers"]:
        t0 = clock()
        for compiled, scene in jobs:
            answer = run(compiled, scene)
            answer.trace.to_json()
            ap(answer)
        return clock() - t0, out
    t0 = clock()
    for compiled, scene in jobs:
        answer = run(compiled, scene)
        answer.trace.to_json()
        ap((answer.value, answer.failure))
    return clock() - t0, out


LOOPS: dict[str, Callable[[dict[str, Any]], tuple[float, list[Any]]]] = {
    "peer": loop_peer,
    "e2e": loop_e2e,
    "e2e traced": loop_e2e_traced,
    "e2e warm": loop_e2e_warm,
    "untraced": loop_untraced,
    "traced": loop_traced,
    "+steps": loop_steps,
    "+to_json": loop_json,
}


# -- loading --------------------------------------------------------------------------------
def load_split(split: str, fmt: str, limit: int | None, executor: SymbolicExecutor,
               scene_cache: dict[str, Any], keep_answers: bool = False) -> dict[str, Any]:
    """Everything one (split, file) block needs, built before any timing."""
    t0 = time.perf_counter()
    if split not in scene_cache:
        with open(DATA / split / f"CLEVR_{split}_scenes.json", encoding="utf-8") as f:
            raw_scenes = json.load(f)
        scenes = load_clevr_scenes(raw_scenes)
        for s in scenes:
            s.index  # noqa: B018  build the bitset index now
        peer_scenes = load_scenes(raw_scenes["scenes"])
        by_image = {s.id: (s, p) for s, p in zip(scenes, peer_scenes)}
        scene_cache[split] = by_image
    by_image = scene_cache[split]
    suffix = "_generator" if fmt == "generator" else ""
    path = DATA / split / f"CLEVR_{split}_questions{suffix}.json"
    with open(path, encoding="utf-8") as f:
        raw = json.load(f)
    if limit is not None:
        raw["questions"] = raw["questions"][:limit]
    questions = load_clevr_questions(raw)
    peer_jobs, index_jobs, scene_jobs, expected = [], [], [], []
    for q, rq in zip(questions, raw["questions"]):
        scene, peer_scene = by_image[q.image_index]
        compiled = executor.compile(q.program)
        peer_jobs.append((to_tokens(rq["program"]), peer_scene))
        index_jobs.append((compiled, scene.index))
        scene_jobs.append((compiled, scene))
        expected.append(q.answer)

    return {
        "split": split,
        "format": fmt,
        "file": path.name,
        "questions": len(questions),
        "peer": NSVQAStyleExecutor(),
        "executor": executor,
        "peer_jobs": peer_jobs,
        "index_jobs": index_jobs,
        "scene_jobs": scene_jobs,
        "raw": raw,
        "indexes": [index for _, index in index_jobs],
        "scenes": [scene for _, scene in scene_jobs],
        "expected": expected,
        "keep_answers": keep_answers,
        "load_seconds": time.perf_counter() - t0,
    }


# -- scoring --------------------------------------------------------------------------------
def answers_of(variant: str, ctx: dict[str, Any], out: list[Any]) -> list[str | None]:
    if variant == "peer":
        return out
    if variant in ("untraced", "e2e", "e2e warm"):
        texts: list[str | None] = []
        for (raw, failure), (compiled, index) in zip(out, ctx["index_jobs"]):
            if failure is not None:
                texts.append(None)
            else:
                texts.append(answer_text(decode_value(raw, compiled.kinds[-1], index)))
        return texts
    if ctx["keep_answers"] and variant != "e2e traced":
        return [a.text if a.ok else None for a in out]
    return [None if failure is not None else answer_text(value) for value, failure in out]


def accuracy(texts: list[str | None], expected: list[str | None]) -> tuple[float, int]:
    n = len(expected)
    correct = sum(t is not None and t == e for t, e in zip(texts, expected))
    return (correct / n if n else float("nan")), correct


def bench_block(ctx: dict[str, Any], repeats: int) -> dict[str, Any]:
    n = ctx["questions"]
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    acc: dict[str, dict[str, Any]] = {}
    for rep in range(repeats):
        order = VARIANTS[rep % len(VARIANTS):] + VARIANTS[: rep % len(VARIANTS)]
        for variant in order:
            gc.collect()
            seconds, out = LOOPS[variant](ctx)
            times[variant].append(seconds)
            if rep == 0:
                texts = answers_of(variant, ctx, out)
                a, correct = accuracy(texts, ctx["expected"])
                acc[variant] = {"accuracy": a, "correct": correct,
                                "failures": sum(t is None for t in texts)}
            del out
    rows = {}
    peer_best = n / min(times["peer"])
    for v in VARIANTS:
        best = n / min(times[v])
        median = n / statistics.median(times[v])
        # paired: each repetition's peer time over this executor's time in the same
        # repetition (adjacent loops), then the median; robust to the machine's drift
        paired = [p / t for p, t in zip(times["peer"], times[v])]
        rows[v] = {
            "best_qps": best,
            "median_qps": median,
            "ratio_best": best / peer_best,
            "ratio_paired_median": statistics.median(paired),
            "us_per_question_best": 1e6 / best,
            **acc[v],
            "seconds": times[v],
        }
    return {
        "split": ctx["split"],
        "format": ctx["format"],
        "file": ctx["file"],
        "questions": n,
        "repeats": repeats,
        "keep_answers": ctx["keep_answers"],
        "load_seconds": ctx["load_seconds"],
        "results": rows,
    }


def format_table(block: dict[str, Any]) -> str:
    head = (f"{block['split']} / {block['format']} ({block['file']}): {block['questions']:,} "
            f"questions, best and median of {block['repeats']} interleaved runs"
            + ("; traced Answers kept alive (--keep-answers)" if block["keep_answers"] else ""))
    cols = ("executor", "best q/s", "median q/s", "µs/q (best)", "× peer (best)",
            "× peer (paired median)", "accuracy")
    rows = []
    for v in VARIANTS:
        r = block["results"][v]
        rows.append((
            LABELS[v],
            f"{r['best_qps']:,.0f}",
            f"{r['median_qps']:,.0f}",
            f"{r['us_per_question_best']:.2f}",
            f"{r['ratio_best']:.2f}",
            f"{r['ratio_paired_median']:.2f}",
            f"{100 * r['accuracy']:.2f}%",
        ))
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(cols)]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ) + " |"

    sep = "|" + "|".join(("-" * (w + 1)) + (":" if i else "-") for i, w in enumerate(widths)) + "|"
    return "\n".join([head, "", line(cols), sep, *(line(r) for r in rows)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=("val", "train", "all"), default="all")
    ap.add_argument("--format", choices=("release", "generator", "all"), default="all",
                    dest="fmt", help="which questions file(s)")
    ap.add_argument("--repeats", type=int, default=7, help="interleaved repetitions (default 7)")
    ap.add_argument("--limit", type=int, default=None, help="first N questions of each file")
    ap.add_argument("--keep-answers", action="store_true",
                    help="traced loops keep every Answer (and so its trace) alive, instead of "
                         "(value, failure) as nsreason.eval.clevr does: adds GC cost")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="time loops by wall clock (default) or by this process's CPU time "
                         "(steadier on a shared machine: time spent waiting for a core is "
                         "left out)")
    ap.add_argument("--json", metavar="PATH", default=None,
                    help="also write the results as JSON ('-': stdout, tables to stderr)")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")

    global clock
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    splits = ("val", "train") if args.split == "all" else (args.split,)
    fmts = ("release", "generator") if args.fmt == "all" else (args.fmt,)
    show = sys.stderr if args.json == "-" else sys.stdout
    info = machine_info()
    print(machine_line(info), file=show)
    print(f"data: {DATA}", file=show, flush=True)
    print(f"clock: {'CPU time of this process' if args.clock == 'cpu' else 'wall'}", file=show,
          flush=True)

    # Load everything first (one executor: its compile cache lives on the programs).
    # Its code generated at once: the execute-only rows time compiled programs.
    executor = SymbolicExecutor(generate_after=0)
    scene_cache: dict[str, Any] = {}
    contexts = [load_split(s, f, args.limit, executor, scene_cache, args.keep_answers)
                for s in splits for f in fmts]
    for ctx in contexts:
        print(f"loaded {ctx['split']}/{ctx['format']}: {ctx['questions']:,} questions "
              f"({ctx['load_seconds']:.1f} s: parse, scenes, indexes, compile)", file=show)
    # The loaded data is millions of long-lived objects: freeze them out of the cyclic GC so
    # that the gc.collect() before each timed loop is cheap and no loop pays for walking
    # them (young-generation collections of what a loop allocates still happen, as in use).
    gc.collect()
    gc.freeze()
    print(file=show, flush=True)

    blocks = []
    for ctx in contexts:
        block = bench_block(ctx, args.repeats)
        blocks.append(block)
        print(format_table(block), file=show)
        print(file=show, flush=True)

    if args.json is not None:
        payload = json.dumps({"machine": info, "clock": args.clock, "blocks": blocks}, indent=2)
        write_json(payload, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
