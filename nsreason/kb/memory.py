"""In-memory knowledge base: three nested-dict indexes (SPO, POS, OSP) and a label index.

>>> from nsreason.kb.terms import IRI, Literal, RDFS, SKOS
>>> kb = MemoryKB([("urn:dog", RDFS.label, Literal("dog")),
...                ("urn:dog", SKOS.altLabel, Literal("hound"))])
>>> kb
MemoryKB(triples=2)
>>> kb.search("OUN")
[IRI('urn:dog')]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .base import KnowledgeBase
from .limits import Budget, Limits, ResultList, cut
from .terms import IRI, RDFS, SKOS, Literal, Term, Triple, as_term, normalise_label, term_sort_key

__all__ = ["MemoryKB"]

_Index = dict[Term, dict[Term, dict[Term, None]]]


class MemoryKB(KnowledgeBase):
    """Triples held in Python dicts; fast pattern lookups for every bound/unbound mix.

    Parameters
    ----------
    triples:
        Initial triples, as :class:`~nsreason.kb.terms.Triple` or 3-tuples of terms/strings.
    limits:
        Default result and time limits of queries.
    """

    name = "memory"
    supports_text_search = True

    def __init__(self, triples: Iterable[tuple] = (), *, limits: Limits | None = None) -> None:
        self._spo: _Index = {}
        self._pos: _Index = {}
        self._osp: _Index = {}
        self._labels: dict[str, dict[Term, None]] = {}
        self._size = 0
        if limits is not None:
            self.limits = limits
        self.add_all(triples)

    def add(self, subject: Term | str, predicate: IRI | str, object: Term | str) -> None:
        """Add one triple (a duplicate is ignored)."""
        s, p, o = as_term(subject), as_term(predicate), as_term(object)
        if isinstance(s, Literal) or not isinstance(p, IRI):
            raise TypeError(f"a triple needs an IRI/blank-node subject and an IRI predicate, "
                            f"got ({s!r}, {p!r}, ...)")
        objs = self._spo.setdefault(s, {}).setdefault(p, {})
        if o in objs:
            return
        objs[o] = None
        self._pos.setdefault(p, {}).setdefault(o, {})[s] = None
        self._osp.setdefault(o, {}).setdefault(s, {})[p] = None
        self._size += 1
        if p in (RDFS.label, SKOS.altLabel) and isinstance(o, Literal):
            self._labels.setdefault(normalise_label(o.value), {})[s] = None

    def add_all(self, triples: Iterable[tuple]) -> None:
        """Add many triples."""
        for t in triples:
            self.add(*t)

    def __len__(self) -> int:
        return self._size

    def __repr__(self) -> str:
        return f"{type(self).__name__}(triples={self._size})"

    def _triples(self, s: Term | None, p: IRI | None, o: Term | None,
                 budget: Budget) -> Iterator[Triple]:
        if s is not None:
            by_p = self._spo.get(s, {})
            if p is not None:
                objs = by_p.get(p, {})
                if o is not None:
                    if o in objs:
                        yield Triple(s, p, o)
                    return
                for o2 in objs:
                    yield Triple(s, p, o2)
                return
            if o is not None:
                for p2 in self._osp.get(o, {}).get(s, {}):
                    yield Triple(s, p2, o)
                return
            for p2, objs in by_p.items():
                for o2 in objs:
                    yield Triple(s, p2, o2)
            return
        if p is not None:
            by_o = self._pos.get(p, {})
            if o is not None:
                for s2 in by_o.get(o, {}):
                    yield Triple(s2, p, o)
                return
            for o2, subs in by_o.items():
                budget.check()
                for s2 in subs:
                    yield Triple(s2, p, o2)
            return
        if o is not None:
            for s2, preds in self._osp.get(o, {}).items():
                for p2 in preds:
                    yield Triple(s2, p2, o)
            return
        for s2, by_p in self._spo.items():
            budget.check()
            for p2, objs in by_p.items():
                for o2 in objs:
                    yield Triple(s2, p2, o2)

    def entities_by_label(self, text: str, *, limit: int | None = None,
                          timeout: float | None = None) -> ResultList[Term]:
        found = self._labels.get(normalise_label(text), {})
        return cut(sorted(found, key=term_sort_key), self._limit(limit))

    def search(self, text: str, *, limit: int | None = None,
               timeout: float | None = None) -> ResultList[Term]:
        """Entities whose label or alias contains ``text`` (case-insensitive), sorted."""
        key = normalise_label(text)
        budget = self._budget(timeout, "search")
        found: set[Term] = set()
        with budget:
            for label, entities in self._labels.items():
                if key in label:
                    found.update(entities)
                budget.check()
        return cut(sorted(found, key=term_sort_key), self._limit(limit))
