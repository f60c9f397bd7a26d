"""The :class:`KnowledgeBase` contract: a small core, derived methods with defaults,
capability flags, and limits on every query.

A backend implements one method, :meth:`KnowledgeBase._triples` (a pattern match with
``None`` as wildcard); everything else (labels, aliases, label lookup, neighbours, paths,
facts with provenance) has a default built on it that a backend may override with a faster
native query.

**Limits.** Every query has a result limit and a time limit: ``limit=`` and ``timeout=``
(seconds) on the call, else the KB's :class:`Limits` (10,000 results, 30 s by default).

- Hitting the *result* limit is not an error: the result is cut at ``limit`` items and
  flagged, ``result.truncated is True`` (:class:`ResultList`, or :class:`Results` for the
  lazy :meth:`~KnowledgeBase.match` once iteration reaches the limit).
- Running past the *time* limit raises :class:`~nsreason.kb.errors.KBTimeoutError`. For the
  lazy ``match`` the clock counts only time spent producing results, not time the caller
  spends between them.

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

import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Self, TypeVar

from .errors import KBCapabilityError, KBQueryError, KBTimeoutError
from .terms import (
    DCTERMS,
    IRI,
    META_PREDICATES,
    RDF,
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
)

__all__ = ["DIRECTIONS", "MAX_HOPS", "Budget", "KnowledgeBase", "Limits", "ResultList", "Results"]

T = TypeVar("T")

MAX_HOPS = 4
"""The longest path :meth:`KnowledgeBase.paths` searches (longer ones explode combinatorially)."""

DIRECTIONS = ("out", "in", "both")


@dataclass(frozen=True)
class Limits:
    """Default limits of a KB's queries: at most ``results`` items, at most ``timeout`` s."""

    results: int = 10_000
    timeout: float = 30.0


class Budget:
    """The time budget of one query; re-entrant context manager that runs the clock.

    >>> b = Budget(5.0, "match")
    >>> with b:
    ...     b.check()
    >>> 0 <= b.elapsed() < 5
    True
    """

    __slots__ = ("_depth", "_since", "limit", "source", "spent", "timeout", "what")

    def __init__(self, timeout: float, what: str, source: str | None = None) -> None:
        self.timeout = timeout
        self.limit: int | None = None  # how many results the caller can use, when known
        self.what = what
        self.source = source
        self.spent = 0.0
        self._since: float | None = None
        self._depth = 0

    def __enter__(self) -> Self:
        if self._depth == 0:
            self._since = time.perf_counter()
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._since is not None:
            self.spent += time.perf_counter() - self._since
            self._since = None

    def elapsed(self) -> float:
        running = time.perf_counter() - self._since if self._since is not None else 0.0
        return self.spent + running

    def remaining(self) -> float:
        return max(0.0, self.timeout - self.elapsed())

    def check(self) -> None:
        """Raise :class:`KBTimeoutError` when the budget is spent."""
        if self.elapsed() > self.timeout:
            raise KBTimeoutError(
                f"{self.what} ran past its time limit of {self.timeout:g} s; "
                "pass a larger timeout= or narrow the query",
                source=self.source,
            )


class ResultList(list, Generic[T]):
    """A list of results; ``truncated`` is True when more existed than ``limit``."""

    def __init__(self, items: Iterable[T] = (), *, truncated: bool = False,
                 limit: int | None = None) -> None:
        super().__init__(items)
        self.truncated = truncated
        self.limit = limit

    def __repr__(self) -> str:
        flag = f", truncated at {self.limit}" if self.truncated else ""
        return f"{list.__repr__(self)}{flag}" if flag else list.__repr__(self)


class Results(Iterator[T]):
    """Lazy results of :meth:`KnowledgeBase.match`: at most ``limit`` items, each produced
    under the query's time budget. ``truncated`` becomes True when iteration reaches the
    limit and one more result exists."""

    def __init__(self, source: Iterable[T], limit: int, budget: Budget) -> None:
        self._it = iter(source)
        self._limit = limit
        self._budget = budget
        self._count = 0
        self._done = False
        self.truncated = False

    def __iter__(self) -> Results[T]:
        return self

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        with self._budget:
            try:
                item = next(self._it)
            except StopIteration:
                self._done = True
                raise
            self._budget.check()
        if self._count >= self._limit:
            self.truncated = True
            self._done = True
            self.close()
            raise StopIteration
        self._count += 1
        return item

    def close(self) -> None:
        close = getattr(self._it, "close", None)
        if close is not None:
            close()

    def list(self) -> ResultList[T]:
        """The remaining results as a :class:`ResultList` carrying the truncation flag."""
        items = list(self)
        return ResultList(items, truncated=self.truncated, limit=self._limit)


def _norm_label(text: str) -> str:
    return " ".join(text.split()).lower()


