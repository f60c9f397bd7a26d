"""Checks shared by the data set generator tests."""

from __future__ import annotations

from typing import Any

from nsreason.execute import SymbolicExecutor
from nsreason.execute.answer import answer_text
from nsreason.program import Program
from nsreason.scene import SceneGraph


def check_questions(questions: list[dict[str, Any]], scenes: list[SceneGraph]) -> None:
    """Every program validates and executes, without failure, to its answer."""
    by_index = {s.meta["image_index"]: s for s in scenes}
    ex = SymbolicExecutor()
    for q in questions:
        program = Program.from_clevr(q["program"]).validate()
        ans = ex.execute(program, by_index[q["image_index"]])
        assert ans.failure is None, (q["question"], ans.failure)
        assert answer_text(ans.value) == q["answer"], q["question"]
        steps = ans.trace.steps
        for step in steps:  # every unique is on exactly one object
            if step.op == "unique":
                assert len(steps[step.inputs[0]].output) == 1


def check_text(text: str) -> None:
    assert "<" not in text and ">" not in text and "[" not in text and "]" not in text, text
    assert "  " not in text and text == text.strip(), text
    assert text[0].isupper() and text.endswith("?"), text
    for a, b in zip(text.split(), text.split()[1:]):
        if a.lower() == "a":
            assert b[0].lower() not in "aeiou", text
        if a.lower() == "an":
            assert b[0].lower() in "aeiou", text  # "an Olympic ring colour"
