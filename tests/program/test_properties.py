"""Property tests: random valid programs round-trip through every format; the readers, fed
anything, raise only nsreason's own errors."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nsreason.errors import NSReasonError, ProgramError
from nsreason.program import Program, Step, get_vocabulary
from nsreason.program.clevr import program_from_clevr
from nsreason.program.formats import read_program
from nsreason.program.text import parse_program
from nsreason.program.tokens import from_postfix, from_prefix, parse_token, split_tokens
from tests.program.strategies import programs, same_program, toy_vocabulary

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TOY = toy_vocabulary()
VOCABULARIES = pytest.mark.parametrize("vocab", ["clevr", "scene_graph", TOY], ids=["clevr", "scene_graph", "toy"])


# -- round trips ----------------------------------------------------------------------------------


# One test per vocabulary checks every form (generating a program costs more than
# converting it).
@pytest.mark.slow
@VOCABULARIES
@SETTINGS
@given(data=st.data())
def test_generated_programs_round_trip_through_every_format(vocab, data):
    p = data.draw(programs(vocab))
    # valid, and so is its canonical form
    assert p.validate() is p
    c = p.canonical()
    assert c.validate() is c
    assert c.canonical() == c
    assert c.output_types()[-1] == p.output_types()[-1]
    # one-line text
    text = p.to_text()
    assert "\n" not in text  # one line: newlines inside values come out escaped
    assert c.to_text() == text
    assert same_program(Program.from_text(text, vocab), c), "text"
    # prefix and postfix tokens
    prefix, postfix = p.to_prefix(), p.to_postfix()
    assert len(prefix) == len(postfix) == len(c)
    assert same_program(Program.from_prefix(prefix, vocab), c), "prefix"
    assert same_program(Program.from_postfix(postfix, vocab), c), "postfix"
    assert split_tokens(" ".join(prefix)) == prefix
    assert split_tokens(" ".join(postfix)) == postfix
    # CLEVR nodes, both formats, also through JSON: the numbering is kept
    for generator in (False, True):
        nodes = p.to_clevr(generator=generator)
        assert same_program(Program.from_clevr(nodes, vocab), p), f"clevr generator={generator}"
        assert same_program(program_from_clevr(json.loads(json.dumps(nodes)), vocab), p)
    # read_program tells the formats apart
    assert same_program(read_program(text, vocab), c)
    assert same_program(read_program(" ".join(prefix), vocab), c)
    assert same_program(read_program(" ".join(postfix), vocab), c)
    assert same_program(read_program(json.dumps(p.to_clevr(generator=True)), vocab), p)


@SETTINGS
@given(programs("clevr", shared=False, dead_code=False))
def test_trees_without_dead_code_keep_their_size(p):
    assert len(p.canonical()) == len(p)


@pytest.mark.slow
@SETTINGS
@given(programs("scene_graph", output_type="Bool"))
def test_output_type_can_be_chosen(p):
    assert p.output_types()[-1] == "Bool"


# -- fuzzing the readers --------------------------------------------------------------------------

# Text made of the grammar's own characters reaches deeper parser states than random text.
GRAMMAR_TEXT = st.one_of(
    st.text(),
    st.text(alphabet='()[],"\\ \tabcesnu_l0123-.:', max_size=60),
    st.lists(
        st.sampled_from(["scene", "count", "filter_color", "relate", "(", ")", "[", "]", ",", '"', "\\",
                         "red", " ", "left", "union", "true", "3", '"a b"', "\\u00", "filter", "unique"]),
        max_size=40,
    ).map("".join),
)


def only_nsreason_errors(fn, *args):
    try:
        return fn(*args)
    except NSReasonError:
        return None


@FUZZ
@given(GRAMMAR_TEXT, st.sampled_from(["clevr", "scene_graph"]))
def test_parse_program_raises_only_nsreason_errors(text, vocab):
    p = only_nsreason_errors(parse_program, text, vocab)
    if p is not None:  # whatever parses, formats back to something that parses the same
        q = only_nsreason_errors(p.validate)
        if q is not None:
            assert parse_program(p.to_text(), vocab) == p.canonical()


@FUZZ
@given(GRAMMAR_TEXT)
def test_read_program_raises_only_nsreason_errors(text):
    only_nsreason_errors(read_program, text)
    only_nsreason_errors(read_program, text, "scene_graph")
    only_nsreason_errors(read_program, text, TOY)


@FUZZ
@given(GRAMMAR_TEXT)
def test_token_readers_raise_only_nsreason_errors(text):
    only_nsreason_errors(parse_token, text)
    tokens = only_nsreason_errors(split_tokens, text)
    if tokens is not None:
        only_nsreason_errors(from_prefix, tokens)
        only_nsreason_errors(from_postfix, tokens)


@FUZZ
@given(st.lists(st.one_of(st.text(max_size=20), st.sampled_from(["scene", "count", "union", "filter[,red,,]", "unique"])), max_size=30))
def test_token_lists_raise_only_nsreason_errors(tokens):
    for fn in (from_prefix, from_postfix):
        p = only_nsreason_errors(fn, tokens)
        if p is not None:
            only_nsreason_errors(p.validate)


@pytest.mark.slow
@FUZZ
@given(programs("scene_graph"), st.data())
def test_mangled_program_text_raises_only_nsreason_errors(p, data):
    text = p.to_text()
    i = data.draw(st.integers(0, len(text)))
    j = data.draw(st.integers(i, min(len(text), i + 5)))
    mangled = text[:i] + data.draw(st.text(alphabet='()[],"\\ x', max_size=3)) + text[j:]
    q = only_nsreason_errors(parse_program, mangled, "scene_graph")
    if q is not None:
        only_nsreason_errors(q.validate)


JSON_LEAF = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10)
SHALLOW = JSON_LEAF | st.lists(JSON_LEAF, max_size=2) | st.dictionaries(st.text(max_size=3), JSON_LEAF, max_size=2)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(["function", "type", "inputs", "value_inputs", "side_inputs", "_output", "x"]) | st.text(max_size=5),
        children,
        max_size=5,
    ),
    max_leaves=10,
)

NODE = st.fixed_dictionaries(
    {},
    optional={
        "function": st.sampled_from(["scene", "count", "unique", "filter_color", "relate", "nope", ""]) | JSON,
        "type": st.sampled_from(["scene", "count", "union"]) | JSON,
        "inputs": st.lists(st.integers(-2, 6), max_size=3) | JSON,
        "value_inputs": st.lists(st.sampled_from(["red", "left", "", None, 3, True]), max_size=3) | JSON,
        "side_inputs": SHALLOW,
    },
)


@pytest.mark.slow
@FUZZ
@given(st.one_of(JSON, st.lists(NODE, max_size=8), st.lists(JSON, max_size=4)))
def test_program_from_clevr_raises_only_program_errors(nodes):
    try:
        p = program_from_clevr(nodes)
    except ProgramError:
        return
    # whatever reads, the other methods raise only program errors too
    for method in (p.validate, p.canonical, p.to_text, p.to_prefix, p.to_postfix, p.output_types):
        with contextlib.suppress(ProgramError):
            method()
    assert program_from_clevr(p.to_clevr()) == p
    repr(p)


STEP_FIELDS = st.builds(
    Step,
    st.sampled_from(["scene", "count", "filter_color", "relate", "union", "filter", "bogus"]) | SHALLOW,
    st.lists(st.integers(-1, 5) | SHALLOW, max_size=3),
    st.lists(st.sampled_from(["red", "left", None, "", 2, False]) | SHALLOW, max_size=5),
)


@pytest.mark.slow
@FUZZ
@given(st.lists(STEP_FIELDS, max_size=6))
def test_validate_raises_only_program_errors(steps):
    p = Program(steps)
    try:
        p.validate()
    except ProgramError:
        return
    assert p.validate() is p


@pytest.mark.slow
@FUZZ
@given(programs("clevr"), st.data())
def test_validate_of_a_mutated_program_raises_only_program_errors(p, data):
    steps = list(p.steps)
    k = data.draw(st.integers(0, len(steps) - 1))
    s = steps[k]
    vocab = get_vocabulary("clevr")
    mutation = data.draw(st.sampled_from(["op", "inputs", "args"]))
    if mutation == "op":
        steps[k] = Step(data.draw(st.sampled_from(sorted(vocab.ops))), s.inputs, s.args)
    elif mutation == "inputs":
        steps[k] = Step(s.op, tuple(data.draw(st.lists(st.integers(-1, k + 1), max_size=3))), s.args)
    else:
        values = [v for t in vocab.types.values() if t.domain for v in t.domain]
        steps[k] = Step(s.op, s.inputs, tuple(data.draw(st.lists(st.sampled_from(values) | st.none(), max_size=5))))
    q = Program(steps)
    assume(q != p)
    with contextlib.suppress(ProgramError):
        q.validate()
