"""GQA and Visual Genome scene graphs: the 100 real GQA graphs and malformed cases."""

from __future__ import annotations

import copy
import json
from collections import Counter

import pytest

from nsreason.errors import DanglingRelationError, DuplicateIdError, SceneFormatError
from nsreason.scene import Attribute, BoundingBox, Relation, load_gqa_scenes

# -- the real data ------------------------------------------------------------------------
# Measured on gqa_val_scene_graphs_100.json; the README says 1,580 objects, 4,729 relations.
N_GRAPHS, N_OBJECTS, N_RELATIONS, N_PREDICATES = 100, 1580, 4729, 61


@pytest.mark.data
def test_all_100_graphs_load_with_the_readme_totals(gqa_scenes):
    assert len(gqa_scenes) == N_GRAPHS
    assert sum(len(s) for s in gqa_scenes) == N_OBJECTS
    assert sum(len(s.relations) for s in gqa_scenes) == N_RELATIONS
    assert len(set().union(*(s.predicates() for s in gqa_scenes))) == N_PREDICATES


@pytest.mark.data
def test_real_graphs_match_the_raw_json(gqa_scenes, gqa_raw):
    assert [s.id for s in gqa_scenes] == list(gqa_raw)
    for scene, graph in zip(gqa_scenes, gqa_raw.values()):
        assert scene.meta == {k: v for k, v in graph.items() if k != "objects"}
        assert scene.ids == tuple(graph["objects"])
        expected = [
            Relation(oid, r["name"], r["object"])
            for oid, o in graph["objects"].items()
            for r in o["relations"]
        ]
        assert list(scene.relations) == expected
        for obj in scene.objects:
            raw = graph["objects"][obj.id]
            assert isinstance(obj.id, str)
            assert obj.name == raw["name"]
            assert obj.attributes == tuple(Attribute(a) for a in raw["attributes"])
            assert obj.box == BoundingBox(raw["x"], raw["y"], raw["w"], raw["h"])
            assert obj.extra == {} and obj.coords is None


@pytest.mark.data
def test_real_meta_fields(gqa_scenes):
    keys = Counter(k for s in gqa_scenes for k in s.meta)
    assert keys == Counter({"width": 100, "height": 100, "location": 25, "weather": 4})
    first = gqa_scenes[0]
    assert first.id == "2353884" and first.meta == {"width": 500, "height": 281}
    assert repr(first) == "SceneGraph(objects=18, relations=33)"


@pytest.mark.data
def test_real_graph_runs_through_the_index(gqa_scenes):
    scene = gqa_scenes[0]
    ix = scene.index
    nose = scene.position("2716708")
    assert ix.objects_mask("of", nose) == 1 << scene.position("2449847")
    assert ix.decode(ix.name_masks["nose"]) == ["2716708"]


@pytest.mark.data
def test_dangling_in_real_data_names_path_and_file(gqa_raw, tmp_path):
    data = copy.deepcopy(gqa_raw)
    data["2353884"]["objects"]["2716708"]["relations"][1]["object"] = "999"
    with pytest.raises(DanglingRelationError) as info:
        load_gqa_scenes(data)
    assert info.value.path == "2353884.objects.2716708.relations[1].object"
    assert "'999' is not an object of this scene" in info.value.message
    path = tmp_path / "gqa.json"
    path.write_text(json.dumps(data))
    with pytest.raises(DanglingRelationError) as info:
        load_gqa_scenes(path)
    assert str(info.value).startswith(f"{path}: 2353884.objects.2716708.relations[1].object: ")


# -- synthetic graphs ---------------------------------------------------------------------
def graph():
    return {
        "width": 640, "height": 480, "location": "street",
        "objects": {
            "10": {"name": "man", "x": 5, "y": 6, "w": 50, "h": 200, "attributes": ["tall", "smiling"],
                   "relations": [{"name": "wearing", "object": "11"}, {"name": "to the left of", "object": "12"}]},
            "11": {"name": "hat", "x": 10, "y": 0, "w": 20, "h": 10, "attributes": ["red"], "relations": []},
            "12": {"name": "car", "x": 100, "y": 50, "w": 300, "h": 200, "attributes": [],
                   "relations": [{"name": "to the right of", "object": "10"}]},
        },
    }


