"""Where compiling CLEVR programs costs, per question (CPU time of this process).

On a questions file (default: the ``val`` generator file under ``../shared/data/clevr``),
``--repeats`` passes (5), each timing, per question:

* reading the file's questions and programs (``load_clevr_questions``, as the eval loop);
* ``Program.validate`` alone;
* ``SymbolicExecutor().compile`` on a new executor with the process-wide memo of generated
  code emptied (what a new process running ``nsreason eval`` pays);
* the same with the generated code of the previous pass kept;
* the same executor again, on programs read anew (new ``Program`` and ``Step`` objects).

Prints the median (and the minimum) over the passes. Run from the repository root::

    .venv/bin/python benchmarks/compile_cost.py [--questions PATH] [--repeats N]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # _machine

from _machine import machine_info, machine_line

from nsreason.datasets.clevr import load_clevr_questions
from nsreason.execute import codegen
from nsreason.execute.symbolic import SymbolicExecutor

DATA = Path(
    os.environ.get("NSREASON_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
) / "clevr"


def forget_generated_code() -> None:
    """Empty the process-wide memo of generated code (as in a new process)."""
    if hasattr(codegen, "_GENERATED"):
        codegen._GENERATED.clear()
    else:  # before the memo (commit e0ab3a1 and earlier): an lru_cache'd factory
        codegen._factory.cache_clear()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", type=Path,
                    default=DATA / "val" / "CLEVR_val_questions_generator.json")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    print(machine_line(machine_info()))
    print(f"questions: {args.questions}; CPU time per question, median (min) of {args.repeats}")
    with open(args.questions, encoding="utf-8") as f:
        raw = json.load(f)
    n = len(raw["questions"])
    gc.collect()
    gc.freeze()
    clock = time.process_time
    rows: dict[str, list[float]] = {}

    def record(name: str, seconds: float) -> None:
        rows.setdefault(name, []).append(seconds / n * 1e6)

    def read() -> list:
        programs = [q.program for q in load_clevr_questions(raw)]
        gc.freeze()  # loaded data, out of the cyclic GC's way as in the eval loop
        return programs

    for _ in range(args.repeats):
        t = clock()
        programs = [q.program for q in load_clevr_questions(raw)]
        record("read the programs (load_clevr_questions)", clock() - t)
        gc.freeze()
        t = clock()
        for p in programs:
            p.validate()
        record("Program.validate", clock() - t)
        forget_generated_code()
        executor = SymbolicExecutor()
        t = clock()
        for p in programs:
            executor.compile(p)
        record("compile: new executor, no generated code", clock() - t)
        programs = read()
        executor = SymbolicExecutor()
        t = clock()
        for p in programs:
            executor.compile(p)
        record("compile: new executor, generated code kept", clock() - t)
        programs = read()
        t = clock()
        for p in programs:
            executor.compile(p)
        record("compile: same executor, new Program objects", clock() - t)
    for name, values in rows.items():
        print(f"{name:<48} {statistics.median(values):8.2f} µs  ({min(values):.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
