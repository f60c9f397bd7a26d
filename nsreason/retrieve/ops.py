"""The knowledge ops of ``programs/knowledge.yaml``, bound to a :class:`Retriever`.

A knowledge question becomes the program

    kb_answer(kb_rank["<question>"](kb_link(scene())))

and its trace shows every step's evidence: ``kb_link`` which entity each object became and
why (the label that matched), ``kb_rank`` what the question asks for (its answer-type phrase, read
by spaCy: :mod:`nsreason.retrieve.question`) and the facts considered (with source, licence
and score, best first: the first is the one used) and the answer each gives, ``kb_answer`` the
answer. The ops need a knowledge base, so they are not in the global op registry:
:func:`knowledge_ops` returns a registry with the executor's ops plus these, bound to one
retriever, for a :class:`~nsreason.execute.SymbolicExecutor`.
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import ExecutionFailure
from ..kb.terms import IRI, BNode
from ..registry import Registry
from ..scene.index import SceneIndex, iter_bits
from .link import Link
from .retriever import Retriever

__all__ = ["KNOWLEDGE_PROGRAM", "MIN_PROBABILITY", "answer_of", "knowledge_ops", "knowledge_program"]

KNOWLEDGE_PROGRAM = 'kb_answer(kb_rank[{question}](kb_link(scene())))'
"""The shape of a knowledge question's program (the question is the ranker's argument)."""

MIN_PROBABILITY = 0.01
"""Below this probability of being right (the ranker's score through the logistic), the
best candidate is not given as an answer (``low_confidence``). The ranker sees hundreds of
candidates per question, one of them right, so its probabilities are small. How often it
refuses on FVQA, and how often the answers it gives are right: ``nsreason eval fvqa``
(``reasoner``), figures in docs/knowledge.md."""

SHOWN = 10
"""Candidates listed in the trace of ``kb_rank`` (all are counted in ``considered``)."""


def knowledge_program(question: str) -> Any:
    """The knowledge program of ``question``.

    >>> knowledge_program('Which president is "here"?').to_text()
    'kb_answer(kb_rank["Which president is \\\\"here\\\\"?"](kb_link(scene())))'
    """
    from ..program.ir import Program, Step

    steps = [Step("scene"), Step("kb_link", (0,)), Step("kb_rank", (1,), (question,)),
             Step("kb_answer", (2,))]
    return Program(steps, "knowledge")


def answer_of(candidates: list[dict[str, Any]], *, min_probability: float = MIN_PROBABILITY) -> str:
    """What ``kb_answer`` answers from ``kb_rank``'s candidates (JSON, best first): the
    best one's answer, or :class:`~nsreason.errors.ExecutionFailure` ``no_fact`` (no
    candidate) or ``low_confidence`` (its probability of being right, the ranker's logistic
    score, is below ``min_probability`` and it did not pass the answer-type check,
    ``type_match``: see :data:`~nsreason.retrieve.retriever.KB_TYPE_MATCH`). The FVQA
    evaluation answers through this function too.

    >>> answer_of([{"answer": "bear", "score": 0.0}])
    'bear'
    >>> answer_of([{"answer": "bear", "score": -6.0}])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nsreason.errors.ExecutionFailure: low_confidence: the best fact answers 'bear' with probability 0.002 (< 0.01): ...
    """
    if not candidates:
        raise ExecutionFailure("no_fact", "the knowledge base holds no fact about the scene's objects")
    best = candidates[0]
    p = 1 / (1 + math.exp(-best["score"]))
    # a fact whose answer has the type the question asks for, where no scene object
    # has it, passed a check the ranker's probability does not know about (the ranker
    # learned from FVQA, which rarely asks outside the image): it is not refused
    if p < min_probability and not best.get("type_match"):
        raise ExecutionFailure(
            "low_confidence",
            f"the best fact answers {best['answer']!r} with probability {p:.3f} "
            f"(< {min_probability}): no fact of the knowledge base fits the question")
    return str(best["answer"])


def _mentions(ix: SceneIndex, objects: int) -> list[tuple[Any, str]]:
    """(object id, mention) for each object of the set: its name, then its free labels."""
    out = []
    for i in iter_bits(objects):
        obj = ix.scene.objects[i]
        for text in dict.fromkeys([obj.name, *obj.labels]):
            if text:
                out.append((obj.id, text))
    return out


def knowledge_ops(retriever: Retriever, base: Registry[Any] | None = None, *,
                  min_probability: float = MIN_PROBABILITY) -> Registry[Any]:
    """The op implementations of ``base`` (the executor's, :data:`nsreason.execute.OPS`,
    for knowledge steps composed with scene steps) plus ``kb_link``, ``kb_rank`` and
    ``kb_answer`` bound to ``retriever``. ``kb_answer`` refuses (``low_confidence``) when the best candidate's
    probability of being right (the ranker's logistic score) is below ``min_probability``,
    unless it passed the answer-type check (``type_match``, see
    :data:`~nsreason.retrieve.retriever.KB_TYPE_MATCH`)."""
    ops: Registry[Any] = Registry("op implementation", None)
    for name in base.names() if base is not None else ():
        ops.register(name, base.get(name))

    def kb_link(ix: SceneIndex, objects: int) -> dict[str, Any]:
        rows = []
        for obj_id, mention in _mentions(ix, objects):
            links = retriever.linker.link(mention)
            rows.append({"object": obj_id, "mention": mention,
                         "entities": [{"entity": str(k.entity), "label": k.label, "method": k.method,
                                       "score": k.score} for k in links]})
        if not any(r["entities"] for r in rows):
            shown = ", ".join(repr(r["mention"]) for r in rows[:6]) or "no object"
            raise ExecutionFailure("not_in_kb", f"no object of the scene is in the knowledge base ({shown})")
        return {"objects": rows}

    def kb_rank(ix: SceneIndex, links: dict[str, Any], question: str) -> dict[str, Any]:
        by_mention: dict[str, list[Link]] = {}
        for row in links["objects"]:
            by_mention[row["mention"]] = [
                Link(row["mention"], BNode(e["entity"]) if e["entity"].startswith("_:") else IRI(e["entity"]),
                     e["label"], e["method"], e["score"]) for e in row["entities"]]
        retrieval = retriever.rank(question, by_mention)
        for c in retrieval.candidates[:SHOWN]:  # names for the trace
            for term in (c.fact.head, c.fact.relation, c.fact.tail, *(t.tail for t in c.types)):
                retriever.label(term)
        return {"question": question,
                "asks_for": retrieval.frame.to_json() if retrieval.frame is not None else None,
                "answer_outside_scene": retrieval.answer_outside_scene,
                "considered": len(retrieval.candidates),
                "seconds": round(retrieval.seconds, 4),
                "candidates": [c.to_json(retrieval.labels) for c in retrieval.candidates[:SHOWN]]}

    def kb_answer(ix: SceneIndex, candidates: dict[str, Any]) -> str:
        return answer_of(candidates["candidates"], min_probability=min_probability)

    ops.register("kb_link", kb_link)
    ops.register("kb_rank", kb_rank)
    ops.register("kb_answer", kb_answer)
    return ops
