"""The neural executor on noisy CLEVR scenes: accuracy, calibration, the GNN ablation, speed.

Data: the CLEVR val scenes (500) and the val generator questions (5,000, gold programs),
held out from training (the shipped weights are trained on CLEVR train scenes and
questions only). Each scene is made noisy by ``nsreason.datasets.clevr.noise``
(``noisy_scenes(scenes, level, seed)``: calibrated attribute confusions, jittered positions
with the relation probabilities they imply; above level 1.0 also dropped and spurious
objects with existence probabilities). Level 1.0 is issue 11's acceptance setting: the top
value right on about 96% of attributes, positions jittered, no dropped or spurious objects.

Tables:

1. **Noise levels**: per level, the symbolic executor on the scenes as it reads them (each
   attribute's most confident value, relations and objects at >= 0.5; a failure is wrong)
   against the neural executor (``--weights``, default the shipped ones): answer accuracy,
   expected calibration error of the answers' confidences (15 bins; a failure counts as
   wrong with confidence 0: ``nsreason.eval.calibration``) and mean confidence.
2. **Where the GNN earns its place** (level 1.0 attributes and jitter, then): as given;
   relations removed, positions kept; 2 spurious objects per scene on average; 1.5
   duplicate detections per scene on average (a second, confident detection of a real
   object next to it: only the neighbourhood tells); and level 2.0. Columns: the untrained
   model (it reads every scene exactly as stated: no learned correction), the model trained
   without message passing (``--no-mp-weights``, trained by ``nsreason train executor
   --no-message-passing`` with the same steps and seed) and the shipped one.
3. **Throughput**: ``NeuralExecutor.execute_many`` over the level-1.0 questions, untraced,
   for a few batch sizes, on this process's torch threads (``--threads``), CPU, and CUDA
   when present.

Run from the repository root::

    .venv/bin/python benchmarks/neural_executor.py --no-mp-weights build/executor-nomp
    .venv/bin/python benchmarks/neural_executor.py --limit 500 --levels 1 --skip ablation speed
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # _machine

from _machine import machine_info, machine_line, write_json

from nsreason.datasets.clevr import load_clevr_questions
from nsreason.datasets.clevr.noise import NoiseLevel, noisy_scene, noisy_scenes
from nsreason.eval.calibration import calibration_summary
from nsreason.execute.answer import answer_text
from nsreason.execute.symbolic import SymbolicExecutor
from nsreason.scene.clevr import load_clevr_scenes
from nsreason.scene.graph import SceneGraph

DATA = Path(
    os.environ.get("NSREASON_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
) / "clevr"


def symbolic_accuracy(questions: list[Any], scenes: dict[int, SceneGraph]) -> float:
    ex = SymbolicExecutor()
    right = 0
    for q in questions:
        a = ex.execute(q.program, scenes[q.image_index], trace=False)
        right += a.failure is None and answer_text(a.value) == q.answer
    return right / len(questions)


def neural_scores(executor: Any, questions: list[Any], scenes: dict[int, SceneGraph]) -> dict[str, float]:
    answers = executor.execute_many([(q.program, scenes[q.image_index]) for q in questions])
    right = [a.failure is None and answer_text(a.value) == q.answer for a, q in zip(answers, questions)]
    summary = calibration_summary([a.confidence for a in answers], right, [a.failure is not None for a in answers])
    assert summary is not None  # the neural executor gives every answer a confidence
    return {"accuracy": sum(right) / len(right), "ece": summary["ece"], "mean_confidence": summary["mean_confidence"]}


def without_relations(scene: SceneGraph) -> SceneGraph:
    return SceneGraph(scene.objects, (), id=scene.id, meta=scene.meta)


def main(argv: list[str] | None = None) -> int:
    import random

    import torch

    from nsreason.execute.neural import NeuralExecutor, load_model, new_model

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", default=None, help="neural executor model folder (default: the shipped one)")
    ap.add_argument("--no-mp-weights", default=None, help="the model trained without message passing (ablation)")
    ap.add_argument("--levels", type=float, nargs="+", default=[0.0, 0.5, 1.0, 1.5, 2.0])
    ap.add_argument("--seed", type=int, default=0, help="noise seed")
    ap.add_argument("--limit", type=int, default=None, help="first N questions")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 512])
    ap.add_argument("--skip", nargs="*", default=[], choices=["levels", "ablation", "speed"])
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    folder = DATA / "val"
    questions = load_clevr_questions(folder / "CLEVR_val_questions_generator.json")[: args.limit]
    clean = load_clevr_scenes(folder / "CLEVR_val_scenes.json")
    by_index = dict(enumerate(clean))
    needed = sorted({q.image_index for q in questions})
    base = [by_index[i] for i in needed]
    shipped = NeuralExecutor(load_model(args.weights), device="cpu")
    print(machine_line(results_machine := machine_info()))
    print(f"data: {folder}: {len(needed)} scenes, {len(questions)} questions (gold programs); noise seed {args.seed}; "
          f"torch threads {args.threads}\n")
    results: dict[str, Any] = {"machine": results_machine, "questions": len(questions), "seed": args.seed}

    if "levels" not in args.skip:
        rows = []
        print("| level | symbolic (top values) | neural | neural ECE | neural mean confidence |")
        print("|---:|---:|---:|---:|---:|")
        for level in args.levels:
            scenes = dict(zip(needed, noisy_scenes(base, level, args.seed)))
            sym = symbolic_accuracy(questions, scenes)
            neu = neural_scores(shipped, questions, scenes)
            rows.append({"level": level, "symbolic": sym, **{f"neural_{k}": v for k, v in neu.items()}})
            print(f"| {level:.1f} | {sym:.2%} | {neu['accuracy']:.2%} | {neu['ece']:.4f} "
                  f"| {neu['mean_confidence']:.3f} |")
        results["levels"] = rows
        print()

    if "ablation" not in args.skip:
        at1 = NoiseLevel.at(1.0)
        rng = random.Random(args.seed)
        conditions = {
            "level 1.0 as given": dict(zip(needed, noisy_scenes(base, 1.0, args.seed))),
            "level 1.0, relations removed (positions kept)": {
                i: without_relations(s) for i, s in zip(needed, noisy_scenes(base, 1.0, args.seed))},
            "level 1.0 + 2 spurious objects per scene": {
                i: noisy_scene(s, NoiseLevel(at1.attribute_error, at1.position_sigma, 0.0, 2.0), rng)
                for i, s in zip(needed, base)},
            "level 1.0 + 1.5 duplicate detections per scene": {
                i: noisy_scene(s, NoiseLevel(at1.attribute_error, at1.position_sigma, 0.0, 0.0, 1.5), rng)
                for i, s in zip(needed, base)},
            "level 2.0": dict(zip(needed, noisy_scenes(base, 2.0, args.seed))),
        }
        untrained = NeuralExecutor(new_model("clevr"), device="cpu")
        models: dict[str, Any] = {"untrained (reads scenes as stated)": untrained}
        if args.no_mp_weights:
            models["trained, no message passing"] = NeuralExecutor(load_model(args.no_mp_weights), device="cpu")
        models["trained, message passing (shipped)"] = shipped
        rows = []
        print("| condition | symbolic | " + " | ".join(models) + " |")
        print("|---|---:|" + "---:|" * len(models))
        for name, scenes in conditions.items():
            sym = symbolic_accuracy(questions, scenes)
            cells = []
            row: dict[str, Any] = {"condition": name, "symbolic": sym}
            for label, ex in models.items():
                s = neural_scores(ex, questions, scenes)
                row[label] = s
                cells.append(f"{s['accuracy']:.2%} (ECE {s['ece']:.3f})")
            rows.append(row)
            print(f"| {name} | {sym:.2%} | " + " | ".join(cells) + " |")
        results["ablation"] = rows
        print()

    if "speed" not in args.skip:
        scenes = dict(zip(needed, noisy_scenes(base, 1.0, args.seed)))
        pairs = [(q.program, scenes[q.image_index]) for q in questions]
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        rows = []
        print("| device | batch size | questions/s (best of 3) |")
        print("|---|---:|---:|")
        for device in devices:
            for bs in args.batch_sizes:
                ex = NeuralExecutor(shipped.model, device=device, batch_size=bs)
                ex.execute_many(pairs[: bs])  # warm-up
                best = 0.0
                for _ in range(3):
                    t0 = time.perf_counter()
                    ex.execute_many(pairs)
                    best = max(best, len(pairs) / (time.perf_counter() - t0))
                rows.append({"device": device, "batch_size": bs, "qps": best})
                print(f"| {device} | {bs} | {best:,.0f} |")
        results["speed"] = rows
    if args.json:
        write_json(json.dumps(results, indent=1), args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
