"""The saved OK-VQA answer model (nsreason.retrieve.answer_model): arrays that predict what
scikit-learn did, save -> load -> the same answers, typed errors for a bad folder, and
``Reasoner(okvqa_model=...)`` on a detection scene."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("safetensors")

from nsreason import Reasoner
from nsreason.errors import ModelFormatError
from nsreason.okvqa import KbPlugin
from nsreason.okvqa.candidates import fit_answer_classifier
from nsreason.okvqa.reranker import trees_of
from nsreason.retrieve.answer_cache import RetrievalCache
from nsreason.retrieve.answer_model import AnswerModel, is_detection_scene
from nsreason.scene.graph import SceneGraph, SceneObject
from tests.okvqa.test_answerer import ToyRetriever, _examples, _scene, _toy, hashing_vectors


def test_trees_predict_what_scikit_learn_predicts():
    from sklearn.ensemble import HistGradientBoostingRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 6)).astype(np.float32)
    X[:, 2] = rng.integers(0, 3, size=400)  # ties on thresholds
    y = X[:, 0] * 2 + (X[:, 2] == 1) + rng.normal(scale=0.1, size=400)
    model = HistGradientBoostingRegressor(max_iter=30, max_leaf_nodes=7, random_state=0).fit(X, y)
    trees = trees_of(model)
    test = rng.normal(size=(50, 6)).astype(np.float32)
    test[:, 2] = rng.integers(0, 3, size=50)
    assert np.array_equal(trees.predict(test), model.predict(test))  # exactly, not approximately
    assert len(trees.roots) == model.n_iter_


@pytest.mark.parametrize("n_classes", [2, 5])
def test_classifier_arrays_give_scikit_learns_probabilities(n_classes):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 8))
    labels = [f"a{i}" for i in range(n_classes)]
    targets = [{labels[int(i)]: 1.0} for i in rng.integers(0, n_classes, size=120)]
    clf = fit_answer_classifier(X, targets, top=n_classes)
    y = [clf.classes.index(next(iter(t))) for t in targets]
    ref = LogisticRegression(C=10.0, max_iter=300).fit(X, y)
    np.testing.assert_allclose(clf.probabilities(X), ref.predict_proba(X), rtol=1e-12, atol=1e-15)
    assert [a for a, _ in clf.top_answers(X[:1], 1)[0]] == [clf.classes[int(ref.predict(X[:1])[0])]]


def _fitted(tmp_path, kb: bool):
    questions, answers, scenes = _toy(24)
    retrieval = RetrievalCache(ToyRetriever, tmp_path / "r.jsonl") if kb else None
    plugin = KbPlugin(kb=["toy"] if kb else None, vectors=hashing_vectors(), retrieval=retrieval, top=10, k=3)
    return plugin.fit(_examples(questions, answers, scenes)), scenes, retrieval


ASKED = [("What animal is this?", 2), ("Where does this animal live in the wild?", 3),
         ("What animal is this?", 5), ("How many legs does it have?", 0)]


@pytest.mark.slow
@pytest.mark.parametrize("kb", [False, True])
def test_save_load_gives_the_same_answers(tmp_path, kb):
    model, scenes, retrieval = _fitted(tmp_path, kb)
    model.config["provenance"] = {"command": "test"}
    model.save(tmp_path / "m")
    files = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert files == ["arrays.safetensors", "config.json", "tables.json"]  # no pickle
    loaded = AnswerModel.load(tmp_path / "m", vectors=hashing_vectors(), retrieval=retrieval)
    assert loaded.config["provenance"] == {"command": "test"} and loaded.config["kb"] == (["toy"] if kb else None)
    for question, image in ASKED:
        assert loaded(question, scenes[image]) == model(question, scenes[image])
        assert loaded.ranked(question, scenes[image]) == model.ranked(question, scenes[image])
    answer, fact, _ = loaded("Where does this animal live in the wild?", scenes[3])
    assert answer == "africa" and (fact is not None) == kb


@pytest.mark.slow
def test_bad_model_folder_names_the_file_and_field(tmp_path):
    model, _, _ = _fitted(tmp_path, False)
    d = model.save(tmp_path / "m")
    with pytest.raises(ModelFormatError, match="answer model folder"):
        AnswerModel.load(tmp_path / "nowhere")
    config = json.loads((d / "config.json").read_text())
    del config["classes"]
    (d / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFormatError) as err:
        AnswerModel.load(d)
    assert err.value.source.endswith("config.json") and err.value.path == "classes"
    config["classes"] = "tree"
    (d / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFormatError, match="classes: expected list, got str"):
        AnswerModel.load(d)
    model.save(d)
    tables = json.loads((d / "tables.json").read_text())
    tables["neighbour_answers"].pop()
    (d / "tables.json").write_text(json.dumps(tables))
    with pytest.raises(ModelFormatError, match=r"tables\.json: neighbour_answers: expected one answer table"):
        AnswerModel.load(d)
    model.save(d)
    (d / "arrays.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ModelFormatError, match=r"arrays\.safetensors: expected a safetensors file"):
        AnswerModel.load(d)
    (d / "arrays.safetensors").unlink()
    with pytest.raises(ModelFormatError, match=r"arrays\.safetensors: missing file"):
        AnswerModel.load(d)


def test_detection_scenes_are_told_apart():
    assert is_detection_scene(_scene(1, ("dog", "imagenet"), ("park", "places")))
    assert not is_detection_scene(_scene(1))  # nothing detected
    assert not is_detection_scene(SceneGraph([SceneObject("0", "cube")]))


@pytest.mark.slow
def test_reasoner_answers_a_detection_scene_with_the_model(tmp_path):
    model, scenes, _ = _fitted(tmp_path, True)
    reasoner = Reasoner(okvqa_model=model)
    answer = reasoner.ask(scenes[3], "Where does this animal live in the wild?")
    assert answer.text == "africa"
    assert answer.program.to_text() == 'model_answer(model_rank["Where does this animal live in the wild?"](scene()))'
    t = answer.trace.to_dict()
    rank = next(s for s in t["steps"] if s["op"] == "model_rank")
    best = rank["output"]["candidates"][0]
    assert best["answer"] == "africa" and "kb" in best["from"] and best["fact"]["source"] == "test"
    assert best["score"] == max(c["score"] for c in rank["output"]["candidates"])
    assert t["parse"]["details"]["parser"] == "answer_model"
    text = answer.trace.render_text()
    assert "step 1 candidates (" in text and "  1. " in text and "africa  (from " in text
    assert "fact: " in text and "[test]" in text  # the KB fact behind the answer, with its source
    # in a batch, detection scenes go to the model too (a CLEVR scene would go to the parser)
    from nsreason import load_clevr_scenes
    from tests.conftest import REPO

    clevr = load_clevr_scenes(REPO / "examples" / "data" / "clevr_val_sample_scenes.json")[1]
    many = reasoner.ask_many([(scenes[3], "Where does this animal live in the wild?"),
                              (clevr, "How many red things are there?"), (scenes[2], "What animal is this?")])
    assert [a.text for a in many] == ["africa", "3", model("What animal is this?", scenes[2])[0]]
    assert reasoner.ask(clevr, "How many red things are there?").program.to_text() == "count(filter_color[red](scene()))"
    # saved and loaded by folder: the same answer
    model.save(tmp_path / "m")
    loaded = AnswerModel.load(tmp_path / "m", vectors=model.vectors, retrieval=model.retrieval)
    assert Reasoner(okvqa_model=loaded).ask(scenes[2], "What animal is this?").text == model("What animal is this?", scenes[2])[0]


@pytest.mark.slow
def test_a_model_fitted_on_another_default_kb_warns(tmp_path):
    model, _, _ = _fitted(tmp_path, False)
    model.config.update(kb=["default"], provenance={"kb_key": "0123456789abcdef"})
    d = model.save(tmp_path / "m")
    loaded = AnswerModel.load(d, vectors=hashing_vectors())
    with pytest.warns(UserWarning, match="fitted on KB candidates of the default KB 0123456789abcdef"):
        retrieval = loaded._retrieval()
    assert retrieval is not None and loaded._retrieval() is retrieval  # made once, warned once
