"""``nsreason eval fvqa``: FVQA with a knowledge base.

The scene of an image is the list of its concept labels (``concepts_*.json``: FVQA's
annotated concepts, and in the ``_cluttered`` files four distractors more); the retriever
links them to the KB, ranks the facts around them against the question
(:mod:`nsreason.retrieve`). ``--kb`` takes ``default`` (the bundled KB), any spec of
:func:`nsreason.kb.load_kb`, or several (their union).

Every question is scored two ways, side by side (:func:`evaluate_fvqa`):

* ``ranker``: the ranker's top candidate, always given (top-1 answer accuracy, and fact
  recall at 1 and 5);
* ``reasoner``: what :class:`~nsreason.api.Reasoner` answers, through the same decision as
  its ``kb_answer`` op (:func:`nsreason.retrieve.ops.answer_of`): it refuses when no scene
  label is in the KB (``not_in_kb``), when no fact is found (``no_fact``) or when the best
  candidate's probability is below :data:`~nsreason.retrieve.ops.MIN_PROBABILITY`
  (``low_confidence``). Reported: the refusal rate, the accuracy counting a refusal as
  wrong, and the accuracy of the answers given.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

from ..datasets.fvqa import FvqaQuestion, answers_match, load_fvqa_concepts, load_fvqa_questions
from ..errors import ExecutionFailure
from ..retrieve.ops import MIN_PROBABILITY, answer_of
from ..retrieve.retriever import Retrieval, Retriever
from ..retrieve.setup import load_kbs, make_retriever

__all__ = ["evaluate_fvqa", "prediction_line", "reasoner_answer", "run_eval_fvqa"]


def reasoner_answer(retrieval: Retrieval, *,
                    min_probability: float = MIN_PROBABILITY) -> tuple[str | None, str | None]:
    """``(answer, None)`` or ``(None, refusal code)``: what ``Reasoner`` answers from this
    retrieval (its ``kb_link`` refuses a scene none of whose labels is in the KB, its
    ``kb_answer`` is :func:`~nsreason.retrieve.ops.answer_of` on the candidates)."""
    if not any(retrieval.links.values()):
        return None, "not_in_kb"
    try:
        return answer_of([c.to_json(retrieval.labels) for c in retrieval.candidates[:1]],
                         min_probability=min_probability), None
    except ExecutionFailure as failure:
        return None, failure.code


def prediction_line(q: FvqaQuestion, retrieval: Retrieval,
                    refusal: str | None = None) -> dict[str, Any]:
    """One ``--predictions`` line: ``question_id``, ``answer`` (the ranker's top-1),
    ``fact`` ([head, relation, tail] as the source writes them, or null), ``score`` and
    ``refused`` (the code ``Reasoner`` would refuse with, or null: it gives ``answer``)."""
    best = retrieval.best
    if best is None:
        return {"question_id": q.question_id, "answer": None, "fact": None, "score": None,
                "refused": refusal}
    f = best.fact
    head = f.notes.get("rawSubject") or retrieval.labels.get(f.head) or str(f.head)
    tail = f.notes.get("rawObject") or retrieval.labels.get(f.tail) or str(f.tail)
    relation = retrieval.labels.get(f.relation) or str(f.relation)
    return {"question_id": q.question_id, "answer": best.answer, "fact": [head, relation, tail],
            "score": round(best.score, 4), "refused": refusal}


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def evaluate_fvqa(
    retriever: Retriever,
    questions: Sequence[FvqaQuestion],
    concepts: Mapping[str, Sequence[str]],
    *,
    question_vectors: Any = None,
    min_probability: float = MIN_PROBABILITY,
    on_result: Callable[[FvqaQuestion, Retrieval, str | None], None] | None = None,
) -> dict[str, Any]:
    """The full pipeline on ``questions`` (the scene of each is ``concepts[q.image]``).

    Returns ``questions``; ``ranker``: top-1 ``accuracy``, ``fact_recall@1`` and ``@5``
    (the supporting fact among the facts of the top candidates, counted once per fact);
    ``reasoner``: ``answered``, ``refused``, ``refusal_rate``, ``refusals`` (by code),
    ``accuracy`` (refusals count as wrong), ``accuracy_of_answered``, ``min_probability``;
    and ``qps``. ``on_result(question, retrieval, refusal code or None)`` is called per
    question."""
    right = at1 = at5 = answered = answered_right = 0
    refusals: Counter[str] = Counter()
    start = time.perf_counter()
    if question_vectors is None:
        question_vectors = retriever.encoder.encode([q.question for q in questions])
    for q, vec in zip(questions, question_vectors):
        r = retriever.retrieve(q.question, concepts.get(q.image, ()), question_vector=vec)
        best = r.best
        right += best is not None and answers_match(best.answer, q.answer)
        facts: list[str | None] = []
        for c in r.candidates:
            fid = c.fact.notes.get("factId")
            if fid not in facts:
                facts.append(fid)
            if len(facts) >= 5:
                break
        at1 += bool(facts) and facts[0] in q.fact_ids
        at5 += any(f in q.fact_ids for f in facts)
        answer, refusal = reasoner_answer(r, min_probability=min_probability)
        if refusal is not None:
            refusals[refusal] += 1
        else:
            answered += 1
            answered_right += answers_match(str(answer), q.answer)
        if on_result is not None:
            on_result(q, r, refusal)
    n = len(questions)
    seconds = time.perf_counter() - start
    refused = n - answered
    return {
        "questions": n,
        "ranker": {"accuracy": _ratio(right, n), "fact_recall@1": _ratio(at1, n),
                   "fact_recall@5": _ratio(at5, n)},
        "reasoner": {"answered": answered, "refused": refused, "refusal_rate": _ratio(refused, n),
                     "refusals": dict(sorted(refusals.items())),
                     "accuracy": _ratio(answered_right, n),
                     "accuracy_of_answered": _ratio(answered_right, answered),
                     "min_probability": min_probability},
        "qps": n / seconds if seconds else 0.0,
    }


def run_eval_fvqa(questions: str, concepts: str, kb_specs: Sequence[str], *,
                  ranker: str | None = None, limit: int | None = None,
                  predictions: IO[str] | None = None) -> dict[str, Any]:
    """The report of ``nsreason eval fvqa`` (:func:`evaluate_fvqa`, plus ``kb_load_seconds``
    and ``ranker_trained_on``: what the ranker says it was fitted on; a ranker evaluated
    on its own training questions gives an in-sample figure)."""
    qs = load_fvqa_questions(questions)[:limit]
    scenes = load_fvqa_concepts(concepts)
    t0 = time.perf_counter()
    kb, key = load_kbs(kb_specs)
    retriever = make_retriever(kb, key, ranker)
    load_s = time.perf_counter() - t0

    def write(q: FvqaQuestion, r: Retrieval, refusal: str | None) -> None:
        if predictions is not None:
            predictions.write(json.dumps(prediction_line(q, r, refusal)) + "\n")

    report = evaluate_fvqa(retriever, qs, scenes, on_result=write)
    retriever.store.save()
    info = getattr(retriever.ranker, "info", None) or {}
    trained_on = {k: info[k] for k in ("trained_on", "questions_file", "concepts_file") if k in info}
    return {**report, "ranker_trained_on": trained_on or None, "kb_load_seconds": round(load_s, 2)}
