"""The soft knowledge ops of the neural executor (nsreason.execute.soft_knowledge): the same
answers as the symbolic relation ops on a clean scene, probabilities that follow the scene's
on a noisy one, failures as the symbolic ops give them, traces with every fact and its
source, and a typed failure without a KB. On the fixture Turtle KB."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from nsreason.execute.neural import NeuralExecutor, new_model
from nsreason.execute.soft_knowledge import AMBIGUOUS, NO_FACT
from nsreason.kb import RDFS, Literal, MemoryKB
from nsreason.program import Program
from nsreason.retrieve.ops import KnowledgeTable, RelationLookup
from nsreason.scene import Attribute, SceneGraph, SceneObject
from tests.retrieve.conftest import EX, KB_FILE, properties_kb, relation_executor, small_scene

torch.set_num_threads(1)

PROGRAMS = [  # the fixture scene: 0 small gray metal sphere, 1 small blue rubber cube, 2 large cyan metal sphere
    'count(kb_filter["can roll"](scene()))',
    'count(kb_filter["conducts electricity"](filter_size[small](scene())))',
    'exist(kb_filter["can roll"](filter_shape[cube](scene())))',
    'kb_query["typical use"](query_material(unique(filter_shape[cube](scene()))))',
    'kb_query["typical use"](query_material(unique(filter_size[large](scene()))))',
    'kb_query["origin"](query_material(unique(relate[right](unique(filter_color[gray](scene()))))))',
    ('kb_query["invented in"](kb_query["typical use"](query_material(unique('
     'filter_shape[cube](scene())))))'),
    'kb_query["conducts electricity"](query_material(unique(filter_color[gray](scene()))))',
    'kb_verify["conducts electricity"](unique(filter_color[gray](scene())))',
    'kb_verify["can roll"](unique(filter_color[blue](scene())))',
    'kb_check["can roll"](query_shape(unique(filter_color[blue](scene()))))',
    'kb_check["conducts electricity"](query_material(unique(filter_color[cyan](scene()))))',
    'kb_property["number of faces"](unique(filter_color[blue](scene())))',
    'kb_property["typical use"](unique(filter_color[gray](scene())))',
    # failures
    'kb_query[wavelength](query_color(unique(filter_color[blue](scene()))))',
    'kb_check["number of faces"](query_shape(unique(filter_color[blue](scene()))))',
    'count(kb_filter["can fly"](scene()))',
]


@pytest.fixture(scope="module")
def kb():
    return properties_kb()


@pytest.fixture(scope="module")
def scene():
    return small_scene()


def neural(kb, model=None) -> NeuralExecutor:
    """An untrained model reads the scene as stated: probabilities here are exact."""
    return NeuralExecutor(model if model is not None else new_model("clevr"), device="cpu",
                          knowledge=KnowledgeTable(RelationLookup(kb)))


def program(text: str) -> Program:
    return Program.from_text(text, "clevr+knowledge")


def test_neural_answers_agree_with_the_symbolic_ones_on_a_clean_scene(kb, scene):
    sym, soft = relation_executor(kb), neural(kb)
    for text in PROGRAMS:
        a, b = sym.execute(program(text), scene), soft.execute(program(text), scene)
        assert (b.value, b.failure and b.failure.code, b.failure and b.failure.step) == (
            a.value, a.failure and a.failure.code, a.failure and a.failure.step), text
        if b.failure is None:
            assert b.confidence > 0.99, text


@pytest.mark.slow  # the shipped weights load
def test_the_shipped_model_agrees_too_in_one_batch(kb, scene):
    sym, soft = relation_executor(kb), NeuralExecutor(device="cpu", knowledge=KnowledgeTable(RelationLookup(kb)))
    answers = soft.execute_many([(program(t), scene) for t in PROGRAMS], trace=True)
    for text, b in zip(PROGRAMS, answers):
        a = sym.execute(program(text), scene)
        assert (b.value, b.failure and b.failure.code) == (a.value, a.failure and a.failure.code), text


def test_every_knowledge_step_lists_its_facts_with_their_source(kb, scene):
    soft = neural(kb)
    a = soft.execute(program('count(kb_filter["can roll"](scene()))'), scene)
    step = a.trace.steps[1]
    assert step.details["relation"]["label"] == "can roll"
    assert step.details["holds"] == pytest.approx({"0": 1.0, "1": 0.0, "2": 1.0}, abs=1e-3)
    facts = {(f["labels"][0], f["tail"]) for r in step.details["lookups"] for f in r["facts"]}
    assert facts == {("sphere", "true"), ("cylinder", "true"), ("cube", "false")}  # every shape's fact
    assert all(f["source"] == "clevr_properties.ttl" for r in step.details["lookups"] for f in r["facts"])
    two = soft.execute(program(PROGRAMS[6]), scene)
    hops = [[f["labels"] for r in s.details["lookups"] for f in r["facts"]] for s in two.trace.steps[-2:]]
    assert hops == [[["rubber", "typical use", "tyres"]], [["tyres", "invented in", "1845"]]]
    assert two.trace.steps[-2].details["lookups"][0]["probability"] == pytest.approx(1.0, abs=1e-3)
    assert "tyres --invented in--> 1845" in two.trace.render_text()


def noisy(metal: float, red: float = 1.0) -> SceneGraph:
    """A small sphere, ``metal`` metal (else rubber), ``red`` red (else blue); a rubber cube."""
    colour = (Attribute("red", "color", red),) + ((Attribute("blue", "color", 1 - red),) if red < 1 else ())
    return SceneGraph([
        SceneObject("a", "sphere", (Attribute("sphere", "shape"), Attribute("small", "size"),
                                    Attribute("metal", "material", metal), *colour)),
        SceneObject("b", "cube", (Attribute("cube", "shape"), Attribute("small", "size"),
                                  Attribute("rubber", "material"), Attribute("gray", "color"))),
    ])


def test_probabilities_follow_an_uncertain_material(kb):
    soft = neural(kb)
    verify = 'kb_verify["conducts electricity"](unique(filter_shape[sphere](scene())))'
    for metal in (0.6, 0.9):
        a = soft.execute(program(verify), noisy(metal))
        assert a.value is True and a.confidence == pytest.approx(metal, abs=1e-3)
    assert soft.execute(program(verify), noisy(0.3)).value is False
    count = soft.execute(program('count(kb_filter["conducts electricity"](scene()))'), noisy(0.6))
    assert count.value == 1 and count.trace.steps[-1].details["distribution"] == pytest.approx(
        {"0": 0.4, "1": 0.6, "2": 0.0}, abs=1e-3)
    rolls = soft.execute(program('count(kb_filter["can roll"](scene()))'), noisy(0.6))
    assert rolls.value == 1 and rolls.confidence == pytest.approx(1.0, abs=1e-3)  # the shape is sure
    use = soft.execute(program('kb_query["typical use"](query_material(unique(filter_shape[sphere](scene()))))'),
                       noisy(0.6))
    assert use.value == "electrical wiring" and use.confidence == pytest.approx(0.6, abs=1e-3)
    assert use.trace.steps[-1].details["distribution"] == pytest.approx(
        {"electrical wiring": 0.6, "tyres": 0.4}, abs=1e-3)
    check = soft.execute(program('kb_check["conducts electricity"](query_material(unique('
                                 'filter_shape[sphere](scene()))))'), noisy(0.6))
    assert check.value is True and check.confidence == pytest.approx(0.6, abs=1e-3)
    prop = soft.execute(program('kb_property["typical use"](unique(filter_shape[sphere](scene())))'), noisy(0.6))
    assert prop.value == "electrical wiring" and prop.confidence == pytest.approx(0.6, abs=1e-3)


def test_a_value_without_a_fact_fails_only_when_it_is_the_most_probable(kb):
    soft = neural(kb)
    text = 'kb_query[wavelength](query_color(unique(filter_shape[sphere](scene()))))'
    a = soft.execute(program(text), noisy(1.0, red=0.6))  # red has a wavelength, blue none
    assert a.value == "700 nm" and a.confidence == pytest.approx(0.6, abs=1e-3)
    assert a.trace.steps[-1].details["distribution"][NO_FACT] == pytest.approx(0.4, abs=1e-3)
    b = soft.execute(program(text), noisy(1.0, red=0.4))
    assert b.value is None and b.failure.code == "no_fact" and "'blue'" in b.failure.reason
    assert b.trace.steps[b.failure.step].status == "failed"


def test_kb_property_refuses_values_that_disagree_as_the_symbolic_op_does(scene):
    kb2 = MemoryKB()
    for entity, code in (("metal", "M"), ("sphere", "S")):
        kb2.add(EX + entity, EX + "colourCode", Literal(code))
        kb2.add(EX + entity, RDFS.label, Literal(entity))
    text = 'kb_property["colour code"](unique(filter_shape[sphere](scene())))'
    sure = neural(kb2).execute(program(text), noisy(1.0))
    assert sure.failure.code == relation_executor(kb2).execute(program(text), noisy(1.0)).failure.code == "ambiguous_fact"
    # 60% metal: 'M' and 'S' disagree with p 0.6 (> 0.4 that only the sphere answers 'S')
    assert neural(kb2).execute(program(text), noisy(0.6)).failure.code == "ambiguous_fact"
    # 30% metal: the sphere's 'S' alone, p 0.7
    a = neural(kb2).execute(program(text), noisy(0.3))
    assert a.value == "S" and a.confidence == pytest.approx(0.7, abs=1e-3)
    assert a.trace.steps[-1].details["distribution"][AMBIGUOUS] == pytest.approx(0.3, abs=1e-3)


def test_without_a_knowledge_base_a_knowledge_program_is_a_typed_failure(scene):
    bare = NeuralExecutor(new_model("clevr"), device="cpu")
    a = bare.execute(program('count(kb_filter["can roll"](scene()))'), scene)
    assert a.value is None and a.failure.code == "no_knowledge_base" and a.failure.step == 1
    assert "knowledge base" in a.failure.reason
    assert bare.execute(program("count(filter_shape[sphere](scene()))"), scene).value == 2  # the rest as before


@pytest.mark.slow  # the shipped parser and executor load
def test_a_neural_reasoner_runs_mixed_questions_softly():
    from nsreason.api import Reasoner

    scene = small_scene()
    r = Reasoner(executor="neural", kb=f"rdf:{KB_FILE}")
    a = r.ask(scene, "How many things in the scene can roll?")
    assert a.value == 2 and a.trace.parse.details["parser"] == "mixed"
    assert a.trace.steps[1].details["executor"] == "neural" and a.confidence > 0.9
    assert r.ask(scene, "What is the typical use of the material of the large sphere?").value == "electrical wiring"
    assert r.ask(scene, "Does the material of the blue cube conduct electricity?").value is False
