"""CLEVR program nodes: the release format (``function``) and the generator's (``type``)."""

from __future__ import annotations

import json

import pytest

from nsreason.errors import ProgramFormatError
from nsreason.program import Program, Step
from nsreason.program.clevr import clevr_outputs, program_from_clevr, program_to_clevr
from tests.program.strategies import same_program, toy_vocabulary

S = Step

RELEASE = [
    {"inputs": [], "function": "scene", "value_inputs": []},
    {"inputs": [0], "function": "filter_color", "value_inputs": ["gray"]},
    {"inputs": [1], "function": "unique", "value_inputs": []},
    {"inputs": [2], "function": "relate", "value_inputs": ["left"]},
    {"inputs": [3], "function": "count", "value_inputs": []},
]
GENERATOR = [
    {"type": "scene", "inputs": [], "_output": [0, 1, 2], "value_inputs": []},
    {"type": "filter_color", "inputs": [0], "_output": [0], "value_inputs": ["gray"]},
    {"type": "unique", "inputs": [1], "_output": 0, "value_inputs": []},
    {"type": "relate", "inputs": [2], "_output": [2], "value_inputs": ["left"]},
    {"type": "count", "inputs": [3], "_output": 1, "value_inputs": []},
]
STEPS = (
    S("scene"),
    S("filter_color", (0,), ("gray",)),
    S("unique", (1,)),
    S("relate", (2,), ("left",)),
    S("count", (3,)),
)


def test_release_and_generator_formats_read_the_same():
    a = program_from_clevr(RELEASE)
    b = program_from_clevr(GENERATOR)
    assert a.steps == b.steps == STEPS
    assert a == b == Program.from_clevr(RELEASE)
    a.validate()


def test_writing_both_formats():
    p = Program(STEPS)
    assert program_to_clevr(p) == [
        {"function": n["function"], "inputs": n["inputs"], "value_inputs": n["value_inputs"]} for n in RELEASE
    ]
    assert program_to_clevr(p, generator=True) == [
        {"type": n["type"], "inputs": n["inputs"], "value_inputs": n["value_inputs"]} for n in GENERATOR
    ]
    assert p.to_clevr() == program_to_clevr(p)
    assert p.to_clevr(generator=True) == program_to_clevr(p, generator=True)
    assert program_from_clevr(json.loads(json.dumps(p.to_clevr()))) == p


def test_the_clevr_numbering_is_kept():
    nodes = [
        {"function": "scene", "inputs": [], "value_inputs": []},
        {"function": "count", "inputs": [0], "value_inputs": []},
        {"function": "scene", "inputs": [], "value_inputs": []},
        {"function": "count", "inputs": [2], "value_inputs": []},
        {"function": "scene", "inputs": [], "value_inputs": []},  # unused
        {"function": "less_than", "inputs": [3, 1], "value_inputs": []},
    ]
    p = program_from_clevr(nodes)
    assert p.to_clevr() == nodes
    assert p.canonical() != p and len(p.canonical()) == 5


def test_optional_slots_as_empty_strings():
    nodes = [
        {"function": "scene", "inputs": [], "value_inputs": []},
        {"function": "filter_count", "inputs": [0], "side_inputs": ["", "red", "", ""]},
    ]
    p = program_from_clevr(nodes)
    assert p.steps[1].args == (None, "red", None, None)
    p.validate()
    assert p.to_clevr()[1] == {"function": "filter_count", "inputs": [0], "value_inputs": ["", "red", "", ""]}
    assert program_from_clevr(p.to_clevr()) == p
    assert program_from_clevr([{"function": "scene", "value_inputs": [None]}]).steps[0].args == (None,)


def test_missing_inputs_and_values_default_to_none():
    p = program_from_clevr([{"function": "scene"}, {"type": "count", "inputs": [0]}])
    assert p.steps == (S("scene"), S("count", (0,)))


def test_function_wins_over_type():
    assert program_from_clevr([{"function": "scene", "type": "count"}]).steps == (S("scene"),)


def test_integer_and_bool_values_are_kept():
    toy = toy_vocabulary()
    p = Program([S("all"), S("top", (0,), (3,)), S("keep", (1,), (True, None))], toy)
    nodes = json.loads(json.dumps(p.to_clevr()))
    assert nodes[2]["value_inputs"] == [True, ""]
    q = program_from_clevr(nodes, toy)
    assert same_program(q, p)
    q.validate()


def test_vocabulary_is_passed_through():
    p = program_from_clevr([{"function": "scene"}], "scene_graph")
    assert p.vocabulary == "scene_graph"
    assert p == Program([S("scene")], "scene_graph")


def test_reading_checks_shape_only():
    p = program_from_clevr([{"function": "scene"}, {"function": "count", "inputs": [7]}])
    assert p.steps[1].inputs == (7,)
    assert program_from_clevr([]) == Program([])


@pytest.mark.parametrize(
    ("nodes", "path", "message"),
    [
        ({"function": "scene"}, "program", "expected a list of nodes, got dict"),
        ("scene", "program", "expected a list of nodes, got str"),
        (None, "program", "expected a list of nodes, got NoneType"),
        (["scene"], "program[0]", "expected an object, got str"),
        ([{"function": "scene"}, [0]], "program[1]", "expected an object, got list"),
        ([{"inputs": []}], "program[0]", "expected a non-empty string under 'function' (release format) or 'type' (generator format), got None"),
        ([{"function": ""}], "program[0]", "got ''"),
        ([{"function": 3}], "program[0]", "got 3"),
        ([{"function": None, "type": "scene"}], "program[0]", "got None"),
        ([{"type": ["scene"]}], "program[0]", "got ['scene']"),
        ([{"function": "scene"}, {"function": "count", "inputs": 0}], "program[1].inputs", "expected a list of step indices, got 0"),
        ([{"function": "scene"}, {"function": "count", "inputs": ["0"]}], "program[1].inputs", "got ['0']"),
        ([{"function": "scene"}, {"function": "count", "inputs": [0.0]}], "program[1].inputs", "got [0.0]"),
        ([{"function": "scene"}, {"function": "count", "inputs": [True]}], "program[1].inputs", "got [True]"),
        ([{"function": "scene"}, {"function": "count", "inputs": None}], "program[1].inputs", "got None"),
        ([{"function": "scene", "value_inputs": "red"}], "program[0].value_inputs", "expected a list of values"),
        ([{"function": "scene", "value_inputs": [["red"]]}], "program[0].value_inputs", "got [['red']]"),
        ([{"function": "scene", "value_inputs": [1.5]}], "program[0].value_inputs", "got [1.5]"),
        ([{"function": "scene", "side_inputs": {"a": 1}}], "program[0].side_inputs", "expected a list of values"),
    ],
)
def test_malformed_nodes_name_the_node_and_field(nodes, path, message):
    with pytest.raises(ProgramFormatError) as info:
        program_from_clevr(nodes)
    assert info.value.path == path
    assert message in info.value.message
    assert str(info.value) == f"{path}: {info.value.message}"


def test_the_path_prefix_can_be_chosen():
    with pytest.raises(ProgramFormatError) as info:
        program_from_clevr([{"function": "scene", "inputs": "x"}], path="questions[7].program")
    assert info.value.path == "questions[7].program[0].inputs"


def test_clevr_outputs():
    assert clevr_outputs(GENERATOR) == [[0, 1, 2], [0], 0, [2], 1]
    assert clevr_outputs(RELEASE) is None
    assert clevr_outputs([]) is None
    assert clevr_outputs([GENERATOR[0], RELEASE[1]]) is None
