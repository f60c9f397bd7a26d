"""CSV/TSV triple files: one triple a row, ``head, relation, tail[, source]``.

Cells (the same in CSV and TSV; TSV has no quoting, CSV quotes as usual):

- ``<http://example.org/dog>`` or ``http://example.org/dog`` (any absolute IRI): an IRI;
- ``rdfs:label``: a prefixed name (``rdf rdfs skos dcterms xsd owl`` and ``prefixes=``);
- ``_:f1``: a blank node;
- ``"4"^^xsd:integer``, ``"chien"@fr``, ``"dog"`` (N-Triples escapes): a literal, tail only;
- anything else, e.g. ``hot dog``: a name, the IRI ``base`` + the quoted name, which also
  gets the name as ``rdfs:label`` (``label_names=False`` turns that off).

A fourth cell names the triple's source: the loader adds a reified statement with
``dcterms:source`` (see :meth:`~nsreason.kb.base.KnowledgeBase.facts`). Blank rows and rows
whose first cell starts with ``#`` are skipped, and so is a header row
``head,relation,tail[,source]``. A malformed row raises
:class:`~nsreason.kb.errors.KBFormatError` naming the file, line and field.

>>> import io
>>> kb = load_table(io.StringIO("dog,IsA,animal,ConceptNet\\n"), name="kb.csv")
>>> kb, kb.entities_by_label("dog"), kb.facts(relation="urn:nsreason:IsA")[0].source_label
(TableKB(path='kb.csv', triples=9), [IRI('urn:nsreason:dog')], 'ConceptNet')
>>> load_table(io.StringIO("dog,IsA\\n"), name="kb.csv")
Traceback (most recent call last):
...
nsreason.kb.errors.KBFormatError: kb.csv: line 1: expected 3 or 4 fields (head, relation, tail[, source]), got 2
"""

from __future__ import annotations

import csv
import io
import os
import re
import urllib.parse
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from .errors import KBFormatError, KBSpecError
from .memory import MemoryKB
from .sparql import _IRIREF
from .terms import DCTERMS, IRI, RDF, RDFS, SKOS, XSD, BNode, Literal, Term, Triple

__all__ = ["DEFAULT_BASE", "PREFIXES", "TableKB", "dump_table", "format_cell", "load_table"]

DEFAULT_BASE = "urn:nsreason:"
PREFIXES = {"rdf": str(RDF), "rdfs": str(RDFS), "skos": str(SKOS), "dcterms": str(DCTERMS),
            "xsd": str(XSD), "owl": "http://www.w3.org/2002/07/owl#"}
FIELDS = ("head", "relation", "tail", "source")

_BNODE = re.compile(r"_:[A-Za-z0-9_][A-Za-z0-9_.\-]*")
_LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"(?:@([A-Za-z]+(?:-[A-Za-z0-9]+)*)|\^\^(\S+))?', re.DOTALL)
_ECHAR = re.compile(r'\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))', re.DOTALL)
_UNESC = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class _CellError(ValueError):
    pass


def _unescape(body: str) -> str:
    def sub(m: re.Match) -> str:
        if m.group(1) or m.group(2):
            cp = int(m.group(1) or m.group(2), 16)
            if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
                raise _CellError(f"escape \\u{cp:X} is not a character")
            return chr(cp)
        if m.group(3) not in _UNESC:
            raise _CellError(f"unknown escape \\{m.group(3)}")
        return _UNESC[m.group(3)]

    return _ECHAR.sub(sub, body)


class _Cells:
    def __init__(self, base: str, prefixes: dict[str, str], label_names: bool) -> None:
        self.base, self.prefixes, self.label_names = base, prefixes, label_names
        self.names: dict[IRI, str] = {}

    def iri(self, cell: str) -> IRI:
        if cell.startswith("<"):
            if not cell.endswith(">") or not _IRIREF.fullmatch(cell[1:-1]):
                raise _CellError(f"expected <IRI> with no spaces or <>\"{{}}|^`\\, got {cell!r}")
            return IRI(cell[1:-1])
        prefix, sep, local = cell.partition(":")
        if sep and prefix in self.prefixes and _IRIREF.fullmatch(self.prefixes[prefix] + local):
            return IRI(self.prefixes[prefix] + local)
        if _IRIREF.fullmatch(cell):
            return IRI(cell)
        if _CONTROL.search(cell) or '"' in cell:
            raise _CellError(f"expected an IRI or a name, got {cell!r} (control character or "
                             "quote; write literals as \"text\" in the tail)")
        iri = IRI(self.base + urllib.parse.quote(cell, safe=""))
        if self.label_names:
            self.names.setdefault(iri, cell)
        return iri

    def node(self, cell: str) -> IRI | BNode:
        if cell.startswith("_:"):
            if not _BNODE.fullmatch(cell):
                raise _CellError(f"expected a blank node like _:b1, got {cell!r}")
            return BNode(cell)
        return self.iri(cell)

    def term(self, cell: str) -> Term:
        if cell.startswith('"'):
            m = _LITERAL.fullmatch(cell)
            if not m:
                raise _CellError(f'expected a literal like "text", "text"@en or '
                                 f'"4"^^xsd:integer, got {cell!r}')
            value = _unescape(m.group(1))
            dt = self.iri(m.group(3)) if m.group(3) else None
            return Literal(value, datatype=dt, language=m.group(2))
        return self.node(cell)


