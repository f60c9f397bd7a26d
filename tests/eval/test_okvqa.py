"""OK-VQA evaluation (nsreason.eval.okvqa): the answer prior, folds by image, answerer
plug-ins that never see the answers of what they answer, the CLI."""

from __future__ import annotations

import json

import pytest

from nsreason.cli import main
from nsreason.datasets.okvqa import OkvqaAnswers, OkvqaQuestion, detection_scene
from nsreason.errors import InputError, RegistryError
from nsreason.eval.okvqa import evaluate_okvqa
from nsreason.okvqa import (
    OKVQA_ANSWERERS,
    AnswerPrior,
    PriorPlugin,
    TrainingExample,
    get_answerer,
    image_folds,
    question_prefix,
)
from tests.conftest import shared_path

# 30 questions on 30 images: "how many" questions answer 2, "what sport" ones tennis
N = 30
TEXTS = ["How many dogs are there?", "What sport is this?"]


def _data():
    questions, answers = [], {}
    for i in range(N):
        text = TEXTS[i % 2]
        truth = {"2": 6, "3": 4} if i % 2 == 0 else {"tennis": 8, "squash": 2}
        questions.append(OkvqaQuestion(100 + i, i, text))
        answers[100 + i] = OkvqaAnswers(100 + i, i, truth, category=i % 2)
    return questions, answers


def test_question_prefix():
    assert question_prefix("What's the man's T-shirt say?", 3) == "whats the mans"
    assert question_prefix("Why?", 3) == "why" and question_prefix("Why?", 0) == ""
    assert question_prefix("What kind of dog is this?", 4) == "what kind of dog"


def test_prior_backs_off_to_shorter_prefixes():
    qs, answers = _data()
    prior = AnswerPrior(max_words=3, min_support=3).fit((q.question, answers[q.question_id]) for q in qs)
    assert prior.predict("How many cats are there?") == ("2", 1.0, "how many")
    assert prior.predict("What sport is this?") == ("tennis", 1.0, "what sport is")
    answer, _, prefix = prior.predict("Where is this?")
    assert prefix == "" and answer in {"2", "tennis"}
    assert AnswerPrior().predict("anything") == (None, None, None)  # not fitted


def test_prior_chooses_the_highest_summed_official_accuracy():
    # "x" is the best answer of one question, "y" the second-best of three:
    # 0.6 * 3 for "y" beats 1.0 for "x"
    pairs = [("q one", OkvqaAnswers(1, 1, {"x": 4, "y": 2})), ("q two", OkvqaAnswers(2, 2, {"z": 4, "y": 2})),
             ("q three", OkvqaAnswers(3, 3, {"w": 4, "y": 2}))]
    prior = AnswerPrior(max_words=0).fit(pairs)
    assert prior.predict("q four")[:2] == ("y", pytest.approx(0.6))
    # an answer that normalises to nothing ("a": an article) is never chosen
    assert AnswerPrior(max_words=0).fit([("q", OkvqaAnswers(1, 1, {"a": 10}))]).predict("q") == (None, None, None)


def test_image_folds_are_balanced_seeded_and_complete():
    folds = image_folds(range(103), 5, seed=3)
    assert set(folds) == set(range(103))
    sizes = sorted(list(folds.values()).count(k) for k in range(5))
    assert sizes == [20, 20, 21, 21, 21]
    assert folds == image_folds(reversed(range(103)), 5, seed=3)
    assert folds != image_folds(range(103), 5, seed=4)
    with pytest.raises(ValueError):
        image_folds(range(3), 1)


class Recording:
    """A plug-in that records what it is given: the examples of every fit and the
    questions each fitted answerer is asked (answering "2" to everything)."""

    def __init__(self):
        self.fits = []
        self.asked = []

    def fit(self, examples):
        assert all(isinstance(e, TrainingExample) for e in examples)
        self.fits.append(list(examples))
        asked = []
        self.asked.append(asked)

        def answer(question, scene):
            asked.append((question, scene.id))
            return "2", None, None

        return answer


