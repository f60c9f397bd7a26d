"""Hostile trace JSON (Trace.from_json): wrong types, NaN, negative or out-of-order step
indexes, inputs that are not earlier steps, duplicate keys. Each a TraceFormatError."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nsreason.errors import TraceFormatError
from nsreason.trace import Trace
from nsreason.trace.trace import TraceStep
from tests.hostile.bounds import within

STEP = {"index": 0, "op": "scene", "args": [], "inputs": [], "output_type": "objects", "status": "ok",
        "time_ns": 0, "output": [0]}
BASE = {"schema": "nsreason.trace/2", "program": "count(scene())", "vocabulary": "clevr", "scene_id": 1,
        "answer": 1, "confidence": None, "failure": None,
        "steps": [STEP, {**STEP, "index": 1, "op": "count", "inputs": [0], "output_type": "integer",
                         "output": 1}]}


def _refused(text: str, match: str) -> None:
    with pytest.raises(TraceFormatError, match=match):
        within(10, Trace.from_json, text)


def test_the_base_reads():
    assert Trace.from_json(json.dumps(BASE)).answer == 1


@pytest.mark.parametrize(("change", "match"), [
    ({"program": 5}, "program: expected a string or null, got 5"),
    ({"program": ["count"]}, "program: expected a string or null"),
    ({"confidence": 2}, "confidence: expected a probability"),
    ({"steps": [{**STEP, "index": -3}]}, r"steps\[0\].index: expected a step index over -1, got -3"),
    ({"steps": [STEP, {**STEP, "index": 0}]}, r"steps\[1\].index: expected a step index over 0, got 0"),
    ({"steps": [{**STEP, "inputs": [-1]}]}, r"steps\[0\].inputs\[0\]: expected the index of an earlier step"),
    ({"steps": [{**STEP, "inputs": [0]}]}, r"steps\[0\].inputs\[0\]"),
    ({"steps": [{**STEP, "inputs": [5]}]}, r"steps\[0\].inputs\[0\]"),
    ({"steps": [{**STEP, "time_ns": -5}]}, r"steps\[0\].time_ns: expected a duration"),
    ({"parse": {**STEP, "index": 0}}, r"parse.index: expected -1"),
    ({"steps": [{**STEP, "inputs": ["x" * 1_000_000]}]}, r"chars\)"),
])
def test_bad_fields_are_typed_errors(change, match):
    _refused(json.dumps({**BASE, **change}), match)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_is_not_json(constant):
    text = json.dumps(BASE).replace('"answer": 1', f'"answer": {constant}')
    _refused(text, f"{constant} is not a JSON number")
    text = json.dumps(BASE).replace('"confidence": null', f'"confidence": {constant}')
    _refused(text, f"{constant} is not a JSON number")


def test_duplicate_keys_are_refused():
    text = json.dumps(BASE).replace('"answer": 1', '"answer": 1, "answer": 2')
    _refused(text, "the key 'answer' is in one object twice")


def test_long_values_make_short_messages():
    with pytest.raises(TraceFormatError) as err:
        Trace.from_json(json.dumps({**BASE, "program": list(range(200_000))}))
    assert len(str(err.value)) <= 2000


json_like = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                                   st.text(max_size=5)),
                         lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                 st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                         max_leaves=8)


@given(st.sampled_from(["index", "op", "args", "inputs", "output_type", "status", "time_ns", "details",
                        "failure"]), json_like)
@settings(max_examples=200, deadline=None)
def test_any_step_field_reads_or_is_a_trace_format_error(key, value):
    with contextlib.suppress(TraceFormatError):
        Trace.from_json(json.dumps({**BASE, "steps": [{**STEP, key: value}]}))


def test_to_json_writes_no_nan_and_reads_back():
    """A NaN or infinite number anywhere in a trace is written as null (valid JSON, as
    from_json, which refuses NaN, reads it), deep values included."""
    deep: list = [float("nan")]
    for _ in range(500):
        deep = [deep]
    step = TraceStep(0, "scene", (float("inf"),), (), output=[1.0, float("-inf")], output_type="objects",
                     details={"scores": {"a": float("nan")}, "deep": deep})
    trace = Trace([step], answer=float("nan"), confidence=float("nan"))
    text = trace.to_json()
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text)
    assert data["answer"] is None and data["steps"][0]["args"] == [None]
    assert data["steps"][0]["details"]["scores"] == {"a": None}
