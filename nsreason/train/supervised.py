"""Continued supervised training of a parser checkpoint (``nsreason train supervised``).

The shipped question parser is trained once on CLEVR questions (an hour here). Teaching it a
new kind of text — CLEVR-Ref+ referring expressions, with the words ("second", "fully",
"visible") and program tokens (``filter_ordinal[...]``, ``filter_visible[...]``) it never
had — does not need that hour again: :func:`continue_training` grows the checkpoint's word
and token spaces, then trains on the new (text, program) pairs mixed with *replay* pairs of
what the parser already knows, so that it keeps them.

* **Words**: :func:`nsreason.train.finetune.extend_vocabulary` (new rows start as the word
  the parser read before: its typo-corrected form or ``[UNK]``, plus noise that tells them
  apart).
* **Program tokens**: :func:`extend_program_tokens` appends the tokens of the new pairs'
  programs that the checkpoint's output space lacks (old ids unchanged); their output rows
  start at zero weight and a low bias, so nothing the parser emits changes before training.
* **Training**: teacher-forced cross-entropy (:func:`nsreason.train.parser.train_epoch`),
  AdamW with warm-up and linear decay, a fixed seed; after each epoch the exact-program
  match on held-out pairs of each source chooses the epoch kept (the mean over sources, so a
  small new source counts as much as a large replay).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from ..parse.grammar import ProgramGrammar
from ..parse.seq2seq import Seq2SeqParser
from ..parse.text import correct_typos, words
from ..program.ir import Program
from .finetune import AnswerExample, _answer_of, _default_executor, extend_vocabulary
from .parser import _exact_match, make_optimiser, question_ids, train_epoch

__all__ = ["continue_training", "extend_program_tokens", "right_programs"]

Pairs = Sequence[tuple[str, Program]]


def extend_program_tokens(parser: Seq2SeqParser, programs: Sequence[Program]) -> list[str]:
    """Add to ``parser``'s output space the prefix tokens of ``programs`` it lacks; return
    them. Old token ids keep their meaning; new output rows emit nothing before training
    (zero weights, bias -10), new target embeddings start as the mean of the old ones."""
    grammar = parser.grammar
    full = ProgramGrammar(grammar.vocabulary)
    known = set(grammar.tokens)
    new: list[str] = []
    for program in programs:
        for token in (full.tokens[i] for i in full.encode(program)):
            if token not in known:
                known.add(token)
                new.append(token)
    if not new:
        return []
    new.sort(key=full.index.__getitem__)  # the vocabulary's order, not the data's
    model = parser.model
    size = model.config.tgt_vocab_size
    grown_grammar = ProgramGrammar(grammar.vocabulary, tokens=[*grammar.tokens, *new])
    if grown_grammar.tokens[:size] != grammar.tokens:
        raise ValueError("extending the program tokens would move the old ones")
    embed, out = model.tgt_embed, model.out
    new_embed = nn.Embedding(size + len(new), embed.embedding_dim, padding_idx=embed.padding_idx)
    new_out = nn.Linear(out.in_features, size + len(new))
    with torch.no_grad():
        new_embed.weight[:size] = embed.weight
        new_embed.weight[size:] = embed.weight[1:].mean(0)
        new_out.weight[:size] = out.weight
        new_out.weight[size:] = 0.0
        new_out.bias[:size] = out.bias
        new_out.bias[size:] = -10.0
    model.tgt_embed, model.out = new_embed, new_out
    model.config.tgt_vocab_size = size + len(new)
    model.config.program_tokens = list(grown_grammar.tokens)
    parser.grammar = grown_grammar
    return new


def right_programs(parser: Seq2SeqParser, examples: Sequence[AnswerExample]) -> list[tuple[str, Program]]:
    """The parser's own programs for answered questions, where they give the right answer on
    the question's scene: replaying them keeps what answer-only fine-tuning taught it (the
    CLEVR-Humans wordings) while it learns something new."""
    executor = _default_executor(None)
    refusing, parser.refuse_unknown_words = parser.refuse_unknown_words, False  # its own reading, as trained
    try:
        parsed = parser.parse_batch([e.question for e in examples])
    finally:
        parser.refuse_unknown_words = refusing
    return [(e.question, r.program) for e, r in zip(examples, parsed)
            if r.program is not None and _answer_of(executor, r.program, e.scene) == str(e.answer).lower()]


def continue_training(
    parser: Seq2SeqParser,
    sources: Mapping[str, Pairs],
    *,
    dev: Mapping[str, Pairs] | None = None,
    epochs: int = 4,
    batch_size: int = 64,
    lr: float = 5e-4,
    seed: int = 0,
    word_dropout: float = 0.02,
    min_word_count: int = 2,
    new_word_noise: float = 1.0,
    threads: int | None = None,
    log: Callable[[str], None] = print,
    provenance: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Train ``parser`` further on the pairs of every source (named, e.g. ``refexps``,
    ``replay``); ``dev`` pairs per source choose the epoch kept. Grows words and tokens first
    (see the module docstring). New words start as the word they were read as before plus
    Gaussian noise of ``new_word_noise`` times the embeddings' standard deviation: words that
    all were ``[UNK]`` ("first", "second", ... "nineth") would otherwise start identical and
    separate slowly. ``provenance`` (where the pairs came from: files, the half of the
    images) is recorded in the report and in the checkpoint's ``config.json``. Returns a
    report; the caller saves the parser."""
    random.seed(seed)
    torch.manual_seed(seed)
    if threads:
        torch.set_num_threads(threads)
    dev = dict(dev or {})
    every = [p for pairs in sources.values() for p in pairs]
    added_tokens = extend_program_tokens(parser, [p for _, p in every] + [p for ps in dev.values() for _, p in ps])
    added_words = extend_vocabulary(parser, [t for t, _ in every], min_count=min_word_count)
    model, grammar = parser.model, parser.grammar
    if added_words and new_word_noise > 0:  # words that all started as [UNK] must be told apart
        weight = model.src_embed.weight
        with torch.no_grad():
            start = weight.size(0) - len(added_words)
            scale = new_word_noise * weight[:start].std()
            generator = torch.Generator().manual_seed(seed)
            weight[start:] += scale * torch.randn(weight[start:].shape, generator=generator)
    max_src = model.config.max_src_len

    def encode(pairs: Pairs) -> tuple[list[list[int]], list[list[int]], int]:
        srcs, tgts, skipped = [], [], 0
        for text, program in pairs:
            if not grammar.covers(program):
                skipped += 1
                continue
            fixed, _, _ = correct_typos(words(text), parser.word_counts)
            srcs.append(question_ids(parser.tokenizer, fixed, max_src))
            tgts.append(grammar.encode(program))
        return srcs, tgts, skipped

    train_src: list[list[int]] = []
    train_tgt: list[list[int]] = []
    counts = {}
    for name, pairs in sources.items():
        s, t, skipped = encode(pairs)
        train_src += s
        train_tgt += t
        counts[name] = {"pairs": len(s), "outside_grammar": skipped}
    dev_sets = {name: encode(pairs)[:2] for name, pairs in dev.items()}
    log(f"training on {len(train_src):,} pairs {counts}; added {len(added_words)} words, "
        f"{len(added_tokens)} program tokens")

    def dev_scores() -> dict[str, float]:
        return {name: _exact_match(model, grammar, s, t) for name, (s, t) in dev_sets.items() if s}

    rng = random.Random(seed)
    steps = -(-len(train_src) // batch_size) * epochs
    optimiser, schedule = make_optimiser(model, lr, steps)
    bos = grammar.index["<bos>"]
    history: list[dict[str, Any]] = [{"epoch": 0, "dev": dev_scores()}]
    log(f"before: held-out exact match {history[0]['dev']}")
    best_score = sum(history[0]["dev"].values()) / max(1, len(history[0]["dev"])) if dev_sets else float("-inf")
    best = {k: v.detach().clone() for k, v in model.state_dict().items()}
    best_epoch = 0
    started = time.perf_counter()
    for epoch in range(1, epochs + 1):
        loss = train_epoch(model, train_src, train_tgt, bos=bos, optimiser=optimiser, schedule=schedule,
                           batch_size=batch_size, rng=rng, word_dropout=word_dropout) / max(1, len(train_src))
        scores = dev_scores()
        history.append({"epoch": epoch, "loss": loss, "dev": scores})
        log(f"epoch {epoch}: loss {loss:.4f}, held-out exact match {scores} "
            f"({time.perf_counter() - started:.0f} s)")
        score = sum(scores.values()) / len(scores) if scores else -loss
        if score >= best_score or not dev_sets:
            best_score, best_epoch = score, epoch
            best = {k: v.detach().clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best)
    model.eval()
    report = {
        **dict(provenance or {}),
        "sources": counts,
        "dev_pairs": {name: len(s) for name, (s, _) in dev_sets.items()},
        "added_words": added_words,
        "added_tokens": added_tokens,
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
        "word_dropout": word_dropout,
        "best_epoch": best_epoch,
        "seconds": round(time.perf_counter() - started, 1),
        "history": history,
    }
    training = dict(model.config.training)
    training.setdefault("continued", []).append({k: v for k, v in report.items() if k != "history"}
                                                | {"history": history})
    model.config.training = training
    return report
