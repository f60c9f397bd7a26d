"""Training the neural parser from answers alone, with the executor as weak supervision.

Given (question, scene, answer) triples and no programs, the parser searches its own
program space (grammar-constrained beam search), the executor runs every hypothesis on the
question's scene, and the hypotheses whose answer is the gold answer are *consistent*. The
parser is then trained on them and searches again (iterated hard EM, or maximum marginal
likelihood with consistent programs weighted by their normalised probability), with
supervised (question, program) pairs mixed in so that it does not forget.

Two uses:

* fine-tuning a trained parser on human-written questions with answers only
  (CLEVR-Humans): :func:`finetune_on_answers`, which first extends the word vocabulary
  with the new words of those questions (:func:`extend_vocabulary`);
* NS-VQA's data-efficiency setting, a few annotated programs plus question–answer pairs:
  :func:`train_with_few_programs`.

The search, the batching and the training step are those of inference
(:meth:`Seq2SeqParser.parse_batch`) and of supervised training
(:func:`nsreason.train.parser.train_epoch`). Like :mod:`nsreason.train.parser`, this module
imports torch; it joins parsing and execution (a training-layer module may run the
executor), and the executor can be passed in (default: a
:class:`~nsreason.execute.symbolic.SymbolicExecutor`).
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import torch
from torch import nn

from ..execute.answer import answer_text
from ..execute.symbolic import SymbolicExecutor
from ..parse.base import Alternative
from ..parse.seq2seq import UNK_WORD, Seq2SeqParser
from ..parse.text import correct_typos, words
from ..program.ir import Program
from ..scene.graph import SceneGraph
from .parser import make_optimiser, question_ids, train_epoch, train_parser

__all__ = [
    "AnswerExample",
    "consistent_programs",
    "evaluate_answers",
    "extend_vocabulary",
    "finetune_on_answers",
    "train_with_few_programs",
]

Objective = Literal["hard", "mml"]


class Executes(Protocol):
    """What the search needs of an executor (:class:`~nsreason.execute.SymbolicExecutor`)."""

    def execute(self, program: Program, scene: SceneGraph, *, trace: bool = True) -> Any: ...


@dataclass(frozen=True, slots=True)
class AnswerExample:
    """A question about a scene with its answer as a CLEVR answer string ("yes", "3",
    "red"). ``program``, when known, is used only to report program accuracy, never for
    training."""

    question: str
    scene: SceneGraph
    answer: str
    program: Program | None = None


def _default_executor(executor: Executes | None) -> Executes:
    return executor if executor is not None else SymbolicExecutor()


def _answer_of(executor: Executes, program: Program, scene: SceneGraph) -> str | None:
    """The program's answer on the scene as a lower-case answer string; None on failure."""
    result = executor.execute(program, scene, trace=False)
    if result.failure is not None:
        return None
    return answer_text(result.value).lower()


# -- search --------------------------------------------------------------------------------
def consistent_programs(
    parser: Seq2SeqParser,
    questions: Sequence[str],
    scenes: Sequence[SceneGraph],
    answers: Sequence[str],
    *,
    beam: int = 10,
    executor: Executes | None = None,
) -> list[list[Alternative]]:
    """Per question, the programs of the parser's beam whose execution on the question's
    scene gives the gold answer, with their probability under the parser, most probable
    first (empty when none does).

    The search is the parser's own batched, grammar-constrained beam search
    (:meth:`Seq2SeqParser.parse_batch` with ``beam``), on the words the parser sees
    (normalised, typo-corrected); every hypothesis of the beam counts, including those of
    a result the parser would report as "could not parse". Answers are compared as
    lower-case CLEVR answer strings (:func:`~nsreason.execute.answer.answer_text`).
    """
    if not len(questions) == len(scenes) == len(answers):
        raise ValueError(
            f"expected as many scenes and answers as questions, got {len(questions)} questions, "
            f"{len(scenes)} scenes, {len(answers)} answers"
        )
    executor = _default_executor(executor)
    results = parser.parse_batch(list(questions), beam=beam)
    found: list[list[Alternative]] = []
    for result, scene, gold in zip(results, scenes, answers):
        target = str(gold).lower()
        merged: dict[Program, float] = {}
        for alt in result.alternatives:
            if _answer_of(executor, alt.program, scene) == target:
                merged[alt.program] = merged.get(alt.program, 0.0) + alt.score
        found.append([Alternative(p, s) for p, s in sorted(merged.items(), key=lambda kv: -kv[1])])
    return found


