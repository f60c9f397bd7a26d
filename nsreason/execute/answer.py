"""The result of answering: :class:`Answer` (value, program, trace, confidence)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..program.ir import Program
from ..scene.graph import SceneGraph
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
    scene as read, gives none). ``scene``: the scene asked about, when known
    (:meth:`Reasoner.ask <nsreason.api.Reasoner.ask>` sets it), so the HTML page can draw it."""

    value: Any
    program: Program | None  # None when no program was found (the question did not parse)
    trace: Trace | None = None
    failure: Failure | None = None
    value_type: str | None = None
    confidence: float | None = None
    scene: SceneGraph | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def text(self) -> str:
        """The answer as a CLEVR answer string ("yes", "3", "red"), or "" on failure."""
        return "" if self.failure is not None else answer_text(self.value)

    def __str__(self) -> str:
        return self.text if self.ok else f"(no answer: {self.failure})"

    def to_html(self, **options: Any) -> str:
        """The page of this answer's trace with its scene drawn
        (:func:`nsreason.trace.html.render_html`; ``gold=`` marks it right or wrong)."""
        if self.trace is None:
            from ..errors import InputError

            raise InputError("this answer has no trace (it was run with trace=False): ask again traced")
        return self.trace.to_html(self.scene, **options)

    def _repr_html_(self) -> str:
        """A notebook shows the answer as its trace page (scene drawn, steps selectable)."""
        if self.trace is None:
            from ..trace.html import esc

            return f"<p>{esc(self)}</p>"
        from ..trace.html import notebook_frame

        return notebook_frame(self.to_html())
