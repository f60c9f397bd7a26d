"""The ``kb`` OK-VQA answerer: answer candidates from a classifier, neighbours, the scene's
labels and the knowledge base, reranked by a learned scorer.

For one question (text + the detected labels of its image) the candidates are:

* the top answers of an answer-vocabulary classifier (:class:`AnswerClassifier`: softmax
  regression on the MiniLM embedding of the question and the mean embeddings of each
  detector's labels);
* the answers voted by the nearest training questions (:class:`NeighbourVotes`);
* the detected labels themselves (many questions ask what is in the image);
* the answers of the best facts the :class:`~nsreason.retrieve.retriever.Retriever` finds
  around the labels in the knowledge base (:class:`RetrievalCache`; each with its fact).

:class:`Reranker` scores every candidate from its features (:data:`FEATURES`), trained to
predict the candidate's soft VQA score; the answer is the best candidate, with its fact when
the knowledge base proposed it. Training questions get their classifier and neighbour
features from models that did not see them (stacked folds), so the reranker learns how far
to trust them on unseen questions.

Retrieval is the slow part (all 9,009 OK-VQA train questions took 8.6 minutes, 0.06 s a
question, on one shared CPU thread with the KB's text embeddings already on disk), so each
question's KB candidates are kept on disk (:class:`RetrievalCache`, under
``$NSREASON_CACHE``), keyed by the KB, the ranker, the question and the labels.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .datasets.vqa_answers import normalize_answer
from .parse.text import first_words, words

if TYPE_CHECKING:
    import numpy as np

    from .scene.graph import SceneGraph

__all__ = [
    "FEATURES", "AnswerClassifier", "Candidates", "FoldModels", "KbAnswerer", "KbCandidate",
    "NeighbourVotes", "Reranker", "RetrievalCache", "Vectors", "answer_targets",
    "build_candidates", "fit_kb_answerer", "kb_answerer", "scene_labels",
]

_log = logging.getLogger(__name__)


def scene_labels(scene: SceneGraph) -> list[str]:
    """The scene's object names, once each, in detection order."""
    return list(dict.fromkeys(o.name for o in scene.objects))


# -- retrieval, cached -------------------------------------------------------------------

@dataclass
class KbCandidate:
    """One answer the retriever proposed for a question: its text (normalised as VQA
    answers are), ``side`` (``kb``: the fact's other end; ``scene``: a detected label the
    fact is about), the retriever's best ``score`` and ``rank`` (0-based, among distinct
    answers), how many of the leading candidates gave it (``votes``) and the best fact
    (:meth:`~nsreason.retrieve.facts.FactRecord.to_json` shape)."""

    answer: str
    side: str
    score: float
    rank: int
    votes: int
    fact: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"answer": self.answer, "side": self.side, "score": round(self.score, 4),
                "rank": self.rank, "votes": self.votes, "fact": self.fact}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> KbCandidate:
        return cls(d["answer"], d["side"], float(d["score"]), int(d["rank"]), int(d["votes"]),
                   dict(d["fact"]))


def _compact_fact(fact: Any, labels: Mapping[Any, str]) -> dict[str, Any]:
    out = fact.to_json(labels)
    notes = out.pop("notes", None) or {}
    if notes.get("surface"):
        out["surface"] = notes["surface"]
    return out


def aggregate(candidates: Sequence[Any], labels: Mapping[Any, str], *, top: int = 24,
              lead: int = 200) -> list[KbCandidate]:
    """The retriever's candidates (best first) folded by normalised answer: the first
    ``top`` distinct answers, each with its best candidate's score and fact and the number
    of the first ``lead`` candidates that gave it."""
    votes: Counter[str] = Counter()
    for c in candidates[:lead]:
        votes[normalize_answer(c.answer)] += 1
    out: dict[str, KbCandidate] = {}
    for c in candidates:
        answer = normalize_answer(c.answer)
        if not answer or answer in out:
            continue
        out[answer] = KbCandidate(answer, c.side, float(c.score), len(out), votes[answer],
                                  _compact_fact(c.fact, labels))
        if len(out) >= top:
            break
    return list(out.values())


