"""``nsreason eval okvqa``: answer OK-VQA questions on their images' scenes and score them.

The scene of an image is a :class:`~nsreason.scene.SceneGraph` of its detected labels
(:func:`nsreason.datasets.okvqa.detection_scene`; ``scene.id`` is the COCO image id). The
answerer is a plug-in of :mod:`nsreason.okvqa.answerer` (``prior``, ``kb``,
``kb-without-kb``, another registered name or ``module:factory``), a plug-in instance
(anything with ``fit(examples)``), or a fixed callable ``(question, scene) -> (answer,
fact, score)`` that learns nothing.

This loop owns the cross-validation: the evaluated questions' images are split into
``folds`` seeded random folds (:func:`~nsreason.okvqa.answerer.image_folds`), and for each
fold the plug-in is fitted on the other folds' questions (text, scene, human answers:
:class:`~nsreason.okvqa.answerer.TrainingExample`) and then asked the held-out fold's
questions (text and scene only). No answerer ever receives the answers of a question it
answers, nor of any other question about the same image. With ``prior_from`` (another
answers file, sharing no question with the evaluated ones) the plug-in is fitted once on
that file's questions and answers all. With ``model`` (a folder ``nsreason train okvqa``
wrote) nothing is fitted: the saved model answers every question (no folds), so any split
can be evaluated on a model trained once.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from ..datasets.okvqa import (
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
from ..errors import InputError
from ..okvqa.answerer import Answerer, AnswererPlugin, TrainingExample, get_answerer, image_folds
from ..scene.graph import SceneGraph

__all__ = ["evaluate_okvqa", "fact_triple"]


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


def _examples(source: Mapping[int, OkvqaAnswers], texts: Mapping[int, str],
              scene_of: Callable[[int], SceneGraph], fold_of: Mapping[int, int]) -> list[TrainingExample]:
    out = []
    for qid, ans in source.items():
        text = texts.get(qid, ans.question)
        if text is not None:
            out.append(TrainingExample(qid, text, scene_of(ans.image_id), ans,
                                       fold_of.get(ans.image_id, 0)))
    return out


def evaluate_okvqa(
    questions: str | Path | Sequence[OkvqaQuestion],
    answers: str | Path | Mapping[int, OkvqaAnswers],
    detections: Sequence[str | Path] | Mapping[int, SceneGraph] = (),
    *,
    mavex: str | Path | Mapping[int, KnowledgeLabel] | None = None,
    answerer: str | AnswererPlugin | Answerer = "prior",
    prior_from: str | Path | Mapping[int, OkvqaAnswers] | None = None,
    folds: int = 5,
    seed: int = 0,
    limit: int | None = None,
    predictions: IO[str] | None = None,
    model: str | Path | None = None,
) -> dict[str, Any]:
    """Answer every question on its image's scene and score it (folds: module docstring).

    ``detections`` are detection files (merged per image) or ready scenes by image id;
    an image without any gets an empty scene (counted in ``images_without_detections``).
    ``answerer``: a plug-in name / ``module:factory``, a plug-in, or a fixed callable.
    ``limit``: answer only the first N questions (the plug-in still learns from all the
    other folds' questions).

    Returns ``questions``, ``accuracy`` (the official VQA accuracy, averaged over
    questions), ``soft_accuracy`` (the simplified ``min(1, n/3)``), ``answered`` (not
    None), ``by_knowledge_type`` (with MAVEx labels; questions without a label under
    ``"unlabelled"``), ``by_category`` (OK-VQA's categories, when the answers have them),
    ``folds`` (None when nothing was cross-validated), ``qps`` (questions answered per
    second, fitting and scoring excluded) and timings (``fit_seconds``: all fits).
    ``model``: a saved answer model's folder, which answers every question instead of
    ``answerer`` (nothing fitted, ``folds`` None; the report gives its folder, ``model``,
    and what it was trained on, ``model_trained_on``).
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
    if prior is not None:
        shared = sorted(set(prior) & {q.question_id for q in qs})
        if shared:
            raise InputError(f"the answers to learn from (prior_from) hold {len(shared)} of the "
                             f"evaluated questions (first: {shared[0]}): an answerer never learns "
                             "from the questions it answers; leave prior_from out to cross-validate")
    load_seconds = time.perf_counter() - t0

    missing: set[int] = set()

    def scene_of(image_id: int, count: bool = False) -> SceneGraph:
        scene = scenes.get(image_id)
        if scene is None:
            if count:
                missing.add(image_id)
            scene = scenes[image_id] = detection_scene(image_id, ())
        return scene

    saved = None
    if model is not None:
        if prior_from is not None:
            raise InputError("a saved model (--model) learns nothing here: leave --prior-from out",
                             path="prior_from")
        from ..retrieve.answer_model import AnswerModel

        t0 = time.perf_counter()
        answerer = saved = AnswerModel.load(model)
        load_seconds += time.perf_counter() - t0
    name = (answerer if isinstance(answerer, str) else
            f"model {model} ({saved.config.get('answerer')})" if saved is not None else repr(answerer))
    plugin: Any = get_answerer(answerer) if isinstance(answerer, str) else answerer
    learns = callable(getattr(plugin, "fit", None))
    todo = qs[:limit] if limit is not None else qs
    jobs = [(q, scene_of(q.image_id, count=True)) for q in todo]
    texts = {q.question_id: q.question for q in qs}
    outputs: list[Any] = [None] * len(jobs)
    fit_seconds = answer_seconds = 0.0
    if not learns:  # a fixed answerer: nothing to fold
        groups = {0: list(range(len(jobs)))}
        fitted = {0: plugin}
    elif prior is not None:
        t0 = time.perf_counter()
        fitted = {0: plugin.fit(_examples(prior, {}, scene_of, image_folds(
            (a.image_id for a in prior.values()), folds, seed)))}
        fit_seconds += time.perf_counter() - t0
        groups = {0: list(range(len(jobs)))}
    else:
        fold_of = image_folds((q.image_id for q in qs), folds, seed)
        groups = defaultdict(list)
        for j, (q, _) in enumerate(jobs):
            groups[fold_of[q.image_id]].append(j)
        fitted = {}
        pool = {q.question_id: gold[q.question_id] for q in qs}
        for k in sorted(groups):
            t0 = time.perf_counter()
            train = {qid: a for qid, a in pool.items() if fold_of[a.image_id] != k}
            fitted[k] = plugin.fit(_examples(train, texts, scene_of, fold_of))
            fit_seconds += time.perf_counter() - t0
    for k, rows in groups.items():
        t0 = time.perf_counter()
        for j in rows:
            q, scene = jobs[j]
            outputs[j] = fitted[k](q.question, scene)
        answer_seconds += time.perf_counter() - t0

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
        "folds": folds if learns and prior is None else None,
        "seed": seed,
        "qps": n / answer_seconds if answer_seconds > 0 else None,
        "answer_seconds": answer_seconds,
        "fit_seconds": fit_seconds,
        "load_seconds": load_seconds,
        "model": None if saved is None else str(model),
        "model_trained_on": None if saved is None else _trained_on(saved.config),
    }


def _trained_on(config: Mapping[str, Any]) -> str:
    """One line on what a saved model was trained on (its ``config.json`` has the rest).

    >>> _trained_on({"answerer": "kb", "provenance": {"n_questions": 9, "n_images": 8,
    ...     "detection_sources": {"imagenet": 8}, "command": "nsreason train okvqa ..."}})
    'kb: 9 questions on 8 images, labels from imagenet (8 images); nsreason train okvqa ...'
    """
    p = config.get("provenance") or {}
    sources = ", ".join(f"{k} ({v} images)" for k, v in (p.get("detection_sources") or {}).items())
    return (f"{config.get('answerer')}: {p.get('n_questions')} questions on {p.get('n_images')} images, "
            f"labels from {sources or 'no detector'}; {p.get('command')}")
