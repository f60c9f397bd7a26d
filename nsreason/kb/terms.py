"""Backend-neutral RDF terms, triples, facts and paths.

IRIs and blank nodes are ``str`` subclasses (so a plain string works wherever an entity is
expected), literals are a small frozen dataclass; all are hashable:

>>> dog = IRI("http://example.org/dog")
>>> dog == "http://example.org/dog", dog
(True, IRI('http://example.org/dog'))
>>> Literal("4", datatype=XSD + "integer").to_python()
4
>>> Literal("chien", language="FR")
Literal('chien', language='fr')
>>> as_term("_:f1"), as_term("http://example.org/cat")
(BNode('_:f1'), IRI('http://example.org/cat'))
>>> Triple(dog, RDFS.label, Literal("dog")).object.value
'dog'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Self

__all__ = [
    "DCTERMS",
    "IRI",
    "META_PREDICATES",
    "RDF",
    "RDFS",
    "SKOS",
    "XSD",
    "BNode",
    "Edge",
    "Fact",
    "Literal",
    "Path",
    "Term",
    "Triple",
    "as_term",
    "as_term_or_none",
    "normalise_label",
    "term_sort_key",
]


class IRI(str):
    """An IRI (``http://...``, ``urn:...``). Equal to the plain string it wraps."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"IRI({str.__repr__(self)})"


class BNode(str):
    """A blank node, written ``_:label`` (never a valid absolute IRI, so never equal to one).

    >>> BNode("b0")
    BNode('_:b0')
    """

    __slots__ = ()

    def __new__(cls, label: str) -> Self:
        return super().__new__(cls, label if label.startswith("_:") else "_:" + label)

    @property
    def label(self) -> str:
        """The label without ``_:``."""
        return self[2:]

    def __repr__(self) -> str:
        return f"BNode({str.__repr__(self)})"


class _Namespace(str):
    """An IRI prefix; attribute access builds IRIs: ``RDFS.label``."""

    def __getattr__(self, name: str) -> IRI:
        if name.startswith("__"):
            raise AttributeError(name)
        return IRI(self + name)

    def __add__(self, other: str) -> IRI:  # type: ignore[override]
        return IRI(str.__add__(self, other))


RDF = _Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = _Namespace("http://www.w3.org/2000/01/rdf-schema#")
SKOS = _Namespace("http://www.w3.org/2004/02/skos/core#")
DCTERMS = _Namespace("http://purl.org/dc/terms/")
XSD = _Namespace("http://www.w3.org/2001/XMLSchema#")

_XSD_STRING = XSD + "string"
_RDF_LANGSTRING = RDF + "langString"


@dataclass(frozen=True, slots=True)
class Literal:
    """An RDF literal: lexical form, optional datatype IRI or language tag.

    ``xsd:string`` (and ``rdf:langString``) are normalised to ``datatype=None`` and language
    tags to lower case, so literals from different backends compare equal.
    """

    value: str
    datatype: IRI | None = None
    language: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.value, str):
            raise TypeError(f"Literal value must be a str, got {type(self.value).__name__}")
        dt = self.datatype
        if dt in (_XSD_STRING, _RDF_LANGSTRING) or dt == "":
            dt = None
        object.__setattr__(self, "datatype", IRI(dt) if dt is not None else None)
        if self.language:
            object.__setattr__(self, "language", self.language.lower())
            object.__setattr__(self, "datatype", None)
        else:
            object.__setattr__(self, "language", None)

    def to_python(self) -> str | int | float | bool:
        """The value as a Python ``int``/``float``/``bool`` for numeric and boolean XSD
        types, else the lexical form."""
        dt = self.datatype
        try:
            if dt in _INT_TYPES:
                return int(self.value)
            if dt in (XSD + "decimal", XSD + "double", XSD + "float"):
                return float(self.value)
        except ValueError:
            return self.value
        if dt == XSD + "boolean":
            return self.value.strip() in ("true", "1")
        return self.value

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        extra = ""
        if self.language:
            extra = f", language={self.language!r}"
        elif self.datatype:
            extra = f", datatype={str(self.datatype)!r}"
        return f"Literal({self.value!r}{extra})"


