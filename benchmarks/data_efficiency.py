"""Data efficiency (NS-VQA's setting): the parser trained on 3 annotated programs per CLEVR
template family (270 programs), then on question–answer pairs alone through the executor.

    .venv/bin/python benchmarks/data_efficiency.py [--qa N] [--rounds R] [--eval N] [--threads T] [--json PATH]

Data (from ../shared/data, or NSREASON_SHARED_DATA):

* programs: ``--per-family`` (3) questions of each of the 90 template families
  (``template_filename`` + ``question_family_index``) of ``clevr/train`` (release format),
  drawn with ``--seed``;
* question–answer pairs: ``--qa`` of the other train questions (default: all of them),
  shuffled with ``--seed``; their programs are never read;
* evaluation: the first ``--eval`` questions of ``clevr/val`` (release format): answer
  accuracy (a question the parser cannot parse is wrong) and program accuracy (exact match
  with the canonical gold program), after supervised training (round 0) and after every
  round of answer-only training. No round is picked on the evaluation set: the last
  round is the result.

``--substitute K`` adds K copies of each annotated pair with its attribute values renamed
consistently in question and program (no new annotation; off by default).

Recipe: :func:`nsreason.train.finetune.train_with_few_programs` (supervised training with
:func:`~nsreason.train.parser.train_parser` on the few programs, then
:func:`~nsreason.train.finetune.finetune_on_answers`: per round a beam search for programs
whose answer is the gold answer, cross-entropy on the most probable one per question, the
few programs replayed).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_info, machine_line, write_json

from nsreason.datasets.clevr import load_clevr_questions
from nsreason.jsonio import read_json
from nsreason.scene.clevr import load_clevr_scenes

DATA = Path(os.environ.get("NSREASON_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def few_per_family(raw: list[dict[str, Any]], per_family: int, seed: int) -> list[int]:
    """Indices of ``per_family`` questions drawn from each template family."""
    families: dict[tuple[Any, Any], list[int]] = defaultdict(list)
    for i, q in enumerate(raw):
        families[(q.get("template_filename"), q.get("question_family_index"))].append(i)
    rng = random.Random(seed)
    chosen = []
    for key in sorted(families, key=str):
        members = families[key]
        chosen += rng.sample(members, min(per_family, len(members)))
    return sorted(chosen)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-family", type=int, default=3, help="annotated programs per template family (3)")
    ap.add_argument("--qa", type=int, default=None, help="question-answer pairs (default: every other train question)")
    ap.add_argument("--eval", type=int, default=5000, help="val questions to evaluate on (5000)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of answer-only training (3)")
    ap.add_argument("--beam", type=int, default=10, help="beam of the search for consistent programs (10)")
    ap.add_argument("--epochs-per-round", type=int, default=2)
    ap.add_argument("--substitute", type=int, default=0,
                    help="also train on K copies of each annotated pair with its attribute values renamed "
                    "(nsreason.datasets.clevr.augment.substitute_values; 0: NS-VQA's setting as is)")
    ap.add_argument("--supervised-epochs", type=int, default=100)
    ap.add_argument("--supervised-lr", type=float, default=2e-3)
    ap.add_argument("--lr", type=float, default=5e-4, help="learning rate of answer-only training")
    ap.add_argument("--objective", choices=("hard", "mml"), default="hard")
    ap.add_argument("--min-score", type=float, default=0.0,
                    help="train only on questions whose best consistent program has at least this probability")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="checkpoint folder (default: a temporary one)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)

    import torch

    from nsreason.train.finetune import AnswerExample, train_with_few_programs

    torch.set_num_threads(args.threads)
    info = machine_info()
    print(machine_line(info), flush=True)
    started = time.perf_counter()

    raw_train = read_json(DATA / "clevr/train/CLEVR_train_questions.json")
    train = load_clevr_questions(raw_train)
    train_scenes = {s.id: s for s in load_clevr_scenes(DATA / "clevr/train/CLEVR_train_scenes.json")}
    few_idx = few_per_family(raw_train["questions"], args.per_family, args.seed)
    few_set = set(few_idx)
    rest = [i for i in range(len(train)) if i not in few_set]
    random.Random(args.seed).shuffle(rest)
    rest = rest[: args.qa]
    few_pairs = [(train[i].question, train[i].program) for i in few_idx]
    if args.substitute:
        from nsreason.datasets.clevr.augment import substitute_values

        rng = random.Random(args.seed)
        variants = [v for q, p in few_pairs for _ in range(args.substitute)
                    if (v := substitute_values(q, p, rng)) is not None]
        print(f"{len(variants):,} value-renamed copies of the annotated pairs", flush=True)
        few_pairs = few_pairs + variants
    # the QA pairs carry their programs only for a diagnostic count (how often the chosen
    # consistent program is the gold one); finetune_on_answers never trains on them
    qa = [AnswerExample(train[i].question, train_scenes[train[i].image_index], train[i].answer, train[i].program)
          for i in rest]

    val_scenes = {s.id: s for s in load_clevr_scenes(DATA / "clevr/val/CLEVR_val_scenes.json")}
    val = load_clevr_questions(DATA / "clevr/val/CLEVR_val_questions.json")[: args.eval]
    evaluation = [AnswerExample(q.question, val_scenes[q.image_index], q.answer, q.program) for q in val]
    families = len({(q.get("template_filename"), q.get("question_family_index")) for q in raw_train["questions"]})
    print(
        f"{len(few_idx)} programs ({args.per_family} per family, {families} families), "
        f"{len(qa):,} question-answer pairs, {len(evaluation):,} val questions; "
        f"loaded in {time.perf_counter() - started:.1f} s\n",
        flush=True,
    )

    def log(line: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f} s] {line}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out or tmp)
        _, report = train_with_few_programs(
            few_pairs, qa, out, dev=evaluation, supervised_epochs=args.supervised_epochs,
            supervised_lr=args.supervised_lr,
            rounds=args.rounds, beam=args.beam, epochs_per_round=args.epochs_per_round, lr=args.lr,
            objective=args.objective, min_score=args.min_score, seed=args.seed, threads=args.threads, log=log,
        )
    total = time.perf_counter() - started

    rows = [("stage", "answer acc", "program acc", "could not parse", "answer acc (best)", "program acc (best)",
             "QA with a consistent program", "trained on", "of which gold", "seconds")]
    sup_seconds = report["supervised"]["seconds"]
    for r in report["finetune"]["rounds"]:
        dev = r["dev"]
        stage = f"{len(few_idx)} programs (supervised)" if r["round"] == 0 else f"+ answers, round {r['round']}"
        consistent = "-" if r["round"] == 0 else f"{r['consistent']:,} / {r['questions']:,}"
        gold = "-" if r["round"] == 0 else f"{r['consistent_correct']:,}"
        trained = "-" if r["round"] == 0 else f"{r['trained']:,}"
        seconds = sup_seconds if r["round"] == 0 else r["seconds"]
        rows.append((stage, f"{100 * dev['accuracy']:.2f}%", f"{100 * dev['program_accuracy']:.2f}%",
                     f"{dev['could_not_parse']:,}", f"{100 * dev['best_accuracy']:.2f}%",
                     f"{100 * dev['best_program_accuracy']:.2f}%", consistent, trained, gold, f"{seconds:,.0f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, r in enumerate(rows):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    added = report["finetune"]["added_words"]
    print(f"\nwords added from the QA questions: {len(added)}; total {total:,.0f} s "
          f"({args.threads} torch threads, beam {args.beam}, {args.objective} EM, lr {args.lr})")
    if args.json:
        payload = {"machine": info, "args": vars(args), "programs": len(few_idx), "qa_pairs": len(qa),
                   "eval_questions": len(evaluation), "seconds": total, **report}
        write_json(json.dumps(payload, indent=2, default=str), args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
