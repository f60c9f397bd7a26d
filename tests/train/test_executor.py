"""Training the neural executor: seeded, saved without pickle, loaded by the executor;
the shipped weights match their checksums and answer clean CLEVR as the symbolic executor."""

from __future__ import annotations

import hashlib
import json

import pytest

torch = pytest.importorskip("torch")

from nsreason.execute.neural import NeuralExecutor, default_weights_dir, load_model
from nsreason.train.executor import answer_index, train_executor
from tests.conftest import shared_path

torch.set_num_threads(1)


def test_answer_index_reads_clevr_answer_strings():
    assert answer_index([True, False], "no") == 1
    assert answer_index(list(range(4)), "3") == 3
    assert answer_index(["red", "blue"], "blue") == 1
    assert answer_index([0, 1], "7") is None


def test_the_shipped_weights_match_their_checksums():
    d = default_weights_dir()
    sums = dict(line.split()[::-1] for line in (d / "SHA256SUMS").read_text().splitlines())
    for name, digest in sums.items():
        assert hashlib.sha256((d / name).read_bytes()).hexdigest() == digest, name
    config = json.loads((d / "config.json").read_text())
    assert config["format"] == "nsreason.neural-executor/1"
    assert config["encoder"]["message_passing"] is True and config["encoder"]["predicate_words"] is True


@pytest.mark.slow  # the fixture's label "wooden" is not in the model's words: MiniLM loads
def test_the_shipped_model_agrees_with_the_symbolic_executor_on_a_clean_scene(four_objects):
    from nsreason.execute import SymbolicExecutor
    from nsreason.program import Program
    from tests.execute.test_neural import PROGRAMS

    ex = NeuralExecutor(device="cpu")
    for text in PROGRAMS:
        program = Program.from_text(text)
        answer = ex.execute(program, four_objects, trace=False)
        assert answer.value == SymbolicExecutor().execute(program, four_objects, trace=False).value, text
        assert answer.confidence > 0.7, text


@pytest.mark.data
@pytest.mark.slow
def test_training_is_seeded_and_saves_a_model_the_executor_loads(tmp_path):
    scenes = shared_path("clevr", "train", "CLEVR_train_scenes.json")
    questions = shared_path("clevr", "train", "CLEVR_train_questions_generator.json")
    runs = []
    for name in ("a", "b"):
        model, report = train_executor(scenes, questions, out=tmp_path / name, steps=3, batch_size=8, log=None)
        runs.append(model.state_dict())
        assert report["steps"] == 3 and report["loss_first_50"] > 0
    assert all(torch.equal(runs[0][k], runs[1][k]) for k in runs[0])
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (tmp_path / "b" / "model.safetensors").read_bytes()
    loaded = load_model(tmp_path / "a")
    assert all(torch.equal(loaded.state_dict()[k], runs[0][k]) for k in runs[0])
