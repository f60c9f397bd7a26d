"""Hostile JSON files and texts (nsreason.jsonio, and the scene loaders and Trace.from_json
that read through it): deep nesting, huge integers and strings, files over the size limit,
FIFOs and devices. Each ends, in bounded time, in a typed error naming the file."""

from __future__ import annotations

import os
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nsreason.errors import InputError, SceneFormatError, TraceFormatError
from nsreason.jsonio import loads_json, read_bounded, read_json
from nsreason.limits import get_limits, raised
from nsreason.scene.io import load_scenes
from nsreason.trace import Trace
from tests.hostile.bounds import within


@pytest.mark.parametrize("depth", [129, 500, 990, 1000, 5000, 100_000])
def test_deep_nesting_is_a_typed_error(tmp_path, depth):
    text = "[" * depth + "]" * depth
    f = tmp_path / "deep.json"
    f.write_text(text)
    with pytest.raises(SceneFormatError, match="nested") as err:
        within(10, load_scenes, f)
    assert str(f) in str(err.value)
    with pytest.raises(TraceFormatError, match="nested"):
        within(10, Trace.from_json, '{"schema": "x", "steps": ' + text + "}")


@given(st.integers(1, 2000), st.sampled_from(["[", '{"a":']))
@settings(max_examples=30, deadline=None)
def test_any_depth_loads_or_is_refused(depth, opener):
    closer = "]" if opener == "[" else "}"
    text = opener * depth + "0" + closer * depth
    try:
        within(10, loads_json, text)
    except InputError as err:
        assert depth > get_limits().json_depth - 1
        assert "nested" in str(err)
    else:
        assert depth <= get_limits().json_depth


def test_the_depth_limit_can_be_raised():
    text = "[" * 300 + "]" * 300
    with pytest.raises(InputError):
        loads_json(text)
    with raised(json_depth=400):
        value = loads_json(text)
    for _ in range(299):
        value = value[0]
    assert value == []


def test_huge_integer_and_string():
    with pytest.raises(InputError, match="not readable JSON"):
        within(10, loads_json, "[" + "9" * (sys.get_int_max_str_digits() + 1) + "]")
    with raised(string_chars=1000):
        with pytest.raises(InputError, match="a JSON string of 1,001 characters"):
            loads_json('{"a": ["' + "x" * 1001 + '"]}')
        assert loads_json('{"' + "k" * 10 + '": 1}')


def test_files_over_the_size_limit_are_not_read_whole(tmp_path):
    f = tmp_path / "big.json"
    f.write_bytes(b"[" + b"0," * 5000 + b"0]")
    with raised(file_bytes=1000), pytest.raises(
            SceneFormatError, match="file too large: 10,003 bytes, the limit is 1,000"):
        load_scenes(f)
    assert read_json(f)[:2] == [0, 0]


@pytest.mark.skipif(not os.path.exists("/proc/self/environ"), reason="needs /proc")
def test_files_that_say_size_0_are_read_to_the_limit_only():
    # /proc files report size 0: the bound is on what is read, not on what stat says.
    with pytest.raises(InputError, match="file too large: more, the limit is 4 bytes"):
        read_bounded("/proc/self/status", 4)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "scene.json"
    os.mkfifo(fifo)
    with pytest.raises(SceneFormatError, match=r"expected a JSON file, got a FIFO") as err:
        within(10, load_scenes, fifo)
    assert str(fifo) in str(err.value)


@pytest.mark.parametrize(("path", "kind"), [("/dev/zero", "a character device"),
                                            ("/dev/null", "a character device")])
def test_devices_are_refused(path, kind):
    if not os.path.exists(path):
        pytest.skip(f"no {path}")
    with pytest.raises(SceneFormatError, match=f"got {kind}"):
        within(10, load_scenes, path)


def test_errors_never_echo_file_content(tmp_path):
    f = tmp_path / "secret.json"
    f.write_text('{"objects": [SECRET_TOKEN=hunter2]}')
    with pytest.raises(SceneFormatError) as err:
        load_scenes(f)
    assert "hunter2" not in str(err.value)


def test_duplicate_keys_in_a_scene_file(tmp_path):
    # A GQA scene graph with object "1" twice: one would be dropped silently.
    f = tmp_path / "gqa.json"
    f.write_text('{"2353884": {"width": 500, "height": 333, "objects": {'
                 '"1": {"name": "man", "x": 0, "y": 0, "w": 5, "h": 5, "attributes": [], "relations": []}, '
                 '"1": {"name": "dog", "x": 0, "y": 0, "w": 5, "h": 5, "attributes": [], "relations": []}}}}')
    with pytest.raises(SceneFormatError, match="the key '1' is in one object twice") as err:
        load_scenes(f)
    assert str(f) in str(err.value)


@pytest.mark.parametrize("constant", ["NaN", "Infinity"])
def test_nan_in_a_scene_file(tmp_path, constant):
    f = tmp_path / "s.json"
    f.write_text('{"format": "nsreason.scene/1", "objects": [{"id": 0, "name": "cube", "x": ' + constant + "}]}")
    with pytest.raises(SceneFormatError, match=f"{constant} is not a JSON number"):
        load_scenes(f)


def _deep(n: int) -> dict:
    value: list = []
    for _ in range(n):
        value = [value]
    return {"d": value}


@pytest.mark.parametrize("bad", [{"a": float("nan")}, {1: "x"}, {"a": {1, 2}}, {"a": object()}, _deep(200),
                                 _deep(5_000)], ids=["nan", "int key", "set", "object", "deep", "deeper"])
@pytest.mark.parametrize("where", ["meta", "extra"])
def test_the_native_reader_refuses_what_the_writer_refuses(bad, where):
    """scene_from_dict (the reader) and scene_to_dict (the writer) agree on meta and extra:
    plain JSON data within the depth limit, never NaN, non-string keys or Python objects."""
    from nsreason.errors import SceneFormatError
    from nsreason.scene.native import scene_from_dict

    data = {"format": "nsreason.scene/1", "objects": [{"id": 0, "name": "cube"}]}
    if where == "meta":
        data["meta"] = bad
    else:
        data["objects"][0]["extra"] = bad
    with pytest.raises(SceneFormatError, match=where):
        within(5, scene_from_dict, data)
