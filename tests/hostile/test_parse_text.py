"""Hostile words for the typo corrector (nsreason.parse.text.correct_typos): one very long
word once took memory quadratic in its length."""

from __future__ import annotations

import tracemalloc

from hypothesis import given, settings
from hypothesis import strategies as st

from nsreason.parse.text import LONGEST_CORRECTED, correct_typos
from tests.hostile.bounds import within

KNOWN = {"color": 10, "cube": 5, "sphere": 3}


def test_a_100000_letter_word_is_left_alone_quickly():
    tracemalloc.start()
    try:
        _, fixes, unknown = within(5, correct_typos, ["x" * 100_000, "colr"], KNOWN)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert fixes == {"colr": "color"} and unknown == ["x" * 100_000]
    assert peak < 5_000_000


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=LONGEST_CORRECTED + 1, max_size=500))
@settings(max_examples=30, deadline=None)
def test_long_words_are_never_corrected(word):
    assert correct_typos([word], KNOWN)[1] == {}