def test_plugins_never_receive_the_answers_of_the_questions_they_answer():
    qs, answers = _data()
    scenes = {i: detection_scene(i, ()) for i in range(N)}
    plugin = Recording()
    report = evaluate_okvqa(qs, answers, scenes, answerer=plugin, folds=3, seed=1)
    assert report["folds"] == 3 and report["questions"] == N
    fold_of = image_folds(range(N), 3, seed=1)
    assert len(plugin.fits) == 3
    answered = set()
    for examples, asked in zip(plugin.fits, plugin.asked):
        held = {image for _, image in asked}
        # the fit saw no question of the images it then answers, and every other one
        assert not held & {e.scene.id for e in examples}
        assert {e.question_id for e in examples} == {100 + i for i in range(N) if i not in held}
        assert {e.answers.question_id for e in examples} == {e.question_id for e in examples}
        assert len({fold_of[i] for i in held}) == 1  # one held-out fold per fit
        assert {e.fold for e in examples} == set(range(3)) - {fold_of[next(iter(held))]}
        answered |= held
    assert answered == set(range(N))
    # a fixed callable learns nothing: it is asked everything, once
    calls = []
    evaluate_okvqa(qs, answers, scenes, answerer=lambda q, s: calls.append(s.id) or ("2", None, None))
    assert sorted(calls) == list(range(N))


def test_cross_validated_prior_never_sees_the_question_it_answers():
    qs, answers = _data()
    # one question whose answer no other question has: cross-validated, it cannot be found
    qs.append(OkvqaQuestion(999, 99, "How many unicorns are there?"))
    answers[999] = OkvqaAnswers(999, 99, {"7": 10})
    lines = []

    class Sink:
        def write(self, text):
            lines.append(json.loads(text))

    evaluate_okvqa(qs, answers, {}, answerer=PriorPlugin(min_support=1), folds=3, seed=0,
                   predictions=Sink())
    assert lines[-1]["question_id"] == 999 and lines[-1]["answer"] == "2"
    # in-sample (fitted on every question, its own included) the prior would answer "7"
    in_sample = PriorPlugin(min_support=1).fit(
        [TrainingExample(q.question_id, q.question, detection_scene(q.image_id, ()), answers[q.question_id])
         for q in qs])
    assert in_sample.predict("How many unicorns are there?")[0] == "7"


def test_evaluate_with_prior_and_plugged_answerer():
    qs, answers = _data()
    scenes = {i: detection_scene(i, ()) for i in range(N)}
    report = evaluate_okvqa(qs, answers, scenes, folds=3)
    assert report["questions"] == N and report["accuracy"] == 1.0 and report["folds"] == 3
    assert report["by_knowledge_type"] is None and set(report["by_category"]) == {"0", "1"}

    calls = []

    def squash(question, scene):
        calls.append((question, scene.id))
        return "squash", ("squash", "is a", "sport"), 0.5

    lines = []

    class Sink:
        def write(self, text):
            lines.append(json.loads(text))

    report = evaluate_okvqa(qs, answers, scenes, answerer=squash, predictions=Sink())
    assert len(calls) == N and calls[1] == ("What sport is this?", 1)
    assert report["accuracy"] == pytest.approx(0.6 / 2)  # 0.6 on the sport half, 0 on the rest
    assert report["soft_accuracy"] == pytest.approx(2 / 3 / 2)
    assert lines[1] == {"question_id": 101, "answer": "squash", "fact": ["squash", "is a", "sport"],
                        "fact_source": None, "score": 0.5, "accuracy": pytest.approx(0.6)}

    with pytest.raises(TypeError, match="expected \\(answer, fact, score\\)"):
        evaluate_okvqa(qs, answers, scenes, answerer=lambda q, s: "tennis")


def test_answerer_lookup():
    assert {"prior", "kb", "kb-without-kb"} <= set(OKVQA_ANSWERERS.names())
    with pytest.raises(RegistryError, match="available: .*'prior'"):
        get_answerer("oracle")
    with pytest.raises(RegistryError, match="cannot load answerer factory"):
        get_answerer("nsreason.nothing:here")
    with pytest.raises(RegistryError, match="has no fit"):
        get_answerer("builtins:dict")
    made = get_answerer("nsreason.okvqa.answerer:PriorPlugin")
    assert isinstance(made, PriorPlugin)
    qs, answers = _data()
    report = evaluate_okvqa(qs, answers, {}, answerer="nsreason.okvqa.answerer:PriorPlugin", folds=3)
    assert report["accuracy"] == 1.0


