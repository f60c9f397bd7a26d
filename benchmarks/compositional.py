"""Compositional generalisation of the shipped parser, split by whether the training data
ever had the question's program structure.

    .venv/bin/python benchmarks/compositional.py [--parser default|DIR] [--cache PATH]
        [--train-scenes N] [--limit N] [--json PATH]

The compositional set (``nsreason.datasets.clevr.compositional``: one question per kind per
CLEVR val scene, seed 0; 1,499 questions) combines phrases of the official templates in ways
no *official* template does. The parser is trained on more than the official templates:
grown templates nest clauses inside "either ... or", comparisons and five hops, so part of
the set is in distribution for it. This script regenerates the programs the parser was
trained on, exactly as ``make parser`` makes them, and splits the set by program structure:

* training programs, as the ``parser`` target of the Makefile makes them: the official CLEVR
  train questions; ``generate_questions`` (40 per scene) and ``generate_augmented`` (15 per
  scene) on the CLEVR train scenes, seed 0 (``nsreason train parser --seed 0``); and the
  fine-tuning replay: the first 4,000 official train questions and the first 4,000 of
  ``python -m nsreason.datasets.clevr.augment --per-scene 1 --seed 7`` on the train scenes
  (``--replay-limit 4000``);
* **structure** (:func:`structure`, level ``shape``, the headline): the program with every
  value argument erased and every attribute filter (``filter_color`` ...: the adjectives of a
  noun phrase) dropped: the ops and their wiring, i.e. which clause reads which
  (``relate``, ``same_color``, ``intersect``, ``union``, ``extreme``, ``difference``,
  counts, comparisons, the queried attribute). The inputs of symmetric ops are put in a
  fixed order and ``less_than(a, b)`` is read as ``greater_than(b, a)`` (wording choices:
  "fewer" or "more", which side of "or" comes first). This is
  ``nsreason.datasets.clevr.compositional.program_structure``, the definition by which the
  set is new to the *official* templates; it is a property of a template (every question a
  template writes has the same shape), so "the generator never produces it" is decided by
  the templates, not by which questions happened to be drawn;
* a question is **new** when no training program has its structure, **in distribution**
  otherwise; both parts are answered by ``Reasoner(parser).ask_many`` (execution-guided
  choice, refusal below probability 0.05, a refusal counts as wrong).

The other three definitions of the grid {attribute filters dropped, kept} x {attribute
names kept, erased} are reported beside it: ``skeleton`` (filters dropped, names erased:
``query_color`` -> ``query``, ``equal_size`` -> ``equal``, ``same_shape`` -> ``same``),
``filters`` (filters kept, names erased: ``filter_color`` -> ``filter``) and ``ops`` (only
value arguments erased). Keeping the filters makes a structure depend on which adjectives
each noun phrase happens to carry, which varies between the questions of one template; with
four or five noun phrases a question, almost every question is then "new". Two checks: the
structures every template the generators used can write (official, grown with seed 0 and 7,
everyday), and the programs the shipped parser's own beam (10) finds consistent with the
answers of the 888 CLEVR-Humans questions, an approximation of the answer-only
fine-tuning's targets (which are not stored).

Regenerating the training programs takes about 10 minutes on 2 shared cores; ``--cache PATH``
keeps the structures in a JSON file (recomputed when its settings differ).
``--train-scenes N`` uses the first N train scenes only (not the training data: a smoke test).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_info, machine_line, write_json

from nsreason.program.ir import Program

DATA = Path(os.environ.get("NSREASON_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))

LEVELS = ("skeleton", "shape", "filters", "ops")
"""Structure definitions: (attribute filters dropped, kept) x (attribute names erased, kept)."""
HEADLINE = "shape"

_ATTRIBUTE_FILTERS = frozenset({"filter_size", "filter_color", "filter_material", "filter_shape"})
_ATTRIBUTE = re.compile(r"_(size|color|material|shape)$")
_SYMMETRIC = re.compile(r"^(union|intersect|equal(_(size|color|material|shape|integer|object))?)$")

# The Makefile's `parser` target (training data of the shipped parser).
SETTINGS = {
    "official": "clevr/train/CLEVR_train_questions.json",
    "scenes": "clevr/train/CLEVR_train_scenes.json",
    "generate_per_scene": 40,
    "grow_per_scene": 15,
    "seed": 0,
    "replay_per_scene": 1,
    "replay_seed": 7,
    "replay_limit": 4000,
}


def structure(program: Program, level: str = HEADLINE) -> str:
    """The structure of ``program`` as postfix ops (see the module docstring).

    ``shape``: values and attribute filters erased; ``skeleton``: also attribute names;
    ``filters``: values and attribute names erased, filters kept; ``ops``: values erased.
    At every level the inputs of ``union``, ``intersect`` and ``equal_*`` are sorted and
    ``less_than(a, b)`` is ``greater_than(b, a)``.

    >>> p = Program.from_text("less_than(count(filter_color[red](scene())), "
    ...                       "count(same_size(unique(filter_shape[cube](scene())))))")
    >>> structure(p)
    'scene unique same_size count scene count greater_than'
    >>> structure(p, "skeleton")
    'scene unique same count scene count greater_than'
    >>> structure(p, "filters")
    'scene filter unique same count scene filter count greater_than'
    >>> structure(p, "ops")
    'scene filter_shape unique same_size count scene filter_color count greater_than'
    """
    if level not in LEVELS:
        raise ValueError(f"unknown structure level {level!r}; known: {LEVELS}")
    drop_filters = level in ("skeleton", "shape")
    erase_names = level in ("skeleton", "filters")
    memo: list[str] = []
    for step in program.steps:  # in topological order; the last step is the answer
        if step.op in _ATTRIBUTE_FILTERS and drop_filters:
            memo.append(memo[step.inputs[0]])
            continue
        op, parts = step.op, [memo[j] for j in step.inputs]
        if op == "less_than":
            op, parts = "greater_than", parts[::-1]
        if erase_names and op != "equal_integer":
            op = _ATTRIBUTE.sub("", op)
        if _SYMMETRIC.match(op):
            parts.sort()
        memo.append(" ".join([*parts, op]))
    return memo[-1]


def structures(programs: Iterable[Program]) -> dict[str, Counter[str]]:
    """How many of ``programs`` have each structure, per level."""
    out: dict[str, Counter[str]] = {level: Counter() for level in LEVELS}
    for p in programs:
        for level in LEVELS:
            out[level][structure(p, level)] += 1
    return out


def _programs(questions: Sequence[dict[str, Any]] | str | Path) -> list[Program]:
    from nsreason.datasets.clevr import load_clevr_questions

    source = {"questions": questions} if isinstance(questions, list) else questions
    return [q.program for q in load_clevr_questions(source) if q.program is not None]


def training_structures(train_scenes: int | None = None, log: Any = print) -> dict[str, Any]:
    """Regenerate the shipped parser's training programs (:data:`SETTINGS`) and return
    ``{"settings", "pairs": {source: count}, "structures": {source: {level: {structure: n}}}}``."""
    from nsreason.datasets.clevr import generate_questions
    from nsreason.datasets.clevr.augment import generate_augmented
    from nsreason.scene.clevr import load_clevr_scenes

    s = SETTINGS
    scenes = load_clevr_scenes(DATA / s["scenes"])[:train_scenes]
    sources: dict[str, list[Program]] = {}
    t0 = time.perf_counter()
    official = _programs(DATA / s["official"])
    sources["official"] = official
    log(f"official train questions: {len(official):,}")
    sources["generated"] = _programs(generate_questions(scenes, per_scene=s["generate_per_scene"], seed=s["seed"]))
    log(f"generated ({s['generate_per_scene']}/scene on {len(scenes):,} scenes): {len(sources['generated']):,} "
        f"({time.perf_counter() - t0:.0f} s)")
    sources["grown"] = _programs(generate_augmented(scenes, per_scene=s["grow_per_scene"], seed=s["seed"]))
    log(f"grown ({s['grow_per_scene']}/scene): {len(sources['grown']):,} ({time.perf_counter() - t0:.0f} s)")
    replay = generate_augmented(scenes, per_scene=s["replay_per_scene"], seed=s["replay_seed"])
    sources["replay"] = official[: s["replay_limit"]] + _programs(replay)[: s["replay_limit"]]
    log(f"fine-tuning replay: {len(sources['replay']):,} ({time.perf_counter() - t0:.0f} s)")
    return {
        "settings": {**s, "train_scenes": len(scenes)},
        "pairs": {k: len(v) for k, v in sources.items()},
        "structures": {k: {lv: dict(c) for lv, c in structures(v).items()} for k, v in sources.items()},
    }


def template_structures() -> dict[str, set[str]]:
    """Per level (``shape``, ``skeleton``), the structures of every template the training
    generators used: official, grown from official and everyday ones with seed 0 (training)
    and 7 (replay), everyday. The attribute filters a template fills vary between its
    questions, so the levels that keep filters have no single structure per template."""
    from nsreason.datasets.clevr import load_templates
    from nsreason.datasets.clevr.augment import augmented_templates, everyday_templates
    from nsreason.datasets.clevr.compositional import template_program

    official = load_templates()
    everyday = everyday_templates()
    growable = [t for t in everyday if not any(n.type == "difference" for n in t.nodes)]
    templates = [*official, *everyday]
    for seed in (SETTINGS["seed"], SETTINGS["replay_seed"]):
        templates += augmented_templates(official + growable, seed=seed)
    out: dict[str, set[str]] = {"shape": set(), "skeleton": set()}
    for t in templates:
        program = Program.from_clevr(template_program(t))
        for level, found in out.items():
            found.add(structure(program, level))
    return out


def human_target_structures(parser: Any) -> dict[str, set[str]]:
    """Per level, the structures of the programs ``parser``'s beam (10) finds consistent
    with the answers of the 888 CLEVR-Humans train questions."""
    from nsreason.datasets.clevr import load_clevr_questions
    from nsreason.scene.clevr import load_clevr_scenes
    from nsreason.train.finetune import consistent_programs

    scenes = {s.id: s for s in load_clevr_scenes(DATA / "clevr-humans/CLEVR_train_scenes_1000.json")}
    qs = load_clevr_questions(DATA / "clevr-humans/CLEVR-Humans_train_questions.json")
    found = consistent_programs(parser, [q.question for q in qs], [scenes[q.image_index] for q in qs],
                                [str(q.answer) for q in qs], beam=10)
    out: dict[str, set[str]] = {level: set() for level in LEVELS}
    for alts in found:
        for a in alts:
            for level in LEVELS:
                out[level].add(structure(a.program, level))
    return out


def _load_or_make(cache: str | None, train_scenes: int | None) -> dict[str, Any]:
    wanted = {**SETTINGS, "train_scenes": train_scenes, "levels": list(LEVELS)}
    if cache and Path(cache).is_file():
        data = json.loads(Path(cache).read_text(encoding="utf-8"))
        if data.get("wanted") == wanted:
            print(f"training structures from {cache}", flush=True)
            return data
    data = training_structures(train_scenes, log=lambda line: print(line, flush=True))
    data["wanted"] = wanted
    if cache:
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        Path(cache).write_text(json.dumps(data), encoding="utf-8")
    return data


def _part(rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows)
    return {
        "questions": n,
        "accuracy": sum(r["correct"] for r in rows) / n if n else None,
        "program_accuracy": sum(r["exact"] for r in rows) / n if n else None,
        "could_not_parse": sum(r["refused"] for r in rows),
    }


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f}%"


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for i, r in enumerate(rows):
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
        if i == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parser", default="default")
    ap.add_argument("--cache", default=None, help="JSON file keeping the training structures")
    ap.add_argument("--train-scenes", type=int, default=None,
                    help="generate on the first N train scenes only (a smoke test, not the training data)")
    ap.add_argument("--limit", type=int, default=None, help="first N compositional questions")
    ap.add_argument("--no-human-targets", action="store_true",
                    help="skip the check against the parser's consistent programs on CLEVR-Humans")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)

    import torch

    from nsreason.api import Reasoner
    from nsreason.datasets.clevr import load_clevr_questions
    from nsreason.datasets.clevr.compositional import generate_compositional
    from nsreason.scene.clevr import load_clevr_scenes

    torch.set_num_threads(2)
    info = machine_info()
    print(machine_line(info), flush=True)
    reasoner = Reasoner(args.parser)
    print(f"parser: {reasoner.parser!r}", flush=True)
    report: dict[str, Any] = {"machine": info, "parser": repr(reasoner.parser)}

    train = _load_or_make(args.cache, args.train_scenes)
    seen: dict[str, set[str]] = {lv: set() for lv in LEVELS}
    for per_level in train["structures"].values():
        for lv in LEVELS:
            seen[lv] |= set(per_level[lv])
    report["training"] = {"settings": train["settings"], "pairs": train["pairs"],
                          "structures": {lv: len(seen[lv]) for lv in LEVELS}}

    val_scenes = {s.id: s for s in load_clevr_scenes(DATA / "clevr/val/CLEVR_val_scenes.json")}
    raw = generate_compositional(list(val_scenes.values()), per_kind=1, seed=0)[: args.limit]
    qs = load_clevr_questions({"questions": raw})
    t0 = time.perf_counter()
    answers = reasoner.ask_many([(val_scenes[q.image_index], q.question) for q in qs])
    seconds = time.perf_counter() - t0
    rows = []
    for a, q, r in zip(answers, qs, raw):
        assert q.program is not None
        rows.append({
            "kind": r["composition"],
            "correct": a.text == q.answer,
            "exact": a.program is not None and a.program == q.program.canonical(),
            "refused": a.failure is not None and a.failure.code == "could_not_parse",
            **{lv: structure(q.program, lv) for lv in LEVELS},
        })

    templates = template_structures()
    humans = None if args.no_human_targets else human_target_structures(reasoner.parser)
    splits: list[tuple[str, str, set[str]]] = [
        (HEADLINE, f"{HEADLINE} (headline)", seen[HEADLINE]),
        (HEADLINE, f"{HEADLINE}, or any template's", seen[HEADLINE] | templates[HEADLINE]),
    ]
    if humans is not None:
        splits.append((HEADLINE, f"{HEADLINE}, or a human-question target", seen[HEADLINE] | humans[HEADLINE]))
    splits += [(lv, lv, seen[lv]) for lv in LEVELS if lv != HEADLINE]
    kinds = sorted({r["kind"] for r in rows})
    report["splits"] = {}
    for level, name, known in splits:
        new = [r for r in rows if r[level] not in known]
        old = [r for r in rows if r[level] in known]
        report["splits"][name] = {
            "level": level,
            "new": _part(new),
            "in_distribution": _part(old),
            "new_structures": sorted({r[level] for r in new}),
            "new_by_kind": {k: _part([r for r in new if r["kind"] == k]) for k in kinds},
            "in_distribution_by_kind": {k: _part([r for r in old if r["kind"] == k]) for k in kinds},
        }
    report["all"] = {**_part(rows), "questions_per_second": len(rows) / seconds}
    by_source = {k: set(v[HEADLINE]) for k, v in train["structures"].items()}
    report["in_distribution_by_source"] = {k: sum(r[HEADLINE] in v for r in rows) for k, v in by_source.items()}
    others = set().union(*(v for k, v in by_source.items() if k != "replay"))
    report["in_distribution_by_source"]["replay only"] = sum(
        r[HEADLINE] in by_source["replay"] and r[HEADLINE] not in others for r in rows)
    report["templates_not_in_training"] = {lv: len(templates[lv] - seen[lv]) for lv in templates}
    report["training_not_in_templates"] = {lv: len(seen[lv] - templates[lv]) for lv in templates}

    t = report["training"]
    print("\ntraining programs regenerated: " + ", ".join(f"{k} {v:,}" for k, v in t["pairs"].items())
          + f" on {t['settings']['train_scenes']:,} train scenes; distinct structures: "
          + ", ".join(f"{lv} {n:,}" for lv, n in t["structures"].items()))
    print(f"template structures not drawn in training: {report['templates_not_in_training']}; "
          f"training structures no template writes: {report['training_not_in_templates']}")
    head = report["splits"][f"{HEADLINE} (headline)"]
    print(f"\ncompositional questions (clevr_compositional, val scenes, per kind 1, seed 0): {len(rows):,}\n")
    table = [(f"part (structure: {HEADLINE})", "questions", "answer acc", "program acc", "could not parse")]
    for label, part in (("new structure", head["new"]), ("in distribution", head["in_distribution"]),
                        ("all", report["all"])):
        table.append((label, f"{part['questions']:,}", _pct(part["accuracy"]), _pct(part["program_accuracy"]),
                      str(part["could_not_parse"])))
    for kind in kinds:
        for label, key in (("new", "new_by_kind"), ("in distribution", "in_distribution_by_kind")):
            part = head[key][kind]
            table.append((f"  {kind}, {label}", f"{part['questions']:,}", _pct(part["accuracy"]),
                          _pct(part["program_accuracy"]), str(part["could_not_parse"])))
    print(_table(table))
    print(f"questions whose {HEADLINE} structure each training source has: "
          + ", ".join(f"{k} {n:,}" for k, n in report["in_distribution_by_source"].items()))
    if 0 < len(head["new_structures"]) <= 10:
        print("\nnew structures (postfix):\n" + "\n".join(f"  {x}" for x in head["new_structures"]))
    print()
    table = [("structure definition", "new q", "new structures", "new answer acc", "new program acc",
              "in-dist q", "in-dist answer acc", "in-dist program acc")]
    for name, sp in report["splits"].items():
        table.append((name, f"{sp['new']['questions']:,}", f"{len(sp['new_structures']):,}",
                      _pct(sp["new"]["accuracy"]), _pct(sp["new"]["program_accuracy"]),
                      f"{sp['in_distribution']['questions']:,}", _pct(sp["in_distribution"]["accuracy"]),
                      _pct(sp["in_distribution"]["program_accuracy"])))
    print(_table(table))
    if args.json:
        write_json(json.dumps(report, indent=2), args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
