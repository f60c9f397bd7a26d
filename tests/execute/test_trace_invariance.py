"""Property: tracing never changes answers (nor failures), on random programs and scenes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nsreason.execute import SymbolicExecutor
from nsreason.program import Program
from nsreason.scene import Attribute, Relation, SceneGraph, SceneObject
from nsreason.trace import Trace
from tests.execute.strategies import clevr_scenes
from tests.program.strategies import programs

EXECUTOR = SymbolicExecutor()


def _same_outcome(program: Program, scene: SceneGraph) -> None:
    traced = EXECUTOR.execute(program, scene, trace=True)
    untraced = EXECUTOR.execute(program, scene, trace=False)
    assert traced.value == untraced.value
    assert type(traced.value) is type(untraced.value)
    assert traced.failure == untraced.failure
    trace = traced.trace
    assert trace.answer == traced.value and trace.failure == traced.failure
    # the trace is consistent with the answer and survives JSON
    if traced.ok:
        assert trace.steps[-1].output == traced.value
        assert all(s.status == "ok" for s in trace.steps)
    else:
        assert trace.steps[traced.failure.step].status == "failed"
    assert Trace.from_json(trace.to_json()) == trace


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(programs("clevr", max_depth=7), clevr_scenes())
def test_tracing_never_changes_clevr_answers(program, scene):
    _same_outcome(program, scene)


NAMES = ["man", "hat", "dog", "teddy bear"]
VALUES = ["red", "tall", "wooden"]
PREDICATES = ["wearing", "to the left of", "holding"]


@st.composite
def open_scenes(draw) -> SceneGraph:
    n = draw(st.integers(0, 6))
    objects = [
        SceneObject(
            f"o{i}",
            draw(st.sampled_from(NAMES)),
            tuple(Attribute(v) for v in draw(st.lists(st.sampled_from(VALUES), max_size=2, unique=True))),
        )
        for i in range(n)
    ]
    relations = []
    if n > 1:
        triples = draw(st.lists(st.tuples(st.integers(0, n - 1), st.sampled_from(PREDICATES), st.integers(0, n - 1)), max_size=8))
        relations = [Relation(f"o{a}", p, f"o{b}") for a, p, b in triples]
    return SceneGraph(objects, relations)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(programs("scene_graph", max_depth=6), open_scenes())
def test_tracing_never_changes_open_vocabulary_answers(program, scene):
    _same_outcome(program, scene)
