"""Templates grown by relative clauses (nsreason.datasets.clevr.augment): rewired programs
that run to their answers, texts that carry the clause, deeper nesting than any template."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from nsreason.datasets.clevr import ClevrTemplate, generate_questions, load_templates
from nsreason.datasets.clevr.augment import (
    CLAUSE_WEIGHTS,
    CLAUSES,
    augmented_templates,
    generate_augmented,
    grow_template,
    growable_slots,
    hops,
    predicate_templates,
)
from nsreason.datasets.clevr.compositional import OFFICIAL_STRUCTURES, template_structure
from nsreason.errors import InputError
from nsreason.program import Program
from nsreason.scene.clevr import load_clevr_scenes
from tests.conftest import EXAMPLES_DATA, shared_path
from tests.datasets.conftest import check_questions, check_text

_OBJ = [("Size", "Z"), ("Color", "C"), ("Material", "M"), ("Shape", "S")]


def _params(*suffixes: str, relations: tuple[str, ...] = ()) -> list[dict[str, str]]:
    out = [{"name": f"<{letter}{s}>", "type": t} for s in suffixes for t, letter in _OBJ]
    return out + [{"name": f"<R{s}>", "type": "Relation"} for s in relations]


def _obj(s: str = "") -> list[str]:
    return [f"<{letter}{s}>" for _, letter in _OBJ]


QUERY = ClevrTemplate.from_dict({
    "text": ["What color is the <Z> <C> <M> <S>?", "There is a <Z> <C> <M> <S>; what color is it?"],
    "nodes": [{"type": "scene", "inputs": []},
              {"type": "filter_unique", "inputs": [0], "side_inputs": _obj()},
              {"type": "query_color", "inputs": [1]}],
    "params": _params(""),
    "constraints": [{"type": "NULL", "params": ["<C>"]}],
}, "zero_hop.json", 0)

COUNT_ONE_HOP = ClevrTemplate.from_dict({
    "text": ["How many <Z2> <C2> <M2> <S2>s are <R> the <Z> <C> <M> <S>?"],
    "nodes": [{"type": "scene", "inputs": []},
              {"type": "filter_unique", "inputs": [0], "side_inputs": _obj()},
              {"type": "relate_filter_count", "inputs": [1], "side_inputs": ["<R>", *_obj("2")]}],
    "params": _params("", "2", relations=("",)),
    "constraints": [],
}, "one_hop.json", 0)

COMPARE_COUNTS = ClevrTemplate.from_dict({
    "text": ["Are there more <Z> <C> <M> <S>s than <Z2> <C2> <M2> <S2>s?"],
    "nodes": [{"type": "scene", "inputs": []},
              {"type": "filter_count", "inputs": [0], "side_inputs": _obj()},
              {"type": "scene", "inputs": []},
              {"type": "filter_count", "inputs": [2], "side_inputs": _obj("2")},
              {"type": "greater_than", "inputs": [1, 3]}],
    "params": _params("", "2"),
    "constraints": [{"type": "OUT_NEQ", "params": [1, 3]}],
}, "compare_integer.json", 0)


@pytest.fixture(scope="module")
def scenes():
    return load_clevr_scenes(EXAMPLES_DATA / "clevr_val_sample_scenes.json")


def test_spatial_clause_rewires_the_program_and_every_wording():
    grown = grow_template(QUERY, 1, "spatial")
    assert grown is not None
    assert grown.texts == (
        "What color is the <Z> <C> <M> <S> [that is] <R2> the <Z2> <C2> <M2> <S2>?",
        "There is a <Z> <C> <M> <S> [that is] <R2> the <Z2> <C2> <M2> <S2>; what color is it?",
    )
    assert [(n.type, n.inputs) for n in grown.nodes] == [
        ("scene", ()), ("filter_unique", (0,)), ("relate", (1,)), ("filter_unique", (2,)),
        ("query_color", (3,))]
    assert grown.nodes[3].side_inputs == tuple(_obj())
    assert hops(QUERY) == 0 and hops(grown) == 1
    assert growable_slots(grown) == [1]  # the new object phrase, not the one with a clause


def test_plural_phrases_get_a_plural_clause_and_constraints_follow_the_shift():
    grown = grow_template(COMPARE_COUNTS, 3, "spatial")
    assert grown is not None
    assert grown.texts == (
        ("Are there more <Z> <C> <M> <S>s than <Z2> <C2> <M2> <S2>s [that are] <R3> the "
        "<Z3> <C3> <M3> <S3>?"),)
    assert grown.constraints == (("OUT_NEQ", (1, 5)),)  # node 3 moved to 5
    assert [n.type for n in grown.nodes][-1] == "greater_than"
    assert grown.nodes[-1].inputs == (1, 5)


def test_same_attribute_clause_says_other_and_forbids_naming_the_attribute():
    grown = grow_template(QUERY, 1, "same_shape")
    assert grown is not None
    assert grown.texts == (
        "What color is the other <Z> <C> <M> <S> that is the same shape as the <Z2> <C2> <M2> <S2>?",
        ("There is another <Z> <C> <M> <S> that is the same shape as the <Z2> <C2> <M2> <S2>; "
        "what color is it?"),
    )
    assert [n.type for n in grown.nodes] == ["scene", "filter_unique", "same_shape",
                                             "filter_unique", "query_color"]
    assert ("NULL", ("<S2>",)) in grown.constraints and ("NULL", ("<S>",)) in grown.constraints


def test_both_clause_intersects_two_relations_of_different_objects():
    grown = grow_template(QUERY, 1, "both")
    assert grown is not None
    assert grown.texts[0] == (
        "What color is the <Z> <C> <M> <S> that is [both] <R2> the <Z2> <C2> <M2> <S2> and <R3> the "
        "<Z3> <C3> <M3> <S3>?")
    assert [(n.type, n.inputs) for n in grown.nodes] == [
        ("scene", ()), ("filter_unique", (0,)), ("relate", (1,)), ("filter_unique", (0,)),
        ("relate", (3,)), ("intersect", (2, 4)), ("filter_unique", (5,)), ("query_color", (6,))]
    assert ("OUT_NEQ", (1, 3)) in grown.constraints
    assert grow_template(grown, 1, "both") is None  # a second "and" would read two ways
    assert grow_template(COMPARE_COUNTS, 1, "spatial") is not None


def test_superlative_moves_the_filter_under_extreme_in_both_word_orders():
    grown = grow_template(QUERY, 1, "superlative")
    assert grown is not None
    # "There is a <S>" names an object without "the": no superlative there
    assert grown.texts == ("What color is the <D2> <Z> <C> <M> <S>?", "What color is the <Z> <C> <M> <S> <D2>?")
    assert [(n.type, n.inputs, n.side_inputs) for n in grown.nodes] == [
        ("scene", (), ()), ("filter", (0,), tuple(_obj())), ("extreme", (1,), ("<D2>",)),
        ("unique", (2,), ()), ("query_color", (3,), ())]
    assert growable_slots(grown) == []  # "the leftmost cube that is left of ..." reads two ways
    assert grow_template(COMPARE_COUNTS, 1, "superlative") is None  # a counted set: no superlative


def test_superlative_questions_pick_one_of_several_and_read_naturally(scenes):
    import random

    from nsreason.datasets.clevr import SUPERLATIVES, fill_text
    from nsreason.execute import SymbolicExecutor

    grown = grow_template(QUERY, 1, "superlative")
    questions = generate_questions(scenes, per_scene=1, seed=0, templates=[grown])
    assert len(questions) == len(scenes)
    check_questions(questions, scenes)
    before = {w for words in SUPERLATIVES["before"].values() for w in words}
    after = {w for words in SUPERLATIVES["after"].values() for w in words}
    by_index = {s.meta["image_index"]: s for s in scenes}
    for q in questions:
        text = q["question"].rstrip("?")
        assert any(f" {w} " in text for w in before) or any(text.endswith(w) for w in after), text
        trace = SymbolicExecutor().execute(Program.from_clevr(q["program"]), by_index[q["image_index"]]).trace
        extreme = next(s for s in trace.steps if s.op == "extreme")
        assert len(trace.steps[extreme.inputs[0]].output) >= 2  # the superlative chose
    rng = random.Random(0)
    assert fill_text("What color is the <D2> <Z> <C> <M> <S>?", {"<D2>": "front", "<S>": "sphere"},
                     rng).split()[4] in ("frontmost", "closest", "nearest")
    text = fill_text("What color is the <Z> <C> <M> <S> <D2>?", {"<D2>": "left"}, rng)
    assert text.startswith(("What color is the thing ", "What color is the object ")), text
    assert any(text.endswith(w + "?") for w in SUPERLATIVES["after"]["left"]), text


def test_bad_requests_are_refused():
    with pytest.raises(InputError, match="unknown clause"):
        grow_template(QUERY, 1, "same_mood")
    with pytest.raises(InputError, match="cannot take a clause"):
        grow_template(QUERY, 2, "spatial")
    assert growable_slots(COUNT_ONE_HOP) == [1]  # the counted phrase already has a relation


def test_grown_questions_run_to_their_answers(scenes):
    templates = augmented_templates([QUERY, COUNT_ONE_HOP, COMPARE_COUNTS], per_template=6,
                                    max_clauses=3, seed=0)
    assert len(templates) >= 12
    assert all(t.filename.startswith("augmented_") for t in templates)
    assert max(hops(t) for t in templates) >= 3
    questions = generate_questions(scenes, per_scene=12, seed=0, templates=templates)
    assert len(questions) >= 20
    check_questions(questions, scenes)
    for q in questions:
        check_text(q["question"])
    # the clause words reach the texts
    texts = " ".join(q["question"] for q in questions)
    assert " the same " in texts and (" left " in texts or " right " in texts)


def test_deterministic_for_a_seed():
    a = augmented_templates([QUERY, COUNT_ONE_HOP, COMPARE_COUNTS], seed=3)
    assert a == augmented_templates([QUERY, COUNT_ONE_HOP, COMPARE_COUNTS], seed=3)
    assert a != augmented_templates([QUERY, COUNT_ONE_HOP, COMPARE_COUNTS], seed=4)


@pytest.mark.data
def test_official_templates_grow_into_new_shapes(scenes):
    official = load_templates(shared_path("clevr", "templates"))
    grown = augmented_templates(official, per_template=4, seed=0)
    shapes = Counter(template_structure(t) for t in grown)
    novel = [s for s in shapes if s not in OFFICIAL_STRUCTURES]
    assert len(novel) >= 150, len(novel)
    assert max(hops(t) for t in grown) == 5
    questions = generate_augmented(scenes, per_scene=20, per_template=4, seed=0, templates=official)
    assert len(questions) >= 40
    check_questions(questions, scenes)
    for q in questions:
        check_text(q["question"])
        Program.from_clevr(q["program"]).validate()
    # the default draw is the shipped parser's first training stage: its clauses are fixed
    assert set(CLAUSE_WEIGHTS) == {"spatial", "same_size", "same_color", "same_material", "same_shape", "both",
                                   "superlative"} and set(CLAUSE_WEIGHTS) < set(CLAUSES)
    superlatives = [q for q in questions if any(n["function"] == "extreme" for n in q["program"])]
    assert len(superlatives) >= 5
    assert any("intersect" in {n.type for n in t.nodes} and not t.filename.endswith("single_and.json")
               for t in grown)


def test_value_substitution_keeps_structure_and_agrees_with_the_words():
    import random

    from nsreason.datasets.clevr import SYNONYMS, load_clevr_questions
    from nsreason.datasets.clevr.augment import substitute_values
    from nsreason.datasets.clevr.compositional import program_structure

    rng = random.Random(0)
    made = 0
    for q in load_clevr_questions(EXAMPLES_DATA / "clevr_val_sample_questions.json"):
        for _ in range(5):
            out = substitute_values(q.question, q.program, rng)
            if out is None:
                continue
            made += 1
            text, program = out
            program.validate()
            assert program_structure(program) == program_structure(q.program)
            assert len(text.split()) == len(q.question.split())
            words = {w.strip("?;,").lower() for w in text.split()}
            for step in program.steps:
                if step.op.startswith("filter_"):
                    names = set(SYNONYMS.get(step.args[0], (step.args[0],)))
                    assert words & (names | {n + "s" for n in names}), (text, step)
    assert made >= 100


def test_everyday_templates_ask_set_questions_that_run_to_their_answers(scenes):
    from nsreason.datasets.clevr.augment import everyday_templates

    templates = everyday_templates()
    ops = {n.type for t in templates for n in t.nodes}
    assert {"difference", "all_same_color", "most_common_shape", "equal_integer"} <= ops
    questions = generate_questions(scenes, per_scene=len(templates), seed=0, templates=templates)
    assert len(questions) >= 10
    check_questions(questions, scenes)
    for q in questions:
        check_text(q["question"])
    texts = " ".join(q["question"] for q in questions).lower()
    assert " not " in texts or "n't " in texts
    # "how many balls are not red": one attribute negated ("not large red" reads two ways)
    negations = 0
    for q in questions:
        steps = q["program"]
        for n in steps:
            if n["function"] == "difference":
                kept, negated = n["inputs"]
                assert steps[negated]["function"].startswith("filter_")
                assert steps[negated]["inputs"] == [kept]
                negations += 1
    assert negations >= 1


@pytest.mark.data
def test_grown_questions_keep_the_negated_phrase_last(scenes):
    # "the cube left of the sphere that is not red" would say which is not red two ways
    questions = generate_augmented(scenes, per_scene=30, per_template=2, seed=0,
                                   templates=load_templates(shared_path("clevr", "templates")))
    for q in questions:
        functions = [n["function"] for n in q["program"]]
        if "difference" in functions:
            assert "relate" not in functions and "same_color" not in functions, q["question"]


def test_an_attribute_clause_joins_a_spatial_one_with_and_or_or():
    grown = grow_template(QUERY, 1, "and_material")
    assert grown is not None
    assert grown.texts[0] == ("What color is the <Z> <C> <M> <S> that is [both] [made of] <M3> and <R2> the "
                              "<Z2> <C2> <M2> <S2>?")
    assert any(t.endswith("<R2> the <Z2> <C2> <M2> <S2> and [made of] <M3>?") for t in grown.texts)
    assert [(n.type, n.inputs, n.side_inputs) for n in grown.nodes[1:4]] == [
        ("filter_unique", (0,), tuple(_obj("2"))), ("relate", (1,), ("<R2>",)), ("filter", (2,), ("<M3>",))]
    assert ("NOT_NULL", ("<M3>",)) in grown.constraints and ("NULL", ("<M>",)) in grown.constraints
    assert grow_template(QUERY, 1, "or_color") is None  # "either ... or" needs a set: a plural phrase
    union = grow_template(COUNT_ONE_HOP, 2 - 1, "or_color")
    assert union is None or any(n.type == "union" for n in union.nodes)


def test_joined_clause_questions_run_to_their_answers(scenes):
    questions = generate_augmented(scenes, per_scene=6, seed=1, everyday=False,
                                   templates=[QUERY, COUNT_ONE_HOP, COMPARE_COUNTS],
                                   clauses={"and_color": 1, "and_material": 1, "and_size": 1, "or_color": 1})
    assert len(questions) >= 10
    check_questions(questions, scenes)
    assert all(re.search(r"\b(and|or)\b", q["question"]) for q in questions)


def test_predicate_templates_move_an_attribute_next_to_the_relation(scenes):
    variants = predicate_templates([COUNT_ONE_HOP, QUERY])
    assert [v.texts for v in variants] == [
        ("How many <C2> <M2> <S2>s are [both] <Z2> and <R> the <Z> <C> <M> <S>?",),
        ("How many <Z2> <M2> <S2>s are [both] <C2> and <R> the <Z> <C> <M> <S>?",),
        ("How many <Z2> <C2> <S2>s are [both] [made of] <M2> and <R> the <Z> <C> <M> <S>?",)]
    assert all(v.nodes == COUNT_ONE_HOP.nodes for v in variants)  # the same programs
    questions = generate_questions(scenes, per_scene=3, seed=0, templates=variants)
    assert questions and all(" and " in q["question"] for q in questions)
    check_questions(questions, scenes)
