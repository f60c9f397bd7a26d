"""The one-line text form: golden strings, quoting, optional args, coercion, syntax errors."""

from __future__ import annotations

import pytest

from nsreason.errors import ProgramFormatError, ProgramSyntaxError
from nsreason.program import Program, Step
from nsreason.program.text import MAX_DEPTH, format_arg, format_program, parse_program
from tests.program.strategies import same_program, toy_vocabulary

S = Step

GOLDEN = [
    ("scene()", [S("scene")]),
    ("count(scene())", [S("scene"), S("count", (0,))]),
    (
        "count(relate[left](unique(filter_color[red](scene()))))",
        [
            S("scene"),
            S("filter_color", (0,), ("red",)),
            S("unique", (1,)),
            S("relate", (2,), ("left",)),
            S("count", (3,)),
        ],
    ),
    (
        "equal_integer(count(filter_shape[cube](scene())), count(filter_size[large](scene())))",
        [
            S("scene"),
            S("filter_shape", (0,), ("cube",)),
            S("count", (1,)),
            S("scene"),
            S("filter_size", (3,), ("large",)),
            S("count", (4,)),
            S("equal_integer", (2, 5)),
        ],
    ),
    ("filter[,red,,](scene())", [S("scene"), S("filter", (0,), (None, "red", None, None))]),
    ("filter[large,,,cube](scene())", [S("scene"), S("filter", (0,), ("large", None, None, "cube"))]),
    ("filter[](scene())", [S("scene"), S("filter", (0,), (None,))]),
    ("filter[,,,](scene())", [S("scene"), S("filter", (0,), (None, None, None, None))]),
    ("filter(scene())", [S("scene"), S("filter", (0,), ())]),
    ("filter[small](scene())", [S("scene"), S("filter", (0,), ("small",))]),
    ("filter[small,](scene())", [S("scene"), S("filter", (0,), ("small", None))]),
    (
        "relate_filter_count[front,,blue](unique(scene()))",
        [S("scene"), S("unique", (0,)), S("relate_filter_count", (1,), ("front", None, "blue"))],
    ),
]


@pytest.mark.parametrize(("text", "steps"), GOLDEN)
def test_golden_strings_parse_and_format(text, steps):
    p = parse_program(text)
    assert p.steps == tuple(steps)
    assert p.vocabulary == "clevr"
    assert format_program(p) == text
    assert p.to_text() == text
    assert Program.from_text(text) == p
    p.validate()


SCENE_GRAPH_GOLDEN = [
    ('relate["to the left of"](select[man](scene()))', ("to the left of",)),
    ('relate["a,b"](select[man](scene()))', ("a,b",)),
    ('relate["[x]"](select[man](scene()))', ("[x]",)),
    ('relate["(y)"](select[man](scene()))', ("(y)",)),
    ('relate["say \\"hi\\""](select[man](scene()))', ('say "hi"',)),
    ("relate[back\\slash](select[man](scene()))", ("back\\slash",)),
    ('relate["back\\\\slash "](select[man](scene()))', ("back\\slash ",)),
    ('relate["line\\nbreak"](select[man](scene()))', ("line\nbreak",)),
    ('relate["tab\\there"](select[man](scene()))', ("tab\there",)),
    ('relate[" "](select[man](scene()))', (" ",)),
    ('relate["\\u0000"](select[man](scene()))', ("\x00",)),
    ("relate[naïve](select[man](scene()))", ("naïve",)),
    ("relate[café🙂](select[man](scene()))", ("café🙂",)),
    ("relate[it's](select[man](scene()))", ("it's",)),
    ("relate[3](select[man](scene()))", ("3",)),  # open value type: stays a string
    ("relate[true](select[man](scene()))", ("true",)),
    ("relate[a:b.c-d](select[man](scene()))", ("a:b.c-d",)),
]


