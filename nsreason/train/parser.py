"""Training the neural program parser (``nsreason train parser``).

Supervised: (question, program) pairs from CLEVR question files (either format), programs
as canonical prefix tokens, cross-entropy with teacher forcing, AdamW with warm-up and
linear decay, a fixed seed. A small part of the data is held out to pick the best epoch by
exact program match under constrained greedy decoding. The result is a checkpoint folder
loadable by :meth:`Seq2SeqParser.load`.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..parse.grammar import ProgramGrammar
from ..parse.seq2seq import (
    PAD_WORD,
    UNK_WORD,
    Seq2SeqConfig,
    Seq2SeqModel,
    Seq2SeqParser,
    beam_search,
)
from ..parse.text import words
from ..program.ir import Program

__all__ = ["build_tokenizer", "make_optimiser", "question_ids", "train_epoch", "train_parser"]

Progress = Callable[[Iterable[Any], int, str], Iterable[Any]]


def build_tokenizer(texts: Iterable[str]) -> Any:
    """A word-level 🤗 ``tokenizers`` tokenizer trained on normalised question words."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.WordLevel(unk_token=UNK_WORD))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    trainer = trainers.WordLevelTrainer(special_tokens=[PAD_WORD, UNK_WORD], min_frequency=1)
    tok.train_from_iterator(texts, trainer)
    assert tok.token_to_id(PAD_WORD) == 0 and tok.token_to_id(UNK_WORD) == 1
    return tok


def train_parser(
    pairs: Sequence[tuple[str, Program]],
    out_dir: str | Path,
    *,
    vocabulary: str = "clevr",
    epochs: int = 12,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    dev_fraction: float = 0.02,
    word_dropout: float = 0.02,
    model_kwargs: dict[str, Any] | None = None,
    progress: Progress | None = None,
    log: Callable[[str], None] = print,
    threads: int | None = None,
) -> dict[str, Any]:
    """Train on ``pairs`` and save the best checkpoint to ``out_dir``; return a report."""
    random.seed(seed)
    torch.manual_seed(seed)
    if threads:
        torch.set_num_threads(threads)
    grammar = ProgramGrammar(vocabulary)
    examples = []
    skipped = 0
    for question, program in pairs:
        try:
            target = grammar.encode(program)
        except KeyError:
            skipped += 1
            continue
        examples.append((words(question), target))
    rng = random.Random(seed)
    rng.shuffle(examples)
    n_dev = max(1, int(len(examples) * dev_fraction)) if dev_fraction > 0 and len(examples) > 10 else 0
    dev, train = examples[:n_dev], examples[n_dev:]

    counts = Counter(w for ws, _ in train for w in ws)
    tokenizer = build_tokenizer([" ".join(ws) for ws, _ in train])
    max_tgt = max(96, 2 * max(len(t) for _, t in examples))  # room for deeper programs
    config = Seq2SeqConfig(
        src_vocab_size=tokenizer.get_vocab_size(),
        tgt_vocab_size=len(grammar),
        vocabulary=vocabulary,
        max_src_len=max(96, 2 * max(len(ws) for ws, _ in examples)),
        max_tgt_len=max_tgt,
        program_tokens=list(grammar.tokens),
        **(model_kwargs or {}),
    )
    model = Seq2SeqModel(config)
    log(
        f"training on {len(train):,} questions ({len(dev):,} held out, {skipped} outside the grammar); "
        f"{sum(p.numel() for p in model.parameters()):,} parameters"
    )

    def to_ids(ws: list[str]) -> list[int]:
        return question_ids(tokenizer, ws, config.max_src_len)

    train_src = [to_ids(ws) for ws, _ in train]
    train_tgt = [t for _, t in train]
    bos = grammar.index["<bos>"]
    steps_per_epoch = math.ceil(len(train) / batch_size)
    optimiser, schedule = make_optimiser(model, lr, steps_per_epoch * epochs)
    best: tuple[float, dict[str, Any] | None] = (float("-inf"), None)
    history = []
    started = time.perf_counter()
    for epoch in range(1, epochs + 1):
        wrap = None if progress is None else (
            lambda batches, e=epoch: progress(batches, len(batches), f"epoch {e}/{epochs}"))
        total_loss = train_epoch(
            model, train_src, train_tgt, bos=bos, optimiser=optimiser, schedule=schedule,
            batch_size=batch_size, rng=rng, word_dropout=word_dropout, wrap=wrap,
        )
        dev_acc = _exact_match(model, grammar, [to_ids(ws) for ws, _ in dev], [t for _, t in dev]) if dev else None
        history.append({"epoch": epoch, "loss": total_loss / len(train), "dev_exact_match": dev_acc})
        log(f"epoch {epoch}: loss {total_loss / len(train):.4f}, held-out exact match {dev_acc}")
        score = dev_acc if dev_acc is not None else -total_loss
        if score >= best[0]:
            best = (score, {k: v.detach().clone() for k, v in model.state_dict().items()})
    assert best[1] is not None
    model.load_state_dict(best[1])
    config.training = {
        "examples": len(train),
        "held_out": len(dev),
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
        "word_dropout": word_dropout,
        "best_dev_exact_match": best[0] if dev else None,
        "seconds": round(time.perf_counter() - started, 1),
        "history": history,
    }
    parser = Seq2SeqParser(model, tokenizer, grammar, dict(counts))
    parser.save(out_dir)
    shown = {k: v for k, v in asdict(config).items() if k not in ("program_tokens", "training")}
    return {"out": str(out_dir), **config.training, "config": shown}


