"""One entry point: format detection and load_scenes on every format."""

from __future__ import annotations

import json

import pytest

from nsreason.errors import RegistryError, SceneFormatError
from nsreason.scene import (
    SCENE_FORMATS,
    SceneGraph,
    SceneObject,
    detect_format,
    load_clevr_scenes,
    load_gqa_scenes,
    load_scenes,
    save_native_scenes,
    scene_to_dict,
)

CLEVR_SCENE = {
    "image_index": 0,
    "objects": [{"shape": "cube", "size": "large", "color": "red", "material": "metal"}],
    "relationships": {"left": [[]]},
}
GQA_GRAPH = {"width": 10, "height": 10, "objects": {"1": {"name": "man", "attributes": [], "relations": []}}}
VG_IMAGE = {"image_id": 7, "objects": [{"object_id": 1, "names": ["man"]}], "relationships": []}
NATIVE = {"format": "nsreason.scene/1", "objects": [{"id": 0, "name": "cube"}], "relations": []}

CASES = [
    ("clevr file", {"scenes": [CLEVR_SCENE]}, "clevr"),
    ("clevr list", [CLEVR_SCENE], "clevr"),
    ("clevr scene", CLEVR_SCENE, "clevr"),
    ("clevr empty file", {"scenes": []}, "clevr"),
    ("clevr scene without objects", {"objects": [], "relationships": {"left": []}}, "clevr"),
    ("gqa file", {"2353884": GQA_GRAPH}, "gqa"),
    ("gqa graph", GQA_GRAPH, "gqa"),
    ("vg list", [VG_IMAGE], "gqa"),
    ("vg image", VG_IMAGE, "gqa"),
    ("native scene", NATIVE, "native"),
    ("native file", {"format": "nsreason.scene/1", "scenes": [NATIVE]}, "native"),
    ("native unknown version", {"format": "nsreason.scene/9", "objects": []}, "native"),
]


@pytest.mark.parametrize("data, fmt", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_detect_format(data, fmt):
    assert detect_format(data) == fmt


@pytest.mark.parametrize("data", [{}, {"questions": []}, 3, "scenes.json", None, {"a": 1}])
def test_undetectable_lists_the_formats(data):
    with pytest.raises(SceneFormatError) as info:
        detect_format(data)
    assert "cannot tell the scene format" in str(info.value)
    assert "pass format= explicitly (one of clevr, gqa, native)" in str(info.value)


@pytest.mark.parametrize("data, fmt", [c[1:] for c in CASES[:-1]], ids=[c[0] for c in CASES[:-1]])
def test_load_scenes_in_memory_and_from_files(data, fmt, tmp_path):
    scenes = load_scenes(data)
    assert all(isinstance(s, SceneGraph) for s in scenes)
    assert load_scenes(data, format=fmt) == scenes
    path = tmp_path / "scenes.json"
    path.write_text(json.dumps(data))
    assert load_scenes(path) == scenes == load_scenes(str(path), fmt)
    if fmt == "clevr":
        assert scenes == load_clevr_scenes(data)
    if fmt == "gqa":
        assert scenes == load_gqa_scenes(data)


def test_load_scenes_native_round_trip(four_objects, tmp_path):
    path = save_native_scenes([four_objects], tmp_path / "n.json")
    assert load_scenes(path) == [four_objects]
    assert load_scenes(scene_to_dict(four_objects)) == [four_objects]


def test_unknown_format_lists_available():
    with pytest.raises(RegistryError) as info:
        load_scenes(NATIVE, format="yaml")
    assert str(info.value) == "unknown scene format 'yaml'; available: auto, clevr, gqa, native"
    assert sorted(SCENE_FORMATS) == ["clevr", "gqa", "native"]
    with pytest.raises(RegistryError):
        load_scenes(NATIVE, format=["clevr"])  # type: ignore[arg-type]


def test_forced_format_gives_that_format_errors():
    with pytest.raises(SceneFormatError, match="missing field 'format'"):
        load_scenes({"objects": []}, format="native")
    with pytest.raises(SceneFormatError, match=r"scene\.objects\[0\]: missing field 'size'"):
        load_scenes({"objects": [{"id": 0}]}, format="clevr")


def test_native_scenes_without_top_level_format():
    data = {"scenes": [NATIVE]}
    assert detect_format(data) == "native"
    with pytest.raises(SceneFormatError, match="missing field 'format'"):
        load_scenes(data)


def test_errors_name_the_file(tmp_path):
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"img": {"objects": {"1": {"name": 3}}}}))
    with pytest.raises(SceneFormatError) as info:
        load_scenes(path)
    assert str(info.value) == f"{path}: img.objects.1.name: expected a string, got 3"
    path.write_text('"another.json"')
    with pytest.raises(SceneFormatError, match="got a string"):
        load_scenes(path, format="clevr")
    path.write_text("{}")
    with pytest.raises(SceneFormatError) as info:
        load_scenes(path)
    assert info.value.source == str(path) and "cannot tell the scene format" in info.value.message
    bad = tmp_path / "bad.json"
    bad.write_text("[1,\n2,\n")
    with pytest.raises(SceneFormatError, match=r"bad\.json: not valid JSON: .* at line 3"):
        load_scenes(bad)


@pytest.mark.data
def test_load_scenes_on_the_shared_files(gqa_path, clevr_humans_path):
    assert len(load_scenes(gqa_path)) == 100
    assert len(load_scenes(clevr_humans_path)) == 1000


def test_native_scene_with_one_object():
    assert load_scenes(NATIVE) == [SceneGraph([SceneObject(0, "cube")])]
