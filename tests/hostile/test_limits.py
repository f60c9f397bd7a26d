"""Limits as data (nsreason.limits): defaults, raising them, and error messages cut."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nsreason.errors import InputError, SceneFormatError
from nsreason.limits import Limits, cut_message, get_limits, raised, set_limits, shorten


def test_defaults_are_positive_and_raisable():
    limits = get_limits()
    assert all(v > 0 for v in dataclasses.asdict(limits).values())
    with raised(question_chars=limits.question_chars * 10) as now:
        assert now.question_chars == get_limits().question_chars == limits.question_chars * 10
    assert get_limits() == limits
    with pytest.raises(ValueError, match="positive int"):
        set_limits(json_depth=0)
    assert get_limits() == limits
    with pytest.raises(ValueError):
        Limits(file_bytes=True)


def test_a_10_mb_value_makes_a_short_message():
    err = SceneFormatError(f"expected a color, got {'x' * 10_000_000!r}", path="objects[0].color",
                           source="s.json")
    text = str(err)
    assert len(text) <= get_limits().message_chars
    assert text.startswith("s.json: objects[0].color: expected a color, got 'xxx")
    assert "chars cut" in text and "10,0" in text
    assert len(str(err.with_source("t" * 100_000))) <= get_limits().message_chars


@given(st.text(max_size=5000), st.integers(60, 3000))
def test_cut_message_keeps_within_the_limit(text, limit):
    out = cut_message(text, limit)
    assert len(out) <= limit
    assert out == text or "chars cut" in out


@given(st.text(max_size=500), st.integers(20, 200))
def test_shorten(value, limit):
    out = shorten(value, limit)
    assert len(out) <= max(limit, len(f"'… ({len(repr(value)):,} chars)"))
    assert out == repr(value) or out.endswith(f"({len(repr(value)):,} chars)")


def test_error_messages_stay_input_errors():
    assert issubclass(SceneFormatError, InputError)


def test_limits_from_the_environment():
    import os
    import subprocess
    import sys

    from nsreason.limits import from_env
    from tests.hostile.bounds import REPO, SCENES

    assert from_env("file_bytes=100, json_depth=7") == Limits(file_bytes=100, json_depth=7)
    for bad in ("depth=3", "json_depth=x", "json_depth=0"):
        with pytest.raises(ValueError):
            from_env(bad)
    cmd = [sys.executable, "-c", "import sys; from nsreason.cli import main; sys.exit(main())",
           "run", "--scene", str(SCENES), "--program", "count(scene())"]
    small = subprocess.run(cmd, capture_output=True, timeout=60, cwd=REPO,
                           env={**os.environ, "NSREASON_LIMITS": "file_bytes=100"})
    assert small.returncode == 2 and b"NSREASON_LIMITS=file_bytes=N" in small.stderr
    bad = subprocess.run(cmd, capture_output=True, timeout=60, cwd=REPO,
                         env={**os.environ, "NSREASON_LIMITS": "nope=1"})
    assert bad.returncode == 0 and b"unknown limit 'nope'" in bad.stderr and b"Traceback" not in bad.stderr
