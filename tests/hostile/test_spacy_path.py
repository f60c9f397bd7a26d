"""Hostile knowledge questions through spaCy (the question reader and the scene-graph
tokenizer): floods of punctuation or emoji end fast, and one such question never holds the
pipeline's lock long enough to stall other questions."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nsreason.parse.text import for_spacy
from tests.hostile.bounds import within

FLOODS = ["?!.,;" * 2_000, "😀🎉" * 5_000, "a😀" * 5_000, ". " * 5_000, "\u200b" * 10_000,
          "(" * 10_000, "x" * 100_000, "-'" * 50_000]


@given(st.text(min_size=0, max_size=3_000))
@settings(max_examples=200, deadline=None)
def test_for_spacy_is_bounded(text):
    out = for_spacy(text)
    assert len(out) <= 1_000 and all(len(w) <= 40 for w in out.split())


def test_for_spacy_keeps_ordinary_questions():
    q = "Which American president is associated with the stuffed animal seen here?"
    assert for_spacy(q) == q and for_spacy("What's the man's t-shirt say...?") == "What's the man's t-shirt say...?"


@pytest.mark.slow
@pytest.mark.parametrize("flood", FLOODS, ids=range(len(FLOODS)))
def test_floods_end_fast(flood):
    from nsreason.parse.scene_graph import tokenize
    from nsreason.retrieve.question import analyse_question, load_pipeline

    load_pipeline()
    within(20, tokenize, "What is")  # the pipelines load outside the bound
    within(5, analyse_question, "What is " + flood + " used for?")
    within(5, tokenize, "What is " + flood + " used for?")


@pytest.mark.slow
def test_a_flood_does_not_stall_other_questions():
    from nsreason.retrieve.question import analyse_question, load_pipeline

    load_pipeline()
    analyse_question("What is this?")
    floods = [threading.Thread(target=analyse_question, args=(f"What is {'?!😀' * 30_000} {i}",), daemon=True)
              for i in range(4)]
    for t in floods:
        t.start()
    t0 = time.perf_counter()
    frame = within(5, analyse_question, "Which animal in this image can climb trees?")
    assert frame.answer_type == "animal" and time.perf_counter() - t0 < 5
    for t in floods:
        t.join(10)
        assert not t.is_alive()
