"""Answer-only training of the parser through the executor (nsreason.train.finetune): the
search for consistent programs, vocabulary extension, fine-tuning, the few-programs recipe."""

from __future__ import annotations

import json
import random

import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from nsreason.datasets.clevr import load_clevr_questions
from nsreason.execute.symbolic import SymbolicExecutor
from nsreason.parse import get_parser
from nsreason.parse.seq2seq import Seq2SeqParser
from nsreason.parse.text import words
from nsreason.program import Program
from nsreason.scene.clevr import load_clevr_scenes
from nsreason.train.finetune import (
    AnswerExample,
    consistent_programs,
    evaluate_answers,
    extend_vocabulary,
    finetune_on_answers,
    train_with_few_programs,
)
from nsreason.train.parser import make_optimiser, question_ids, train_epoch

from ..conftest import EXAMPLES_DATA

EXECUTOR = SymbolicExecutor()

# Human-style questions on the bundled scenes, with words the shipped parser never saw
# ("hugest", "tiniest", "giant"); the answers come from the intended programs.
HUMAN_STYLE = [
    (0, "What color is the hugest ball?", "query_color(unique(filter_shape[sphere](filter_size[large](scene()))))"),
    (0, "What color is the giant thing?", "query_color(unique(filter_size[large](scene())))"),
    (1, "What color is the hugest cylinder?", "query_color(unique(filter_shape[cylinder](filter_size[large](scene()))))"),
    (1, "What is the hugest cylinder made of?", "query_material(unique(filter_shape[cylinder](filter_size[large](scene()))))"),
    (2, "What color is the tiniest block?", "query_color(unique(filter_shape[cube](filter_size[small](scene()))))"),
    (2, "What is the tiniest thing made of?", "query_material(unique(filter_size[small](scene())))"),
    (0, "What is the giant thing made of?", "query_material(unique(filter_size[large](scene())))"),
    (2, "What size is the cyan thing?", "query_size(unique(filter_color[cyan](scene())))"),
]


@pytest.fixture(scope="module")
def scenes():
    return load_clevr_scenes(EXAMPLES_DATA / "clevr_val_sample_scenes.json")


@pytest.fixture(scope="module")
def bundled(scenes):
    qs = load_clevr_questions(EXAMPLES_DATA / "clevr_val_sample_questions.json")
    return [AnswerExample(q.question, scenes[q.image_index], q.answer, q.program) for q in qs]


@pytest.fixture(scope="module")
def human_style(scenes):
    out = []
    for i, question, text in HUMAN_STYLE:
        program = Program.from_text(text)
        answer = EXECUTOR.execute(program, scenes[i], trace=False)
        assert answer.ok
        out.append(AnswerExample(question, scenes[i], answer.text, program))
    return out


def _answers(parser: Seq2SeqParser, examples: list[AnswerExample]) -> list[str | None]:
    results = parser.parse_batch([e.question for e in examples])
    return [None if r.program is None else EXECUTOR.execute(r.program, e.scene, trace=False).text
            for r, e in zip(results, examples)]


@pytest.mark.slow
def test_consistent_programs_execute_to_the_gold_answer(tiny, bundled):
    out, _, _ = tiny
    parser = Seq2SeqParser.load(out, min_confidence=0.0)
    questions, scenes_, answers = zip(*[(e.question, e.scene, e.answer) for e in bundled])
    found = consistent_programs(parser, questions, scenes_, answers, beam=5)
    beams = parser.parse_batch(list(questions), beam=5)
    assert len(found) == len(bundled) and sum(bool(f) for f in found) >= 20
    for ex, alts, beam in zip(bundled, found, beams):
        assert [a.score for a in alts] == sorted((a.score for a in alts), reverse=True)
        for a in alts:
            assert EXECUTOR.execute(a.program, ex.scene, trace=False).text == ex.answer
        in_beam = [a.program for a in beam.alternatives]
        # every beam program that answers right is kept, none other
        right = {p for p in in_beam if EXECUTOR.execute(p, ex.scene, trace=False).text == ex.answer}
        assert {a.program for a in alts} == right
        if ex.program.canonical() in in_beam:
            assert ex.program.canonical() in right
    wrong = consistent_programs(parser, questions[:3], scenes_[:3], ["no such answer"] * 3, beam=5)
    assert wrong == [[], [], []]
    with pytest.raises(ValueError, match="as many"):
        consistent_programs(parser, questions[:2], scenes_[:1], answers[:2])