def _rows(text: str, delimiter: str) -> Iterable[tuple[int, list[str]]]:
    if delimiter == "\t":
        for i, line in enumerate(text.split("\n"), 1):
            yield i, line.split("\t")
        return
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _RowError(reader.line_num or start, str(exc)) from None
        yield start, row
        start = reader.line_num + 1


class _RowError(Exception):
    def __init__(self, line: int, message: str) -> None:
        self.line, self.message = line, message


class TableKB(MemoryKB):
    """A :class:`MemoryKB` loaded from a CSV/TSV triple file (see :func:`load_table`)."""

    name = "csv"

    def __init__(self, triples: Iterable[tuple] = (), *, path: str | None = None, **kw) -> None:
        self.path = path
        super().__init__(triples, **kw)

    def _source(self) -> str | None:
        return self.path

    def __repr__(self) -> str:
        return f"TableKB(path={self.path!r}, triples={len(self)})"


def load_table(source: str | os.PathLike | IO[str], *, delimiter: str | None = None,
               base: str = DEFAULT_BASE, prefixes: dict[str, str] | None = None,
               label_names: bool = True, name: str | None = None) -> TableKB:
    """Load a CSV (``,``) or TSV (``\\t``, the default for ``.tsv``/``.tab`` files) file of
    triples into a :class:`TableKB`."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = name or str(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise KBSpecError(f"cannot read the triple file: {exc.strerror or exc}",
                              source=name) from exc
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise KBFormatError(f"not UTF-8: byte {data[exc.start]:#04x}", source=name,
                                path=f"line {line}") from None
        if delimiter is None:
            delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    else:
        text = source.read()
        name = name or getattr(source, "name", "<stream>")
        delimiter = delimiter or ","
    cells = _Cells(base, {**PREFIXES, **(prefixes or {})}, label_names)
    triples: list[Triple] = []
    try:
        for line, row in _rows(text, delimiter):
            row = [c.strip() for c in row]
            if not any(row) or row[0].startswith("#"):
                continue
            if not triples and [c.lower() for c in row] in (list(FIELDS[:3]), list(FIELDS)):
                continue
            triples.extend(_row_triples(row, line, cells, name))
    except _RowError as exc:
        raise KBFormatError(f"malformed row: {exc.message}", source=name,
                            path=f"line {exc.line}") from None
    triples.extend(Triple(iri, RDFS.label, Literal(text)) for iri, text in cells.names.items())
    return TableKB(triples, path=name)


def _row_triples(row: list[str], line: int, cells: _Cells, name: str) -> list[Triple]:
    if len(row) not in (3, 4):
        raise KBFormatError(f"expected 3 or 4 fields (head, relation, tail[, source]), "
                            f"got {len(row)}", source=name, path=f"line {line}")
    parsed: list = []
    for field, cell, parse in zip(FIELDS, row, (cells.node, cells.iri, cells.term, cells.node)):
        if not cell:
            if field == "source":
                continue
            raise KBFormatError(f"empty {field}", source=name, path=f"line {line}, field {field!r}")
        try:
            parsed.append(parse(cell))
        except _CellError as exc:
            raise KBFormatError(str(exc), source=name,
                                path=f"line {line}, field {field!r}") from None
    t = Triple(*parsed[:3])
    if len(parsed) == 3:
        return [t]
    node = BNode(f"_:nsreason-row-{line}")
    return [t, Triple(node, RDF.subject, t.subject), Triple(node, RDF.predicate, t.predicate),
            Triple(node, RDF.object, t.object), Triple(node, DCTERMS.source, parsed[3])]


def format_cell(term: Term) -> str:
    """The cell text of a term (before CSV quoting), read back by :func:`load_table`."""
    if isinstance(term, Literal):
        body = "".join(_ESC_OUT.get(ch, ch) for ch in term.value)
        body = _RAW_CONTROL.sub(lambda m: f"\\u{ord(m.group()):04X}", body)
        if term.language:
            return f'"{body}"@{term.language}'
        return f'"{body}"^^<{term.datatype}>' if term.datatype else f'"{body}"'
    if isinstance(term, BNode):
        return str(term)
    return f"<{term}>"


_RAW_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_ESC_OUT = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def dump_table(triples: Iterable[tuple], out: str | os.PathLike | IO[str], *,
               delimiter: str = ",") -> None:
    """Write triples as a CSV/TSV triple file that :func:`load_table` reads back."""
    rows = [[format_cell(t) for t in triple[:3]] for triple in triples]

    def write(fh: IO[str]) -> None:
        if delimiter == "\t":
            fh.writelines("\t".join(r) + "\n" for r in rows)
        else:
            csv.writer(fh, delimiter=delimiter, lineterminator="\n").writerows(rows)

    if isinstance(out, (str, os.PathLike)):
        with open(out, "w", encoding="utf-8", newline="") as fh:
            write(fh)
    else:
        write(out)
