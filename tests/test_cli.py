"""The nsreason command: run, eval clevr, vocab; bad input exits 2 with a clear message."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from nsreason.cli import main
from nsreason.datasets.clevr import load_clevr_questions
from tests.conftest import EXAMPLES_DATA, REPO, shared_path

SCENES = str(EXAMPLES_DATA / "clevr_val_sample_scenes.json")
QUESTIONS = str(EXAMPLES_DATA / "clevr_val_sample_questions.json")
GENERATOR = str(EXAMPLES_DATA / "clevr_val_sample_questions_generator.json")


def test_run_prints_answer_and_trace(capsys):
    rc = main(["run", "--scene", SCENES, "--index", "1", "--program", "count(filter_color[red](scene()))"])
    out = capsys.readouterr().out
    assert rc == 0
    assert out.startswith("answer: 3\nprogram: count(filter_color[red](scene()))\n")
    assert "filter_color" in out and "red" in out


@pytest.mark.parametrize(
    "program",
    [
        "count(filter_color[red](scene()))",
        "count filter_color[red] scene",
        "scene filter_color[red] count",
        json.dumps(
            [
                {"function": "scene", "inputs": [], "value_inputs": []},
                {"function": "filter_color", "inputs": [0], "value_inputs": ["red"]},
                {"function": "count", "inputs": [1], "value_inputs": []},
            ]
        ),
    ],
)
def test_run_accepts_every_program_format(capsys, program):
    assert main(["run", "--scene", SCENES, "--index", "1", "--program", program, "--json"]) == 0
    trace = json.loads(capsys.readouterr().out)
    assert trace["answer"] == 3
    assert [s["op"] for s in trace["steps"]] == ["scene", "filter_color", "count"]


def test_run_program_from_file(tmp_path, capsys):
    f = tmp_path / "p.txt"
    f.write_text("exist(filter_shape[cube](scene()))\n")
    assert main(["run", "--scene", SCENES, "--program", f"@{f}"]) == 0
    assert capsys.readouterr().out.startswith("answer: yes\nprogram: exist(filter_shape[cube](scene()))\n")


def test_run_with_a_failing_step_exits_1_and_shows_it(capsys):
    rc = main(["run", "--scene", SCENES, "--index", "1", "--program", "query_shape(unique(filter_color[red](scene())))"])
    out = capsys.readouterr().out
    assert rc == 1
    assert out.startswith("failed: step 2: not_unique")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--scene", "/no/such/file.json", "--program", "count(scene())"], "file not found"),
        (["run", "--scene", SCENES, "--index", "9", "--program", "count(scene())"], "--index 9 is out of range"),
        (["run", "--scene", SCENES, "--program", "count(filter_color[reddish](scene()))"], "got 'reddish'"),
        (["run", "--scene", SCENES, "--program", "count(levitate(scene()))"], "unknown op 'levitate'"),
        (["run", "--scene", SCENES, "--program", "unique(count(scene()))"], "expected ObjectSet"),
        (["run", "--scene", SCENES, "--program", "count(scene()"], "column"),
        (["eval", "clevr", "--scenes", SCENES, "--questions", QUESTIONS, "--parser", "magic"], "unknown parser 'magic'"),
        (["run", "--scene", SCENES, "--program", "count(scene())", "--executor", "oracle"],
         "unknown executor 'oracle'; available: ["),
        (["ask", "--scene", SCENES, "--executor", "oracle", "How many things?"], "unknown executor 'oracle'"),
        (["eval", "clevr", "--scenes", SCENES, "--questions", QUESTIONS, "--executor", "oracle"],
         "unknown executor 'oracle'; available: ["),
        (["eval", "clevr", "--scenes", SCENES, "--questions", QUESTIONS, "--scene-format", "gqa"], SCENES),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("nsreason: error: ")
    assert message in err


def test_eval_json_and_predictions(tmp_path, capsys):
    preds = tmp_path / "preds.jsonl"
    argv = ["eval", "clevr", "--scenes", SCENES, "--questions", GENERATOR, "--parser", "gold", "--json",
            "--predictions", str(preds)]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["questions"] == 30
    assert report["accuracy"] == 1.0 and report["step_accuracy"] == 1.0 and report["failures"] == 0
    assert report["execute_qps"] == pytest.approx(30 / report["execute_seconds"])
    lines = [json.loads(line) for line in preds.read_text().splitlines()]
    assert len(lines) == 30
    assert set(lines[0]) == {"question_index", "image_index", "answer", "confidence", "program", "failure"}
    assert all(x["confidence"] is None for x in lines)  # the symbolic executor gives none
    assert report["executor"] == "symbolic" and "ece" not in report
    gold = load_clevr_questions(GENERATOR)
    assert [x["answer"] for x in lines] == [q.answer for q in gold]
    assert [x["program"] for x in lines] == [q.program.to_text() for q in gold]
    assert [x["question_index"] for x in lines] == [q.question_index for q in gold]
    assert all(x["failure"] is None for x in lines)


def test_eval_release_format_limit_and_no_trace(capsys):
    argv = ["eval", "clevr", "--scenes", SCENES, "--questions", QUESTIONS, "--limit", "7", "--no-trace", "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["questions"] == 7 and report["accuracy"] == 1.0 and report["step_accuracy"] is None


def test_eval_human_readable(capsys):
    assert main(["eval", "clevr", "--scenes", SCENES, "--questions", QUESTIONS]) == 0
    out = capsys.readouterr().out
    assert "accuracy: 1.0000" in out


def test_vocab_lists_ops(capsys):
    assert main(["vocab", "clevr"]) == 0
    out = capsys.readouterr().out
    assert "relate[relation: Relation](Object) -> ObjectSet" in out
    assert "equal_object(Object, Object) -> Bool" in out
    assert main(["vocab", "nope"]) == 2
    assert "available" in capsys.readouterr().err


def test_console_script_runs_as_a_process():
    proc = subprocess.run(
        [sys.executable, "-m", "nsreason.cli", "run", "--scene", SCENES, "--program", "count(scene())"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("answer: 3")


@pytest.mark.data
@pytest.mark.slow
def test_eval_on_shared_val_generator_is_exact(capsys):
    scenes = shared_path("clevr", "val", "CLEVR_val_scenes.json")
    questions = shared_path("clevr", "val", "CLEVR_val_questions_generator.json")
    assert main(["eval", "clevr", "--scenes", str(scenes), "--questions", str(questions), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["questions"], report["accuracy"], report["step_accuracy"]) == (5000, 1.0, 1.0)


@pytest.mark.slow
def test_train_finetune_on_answers_writes_a_checkpoint(tiny, tmp_path, capsys):
    pytest.importorskip("torch")
    from nsreason.parse.seq2seq import Seq2SeqParser

    out = tmp_path / "ft"
    rc = main(["train", "finetune", "--parser", str(tiny[0]),
               "--questions", str(EXAMPLES_DATA / "clevr_val_sample_questions.json"),
               "--scenes", SCENES, "--rounds", "1", "--epochs-per-round", "1", "--threads", "1",
               "--dev-fraction", "0.34", "--out", str(out)])
    assert rc == 0
    printed, err = capsys.readouterr()
    report = json.loads(printed)
    # the dev images' questions (34 % of the images) choose the round; the rest train
    train, dev = map(int, re.search(r"fine-tuning on (\d+) questions \((\d+) for choosing", err).groups())
    assert train + dev == 30 and dev > 0
    assert report["examples"] == train and report["rounds_run"] == 1
    parser = Seq2SeqParser.load(out)
    assert "answer_finetuning" in parser.model.config.training


@pytest.mark.slow
def test_train_finetune_names_a_missing_scene(tiny, tmp_path, capsys):
    pytest.importorskip("torch")
    scenes = json.loads((EXAMPLES_DATA / "clevr_val_sample_scenes.json").read_text())
    scenes["scenes"] = scenes["scenes"][:1]
    one = tmp_path / "one.json"
    one.write_text(json.dumps(scenes))
    rc = main(["train", "finetune", "--parser", str(tiny[0]),
               "--questions", str(EXAMPLES_DATA / "clevr_val_sample_questions.json"),
               "--scenes", str(one), "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert rc == 2 and "no scene with image_index" in err and "questions[" in err


# -- --executor, confidences, --scenes in any format --------------------------------------

def test_executor_help_lists_the_registered_executors(capsys, monkeypatch, test_executors):
    monkeypatch.setenv("COLUMNS", "400")  # no line breaks inside names
    for argv in (["run", "--help"], ["ask", "--help"], ["eval", "clevr", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        out = " ".join(capsys.readouterr().out.split())
        assert "--executor EXECUTOR" in out and "confident-test, neural, one-by-one-test, symbolic" in out


def test_run_with_another_executor_shows_its_confidence(capsys, test_executors):
    argv = ["run", "--scene", SCENES, "--index", "1", "--program", "count(filter_color[red](scene()))"]
    assert main([*argv, "--executor", "confident-test"]) == 0
    assert capsys.readouterr().out.startswith("answer: 3 (p=0.80)\n")
    assert main([*argv, "--executor", "confident-test", "--json"]) == 0
    trace = json.loads(capsys.readouterr().out)
    assert trace["confidence"] == 0.8 and trace["answer"] == 3
    assert main([*argv, "--executor", "symbolic", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["confidence"] is None


def test_eval_with_another_executor_writes_confidences_and_calibration(tmp_path, capsys, test_executors):
    preds = tmp_path / "preds.jsonl"
    argv = ["eval", "clevr", "--scenes", SCENES, "--questions", GENERATOR, "--executor", "confident-test",
            "--json", "--predictions", str(preds)]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["executor"] == "confident-test" and report["accuracy"] == 1.0
    assert report["ece"] == pytest.approx(0.2) and report["mean_confidence"] == pytest.approx(0.8)
    assert test_executors[0].batches == [30]  # gold programs in one execute_many batch
    lines = [json.loads(line) for line in preds.read_text().splitlines()]
    assert len(lines) == 30 and all(x["confidence"] == 0.8 for x in lines)
    assert main(argv[:-3]) == 0  # the text report shows the calibration too
    out = capsys.readouterr().out
    assert re.search(r"ece: 0\.2000", out) and re.search(r"mean_confidence: 0\.8000", out)


def test_eval_reads_native_scenes_and_names_a_missing_one(tmp_path, capsys):
    from nsreason.scene import load_clevr_scenes, save_native_scenes

    scenes = load_clevr_scenes(SCENES)
    for s in scenes:
        s.id = str(s.id)
    native = save_native_scenes(scenes, tmp_path / "native.json")
    for fmt in ("auto", "native"):
        argv = ["eval", "clevr", "--scenes", str(native), "--scene-format", fmt, "--questions", GENERATOR, "--json"]
        assert main(argv) == 0
        assert json.loads(capsys.readouterr().out)["accuracy"] == 1.0
    missing = save_native_scenes(scenes[1:], tmp_path / "missing.json")
    assert main(["eval", "clevr", "--scenes", str(missing), "--questions", GENERATOR]) == 2
    err = capsys.readouterr().err
    assert f"no scene with image_index {scenes[0].id} in {missing}" in err and ".image_index" in err


GQA_SCENES = str(REPO / "tests" / "fixtures" / "gqa_val_scene_graphs_3.json")
GQA_QUESTIONS = str(REPO / "tests" / "fixtures" / "gqa_questions_hand.json")


def test_eval_gqa_json_and_prediction_rows(tmp_path, capsys):
    preds = tmp_path / "preds.jsonl"
    argv = ["eval", "gqa", "--scenes", GQA_SCENES, "--questions", GQA_QUESTIONS, "--parser", "gold",
            "--json", "--predictions", str(preds), "--limit", "5"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["questions"] == 5 and report["accuracy"] == 1.0
    rows = [json.loads(line) for line in preds.read_text().splitlines()]
    assert [set(r) for r in rows] == [{"questionId", "prediction"}] * 5
    assert main(["eval", "gqa", "--scenes", GQA_SCENES, "--questions", GQA_QUESTIONS]) == 0
    assert "by_structural:" in capsys.readouterr().out


def test_eval_gqa_names_the_parsers_not_available_yet(capsys):
    argv = ["eval", "gqa", "--scenes", GQA_SCENES, "--questions", GQA_QUESTIONS, "--parser", "tree"]
    assert main(argv) == 2
    assert "parser 'tree' is not available for GQA yet" in capsys.readouterr().err


REFPLUS_SCENES = str(REPO / "tests" / "fixtures" / "clevr_refplus_scenes_small.json")
REFPLUS_REFEXPS = str(REPO / "tests" / "fixtures" / "clevr_refplus_refexps_small.json")


def test_ground_prints_objects_scores_and_trace(capsys):
    program = 'filter_ordinal["the first one of the", "from left"](filter_visible["fully visible"](scene()))'
    rc = main(["ground", "--scene", REFPLUS_SCENES, "--index", "0", "--program", program, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and len(out["objects"]) == 1 and out["failure"] is None
    assert [k for k, v in out["scores"].items() if v == 1.0] == [str(out["objects"][0])]
    assert [s["op"] for s in out["trace"]["steps"]] == ["scene", "filter_visible", "filter_ordinal"]


def test_ground_text_with_the_program_parser_and_counting_programs(capsys):
    pytest.importorskip("torch")
    rc = main(["ground", "--scene", REFPLUS_SCENES, "--index", "0", "--json", "The first one of the thing(s) from left"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and len(out["objects"]) == 1 and out["failure"] is None
    assert out["trace"]["parse"]["output"] == 'filter_ordinal["the first one of the","from left"](scene())'
    assert main(["ground", "--scene", REFPLUS_SCENES]) == 2  # neither text nor program
    assert "give the expression" in capsys.readouterr().err
    assert main(["ground", "--scene", REFPLUS_SCENES, "--program", "count(scene())"]) == 2
    assert "Object or an ObjectSet" in capsys.readouterr().err


@pytest.mark.slow
def test_ground_text_with_the_tree_parser_draws_the_tree(capsys):
    pytest.importorskip("torch")
    pytest.importorskip("spacy")
    rc = main(["ground", "--scene", REFPLUS_SCENES, "--index", "0", "--parser", "tree",
               "--text", "The second one of the thing(s) from left"])
    out = capsys.readouterr().out
    assert rc == 0 and out.startswith("objects: ") and "tree_ground" in out
    assert "  ordinal[2] 'the second one of the things from left' (from left)" in out
    rc = main(["ground", "--scene", REFPLUS_SCENES, "--parser", "tree", "--json", "The crimson thing(s)"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 1 and out["failure"]["code"] == "unknown_word" and "'crimson'" in out["failure"]["reason"]


def test_eval_refexp_json_and_predictions(tmp_path, capsys):
    pred = tmp_path / "p.jsonl"
    rc = main(["eval", "refexp", "--scenes", REFPLUS_SCENES, "--refexps", REFPLUS_REFEXPS, "--json",
               "--predictions", str(pred), "--limit", "5"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["refexps"] == 5 and report["accuracy"] == 1.0
    rows = [json.loads(line) for line in pred.read_text().splitlines()]
    assert len(rows) == 5 and set(rows[0]) == {"refexp_index", "objects", "scores"}
    assert main(["eval", "refexp", "--scenes", REFPLUS_SCENES, "--refexps", REFPLUS_REFEXPS]) == 0
    assert "by_family:" in capsys.readouterr().out
    assert main(["eval", "refexp", "--scenes", REFPLUS_SCENES, "--refexps", REFPLUS_REFEXPS,
                 "--parser", "default", "--images", "even", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["images"] == "even" and report["refexps"] == 18 and report["accuracy"] >= 0.9
    assert main(["eval", "refexp", "--scenes", REFPLUS_SCENES, "--refexps", REFPLUS_REFEXPS,
                 "--parser", "default", "--images", "odd", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["refexps"] == 0  # the fixture's images are even
    assert report["program_accuracy"] is not None


def test_run_html_writes_one_self_contained_page(tmp_path, capsys):
    page = tmp_path / "trace.html"
    rc = main(["run", "--scene", SCENES, "--index", "1", "--program", "count(filter_color[red](scene()))",
               "--html", str(page)])
    assert rc == 0 and capsys.readouterr().out.startswith("answer: 3")
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.count("data-object=") == 8
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?https?:|@import|url\(\s*[\"']?https?:", text)


def test_ask_html_unwritable_file_is_an_input_error(tmp_path, capsys):
    rc = main(["run", "--scene", SCENES, "--program", "count(scene())", "--html", str(tmp_path / "no" / "a.html")])
    assert rc == 2 and "cannot write the page" in capsys.readouterr().err
