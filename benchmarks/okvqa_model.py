"""OK-VQA the way a user runs it: train once (``nsreason train okvqa``), save, evaluate the
saved model on held-out images (``nsreason eval okvqa --model DIR``), the answer prior
beside it in the same run.

    nice -n 5 .venv/bin/python benchmarks/okvqa_model.py [--detections FILE ...] [--answerer kb-without-kb]
        [--held-out 0.2] [--seed 0] [--work DIR] [--json PATH]

Only OK-VQA's train split is here, so the held-out set is made from it by image: the train
questions' images are shuffled (``--seed``) and ``--held-out`` of them (20%) are set aside
with all their questions; the rest are written to question and answer files under
``--work`` and the model is trained from those files by
:func:`nsreason.train.okvqa.train_okvqa` (what ``nsreason train okvqa`` runs), saved, and
loaded again by :func:`nsreason.eval.okvqa.evaluate_okvqa` with ``model=`` (what
``nsreason eval okvqa --model`` runs) to answer the held-out questions. No held-out question
or image is seen in training. The default detections are ImageNet's only (OK-VQA's val
split, the real held-out set, has only those). The priors are fitted on the same training
questions (``--prior-from``) and answer the same held-out ones.

Scores: official VQA accuracy (soft ``min(1, n/3)`` in brackets).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_info, machine_line, write_json

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("NSREASON_SHARED_DATA", REPO.parent / "shared" / "data")) / "okvqa"


def split_files(work: Path, held_out: float, seed: int, limit: int | None = None) -> dict[str, Any]:
    """Write the train and held-out question and answer files (split by image) to ``work``
    (``limit``: only that many of the shuffled images, for a smoke test)."""
    questions = json.loads((DATA / "questions_train.json").read_text(encoding="utf-8"))
    answers = json.loads((DATA / "answers_train.json").read_text(encoding="utf-8"))
    images = sorted({q["image_id"] for q in questions["questions"]})
    random.Random(seed).shuffle(images)
    images = images[:limit] if limit else images
    held = set(images[: round(len(images) * held_out)])
    held_qids = {q["question_id"] for q in questions["questions"] if q["image_id"] in held}
    used = set(images)
    questions["questions"] = [q for q in questions["questions"] if q["image_id"] in used]
    answers = [a for a in answers if a["question_id"] in {q["question_id"] for q in questions["questions"]}]
    work.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"images": {"train": len(images) - len(held), "held_out": len(held)}}
    for part, keep in (("train", lambda qid: qid not in held_qids), ("held_out", lambda qid: qid in held_qids)):
        qs = {**questions, "questions": [q for q in questions["questions"] if keep(q["question_id"])]}
        ans = [a for a in answers if keep(a["question_id"])]
        out[part] = {"questions": work / f"questions_{part}.json", "answers": work / f"answers_{part}.json",
                     "n": len(qs["questions"])}
        out[part]["questions"].write_text(json.dumps(qs), encoding="utf-8")
        out[part]["answers"].write_text(json.dumps(ans), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--detections", nargs="+", default=[str(DATA / "detected_imagenet_objects.json")])
    ap.add_argument("--answerer", default="kb-without-kb", choices=["kb", "kb-without-kb"])
    ap.add_argument("--held-out", type=float, default=0.2, help="share of the images held out (0.2)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the image split and of the training (0)")
    ap.add_argument("--work", default="build/okvqa-heldout", help="where the split files and the model go")
    ap.add_argument("--images", type=int, default=None, help="only this many images in all (a smoke test)")
    ap.add_argument("--json", default=None, help="write every number to this file ('-': stdout)")
    args = ap.parse_args(argv)

    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    threadpool_limits(1)
    from nsreason.eval.okvqa import evaluate_okvqa
    from nsreason.okvqa import PriorPlugin
    from nsreason.train.okvqa import train_okvqa

    machine = machine_info()
    given = argv if argv is not None else sys.argv[1:]
    command = shlex.join([".venv/bin/python", "benchmarks/okvqa_model.py", *given])
    t0 = time.perf_counter()
    work = Path(args.work)
    split = split_files(work, args.held_out, args.seed, args.images)
    train, held = split["train"], split["held_out"]
    model_dir = work / "model"
    train_command = shlex.join(["nsreason", "train", "okvqa", "--questions", str(train["questions"]),
                                "--answers", str(train["answers"]), "--detections", *args.detections,
                                "--out", str(model_dir), "--answerer", args.answerer, "--seed", str(args.seed)])
    print(f"training: {train_command}", file=sys.stderr, flush=True)
    trained = train_okvqa(train["questions"], train["answers"], args.detections, model_dir, answerer=args.answerer,
                          seed=args.seed, command=train_command,
                          log=lambda line: print(line, file=sys.stderr, flush=True))
    rows: list[dict[str, Any]] = []

    def run(setting: str, **kw: Any) -> None:
        report = evaluate_okvqa(held["questions"], held["answers"], args.detections, **kw)
        rows.append({"setting": setting, "accuracy": report["accuracy"], "soft_accuracy": report["soft_accuracy"],
                     "questions": report["questions"], "answered": report["answered"],
                     "images_without_detections": report["images_without_detections"],
                     "answer_seconds": round(report["answer_seconds"], 1)})
        print(f"{setting}: {report['accuracy']:.4f}", file=sys.stderr, flush=True)

    run(f"saved `{args.answerer}` model (--model)", model=model_dir)
    run("answer prior (`prior`: 3-word prefixes, >= 5 questions)", answerer="prior", prior_from=train["answers"])
    run("answer prior (4-word prefixes, >= 1 question)", answerer=PriorPlugin(max_words=4, min_support=1),
        prior_from=train["answers"])
    sources = ", ".join(f"{k} ({v} images)" for k, v in trained["provenance"]["detection_sources"].items())
    print(f"data: OK-VQA v1.0 train split (../shared/data/okvqa), images split by image_id (seed {args.seed}): "
          f"{train['n']} questions on {split['images']['train']} images to train, {held['n']} questions on "
          f"{split['images']['held_out']} other images held out")
    print(f"setting: scenes of detector labels only (no pixels): {sources}; the model is trained once "
          f"and saved, then loaded to answer")
    print("held out: yes, by image (no held-out question or image seen in training)")
    print(machine_line(machine))
    print(f"command: {command}")
    print(f"train step: {train_command} ({trained['provenance']['fit_seconds']:.0f} s fitting)")
    print()
    print("| answerer | VQA accuracy | soft | questions | answering (s) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['setting']} | {100 * r['accuracy']:.2f}% | {100 * r['soft_accuracy']:.2f}% | "
              f"{r['questions']} | {r['answer_seconds']} |")
    print(f"\ntotal: {time.perf_counter() - t0:.0f} s")
    if args.json:
        write_json(json.dumps({"machine": machine, "command": command, "train_command": train_command,
                               "split": {k: {kk: str(vv) for kk, vv in v.items()} if isinstance(v, dict) else v
                                         for k, v in split.items()},
                               "model": {k: v for k, v in trained.items() if k != "classes"}, "rows": rows},
                              indent=1, default=str), args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
