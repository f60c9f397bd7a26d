"""The Python API: :class:`Reasoner` = parse + validate + execute, with one trace::

    from nsreason import Reasoner, load_clevr_scenes

    scene = load_clevr_scenes("examples/data/clevr_val_sample_scenes.json")[1]
    answer = Reasoner.default().ask(scene, "How many red things are there?")
    answer.text                  # '3'
    answer.trace.parse.output    # 'count(filter_color[red](scene()))'

(tests/parse/test_shipped.py and tests/test_api.py run this.)
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from .execute.answer import Answer
from .execute.symbolic import SymbolicExecutor
from .parse.base import ParseResult, Parser, get_parser
from .scene.graph import SceneGraph
from .trace.trace import Trace, TraceStep

__all__ = ["Reasoner", "parse_step"]


class Reasoner:
    """Answers questions about scene graphs.

    Parameters
    ----------
    parser:
        A registered parser name (``"clevr"``: the shipped neural parser), a checkpoint
        folder, or a :class:`~nsreason.parse.Parser` instance.
    executor:
        The executor (default: a :class:`SymbolicExecutor`).
    """

    def __init__(self, parser: str | Parser = "clevr", executor: SymbolicExecutor | None = None) -> None:
        self.parser = get_parser(parser)
        self.executor = executor or SymbolicExecutor()

    @classmethod
    def default(cls) -> Reasoner:
        """The shipped CLEVR parser and the symbolic executor; works offline."""
        return cls("clevr")

    def __repr__(self) -> str:
        return f"Reasoner(parser={self.parser!r})"

    def ask(self, scene: SceneGraph, question: str, *, trace: bool = True) -> Answer:
        """Parse ``question``, check the program, run it on ``scene``. The trace's first
        step is the parse (question, chosen program, score, alternatives)."""
        start = time.perf_counter_ns()
        parsed = self.parser.parse(question)
        return self._answer(scene, parsed, time.perf_counter_ns() - start, trace)

    def ask_many(self, items: Sequence[tuple[SceneGraph, str]], *, trace: bool = False) -> list[Answer]:
        """Answer many (scene, question) pairs, parsing them in batches."""
        start = time.perf_counter_ns()
        parsed = self.parser.parse_batch([q for _, q in items])
        each = (time.perf_counter_ns() - start) // max(1, len(items))
        return [self._answer(s, p, each, trace) for (s, _), p in zip(items, parsed)]

    def _answer(self, scene: SceneGraph, parsed: ParseResult, parse_ns: int, trace: bool) -> Answer:
        step = parse_step(parsed, parse_ns)
        if not parsed.ok:
            t = Trace(failure=parsed.failure, scene_id=scene.id, parse=step) if trace else None
            return Answer(None, None, t, parsed.failure, None)  # type: ignore[arg-type]
        answer = self.executor.execute(parsed.program, scene, trace=trace)
        if answer.trace is not None:
            answer.trace.parse = step
        return answer


def parse_step(parsed: ParseResult, time_ns: int = 0) -> TraceStep:
    """The trace step of a parse: question in, program out, score and alternatives."""
    details: dict[str, Any] = {
        "score": parsed.score,
        "alternatives": [a.to_dict() for a in parsed.alternatives],
        **parsed.details,
    }
    program = parsed.program.to_text() if parsed.program is not None else None
    status = "ok" if parsed.ok else "failed"
    return TraceStep(-1, "parse", (parsed.question,), (), program, "Program", status,
                     parsed.failure, time_ns, details)
