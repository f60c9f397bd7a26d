"""Prefix and postfix token sequences."""

from __future__ import annotations

import pytest

from nsreason.errors import ProgramFormatError
from nsreason.program import Program, Step
from nsreason.program.tokens import (
    format_token,
    from_postfix,
    from_prefix,
    parse_token,
    split_tokens,
    to_postfix,
    to_prefix,
)
from tests.program.strategies import same_program, toy_vocabulary

S = Step

COMPARE = Program.from_text(
    "equal_integer(count(filter_shape[cube](scene())), count(filter[large,,,sphere](scene())))"
)


def test_prefix_and_postfix_golden():
    assert to_prefix(COMPARE) == [
        "equal_integer", "count", "filter_shape[cube]", "scene", "count", "filter[large,,,sphere]", "scene",
    ]
    assert to_postfix(COMPARE) == [
        "scene", "filter_shape[cube]", "count", "scene", "filter[large,,,sphere]", "count", "equal_integer",
    ]
    assert from_prefix(to_prefix(COMPARE)) == COMPARE
    assert from_postfix(to_postfix(COMPARE)) == COMPARE


def test_single_step_program():
    p = Program([S("scene")])
    assert to_prefix(p) == to_postfix(p) == ["scene"]
    assert from_prefix(["scene"]) == from_postfix(["scene"]) == p


def test_token_orders_come_from_the_canonical_form():
    # CLEVR numbering (right branch first) and an unused step
    p = Program([S("scene"), S("count", (0,)), S("scene"), S("exist", (2,)), S("scene"),
                 S("count", (4,)), S("less_than", (5, 1))])
    assert to_postfix(p) == ["scene", "count", "scene", "count", "less_than"]
    assert to_prefix(p) == ["less_than", "count", "scene", "count", "scene"]
    assert from_postfix(to_postfix(p)) == p.canonical() == from_prefix(to_prefix(p))


def test_shared_steps_are_repeated():
    p = Program([S("scene"), S("unique", (0,)), S("equal_object", (1, 1))])
    assert to_postfix(p) == ["scene", "unique", "scene", "unique", "equal_object"]
    assert to_prefix(p) == ["equal_object", "unique", "scene", "unique", "scene"]
    assert from_postfix(to_postfix(p)) == p.canonical()


def test_empty_programs_have_no_token_form():
    for fn in (to_prefix, to_postfix):
        with pytest.raises(ProgramFormatError, match="an empty program has no token form"):
            fn(Program([]))


def test_deep_programs_do_not_recurse():
    n = 5000
    tokens = ["count"] + ["filter_color[red]"] * n + ["scene"]
    p = from_prefix(tokens)
    assert len(p) == n + 2
    p.validate()
    assert to_prefix(p) == tokens
    assert to_postfix(p) == tokens[::-1]
    assert from_postfix(tokens[::-1]) == p


def test_quoted_values_in_tokens():
    p = Program.from_text('relate["to the left of"](select["teddy bear"](scene()))', "scene_graph")
    assert to_prefix(p) == ['relate["to the left of"]', 'select["teddy bear"]', "scene"]
    assert from_prefix(to_prefix(p), "scene_graph") == p
    assert from_postfix(to_postfix(p), "scene_graph") == p
    assert from_postfix(to_postfix(p), "scene_graph").vocabulary == "scene_graph"


# -- single tokens ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "op", "args"),
    [
        ("scene", "scene", ()),
        ("filter_color[red]", "filter_color", ("red",)),
        ("filter[,red,,]", "filter", (None, "red", None, None)),
        ("filter[]", "filter", (None,)),
        (' relate[ "left" ] ', "relate", ("left",)),
        ("kb.lookup[x]", "kb.lookup", ("x",)),
    ],
)
def test_parse_token(token, op, args):
    assert parse_token(token) == (op, args)


def test_format_token():
    assert format_token(S("scene")) == "scene"
    assert format_token(S("count", (0,))) == "count"
    assert format_token(S("filter", (0,), (None, "red", None, None))) == "filter[,red,,]"
    assert format_token(S("relate", (0,), ("left of",))) == 'relate["left of"]'


def test_tokens_coerce_integers_and_bools():
    toy = toy_vocabulary()
    assert parse_token("top[3]", toy) == ("top", (3,))
    assert parse_token("keep[true,-1]", toy) == ("keep", (True, -1))
    assert parse_token('keep["true"]', toy) == ("keep", ("true",))
    p = from_postfix(["all", "top[5]", "keep[false]"], toy)
    assert same_program(p, Program([S("all"), S("top", (0,), (5,)), S("keep", (1,), (False,))], toy))
    assert to_postfix(p) == ["all", "top[5]", "keep[false]"]


@pytest.mark.parametrize(
    "token",
    ["", " ", "count()", "count(scene", "union(scene(),scene", "filter_color[red", "filter_color[red]x",
     "filter_color[red][blue]", "1scene", "[red]", "relate[left of]", 'relate["left]', "a b"],
)
def test_malformed_tokens(token):
    with pytest.raises(ProgramFormatError, match="malformed token"):
        parse_token(token)


