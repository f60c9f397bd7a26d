"""Questions joining the scene and a KB never seen before (nsreason.parse.mixed), parsed by
the shipped CLEVR parser and the fixture KB's relations, and answered by Reasoner.ask."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
KB_FILE = FIXTURES / "clevr_properties.ttl"

pytestmark = pytest.mark.slow  # the shipped parser loads


@pytest.fixture(scope="module")
def mixed():
    pytest.importorskip("torch")
    from nsreason.kb import load_kb
    from nsreason.parse.base import get_parser
    from nsreason.parse.mixed import MixedParser
    from nsreason.retrieve.relations import RelationCatalogue

    parser = get_parser("clevr")
    return MixedParser(parser, RelationCatalogue.from_kb(load_kb(f"rdf:{KB_FILE}")), parser.word_counts)


@pytest.mark.parametrize("question, program", [
    ("How many things in the scene can roll?", 'count(kb_filter["can roll"](scene()))'),
    ("How many metal things can roll?", 'count(kb_filter["can roll"](filter_material[metal](scene())))'),
    ("Are there any cylinders that conduct electricity?",
     'exist(kb_filter["conducts electricity"](filter_shape[cylinder](scene())))'),
    ("What is a typical use of the material the thing left of the red cube is made of?",
     ('kb_query["typical use"](query_material(unique(relate[left](unique(filter_shape[cube]('
      'filter_color[red](scene())))))))')),
    ("What is the typical use of the small cube's material?",
     'kb_query["typical use"](query_material(unique(filter_shape[cube](filter_size[small](scene())))))'),
    ("Does the material of the blue cube conduct electricity?",
     'kb_check["conducts electricity"](query_material(unique(filter_shape[cube](filter_color[blue](scene())))))'),
    ("Can the blue cube roll?", 'kb_verify["can roll"](unique(filter_shape[cube](filter_color[blue](scene()))))'),
    ("What is the number of faces of the blue thing?",
     'kb_property["number of faces"](unique(filter_color[blue](scene())))'),
    ("When was the typical use of the material of the blue cube invented?",
     ('kb_query["invented in"](kb_query["typical use"](query_material(unique(filter_shape[cube]('
      'filter_color[blue](scene()))))))')),
    ("How many cubes roll when they are pushed?", 'count(kb_filter["can roll"](filter_shape[cube](scene())))'),
    ("Will the blue cube roll if it is pushed?",
     'kb_verify["can roll"](unique(filter_shape[cube](filter_color[blue](scene()))))'),
    ("What is the origin of most of the material of the large sphere?",
     'kb_query[origin](query_material(unique(filter_shape[sphere](filter_size[large](scene())))))'),
])
def test_mixed_questions_become_programs_that_join_scene_and_kb_steps(mixed, question, program):
    parsed = mixed.parse(question)
    assert parsed is not None and parsed.ok, parsed
    assert parsed.program.to_text() == program
    parsed.program.validate()
    assert parsed.details["parser"] == "mixed" and parsed.details["scene_question"]


@pytest.fixture(scope="module")
def mixed_minilm():
    pytest.importorskip("torch")
    from nsreason.encode.text import TextEncoder
    from nsreason.kb import load_kb
    from nsreason.parse.base import get_parser
    from nsreason.parse.mixed import MixedParser
    from nsreason.retrieve.relations import RelationCatalogue

    parser = get_parser("clevr")
    catalogue = RelationCatalogue.from_kb(load_kb(f"rdf:{KB_FILE}"), encoder=TextEncoder())
    return MixedParser(parser, catalogue, parser.word_counts)


@pytest.mark.parametrize("question, program", [
    ("How many things let electric current pass through them?", 'count(kb_filter["conducts electricity"](scene()))'),
    ("What is the material of the large sphere commonly employed for?",
     'kb_query["typical use"](query_material(unique(filter_shape[sphere](filter_size[large](scene())))))'),
    ("Would the blue cube move along the floor if you pushed it?",
     'kb_verify["can roll"](unique(filter_shape[cube](filter_color[blue](scene()))))'),
    ("Does the blue cube's material let electricity through?",
     'kb_check["conducts electricity"](query_material(unique(filter_shape[cube](filter_color[blue](scene())))))'),
    ("Which year did the typical use of the material of the blue cube first appear?",
     ('kb_query["invented in"](kb_query["typical use"](query_material(unique(filter_shape[cube]('
      'filter_color[blue](scene()))))))')),
])
def test_a_paraphrased_relation_is_found_from_the_whole_question_in_its_frame(mixed_minilm, question, program):
    parsed = mixed_minilm.parse(question)
    assert parsed is not None and parsed.ok, parsed
    assert parsed.program.to_text() == program
    assert parsed.details["relation"]["method"] == "question" and parsed.details["gain"] >= 0.08


@pytest.mark.parametrize("question", [
    "What is the melting point of the material of the blue cube?",
    "What is the price of the material of the blue cube?",
    "What is the boiling point of the blue cube's material?",
    "How many vertices does the shape of the blue cube have?",  # the KB has faces, not vertices
    "Who invented the shape of the blue cube?",
    "How many things are edible?",
    "Is the blue cube magnetic?",
])
def test_a_relation_the_kb_lacks_is_not_replaced_by_the_closest_one(mixed_minilm, question):
    parsed = mixed_minilm.parse(question)
    assert parsed is None or not parsed.ok, parsed.program


def test_the_skeleton_of_a_question_is_read_without_its_relation():
    from nsreason.parse.mixed import _skeleton, _tokens

    cases = {
        "How many of the big rubber things would spring back up when dropped?":
            ("count", "How many big rubber things are there?", "how many of the things would spring back up when dropped"),
        "Of the cubes in the scene, how many are bouncy?":
            ("count", "How many cubes are there?", "of the things in the scene how many are bouncy"),
        "What noise do you hear if you knock on the small ball's material?":
            ("query", "What is the material of the small ball?",
             "what noise do you hear if you knock on the object's material"),
        "If you knock on the cube left of the red ball, what noise does its material make?":
            ("query", "What is the material of the cube left of the red ball?",
             "if you knock on the object what noise does its material make"),
        "Which familiar thing is shaped like the tiny cylinder?":
            ("query", "What is the shape of the tiny cylinder?", "which familiar thing is shaped like the object"),
        "Is any side of the red matte object that is behind the cube rounded?":
            ("verify", "What color is the red matte object that is behind the cube?", "is any side of the object rounded"),
        "Which toy takes the form of the small cube?":
            ("query", "What is the shape of the small cube?", "which toy takes the form of the object"),
        "Are there any metal spheres that would float?":
            ("exist", "Are there any metal spheres?", "are there any things that would float"),
    }
    for question, want in cases.items():
        got = _skeleton(_tokens(question))
        assert got is not None, question
        assert (got[0].kind, got[0].scene_question, got[1]) == want


def test_the_noun_a_question_asks_for_can_name_the_relation():
    from types import SimpleNamespace

    from nsreason.parse.mixed import _answer_noun, _tokens

    element = SimpleNamespace(labels=("main chemical element",))
    gem = SimpleNamespace(labels=("gemstone", "gem"))
    assert _answer_noun(_tokens("Which element is the material of the cube mostly made of?"), element) == "element"
    assert _answer_noun(_tokens("Which elements make up the material of the cube?"), element) == "elements"
    assert _answer_noun(_tokens("What kind of gem has the colour of the ball?"), gem) == "gem"
    assert _answer_noun(_tokens("What precious gem has the colour of the ball?"), gem) == "gem"
    assert _answer_noun(_tokens("Which language is spoken where the cube's material comes from?"), element) is None
    assert _answer_noun(_tokens("What colour is the ball?"), gem) is None
    assert _answer_noun(_tokens("How many elements are there?"), element) is None


def test_the_same_attribute_as_an_object_is_that_objects_attribute(mixed):
    parsed = mixed.parse("What typical use has the same material as the blue cube?")
    assert parsed is not None and parsed.ok
    assert parsed.program.to_text() == \
        'kb_query["typical use"](query_material(unique(filter_shape[cube](filter_color[blue](scene())))))'


def test_questions_that_name_no_relation_are_left_to_the_scene_parser(mixed):
    assert mixed.parse("How many cubes are there?") is None
    assert mixed.parse("What color is the large sphere?") is None
    assert mixed.parse("How many things can fly?") is None
    assert mixed.unmatched("How many things can fly?") == ["fly"]


def test_reasoner_answers_mixed_questions_and_refuses_an_unknown_relation_by_name():
    pytest.importorskip("torch")
    from nsreason.api import Reasoner
    from nsreason.scene.clevr import load_clevr_scenes

    scene = load_clevr_scenes(FIXTURES / "clevr_refplus_scenes_small.json")[0]
    r = Reasoner(kb=f"rdf:{KB_FILE}")
    a = r.ask(scene, "How many things in the scene can roll?")
    assert a.value == 2 and a.trace.parse.details["parser"] == "mixed"
    assert a.trace.parse.details["relation"]["label"] == "can roll"
    assert r.ask(scene, "What is the typical use of the material of the large sphere?").value == "electrical wiring"
    assert r.ask(scene, "Does the material of the blue cube conduct electricity?").value is False
    refused = r.ask(scene, "What is the melting point of the material of the blue cube?")
    assert refused.failure.code == "unknown_relation" and "'melting point'" in refused.failure.reason
    assert "'typical use'" in refused.failure.reason  # what the KB has
    assert r.ask(scene, "How many cubes are there?").value == 1  # a scene question as before


def test_a_plain_scene_question_does_not_load_the_knowledge_base():
    pytest.importorskip("torch")
    from nsreason.api import Reasoner
    from nsreason.scene.clevr import load_clevr_scenes

    scene = load_clevr_scenes(FIXTURES / "clevr_refplus_scenes_small.json")[0]
    r = Reasoner(kb=f"rdf:{KB_FILE}")
    assert r.ask(scene, "How many cubes are there?").value == 1
    assert r._knowledge is None  # no word the parser does not explain: no KB needed


def test_a_kb_without_labels_still_gets_paths_by_name():
    pytest.importorskip("torch")
    from nsreason.kb import MemoryKB
    from nsreason.kb.terms import Literal
    from nsreason.parse.base import get_parser
    from nsreason.parse.mixed import MixedParser
    from nsreason.retrieve.relations import RelationCatalogue

    kb = MemoryKB()  # entities named only by their IRIs: the catalogue cannot tell what a relation is about
    kb.add("http://ex.org/metal", "http://ex.org/typicalUse", "http://ex.org/wiring")
    kb.add("http://ex.org/wiring", "http://ex.org/inventedIn", Literal("1800"))
    parser = get_parser("clevr")
    mixed = MixedParser(parser, RelationCatalogue.from_kb(kb), parser.word_counts)
    parsed = mixed.parse("When was the typical use of the material of the blue cube invented?")
    assert parsed is not None and parsed.ok, parsed
    assert parsed.program.to_text().startswith('kb_query["invented in"](kb_query["typical use"](')
