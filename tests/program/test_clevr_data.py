"""Every program of the CLEVR train and val questions (release and generator formats)
reads, validates and round-trips through the text, prefix, postfix and CLEVR forms.

Needs ../shared/data/clevr (skipped when absent)."""

from __future__ import annotations

import contextlib
import gc
import json
from collections import Counter

import pytest

from nsreason.program import Program, get_vocabulary
from nsreason.program.clevr import clevr_outputs
from tests.conftest import shared_path

pytestmark = [pytest.mark.data, pytest.mark.slow]


@contextlib.contextmanager
def no_gc():
    """The cyclic GC, walking millions of freshly loaded JSON objects again and again,
    would take most of the time; nothing here makes reference cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_questions(split: str, generator: bool) -> list[dict]:
    suffix = "_generator" if generator else ""
    path = shared_path("clevr", split, f"CLEVR_{split}_questions{suffix}.json")
    return json.loads(path.read_text(encoding="utf-8"))["questions"]


@pytest.fixture(scope="module", params=["train", "val"])
def split_programs(request) -> tuple[str, list[Program]]:
    """The split's programs, read from both formats (which must agree question by question)."""
    split = request.param
    with no_gc():
        release = load_questions(split, generator=False)
        generator = load_questions(split, generator=True)
        assert len(release) == len(generator) > 0
        programs = []
        for k, (r, g) in enumerate(zip(release, generator)):
            where = f"{split} question {k}"
            p = Program.from_clevr(r["program"])
            assert Program.from_clevr(g["program"]) == p, where
            assert clevr_outputs(g["program"]) is not None and clevr_outputs(r["program"]) is None, where
            programs.append(p)
        del release, generator
    return split, programs


def test_every_program_validates(split_programs):
    _split, programs = split_programs
    ops = Counter()
    for p in programs:
        p.validate()
        ops.update(s.op for s in p.steps)
    # CLEVR's released questions use the 26 non-template functions only
    assert not {op for op in ops if get_vocabulary("clevr").op(op).template_only}
    assert len(ops) >= 20, ops


def test_every_program_round_trips(split_programs):
    split, programs = split_programs
    with no_gc():
        for p in set(programs):  # the same program is asked about many scenes
            check_round_trips(split, p)


def check_round_trips(split: str, p: Program) -> None:
    c = p.canonical()
    text = p.to_text()
    where = f"{split}: {text}"
    assert Program.from_text(text) == c, where
    assert Program.from_prefix(p.to_prefix()) == c, where
    assert Program.from_postfix(p.to_postfix()) == c, where
    assert Program.from_clevr(p.to_clevr()) == p, where
    assert Program.from_clevr(p.to_clevr(generator=True)) == p, where
    assert len(c) == len(p), where  # CLEVR programs are trees without unused steps
