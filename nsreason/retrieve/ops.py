"""The knowledge ops of ``programs/knowledge.yaml``, bound to a :class:`Retriever`.

**Relation ops** compose with scene ops (vocabulary ``clevr+knowledge``): ``kb_query``,
``kb_check`` (on a concept: an attribute value such as "metal", or a value found before),
``kb_property``, ``kb_verify``, ``kb_filter`` (on objects: their attribute values and name
looked up). Each names a relation of the KB by its words, resolved by the KB's
:class:`~nsreason.retrieve.relations.RelationCatalogue`; each step's trace details hold the
relation matched (and how), the entities each word linked to, and every fact followed with
its source, licence and score (1.0: an asserted fact). ``kb_query`` chained is a multi-hop
path::

    count(kb_filter["can roll"](scene()))
    kb_query["typical use"](query_material(unique(relate[left](unique(filter_shape[cube](scene()))))))

**The ranked path.** A knowledge question that names no relation of the KB becomes the program

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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ExecutionFailure
from ..kb.terms import IRI, BNode, Literal, Term
from ..registry import Registry
from ..scene.index import SceneIndex, iter_bits
from ..trace.evidence import with_evidence
from .link import EntityLinker, Link
from .relations import RelationCatalogue, RelationMatch, local_name_words, truth_of
from .retriever import Retriever

if TYPE_CHECKING:
    from ..kb.base import KnowledgeBase

__all__ = ["KNOWLEDGE_PROGRAM", "MIN_PROBABILITY", "KnowledgeTable", "RelationLookup", "answer_of", "knowledge_ops",
           "knowledge_program", "relation_ops"]

KNOWLEDGE_PROGRAM = 'kb_answer(kb_rank[{question}](kb_link(scene())))'
"""The shape of a knowledge question's program (the question is the ranker's argument)."""

MIN_PROBABILITY = 0.15
"""Below this probability of being right (the best answer's probability among the
question's candidates: a softmax over the ranker's scores, summed over the candidates that
give that answer), the best candidate is not given as an answer (``low_confidence``).
Chosen held out by image on FVQA (``benchmarks/fvqa_heldout.py``, which scores the same
held-out answers at several thresholds; docs/knowledge.md): below 0.15, about 4% of the
questions, the best answer was right about one time in nine."""

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
    candidate) or ``low_confidence`` (its probability of being right, ``probability``, or
    for a candidate without one the logistic of its ``score``, is below
    ``min_probability`` and it did not pass the answer-type check,
    ``type_match``: see :data:`~nsreason.retrieve.retriever.KB_TYPE_MATCH`). The FVQA
    evaluation answers through this function too.

    >>> answer_of([{"answer": "bear", "score": 0.0}])
    'bear'
    >>> answer_of([{"answer": "bear", "score": -6.0}])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nsreason.errors.ExecutionFailure: low_confidence: the best fact answers 'bear' with probability 0.002 (< 0.15): ...
    >>> answer_of([{"answer": "bear", "score": -6.0, "probability": 0.8}])  # the retriever's
    'bear'
    """
    if not candidates:
        raise ExecutionFailure("no_fact", "the knowledge base holds no fact about the scene's objects")
    best = candidates[0]
    # the probability of its answer among the question's candidates (retriever), or for
    # candidates without one, the logistic of the score
    p = best["probability"] if "probability" in best else 1 / (1 + math.exp(-best["score"]))
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


MAX_VALUES = 50
"""Facts read per entity and relation by a relation op."""

MAX_SUBJECTS = 200_000
"""Subjects read, once, to link words to entities named only by their IRI."""


