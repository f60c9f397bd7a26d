"""``nsreason eval refexp`` and ``Reasoner.ground`` on CLEVR-Ref+ expressions: the fixture
(a few val expressions and their scenes) and, marked ``data``, the whole shared val file."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from nsreason.errors import InputError, ProgramTypeError, RegistryError
from nsreason.eval.refexp import evaluate_refexp
from tests.conftest import shared_path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SCENES = FIXTURES / "clevr_refplus_scenes_small.json"
REFEXPS = FIXTURES / "clevr_refplus_refexps_small.json"


def test_gold_programs_ground_every_fixture_expression_exactly():
    out = io.StringIO()
    report = evaluate_refexp(SCENES, REFEXPS, predictions=out)
    raw = json.loads(REFEXPS.read_text())["refexps"]
    assert report["refexps"] == len(raw) and report["accuracy"] == 1.0 and report["failures"] == 0
    assert report["step_accuracy"] == 1.0 and report["steps"] == sum(len(r["program"]) for r in raw)
    assert sum(f["refexps"] for f in report["by_family"].values()) == len(raw)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["refexp_index"] for r in rows] == [r["refexp_index"] for r in raw]
    for row, r in zip(rows, raw):
        assert row["objects"] == sorted(r["program"][-1]["_output"])
        assert {k for k, v in row["scores"].items() if v == 1.0} == {str(j) for j in row["objects"]}


def test_a_wrong_program_counts_as_wrong(tmp_path):
    data = json.loads(REFEXPS.read_text())
    first = data["refexps"][0]
    first["program"][-1]["_output"] = [99]  # the referred set no longer matches
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"refexps": [first]}))
    report = evaluate_refexp(SCENES, path)
    assert report["accuracy"] == 0.0 and report["correct"] == 0


def test_an_unknown_parser_is_a_registry_error():
    with pytest.raises(RegistryError):
        evaluate_refexp(SCENES, REFEXPS, parser="oracle")


def test_a_program_that_does_not_name_objects_is_refused(tmp_path):
    data = {"refexps": [{"image_index": 0, "refexp": "how many", "program": [
        {"type": "scene", "inputs": [], "value_inputs": []},
        {"type": "count", "inputs": [0], "value_inputs": []}]}]}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match="Object or an ObjectSet") as err:
        evaluate_refexp(SCENES, path)
    assert err.value.path == "refexps[0].program" and err.value.source == str(path)


@pytest.mark.slow  # the parser, spaCy and the checking tree grounder load
def test_reasoner_grounds_programs_and_text():
    pytest.importorskip("torch")
    from nsreason.api import Reasoner
    from nsreason.datasets.clevr.refexps import load_refexps
    from nsreason.program import Program
    from nsreason.scene.clevr import load_clevr_scenes

    scenes = {s.id: s for s in load_clevr_scenes(SCENES)}
    reasoner = Reasoner()
    for r in load_refexps(REFEXPS):
        g = reasoner.ground(scenes[r.image_index], r.program)
        assert g.ok and g.objects == r.objects and g.trace is not None
        assert set(g.scores) == {o.id for o in scenes[r.image_index].objects}
    scene = scenes[0]
    texts = [r.text for r in load_refexps(REFEXPS)]
    grounded = reasoner.ground_many([(scenes[r.image_index], r.text) for r in load_refexps(REFEXPS)], trace=True)
    right = [g.ok and g.objects == r.objects for g, r in zip(grounded, load_refexps(REFEXPS))]
    assert sum(right) >= len(texts) - 1  # the shipped parser reads CLEVR-Ref+ expressions
    parse = grounded[0].trace.parse
    assert parse is not None and parse.args == (texts[0],) and parse.output == grounded[0].program.to_text()
    g = reasoner.ground(scene, "How many cubes are there?")  # a question names no objects
    assert not g.ok and "question" in g.failure.reason and g.objects == []
    with pytest.raises(ProgramTypeError):
        reasoner.ground(scene, Program.from_text("count(scene())"))


@pytest.mark.slow
def test_the_tree_grounder_checks_the_parsers_program_and_picks_the_candidate_it_agrees_with():
    pytest.importorskip("torch")
    pytest.importorskip("spacy")
    from nsreason.api import Reasoner, verify_grounding
    from nsreason.datasets.clevr.refexps import load_refexps
    from nsreason.parse.base import Alternative, ParseResult
    from nsreason.parse.tree import TreeGrounder
    from nsreason.program import Program
    from nsreason.scene.clevr import load_clevr_scenes

    scenes = {s.id: s for s in load_clevr_scenes(SCENES)}
    r = next(r for r in load_refexps(REFEXPS) if r.text.startswith("Any other things that are the same size"))
    scene = scenes[r.image_index]
    wrong = Program.from_text("scene()")  # every object: not what the expression names
    parsed = ParseResult(r.text, wrong, 0.6, [Alternative(wrong, 0.6), Alternative(r.program, 0.3)])
    reasoner = Reasoner(verifier=TreeGrounder.load())
    g = reasoner.ground_parsed(scene, parsed)
    assert g.ok and g.objects == r.objects and g.program == r.program  # switched to the agreeing candidate
    verified = g.trace.parse.details["verified"]
    assert verified["by"] == "tree" and verified["agreed"] is False and verified["replaced"] == "scene()"
    assert verified["objects"] == r.objects
    alone = Reasoner(verifier=None).ground_parsed(scene, parsed)
    assert alone.program == wrong and "verified" not in alone.trace.parse.details
    # the right program first: the check agrees and nothing changes
    right = ParseResult(r.text, r.program, 0.6, [Alternative(r.program, 0.6), Alternative(wrong, 0.3)])
    g = reasoner.ground_parsed(scene, right)
    assert g.program == r.program and g.trace.parse.details["verified"]["agreed"] is True
    # a word the tree grounder does not know: it cannot check, and the parser's program stays
    odd = ParseResult("the blorptastic things", wrong, 0.6, [Alternative(wrong, 0.6), Alternative(r.program, 0.3)])
    answer = reasoner.executor.execute(wrong, scene, trace=True)
    kept, used, record = verify_grounding(reasoner._tree_verifier(), scene, odd, answer, None,
                                          lambda p: reasoner.executor.execute(p, scene, trace=True))
    assert kept is answer and used is None and record["failure"]["code"] == "unknown_word"


@pytest.mark.slow
def test_tree_parser_grounds_the_fixture_from_words():
    pytest.importorskip("torch")
    pytest.importorskip("spacy")
    out = io.StringIO()
    report = evaluate_refexp(SCENES, REFEXPS, parser="tree", predictions=out)
    raw = json.loads(REFEXPS.read_text())["refexps"]
    assert report["parser"] == "tree" and report["refexps"] == len(raw) and report["accuracy"] >= 17 / 18
    assert sum(f["refexps"] for f in report["by_family"].values()) == len(raw)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["refexp_index"] for r in rows] == [r["refexp_index"] for r in raw]
    for row in rows:
        assert all(0.0 <= v <= 1.0 for v in row["scores"].values())
        assert {k for k, v in row["scores"].items() if v >= 0.5} == {str(j) for j in row["objects"]}


@pytest.mark.slow
def test_reasoner_with_the_tree_parser_grounds_text():
    pytest.importorskip("torch")
    pytest.importorskip("spacy")
    from nsreason.api import Reasoner
    from nsreason.scene.clevr import load_clevr_scenes

    scene = {s.id: s for s in load_clevr_scenes(SCENES)}[0]
    reasoner = Reasoner(parser="tree")
    g = reasoner.ground(scene, "Any other things that are the same size as the second one of the thing(s) from left")
    assert g.ok and g.trace is not None and g.trace.steps[0].op == "tree_ground"
    assert g.objects == [1]
    assert "compose 'the same size as" in g.trace.render_text()
    assert not reasoner.ask(scene, "How many cubes?").ok  # it grounds expressions, it answers no question


def test_neural_executor_grounds_the_fixture():
    pytest.importorskip("torch")
    out = io.StringIO()
    report = evaluate_refexp(SCENES, REFEXPS, executor="neural", predictions=out)
    assert report["accuracy"] == 1.0 and report["step_accuracy"] is None
    for line in out.getvalue().splitlines():
        row = json.loads(line)
        assert all(0.0 <= v <= 1.0 for v in row["scores"].values())
        assert all(row["scores"][str(j)] >= 0.5 for j in row["objects"])


@pytest.mark.data
def test_shared_val_expressions_all_ground_exactly_with_gold_programs():
    report = evaluate_refexp(shared_path("clevr-ref+", "CLEVR-Ref+_val_scenes.json"),
                             shared_path("clevr-ref+", "CLEVR-Ref+_val_refexps.json"))
    assert report["refexps"] == 2959 and report["accuracy"] == 1.0
    assert report["step_accuracy"] == 1.0 and report["steps"] == 22030