class KnowledgeBase(ABC):
    """Base class of knowledge bases. Subclasses implement :meth:`_triples`.

    Class attributes: ``name`` (the spec prefix), ``supports_sparql`` (``sparql()`` works),
    ``supports_text_search`` (``search()`` works). Instances have ``limits``.
    """

    name: ClassVar[str] = "kb"
    supports_sparql: ClassVar[bool] = False
    supports_text_search: ClassVar[bool] = False
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
        s, p, o = _coerce(subject), _coerce(predicate), _coerce(object)
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
        e = _coerce(entity)
        n = self._limit(limit)
        nodes: set[Term] = set()
        for pred in (RDF.subject, RDF.object):
            nodes.update(t.subject for t in self.match(None, pred, e, limit=n, timeout=timeout))
        for node in sorted(nodes, key=str):
            props: dict[Term, list[Term]] = {}
            for t in self.match(node, None, None, limit=64, timeout=timeout):
                props.setdefault(t.predicate, []).append(t.object)
            spo = _statement_triple(props)
            asserted = spo is not None and bool(list(self.match(*spo, limit=1, timeout=timeout)))
            yield Statement(node, props, asserted)

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
        key = _norm_label(text)
        budget = self._budget(timeout, "entities_by_label")
        found: set[Term] = set()
        with budget:
            for pred in (RDFS.label, SKOS.altLabel):
                for t in self._triples(None, pred, None, budget):
                    if isinstance(t.object, Literal) and _norm_label(t.object.value) == key:
                        found.add(t.subject)
                    budget.check()
        return _cut(sorted(found, key=_sort_key), self._limit(limit))

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
        rel = _coerce(relation)
        with budget:
            edges = self._edges(_coerce(entity), direction, budget, rel)
            out = _take(edges, self._limit(limit))
        out.sort(key=lambda e: (e.direction, e.relation, _sort_key(e.entity)))
        return out

    def _walk_hops(self, node: Term, direction: str, budget: Budget) -> Iterator[tuple[Triple, Term]]:
        for e in self._edges(node, direction, budget, entities_only=True):
            if isinstance(e.entity, Literal):
                continue
            hop = Triple(node, e.relation, e.entity) if e.direction == "out" else Triple(
                e.entity, e.relation, node)
            yield hop, e.entity

    def _walks(self, start: Term, depth: int, direction: str, budget: Budget,
               cap: int) -> tuple[list[tuple[tuple[Triple, ...], tuple[Term, ...]]], bool]:
        """Simple walks of 0..depth hops from ``start``, breadth first, and whether
        ``cap`` cut them short."""
        walks: list[tuple[tuple[Triple, ...], tuple[Term, ...]]] = [((), (start,))]
        frontier = walks
        for _ in range(depth):
            nxt = []
            for hops, nodes in frontier:
                for hop, node in self._walk_hops(nodes[-1], direction, budget):
                    if node not in nodes:
                        nxt.append(((*hops, hop), (*nodes, node)))
                    if len(walks) + len(nxt) > cap:
                        return walks + nxt, True
            walks = walks + nxt
            frontier = nxt
        return walks, False

    def paths(self, a: Term | str, b: Term | str, max_hops: int = 2, *,
              direction: str = "both", limit: int | None = None,
              timeout: float | None = None) -> ResultList[Path]:
        """Simple paths from ``a`` to ``b`` of 1..``max_hops`` hops (at most ``MAX_HOPS``),
        shortest first, through entities (not literals, not names or provenance).
        With ``direction="both"`` hops may follow triples backwards.

        Meets in the middle: walks of ``ceil(k/2)`` hops from ``a`` and ``floor(k/2)``
        from ``b``, joined on their end nodes."""
        _check_hops(max_hops)
        start, goal = _coerce(a), _coerce(b)
        back = {"out": "in", "in": "out", "both": "both"}.get(direction, direction)
        n = self._limit(limit)
        budget = self._budget(timeout, "paths")
        cap = max(100_000, 100 * n)
        with budget:
            fwd, capped = self._walks(start, (max_hops + 1) // 2, direction, budget, cap)
            bwalks, bcapped = self._walks(goal, max_hops // 2, back, budget, cap)
            bwd: dict[Term, list] = {}
            for hops, nodes in bwalks:
                bwd.setdefault(nodes[-1], []).append((hops, nodes))
            found: dict[tuple[Triple, ...], Path] = {}
            for hops, nodes in fwd:
                for bhops, bnodes in bwd.get(nodes[-1], ()):
                    all_nodes = nodes + bnodes[-2::-1]
                    if len(set(all_nodes)) != len(all_nodes) or not hops + bhops:
                        continue
                    joined = hops + bhops[::-1]
                    if len(joined) <= max_hops:
                        found.setdefault(joined, Path(start, joined))
                budget.check()
        out = _cut(sorted(found.values(), key=_path_key), n)
        out.truncated = out.truncated or capped or bcapped
        return out

    def paths_from(self, entity: Term | str, max_hops: int = 1, *, direction: str = "both",
                   limit: int | None = None, timeout: float | None = None) -> ResultList[Path]:
        """All simple paths of 1..``max_hops`` hops starting at ``entity``, shortest first."""
        _check_hops(max_hops)
        start = _coerce(entity)
        n = self._limit(limit)
        budget = self._budget(timeout, "paths_from")
        with budget:
            walks, capped = self._walks(start, max_hops, direction, budget, cap=n + 1)
        out = _cut([Path(start, hops) for hops, _ in walks if hops], n)
        out.sort(key=_path_key)
        out.truncated = out.truncated or capped
        return out

    # ------------------------------------------------------------------ facts
    def _provenance(self, t: Triple, budget: Budget) -> list[tuple[Term, str | None, str | None]]:
        """(source, licence, source label) of each reified statement of ``t``."""
        out = []
        for r in self._triples(None, RDF.subject, t.subject, budget):
            node = r.subject
            if not _has(self, node, RDF.predicate, t.predicate, budget):
                continue
            if not _has(self, node, RDF.object, t.object, budget):
                continue
            for s in self._triples(node, DCTERMS.source, None, budget):
                src = s.object
                out.append((src, *self._source_info(src, budget)))
        return out

    def _source_info(self, src: Term, budget: Budget) -> tuple[str | None, str | None]:
        lic = sorted(_text(t.object) for t in self._triples(src, DCTERMS.license, None, budget))
        lab = sorted(t.object.value for t in self._triples(src, RDFS.label, None, budget)
                     if isinstance(t.object, Literal))
        return (lic[0] if lic else None, lab[0] if lab else None)

    def facts(self, head: Term | str | None = None, relation: IRI | str | None = None,
              tail: Term | str | None = None, *, limit: int | None = None,
              timeout: float | None = None) -> ResultList[Fact]:
        """Asserted triples matching the pattern, each with its provenance.

        Provenance comes from RDF reification: a node with ``rdf:subject``,
        ``rdf:predicate``, ``rdf:object`` equal to the triple and ``dcterms:source S``;
        ``S`` has ``rdfs:label`` and ``dcterms:license``. One :class:`Fact` per source; a
        triple without one gives a fact with ``source=None``. Reified statements that are
        not asserted are not facts (reification does not assert). Names and provenance
        triples are skipped unless ``relation`` asks for one of them.
        """
        rel = _coerce(relation)
        n = self._limit(limit)
        budget = self._budget(timeout, "facts")
        out: list[Fact] = []
        with budget:
            for t in self._triples(_coerce(head), rel, _coerce(tail), budget):
                budget.check()
                if rel is None and t.predicate in META_PREDICATES:
                    continue
                prov = self._provenance(t, budget) or [(None, None, None)]
                for src, lic, lab in sorted(prov, key=lambda x: _sort_key(x[0])):
                    out.append(Fact(*t, source=src, licence=lic, source_label=lab))
                if len(out) > n:
                    break
        return _cut(out, n)

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Release files or connections (no-op by default)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------- helpers
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
        return _statement_triple(self.props)


def _statement_triple(props: dict[Term, list[Term]]) -> tuple[Term, Term, Term] | None:
    try:
        (s,), (p,), (o,) = props[RDF.subject], props[RDF.predicate], props[RDF.object]
    except (KeyError, ValueError):
        return None
    if not isinstance(p, IRI) or isinstance(s, Literal):
        return None
    return s, p, o


def _coerce(value: Any) -> Any:
    return None if value is None else as_term(value)


def _check_hops(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_HOPS:
        raise KBQueryError(f"max_hops must be an int in 1..{MAX_HOPS}, got {k!r}")


def _has(kb: KnowledgeBase, s: Term, p: IRI, o: Term, budget: Budget) -> bool:
    return any(True for _ in kb._triples(s, p, o, budget))


def _text(term: Term) -> str:
    return term.value if isinstance(term, Literal) else str(term)


def _sort_key(term: Any) -> tuple[int, str]:
    if term is None:
        return (0, "")
    if isinstance(term, Literal):
        return (3, f"{term.value}\x00{term.datatype or ''}\x00{term.language or ''}")
    return (2 if isinstance(term, BNode) else 1, str(term))


def _path_key(p: Path) -> tuple:
    return (len(p), [_sort_key(x) for x in p.nodes], [str(r) for r in p.relations])


def _cut(items: list[T], n: int) -> ResultList[T]:
    return ResultList(items[:n], truncated=len(items) > n, limit=n)


def _take(it: Iterable[T], n: int) -> ResultList[T]:
    out: list[T] = []
    for x in it:
        if len(out) == n:
            return ResultList(out, truncated=True, limit=n)
        out.append(x)
    return ResultList(out, truncated=False, limit=n)