class RelationLookup:
    """What the relation ops do with a KB: link a word to entities (by label and alias,
    :class:`~nsreason.retrieve.link.EntityLinker`), resolve a relation by its words (the
    KB's relation catalogue, read on first use, with MiniLM similarity when ``encoder`` is
    given) and follow it, keeping every fact for the trace."""

    def __init__(self, kb: KnowledgeBase, *, linker: EntityLinker | None = None,
                 catalogue: RelationCatalogue | None = None, encoder: Any = None) -> None:
        self.kb = kb
        self.linker = linker if linker is not None else EntityLinker(kb)
        self.encoder = encoder
        self._catalogue = catalogue
        self._labels: dict[Term, str] = {}
        self._local_names: dict[str, list[Term]] | None = None

    @classmethod
    def of(cls, retriever: Retriever, catalogue: RelationCatalogue | None = None) -> RelationLookup:
        """The lookup over a retriever's KB, linker and encoder."""
        return cls(retriever.kb, linker=retriever.linker, catalogue=catalogue, encoder=retriever.encoder)

    @property
    def catalogue(self) -> RelationCatalogue:
        if self._catalogue is None:
            self._catalogue = RelationCatalogue.from_kb(self.kb, encoder=self.encoder)
        return self._catalogue

    def relation(self, phrase: str) -> RelationMatch:
        return self.catalogue.resolve(phrase)

    def link(self, concept: str) -> list[Link]:
        """The entities a word names: by label and alias; for a KB that names an entity
        only by its IRI, by the IRI's local name in words (``ex:stainless_steel``)."""
        links = self.linker.link(concept)
        if links:
            return links
        links = self._synonym_links(concept)
        if links:
            return links
        if self._local_names is None:
            self._local_names = {}
            if self.kb.supports_sparql:
                rows = self.kb.sparql("SELECT DISTINCT ?s WHERE { ?s ?p ?o }", limit=MAX_SUBJECTS)
                subjects = [r["s"] for r in rows if isinstance(r.get("s"), IRI)]
            else:
                subjects = list(dict.fromkeys(t.subject for t in self.kb.match(None, None, None, limit=MAX_SUBJECTS)
                                              if isinstance(t.subject, IRI)))
            for term in subjects:
                self._local_names.setdefault(local_name_words(str(term)), []).append(term)
        key = " ".join(concept.lower().split())
        return [Link(concept, term, local_name_words(str(term)), "local_name", 0.8)  # type: ignore[arg-type]
                for term in self._local_names.get(key, [])[: self.linker.max_links]]

    def _synonym_links(self, concept: str) -> list[Link]:
        """Entities named by a WordNet synonym of the word's first sense ("grey" for
        "gray", "block" for "cube"): for a KB that spells a scene's value its own way."""
        from ..parse.lexicon import load_lexicon

        lexicon = load_lexicon()
        word = "_".join(concept.lower().split())
        out: list[Link] = []
        for pos in ("n", "a"):
            for synonym in sorted(lexicon.synonyms(word, pos, limit=1)):
                if synonym.replace("_", " ") == concept.lower():
                    continue
                out += [Link(concept, k.entity, k.label, "synonym", 0.7) for k in self.linker.link(synonym)]
        return list({k.entity: k for k in out}.values())[: self.linker.max_links]

    def values(self, concept: str, match: RelationMatch) -> tuple[list[tuple[Term, dict[str, Any]]], dict[str, Any]]:
        """The values ``match``'s relation gives ``concept`` (each with its fact, for the
        trace) and the record of the lookup (entities linked, facts)."""
        links = self.link(concept)
        found: list[tuple[Term, dict[str, Any]]] = []
        source = self.kb._source()  # a fact without a reified source: the KB it came from
        if source and "://" not in source:
            source = Path(source).name
        for link in links:
            for fact in self.kb.facts(link.entity, match.relation.iri, None, limit=MAX_VALUES):
                tail = fact.tail
                found.append((tail, {
                    "head": str(fact.head), "relation": str(fact.relation), "tail": str(tail),
                    "labels": [link.label, match.label, self.text(tail)],
                    "source": fact.source_label or (str(fact.source) if fact.source else source),
                    "licence": fact.licence, "score": 1.0}))
        record = {"concept": concept,
                  "entities": [{"entity": str(k.entity), "label": k.label, "method": k.method, "score": k.score}
                               for k in links]}
        return found, record

    def text(self, term: Term) -> str:
        """A value as words: a literal's text, an entity's label (else its local name)."""
        if isinstance(term, Literal):
            return term.value
        hit = self._labels.get(term)
        if hit is None:
            labels = self.kb.labels(term, limit=3)
            hit = self._labels[term] = labels[0] if labels else local_name_words(str(term))
        return hit


