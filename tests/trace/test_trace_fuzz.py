"""Fuzz: any text given to ``Trace.from_json`` loads or raises a TraceFormatError naming the
field; what loads keeps every field it was given and round-trips through JSON."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nsreason.errors import NSReasonError, TraceFormatError
from nsreason.trace import SCHEMA, Trace
from tests.fuzzing import json_values, or_junk

STEP_FIELDS = ["index", "op", "args", "inputs", "output", "output_type", "status", "failure",
               "time_ns", "details"]
FIELDS = ["schema", "parse", "program", "vocabulary", "scene_id", "answer", "confidence", "failure", "steps",
          "code", "reason", "step", *STEP_FIELDS]

keys, json_like = json_values(FIELDS, [10**400, SCHEMA, "nsreason.trace/1", "nsreason.trace/3", "ok", "failed", "skipped", "count"])
_or_junk = or_junk(json_like)


failures = st.fixed_dictionaries(
    {"code": _or_junk(st.text(max_size=8)), "reason": _or_junk(st.text(max_size=8))},
    optional={"step": _or_junk(st.one_of(st.none(), st.integers(-1, 6)))},
)
steps = st.fixed_dictionaries(
    {
        "index": _or_junk(st.integers(-1, 6)),
        "op": _or_junk(st.sampled_from(["scene", "count", "filter_color", "parse"])),
        "args": _or_junk(st.lists(json_like, max_size=3)),
        "inputs": _or_junk(st.lists(st.integers(0, 6), max_size=3)),
        "output_type": _or_junk(st.sampled_from(["ObjectSet", "Integer", "Object"])),
        "status": _or_junk(st.sampled_from(["ok", "failed", "skipped"])),
        "time_ns": _or_junk(st.integers(0, 10**9)),
    },
    optional={"output": json_like, "failure": _or_junk(st.one_of(st.none(), failures)),
              "details": _or_junk(st.dictionaries(st.text(max_size=4), json_like, max_size=3))},
)
traces = st.fixed_dictionaries(
    {"schema": _or_junk(st.sampled_from(["nsreason.trace/1", SCHEMA])),
     "steps": _or_junk(st.lists(steps, max_size=4))},
    optional={
        "parse": _or_junk(steps),
        "program": _or_junk(st.one_of(st.none(), st.text(max_size=10))),
        "vocabulary": _or_junk(st.one_of(st.none(), st.just("clevr"))),
        "scene_id": json_like,
        "answer": json_like,
        "confidence": _or_junk(st.one_of(st.none(), st.floats(0, 1), st.integers(0, 1))),
        "failure": _or_junk(st.one_of(st.none(), failures)),
    },
)


def _load(text: str | bytes) -> Trace | None:
    try:
        return Trace.from_json(text)
    except TraceFormatError as err:
        assert err.message, text
        return None
    except NSReasonError as err:  # pragma: no cover - the failure this test looks for
        raise AssertionError(f"{type(err).__name__} instead of a TraceFormatError: {err}") from err
    except Exception as exc:  # pragma: no cover - the failure this test looks for
        raise AssertionError(f"Trace.from_json raised {type(exc).__name__}: {exc}") from exc


def _check_loaded(trace: Trace, data: dict) -> None:
    """A loaded trace keeps what it was given and writes it back the same."""
    assert trace.program == data.get("program") and trace.vocabulary == data.get("vocabulary")
    assert trace.confidence == data.get("confidence")
    assert len(trace.steps) == len(data["steps"])
    assert [s.op for s in trace.steps] == [s["op"] for s in data["steps"]]
    assert [list(s.inputs) for s in trace.steps] == [s["inputs"] for s in data["steps"]]
    assert (trace.parse is None) == (data.get("parse") is None)
    text = trace.to_json()
    assert Trace.from_json(text) == trace
    trace.render_text()  # whatever loads can be shown


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traces)
def test_trace_shaped_json_loads_or_raises_a_trace_format_error(data):
    text = json.dumps(data)
    trace = _load(text)
    if trace is not None:
        _check_loaded(trace, data)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.one_of(json_like, st.lists(json_like, max_size=3)))
def test_any_json_value_loads_or_raises_a_trace_format_error(data):
    _load(json.dumps(data))


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=40), st.binary(max_size=40)))
def test_any_text_or_bytes_loads_or_raises_a_trace_format_error(text):
    _load(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"schema": "nsreason.trace/1", "steps": [' + "1" * 5000 + "]}", "4300 digits"),
        (b"\xff\xfe{", "not"),
    ],
)
def test_deeply_nested_and_over_long_json_is_a_trace_format_error(text, message):
    """Regression: Python's own RecursionError and int-conversion ValueError came through."""
    with pytest.raises(TraceFormatError, match=message):
        Trace.from_json(text)


def _valid(**change):
    step = {"index": 0, "op": "scene", "args": [], "inputs": [], "output": [0], "output_type": "ObjectSet",
            "status": "ok", "failure": None, "time_ns": 5}
    data = {"schema": SCHEMA, "program": "scene()", "vocabulary": "clevr", "steps": [step]}
    for key, value in change.items():
        if key.startswith("step_"):
            step[key[5:]] = value
        else:
            data[key] = value
    return json.dumps(data)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"program": 5}, "program"),
        ({"program": ["scene"]}, "program"),
        ({"vocabulary": {"name": "clevr"}}, "vocabulary"),
        ({"step_inputs": ["0"]}, "steps[0].inputs[0]"),
        ({"step_inputs": [True]}, "steps[0].inputs[0]"),
        ({"step_index": False}, "steps[0].index"),
        ({"step_time_ns": True}, "steps[0].time_ns"),
        ({"failure": {"code": "x", "reason": "y", "step": True}}, "failure"),
    ],
)
def test_fields_of_the_wrong_type_are_refused_with_their_path(change, path):
    """Regression: a non-string program was read and then silently dropped (written back as
    null), and booleans passed as step indexes, inputs and times."""
    Trace.from_json(_valid())  # the unchanged trace loads
    with pytest.raises(TraceFormatError) as err:
        Trace.from_json(_valid(**change))
    assert err.value.path == path
