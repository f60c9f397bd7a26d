"""Value swapping (nsreason.datasets.clevr.swap): the text and the program change together."""

from __future__ import annotations

import random
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from nsreason.datasets.clevr.compositional import program_structure
from nsreason.datasets.clevr.refexps import load_refexps
from nsreason.datasets.clevr.swap import swap_values, swapped_pairs
from nsreason.program.ir import Program

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
REFEXPS = load_refexps(FIXTURES / "clevr_refplus_refexps_small.json")
ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "nineth"]


def _ordinal_words(text: str) -> list[str]:
    return re.findall(r"\b(" + "|".join(ORDINALS) + r") one of\b", text.lower())


def _ordinal_args(program: Program) -> list[str]:
    return [s.args[0].split()[1] for s in program.steps if s.op == "filter_ordinal"]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, len(REFEXPS) - 1), st.integers(0, 10_000))
def test_a_swap_keeps_the_structure_and_moves_text_and_program_together(k, seed):
    r = REFEXPS[k]
    text, program = swap_values(r.text, r.program, random.Random(seed))
    program.validate()
    assert program_structure(program) == program_structure(r.program)
    assert [s.op for s in program.steps] == [s.op for s in r.program.steps]
    # the ordinal words of the text are the program's ordinals, in the same order
    assert sorted(_ordinal_words(text)) == sorted(_ordinal_args(program))
    for step in program.steps:
        if step.op == "filter_color":
            assert re.search(rf"\b{step.args[0]}\b", text)


def test_a_value_the_text_does_not_show_leaves_the_pair_unchanged():
    p = Program.from_text("count(filter_material[metal](scene()))")
    text = "How many gleaming things are there?"  # "gleaming": not a word of metal
    assert swap_values(text, p, random.Random(0)) == (text, p)


def test_synonyms_and_multiword_relations_are_rewritten():
    p = Program.from_text("count(relate[left](unique(filter_shape[sphere](scene()))))")
    seen = set()
    for seed in range(40):
        text, q = swap_values("How many things are on the left side of the ball?", p, random.Random(seed))
        rel, shape = q.steps[3].args[0], q.steps[1].args[0]
        assert {"left": "left", "right": "right", "front": "front", "behind": "behind"}[rel] in text
        assert shape in text or {"sphere": "ball", "cube": "block"}.get(shape, shape) in text
        seen.add((rel, shape))
    assert len(seen) > 6


def test_swapped_pairs_are_new_and_deterministic():
    pairs = [(r.text, r.program) for r in REFEXPS]
    a = swapped_pairs(pairs, 3, seed=5)
    assert a == swapped_pairs(pairs, 3, seed=5)
    assert not set(a) & set(pairs) and len(set(a)) == len(a)
