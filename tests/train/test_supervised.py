"""Continued supervised training (nsreason.train.supervised): new program tokens and words
join a trained parser without changing what it parsed, then training teaches them."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from nsreason.datasets.clevr.refexps import load_refexps
from nsreason.parse.grammar import ProgramGrammar
from nsreason.parse.seq2seq import Seq2SeqParser
from nsreason.train.supervised import continue_training, extend_program_tokens

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REFEXPS = load_refexps(FIXTURES / "clevr_refplus_refexps_small.json")


def _without_refplus_tokens(parser: Seq2SeqParser) -> Seq2SeqParser:
    """The parser with CLEVR-Ref+'s tokens cut out of its output space (as a checkpoint
    trained before they existed)."""
    keep = [i for i, t in enumerate(parser.grammar.tokens) if not t.startswith(("filter_ordinal", "filter_visible"))]
    model = parser.model
    index = torch.tensor(keep)
    with torch.no_grad():
        embed = torch.nn.Embedding(len(keep), model.tgt_embed.embedding_dim, padding_idx=0)
        embed.weight.copy_(model.tgt_embed.weight[index])
        out = torch.nn.Linear(model.out.in_features, len(keep))
        out.weight.copy_(model.out.weight[index])
        out.bias.copy_(model.out.bias[index])
    model.tgt_embed, model.out = embed, out
    model.config.tgt_vocab_size = len(keep)
    model.config.program_tokens = [parser.grammar.tokens[i] for i in keep]
    parser.grammar = ProgramGrammar("clevr", tokens=model.config.program_tokens)
    return parser


def test_new_program_tokens_change_no_parse_until_trained(tiny):
    out, _, qs = tiny
    parser = _without_refplus_tokens(Seq2SeqParser.load(out, min_confidence=0.0))
    old_tokens = list(parser.grammar.tokens)
    questions = [q.question for q in qs[:10]]
    before = parser.parse_batch(questions, beam=3)

    added = extend_program_tokens(parser, [r.program for r in REFEXPS])

    assert added and all(t.startswith(("filter_ordinal", "filter_visible")) for t in added)
    assert parser.grammar.tokens[: len(old_tokens)] == old_tokens  # old ids keep their meaning
    assert parser.model.config.tgt_vocab_size == len(parser.grammar) == parser.model.out.out_features
    for a, b in zip(before, parser.parse_batch(questions, beam=3)):
        assert [x.program for x in a.alternatives] == [x.program for x in b.alternatives]
        assert [x.score for x in a.alternatives] == pytest.approx([x.score for x in b.alternatives], abs=1e-3)
    assert extend_program_tokens(parser, [r.program for r in REFEXPS]) == []
    for r in REFEXPS:
        assert parser.grammar.covers(r.program)


@pytest.mark.slow
def test_continued_training_learns_referring_expressions_and_keeps_questions(tiny, tmp_path):
    torch.set_num_threads(1)
    out, _, qs = tiny
    parser = _without_refplus_tokens(Seq2SeqParser.load(out, min_confidence=0.0))
    pairs = [(r.text, r.program) for r in REFEXPS]
    replay = [(q.question, q.program) for q in qs]
    known_before = sum(p.program == q.program for p, q in zip(parser.parse_batch([q.question for q in qs]), qs))
    report = continue_training(parser, {"new": pairs * 8, "replay": replay * 2}, dev={"new": pairs},
                               epochs=30, batch_size=8, lr=2e-3, seed=0, log=lambda _: None)
    assert report["added_tokens"] and "second" in report["added_words"]
    assert report["history"][0]["dev"]["new"] == 0.0  # it could not emit the tokens before
    got = parser.parse_batch([t for t, _ in pairs])
    assert sum(g.program == p for g, (_, p) in zip(got, pairs)) >= 12  # of 18; none before (15 measured)
    known_after = sum(p.program == q.program for p, q in zip(parser.parse_batch([q.question for q in qs]), qs))
    assert known_after >= known_before - 3
    parser.save(tmp_path / "continued")
    loaded = Seq2SeqParser.load(tmp_path / "continued")
    assert loaded.grammar.tokens == parser.grammar.tokens
    assert loaded.model.config.training["continued"][0]["best_epoch"] == report["best_epoch"]