_INT_TYPES = frozenset(
    XSD + t
    for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger",
              "positiveInteger", "negativeInteger", "nonPositiveInteger")
)

Term = IRI | BNode | Literal


def as_term(value: object) -> IRI | BNode | Literal:
    """Coerce ``value`` to a term: terms pass through, ``"_:x"`` is a blank node, any other
    ``str`` an IRI (not validated: backends that cannot hold it simply match nothing)."""
    if isinstance(value, (IRI, BNode, Literal)):
        return value
    if isinstance(value, str):
        return BNode(value) if value.startswith("_:") else IRI(value)
    raise TypeError(f"expected an IRI string, a BNode or a Literal, got {type(value).__name__}")


class Triple(NamedTuple):
    """One RDF statement."""

    subject: IRI | BNode
    predicate: IRI
    object: IRI | BNode | Literal


# Predicates that describe names and provenance rather than facts about the world:
# ``facts``, ``neighbours`` and ``paths`` skip them.
META_PREDICATES = frozenset(
    {
        RDF.subject, RDF.predicate, RDF.object, RDF.type,
        RDFS.label, SKOS.altLabel, DCTERMS.source, DCTERMS.license,
    }
)


@dataclass(frozen=True, slots=True)
class Fact:
    """An asserted triple with its provenance (from RDF reification, when present).

    ``source`` is the ``dcterms:source`` of a reified statement of the triple,
    ``source_label`` its ``rdfs:label``, ``licence`` its ``dcterms:license`` (IRI or text).
    ``score`` is filled by rankers (:mod:`nsreason.retrieve`), ``None`` here.
    """

    head: IRI | BNode
    relation: IRI
    tail: IRI | BNode | Literal
    source: IRI | BNode | None = None
    licence: str | None = None
    source_label: str | None = None
    score: float | None = None

    @property
    def triple(self) -> Triple:
        return Triple(self.head, self.relation, self.tail)


class Edge(NamedTuple):
    """A neighbour of an entity: the relation, the entity at the other end, and whether
    the edge leaves (``"out"``) or enters (``"in"``) the entity asked about."""

    relation: IRI
    entity: IRI | BNode | Literal
    direction: str


@dataclass(frozen=True, slots=True)
class Path:
    """A walk from ``start`` along ``hops`` (real triples, each possibly walked backwards).

    >>> a, b, c = IRI("urn:a"), IRI("urn:b"), IRI("urn:c")
    >>> p = Path(a, (Triple(a, IRI("urn:r"), b), Triple(c, IRI("urn:s"), b)))
    >>> len(p), p.end, p.nodes
    (2, IRI('urn:c'), (IRI('urn:a'), IRI('urn:b'), IRI('urn:c')))
    """

    start: IRI | BNode | Literal
    hops: tuple[Triple, ...]

    @property
    def nodes(self) -> tuple[IRI | BNode | Literal, ...]:
        nodes = [self.start]
        for t in self.hops:
            nodes.append(t.object if t.subject == nodes[-1] else t.subject)
        return tuple(nodes)

    @property
    def end(self) -> IRI | BNode | Literal:
        return self.nodes[-1]

    @property
    def relations(self) -> tuple[IRI, ...]:
        return tuple(t.predicate for t in self.hops)

    def __len__(self) -> int:
        return len(self.hops)


def as_term_or_none(value: Any) -> Term | None:
    """None stays None (a wildcard in a pattern); anything else goes through :func:`as_term`."""
    return None if value is None else as_term(value)


def normalise_label(text: str) -> str:
    """A label as labels are compared: lower case, runs of white space as one space."""
    return " ".join(text.split()).lower()


def term_sort_key(term: Any) -> tuple[int, str]:
    """A total order over terms (and None first): IRIs, then blank nodes, then literals."""
    if term is None:
        return (0, "")
    if isinstance(term, Literal):
        return (3, f"{term.value}\x00{term.datatype or ''}\x00{term.language or ''}")
    return (2 if isinstance(term, BNode) else 1, str(term))
