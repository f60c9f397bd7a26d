"""The program output grammar: every decoded program type-checks."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nsreason.errors import VocabularyError
from nsreason.parse.grammar import ROOT, ProgramGrammar
from nsreason.program import Program, Vocabulary, get_vocabulary
from tests.program.strategies import programs

G = ProgramGrammar("clevr")


def test_tokens_come_from_the_vocabulary():
    assert G.tokens[:2] == ["<pad>", "<bos>"]
    assert "filter_color[red]" in G.index and "relate[behind]" in G.index and "equal_object" in G.index
    assert not any(t.startswith(("filter[", "filter_unique", "relate_filter")) for t in G.tokens)
    # 8 colors + 3 shapes + 2 sizes + 2 materials filters, 4 relations; CLEVR-Ref+: 9 ordinals
    # x 3 directions, 2 visibilities
    assert sum(t.startswith(("filter_color", "filter_shape", "filter_size", "filter_material"))
               for t in G.tokens) == 15
    assert sum(t.startswith("filter_ordinal[") for t in G.tokens) == 27
    assert sum(t.startswith("filter_visible[") for t in G.tokens) == 2
    assert sum(t.startswith("relate[") for t in G.tokens) == 4


def test_a_checkpoints_tokens_keep_its_output_space():
    """A parser trained before ops joined the vocabulary decodes over its own tokens."""
    old = [t for t in G.tokens if not t.startswith(("filter_ordinal", "filter_visible"))]
    g = ProgramGrammar("clevr", tokens=old)
    assert g.tokens == old and len(g) == len(old)
    assert [g.tokens[i] for i in g.allowed((ROOT,))] == [t for t in (G.tokens[i] for i in G.allowed((ROOT,)))
                                                        if t in g.index]
    with pytest.raises(VocabularyError, match="filter_colour"):
        ProgramGrammar("clevr", tokens=[*old, "filter_colour[red]"])


def test_programs_end_in_an_answer_or_in_objects():
    roots = {G.tokens[i].split("[")[0] for i in G.allowed((ROOT,))}
    assert "count" in roots and "exist" in roots and "query_color" in roots
    # a referring expression's program ends in objects (CLEVR-Ref+)
    assert {"scene", "unique", "filter_color", "relate", "union", "filter_ordinal"} <= roots
    assert G.root_types == {n for n, t in G.vocabulary.types.items() if t.kind != "record"}


_CLEVR = get_vocabulary("clevr")
# the grammar's ops: no template-only shorthands
_PLAIN = Vocabulary("clevr", _CLEVR.types, {k: v for k, v in _CLEVR.ops.items() if not v.template_only})
_ANSWER_TYPES = sorted(t for t in G.answer_types if G.allowed((t,)))


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(_ANSWER_TYPES).flatmap(
    lambda t: programs(_PLAIN, output_type=t, dead_code=False, shared=False)))
def test_every_clevr_program_with_an_answer_type_round_trips(program):
    ids = G.encode(program)
    state = G.start()
    for i in ids:
        assert i in G.allowed(state)
        state = G.advance(state, i)
    assert G.is_complete(state)
    assert G.decode(ids) == program.canonical()


def test_random_constrained_walks_always_validate():
    rng = random.Random(0)
    for _ in range(300):
        state, ids, budget = G.start(), [], 40
        while not G.is_complete(state):
            allowed = G.allowed(state, budget - len(ids))
            assert allowed, (ids, state)
            tok = rng.choice(allowed)
            ids.append(tok)
            state = G.advance(state, tok)
        assert len(ids) <= 40
        program = G.decode(ids)
        assert isinstance(program, Program) and program.validate() is program


def test_open_vocabularies_without_closed_ops_are_refused():
    vocab = Vocabulary.from_dict({
        "name": "open_only", "types": {"S": {"kind": "object_set"}, "N": {"kind": "value"}},
        "ops": {"select": {"inputs": [], "args": [{"name": "n", "type": "N"}], "output": "S"}},
    })
    with pytest.raises(VocabularyError):
        ProgramGrammar(vocab)
