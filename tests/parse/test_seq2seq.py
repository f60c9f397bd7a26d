"""The neural parser's machinery on a tiny model trained here on the bundled questions
(training itself: tests/train/test_parser.py): checkpoints (safetensors, no pickle),
constrained beam search, failures."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from nsreason.errors import InputError
from nsreason.parse import ParseResult, get_parser
from nsreason.parse.seq2seq import Seq2SeqParser


@pytest.mark.slow
def test_beam_alternatives_are_valid_distinct_and_ranked(tiny):
    out, _, qs = tiny
    parser = Seq2SeqParser.load(out, beam=4, min_confidence=0.0)
    result = parser.parse(qs[0].question)
    assert isinstance(result, ParseResult) and result.ok
    scores = [a.score for a in result.alternatives]
    assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1.0 + 1e-6
    assert len({a.program for a in result.alternatives}) == len(result.alternatives) >= 2
    assert all(a.program.validate() for a in result.alternatives)
    assert result.program == result.alternatives[0].program and result.score == scores[0]


@pytest.mark.slow
def test_save_load_round_trip_gives_identical_parses(tiny, tmp_path):
    out, _, qs = tiny
    a = Seq2SeqParser.load(out, min_confidence=0.0)
    a.save(tmp_path / "copy")
    b = get_parser(str(tmp_path / "copy"))
    assert isinstance(b, Seq2SeqParser)
    for q in qs[:5]:
        ra, rb = a.parse(q.question), b.parse(q.question)
        assert [x.program for x in ra.alternatives] == [x.program for x in rb.alternatives]
        assert ra.score == pytest.approx(rb.alternatives[0].score)


@pytest.mark.slow
def test_unparsable_questions_are_failures_with_reasons(tiny):
    out, _, _ = tiny
    parser = Seq2SeqParser.load(out)
    for question in ["", "   ?!", "zork blorp quux"]:
        r = parser.parse(question)
        assert not r.ok and r.program is None
        assert r.failure.code == "could_not_parse" and r.failure.reason
    gibberish = parser.parse("zork blorp quux")
    assert gibberish.details["unknown_words"] == ["zork", "blorp", "quux"]
    assert parser.parse(None).failure.code == "could_not_parse"  # type: ignore[arg-type]


@pytest.mark.slow
def test_low_confidence_is_could_not_parse_with_alternatives(tiny):
    out, _, qs = tiny
    parser = Seq2SeqParser.load(out, min_confidence=1.01)  # nothing is that sure
    r = parser.parse(qs[0].question)
    assert r.failure.code == "could_not_parse" and r.alternatives
    assert "probability" in r.failure.reason


def test_broken_checkpoint_is_a_clear_error(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(InputError, match="missing"):
        Seq2SeqParser.load(tmp_path)


@pytest.mark.slow
def test_incremental_decoding_equals_full_decoding(tiny):
    out, _, qs = tiny
    parser = Seq2SeqParser.load(out)
    model = parser.model
    enc = parser.tokenizer.encode_batch([" ".join(parser.prepare(q.question)[0]) for q in qs[:4]])
    width = max(len(e.ids) for e in enc)
    src = torch.zeros((4, width), dtype=torch.long)
    for i, e in enumerate(enc):
        src[i, : len(e.ids)] = torch.tensor(e.ids)
    pad = src == 0
    tgt = torch.randint(2, len(parser.grammar), (4, 7))
    tgt[:, 0] = parser.grammar.index["<bos>"]
    with torch.no_grad():
        memory = model.encode(src, pad)
        full = model.decode(memory, pad, tgt)
        cache = model.start_decoding(memory, pad)
        rows = torch.arange(4)
        steps = [model.step(cache, rows, tgt[:, t], t) for t in range(7)]
    assert torch.allclose(torch.stack(steps, 1), full, atol=1e-5)
