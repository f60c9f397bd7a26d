"""Reading JSON files: every failure is an InputError naming the file."""

from __future__ import annotations

import pytest

from nsreason.errors import InputError, SceneFormatError
from nsreason.jsonio import read_json


def test_reads_json(tmp_path):
    f = tmp_path / "a.json"
    f.write_text('{"a": [1, 2]}')
    assert read_json(f) == {"a": [1, 2]}


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"{nope", "not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2"),
     (b'{"a": "\xff"}', "not UTF-8 text"),
     (b"", "not valid JSON")],
)
def test_bad_files_name_the_file(tmp_path, content, message):
    f = tmp_path / "bad.json"
    f.write_bytes(content)
    with pytest.raises(SceneFormatError) as err:
        read_json(f, SceneFormatError)
    assert message in str(err.value) and str(f) in str(err.value)


def test_missing_directory_and_nul_paths(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_json(tmp_path / "missing.json")
    with pytest.raises(InputError, match="expected a JSON file, got a directory"):
        read_json(tmp_path)
    with pytest.raises(InputError, match="cannot open file"):
        read_json("a\x00b.json")
