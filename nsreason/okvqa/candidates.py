"""Fitting the ``kb`` answerer's candidate generators (scikit-learn): the answer classifier
and the neighbour vote of :mod:`nsreason.retrieve.answer_candidates`, which also builds
the candidates and their features at answer time."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..retrieve.answer_candidates import AnswerClassifier, CandidateModels, NeighbourVotes
from ..retrieve.answer_prior import AnswerPrior

if TYPE_CHECKING:
    import numpy as np

__all__ = ["fit_answer_classifier", "fit_fold_models"]


def fit_answer_classifier(X: np.ndarray, targets: Sequence[Mapping[str, float]], *, top: int = 500,
                          C: float = 10.0, max_iter: int = 300) -> AnswerClassifier:
    """Softmax regression over the ``top`` answers with the highest summed accuracy in the
    training questions (scikit-learn's ``LogisticRegression``, ``C`` fixed a priori), each
    training question one row per vocabulary answer, weighted by its accuracy."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    gain: Counter[str] = Counter()
    for t in targets:
        gain.update(t)
    classes = [a for a, _ in sorted(gain.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
    index = {a: i for i, a in enumerate(classes)}
    rows, y, w = [], [], []
    for i, t in enumerate(targets):
        for answer, acc in t.items():
            if answer in index:
                rows.append(i)
                y.append(index[answer])
                w.append(acc)
    if len(set(y)) < 2:  # nothing to tell apart: a constant answer (or none)
        return AnswerClassifier(classes[:1])
    model: Any = LogisticRegression(C=C, max_iter=max_iter)
    with warnings.catch_warnings():  # "more classes than half the samples": intended
        warnings.simplefilter("ignore", UserWarning)
        model.fit(X[rows], np.array(y), sample_weight=np.array(w))
    return AnswerClassifier([classes[int(c)] for c in model.classes_],
                            np.asarray(model.coef_), np.asarray(model.intercept_))


def fit_fold_models(X: np.ndarray, V: np.ndarray, texts: Sequence[str], answers: Sequence[Any],
                    targets: Sequence[Mapping[str, float]], *, top: int = 500,
                    k: int = 20) -> CandidateModels:
    """The :class:`~nsreason.retrieve.answer_candidates.CandidateModels` of the training
    rows given (classifier inputs ``X``, neighbour keys ``V``, question texts, answers and
    their :func:`~nsreason.okvqa.features.answer_targets`)."""
    frequency: Counter[str] = Counter()
    for t in targets:
        frequency.update(t)
    return CandidateModels(fit_answer_classifier(X, targets, top=top), NeighbourVotes(k).fit(V, targets),
                           dict(frequency), AnswerPrior(max_words=4, min_support=1).fit(zip(texts, answers)))
