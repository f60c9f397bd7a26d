"""Hostile input through the ``nsreason`` command, each case in a subprocess with a time
bound: exit 0, 1 or 2, no traceback, output that is valid UTF-8 without terminal controls,
no file content echoed."""

from __future__ import annotations

import json
import os
import re
import sys

import pytest

from tests.hostile.bounds import SCENES, run_cli

PROGRAM = "count(scene())"
CONTROLS = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")


def _refused(args, needle: bytes):
    proc = run_cli(args, timeout=30)
    assert proc.returncode == 2 and needle in proc.stderr, proc.stderr
    return proc


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deep_scene_file(tmp_path, depth):
    f = tmp_path / "deep.json"
    f.write_text("[" * depth + "]" * depth)
    _refused(["run", "--scene", str(f), "--program", PROGRAM], b"nested")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_scene_does_not_block(tmp_path):
    fifo = tmp_path / "scene.json"
    os.mkfifo(fifo)
    _refused(["run", "--scene", str(fifo), "--program", PROGRAM], b"got a FIFO")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_dev_zero_as_scene_and_program():
    _refused(["run", "--scene", "/dev/zero", "--program", PROGRAM], b"got a character device")
    _refused(["run", "--scene", str(SCENES), "--program", "@/dev/zero"], b"got a character device")


@pytest.mark.skipif(not os.path.exists("/proc/self/environ"), reason="needs /proc")
def test_at_proc_self_environ_prints_no_environment():
    proc = _refused(["run", "--scene", str(SCENES), "--program", "@/proc/self/environ"],
                    b"content is not shown")
    assert b"PATH=" not in proc.stderr + proc.stdout


def test_huge_integer_in_a_program():
    spec = json.dumps([{"function": "scene", "inputs": []}])[:-2] + ', "x": ' + "9" * 5000 + "}]"
    _refused(["run", "--scene", str(SCENES), "--program", spec], b"not readable JSON")


def _scene_with_color(path, color):
    data = json.loads(SCENES.read_text())
    data["scenes"] = data["scenes"][:1]
    data["scenes"][0]["objects"][0]["color"] = color
    path.write_text(json.dumps(data))
    return path


def test_huge_field_makes_a_short_message(tmp_path):
    f = _scene_with_color(tmp_path / "big.json", "x" * 1_000_000)
    proc = _refused(["run", "--scene", str(f), "--program", PROGRAM], b"color")
    assert len(proc.stderr) < 3000 and b"chars cut" in proc.stderr


def _evil_native(tmp_path):
    f = tmp_path / "evil.json"
    f.write_text(json.dumps({"format": "nsreason.scene/1", "id": "s\ud800\x1b[2J\x9b",
                             "objects": [{"id": 0, "name": "cube\x1b]0;pwned\x07\n  9  forged"},
                                         {"id": 1, "name": "ball\ud800"}]}))
    return f


@pytest.mark.parametrize("as_json", [False, True])
def test_scene_strings_are_printed_safely(tmp_path, as_json):
    args = ["run", "--scene", str(_evil_native(tmp_path)), "--program", PROGRAM]
    proc = run_cli([*args, "--json"] if as_json else args, timeout=30)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode("utf-8")  # valid UTF-8
    assert not CONTROLS.search(proc.stdout.replace(b"\n", b"")), proc.stdout
    if as_json:
        assert json.loads(text)["scene_id"] == "s\ud800\x1b[2J\x9b"


def test_an_error_about_scene_strings_is_printed_safely(tmp_path):
    f = _scene_with_color(tmp_path / "evil\x1b[2J\n.json", "re\x1b[2J\ud800d")
    proc = _refused(["run", "--scene", str(f), "--program", PROGRAM], b"color")
    assert not CONTROLS.search(proc.stderr.replace(b"\n", b""))
    proc.stderr.decode("utf-8")


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="argv bytes are POSIX")
@pytest.mark.parametrize("as_json", [False, True])
def test_a_question_with_an_undecodable_byte(as_json):
    args = ["ask", "--kb", "none", "--scene", str(SCENES), b"What color is the cube\xff\x1b[2J?"]
    proc = run_cli([*args, "--json"] if as_json else args, timeout=120)
    proc.stdout.decode("utf-8")
    assert not CONTROLS.search(proc.stdout.replace(b"\n", b""))
