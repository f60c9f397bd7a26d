"""Reasoner.ask = parse + validate + execute, one trace with the parse first."""

from __future__ import annotations

import json

import pytest

from nsreason.api import Reasoner
from nsreason.cli import main
from nsreason.scene import load_clevr_scenes
from nsreason.trace import Trace
from tests.conftest import EXAMPLES_DATA

pytest.importorskip("torch")

SCENES = EXAMPLES_DATA / "clevr_val_sample_scenes.json"


@pytest.fixture
def reasoner(tiny):
    from nsreason.parse.seq2seq import Seq2SeqParser

    return Reasoner(Seq2SeqParser.load(tiny[0], min_confidence=0.0))


def test_ask_answers_with_the_parse_as_first_trace_step(reasoner, tiny):
    _, _, qs = tiny
    scenes = {s.id: s for s in load_clevr_scenes(SCENES)}
    q = qs[0]
    answer = reasoner.ask(scenes[q.image_index], q.question)
    parse = answer.trace.parse
    assert parse.op == "parse" and parse.index == -1 and parse.args == (q.question,)
    assert parse.output == answer.program.to_text() == answer.trace.program
    assert 0 < parse.details["score"] <= 1 and parse.details["alternatives"]
    assert answer.trace.render_text().splitlines()[3].lstrip().startswith("-  parse")
    back = Trace.from_json(answer.trace.to_json())
    assert back == answer.trace and back.parse.op == "parse"


def test_ask_many_matches_ask(reasoner, tiny):
    _, _, qs = tiny
    scenes = {s.id: s for s in load_clevr_scenes(SCENES)}
    items = [(scenes[q.image_index], q.question) for q in qs[:6]]
    many = reasoner.ask_many(items)
    assert [a.value for a in many] == [reasoner.ask(s, q).value for s, q in items]


def test_unparsable_question_is_an_answer_with_a_failure(reasoner):
    scene = load_clevr_scenes(SCENES)[0]
    answer = reasoner.ask(scene, "zork blorp quux")
    assert not answer.ok and answer.value is None and answer.program is None
    assert answer.failure.code == "could_not_parse"
    assert answer.trace.parse.status == "failed" and answer.trace.steps == []
    assert answer.trace.render_text().startswith("failed: could_not_parse")


def test_cli_ask_with_a_checkpoint_folder(tiny, capsys):
    out, _, qs = tiny
    rc = main(["ask", "--scene", str(SCENES), "--parser", str(out), "--json", qs[0].question])
    trace = json.loads(capsys.readouterr().out)
    assert rc in (0, 1)
    assert list(trace)[:2] == ["schema", "parse"] and trace["parse"]["op"] == "parse"


def test_unknown_parser_lists_the_registered_ones():
    from nsreason.errors import RegistryError

    with pytest.raises(RegistryError, match="available: .*clevr"):
        Reasoner("no-such-parser")


def test_eval_with_a_parser_reports_program_accuracy_and_parse_speed(tiny, tmp_path, capsys):
    out, _, _ = tiny
    preds = tmp_path / "p.jsonl"
    argv = ["eval", "clevr", "--scenes", str(SCENES), "--questions",
            str(EXAMPLES_DATA / "clevr_val_sample_questions.json"), "--parser", str(out), "--json",
            "--predictions", str(preds)]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["questions"] == 30 and 0 <= report["program_accuracy"] <= 1
    assert report["parse_qps"] > 0 and report["step_accuracy"] is None
    lines = [json.loads(x) for x in preds.read_text().splitlines()]
    assert [x["question_index"] for x in lines] == list(range(30))  # one line per question, in order


def test_eval_answers_only_questions(tiny, tmp_path, capsys):
    out, _, qs = tiny
    data = json.loads((EXAMPLES_DATA / "clevr_val_sample_questions.json").read_text())
    for q in data["questions"]:
        del q["program"]  # like CLEVR-Humans: answers only
    f = tmp_path / "humans_like.json"
    f.write_text(json.dumps(data))
    assert main(["eval", "clevr", "--scenes", str(SCENES), "--questions", str(f), "--parser", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["program_accuracy"] is None and report["questions"] == 30
    assert main(["eval", "clevr", "--scenes", str(SCENES), "--questions", str(f), "--json"]) == 2
    assert "needs programs" in capsys.readouterr().err
