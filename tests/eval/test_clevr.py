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


# -- executors by name, confidences, scenes in any format ---------------------------------

SAMPLE_SCENES = EXAMPLES_DATA / "clevr_val_sample_scenes.json"
SAMPLE_GENERATOR = EXAMPLES_DATA / "clevr_val_sample_questions_generator.json"


def test_another_executor_runs_gold_programs_in_one_batch_and_is_calibrated(test_executors):
    report = evaluate_clevr(SAMPLE_SCENES, SAMPLE_GENERATOR, executor="confident-test")
    (executor,) = test_executors
    assert executor.batches == [30] and executor.single == 0
    assert report["executor"] == "confident-test"
    assert report["accuracy"] == 1.0 and report["failures"] == 0
    assert report["step_accuracy"] is None  # steps are compared for the symbolic executor only
    assert report["compile_seconds"] is None
    # every answer right at confidence 0.8: all in one bin, |1 - 0.8|
    assert report["ece"] == pytest.approx(0.2) and report["mean_confidence"] == pytest.approx(0.8)


def test_an_executor_without_execute_many_runs_question_by_question(test_executors):
    report = evaluate_clevr(SAMPLE_SCENES, SAMPLE_GENERATOR, executor="one-by-one-test", trace=False)
    (executor,) = test_executors
    assert executor.inner.single == 30 and executor.inner.batches == []
    assert report["accuracy"] == 1.0
    assert report["ece"] == pytest.approx(0.5) and report["mean_confidence"] == pytest.approx(0.5)


def test_the_symbolic_executor_reports_no_calibration():
    report = evaluate_clevr(SAMPLE_SCENES, SAMPLE_GENERATOR, executor="symbolic")
    assert report["executor"] == "symbolic" and report["step_accuracy"] == 1.0
    assert "ece" not in report and "mean_confidence" not in report


def test_an_executor_instance_is_used_as_given():
    from tests.execute.confident import ConfidentExecutor

    executor = ConfidentExecutor(1.0)
    report = evaluate_clevr(SAMPLE_SCENES, SAMPLE_GENERATOR, executor=executor, limit=5)
    assert executor.batches == [5] and report["ece"] == 0.0
    assert report["executor"] == "ConfidentExecutor(1.0)"


@pytest.mark.slow  # trains the tiny parser (the session fixture) when it runs first
def test_parsed_programs_run_in_one_batch_and_only_failures_fall_back(tiny, test_executors):
    """With a parser, the parsed programs of all questions run through execute_many; the
    alternatives of a program that fails on its scene run one by one."""
    from nsreason.datasets.clevr import load_clevr_questions
    from nsreason.parse import get_parser

    out, _, _ = tiny
    report = evaluate_clevr(SAMPLE_SCENES, SAMPLE_GENERATOR, parser=str(out), executor="confident-test")
    (executor,) = test_executors
    parsed = get_parser(str(out)).parse_batch([q.question for q in load_clevr_questions(SAMPLE_GENERATOR)])
    assert executor.batches == [sum(p.ok for p in parsed)]  # the questions that parsed
    assert executor.single >= report["fallbacks"]  # each fallback ran at least one alternative
    assert report["questions"] == 30 and "ece" in report
    # failed answers count at confidence 0, the others at 0.8
    answered = 30 - report["failures"]
    assert report["mean_confidence"] == pytest.approx(0.8 * answered / 30)
    # the batch and the fallbacks give the answers the symbolic executor gives one by one
    symbolic = evaluate_clevr(SAMPLE_SCENES, SAMPLE_GENERATOR, parser=str(out))
    for key in ("correct", "failures", "fallbacks", "failure_codes", "program_accuracy"):
        assert report[key] == symbolic[key], key


def test_scenes_in_the_native_format_are_matched_by_image_index(tmp_path):
    """A native file (string ids equal to str(image_index)) answers as the CLEVR file does,
    auto-detected or forced; a missing scene is an InputError naming file and id."""
    from nsreason.errors import InputError, SceneFormatError
    from nsreason.scene import load_clevr_scenes, save_native_scenes

    scenes = load_clevr_scenes(SAMPLE_SCENES)
    for s in scenes:
        s.id = str(s.id)
    native = save_native_scenes(scenes, tmp_path / "native.json")
    for fmt in ("auto", "native"):
        report = evaluate_clevr(native, SAMPLE_GENERATOR, scene_format=fmt)
        assert report["accuracy"] == 1.0 and report["step_accuracy"] == 1.0

    missing = save_native_scenes(scenes[1:], tmp_path / "missing.json")
    first = scenes[0].id
    with pytest.raises(InputError, match=rf"no scene with image_index {first} in .*missing.json") as err:
        evaluate_clevr(missing, SAMPLE_GENERATOR)
    assert err.value.path.endswith(".image_index") and err.value.source == str(SAMPLE_GENERATOR)

    with pytest.raises(SceneFormatError):  # a CLEVR file read as native
        evaluate_clevr(SAMPLE_SCENES, SAMPLE_GENERATOR, scene_format="native")


def test_two_scenes_with_one_image_id_are_an_input_error(tmp_path):
    from nsreason.errors import InputError
    from nsreason.scene import load_clevr_scenes, save_native_scenes

    scenes = load_clevr_scenes(SAMPLE_SCENES)[:2]
    scenes[1].id = str(scenes[0].id)  # 0 and "0": the same image
    path = save_native_scenes(scenes, tmp_path / "dup.json")
    with pytest.raises(InputError, match="two scenes have the image id") as err:
        evaluate_clevr(path, SAMPLE_GENERATOR)
    assert err.value.path == "scenes[1].id"
