"""The GQA-format question generator: GQA's own format, answers that the gold programs
give, only unambiguous questions; on three real GQA val graphs (in the repository)."""

from __future__ import annotations

import json
from pathlib import Path

from nsreason.datasets.gqa.generate import KINDS, generate, main, plural
from nsreason.eval.gqa import evaluate_gqa, load_gqa_questions

SCENES = Path(__file__).resolve().parents[1] / "fixtures" / "gqa_val_scene_graphs_3.json"


def test_generated_questions_are_gqa_format_and_their_gold_programs_give_the_answers():
    questions = generate(SCENES, per_kind=3, seed=0)
    assert questions and set(load_gqa_questions(questions)) == set(questions)
    assert {q["kind"] for q in questions.values()} <= set(KINDS)
    assert len({q["kind"] for q in questions.values()}) >= 5
    for q in questions.values():
        assert q["question"].endswith("?") and q["types"]["detailed"]
    report = evaluate_gqa(SCENES, questions)
    assert report["accuracy"] == 1.0 and report["failures"] == {}
    assert generate(SCENES, per_kind=3, seed=0) == questions  # deterministic


def test_cli_writes_the_file(tmp_path, capsys):
    out = tmp_path / "q.json"
    assert main(["--scenes", str(SCENES), "--graphs", "0:2", "--per-kind", "1", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert {q["imageId"] for q in data.values()} <= set(list(json.loads(SCENES.read_text()))[:2])
    assert "wrote" in capsys.readouterr().out


def test_plural():
    assert [plural(w) for w in ("glass", "lady", "man", "jeans")] == ["glasses", "ladies", "men", "jeans"]