def question_ids(tokenizer: Any, ws: Sequence[str], max_len: int) -> list[int]:
    """Source token ids of a question's normalised words (``[UNK]`` alone when empty)."""
    return tokenizer.encode(" ".join(ws)).ids[:max_len] or [1]


def make_optimiser(
    model: nn.Module, lr: float, total_steps: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    """AdamW (weight decay 0.01) with linear warm-up over 5% of the steps (at most 500)
    and linear decay to zero at ``total_steps``."""
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    total = max(1, total_steps)
    warmup = max(1, min(500, total // 20))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup)))
    )
    return optimiser, schedule


def train_epoch(
    model: Seq2SeqModel,
    srcs: Sequence[Sequence[int]],
    tgts: Sequence[Sequence[int]],
    *,
    bos: int,
    optimiser: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler,
    batch_size: int,
    rng: random.Random,
    word_dropout: float = 0.0,
    weights: Sequence[float] | None = None,
    wrap: Callable[[list[list[int]]], Iterable[list[int]]] | None = None,
) -> float:
    """One epoch of teacher-forced cross-entropy over (source ids, program token ids)
    in length-bucketed shuffled batches (:func:`_length_batches`); returns the summed
    per-example loss (divide by ``len(srcs)`` for the mean).

    ``weights`` (one per example) scales each example's token losses: the loss of a batch
    is then ``sum(weight × token loss) / tokens``, the plain mean when every weight is 1
    (marginal-likelihood training weights a question's consistent programs by their
    normalised probability). ``word_dropout`` replaces that share of source words by
    ``[UNK]``. ``wrap`` wraps the batches (a progress bar)."""
    model.train()
    batches = _length_batches(srcs, batch_size, rng)
    iterator: Iterable[list[int]] = batches if wrap is None else wrap(batches)
    loss_fn = nn.CrossEntropyLoss(ignore_index=0)  # no smoothing: scores must stay calibrated
    total_loss = 0.0
    for idx in iterator:
        src, src_pad = _pad([srcs[i] for i in idx])
        if word_dropout > 0:  # unknown words at parse time: teach the model [UNK]
            drop = (torch.rand(src.shape) < word_dropout) & ~src_pad
            src = src.masked_fill(drop, 1)
        tgt, _ = _pad([[bos, *tgts[i]] for i in idx])
        gold, _ = _pad([[*tgts[i], 0] for i in idx])  # 0 (<pad>) after the last token
        gold = gold[:, : tgt.size(1)]
        logits = model(src, src_pad, tgt)
        if weights is None:
            loss = loss_fn(logits.reshape(-1, logits.size(-1)), gold.reshape(-1))
        else:
            per_token = nn.functional.cross_entropy(
                logits.transpose(1, 2), gold, ignore_index=0, reduction="none"
            )
            w = torch.tensor([weights[i] for i in idx], dtype=per_token.dtype)
            loss = (per_token * w[:, None]).sum() / (gold != 0).sum().clamp(min=1)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        total_loss += loss.item() * len(idx)
    return total_loss


def _length_batches(srcs: Sequence[Sequence[int]], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of questions of similar length (less padding, same randomness):
    shuffle, sort by length inside windows of 50 batches, cut, shuffle the batches."""
    order = list(range(len(srcs)))
    rng.shuffle(order)
    window = batch_size * 50
    batches = []
    for w in range(0, len(order), window):
        chunk = sorted(order[w : w + window], key=lambda i: len(srcs[i]))
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def _pad(seqs: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in seqs)
    out = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.tensor(s, dtype=torch.long)
    return out, out == 0


def _exact_match(model: Seq2SeqModel, grammar: ProgramGrammar, srcs: list[list[int]], tgts: list[list[int]]) -> float:
    model.eval()
    correct = 0
    for i in range(0, len(srcs), 256):
        src, src_pad = _pad(srcs[i : i + 256])
        found = beam_search(model, grammar, src, src_pad, beam=1)
        correct += sum(bool(f) and f[0][0] == t for f, t in zip(found, tgts[i : i + 256]))
    return correct / len(srcs)

