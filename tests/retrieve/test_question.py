"""Reading what a knowledge question asks for (its answer-type phrase)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("spacy")

from nsreason.retrieve.question import QuestionFrame, analyse_question, answer_type_by_rule

CASES = [
    ("Which American president is associated with the stuffed animal seen here?", "american president"),
    ("Which animal in this image can climb trees?", "animal"),
    ("What kind of dog is this?", "kind of dog"),
    ("Which breed of cat is shown?", "breed of cat"),
    ("What sport can you use this for?", "sport"),
    ("What is the object in this image used for?", None),  # names no type
    ("Which object in this image is used for transport?", None),  # a generic head
    ("What do these animals eat?", None),
    ("Is this a dog?", None),  # no wh-word
]


@pytest.mark.parametrize(("question", "expected"), CASES)
def test_the_parse_finds_the_answer_type(question, expected):
    frame = analyse_question(question)
    assert frame.answer_type == expected
    assert frame.method in ("parse", "rule")


@pytest.mark.parametrize(("question", "expected"), CASES)
def test_the_rule_agrees_on_plain_questions(question, expected):
    assert answer_type_by_rule(question) == expected


def test_the_parse_reads_the_name_of_a_thing():
    frame = analyse_question("What is the name of the famous animated film where this animal talks?")
    assert frame.answer_type is not None and frame.answer_type.endswith("film")
    assert frame.to_json() == {"wh": "what", "answer_type": frame.answer_type, "method": frame.method}


def test_without_the_spacy_pipeline_the_rule_reads_the_question(monkeypatch):
    import spacy

    from nsreason.retrieve import question

    monkeypatch.setattr(question, "load_pipeline", lambda: spacy.blank("en"))
    question.analyse_question.cache_clear()  # frames are cached per question text
    try:
        frame = question.analyse_question("Which animal can climb trees?")
    finally:
        question.analyse_question.cache_clear()
    assert frame == QuestionFrame("which", "animal", "rule")


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80))
def test_any_text_gives_a_frame(text):
    frame = analyse_question(text)
    assert frame.answer_type is None or (frame.answer_type.strip() and frame.answer_type == frame.answer_type.lower())
    rule = answer_type_by_rule(text)
    assert rule is None or rule.strip()
