"""Calibration of answer confidences: expected calibration error (ECE).

An executor that gives each answer a probability (``Answer.confidence``) is calibrated when,
among the answers it gives probability ``p``, a share ``p`` is right. :func:`expected_calibration_error`
measures the gap over equal-width bins of confidence (Guo et al., 2017), weighted by how many
predictions fall in each bin:

    ECE = Σ_b |B_b| / n · |accuracy(B_b) − mean confidence(B_b)|

Two bins, four predictions: [0, 0.5] holds 0.2 (wrong), (0.5, 1] holds 0.9, 0.9, 0.6 (two
right): 1/4 · |0 − 0.2| + 3/4 · |2/3 − 0.8| = 0.05 + 0.1.

>>> round(expected_calibration_error([0.9, 0.9, 0.2, 0.6], [True, False, False, True], bins=2), 6)
0.15
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..errors import InputError

__all__ = ["calibration_summary", "expected_calibration_error"]


def expected_calibration_error(
    confidences: Sequence[float], correct: Sequence[bool], *, bins: int = 15
) -> float:
    """The ECE of predictions given their ``confidences`` (each in [0, 1]) and whether each
    was ``correct``, over ``bins`` equal-width bins of [0, 1]: bin ``k`` holds the
    confidences in ``(k/bins, (k+1)/bins]``, and the first also holds 0. Empty bins weigh
    nothing. Callers scoring answers count a failed answer (no value) as wrong with
    confidence 0 (:func:`calibration_summary` does).

    A confidence outside [0, 1] (or NaN), a length mismatch, no predictions, or fewer than
    one bin is an :class:`~nsreason.errors.InputError`.
    """
    if bins < 1:
        raise InputError(f"expected at least 1 bin, got {bins}", path="bins")
    if len(confidences) != len(correct):
        raise InputError(
            f"expected one correctness per confidence, got {len(confidences)} confidences and "
            f"{len(correct)} correctness values"
        )
    if not confidences:
        raise InputError("expected at least one prediction, got none")
    counts = [0] * bins
    conf_sums = [0.0] * bins
    right = [0] * bins
    for i, (c, ok) in enumerate(zip(confidences, correct)):
        if isinstance(c, bool) or not isinstance(c, (int, float)) or not 0.0 <= c <= 1.0:
            raise InputError(f"expected a probability in [0, 1], got {c!r}", path=f"confidences[{i}]")
        b = max(0, math.ceil(c * bins) - 1)
        counts[b] += 1
        conf_sums[b] += c
        right[b] += bool(ok)
    n = len(confidences)
    return sum(abs(right[b] - conf_sums[b]) / n for b in range(bins) if counts[b])


def calibration_summary(
    confidences: Sequence[float | None], correct: Sequence[bool], failed: Sequence[bool],
    *, bins: int = 15,
) -> dict[str, float] | None:
    """``{"ece", "mean_confidence"}`` of scored answers, or None when no answer has a
    confidence (the symbolic executor gives none).

    Each answer is counted with its confidence against whether it was right; a *failed*
    answer (no value) counts as wrong with confidence 0, whatever confidence it carries.
    Answers that succeeded without a confidence are left out of both figures.
    """
    if not any(c is not None for c in confidences):
        return None
    kept_conf: list[float] = []
    kept_ok: list[bool] = []
    for c, ok, fail in zip(confidences, correct, failed, strict=True):
        if fail:
            kept_conf.append(0.0)
            kept_ok.append(False)
        elif c is not None:
            kept_conf.append(c)
            kept_ok.append(ok)
    return {
        "ece": expected_calibration_error(kept_conf, kept_ok, bins=bins),
        "mean_confidence": sum(kept_conf) / len(kept_conf),
    }