class RetrievalCache:
    """Each question's :class:`KbCandidate` list, computed once by a retriever and kept in
    a JSON-lines file: ``<cache>/okvqa/retrieval-<kb key>-<ranker>.jsonl``, one line per
    (question, labels) with its key (SHA-256 of the question and labels).

    ``make_retriever`` is called at the first miss only (it loads the KB and MiniLM), so a
    full cache answers without either. ``kb_key`` names the KB's content (see
    :func:`nsreason.evaluate_fvqa.load_kbs`); ``ranker_key`` the ranker.
    """

    def __init__(self, make_retriever: Callable[[], Any] | None, path: str | Path | None, *,
                 top: int = 24) -> None:
        self.make_retriever = make_retriever
        self.path = Path(path) if path is not None else None
        self.top = top
        self._retriever: Any = None
        self._entries: dict[str, list[KbCandidate]] = {}
        self.computed = 0
        self.retrieve_seconds = 0.0
        if self.path is not None and self.path.is_file():
            with self.path.open(encoding="utf-8") as f:
                for line in f:
                    try:
                        row = json.loads(line)
                        self._entries[row["key"]] = [KbCandidate.from_json(c) for c in row["candidates"]]
                    except (ValueError, KeyError, TypeError):
                        continue  # a torn last line (interrupted run) is recomputed

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"RetrievalCache(entries={len(self)}, path={str(self.path) if self.path else None!r})"

    @staticmethod
    def key(question: str, labels: Sequence[str]) -> str:
        h = hashlib.sha256(question.encode("utf-8"))
        for label in labels:
            h.update(b"\x1f" + label.encode("utf-8"))
        return h.hexdigest()[:24]

    def __contains__(self, item: tuple[str, Sequence[str]]) -> bool:
        return self.key(*item) in self._entries

    @property
    def retriever(self) -> Any:
        if self._retriever is None:
            if self.make_retriever is None:
                raise LookupError("the retrieval cache has no entry for this question and no "
                                  "retriever to compute it")
            self._retriever = self.make_retriever()
        return self._retriever

    def get(self, question: str, labels: Sequence[str], *,
            question_vector: np.ndarray | None = None) -> list[KbCandidate]:
        """The KB candidates of ``question`` about an image with ``labels`` (retrieved and
        stored at the first call)."""
        key = self.key(question, labels)
        hit = self._entries.get(key)
        if hit is not None:
            return hit
        if not labels:
            hit = []
        else:
            t0 = time.perf_counter()
            retrieval = self.retriever.retrieve(question, labels, question_vector=question_vector)
            hit = aggregate(retrieval.candidates, retrieval.labels, top=self.top)
            self.retrieve_seconds += time.perf_counter() - t0
            self.computed += 1
        self._entries[key] = hit
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"key": key, "candidates": [c.to_json() for c in hit]}) + "\n")
        return hit

    def fill(self, items: Iterable[tuple[str, Sequence[str]]], *,
             vectors: Mapping[str, np.ndarray] | None = None, every: int = 250,
             progress: Callable[[int, int, float], None] | None = None) -> int:
        """Retrieve every ``(question, labels)`` not cached yet; the retriever's embedding
        store is saved every ``every`` questions. Returns how many were computed."""
        todo = [(q, tuple(ls)) for q, ls in dict.fromkeys((q, tuple(ls)) for q, ls in items)
                if (q, ls) not in self]
        t0 = time.perf_counter()
        for i, (question, labels) in enumerate(todo, 1):
            self.get(question, labels, question_vector=None if vectors is None else vectors.get(question))
            if i % every == 0 or i == len(todo):
                store = getattr(self._retriever, "store", None)
                if store is not None:
                    store.save()
                if progress is not None:
                    progress(i, len(todo), time.perf_counter() - t0)
        return len(todo)


