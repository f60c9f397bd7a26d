"""Hostile questions through the API (nsreason.api.Reasoner): not a string, too long.
Each is a typed error naming what was expected, never answered."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nsreason import Reasoner
from nsreason.errors import InputError
from nsreason.limits import get_limits, raised
from nsreason.program.ir import Program
from tests.hostile.bounds import within

NOT_TEXT = [b"What is the bed used for?", None, 3, 2.5, ["What", "is"], {"q": "x"}, object()]


@pytest.fixture(scope="module")
def reasoner():
    return Reasoner(parser="scene_graph", executor="symbolic", kb=None)


@pytest.mark.parametrize("question", NOT_TEXT, ids=lambda q: type(q).__name__)
def test_non_string_questions_are_refused(reasoner, four_objects, question):
    with pytest.raises(InputError, match=f"question: expected the question as a str, got {type(question).__name__}"):
        within(10, reasoner.ask, four_objects, question)
    with pytest.raises(InputError, match=r"items\[1\].question: expected the question as a str"):
        within(10, reasoner.ask_many, [(four_objects, "how many cubes?"), (four_objects, question)])


@pytest.mark.parametrize("text", NOT_TEXT[:3], ids=lambda q: type(q).__name__)
def test_non_string_expressions_are_refused(reasoner, four_objects, text):
    with pytest.raises(InputError, match="expression: expected the expression as a str"):
        within(10, reasoner.ground, four_objects, text)
    with pytest.raises(InputError, match=r"items\[0\].expression"):
        within(10, reasoner.ground_many, [(four_objects, text)])


@given(st.one_of(st.binary(max_size=20), st.integers(), st.none(), st.floats(), st.lists(st.text(max_size=3))))
@settings(max_examples=50, deadline=None)
def test_anything_but_text_is_refused(question):
    from nsreason.api import check_question

    with pytest.raises(InputError, match="expected the question as a str"):
        check_question(question)


def test_questions_over_the_limit(reasoner, four_objects):
    long = "what " * (get_limits().question_chars // 5 + 1)
    with pytest.raises(InputError, match="the limit is 2,000"):
        within(10, reasoner.ask, four_objects, long)


@pytest.mark.slow
def test_a_raised_question_limit_is_answered(reasoner, four_objects):
    long = "what " * (get_limits().question_chars // 5 + 1)
    with raised(question_chars=len(long)):
        within(60, reasoner.ask, four_objects, long)  # answered or failed, not refused


def test_a_program_is_still_grounded(reasoner, four_objects):
    g = within(10, reasoner.ground, four_objects, Program.from_text("filter_color[red](scene())"))
    assert g.ok
