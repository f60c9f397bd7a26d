"""``Reasoner.ask`` latency, this checkout against another version, interleaved in one run.

    .venv/bin/python benchmarks/ask_latency_ab.py OTHER_SRC [--questions 200] [--rounds 6]

``OTHER_SRC`` is a folder holding another version's ``nsreason`` package (a worktree, or
``git archive REV | tar -x -C DIR``); it runs in this checkout's virtual environment with
``PYTHONPATH=OTHER_SRC``. Each side is one long-lived worker process that loads
``Reasoner.default()`` (the CLEVR parser, the symbolic executor; the default KB loads only
for a knowledge question) and the first ``--questions`` CLEVR val questions (from
``../shared/data``: ordinary CLEVR questions on their scenes), answers them once untimed,
then times ``ask`` on each of them once per round. Rounds alternate the sides (A B B A ...)
so both see the same machine load; torch runs on one thread. Prints p50 and p95 per side
(over every timed ask) and the ratio B/A of the p50s, per round and over all.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("NSREASON_SHARED_DATA", REPO.parent / "shared" / "data"))


def worker(n: int) -> None:
    import torch

    torch.set_num_threads(1)
    import nsreason
    from nsreason.api import Reasoner
    from nsreason.datasets.clevr import load_clevr_questions
    from nsreason.scene.clevr import load_clevr_scenes

    scenes = {s.id: s for s in load_clevr_scenes(DATA / "clevr/val/CLEVR_val_scenes.json")}
    qs = load_clevr_questions(DATA / "clevr/val/CLEVR_val_questions.json")[:n]
    reasoner = Reasoner.default()
    pairs = [(scenes[q.image_index], q.question) for q in qs]
    answers = [str(reasoner.ask(s, q).value) for s, q in pairs]  # warm-up, untimed
    print(json.dumps({"ready": str(Path(nsreason.__file__).parent), "answers": answers}), flush=True)
    for line in sys.stdin:
        if line.strip() != "round":
            break
        times = []
        for s, q in pairs:
            t0 = time.perf_counter()
            reasoner.ask(s, q)
            times.append(time.perf_counter() - t0)
        print(json.dumps(times), flush=True)


def p(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * (len(xs) - 1)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("other", nargs="?", help="folder of the other version's sources (side A)")
    ap.add_argument("--questions", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.questions)
        return 0
    if not args.other:
        ap.error("give the other version's source folder")
    sides = {"A (other)": str(Path(args.other).resolve()), "B (this)": str(REPO)}
    procs = {}
    for name, src in sides.items():
        env = {**os.environ, "PYTHONPATH": src, "OMP_NUM_THREADS": "1"}
        procs[name] = subprocess.Popen([sys.executable, __file__, "--worker", "--questions", str(args.questions)],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=src)
    ready = {}
    for name, proc in procs.items():
        assert proc.stdout is not None
        ready[name] = json.loads(proc.stdout.readline())
        print(f"{name}: nsreason from {ready[name]['ready']}", flush=True)
    same = sum(a == b for a, b in zip(*(r["answers"] for r in ready.values()), strict=True))
    print(f"answers equal on {same}/{args.questions} questions\n", flush=True)
    times: dict[str, list[float]] = {name: [] for name in procs}
    order = list(procs)
    print("| round | A p50 ms | B p50 ms | B/A |\n|---|---|---|---|")
    for r in range(args.rounds):
        got = {}
        for name in order if r % 2 == 0 else order[::-1]:
            proc = procs[name]
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write("round\n")
            proc.stdin.flush()
            got[name] = json.loads(proc.stdout.readline())
            times[name] += got[name]
        a, b = (statistics.median(got[n]) * 1000 for n in order)
        print(f"| {r + 1} | {a:.2f} | {b:.2f} | {b / a:.3f} |", flush=True)
    for proc in procs.values():
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=60)
    a50, b50 = (statistics.median(times[n]) * 1000 for n in order)
    a95, b95 = (p(times[n], 0.95) * 1000 for n in order)
    print(f"\nall rounds: A p50 {a50:.2f} ms (p95 {a95:.2f}), B p50 {b50:.2f} ms (p95 {b95:.2f}); "
          f"B/A p50 {b50 / a50:.3f}, p95 {b95 / a95:.3f} ({len(times[order[0]])} asks a side)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
