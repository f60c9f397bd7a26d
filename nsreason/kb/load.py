"""Knowledge bases by name: the ``KB_BACKENDS`` registry and :func:`load_kb`.

Spec grammar::

    spec  :=  NAME ":" ARG        backend NAME gets ARG (the rest of the string, verbatim)
           |  PATH                no "NAME:" prefix: chosen from the path (see below)
    NAME  :=  [a-z][a-z0-9_.+-]*  a registered backend (or entry point of group nsreason.kb)

    memory:               empty in-memory KB       memory:FILE   an RDF/CSV/TSV file, in memory
    rdf:FILE              rdflib Graph parsed from FILE (.ttl .nt .nq .trig .n3 .rdf .owl .jsonld)
    oxigraph:DIR          on-disk pyoxigraph store (created if missing); oxigraph: in memory
    sparql:URL            remote SPARQL endpoint (http/https)
    csv:FILE  tsv:FILE    triple table (head, relation, tail[, source])
    networkx:             empty networkx MultiDiGraph KB

A bare PATH picks ``csv`` for ``.csv``, ``tsv`` for ``.tsv``/``.tab``, ``rdf`` for RDF
extensions and ``oxigraph`` for a directory. Keyword options of :func:`load_kb` go to the
backend (``format=``, ``limits=``, ``read_only=``...). A list of specs is a :class:`MultiKB`.

>>> parse_spec("sparql:http://localhost:7878/query")
('sparql', 'http://localhost:7878/query')
>>> load_kb("memory:")
MemoryKB(triples=0)
>>> load_kb("neo4j:bolt://x")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
nsreason.errors.RegistryError: unknown knowledge-base backend 'neo4j'; available: ['csv', 'memory', ..., 'tsv']

Plug-ins register a factory ``f(arg: str, **options) -> KnowledgeBase`` with
``@KB_BACKENDS.register("name")`` or under the entry-point group ``nsreason.kb``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..registry import Registry
from .base import KnowledgeBase
from .errors import KBSpecError
from .rdfio import _ALIASES, RDF_FORMATS

__all__ = ["KB_BACKENDS", "load_kb", "parse_spec"]

KBFactory = Callable[..., KnowledgeBase]
KB_BACKENDS: Registry[KBFactory] = Registry("knowledge-base backend", "nsreason.kb")

_SPEC = re.compile(r"([a-z][a-z0-9_.+-]*):(.*)", re.DOTALL)
_RDF_EXT = {f".{e}" for e in (*RDF_FORMATS, *_ALIASES) if "/" not in e}


def parse_spec(spec: str) -> tuple[str, str]:
    """Split a spec into (backend name, argument); see the module docstring."""
    if not isinstance(spec, str):
        raise KBSpecError(f"a KB spec is a string like 'rdf:kb.ttl', got {type(spec).__name__}")
    if "\x00" in spec:
        raise KBSpecError(f"a KB spec cannot contain NUL characters: {spec!r}")
    m = _SPEC.fullmatch(spec)
    if m:
        return m.group(1), m.group(2)
    if not spec.strip():
        raise KBSpecError("empty KB spec; expected NAME:ARG (e.g. 'rdf:kb.ttl') or a path")
    path = Path(spec)
    suffix = path.suffix.lower()
    if suffix == ".gz":
        suffix = Path(path.stem).suffix.lower()
    if suffix == ".csv":
        return "csv", spec
    if suffix in (".tsv", ".tab"):
        return "tsv", spec
    if suffix in _RDF_EXT:
        return "rdf", spec
    if path.is_dir():
        return "oxigraph", spec
    raise KBSpecError(f"cannot tell the backend of {spec!r}: write NAME:ARG, e.g. 'rdf:{spec}', "
                      f"with NAME one of {KB_BACKENDS.names()}")


def load_kb(spec: Any, **options: Any) -> KnowledgeBase:
    """A knowledge base from an instance (returned as is), a spec string or path, or a
    list of those (their union, a :class:`~nsreason.kb.multi.MultiKB`)."""
    if isinstance(spec, KnowledgeBase):
        if options:
            raise KBSpecError(f"options {sorted(options)} given with a ready KnowledgeBase")
        return spec
    if isinstance(spec, Sequence) and not isinstance(spec, (str, bytes)):
        from .multi import MultiKB

        return MultiKB([load_kb(s, **options) for s in spec])
    if isinstance(spec, os.PathLike):
        spec = os.fspath(spec)
    name, arg = parse_spec(spec)
    factory = KB_BACKENDS.get(name)
    kb = factory(arg, **options)
    if not isinstance(kb, KnowledgeBase):
        raise KBSpecError(f"backend {name!r} returned {type(kb).__name__}, not a KnowledgeBase")
    return kb


def _need_file(arg: str, backend: str) -> Path:
    if not arg:
        raise KBSpecError(f"'{backend}:' needs a file, e.g. '{backend}:kb.ttl'")
    path = Path(arg)
    if not path.is_file():
        raise KBSpecError(f"no such file: {arg!r}", source=f"{backend}:{arg}")
    return path


def _no_arg(arg: str, backend: str) -> None:
    if arg:
        raise KBSpecError(f"'{backend}:' takes no argument, got {arg!r}")


@KB_BACKENDS.register("memory")
def _memory(arg: str, **options: Any) -> KnowledgeBase:
    from .memory import MemoryKB

    if not arg:
        return MemoryKB(**options)
    name, _ = parse_spec(arg)
    if name == "rdf":  # parsed by pyoxigraph (fast, never fetches), then copied
        from .oxigraph_store import OxigraphKB

        kb: KnowledgeBase = OxigraphKB(None, load=[_need_file(arg, "memory")])
    else:
        kb = load_kb(arg)
    return MemoryKB(kb.match(limit=10**12, timeout=3600), **options)


@KB_BACKENDS.register("rdf")
def _rdf(arg: str, **options: Any) -> KnowledgeBase:
    from .rdflib_graph import RdflibKB

    return RdflibKB(_need_file(arg, "rdf"), **options)


@KB_BACKENDS.register("oxigraph")
def _oxigraph(arg: str, **options: Any) -> KnowledgeBase:
    from .oxigraph_store import OxigraphKB

    return OxigraphKB(arg or None, **options)


@KB_BACKENDS.register("sparql")
def _sparql(arg: str, **options: Any) -> KnowledgeBase:
    from .endpoint import SparqlEndpointKB

    return SparqlEndpointKB(arg, **options)


@KB_BACKENDS.register("csv")
def _csv(arg: str, **options: Any) -> KnowledgeBase:
    from .table import load_table

    return load_table(_need_file(arg, "csv"), **{"delimiter": ",", **options})


@KB_BACKENDS.register("tsv")
def _tsv(arg: str, **options: Any) -> KnowledgeBase:
    from .table import load_table

    return load_table(_need_file(arg, "tsv"), **{"delimiter": "\t", **options})


@KB_BACKENDS.register("networkx")
def _networkx(arg: str, **options: Any) -> KnowledgeBase:
    from .networkx_graph import NetworkxKB

    _no_arg(arg, "networkx")
    return NetworkxKB(**options)
