"""CLEVR scenes: the official format, real files, every malformed case with its path."""

from __future__ import annotations

import copy
import json

import pytest

from nsreason.errors import DanglingRelationError, SceneFormatError
from nsreason.scene import Attribute, Relation, load_clevr_scenes
from nsreason.scene.clevr import clevr_domains, clevr_scene_from_dict
from tests.conftest import shared_path

COLORS = ["gray", "red", "blue", "green", "brown", "purple", "cyan", "yellow"]


def obj(**fields):
    base = {"shape": "cube", "size": "large", "color": "red", "material": "metal",
            "3d_coords": [1.0, -2.0, 0.7], "pixel_coords": [10, 20, 5.5], "rotation": 30.0}
    base.update(fields)
    return base


def scene(n=3, **fields):
    data = {
        "image_index": 4,
        "image_filename": "CLEVR_val_000004.png",
        "objects": [obj() for _ in range(n)],
        "relationships": {
            "left": [[j for j in range(n) if j < i] for i in range(n)],
            "right": [[j for j in range(n) if j > i] for i in range(n)],
        },
        "directions": {"left": [-0.6, 0.8, 0.0]},
    }
    data.update(fields)
    return data


def file_of(n_scenes=5):
    return {"info": {"split": "val"}, "scenes": [scene() for _ in range(n_scenes)]}


def test_good_scene():
    (s,) = load_clevr_scenes(scene())
    assert s.id == 4 and len(s) == 3
    o = s.objects[0]
    assert o.id == 0 and o.name == "cube"
    assert o.attributes == (
        Attribute("large", key="size"), Attribute("red", key="color"),
        Attribute("metal", key="material"), Attribute("cube", key="shape"),
    )
    assert o.coords == (1.0, -2.0, 0.7)
    assert o.extra == {"pixel_coords": [10, 20, 5.5], "rotation": 30.0}
    assert s.meta == {"image_index": 4, "image_filename": "CLEVR_val_000004.png",
                      "directions": {"left": [-0.6, 0.8, 0.0]}}
    # relationships[rel][i] lists the j that stand in rel to i: j is left of i
    assert Relation(0, "left", 1) in s.relations and Relation(1, "left", 0) not in s.relations
    assert len(s.relations) == 6


def test_file_forms_give_the_same_scenes():
    f = file_of(3)
    assert load_clevr_scenes(f) == load_clevr_scenes(f["scenes"]) == [load_clevr_scenes(scene())[0]] * 3


def test_scene_id_falls_back_to_filename():
    data = scene()
    del data["image_index"]
    assert load_clevr_scenes(data)[0].id == "CLEVR_val_000004.png"


def test_domains():
    assert clevr_domains()["color"] == tuple(COLORS)
    reddish = scene(objects=[obj(color="reddish")], relationships={})
    assert load_clevr_scenes(reddish, domains=None)[0].objects[0].get("color") == "reddish"
    assert load_clevr_scenes(reddish, domains=False)[0].objects[0].get("color") == "reddish"
    custom = {"size": ["large"], "color": ["reddish"], "material": ["metal"], "shape": ["cube"]}
    assert load_clevr_scenes(reddish, domains=custom)[0].objects[0].get("color") == "reddish"


def with_bad_object(index, **fields):
    f = file_of(5)
    f["scenes"][3]["objects"] = [obj() for _ in range(8)]
    f["scenes"][3]["relationships"] = {}
    f["scenes"][3]["objects"][index] = obj(**fields)
    return f


def test_wrong_color_names_the_path_and_the_choices():
    with pytest.raises(SceneFormatError) as info:
        load_clevr_scenes(with_bad_object(7, color="reddish"))
    assert str(info.value) == f"scenes[3].objects[7].color: expected one of {COLORS}, got 'reddish'"
    assert info.value.path == "scenes[3].objects[7].color"


def mutate(fn):
    f = file_of(5)
    fn(f["scenes"][3])
    return f


