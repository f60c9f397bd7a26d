"""``nsreason train ranker``: training and cross-validating the fact ranker on FVQA.

The candidates of every question are collected once (:func:`collect_candidates`: the
retriever on the question's scene, with the type feature looked up for every candidate).
Only three features depend on what is being fitted, log P(relation | question), log
P(side | question) and the source prior; they are filled in per fit from what is fitted on
the training questions (:func:`fit_ranker`). A candidate is right when its fact is the
question's supporting fact and its side the one FVQA answers from. The scorer is fitted
listwise: a softmax over each question's candidates, the right ones as the target.

:func:`cross_validate_fvqa` measures on seeded folds of the images, each fold answered by a
ranker fitted on the other folds' questions only: top-1 answer accuracy (candidates ordered
as the retriever orders them: the answer-type check, then the answer's probability) and
fact recall at 1 and 5. ``benchmarks/fvqa_heldout.py`` runs the full pipeline
(``Retriever`` and the ``Reasoner``'s refusals) on such folds instead.
:func:`run_train_ranker` is the command: collect, cross-validate, fit on all, save.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..datasets.fvqa import FvqaQuestion, answers_match, load_fvqa_concepts, load_fvqa_questions
from ..kb.base import KnowledgeBase
from ..retrieve.ranker import FEATURES, Ranker, _logistic, answer_probabilities
from ..retrieve.retriever import Retriever
from ..retrieve.setup import load_kbs, make_retriever

__all__ = ["QuestionCandidates", "collect_candidates", "cross_validate_fvqa", "fit_ranker",
           "image_folds", "run_train_ranker"]

_REL = FEATURES.index("relation")
_SIDE = FEATURES.index("side")
_SOURCE = FEATURES.index("source")

CLASSIFIER_L2 = 1e-5
"""L2 weight of the relation and side classifiers (on unit-length MiniLM vectors, whose
coordinates are small: 1e-3 held their held-out relation accuracy at 58%, 1e-5 gives 68%;
chosen on folds of split-0 train, docs/knowledge.md)."""
SCORER_L2 = 1e-3
"""L2 weight of the candidate scorer (on standardised features)."""


@dataclass
class QuestionCandidates:
    """One question's candidates: features (relation and side columns left to fill),
    relation names, sides, whether each is right, answers and fact ids; ``type_match``:
    whether each passed the retriever's answer-type check (the question asks for a type no
    scene object has, and this answer has it: such candidates come first; empty = none)."""

    features: Any  # ndarray, candidates × len(FEATURES)
    relations: list[str]
    sides: list[str]
    gold: list[bool]
    answers: list[str]
    fact_ids: list[str | None]
    type_match: list[bool] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


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
            [c.answer for c in r.candidates], [c.fact.notes.get("factId") for c in r.candidates],
            [c.type_match for c in r.candidates],
            [c.fact.source_label or (str(c.fact.source) if c.fact.source is not None else "")
             for c in r.candidates]))
    return out


def _filled(ranker: Ranker, vec: Any, qc: QuestionCandidates) -> Any:
    x = qc.features.copy()
    if len(x):
        rel = ranker.relation_logprobs(vec)
        uniform = -math.log(max(len(rel), 1))
        side = ranker.side_logprobs(vec)
        x[:, _REL] = [rel.get(r, uniform) for r in qc.relations]
        x[:, _SIDE] = [side[s] for s in qc.sides]
        if qc.sources:
            x[:, _SOURCE] = [ranker.source_feature(s) for s in qc.sources]
    return x


def _source_prior(candidates: Sequence[QuestionCandidates]) -> dict[str, float]:
    """Source label → log(P(right | a candidate of that source) / P(right | any
    candidate)), add-one smoothed, from the training questions' candidates."""
    right: dict[str, int] = {}
    seen: dict[str, int] = {}
    for qc in candidates:
        for src, g in zip(qc.sources, qc.gold):
            seen[src] = seen.get(src, 0) + 1
            right[src] = right.get(src, 0) + bool(g)
    total_right, total = sum(right.values()), sum(seen.values())
    if not total:
        return {}
    base = math.log((total_right + 1) / (total + 2))
    return {src: round(math.log((right[src] + 1) / (seen[src] + 2)) - base, 6) for src in sorted(seen)}


def _classifiers(questions: Sequence[FvqaQuestion], vectors: Any, l2: float,
                 info: dict[str, Any] | None = None,
                 candidates: Sequence[QuestionCandidates] = ()) -> Ranker:
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
                  np.zeros(len(FEATURES)), 0.0, dict(info or {}), _source_prior(candidates))


