"""Traces: JSON round trip with a versioned schema, strict reading, renderings."""

from __future__ import annotations

import json

import pytest

from nsreason.errors import TraceFormatError
from nsreason.execute import SymbolicExecutor
from nsreason.program import Program
from nsreason.trace import SCHEMA, Failure, Trace, TraceStep


@pytest.fixture
def traced(four_objects):
    ex = SymbolicExecutor()
    ok = ex.execute(Program.from_text("count(relate[left](unique(filter_color[blue](scene()))))"), four_objects)
    failed = ex.execute(Program.from_text("count(relate[left](unique(filter_color[red](scene()))))"), four_objects)
    return ok.trace, failed.trace


def test_steps_record_everything(traced):
    ok, _ = traced
    assert [s.op for s in ok] == ["scene", "filter_color", "unique", "relate", "count"]
    s = ok[1]
    assert (s.index, s.args, s.inputs, s.output, s.output_type, s.status) == (
        1, ("blue",), (0,), [2], "ObjectSet", "ok"
    )
    assert ok[2].output == 2 and ok[2].output_type == "Object"
    assert ok[4].output == 2 == ok.answer
    assert all(isinstance(s.time_ns, int) and s.time_ns >= 0 for s in ok)
    assert ok.program == "count(relate[left](unique(filter_color[blue](scene()))))"
    assert ok.scene_id == "four" and ok.vocabulary == "clevr" and ok.ok


@pytest.mark.parametrize("which", [0, 1])
def test_json_round_trip(traced, which):
    trace = traced[which]
    text = trace.to_json()
    data = json.loads(text)
    assert data["schema"] == SCHEMA == "nsreason.trace/2"
    assert data["confidence"] is None  # the symbolic executor gives none
    back = Trace.from_json(text)
    assert back == trace
    assert back.to_json() == text
    assert [s.status for s in back] == [s.status for s in trace]


def test_failure_is_serialised(traced):
    _, failed = traced
    data = json.loads(failed.to_json())
    assert data["answer"] is None
    assert data["failure"] == {"code": "not_unique", "reason": failed.failure.reason, "step": 2}
    assert data["steps"][2]["failure"]["code"] == "not_unique"
    assert [s["status"] for s in data["steps"]] == ["ok", "ok", "failed", "skipped", "skipped"]


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d.update(schema="nsreason.trace/99"), "schema"),
        (lambda d: d.pop("steps"), "steps"),
        (lambda d: d["steps"][1].update(op=3), "steps[1].op"),
        (lambda d: d["steps"][0].update(status="fine"), "steps[0].status"),
        (lambda d: d["steps"][0].update(time_ns="fast"), "steps[0].time_ns"),
        (lambda d: d.update(failure={"code": 1}), "failure"),
    ],
)
def test_malformed_trace_json_names_the_field(traced, mutate, path):
    data = json.loads(traced[0].to_json())
    mutate(data)
    with pytest.raises(TraceFormatError) as err:
        Trace.from_dict(data)
    assert err.value.path == path


def test_not_json():
    with pytest.raises(TraceFormatError, match="not valid JSON"):
        Trace.from_json("{nope")


def test_text_rendering_golden():
    trace = Trace(
        [
            TraceStep(0, "scene", (), (), [0, 1, 2], "ObjectSet", time_ns=1500),
            TraceStep(1, "filter_color", ("red",), (0,), [0, 1], "ObjectSet", time_ns=800),
            TraceStep(2, "unique", (), (1,), None, "Object", "failed",
                      Failure("not_unique", "expected exactly one object, got 2 objects (0, 1)", 2), 2100),
            TraceStep(3, "query_shape", (), (2,), None, "Shape", "skipped"),
        ],
        failure=Failure("not_unique", "expected exactly one object, got 2 objects (0, 1)", 2),
        program="query_shape(unique(filter_color[red](scene())))",
    )
    assert trace.render_text() == "\n".join(
        [
            "failed: step 2: not_unique: expected exactly one object, got 2 objects (0, 1)",
            "program: query_shape(unique(filter_color[red](scene())))",
            "  #  op            args  inputs  output                                                                time",
            "  0  scene                       [0, 1, 2]                                                             1.5µs",
            "  1  filter_color  red   0       [0, 1]                                                                0.8µs",
            "  2  unique              1       FAILED not_unique: expected exactly one object, got 2 objects (0, 1)  2.1µs",
            "  3  query_shape         2       (skipped)",
        ]
    )
    assert str(trace) == trace.render_text()


def test_rich_rendering(traced):
    from rich.console import Console

    console = Console(width=200, record=True, color_system=None)
    console.print(traced[1])
    out = console.export_text()
    assert "not_unique" in out and "filter_color" in out and "(skipped)" in out


def test_lazy_steps_are_built_once(traced):
    ok, _ = traced
    assert ok.steps is ok.steps


def test_lazy_trace_is_the_keyword_trace(traced):
    """``Trace.lazy`` (the executor's positional constructor) makes the trace that
    ``Trace(...)`` makes from the same arguments: every attribute, steps and JSON."""
    for trace in traced:
        steps = list(trace.steps)
        args = (trace.answer, trace.failure, trace.program, trace.scene_id, trace.vocabulary)
        lazy = Trace.lazy(*args, lambda steps=steps: steps)
        keyword = Trace(answer=args[0], failure=args[1], program=args[2], scene_id=args[3],
                        vocabulary=args[4], builder=lambda steps=steps: steps)
        for name in Trace.__slots__:
            if name != "_build":
                assert getattr(lazy, name) == getattr(keyword, name), name
        assert lazy == keyword
        assert lazy.to_json() == keyword.to_json() == trace.to_json()


def _answered(confidence=None):
    return Trace([TraceStep(0, "scene", (), (), [0], "ObjectSet"),
                  TraceStep(1, "query_color", (), (0,), "red", "Color")],
                 answer="red", program="query_color(unique(scene()))", confidence=confidence)


def test_confidence_is_shown_next_to_the_answer_only_when_given():
    assert _answered(0.934).render_text().splitlines()[0] == "answer: red (p=0.93)"
    assert _answered().render_text().splitlines()[0] == "answer: red"
    assert _answered(0.0).render_text().splitlines()[0] == "answer: red (p=0.00)"


@pytest.mark.parametrize("confidence", [None, 0.0, 0.25, 1.0])
def test_confidence_round_trips_through_json(confidence):
    trace = _answered(confidence)
    data = json.loads(trace.to_json())
    assert data["schema"] == "nsreason.trace/2" and data["confidence"] == confidence
    back = Trace.from_json(trace.to_json())
    assert back.confidence == confidence and back == trace


def test_version_1_traces_still_load_without_a_confidence(traced):
    """A trace written before version 2 (no ``confidence``) loads, with confidence None."""
    data = json.loads(traced[0].to_json())
    data["schema"] = "nsreason.trace/1"
    del data["confidence"]
    back = Trace.from_dict(data)
    assert back.confidence is None and back.answer == traced[0].answer
    assert [s.op for s in back] == [s.op for s in traced[0]]
    assert json.loads(back.to_json())["schema"] == SCHEMA  # written back as the current version


@pytest.mark.parametrize("bad", [1.5, -0.1, "0.9", True, float("nan"), [0.5]])
def test_a_confidence_that_is_not_a_probability_is_refused_with_its_path(bad):
    data = json.loads(_answered().to_json())
    data["confidence"] = bad
    with pytest.raises(TraceFormatError) as err:
        Trace.from_dict(data)
    assert err.value.path == "confidence"
