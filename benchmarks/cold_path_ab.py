"""In-process A/B of the executor's two ways to run a program it meets for the first time.

Usage: ``.venv/bin/python benchmarks/cold_path_ab.py [PASSES] [--warm]``

On the CLEVR val generator questions (gold programs, read afresh by ``load_clevr_questions``
before every pass, not timed), CPU time per question, interleaved passes:

* default (a cold executor): each pass a new ``SymbolicExecutor`` with the memo of generated
  code emptied; the compiled path ``run(compile(p))`` / ``run_traced(compile(p))`` against the
  fused one-pass path ``run_program(p)`` / ``execute(p)``;
* ``--warm``: one executor that compiled every val program at load (code generated,
  ``generate_after=0``); ``run(compile(p))`` against ``run_program(p)`` untraced.

Answers of the two paths are checked equal. Results: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from nsreason.datasets.clevr import load_clevr_questions
from nsreason.execute import SymbolicExecutor, codegen
from nsreason.scene.clevr import load_clevr_scenes

SHARED = Path(os.environ.get("NSREASON_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("passes", nargs="?", type=int, default=9)
    ap.add_argument("--warm", action="store_true", help="one executor that compiled every program at load")
    args = ap.parse_args()
    folder = SHARED / "clevr" / "val"
    raw = json.loads((folder / "CLEVR_val_questions_generator.json").read_text(encoding="utf-8"))
    qs = load_clevr_questions(raw)
    by_index = dict(enumerate(load_clevr_scenes(folder / "CLEVR_val_scenes.json")))
    scenes = [by_index[q.image_index] for q in qs]
    indexes = [s.index for s in scenes]  # each scene's bitset index built once, not timed
    warm = None
    if args.warm:
        warm = SymbolicExecutor(generate_after=0)
        for q in qs:
            warm.compile(q.program)
    gc.collect()
    gc.freeze()

    def loop(kind: str) -> tuple[float, list[Any]]:
        if warm is None:
            codegen._GENERATED.clear()
        ex = warm or SymbolicExecutor()
        progs = [q.program for q in load_clevr_questions(raw)]
        gc.freeze()
        out: list[Any] = []
        traced = kind.endswith("traced")
        if kind.startswith("compiled"):
            run, comp = (ex.run_traced, ex.compile) if traced else (ex.run, ex.compile)
            t = time.process_time()
            for p, s, i in zip(progs, scenes, indexes):
                a = run(comp(p), s) if traced else run(comp(p), i)
                out.append((a.value, a.failure) if traced else a)
        else:
            t = time.process_time()
            for p, s, i in zip(progs, scenes, indexes):
                a = ex.execute(p, s) if traced else ex.run_program(p, i)
                out.append((a.value, a.failure) if traced else a)
        return (time.process_time() - t) / len(progs) * 1e6, out

    pairs = [("compiled", "fused")] + ([] if args.warm else [("compiled traced", "fused traced")])
    kinds = [k for pair in pairs for k in pair]
    res: dict[str, list[float]] = {k: [] for k in kinds}
    outs: dict[str, list[Any]] = {}
    for r in range(args.passes):
        for a, b in pairs:
            for k in (a, b) if r % 2 == 0 else (b, a):
                us, outs[k] = loop(k)
                res[k].append(us)
    label = "warm " if args.warm else ""
    for a, b in pairs:
        assert outs[a] == outs[b], f"{a} and {b} answers differ"
        for k in (a, b):
            print(f"{label}{k:16s} median {statistics.median(res[k]):6.2f} us/q  min {min(res[k]):6.2f}")
        ratios = [x / y for x, y in zip(res[a], res[b])]
        print(f"  {b} speed-up, paired median over {args.passes} passes: {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
