"""OK-VQA evaluation behind ``nsreason eval okvqa``, and the answer-prior baseline.

An *answerer* is any callable ``(question_text, scene) -> (answer, fact, score)``: the
scene is the image's :class:`~nsreason.scene.SceneGraph` of detected labels
(:func:`nsreason.datasets.okvqa.detection_scene`; ``scene.id`` is the COCO image id),
``answer`` a string (or None to abstain, scored 0), ``fact`` whatever supports the answer
(None when nothing does; written to the predictions as ``to_dict()``, a list, or text) and
``score`` a confidence (or None).

Answerers are found by name in :data:`OKVQA_ANSWERERS` (entry-point group
``nsreason.okvqa_answerers``) or as ``"package.module:factory"``; either way the
registered object is a *factory* ``(setup: AnswererSetup) -> answerer``, given the data
being evaluated (so that a learned answerer can train without seeing the question it
answers). :func:`evaluate_okvqa` also takes an answerer instance directly.

The built-in ``prior`` is :class:`AnswerPrior`: the answer with the highest summed
accuracy among training questions that begin with the same words (see its notes). Unless
``prior_from`` names another answers file, it learns from the evaluated answers file
itself with k-fold cross-validation *by image*: the images are split into ``folds`` seeded
random folds, and a question is answered by the prior learned on the other folds, so it
never sees the question it answers nor any other question about the same image.

The built-in ``kb`` (:mod:`nsreason.okvqa_kb`) learns the same way, from the questions and
the detected labels of the other folds' images, and answers from an answer classifier, the
nearest training questions, the labels and the default knowledge base's facts, reranked.
"""

from __future__ import annotations

import importlib
import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .datasets.okvqa import (
    KNOWLEDGE_TYPES,
    KnowledgeLabel,
    OkvqaAnswers,
    OkvqaQuestion,
    detection_scene,
    load_mavex_labels,
    load_okvqa_answers,
    load_okvqa_detections,
    load_okvqa_questions,
    okvqa_scenes,
)
from .datasets.vqa_answers import normalize_answer
from .errors import InputError, RegistryError
from .parse.text import first_words
from .registry import Registry
from .scene.graph import SceneGraph

__all__ = [
    "OKVQA_ANSWERERS",
    "AnswerPrior",
    "Answerer",
    "AnswererSetup",
    "FoldedAnswerer",
    "evaluate_okvqa",
    "get_answerer",
    "image_folds",
    "question_prefix",
]

Answerer = Callable[[str, SceneGraph], tuple[str | None, Any, float | None]]
"""``(question_text, scene) -> (answer, fact_or_None, score)``."""



def question_prefix(question: str, words: int) -> str:
    """The first ``words`` words of a question, lower-cased, punctuation dropped.

    >>> question_prefix("What is the hairstyle of the blond called?", 3)
    'what is the'
    """
    return first_words(question, words)


class AnswerPrior:
    """The most rewarding answer per question prefix (the "question type").

    OK-VQA has no VQA-style ``question_type`` (its ``question_type`` field is the
    knowledge category), so the type of a question is its first words, as VQA's types
    are ("what is the", "how many"). Fitting sums, for each prefix of 1 to ``max_words``
    words and for the empty prefix, the official accuracy each normalised human answer
    would have scored on each training question with that prefix. A question is answered
    with the best answer of its longest prefix that at least ``min_support`` training
    questions share (else a shorter one, at last the overall best); the score is that
    answer's mean accuracy on those training questions.

    >>> prior = AnswerPrior(min_support=1).fit([
    ...     ("How many legs?", OkvqaAnswers(1, 1, {"4": 10})),
    ...     ("What sport is this?", OkvqaAnswers(2, 2, {"tennis": 6, "ball": 4}))])
    >>> prior.predict("How many wheels?")
    ('4', 1.0, 'how many')
    """

    def __init__(self, max_words: int = 3, min_support: int = 5) -> None:
        if max_words < 0 or min_support < 1:
            raise ValueError("max_words must be >= 0 and min_support >= 1")
        self.max_words = max_words
        self.min_support = min_support
        self._best: dict[str, tuple[str, float]] = {}

    def __repr__(self) -> str:
        return (f"AnswerPrior(max_words={self.max_words}, min_support={self.min_support}, "
                f"prefixes={len(self._best)})")

    def fit(self, examples: Iterable[tuple[str, OkvqaAnswers]]) -> AnswerPrior:
        """Learn from ``(question text, answers)`` pairs; returns ``self``."""
        gains: dict[str, Counter[str]] = defaultdict(Counter)
        support: Counter[str] = Counter()
        for question, answers in examples:
            candidates = {normalize_answer(a) for a in answers.counts}
            scored = [(c, answers.accuracy(c)) for c in candidates if c]
            for k in range(self.max_words + 1):
                key = question_prefix(question, k)
                if k and len(key.split()) < k:
                    break  # shorter question: its longer prefixes repeat this one
                support[key] += 1
                for c, acc in scored:
                    gains[key][c] += acc
        self._best = {}
        for key, n in support.items():
            if n >= self.min_support or key == "":
                # the highest sum; ties go to the alphabetically first answer
                answer, total = min(gains[key].items(), key=lambda kv: (-kv[1], kv[0]),
                                    default=("", 0.0))
                if answer:
                    self._best[key] = (answer, total / n)
        return self

    def predict(self, question: str) -> tuple[str | None, float | None, str | None]:
        """``(answer, mean training accuracy, prefix used)``; Nones before fitting."""
        for k in range(self.max_words, -1, -1):
            hit = self._best.get(question_prefix(question, k))
            if hit is not None:
                return hit[0], hit[1], question_prefix(question, k)
        return None, None, None

    def __call__(self, question: str, scene: SceneGraph) -> tuple[str | None, None, float | None]:
        answer, score, _ = self.predict(question)
        return answer, None, score


