"""Expected calibration error against hand-computed examples; failed answers count as wrong
with confidence 0; bad confidences are typed errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nsreason.errors import InputError
from nsreason.eval.calibration import calibration_summary, expected_calibration_error


def test_hand_computed_example_over_15_bins():
    """Six predictions. Bins of width 1/15 = 0.0667, (k/15, (k+1)/15]:
    0.95 and 0.97 fall in bin 14 (0.9333, 1]: both right -> |1 - 0.96| = 0.04, weight 2/6;
    0.62 and 0.64 in bin 9 (0.6, 0.6667]: one right -> |0.5 - 0.63| = 0.13, weight 2/6;
    0.30 in bin 4 (0.2667, 0.3333]: wrong -> 0.30, weight 1/6;
    0.0 in bin 0: wrong -> 0, weight 1/6.
    ECE = (2 * 0.04 + 2 * 0.13 + 0.30 + 0) / 6 = 0.64 / 6."""
    conf = [0.95, 0.97, 0.62, 0.64, 0.30, 0.0]
    right = [True, True, True, False, False, False]
    assert expected_calibration_error(conf, right) == pytest.approx(0.64 / 6)


def test_bin_edges_belong_to_the_bin_below():
    # 0.5 with two bins is in [0, 0.5] with 0.2; 0.5 alone in (0.5, 1] would differ.
    assert expected_calibration_error([0.5, 0.2], [True, True], bins=2) == pytest.approx(0.65)
    assert expected_calibration_error([0.5, 0.2], [True, True], bins=1) == pytest.approx(0.65)
    assert expected_calibration_error([0.5, 0.6], [True, False], bins=2) == pytest.approx(0.5 * 0.5 + 0.5 * 0.6)


def test_perfectly_calibrated_and_always_sure():
    assert expected_calibration_error([1.0] * 4, [True] * 4) == 0.0
    assert expected_calibration_error([1.0] * 4, [False] * 4) == 1.0
    assert expected_calibration_error([0.75] * 4, [True, True, True, False]) == pytest.approx(0.0)


@given(st.lists(st.tuples(st.floats(0, 1), st.booleans()), min_size=1, max_size=40), st.integers(1, 30))
def test_ece_is_between_0_and_1_and_at_most_the_mean_gap(pairs, bins):
    conf, right = zip(*pairs)
    ece = expected_calibration_error(list(conf), list(right), bins=bins)
    assert 0.0 <= ece <= 1.0 + 1e-12
    # binning averages before taking the gap: never above the unbinned mean gap
    assert ece <= sum(abs(r - c) for c, r in pairs) / len(pairs) + 1e-9


@pytest.mark.parametrize(
    ("conf", "right", "kw", "message"),
    [
        ([1.2], [True], {}, r"confidences\[0\]: expected a probability in \[0, 1\], got 1.2"),
        ([0.5, float("nan")], [True, True], {}, r"confidences\[1\]"),
        ([True], [True], {}, "got True"),
        ([0.5], [True, False], {}, "one correctness per confidence"),
        ([], [], {}, "at least one prediction"),
        ([0.5], [True], {"bins": 0}, "at least 1 bin"),
    ],
)
def test_bad_input_is_an_input_error(conf, right, kw, message):
    with pytest.raises(InputError, match=message):
        expected_calibration_error(conf, right, **kw)


def test_summary_counts_failed_answers_as_wrong_with_confidence_0():
    # answered: 0.9 right, 0.9 wrong; failed (its own 0.7 ignored): wrong at 0
    summary = calibration_summary([0.9, 0.9, 0.7], [True, False, False], [False, False, True])
    assert summary is not None
    # bins: 0.9, 0.9 in bin 13 -> |0.5 - 0.9| * 2/3; 0.0 in bin 0 -> 0
    assert summary["ece"] == pytest.approx(0.4 * 2 / 3)
    assert summary["mean_confidence"] == pytest.approx(1.8 / 3)


def test_summary_is_none_without_confidences_and_skips_answers_without_one():
    assert calibration_summary([None, None], [True, False], [False, True]) is None
    summary = calibration_summary([0.8, None], [True, True], [False, False])
    assert summary == {"ece": pytest.approx(0.2), "mean_confidence": pytest.approx(0.8)}
