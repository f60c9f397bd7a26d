"""The scene model: objects, attributes, relations, checks on construction."""

from __future__ import annotations

import pytest

from nsreason.errors import DanglingRelationError, DuplicateIdError, SceneFormatError
from nsreason.scene import Attribute, BoundingBox, Relation, SceneGraph, SceneObject


def seven_by_42() -> SceneGraph:
    objects = [SceneObject(i, "ball") for i in range(7)]
    relations = [Relation(a, "near", b) for a in range(7) for b in range(7) if a != b]
    return SceneGraph(objects, relations)


def test_repr_shows_sizes_not_contents():
    assert repr(seven_by_42()) == "SceneGraph(objects=7, relations=42)"
    assert repr(SceneGraph([])) == "SceneGraph(objects=0, relations=0)"


def test_access(four_objects):
    s = four_objects
    assert len(s) == 4 and s.id == "four"
    assert s.ids == (0, 1, 2, 3)
    assert s.position(2) == 2 and s.has_object(3) and not s.has_object(4)
    cyl = s.object(2)
    assert cyl.name == "cylinder"
    assert cyl.get("color") == "blue" and cyl.get("weight") is None
    assert cyl.values("size") == ("large",)
    assert cyl.labels == ("wooden",)
    assert cyl.describe() == "large blue rubber wooden cylinder #2"
    assert s.predicates() == {"left", "right", "behind", "front"}
    assert len(s.relations) == 24


def test_unknown_id_lists_known_ids(four_objects):
    with pytest.raises(KeyError, match=r"no object with id 9 \(ids: 0, 1, 2, 3\)"):
        four_objects.position(9)


def test_attributes_keyed_and_free():
    red = Attribute("red", key="color", confidence=0.8)
    assert str(red) == "color=red" and str(Attribute("wooden")) == "wooden"
    obj = SceneObject("a", "cup", (red, Attribute("blue", key="color"), Attribute("wooden")))
    assert obj.get("color") == "red"
    assert obj.values("color") == ("red", "blue")
    assert obj.labels == ("wooden",)


def test_duplicate_ids():
    with pytest.raises(DuplicateIdError) as info:
        SceneGraph([SceneObject("a"), SceneObject("b"), SceneObject("a")])
    err = info.value
    assert err.path == "objects[2].id"
    assert "'a' is used twice (objects[0] and objects[2])" in str(err)
    assert isinstance(err, SceneFormatError)


def test_int_and_str_ids_are_different():
    scene = SceneGraph([SceneObject(1), SceneObject("1")], [Relation(1, "near", "1")])
    assert scene.position("1") == 1 and scene.position(1) == 0


@pytest.mark.parametrize("end", ["subject", "object"])
def test_dangling_relation(end):
    ends = {"subject": 0, "object": 1, end: 7}
    with pytest.raises(DanglingRelationError) as info:
        SceneGraph([SceneObject(0), SceneObject(1)], [Relation(0, "near", 1), Relation(ends["subject"], "left", ends["object"])])
    assert info.value.path == f"relations[1].{end}"
    assert f"{end} 7 is not an object of this scene (ids: 0, 1)" in str(info.value)


def test_dangling_relation_in_empty_scene():
    with pytest.raises(DanglingRelationError, match="the scene has no objects"):
        SceneGraph([], [Relation(0, "near", 1)])


def test_not_a_scene_object():
    with pytest.raises(SceneFormatError, match=r"objects\[1\]: expected a SceneObject, got dict"):
        SceneGraph([SceneObject(0), {"id": 1}])  # type: ignore[list-item]


def test_equality_and_hash(four_objects):
    objects = [SceneObject(0, "cube", box=BoundingBox(1, 2, 3, 4))]
    assert SceneGraph(objects, id=1) == SceneGraph(list(objects), id=1)
    assert SceneGraph(objects, id=1) != SceneGraph(objects, id=2)
    assert SceneGraph(objects, meta={"a": 1}) != SceneGraph(objects)
    assert four_objects != "four"
    with pytest.raises(TypeError):
        hash(four_objects)


def test_index_is_built_once(four_objects):
    assert four_objects.index is four_objects.index
    assert repr(four_objects.index) == "SceneIndex(objects=4, predicates=4)"


def test_to_dict_delegates_to_native(four_objects):
    from nsreason.scene.native import scene_from_dict

    assert scene_from_dict(four_objects.to_dict()) == four_objects