def test_prior_from_another_file_and_missing_answers():
    qs, answers = _data()
    other = {1: OkvqaAnswers(1, 500, {"3": 10}, question="How many birds?")}
    report = evaluate_okvqa(qs, answers, {}, prior_from=other)
    # learned only from the other file: "3" everywhere (1.0 on the "how many" half, 0 on the rest)
    assert report["accuracy"] == pytest.approx(0.5)
    assert report["folds"] is None and report["images_without_detections"] == N
    with pytest.raises(InputError, match="question 100 has no answers"):
        evaluate_okvqa(qs, {}, {})
    # answers to learn from that hold an evaluated question are refused
    with pytest.raises(InputError, match="hold 1 of the evaluated questions"):
        evaluate_okvqa(qs, answers, {}, prior_from={**other, 100: answers[100]})


def _write_fixture(tmp_path):
    qs, answers = _data()
    (tmp_path / "q.json").write_text(json.dumps(
        {"questions": [{"image_id": q.image_id, "question": q.question, "question_id": q.question_id}
                       for q in qs]}))
    (tmp_path / "a.json").write_text(json.dumps([
        {"question_id": a.question_id, "img_id": f"COCO_train2014_{a.image_id:012d}", "class": a.category,
         "label": {k: (1 if n >= 4 else 0.667) for k, n in a.counts.items()}} for a in answers.values()]))
    (tmp_path / "detected_coco_objects.json").write_text(json.dumps({str(i): ["dog"] for i in range(N)}))
    (tmp_path / "detected_places.json").write_text(json.dumps({str(i): ["kennel/outdoor", "yard"] for i in range(N)}))
    (tmp_path / "m.json").write_text(json.dumps([
        {"image_id": q.image_id, "question": q.question, "question_id": q.question_id,
         "knowledge_type": ["kb", "common_sense"][q.question_id % 2], "question_is_unambiguous": True,
         "image_is_needed": True} for q in qs[:10]]))


def test_cli_eval_okvqa(tmp_path, capsys):
    _write_fixture(tmp_path)
    args = ["eval", "okvqa", "--questions", str(tmp_path / "q.json"), "--answers", str(tmp_path / "a.json"),
            "--detections", str(tmp_path / "detected_coco_objects.json"), str(tmp_path / "detected_places.json"),
            "--mavex", str(tmp_path / "m.json"), "--folds", "3", "--json",
            "--predictions", str(tmp_path / "p.jsonl")]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["questions"] == N and report["accuracy"] == 1.0
    assert report["qps"] == pytest.approx(N / report["answer_seconds"])
    assert {k: v["questions"] for k, v in report["by_knowledge_type"].items()} == {
        "kb": 5, "common_sense": 5, "unlabelled": N - 10}
    preds = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert [p["answer"] for p in preds[:2]] == ["2", "tennis"] and preds[0]["fact"] is None
    assert main(args[:-3]) == 0 and "by_knowledge_type" in capsys.readouterr().out
    (tmp_path / "m.json").write_text("[{}]")
    assert main(args) == 2
    assert "m.json: [0]: missing field 'question_id'" in capsys.readouterr().err


@pytest.mark.data
@pytest.mark.slow
def test_real_prior_baseline():
    root = shared_path("okvqa")
    report = evaluate_okvqa(
        root / "questions_train.json", root / "answers_train.json",
        [root / "detected_coco_objects.json", root / "detected_places.json"],
        mavex=root / "mavex_knowledge_type_train.json")
    assert report["questions"] == 9009 and report["images_without_detections"] == 0
    # an answer prior on OK-VQA is weak (the measured figure: docs/knowledge.md)
    assert 0.015 < report["accuracy"] < 0.05
    assert sum(v["questions"] for v in report["by_knowledge_type"].values()) == 9009