@pytest.mark.slow
def test_extending_the_vocabulary_keeps_old_ids_and_predictions(tiny, bundled, tmp_path):
    out, _, _ = tiny
    parser = Seq2SeqParser.load(out, min_confidence=0.0)
    vocab = parser.tokenizer.get_vocab()
    size = parser.model.config.src_vocab_size
    weights = parser.model.src_embed.weight.detach().clone()
    questions = [e.question for e in bundled]
    before = parser.parse_batch(questions, beam=3)
    known = max((w for w in parser.word_counts if len(w) >= 5), key=lambda w: (parser.word_counts[w], w))
    typo = known + "q"  # one letter from a known word: read as that word so far
    new_questions = [f"Is the glossy {typo} closest to the zzqx?", f"How many glossy {typo} are closest?", "qqwv"]
    assert not {"glossy", "closest", "zzqx", "qqwv", typo} & (set(parser.word_counts) | set(vocab))
    assert parser.prepare(new_questions[0])[1]["corrected"] == {typo: known}
    before_new = parser.parse_batch(new_questions, beam=3)

    added = extend_vocabulary(parser, new_questions, min_count=2)

    assert added == sorted(["closest", "glossy", typo])  # twice each (ties alphabetical); "zzqx", "qqwv" once
    new_vocab = parser.tokenizer.get_vocab()
    assert {w: new_vocab[w] for w in vocab} == vocab
    assert sorted(new_vocab[w] for w in added) == [size, size + 1, size + 2]
    assert parser.model.config.src_vocab_size == size + 3 == parser.model.src_embed.num_embeddings
    grown = parser.model.src_embed.weight.detach()
    assert torch.equal(grown[:size], weights)
    assert torch.equal(grown[new_vocab["glossy"]], weights[1]) and torch.equal(grown[new_vocab["closest"]], weights[1])
    assert torch.equal(grown[new_vocab[typo]], weights[vocab[known]])  # starts as the word it was read as
    assert parser.word_counts["glossy"] == 2 and "zzqx" not in parser.word_counts
    after = parser.parse_batch(questions, beam=3)
    # no parse changes, of the old questions nor of those with the new words
    for a, b in zip([*before, *before_new], [*after, *parser.parse_batch(new_questions, beam=3)]):
        assert [x.program for x in a.alternatives] == [x.program for x in b.alternatives]
        assert [x.score for x in a.alternatives] == pytest.approx([x.score for x in b.alternatives], abs=1e-6)
    ws, details = parser.prepare("Is the glossy thing closest?")
    assert "glossy" in ws and "closest" in ws and "unknown_words" not in details
    assert extend_vocabulary(parser, new_questions, min_count=2) == []  # nothing new the second time

    parser.save(tmp_path / "extended")
    loaded = get_parser(str(tmp_path / "extended"))
    assert isinstance(loaded, Seq2SeqParser)
    assert loaded.tokenizer.get_vocab() == new_vocab and loaded.word_counts == parser.word_counts
    probe = [*new_questions, *questions[:3]]
    for a, b in zip(parser.parse_batch(probe, beam=3), loaded.parse_batch(probe, beam=3)):
        assert [x.program for x in a.alternatives] == [x.program for x in b.alternatives]


@pytest.mark.slow
@pytest.mark.parametrize("objective", ["hard", "mml"])
def test_answer_only_finetuning_learns_new_words(objective, human_style, bundled, tmp_path):
    parser = get_parser("default")
    assert isinstance(parser, Seq2SeqParser)
    before = _answers(parser, human_style)
    wrong_before = [a != e.answer for a, e in zip(before, human_style)]
    # "hugest", "tiniest", "giant" are unknown to it: it skips them and guesses some right
    assert sum(wrong_before) >= 2
    replay_before = _answers(parser, bundled)

    report = finetune_on_answers(
        parser, human_style, replay=[(e.question, e.program) for e in bundled], replay_per_round=30,
        rounds=2, beam=8, epochs_per_round=5, lr=5e-4, batch_size=8, objective=objective, seed=0, threads=1,
        log=lambda _: None,
    )

    assert set(report["added_words"]) >= {"hugest", "tiniest", "giant"}
    first = report["rounds"][0]
    assert first["consistent"] >= 7 and first["replay"] == 30 and first["loss"] > 0
    assert 6 <= first["consistent_correct"] <= first["consistent"]  # gold programs: counted, not trained
    assert first["targets"] == first["consistent"] if objective == "hard" else first["targets"] > first["consistent"]
    after = _answers(parser, human_style)
    fixed = sum(w and a == e.answer for w, a, e in zip(wrong_before, after, human_style))
    assert fixed >= sum(wrong_before) - 1, (before, after)
    assert sum(a == e.answer for a, e in zip(after, human_style)) >= 7
    # replay keeps what it knew
    replay_after = _answers(parser, bundled)
    kept = sum(a == e.answer for a, e in zip(replay_after, bundled))
    assert kept >= sum(a == e.answer for a, e in zip(replay_before, bundled)) - 1, (replay_before, replay_after)

    parser.save(tmp_path / "tuned")
    config = json.loads((tmp_path / "tuned" / "config.json").read_text())
    assert config["training"]["answer_finetuning"]["rounds"][0]["consistent"] == first["consistent"]
    loaded = get_parser(str(tmp_path / "tuned"))
    assert _answers(loaded, human_style) == after


