"""Fixtures for the knowledge-base tests: the build script as a module, the shipped KB
read into an index, the shared WordNet files."""

from __future__ import annotations

import functools
import gzip
import importlib.util
import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from tests.conftest import REPO, SHARED_DATA, shared_path

KNOWLEDGE = REPO / "knowledge"
SHIPPED = KNOWLEDGE / "default.nt.gz"
WORDNET_TARBALL = ("knowledge", "wordnet-3.0", "wordnet-3.0-lf.tar.gz")


def _load_build():
    name = "nsreason_knowledge_build"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, KNOWLEDGE / "build.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the body runs
        spec.loader.exec_module(module)
    return sys.modules[name]


kb_build = _load_build()

# The N-Triples shapes build.py writes: <s> <p> <o> . and <s> <p> "lit"(^^<dt>)? .
_LINE = re.compile(
    r'<([^<>"{}|^`\\\x00-\x20]*)> <([^<>"{}|^`\\\x00-\x20]*)> '
    r'(?:<([^<>"{}|^`\\\x00-\x20]*)>|"((?:[^"\\\n\r]|\\["\\nrtbf]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*)"'
    r"(?:\^\^<([^<>\x00-\x20]*)>)?) \.\n\Z"
)
_UNESCAPE = re.compile(r'\\(["\\nrtbf]|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8})')
_SIMPLE = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


def unescape(text: str) -> str:
    return _UNESCAPE.sub(lambda m: _SIMPLE.get(m.group(1)) or chr(int(m.group(1)[1:], 16)), text)


class KB:
    """An N-Triples file read into subject and predicate indexes (terms as build.py's)."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.by_subject: dict[str, list[tuple[str, object]]] = defaultdict(list)
        self.by_predicate: dict[str, list[tuple[str, object]]] = defaultdict(list)
        for n, line in enumerate(lines, 1):
            m = _LINE.match(line)
            if m is None:
                raise AssertionError(f"line {n} is not N-Triples as build.py writes it: {line!r}")
            s, p, iri, lit, dt = m.groups()
            o = iri if iri is not None else kb_build.Lit(unescape(lit), dt)
            self.by_subject[s].append((p, o))
            self.by_predicate[p].append((s, o))

    def objects(self, s: str, p: str) -> list[object]:
        return [o for q, o in self.by_subject.get(s, ()) if q == p]

    def texts(self, s: str, p: str) -> list[str]:
        return [o.text for o in self.objects(s, p)]

    @functools.cached_property
    def fact_nodes(self) -> dict[str, dict[str, list[object]]]:
        """Fact node -> predicate -> objects."""
        out: dict[str, dict[str, list[object]]] = {}
        for s, props in self.by_subject.items():
            if s.startswith(kb_build.FACT):
                d = out.setdefault(s, defaultdict(list))
                for p, o in props:
                    d[p].append(o)
        return out


@pytest.fixture(scope="session")
def build_module():
    return kb_build


@pytest.fixture(scope="session")
def shipped_kb() -> KB:
    if not SHIPPED.exists():
        pytest.fail(f"{SHIPPED} is missing: run python knowledge/build.py (see knowledge/README.md)")
    with gzip.open(SHIPPED, "rt", encoding="utf-8", newline="") as handle:
        return KB(handle.readlines())


@pytest.fixture(scope="session")
def wordnet():
    return kb_build.WordNet.from_tarball(shared_path(*WORDNET_TARBALL))


@pytest.fixture(scope="session")
def shared_root() -> Path:
    """The shared data folder, with the files the build reads (skips when absent)."""
    shared_path(*WORDNET_TARBALL)
    shared_path("fvqa", "facts.jsonl")
    shared_path("knowledge", "commonsense", "commonsense.csv")
    shared_path("okvqa", "detected_coco_objects.json")
    return SHARED_DATA
