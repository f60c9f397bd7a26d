"""Knowledge base in an embedded pyoxigraph ``Store`` (on disk at a directory, or in memory).

Pattern matches go to ``quads_for_pattern``; facts and label lookups are single SPARQL
queries with user terms bound through ``substitutions`` (never spliced into query text);
``sparql()`` runs any query. The time limit is checked between results: one result that
takes long (a huge ORDER BY or aggregate) cannot be interrupted in process; a
``sparql:`` endpoint served by ``oxigraph serve --timeout-s`` enforces a hard limit.

>>> kb = OxigraphKB(None)                 # in memory
>>> kb.load(data='<urn:a> <urn:p> "x" .', format="nt")
>>> kb, kb.sparql("SELECT ?o WHERE { <urn:a> ?p ?o }")
(OxigraphKB(path=None, triples=1), [{'o': Literal('x')}])
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .base import KnowledgeBase
from .errors import KBFormatError, KBQueryError, KBSpecError
from .limits import Budget, Limits, cut
from .rdfio import check_rdf_file, format_for, line_of, open_rdf
from .sparql import SparqlQueries, values_clause
from .terms import IRI, BNode, Literal, Term, Triple

__all__ = ["OxigraphKB", "check_store_dir"]


def check_store_dir(path: Path) -> None:
    """Refuse (:class:`KBSpecError`) to make a store in ``path`` unless it is missing, an
    empty directory or already an oxigraph store (RocksDB's ``CURRENT`` file and a
    ``MANIFEST-*``): a store is never written into a folder of other files."""
    try:
        if not path.exists():
            return
        if not path.is_dir():
            raise KBSpecError("expected a directory for an oxigraph store, got a file",
                              source=f"oxigraph:{path}")
        names = [p.name for p in path.iterdir()]
    except OSError as exc:
        raise KBSpecError(f"cannot use the directory: {exc.strerror or exc}",
                          source=f"oxigraph:{path}") from None
    if names and not ("CURRENT" in names and any(n.startswith("MANIFEST-") for n in names)):
        raise KBSpecError("the directory holds other files and no oxigraph store: give an "
                          "existing store, an empty directory or a new path",
                          source=f"oxigraph:{path}")


def _ox():
    import pyoxigraph

    return pyoxigraph


def to_ox(term: Term) -> Any:
    """A pyoxigraph term; ``ValueError`` when pyoxigraph rejects it (such a term is in no store)."""
    ox = _ox()
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(term.value, language=term.language)
        if term.datatype:
            return ox.Literal(term.value, datatype=ox.NamedNode(term.datatype))
        return ox.Literal(term.value)
    if isinstance(term, BNode):
        return ox.BlankNode(term.label)
    return ox.NamedNode(term)


def from_ox(term: Any) -> Term:
    ox = _ox()
    if isinstance(term, ox.NamedNode):
        return IRI(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        return Literal(term.value, datatype=term.datatype.value, language=term.language)
    raise KBQueryError(f"unsupported RDF term from oxigraph: {term!r}")


class OxigraphKB(SparqlQueries, KnowledgeBase):
    """A pyoxigraph store: ``OxigraphKB("kb.oxigraph")`` opens the store in that directory,
    or creates it there when the path is missing or an empty directory (any other directory
    is refused: :func:`check_store_dir`); ``OxigraphKB(None)`` keeps it in memory; ``read_only=True`` opens an
    existing directory without a write lock (several processes may share it).
    ``load=[files]`` bulk-loads RDF files (format from the extension)."""

    name = "oxigraph"
    supports_sparql = True

    def __init__(self, path: str | os.PathLike | None = None, *, load: Iterable[str | os.PathLike] = (),
                 read_only: bool = False, limits: Limits | None = None) -> None:
        ox = _ox()
        self.path = None if path is None else Path(path)
        if limits is not None:
            self.limits = limits
        try:
            if self.path is None:
                self.store = ox.Store()
            elif read_only:
                if not self.path.is_dir():
                    raise KBSpecError(f"no oxigraph store directory at {self.path}")
                self.store = ox.Store.read_only(str(self.path))
            else:
                check_store_dir(self.path)
                self.store = ox.Store(str(self.path))
        except OSError as exc:
            raise KBSpecError(f"cannot open the oxigraph store: {exc}", source=str(path)) from exc
        for f in load:
            self.bulk_load(f)

    def _source(self) -> str | None:
        return str(self.path) if self.path else None

    def __len__(self) -> int:
        return len(self.store)

    def __repr__(self) -> str:
        where = str(self.path) if self.path else None
        return f"OxigraphKB(path={where!r}, triples={len(self.store)})"

    def bulk_load(self, file: str | os.PathLike, format: str | None = None) -> None:
        """Load an RDF file fast (parsing never fetches anything); typed error on bad syntax."""
        self.load(path=file, format=format, bulk=True)

    def load(self, *, path: str | os.PathLike | None = None, data: str | bytes | None = None,
             format: str | None = None, bulk: bool = False) -> None:
        """Load RDF from ``path`` (gzipped when it ends in ``.gz``) or ``data``
        (``format``: an extension like ``ttl``/``nt``, required for ``data``)."""
        ox = _ox()
        name = str(path) if path is not None else "<data>"
        if path is not None:
            check_rdf_file(path, format)  # no entity bombs, over-long lines, FIFOs
        fmt = ox.RdfFormat.from_extension(format_for(name, format))
        if fmt is None:
            raise KBSpecError(f"unknown RDF format {format_for(name, format)!r}", source=name)
        try:
            if path is not None:
                with open_rdf(path) as fh:
                    (self.store.bulk_load if bulk else self.store.load)(fh, format=fmt)
            else:
                self.store.load(data, format=fmt)
        except SyntaxError as exc:
            raise KBFormatError(f"malformed RDF: {exc}", source=name,
                                path=line_of(str(exc))) from exc
        except FileNotFoundError as exc:
            raise KBSpecError(f"no such RDF file: {name}") from exc
        except (OSError, EOFError) as exc:  # unreadable, or a broken .gz
            raise KBFormatError(f"cannot read RDF: {exc}", source=name) from exc

    # Pattern calls beat the two-query SPARQL version here (pyoxigraph, default KB, 10
    # entities of ~80 facts: 13 against 16 ms an entity in memory, 38 against 46 ms on
    # disk): it pays off only over HTTP (SparqlEndpointKB).
    statements = KnowledgeBase.statements

    def add(self, subject: Term | str, predicate: IRI | str, object: Term | str) -> None:
        """Add one triple."""
        from .terms import as_term

        ox = _ox()
        self.store.add(ox.Quad(to_ox(as_term(subject)), to_ox(as_term(predicate)),
                               to_ox(as_term(object))))

    def _triples(self, s: Term | None, p: IRI | None, o: Term | None,
                 budget: Budget) -> Iterator[Triple]:
        ox = _ox()
        if isinstance(s, Literal) or isinstance(p, (Literal, BNode)):
            return
        try:
            pattern = [None if t is None else to_ox(t) for t in (s, p, o)]
        except (ValueError, TypeError):
            return  # pyoxigraph rejects the term, so no stored triple has it
        for q in self.store.quads_for_pattern(*pattern, ox.DefaultGraph()):
            yield Triple(from_ox(q.subject), from_ox(q.predicate), from_ox(q.object))

    def _select(self, query: str, bindings: dict[str, Term],
                budget: Budget) -> Iterator[dict[str, Term]]:
        ox = _ox()
        try:
            clause = values_clause(bindings)
        except KBQueryError:  # a blank node (cannot be written) or a string that is no IRI
            clause = None
        if clause is not None:
            # bound by a VALUES clause of escaped terms: Oxigraph plans joins around it (with
            # ``substitutions`` a join on a bound variable ran 100x slower)
            res = self.store.query(query.replace("{values}", clause))
        else:
            try:
                subs = {ox.Variable(k): to_ox(v) for k, v in bindings.items()}
            except (ValueError, TypeError):
                return  # pyoxigraph rejects the term, so no stored triple has it
            res = self.store.query(query.replace("{values}", ""), substitutions=subs)
        names = [v.value for v in res.variables]
        for sol in res:
            budget.check()
            yield {k: from_ox(sol[k]) for k in names if sol[k] is not None}

    def sparql(self, query: str, *, limit: int | None = None,
               timeout: float | None = None) -> Any:
        ox = _ox()
        n = self._limit(limit)
        budget = self._budget(timeout, "sparql")
        with budget:
            try:
                res = self.store.query(query)
            except SyntaxError as exc:
                raise KBQueryError(f"SPARQL syntax error: {exc}") from exc
            if isinstance(res, ox.QueryBoolean):
                return bool(res)
            out: list = []
            if isinstance(res, ox.QueryTriples):
                for t in res:
                    out.append(Triple(from_ox(t.subject), from_ox(t.predicate), from_ox(t.object)))
                    budget.check()
                    if len(out) > n:
                        break
                return cut(out, n)
            names = [v.value for v in res.variables]
            for sol in res:
                out.append({k: from_ox(sol[k]) for k in names if sol[k] is not None})
                budget.check()
                if len(out) > n:
                    break
            return cut(out, n)

    def flush(self) -> None:
        """Write pending changes to disk."""
        self.store.flush()
