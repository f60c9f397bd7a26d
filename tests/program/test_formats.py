"""read_program: every format, auto-detection, ``@FILE``."""

from __future__ import annotations

import json

import pytest

from nsreason.errors import ProgramFormatError, ProgramSyntaxError, RegistryError
from nsreason.program import Program
from nsreason.program.formats import PROGRAM_FORMATS, read_program

TEXT = "count(relate[left](unique(filter_color[red](scene()))))"
P = Program.from_text(TEXT)
PREFIX = "count relate[left] unique filter_color[red] scene"
POSTFIX = "scene filter_color[red] unique relate[left] count"


@pytest.mark.parametrize(
    "spec",
    [
        TEXT,
        f"  {TEXT}\n",
        "count ( relate[left] ( unique(filter_color [red] (scene()))))",
        PREFIX,
        POSTFIX,
        f"\n {POSTFIX} \n",
        json.dumps(P.to_clevr()),
        json.dumps(P.to_clevr(generator=True), indent=2),
        json.dumps({"question": "How many?", "program": P.to_clevr()}),
    ],
)
def test_auto_detection(spec):
    assert read_program(spec) == P


@pytest.mark.parametrize(
    ("format", "spec"),
    [("text", TEXT), ("prefix", PREFIX), ("postfix", POSTFIX), ("clevr", json.dumps(P.to_clevr()))],
)
def test_explicit_formats(format, spec):
    assert read_program(spec, format=format) == P


def test_explicit_format_wins_over_detection():
    with pytest.raises(ProgramFormatError):
        read_program(POSTFIX, format="prefix")
    with pytest.raises(ProgramFormatError):
        read_program(TEXT, format="clevr")


def test_unknown_format():
    with pytest.raises(ProgramFormatError, match=r"unknown program format 'json'; available: \['auto', 'text', 'clevr', 'prefix', 'postfix'\]"):
        read_program(TEXT, format="json")
    assert PROGRAM_FORMATS == ("auto", "text", "clevr", "prefix", "postfix")


def test_single_token():
    assert read_program("scene") == Program.from_text("scene()")


def test_prefix_tokens_with_parentheses_in_quoted_values():
    p = read_program('count relate["left (of)"] select[man] scene', "scene_graph")
    assert p.to_text() == 'count(relate["left (of)"](select[man](scene())))'
    p = read_program('scene select["a (b)"] count', "scene_graph")
    assert p.to_text() == 'count(select["a (b)"](scene()))'


def test_postfix_detection_uses_the_vocabulary():
    # a vocabulary whose leaf op is not called "scene"
    from tests.program.strategies import toy_vocabulary

    toy = toy_vocabulary()
    assert read_program("all top[3] size", toy) == read_program("size top[3] all", toy)
    assert read_program("all top[3] size", toy).to_text() == "size(top[3](all()))"


def test_scene_graph_vocabulary():
    p = read_program('count(select["teddy bear"](scene()))', "scene_graph")
    assert p.vocabulary == "scene_graph"
    p.validate()


def test_unknown_vocabulary():
    with pytest.raises(RegistryError):
        read_program("scene a b", "no_such_vocabulary")


@pytest.mark.parametrize("content", [TEXT, PREFIX, POSTFIX, json.dumps(P.to_clevr())])
def test_at_file(tmp_path, content):
    path = tmp_path / "program.txt"
    path.write_text(content + "\n", encoding="utf-8")
    assert read_program(f"@{path}") == P
    assert read_program(f"  @{path}  ") == P


def test_at_file_with_an_explicit_format(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(P.to_clevr(generator=True)))
    assert read_program(f"@{path}", format="clevr") == P


def test_at_missing_file(tmp_path):
    path = tmp_path / "absent.txt"
    with pytest.raises(ProgramFormatError, match="cannot read program file") as info:
        read_program(f"@{path}")
    assert info.value.source == str(path)


def test_at_directory(tmp_path):
    with pytest.raises(ProgramFormatError, match="cannot read program file"):
        read_program(f"@{tmp_path}")


def test_at_binary_file(tmp_path):
    path = tmp_path / "p.bin"
    path.write_bytes(b"\xff\xfe\x00count")
    with pytest.raises(ProgramFormatError, match="not UTF-8 text") as info:
        read_program(f"@{path}")
    assert info.value.source == str(path)


@pytest.mark.parametrize(
    ("spec", "error", "message"),
    [
        ("[", ProgramFormatError, "not valid JSON: Expecting value at line 1, column 2"),
        ('[{"function": "scene"}', ProgramFormatError, "not valid JSON"),
        ("{", ProgramFormatError, "not valid JSON"),
        ("[" * 100_000, ProgramFormatError, "JSON: nested too deeply"),
        ('{"question": "x"}', ProgramFormatError, "expected a list of nodes, got dict"),
        ('[{"function": "scene", "inputs": "0"}]', ProgramFormatError, "program[0].inputs"),
        ("count(scene()", ProgramSyntaxError, "column 14"),
        ("", ProgramFormatError, "no tokens"),
        ("   ", ProgramFormatError, "no tokens"),
        ("count scene scene", ProgramFormatError, "left over"),
        ("scene scene", ProgramFormatError, "unconnected parts"),
        ("count [x] scene", ProgramFormatError, "cannot split tokens at column 7"),
        ("frobnicate scene", ProgramFormatError, "unknown op 'frobnicate'"),
        ("count(scene()) extra", ProgramSyntaxError, "expected end of text"),
        ("count x(scene())", ProgramSyntaxError, "column 7: expected '(' after 'count', got 'x'"),
        ("count x[(]", ProgramFormatError, "malformed token"),
        ("(scene)", ProgramSyntaxError, "expected an op name"),
    ],
)
def test_errors_are_typed(spec, error, message):
    with pytest.raises(error) as info:
        read_program(spec)
    assert message in str(info.value)


def test_non_string_spec():
    with pytest.raises(ProgramFormatError, match="expected a program as a string"):
        read_program(["count", "scene"])  # type: ignore[arg-type]
