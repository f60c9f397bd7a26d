"""FVQA loaders (questions, per-image concepts) and answer matching."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nsreason.datasets.fvqa import (
    FvqaQuestion,
    answers_match,
    load_fvqa_concepts,
    load_fvqa_questions,
)
from nsreason.errors import InputError, NSReasonError

from ..conftest import shared_path

QUESTION = {"question": " Which object in this image can be used for transport? ", "answer": "Bus.",
            "ans_source": "image", "fact": ["conceptnet/e/1"], "fact_triple": ["bus", "UsedFor", "transport"],
            "img_file": "img1.jpg", "extra": "ignored"}


def _write(tmp_path: Path, data: object, name: str = "f.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_questions_load_in_file_order_with_their_side(tmp_path):
    path = _write(tmp_path, {"7": QUESTION, "3": {**QUESTION, "ans_source": "kb", "answer": "transport"}})
    qs = load_fvqa_questions(path)
    assert [q.question_id for q in qs] == ["7", "3"]
    assert qs[0] == FvqaQuestion("7", "Which object in this image can be used for transport?", "Bus.",
                                 "img1.jpg", "scene", ("conceptnet/e/1",), ("bus", "UsedFor", "transport"))
    assert qs[1].side == "kb"


@pytest.mark.parametrize(("change", "message"), [
    ({"ans_source": "web"}, "'ans_source' image or kb, got 'web'"),
    ({"fact_triple": ["bus", "UsedFor"]}, "'fact_triple' as \\[head, relation, tail\\]"),
    ({"fact_triple": ["bus", "UsedFor", 3]}, "'fact_triple' as \\[head, relation, tail\\]"),
    ({"question": "  "}, "'question' as a non-empty str"),
    ({"fact": "conceptnet/e/1"}, "'fact' as a non-empty list"),
    ({"img_file": None}, "'img_file' as a non-empty str"),
])
def test_malformed_questions_name_the_file_the_question_and_what_was_expected(tmp_path, change, message):
    path = _write(tmp_path, {"7": {**QUESTION, **change}})
    with pytest.raises(InputError, match=message) as err:
        load_fvqa_questions(path)
    assert err.value.source == str(path) and err.value.path == "7"


def test_questions_and_concepts_files_must_be_objects(tmp_path):
    with pytest.raises(InputError, match="mapping question ids"):
        load_fvqa_questions(_write(tmp_path, [QUESTION]))
    with pytest.raises(InputError, match="expected an object, got list"):
        load_fvqa_questions(_write(tmp_path, {"1": [QUESTION]}))
    with pytest.raises(InputError, match="mapping image files"):
        load_fvqa_concepts(_write(tmp_path, ["bus"]))
    with pytest.raises(InputError, match="file not found"):
        load_fvqa_questions(tmp_path / "missing.json")


def test_concepts_load_per_image(tmp_path):
    path = _write(tmp_path, {"img1.jpg": ["bus", "road"], "img2.jpg": []})
    assert load_fvqa_concepts(path) == {"img1.jpg": ["bus", "road"], "img2.jpg": []}
    with pytest.raises(InputError, match="list of non-empty label strings") as err:
        load_fvqa_concepts(_write(tmp_path, {"img1.jpg": ["bus", 3]}))
    assert err.value.path == "img1.jpg"


@pytest.mark.parametrize(("predicted", "gold"), [
    ("A computer.", "computer"), ("giraffes", "Giraffe"), ("the Bus", "bus"), ("An apple", "apples"),
    ("teddy bears", "Teddy bear"), ("stuffed animal", "stuffed animals"),
])
def test_answers_match_up_to_case_punctuation_article_and_number(predicted, gold):
    assert answers_match(predicted, gold) and answers_match(gold, predicted)


@pytest.mark.parametrize(("predicted", "gold"), [
    ("bus", "train"), ("giraffe", "giraffe neck"), ("a", "an apple"), ("light", "giving light"),
])
def test_different_answers_do_not_match(predicted, gold):
    assert not answers_match(predicted, gold)


# -- fuzz: any JSON-like value loads or raises an InputError --------------------------------
FIELDS = ["question", "answer", "ans_source", "fact", "fact_triple", "img_file", "image", "kb", "1"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                    st.sampled_from(["image", "kb", "bus", "img1.jpg", " "]), st.text(max_size=5))
json_like = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=3), inner,
                                                 max_size=6)), max_leaves=20)


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(st.one_of(json_like, st.dictionaries(st.text(max_size=3), st.fixed_dictionaries(
    dict.fromkeys(("question", "answer", "ans_source", "fact", "fact_triple", "img_file"), json_like)),
    max_size=3)))
def test_fuzz_loaders_raise_only_input_errors(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        for load in (load_fvqa_questions, load_fvqa_concepts):
            try:
                load(path)
            except NSReasonError as err:
                assert isinstance(err, InputError) and err.message and err.source == str(path)


@pytest.mark.data
def test_the_shared_split_loads():
    root = shared_path("fvqa")
    qs = load_fvqa_questions(root / "questions_train0.json")
    concepts = load_fvqa_concepts(root / "concepts_train0_cluttered.json")
    assert len(qs) == 3048 and {q.side for q in qs} == {"scene", "kb"}
    assert all(q.image in concepts for q in qs)
    plain = load_fvqa_concepts(root / "concepts_train0.json")
    # the cluttered scenes are the annotated concepts plus four distractors
    assert all(set(plain[im]) <= set(concepts[im]) and len(concepts[im]) == len(plain[im]) + 4
               for im in plain)
