"""The knowledge base's answer candidates for OK-VQA questions, retrieved once and kept on
disk (:class:`RetrievalCache`): retrieval is the slow part of the ``kb`` answerer (timings in
docs/knowledge.md), so each question's KB candidates are stored under ``$NSREASON_CACHE``,
keyed by the KB's content, the ranker, the question and the scene's labels."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .vqa_answers import normalize_answer

if TYPE_CHECKING:
    import numpy as np

__all__ = ["KbCandidate", "RetrievalCache", "aggregate", "default_retrieval", "retrieval_cache_path"]


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
    :func:`nsreason.retrieve.setup.load_kbs`); ``ranker_key`` the ranker.
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
    from ..encode.text import cache_dir

    h = hashlib.sha256()
    for name in ("rel_w", "rel_b", "side_w", "side_b", "w", "b"):
        value = getattr(ranker, name, None)
        h.update(value.tobytes() if hasattr(value, "tobytes") else repr(value).encode())
    h.update(json.dumps(getattr(ranker, "relations", [])).encode())
    return cache_dir() / "okvqa" / f"retrieval-{kb_key}-{h.hexdigest()[:12]}.jsonl"


def default_retrieval(kb_specs: Sequence[str] = ("default",)) -> RetrievalCache:
    """The :class:`RetrievalCache` of the KB ``kb_specs`` (see
    :func:`nsreason.retrieve.setup.load_kbs`) with the shipped ranker; on disk when the KB's
    content is known (the default KB), else in memory."""
    from ..retrieve.ranker import Ranker
    from ..retrieve.setup import load_kbs, make_retriever

    specs = list(kb_specs)
    key = None
    if specs == ["default"]:
        from ..kb.default import default_kb_key

        key = default_kb_key()

    def make() -> Any:
        kb, k = load_kbs(specs)
        return make_retriever(kb, k)

    return RetrievalCache(make, retrieval_cache_path(key, Ranker.load()) if key else None)
