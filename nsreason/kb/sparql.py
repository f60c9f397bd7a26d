"""SPARQL text that user strings cannot break out of, and queries shared by SPARQL backends.

Terms are written per the SPARQL 1.1 grammar: IRIs are checked against ``IRIREF`` (no
``<>"{}|^`\\``, no spaces or control characters, a scheme), literals are quoted with every
``"``, ``'``, ``\\``, newline and control character escaped, language tags and datatypes are
validated. Anything that cannot be written safely raises :class:`KBQueryError`.

>>> sparql_term(Literal('say "hi"\\n} ; DROP ALL #'))
'"say \\\\"hi\\\\"\\\\n} ; DROP ALL #"'
>>> sparql_term(IRI("http://example.org/a>b"))
Traceback (most recent call last):
...
nsreason.kb.errors.KBQueryError: not an IRI that SPARQL can hold: 'http://example.org/a>b'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..limits import shorten
from .errors import KBQueryError
from .limits import Budget, ResultList, cut
from .provenance import Statement, statement_triple
from .terms import (
    DCTERMS,
    IRI,
    META_PREDICATES,
    RDF,
    RDFS,
    SKOS,
    BNode,
    Fact,
    Literal,
    Term,
    as_term_or_none,
    normalise_label,
    term_sort_key,
)

__all__ = [
    "SparqlQueries",
    "rows_from_json",
    "sparql_iri",
    "sparql_literal",
    "sparql_term",
    "term_from_json",
    "values_clause",
]

_IRIREF = re.compile(r'[A-Za-z][A-Za-z0-9+.\-]*:[^<>"{}|^`\\\x00-\x20]*')
_LANG = re.compile(r"[A-Za-z]+(?:-[A-Za-z0-9]+)*")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t",
            "\b": "\\b", "\f": "\\f"}


def sparql_iri(iri: str) -> str:
    """``<iri>`` after checking it is an absolute IRI the grammar allows."""
    if not isinstance(iri, str) or not _IRIREF.fullmatch(iri):
        raise KBQueryError(f"not an IRI that SPARQL can hold: {str(iri)!r}")
    return f"<{iri}>"


def _escape(text: str) -> str:
    out = []
    prev = ""
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or ch in "\u2028\u2029":
            out.append(f"\\u{ord(ch):04X}")
        elif ch in "uU" and prev == "\\":
            # some engines (rdflib; SPARQL 1.1 section 19.2) expand \uXXXX before parsing: a
            # written u after an escaped backslash would start one, so it is escaped too
            # (as \U with 8 digits: rdflib reads \u followed by 8 hex digits as one escape)
            out.append(f"\\U{ord(ch):08X}")
        else:
            out.append(ch)
        prev = ch
    return "".join(out)


def sparql_literal(lit: Literal | str) -> str:
    """A quoted SPARQL literal, language tag or datatype included."""
    if isinstance(lit, str):
        lit = Literal(lit)
    body = f'"{_escape(lit.value)}"'
    if lit.language:
        if not _LANG.fullmatch(lit.language):
            raise KBQueryError(f"not a language tag: {lit.language!r}")
        return f"{body}@{lit.language}"
    if lit.datatype:
        return f"{body}^^{sparql_iri(lit.datatype)}"
    return body


def sparql_term(term: Term) -> str:
    """A term as SPARQL text; blank nodes cannot be referred to across queries."""
    if isinstance(term, Literal):
        return sparql_literal(term)
    if isinstance(term, BNode):
        raise KBQueryError(f"a blank node ({term}) cannot be named in a SPARQL query")
    return sparql_iri(term)


def values_clause(bindings: Mapping[str, Term]) -> str:
    """``VALUES (?a ?b) { (<x> "y") }`` binding variables to terms, or ``""`` for none."""
    if not bindings:
        return ""
    names = " ".join(f"?{_var(k)}" for k in bindings)
    vals = " ".join(sparql_term(v) for v in bindings.values())
    return f"VALUES ({names}) {{ ({vals}) }}"


def _var(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise KBQueryError(f"not a SPARQL variable name: {name!r}")
    return name


def term_from_json(b: Mapping[str, Any]) -> Term:
    """A term from one SPARQL 1.1 JSON results binding."""
    if not isinstance(b, Mapping):
        raise KBQueryError(f"SPARQL JSON binding is not an object: {shorten(b)}")
    kind, value = b.get("type"), b.get("value")
    if not isinstance(value, str):
        raise KBQueryError(f"SPARQL JSON binding without a string value: {shorten(b)}")
    if kind == "uri":
        return IRI(value)
    if kind == "bnode":
        return BNode(value)
    if kind in ("literal", "typed-literal"):
        datatype, language = b.get("datatype"), b.get("xml:lang")
        if not isinstance(datatype, (str, type(None))) or not isinstance(language, (str, type(None))):
            raise KBQueryError(f"SPARQL JSON literal with a datatype or language that is not a "
                               f"string: {shorten(b)}")
        return Literal(value, datatype=datatype, language=language)
    raise KBQueryError(f"unknown SPARQL JSON term type {shorten(kind)}")


def rows_from_json(data: Mapping[str, Any]) -> bool | Iterator[dict[str, Term]]:
    """The rows (or the boolean) of a SPARQL 1.1 JSON results document; a document of
    another shape is a :class:`KBQueryError` (raised while the rows are read)."""
    if not isinstance(data, Mapping):
        raise KBQueryError(f"SPARQL JSON results are not an object: {shorten(data)}")
    if "boolean" in data:
        if not isinstance(data["boolean"], bool):
            raise KBQueryError(f"SPARQL JSON 'boolean' is not true or false: {shorten(data['boolean'])}")
        return data["boolean"]
    try:
        bindings = data["results"]["bindings"]
    except (KeyError, TypeError):
        raise KBQueryError("SPARQL JSON results without results.bindings") from None
    if not isinstance(bindings, list):
        raise KBQueryError(f"SPARQL JSON results.bindings is not a list: {shorten(bindings)}")
    return (_row(row) for row in bindings)


def _row(row: Any) -> dict[str, Term]:
    if not isinstance(row, Mapping):
        raise KBQueryError(f"SPARQL JSON result row is not an object: {shorten(row)}")
    return {k: term_from_json(v) for k, v in row.items()}


_META_FILTER = "FILTER(?p NOT IN ({}))".format(", ".join(sorted(sparql_iri(p) for p in META_PREDICATES)))

_FACTS = """SELECT ?s ?p ?o ?src ?lic ?slab WHERE {{
  {values} ?s ?p ?o . {meta}
  OPTIONAL {{
    ?n <{rs}> ?s ; <{rp}> ?p ; <{ro}> ?o ; <{src}> ?src .
    OPTIONAL {{ ?src <{lic}> ?lic }}
    OPTIONAL {{ ?src <{label}> ?slab }}
  }}
}} LIMIT {rows}"""

_BY_LABEL = """SELECT DISTINCT ?e ?l ?word WHERE {{
  {{values}} VALUES ?name {{ <{label}> <{alt}> }}
  ?e ?name ?l . FILTER(isLiteral(?l) && CONTAINS(LCASE(STR(?l)), ?word))
}}"""


_STATEMENTS = """SELECT ?e ?node ?k ?v WHERE {{
  {values} {{ ?node <{rs}> ?e }} UNION {{ ?node <{ro}> ?e }}
  ?node ?k ?v .
}} LIMIT {rows}"""

# a separate query: as an OPTIONAL of the one above, Oxigraph evaluates it 40x slower
_ASSERTED = """SELECT DISTINCT ?e ?node WHERE {{
  {values} {{ ?node <{rs}> ?e }} UNION {{ ?node <{ro}> ?e }}
  ?node <{rs}> ?s ; <{rp}> ?p ; <{ro}> ?o . ?s ?p ?o .
}}"""


class SparqlQueries:
    """Derived methods done as one SPARQL query each, for backends that run SPARQL.

    The backend supplies ``_select(query, bindings, budget)`` yielding rows; ``bindings``
    maps variables of the query (all projected: pyoxigraph substitutes only those) to terms,
    and the query text never holds a user string.
    The text has a ``{values}`` slot at the start of its WHERE group: a backend replaces it
    (``str.replace``) with :func:`values_clause` of the bindings, or with nothing when it
    binds them natively (pyoxigraph ``substitutions``).
    """

    def _select(self, query: str, bindings: dict[str, Term],
                budget: Budget) -> Iterable[dict[str, Term]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def facts(self, head: Term | str | None = None, relation: IRI | str | None = None,
              tail: Term | str | None = None, *, limit: int | None = None,
              timeout: float | None = None) -> ResultList[Fact]:

        n = self._limit(limit)  # type: ignore[attr-defined]
        budget = self._budget(timeout, "facts")  # type: ignore[attr-defined]
        bound = {k: as_term_or_none(v) for k, v in (("s", head), ("p", relation), ("o", tail))
                 if v is not None}
        query = _FACTS.format(
            values="{values}", meta="" if "p" in bound else _META_FILTER,
            rs=RDF.subject, rp=RDF.predicate, ro=RDF.object, src=DCTERMS.source,
            lic=DCTERMS.license, label=RDFS.label, rows=(n + 1) * 16,
        )
        groups: dict[tuple, dict[Term | None, tuple[set, set]]] = {}
        with budget:
            for row in self._select(query, bound, budget):
                row = {**bound, **row}
                key = (row["s"], row["p"], row["o"])
                if key not in groups and len(groups) > n:
                    break
                lics, labs = groups.setdefault(key, {}).setdefault(row.get("src"), (set(), set()))
                if "lic" in row:
                    lic = row["lic"]
                    lics.add(lic.value if isinstance(lic, Literal) else str(lic))
                if isinstance(row.get("slab"), Literal):
                    labs.add(row["slab"].value)
                budget.check()
        out = []
        for (s, p, o), sources in groups.items():
            if len(sources) > 1:
                sources.pop(None, None)
            for src in sorted(sources, key=term_sort_key):
                lics, labs = sources[src]
                out.append(Fact(s, p, o, source=src, licence=min(lics, default=None),
                                source_label=min(labs, default=None)))
        return cut(out, n)

    def statements(self, entity: Term | str, *, limit: int | None = None,
                   timeout: float | None = None) -> Iterator[Statement]:
        """:meth:`KnowledgeBase.statements <nsreason.kb.base.KnowledgeBase.statements>` in
        two queries (instead of two pattern calls per node)."""

        e = as_term_or_none(entity)
        n = self._limit(limit)  # type: ignore[attr-defined]
        budget = self._budget(timeout, "statements")  # type: ignore[attr-defined]
        terms = {"values": "{values}", "rs": RDF.subject, "rp": RDF.predicate, "ro": RDF.object}
        props: dict[Term, dict[Term, list[Term]]] = {}
        with budget:
            for row in self._select(_STATEMENTS.format(**terms, rows=(2 * n + 1) * 64), {"e": e}, budget):
                node = row["node"]
                if node not in props and len(props) >= 2 * n:
                    break
                values = props.setdefault(node, {}).setdefault(row["k"], [])
                if row["v"] not in values:  # the UNION repeats a node that is both ends
                    values.append(row["v"])
                budget.check()
            asserted = {row["node"] for row in self._select(_ASSERTED.format(**terms), {"e": e}, budget)}
        for node in sorted(props, key=str):
            ok = node in asserted and statement_triple(props[node]) is not None
            yield Statement(node, props[node], ok)

    def entities_by_label(self, text: str, *, limit: int | None = None,
                          timeout: float | None = None) -> ResultList[Term]:
        key = normalise_label(text)
        n = self._limit(limit)  # type: ignore[attr-defined]
        if not key:
            return ResultList([], limit=n)
        budget = self._budget(timeout, "entities_by_label")  # type: ignore[attr-defined]
        word = max(key.split(" "), key=len)
        query = _BY_LABEL.format(label=RDFS.label, alt=SKOS.altLabel)
        found = set()
        with budget:
            for row in self._select(query, {"word": Literal(word)}, budget):
                lab = row.get("l")
                if isinstance(lab, Literal) and normalise_label(lab.value) == key:
                    found.add(row["e"])
                budget.check()
        return cut(sorted(found, key=term_sort_key), n)