def image_folds(image_ids: Iterable[int], folds: int = 5, seed: int = 0) -> dict[int, int]:
    """Split images into ``folds`` folds at random (seeded): ``{image_id: fold}``, folds
    differing in size by at most one image.

    >>> sorted(Counter(image_folds(range(10), 3).values()).values())
    [3, 3, 4]
    """
    if folds < 2:
        raise ValueError(f"expected at least 2 folds, got {folds}")
    images = sorted(set(image_ids))
    random.Random(seed).shuffle(images)
    return {image: i % folds for i, image in enumerate(images)}


class FoldedAnswerer:
    """Answers each question with the answerer trained without its image's fold:
    ``by_fold[fold_of[scene.id]]``."""

    def __init__(self, by_fold: Sequence[Answerer], fold_of: Mapping[int, int]) -> None:
        self.by_fold = list(by_fold)
        self.fold_of = dict(fold_of)

    def __repr__(self) -> str:
        return f"FoldedAnswerer(folds={len(self.by_fold)}, images={len(self.fold_of)})"

    def __call__(self, question: str, scene: SceneGraph) -> tuple[str | None, Any, float | None]:
        fold = self.fold_of.get(scene.id)  # type: ignore[arg-type]
        if fold is None:
            raise InputError(f"image {scene.id!r} is in no fold: it was not in the training data")
        return self.by_fold[fold](question, scene)


@dataclass
class AnswererSetup:
    """What an answerer factory is given: the evaluated questions and answers, the
    answers to learn from when they are another file (``prior_from``, else None), and the
    cross-validation folds to use when learning from the evaluated answers themselves, and
    the scenes of the images by image id (an answerer that learns from the images' labels
    needs those of its training questions too)."""

    questions: Sequence[OkvqaQuestion]
    answers: Mapping[int, OkvqaAnswers]
    prior_from: Mapping[int, OkvqaAnswers] | None = None
    folds: int = 5
    seed: int = 0
    scenes: Mapping[int, SceneGraph] | None = None

    def training_pairs(self, source: Mapping[int, OkvqaAnswers]) -> list[tuple[str, OkvqaAnswers]]:
        """``(question text, answers)`` for every answered question of ``source`` (texts
        from the questions, else from the answers file's own copy)."""
        texts = {q.question_id: q.question for q in self.questions}
        pairs = []
        for qid, ans in source.items():
            text = texts.get(qid, ans.question)
            if text is not None:
                pairs.append((text, ans))
        return pairs


OKVQA_ANSWERERS: Registry[Callable[[AnswererSetup], Answerer]] = Registry(
    "OK-VQA answerer", entry_point_group="nsreason.okvqa_answerers"
)


