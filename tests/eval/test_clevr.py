"""On CLEVR, the executor reproduces the official question engine: every answer and every
intermediate step (the generator's ``_output``) of sets made by the official generator."""

from __future__ import annotations

import pytest

from nsreason.eval.clevr import evaluate_clevr
from tests.conftest import EXAMPLES_DATA, shared_path


def test_bundled_sample_is_exact_in_both_formats():
    for name, has_steps in (("questions", False), ("questions_generator", True)):
        report = evaluate_clevr(
            EXAMPLES_DATA / "clevr_val_sample_scenes.json",
            EXAMPLES_DATA / f"clevr_val_sample_{name}.json",
        )
        assert report["questions"] == 30
        assert report["accuracy"] == 1.0
        assert report["failures"] == 0
        assert report["step_accuracy"] == (1.0 if has_steps else None)


@pytest.mark.data
@pytest.mark.slow
@pytest.mark.parametrize(
    ("split", "fmt", "trace"),
    [
        ("val", "questions", True),
        ("val", "questions", False),
        ("val", "questions_generator", True),
        ("val", "questions_generator", False),
        ("train", "questions", True),
        ("train", "questions_generator", True),
    ],
)
def test_official_generator_sets_are_exact(split, fmt, trace):
    scenes = shared_path("clevr", split, f"CLEVR_{split}_scenes.json")
    questions = shared_path("clevr", split, f"CLEVR_{split}_{fmt}.json")
    report = evaluate_clevr(scenes, questions, trace=trace)
    assert report["questions"] == {"val": 5000, "train": 20000}[split]
    assert report["accuracy"] == 1.0
    assert report["failures"] == 0
    if fmt == "questions_generator":
        assert report["step_accuracy"] == 1.0
    else:
        assert report["step_accuracy"] is None
