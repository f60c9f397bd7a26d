"""Hostile programs (nsreason.program.formats.read_program, `--program`): huge integers,
deep and long programs, `@FILE` that is a device, a FIFO, too large, or a secret."""

from __future__ import annotations

import contextlib
import json
import os
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nsreason.errors import ProgramError, ProgramFormatError
from nsreason.limits import get_limits, raised
from nsreason.program.formats import read_program
from tests.hostile.bounds import within


def test_an_integer_over_the_digit_limit_is_a_typed_error():
    digits = "9" * (sys.get_int_max_str_digits() + 1)
    spec = f'[{{"function": "scene", "inputs": [{digits}]}}]'
    with pytest.raises(ProgramFormatError, match="not readable JSON"):
        within(10, read_program, spec)


@pytest.mark.parametrize("spec", [
    "count(" * 5000 + "scene()" + ")" * 5000,
    "[" * 100_000,
    '{"program": ' + "[" * 5000 + "]" * 5000 + "}",
])
def test_deep_programs_are_typed_errors(spec):
    with pytest.raises(ProgramFormatError):
        within(10, read_program, spec)


def test_deep_programs_in_other_formats():
    n = get_limits().program_depth + 1
    nodes = [{"function": "scene", "inputs": []}]
    nodes += [{"function": "filter_color", "value_inputs": ["red"], "inputs": [i]} for i in range(n)]
    with pytest.raises(ProgramFormatError, match="nested deeper than"):
        within(10, read_program, json.dumps(nodes))
    with raised(program_depth=n + 1):
        assert len(read_program(json.dumps(nodes)).steps) == n + 1


@pytest.mark.parametrize("spec", [
    " ".join(["count"] * 5000 + ["scene"]),
    json.dumps([{"function": "scene", "inputs": []}] * 5000),
    "union(" * 10 + "scene()" + ", scene())" * 10,
])
def test_long_programs_are_typed_errors_or_read(spec):
    with raised(program_steps=1000):
        try:
            program = within(10, read_program, spec)
        except ProgramError as err:
            assert "limit is 1,000" in str(err) or "nested deeper" in str(err)
        else:
            assert len(program.steps) <= 1000


@given(st.text(max_size=200))
@settings(max_examples=200, deadline=None)
def test_any_text_reads_or_is_a_program_error(text):
    with contextlib.suppress(ProgramError):
        read_program(text)


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_at_device_is_refused_without_reading(path):
    if not os.path.exists(path):
        pytest.skip(f"no {path}")
    with pytest.raises(ProgramFormatError, match="cannot read program file: expected a regular program file, "
                                                 "got a character device"):
        within(10, read_program, f"@{path}")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_at_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "p"
    os.mkfifo(fifo)
    with pytest.raises(ProgramFormatError, match="got a FIFO"):
        within(10, read_program, f"@{fifo}")


def test_at_file_over_the_limit(tmp_path):
    f = tmp_path / "p.txt"
    f.write_text("count(scene())" + " " * 100)
    with raised(program_bytes=50), pytest.raises(ProgramFormatError, match="file too large"):
        read_program(f"@{f}")
    assert read_program(f"@{f}").to_text() == "count(scene())"


SECRETS = ["API_KEY=s3cr3t-value\0HOME=/root\0", "count(frobnicate[s3cr3t-value](scene()))",
           '[{"function": "s3cr3t-value", "inputs": []}]', "s3cr3t-value scene",
           '{"program": [{"function": "scene", "inputs": ["s3cr3t-value"]}]}']


@pytest.mark.parametrize("content", SECRETS)
def test_at_file_errors_never_echo_its_content(tmp_path, content):
    f = tmp_path / "secret"
    f.write_text(content)
    with pytest.raises(ProgramError) as err:
        read_program(f"@{f}")
    assert "s3cr3t" not in str(err.value)
    assert err.value.source == str(f)
    with pytest.raises(ProgramError) as inline:  # inline, the details are shown
        read_program(content).validate()
    assert type(inline.value) is type(err.value)


@pytest.mark.skipif(not os.path.exists("/proc/self/environ"), reason="needs /proc")
def test_at_proc_self_environ_does_not_print_the_environment():
    with pytest.raises(ProgramError) as err:
        within(10, read_program, "@/proc/self/environ")
    text = str(err.value)
    assert "PATH" not in text.replace("/proc/self/environ", "") and "=" not in text


@pytest.mark.parametrize("width", [20, 40])
def test_a_dag_read_can_be_written(width):
    """CLEVR JSON may share a step; what is read must have a text form (the writer refuses
    trees over its size), so a DAG that doubles at each step is refused when read."""
    nodes = [{"function": "scene", "inputs": []}]
    nodes += [{"function": "union", "inputs": [i - 1, i - 1]} for i in range(1, width)]
    nodes.append({"function": "count", "inputs": [width - 1]})
    with pytest.raises(ProgramFormatError, match="written out as a tree"):
        within(5, read_program, json.dumps(nodes))
    small = [*nodes[:4], {"function": "count", "inputs": [3]}]
    assert within(5, read_program, json.dumps(small)).to_text().count("scene()") == 8
