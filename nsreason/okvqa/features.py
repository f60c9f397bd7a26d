"""The ``kb`` answerer's training targets (:func:`answer_targets`). The texts' vectors, the
image vector of a scene and the reranker's feature names are inference code:
:mod:`nsreason.retrieve.answer_candidates`."""

from __future__ import annotations

from typing import Any

from ..retrieve.vqa_answers import normalize_answer

__all__ = ["answer_targets"]


def answer_targets(answers: Any) -> dict[str, float]:
    """The official accuracy of each normalised human answer of one question (> 0)."""
    out: dict[str, float] = {}
    for a in answers.counts:
        c = normalize_answer(a)
        if c and c not in out:
            acc = answers.accuracy(c)
            if acc > 0:
                out[c] = acc
    return out