def test_non_string_token():
    with pytest.raises(ProgramFormatError, match="expected a token"):
        parse_token(3)  # type: ignore[arg-type]


# -- splitting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("", []),
        ("   ", []),
        ("count filter_color[red] scene", ["count", "filter_color[red]", "scene"]),
        ("  count\tscene\n", ["count", "scene"]),
        ('relate["left of"] scene', ['relate["left of"]', "scene"]),
        ('relate["a]b"] scene', ['relate["a]b"]', "scene"]),
        ('relate["say \\"hi\\" [x]"] scene', ['relate["say \\"hi\\" [x]"]', "scene"]),
        ("filter[,red,,] scene", ["filter[,red,,]", "scene"]),
        ('filter[ large , "red" ] scene', ['filter[ large , "red" ]', "scene"]),
    ],
)
def test_split_tokens(text, tokens):
    assert split_tokens(text) == tokens


@pytest.mark.parametrize(
    ("text", "column"),
    [("count [red] scene", 7), ("filter_color[red scene", 13), ('relate["left] scene', 7), ("scene [", 7)],
)
def test_split_tokens_errors(text, column):
    with pytest.raises(ProgramFormatError, match=f"cannot split tokens at column {column}"):
        split_tokens(text)


def test_split_then_read_with_quoted_args():
    tokens = split_tokens('count relate["to the left of"] select["teddy bear"] scene')
    p = from_prefix(tokens, "scene_graph")
    assert p.to_text() == 'count(relate["to the left of"](select["teddy bear"](scene())))'


# -- reading errors -----------------------------------------------------------------------------


def test_no_tokens():
    for fn in (from_prefix, from_postfix):
        with pytest.raises(ProgramFormatError, match="no tokens"):
            fn([])


def test_a_string_is_not_a_token_list():
    for fn in (from_prefix, from_postfix):
        with pytest.raises(ProgramFormatError, match="split it with split_tokens"):
            fn("count scene")  # type: ignore[arg-type]
        with pytest.raises(ProgramFormatError, match="expected a list of tokens, got int"):
            fn(3)  # type: ignore[arg-type]


def test_tokens_may_come_from_any_iterable():
    assert from_prefix(iter(["count", "scene"])) == from_postfix(iter(["scene", "count"]))


@pytest.mark.parametrize("fn", [from_prefix, from_postfix])
def test_unknown_op_says_where_and_suggests(fn):
    tokens = ["count", "filter_colour[red]", "scene"]
    if fn is from_postfix:
        tokens = tokens[::-1]
    with pytest.raises(ProgramFormatError) as info:
        fn(tokens)
    assert info.value.path == "tokens[1]"
    assert "unknown op 'filter_colour'" in str(info.value)
    assert "did you mean ['filter_color'" in str(info.value)
    assert "the arity of every op must be known" in str(info.value)


@pytest.mark.parametrize("fn", [from_prefix, from_postfix])
def test_malformed_token_says_which(fn):
    with pytest.raises(ProgramFormatError) as info:
        fn(["scene", "filter_color[red"])
    assert info.value.path == "tokens[1]"
    assert "malformed token 'filter_color[red'" in str(info.value)


def test_prefix_ending_early():
    with pytest.raises(ProgramFormatError) as info:
        from_prefix(["equal_integer", "count", "scene"])
    assert str(info.value) == (
        "tokens[3]: tokens ended early: token 0 'equal_integer' takes 2 input(s), got 1"
    )
    with pytest.raises(ProgramFormatError, match="token 0 'count' takes 1 input"):
        from_prefix(["count"])


def test_prefix_leftover_tokens():
    with pytest.raises(ProgramFormatError) as info:
        from_prefix(["count", "scene", "scene", "unique"])
    assert str(info.value) == "tokens[2]: 2 token(s) left over after a complete program"
    # the leftovers are reported even when their ops are unknown
    with pytest.raises(ProgramFormatError, match="left over"):
        from_prefix(["scene", "nope"])


def test_postfix_arity_mismatch():
    with pytest.raises(ProgramFormatError) as info:
        from_postfix(["scene", "equal_integer"])
    assert str(info.value) == "tokens[1]: 'equal_integer' takes 2 input(s), only 1 available before it"
    with pytest.raises(ProgramFormatError, match="'count' takes 1 input"):
        from_postfix(["count", "scene"])


def test_postfix_unconnected_parts():
    with pytest.raises(ProgramFormatError, match="expected the tokens to form one program, got 2 unconnected parts"):
        from_postfix(["scene", "scene"])


def test_reading_checks_arity_only():
    p = from_prefix(["count", "count", "scene"])
    assert p.to_text() == "count(count(scene()))"
    from nsreason.errors import ProgramTypeError

    with pytest.raises(ProgramTypeError):
        p.validate()
