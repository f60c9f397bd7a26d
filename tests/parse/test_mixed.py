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
