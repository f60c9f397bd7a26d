"""FVQA held out by image: the full knowledge pipeline on images whose questions the ranker
never saw. This is the honest proxy for FVQA's hidden test images (split 0's test images
are not in ../shared/data).

    nice -n 5 .venv/bin/python benchmarks/fvqa_heldout.py [--folds 5] [--seed 0] [--json PATH]

Data: FVQA split 0 train (``questions_train0.json``, 3,048 questions on 1,090 images), each
image's scene its cluttered concepts (``concepts_train0_cluttered.json``: the annotated
concepts plus 4 distractors), the bundled default KB. The images are dealt into
``--folds`` seeded folds (:func:`nsreason.train.ranker.image_folds`); for each fold:

1. a ranker is fitted (:func:`nsreason.train.ranker.fit_ranker`, the recipe of
   ``nsreason train ranker``) on the *other* folds' questions only: its relation and side
   classifiers, its source prior and its scorer see no held-out question, answer or fact
   choice;
2. the held-out fold's questions go through the pipeline ``Reasoner`` runs
   (:func:`nsreason.eval.fvqa.evaluate_fvqa`: the retriever with that ranker, 20 leading
   candidates typed, the answer-type check, ``kb_answer``'s refusal at
   :data:`nsreason.retrieve.ops.MIN_PROBABILITY`).

Reported per fold and as mean ± standard deviation over folds: ``ranker`` (the top-1 answer,
always given), ``reasoner`` (the answer ``Reasoner`` gives, refusals counted wrong), the
refusal rate, and the accuracy of the answers given; then what other refusal thresholds
would have given (the same held-out answers, so the threshold can be chosen here, not
in-sample).

Candidates are collected once for every question (the retriever's per-question
computation from the KB and MiniLM: nothing in it is fitted, and a fold's fit reads only
its training questions' candidates). MiniLM runs on one CPU thread.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_info, machine_line

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("NSREASON_SHARED_DATA", REPO.parent / "shared" / "data")) / "fvqa"
THRESHOLDS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)
"""Refusal thresholds the held-out answers are also scored at (mean over folds)."""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", default=str(DATA / "questions_train0.json"))
    ap.add_argument("--concepts", default=str(DATA / "concepts_train0_cluttered.json"))
    ap.add_argument("--kb", action="append", default=[], help="KB specs (default: the bundled KB)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=None, help="only the first N questions (a quick check)")
    ap.add_argument("--json", help="also write the report here")
    args = ap.parse_args(argv)

    import numpy as np
    import torch

    from nsreason.datasets.fvqa import answers_match, load_fvqa_concepts, load_fvqa_questions
    from nsreason.eval.fvqa import evaluate_fvqa
    from nsreason.retrieve.ops import MIN_PROBABILITY
    from nsreason.retrieve.setup import load_kbs
    from nsreason.train.ranker import _untrained, collect_candidates, fit_ranker, image_folds

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    qs = load_fvqa_questions(args.questions)[: args.limit]
    scenes = load_fvqa_concepts(args.concepts)
    kb, key = load_kbs(args.kb)
    base = _untrained(kb, key)
    vectors = np.asarray(base.store.get([q.question for q in qs]))
    candidates = collect_candidates(base, qs, scenes, vectors)
    base.store.save()
    collect_s = time.perf_counter() - t0
    fold_of = image_folds([q.image for q in qs], args.folds, args.seed)
    rows: list[dict[str, Any]] = []
    for k in range(args.folds):
        train = [i for i, q in enumerate(qs) if fold_of[q.image] != k]
        held = [i for i, q in enumerate(qs) if fold_of[q.image] == k]
        t1 = time.perf_counter()
        ranker = fit_ranker([qs[i] for i in train], [candidates[i] for i in train], vectors[train])
        fit_s = time.perf_counter() - t1
        seen: list[tuple[float, bool, bool]] = []  # (top answer's probability, type_match, right)

        def record(q: Any, r: Any, refusal: str | None, seen: list[tuple[float, bool, bool]] = seen) -> None:
            best = r.best
            if best is None:
                seen.append((-1.0, False, False))
            else:
                seen.append((best.probability, best.type_match, answers_match(best.answer, q.answer)))

        report = evaluate_fvqa(base.with_ranker(ranker), [qs[i] for i in held], scenes,
                               question_vectors=vectors[held], on_result=record)
        sweep, refused_at = {}, {}
        for t in THRESHOLDS:
            given = [(p >= t or tm) and p >= 0 for p, tm, _ in seen]
            sweep[str(t)] = sum(g and ok for g, (_, _, ok) in zip(given, seen)) / max(len(seen), 1)
            refused_at[str(t)] = 1 - sum(given) / max(len(seen), 1)
        rows.append({"fold": k, "train_questions": len(train), "questions": len(held),
                     "images": len({qs[i].image for i in held}),
                     "ranker": report["ranker"]["accuracy"],
                     "fact_recall@1": report["ranker"]["fact_recall@1"],
                     "reasoner": report["reasoner"]["accuracy"],
                     "refusal_rate": report["reasoner"]["refusal_rate"],
                     "answered_accuracy": report["reasoner"]["accuracy_of_answered"],
                     "reasoner_at": sweep, "refused_at": refused_at, "fit_seconds": round(fit_s, 1)})
        print(f"fold {k}: ranker {rows[-1]['ranker']:.2%}, reasoner {rows[-1]['reasoner']:.2%} "
              f"(refused {rows[-1]['refusal_rate']:.1%})", file=sys.stderr, flush=True)

    def mean_sd(name: str) -> tuple[float, float]:
        values = [r[name] for r in rows]
        return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)

    info = machine_info()
    command = "python benchmarks/fvqa_heldout.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"# FVQA held out by image ({args.folds} folds of the images, seed {args.seed})")
    print(f"data: {args.questions} ({len(qs)} questions, {len({q.image for q in qs})} images), "
          f"scenes {Path(args.concepts).name}, KB {args.kb or ['default']}")
    print("setting: each fold answered by a ranker fitted on the other folds' questions only; "
          f"full pipeline (Retriever, kb_answer refusal below probability {MIN_PROBABILITY})")
    print(machine_line(info))
    print(f"command: {command.strip()}")
    print()
    print("| fold | images | questions | ranker top-1 | Reasoner (refusals wrong) | refused | right when answered |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['fold']} | {r['images']} | {r['questions']} | {r['ranker']:.2%} | {r['reasoner']:.2%} "
              f"| {r['refusal_rate']:.1%} | {r['answered_accuracy']:.2%} |")
    summary = {name: mean_sd(name) for name in ("ranker", "reasoner", "refusal_rate", "answered_accuracy")}
    print(f"| **mean ± sd** | | {len(qs)} | **{summary['ranker'][0]:.2%} ± {summary['ranker'][1]:.2%}** "
          f"| **{summary['reasoner'][0]:.2%} ± {summary['reasoner'][1]:.2%}** "
          f"| {summary['refusal_rate'][0]:.1%} | {summary['answered_accuracy'][0]:.2%} |")
    print()
    print("Reasoner accuracy (refusals wrong) had kb_answer refused below probability t, same held-out answers:")
    print("| t | " + " | ".join(str(t) for t in THRESHOLDS) + " |")
    print("| --- |" + " ---: |" * len(THRESHOLDS))
    print("| accuracy | " + " | ".join(f"{statistics.mean(r['reasoner_at'][str(t)] for r in rows):.2%}"
                                       for t in THRESHOLDS) + " |")
    print("| refused | " + " | ".join(f"{statistics.mean(r['refused_at'][str(t)] for r in rows):.1%}"
                                      for t in THRESHOLDS) + " |")
    total_s = time.perf_counter() - t0
    print(f"\ncollecting candidates {collect_s:.0f} s, total {total_s:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "machine": info, "command": command.strip(), "folds": args.folds, "seed": args.seed,
            "questions": len(qs), "min_probability": MIN_PROBABILITY, "rows": rows,
            "mean_sd": summary, "seconds": round(total_s, 1)}, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