class KnowledgeTable:
    """The KB as the neural executor reads it (its ``knowledge``, the protocol
    :class:`nsreason.execute.soft_knowledge.Knowledge`): a relation resolved by its words,
    and what it gives a concept, both read through a :class:`RelationLookup` and cached
    (a soft op looks up every value of an attribute's domain).

    ``facts(relation, concept)`` is a dict: ``answers`` (what ``kb_query`` answers: the
    values' texts, or ``yes``/``no`` when every value is a true/false literal), ``holds``
    (the relation holds: some value is a true literal or an entity, as ``kb_verify`` reads
    it), ``is_truth`` (every value is a truth, or there is none: ``kb_check`` refuses
    other values) and ``record`` (the concept, the entities it linked to, and every fact
    with its source, licence and score, as the symbolic ops trace them).
    """

    def __init__(self, lookup: RelationLookup) -> None:
        self.lookup = lookup
        self._matches: dict[str, RelationMatch] = {}
        self._facts: dict[tuple[str, str], dict[str, Any]] = {}

    def __repr__(self) -> str:
        return f"KnowledgeTable({self.lookup.kb!r})"

    def _match(self, phrase: str) -> RelationMatch:
        match = self._matches.get(phrase)
        if match is None:
            match = self._matches[phrase] = self.lookup.relation(phrase)  # ExecutionFailure: unknown_relation
        return match

    def relation(self, phrase: str) -> dict[str, Any]:
        """The relation ``phrase`` names, as the symbolic ops' trace shows it;
        :class:`~nsreason.errors.ExecutionFailure` ``unknown_relation`` when the KB has none."""
        return self._match(phrase).to_json()

    def facts(self, phrase: str, concept: str) -> dict[str, Any]:
        """What the relation ``phrase`` gives ``concept`` (see the class docstring)."""
        key = (phrase, concept)
        hit = self._facts.get(key)
        if hit is None:
            match = self._match(phrase)
            found, record = self.lookup.values(concept, match)
            record["facts"] = [f for _, f in found]
            answers, _ = _answers(self.lookup, found)
            truths = [truth_of(t) for t, _ in found]
            hit = self._facts[key] = {"answers": answers, "holds": any(t is True for t in truths),
                                      "is_truth": all(t is not None for t in truths), "record": record}
        return hit


def _answers(lookup: RelationLookup, found: list[tuple[Term, dict[str, Any]]]) -> tuple[list[str], bool]:
    """What ``kb_query`` answers from the values found, and whether they are truths:
    ``yes``/``no`` when every value is a true/false literal, else the values' texts."""
    truths = [truth_of(t) if isinstance(t, Literal) else None for t, _ in found]
    if found and all(t is not None for t in truths):
        return list(dict.fromkeys("yes" if t else "no" for t in truths)), True
    return list(dict.fromkeys(lookup.text(t) for t, _ in found)), False


