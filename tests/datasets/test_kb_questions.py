"""The CLEVR + KB question generator: answers checked by hand, uniqueness, typed errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("rdflib")

from nsreason.datasets.clevr import load_clevr_questions
from nsreason.datasets.clevr.kb_questions import generate_kb_questions, load_kb_templates, main
from nsreason.errors import InputError
from tests.datasets.conftest import check_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SCENES = FIXTURES / "clevr_refplus_scenes_small.json"
KB = FIXTURES / "clevr_kb_small.ttl"
TEMPLATES = FIXTURES / "clevr_kb_small_templates.json"
RELEASE_KEYS = {"image_index", "image_filename", "question", "answer", "split", "question_family_index",
                "question_index"}


def _obj(size: str, color: str, material: str, shape: str) -> dict[str, str]:
    return {"size": size, "color": color, "material": material, "shape": shape}


def _scenes(tmp_path: Path, *scenes: dict) -> Path:
    path = tmp_path / "scenes.json"
    path.write_text(json.dumps({"info": {"split": "val"}, "scenes": list(scenes)}))
    return path


def _family(kind: str, relations: list[str], attribute: str, texts: list[str], **extra) -> dict:
    return {"families": [{"name": kind, "kind": kind, **extra,
                          "templates": [{"relations": relations, "attribute": attribute, "texts": texts}]}]}


TWO_APART = {  # object 0 left of object 1; nothing in front or behind
    "image_index": 7, "image_filename": "x.png",
    "objects": [_obj("small", "red", "rubber", "cube"), _obj("large", "blue", "metal", "sphere")],
    "relationships": {"left": [[], [0]], "right": [[1], []], "front": [[], []], "behind": [[], []]},
}


def test_fixture_questions_checked_by_hand():
    questions = generate_kb_questions(SCENES, KB, TEMPLATES, images="all", per_scene=6, seed=0)
    assert len(questions) == 18 and all(set(q) == RELEASE_KEYS for q in questions)
    for q in questions:
        check_text(q["question"])
    got = {(q["image_index"], q["question"]): q["answer"] for q in questions}
    # scene 0: 0 small gray metal sphere, 1 small blue rubber cube, 2 large cyan metal sphere;
    # right[2] = [0, 1], front[1] = [0, 2]
    assert got[(0, "What is the typical use of the material of the block?")] == "erasers"  # rubber
    assert got[(0, "What texture does the material of the gray thing that is right of the big metal thing have?")] == "cold"
    assert got[(0, "How many objects in the scene can roll?")] == "2"  # two spheres, the cube cannot
    assert got[(0, "How many spheres are magnetic?")] == "2"  # both spheres are metal
    assert got[(0, "Can the gray metallic thing in front of the block roll?")] == "yes"  # object 0, a sphere
    assert got[(0, "Where is the typical use of the material of the large ball made?")] == "workshops"  # metal → tools


def test_spatial_relations_read_the_right_way(tmp_path):
    scenes = _scenes(tmp_path, TWO_APART)
    templates = _family("query", ["ex:feel"], "material", ["What texture does the material of {obj} have?"],
                        reference="related")
    seen = set()
    for seed in range(12):
        for q in generate_kb_questions(scenes, KB, templates, images="odd", per_scene=3, seed=seed):
            seen.add(q["question"])
            # the thing left of the (large blue metal) sphere is the rubber cube; right of the cube, the sphere
            if " left " in q["question"]:
                assert q["answer"] == "soft", q
            else:
                assert " right " in q["question"] and q["answer"] == "cold", q
    assert any(" left " in s for s in seen) and any(" right " in s for s in seen)


def test_counts_by_a_kb_property(tmp_path):
    scene = {"image_index": 1, "objects": [_obj("large", "red", "metal", "cube"), _obj("small", "blue", "rubber", "sphere"),
                                           _obj("small", "red", "rubber", "cylinder"), _obj("large", "yellow", "metal", "sphere")],
             "relationships": {r: [[], [], [], []] for r in ("left", "right", "front", "behind")}}
    scenes = _scenes(tmp_path, scene)
    rolls = generate_kb_questions(scenes, KB, _family("count", ["ex:can_roll"], "shape", ["How many {things} can roll?"]),
                                  per_scene=2)
    assert {q["answer"] for q in rolls} == {"3"} and {q["question"] for q in rolls} <= {
        "How many things can roll?", "How many objects can roll?"}
    filtered = generate_kb_questions(
        scenes, KB, _family("count", ["ex:isMagnetic"], "material", ["How many {things} are magnetic?"], filters=[1, 1]),
        per_scene=6, seed=3)
    by_hand = {"How many red things are magnetic?": "1", "How many red objects are magnetic?": "1",
               "How many large things are magnetic?": "2", "How many big objects are magnetic?": "2",
               "How many large objects are magnetic?": "2", "How many big things are magnetic?": "2",
               "How many small things are magnetic?": "0", "How many tiny things are magnetic?": "0",
               "How many small objects are magnetic?": "0", "How many tiny objects are magnetic?": "0",
               "How many spheres are magnetic?": "1", "How many balls are magnetic?": "1",
               "How many blue things are magnetic?": "0", "How many blue objects are magnetic?": "0",
               "How many yellow things are magnetic?": "1", "How many yellow objects are magnetic?": "1",
               "How many cubes are magnetic?": "1", "How many blocks are magnetic?": "1",
               "How many cylinders are magnetic?": "0"}
    assert filtered and all(by_hand[q["question"]] == q["answer"] for q in filtered)


def test_ambiguous_objects_and_undefined_facts_are_skipped(tmp_path):
    twins = {"image_index": 3, "objects": [_obj("small", "gray", "rubber", "cube"), _obj("small", "gray", "rubber", "cube")],
             "relationships": {"left": [[1], []], "right": [[], [0]], "front": [[], []], "behind": [[], []]}}
    scenes = _scenes(tmp_path, twins)
    direct = _family("query", ["ex:usedFor"], "material", ["What is the typical use of the material of {obj}?"],
                     reference="direct")
    assert generate_kb_questions(scenes, KB, direct, per_scene=3) == []  # no description names one of two twins
    # the KB gives no mood for gray or green: nothing to ask
    greys = {**TWO_APART, "objects": [_obj("small", "gray", "rubber", "cube"), _obj("large", "green", "metal", "sphere")]}
    mood = _family("query", ["ex:evokes"], "color", ["What mood does the color of {obj} evoke?"], reference="any")
    assert generate_kb_questions(_scenes(tmp_path, greys), KB, mood, per_scene=3) == []
    assert generate_kb_questions(_scenes(tmp_path, TWO_APART), KB, mood, per_scene=1)[0]["answer"] in {"anger", "calm"}


def test_the_object_is_named_without_the_attribute_asked_about(tmp_path):
    scene = {"image_index": 1, "objects": [_obj("large", "red", "metal", "cube"), _obj("small", "blue", "rubber", "sphere"),
                                           _obj("small", "red", "rubber", "cylinder")],
             "relationships": {r: [[], [], []] for r in ("left", "right", "front", "behind")}}
    rolls = _family("yes_no", ["ex:can_roll"], "shape", ["Can {obj} roll?"], reference="direct")
    questions = [q for seed in range(6) for q in generate_kb_questions(_scenes(tmp_path, scene), KB, rolls, seed=seed)]
    shapes = {"cube", "block", "sphere", "ball", "cylinder"}
    assert questions and not any(shapes & set(q["question"][:-1].split()) for q in questions)
    by_hand = {"large": "no", "big": "no", "metal": "no", "metallic": "no", "shiny": "no", "blue": "yes"}
    for q in questions:
        for word, answer in by_hand.items():
            if word in q["question"].split():
                assert q["answer"] == answer, q


def test_halves_seed_and_release_format(tmp_path):
    odd = {**TWO_APART, "image_index": 9}
    even = {**TWO_APART, "image_index": 4}
    scenes = _scenes(tmp_path, odd, even)
    a = generate_kb_questions(scenes, KB, TEMPLATES, images="odd", per_scene=3, seed=5)
    assert a == generate_kb_questions(scenes, KB, TEMPLATES, images="odd", per_scene=3, seed=5)
    assert {q["image_index"] for q in a} == {9}
    assert {q["image_index"] for q in generate_kb_questions(scenes, KB, TEMPLATES, images="even")} == {4}
    out = tmp_path / "q.json"
    assert main(["--scenes", str(scenes), "--kb", str(KB), "--templates", str(TEMPLATES), "--out", str(out),
                 "--images", "all", "--per-scene", "2"]) == 0
    data = json.loads(out.read_text())
    assert data["info"]["families"][0] == "query_direct" and data["info"]["kb"] == KB.name
    loaded = load_clevr_questions(out)  # the engine's reader takes it: no programs, answers as strings
    assert len(loaded) == len(data["questions"]) == 4 and all(q.program is None for q in loaded)


def test_bad_kb_file_is_a_typed_error_naming_it(tmp_path, capsys):
    bad = tmp_path / "broken.ttl"
    bad.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b ")
    with pytest.raises(InputError, match="broken.ttl"):
        generate_kb_questions(SCENES, bad, TEMPLATES, images="all")
    with pytest.raises(InputError, match="missing.ttl: file not found"):
        generate_kb_questions(SCENES, tmp_path / "missing.ttl", TEMPLATES, images="all")
    empty = tmp_path / "empty.ttl"
    empty.write_text("# nothing\n")
    with pytest.raises(InputError, match="empty.ttl: no triples"):
        generate_kb_questions(SCENES, empty, TEMPLATES, images="all")
    assert main(["--scenes", str(SCENES), "--kb", str(bad), "--templates", str(TEMPLATES),
                 "--out", str(tmp_path / "o.json")]) == 2
    assert "broken.ttl" in capsys.readouterr().err


@pytest.mark.parametrize(("mutate", "where", "message"), [
    (lambda d: d["families"][0].update(kind="ask"), "families[0].kind", "expected one of"),
    (lambda d: d["families"][2]["templates"][0].update(texts=["How many {obj} roll?"]), "families[2].templates[0].texts[0]", "slot"),
    (lambda d: d["families"][5]["templates"][0].update(relations=["ex:usedFor"]), "families[5].templates[0].relations", "2 relation"),
    (lambda d: d["families"][1]["templates"][0].update(attribute="weight"), "families[1].templates[0].attribute", "expected one of"),
    (lambda d: d["families"][1].update(name="query_direct"), "families[1].name", "new family name"),
])
def test_bad_templates_name_the_place(tmp_path, mutate, where, message):
    data = json.loads(TEMPLATES.read_text())
    mutate(data)
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=message) as err:
        load_kb_templates(path)
    assert str(err.value).startswith(f"{path}: {where}")


def test_relation_missing_from_the_kb_is_named(tmp_path):
    data = _family("yes_no", ["ex:canFly"], "shape", ["Can {obj} fly?"])
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"relation 'ex:canFly' is not in the KB .*ex:can_roll") as err:
        generate_kb_questions(SCENES, KB, path, images="all")
    assert "families[0].templates[0].relations" in str(err.value)


def test_bad_scene_is_a_typed_error(tmp_path):
    scene = {**TWO_APART, "objects": [_obj("small", "pink", "rubber", "cube"), TWO_APART["objects"][1]]}
    with pytest.raises(InputError, match=r"scenes\[0\]\.objects\[0\]\.color: expected one of"):
        generate_kb_questions(_scenes(tmp_path, scene), KB, TEMPLATES)
    scene = {**TWO_APART, "relationships": {"left": [[5], []]}}
    with pytest.raises(InputError, match=r"scenes\[0\]\.relationships\.left"):
        generate_kb_questions(_scenes(tmp_path, scene), KB, TEMPLATES)
