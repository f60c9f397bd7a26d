"""RDF file formats, parse-error locations, and the no-network guard used while parsing.

>>> format_for("kb/animals.ttl"), format_for("x.owl"), format_for("x", "nt"), format_for("k.nt.gz")
('ttl', 'rdf', 'nt', 'nt')
>>> line_of("Parser error at line 3 column 5: unexpected '}'")
'line 3'
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from .errors import KBSecurityError, KBSpecError

__all__ = ["RDF_FORMATS", "format_for", "line_of", "no_network", "open_rdf", "rdflib_format"]

# canonical extension -> rdflib parser name; pyoxigraph takes the extension itself
RDF_FORMATS = {
    "ttl": "turtle", "nt": "nt", "nq": "nquads", "trig": "trig", "n3": "n3",
    "rdf": "xml", "jsonld": "json-ld",
}
_ALIASES = {"turtle": "ttl", "ntriples": "nt", "n-triples": "nt", "nquads": "nq",
            "n-quads": "nq", "xml": "rdf", "owl": "rdf", "rdfxml": "rdf", "rdf/xml": "rdf",
            "json-ld": "jsonld", "json": "jsonld"}


def format_for(name: str, format: str | None = None) -> str:
    """The canonical format (an extension in ``RDF_FORMATS``) of ``format`` or of the file
    name's extension (before a ``.gz``); :class:`KBSpecError` listing the known ones otherwise."""
    stem = str(name)[:-3] if str(name).lower().endswith(".gz") else str(name)
    key = (format or os.path.splitext(stem)[1].lstrip(".")).lower()
    key = _ALIASES.get(key, key)
    if key not in RDF_FORMATS:
        known = sorted({*RDF_FORMATS, *_ALIASES})
        what = f"format {format!r}" if format else f"the extension of {name!r}"
        raise KBSpecError(f"cannot tell the RDF format from {what}; known: {known}; "
                          "pass format=")
    return key


def open_rdf(path: str | os.PathLike) -> IO[bytes]:
    """The file's bytes, gunzipped when its name ends in ``.gz``."""
    import gzip

    return gzip.open(path, "rb") if str(path).lower().endswith(".gz") else open(path, "rb")


def rdflib_format(name: str, format: str | None = None) -> str:
    return RDF_FORMATS[format_for(name, format)]


def line_of(message: str) -> str | None:
    """``"line N"`` from a parser message that mentions one."""
    import re

    m = re.search(r"\bline:? (\d+)", message) or re.search(r":(\d+):\d+:", message)
    return f"line {m.group(1)}" if m else None


# --------------------------------------------------------------------- no network
_guarded: dict[int, tuple[str, ...]] = {}   # thread id -> files it may open
_lock = threading.Lock()
_installed = False
_NET_EVENTS = frozenset({"socket.connect", "socket.getaddrinfo", "socket.gethostbyname",
                         "urllib.Request", "http.client.connect", "ftplib.connect"})


def _allowed_file(path: object, allowed: tuple[str, ...]) -> bool:
    if isinstance(path, int):
        return True
    p = os.path.realpath(os.fsdecode(path)) if isinstance(path, (str, bytes, os.PathLike)) else ""
    if p in allowed or p.endswith((".py", ".pyc", ".so", ".pyd")):  # lazy imports
        return True
    prefixes = {os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix)}
    return any(p.startswith(pre + os.sep) for pre in prefixes)


def _hook(event: str, args: tuple) -> None:
    if not _guarded:
        return
    allowed = _guarded.get(threading.get_ident())
    if allowed is None:
        return
    if event in _NET_EVENTS:
        target = args[0] if event == "urllib.Request" else args[-1]
        raise KBSecurityError(f"parsing RDF tried to reach the network ({event} {target!r}); "
                              "nsreason never fetches remote contexts or entities")
    if event == "open" and args and not _allowed_file(args[0], allowed):
        raise KBSecurityError(f"parsing RDF tried to open another file ({args[0]!r}); "
                              "nsreason never follows references out of the parsed file")


@contextmanager
def no_network(*files: str | os.PathLike) -> Iterator[None]:
    """While inside, this thread may not open sockets, URLs, or files other than
    ``files``, Python's own library and modules being imported: a parser following a remote
    JSON-LD context or an external XML entity gets :class:`KBSecurityError`."""
    global _installed
    with _lock:
        if not _installed:
            sys.addaudithook(_hook)
            _installed = True
    me = threading.get_ident()
    previous = _guarded.get(me)
    _guarded[me] = tuple(os.path.realpath(os.fspath(f)) for f in files) + (previous or ())
    try:
        yield
    finally:
        if previous is None:
            del _guarded[me]
        else:
            _guarded[me] = previous
