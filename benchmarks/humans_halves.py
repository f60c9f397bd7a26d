"""CLEVR-Humans held out by image: a parser fine-tuned on the questions of one half of the
images, answering the questions of the other half.

    .venv/bin/python benchmarks/humans_halves.py --even DIR --odd DIR [--limit N] [--json PATH]

``--even DIR``: a parser fine-tuned with ``nsreason train finetune --images even`` (so never
trained on a question about an odd-numbered image), scored on the questions of the odd
images; ``--odd DIR`` the other way round. ``make humans-halves`` makes both parsers from the
supervised checkpoint of ``make parser`` with the fine-tuning flags of the shipped parser and
runs this. ``--parser DIR --images even|odd`` scores any parser on one half.
``--min-confidence 0.05 0.3`` scores each parser at several refusal floors and counts the
questions a higher floor refuses that the first one answered right.

Questions: ``clevr-humans/CLEVR-Humans_train_questions.json`` (888, answers only) on
``CLEVR_train_scenes_1000.json`` from ../shared/data (or NSREASON_SHARED_DATA); the halves
are chosen by :func:`nsreason.train.split.in_images`, the rule ``--images`` trains with.
Answers go through ``Reasoner(parser).ask_many`` (execution-guided choice, refusal below
probability 0.05); a refusal counts as wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_info, machine_line, write_json

from nsreason.train.split import in_images, other_half

DATA = Path(os.environ.get("NSREASON_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def score_half(parser: str, images: str, *, min_confidence: float | None = None,
               limit: int | None = None) -> dict[str, Any]:
    """Answer accuracy of ``parser`` (a name or checkpoint folder) on the CLEVR-Humans
    questions about the ``images`` ("even", "odd" or "all") half of the images, refusing
    below ``min_confidence`` (default: the parser's own, 0.05). ``per_question`` holds
    (right, refused) of each question, in file order."""
    from nsreason.api import Reasoner
    from nsreason.datasets.clevr import load_clevr_questions
    from nsreason.parse import get_parser
    from nsreason.scene.clevr import load_clevr_scenes

    scenes = {s.id: s for s in load_clevr_scenes(DATA / "clevr-humans/CLEVR_train_scenes_1000.json")}
    qs = [q for q in load_clevr_questions(DATA / "clevr-humans/CLEVR-Humans_train_questions.json")
          if in_images(q.image_index, images)][:limit]
    model = get_parser(parser)
    if min_confidence is not None:
        model.min_confidence = min_confidence  # type: ignore[attr-defined]
    answers = Reasoner(model).ask_many([(scenes[q.image_index], q.question) for q in qs])
    right = [a.text == q.answer for a, q in zip(answers, qs)]
    refused = [a.failure is not None and a.failure.code == "could_not_parse" for a in answers]
    return {
        "parser": str(parser),
        "images": images,
        "min_confidence": getattr(model, "min_confidence", None),
        "questions": len(qs),
        "correct": sum(right),
        "accuracy": sum(right) / max(1, len(qs)),
        "could_not_parse": sum(refused),
        "per_question": list(zip(right, refused)),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--even", default=None, help="parser fine-tuned on even images: scored on odd ones")
    ap.add_argument("--odd", default=None, help="parser fine-tuned on odd images: scored on even ones")
    ap.add_argument("--parser", default=None, help="any parser, scored on --images")
    ap.add_argument("--images", choices=["all", "even", "odd"], default="all")
    ap.add_argument("--min-confidence", type=float, nargs="+", default=None,
                    help="refusal floors to score at (default: the parser's own); with several, "
                    "each later floor is compared with the first: questions newly refused, and "
                    "how many of them the first floor answered right")
    ap.add_argument("--limit", type=int, default=None, help="first N questions of each half")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    runs = [(d, half, other_half(half)) for d, half in ((args.even, "even"), (args.odd, "odd")) if d]
    if args.parser:
        runs.append((args.parser, "-", args.images))
    if not runs:
        ap.error("give --even DIR and/or --odd DIR, or --parser DIR")

    import torch

    torch.set_num_threads(2)
    info = machine_info()
    print(machine_line(info), flush=True)
    floors = args.min_confidence or [None]
    results = []
    for parser, trained, tested in runs:
        base = None
        for floor in floors:
            r = {**score_half(parser, tested, min_confidence=floor, limit=args.limit), "trained_on": trained}
            if base is None:
                base = r
            else:
                newly = [b for (_, now), (b, before) in zip(r["per_question"], base["per_question"])
                         if now and not before]
                r["newly_refused"], r["newly_refused_right_before"] = len(newly), sum(newly)
            results.append(r)
    rows = [("parser", "fine-tuned on images", "questions of images", "refusal floor", "questions",
             "answer acc", "could not parse", "newly refused (right before)")]
    for r in results:
        extra = "-" if "newly_refused" not in r else f"{r['newly_refused']} ({r['newly_refused_right_before']})"
        rows.append((r["parser"], r["trained_on"], r["images"], f"{r['min_confidence']}", f"{r['questions']:,}",
                     f"{100 * r['accuracy']:.2f}%", str(r["could_not_parse"]), extra))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    held_out = [r for r in results if r["trained_on"] in ("even", "odd")
                and r["min_confidence"] == results[0]["min_confidence"]]
    if len(held_out) == 2:
        mean = sum(r["accuracy"] for r in held_out) / 2
        pooled = sum(r["correct"] for r in held_out) / max(1, sum(r["questions"] for r in held_out))
        print(f"\nheld out, mean of the two halves: {100 * mean:.2f}%; pooled over "
              f"{sum(r['questions'] for r in held_out)} questions: {100 * pooled:.2f}%")
    if args.json:
        for r in results:
            r.pop("per_question")
        write_json(json.dumps({"machine": info, "results": results}, indent=2), args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
