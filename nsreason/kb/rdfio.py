"""RDF file formats, parse-error locations, and the no-network guard used while parsing.

>>> format_for("kb/animals.ttl"), format_for("x.owl"), format_for("x", "nt"), format_for("k.nt.gz")
('ttl', 'rdf', 'nt', 'nt')
>>> line_of("Parser error at line 3 column 5: unexpected '}'")
'line 3'
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from .errors import KBFormatError, KBSecurityError, KBSpecError

__all__ = ["RDF_FORMATS", "check_rdf_file", "format_for", "line_of", "no_network", "open_rdf", "rdflib_format"]

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


def check_rdf_file(path: str | os.PathLike, format: str | None = None) -> str:
    """Check a user's RDF file before a parser reads it; return its canonical format.

    Refused with a typed error naming the file: a missing file or one that is not a regular
    file (a FIFO would block: :class:`KBSpecError`); a file (or, gunzipped, its content) over
    :attr:`~nsreason.limits.Limits.file_bytes`; an N-Triples/N-Quads line over
    :attr:`~nsreason.limits.Limits.rdf_line_bytes`; RDF/XML that declares an entity inside
    another entity or a parameter entity, that grows more than
    :attr:`~nsreason.limits.Limits.xml_expansion` times by its entities or has an element
    text over ``rdf_line_bytes`` (:class:`KBFormatError`). Entities are never expanded
    here (expat's own amplification guard stops a bomb early), and the check reads the file
    once, streaming.

    >>> import tempfile, pathlib
    >>> bomb = pathlib.Path(tempfile.mkdtemp()) / "lol.rdf"
    >>> _ = bomb.write_text('<!DOCTYPE r [<!ENTITY a "lol"><!ENTITY b "&a;&a;">]><r>&b;</r>')
    >>> check_rdf_file(bomb)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nsreason.kb.errors.KBFormatError: .../lol.rdf: line 1: the entity 'b' is declared with ...
    """
    import stat

    from ..limits import get_limits

    name = str(path)
    fmt = format_for(name, format)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise KBSpecError("no such file", source=name) from None
    except (OSError, ValueError) as exc:
        raise KBSpecError(f"cannot read the file: {getattr(exc, 'strerror', None) or exc}",
                          source=name) from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file (a FIFO or device)"
        raise KBSpecError(f"expected an RDF file, got {kind}", source=name)
    limits = get_limits()
    if st.st_size > limits.file_bytes:
        raise KBFormatError(_too_big(f"{st.st_size:,} bytes", limits.file_bytes), source=name)
    try:
        with open_rdf(path) as fh:
            if fmt in ("nt", "nq"):
                _check_lines(fh, name, limits.rdf_line_bytes, limits.file_bytes)
            elif fmt == "rdf":
                _check_xml(fh, name, st.st_size, limits)
    except (OSError, EOFError) as exc:  # unreadable, or a broken .gz
        raise KBFormatError(f"cannot read RDF: {exc}", source=name) from None
    return fmt


def _too_big(size: str, limit: int) -> str:
    from ..limits import how_to_raise

    return f"file too large: {size}, the limit is {limit:,} bytes ({how_to_raise('file_bytes')})"


def _check_lines(fh: IO[bytes], name: str, line_limit: int, total_limit: int) -> None:
    """No line of ``fh`` over ``line_limit`` bytes, no more than ``total_limit`` in all."""
    from ..limits import how_to_raise

    def refuse(line: int) -> KBFormatError:
        return KBFormatError(f"a line longer than {line_limit:,} bytes "
                             f"({how_to_raise('rdf_line_bytes')})", source=name, path=f"line {line}")

    line, run, total = 1, 0, 0  # the line being read, and its bytes so far
    while block := fh.read(1 << 20):
        total += len(block)
        if total > total_limit:
            raise KBFormatError(_too_big("more once gunzipped", total_limit), source=name)
        nl = block.find(b"\n")
        if nl < 0:
            run += len(block)
            if run > line_limit:
                raise refuse(line)
            continue
        if run + nl > line_limit:
            raise refuse(line)
        parts = block[nl + 1:].split(b"\n")
        lengths = list(map(len, parts[:-1]))
        if lengths and max(lengths) > line_limit:
            raise refuse(line + 1 + next(i for i, n in enumerate(lengths) if n > line_limit))
        line += 1 + len(lengths)
        run = len(parts[-1])
        if run > line_limit:
            raise refuse(line)


class _XmlRefused(Exception):
    pass


_ENTITY_REF = re.compile(r"&(?!(?:amp|lt|gt|apos|quot);)[A-Za-z_:][\w.:-]*;")


def _check_xml(fh: IO[bytes], name: str, size: int, limits: Any) -> None:
    """Scan RDF/XML with expat, expanding nothing it was not told to (see check_rdf_file)."""
    import xml.parsers.expat

    from ..limits import how_to_raise

    parser = xml.parsers.expat.ParserCreate()
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    budget = max(1 << 20, limits.xml_expansion * size)
    state = {"text": 0, "total": 0}

    def refuse(message: str) -> None:
        raise _XmlRefused(message)

    def entity(ename: str, is_parameter: int, value: str | None, base: str | None,
               system_id: str | None, public_id: str | None, notation: str | None) -> None:
        if is_parameter:
            refuse(f"the parameter entity {ename!r} is refused (entities are not expanded)")
        if value is not None and _ENTITY_REF.search(value):  # external ones are never read
            refuse(f"the entity {ename!r} is declared with another entity in its value "
                   "(entities in entities are not expanded: a 'billion laughs' file)")

    def text(data: str) -> None:
        state["text"] += len(data)
        state["total"] += len(data)
        if state["text"] > limits.rdf_line_bytes:
            refuse(f"an element's text is longer than {limits.rdf_line_bytes:,} characters "
                   f"({how_to_raise('rdf_line_bytes')})")
        if state["total"] > budget:
            refuse(f"the file grows past {limits.xml_expansion} times its size by its entities "
                   f"({how_to_raise('xml_expansion')})")

    def element(tag: str, attrs: dict[str, str]) -> None:
        state["text"] = 0
        state["total"] += len(tag) + sum(len(k) + len(v) for k, v in attrs.items())
        if state["total"] > budget:
            refuse(f"the file grows past {limits.xml_expansion} times its size by its entities "
                   f"({how_to_raise('xml_expansion')})")

    def end(tag: str) -> None:
        state["text"] = 0

    parser.EntityDeclHandler = entity
    parser.CharacterDataHandler = text
    parser.StartElementHandler = element
    parser.EndElementHandler = end
    parser.ExternalEntityRefHandler = lambda *args: 1  # never fetched (the declaration is refused)
    total = 0
    try:
        while block := fh.read(1 << 20):
            total += len(block)
            if total > limits.file_bytes:
                raise KBFormatError(_too_big("more once gunzipped", limits.file_bytes), source=name)
            parser.Parse(block, False)
        parser.Parse(b"", True)
    except _XmlRefused as exc:
        raise KBFormatError(str(exc.args[0]), source=name,
                            path=f"line {parser.CurrentLineNumber}") from None
    except xml.parsers.expat.ExpatError as exc:
        raise KBFormatError(f"malformed RDF/XML: {xml.parsers.expat.ErrorString(exc.code)}",
                            source=name, path=f"line {exc.lineno}") from None


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
