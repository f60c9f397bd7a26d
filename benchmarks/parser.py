"""Parser benchmark: accuracy on CLEVR val, on compositionally new questions and on
CLEVR-Humans, batched parsing throughput, and ``Reasoner.ask`` latency.

    .venv/bin/python benchmarks/parser.py [--parser default|DIR] [--limit N] [--json PATH]

Sets (from ../shared/data, or NSREASON_SHARED_DATA):

* ``val``: CLEVR val questions (official generator, release format) on their scenes;
* ``compositional``: questions combining known phrases in ways no official template does
  (``nsreason.datasets.clevr.compositional``, one per kind per val scene, seed 0),
  reported per kind; ``benchmarks/compositional.py`` splits them by whether the parser's
  training data ever had their program structure (most of them are in distribution for a
  parser trained on grown templates);
* ``humans``: the 888 CLEVR-Humans questions (answers only) on their real CLEVR scenes,
  also split by even/odd image index: a parser fine-tuned on one half
  (``nsreason train finetune --images even``) never saw the other half's questions.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_info, machine_line, write_json

from nsreason.api import Reasoner
from nsreason.datasets.clevr import load_clevr_questions
from nsreason.datasets.clevr.compositional import generate_compositional
from nsreason.scene.clevr import load_clevr_scenes

DATA = Path(os.environ.get("NSREASON_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def score(reasoner: Reasoner, scenes: dict[Any, Any], qs: list[Any], **groupings: list[str]) -> dict[str, Any]:
    """Accuracy, refusals, failures, speed; per group for each grouping (``by_kind=[...]``)."""
    t0 = time.perf_counter()
    answers = reasoner.ask_many([(scenes[q.image_index], q.question) for q in qs])
    seconds = time.perf_counter() - t0
    correct = [a.text == q.answer for a, q in zip(answers, qs)]
    out: dict[str, Any] = {
        "questions": len(qs),
        "accuracy": sum(correct) / len(qs),
        "could_not_parse": sum(a.failure is not None and a.failure.code == "could_not_parse" for a in answers),
        "other_failures": sum(a.failure is not None and a.failure.code != "could_not_parse" for a in answers),
        "questions_per_second": len(qs) / seconds,
    }
    if all(q.program is not None for q in qs):
        out["program_accuracy"] = sum(
            a.program is not None and a.program == q.program.canonical() for a, q in zip(answers, qs)
        ) / len(qs)
    for grouping, groups in groupings.items():
        by: dict[str, list[bool]] = defaultdict(list)
        for g, c in zip(groups, correct):
            by[g].append(c)
        out[grouping] = {g: {"questions": len(v), "accuracy": sum(v) / len(v)} for g, v in sorted(by.items())}
    return out


def throughput(reasoner: Reasoner, questions: list[str], beam: int) -> float:
    parser = reasoner.parser
    parser.parse_batch(questions[:64], beam=beam)  # warm-up
    t0 = time.perf_counter()
    parser.parse_batch(questions, beam=beam)
    return len(questions) / (time.perf_counter() - t0)


def latency(reasoner: Reasoner, scenes: dict[Any, Any], qs: list[Any], n: int = 200) -> dict[str, float]:
    times = []
    for q in qs[:n]:
        t0 = time.perf_counter()
        reasoner.ask(scenes[q.image_index], q.question)
        times.append(time.perf_counter() - t0)
    times.sort()
    return {"p50_ms": 1000 * statistics.median(times), "p95_ms": 1000 * times[int(0.95 * (len(times) - 1))]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parser", default="default")
    ap.add_argument("--limit", type=int, default=None, help="first N questions of each set")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(2)
    reasoner = Reasoner(args.parser)
    info = machine_info()
    print(machine_line(info), flush=True)
    print(f"parser: {reasoner.parser!r}\n", flush=True)
    report: dict[str, Any] = {"machine": info, "parser": repr(reasoner.parser)}

    val_scenes = {s.id: s for s in load_clevr_scenes(DATA / "clevr/val/CLEVR_val_scenes.json")}
    val = load_clevr_questions(DATA / "clevr/val/CLEVR_val_questions.json")[: args.limit]
    report["val"] = score(reasoner, val_scenes, val)

    comp_raw = generate_compositional(list(val_scenes.values()), per_kind=1, seed=0)[: args.limit]
    comp = load_clevr_questions({"questions": comp_raw})
    report["compositional"] = score(reasoner, val_scenes, comp, by_kind=[q["composition"] for q in comp_raw])

    humans_scenes = {s.id: s for s in load_clevr_scenes(DATA / "clevr-humans/CLEVR_train_scenes_1000.json")}
    humans = load_clevr_questions(DATA / "clevr-humans/CLEVR-Humans_train_questions.json")[: args.limit]
    report["humans"] = score(reasoner, humans_scenes, humans,
                             by_half=["even images" if q.image_index % 2 == 0 else "odd images" for q in humans])

    texts = [q.question for q in val[:2000]]
    report["parse_qps"] = {f"beam{b}": throughput(reasoner, texts, b) for b in (1, reasoner.parser.beam)}
    report["ask_latency"] = latency(reasoner, val_scenes, val)

    rows = [("set", "questions", "answer acc", "program acc", "could not parse", "q/s (ask_many)")]
    for name in ("val", "compositional", "humans"):
        r = report[name]
        pa = r.get("program_accuracy")
        rows.append((name, f"{r['questions']:,}", f"{100 * r['accuracy']:.2f}%",
                     "-" if pa is None else f"{100 * pa:.2f}%", str(r["could_not_parse"]),
                     f"{r['questions_per_second']:,.0f}"))
        groups = {**r.get("by_kind", {}), **r.get("by_half", {})}
        for kind, g in groups.items():
            rows.append((f"  {kind}", f"{g['questions']:,}", f"{100 * g['accuracy']:.2f}%", "-", "", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, r in enumerate(rows):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    q = report["parse_qps"]
    lat = report["ask_latency"]
    print("\nbatched parsing of 2,000 val questions: " + ", ".join(f"{k} {v:,.0f} q/s" for k, v in q.items()))
    print(f"Reasoner.ask latency (200 val questions, one at a time): p50 {lat['p50_ms']:.1f} ms, "
          f"p95 {lat['p95_ms']:.1f} ms")
    if args.json:
        write_json(json.dumps(report, indent=2), args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