@OKVQA_ANSWERERS.register("prior")
def prior_answerer(setup: AnswererSetup, **kwargs: Any) -> Answerer:
    """The answer prior: learned from ``setup.prior_from`` when given, else cross-validated
    by image over the evaluated answers (keyword arguments go to :class:`AnswerPrior`)."""
    if setup.prior_from is not None:
        return AnswerPrior(**kwargs).fit(setup.training_pairs(setup.prior_from))
    pairs = setup.training_pairs(setup.answers)
    fold_of = image_folds((a.image_id for _, a in pairs), setup.folds, setup.seed)
    by_fold = [
        AnswerPrior(**kwargs).fit(p for p in pairs if fold_of[p[1].image_id] != k)
        for k in range(setup.folds)
    ]
    return FoldedAnswerer(by_fold, fold_of)


@OKVQA_ANSWERERS.register("kb")
def kb_answerer(setup: AnswererSetup, **kwargs: Any) -> Answerer:
    """Candidates from an answer classifier, the nearest training questions, the detected
    labels and the default knowledge base, reranked by a learned scorer; cross-validated by
    image like the prior (see :mod:`nsreason.okvqa_kb`; needs the ``knowledge`` extra)."""
    from .okvqa_kb import kb_answerer as make

    return make(setup, **kwargs)


def get_answerer(spec: str, setup: AnswererSetup) -> Answerer:
    """The answerer a name (``prior``, a registered plug-in) or ``module:factory`` names,
    made by its factory for ``setup``."""
    if ":" in spec:
        module, _, attr = spec.partition(":")
        try:
            factory = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise RegistryError(f"cannot load answerer factory {spec!r}: {exc}") from None
    else:
        factory = OKVQA_ANSWERERS.get(spec)
    return factory(setup)


def _jsonable(fact: Any) -> Any:
    if fact is None or isinstance(fact, (str, int, float, bool)):
        return fact
    if hasattr(fact, "to_dict"):
        return fact.to_dict()
    if isinstance(fact, Mapping):
        return {str(k): _jsonable(v) for k, v in fact.items()}
    if isinstance(fact, (list, tuple)):
        return [_jsonable(v) for v in fact]
    return str(fact)


def fact_triple(fact: Any) -> list[str] | None:
    """A ``--predictions`` line's ``fact``: [head, relation, tail] (labels where the fact has
    them), or None.

    >>> fact_triple({"head": "urn:a", "relation": "urn:r", "tail": "urn:b", "labels": ["a", None, "b"]})
    ['a', 'urn:r', 'b']
    >>> fact_triple(("bus", "UsedFor", "transport")), fact_triple(None)
    (['bus', 'UsedFor', 'transport'], None)
    """
    if fact is None:
        return None
    if isinstance(fact, Mapping):
        ends = [fact.get("head"), fact.get("relation"), fact.get("tail")]
        labels = list(fact.get("labels") or [None, None, None])[:3]
        return [str(label if label is not None else end) for label, end in zip(labels, ends)]
    if isinstance(fact, (list, tuple)) and len(fact) == 3:
        return [str(x) for x in fact]
    if all(hasattr(fact, k) for k in ("head", "relation", "tail")):
        return [str(fact.head), str(fact.relation), str(fact.tail)]
    return [str(_jsonable(fact)), "", ""]


def _fact_source(fact: Any) -> str | None:
    if isinstance(fact, Mapping):
        src = fact.get("source_label") or fact.get("source")
        return None if src is None else str(src)
    return None


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _order(key: Any) -> tuple[int, int, str]:
    """Integers in numeric order, then strings."""
    return (0, key, "") if isinstance(key, int) else (1, 0, str(key))


def _breakdown(groups: Mapping[Any, list[tuple[float, float]]]) -> dict[str, dict[str, Any]]:
    return {
        str(key): {
            "questions": len(scores),
            "accuracy": _mean([a for a, _ in scores]),
            "soft_accuracy": _mean([s for _, s in scores]),
        }
        for key, scores in sorted(groups.items(), key=lambda kv: _order(kv[0]))
    }