def _listwise(x: Any, y: Any, group: Any, l2: float, steps: int = 300) -> tuple[Any, float]:
    """Weights and bias of a linear scorer fitted with a softmax over each group's rows
    (``group``: the question of each row, 0..G-1), maximising the probability of the right
    rows (``y``) of each group that has one; L2 on the weights of the standardised
    features; L-BFGS in torch, full batch, deterministic. Returned for the raw features."""
    import numpy as np
    import torch

    xt = torch.as_tensor(np.asarray(x, dtype=np.float64))
    mu, sd = xt.mean(0), xt.std(0) + 1e-6
    xn = (xt - mu) / sd
    yt = torch.as_tensor(np.asarray(y, dtype=np.float64))
    g = torch.as_tensor(np.asarray(group, dtype=np.int64))
    n_groups = int(g.max()) + 1
    has = torch.zeros(n_groups, dtype=torch.float64).index_add(0, g, yt) > 0
    w = torch.zeros(xt.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> Any:
        opt.zero_grad()
        z = xn @ w + b
        top = torch.zeros(n_groups, dtype=torch.float64).scatter_reduce(0, g, z.detach(), "amax",
                                                                         include_self=False)
        e = torch.exp(z - top[g])
        log_all = torch.log(torch.zeros(n_groups, dtype=torch.float64).index_add(0, g, e)) + top
        log_right = torch.log(torch.zeros(n_groups, dtype=torch.float64).index_add(0, g, e * yt) + 1e-300) + top
        loss = -(log_right - log_all)[has].mean() + l2 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    w_raw = (w.detach() / sd).numpy()
    return w_raw, float(b.detach()[0] - (mu / sd * w.detach()).sum())


def fit_ranker(
    questions: Sequence[FvqaQuestion],
    candidates: Sequence[QuestionCandidates],
    question_vectors: Any,
    *,
    l2: float = SCORER_L2,
    classifier_l2: float = CLASSIFIER_L2,
    inner_folds: int = 5,
    info: dict[str, Any] | None = None,
) -> Ranker:
    """The ranker fitted on ``questions`` (their candidates and embeddings, in order).

    The scorer learns from relation, side and source features fitted on questions they
    were *not* fitted on (``inner_folds`` folds of the training questions, stacking): on
    their own training questions the classifiers are nearly always right, and a scorer
    fitted on that would trust them far more than they deserve on new questions. The
    classifiers and source prior shipped are then fitted on all the training questions."""
    import numpy as np

    from ..errors import InputError

    vectors = np.asarray(question_vectors, dtype=np.float64)
    n = len(questions)
    xs: list[Any] = [None] * n
    k = max(2, min(inner_folds, n))
    for fold in range(k):
        held = [i for i in range(n) if i % k == fold]
        rest = [i for i in range(n) if i % k != fold]
        partial = _classifiers([questions[i] for i in rest], vectors[rest], classifier_l2,
                               candidates=[candidates[i] for i in rest])
        for i in held:
            xs[i] = _filled(partial, vectors[i], candidates[i])
    x = np.concatenate([a for a in xs if len(a)]) if any(len(a) for a in xs) else np.zeros((0, len(FEATURES)))
    y = np.asarray([g for qc in candidates for g in qc.gold], dtype=np.float64)
    group = np.repeat(np.arange(n), [len(qc.gold) for qc in candidates])
    if not len(x) or y.min() == y.max():
        raise InputError("the candidates hold no right (or no wrong) answer to learn from")
    ranker = _classifiers(questions, vectors, classifier_l2, info, candidates)
    w, b = _listwise(x, y, group, l2)
    ranker.w, ranker.b = np.asarray(w), float(b)
    return ranker


def _score(ranker: Ranker, vec: Any, qc: QuestionCandidates) -> Any:
    import numpy as np

    x = _filled(ranker, vec, qc)
    return x @ np.asarray(ranker.w) + ranker.b if len(x) else np.zeros(0)


def _order(scores: Any, qc: QuestionCandidates, type_check: bool) -> list[int]:
    """Candidate indices best first, as the retriever orders them: by the probability of
    their answer, then by score; those that passed the answer-type check first when
    ``type_check``."""
    probs = answer_probabilities(qc.answers, [float(v) for v in scores])
    by_prob = sorted(range(len(probs)), key=lambda j: (-probs[j], -float(scores[j])))
    if not type_check or not any(qc.type_match):
        return by_prob
    return sorted(by_prob, key=lambda j: not qc.type_match[j])  # stable: probability order within


def _top(order: list[int], qc: QuestionCandidates, q: FvqaQuestion) -> tuple[bool, bool, bool]:
    """(top-1 answer right, supporting fact first, supporting fact among the first 5 facts)."""
    facts: list[str | None] = []
    for j in order:
        if qc.fact_ids[j] not in facts:
            facts.append(qc.fact_ids[j])
        if len(facts) >= 5:
            break
    return answers_match(qc.answers[order[0]], q.answer), facts[0] in q.fact_ids, any(
        f in q.fact_ids for f in facts)


def cross_validate_fvqa(
    questions: Sequence[FvqaQuestion],
    candidates: Sequence[QuestionCandidates],
    question_vectors: Any,
    *,
    folds: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """Accuracy and fact recall at 1 and 5 on ``folds`` folds of the images
    (:func:`image_folds`), each fold scored by a ranker fitted on the other folds'
    questions only, with the candidates ordered as the retriever orders them (the
    answer-type check first, then the answer's probability). ``without_type_check``: the
    same without the check; ``type_check_fires``: questions where some candidate passed
    the check; ``type_check_changes``: questions whose top-1 answer it changed;
    ``fold_accuracy``: each fold's accuracy."""
    import numpy as np

    vectors = np.asarray(question_vectors)
    fold_of = image_folds([q.image for q in questions], folds, seed)
    per_fold: list[float] = []
    totals = {True: [0, 0, 0], False: [0, 0, 0]}
    fires = changes = 0
    for k in range(folds):
        train = [i for i, q in enumerate(questions) if fold_of[q.image] != k]
        ranker = fit_ranker([questions[i] for i in train], [candidates[i] for i in train], vectors[train])
        right_before, held_out = totals[True][0], 0
        for i, q in enumerate(questions):
            if fold_of[q.image] != k:
                continue
            held_out += 1
            qc = candidates[i]
            if not qc.answers:
                continue
            scores = _score(ranker, vectors[i], qc)
            firsts = {}
            for check in (True, False):
                order = _order(scores, qc, check)
                firsts[check] = order[0]
                for t, hit in enumerate(_top(order, qc, q)):
                    totals[check][t] += hit
            fires += any(qc.type_match)
            changes += qc.answers[firsts[True]] != qc.answers[firsts[False]]
        per_fold.append(round((totals[True][0] - right_before) / max(held_out, 1), 4))
    n = len(questions)

    def figures(check: bool) -> dict[str, float]:
        right, at1, at5 = totals[check]
        return {"accuracy": right / n, "fact_recall@1": at1 / n, "fact_recall@5": at5 / n}

    return {"questions": n, "folds": folds, "seed": seed, **figures(True),
            "fold_accuracy": per_fold, "without_type_check": figures(False),
            "type_check_fires": fires, "type_check_changes": changes}


def image_folds(images: Sequence[str], folds: int, seed: int = 0) -> dict[str, int]:
    """image → fold: the distinct images, sorted, shuffled with ``seed``, dealt round-robin
    into ``folds`` folds (every question of an image is in the same fold).

    >>> folds = image_folds(["a.jpg", "b.jpg", "a.jpg", "c.jpg"], 2, seed=0)
    >>> folds == image_folds(["c.jpg", "b.jpg", "a.jpg"], 2, seed=0), sorted(folds.values())
    (True, [0, 0, 1])
    """
    import numpy as np

    order = sorted(set(images))
    np.random.default_rng(seed).shuffle(order)
    return {im: i % folds for i, im in enumerate(order)}


def run_train_ranker(questions: str, concepts: str, kb_specs: Sequence[str], out: str, *,
                     folds: int = 0) -> dict[str, Any]:
    """Train the ranker on FVQA questions and save it to ``out``; with ``folds`` > 1, first
    report its cross-validated figures (folds of the images, :func:`cross_validate_fvqa`)."""
    import numpy as np

    qs = load_fvqa_questions(questions)
    scenes = load_fvqa_concepts(concepts)
    kb, key = load_kbs(kb_specs)
    base = _untrained(kb, key)
    t0 = time.perf_counter()
    vectors = np.asarray(base.store.get([q.question for q in qs]))
    candidates = collect_candidates(base, qs, scenes, vectors)
    base.store.save()
    report: dict[str, Any] = {"questions": len(qs), "candidates": sum(len(c.answers) for c in candidates),
                              "collect_seconds": round(time.perf_counter() - t0, 1)}
    if folds > 1:
        report["cross_validation"] = cross_validate_fvqa(qs, candidates, vectors, folds=folds)
    ranker = fit_ranker(qs, candidates, vectors,
                        info={"trained_on": f"{len(qs)} FVQA questions",
                              "questions_file": Path(questions).name,
                              "concepts_file": Path(concepts).name,
                              "kb": [os.fspath(s) for s in kb_specs] or ["default"]})
    ranker.save(out)
    report["out"] = out
    return report


def _untrained(kb: KnowledgeBase, key: str | None) -> Retriever:
    """A retriever whose ranker is not fitted yet (training replaces it fold by fold)."""
    import numpy as np

    from ..encode.text import TextEncoder

    dim = TextEncoder.dim
    blank = Ranker(["_"], np.zeros((1, dim)), np.zeros(1), np.zeros(dim), 0.0,
                   np.zeros(len(FEATURES)), 0.0)
    return make_retriever(kb, key, blank)
