"""Knowledge-base load time and retrieval latency per question.

Two knowledge bases:

* ``default``: the bundled KB (``knowledge/default.nt.gz``, 305k triples) loaded into an
  in-memory pyoxigraph store, as :meth:`nsreason.Reasoner.default` does; the questions are
  FVQA's (``--fvqa-questions``, ``--fvqa-concepts``, the cluttered concepts as scenes);
* ``synthetic``: a seeded KB of about ``--triples`` triples (default 1,000,000) in the same
  shape as the default one (concepts with labels; facts as a direct triple plus a reified
  node with subject, predicate, object, source and a surface text), bulk-loaded into a
  pyoxigraph store on disk (``--store disk``, the default: RocksDB in a temporary
  directory) or in memory (``--store memory``); each question names a random relation and
  its scene is 8 random concepts.

Timed: ``load`` (open and fill the store), ``index`` (the linker's label index, built once
per KB), then per question ``retrieve`` = link the scene's labels, collect their facts with
provenance, embed what is new and rank (:meth:`nsreason.retrieve.Retriever.retrieve`).
Question embeddings are computed beforehand (batched, as ``nsreason eval`` does). Two
passes over the same questions, each with a fresh :class:`Retriever` (its per-entity
caches of facts, labels and texts empty, so every pass queries the KB): ``cold`` (KB texts
embedded on first sight) and ``warm`` (the steady state: every KB text already in the
embedding store, as after the first run, since the store is kept on disk per KB content).
Both share the KB, the label index and the embedding store. p50 and p95 per pass.

Run from the repository root::

    .venv/bin/python benchmarks/knowledge.py --questions 300
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_info, machine_line

K = "http://nsreason.org/kb/"
RELATIONS = ["UsedFor", "AtLocation", "IsA", "CapableOf", "HasProperty", "HasA", "PartOf", "Desires"]
WORDS = [
    "red", "blue", "old", "small", "big", "wooden", "metal", "round", "soft", "loud", "fast",
    "slow", "open", "dark", "light", "heavy", "tall", "short", "warm", "cold", "new", "sharp",
    "flat", "green", "white", "black", "yellow", "smooth", "bright",
]
NOUNS = [
    "cup", "table", "dog", "bus", "lamp", "chair", "tree", "car", "boat", "bird", "horse",
    "plate", "bottle", "phone", "clock", "book", "bag", "ball", "bed", "door", "kite", "train",
    "bench", "cake", "fork", "knife", "oven", "sink", "vase", "bowl", "pizza",
]


def synthetic_nt(path: Path, triples: int, seed: int) -> tuple[list[str], int]:
    """Write a synthetic KB as N-Triples; return its concept labels and the triple count."""
    rng = random.Random(seed)
    per_fact = 6  # direct triple + node: subject, predicate, object, source, surface
    n_concepts = max(100, triples // 20)
    labels = []
    seen = set()
    while len(labels) < n_concepts:
        label = f"{rng.choice(WORDS)} {rng.choice(NOUNS)} {rng.randrange(10**6)}"
        if label not in seen:
            seen.add(label)
            labels.append(label)
    n = 0
    with path.open("w", encoding="utf-8") as f:
        for i, label in enumerate(labels):
            f.write(f'<{K}concept/c{i}> <http://www.w3.org/2000/01/rdf-schema#label> "{label}" .\n')
            n += 1
        for r in RELATIONS:
            f.write(f'<{K}rel/{r}> <http://www.w3.org/2000/01/rdf-schema#label> "{r}" .\n')
        f.write(f'<{K}source/synthetic> <http://www.w3.org/2000/01/rdf-schema#label> "synthetic" .\n')
        n += len(RELATIONS) + 1
        k = 0
        while n + per_fact <= triples:
            h, t = rng.randrange(n_concepts), rng.randrange(n_concepts)
            r = rng.choice(RELATIONS)
            s, o, node = f"<{K}concept/c{h}>", f"<{K}concept/c{t}>", f"<{K}fact/{k}>"
            f.write(f"{s} <{K}rel/{r}> {o} .\n")
            f.write(f"{node} <http://www.w3.org/1999/02/22-rdf-syntax-ns#subject> {s} .\n")
            f.write(f"{node} <http://www.w3.org/1999/02/22-rdf-syntax-ns#predicate> <{K}rel/{r}> .\n")
            f.write(f"{node} <http://www.w3.org/1999/02/22-rdf-syntax-ns#object> {o} .\n")
            f.write(f"{node} <http://purl.org/dc/terms/source> <{K}source/synthetic> .\n")
            f.write(f'{node} <{K}vocab/surface> "[[{labels[h]}]] {r} [[{labels[t]}]]" .\n')
            n += per_fact
            k += 1
    return labels, n


def percentiles(xs: list[float]) -> dict[str, float]:
    xs = sorted(xs)
    return {"p50_ms": round(1000 * statistics.median(xs), 2),
            "p95_ms": round(1000 * xs[min(len(xs) - 1, int(0.95 * len(xs)))], 2)}


def run(new_retriever, items: list[tuple[str, list[str]]], vectors) -> dict[str, dict[str, float]]:
    """Both passes, each with ``new_retriever()`` (fresh caches; shared KB, linker, store)."""
    out = {}
    for name in ("cold", "warm"):
        retriever = new_retriever()
        times = []
        for (question, scene), vec in zip(items, vectors):
            t = time.perf_counter()
            retriever.retrieve(question, scene, question_vector=vec)
            times.append(time.perf_counter() - t)
        out[name] = percentiles(times)
    return out


def measure(kb, items: list[tuple[str, list[str]]], encoder, ranker) -> dict[str, object]:
    """The label index build time and both passes on ``kb`` (a fresh embedding store)."""
    from nsreason.encode.text import EmbeddingStore
    from nsreason.retrieve.link import EntityLinker
    from nsreason.retrieve.retriever import Retriever

    store = EmbeddingStore(encoder)
    linker = EntityLinker(kb)
    t = time.perf_counter()
    _ = linker.index
    index = time.perf_counter() - t
    vectors = encoder.encode([q for q, _ in items])
    return {"triples": len(kb), "index_s": round(index, 2),
            **run(lambda: Retriever(kb, ranker=ranker, encoder=encoder, store=store, linker=linker),
                  items, vectors)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", type=int, default=300)
    ap.add_argument("--triples", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--store", choices=["disk", "memory"], default="disk",
                    help="where the synthetic KB's pyoxigraph store lives")
    ap.add_argument("--fvqa-questions", default="../shared/data/fvqa/questions_train0.json")
    ap.add_argument("--fvqa-concepts", default="../shared/data/fvqa/concepts_train0_cluttered.json")
    ap.add_argument("--skip", choices=["default", "synthetic"], action="append", default=[])
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    from nsreason.encode.text import TextEncoder
    from nsreason.kb.default import load_default_kb
    from nsreason.kb.oxigraph_store import OxigraphKB
    from nsreason.retrieve.ranker import Ranker

    encoder = TextEncoder()
    ranker = Ranker.load()
    report: dict[str, object] = {"machine": machine_info(), "questions": args.questions}
    rng = random.Random(args.seed)

    if "default" not in args.skip:
        from nsreason.datasets.fvqa import load_fvqa_concepts, load_fvqa_questions

        t = time.perf_counter()
        kb = load_default_kb()
        load = time.perf_counter() - t
        qs = load_fvqa_questions(args.fvqa_questions)
        concepts = load_fvqa_concepts(args.fvqa_concepts)
        picked = rng.sample(qs, min(args.questions, len(qs)))
        items = [(q.question, concepts.get(q.image, [])) for q in picked]
        report["default"] = {"load_s": round(load, 2), **measure(kb, items, encoder, ranker)}
        print(json.dumps({"default": report["default"]}), flush=True)

    if "synthetic" not in args.skip:
        with tempfile.TemporaryDirectory() as tmp:
            nt = Path(tmp) / "kb.nt"
            labels, _ = synthetic_nt(nt, args.triples, args.seed)
            t = time.perf_counter()
            kb = OxigraphKB(Path(tmp) / "store" if args.store == "disk" else None, load=[nt])
            load = time.perf_counter() - t
            items = [(f"Which object in this image is {rng.choice(RELATIONS)} something?",
                      rng.sample(labels, 8)) for _ in range(args.questions)]
            report["synthetic"] = {"store": args.store, "load_s": round(load, 2),
                                   **measure(kb, items, encoder, ranker)}
            kb.close()
            print(json.dumps({"synthetic": report["synthetic"]}), flush=True)

    print("\n| KB | triples | load s | label index s | retrieve p50 cold | p95 cold | p50 warm | p95 warm |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in ("default", "synthetic"):
        r = report.get(name)
        if isinstance(r, dict):
            if name == "synthetic":
                name = f"synthetic ({r['store']})"
            print(f"| {name} | {r['triples']:,} | {r['load_s']} | {r['index_s']} | {r['cold']['p50_ms']} ms "
                  f"| {r['cold']['p95_ms']} ms | {r['warm']['p50_ms']} ms | {r['warm']['p95_ms']} ms |")
    print(machine_line(report["machine"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
