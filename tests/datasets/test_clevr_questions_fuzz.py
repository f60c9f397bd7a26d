"""Fuzz: any JSON-like value or file given to the CLEVR question loader loads or raises an
InputError naming the file and ``questions[i].field``; what loads has the declared types."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nsreason.datasets.clevr import ClevrQuestion, load_clevr_questions
from nsreason.errors import InputError, NSReasonError
from nsreason.program import Program
from tests.fuzzing import json_values, or_junk

FIELDS = ["questions", "image_index", "question", "answer", "program", "question_index",
          "question_family_index", "function", "type", "inputs", "value_inputs", "side_inputs",
          "_output", "0"]
keys, json_like = json_values(FIELDS, [10**400, "scene", "count", "filter_color", "red", "yes", "3", ""])
_or_junk = or_junk(json_like)


nodes = st.sampled_from(["function", "type"]).flatmap(lambda op_key: st.fixed_dictionaries(
    {op_key: _or_junk(st.sampled_from(["scene", "count", "filter_color", "unique", "exist", ""]))},
    optional={"inputs": _or_junk(st.lists(st.integers(-1, 3), max_size=2)),
              "value_inputs": _or_junk(st.lists(st.sampled_from(["red", "", "cube"]), max_size=1)),
              "side_inputs": _or_junk(st.lists(st.sampled_from(["red", "left"]), max_size=1)),
              "_output": json_like},
))  # release nodes name the op under "function", generator nodes under "type"
questions = st.fixed_dictionaries(
    {"image_index": _or_junk(st.integers(0, 10))},
    optional={
        "question": _or_junk(st.text(max_size=10)),
        "answer": _or_junk(st.one_of(st.text(max_size=4), st.integers(0, 10), st.booleans())),
        "program": _or_junk(st.lists(nodes, max_size=3)),
        "question_index": json_like,
        "question_family_index": _or_junk(st.integers(0, 90)),
    },
)
files = st.one_of(
    st.fixed_dictionaries({"questions": _or_junk(st.lists(questions, max_size=3))},
                          optional={"info": json_like}),
    json_like,
)


def _load(source):
    try:
        return load_clevr_questions(source)
    except InputError as err:
        assert err.message
        return None
    except NSReasonError as err:  # pragma: no cover - the failure this test looks for
        raise AssertionError(f"{type(err).__name__} instead of an InputError: {err}") from err
    except Exception as exc:  # pragma: no cover - the failure this test looks for
        raise AssertionError(f"load_clevr_questions raised {type(exc).__name__}: {exc}") from exc


def _check_loaded(loaded: list[ClevrQuestion], data) -> None:
    assert len(loaded) == len(data["questions"])
    for i, (q, raw) in enumerate(zip(loaded, data["questions"])):
        assert type(q.question_index) is int and type(q.image_index) is int
        assert q.image_index == raw["image_index"] and q.question == raw.get("question", "")
        assert q.question_index == (raw.get("question_index") if type(raw.get("question_index")) is int else i)
        assert q.answer is None or isinstance(q.answer, str)
        assert q.family is None or type(q.family) is int
        assert (q.program is None) == (raw.get("program") is None)
        if q.program is not None:
            assert isinstance(q.program, Program) and len(q.program.steps) == len(raw["program"])


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files)
def test_any_json_value_loads_or_raises_an_input_error(data):
    loaded = _load(data)
    if loaded is not None:
        _check_loaded(loaded, data)


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(st.one_of(files.map(lambda d: json.dumps(d).encode()), st.binary(max_size=40)))
def test_any_file_loads_or_raises_an_input_error_naming_it(scratch, content):
    path = scratch / "questions.json"
    path.write_bytes(content)
    try:
        load_clevr_questions(path)
    except InputError as err:
        assert err.source == str(path), err
    except Exception as exc:  # pragma: no cover - the failure this test looks for
        raise AssertionError(f"load_clevr_questions raised {type(exc).__name__}: {exc}") from exc


@pytest.mark.parametrize(
    ("question", "path"),
    [
        ({"image_index": 0, "question_family_index": [1]}, "questions[0].question_family_index"),
        ({"image_index": 0, "question_family_index": True}, "questions[0].question_family_index"),
        ({"image_index": 0, "answer": 10**5000}, "questions[0].answer"),
    ],
)
def test_bad_family_and_unwritable_answers_name_their_field(question, path):
    """Regression: a non-integer ``question_family_index`` loaded as the question's family,
    and a 5000-digit integer answer raised Python's ValueError."""
    with pytest.raises(InputError) as err:
        load_clevr_questions({"questions": [question]})
    assert err.value.path == path


def test_a_mapping_with_mixed_key_types_is_an_input_error():
    """Regression: listing the keys of a non-questions mapping sorted ints with strings
    (TypeError)."""
    with pytest.raises(InputError, match=r"got keys \['1', 'a'\]"):
        load_clevr_questions({1: 2, "a": 3})


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"[" * 100_000, "nested too deeply"), (b'{"questions": [' + b"7" * 5000 + b"]}", "4300 digits")],
)
def test_deep_or_over_long_json_files_are_input_errors_naming_the_file(tmp_path, content, message):
    """Regression: Python's RecursionError came through read_json, and an over-long integer
    literal was reported as 'cannot open file' with the path quoted."""
    path = tmp_path / "q.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as err:
        load_clevr_questions(path)
    assert err.value.source == str(path)
