"""Usage: .venv/bin/python benchmarks/cold_path_ab_warm.py [PASSES]

In-process A/B on a warm executor (compiled every val program at load with code
generated, generate_after=0), freshly read programs: run(compile(p)) vs run_program(p);
CPU time; interleaved passes."""

import gc
import json
import os
import statistics
import sys
import time

from nsreason.datasets.clevr import load_clevr_questions
from nsreason.execute import SymbolicExecutor
from nsreason.scene.clevr import load_clevr_scenes

D = os.path.join(
    os.environ.get(
        "NSREASON_SHARED_DATA", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")
    ),
    "clevr",
    "val",
    "",
)
with open(D + "CLEVR_val_questions_generator.json", encoding="utf-8") as fh:
    raw = json.load(fh)
qs = load_clevr_questions(raw)
scenes = load_clevr_scenes(D + "CLEVR_val_scenes.json")
idx = [scenes[q.image_index].index for q in qs]
ex = SymbolicExecutor(generate_after=0)
for q in qs:
    ex.compile(q.program)
gc.collect()
gc.freeze()


def loop(kind):
    progs = [q.program for q in load_clevr_questions(raw)]
    gc.freeze()
    out = []
    ap = out.append
    if kind == "compiled":
        run, comp = ex.run, ex.compile
        t = time.process_time()
        for p, i in zip(progs, idx):
            ap(run(comp(p), i))
    else:
        run = ex.run_program
        t = time.process_time()
        for p, i in zip(progs, idx):
            ap(run(p, i))
    return (time.process_time() - t) / len(progs) * 1e6, out


res = {"compiled": [], "fused": []}
outs = {}
n = int(sys.argv[1]) if len(sys.argv) > 1 else 9
for r in range(n):
    for k in ["compiled", "fused"] if r % 2 == 0 else ["fused", "compiled"]:
        us, out = loop(k)
        res[k].append(us)
        outs[k] = out
assert outs["compiled"] == outs["fused"]
for k, times in res.items():
    print(f"warm {k:9s} median {statistics.median(times):6.2f} us/q  min {min(times):6.2f}")
print(
    f"  fused speed-up, paired median over {n} passes: "
    f"{statistics.median([a / b for a, b in zip(res['compiled'], res['fused'])]):.2f}x"
)
