"""A union of knowledge bases: a user KB loaded beside the default one.

Pattern matches, names, neighbours and label lookups are the union of the members'
(duplicates dropped); paths walk the union, so a path may cross from one member to another;
facts are each member's facts (a member resolves the provenance of its own triples), with
a source's label and licence looked up across all members when its own member lacks them.

>>> from nsreason.kb import MemoryKB, IRI
>>> a = MemoryKB([("urn:dog", "urn:isA", "urn:animal")])
>>> b = MemoryKB([("urn:cat", "urn:isA", "urn:animal")])
>>> kb = MultiKB([a, b])
>>> kb, [p.nodes for p in kb.paths("urn:dog", "urn:cat")]
(MultiKB(MemoryKB(triples=1), MemoryKB(triples=1)), [(IRI('urn:dog'), IRI('urn:animal'), IRI('urn:cat'))])
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .base import KnowledgeBase
from .limits import Budget, Limits, ResultList, cut
from .terms import DCTERMS, IRI, RDFS, Fact, Literal, Term, Triple, term_sort_key

__all__ = ["MultiKB", "union"]


class MultiKB(KnowledgeBase):
    """The union of ``members`` (knowledge bases, in order)."""

    name = "multi"

    def __init__(self, members: Iterable[KnowledgeBase], *, limits: Limits | None = None) -> None:
        self.members = list(members)
        for m in self.members:
            if not isinstance(m, KnowledgeBase):
                raise TypeError(f"MultiKB members must be KnowledgeBase instances, got "
                                f"{type(m).__name__}")
        if limits is not None:
            self.limits = limits

    @property
    def supports_text_search(self) -> bool:  # type: ignore[override]
        return any(m.supports_text_search for m in self.members)

    @property
    def remote(self) -> bool:  # type: ignore[override]
        return any(m.remote for m in self.members)

    def __repr__(self) -> str:
        return f"MultiKB({', '.join(repr(m) for m in self.members)})"

    def _triples(self, s: Term | None, p: IRI | None, o: Term | None,
                 budget: Budget) -> Iterator[Triple]:
        seen: set[Triple] = set()
        for m in self.members:
            for t in m._triples(s, p, o, budget):
                if t not in seen:
                    seen.add(t)
                    yield t

    def _members_union(self, method: str, *args, limit: int | None,
                       timeout: float | None) -> ResultList[Term]:
        n = self._limit(limit)
        budget = self._budget(timeout, method)
        found: set = set()
        truncated = False
        with budget:
            for m in self.members:
                if method == "search" and not m.supports_text_search:
                    continue
                r = getattr(m, method)(*args, limit=n + 1, timeout=budget.remaining() or 1e-9)
                truncated = truncated or r.truncated
                found.update(r)
                budget.check()
        out = cut(sorted(found, key=term_sort_key), n)
        out.truncated = out.truncated or truncated
        return out

    def entities_by_label(self, text: str, *, limit: int | None = None,
                          timeout: float | None = None) -> ResultList[Term]:
        return self._members_union("entities_by_label", text, limit=limit, timeout=timeout)

    def search(self, text: str, *, limit: int | None = None,
               timeout: float | None = None) -> ResultList[Term]:
        if not self.supports_text_search:
            return super().search(text, limit=limit, timeout=timeout)
        return self._members_union("search", text, limit=limit, timeout=timeout)

    def facts(self, head: Term | str | None = None, relation: IRI | str | None = None,
              tail: Term | str | None = None, *, limit: int | None = None,
              timeout: float | None = None) -> ResultList[Fact]:
        n = self._limit(limit)
        budget = self._budget(timeout, "facts")
        found: dict[tuple, Fact] = {}
        truncated = False
        with budget:
            for m in self.members:
                r = m.facts(head, relation, tail, limit=n + 1,
                            timeout=budget.remaining() or 1e-9)
                truncated = truncated or r.truncated
                for f in r:
                    key = (f.head, f.relation, f.tail, f.source)
                    old = found.get(key)
                    if old is None or (old.licence, old.source_label) == (None, None):
                        found[key] = f
            out = []
            by_triple: dict[tuple, list[Fact]] = {}
            for f in found.values():
                by_triple.setdefault(f.triple, []).append(f)
            for facts in by_triple.values():
                if len(facts) > 1:  # a member without provenance does not add a bare fact
                    facts = [f for f in facts if f.source is not None]
                out.extend(self._complete(f, budget) for f in facts)
        out = cut(out, n)
        out.truncated = out.truncated or truncated
        return out

    def _complete(self, f: Fact, budget: Budget) -> Fact:
        if f.source is None or (f.licence is not None and f.source_label is not None):
            return f
        lic, lab = f.licence, f.source_label
        if lic is None:
            lics = sorted(t.object.value if isinstance(t.object, Literal) else str(t.object)
                          for t in self._triples(f.source, DCTERMS.license, None, budget))
            lic = lics[0] if lics else None
        if lab is None:
            labs = sorted(t.object.value for t in self._triples(f.source, RDFS.label, None, budget)
                          if isinstance(t.object, Literal))
            lab = labs[0] if labs else None
        return Fact(f.head, f.relation, f.tail, source=f.source, licence=lic, source_label=lab,
                    score=f.score)

    def close(self) -> None:
        for m in self.members:
            m.close()


def union(*members: KnowledgeBase) -> MultiKB:
    """``union(a, b)`` is ``MultiKB([a, b])``."""
    return MultiKB(members)