def evaluate_answers(
    parser: Seq2SeqParser,
    examples: Sequence[AnswerExample],
    *,
    beam: int | None = None,
    executor: Executes | None = None,
) -> dict[str, Any]:
    """How well the parser answers ``examples``.

    ``accuracy`` and ``program_accuracy`` score the parser's chosen programs as
    :class:`~nsreason.api.Reasoner` uses them (a question the parser reports as "could not
    parse", ``could_not_parse`` of them, is wrong); ``best_accuracy`` and
    ``best_program_accuracy`` score its most probable program whatever its confidence.
    Program accuracy is exact match with the canonical gold program, over the examples that
    carry one (None when none does)."""
    executor = _default_executor(executor)
    results = parser.parse_batch([e.question for e in examples], beam=beam)
    correct = best_correct = with_program = program_correct = best_program_correct = failed = 0
    for ex, result in zip(examples, results):
        best = result.alternatives[0].program if result.alternatives else None
        gold = ex.answer.lower()
        best_ok = best is not None and _answer_of(executor, best, ex.scene) == gold
        best_correct += best_ok
        if result.program is None:
            failed += 1
        elif result.program == best:
            correct += best_ok
        else:
            correct += _answer_of(executor, result.program, ex.scene) == gold
        if ex.program is not None:
            with_program += 1
            canonical = ex.program.canonical()
            program_correct += result.program is not None and result.program == canonical
            best_program_correct += best is not None and best == canonical
    n = max(1, len(examples))
    return {
        "questions": len(examples),
        "accuracy": correct / n,
        "program_accuracy": program_correct / with_program if with_program else None,
        "could_not_parse": failed,
        "best_accuracy": best_correct / n,
        "best_program_accuracy": best_program_correct / with_program if with_program else None,
    }


# -- vocabulary ----------------------------------------------------------------------------
def extend_vocabulary(parser: Seq2SeqParser, questions: Iterable[str], *, min_count: int = 2) -> list[str]:
    """Add the words of ``questions`` that the parser does not know and that occur at
    least ``min_count`` times; return them (most frequent first).

    Extending alone changes no parse: old word ids and embeddings stay, and each new word
    gets the next id in the tokenizer and a new row of the source embedding that is a copy
    of the row the parser read it as before: the known word typo correction mapped it to
    ("shapes" starts as "shape", "block" as "black") or else ``[UNK]``. Training then moves
    the new rows apart. Its count goes to ``parser.word_counts``, so typo correction now
    keeps the word. Rarer unknown words stay unknown and are still typo-corrected.
    ``config.src_vocab_size`` follows, so :meth:`Seq2SeqParser.save` writes a loadable
    checkpoint.
    """
    from tokenizers import models

    tokenizer = parser.tokenizer
    model = parser.model
    vocab: dict[str, int] = tokenizer.get_vocab(with_added_tokens=False)
    size = model.config.src_vocab_size
    if len(vocab) != size or max(vocab.values()) != size - 1:
        raise ValueError(
            f"the tokenizer has {len(vocab)} words (ids up to {max(vocab.values())}) but the model "
            f"embeds {size}: extending needs a word-level tokenizer matching the model"
        )
    counts = Counter(w for q in questions for w in words(q))
    new = sorted(
        (w for w, c in counts.items() if c >= min_count and w not in vocab and w not in parser.word_counts),
        key=lambda w: (-counts[w], w),
    )
    if not new:
        return []
    unk = tokenizer.token_to_id(UNK_WORD)
    sources = []  # the embedding row each new word starts from
    for w in new:
        fixed, _, _ = correct_typos([w], parser.word_counts)
        sources.append(vocab.get(fixed[0], unk))
    extended = dict(vocab)
    for i, w in enumerate(new):
        extended[w] = size + i
    pre_tokenizer = tokenizer.pre_tokenizer
    tokenizer.model = models.WordLevel(extended, unk_token=UNK_WORD)
    tokenizer.pre_tokenizer = pre_tokenizer
    old = model.src_embed
    grown = nn.Embedding(size + len(new), old.embedding_dim, padding_idx=old.padding_idx)
    with torch.no_grad():
        grown.weight[:size] = old.weight
        grown.weight[size:] = old.weight[torch.tensor(sources)]
    model.src_embed = grown
    model.config.src_vocab_size = size + len(new)
    for w in new:
        parser.word_counts[w] = counts[w]
    return new


