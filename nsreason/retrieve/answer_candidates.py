"""Candidate answers of a question about a detection scene, and their features (inference,
layer 3): what a fitted OK-VQA answer model computes at answer time.

* :class:`Vectors` - MiniLM rows of questions, labels and answers, the image vector of a
  scene (the mean label embedding per detector in :data:`SOURCES`);
* :class:`AnswerClassifier` - softmax regression over an answer vocabulary (its arrays;
  fitted by :mod:`nsreason.okvqa.candidates`);
* :class:`NeighbourVotes` - the answers of the nearest training questions;
* :func:`build_candidates` - every candidate of a question (those two, the scene's labels,
  the knowledge base's :class:`~nsreason.retrieve.answer_cache.KbCandidate` s) with its
  feature row (columns :data:`FEATURES`).

Fitting (scikit-learn) lives in :mod:`nsreason.okvqa`; a fitted model is saved and loaded by
:mod:`nsreason.retrieve.answer_model`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..parse.text import words
from .answer_cache import KbCandidate
from .answer_prior import AnswerPrior, question_prefix
from .vqa_answers import normalize_answer

if TYPE_CHECKING:
    import numpy as np

    from ..encode.text import EmbeddingStore
    from ..scene.graph import SceneGraph

__all__ = ["ABSENT_RANK", "FEATURES", "SOURCES", "AnswerClassifier", "CandidateModels", "Candidates",
           "NeighbourVotes", "Vectors", "build_candidates", "default_vectors", "scene_labels"]


def scene_labels(scene: SceneGraph) -> list[str]:
    """The scene's object names, once each, in detection order."""
    return list(dict.fromkeys(o.name for o in scene.objects))


SOURCES = ("coco", "places", "imagenet")
"""The detectors whose labels make the image part of a question's vector, in order."""


class Vectors:
    """Embeddings of the texts the answerer meets: questions, labels, answers (normalised
    rows, from an :class:`~nsreason.encode.EmbeddingStore`, which embeds each text once), and
    the image vector of a scene (per detector in :data:`SOURCES`, the mean embedding of its
    labels)."""

    def __init__(self, store: EmbeddingStore) -> None:
        self.store = store

    def add(self, texts: Iterable[str]) -> None:
        """Embed the texts not seen yet (in one batch)."""
        self.store.get(list(texts))

    def get(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text."""
        return self.store.get(list(texts))

    @property
    def dim(self) -> int:
        return self.store.dim

    def image(self, scene: SceneGraph) -> np.ndarray:
        import numpy as np

        parts = []
        for source in SOURCES:
            names = [o.name for o in scene.objects if o.get("source") == source]
            parts.append(self.get(names).mean(axis=0) if names else np.zeros(self.dim, np.float32))
        return np.concatenate(parts).astype(np.float32)

    def question_image(self, question: str, scene: SceneGraph) -> np.ndarray:
        """The classifier's input: the question's row, then :meth:`image`."""
        import numpy as np

        return np.concatenate([self.get([question])[0], self.image(scene)])

    def neighbour_key(self, question: str, scene: SceneGraph) -> np.ndarray:
        """The neighbours' metric: question row and unit image vector, normalised."""
        import numpy as np

        img = self.image(scene)
        norm = float(np.linalg.norm(img))
        v = np.concatenate([self.get([question])[0], img / norm if norm else img])
        return v / np.linalg.norm(v)


def default_vectors() -> Vectors:
    """:class:`Vectors` from MiniLM whose embeddings persist in the cache folder
    (``<cache>/embeddings/okvqa-texts.safetensors``)."""
    from ..encode.text import EmbeddingStore, TextEncoder, cache_dir

    return Vectors(EmbeddingStore(TextEncoder(), cache_dir() / "embeddings" / "okvqa-texts.safetensors"))


FEATURES = (
    "clf_p", "clf_rank", "in_vocab", "knn_vote", "knn_rank",
    "is_label", "label_coco", "label_places", "label_imagenet", "label_rank",
    "in_kb", "kb_score", "kb_rank", "kb_votes", "kb_side",
    "log_freq", "prior", "cos_q", "cos_wh", "in_question", "words", "numeric",
)
"""The reranker's inputs for one (question, candidate answer), in this order. Ranks are
``log(1 + rank)`` (0-based; :data:`ABSENT_RANK` when the generator did not propose it)."""

ABSENT_RANK = 4.0


class AnswerClassifier:
    """Softmax regression over an answer vocabulary: ``classes`` (answers), ``coef``
    (classes x inputs; one row for two classes, read as a logistic), ``intercept``; with no
    ``coef`` it answers its one class (a training set with nothing to tell apart).

    Fitted by :func:`nsreason.okvqa.candidates.fit_answer_classifier` (scikit-learn's
    ``LogisticRegression``, whose ``predict_proba`` :meth:`probabilities` computes the same
    way)."""

    def __init__(self, classes: Sequence[str], coef: np.ndarray | None = None,
                 intercept: np.ndarray | None = None) -> None:
        self.classes = list(classes)
        self.coef, self.intercept = coef, intercept

    def __repr__(self) -> str:
        return f"AnswerClassifier(classes={len(self.classes)})"

    def probabilities(self, X: np.ndarray) -> np.ndarray:
        """One row of class probabilities per input row (classes in :attr:`classes`' order)."""
        import numpy as np

        assert self.coef is not None and self.intercept is not None
        decision = X @ self.coef.T + self.intercept
        if self.coef.shape[0] == 1:  # two classes: a logistic, as scikit-learn's binary case
            p = 1.0 / (1.0 + np.exp(-decision[:, 0]))
            return np.stack([1.0 - p, p], axis=1)
        decision = decision - decision.max(axis=1, keepdims=True)
        np.exp(decision, out=decision)
        decision /= decision.sum(axis=1, keepdims=True)
        return decision

    def top_answers(self, X: np.ndarray, k: int = 10) -> list[list[tuple[str, float]]]:
        """The ``k`` most probable answers of each row, with their probabilities."""
        import numpy as np

        if self.coef is None:
            return [[(a, 1.0) for a in self.classes] for _ in range(len(X))]
        P = self.probabilities(X)
        best = np.argsort(-P, axis=1)[:, :k]
        return [[(self.classes[j], float(P[i, j])) for j in row] for i, row in enumerate(best)]


class NeighbourVotes:
    """The answers of the ``k`` training questions nearest by :meth:`Vectors.neighbour_key`,
    each voted by similarity x its accuracy there; votes are divided by their sum."""

    def __init__(self, k: int = 20) -> None:
        self.k = k
        self.matrix: Any = None
        self.targets: list[Mapping[str, float]] = []

    def __repr__(self) -> str:
        return f"NeighbourVotes(k={self.k}, questions={len(self.targets)})"

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
class CandidateModels:
    """What one training set gives the candidates of other questions: classifier,
    neighbours, answer frequencies, the prefix prior."""

    classifier: AnswerClassifier
    neighbours: NeighbourVotes
    frequency: Mapping[str, float]
    prior: AnswerPrior


def build_candidates(models: CandidateModels, vectors: Vectors, questions: Sequence[str],
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
