"""The result of answering: :class:`Answer` (value, program, trace, confidence)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..program.ir import Program
from ..trace.trace import Failure, Trace

__all__ = ["Answer", "answer_text"]


def answer_text(value: Any) -> str:
    """The CLEVR answer string of a value: ``True`` → ``"yes"``, ``3`` → ``"3"``,
    ``"red"`` → ``"red"``; object ids are joined with commas.

    >>> answer_text(True), answer_text(3), answer_text("red"), answer_text([0, 2])
    ('yes', '3', 'red', '0,2')
    """
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)


@dataclass(slots=True)
class Answer:
    """An answer: its ``value`` (None when execution failed), the ``program`` that produced
    it, the ``trace`` of every step (None when run untraced), the ``failure`` if any, the
    type of the value, and its ``confidence``: the probability the executor gives this
    answer, in [0, 1] (None: the executor gives none; the symbolic executor, exact on the
    scene as read, gives none)."""

    value: Any
    program: Program | None  # None when no program was found (the question did not parse)
    trace: Trace | None = None
    failure: Failure | None = None
    value_type: str | None = None
    confidence: float | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def text(self) -> str:
        """The answer as a CLEVR answer string ("yes", "3", "red"), or "" on failure."""
        return "" if self.failure is not None else answer_text(self.value)

    def __str__(self) -> str:
        return self.text if self.ok else f"(no answer: {self.failure})"
