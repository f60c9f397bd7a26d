"""OK-VQA loaders: questions, answers (both shapes), detections, MAVEx labels."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nsreason.datasets.okvqa import (
    Detection,
    detection_scene,
    load_mavex_labels,
    load_okvqa_answers,
    load_okvqa_detections,
    load_okvqa_questions,
    okvqa_scenes,
)
from nsreason.errors import InputError, NSReasonError

from ..conftest import shared_path

QUESTIONS = {"questions": [
    {"image_id": 51606, "question": "What is the hairstyle of the blond called?", "question_id": 516065},
    {"image_id": 81721, "question": "How old do you have to be in canada to do this?", "question_id": 817215},
]}
SOFT = [
    {"sent": "What is the hairstyle of the blond called?", "question_id": 516065,
     "label": {"pony tail": 1, "braid": 0.667, "ponytail": 0.667}, "class": 4,
     "img_id": "COCO_train2014_000000051606"},
    {"sent": "How old do you have to be in canada to do this?", "question_id": 817215,
     "label": {"18": 1}, "class": 7, "img_id": "COCO_train2014_000000081721"},
]
OFFICIAL = {"annotations": [
    {"question_id": 516065, "image_id": 51606, "question_type": "four", "answer_type": "other",
     "answers": [{"answer": a, "answer_id": i + 1, "raw_answer": a, "answer_confidence": "yes"}
                 for i, a in enumerate(["pony tail"] * 6 + ["braid"] * 2 + ["ponytail"] * 2)]},
]}
MAVEX = [{"image_id": 51606, "question": "What is the hairstyle of the blond called?",
          "knowledge_type": "common_sense", "question_is_unambiguous": True,
          "image_is_needed": True, "question_id": 516065}]


def test_questions():
    qs = load_okvqa_questions(QUESTIONS)
    assert [(q.question_id, q.image_id) for q in qs] == [(516065, 51606), (817215, 81721)]


def test_soft_answers_become_even_counts():
    a = load_okvqa_answers(SOFT)
    hair = a[516065]
    assert hair.counts == {"pony tail": 4, "braid": 2, "ponytail": 2}
    assert (hair.image_id, hair.category, hair.annotators) == (51606, 4, 10)
    assert hair.question == "What is the hairstyle of the blond called?"
    assert hair.accuracy("pony tail") == 1.0
    assert hair.accuracy("Braid") == pytest.approx(0.6)  # 10-choose-9 averaged
    assert hair.soft_score("braid") == pytest.approx(2 / 3)  # the simplified score
    assert hair.accuracy("bun") == 0.0 and hair.accuracy(None) == 0.0
    assert hair.best == "pony tail"
    assert a[817215].accuracy("eighteen") == 0.0 and a[817215].accuracy("18") == 1.0


def test_plain_vqa_soft_scores_with_repeats_1():
    a = load_okvqa_answers([{"question_id": 1, "img_id": 3, "label": {"x": 0.333, "y": 1}}], repeats=1)
    assert a[1].counts == {"x": 1, "y": 3}
    assert a[1].accuracy("x") == pytest.approx(0.3)
    with pytest.raises(InputError, match=r"\[0\]\.label\['x'\]: expected a soft score .* multiple of 2"):
        load_okvqa_answers([{"question_id": 1, "img_id": 3, "label": {"x": 0.333}}])


def test_official_annotations_are_counted():
    a = load_okvqa_answers(OFFICIAL)[516065]
    assert a.counts == {"pony tail": 6, "braid": 2, "ponytail": 2}
    assert (a.annotators, a.category, a.image_id) == (10, "four", 51606)
    assert a.accuracy("braid") == pytest.approx(0.6)


def test_detections_and_scene(tmp_path):
    path = tmp_path / "detected_places.json"
    path.write_text(json.dumps({"51606": ["arena/performance", "volleyball_court/outdoor"]}))
    places = load_okvqa_detections(path)
    assert [(d.label, d.source, d.rank) for d in places[51606]] == [
        ("arena/performance", "places", 0), ("volleyball_court/outdoor", "places", 1)]
    coco = load_okvqa_detections({"51606": [{"label": "person", "score": 0.75}], "7": []},
                                 detector="coco")
    scenes = okvqa_scenes(coco, places)
    scene = scenes[51606]
    assert scene.id == 51606 and len(scene) == 3 and not scene.relations
    assert [o.name for o in scene.objects] == ["person", "arena", "volleyball court"]
    person = scene.object("coco:0")
    assert (person.confidence, person.get("source"), person.extra["label"]) == (0.75, "coco", "person")
    court = scene.object("places:1")
    assert court.get("qualifier") == "outdoor" and court.extra == {"label": "volleyball_court/outdoor", "rank": 1}
    assert len(scenes[7]) == 0


def test_detection_scene_keeps_repeated_labels():
    # ImageNet's top-3 can name two classes alike ("maillot", "maillot")
    scene = detection_scene(1, [Detection("maillot", "imagenet", 0), Detection("maillot", "imagenet", 1)])
    assert scene.ids == ("imagenet:0", "imagenet:1")


def test_mavex():
    m = load_mavex_labels(MAVEX)[516065]
    assert (m.knowledge_type, m.image_id, m.image_is_needed) == ("common_sense", 51606, True)


@pytest.mark.parametrize(
    ("load", "data", "message"),
    [
        (load_okvqa_questions, {"questions": [{"image_id": "x", "question": "q?", "question_id": 1}]},
         r"questions\[0\]\.image_id: expected an image id"),
        (load_okvqa_questions, {"questions": [{"image_id": 1, "question_id": 1}]},
         r"questions\[0\]: missing field 'question'"),
        (load_okvqa_questions, {"questions": [{"image_id": 1, "question": "q", "question_id": 2}] * 2},
         r"questions\[1\]\.question_id: question_id 2 appears twice"),
        (load_okvqa_questions, [], r"expected an OK-VQA questions file: an object with a 'questions' list"),
        (load_okvqa_answers, [{"question_id": 1, "img_id": 3, "label": {"x": 1.5}}],
         r"\[0\]\.label\['x'\]: expected a soft score in \[0, 1\], got 1\.5"),
        (load_okvqa_answers, [{"question_id": 1, "img_id": 3, "label": ["x"]}],
         r"\[0\]\.label: expected an object \{answer: soft score\}"),
        (load_okvqa_answers, [{"question_id": 1, "img_id": "COCO_x", "label": {}}],
         r"\[0\]\.img_id: expected an image id"),
        (load_okvqa_answers, {"annotations": [{"question_id": 1, "image_id": 2, "answers": []}]},
         r"annotations\[0\]\.answers: expected a non-empty list of answers"),
        (load_okvqa_answers, {"annotations": [{"question_id": 1, "image_id": 2, "answers": [{"answer": 3}]}]},
         r"annotations\[0\]\.answers\[0\]\.answer: expected a string, got 3"),
        (load_okvqa_detections, {"12": "dog"}, r"\['12'\]: expected a list of labels"),
        (load_okvqa_detections, {"12": ["dog", 4]}, r"\['12'\]\[1\]: expected a label string"),
        (load_okvqa_detections, {"12": [{"label": "dog", "score": 2}]}, r"\['12'\]\[0\]\.score: expected a score in \[0, 1\]"),
        (load_okvqa_detections, {"twelve": []}, r"\['twelve'\]: expected an image id"),
        (load_mavex_labels, [dict(MAVEX[0], knowledge_type="kg")],
         r"\[0\]\.knowledge_type: expected one of \['kb', 'common_sense', 'answer_in_image'\], got 'kg'"),
        (load_mavex_labels, [dict(MAVEX[0], image_is_needed="yes")],
         r"\[0\]\.image_is_needed: expected true or false"),
    ],
)
def test_errors_name_field_and_expectation(load, data, message):
    with pytest.raises(InputError, match=message):
        load(data)


def test_errors_name_the_file(tmp_path):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps([{"question_id": 1, "img_id": 3}]))
    with pytest.raises(InputError) as err:
        load_okvqa_answers(path)
    assert str(err.value).startswith(f"{path}: [0]: missing field 'label'")
    with pytest.raises(InputError, match="file not found"):
        load_okvqa_questions(tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(InputError, match=r"bad\.json: not valid JSON"):
        load_mavex_labels(tmp_path / "bad.json")


# -- fuzz: any JSON-like value loads or raises an NSReasonError ---------------------------
FIELDS = ["questions", "annotations", "question_id", "image_id", "img_id", "question", "sent",
          "label", "class", "answers", "answer", "question_type", "knowledge_type",
          "question_is_unambiguous", "image_is_needed", "score", "12", "COCO_train2014_000000000012"]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 12), st.integers(), st.floats(),
    st.sampled_from([0.667, 1, 0.333, 10**400, "kb", "common_sense", "dog", "12"]),
    st.text(max_size=5),
)
keys = st.one_of(st.sampled_from(FIELDS), st.text(max_size=4))
json_like = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=25,
)
LOADERS = [
    load_okvqa_questions,
    load_okvqa_answers,
    lambda d: load_okvqa_answers(d, repeats=1),
    lambda d: load_okvqa_detections(d, detector="coco"),
    load_mavex_labels,
]


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.lists(json_like, max_size=4), st.dictionaries(keys, json_like, max_size=6),
                 scalars.filter(lambda v: not isinstance(v, str))))
def test_fuzz_loaders_raise_only_input_errors(data):
    for load in LOADERS:
        try:
            load(data)
        except NSReasonError as err:
            assert isinstance(err, InputError) and err.message


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries({
    "question_id": st.integers(0, 50), "img_id": st.integers(0, 10**6),
    "label": st.dictionaries(st.one_of(st.text(max_size=6), st.from_regex(r"[bcdfg]{1,5}", fullmatch=True)),
                             st.sampled_from([0.667, 1]), max_size=5),
}), max_size=5))
def test_fuzz_well_formed_soft_answers(items):
    # what the file says: 0.667 is 2 of OK-VQA's doubled humans, 1 is 4; keys are trimmed
    expected, error, seen = {}, None, {}
    for i, item in enumerate(items):
        qid = item["question_id"]
        if qid in seen:
            error = f"question_id {qid} appears twice (entries {seen[qid]} and {i})"
            break
        seen[qid] = i
        counts = {}
        for text, score in item["label"].items():
            counts[text.strip()] = 4 if score == 1 else 2
        if sum(counts.values()) > 10:
            error = f"the scores add up to more than 10 humans ({sum(counts.values())})"
            break
        expected[qid] = counts
    if error is not None:
        with pytest.raises(InputError) as err:
            load_okvqa_answers(items)
        assert err.value.message == error
        return
    answers = load_okvqa_answers(items)
    assert {qid: a.counts for qid, a in answers.items()} == expected
    for a in answers.values():
        assert a.annotators == 10
        for answer, n in a.counts.items():
            if re.fullmatch("[bcdfg]+", answer):  # lower case, no article: normalisation keeps it
                # leave-one-human-out of 10: 2 humans score 0.6, 3 or more score 1
                assert a.accuracy(answer) == pytest.approx({2: 0.6, 4: 1.0}[n])


# -- the real files ----------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.data
def test_real_train_split():
    root = shared_path("okvqa")
    qs = load_okvqa_questions(root / "questions_train.json")
    answers = load_okvqa_answers(root / "answers_train.json")
    mavex = load_mavex_labels(root / "mavex_knowledge_type_train.json")
    dets = [load_okvqa_detections(root / f"detected_{name}.json")
            for name in ("coco_objects", "places", "imagenet_objects")]
    assert [next(iter(d.values()))[0].source for d in dets] == ["coco", "places", "imagenet"]
    scenes = okvqa_scenes(*dets)
    assert len(qs) == len(answers) == len(mavex) == 9009
    assert len(scenes) == len({q.image_id for q in qs}) == 8998
    for q in qs:
        assert answers[q.question_id].image_id == mavex[q.question_id].image_id == q.image_id
        assert q.image_id in scenes
    assert {m.knowledge_type for m in mavex.values()} == {"kb", "common_sense", "answer_in_image"}
    # every soft score is 0.667 or 1 (OK-VQA's doubled answers), at most 10 humans
    assert all(set(a.counts.values()) <= {2, 4} and sum(a.counts.values()) <= 10 for a in answers.values())
    assert all(len(d) == 3 for d in dets[2].values()) and all(len(d) == 2 for d in dets[1].values())
