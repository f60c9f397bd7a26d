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
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .execute.answer import Answer
from .execute.symbolic import SymbolicExecutor
from .parse.base import Alternative, Parser, ParseResult, get_parser
from .program.ir import Program
from .scene.graph import SceneGraph
from .trace.trace import Failure, Trace, TraceStep

__all__ = ["Reasoner", "execution_guided", "parse_step"]


class Reasoner:
    """Answers questions about scene graphs.

    Parameters
    ----------
    parser:
        A registered parser name (``"clevr"``: the shipped neural parser), a checkpoint
        folder, or a :class:`~nsreason.parse.Parser` instance.
    executor:
        The executor (default: a :class:`SymbolicExecutor`).
    fallback_beam:
        When the parser's program and all its alternatives fail on the scene, ask the
        parser for this many candidates and run the first that works (0: never); see
        :func:`execution_guided`.
    """

    def __init__(
        self,
        parser: str | Parser = "clevr",
        executor: SymbolicExecutor | None = None,
        *,
        fallback_beam: int = 20,
    ) -> None:
        self.parser = get_parser(parser)
        self.executor = executor or SymbolicExecutor()
        self.fallback_beam = fallback_beam

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
        if not parsed.ok:
            step = parse_step(parsed, parse_ns)
            t = Trace(failure=parsed.failure, scene_id=scene.id, parse=step) if trace else None
            return Answer(None, None, t, parsed.failure, None)  # type: ignore[arg-type]

        def run(program: Program) -> Answer:
            return self.executor.execute(program, scene, trace=trace)

        answer, used, rejected = execution_guided(parsed, run, self.parser, self.fallback_beam)
        step = parse_step(parsed, parse_ns, used=used, rejected=rejected)
        if answer.trace is not None:
            answer.trace.parse = step
        return answer


R = TypeVar("R", bound=Answer)


def execution_guided(
    parsed: ParseResult,
    run: Callable[[Program], R],
    parser: Parser | None = None,
    wider_beam: int = 0,
) -> tuple[R, Alternative | None, list[tuple[Program, Failure]]]:
    """Run the parser's program; if it fails on the scene (a "the cube" that is not
    unique, a query on nothing), run the next alternatives in order and keep the first
    that runs (execution-guided decoding, Wang et al. 2018). When all fail and ``parser``
    can search wider (``parse_batch(..., beam=wider_beam)``), its extra candidates are
    tried too. Returns the result, the alternative used (None: the parser's own choice)
    and every program rejected on the way with its failure.

    Nothing is hidden: the trace's parse step lists the rejected programs and the
    alternative used with its (lower) score.
    """
    assert parsed.program is not None
    first = run(parsed.program)
    if first.failure is None:
        return first, None, []
    rejected = [(parsed.program, first.failure)]
    tried = {parsed.program.to_text()}

    def first_that_runs(candidates: Sequence[Alternative]) -> tuple[R, Alternative] | None:
        for alt in candidates:
            text = alt.program.to_text()
            if text in tried:
                continue
            tried.add(text)
            result = run(alt.program)
            if result.failure is None:
                return result, alt
            rejected.append((alt.program, result.failure))
        return None

    found = first_that_runs(parsed.alternatives)
    if found is None and parser is not None and wider_beam > len(parsed.alternatives):
        try:
            wider = parser.parse_batch([parsed.question], beam=wider_beam)[0].alternatives  # type: ignore[call-arg]
        except TypeError:  # a parser without beam search
            wider = []
        found = first_that_runs(wider)
    if found is None:
        return first, None, rejected
    return found[0], found[1], rejected


def parse_step(
    parsed: ParseResult,
    time_ns: int = 0,
    *,
    used: Alternative | None = None,
    rejected: Sequence[tuple[Program, Failure]] = (),
) -> TraceStep:
    """The trace step of a parse: question in, program out, score and alternatives; when
    the parser's choice failed on the scene, the programs rejected (with why) and the
    alternative run instead (its program is the step's output, its score the score)."""
    details: dict[str, Any] = {
        "score": parsed.score if used is None else used.score,
        "alternatives": [a.to_dict() for a in parsed.alternatives],
        **parsed.details,
    }
    if rejected:
        details["rejected"] = [{"program": p.to_text(), "failure": f.to_dict()} for p, f in rejected]
    if used is not None:
        details["parser_choice"] = parsed.program.to_text() if parsed.program is not None else None
        details["parser_score"] = parsed.score
    chosen = used.program if used is not None else parsed.program
    program = chosen.to_text() if chosen is not None else None
    status = "ok" if parsed.ok else "failed"
    return TraceStep(-1, "parse", (parsed.question,), (), program, "Program", status,
                     parsed.failure, time_ns, details)
