"""The symbolic executor on noisy CLEVR scenes: accuracy on each attribute's top value.

For each noise level (default 0, 0.5, 1.0, 1.5; :meth:`NoiseLevel.at`) the CLEVR val scenes
are made noisy with ``noisy_scenes(scenes, level, seed)`` (calibrated attribute confusions,
jittered positions and the relation probabilities they imply; above level 1.0 also dropped
and spurious objects with existence confidences: see ``nsreason.datasets.clevr.noise``).
The val generator questions are then answered with their gold programs by
``SymbolicExecutor`` on those scenes, which reads each attribute's most confident value and
relations and objects at confidence >= 0.5 (``nsreason.scene.index``). Reported per level:

* ``accuracy``: answers equal to the file's answer (a failure counts as wrong);
* ``attr top-1``: how often an attribute's top value is the true one (real objects present
  in the noisy scene, every key);
* ``rel agree``: how often the executor's reading of a relation (confidence >= 0.5) agrees
  with the clean scene, over every ordered pair of real objects present and every
  predicate of left/right/front/behind;
* ``rel ECE``: expected calibration error (10 bins) of the listed relations' confidences
  between real objects, against the clean scene;
* ``failed``: the share of questions whose program failed, then the share of each failure
  code among all questions (``not_unique``...).

No training and no held-out split are involved: the simulator has no parameters fitted to
these scenes (its scales are solved from the target error rates), so every figure is
in-sample on val only in the sense that it is measured there.

Run from the repository root::

    .venv/bin/python benchmarks/noisy_symbolic.py
    .venv/bin/python benchmarks/noisy_symbolic.py --levels 0 1 2 --seed 3 --json out.json
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # _machine

from _machine import machine_info, machine_line, write_json

from nsreason.datasets.clevr import load_clevr_questions
from nsreason.datasets.clevr.noise import PREDICATES, NoiseLevel, noisy_scenes
from nsreason.execute.answer import answer_text
from nsreason.execute.symbolic import SymbolicExecutor, decode_value
from nsreason.scene.clevr import CLEVR_ATTRIBUTES, load_clevr_scenes
from nsreason.scene.graph import SceneGraph

DATA = Path(
    os.environ.get("NSREASON_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
) / "clevr"


def attribute_accuracy(clean: list[SceneGraph], noisy: list[SceneGraph]) -> tuple[int, int]:
    """(right, total) top values over real objects present in the noisy scenes."""
    right = total = 0
    for c, n in zip(clean, noisy):
        for obj in n.objects:
            if not c.has_object(obj.id):
                continue  # a spurious object has no true value
            truth = c.object(obj.id)
            for key in CLEVR_ATTRIBUTES:
                total += 1
                right += obj.get(key) == truth.get(key)  # get: the first = the top value
    return right, total


def relation_agreement(clean: list[SceneGraph], noisy: list[SceneGraph]) -> tuple[int, int]:
    """(agreeing, total) decisions of the executor's reading (confidence >= 0.5) against
    the clean scene, over ordered pairs of real objects present and left/right/front/behind."""
    agree = total = 0
    for c, n in zip(clean, noisy):
        truth = {(r.subject, r.predicate, r.object) for r in c.relations}
        read = {
            (r.subject, r.predicate, r.object)
            for r in n.relations
            if r.confidence is None or r.confidence >= 0.5
        }
        real = [o.id for o in n.objects if c.has_object(o.id)]
        for s in real:
            for o in real:
                if s != o:
                    for p in PREDICATES:
                        total += 1
                        agree += ((s, p, o) in truth) == ((s, p, o) in read)
    return agree, total


def relation_ece(clean: list[SceneGraph], noisy: list[SceneGraph], bins: int = 10
                 ) -> float | None:
    """Expected calibration error of the listed relations' confidences (between real
    objects) against the clean scene, equal-width bins."""
    table = [[0, 0.0, 0] for _ in range(bins)]
    for c, n in zip(clean, noisy):
        truth = {(r.subject, r.predicate, r.object) for r in c.relations}
        for r in n.relations:
            if r.confidence is None or not (c.has_object(r.subject) and c.has_object(r.object)):
                continue
            b = table[min(int(r.confidence * bins), bins - 1)]
            b[0] += 1
            b[1] += r.confidence
            b[2] += (r.subject, r.predicate, r.object) in truth
    total = sum(b[0] for b in table)
    return sum(abs(b[1] - b[2]) for b in table) / total if total else None


def measure(level: float, seed: int, clean: list[SceneGraph], questions: list[Any],
            executor: SymbolicExecutor, compiled: list[Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    noisy = noisy_scenes(clean, level, seed)
    simulate_seconds = time.perf_counter() - t0
    by_id = {s.id: s for s in noisy}
    correct = 0
    codes: collections.Counter[str] = collections.Counter()
    t0 = time.perf_counter()
    for q, c in zip(questions, compiled):
        scene = by_id[q.image_index]
        value, failure = executor.run(c, scene.index)
        if failure is not None:
            codes[failure.code] += 1
        elif answer_text(decode_value(value, c.kinds[-1], scene.index)) == q.answer:
            correct += 1
    execute_seconds = time.perf_counter() - t0
    right, total = attribute_accuracy(clean, noisy)
    agree, pairs = relation_agreement(clean, noisy)
    rel_ece = relation_ece(clean, noisy)
    n = len(questions)
    return {
        "level": level,
        "noise": dict(noisy[0].meta["noise"]) if noisy else NoiseLevel.at(level).__dict__,
        "questions": n,
        "correct": correct,
        "accuracy": correct / n,
        "attribute_top1": right / total,
        "attributes": total,
        "relation_agreement": agree / pairs if pairs else None,
        "relation_ece": rel_ece,
        "failed": sum(codes.values()) / n,
        "failure_codes": {k: v / n for k, v in codes.most_common()},
        "objects": sum(len(s) for s in noisy),
        "simulate_seconds": simulate_seconds,
        "execute_seconds": execute_seconds,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--levels", type=float, nargs="+", default=[0.0, 0.5, 1.0, 1.5])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--split", default="val")
    ap.add_argument("--json", default=None, help="write the results as JSON (- for stdout)")
    args = ap.parse_args(argv)

    scenes_path = DATA / args.split / f"CLEVR_{args.split}_scenes.json"
    questions_path = DATA / args.split / f"CLEVR_{args.split}_questions_generator.json"
    info = machine_info()
    print(machine_line(info))
    print(f"data: {scenes_path}, {questions_path}")
    clean = load_clevr_scenes(scenes_path)
    questions = [q for q in load_clevr_questions(questions_path) if q.program is not None]
    executor = SymbolicExecutor()
    compiled = [executor.compile(q.program) for q in questions]
    print(f"{len(clean)} scenes, {len(questions)} questions (gold programs), seed {args.seed}\n")

    results = [measure(lv, args.seed, clean, questions, executor, compiled)
               for lv in args.levels]
    codes = sorted({k for r in results for k in r["failure_codes"]},
                   key=lambda k: -max(r["failure_codes"].get(k, 0.0) for r in results))
    head = ["level", "attr err", "sigma", "drop", "spurious", "accuracy", "attr top-1",
            "rel agree", "rel ECE", "failed", *codes]
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---:" for _ in head) + "|")
    for r in results:
        nz = r["noise"]
        cells = [f"{r['level']:.1f}", f"{nz['attribute_error']:.2f}",
                 f"{nz['position_sigma']:.3f}", f"{nz['drop']:.3f}", f"{nz['spurious']:.2f}",
                 f"{100 * r['accuracy']:.2f}%", f"{100 * r['attribute_top1']:.2f}%",
                 f"{100 * r['relation_agreement']:.2f}%", f"{r['relation_ece']:.4f}",
                 f"{100 * r['failed']:.2f}%",
                 *(f"{100 * r['failure_codes'].get(k, 0.0):.2f}%" for k in codes)]
        print("| " + " | ".join(cells) + " |")
    print("\nsimulation s / execution s per level: "
          + ", ".join(f"{r['level']:.1f}: {r['simulate_seconds']:.2f} / "
                      f"{r['execute_seconds']:.2f}" for r in results))
    if args.json:
        write_json(json.dumps({"machine": info, "seed": args.seed, "split": args.split,
                               "results": results}, indent=2), args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
