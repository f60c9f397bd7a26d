"""The ``kb`` answerer's reranker: gradient-boosted trees from a candidate's features to its
accuracy, fitted with scikit-learn and kept as plain arrays
(:class:`~nsreason.retrieve.answer_model.TreeEnsemble`) that answer without it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..retrieve.answer_candidates import Candidates
from ..retrieve.answer_model import TreeEnsemble

__all__ = ["fit_reranker", "trees_of"]


def trees_of(model: Any) -> TreeEnsemble:
    """The trees of a fitted scikit-learn ``HistGradientBoostingRegressor`` (numeric
    features, one output) as a :class:`~nsreason.retrieve.answer_model.TreeEnsemble`
    predicting the same values."""
    import numpy as np

    roots, parts = [], []
    offset = 0
    for iteration in model._predictors:
        if len(iteration) != 1:
            raise ValueError(f"expected one tree per iteration (a regressor), got {len(iteration)}")
        nodes = iteration[0].nodes
        if np.any(nodes["is_categorical"]):
            raise ValueError("categorical splits are not supported")
        roots.append(offset)
        leaf = nodes["is_leaf"].astype(bool)
        parts.append((nodes["feature_idx"], nodes["num_threshold"],
                      np.where(leaf, -1, nodes["left"].astype(np.int64) + offset),
                      np.where(leaf, -1, nodes["right"].astype(np.int64) + offset),
                      nodes["missing_go_to_left"], leaf, nodes["value"]))
        offset += len(nodes)
    cols = list(zip(*parts))
    baseline = np.asarray(model._baseline_prediction, dtype=np.float64).ravel()
    return TreeEnsemble(float(baseline[0]), np.asarray(roots), *(np.concatenate(c) for c in cols))


def fit_reranker(candidates: Sequence[Candidates], accuracies: Sequence[Sequence[float]], *,
                 max_iter: int = 200, learning_rate: float = 0.1, max_leaf_nodes: int = 31,
                 seed: int = 0) -> TreeEnsemble:
    """Gradient-boosted regression trees (scikit-learn's ``HistGradientBoostingRegressor``,
    hyperparameters fixed a priori) from each candidate's features to its accuracy."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingRegressor

    X = np.concatenate([c.X for c in candidates])
    y = np.concatenate([np.asarray(a, dtype=np.float32) for a in accuracies])
    model = HistGradientBoostingRegressor(max_iter=max_iter, learning_rate=learning_rate,
                                          max_leaf_nodes=max_leaf_nodes, random_state=seed).fit(X, y)
    return trees_of(model)
