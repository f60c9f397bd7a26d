"""Knowledge bases: the :class:`KnowledgeBase` contract, backends, and loading by name.

>>> from nsreason.kb import load_kb, IRI, Literal, RDFS
>>> kb = load_kb("memory:")
>>> kb.add("urn:dog", RDFS.label, Literal("dog"))
>>> kb.entities_by_label("Dog")
[IRI('urn:dog')]

Backends (spec prefix, class): ``memory:`` :class:`MemoryKB`, ``rdf:`` :class:`RdflibKB`,
``oxigraph:`` :class:`OxigraphKB`, ``sparql:`` :class:`SparqlEndpointKB`,
``networkx:`` :class:`NetworkxKB`, ``csv:``/``tsv:`` :class:`TableKB`; :class:`MultiKB`
unites several. rdflib, pyoxigraph and networkx are imported only by their backends.
The conformance suite every backend passes is :mod:`nsreason.testing.kb_conformance`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .base import (
    DIRECTIONS,
    MAX_HOPS,
    Budget,
    KnowledgeBase,
    Limits,
    ResultList,
    Results,
    Statement,
)
from .errors import (
    KBCapabilityError,
    KBConnectionError,
    KBError,
    KBFormatError,
    KBQueryError,
    KBSecurityError,
    KBSpecError,
    KBTimeoutError,
)
from .load import KB_BACKENDS, load_kb, parse_spec
from .memory import MemoryKB
from .terms import (
    DCTERMS,
    IRI,
    META_PREDICATES,
    RDF,
    RDFS,
    SKOS,
    XSD,
    BNode,
    Edge,
    Fact,
    Literal,
    Path,
    Term,
    Triple,
    as_term,
)

_LAZY = {
    "RdflibKB": "nsreason.kb.rdflib_graph",
    "OxigraphKB": "nsreason.kb.oxigraph_store",
    "SparqlEndpointKB": "nsreason.kb.endpoint",
    "NetworkxKB": "nsreason.kb.networkx_graph",
    "TableKB": "nsreason.kb.table",
    "load_table": "nsreason.kb.table",
    "dump_table": "nsreason.kb.table",
    "MultiKB": "nsreason.kb.multi",
    "union": "nsreason.kb.multi",
}

__all__ = [
    "DCTERMS",
    "DIRECTIONS",
    "IRI",
    "KB_BACKENDS",
    "MAX_HOPS",
    "META_PREDICATES",
    "RDF",
    "RDFS",
    "SKOS",
    "XSD",
    "BNode",
    "Budget",
    "Edge",
    "Fact",
    "KBCapabilityError",
    "KBConnectionError",
    "KBError",
    "KBFormatError",
    "KBQueryError",
    "KBSecurityError",
    "KBSpecError",
    "KBTimeoutError",
    "KnowledgeBase",
    "Statement",
    "Limits",
    "Literal",
    "MemoryKB",
    "MultiKB",
    "NetworkxKB",
    "OxigraphKB",
    "Path",
    "RdflibKB",
    "ResultList",
    "Results",
    "SparqlEndpointKB",
    "TableKB",
    "Term",
    "Triple",
    "as_term",
    "dump_table",
    "load_kb",
    "load_table",
    "parse_spec",
    "union",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nsreason.kb' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