def evaluate_okvqa(
    questions: str | Path | Sequence[OkvqaQuestion],
    answers: str | Path | Mapping[int, OkvqaAnswers],
    detections: Sequence[str | Path] | Mapping[int, SceneGraph] = (),
    *,
    mavex: str | Path | Mapping[int, KnowledgeLabel] | None = None,
    answerer: str | Answerer = "prior",
    prior_from: str | Path | Mapping[int, OkvqaAnswers] | None = None,
    folds: int = 5,
    seed: int = 0,
    limit: int | None = None,
    predictions: IO[str] | None = None,
) -> dict[str, Any]:
    """Answer every question on its image's scene and score it.

    ``detections`` are detection files (merged per image) or ready scenes by image id;
    an image without any gets an empty scene (counted in ``images_without_detections``).
    ``answerer`` is a name / ``module:factory`` (see :func:`get_answerer`) or a callable.

    Returns ``questions``, ``accuracy`` (the official VQA accuracy, averaged over
    questions), ``soft_accuracy`` (the simplified ``min(1, n/3)``), ``answered`` (not
    None), ``by_knowledge_type`` (with MAVEx labels; questions without a label under
    ``"unlabelled"``), ``by_category`` (OK-VQA's categories, when the answers have them),
    ``qps`` (questions answered per second, setup and scoring excluded) and timings.
    ``predictions`` gets one JSON line per question: ``question_id``, ``answer``,
    ``fact``, ``score``, ``accuracy``.
    """
    t0 = time.perf_counter()
    qs = list(load_okvqa_questions(questions) if isinstance(questions, (str, Path)) else questions)
    gold = load_okvqa_answers(answers) if isinstance(answers, (str, Path)) else answers
    if isinstance(detections, Mapping):
        scenes = dict(detections)
    else:
        scenes = okvqa_scenes(*(load_okvqa_detections(p) for p in detections))
    labels = load_mavex_labels(mavex) if isinstance(mavex, (str, Path)) else mavex
    prior = load_okvqa_answers(prior_from) if isinstance(prior_from, (str, Path)) else prior_from
    for i, q in enumerate(qs):
        if q.question_id not in gold:
            raise InputError(f"question {q.question_id} has no answers in {answers}",
                             path=f"questions[{i}].question_id",
                             source=str(questions) if isinstance(questions, (str, Path)) else None)
    load_seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    setup = AnswererSetup(qs, gold, prior, folds, seed, scenes)
    name = answerer if isinstance(answerer, str) else repr(answerer)
    answer_fn = get_answerer(answerer, setup) if isinstance(answerer, str) else answerer
    setup_seconds = time.perf_counter() - t0

    if limit is not None:
        qs = qs[:limit]
    jobs = []
    missing = set()
    for q in qs:
        scene = scenes.get(q.image_id)
        if scene is None:
            missing.add(q.image_id)
            scene = scenes[q.image_id] = detection_scene(q.image_id, ())
        jobs.append((q, scene))

    t0 = time.perf_counter()
    outputs = [answer_fn(q.question, scene) for q, scene in jobs]
    answer_seconds = time.perf_counter() - t0

    accs: list[float] = []
    softs: list[float] = []
    by_kind: dict[str, list[tuple[float, float]]] = defaultdict(list)
    by_category: dict[Any, list[tuple[float, float]]] = defaultdict(list)
    for (q, _), output in zip(jobs, outputs):
        if not isinstance(output, tuple) or len(output) != 3:
            raise TypeError(f"answerer {name} returned {output!r} for question {q.question_id}; "
                            "expected (answer, fact, score)")
        answer, fact, score = output
        truth = gold[q.question_id]
        acc, soft = truth.accuracy(answer), truth.soft_score(answer)
        accs.append(acc)
        softs.append(soft)
        if labels is not None:
            label = labels.get(q.question_id)
            by_kind["unlabelled" if label is None else label.knowledge_type].append((acc, soft))
        if truth.category is not None:
            by_category[truth.category].append((acc, soft))
        if predictions is not None:
            predictions.write(json.dumps({
                "question_id": q.question_id, "answer": answer, "fact": fact_triple(fact),
                "fact_source": _fact_source(fact), "score": score, "accuracy": acc,
            }) + "\n")
    n = len(jobs)
    kinds = _breakdown(by_kind) if labels is not None else None
    if kinds is not None:  # MAVEx's order, then anything else
        kinds = {k: kinds[k] for k in (*KNOWLEDGE_TYPES, "unlabelled") if k in kinds}
    return {
        "answerer": name,
        "questions": n,
        "accuracy": _mean(accs),
        "soft_accuracy": _mean(softs),
        "answered": sum(o[0] is not None for o in outputs),
        "by_knowledge_type": kinds,
        "by_category": _breakdown(by_category) if by_category else None,
        "images_without_detections": len(missing),
        "folds": folds if isinstance(answerer, str) and prior is None else None,
        "seed": seed,
        "qps": n / answer_seconds if answer_seconds > 0 else None,
        "answer_seconds": answer_seconds,
        "setup_seconds": setup_seconds,
        "load_seconds": load_seconds,
    }