def retrieval_cache_path(kb_key: str, ranker: Any) -> Path:
    """Where the default cache of ``kb_key`` with ``ranker`` lives (``$NSREASON_CACHE``)."""
    from .encode.text import cache_dir

    h = hashlib.sha256()
    for name in ("rel_w", "rel_b", "side_w", "side_b", "w", "b"):
        value = getattr(ranker, name, None)
        h.update(value.tobytes() if hasattr(value, "tobytes") else repr(value).encode())
    h.update(json.dumps(getattr(ranker, "relations", [])).encode())
    return cache_dir() / "okvqa" / f"retrieval-{kb_key}-{h.hexdigest()[:12]}.jsonl"


# -- text and image vectors ----------------------------------------------------------------

SOURCES = ("coco", "places", "imagenet")
"""The detectors whose labels make the image part of a question's vector, in order."""


class Vectors:
    """MiniLM embeddings of the texts the answerer meets: questions, labels, answers
    (all normalised rows), and the image vector of a scene (per detector in
    :data:`SOURCES`, the mean embedding of its labels)."""

    def __init__(self, encode: Callable[[Sequence[str]], np.ndarray]) -> None:
        self.encode = encode
        self._rows: dict[str, np.ndarray] = {}

    def add(self, texts: Iterable[str]) -> None:
        missing = list(dict.fromkeys(t for t in texts if t not in self._rows))
        if missing:
            self._rows.update(zip(missing, self.encode(missing)))

    def get(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        self.add(texts)
        return np.stack([self._rows[t] for t in texts]) if texts else np.zeros((0, self.dim))

    @property
    def dim(self) -> int:
        return len(next(iter(self._rows.values()))) if self._rows else 384

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


def answer_targets(answers: Any) -> dict[str, float]:
    """The official accuracy of each normalised human answer of one question (> 0)."""
    out: dict[str, float] = {}
    for a in answers.counts:
        c = normalize_answer(a)
        if c and c not in out:
            acc = answers.accuracy(c)
            if acc > 0:
                out[c] = acc
    return out


# -- the candidate generators ------------------------------------------------------------

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


# -- features and the reranker -----------------------------------------------------------

FEATURES = (
    "clf_p", "clf_rank", "in_vocab", "knn_vote", "knn_rank",
    "is_label", "label_coco", "label_places", "label_imagenet", "label_rank",
    "in_kb", "kb_score", "kb_rank", "kb_votes", "kb_side",
    "log_freq", "prior", "cos_q", "cos_wh", "in_question", "words", "numeric",
)
"""The reranker's inputs for one (question, candidate answer), in this order. Ranks are
``log(1 + rank)`` (0-based; :data:`ABSENT_RANK` when the generator did not propose it)."""

ABSENT_RANK = 4.0


def wh_phrase(question: str, words: int = 4) -> str:
    """The first words of the question (its "what kind of thing" part).

    >>> wh_phrase("Which breed of dog is this?")
    'which breed of dog'
    """
    return first_words(question, words)


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
    from .evaluate_okvqa import AnswerPrior

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
        qv = vectors.get([question, wh_phrase(question)])
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


# -- the answerer --------------------------------------------------------------------------

class KbAnswerer:
    """Answers with one fold's models: candidates of the question (KB ones from
    ``retrieval``), the reranker's best. Returns ``(answer, fact or None, predicted
    accuracy)``; the fact is given when the KB proposed the answer (the fact's far end)."""

    def __init__(self, models: FoldModels, reranker: Reranker, vectors: Vectors,
                 retrieval: RetrievalCache | None, per_source: int = 10) -> None:
        self.models, self.reranker, self.vectors = models, reranker, vectors
        self.retrieval, self.per_source = retrieval, per_source

    def __repr__(self) -> str:
        return f"KbAnswerer(vocabulary={len(self.models.classifier.classes)}, kb={self.retrieval!r})"

    def candidates(self, question: str, scene: SceneGraph) -> Candidates:
        kb = self.retrieval.get(question, scene_labels(scene)) if self.retrieval is not None else []
        X = self.vectors.question_image(question, scene)[None]
        V = self.vectors.neighbour_key(question, scene)[None]
        return build_candidates(self.models, self.vectors, [question], [scene], X, V, [kb],
                                per_source=self.per_source)[0]

    def __call__(self, question: str, scene: SceneGraph) -> tuple[str | None, Any, float | None]:
        return self.reranker.choose(self.candidates(question, scene))


def default_vectors() -> Vectors:
    """:class:`Vectors` from MiniLM whose embeddings persist in the cache folder
    (``<cache>/embeddings/okvqa-texts.safetensors``)."""
    from .encode.text import EmbeddingStore, TextEncoder, cache_dir

    store = EmbeddingStore(TextEncoder(), cache_dir() / "embeddings" / "okvqa-texts.safetensors")
    vectors = Vectors(store.get)
    vectors.store = store  # type: ignore[attr-defined]
    return vectors


def default_retrieval(kb_specs: Sequence[str] = ("default",)) -> RetrievalCache:
    """The :class:`RetrievalCache` of the KB ``kb_specs`` (see
    :func:`nsreason.evaluate_fvqa.load_kbs`) with the shipped ranker; on disk when the KB's
    content is known (the default KB), else in memory."""
    from .retrieve.ranker import Ranker
    from .retrieve.setup import load_kbs, make_retriever

    specs = list(kb_specs)
    key = None
    if specs == ["default"]:
        from .kb.default import default_kb_key

        key = default_kb_key()

    def make() -> Any:
        kb, k = load_kbs(specs)
        return make_retriever(kb, k)

    return RetrievalCache(make, retrieval_cache_path(key, Ranker.load()) if key else None)


def fit_kb_answerer(texts: Sequence[str], scenes: Sequence[SceneGraph], answers: Sequence[Any],
                    fold: Sequence[int], *, vectors: Vectors, retrieval: RetrievalCache | None,
                    top: int = 500, k: int = 20, per_source: int = 10,
                    log: Callable[[str], None] | None = None) -> list[KbAnswerer]:
    """One :class:`KbAnswerer` per fold ``f`` (``fold[i]`` is row ``i``'s fold), trained on
    the rows of the other folds only.

    The reranker of fold ``f`` learns from the candidates of every row ``i`` outside ``f``,
    made by the models fitted without ``f`` and without ``fold[i]`` (stacking), so that
    their classifier and neighbour features are as sharp as on an unseen question."""
    import numpy as np

    say = log or _log.info
    t0 = time.perf_counter()
    folds = sorted(set(fold))
    if len(folds) < 3:
        from .errors import InputError

        raise InputError(f"the kb answerer needs at least 3 folds (its reranker learns from "
                         f"models fitted without two of them), got {len(folds)}")
    fold_arr = np.asarray(fold)
    targets = [answer_targets(a) for a in answers]
    vectors.add(texts)
    vectors.add(wh_phrase(t) for t in texts)
    X = np.stack([vectors.question_image(t, s) for t, s in zip(texts, scenes)])
    V = np.stack([vectors.neighbour_key(t, s) for t, s in zip(texts, scenes)])
    kb: list[Sequence[KbCandidate]] = [[] for _ in texts]
    if retrieval is not None:
        t = time.perf_counter()
        retrieval.fill(((q, scene_labels(s)) for q, s in zip(texts, scenes)))
        kb = [retrieval.get(q, scene_labels(s)) for q, s in zip(texts, scenes)]
        say(f"KB candidates: {retrieval.computed} retrieved in {time.perf_counter() - t:.0f} s")
    say(f"vectors: {time.perf_counter() - t0:.0f} s")

    def fit(excluded: set[int]) -> FoldModels:
        rows = np.flatnonzero(~np.isin(fold_arr, list(excluded)))
        return fit_fold_models(X[rows], V[rows], [texts[i] for i in rows], [answers[i] for i in rows],
                               [targets[i] for i in rows], top=top, k=k)

    models: dict[frozenset[int], FoldModels] = {}
    for f in folds:
        t = time.perf_counter()
        models[frozenset([f])] = fit({f})
        for g in folds:
            if g > f:
                models[frozenset([f, g])] = fit({f, g})
        say(f"fold {f}: models fitted in {time.perf_counter() - t:.0f} s")
    out = []
    for f in folds:
        t = time.perf_counter()
        cands: list[Candidates] = []
        accs: list[list[float]] = []
        for g in folds:
            if g == f:
                continue
            rows = np.flatnonzero(fold_arr == g)
            made = build_candidates(models[frozenset([f, g])], vectors, [texts[i] for i in rows],
                                    [scenes[i] for i in rows], X[rows], V[rows],
                                    [kb[i] for i in rows], per_source=per_source)
            cands.extend(made)
            accs.extend([answers[i].accuracy(a) for a in c.answers] for i, c in zip(rows, made))
        reranker = Reranker().fit(cands, accs)
        out.append(KbAnswerer(models[frozenset([f])], reranker, vectors, retrieval, per_source))
        say(f"fold {f}: reranker on {sum(len(c.answers) for c in cands)} candidates "
            f"in {time.perf_counter() - t:.0f} s")
    save = getattr(getattr(vectors, "store", None), "save", None)
    if save is not None:
        save()
    return out


def kb_answerer(setup: Any, *, kb: Sequence[str] | None = ("default",), top: int = 500,
                k: int = 20, per_source: int = 10, vectors: Vectors | None = None,
                retrieval: RetrievalCache | None = None,
                log: Callable[[str], None] | None = None) -> Any:
    """The ``kb`` answerer of ``nsreason eval okvqa``, cross-validated by image over the
    evaluated answers (``setup.folds`` folds of ``setup.seed``): a
    :class:`~nsreason.evaluate_okvqa.FoldedAnswerer` of :class:`KbAnswerer`.

    ``kb``: the KB specs the retriever uses (None: no KB candidates); ``top``: the
    classifier's answer vocabulary; ``k``: neighbours; ``per_source``: candidates taken
    from the classifier and from the neighbours."""
    from .datasets.okvqa import detection_scene
    from .errors import InputError
    from .evaluate_okvqa import FoldedAnswerer, image_folds

    if setup.prior_from is not None:
        raise InputError("the kb answerer learns from the evaluated answers (cross-validated "
                         "by image); --prior-from is not supported with it")
    scenes_by_image = dict(getattr(setup, "scenes", None) or {})
    texts_by_id = {q.question_id: q.question for q in setup.questions}
    rows = [(texts_by_id.get(qid, a.question), a) for qid, a in setup.answers.items()]
    rows = [(t, a) for t, a in rows if t is not None]
    texts = [t for t, _ in rows]
    answers = [a for _, a in rows]
    scenes = [scenes_by_image.get(a.image_id) or detection_scene(a.image_id, ()) for a in answers]
    fold_of = image_folds((a.image_id for a in answers), setup.folds, setup.seed)
    if vectors is None:
        vectors = default_vectors()
    if retrieval is None and kb is not None:
        retrieval = default_retrieval(kb)
    by_fold = fit_kb_answerer(texts, scenes, answers, [fold_of[a.image_id] for a in answers],
                              vectors=vectors, retrieval=retrieval, top=top, k=k,
                              per_source=per_source, log=log)
    return FoldedAnswerer(by_fold, fold_of)
