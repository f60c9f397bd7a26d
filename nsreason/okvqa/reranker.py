"""The ``kb`` answerer's reranker: gradient-boosted trees from a candidate's features to its
accuracy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .candidates import Candidates

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Reranker"]


class Reranker:
    """Gradient-boosted regression trees (scikit-learn) from a candidate's features to its
    accuracy; hyperparameters fixed a priori."""

    def __init__(self, max_iter: int = 200, learning_rate: float = 0.1, max_leaf_nodes: int = 31,
                 seed: int = 0) -> None:
        self.params = {"max_iter": max_iter, "learning_rate": learning_rate,
                       "max_leaf_nodes": max_leaf_nodes, "random_state": seed}
        self.model: Any = None

    def fit(self, candidates: Sequence[Candidates], accuracies: Sequence[Sequence[float]]) -> Reranker:
        import numpy as np
        from sklearn.ensemble import HistGradientBoostingRegressor

        X = np.concatenate([c.X for c in candidates])
        y = np.concatenate([np.asarray(a, dtype=np.float32) for a in accuracies])
        self.model = HistGradientBoostingRegressor(**self.params).fit(X, y)
        return self

    def scores(self, c: Candidates) -> np.ndarray:
        return self.model.predict(c.X)

    def choose(self, c: Candidates) -> tuple[str | None, dict[str, Any] | None, float | None]:
        """The best candidate: ``(answer, its KB fact or None, predicted accuracy)``."""
        import numpy as np

        if not c.answers:
            return None, None, None
        s = self.scores(c)
        j = int(np.argmax(s))
        return c.answers[j], c.facts.get(c.answers[j]), float(s[j])