@pytest.mark.slow
def test_keep_best_restores_the_best_round_on_dev(tiny, bundled):
    out, _, _ = tiny
    parser = Seq2SeqParser.load(out, min_confidence=0.0)
    dev = bundled[:12]
    start = evaluate_answers(parser, dev)
    # a learning rate far too high wrecks the model; keep_best must bring round 0 back
    report = finetune_on_answers(
        parser, bundled, dev=dev, rounds=1, beam=3, epochs_per_round=3, lr=0.5, batch_size=8,
        word_dropout=0.0, seed=0, log=lambda _: None,
    )
    assert report["rounds"][0] == {"round": 0, "dev": start}
    assert report["rounds"][1]["dev"]["accuracy"] < start["accuracy"]
    assert report["best_round"] == 0
    assert evaluate_answers(parser, dev) == start


@pytest.mark.slow
def test_example_weights_scale_the_loss(tiny):
    out, _, qs = tiny

    def epoch(weights: list[float] | None, n: int = len(qs)) -> float:
        parser = Seq2SeqParser.load(out)
        srcs = [question_ids(parser.tokenizer, words(q.question), 64) for q in qs[:n]]
        tgts = [parser.grammar.encode(q.program) for q in qs[:n]]
        torch.manual_seed(0)  # the same dropout masks in every call
        optimiser, schedule = make_optimiser(parser.model, 1e-3, 4)
        return train_epoch(
            parser.model, srcs, tgts, bos=parser.grammar.index["<bos>"], optimiser=optimiser,
            schedule=schedule, batch_size=8, rng=random.Random(0), weights=weights,
        )

    assert epoch([1.0] * len(qs)) == pytest.approx(epoch(None), rel=1e-5)
    # one batch: weights 0.5 give half the loss, weights 0 none
    assert epoch([0.5] * 8, 8) == pytest.approx(epoch([1.0] * 8, 8) / 2, rel=1e-5)
    assert epoch([0.0] * 8, 8) == 0.0


@pytest.mark.slow
def test_few_programs_then_answers_writes_a_loadable_checkpoint(bundled, tmp_path):
    few = [(e.question, e.program) for e in bundled[::3]]  # 10 programs
    qa = [e for i, e in enumerate(bundled) if i % 3]
    parser, report = train_with_few_programs(
        few, qa, tmp_path / "few", dev=bundled[:6], supervised_epochs=20, supervised_batch_size=8,
        model_kwargs={"d_model": 32, "feedforward": 64, "encoder_layers": 1, "decoder_layers": 1},
        rounds=1, beam=4, epochs_per_round=2, lr=1e-3, seed=0, threads=1, log=lambda _: None,
    )
    assert report["supervised"]["examples"] == 10 and report["supervised"]["held_out"] == 0
    rounds = report["finetune"]["rounds"]
    assert [r["round"] for r in rounds] == [0, 1] and rounds[1]["questions"] == 20
    assert rounds[1]["replay"] == min(10, rounds[1]["consistent"])
    assert report["finetune"]["best_round"] is None  # keep_best is off: dev is the test set
    loaded = Seq2SeqParser.load(tmp_path / "few")
    assert Seq2SeqParser.load(tmp_path / "few" / "supervised").model.config.src_vocab_size <= (
        loaded.model.config.src_vocab_size)
    probe = [e.question for e in bundled[:5]]
    for a, b in zip(parser.parse_batch(probe), loaded.parse_batch(probe)):
        assert [x.program for x in a.alternatives] == [x.program for x in b.alternatives]


@pytest.mark.slow
def test_min_score_leaves_out_improbable_consistent_programs(tiny, bundled):
    out, _, _ = tiny
    parser = Seq2SeqParser.load(out, min_confidence=0.0)
    found = consistent_programs(parser, *zip(*[(e.question, e.scene, e.answer) for e in bundled]), beam=3)
    cut = sorted(a[0].score for a in found if a)[len(bundled) // 2]
    report = finetune_on_answers(parser, bundled, rounds=1, beam=3, epochs_per_round=1, min_score=cut,
                                 new_words=False, log=lambda _: None)
    entry = report["rounds"][0]
    assert entry["consistent"] == sum(bool(a) for a in found)
    assert entry["trained"] == entry["targets"] == sum(bool(a) and a[0].score >= cut for a in found) < entry["consistent"]
    assert entry["consistent_correct"] <= entry["trained"]
    # nothing above the bar: nothing trained, the parser unchanged
    before = parser.parse_batch([e.question for e in bundled[:5]])
    report = finetune_on_answers(parser, bundled, rounds=1, beam=3, min_score=1.01, log=lambda _: None)
    assert (report["rounds"][0]["trained"], report["rounds"][0]["loss"]) == (0, None)
    after = parser.parse_batch([e.question for e in bundled[:5]])
    assert [r.alternatives for r in before] == [r.alternatives for r in after]
