"""Reasoner.ask = parse + validate + execute, one trace with the parse first."""

from __future__ import annotations

import json

import pytest

from nsreason.api import Reasoner
from nsreason.cli import main
from nsreason.datasets.clevr import load_clevr_questions
from nsreason.program import Program
from nsreason.scene import load_clevr_scenes
from nsreason.trace import Trace
from tests.conftest import EXAMPLES_DATA

pytest.importorskip("torch")

SCENES = EXAMPLES_DATA / "clevr_val_sample_scenes.json"


@pytest.fixture
def reasoner(tiny):
    from nsreason.parse.seq2seq import Seq2SeqParser

    return Reasoner(Seq2SeqParser.load(tiny[0], min_confidence=0.0))


@pytest.mark.slow
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


@pytest.mark.slow
def test_ask_many_matches_ask(reasoner, tiny):
    _, _, qs = tiny
    scenes = {s.id: s for s in load_clevr_scenes(SCENES)}
    items = [(scenes[q.image_index], q.question) for q in qs[:6]]
    many = reasoner.ask_many(items)
    assert [a.value for a in many] == [reasoner.ask(s, q).value for s, q in items]


@pytest.mark.slow
def test_unparsable_question_is_an_answer_with_a_failure(reasoner):
    scene = load_clevr_scenes(SCENES)[0]
    answer = reasoner.ask(scene, "zork blorp quux")
    assert not answer.ok and answer.value is None and answer.program is None
    assert answer.failure.code == "could_not_parse"
    assert answer.trace.parse.status == "failed" and answer.trace.steps == []
    assert answer.trace.render_text().startswith("failed: could_not_parse")


@pytest.mark.slow
def test_cli_ask_with_a_checkpoint_folder(tiny, capsys):
    out, _, qs = tiny
    rc = main(["ask", "--scene", str(SCENES), "--parser", str(out), "--json", qs[0].question])
    trace = json.loads(capsys.readouterr().out)
    assert rc == (0 if trace["failure"] is None else 1)  # 1: the answer is a failure
    assert list(trace)[:2] == ["schema", "parse"] and trace["parse"]["op"] == "parse"


def test_unknown_parser_lists_the_registered_ones():
    from nsreason.errors import RegistryError

    with pytest.raises(RegistryError, match="available: .*clevr"):
        Reasoner("no-such-parser")


@pytest.mark.slow
def test_eval_with_a_parser_reports_program_accuracy_and_parse_speed(tiny, tmp_path, capsys):
    out, _, _ = tiny
    preds = tmp_path / "p.jsonl"
    argv = ["eval", "clevr", "--scenes", str(SCENES), "--questions",
            str(EXAMPLES_DATA / "clevr_val_sample_questions.json"), "--parser", str(out), "--json",
            "--predictions", str(preds)]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["questions"] == 30 and report["step_accuracy"] is None
    assert report["parse_qps"] == pytest.approx(30 / report["parse_seconds"])
    lines = [json.loads(x) for x in preds.read_text().splitlines()]
    assert [x["question_index"] for x in lines] == list(range(30))  # one line per question, in order
    # the figures are those of the programs and answers written, question by question
    gold = load_clevr_questions(EXAMPLES_DATA / "clevr_val_sample_questions.json")
    same = [x["program"] is not None and Program.from_text(x["program"]).canonical() == q.program.canonical()
            for x, q in zip(lines, gold)]
    assert report["program_accuracy"] == sum(same) / 30
    assert report["correct"] == sum(x["answer"] == q.answer for x, q in zip(lines, gold))


@pytest.mark.slow
def test_eval_answers_only_questions(tiny, tmp_path, capsys):
    out, _, _qs = tiny
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


class RankedParser:
    """A parser that knows a few questions by heart, with ranked candidate programs (a
    real, if small, implementation of the Parser protocol)."""

    name = "ranked"

    def __init__(self, table: dict[str, list[tuple[str, float]]], wider: list[tuple[str, float]] = ()):
        self.table, self.wider = table, list(wider)

    def parse(self, question: str):
        return self.parse_batch([question])[0]

    def parse_batch(self, questions, beam: int = 5):
        from nsreason.parse.base import Alternative, ParseResult
        from nsreason.program import Program

        out = []
        for q in questions:
            ranked = self.table[q] + (self.wider if beam > 5 else [])
            alts = [Alternative(Program.from_text(t, "clevr"), s) for t, s in ranked]
            out.append(ParseResult(q, alts[0].program, alts[0].score, alts[: beam]))
        return out


def test_a_program_that_fails_on_the_scene_gives_way_to_the_next_alternative(four_objects):
    q = "What color is the cube?"  # two cubes: "the cube" is not unique here
    parser = RankedParser({q: [("query_color(unique(filter_shape[cube](scene())))", 0.6),
                               ("query_color(unique(filter_size[large](filter_shape[cube](scene()))))", 0.3)]})
    answer = Reasoner(parser).ask(four_objects, q)
    assert answer.ok and answer.text == "red"
    parse = answer.trace.parse
    assert parse.output == answer.program.to_text() == (
        "query_color(unique(filter_size[large](filter_shape[cube](scene()))))")
    assert parse.details["score"] == 0.3 and parse.details["parser_score"] == 0.6
    assert parse.details["parser_choice"] == "query_color(unique(filter_shape[cube](scene())))"
    assert [r["failure"]["code"] for r in parse.details["rejected"]] == ["not_unique"]
    back = Trace.from_json(answer.trace.to_json())
    assert back.parse.details["rejected"] == parse.details["rejected"]


