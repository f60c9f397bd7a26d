"""CLEVR questions from the official question templates, instantiated on real scenes.

A template (one entry of CLEVR's ``templates/*.json``) holds texts with placeholders
(``<Z>`` size, ``<C>`` color, ``<M>`` material, ``<S>`` shape, ``<R>`` relation, numbered
``<Z2>``... for further objects), a program over *template-level* nodes (``filter_unique``,
``relate_filter_count``...), the types of its parameters and constraints on them. For one
scene and one template, :func:`generate_questions`:

1. **chooses values** node by node, depth first in random order, from what the scene
   offers: a ``filter_unique`` gets only attribute combinations that pick out exactly one
   object; a ``filter_count``/``filter`` also gets a few combinations matching nothing (as
   many as there are single-object ones), a ``filter_exist`` as many empty ones as
   non-empty ones; a ``relate_filter*`` gets (relation, attributes) pairs, of which at most
   10% may be *trivial* (the relation removes nothing the attributes alone would keep), and
   only ``..._count``/``..._exist`` may come out empty. Any parameter may stay empty
   (``""``): its filter is left out and its word disappears from the text (an empty shape
   reads "thing"/"object");
2. **honours the constraints**: ``NULL``/``NOT_NULL`` (a parameter must / must not be
   empty), ``EQ``/``NEQ`` (two parameters equal / different), ``OUT_EQ``/``OUT_NEQ`` (two
   nodes give the same / a different result; for a ``filter_count``/``filter_exist`` node
   the *set* before counting is compared, so "are there as many red things as cubes" never
   compares a set with itself);
3. **balances answers**: per template, an answer is refused while it is already more than
   10% (plus one) ahead of every other answer, so no family is dominated by one answer;
4. **expands** the template-level nodes into the CLEVR v1.0 release chain exactly as the
   release files write it: ``filter_unique[<Z>,<C>,<M>,<S>]`` becomes
   ``filter_size``, ``filter_color``, ``filter_material``, ``filter_shape`` (only the
   non-empty ones, in that order) then ``unique``; ``relate_filter_*`` starts with
   ``relate``; steps keep the template's node order;
5. **executes** the expanded program with :class:`~nsreason.execute.SymbolicExecutor` and
   keeps the question only when execution has no failure (every ``unique`` on exactly one
   object) and gives the answer the search computed;
6. **writes the text**: one of the template's texts at random, each ``[optional words]``
   kept with probability 1/2, each value replaced by one of its synonyms
   (:data:`SYNONYMS`: sphere→ball, large→big, metal→shiny/metallic, left→"to the left of"...,
   chosen once per placeholder), ``<S>s`` pluralised, "a"/"an" agreed with the next word,
   "other"/"another" dropped when the two objects are described with conflicting values
   ("the other red cube ... as the blue sphere"), spaces collapsed, a final "?" ensured.

Per scene, templates are tried least-used first (ties in random order), at most one
question per template and scene, until ``per_scene`` questions are made; so the 90
families come out about equally often, as in the official files. Everything is drawn from
one ``random.Random(seed)``: the same scenes and seed give the same questions.

>>> from nsreason.scene.clevr import clevr_scene_from_dict
>>> scene = clevr_scene_from_dict({"image_index": 7, "objects": [
...     {"shape": "cube", "size": "large", "color": "red", "material": "metal"},
...     {"shape": "sphere", "size": "small", "color": "blue", "material": "rubber"},
...     {"shape": "cylinder", "size": "small", "color": "red", "material": "rubber"}]})
>>> template = ClevrTemplate.from_dict({
...     "text": ["What color is the <Z> <C> <M> <S>?"],
...     "nodes": [{"type": "scene", "inputs": []},
...               {"type": "filter_unique", "inputs": [0], "side_inputs": ["<Z>", "<C>", "<M>", "<S>"]},
...               {"type": "query_color", "inputs": [1]}],
...     "params": [{"type": "Size", "name": "<Z>"}, {"type": "Color", "name": "<C>"},
...                {"type": "Material", "name": "<M>"}, {"type": "Shape", "name": "<S>"}],
...     "constraints": [{"type": "NULL", "params": ["<C>"]}]}, "zero_hop.json", 4)
>>> q = generate_questions([scene], templates=[template], per_scene=1, seed=0)[0]
>>> q["question"], q["answer"], [n["function"] for n in q["program"]]
('What color is the block?', 'red', ['scene', 'filter_shape', 'unique', 'query_color'])
>>> fill_text("How many <Z2> <C2> <M2> <S2>s are <R> the <Z> <C> <M> <S>?",
...           {"<R>": "left", "<S>": "cube", "<C2>": "red", "<M>": "metal"}, random.Random(1))
'How many red things are to the left of the metallic block?'
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import InputError
from ...execute.answer import answer_text
from ...execute.symbolic import SymbolicExecutor
from ...program.ir import Program
from ...program.vocab import get_vocabulary
from ...scene.graph import SceneGraph
from .search import _SceneFacts, _Search
from .templates import ClevrTemplate, expand_program, load_synonyms, load_templates
from .text import SYNONYMS, fill_text

__all__ = ["generate_questions", "main", "run_generator", "write_questions"]

_BALANCE_RATIO = 1.1  # an answer may lead every other by at most 10% (plus one)

@dataclass
class _Stats:
    attempts: int = 0
    made: int = 0
    no_instance: int = 0  # the search found no values (or ran out of budget)
    balance_refusals: int = 0  # answers refused to keep a family balanced
    duplicates: int = 0
    executor_rejected: int = 0  # the executor failed or disagreed (should stay 0)
    per_family: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "attempts": self.attempts, "made": self.made, "no_instance": self.no_instance,
            "balance_refusals": self.balance_refusals, "duplicates": self.duplicates,
            "executor_rejected": self.executor_rejected,
            "rejection_rate": 1 - self.made / self.attempts if self.attempts else 0.0,
            "families": len(self.per_family),
        }


def _balanced(counts: Counter, answer: str) -> bool:
    c = counts.get(answer, 0)
    top_other = max((v for a, v in counts.items() if a != answer), default=0)
    return c + 1 <= _BALANCE_RATIO * top_other + 1


def _scene_fields(scene: SceneGraph, position: int) -> dict[str, Any]:
    meta = scene.meta or {}
    index = meta.get("image_index", scene.id if isinstance(scene.id, int) else position)
    out: dict[str, Any] = {"split": meta.get("split", "generated")}
    if "image_filename" in meta:
        out["image_filename"] = meta["image_filename"]
        out["image"] = str(meta["image_filename"]).rsplit(".", 1)[0]
    out["image_index"] = index
    return out


def generate_questions(
    scenes: Sequence[SceneGraph],
    *,
    per_scene: int = 10,
    seed: int = 0,
    templates_dir: str | Path | None = None,
    templates: Sequence[ClevrTemplate] | None = None,
    synonyms: Mapping[str, Sequence[str]] | None = None,
    stats: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Up to ``per_scene`` questions per scene (CLEVR v1.0 release dicts), deterministic
    for a given ``seed``; see the module docstring for how they are made.

    ``templates`` (default: :func:`load_templates` of ``templates_dir``) may be any
    templates in the official format. ``stats``, when given, is filled with counts:
    attempts, made, why attempts failed, and the ``rejection_rate``.
    """
    if templates is None:
        templates = load_templates(templates_dir)
    if not templates:
        raise InputError("no templates to generate questions from")
    synonyms = SYNONYMS if synonyms is None else synonyms
    rng = random.Random(seed)
    vocab = get_vocabulary("clevr")
    executor = SymbolicExecutor()
    st = _Stats()
    used: Counter = Counter()
    answers: dict[tuple[str, int], Counter] = {t.key: Counter() for t in templates}
    out: list[dict[str, Any]] = []
    for position, scene in enumerate(scenes):
        facts = _SceneFacts(scene)
        order = sorted(templates, key=lambda t: (used[t.key], rng.random()))
        made_here = 0
        texts_here: set[str] = set()
        for template in order:
            if made_here >= per_scene:
                break
            st.attempts += 1
            counts = answers[template.key]
            refused = [0]

            def accept(raw: Any, counts: Counter = counts, refused: list[int] = refused) -> bool:
                ok = _balanced(counts, answer_text(raw))
                refused[0] += not ok
                return ok

            found = _Search(template, facts, rng, vocab, accept).run()
            st.balance_refusals += refused[0]
            if found is None:
                st.no_instance += 1
                continue
            nodes = expand_program(template, found.values)
            program = Program.from_clevr(nodes)
            result = executor.execute(program, scene, trace=False)
            expected = answer_text(found.answer)
            if result.failure is not None or answer_text(result.value) != expected:
                st.executor_rejected += 1
                continue
            text = fill_text(rng.choice(template.texts), found.values, rng, synonyms)
            if text in texts_here:
                st.duplicates += 1
                continue
            texts_here.add(text)
            counts[expected] += 1
            used[template.key] += 1
            made_here += 1
            st.made += 1
            st.per_family[template.key] += 1
            out.append({
                **_scene_fields(scene, position),
                "question": text,
                "program": nodes,
                "answer": expected,
                "template_filename": template.filename,
                "question_family_index": template.family,
                "question_index": len(out),
            })
    if stats is not None:
        stats.update(st.as_dict())
        stats["per_family"] = {f"{k[0]}:{k[1]}": v for k, v in sorted(st.per_family.items())}
    return out


