"""Usage: .venv/bin/python benchmarks/cold_path_ab.py [PASSES]

In-process A/B: compiled path (run(compile(p)) / run_traced(compile(p))) vs the fused
cold path (run_program(p) / execute(p)), each on a new executor with freshly read programs
and the codegen memo emptied; CPU time; interleaved passes over CLEVR val generator."""

import gc
import json
import os
import statistics
import sys
import time

from nsreason.datasets.clevr import load_clevr_questions
from nsreason.execute import SymbolicExecutor, codegen
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
by_index = dict(enumerate(scenes))
sc = [by_index[q.image_index] for q in qs]
for s in sc:
    _ = s.index  # build the bitset index once per scene, not timed
gc.collect()
gc.freeze()


def loop(kind):
    codegen._GENERATED.clear()
    ex = SymbolicExecutor()
    progs = [q.program for q in load_clevr_questions(raw)]
    gc.freeze()
    idx = [s.index for s in sc]
    out = []
    ap = out.append
    if kind == "compiled":
        run, comp = ex.run, ex.compile
        t = time.process_time()
        for p, i in zip(progs, idx):
            ap(run(comp(p), i))
    elif kind == "fused":
        run = ex.run_program
        t = time.process_time()
        for p, i in zip(progs, idx):
            ap(run(p, i))
    elif kind == "compiled traced":
        run, comp = ex.run_traced, ex.compile
        t = time.process_time()
        for p, s in zip(progs, sc):
            a = run(comp(p), s)
            ap((a.value, a.failure))
    else:
        run = ex.execute
        t = time.process_time()
        for p, s in zip(progs, sc):
            a = run(p, s)
            ap((a.value, a.failure))
    dt = time.process_time() - t
    return dt / len(progs) * 1e6, out


kinds = ["compiled", "fused", "compiled traced", "fused traced"]
res = {k: [] for k in kinds}
outs = {}
n = int(sys.argv[1]) if len(sys.argv) > 1 else 9
for r in range(n):
    order = kinds if r % 2 == 0 else [kinds[1], kinds[0], kinds[3], kinds[2]]
    for k in order:
        us, out = loop(k)
        res[k].append(us)
        outs[k] = out
assert outs["compiled"] == outs["fused"], "untraced answers differ"
assert outs["compiled traced"] == outs["fused traced"], "traced answers differ"
for a, b in (("compiled", "fused"), ("compiled traced", "fused traced")):
    ratios = [x / y for x, y in zip(res[a], res[b])]
    print(f"{a:16s} median {statistics.median(res[a]):6.2f} us/q  min {min(res[a]):6.2f}")
    print(f"{b:16s} median {statistics.median(res[b]):6.2f} us/q  min {min(res[b]):6.2f}")
    print(f"  {b} speed-up, paired median over {n} passes: {statistics.median(ratios):.2f}x")
