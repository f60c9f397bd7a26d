"""The ``kb`` answerer's candidate generators (an answer classifier, the nearest training
questions) and the feature rows of every candidate of a question (:func:`build_candidates`:
those two, the scene's labels and the KB's candidates)."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..datasets.vqa_answers import normalize_answer
from ..parse.text import words
from .cache import KbCandidate
from .features import ABSENT_RANK, FEATURES, SOURCES, Vectors
from .prior import AnswerPrior, question_prefix

if TYPE_CHECKING:
    import numpy as np

    from ..scene.graph import SceneGraph

__all__ = ["AnswerClassifier", "Candidates", "FoldModels", "NeighbourVotes", "build_candidates",
           "fit_fold_models"]


class AnswerClassifier:
    """Softmax regression over the ``top`` answers with the highest summed accuracy in the
    training questions (scikit-learn, ``C`` fixed a priori), each training question one
    row per vocabulary answer, weighted by its accuracy."""

    def __init__(self, top: int = 500, C: float = 10.0, max_iter: int = 300) -> None:
        self.top, self.C, self.max_iter = top, C, max_iter
        self.classes: list[str] = []
        self.model: Any = None

    def fit(self, X: np.ndarray, targets: Sequence[Mapping[str, float]]) -> AnswerClassifier:
        import numpy as np
        from sklearn.linear_model import LogisticRegression

        gain: Counter[str] = Counter()
        for t in targets:
            gain.update(t)
        self.classes = [a for a, _ in sorted(gain.items(), key=lambda kv: (-kv[1], kv[0]))[: self.top]]
        index = {a: i for i, a in enumerate(self.classes)}
        rows, y, w = [], [], []
        for i, t in enumerate(targets):
            for answer, acc in t.items():
                if answer in index:
                    rows.append(i)
                    y.append(index[answer])
                    w.append(acc)
        if len(set(y)) < 2:  # nothing to tell apart: a constant answer (or none)
            self.model, self.classes = None, self.classes[:1]
            return self
        self.model = LogisticRegression(C=self.C, max_iter=self.max_iter)
        with warnings.catch_warnings():  # "more classes than half the samples": intended
            warnings.simplefilter("ignore", UserWarning)
            self.model.fit(X[rows], np.array(y), sample_weight=np.array(w))
        self.classes = [self.classes[int(c)] for c in self.model.classes_]
        return self

    def top_answers(self, X: np.ndarray, k: int = 10) -> list[list[tuple[str, float]]]:
        """The ``k`` most probable answers of each row, with their probabilities."""
        import numpy as np

        if self.model is None:
            return [[(a, 1.0) for a in self.classes] for _ in range(len(X))]
        P = self.model.predict_proba(X)
        best = np.argsort(-P, axis=1)[:, :k]
        return [[(self.classes[j], float(P[i, j])) for j in row] for i, row in enumerate(best)]


class NeighbourVotes:
    """The answers of the ``k`` training questions nearest by :meth:`Vectors.neighbour_key`,
    each voted by similarity x its accuracy there; votes are divided by their sum."""

    def __init__(self, k: int = 20) -> None:
        self.k = k
        self.matrix: Any = None
        self.targets: list[Mapping[str, float]] = []

    def fit(self, V: np.ndarray, targets: Sequence[Mapping[str, float]]) -> NeighbourVotes:
        self.matrix, self.targets = V, list(targets)
        return self

    def votes(self, V: np.ndarray, k: int = 10) -> list[list[tuple[str, float]]]:
        """The ``k`` best voted answers of each row, with their share of the votes."""
        import numpy as np

        sims = V @ self.matrix.T
        n = min(self.k, sims.shape[1])
        out = []
        for row in sims:
            votes: Counter[str] = Counter()
            for i in np.argpartition(-row, n - 1)[:n]:
                for answer, acc in self.targets[i].items():
                    votes[answer] += float(row[i]) * acc
            total = sum(votes.values()) or 1.0
            ranked = sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
            out.append([(a, v / total) for a, v in ranked])
        return out


@dataclass
class Candidates:
    """One question's candidate answers and their feature rows (one per answer, columns as
    :data:`FEATURES`), with the KB fact of those the KB proposed."""

    answers: list[str]
    X: np.ndarray
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class FoldModels:
    """What one training set gives the candidates of other questions: classifier,
    neighbours, answer frequencies, the prefix prior."""

    classifier: AnswerClassifier
    neighbours: NeighbourVotes
    frequency: Mapping[str, float]
    prior: Any


def fit_fold_models(X: np.ndarray, V: np.ndarray, texts: Sequence[str], answers: Sequence[Any],
                    targets: Sequence[Mapping[str, float]], *, top: int = 500,
                    k: int = 20) -> FoldModels:
    """The :class:`FoldModels` of the training rows given (classifier inputs ``X``,
    neighbour keys ``V``, question texts, answers and their :func:`answer_targets`)."""
    frequency: Counter[str] = Counter()
    for t in targets:
        frequency.update(t)
    return FoldModels(AnswerClassifier(top).fit(X, targets), NeighbourVotes(k).fit(V, targets),
                      dict(frequency), AnswerPrior(max_words=4, min_support=1).fit(zip(texts, answers)))


def build_candidates(models: FoldModels, vectors: Vectors, questions: Sequence[str],
                     scenes: Sequence[SceneGraph], X: np.ndarray, V: np.ndarray,
                     kb: Sequence[Sequence[KbCandidate]], *, per_source: int = 10) -> list[Candidates]:
    """The candidates of each question (``X``, ``V``: its classifier input and neighbour
    key; ``kb``: its KB candidates) with their features."""
    import numpy as np

    clf = models.classifier.top_answers(X, per_source)
    knn = models.neighbours.votes(V, per_source)
    out: list[Candidates] = []
    for i, question in enumerate(questions):
        feats: dict[str, dict[str, float]] = {}

        def row(answer: str, feats: dict[str, dict[str, float]] = feats) -> dict[str, float]:
            r = feats.get(answer)
            if r is None:
                r = feats[answer] = {"clf_rank": ABSENT_RANK, "knn_rank": ABSENT_RANK,
                                     "label_rank": ABSENT_RANK, "kb_rank": ABSENT_RANK,
                                     "kb_score": -10.0}
            return r

        for rank, (answer, p) in enumerate(clf[i]):
            r = row(answer)
            r.update(clf_p=p, clf_rank=float(np.log1p(rank)))
        for rank, (answer, v) in enumerate(knn[i]):
            r = row(answer)
            r.update(knn_vote=v, knn_rank=float(np.log1p(rank)))
        for o in scenes[i].objects:
            answer = normalize_answer(o.name)
            if not answer:
                continue
            r = row(answer)
            r["is_label"] = 1.0
            source = o.get("source")
            if source in SOURCES:
                r[f"label_{source}"] = 1.0
            rank = o.extra.get("rank") or 0
            r["label_rank"] = min(r["label_rank"], float(np.log1p(rank)))
        facts: dict[str, dict[str, Any]] = {}
        for c in kb[i]:
            r = row(c.answer)
            r.update(in_kb=1.0, kb_score=c.score, kb_rank=float(np.log1p(c.rank)),
                     kb_votes=float(np.log1p(c.votes)), kb_side=float(c.side == "kb"))
            if c.side == "kb":
                facts[c.answer] = c.fact
        answers = list(feats)
        prior, _, _ = models.prior.predict(question)
        q_words = set(words(question))
        A = vectors.get(answers)
        qv = vectors.get([question, question_prefix(question, 4)])
        cos = A @ qv.T
        in_vocab = set(models.classifier.classes)
        M = np.zeros((len(answers), len(FEATURES)), dtype=np.float32)
        for j, answer in enumerate(answers):
            r = feats[answer]
            answer_words = answer.split()
            r.update(in_vocab=float(answer in in_vocab),
                     log_freq=float(np.log1p(models.frequency.get(answer, 0.0))),
                     prior=float(answer == prior), cos_q=float(cos[j, 0]), cos_wh=float(cos[j, 1]),
                     in_question=float(bool(answer_words) and all(w in q_words for w in answer_words)),
                     words=float(len(answer_words)), numeric=float(answer.replace(".", "").isdigit()))
            M[j] = [r.get(name, 0.0) for name in FEATURES]
        out.append(Candidates(answers, M, facts))
    return out