@pytest.mark.parametrize(("text", "args"), SCENE_GRAPH_GOLDEN)
def test_values_with_punctuation_are_json_quoted(text, args):
    p = parse_program(text, "scene_graph")
    assert p.steps[-1].args == args
    assert format_program(p) == text
    p.validate()


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("red", "red"),
        ("to the left of", '"to the left of"'),
        ("a,b", '"a,b"'),
        ("a]", '"a]"'),
        ("[a", '"[a"'),
        ("f(x)", '"f(x)"'),
        ('"', '"\\""'),
        ("", '""'),
        ("naïve", "naïve"),
        ("\u00a0", '"\u00a0"'),  # unicode whitespace is quoted too
        ("\x00", '"\\u0000"'),  # so are control characters
        ("\u200b", '"\u200b"'),  # and other unprintable ones
        ("a\\b", "a\\b"),
        (3, "3"),
        (-12, "-12"),
        (True, "true"),
        (False, "false"),
        (None, ""),
    ],
)
def test_format_arg(value, written):
    assert format_arg(value) == written


def test_quoted_values_may_use_escapes_that_format_does_not():
    p = parse_program('relate["\\u0074o the left"](select["m\\u0061n"](scene()))', "scene_graph")
    assert [s.args for s in p.steps] == [(), ("man",), ("to the left",)]
    assert p.to_text() == 'relate["to the left"](select[man](scene()))'


def test_whitespace_is_allowed_between_tokens():
    text = "  count ( relate [ left ] ( unique ( filter [ , red , , ] ( scene ( ) ) ) ) )  "
    p = parse_program(text)
    assert p.to_text() == "count(relate[left](unique(filter[,red,,](scene()))))"
    assert parse_program("\tequal_integer(\n count(scene()) ,\n count(scene())\n)").to_text() == (
        "equal_integer(count(scene()), count(scene()))"
    )


def test_parse_only_checks_syntax():
    p = parse_program("count(filter_color[reddish](frobnicate(scene(), scene())))")
    assert [s.op for s in p.steps] == ["scene", "scene", "frobnicate", "filter_color", "count"]
    assert p.steps[3].args == ("reddish",)


def test_parse_uses_the_vocabulary_given():
    toy = toy_vocabulary()
    p = parse_program("size(all())", toy)
    assert p.vocabulary is toy
    p.validate()


# -- integer and bool coercion -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "args"),
    [
        ("top[3](all())", (3,)),
        ("top[-3](all())", (-3,)),
        ("top[0](all())", (0,)),
        ("top[007](all())", (7,)),
        ('top["3"](all())', ("3",)),  # quoted: a string, which validate() then refuses
        ("top[3.5](all())", ("3.5",)),
        ("top[three](all())", ("three",)),
        ("top[٣](all())", ("٣",)),  # not an ASCII digit
        ("keep[true](all())", (True,)),
        ("keep[false,2](all())", (False, 2)),
        ("keep[True](all())", ("True",)),
        ('keep["true"](all())', ("true",)),
        ("keep[1](all())", ("1",)),
        ("keep[true,](all())", (True, None)),
        ("pick[,bob](all())", (None, "bob")),
        ("pick[red,7](all())", ("red", "7")),  # Name is an open value type: stays a string
        ("pick[\"light green\",true](all())", ("light green", "true")),
        ("nope[3,true](all())", ("3", "true")),  # unknown op: no types to coerce by
    ],
)
def test_bare_integers_and_bools_are_coerced_by_type(text, args):
    p = parse_program(text, toy_vocabulary())
    got = p.steps[-1].args
    assert got == args
    assert [type(v) for v in got] == [type(v) for v in args]


def test_typed_arguments_round_trip():
    toy = toy_vocabulary()
    p = Program([S("all"), S("top", (0,), (-42,)), S("keep", (1,), (False, 10**30))], toy).validate()
    text = p.to_text()
    assert text == "keep[false,1000000000000000000000000000000](top[-42](all()))"
    assert same_program(parse_program(text, toy), p)


def test_huge_integers_stay_strings_instead_of_crashing():
    p = parse_program(f"top[{'9' * 5000}](all())", toy_vocabulary())
    assert p.steps[-1].args == ("9" * 5000,)


# -- shared steps, dead code, depth ------------------------------------------------------------


def test_shared_steps_are_written_twice_and_parse_to_the_canonical_form():
    p = Program([S("scene"), S("unique", (0,)), S("equal_object", (1, 1))])
    assert p.to_text() == "equal_object(unique(scene()), unique(scene()))"
    assert parse_program(p.to_text()) == p.canonical()


def test_steps_that_do_not_feed_the_answer_are_left_out():
    p = Program([S("scene"), S("count", (0,)), S("scene"), S("exist", (2,))])
    assert p.to_text() == "exist(scene())"