def test_wider_search_only_when_every_alternative_fails(four_objects):
    q = "What color is the cube?"
    failing = [("query_color(unique(filter_shape[cube](scene())))", 0.6),
               ("query_color(unique(filter_material[metal](scene())))", 0.3)]
    wider = [("query_color(unique(filter_color[green](scene())))", 0.05)]
    answer = Reasoner(RankedParser({q: failing}, wider)).ask(four_objects, q)
    assert answer.text == "green" and len(answer.trace.parse.details["rejected"]) == 2
    none = Reasoner(RankedParser({q: failing}, wider), fallback_beam=0).ask(four_objects, q)
    assert not none.ok and none.failure.code == "not_unique"
    assert len(none.trace.parse.details["rejected"]) == 2
    assert none.trace.parse.output == failing[0][0]  # the parser's choice, which failed


@pytest.mark.parametrize("trace", [True, False])
def test_evaluation_runs_the_first_alternative_that_works(tmp_path, trace):
    from nsreason.eval.clevr import evaluate_clevr

    q = "What color is the sphere?"  # scene 0 of the sample has two spheres
    parser = RankedParser({q: [("query_color(unique(filter_shape[sphere](scene())))", 0.7),
                               ("query_color(unique(filter_size[large](filter_shape[sphere](scene()))))", 0.2)]})
    questions = tmp_path / "q.json"
    questions.write_text(json.dumps({"questions": [
        {"image_index": 0, "question": q, "answer": "cyan", "question_index": 0}]}))
    preds = tmp_path / "p.jsonl"
    with preds.open("w") as fh:
        report = evaluate_clevr(SCENES, questions, parser=parser, trace=trace, predictions=fh)
    assert report["accuracy"] == 1.0 and report["fallbacks"] == 1 and report["failures"] == 0
    line = json.loads(preds.read_text())
    assert line["answer"] == "cyan" and "filter_size[large]" in line["program"]
    off = evaluate_clevr(SCENES, questions, parser=parser, trace=trace, fallback_beam=0)
    assert off["accuracy"] == 1.0  # the listed alternatives are still tried


# -- executors by name ----------------------------------------------------------------------

def test_reasoner_takes_an_executor_by_name_or_instance(four_objects, test_executors):
    from nsreason.errors import RegistryError
    from nsreason.execute import SymbolicExecutor
    from tests.execute.confident import ConfidentExecutor

    q = "What color is the large cube?"
    parser = RankedParser({q: [("query_color(unique(filter_size[large](filter_shape[cube](scene()))))", 0.9)]})
    assert type(Reasoner(parser).executor) is SymbolicExecutor
    assert Reasoner(parser).ask(four_objects, q).confidence is None
    named = Reasoner(parser, executor="confident-test")
    assert named.executor is test_executors[0]
    answer = named.ask(four_objects, q)
    assert (answer.text, answer.confidence, answer.trace.confidence) == ("red", 0.8, 0.8)
    assert answer.trace.render_text().startswith("answer: red (p=0.80)")
    given = ConfidentExecutor(0.3)
    assert Reasoner(parser, executor=given).executor is given
    with pytest.raises(RegistryError, match=r"unknown executor 'oracle'; available: \[.*'symbolic'"):
        Reasoner(parser, executor="oracle")


def test_ask_many_batches_first_programs_and_falls_back_one_by_one(four_objects, test_executors):
    """With execute_many, the parsed programs run in one batch; a program that fails on its
    scene gives way to its alternatives (run one by one), as ask does."""
    fails = "What color is the cube?"  # two cubes
    fine = "How many red things are there?"
    parser = RankedParser({
        fails: [("query_color(unique(filter_shape[cube](scene())))", 0.6),
                ("query_color(unique(filter_size[large](filter_shape[cube](scene()))))", 0.3)],
        fine: [("count(filter_color[red](scene()))", 0.9)],
    })
    reasoner = Reasoner(parser, executor="confident-test")
    items = [(four_objects, fails), (four_objects, fine), (four_objects, fine)]
    many = reasoner.ask_many(items, trace=True)
    executor = test_executors[0]
    assert executor.batches == [3] and executor.single == 1  # one alternative, run alone
    assert [a.text for a in many] == ["red", "2", "2"]
    assert [a.confidence for a in many] == [0.8, 0.8, 0.8]
    assert many[0].trace.parse.details["rejected"][0]["failure"]["code"] == "not_unique"
    symbolic = Reasoner(parser).ask_many(items, trace=True)
    assert [a.text for a in symbolic] == [a.text for a in many]
    assert [a.program.to_text() for a in symbolic] == [a.program.to_text() for a in many]