MALFORMED = [
    # (what, mutation of scenes[3], error type, path, message part)
    ("scene not an object", None, SceneFormatError, "scenes[3]", "expected a scene object, got list"),
    ("objects missing", lambda s: s.pop("objects"), SceneFormatError, "scenes[3].objects", "expected a list of objects, got NoneType"),
    ("objects not a list", lambda s: s.update(objects={}), SceneFormatError, "scenes[3].objects", "got dict"),
    ("object not an object", lambda s: s["objects"].__setitem__(1, "cube"), SceneFormatError, "scenes[3].objects[1]", "expected an object, got str"),
    ("missing field", lambda s: s["objects"][2].pop("material"), SceneFormatError, "scenes[3].objects[2]", "missing field 'material'"),
    ("not a string", lambda s: s["objects"][0].update(size=3), SceneFormatError, "scenes[3].objects[0].size", "expected a string, got 3"),
    ("wrong shape", lambda s: s["objects"][0].update(shape="cone"), SceneFormatError, "scenes[3].objects[0].shape", "got 'cone'"),
    ("coords too short", lambda s: s["objects"][1].update({"3d_coords": [1, 2]}), SceneFormatError, "scenes[3].objects[1].3d_coords", "expected 3 numbers [x, y, z], got [1, 2]"),
    ("coords not numbers", lambda s: s["objects"][1].update({"3d_coords": [1, "2", 3]}), SceneFormatError, "scenes[3].objects[1].3d_coords[1]", "expected a finite number, got '2'"),
    ("coords not finite", lambda s: s["objects"][1].update({"3d_coords": [1, 2, float("nan")]}), SceneFormatError, "scenes[3].objects[1].3d_coords[2]", "expected a finite number, got nan"),
    ("coords overflow", lambda s: s["objects"][1].update({"3d_coords": [1, 2, 10**400]}), SceneFormatError, "scenes[3].objects[1].3d_coords[2]", "expected a finite number"),
    ("relationships not an object", lambda s: s.update(relationships=[]), SceneFormatError, "scenes[3].relationships", "expected an object of relation lists, got list"),
    ("too few lists", lambda s: s["relationships"]["left"].pop(), SceneFormatError, "scenes[3].relationships.left", "expected one list per object (3), got 2"),
    ("too many lists", lambda s: s["relationships"]["right"].append([]), SceneFormatError, "scenes[3].relationships.right", "expected one list per object (3), got 4"),
    ("lists not a list", lambda s: s["relationships"].update(left="x"), SceneFormatError, "scenes[3].relationships.left", "got str"),
    ("entry not a list", lambda s: s["relationships"]["left"].__setitem__(1, 0), SceneFormatError, "scenes[3].relationships.left[1]", "expected a list of object indices, got 0"),
    ("index not an int", lambda s: s["relationships"]["left"][2].__setitem__(0, "0"), SceneFormatError, "scenes[3].relationships.left[2][0]", "expected an object index, got '0'"),
    ("index is a bool", lambda s: s["relationships"]["left"][2].__setitem__(0, True), SceneFormatError, "scenes[3].relationships.left[2][0]", "got True"),
    ("dangling index", lambda s: s["relationships"]["left"][2].append(3), DanglingRelationError, "scenes[3].relationships.left[2][2]", "object index 3 is out of range (the scene has 3 objects)"),
    ("negative index", lambda s: s["relationships"]["right"][0].append(-1), DanglingRelationError, "scenes[3].relationships.right[0][2]", "out of range"),
    ("bad image index", lambda s: s.update(image_index=[4]), SceneFormatError, "scenes[3].image_index", "expected an integer or a string, got [4]"),
]


@pytest.mark.parametrize(
    "mutation, error, path, message", [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed(mutation, error, path, message):
    if mutation is None:
        f = file_of(5)
        f["scenes"][3] = []
    else:
        f = mutate(mutation)
    with pytest.raises(error) as info:
        load_clevr_scenes(f)
    assert type(info.value) is error
    assert info.value.path == path
    assert message in info.value.message


@pytest.mark.parametrize(
    "data, message",
    [
        ({"scenes": {}}, "scenes: expected a list, got dict"),
        ({"questions": []}, "expected a CLEVR scenes file ({'scenes': [...]}), a list of scenes, or one scene ({'objects': [...]}), got an object with keys ['questions']"),
        (3, "got int"),
        ([3], "[0]: expected a scene object, got int"),
    ],
)
def test_malformed_top_level(data, message):
    with pytest.raises(SceneFormatError) as info:
        load_clevr_scenes(data)
    assert message in str(info.value)


def test_error_from_file_names_the_file(tmp_path):
    path = tmp_path / "scenes.json"
    path.write_text(json.dumps(with_bad_object(7, color="reddish")))
    with pytest.raises(SceneFormatError) as info:
        load_clevr_scenes(path)
    assert info.value.source == str(path)
    assert str(info.value).startswith(f"{path}: scenes[3].objects[7].color: expected one of")


def test_invalid_json_names_file_and_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"scenes": [\n  {"objects": []},\n  {"objects": [}\n]}\n')
    with pytest.raises(SceneFormatError) as info:
        load_clevr_scenes(path)
    assert info.value.source == str(path)
    assert "not valid JSON" in str(info.value) and "line 3" in str(info.value)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(SceneFormatError, match="file not found"):
        load_clevr_scenes(tmp_path / "nope.json")
    with pytest.raises(SceneFormatError, match="expected a JSON file, got a directory"):
        load_clevr_scenes(tmp_path)


def test_scene_from_dict_default_path():
    with pytest.raises(SceneFormatError, match=r"^scene\.objects\[0\]: missing field 'color'"):
        clevr_scene_from_dict({"objects": [{"size": "large"}]})


def test_input_is_not_modified():
    f = file_of(2)
    before = copy.deepcopy(f)
    load_clevr_scenes(f)
    assert f == before


@pytest.mark.slow
@pytest.mark.data
@pytest.mark.parametrize(
    "parts", [("clevr-humans", "CLEVR_train_scenes_1000.json"), ("clevr", "val", "CLEVR_val_scenes.json")]
)
def test_real_clevr_files(parts):
    path = shared_path(*parts)
    raw = json.loads(path.read_text())["scenes"]
    scenes = load_clevr_scenes(path)
    assert len(scenes) == len(raw) > 0
    assert sum(len(s) for s in scenes) == sum(len(r["objects"]) for r in raw)
    n_relations = sum(len(lst) for r in raw for lists in r["relationships"].values() for lst in lists)
    assert sum(len(s.relations) for s in scenes) == n_relations
    for s, r in zip(scenes, raw):
        assert s.id == r["image_index"]
        assert s.predicates() == {"left", "right", "front", "behind"}
        assert all(o.coords is not None and len(o.coords) == 3 for o in s.objects)


@pytest.mark.data
def test_clevr_humans_totals(clevr_humans_path):
    scenes = load_clevr_scenes(clevr_humans_path)
    assert len(scenes) == 1000
    assert sum(len(s) for s in scenes) == 6455
