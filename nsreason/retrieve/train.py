"""Training and measuring the fact ranker on FVQA.

The candidates of every question are collected once (:func:`collect_candidates`: the
retriever on the question's scene, with the type feature looked up for every candidate).
Only two features depend on what is being fitted, log P(relation | question) and log
P(side | question); they are filled in per fit from the classifiers fitted on the training
questions (:func:`fit_ranker`). A candidate is right when its fact is the question's
supporting fact and its side the one FVQA answers from.

:func:`cross_validate_fvqa` measures on folds of the images, each fold answered by a
ranker fitted on the others: top-1 answer accuracy and fact recall at 1 and 5, by the
candidates' scores. (``nsreason eval fvqa`` runs the full pipeline instead, where only the
20 leading candidates get the type feature; the two agree to within a few questions.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..datasets.fvqa import FvqaQuestion, answers_match
from .ranker import FEATURES, Ranker, _logistic
from .retriever import Retrieval, Retriever

__all__ = ["QuestionCandidates", "collect_candidates", "cross_validate_fvqa", "evaluate_fvqa",
           "fit_ranker"]

_REL = FEATURES.index("relation")
_SIDE = FEATURES.index("side")


@dataclass
class QuestionCandidates:
    """One question's candidates: features (relation and side columns left to fill),
    relation names, sides, whether each is right, answers and fact ids."""

    features: Any  # ndarray, candidates × len(FEATURES)
    relations: list[str]
    sides: list[str]
    gold: list[bool]
    answers: list[str]
    fact_ids: list[str | None]


def collect_candidates(
    retriever: Retriever,
    questions: Sequence[FvqaQuestion],
    concepts: Mapping[str, Sequence[str]],
    question_vectors: Any,
) -> list[QuestionCandidates]:
    """The candidates of every question (see the module docstring)."""
    import numpy as np

    every = retriever.with_ranker(retriever.ranker, typed=1 << 30)
    out = []
    for q, vec in zip(questions, question_vectors):
        r = every.retrieve(q.question, concepts.get(q.image, ()), question_vector=vec)
        feats = np.asarray([[c.features[k] for k in FEATURES] for c in r.candidates],
                           dtype=np.float64).reshape(-1, len(FEATURES))
        out.append(QuestionCandidates(
            feats, [retriever.label(c.fact.relation) for c in r.candidates],
            [c.side for c in r.candidates],
            [c.fact.notes.get("factId") in q.fact_ids and c.side == q.side for c in r.candidates],
            [c.answer for c in r.candidates], [c.fact.notes.get("factId") for c in r.candidates]))
    return out


def _filled(ranker: Ranker, vec: Any, qc: QuestionCandidates) -> Any:
    x = qc.features.copy()
    if len(x):
        rel = ranker.relation_logprobs(vec)
        uniform = -math.log(max(len(rel), 1))
        side = ranker.side_logprobs(vec)
        x[:, _REL] = [rel.get(r, uniform) for r in qc.relations]
        x[:, _SIDE] = [side[s] for s in qc.sides]
    return x


def _classifiers(questions: Sequence[FvqaQuestion], vectors: Any, l2: float,
                 info: dict[str, Any] | None = None) -> Ranker:
    """A ranker with its relation and side classifiers fitted (scorer weights zero)."""
    import numpy as np

    from ..errors import InputError

    relations = sorted({q.fact_triple[1] for q in questions})
    if len(relations) < 3:
        raise InputError(f"need at least 3 relations to train the relation classifier, got {relations}")
    index = {r: i for i, r in enumerate(relations)}
    rel_w, rel_b = _logistic(vectors, np.asarray([index[q.fact_triple[1]] for q in questions]), l2)
    side_w, side_b = _logistic(vectors, np.asarray([q.side == "kb" for q in questions], dtype=np.float64), l2)
    return Ranker(relations, np.asarray(rel_w), np.asarray(rel_b), np.asarray(side_w), float(side_b),
                  np.zeros(len(FEATURES)), 0.0, dict(info or {}))


def fit_ranker(
    questions: Sequence[FvqaQuestion],
    candidates: Sequence[QuestionCandidates],
    question_vectors: Any,
    *,
    l2: float = 1e-3,
    inner_folds: int = 5,
    info: dict[str, Any] | None = None,
) -> Ranker:
    """The ranker fitted on ``questions`` (their candidates and embeddings, in order).

    The scorer learns from relation and side features the classifiers give on questions
    they were *not* fitted on (``inner_folds`` folds of the training questions, stacking):
    on their own training questions the classifiers are nearly always right, and a scorer
    fitted on that would trust them far more than they deserve on new questions. The
    classifiers shipped are then fitted on all the training questions."""
    import numpy as np

    from ..errors import InputError

    vectors = np.asarray(question_vectors, dtype=np.float64)
    n = len(questions)
    xs: list[Any] = [None] * n
    k = max(2, min(inner_folds, n))
    for fold in range(k):
        held = [i for i in range(n) if i % k == fold]
        rest = [i for i in range(n) if i % k != fold]
        partial = _classifiers([questions[i] for i in rest], vectors[rest], l2)
        for i in held:
            xs[i] = _filled(partial, vectors[i], candidates[i])
    x = np.concatenate([a for a in xs if len(a)]) if any(len(a) for a in xs) else np.zeros((0, len(FEATURES)))
    y = np.asarray([g for qc in candidates for g in qc.gold], dtype=np.float64)
    if not len(x) or y.min() == y.max():
        raise InputError("the candidates hold no right (or no wrong) answer to learn from")
    ranker = _classifiers(questions, vectors, l2, info)
    w, b = _logistic(x, y, l2)
    ranker.w, ranker.b = np.asarray(w), float(b)
    return ranker


def _score(ranker: Ranker, vec: Any, qc: QuestionCandidates) -> Any:
    import numpy as np

    x = _filled(ranker, vec, qc)
    return x @ np.asarray(ranker.w) + ranker.b if len(x) else np.zeros(0)


def cross_validate_fvqa(
    questions: Sequence[FvqaQuestion],
    candidates: Sequence[QuestionCandidates],
    question_vectors: Any,
    *,
    folds: int = 5,
) -> dict[str, Any]:
    """Accuracy and fact recall at 1 and 5 on ``folds`` folds of the images (image *i* in
    sorted order goes to fold *i* mod ``folds``), each fold scored by a ranker fitted on
    the others."""
    import numpy as np

    vectors = np.asarray(question_vectors)
    images = sorted({q.image for q in questions})
    fold_of = {im: i % folds for i, im in enumerate(images)}
    right = at1 = at5 = 0
    for k in range(folds):
        train = [i for i, q in enumerate(questions) if fold_of[q.image] != k]
        ranker = fit_ranker([questions[i] for i in train], [candidates[i] for i in train], vectors[train])
        for i, q in enumerate(questions):
            if fold_of[q.image] != k:
                continue
            qc = candidates[i]
            if not qc.answers:
                continue
            order = np.argsort(-_score(ranker, vectors[i], qc), kind="stable")
            right += answers_match(qc.answers[order[0]], q.answer)
            facts: list[str | None] = []
            for j in order:
                if qc.fact_ids[j] not in facts:
                    facts.append(qc.fact_ids[j])
                if len(facts) >= 5:
                    break
            at1 += facts[0] in q.fact_ids
            at5 += any(f in q.fact_ids for f in facts)
    n = len(questions)
    return {"questions": n, "folds": folds, "accuracy": right / n, "fact_recall@1": at1 / n,
            "fact_recall@5": at5 / n}


def evaluate_fvqa(
    retriever: Retriever,
    questions: Sequence[FvqaQuestion],
    concepts: Mapping[str, Sequence[str]],
    *,
    question_vectors: Any = None,
    on_result: Callable[[FvqaQuestion, Retrieval], None] | None = None,
) -> dict[str, Any]:
    """The full pipeline on ``questions``: top-1 answer ``accuracy``, ``fact_recall@1`` and
    ``@5`` (the supporting fact among the facts of the top candidates, counted once per
    fact) and ``qps``."""
    import time

    right = at1 = at5 = 0
    start = time.perf_counter()
    if question_vectors is None:
        question_vectors = retriever.encoder.encode([q.question for q in questions])
    for q, vec in zip(questions, question_vectors):
        r = retriever.retrieve(q.question, concepts.get(q.image, ()), question_vector=vec)
        best = r.best
        right += best is not None and answers_match(best.answer, q.answer)
        facts: list[str | None] = []
        for c in r.candidates:
            fid = c.fact.notes.get("factId")
            if fid not in facts:
                facts.append(fid)
            if len(facts) >= 5:
                break
        at1 += bool(facts) and facts[0] in q.fact_ids
        at5 += any(f in q.fact_ids for f in facts)
        if on_result is not None:
            on_result(q, r)
    n = len(questions)
    seconds = time.perf_counter() - start
    return {"questions": n, "accuracy": right / n if n else 0.0,
            "fact_recall@1": at1 / n if n else 0.0, "fact_recall@5": at5 / n if n else 0.0,
            "qps": n / seconds if seconds else 0.0}