def test_whole_file_and_single_graph():
    (s,) = load_gqa_scenes({"img1": graph()})
    assert s.id == "img1"
    assert s.meta == {"width": 640, "height": 480, "location": "street"}
    assert s.relations == (
        Relation("10", "wearing", "11"), Relation("10", "to the left of", "12"),
        Relation("12", "to the right of", "10"),
    )
    assert s.object("10").labels == ("tall", "smiling")
    assert s.object("11").box == BoundingBox(10, 0, 20, 10)
    (single,) = load_gqa_scenes(graph())
    assert single.id is None and single.objects == s.objects and single.relations == s.relations
    with_id = dict(graph(), image_id="img1")
    assert load_gqa_scenes(with_id) == [s]
    assert load_gqa_scenes({}) == []


def test_optional_fields():
    g = {"objects": {"1": {"name": "sky"}, "2": {"name": "cloud", "relations": [{"name": "in", "object": "1"}],
                                                 "synsets": ["cloud.n.01"]}}}
    (s,) = load_gqa_scenes(g)
    assert s.object("1").box is None and s.object("1").attributes == ()
    assert s.object("2").extra == {"synsets": ["cloud.n.01"]}
    assert s.meta == {}


def broken(fn):
    g = {"img": graph()}
    fn(g["img"])
    return g


MALFORMED = [
    ("objects a list", lambda g: g.update(objects=[1]), SceneFormatError, "img.objects", "expected an object {object_id: {...}}, got [1]"),
    ("objects missing", lambda g: g.pop("objects"), SceneFormatError, "img", "missing field 'objects'"),
    ("objects wrong type", lambda g: g.update(objects="x"), SceneFormatError, "img.objects", "expected an object {object_id: {...}}, got 'x'"),
    ("object not an object", lambda g: g["objects"].update({"11": ["hat"]}), SceneFormatError, "img.objects.11", "expected an object, got ['hat']"),
    ("name missing", lambda g: g["objects"]["11"].pop("name"), SceneFormatError, "img.objects.11", "missing field 'name'"),
    ("name not a string", lambda g: g["objects"]["11"].update(name=None), SceneFormatError, "img.objects.11.name", "expected a string, got null"),
    ("partial box", lambda g: g["objects"]["11"].pop("h"), SceneFormatError, "img.objects.11", "a bounding box needs x, y, w and h; missing h"),
    ("box not a number", lambda g: g["objects"]["11"].update(w="20"), SceneFormatError, "img.objects.11.w", "expected a finite number, got '20'"),
    ("attributes not a list", lambda g: g["objects"]["11"].update(attributes="red"), SceneFormatError, "img.objects.11.attributes", "expected a list of attribute strings, got 'red'"),
    ("attribute not a string", lambda g: g["objects"]["10"]["attributes"].append(7), SceneFormatError, "img.objects.10.attributes[2]", "expected a string, got 7"),
    ("relations not a list", lambda g: g["objects"]["11"].update(relations={}), SceneFormatError, "img.objects.11.relations", "expected a list of relations"),
    ("relation not an object", lambda g: g["objects"]["10"]["relations"].append("on"), SceneFormatError, "img.objects.10.relations[2]", "expected a relation {'name', 'object'}, got 'on'"),
    ("relation name missing", lambda g: g["objects"]["10"]["relations"][1].pop("name"), SceneFormatError, "img.objects.10.relations[1]", "missing field 'name'"),
    ("relation object missing", lambda g: g["objects"]["12"]["relations"][0].pop("object"), SceneFormatError, "img.objects.12.relations[0]", "missing field 'object'"),
    ("relation name not a string", lambda g: g["objects"]["10"]["relations"][0].update(name=1), SceneFormatError, "img.objects.10.relations[0].name", "expected a string, got 1"),
    ("dangling", lambda g: g["objects"]["10"]["relations"][1].update(object="99"), DanglingRelationError, "img.objects.10.relations[1].object", "'99' is not an object of this scene (ids: '10', '11', '12')"),
    ("int target", lambda g: g["objects"]["10"]["relations"][1].update(object=12), DanglingRelationError, "img.objects.10.relations[1].object", "12 is not an object of this scene (object ids are strings here)"),
    ("float target", lambda g: g["objects"]["10"]["relations"][1].update(object=12.0), SceneFormatError, "img.objects.10.relations[1].object", "expected an object id (a string or an integer), got 12.0"),
    ("width not a number", lambda g: g.update(width="640px"), SceneFormatError, "img.width", "expected a finite number, got '640px'"),
]


