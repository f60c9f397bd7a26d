"""Knowledge base over an rdflib ``Graph``: any format rdflib parses, from a file or a graph.

Parsing never fetches anything: remote JSON-LD contexts, external XML entities and other
files are refused (:class:`~nsreason.kb.errors.KBSecurityError`, see
:func:`~nsreason.kb.rdfio.no_network`); syntax errors raise
:class:`~nsreason.kb.errors.KBFormatError` naming the file and line. rdflib's SPARQL is
slow on joins and cannot be interrupted: prefer ``oxigraph:`` for large graphs.

>>> import rdflib
>>> g = rdflib.Graph()
>>> _ = g.add((rdflib.URIRef("urn:a"), rdflib.RDFS.label, rdflib.Literal("A")))
>>> kb = RdflibKB(g)
>>> kb, kb.labels("urn:a")
(RdflibKB(triples=1), ['A'])
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .base import KnowledgeBase
from .errors import KBFormatError, KBQueryError, KBSecurityError, KBTimeoutError
from .limits import Budget, Limits, cut
from .rdfio import RDF_FORMATS, check_rdf_file, line_of, no_network, open_rdf
from .terms import IRI, BNode, Literal, Term, Triple

__all__ = ["RdflibKB", "parse_rdf"]


def to_rdflib(term: Term) -> Any:
    import rdflib

    if isinstance(term, Literal):
        return rdflib.Literal(term.value, lang=term.language,
                              datatype=rdflib.URIRef(term.datatype) if term.datatype else None)
    if isinstance(term, BNode):
        return rdflib.BNode(term.label)
    return rdflib.URIRef(term)


def from_rdflib(term: Any) -> Term:
    import rdflib

    if isinstance(term, rdflib.Literal):
        return Literal(str(term), datatype=term.datatype, language=term.language)
    if isinstance(term, rdflib.BNode):
        return BNode(str(term))
    if isinstance(term, rdflib.URIRef):
        return IRI(str(term))
    raise KBQueryError(f"unsupported RDF term from rdflib: {term!r}")


def _locate(exc: BaseException, path: Path) -> str | None:
    """The line of a parse error: from the exception, its message, or the quoted bad line."""
    get_line = getattr(exc, "getLineNumber", None)
    if callable(get_line):
        return f"line {get_line()}"
    found = line_of(str(exc))
    if found:
        return found
    msg = str(exc)
    if msg.startswith("Invalid line: "):  # rdflib's N-Triples parser quotes the line
        bad = msg[len("Invalid line: "):].strip().strip('"')
        try:
            with open_rdf(path) as fh:
                for i, line in enumerate(fh.read().decode("utf-8", "replace").split("\n"), 1):
                    if bad and bad in line:
                        return f"line {i}"
        except (OSError, EOFError):
            return None
    return None


def parse_rdf(path: str | os.PathLike, format: str | None = None, graph: Any = None) -> Any:
    """Parse an RDF file into an rdflib ``Graph`` without touching the network."""
    import rdflib
    from rdflib.plugin import Parser, get

    p = Path(path)
    fmt = RDF_FORMATS[check_rdf_file(p, format)]
    g = rdflib.Graph() if graph is None else graph
    get(fmt, Parser)  # import the parser plug-in before the guard goes up
    try:
        with open_rdf(p) as fh, no_network(p):
            g.parse(source=fh, format=fmt, publicID=p.resolve().as_uri())
    except KBSecurityError as exc:
        exc.with_source(str(p))
        raise
    except Exception as exc:  # rdflib raises many kinds: BadSyntax, SAXParseException...
        cause = exc.__context__ if isinstance(exc.__context__, KBSecurityError) else None
        if cause is not None:
            raise cause.with_source(str(p)) from exc
        raise KBFormatError(f"malformed RDF ({fmt}): {type(exc).__name__}: "
                            f"{str(exc).splitlines()[0] if str(exc) else ''}",
                            source=str(p), path=_locate(exc, p)) from exc
    return g


class RdflibKB(KnowledgeBase):
    """An rdflib ``Graph``, given or parsed from ``source`` (a file path)."""

    name = "rdf"
    supports_sparql = True

    def __init__(self, source: Any = None, *, format: str | None = None,
                 limits: Limits | None = None) -> None:
        import rdflib

        if limits is not None:
            self.limits = limits
        self.path: Path | None = None
        if source is None:
            self.graph = rdflib.Graph()
        elif isinstance(source, rdflib.Graph):
            self.graph = source
        elif isinstance(source, (str, os.PathLike)):
            self.path = Path(source)
            self.graph = parse_rdf(self.path, format)
        else:
            raise TypeError(f"RdflibKB needs a file path or an rdflib Graph, got "
                            f"{type(source).__name__}")

    def _source(self) -> str | None:
        return str(self.path) if self.path else None

    def __len__(self) -> int:
        return len(self.graph)

    def __repr__(self) -> str:
        where = f"path={str(self.path)!r}, " if self.path else ""
        return f"RdflibKB({where}triples={len(self.graph)})"

    def add(self, subject: Term | str, predicate: IRI | str, object: Term | str) -> None:
        from .terms import as_term

        self.graph.add(tuple(to_rdflib(as_term(t)) for t in (subject, predicate, object)))

    def _triples(self, s: Term | None, p: IRI | None, o: Term | None,
                 budget: Budget) -> Iterator[Triple]:
        pattern = tuple(None if t is None else to_rdflib(t) for t in (s, p, o))
        for i, (s2, p2, o2) in enumerate(self.graph.triples(pattern)):
            if i % 256 == 0:
                budget.check()
            yield Triple(from_rdflib(s2), from_rdflib(p2), from_rdflib(o2))

    def sparql(self, query: str, *, limit: int | None = None,
               timeout: float | None = None) -> Any:
        n = self._limit(limit)
        budget = self._budget(timeout, "sparql")
        try:  # rdflib evaluates lazily: iteration too runs under the no-network guard
            with budget, no_network():
                return self._run_sparql(query, n, budget)
        except (KBSecurityError, KBTimeoutError):
            raise
        except Exception as exc:  # pyparsing errors and rdflib's own
            raise KBQueryError(f"SPARQL query failed: {type(exc).__name__}: {exc}") from exc

    def _run_sparql(self, query: str, n: int, budget: Budget) -> Any:
        res = self.graph.query(query)
        if res.type == "ASK":
            return bool(res.askAnswer)
        out: list = []
        for row in res:
            if res.type in ("CONSTRUCT", "DESCRIBE"):
                out.append(Triple(*(from_rdflib(x) for x in row)))
            else:
                out.append({str(k): from_rdflib(v) for k, v in zip(res.vars, row)
                            if v is not None})
            budget.check()
            if len(out) > n:
                break
        return cut(out, n)
