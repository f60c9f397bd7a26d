"""Facts around an entity, with their provenance and annotations, from any knowledge base.

:func:`entity_facts` collects the facts an entity takes part in (as subject or object):
the reified ones (a fact node with ``rdf:subject``/``rdf:predicate``/``rdf:object``,
``dcterms:source`` and any annotation literals such as a surface text) and, for knowledge
bases without reification (a user's Turtle file), the plain asserted triples. Only
asserted triples are facts: a reified statement without its triple is skipped.

>>> from nsreason.kb import MemoryKB, IRI, RDF, RDFS, DCTERMS, Literal
>>> bear, toy, src = IRI("urn:teddy_bear"), IRI("urn:toy"), IRI("urn:src/conceptnet")
>>> kb = MemoryKB([(bear, IRI("urn:rel/IsA"), toy),
...                (IRI("urn:f1"), RDF.subject, bear), (IRI("urn:f1"), RDF.predicate, IRI("urn:rel/IsA")),
...                (IRI("urn:f1"), RDF.object, toy), (IRI("urn:f1"), DCTERMS.source, src),
...                (IRI("urn:f1"), IRI("urn:vocab/surface"), Literal("[[teddy bear]] is a [[toy]]")),
...                (src, RDFS.label, Literal("ConceptNet"))])
>>> [f.describe() for f in entity_facts(kb, bear)]
['urn:teddy_bear urn:rel/IsA urn:toy [ConceptNet]']
>>> entity_facts(kb, bear)[0].notes["surface"]
'[[teddy bear]] is a [[toy]]'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..kb.base import KnowledgeBase
from ..kb.terms import DCTERMS, IRI, META_PREDICATES, RDF, RDFS, BNode, Fact, Literal, Term

__all__ = ["FactRecord", "SourceCache", "entity_facts", "local_name"]

_REIFICATION = frozenset({RDF.subject, RDF.predicate, RDF.object, DCTERMS.source, RDF.type})
_SPANS = re.compile(r"\[\[(.*?)\]\]")


def local_name(term: Term) -> str:
    """The last segment of an IRI, percent-decoded, ``_`` as space: a readable name when an
    entity has no label.

    >>> local_name(IRI("http://nsreason.org/kb/rel/UsedFor")), local_name(IRI("urn:x#big%23f"))
    ('UsedFor', 'big#f')
    """
    from urllib.parse import unquote

    text = str(term)
    tail = re.split(r"[/#:]", text.rstrip("/#"))[-1] or text
    return unquote(tail).replace("_", " ")


@dataclass(frozen=True, slots=True)
class FactRecord(Fact):
    """A :class:`~nsreason.kb.terms.Fact` (triple, source, licence) with the fact node it
    came from and that node's annotation literals (``notes``, by the local name of their
    predicate: ``surface``, ``factId``...)."""

    node: IRI | BNode | None = None
    notes: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def describe(self) -> str:
        where = f" [{self.source_label or self.source}]" if self.source is not None else ""
        return f"{self.head} {self.relation} {self.tail}{where}"

    def spans(self) -> list[str]:
        """The ``[[...]]`` phrases of the surface text (ConceptNet's convention), if any."""
        return _SPANS.findall(self.notes.get("surface", ""))

    def to_json(self, labels: dict[Term, str] | None = None) -> dict[str, Any]:
        def name(t: Term) -> str:
            return t.value if isinstance(t, Literal) else str(t)

        out: dict[str, Any] = {"head": name(self.head), "relation": str(self.relation),
                               "tail": name(self.tail)}
        if labels:
            out["labels"] = [labels.get(self.head), labels.get(self.relation), labels.get(self.tail)]
        out["source"] = None if self.source is None else str(self.source)
        if self.source_label:
            out["source_label"] = self.source_label
        if self.licence:
            out["licence"] = self.licence
        if self.notes:
            out["notes"] = dict(self.notes)
        return out


class SourceCache:
    """``rdfs:label`` and ``dcterms:license`` of source nodes, looked up once per source."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.info: dict[Term, tuple[str | None, str | None]] = {}

    def get(self, src: Term) -> tuple[str | None, str | None]:
        hit = self.info.get(src)
        if hit is None:
            labels = sorted(self.kb.labels(src, limit=5))
            lic = sorted(t.object.value if isinstance(t.object, Literal) else str(t.object)
                         for t in self.kb.match(src, DCTERMS.license, None, limit=5))
            hit = self.info[src] = (labels[0] if labels else None, lic[0] if lic else None)
        return hit


def entity_facts(kb: KnowledgeBase, entity: Term, *, limit: int = 500,
                 timeout: float | None = None, sources: SourceCache | None = None) -> list[FactRecord]:
    """The facts ``entity`` is the subject or object of, at most ``limit`` (in a fixed
    order: reified facts by node, then plain triples). ``sources`` caches source names
    across calls."""
    sources = sources if sources is not None and sources.kb is kb else SourceCache(kb)
    out: list[FactRecord] = []
    covered: set[tuple[Term, Term, Term]] = set()
    for st in kb.statements(entity, limit=limit, timeout=timeout):
        spo = st.triple
        if spo is None or not st.asserted:
            continue  # not a well-formed statement node, or reified but not asserted
        s, p, o = spo
        node, props = st.node, st.props
        notes = {local_name(k): v[0].value for k, v in sorted(props.items(), key=lambda kv: str(kv[0]))
                 if k not in _REIFICATION and isinstance(v[0], Literal)}
        for src in props.get(DCTERMS.source, [None]):  # type: ignore[list-item]
            label, lic = sources.get(src) if src is not None else (None, None)
            out.append(FactRecord(s, p, o, source=src, licence=lic, source_label=label,  # type: ignore[arg-type]
                                  node=node, notes=notes))
            covered.add((s, p, o))
        if len(out) >= limit:
            return out[:limit]
    for direction in ("out", "in"):
        pattern = (entity, None, None) if direction == "out" else (None, None, entity)
        for t in kb.match(*pattern, limit=limit, timeout=timeout):
            if t.predicate in META_PREDICATES or t.predicate == RDFS.comment:
                continue
            if (t.subject, t.predicate, t.object) in covered or isinstance(t.object, Literal):
                continue
            covered.add((t.subject, t.predicate, t.object))
            out.append(FactRecord(t.subject, t.predicate, t.object))
            if len(out) >= limit:
                return out
    return out
