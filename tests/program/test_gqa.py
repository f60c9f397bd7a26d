"""GQA ``semantic`` programs -> scene_graph programs (nsreason.program.gqa)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nsreason.errors import ProgramFormatError
from nsreason.program import Program
from nsreason.program.gqa import program_from_gqa


def s(op, arg, deps):
    return {"operation": op, "argument": arg, "dependencies": deps}


# Real GQA val questions, as released (GazeVLM's SAMPLE-val_balanced_questions.json, and a
# train_all_questions excerpt quoted in a public repository), with what they must become.
REAL = [
    ([s("select", "pond (1039893)", []), s("relate", "cart,near,s (1039872)", [0]), s("exist", "?", [1])],
     "exist(select[cart](relate_reverse[near](select[pond](scene()))))"),
    ([s("select", "shirt (1883117)", []), s("relate", "person,wearing,s (1935688)", [0]),
      s("query", "name", [1])],
     "query_name(unique(select[person](relate_reverse[wearing](select[shirt](scene())))))"),
    ([s("select", "vase (3435449)", []), s("select", "pitcher (2827701) ", []),
      s("same material", "", [0, 1])],
     None),  # checked below: equal_value of two query_among steps
    ([s("select", "bed (1026412)", []), s("verify rel", "book,to the left of,s (1026411)", [0])],
     'exist(select[book](relate_reverse["to the left of"](select[bed](scene()))))'),
    ([s("select", "refrigerator (1128794)", []), s("filter color", "white", [0]), s("exist", "?", [1]),
      s("select", "dishwasher (-) ", []), s("filter color", "white", [3]), s("exist", "?", [4]),
      s("or", "", [2, 5])],
     ("or(exist(filter[white](select[refrigerator](scene()))), "
     "exist(filter[white](select[dishwasher](scene()))))")),
    ([s("select", "refrigerator (1128794)", []), s("filter color", "not(black)", [0]), s("exist", "?", [1])],
     "exist(exclude[black](select[refrigerator](scene())))"),
    ([s("select", "lady (1897363)", []), s("relate", "_,wearing,o (3558910)", [0]), s("query", "name", [1])],
     "query_name(unique(relate[wearing](select[lady](scene()))))"),
    ([s("select", "cap (4192750)", []), s("verify color", "pink", [0])],
     "verify[pink](unique(select[cap](scene())))"),
    ([s("select", "toilet (796689)", []),
      s("choose rel", "faucet,to the left of|to the right of,s (796690)", [0])],
     ('choose[left,right](exist(select[faucet](relate_reverse["to the left of"](select[toilet](scene())))), '
     'exist(select[faucet](relate_reverse["to the right of"](select[toilet](scene())))))')),
    ([s("select", "train (381558)", []), s("choose name", "train|truck", [0])],
     ("choose[train,truck](verify_name[train](unique(select[train](scene()))), "
     "verify_name[truck](unique(select[train](scene()))))")),
]


@pytest.mark.parametrize(("semantic", "text"), REAL)
def test_real_gqa_programs_convert_to_valid_programs(semantic, text):
    program = program_from_gqa(semantic).validate()
    assert program.vocabulary_name == "scene_graph"
    if text is not None:
        assert program.to_text() == text
        assert Program.from_text(text, "scene_graph") == program.canonical()


def test_same_material_compares_the_two_objects_material():
    program = program_from_gqa(REAL[2][0]).validate()
    ops = [step.op for step in program.canonical()]
    assert ops.count("query_among") == 2 and ops[-1] == "equal_value"
    assert "wood" in program.canonical()[ops.index("query_among")].args[0].split("|")


def test_different_is_the_negation_of_same():
    same = program_from_gqa([s("select", "a (1)", []), s("select", "b (2)", []), s("same color", "", [0, 1])])
    diff = program_from_gqa([s("select", "a (1)", []), s("select", "b (2)", []), s("different color", "", [0, 1])])
    assert diff.to_text() == f"not({same.to_text()})"


@pytest.mark.parametrize(
    ("semantic", "path", "message"),
    [
        ([], "semantic", "at least one step"),
        ("select", "semantic", "expected a list"),
        ([s("fly", "x", [])], "semantic[0].operation", "unknown GQA operation 'fly'"),
        ([s("select", "a (1)", []), s("relate", "a,near (2)", [0])], "semantic[1].argument", "name,predicate,s|o"),
        ([s("select", "a (1)", []), s("relate", "a,near,x (2)", [0])], "semantic[1].argument", "direction"),
        ([s("select", "a (1)", []), s("exist", "?", [1])], "semantic[1].dependencies", "earlier steps"),
        ([s("select", "a (1)", []), s("exist", "?", [True])], "semantic[1].dependencies", "earlier steps"),
        ([s("select", "a (1)", []), s("and", "", [0, 0])], "semantic[1].dependencies", "reads a bool"),
        ([s("select", "a (1)", []), s("query", "mood", [0])], "semantic[1].argument", "category 'mood'"),
        ([s("select", "a (1)", []), s("choose color", "red", [0])], "semantic[1].argument", "two options"),
        ([s("select", "a (1)", []), s("select", "b (2)", []), s("common", "", [0, 1])],
         "semantic[2].operation", "common"),
        ([s("select", "a (1)", []), s("select", "b (2)", []), s("choose older", "", [0, 1])],
         "semantic[2].dependencies", "comparison"),
        ([s("select", "a (1)", []), s("query", "hposition", [0])], "semantic[1].operation", "position"),
        ([s("select", "scene", [])], "semantic[0].argument", "whole image"),
        ([s("select", "a (1)", []), s("different", "type", [0])], "semantic[1].dependencies", "one set"),
        ([{"operation": "select", "argument": 3, "dependencies": []}], "semantic[0].argument", "string"),
    ],
)
def test_malformed_or_unmapped_steps_name_the_step_and_field(semantic, path, message):
    with pytest.raises(ProgramFormatError, match=message) as err:
        program_from_gqa(semantic)
    assert err.value.path == path


_OPS = st.sampled_from(["select", "relate", "filter color", "filter", "verify color", "verify rel",
                        "query", "choose rel", "choose name", "choose color", "exist", "and", "or",
                        "same color", "different", "common", "compare", "", "query name"])
_ARGS = st.one_of(
    st.sampled_from(["shirt (12)", "_,wearing,o (3)", "s,to the left of,o", "cart,near,s (1)", "red",
                     "not(red)", "name", "color", "a|b", "x,on|under,s (2)", "?", "", "(-)", "scene",
                     "hposition", "not()", ",,", "a,b,c,d,s"]),
    st.text(max_size=12),
    st.integers(),
    st.none(),
)
_STEP = st.one_of(
    st.fixed_dictionaries({"operation": _OPS, "argument": _ARGS,
                           "dependencies": st.lists(st.integers(-2, 6), max_size=3)}),
    st.dictionaries(st.sampled_from(["operation", "argument", "dependencies"]),
                    st.one_of(st.text(max_size=5), st.integers(), st.lists(st.booleans()), st.none())),
    st.text(max_size=5),
    st.none(),
)


@given(st.one_of(st.lists(_STEP, max_size=7), _STEP))
def test_fuzzed_semantic_lists_convert_or_raise_the_typed_error(semantic):
    try:
        program = program_from_gqa(semantic)
    except ProgramFormatError as err:
        assert err.path and err.path.startswith("semantic")
        return
    program.validate()  # what converts is a well-typed program
