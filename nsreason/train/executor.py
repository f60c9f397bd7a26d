"""``nsreason train executor``: training the neural executor from (program, answer) pairs.

Each step draws a batch of questions from a CLEVR generator questions file, makes a noisy
copy of each of their scenes (:mod:`nsreason.datasets.clevr.noise`: calibrated attribute
confusions, jittered positions with the relation probabilities they imply, and at the
higher levels dropped and spurious objects with existence probabilities), at a noise level
drawn uniformly from ``levels`` per scene (rounded to eighths); with probability ``drop_relations`` the noisy
scene also loses all its relations (positions kept), so that the encoder learns to infer
them from positions; and with probability ``duplicates`` (default 0: the shipped weights
were trained without) it also gets duplicate detections (1.5 per scene on average: a
second, confident detection of a real object next to it), so that the encoder learns to
read an object's neighbourhood. The loss is the negative
log-probability of the question's gold answer (the answer of the *clean* scene) under the executor's calibrated answer
distribution: encoder corrections and the temperatures are fitted together, which is what
makes the answers' probabilities calibrated. Everything is seeded; a GPU is used when
present, nothing requires one.

>>> train_executor("scenes.json", "questions.json", out="weights", steps=600)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..datasets.clevr import load_clevr_questions
from ..datasets.clevr.noise import NoiseLevel, noisy_scene
from ..encode.scene import scene_schema
from ..errors import InputError
from ..execute.neural import answer_distribution, new_model, run_programs
from ..program.vocab import get_vocabulary
from ..scene.clevr import load_clevr_scenes
from ..scene.graph import SceneGraph

__all__ = ["answer_index", "train_executor"]

_DUPLICATES = 1.5
"""Duplicate detections per scene (on average) in the share ``duplicates`` of the scenes."""


def answer_index(labels: Sequence[Any], answer: str) -> int | None:
    """The position of a CLEVR answer string among an answer distribution's labels
    (``True``/``False`` for yes/no, ints for counts, words for values), or None."""
    for i, label in enumerate(labels):
        text = ("yes" if label else "no") if isinstance(label, bool) else str(label)
        if text == answer:
            return i
    return None


def _without_relations(scene: SceneGraph) -> SceneGraph:
    return SceneGraph(scene.objects, (), id=scene.id, meta=scene.meta)


def train_executor(
    scenes: str | Path,
    questions: str | Path,
    *,
    out: str | Path | None = None,
    steps: int = 600,
    batch_size: int = 128,
    lr: float = 3e-3,
    levels: tuple[float, float] = (0.0, 2.0),
    drop_relations: float = 0.25,
    duplicates: float = 0.0,
    message_passing: bool = True,
    seed: int = 0,
    device: str | None = None,
    log: Callable[[str], None] | None = print,
) -> tuple[Any, dict[str, Any]]:
    """Train a neural executor model on ``questions`` (CLEVR generator or release format,
    with answers and programs) over noisy copies of ``scenes``; save it to ``out`` when
    given. Returns the model and a report (settings, loss curve, seconds)."""
    import torch

    random.seed(seed)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    by_index = dict(enumerate(load_clevr_scenes(scenes)))
    qs = [q for q in load_clevr_questions(questions) if q.answer is not None and q.image_index in by_index]
    if not qs:
        raise InputError(f"{questions}: no question with an answer and a scene in {scenes}")
    vocab = get_vocabulary("clevr")
    # the words the encoder reads (the schema's values and predicates, the scenes' names),
    # not every word of the vocabulary: ops added to it later leave the model unchanged
    schema = scene_schema(vocab)
    words = sorted({v for _, d in schema.domains for v in d} | set(schema.predicates)
                   | {o.name for s in by_index.values() for o in s.objects if o.name})
    from ..encode.text import TextEncoder

    table = TextEncoder().encode(words)
    model = new_model(vocab, words=words, word_table=table, message_passing=message_passing).to(dev)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: 1.0 - s / max(1, steps))
    losses: list[float] = []
    t0 = time.perf_counter()
    model.train()
    for step in range(steps):
        batch_qs = rng.sample(qs, min(batch_size, len(qs)))
        noisy: dict[int, SceneGraph] = {}
        for q in batch_qs:
            if q.image_index not in noisy:
                # levels on a grid of eighths: the simulator solves each level's
                # confusion scales once, then reuses them
                level = NoiseLevel.at(round(rng.uniform(*levels) * 8) / 8)
                if duplicates > 0.0 and rng.random() < duplicates:
                    level = dataclasses.replace(level, duplicates=_DUPLICATES)
                scene = noisy_scene(by_index[q.image_index], level, rng)
                if rng.random() < drop_relations:
                    scene = _without_relations(scene)
                noisy[q.image_index] = scene
        order = list(noisy)
        row_of = {img: r for r, img in enumerate(order)}
        batch = model.batch([noisy[i] for i in order]).to(dev)
        refined = model.encoder(batch)
        values = run_programs(model, [q.program for q in batch_qs], [row_of[q.image_index] for q in batch_qs],
                              refined, lambda p: vocab)
        terms = []
        for q, vals in zip(batch_qs, values):
            out_type = vocab.op(q.program.steps[-1].op).output
            n = len(batch.ids[row_of[q.image_index]])
            dist = answer_distribution(model, vocab, out_type, vals[-1], n)
            if dist is None:
                continue
            labels, probs = dist
            k = answer_index(labels, q.answer)
            # None: e.g. a count above the noisy scene's number of objects
            k_prob = probs.new_tensor(1e-6) if k is None else probs[k]
            terms.append(-torch.log(k_prob.clamp_min(1e-6)))
        loss = torch.stack(terms).mean()
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimiser.step()
        schedule.step()
        losses.append(float(loss.detach()))
        if log is not None and (step % 50 == 0 or step == steps - 1):
            recent = sum(losses[-50:]) / len(losses[-50:])
            log(f"step {step + 1}/{steps}: loss {recent:.4f} ({time.perf_counter() - t0:.0f} s)")
    model.eval()
    report = {
        "scenes": str(scenes), "questions": str(questions), "examples": len(qs), "steps": steps,
        "batch_size": batch_size, "lr": lr, "levels": list(levels), "drop_relations": drop_relations,
        "duplicates": duplicates,
        "message_passing": message_passing, "seed": seed, "device": dev.type,
        "seconds": round(time.perf_counter() - t0, 1),
        "loss_first_50": round(sum(losses[:50]) / max(1, len(losses[:50])), 4),
        "loss_last_50": round(sum(losses[-50:]) / max(1, len(losses[-50:])), 4),
        "temperatures": {k: round(float(model.temperature(k).detach()), 4) for k in ("bool", "integer", "value")},
    }
    if out is not None:
        d = model.save(out)
        (d / "training.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return model, report
