"""How nsreason's scene graph, index and symbolic executor scale with graph size.

Synthetic, seeded scene graphs with 10, 100, 1,000 and 10,000 objects (``--sizes``): each
object has a name from 8 categories, a color (5 values), a size (2) and a material (3),
and 3 to 5 outgoing relations to other random objects, with predicates from 5 (so
relations ≈ 4 × objects). The program is a 3-hop relate/filter chain in the
``scene_graph`` vocabulary::

    count(filter[red](relate[near](filter[large](relate[holds](filter[blue](
        relate[wears](select[man](scene()))))))))

Timed per size (objects and relations are built beforehand, untimed):

* ``build``    ``SceneGraph(objects, relations)``: id and dangling-relation checks;
* ``index``    ``SceneIndex(scene)``: the bitset tables (what ``scene.index`` builds once);
* ``untraced`` ``executor.run(compiled, scene.index)``;
* ``traced``   ``executor.run_traced(compiled, scene)`` (lazy trace);
* ``+steps``   traced, then ``answer.trace.steps`` read (every step's output decoded).

Each timing is the best of ``--repeats`` interleaved rounds (sizes and phases alternate
inside each round); a round calls the phase enough times to last ≥ ``--min-time``
seconds and reports the time per call. Time per relation = time / relations; the growth
table divides each size's time per relation by the previous size's, so ~1.0 means linear
growth in relations (small sizes are dominated by fixed per-call costs).

Run from the repository root::

    .venv/bin/python benchmarks/scaling.py
    .venv/bin/python benchmarks/scaling.py --sizes 1000 10000 100000 --repeats 5
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # _machine

import itertools

from _machine import machine_info, machine_line, write_json

from nsreason.execute.symbolic import SymbolicExecutor
from nsreason.program import Program
from nsreason.scene.graph import Attribute, Relation, SceneGraph, SceneObject
from nsreason.scene.index import SceneIndex

NAMES = ("man", "woman", "shirt", "hat", "bag", "dog", "table", "cup")
COLORS = ("red", "blue", "green", "white", "black")
SIZES = ("large", "small")
MATERIALS = ("wooden", "metal", "cloth")
PREDICATES = ("wears", "holds", "near", "on", "behind")
PROGRAM = (
    "count(filter[red](relate[near](filter[large](relate[holds](filter[blue]("
    "relate[wears](select[man](scene()))))))))"
)
PHASES = ("build", "index", "untraced", "traced", "+steps")


def make_graph_parts(n: int, seed: int) -> tuple[list[SceneObject], list[Relation]]:
    """``n`` objects and ~4n relations (3-5 distinct other objects per subject)."""
    rng = random.Random(seed * 1_000_003 + n)
    objects = [
        SceneObject(
            id=f"o{i}",
            name=rng.choice(NAMES),
            attributes=(
                Attribute(rng.choice(COLORS), key="color"),
                Attribute(rng.choice(SIZES), key="size"),
                Attribute(rng.choice(MATERIALS), key="material"),
            ),
        )
        for i in range(n)
    ]
    relations = []
    for i in range(n):
        k = min(rng.randint(3, 5), n - 1)
        targets: set[int] = set()
        while len(targets) < k:
            j = rng.randrange(n)
            if j != i:
                targets.add(j)
        for j in sorted(targets):
            relations.append(Relation(f"o{i}", rng.choice(PREDICATES), f"o{j}"))
    return objects, relations


def timed(fn: Callable[[], Any], calls: int) -> float:
    """Seconds per call of ``fn`` over ``calls`` calls."""
    gc.collect()
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls


def calibrate(fn: Callable[[], Any], min_time: float) -> int:
    """How many calls make one round last at least ``min_time`` seconds."""
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-7)
    return max(1, int(min_time / one) + 1)


def prepare(n: int, seed: int, executor: SymbolicExecutor, program: Program) -> dict[str, Any]:
    objects, relations = make_graph_parts(n, seed)
    scene = SceneGraph(objects, relations, id=f"synthetic-{n}")
    index = scene.index
    compiled = executor.compile(program)
    untraced_value, failure = executor.run(compiled, index)
    answer = executor.run_traced(compiled, scene)
    assert failure is None and answer.ok, (failure, answer.failure)
    assert answer.value == untraced_value, "tracing changed the answer"
    steps = answer.trace.steps
    set_sizes = [len(s.output) for s in steps if isinstance(s.output, list)]

    def materialised() -> Any:
        return executor.run_traced(compiled, scene).trace.steps

    phases: dict[str, Callable[[], Any]] = {
        "build": lambda: SceneGraph(objects, relations, id=scene.id),
        "index": lambda: SceneIndex(scene),
        "untraced": lambda: executor.run(compiled, index),
        "traced": lambda: executor.run_traced(compiled, scene),
        "+steps": materialised,
    }
    return {
        "objects": n,
        "relations": len(relations),
        "answer": answer.value,
        "set_sizes": set_sizes,
        "phases": phases,
    }


def fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def table(cols: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.rjust(w) for c, w in zip(cells, widths)) + " |"

    sep = "|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|"
    return "\n".join([line(cols), sep, *(line(r) for r in rows)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1_000, 10_000])
    ap.add_argument("--repeats", type=int, default=7, help="interleaved rounds (default 7)")
    ap.add_argument("--min-time", type=float, default=0.2,
                    help="seconds each timed round lasts at least (default 0.2)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", metavar="PATH", default=None,
                    help="also write the results as JSON ('-': stdout, tables to stderr)")
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")
    show = sys.stderr if args.json == "-" else sys.stdout

    info = machine_info()
    print(machine_line(info), file=show)
    print(f"program (scene_graph vocabulary): {PROGRAM}", file=show, flush=True)

    executor = SymbolicExecutor()
    program = Program.from_text(PROGRAM, "scene_graph")
    cases = [prepare(n, args.seed, executor, program) for n in args.sizes]
    calls = {
        (c["objects"], p): calibrate(fn, args.min_time)
        for c in cases for p, fn in c["phases"].items()
    }
    best: dict[tuple[int, str], float] = {}
    for _ in range(args.repeats):
        for c in cases:
            for p, fn in c["phases"].items():
                key = (c["objects"], p)
                t = timed(fn, calls[key])
                best[key] = min(best.get(key, float("inf")), t)

    print(f"\nbest of {args.repeats} interleaved rounds, seed {args.seed}; time per call\n",
          file=show)
    rows = []
    for c in cases:
        n = c["objects"]
        rows.append((f"{n:,}", f"{c['relations']:,}", str(c["answer"]),
                     *(fmt_time(best[(n, p)]) for p in PHASES)))
    print(table(("objects", "relations", "answer", *PHASES), rows), file=show)

    print("\ntime per relation (ns)\n", file=show)
    rows = []
    for c in cases:
        n, r = c["objects"], c["relations"]
        rows.append((f"{n:,}", f"{r:,}", *(f"{best[(n, p)] / r * 1e9:,.1f}" for p in PHASES)))
    print(table(("objects", "relations", *PHASES), rows), file=show)

    print("\ngrowth: time per relation ÷ the previous size's (1.00 = linear in relations)\n",
          file=show)
    def per_relation(case: dict[str, Any], phase: str) -> float:
        return best[(case["objects"], phase)] / case["relations"]

    rows = []
    for prev, c in itertools.pairwise(cases):
        rel_ratio = c["relations"] / prev["relations"]
        rows.append((
            f"{prev['objects']:,} → {c['objects']:,}",
            f"×{rel_ratio:,.1f}",
            *(f"{per_relation(c, p) / per_relation(prev, p):.2f}" for p in PHASES),
        ))
    if rows:
        print(table(("sizes", "relations", *PHASES), rows), file=show)
    print(file=show, flush=True)

    if args.json is not None:
        payload = json.dumps({
            "machine": info,
            "program": PROGRAM,
            "seed": args.seed,
            "repeats": args.repeats,
            "sizes": [
                {
                    "objects": c["objects"],
                    "relations": c["relations"],
                    "answer": c["answer"],
                    "set_sizes": c["set_sizes"],
                    "seconds": {p: best[(c["objects"], p)] for p in PHASES},
                    "calls_per_round": {p: calls[(c["objects"], p)] for p in PHASES},
                }
                for c in cases
            ],
        }, indent=2)
        write_json(payload, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