@pytest.mark.parametrize("mutation, error, path, message", [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed(mutation, error, path, message):
    with pytest.raises(error) as info:
        load_gqa_scenes(broken(mutation))
    assert type(info.value) is error
    assert info.value.path == path
    assert message in info.value.message


def test_path_quotes_odd_keys():
    g = {"image 1": {"objects": {"a.b": {"name": "x", "relations": [{"name": "on", "object": "zz"}]}}}}
    with pytest.raises(DanglingRelationError) as info:
        load_gqa_scenes(g)
    assert info.value.path == '["image 1"].objects["a.b"].relations[0].object'


@pytest.mark.parametrize("data", [3, None, True, 2.5])
def test_top_level_wrong_type(data):
    with pytest.raises(SceneFormatError, match="expected GQA scene graphs"):
        load_gqa_scenes(data)


def test_graph_not_an_object():
    with pytest.raises(SceneFormatError) as info:
        load_gqa_scenes({"img": [1, 2]})
    assert info.value.path == "img" and "expected a scene graph" in info.value.message


# -- Visual Genome list style -------------------------------------------------------------
def vg():
    return [{
        "image_id": 1,
        "objects": [
            {"object_id": 100, "names": ["man", "person"], "x": 1, "y": 2, "w": 3, "h": 4,
             "attributes": ["tall"], "synsets": ["man.n.01"]},
            {"object_id": 101, "name": "shirt", "x": 1, "y": 2, "w": 3, "h": 4},
        ],
        "relationships": [
            {"relationship_id": 9, "predicate": "wearing", "subject_id": 100, "object_id": 101},
            {"predicate": "ON", "subject": {"object_id": 101, "name": "shirt"}, "object": {"object_id": 100}},
        ],
    }]


def test_visual_genome_list_style():
    (s,) = load_gqa_scenes(vg())
    assert s.id == 1 and s.ids == (100, 101)
    man = s.object(100)
    assert man.name == "man" and man.labels == ("tall",)
    assert man.extra == {"names": ["man", "person"], "synsets": ["man.n.01"]}
    assert man.box == BoundingBox(1, 2, 3, 4)
    assert s.relations == (Relation(100, "wearing", 101), Relation(101, "ON", 100))
    assert load_gqa_scenes(vg()[0]) == [s]


VG_MALFORMED = [
    ("no object id", lambda d: d["objects"][0].pop("object_id"), SceneFormatError, "[0].objects[0]", "missing field 'object_id'"),
    ("no names", lambda d: d["objects"][0].pop("names"), SceneFormatError, "[0].objects[0]", "missing field 'names' (or 'name')"),
    ("empty names", lambda d: d["objects"][0].update(names=[]), SceneFormatError, "[0].objects[0].names", "non-empty"),
    ("duplicate id", lambda d: d["objects"][1].update(object_id=100), DuplicateIdError, "[0].objects[1].id", "used twice"),
    ("dangling subject", lambda d: d["relationships"][0].update(subject_id=5), DanglingRelationError, "[0].relationships[0].subject", "5 is not an object of this image"),
    ("dangling embedded", lambda d: d["relationships"][1]["object"].update(object_id=7), DanglingRelationError, "[0].relationships[1].object", "7 is not an object"),
    ("no subject", lambda d: d["relationships"][0].pop("subject_id"), SceneFormatError, "[0].relationships[0]", "missing field 'subject_id' (or 'subject')"),
    ("no predicate", lambda d: d["relationships"][0].pop("predicate"), SceneFormatError, "[0].relationships[0]", "missing field 'predicate'"),
    ("bad image id", lambda d: d.update(image_id=[1]), SceneFormatError, "[0].image_id", "expected an image id"),
    ("relationships not a list", lambda d: d.update(relationships={}), SceneFormatError, "[0].relationships", "expected a list of relationships"),
]


@pytest.mark.parametrize("mutation, error, path, message", [m[1:] for m in VG_MALFORMED], ids=[m[0] for m in VG_MALFORMED])
def test_visual_genome_malformed(mutation, error, path, message):
    data = vg()
    mutation(data[0])
    with pytest.raises(error) as info:
        load_gqa_scenes(data)
    assert type(info.value) is error
    assert info.value.path == path
    assert message in info.value.message
