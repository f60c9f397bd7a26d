"""A small real executor for tests of executors by name: the symbolic executor's answers,
each given a fixed confidence, run in batches through ``execute_many`` (it records the
size of every batch, so tests can tell which path a loop took)."""

from __future__ import annotations

from collections.abc import Sequence

from nsreason.execute import Answer, SymbolicExecutor
from nsreason.program import Program
from nsreason.scene import SceneGraph


class ConfidentExecutor:
    """:class:`SymbolicExecutor` answers with ``confidence`` (on the answer and its trace);
    a failed answer carries none."""

    def __init__(self, confidence: float = 0.8) -> None:
        self.inner = SymbolicExecutor()
        self.confidence = confidence
        self.batches: list[int] = []
        self.single = 0

    def __repr__(self) -> str:
        return f"ConfidentExecutor({self.confidence})"

    def _with_confidence(self, answer: Answer) -> Answer:
        if answer.ok:
            answer.confidence = self.confidence
            if answer.trace is not None:
                answer.trace.confidence = self.confidence
        return answer

    def execute(self, program: Program, scene: SceneGraph, *, trace: bool = True) -> Answer:
        self.single += 1
        return self._with_confidence(self.inner.execute(program, scene, trace=trace))

    def execute_many(self, pairs: Sequence[tuple[Program, SceneGraph]], *, trace: bool = False) -> list[Answer]:
        self.batches.append(len(pairs))
        return [self._with_confidence(self.inner.execute(p, s, trace=trace)) for p, s in pairs]


class OneByOneExecutor:
    """The same answers without ``execute_many``: loops must call ``execute`` per question."""

    def __init__(self) -> None:
        self.inner = ConfidentExecutor(0.5)

    def execute(self, program: Program, scene: SceneGraph, *, trace: bool = True) -> Answer:
        return self.inner.execute(program, scene, trace=trace)
