"""``nsreason train tree``: training the syntax-tree grounder (:mod:`nsreason.parse.tree`)
from referring expressions and the objects they refer to.

Every expression of the chosen scenes (``images``: ``even`` or ``odd`` ``image_index``,
or ``all``) becomes its composition tree; the vocabularies are the words its trees use
(single words, relation words, direction words); the loss is the binary cross-entropy of
each object of the scene at the root (in the referred set or not): nothing but the
referred sets supervises the scorers, no program is read. Adam, minibatches of
expressions, seeded; one CPU thread is enough (minutes).

>>> train_tree("scenes.json", "refexps.json", out="weights/tree", images="even")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..datasets.clevr.refexps import RefExp, load_refexps
from ..errors import InputError
from ..parse.tree import (
    FEATURES,
    ORDERS,
    RELATIONS,
    BuildError,
    SceneTensors,
    TreeGrounder,
    TreeNode,
    build_tree_from_tokens,
    make_model,
    scene_tensors,
    tokens_many,
)
from ..scene.graph import SceneGraph
from ..scene.io import load_scenes
from .split import IMAGE_SETS, in_images, other_half

__all__ = ["IMAGES", "select_images", "prepare", "train_tree", "exact_set_accuracy"]

IMAGES = IMAGE_SETS

Example = tuple[RefExp, TreeNode, SceneTensors]


def select_images(refexps: Sequence[RefExp], images: str) -> list[RefExp]:
    """The expressions of the even, odd or all ``image_index`` scenes
    (:func:`nsreason.train.split.in_images`)."""
    return [r for r in refexps if in_images(r.image_index, images)]


def prepare(refexps: Sequence[RefExp], scenes: Sequence[SceneGraph]) -> tuple[list[Example], list[tuple[RefExp, str]]]:
    """(expression, tree, scene tensors) for every expression whose tree builds, and the
    (expression, reason) of those whose tree does not."""
    by_image = {int(s.id) if isinstance(s.id, str) and s.id.isdigit() else s.id: s for s in scenes}
    tensors: dict[int, SceneTensors] = {}
    toks = tokens_many([r.text for r in refexps])
    ok: list[Example] = []
    bad: list[tuple[RefExp, str]] = []
    for r, t in zip(refexps, toks):
        scene = by_image.get(r.image_index)
        if scene is None:
            raise InputError(f"no scene with image_index {r.image_index} (refexp {r.refexp_index})")
        try:
            tree = build_tree_from_tokens(t)
        except BuildError as err:
            bad.append((r, str(err)))
            continue
        if r.image_index not in tensors:
            tensors[r.image_index] = scene_tensors(scene)
        ok.append((r, tree, tensors[r.image_index]))
    return ok, bad


def _vocabularies(examples: Sequence[Example]) -> dict[str, list[str]]:
    single: set[str] = set()
    relation: set[str] = set()
    order: set[str] = set()
    for _, tree, _ in examples:
        for node in tree.walk():
            {"single": single, "compose": relation, "ordinal": order}.get(node.kind, set()).update(node.words)
    return {"single_words": sorted(single), "relation_words": sorted(relation), "order_words": sorted(order)}


def exact_set_accuracy(grounder: TreeGrounder, examples: Sequence[Example]) -> tuple[float, dict[str, list[int]]]:
    """Exact-set accuracy of ``grounder`` on prepared examples, and per template family
    ``[correct, total]``."""
    per: dict[str, list[int]] = {}
    right = 0
    for r, tree, st in examples:
        g = grounder.ground(None, r.text, tree=tree, tensors=st)  # type: ignore[arg-type]
        ok = g.ok and r.objects is not None and sorted(st.ids.index(o) for o in g.objects) == r.objects
        right += ok
        c = per.setdefault(r.family or "unknown", [0, 0])
        c[0] += ok
        c[1] += 1
    return (right / len(examples) if examples else 0.0), per


def train_tree(
    scenes: str | Path,
    refexps: str | Path,
    *,
    out: str | Path,
    images: str = "even",
    epochs: int = 30,
    batch_size: int = 16,
    lr: float = 0.05,
    seed: int = 0,
    threads: int = 1,
    limit: int | None = None,
    log: Callable[[str], None] | None = print,
) -> dict[str, Any]:
    """Train on the expressions of the ``images`` scenes, measure exact-set accuracy on
    the other half (when ``images`` is even or odd), save to ``out``; returns the
    training summary (also written as ``training.json``)."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    t0 = time.perf_counter()
    all_scenes = load_scenes(scenes)
    all_refexps = load_refexps(refexps)
    train_rs = select_images(all_refexps, images)
    if limit is not None:
        train_rs = train_rs[:limit]
    held_rs = [] if images == "all" else select_images(all_refexps, other_half(images))
    train, bad = prepare(train_rs, all_scenes)
    if not train:
        raise InputError("no training expression has a tree")
    held, held_bad = prepare(held_rs, all_scenes)
    config = {"format": "nsreason.tree-grounder/1", "features": list(FEATURES), "relations": list(RELATIONS),
              "orders": list(ORDERS), **_vocabularies(train)}
    model = make_model(config)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    bce = torch.nn.BCELoss(reduction="mean")
    targets = []
    for r, _, st in train:
        y = torch.zeros(len(st.ids))
        y[list(r.objects or [])] = 1.0
        targets.append(y)
    order = list(range(len(train)))
    history = []
    for epoch in range(epochs):
        rng.shuffle(order)
        model.train()
        total = 0.0
        for b in range(0, len(order), batch_size):
            opt.zero_grad()
            loss = torch.zeros(())
            for k in order[b:b + batch_size]:
                r, tree, st = train[k]
                p = model.ground(tree, st)[id(tree)].clamp(1e-6, 1 - 1e-6)
                loss = loss + bce(p, targets[k])
            loss = loss / len(order[b:b + batch_size])
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(order[b:b + batch_size])
        history.append(total / len(order))
        if log is not None and (epoch % 5 == 4 or epoch == epochs - 1):
            log(f"epoch {epoch + 1}/{epochs}: loss {history[-1]:.4f} ({time.perf_counter() - t0:.0f}s)")
    grounder = TreeGrounder(model)
    train_acc, _ = exact_set_accuracy(grounder, train)
    held_acc, held_per = exact_set_accuracy(grounder, held)
    n_held = len(held) + len(held_bad)
    summary = {
        "data": str(refexps),
        "images": images,
        "train_refexps": len(train_rs),
        "train_without_tree": len(bad),
        "epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed,
        "train_accuracy": train_acc,
        "held_out_images": None if images == "all" else ("odd" if images == "even" else "even"),
        "held_out_refexps": n_held,
        "held_out_accuracy": (held_acc * len(held) / n_held) if n_held else None,
        "held_out_without_tree": len(held_bad),
        "held_out_by_family": {k: {"accuracy": c / t, "refexps": t} for k, (c, t) in sorted(held_per.items())},
        "loss": history,
        "seconds": time.perf_counter() - t0,
    }
    grounder.save(out, {"training": {k: summary[k] for k in ("data", "images", "epochs", "seed")}})
    (Path(out) / "training.json").write_text(json.dumps(summary, indent=1) + "\n")
    if log is not None:
        log(f"train exact-set {train_acc:.4f}; held-out ({summary['held_out_images']} images) "
            f"{summary['held_out_accuracy']}; trees failed: train {len(bad)}, held-out {len(held_bad)}")
    return summary