def test_format_refuses_an_empty_program():
    with pytest.raises(ProgramSyntaxError, match="an empty program has no text form"):
        format_program(Program([]))


def test_format_refuses_steps_that_read_no_earlier_step():
    with pytest.raises(ProgramFormatError, match=r"step 1 \(count\) reads step 3"):
        format_program(Program([S("scene"), S("count", (3,))]))


def deep_text(depth: int) -> str:
    return "filter_color[red](" * depth + "scene()" + ")" * depth


def test_the_deepest_allowed_nesting_round_trips():
    p = parse_program(deep_text(MAX_DEPTH))
    assert len(p) == MAX_DEPTH + 1
    assert p.to_text() == deep_text(MAX_DEPTH)
    p.validate()


def test_deeper_nesting_is_a_syntax_error_not_a_recursion_error():
    with pytest.raises(ProgramSyntaxError, match=f"nesting deeper than {MAX_DEPTH}"):
        parse_program(deep_text(MAX_DEPTH + 1))
    with pytest.raises(ProgramSyntaxError, match="nesting deeper"):
        parse_program("a(" * 100_000)
    deep = Program([S("scene")] + [S("filter_color", (i,), ("red",)) for i in range(MAX_DEPTH + 1)])
    deep.validate()
    with pytest.raises(ProgramSyntaxError, match=f"program deeper than {MAX_DEPTH}"):
        deep.to_text()
    assert repr(deep) == f"Program('{MAX_DEPTH + 2} steps')"


def test_wide_programs_are_fine():
    # a balanced tree of unions: 2**11 - 1 steps, depth 11
    text = "scene()"
    for _ in range(10):
        text = f"union({text}, {text})"
    p = parse_program(text)
    assert len(p) == 2**11 - 1
    assert p.to_text() == text
    p.validate()


# -- syntax errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "column 1: expected an op name, got end of text"),
        ("   ", "column 4: expected an op name, got end of text"),
        ("count(filter_color[red](scene())", "column 33: expected ')' to close 'count(' opened at column 6, got end of text"),
        ("count", "column 6: expected '(' after 'count', got end of text"),
        ("count scene()", "column 7: expected '(' after 'count', got 's'"),
        ("count(scene()))", "column 15: expected end of text after the root step, got ')'"),
        ("count(scene()) x", "column 16: expected end of text after the root step, got 'x'"),
        ("(scene())", "column 1: expected an op name, got '('"),
        ("1count(scene())", "column 1: expected an op name, got '1'"),
        ("count(scene(),)", "column 15: expected an op name, got ')'"),
        ("count(,scene())", "column 7: expected an op name, got ','"),
        ("union(scene() scene())", "column 15: expected ')' to close 'union(' opened at column 6, got 's'"),
        ("filter_color[red(scene())", "column 17: expected ',' or ']' in the value arguments, got '('"),
        ("filter_color[red", "column 17: expected ',' or ']' in the value arguments, got end of text"),
        ("filter_color[re d](scene())", "column 17: expected ',' or ']' in the value arguments, got 'd'"),
        ('filter_color["red](scene())', "column 14: unterminated or malformed quoted argument, got '\"'"),
        ('filter_color["red"x](scene())', "column 19: expected ',' or ']' in the value arguments, got 'x'"),
        ('filter_color["\\q"](scene())', "column 14: unterminated or malformed quoted argument"),
        ("filter_color[[red]](scene())", "column 14: expected a value argument, got '['"),
        ("filter_color[(red)](scene())", "column 14: expected a value argument, got '('"),
        ("filter_color[red](scene()", "column 26: expected ')' to close 'filter_color(' opened at column 18, got end of text"),
        ("count(scene(]))", "column 13: expected an op name, got ']'"),
        ("count[red]", "column 11: expected '(' after 'count', got end of text"),
    ],
)
def test_syntax_errors_say_where_and_what(text, message):
    with pytest.raises(ProgramSyntaxError) as info:
        parse_program(text)
    assert str(info.value).startswith(message), str(info.value)
    assert isinstance(info.value, ProgramFormatError)


def test_parse_refuses_non_strings():
    with pytest.raises(ProgramSyntaxError, match="expected a string, got list"):
        parse_program(["count(scene())"])  # type: ignore[arg-type]
