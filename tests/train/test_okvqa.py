"""``nsreason train okvqa`` and ``nsreason eval okvqa --model`` (nsreason.train.okvqa,
nsreason.eval.okvqa): train once on tiny files, save, evaluate the saved model on other
questions, with the command line a user types."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("torch")

from nsreason.cli import main
from nsreason.datasets.okvqa import Detection, detection_scene
from nsreason.errors import InputError
from nsreason.scene.native import save_native_scenes
from nsreason.train.okvqa import train_okvqa

ANIMALS = ["giraffe", "zebra", "elephant", "dog"]


def _files(tmp_path, images, name):
    """Questions, soft-score answers and ImageNet-style detections of ``images``: "what
    animal is this" (the label) and "what do you call a baby one" (a word the label gives)."""
    questions, answers, detections = [], [], {}
    for i in images:
        animal = ANIMALS[i % len(ANIMALS)]
        detections[str(i)] = [animal, "field", "fence"]
        for j, (text, truth) in enumerate([("What animal is this?", animal),
                                          ("Where does this animal live?", "africa" if i % 4 < 3 else "house")]):
            qid = i * 10 + j
            questions.append({"image_id": i, "question": text, "question_id": qid})
            answers.append({"question_id": qid, "img_id": i, "sent": text, "label": {truth: 1}})
    paths = {}
    (tmp_path / name).mkdir()
    for kind, data in (("questions", {"questions": questions}), ("answers", answers),
                       ("detections", detections)):  # the detector's name comes from the file's
        paths[kind] = tmp_path / name / ("detected_imagenet_objects.json" if kind == "detections" else f"{kind}.json")
        paths[kind].write_text(json.dumps(data))
    return paths


@pytest.mark.slow
def test_train_then_eval_a_saved_model(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NSREASON_CACHE", str(tmp_path / "cache"))
    train, held = _files(tmp_path, range(32), "train"), _files(tmp_path, range(100, 112), "held")
    out = tmp_path / "model"
    assert main(["train", "okvqa", "--questions", str(train["questions"]), "--answers", str(train["answers"]),
                 "--detections", str(train["detections"]), "--out", str(out), "--answerer", "kb-without-kb"]) == 0
    report = json.loads(capsys.readouterr().out)
    config = json.loads((out / "config.json").read_text())
    prov = config["provenance"]
    assert prov["n_questions"] == 64 and prov["n_images"] == 32 and prov["detection_sources"] == {"imagenet": 32}
    assert prov["detections"][0]["path"].endswith("detected_imagenet_objects.json") and len(prov["questions"]["sha256"]) == 64
    assert prov["command"].startswith("nsreason train okvqa") and prov["seed"] == 0
    assert config["answerer"] == "kb-without-kb" and config["kb"] is None and report["out"] == str(out)
    assert main(["eval", "okvqa", "--questions", str(held["questions"]), "--answers", str(held["answers"]),
                 "--detections", str(held["detections"]), "--model", str(out), "--json"]) == 0
    ev = json.loads(capsys.readouterr().out)
    assert ev["questions"] == 24 and ev["folds"] is None and ev["fit_seconds"] == 0
    assert ev["model"] == str(out) and ev["model_trained_on"].startswith("kb-without-kb: 64 questions on 32 images")
    assert ev["accuracy"] > 0.6  # the animals are named by their label; most live in africa
    # the saved model answers a detection scene through `nsreason ask` (a native scene file)
    scene = detection_scene(7, [Detection("zebra", "imagenet", 0), Detection("fence", "imagenet", 1)])
    save_native_scenes([scene], tmp_path / "scene.json")
    assert main(["ask", "--scene", str(tmp_path / "scene.json"), "--okvqa-model", str(out), "--json",
                 "What animal is this?"]) == 0
    trace = json.loads(capsys.readouterr().out)
    assert trace["answer"] == "zebra" and trace["program"].startswith("model_answer(model_rank[")
    rank = next(s for s in trace["steps"] if s["op"] == "model_rank")
    assert rank["output"]["candidates"][0]["answer"] == "zebra" and rank["output"]["labels"] == ["zebra", "fence"]


def test_train_okvqa_refuses_what_it_cannot_save(tmp_path):
    files = _files(tmp_path, range(4), "t")
    with pytest.raises(InputError, match="expected an answerer of"):
        train_okvqa(files["questions"], files["answers"], [files["detections"]], tmp_path / "m", answerer="prior")
    with pytest.raises(InputError, match="at least one detections file"):
        train_okvqa(files["questions"], files["answers"], [], tmp_path / "m")


def test_eval_with_a_missing_model_folder_says_so(tmp_path, capsys):
    files = _files(tmp_path, range(4), "t")
    code = main(["eval", "okvqa", "--questions", str(files["questions"]), "--answers", str(files["answers"]),
                 "--detections", str(files["detections"]), "--model", str(tmp_path / "nothing")])
    assert code == 2 and "answer model folder" in capsys.readouterr().err
