"""The parser contract: question → program, with a score and ranked alternatives.

A parser is anything with ``parse(question) -> ParseResult`` and
``parse_batch(questions) -> list[ParseResult]``. Parsers are registered by name in
:data:`PARSERS` (entry-point group ``nsreason.parsers``) and chosen as
``Reasoner(parser="clevr")`` or passed as an instance.

A question the parser cannot map is a :class:`ParseResult` whose ``program`` is None and
whose ``failure`` says why (code ``"could_not_parse"``), with the closest alternatives it
considered: never an exception, never a silent wrong program with high confidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..program.ir import Program
from ..registry import Registry
from ..trace.trace import Failure

__all__ = ["Alternative", "ParseResult", "Parser", "PARSERS", "get_parser"]


@dataclass(frozen=True, slots=True)
class Alternative:
    """One candidate program and its probability under the parser."""

    program: Program
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"program": self.program.to_text(), "score": self.score}


@dataclass(slots=True)
class ParseResult:
    """The outcome of parsing one question.

    ``program`` is the chosen program (None when parsing failed), ``score`` its
    probability, ``alternatives`` the ranked candidates (the chosen one first), ``failure``
    the reason when nothing usable came out, ``details`` what the parser wants to show in
    the trace (normalised words, corrected typos, unknown words...).
    """

    question: str
    program: Program | None
    score: float | None = None
    alternatives: list[Alternative] = field(default_factory=list)
    failure: Failure | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.program is not None and self.failure is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "program": self.program.to_text() if self.program is not None else None,
            "score": self.score,
            "alternatives": [a.to_dict() for a in self.alternatives],
            "failure": self.failure.to_dict() if self.failure else None,
            **({"details": self.details} if self.details else {}),
        }


@runtime_checkable
class Parser(Protocol):
    """What every parser provides."""

    name: str

    def parse(self, question: str) -> ParseResult: ...

    def parse_batch(self, questions: Sequence[str]) -> list[ParseResult]: ...


PARSERS: Registry[Any] = Registry("parser", "nsreason.parsers")
"""Parser factories by name: ``PARSERS.get(name)()`` returns a :class:`Parser`."""

SHIPPED = Path(__file__).resolve().parent / "weights"
"""Checkpoints shipped inside the package (``weights/clevr``: the CLEVR parser)."""


def _shipped_clevr() -> Parser:
    from .seq2seq import Seq2SeqParser

    return Seq2SeqParser.load(SHIPPED / "clevr")


def _scene_graph() -> Parser:
    from .scene_graph import SceneGraphParser

    return SceneGraphParser()


PARSERS.register("clevr", _shipped_clevr)
PARSERS.register("scene_graph", _scene_graph)
PARSERS.register("default", _shipped_clevr)


def _tree() -> Parser:
    from .tree import TreeParser

    return TreeParser()


PARSERS.register("tree", _tree)


def get_parser(spec: str | Parser) -> Parser:
    """A parser by registered name, by checkpoint directory, or passed through."""
    if not isinstance(spec, str):
        return spec
    if spec in PARSERS:
        return PARSERS.get(spec)()
    if Path(spec).is_dir():
        from .seq2seq import Seq2SeqParser

        return Seq2SeqParser.load(spec)
    return PARSERS.get(spec)()  # raises, listing the registered parsers
