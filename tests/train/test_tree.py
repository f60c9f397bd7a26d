"""``nsreason train tree`` on the CLEVR-Ref+ fixture: training from referred sets alone
improves on the random start, and the saved folder loads and grounds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nsreason.errors import InputError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SCENES = FIXTURES / "clevr_refplus_scenes_small.json"
REFEXPS = FIXTURES / "clevr_refplus_refexps_small.json"


@pytest.mark.slow
def test_training_improves_from_random_on_a_tiny_set(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("spacy")
    from nsreason.datasets.clevr.refexps import load_refexps
    from nsreason.parse.tree import FEATURES, ORDERS, RELATIONS, TreeGrounder, make_model
    from nsreason.scene.io import load_scenes
    from nsreason.train.tree import _vocabularies, exact_set_accuracy, prepare, train_tree

    examples, bad = prepare(load_refexps(REFEXPS), load_scenes(SCENES))
    assert len(examples) == 18 and bad == []
    torch.manual_seed(0)
    config = {"format": "nsreason.tree-grounder/1", "features": list(FEATURES), "relations": list(RELATIONS),
              "orders": list(ORDERS), **_vocabularies(examples)}
    random_accuracy, _ = exact_set_accuracy(TreeGrounder(make_model(config)), examples)

    report = train_tree(SCENES, REFEXPS, out=tmp_path, images="all", epochs=50, batch_size=4, log=None)
    assert report["loss"][-1] < report["loss"][0] / 4
    assert report["train_accuracy"] >= random_accuracy + 0.5
    assert report["held_out_accuracy"] is None
    assert {p.name for p in tmp_path.iterdir()} == {"config.json", "model.safetensors", "training.json"}
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["training"]["images"] == "all" and "rubber" in config["single_words"]
    trained, _ = exact_set_accuracy(TreeGrounder.load(tmp_path), examples)
    assert trained == report["train_accuracy"]


def test_bad_images_and_folders_are_input_errors(tmp_path):
    pytest.importorskip("torch")
    from nsreason.parse.tree import TreeGrounder
    from nsreason.train.tree import train_tree

    with pytest.raises(InputError, match="images"):
        train_tree(SCENES, REFEXPS, out=tmp_path, images="three", log=None)
    with pytest.raises(InputError, match="config.json"):
        TreeGrounder.load(tmp_path)
