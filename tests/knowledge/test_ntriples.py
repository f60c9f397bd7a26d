"""N-Triples writing: escaping that rdflib reads back, deterministic bytes, IRIs."""

from __future__ import annotations

import gzip

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.knowledge.conftest import KB, SHIPPED, kb_build

B = kb_build
rdflib = pytest.importorskip("rdflib")

TRICKY = ['say "hi"', "back\\slash", "p\u00e9tanque \u2013 \u00fcber \U0001F9F8", "two\nlines\r\ttab",
          "bell\x07", 'end \\"', "\\u0041 is not A"]


def _parse(text: str):
    graph = rdflib.Graph()
    graph.parse(data=text, format="nt")
    return graph


@pytest.mark.parametrize("text", TRICKY)
def test_literals_survive_rdflib(text):
    line = f"{B.term('http://x/s')} {B.term('http://x/p')} {B.term(B.Lit(text))} .\n"
    (triple,) = _parse(line)
    assert str(triple[2]) == text


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_any_text_round_trips(text):
    line = f"{B.term('http://x/s')} {B.term('http://x/p')} {B.term(B.Lit(text))} .\n"
    (triple,) = _parse(line)
    assert str(triple[2]) == text
    assert KB([line]).texts("http://x/s", "http://x/p") == [text]  # the tests' own reader too


@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30))
def test_concept_iris_are_valid_and_distinct_per_label(label):
    iri = B.concept_iri(label)
    assert B.term(iri)  # raises on a character N-Triples forbids in an IRI
    assert iri.startswith(B.CONCEPT)
    from urllib.parse import unquote

    assert unquote(iri.removeprefix(B.CONCEPT)).replace("_", " ") == label.replace("_", " ")


def test_bad_iris_are_refused():
    for bad in ("http://x/a b", "http://x/<a>", 'http://x/"', "http://x/a\\b"):
        with pytest.raises(ValueError, match="not a valid IRI"):
            B.term(bad)


def test_labels_and_slugs():
    assert B.label_of("Category:Stuffed_toys") == "stuffed toys"
    assert B.concept_iri("teddy bear") == "http://nsreason.org/kb/concept/teddy_bear"
    assert B.rel_iri("big#f") == "http://nsreason.org/kb/rel/big%23f"
    assert B.rel_iri("is-a") == "http://nsreason.org/kb/rel/is-a"


def test_surface_spans_follow_the_terms():
    fact = {"head": "teddy_bear", "tail": "bed", "surface":
            "*Something you find in [[bed]] is [[a teddy bear]]"}
    assert B.surface_spans(fact) == {"head": "teddy bear", "tail": "bed"}
    fact = {"head": "teddy_bear", "tail": "stuff_animal", "surface":
            "[[teddy bear]] is a subclass of [[stuffed animal]]"}
    assert B.surface_spans(fact) == {"head": "teddy bear", "tail": "stuffed animal"}


def _small_inputs(shared_root):
    facts = B.read_fvqa_facts(shared_root / "fvqa" / "facts.jsonl")
    some = [f for f in facts if "teddy" in f["head"].lower()] + facts[:40] + [
        f for f in facts if f["kb"] == "webchild"][:5]
    rows = B.read_commonsense(shared_root / "knowledge" / "commonsense" / "commonsense.csv")[:30]
    rows += [(text, "is-property-of", "tricky thing", "test", 1) for text in TRICKY]
    return some, rows


@pytest.mark.data
def test_small_build_is_deterministic_and_parses(shared_root, wordnet, tmp_path):
    facts, rows = _small_inputs(shared_root)
    words = ["teddy bear", "Theodore Roosevelt", "cubes", "wine glass"]
    outs = []
    for n in range(2):
        graph, report = B.build(shared_root, words=list(reversed(words)) if n else words,
                                fvqa_facts=facts, commonsense_rows=rows, wordnet=wordnet)
        outs.append(tmp_path / f"kb{n}.nt.gz")
        B.write_ntriples(graph, outs[-1])
    assert outs[0].read_bytes() == outs[1].read_bytes()
    text = gzip.decompress(outs[0].read_bytes()).decode("utf-8")
    lines = text.splitlines(keepends=True)
    graph = _parse(text)
    assert len(graph) == len(lines) == report["triples"]
    # every line parses on its own too
    for line in lines[::97]:
        assert len(_parse(line)) == 1
    labels = {str(o) for o in graph.objects(None, rdflib.RDFS.label)}
    assert {B.label_of(t) for t in TRICKY} <= labels
    raw = {str(o) for o in graph.objects(None, rdflib.URIRef(B.P_RAW_SUBJECT))}
    assert {t for t in TRICKY if B.label_of(t) != t} <= raw
    assert report["facts per source"]["pattern-commonsense"] == len(rows)
    teddy = rdflib.URIRef(B.CONCEPT + "teddy_bear")
    assert (teddy, rdflib.URIRef(B.rel_iri("synset")), rdflib.URIRef(B.WORDNET + "teddy.n.01")) in graph


@pytest.mark.slow
def test_every_line_of_the_shipped_file_parses_with_rdflib():
    with gzip.open(SHIPPED, "rt", encoding="utf-8", newline="") as handle:
        text = handle.read()
    assert len(_parse(text)) == text.count("\n")
