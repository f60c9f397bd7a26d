"""Fuzz: any file given to the FVQA loaders (questions, per-image concepts) loads or raises
an InputError naming the file (and the question id or image); what loads has the declared
types, with no empty strings."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nsreason.datasets.fvqa import FvqaQuestion, load_fvqa_concepts, load_fvqa_questions
from nsreason.errors import InputError
from tests.fuzzing import json_values, or_junk

FIELDS = ["question", "answer", "ans_source", "fact", "fact_triple", "img_file", "question_id",
          "fact_surface", "kb_source", "visual_concept", "271"]
keys, json_like = json_values(FIELDS, [10**400, "image", "kb", "dbpedia/8657", "bus", "", " ", "a.jpg"])
_or_junk = or_junk(json_like)


words = st.sampled_from(["bus", "A computer.", "giraffes", "", " ", "UsedFor", "dbpedia/1"])
questions = st.fixed_dictionaries(
    {
        "question": _or_junk(st.sampled_from(["What is this?", " Which animal? ", ""])),
        "answer": _or_junk(words),
        "ans_source": _or_junk(st.sampled_from(["image", "kb", "web"])),
        "fact": _or_junk(st.lists(words, max_size=2)),
        "fact_triple": _or_junk(st.lists(words, min_size=2, max_size=4)),
        "img_file": _or_junk(st.sampled_from(["a.jpg", "ILSVRC2012_test_00000444.JPEG", ""])),
    },
    optional={"fact_surface": json_like, "kb_source": json_like},
)
question_files = st.one_of(st.dictionaries(keys, _or_junk(questions), max_size=3), json_like)
concept_files = st.one_of(
    st.dictionaries(keys, _or_junk(st.lists(words, max_size=3)), max_size=3), json_like
)


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


def _load(load, path: Path, content: bytes):
    path.write_bytes(content)
    try:
        return load(path)
    except InputError as err:
        assert err.source == str(path) and err.message, err
        return None
    except Exception as exc:  # pragma: no cover - the failure this test looks for
        raise AssertionError(f"{load.__name__} raised {type(exc).__name__}: {exc}") from exc


FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@FUZZ
@given(st.one_of(question_files.map(lambda d: json.dumps(d).encode()), st.binary(max_size=30)))
def test_any_questions_file_loads_or_raises_an_input_error_naming_it(scratch, content):
    loaded = _load(load_fvqa_questions, scratch / "questions.json", content)
    if loaded is None:
        return
    data = json.loads(content)
    assert [q.question_id for q in loaded] == list(data)
    for q in loaded:
        assert isinstance(q, FvqaQuestion) and q.side in ("scene", "kb")
        assert q.question and q.answer and q.image and q.fact_ids and len(q.fact_triple) == 3
        assert q.question == q.question.strip() and q.answer == q.answer.strip()
        assert all(isinstance(f, str) and f.strip() for f in q.fact_ids + q.fact_triple)


@FUZZ
@given(st.one_of(concept_files.map(lambda d: json.dumps(d).encode()), st.binary(max_size=30)))
def test_any_concepts_file_loads_or_raises_an_input_error_naming_it(scratch, content):
    loaded = _load(load_fvqa_concepts, scratch / "concepts.json", content)
    if loaded is None:
        return
    assert loaded == json.loads(content)
    assert all(isinstance(x, str) and x.strip() for labels in loaded.values() for x in labels)


GOOD = {"question": "Which animal is this?", "answer": "giraffe", "ans_source": "image",
        "fact": ["conceptnet/1"], "fact_triple": ["giraffe", "IsA", "animal"], "img_file": "a.jpg"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"fact": [{"id": 1}]}, "'fact' as a non-empty list of fact ids"),
        ({"fact": [None]}, "'fact' as a non-empty list of fact ids"),
        ({"fact": []}, "'fact' as a non-empty list of fact ids"),
        ({"fact_triple": ["giraffe", "", "animal"]}, r"'fact_triple' as \[head, relation, tail\]"),
    ],
)
def test_fact_ids_and_triples_must_be_non_empty_strings(tmp_path, change, message):
    """Regression: fact ids of any JSON type were turned into strings ("None",
    "{'id': 1}") and empty triple parts loaded."""
    path = tmp_path / "questions.json"
    path.write_text(json.dumps({"7": GOOD}))
    assert [q.fact_ids for q in load_fvqa_questions(path)] == [("conceptnet/1",)]
    path.write_text(json.dumps({"7": {**GOOD, **change}}))
    with pytest.raises(InputError, match=message) as err:
        load_fvqa_questions(path)
    assert err.value.source == str(path) and err.value.path == "7"


def test_empty_concept_labels_are_refused(tmp_path):
    """Regression: an empty label loaded as a concept of the image's scene."""
    path = tmp_path / "concepts.json"
    path.write_text(json.dumps({"a.jpg": ["giraffe", " "]}))
    with pytest.raises(InputError, match="non-empty label strings") as err:
        load_fvqa_concepts(path)
    assert err.value.path == "a.jpg"
