"""VQA answer normalisation and accuracy: the official evaluation's behaviour."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nsreason.retrieve.vqa_answers import (
    accuracy_from_counts,
    answer_counts,
    leave_one_out_accuracy,
    normalize_answer,
    process_digit_article,
    process_punctuation,
    soft_score,
    vqa_accuracy,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # number words, "none", articles, case, white space
        ("Two", "2"), ("none", "0"), ("ten", "10"), ("eleven", "eleven"),
        ("The Dog", "dog"), ("a cat and an owl", "cat and owl"), ("  yes \n", "yes"),
        ("tabby\tcat", "tabby cat"), ("the  the", ""),
        # contractions restored; only one missing apostrophe is restored
        ("dont", "don't"), ("Its", "its"), ("couldnt've", "couldn't've"),
        ("couldn'tve", "couldn't've"), ("couldntve", "couldntve"), ("twas", "'twas"),
        ("im", "im"), ("somebody'd", "somebodyd"), ("shes", "shes"), ("yall'll", "y'all'll"),
        # punctuation: to a space when glued, deleted when spaced, deleted after 1,000
        ("t-shirt", "t shirt"), ("hot - dog", "hot dog"), ("yes!", "yes"), ("yes !", "yes"),
        ("1,000", "1000"), ("1,000 (about)", "1000 about"), ("red,blue", "red blue"),
        ("red, blue", "red blue"), ("(fish)", "fish"), ("left/right", "left right"),
        ("a/b c /d", "ab c d"),
        # periods: kept before a digit, else deleted; colons, apostrophes, $ and % kept
        ("3.5", "3.5"), ("yes.", "yes"), ("mr. smith", "mr smith"), (".90", ".90"),
        ("10:30", "10:30"), ("dog's", "dog's"), ("$2.25", "$2.25"), ("41%", "41%"),
    ],
)
def test_normalize_answer_official_cases(raw, expected):
    assert normalize_answer(raw) == expected


def test_period_limit_is_the_official_32():
    # the official code hands re.UNICODE (32) to sub() as its count
    assert process_punctuation("." * 40) == "." * 8


def test_passes_compose():
    assert normalize_answer("The T-Shirt.") == process_digit_article(process_punctuation("The T-Shirt."))


@pytest.mark.parametrize(("n", "expected"), [(0, 0.0), (1, 0.3), (2, 0.6), (3, 0.9), (4, 1.0), (10, 1.0)])
def test_leave_one_out_values(n, expected):
    assert leave_one_out_accuracy(n) == pytest.approx(expected)
    answers = ["x"] * n + [f"other{i}" for i in range(10 - n)]
    assert vqa_accuracy("x", answers) == pytest.approx(expected)


def _official_by_hand(prediction, answers):
    """The official loop written out: leave each human out, count matches among the rest."""
    answers = [a.strip() for a in answers]
    pred = normalize_answer(prediction)
    if len(set(answers)) > 1:
        answers = [process_punctuation(a) for a in answers]
    scores = []
    for i in range(len(answers)):
        rest = answers[:i] + answers[i + 1 :]
        scores.append(min(1.0, sum(a == pred for a in rest) / 3))
    return sum(scores) / len(scores)


words = st.sampled_from(["dog", "dogs", "2", "two", "the dog", "t-shirt", "t shirt", "yes.", "yes"])


@given(st.lists(words, min_size=1, max_size=10), words)
def test_accuracy_equals_the_official_loop(answers, prediction):
    assert vqa_accuracy(prediction, answers) == pytest.approx(_official_by_hand(prediction, answers))


@given(st.lists(words, min_size=1, max_size=10), words)
def test_simplified_score_is_min_n_over_3(answers, prediction):
    counts = answer_counts(answers)
    by_hand = _official_by_hand(prediction, answers)
    soft = soft_score(prediction, counts)
    assert soft in {0.0, 1 / 3, 2 / 3, 1.0}
    assert by_hand <= soft + 1e-9  # leaving a human out never helps


def test_normalisation_only_when_humans_disagree():
    # unanimous humans: their answer is compared as written, the prediction normalised
    assert vqa_accuracy("two", ["2"] * 10) == 1.0
    assert vqa_accuracy("2", ["two"] * 10) == 0.0
    # disagreeing humans get the punctuation pass only: "t-shirt" -> "t shirt"
    assert vqa_accuracy("T-shirt", ["t-shirt"] * 5 + ["shirt"] * 5) == 1.0
    # ... but not the number pass
    assert vqa_accuracy("2", ["two"] * 5 + ["3"] * 5) == 0.0


def test_counts_with_missing_humans():
    # 6 of 10 humans listed: the other 4 gave some other answer
    assert accuracy_from_counts("braid", {"braid": 2, "bun": 4}, annotators=10) == pytest.approx(0.6)
    assert accuracy_from_counts("braid", {"braid": 2}, annotators=10) == pytest.approx(0.6)
    assert accuracy_from_counts(None, {"braid": 2}) == 0.0
    assert accuracy_from_counts("braid", {}) == 0.0


def test_leave_one_out_rejects_impossible_counts():
    with pytest.raises(ValueError):
        leave_one_out_accuracy(11, 10)


def test_every_subset_of_nine_is_what_is_averaged():
    # the official docs: "averaged over all 10 choose 9 sets of human annotators"
    answers = ["x"] * 3 + ["y"] * 7
    subsets = list(itertools.combinations(range(10), 9))
    by_subsets = sum(min(1, sum(answers[i] == "x" for i in s) / 3) for s in subsets) / len(subsets)
    assert vqa_accuracy("x", answers) == pytest.approx(by_subsets) == pytest.approx(0.9)
