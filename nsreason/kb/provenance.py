"""Provenance: where a fact comes from, read from RDF reification.

A fact's provenance is a node with ``rdf:subject``, ``rdf:predicate``, ``rdf:object`` equal
to the triple and ``dcterms:source S``; ``S`` has ``rdfs:label`` and ``dcterms:license``.
:meth:`KnowledgeBase.facts <nsreason.kb.KnowledgeBase.facts>` and
:meth:`~nsreason.kb.KnowledgeBase.statements` call these over the backend's pattern match;
a SPARQL endpoint answers both with a few queries instead (:mod:`nsreason.kb.sparql`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .limits import Budget, ResultList, cut
from .terms import (
    DCTERMS,
    IRI,
    META_PREDICATES,
    RDF,
    RDFS,
    Fact,
    Literal,
    Term,
    Triple,
    term_sort_key,
)

if TYPE_CHECKING:
    from .base import KnowledgeBase

__all__ = ["Statement", "facts", "statement_triple", "statements"]


@dataclass(frozen=True)
class Statement:
    """A reified statement: its ``node``, the node's ``props`` (predicate → objects) and
    whether the triple it describes is ``asserted`` in the knowledge base."""

    node: Term
    props: dict[Term, list[Term]]
    asserted: bool

    @property
    def triple(self) -> tuple[Term, Term, Term] | None:
        """(subject, predicate, object) when the node is well formed, else None."""
        return statement_triple(self.props)


def statement_triple(props: dict[Term, list[Term]]) -> tuple[Term, Term, Term] | None:
    """The (subject, predicate, object) a statement node describes: exactly one of each, an
    IRI predicate and a non-literal subject; else None."""
    try:
        (s,), (p,), (o,) = props[RDF.subject], props[RDF.predicate], props[RDF.object]
    except (KeyError, ValueError):
        return None
    if not isinstance(p, IRI) or isinstance(s, Literal):
        return None
    return s, p, o


def statements(kb: KnowledgeBase, entity: Term, n: int,
               timeout: float | None) -> Iterator[Statement]:
    """The statement nodes whose ``rdf:subject`` or ``rdf:object`` is ``entity`` (at most
    ``n`` of each), in the order of their string form, each with all its properties and
    whether its triple is asserted."""
    nodes: set[Term] = set()
    for pred in (RDF.subject, RDF.object):
        nodes.update(t.subject for t in kb.match(None, pred, entity, limit=n, timeout=timeout))
    for node in sorted(nodes, key=str):
        props: dict[Term, list[Term]] = {}
        for t in kb.match(node, None, None, limit=64, timeout=timeout):
            props.setdefault(t.predicate, []).append(t.object)
        spo = statement_triple(props)
        asserted = spo is not None and bool(list(kb.match(*spo, limit=1, timeout=timeout)))
        yield Statement(node, props, asserted)


def _has(kb: KnowledgeBase, s: Term, p: IRI, o: Term, budget: Budget) -> bool:
    return any(True for _ in kb._triples(s, p, o, budget))


def _text(term: Term) -> str:
    return term.value if isinstance(term, Literal) else str(term)


def sources_of(kb: KnowledgeBase, t: Triple,
               budget: Budget) -> list[tuple[Term, str | None, str | None]]:
    """(source, licence, source label) of each reified statement of ``t``."""
    out = []
    for r in kb._triples(None, RDF.subject, t.subject, budget):
        node = r.subject
        if not _has(kb, node, RDF.predicate, t.predicate, budget):
            continue
        if not _has(kb, node, RDF.object, t.object, budget):
            continue
        for s in kb._triples(node, DCTERMS.source, None, budget):
            src = s.object
            lic = sorted(_text(x.object) for x in kb._triples(src, DCTERMS.license, None, budget))
            lab = sorted(x.object.value for x in kb._triples(src, RDFS.label, None, budget)
                         if isinstance(x.object, Literal))
            out.append((src, lic[0] if lic else None, lab[0] if lab else None))
    return out


def facts(kb: KnowledgeBase, head: Term | None, relation: Term | None, tail: Term | None,
          n: int, budget: Budget) -> ResultList[Fact]:
    """Asserted triples matching the pattern, one :class:`Fact` per source (a triple without
    one gives a fact with ``source=None``), at most ``n``. Names and provenance triples are
    skipped unless ``relation`` asks for one of them."""
    out: list[Fact] = []
    with budget:
        for t in kb._triples(head, relation, tail, budget):  # type: ignore[arg-type]
            budget.check()
            if relation is None and t.predicate in META_PREDICATES:
                continue
            prov = sources_of(kb, t, budget) or [(None, None, None)]
            for src, lic, lab in sorted(prov, key=lambda x: term_sort_key(x[0])):
                out.append(Fact(*t, source=src, licence=lic, source_label=lab))
            if len(out) > n:
                break
    return cut(out, n)
