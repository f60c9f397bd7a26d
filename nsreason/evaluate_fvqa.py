"""``nsreason eval fvqa`` and ``nsreason train ranker``: FVQA with a knowledge base.

The scene of an image is the list of its concept labels (``concepts_*.json``); the
retriever links them to the KB, ranks the facts around them against the question and
answers from the best one (:mod:`nsreason.retrieve`). ``--kb`` takes ``default`` (the
bundled KB), any spec of :func:`nsreason.kb.load_kb`, or several (their union).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from .datasets.fvqa import FvqaQuestion, load_fvqa_concepts, load_fvqa_questions
from .kb.base import KnowledgeBase
from .retrieve.setup import load_kbs, make_retriever

__all__ = ["prediction_line", "run_eval_fvqa", "run_train_ranker"]


def prediction_line(q: FvqaQuestion, retrieval: Any) -> dict[str, Any]:
    """One ``--predictions`` line: ``question_id``, ``answer``, ``fact`` ([head, relation,
    tail] as the source writes them, or null) and ``score``."""
    best = retrieval.best
    if best is None:
        return {"question_id": q.question_id, "answer": None, "fact": None, "score": None}
    f = best.fact
    head = f.notes.get("rawSubject") or retrieval.labels.get(f.head) or str(f.head)
    tail = f.notes.get("rawObject") or retrieval.labels.get(f.tail) or str(f.tail)
    relation = retrieval.labels.get(f.relation) or str(f.relation)
    return {"question_id": q.question_id, "answer": best.answer, "fact": [head, relation, tail],
            "score": round(best.score, 4)}


def run_eval_fvqa(questions: str, concepts: str, kb_specs: Sequence[str], *,
                  ranker: str | None = None, limit: int | None = None,
                  predictions: IO[str] | None = None) -> dict[str, Any]:
    """The report of ``nsreason eval fvqa`` (see :func:`nsreason.retrieve.train.evaluate_fvqa`)."""
    from .retrieve.train import evaluate_fvqa

    qs = load_fvqa_questions(questions)[:limit]
    scenes = load_fvqa_concepts(concepts)
    t0 = time.perf_counter()
    kb, key = load_kbs(kb_specs)
    retriever = make_retriever(kb, key, ranker)
    load_s = time.perf_counter() - t0

    def write(q: FvqaQuestion, r: Any) -> None:
        if predictions is not None:
            predictions.write(json.dumps(prediction_line(q, r)) + "\n")

    report = evaluate_fvqa(retriever, qs, scenes, on_result=write)
    retriever.store.save()
    return {**report, "kb_load_seconds": round(load_s, 2)}


def run_train_ranker(questions: str, concepts: str, kb_specs: Sequence[str], out: str, *,
                     folds: int = 0) -> dict[str, Any]:
    """Train the ranker on FVQA questions and save it to ``out``; with ``folds`` > 1, first
    report its cross-validated figures (folds of the images)."""
    import numpy as np

    from .retrieve.train import collect_candidates, cross_validate_fvqa, fit_ranker

    qs = load_fvqa_questions(questions)
    scenes = load_fvqa_concepts(concepts)
    kb, key = load_kbs(kb_specs)
    base = _untrained(kb, key)
    t0 = time.perf_counter()
    vectors = np.asarray(base.store.get([q.question for q in qs]))
    candidates = collect_candidates(base, qs, scenes, vectors)
    base.store.save()
    report: dict[str, Any] = {"questions": len(qs), "candidates": sum(len(c.answers) for c in candidates),
                              "collect_seconds": round(time.perf_counter() - t0, 1)}
    if folds > 1:
        report["cross_validation"] = cross_validate_fvqa(qs, candidates, vectors, folds=folds)
    ranker = fit_ranker(qs, candidates, vectors,
                        info={"trained_on": f"{len(qs)} FVQA questions",
                              "questions_file": Path(questions).name,
                              "concepts_file": Path(concepts).name,
                              "kb": [os.fspath(s) for s in kb_specs] or ["default"]})
    ranker.save(out)
    report["out"] = out
    return report


def _untrained(kb: KnowledgeBase, key: str | None) -> Any:
    """A retriever whose ranker is not fitted yet (training replaces it fold by fold)."""
    import numpy as np

    from .encode.text import TextEncoder
    from .retrieve.ranker import FEATURES, Ranker

    dim = TextEncoder.dim
    blank = Ranker(["_"], np.zeros((1, dim)), np.zeros(1), np.zeros(dim), 0.0,
                   np.zeros(len(FEATURES)), 0.0)
    return make_retriever(kb, key, blank)
