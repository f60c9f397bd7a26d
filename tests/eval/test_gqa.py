"""``nsreason eval gqa`` on hand-written GQA-format questions over three real GQA val graphs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from nsreason.errors import InputError, RegistryError
from nsreason.eval.gqa import evaluate_gqa
from nsreason.program.gqa import program_from_gqa
from nsreason.scene.io import load_scenes
from tests.conftest import shared_path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SCENES = FIXTURES / "gqa_val_scene_graphs_3.json"
QUESTIONS = FIXTURES / "gqa_questions_hand.json"


def test_every_hand_written_question_is_answered_right():
    out = io.StringIO()
    report = evaluate_gqa(SCENES, QUESTIONS, predictions=out)
    questions = json.loads(QUESTIONS.read_text())
    assert report["failures"] == {}
    assert report["questions"] == len(questions) and report["accuracy"] == 1.0
    assert set(report["by_structural"]) == {"verify", "query", "choose", "logical", "compare"}
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert rows == [{"questionId": qid, "prediction": q["answer"]} for qid, q in questions.items()]


def test_a_wrong_gold_answer_counts_as_wrong():
    questions = json.loads(QUESTIONS.read_text())
    questions["h03"]["answer"] = "blue"  # the bag is yellow
    questions["h06"]["answer"] = "no"  # the lady does wear a hat
    report = evaluate_gqa(SCENES, questions)
    assert report["accuracy"] == pytest.approx(24 / 26)
    assert report["by_structural"]["query"]["accuracy"] == pytest.approx(7 / 8)


def test_failures_are_listed_by_reason_and_count_as_wrong():
    questions = json.loads(QUESTIONS.read_text())
    questions["x1"] = {**questions["h01"], "semantic": [
        {"operation": "select", "argument": "lamp (1)", "dependencies": []},
        {"operation": "select", "argument": "bag (2)", "dependencies": []},
        {"operation": "common", "argument": "", "dependencies": [0, 1]}]}
    questions["x2"] = {**questions["h01"], "imageId": "999"}
    questions["x3"] = {**questions["h22"], "semantic": [  # two train cars: not unique
        {"operation": "select", "argument": "train car (1)", "dependencies": []},
        {"operation": "query", "argument": "color", "dependencies": [0]}]}
    report = evaluate_gqa(SCENES, questions)
    assert report["failed"] == 3 and report["accuracy"] == pytest.approx(26 / 29)
    failures = report["failures"]
    assert failures["no scene graph for its imageId"] == ["x2"]
    assert failures["execution: not_unique"] == ["x3"]
    (conversion,) = [k for k in failures if k.startswith("conversion:")]
    assert "semantic[2].operation" in conversion and failures[conversion] == ["x1"]


def test_limit_and_typed_errors():
    assert evaluate_gqa(SCENES, QUESTIONS, limit=3)["questions"] == 3
    with pytest.raises(RegistryError, match="'tree' is not available for GQA yet.*'gold'"):
        evaluate_gqa(SCENES, QUESTIONS, parser="tree")
    with pytest.raises(RegistryError, match="unknown parser 'clevr'"):
        evaluate_gqa(SCENES, QUESTIONS, parser="clevr")
    with pytest.raises(InputError, match=r"q\.semantic"):
        evaluate_gqa(SCENES, {"q": {"imageId": "1", "answer": "no", "semantic": "select"}})


@pytest.mark.data
def test_every_object_of_the_100_shared_graphs_can_be_selected_and_queried():
    from nsreason.execute.symbolic import SymbolicExecutor

    ex = SymbolicExecutor()
    scenes = load_scenes(shared_path("gqa", "gqa_val_scene_graphs_100.json"))
    assert len(scenes) == 100
    checked = 0
    for scene in scenes:
        names = [o.name for o in scene.objects]
        for obj in scene.objects:
            select = {"operation": "select", "argument": f"{obj.name} ({obj.id})", "dependencies": []}
            exist = ex.execute(program_from_gqa([select, {"operation": "exist", "argument": "?",
                                                          "dependencies": [0]}]), scene)
            assert exist.value is True, (scene.id, obj.id)
            query = ex.execute(program_from_gqa([select, {"operation": "query", "argument": "name",
                                                          "dependencies": [0]}]), scene)
            if names.count(obj.name) == 1:
                assert query.value == obj.name, (scene.id, obj.id, query.failure)
            else:
                assert query.failure is not None and query.failure.code == "not_unique"
            checked += 1
    assert checked == 1580


@pytest.mark.slow
def test_the_default_parser_reads_the_question_text():
    pytest.importorskip("spacy")
    out = io.StringIO()
    report = evaluate_gqa(SCENES, QUESTIONS, parser="default", predictions=out)
    assert report["parser"] == "default" and report["failures"] == {}
    assert report["accuracy"] == 1.0
    # text only: no semantic programs needed
    questions = {k: {kk: v for kk, v in q.items() if kk != "semantic"}
                 for k, q in json.loads(QUESTIONS.read_text()).items()}
    assert evaluate_gqa(SCENES, questions, parser="default")["accuracy"] == 1.0
    with pytest.raises(InputError, match=r"q\.question"):
        evaluate_gqa(SCENES, {"q": {"imageId": "1", "answer": "no"}}, parser="default")


@pytest.mark.slow
def test_cli_eval_gqa_parser_default(tmp_path, capsys):
    pytest.importorskip("spacy")
    from nsreason.cli import main

    rows = tmp_path / "pred.jsonl"
    assert main(["eval", "gqa", "--scenes", str(SCENES), "--questions", str(QUESTIONS),
                 "--parser", "default", "--json", "--predictions", str(rows)]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] == 1.0
    assert len(rows.read_text().splitlines()) == len(json.loads(QUESTIONS.read_text()))
