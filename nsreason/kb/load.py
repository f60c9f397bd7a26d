"""Knowledge bases by name: the ``KB_BACKENDS`` registry and :func:`load_kb`.

Spec grammar::

    spec  :=  NAME ":" ARG        backend NAME gets ARG (the rest of the string, verbatim)
           |  PATH                no "NAME:" prefix: chosen from the path (see below)
    NAME  :=  [a-z][a-z0-9_.+-]*  a registered backend (or entry point of group nsreason.kb)

    memory:               empty in-memory KB       memory:FILE   an RDF/CSV/TSV file, in memory
    rdf:FILE              rdflib Graph parsed from FILE (.ttl .nt .nq .trig .n3 .rdf .owl .jsonld)
    oxigraph:DIR          on-disk pyoxigraph store (created if missing or empty); oxigraph: in memory
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

__all__ = ["KB_BACKENDS", "check_spec", "load_kb", "parse_spec"]

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
    try:
        is_dir = path.is_dir()
    except (OSError, ValueError) as exc:
        raise KBSpecError(f"cannot use {spec[:80]!r} as a KB: {exc}") from None
    if is_dir:
        return "oxigraph", spec
    raise KBSpecError(f"cannot tell the backend of {spec!r}: write NAME:ARG, e.g. 'rdf:{spec}', "
                      f"with NAME one of {KB_BACKENDS.names()}")


_FILE_BACKENDS = ("rdf", "csv", "tsv")


def check_spec(spec: Any) -> tuple[str, str]:
    """``parse_spec(spec)``, and for a backend that reads a file (``rdf``, ``csv``, ``tsv``,
    ``memory:FILE``) that the file exists: a typed error naming the spec before anything is
    loaded (the CLI checks ``--kb`` values with it before it answers).

    >>> check_spec("missing.ttl")
    Traceback (most recent call last):
    ...
    nsreason.kb.errors.KBSpecError: rdf:missing.ttl: no such file: 'missing.ttl'
    >>> check_spec("csv:")
    Traceback (most recent call last):
    ...
    nsreason.kb.errors.KBSpecError: 'csv:' needs a file, e.g. 'csv:kb.ttl'
    """
    if isinstance(spec, os.PathLike):
        spec = os.fspath(spec)
    name, arg = parse_spec(spec)
    if name in _FILE_BACKENDS:
        _need_file(arg, name)
    elif name == "memory" and arg:
        inner, _ = parse_spec(arg)
        if inner == "memory":
            raise KBSpecError("'memory:' cannot hold another 'memory:' spec", source=spec[:60])
        check_spec(arg)
    elif name == "oxigraph" and arg:
        from .oxigraph_store import check_store_dir

        check_store_dir(Path(arg))
    return name, arg


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
    try:
        exists, is_file = path.exists(), path.is_file()
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte...
        raise KBSpecError(f"cannot use the file: {exc}", source=f"{backend}:{arg}") from None
    if not exists:
        raise KBSpecError(f"no such file: {arg!r}", source=f"{backend}:{arg}")
    if not is_file:
        raise KBSpecError(f"expected a file, got {'a directory' if path.is_dir() else 'not a regular file'}: "
                          f"{arg!r}", source=f"{backend}:{arg}")
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
    if name == "memory":  # memory:memory:... would recurse without end
        raise KBSpecError("'memory:' cannot hold another 'memory:' spec", source=f"memory:{arg[:60]}")
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