def _object_concepts(ix: SceneIndex, obj: int) -> list[tuple[str, str]]:
    """(attribute, value) for what an object is: each attribute value, then its name and
    free labels; repeated values once."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for attribute, per_object in sorted(ix.attribute_values.items()):
        for value in per_object[obj]:
            if value and value not in seen:
                seen.add(value)
                out.append((attribute, value))
    o = ix.scene.objects[obj]
    for text in [o.name, *o.labels]:
        if text and text not in seen:
            seen.add(text)
            out.append(("name", text))
    return out


def relation_ops(lookup: RelationLookup, ops: Registry[Any]) -> Registry[Any]:
    """Register the relation ops (``kb_query``, ``kb_check``, ``kb_property``,
    ``kb_verify``, ``kb_filter``) bound to ``lookup`` in ``ops``; returns ``ops``."""

    def query(concept: str, match: RelationMatch) -> tuple[list[str], dict[str, Any]]:
        found, record = lookup.values(str(concept), match)
        record["facts"] = [f for _, f in found]
        answers, _ = _answers(lookup, found)  # true/false literals answer yes/no
        return answers, record

    def truth(concept: str, match: RelationMatch) -> tuple[bool, dict[str, Any]]:
        found, record = lookup.values(str(concept), match)
        record["facts"] = [f for _, f in found]
        truths = [truth_of(t) for t, _ in found]
        if not found:
            record["closed_world"] = "no fact: taken as false"
        if any(t is None for t in truths):
            values = sorted({lookup.text(t) for t, _ in found})
            raise ExecutionFailure("not_a_truth", f"{match.relation.name!r} of {concept!r} is a value "
                                   f"({', '.join(map(repr, values))}), not true or false")
        return any(truths), record

    def header(match: RelationMatch) -> dict[str, Any]:
        return {"relation": match.to_json()}

    def kb_query(ix: SceneIndex, concept: str, relation: str) -> str:
        match = lookup.relation(relation)
        answers, record = query(concept, match)
        if not answers:
            linked = "" if record["entities"] else " (no entity of the KB is named so)"
            raise ExecutionFailure("no_fact", f"the knowledge base has no {match.relation.name!r} "
                                   f"of {str(concept)!r}{linked}")
        return with_evidence(", ".join(sorted(answers)), {**header(match), "lookups": [record]})

    def kb_check(ix: SceneIndex, concept: str, relation: str) -> bool:
        match = lookup.relation(relation)
        holds, record = truth(concept, match)
        return with_evidence(holds, {**header(match), "lookups": [record]})

    def kb_property(ix: SceneIndex, obj: int, relation: str) -> str:
        match = lookup.relation(relation)
        records, by_value = [], {}
        for attribute, value in _object_concepts(ix, obj):
            answers, record = query(value, match)
            record["attribute"] = attribute
            records.append(record)
            for a in answers:
                by_value.setdefault(a, []).append(f"{attribute} {value}")
        if not by_value:
            raise ExecutionFailure("no_fact", f"the knowledge base has no {match.relation.name!r} of object "
                                   f"{ix.ids[obj]} (looked up: {', '.join(v for _, v in _object_concepts(ix, obj))})")
        if len(by_value) > 1:
            shown = "; ".join(f"{v!r} from {', '.join(w)}" for v, w in by_value.items())
            raise ExecutionFailure("ambiguous_fact", f"object {ix.ids[obj]} has several "
                                   f"{match.relation.name!r}: {shown}")
        return with_evidence(next(iter(by_value)), {**header(match), "lookups": records})

    def object_truth(ix: SceneIndex, obj: int, match: RelationMatch) -> tuple[bool, list[dict[str, Any]]]:
        records, holds = [], False
        for attribute, value in _object_concepts(ix, obj):
            found, record = lookup.values(value, match)
            if not found:
                continue
            record["attribute"] = attribute
            record["facts"] = [f for _, f in found]
            records.append(record)
            holds = holds or any(truth_of(t) is True for t, _ in found)
        return holds, records

    def kb_verify(ix: SceneIndex, obj: int, relation: str) -> bool:
        match = lookup.relation(relation)
        holds, records = object_truth(ix, obj, match)
        details: dict[str, Any] = {**header(match), "object": ix.ids[obj], "lookups": records}
        if not records:
            details["closed_world"] = "no fact about the object's values: taken as false"
        return with_evidence(holds, details)

    def kb_filter(ix: SceneIndex, objects: int, relation: str) -> int:
        match = lookup.relation(relation)
        kept, per_object = 0, []
        for i in iter_bits(objects):
            holds, records = object_truth(ix, i, match)
            per_object.append({"object": ix.ids[i], "holds": holds,
                               "facts": [f for r in records for f in r["facts"]]})
            if holds:
                kept |= 1 << i
        return with_evidence(kept, {**header(match), "objects": per_object})

    for name, fn in (("kb_query", kb_query), ("kb_check", kb_check), ("kb_property", kb_property),
                     ("kb_verify", kb_verify), ("kb_filter", kb_filter)):
        ops.register(name, fn)
    return ops


def knowledge_ops(retriever: Retriever, base: Registry[Any] | None = None, *,
                  min_probability: float = MIN_PROBABILITY,
                  catalogue: RelationCatalogue | None = None) -> Registry[Any]:
    """The op implementations of ``base`` (the executor's, :data:`nsreason.execute.OPS`,
    for knowledge steps composed with scene steps) plus ``kb_link``, ``kb_rank`` and
    ``kb_answer`` bound to ``retriever``. ``kb_answer`` refuses (``low_confidence``) when
    the best candidate's probability of being right (its answer's probability among the
    question's candidates) is below ``min_probability``, unless it passed the answer-type check (``type_match``, see
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
    return relation_ops(RelationLookup.of(retriever, catalogue), ops)
