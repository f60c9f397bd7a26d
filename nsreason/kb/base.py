"""The :class:`KnowledgeBase` contract: a small core, derived methods with defaults,
capability flags, and limits on every query.

A backend implements one method, :meth:`KnowledgeBase._triples` (a pattern match with
``None`` as wildcard); everything else (labels, aliases, label lookup, neighbours, paths,
facts with provenance) has a default built on it that a backend may override with a faster
native query.

Every query has a result limit and a time limit (:mod:`nsreason.kb.limits`); paths are
searched by :mod:`nsreason.kb.paths`, facts' sources read by :mod:`nsreason.kb.provenance`.

>>> from nsreason.kb import MemoryKB, IRI, RDFS, Literal
>>> kb = MemoryKB([(IRI("urn:dog"), RDFS.label, Literal("dog")),
...                (IRI("urn:dog"), IRI("urn:isA"), IRI("urn:animal")),
...                (IRI("urn:cat"), IRI("urn:isA"), IRI("urn:animal"))])
>>> kb.entities_by_label("DOG")
[IRI('urn:dog')]
>>> r = kb.match(predicate=IRI("urn:isA"), limit=1)
>>> len(list(r)), r.truncated
(1, True)
>>> [p.nodes for p in kb.paths("urn:dog", "urn:cat", max_hops=2)]
[(IRI('urn:dog'), IRI('urn:animal'), IRI('urn:cat'))]
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar, Self

from . import paths as _paths
from . import provenance as _provenance
from .errors import KBCapabilityError, KBQueryError
from .limits import Budget, Limits, ResultList, Results, cut, take
from .paths import DIRECTIONS, MAX_HOPS
from .provenance import Statement
from .terms import (
    IRI,
    META_PREDICATES,
    RDFS,
    SKOS,
    BNode,
    Edge,
    Fact,
    Literal,
    Path,
    Term,
    Triple,
    as_term,
    as_term_or_none,
    normalise_label,
    term_sort_key,
)

__all__ = ["DIRECTIONS", "MAX_HOPS", "Budget", "KnowledgeBase", "Limits", "ResultList", "Results",
           "Statement"]


class KnowledgeBase(ABC):
    """Base class of knowledge bases. Subclasses implement :meth:`_triples`.

    Class attributes: ``name`` (the spec prefix), ``supports_sparql`` (``sparql()`` works),
    ``supports_text_search`` (``search()`` works), ``remote`` (its triples come over the
    network: callers look entities up by label with a query, never page through all its
    labels). Instances have ``limits``.
    """

    name: ClassVar[str] = "kb"
    supports_sparql: ClassVar[bool] = False
    supports_text_search: ClassVar[bool] = False
    remote: ClassVar[bool] = False
    limits: Limits = Limits()

    # ------------------------------------------------------------------ core
    @abstractmethod
    def _triples(
        self, subject: Term | None, predicate: IRI | None, object: Term | None, budget: Budget
    ) -> Iterable[Triple]:
        """Triples matching the pattern (``None`` = wildcard), unlimited, in any order.

        Long loops call ``budget.check()``; remote calls use ``budget.remaining()``."""

    def _source(self) -> str | None:
        """Where the data lives (file, directory, URL), for error messages."""
        return None

    def _budget(self, timeout: float | None, what: str) -> Budget:
        t = self.limits.timeout if timeout is None else timeout
        if not isinstance(t, (int, float)) or isinstance(t, bool) or not t > 0:
            raise KBQueryError(f"timeout must be a positive number of seconds, got {t!r}")
        return Budget(float(t), what, self._source())

    def _limit(self, limit: int | None) -> int:
        n = self.limits.results if limit is None else limit
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise KBQueryError(f"limit must be a non-negative int, got {n!r}")
        return n

    def match(
        self,
        subject: Term | str | None = None,
        predicate: IRI | str | None = None,
        object: Term | str | None = None,
        *,
        limit: int | None = None,
        timeout: float | None = None,
    ) -> Results[Triple]:
        """Triples matching the pattern; ``None`` is a wildcard. Lazy, limited, timed."""
        s, p, o = as_term_or_none(subject), as_term_or_none(predicate), as_term_or_none(object)
        budget = self._budget(timeout, "match")
        n = self._limit(limit)
        budget.limit = n + 1  # one more tells whether the result is truncated
        if isinstance(p, (Literal, BNode)):
            return Results(iter(()), n, budget)
        return Results(self._triples(s, p, o, budget), n, budget)

    # ------------------------------------------------------------------ reification
    def statements(self, entity: Term | str, *, limit: int | None = None,
                   timeout: float | None = None) -> Iterator[Statement]:
        """The statement nodes whose ``rdf:subject`` or ``rdf:object`` is ``entity`` (at
        most ``limit`` of each), in the order of their string form, each with all its
        properties and whether its triple is asserted (only a node with exactly one
        subject, predicate and object can be). Lazy here; a SPARQL endpoint fetches them
        with two queries (:class:`~nsreason.kb.sparql.SparqlQueries`)."""
        return _provenance.statements(self, as_term(entity), self._limit(limit), timeout)

    # ------------------------------------------------------------------ names
    def _literal_values(self, entity: Term | str, predicate: IRI, limit: int | None,
                        timeout: float | None) -> ResultList[str]:
        r = self.match(entity, predicate, None, limit=limit, timeout=timeout)
        values = sorted({t.object.value for t in r if isinstance(t.object, Literal)})
        return ResultList(values, truncated=r.truncated, limit=r._limit)

    def labels(self, entity: Term | str, *, limit: int | None = None,
               timeout: float | None = None) -> ResultList[str]:
        """The ``rdfs:label`` texts of ``entity``, sorted."""
        return self._literal_values(entity, RDFS.label, limit, timeout)

    def aliases(self, entity: Term | str, *, limit: int | None = None,
                timeout: float | None = None) -> ResultList[str]:
        """The ``skos:altLabel`` texts of ``entity``, sorted."""
        return self._literal_values(entity, SKOS.altLabel, limit, timeout)

    def entities_by_label(self, text: str, *, limit: int | None = None,
                          timeout: float | None = None) -> ResultList[Term]:
        """Entities with a label or alias equal to ``text``, ignoring case and runs of
        white space (Unicode lower-casing), sorted."""
        key = normalise_label(text)
        budget = self._budget(timeout, "entities_by_label")
        found: set[Term] = set()
        with budget:
            for pred in (RDFS.label, SKOS.altLabel):
                for t in self._triples(None, pred, None, budget):
                    if isinstance(t.object, Literal) and normalise_label(t.object.value) == key:
                        found.add(t.subject)
                    budget.check()
        return cut(sorted(found, key=term_sort_key), self._limit(limit))

    def search(self, text: str, *, limit: int | None = None,
               timeout: float | None = None) -> ResultList[Term]:
        """Entities whose label or alias contains ``text`` (case-insensitive); only where
        ``supports_text_search``."""
        raise KBCapabilityError(
            f"{type(self).__name__} has no text search (supports_text_search is False); "
            "use entities_by_label() for exact names or a MemoryKB"
        )

    def sparql(self, query: str, *, limit: int | None = None,
               timeout: float | None = None) -> Any:
        """Run a SPARQL query: a :class:`ResultList` of ``{variable: term}`` rows for SELECT,
        a ``bool`` for ASK, a ``ResultList`` of triples for CONSTRUCT/DESCRIBE."""
        raise KBCapabilityError(
            f"{type(self).__name__} cannot run SPARQL (supports_sparql is False); "
            "use an 'oxigraph:', 'rdf:' or 'sparql:' knowledge base"
        )

    # ------------------------------------------------------------------ graph walks
    def _edges(self, entity: Term, direction: str, budget: Budget,
               relation: IRI | None = None, entities_only: bool = False) -> Iterator[Edge]:
        if direction not in DIRECTIONS:
            raise KBQueryError(f"direction must be one of {list(DIRECTIONS)}, got {direction!r}")
        if direction in ("out", "both") and not isinstance(entity, Literal):
            for t in self._triples(entity, relation, None, budget):
                budget.check()
                if t.predicate in META_PREDICATES and relation is None:
                    continue
                if entities_only and isinstance(t.object, Literal):
                    continue
                yield Edge(t.predicate, t.object, "out")
        if direction in ("in", "both"):
            for t in self._triples(None, relation, entity, budget):
                budget.check()
                if t.predicate in META_PREDICATES and relation is None:
                    continue
                yield Edge(t.predicate, t.subject, "in")

    def neighbours(self, entity: Term | str, direction: str = "out", *,
                   relation: IRI | str | None = None, limit: int | None = None,
                   timeout: float | None = None) -> ResultList[Edge]:
        """Edges of ``entity`` (``out``, ``in`` or ``both``), skipping names and provenance
        (``rdfs:label``, ``rdf:subject``... see ``META_PREDICATES``) unless ``relation``
        asks for one."""
        budget = self._budget(timeout, "neighbours")
        rel = as_term_or_none(relation)
        with budget:
            edges = self._edges(as_term_or_none(entity), direction, budget, rel)
            out = take(edges, self._limit(limit))
        out.sort(key=lambda e: (e.direction, e.relation, term_sort_key(e.entity)))
        return out

    def paths(self, a: Term | str, b: Term | str, max_hops: int = 2, *,
              direction: str = "both", limit: int | None = None,
              timeout: float | None = None) -> ResultList[Path]:
        """Simple paths from ``a`` to ``b`` of 1..``max_hops`` hops (at most ``MAX_HOPS``),
        shortest first, through entities (not literals, not names or provenance).
        With ``direction="both"`` hops may follow triples backwards.

        Meets in the middle (:func:`nsreason.kb.paths.paths_between`)."""
        _paths.check_hops(max_hops)
        return _paths.paths_between(self, as_term(a), as_term(b), max_hops, direction,
                                    self._limit(limit), self._budget(timeout, "paths"))

    def paths_from(self, entity: Term | str, max_hops: int = 1, *, direction: str = "both",
                   limit: int | None = None, timeout: float | None = None) -> ResultList[Path]:
        """All simple paths of 1..``max_hops`` hops starting at ``entity``, shortest first."""
        _paths.check_hops(max_hops)
        return _paths.paths_from(self, as_term(entity), max_hops, direction, self._limit(limit),
                                 self._budget(timeout, "paths_from"))

    # ------------------------------------------------------------------ facts
    def facts(self, head: Term | str | None = None, relation: IRI | str | None = None,
              tail: Term | str | None = None, *, limit: int | None = None,
              timeout: float | None = None) -> ResultList[Fact]:
        """Asserted triples matching the pattern, each with its provenance.

        Provenance comes from RDF reification (:mod:`nsreason.kb.provenance`): a node with
        ``rdf:subject``, ``rdf:predicate``, ``rdf:object`` equal to the triple and
        ``dcterms:source S``; ``S`` has ``rdfs:label`` and ``dcterms:license``. One
        :class:`Fact` per source; a triple without one gives a fact with ``source=None``.
        Reified statements that are not asserted are not facts (reification does not
        assert). Names and provenance triples are skipped unless ``relation`` asks for one
        of them.
        """
        return _provenance.facts(self, as_term_or_none(head), as_term_or_none(relation),
                                 as_term_or_none(tail), self._limit(limit),
                                 self._budget(timeout, "facts"))

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:  # noqa: B027  (a hook: most backends hold nothing to release)
        """Release files or connections (no-op by default)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


