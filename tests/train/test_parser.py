"""Supervised training of the neural parser (nsreason.train.parser), on the tiny model the
session fixture ``tiny`` trains on the 30 bundled questions, and the batching it uses."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from nsreason.parse import Parser
from nsreason.parse.seq2seq import Seq2SeqParser
from nsreason.train.parser import _length_batches, build_tokenizer


@pytest.mark.slow
def test_training_writes_a_safetensors_checkpoint(tiny):
    out, report, _ = tiny
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "model.safetensors", "tokenizer.json", "words.json"]
    config = json.loads((out / "config.json").read_text())
    assert config["vocabulary"] == "clevr" and config["training"]["seed"] == 1
    assert report["examples"] == 30 and len(report["history"]) == 100


@pytest.mark.slow
def test_tiny_model_learns_its_training_questions(tiny):
    out, _, qs = tiny
    parser = Seq2SeqParser.load(out, min_confidence=0.0)
    assert isinstance(parser, Parser)
    results = parser.parse_batch([q.question for q in qs])
    exact = sum(r.program == q.program.canonical() for r, q in zip(results, qs))
    assert exact >= 20, exact  # it memorises most of its 30 questions


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 40), max_size=300), st.integers(1, 17), st.integers(0, 2**16))
def test_length_batches_cover_every_example_once(lengths, batch_size, seed):
    srcs = [[5] * n for n in lengths]
    batches = _length_batches(srcs, batch_size, random.Random(seed))
    assert sorted(i for b in batches for i in b) == list(range(len(srcs)))
    assert all(0 < len(b) <= batch_size for b in batches)


def test_tokenizer_reserves_pad_and_unk_and_maps_unknown_words_to_unk():
    tok = build_tokenizer(["what color is the cube", "how many spheres"])
    assert tok.token_to_id("[PAD]") == 0 and tok.token_to_id("[UNK]") == 1
    assert tok.encode("the zorb").ids[1] == 1
