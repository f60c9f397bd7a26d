"""The native JSON format: exact round trips, the documented example, strict reading."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nsreason.errors import DanglingRelationError, DuplicateIdError, SceneFormatError
from nsreason.scene import (
    Attribute,
    BoundingBox,
    Relation,
    SceneGraph,
    SceneObject,
    load_native_scenes,
    load_scenes,
    save_native_scenes,
    scene_from_dict,
    scene_to_dict,
)
from nsreason.scene.native import FORMAT

DOC = Path(__file__).resolve().parents[2] / "docs" / "scene-format.md"

# -- strategies ---------------------------------------------------------------------------
finite = st.floats(allow_nan=False, allow_infinity=False)
unit = st.one_of(st.none(), st.floats(0, 1), st.sampled_from([0, 1]))
text = st.text(max_size=8)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), finite, text)
json_data = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=8,
)
ids = st.one_of(st.integers(-5, 10**12), text)
attributes = st.builds(
    Attribute,
    value=st.one_of(st.sampled_from(["red", "blue", "wooden", ""]), text),
    key=st.one_of(st.none(), st.sampled_from(["color", "size", "a.b", "to the left"]), text),
    confidence=unit,
)


@st.composite
def scene_graphs(draw):
    object_ids = draw(st.lists(ids, unique=True, max_size=6))
    objects = [
        SceneObject(
            id=oid,
            name=draw(st.one_of(st.none(), text)),
            attributes=tuple(draw(st.lists(attributes, max_size=5))),
            confidence=draw(unit),
            box=draw(st.one_of(st.none(), st.builds(BoundingBox, finite, finite, finite, finite))),
            coords=draw(st.one_of(st.none(), st.lists(finite, max_size=3).map(tuple))),
            features=draw(st.one_of(st.none(), st.lists(finite, max_size=4).map(tuple))),
            extra=draw(st.dictionaries(text, json_data, max_size=2)),
        )
        for oid in object_ids
    ]
    relations = []
    if object_ids:
        ends = st.sampled_from(object_ids)
        relations = draw(st.lists(st.builds(Relation, ends, text, ends, unit), max_size=8))
    return SceneGraph(
        objects,
        relations,
        id=draw(st.one_of(st.none(), st.integers(), text)),
        meta=draw(st.dictionaries(text, json_data, max_size=3)),
    )


# -- round trips --------------------------------------------------------------------------
@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(scene_graphs())
def test_round_trip_in_memory_and_through_json_text(scene):
    data = scene_to_dict(scene)
    assert scene_from_dict(data) == scene
    text_form = json.dumps(data, allow_nan=False)
    again = scene_from_dict(json.loads(text_form))
    assert again == scene
    assert [type(o.id) for o in again.objects] == [type(o.id) for o in scene.objects]
    assert [type(r.subject) for r in again.relations] == [type(r.subject) for r in scene.relations]
    assert type(again.id) is type(scene.id)
    assert load_native_scenes(json.loads(text_form)) == [scene]


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(st.lists(scene_graphs(), max_size=3))
def test_round_trip_through_files(tmp_path_factory, scenes):
    path = tmp_path_factory.mktemp("native") / "scenes.json"
    assert save_native_scenes(scenes, path) == path
    assert load_native_scenes(path) == scenes
    assert load_scenes(path) == scenes


def test_round_trip_of_fixture_and_single_scene_file(four_objects, tmp_path):
    path = save_native_scenes(four_objects, tmp_path / "one.json", indent=2)
    data = json.loads(path.read_text())
    assert data["format"] == FORMAT and "scenes" not in data
    assert load_native_scenes(path) == [four_objects]
    multi = json.loads(save_native_scenes([four_objects, four_objects], tmp_path / "two.json").read_text())
    assert list(multi) == ["format", "scenes"] and "format" not in multi["scenes"][0]


def test_compact_form_when_order_allows():
    obj = SceneObject(
        7, "cup",
        (Attribute("red", key="color", confidence=0.9), Attribute("blue", key="color"),
         Attribute("small", key="size"), Attribute("wooden"), Attribute("shiny", confidence=0.5)),
        box=BoundingBox(1, 2, 3, 4), confidence=0.98, extra={"source": "detector"},
    )
    data = scene_to_dict(SceneGraph([obj], id="x", meta={"camera": [0, 1]}))
    assert data == {
        "format": FORMAT,
        "id": "x",
        "objects": [{
            "id": 7, "name": "cup",
            "attributes": {"color": [{"value": "red", "confidence": 0.9}, "blue"], "size": "small"},
            "labels": ["wooden", {"value": "shiny", "confidence": 0.5}],
            "box": [1.0, 2.0, 3.0, 4.0], "confidence": 0.98, "extra": {"source": "detector"},
        }],
        "relations": [],
        "meta": {"camera": [0, 1]},
    }


def test_list_form_keeps_interleaved_order():
    attrs = (Attribute("wooden"), Attribute("red", key="color"), Attribute("big", key="size"),
             Attribute("blue", key="color", confidence=0.25))
    scene = SceneGraph([SceneObject("a", attributes=attrs)])
    data = scene_to_dict(scene)
    assert data["objects"][0]["attributes"] == [
        {"value": "wooden"}, {"key": "color", "value": "red"}, {"key": "size", "value": "big"},
        {"key": "color", "value": "blue", "confidence": 0.25},
    ]
    assert "labels" not in data["objects"][0]
    assert scene_from_dict(data).objects[0].attributes == attrs
    # label strings are accepted in the list form too
    data["objects"][0]["attributes"][0] = "wooden"
    assert scene_from_dict(data) == scene


def test_documented_example_loads():
    if not DOC.exists():
        pytest.skip(f"{DOC} is absent")
    block = DOC.read_text().split("```json", 1)[1].split("```", 1)[0]
    (scene,) = load_native_scenes(json.loads(block))
    assert scene.id == "kitchen-042"
    assert scene_from_dict(scene_to_dict(scene)) == scene


# -- strict reading -----------------------------------------------------------------------
def good():
    return {
        "format": FORMAT, "id": 3,
        "objects": [{"id": i, "name": "cube", "attributes": {"color": "red"}} for i in range(9)],
        "relations": [{"subject": 0, "predicate": "left", "object": 1, "confidence": 0.5}],
    }


def edit(fn):
    data = good()
    fn(data)
    return data


def attr(i, value):
    return lambda d: d["objects"][i].__setitem__("attributes", value)


MALFORMED = [
    ("confidence text", attr(7, {"color": {"value": "red", "confidence": "high"}}), SceneFormatError,
     "objects[7].attributes.color.confidence", "expected a number in [0, 1], got 'high'"),
    ("confidence > 1", attr(7, {"color": {"value": "red", "confidence": 1.5}}), SceneFormatError,
     "objects[7].attributes.color.confidence", "expected a number in [0, 1], got 1.5"),
    ("confidence bool", attr(2, {"color": {"value": "red", "confidence": True}}), SceneFormatError,
     "objects[2].attributes.color.confidence", "got true"),
    ("value in list", attr(1, {"color": ["red", 5]}), SceneFormatError,
     "objects[1].attributes.color[1]", "expected a value: a string or {'value': ..., 'confidence': ...}, got 5"),
    ("value missing", attr(1, {"color": {"confidence": 0.5}}), SceneFormatError,
     "objects[1].attributes.color", "missing field 'value'"),
    ("value field unknown", attr(1, {"color": {"value": "red", "score": 0.5}}), SceneFormatError,
     "objects[1].attributes.color", "unknown field 'score' of a value; expected fields: value, confidence"),
    ("odd key quoted", attr(1, {"a.b": 3}), SceneFormatError, 'objects[1].attributes["a.b"]', "got 3"),
    ("attributes wrong type", attr(0, "red"), SceneFormatError, "objects[0].attributes",
     "expected an object {key: value} or a list of attributes, got 'red'"),
    ("list entry bad", attr(0, [{"key": 1, "value": "red"}]), SceneFormatError, "objects[0].attributes[0].key",
     "expected a string or null, got 1"),
    ("list entry not an object", attr(0, [3]), SceneFormatError, "objects[0].attributes[0]", "got 3"),
    ("labels with list form", lambda d: d["objects"][0].update(attributes=[], labels=["x"]), SceneFormatError,
     "objects[0].labels", "'labels' cannot be combined with the list form"),
    ("labels not a list", lambda d: d["objects"][0].update(labels="wooden"), SceneFormatError,
     "objects[0].labels", "expected a list of labels, got 'wooden'"),
    ("label bad", lambda d: d["objects"][0].update(labels=[None]), SceneFormatError,
     "objects[0].labels[0]", "got null"),
    ("unknown object field", lambda d: d["objects"][4].update(colour="red"), SceneFormatError,
     "objects[4]", "unknown field 'colour' of an object; expected fields: id, name, attributes"),
    ("missing id", lambda d: d["objects"][4].pop("id"), SceneFormatError, "objects[4]", "missing field 'id'"),
    ("float id", lambda d: d["objects"][4].update(id=4.0), SceneFormatError, "objects[4].id",
     "expected an object id (a string or an integer), got 4.0"),
    ("bool id", lambda d: d["objects"][4].update(id=False), SceneFormatError, "objects[4].id", "got false"),
    ("duplicate id", lambda d: d["objects"][4].update(id=2), DuplicateIdError, "objects[4].id", "used twice"),
    ("name not a string", lambda d: d["objects"][4].update(name=["cube"]), SceneFormatError, "objects[4].name",
     "expected a string or null, got ['cube']"),
    ("box length", lambda d: d["objects"][4].update(box=[1, 2, 3]), SceneFormatError, "objects[4].box",
     "expected a list of 4 numbers [x, y, w, h], got [1, 2, 3]"),
    ("box not numbers", lambda d: d["objects"][4].update(box=[1, 2, 3, "4"]), SceneFormatError, "objects[4].box[3]",
     "expected a finite number, got '4'"),
    ("coords not a list", lambda d: d["objects"][4].update(coords=1.0), SceneFormatError, "objects[4].coords",
     "expected a list of numbers, got 1.0"),
    ("features nan", lambda d: d["objects"][4].update(features=[0.5, math.nan]), SceneFormatError,
     "objects[4].features[1]", "expected a finite number, got nan"),
    ("features huge int", lambda d: d["objects"][4].update(features=[10**400]), SceneFormatError,
     "objects[4].features[0]", "expected a finite number"),
    ("object confidence", lambda d: d["objects"][4].update(confidence=-0.1), SceneFormatError,
     "objects[4].confidence", "expected a number in [0, 1], got -0.1"),
    ("extra not an object", lambda d: d["objects"][4].update(extra=[1]), SceneFormatError, "objects[4].extra",
     "expected an object, got [1]"),
    ("object not an object", lambda d: d["objects"].append("cube"), SceneFormatError, "objects[9]",
     "expected an object, got 'cube'"),
    ("objects missing", lambda d: d.pop("objects"), SceneFormatError, None, "missing field 'objects'"),
    ("objects not a list", lambda d: d.update(objects={}), SceneFormatError, "objects",
     "expected a list of objects, got an empty object"),
    ("unknown scene field", lambda d: d.update(scene_id=1), SceneFormatError, None,
     "unknown field 'scene_id' of a scene; expected fields: format, id, objects, relations, meta"),
    ("scene id", lambda d: d.update(id=1.5), SceneFormatError, "id",
     "expected a scene id (a string, an integer or null), got 1.5"),
    ("meta", lambda d: d.update(meta=[]), SceneFormatError, "meta", "expected an object, got []"),
    ("relations not a list", lambda d: d.update(relations={}), SceneFormatError, "relations",
     "expected a list of relations"),
    ("relation not an object", lambda d: d["relations"].append([0, "left", 1]), SceneFormatError,
     "relations[1]", "expected a relation {'subject', 'predicate', 'object'}"),
    ("relation missing predicate", lambda d: d["relations"][0].pop("predicate"), SceneFormatError,
     "relations[0]", "missing field 'predicate'"),
    ("relation unknown field", lambda d: d["relations"][0].update(weight=1), SceneFormatError,
     "relations[0]", "unknown field 'weight' of a relation"),
    ("relation confidence", lambda d: d["relations"][0].update(confidence=2), SceneFormatError,
     "relations[0].confidence", "expected a number in [0, 1], got 2"),
    ("relation subject type", lambda d: d["relations"][0].update(subject=None), SceneFormatError,
     "relations[0].subject", "got null"),
    ("dangling object", lambda d: d["relations"][0].update(object=42), DanglingRelationError,
     "relations[0].object", "object 42 is not an object of this scene"),
    ("dangling: str vs int", lambda d: d["relations"][0].update(subject="0"), DanglingRelationError,
     "relations[0].subject", "subject '0' is not an object of this scene"),
    ("wrong version", lambda d: d.update(format="nsreason.scene/2"), SceneFormatError, "format",
     "unsupported version 'nsreason.scene/2'; this nsreason reads 'nsreason.scene/1'"),
    ("wrong format", lambda d: d.update(format="clevr"), SceneFormatError, "format",
     "expected 'nsreason.scene/1', got 'clevr'"),
]


@pytest.mark.parametrize("mutation, error, path, message", [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed(mutation, error, path, message):
    data = edit(mutation)
    for load in (scene_from_dict, lambda d: load_native_scenes(d)[0]):
        with pytest.raises(error) as info:
            load(data)
        assert type(info.value) is error
        assert info.value.path == path
        assert message in info.value.message


def test_the_message_in_full():
    data = edit(attr(7, {"color": {"value": "red", "confidence": "high"}}))
    with pytest.raises(SceneFormatError) as info:
        scene_from_dict(data)
    assert str(info.value) == "objects[7].attributes.color.confidence: expected a number in [0, 1], got 'high'"


def test_paths_inside_a_scenes_file(tmp_path):
    data = {"format": FORMAT, "scenes": [good(), edit(lambda d: d["relations"][0].update(object=42))]}
    with pytest.raises(DanglingRelationError) as info:
        load_native_scenes(data)
    assert info.value.path == "scenes[1].relations[0].object"
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    with pytest.raises(DanglingRelationError) as info:
        load_native_scenes(path)
    assert str(info.value).startswith(f"{path}: scenes[1].relations[0].object: object 42 is not")


@pytest.mark.parametrize(
    "data, path, message",
    [
        ([good()], None, "expected a native scene file ({'format': 'nsreason.scene/1', ...}), got a list"),
        ({"objects": []}, None, "missing field 'format': native scene files start with"),
        ({"format": FORMAT, "scenes": {}}, "scenes", "expected a list of scenes, got an empty object"),
        ({"format": FORMAT, "scenes": [], "meta": {}}, None, "unknown field 'meta' of a scenes file"),
        ({"format": FORMAT, "scenes": [1]}, "scenes[0]", "expected a scene object"),
        ({"format": FORMAT, "scenes": [dict(good(), format="x")]}, "scenes[0].format", "expected 'nsreason.scene/1'"),
    ],
)
def test_malformed_files(data, path, message):
    with pytest.raises(SceneFormatError) as info:
        load_native_scenes(data)
    assert info.value.path == path
    assert message in info.value.message


def test_invalid_json_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"format": "nsreason.scene/1",\n "objects": [,]}')
    with pytest.raises(SceneFormatError, match=r"bad\.json: not valid JSON: .* at line 2"):
        load_native_scenes(path)


def test_optional_fields_may_be_null():
    data = {"format": FORMAT, "id": None, "objects": [{"id": "a", "name": None, "attributes": None, "labels": None,
            "box": None, "coords": None, "features": None, "confidence": None, "extra": None}],
            "relations": None, "meta": None}
    assert scene_from_dict(data) == SceneGraph([SceneObject("a")])


# -- writing what cannot be read back ------------------------------------------------------
@pytest.mark.parametrize(
    "scene, path, message",
    [
        (SceneGraph([SceneObject(0, confidence=1.5)]), "objects[0].confidence", "expected a number in [0, 1]"),
        (SceneGraph([SceneObject(0, attributes=(Attribute("r", key="c", confidence=2),))]),
         "objects[0].attributes.c.confidence", "expected a number in [0, 1], got 2"),
        (SceneGraph([SceneObject(0, features=(math.inf,))]), "objects[0].features[0]", "expected a finite number"),
        (SceneGraph([SceneObject(0.5)]), "objects[0].id", "expected an object id"),  # type: ignore[arg-type]
        (SceneGraph([], meta={"when": object()}), "meta.when", "expected JSON data, got an object"),
        (SceneGraph([], meta={1: "x"}), "meta", "expected JSON data (objects with string keys), got key 1"),
        (SceneGraph([SceneObject(0, extra={"x": math.nan})]), "objects[0].extra.x", "not finite"),
        (SceneGraph([], id=(1, 2)), "id", "expected a scene id"),  # type: ignore[arg-type]
        (SceneGraph([SceneObject(0)], [Relation(0, "on", 0, confidence=-1)]), "relations[0].confidence", "in [0, 1]"),
    ],
)
def test_writing_refuses_what_reading_would(scene, path, message, tmp_path):
    with pytest.raises(SceneFormatError) as info:
        scene_to_dict(scene)
    assert info.value.path == path and message in info.value.message
    with pytest.raises(SceneFormatError) as info:
        save_native_scenes([SceneGraph([]), scene], tmp_path / "x.json")
    assert info.value.path == f"scenes[1].{path}"


def test_save_rejects_non_scenes(tmp_path):
    with pytest.raises(SceneFormatError, match=r"scenes\[0\]: expected a SceneGraph"):
        save_native_scenes([{"objects": []}], tmp_path / "x.json")  # type: ignore[list-item]