# -- training ------------------------------------------------------------------------------
def finetune_on_answers(
    parser: Seq2SeqParser,
    examples: Sequence[AnswerExample],
    *,
    replay: Sequence[tuple[str, Program]] = (),
    dev: Sequence[AnswerExample] = (),
    rounds: int = 3,
    beam: int = 10,
    epochs_per_round: int = 2,
    lr: float = 3e-4,
    batch_size: int = 32,
    objective: Objective = "hard",
    replay_per_round: int | None = None,
    min_score: float = 0.0,
    new_words: bool = True,
    min_word_count: int = 2,
    word_dropout: float = 0.02,
    keep_best: bool = True,
    seed: int = 0,
    threads: int | None = None,
    executor: Executes | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Fine-tune ``parser`` in place on answer-only ``examples``; return a report.

    Each round searches consistent programs with the current model
    (:func:`consistent_programs`, beam ``beam``), then trains ``epochs_per_round`` epochs
    with cross-entropy on them: with ``objective="hard"`` on the most probable consistent
    program of each question (hard EM), with ``"mml"`` on all of them weighted by their
    probability normalised over the question's consistent programs (each question weighs
    one example). Questions without a consistent program, or whose most probable one has
    a probability below ``min_score`` (confidence-filtered self-training: a spurious
    program that merely hits the answer is usually improbable), are left out of that round.
    ``replay`` (question, program) pairs are mixed in, ``replay_per_round`` of them drawn
    each round (default: as many as there are questions trained on, at most all of them).

    With ``new_words``, the vocabulary first grows by the unknown words occurring at least
    ``min_word_count`` times in the examples (:func:`extend_vocabulary`). With ``dev``
    examples, answer (and program) accuracy is measured before training (round 0) and
    after each round; with ``keep_best`` the parser ends with the weights of the best
    round (round 0 included: fine-tuning never leaves it worse on ``dev``).

    The report: ``added_words``, ``rounds`` (per round: questions with a consistent
    program, targets, replay pairs, mean train loss, dev scores, seconds), ``best_round``.
    ``trained`` counts the questions trained on (consistent, above ``min_score``); where
    ``examples`` carry programs, ``consistent_correct`` counts those of them whose most
    probable consistent program is the gold one (how often the search is not fooled by a
    spurious program); the gold programs are read for that count only, never trained on.
    The same summary goes to ``parser.model.config.training["answer_finetuning"]``, so a
    saved checkpoint records it.
    """
    if objective not in ("hard", "mml"):
        raise ValueError(f"expected objective 'hard' or 'mml', got {objective!r}")
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    executor = _default_executor(executor)
    model, grammar, tokenizer = parser.model, parser.grammar, parser.tokenizer
    max_src = model.config.max_src_len
    bos = grammar.index["<bos>"]
    started = time.perf_counter()

    added = extend_vocabulary(parser, [e.question for e in examples], min_count=min_word_count) if new_words else []
    if added:
        log(f"vocabulary: {len(added)} new words ({', '.join(added[:12])}{', ...' if len(added) > 12 else ''})")
    replay_pairs = []
    for question, program in replay:
        try:
            replay_pairs.append((question, grammar.encode(program)))
        except KeyError:
            continue  # outside the parser's grammar
    history: list[dict[str, Any]] = []
    best_score, best_state = float("-inf"), None
    if dev:
        scores = evaluate_answers(parser, dev, executor=executor)
        history.append({"round": 0, "dev": scores})
        log(f"round 0: dev accuracy {scores['accuracy']:.4f}")
        best_score, best_state = scores["accuracy"], _snapshot(model)
    for r in range(1, rounds + 1):
        t0 = time.perf_counter()
        model.eval()
        found = consistent_programs(
            parser, [e.question for e in examples], [e.scene for e in examples],
            [e.answer for e in examples], beam=beam, executor=executor,
        )
        srcs: list[list[int]] = []
        tgts: list[list[int]] = []
        weights: list[float] = []
        n_right = 0  # diagnostic only (gold programs never train): trained-on programs that are right
        for ex, alts in zip(examples, found):
            if not alts or alts[0].score < min_score:
                continue
            n_right += ex.program is not None and alts[0].program == ex.program.canonical()
            ids = question_ids(tokenizer, parser.prepare(ex.question)[0], max_src)
            chosen = alts[:1] if objective == "hard" else alts
            total = sum(a.score for a in chosen) or 1.0
            for a in chosen:
                srcs.append(ids)
                tgts.append(grammar.encode(a.program))
                weights.append(1.0 if objective == "hard" else a.score / total)
        n_consistent = sum(bool(a) for a in found)
        n_trained = sum(bool(a) and a[0].score >= min_score for a in found)
        n_targets = len(srcs)
        k = min(len(replay_pairs), n_trained if replay_per_round is None else replay_per_round)
        for question, target in rng.sample(replay_pairs, k):
            srcs.append(question_ids(tokenizer, parser.prepare(question)[0], max_src))
            tgts.append(target)
            weights.append(1.0)
        loss = None
        if srcs:
            optimiser, schedule = make_optimiser(model, lr, math.ceil(len(srcs) / batch_size) * epochs_per_round)
            total_loss = 0.0
            for _ in range(epochs_per_round):
                total_loss += train_epoch(
                    model, srcs, tgts, bos=bos, optimiser=optimiser, schedule=schedule,
                    batch_size=batch_size, rng=rng, word_dropout=word_dropout,
                    weights=weights if objective == "mml" else None,
                )
            loss = total_loss / (len(srcs) * max(1, epochs_per_round))
        model.eval()
        entry: dict[str, Any] = {
            "round": r,
            "questions": len(examples),
            "consistent": n_consistent,
            "trained": n_trained,
            "consistent_correct": n_right if any(e.program is not None for e in examples) else None,
            "targets": n_targets,
            "replay": k,
            "loss": loss,
        }
        if dev:
            entry["dev"] = evaluate_answers(parser, dev, executor=executor)
            if entry["dev"]["accuracy"] >= best_score:
                best_score, best_state = entry["dev"]["accuracy"], _snapshot(model)
        entry["seconds"] = round(time.perf_counter() - t0, 1)
        history.append(entry)
        log(
            f"round {r}: {n_consistent}/{len(examples)} questions with a consistent program "
            f"({n_trained} trained on), "
            f"{k} replayed, loss {loss if loss is None else round(loss, 4)}"
            + (f", dev accuracy {entry['dev']['accuracy']:.4f}" if dev else "")
            + f" ({entry['seconds']} s)"
        )
    best_round = None
    if dev and keep_best and best_state is not None:
        best_round = max(
            (h for h in history), key=lambda h: (h["dev"]["accuracy"], h["round"])
        )["round"]
        model.load_state_dict(best_state)
    model.eval()
    report = {
        "objective": objective,
        "examples": len(examples),
        "replay_pairs": len(replay_pairs),
        "beam": beam,
        "rounds_run": rounds,
        "epochs_per_round": epochs_per_round,
        "lr": lr,
        "seed": seed,
        "added_words": added,
        "rounds": history,
        "best_round": best_round,
        "seconds": round(time.perf_counter() - started, 1),
    }
    model.config.training = {**model.config.training, "answer_finetuning": report}
    return report


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def train_with_few_programs(
    few_pairs: Sequence[tuple[str, Program]],
    qa_examples: Sequence[AnswerExample],
    out_dir: str | Path,
    *,
    dev: Sequence[AnswerExample] = (),
    supervised_epochs: int = 60,
    supervised_lr: float = 1e-3,
    supervised_batch_size: int = 32,
    model_kwargs: dict[str, Any] | None = None,
    rounds: int = 3,
    beam: int = 10,
    epochs_per_round: int = 2,
    lr: float = 3e-4,
    objective: Objective = "hard",
    keep_best: bool = False,
    seed: int = 0,
    threads: int | None = None,
    executor: Executes | None = None,
    log: Callable[[str], None] = print,
    **finetune: Any,
) -> tuple[Seq2SeqParser, dict[str, Any]]:
    """NS-VQA's data-efficient recipe: supervised training on a few (question, program)
    pairs (:func:`~nsreason.train.parser.train_parser`, all pairs used, none held out;
    checkpoint in ``out_dir/supervised``), then :func:`finetune_on_answers` on
    ``qa_examples`` with the few pairs as replay. The final checkpoint is saved to
    ``out_dir``; returns the parser and ``{"supervised": ..., "finetune": ...}``.

    ``dev`` answer-only examples are scored before and after every round; ``keep_best``
    is off by default because ``dev`` is usually the evaluation set here (picking the best
    round on it would select on the test data). Further keyword arguments go to
    :func:`finetune_on_answers`.
    """
    out = Path(out_dir)
    supervised = train_parser(
        few_pairs, out / "supervised", epochs=supervised_epochs, batch_size=supervised_batch_size,
        lr=supervised_lr, seed=seed, dev_fraction=0.0, model_kwargs=model_kwargs, log=log, threads=threads,
    )
    parser = Seq2SeqParser.load(out / "supervised")
    report = finetune_on_answers(
        parser, qa_examples, replay=few_pairs, dev=dev, rounds=rounds, beam=beam,
        epochs_per_round=epochs_per_round, lr=lr, objective=objective, keep_best=keep_best,
        seed=seed, threads=threads, executor=executor, log=log, **finetune,
    )
    parser.save(out)
    return parser, {"supervised": supervised, "finetune": report}