# -- command line ---------------------------------------------------------------------------
def write_questions(path: str | Path, questions: list[dict[str, Any]], info: dict[str, Any]) -> None:
    """Write a CLEVR questions file (``{"info": ..., "questions": [...]}``)."""
    Path(path).write_text(json.dumps({"info": info, "questions": questions}) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nsreason.datasets.clevr.generate",
        description="Instantiate the official CLEVR question templates on CLEVR scenes.",
    )
    parser.add_argument("--scenes", required=True, help="CLEVR scenes JSON file")
    parser.add_argument("--out", required=True, help="questions JSON file to write")
    parser.add_argument("--per-scene", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--templates", default=None, help="folder of template *.json files")
    parser.add_argument("--synonyms", default=None, help="synonyms.json (default: CLEVR's)")
    args = parser.parse_args(argv)
    return run_generator(
        args, "nsreason.datasets.clevr",
        lambda scenes, synonyms, stats: generate_questions(
            scenes, per_scene=args.per_scene, seed=args.seed, templates_dir=args.templates,
            synonyms=synonyms, stats=stats),
        per_scene=args.per_scene,
    )


def run_generator(
    args: argparse.Namespace,
    generator: str,
    make: Callable[[list[SceneGraph], Mapping[str, Sequence[str]] | None, dict[str, Any]], list[dict[str, Any]]],
    **info: Any,
) -> int:
    """The body of the question generators' ``python -m`` entry points: read
    ``args.scenes`` (and ``args.synonyms`` when given), ``make(scenes, synonyms, stats)``,
    write ``args.out`` with ``info`` (plus version, generator, seed, scenes), and report the
    counts on stderr. Bad input: the error on stderr and exit status 2."""
    from ...scene.clevr import load_clevr_scenes

    try:
        scenes = load_clevr_scenes(args.scenes)
        synonyms = load_synonyms(args.synonyms) if args.synonyms else None
        stats: dict[str, Any] = {}
        questions = make(scenes, synonyms, stats)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    write_questions(args.out, questions, {"version": "1.0", "generator": generator, "seed": args.seed,
                                          **info, "scenes": str(args.scenes)})
    stats.pop("per_family", None)
    print(f"{len(questions)} questions from {len(scenes)} scenes -> {args.out} "
          f"{json.dumps(stats)}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
