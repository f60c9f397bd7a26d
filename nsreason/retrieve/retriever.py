"""Retrieval: from a question and the labels of a scene's objects to ranked, sourced facts.

:meth:`Retriever.retrieve` does, for one question:

1. **link** every scene label to KB entities (:class:`~nsreason.retrieve.link.EntityLinker`:
   label and alias, then normalised variants);
2. **collect** the facts of every linked entity (:func:`~nsreason.retrieve.facts.entity_facts`,
   with source, licence and the fact node's notes), each giving two candidates: the scene
   object answers (``scene``) or the fact's other end does (``kb``);
3. **score** each candidate with the :class:`~nsreason.retrieve.ranker.Ranker` from MiniLM
   embeddings of the question, the fact texts, the labels and the answer's types (facts
   such as ``IsA``, ``hypernym``, ``instance_of`` one hop from the answer);
4. where the question names what it asks for ("which *American president*"; see
   :mod:`nsreason.retrieve.question`), compare that phrase with each answer and its types;
5. turn the scores into probabilities (a softmax over the question's candidates, summed
   over the candidates that give the same answer: :func:`~nsreason.retrieve.ranker.answer_probabilities`)
   and return every candidate, the most probable answer first (its best-scored fact first),
   with its features, so the trace can show each fact considered, its source, score and
   probability, and the one used.

Embeddings of KB texts go through an :class:`~nsreason.encode.text.EmbeddingStore`: each
text is embedded once, and kept on disk when the store has a path (the default KB's store
is keyed by the KB file's checksum).
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..kb.base import KnowledgeBase
from ..kb.terms import Literal, Term
from ..parse.text import CLOSED_CLASS, words
from .facts import FactRecord, SourceCache, entity_facts, local_name
from .link import EntityLinker, Link, normalise
from .question import QuestionFrame, analyse_question
from .ranker import FEATURES, Ranker, answer_probabilities

if TYPE_CHECKING:
    import numpy as np

    from ..encode.text import EmbeddingStore, TextEncoder

__all__ = ["LEXICAL_RELATIONS", "TYPE_RELATIONS", "Candidate", "Retrieval", "Retriever"]

TYPE_RELATIONS = frozenset({"isa", "is-a", "hypernym", "instance of", "instance_of", "type",
                            "subclassof", "subclass of", "transnbhd"})
"""Relation names (lower case) whose far end is a *type* of the near end."""

LEXICAL_RELATIONS = frozenset({"synset"})
"""Relations between words and their senses (the default KB's ``rel/synset``): not facts
about the world, so never candidates."""

SCENE_TYPE_MATCH = 0.4
"""When the question names an answer type, a scene object whose name or type is at least
this close to it (MiniLM cosine) means the answer may be in the scene."""
KB_TYPE_MATCH = 0.6
"""When no scene object fits the answer type, the candidates whose answer (or one of its
types) is at least this close to it are put first. FVQA rarely asks for a typed answer
outside the image; the seed question ("which American president ...") does. How often the
check fires on FVQA and what it changes: ``nsreason train ranker --folds 5``
(``type_check_fires``, ``type_check_changes``, ``without_type_check``; docs/knowledge.md)."""

OUTSIDE_TYPED = 50
"""When the answer lies outside the scene, how many far ends get their types looked up for
the check (those whose name is closest to the asked type: in the seed example "Theodore
Roosevelt" is closer to "american president" than every other far end of the scene)."""

_SPANS = re.compile(r"\[\[(.*?)\]\]")


@dataclass
class Candidate:
    """One way to answer: ``answer`` (text) is the ``side`` end of ``fact``, reached from the
    scene object ``mention`` through ``link``; ``types`` are the facts that type the answer,
    ``grounding`` the best other fact of the object. ``score`` is the ranker's;
    ``probability`` that of the candidate's *answer* among all the question's candidates
    (:func:`~nsreason.retrieve.ranker.answer_probabilities`).
    ``type_match``: the question asks for a type that no scene object has, and this answer
    has it (see :data:`KB_TYPE_MATCH`); such candidates come first."""

    answer: str
    side: str
    mention: str
    link: Link
    fact: FactRecord
    answer_entity: Term | None
    features: dict[str, float]
    score: float = 0.0
    types: list[FactRecord] = field(default_factory=list)
    grounding: FactRecord | None = None
    typed: bool = False
    type_match: bool = False
    probability: float = 0.0

    def to_json(self, labels: dict[Term, str] | None = None) -> dict[str, Any]:
        out = {"answer": self.answer, "side": self.side, "object": self.mention,
               "score": round(self.score, 4), "probability": round(self.probability, 4),
               "fact": self.fact.to_json(labels),
               "features": {k: round(v, 4) for k, v in self.features.items()}}
        if self.types:
            out["type_facts"] = [t.to_json(labels) for t in self.types]
        if self.grounding is not None:
            out["grounding_fact"] = self.grounding.to_json(labels)
        if self.type_match:
            out["type_match"] = True
        return out


@dataclass
class Retrieval:
    """What :meth:`Retriever.retrieve` found: the links of each scene label and every
    candidate, best first; ``frame``: what the question asks for."""

    question: str
    links: dict[str, list[Link]]
    candidates: list[Candidate]
    labels: dict[Term, str]
    seconds: float
    frame: QuestionFrame | None = None
    answer_outside_scene: bool = False

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


class Retriever:
    """Ranks the facts around a scene's objects against a question (see the module doc).

    Parameters
    ----------
    kb:
        Any :class:`~nsreason.kb.base.KnowledgeBase`.
    ranker:
        The learned scorer (default: the shipped one, trained on FVQA).
    encoder, store:
        The sentence encoder and the store of KB text embeddings (default: MiniLM, a store
        in memory only).
    max_facts:
        Facts collected per linked entity.
    typed:
        How many leading candidates get their answer's types looked up (``type_sim``). The
        ranker is fitted with every candidate typed.
    """

    def __init__(self, kb: KnowledgeBase, *, ranker: Ranker | None = None,
                 encoder: TextEncoder | None = None, store: EmbeddingStore | None = None,
                 linker: EntityLinker | None = None, max_facts: int = 200, typed: int = 20) -> None:
        from ..encode.text import EmbeddingStore, TextEncoder

        self.kb = kb
        self.ranker = ranker if ranker is not None else Ranker.load()
        self.encoder = encoder if encoder is not None else (store.encoder if store else TextEncoder())
        self.store = store if store is not None else EmbeddingStore(self.encoder)
        self.linker = linker if linker is not None else EntityLinker(kb)
        self.max_facts = max_facts
        self.typed = typed
        self._sources = SourceCache(kb)
        self._facts: dict[Term, list[FactRecord]] = {}
        self._labels: dict[Term, str] = {}
        self._texts: dict[tuple[FactRecord, Term | None], str] = {}
        self._types: dict[Term, list[FactRecord]] = {}

    def __repr__(self) -> str:
        return f"Retriever({type(self.kb).__name__}, {self.ranker!r})"

    def with_ranker(self, ranker: Ranker, *, typed: int | None = None) -> Retriever:
        """The same retriever (KB, caches, encoder, store) with another ranker (and another
        ``typed``: training looks up the types of every candidate)."""
        other = Retriever(self.kb, ranker=ranker, encoder=self.encoder, store=self.store,
                          linker=self.linker, max_facts=self.max_facts,
                          typed=self.typed if typed is None else typed)
        other._sources, other._facts, other._labels = self._sources, self._facts, self._labels
        other._texts, other._types = self._texts, self._types
        return other

    # -- KB access (cached per retriever) -------------------------------------------------
    def facts_of(self, entity: Term) -> list[FactRecord]:
        hit = self._facts.get(entity)
        if hit is None:
            hit = self._facts[entity] = entity_facts(self.kb, entity, limit=self.max_facts,
                                                     sources=self._sources)
        return hit

    def label(self, term: Term) -> str:
        if isinstance(term, Literal):
            return term.value
        hit = self._labels.get(term)
        if hit is None:
            labels = self.kb.labels(term, limit=3)
            hit = self._labels[term] = labels[0] if labels else local_name(term)
        return hit

    def fact_text(self, fact: FactRecord) -> str:
        """The fact in words: its surface text without the ``[[ ]]`` marks, else "head
        relation tail" from the labels."""
        key = (fact, None)
        hit = self._texts.get(key)
        if hit is None:
            surface = fact.notes.get("surface")
            if surface:
                hit = _SPANS.sub(r"\1", surface)
            else:
                hit = f"{self.label(fact.head)} {self.label(fact.relation)} {self.label(fact.tail)}"
            self._texts[key] = hit
        return hit

    def answer_text(self, fact: FactRecord, end: Term) -> str:
        """How the fact names ``end``: its surface phrase for that end when the fact has a
        surface text ("[[lipstick]] is for [[coloring the lips]]"), else ``end``'s label."""
        key = (fact, end)
        hit = self._texts.get(key)
        if hit is None:
            hit = label = self.label(end)
            spans = fact.spans()
            if len(spans) >= 2:
                ratios = [difflib.SequenceMatcher(None, normalise(s), normalise(label)).ratio()
                          for s in spans]
                hit = spans[max(range(len(spans)), key=ratios.__getitem__)]
            self._texts[key] = hit
        return hit

    def types_of(self, entity: Term) -> list[FactRecord]:
        """The facts that type ``entity`` (its ``IsA``-like facts, at most 20)."""
        hit = self._types.get(entity)
        if hit is None:
            hit = self._types[entity] = [
                f for f in self.facts_of(entity)
                if f.head == entity and self.label(f.relation).lower() in TYPE_RELATIONS][:20]
        return hit

    # -- retrieval ------------------------------------------------------------------------
    def retrieve(self, question: str, mentions: Sequence[str], *,
                 question_vector: np.ndarray | None = None) -> Retrieval:
        """Every candidate answer to ``question`` from the facts of the entities that
        ``mentions`` (the scene's object labels) link to, best first."""
        links = {m: self.linker.link(m) for m in dict.fromkeys(mentions)}
        return self.rank(question, links, question_vector=question_vector)

    def rank(self, question: str, links: dict[str, list[Link]], *,
             question_vector: np.ndarray | None = None) -> Retrieval:
        """:meth:`retrieve` from mentions already linked (``mention → links``)."""
        import numpy as np

        t0 = time.perf_counter()
        q = question_vector if question_vector is not None else self.encoder.encode([question])[0]
        frame = analyse_question(question)
        wh = self.store.get([frame.answer_type])[0] if frame.answer_type else None
        q_words = set(words(question))
        rel_lp = self.ranker.relation_logprobs(q)
        uniform = -np.log(max(len(rel_lp), 1))
        side_lp = self.ranker.side_logprobs(q)
        raw: list[tuple[str, Link, FactRecord, Term, Term]] = []
        for mention, found in links.items():
            for link in found:
                for fact in self.facts_of(link.entity):
                    if self.label(fact.relation).lower() in LEXICAL_RELATIONS:
                        continue  # a word's senses are not facts about the thing
                    near, far = (fact.head, fact.tail) if fact.head == link.entity else (fact.tail, fact.head)
                    raw.append((mention, link, fact, near, far))
        if not raw:
            return Retrieval(question, links, [], self._labels, time.perf_counter() - t0, frame)
        fact_texts = [self.fact_text(f) for _, _, f, _, _ in raw]
        far_texts = [self.answer_text(f, far) for _, _, f, _, far in raw]
        vectors = self.store.get(fact_texts + far_texts + list(links))
        sims = vectors @ q
        n = len(raw)
        fact_sim, far_sim = sims[:n], sims[n : 2 * n]
        mention_sim = dict(zip(links, sims[2 * n :]))
        # the answer-type phrase against each answer: the far end, or the scene object
        wh_sims = vectors[n:] @ wh if wh is not None else np.zeros(len(vectors) - n)
        far_wh, mention_wh = wh_sims[:n], dict(zip(links, wh_sims[n:]))
        # each object's two facts closest to the question: a candidate's grounding is the
        # best fact of its object other than its own
        best_fact: dict[str, tuple[float, int]] = {}
        for i, (mention, *_rest) in enumerate(raw):
            if mention not in best_fact or fact_sim[i] > best_fact[mention][0]:
                best_fact[mention] = (float(fact_sim[i]), i)
        second_fact: dict[str, tuple[float, int]] = {}
        for i, (mention, *_rest) in enumerate(raw):
            if i != best_fact[mention][1] and fact_sim[i] > second_fact.get(mention, (-1.0, -1))[0]:
                second_fact[mention] = (float(fact_sim[i]), i)
        candidates: list[Candidate] = []
        for i, (mention, link, fact, _near, far) in enumerate(raw):
            relation = self.label(fact.relation)
            rel = rel_lp.get(relation, rel_lp.get(local_name(fact.relation), uniform))
            # grounding: the best *other* fact of the object
            ground_sim, ground_i = (second_fact.get(mention, (-1.0, -1)) if best_fact[mention][1] == i
                                    else best_fact[mention])
            source = self.ranker.source_feature(
                fact.source_label or (str(fact.source) if fact.source is not None else None))
            for side in ("scene", "kb"):
                if side == "scene":
                    answer, entity, other_text, other_sim = mention, link.entity, far_texts[i], float(far_sim[i])
                    wh_sim = float(mention_wh[mention])
                else:
                    answer, entity, other_text, other_sim = far_texts[i], far, mention, float(mention_sim[mention])
                    wh_sim = float(far_wh[i])
                feats = {
                    "fact_sim": float(fact_sim[i]), "other_sim": other_sim, "relation": float(rel),
                    "side": side_lp[side],
                    "other_in_question": float(_contained(other_text, q_words)),
                    "answer_in_question": float(_contained(answer, q_words)),
                    "type_sim": 0.0, "ground_sim": max(ground_sim, 0.0), "wh_sim": wh_sim,
                    "source": source,
                }
                c = Candidate(answer, side, mention, link, fact, entity, feats)
                if ground_i >= 0:
                    c.grounding = raw[ground_i][2]
                candidates.append(c)
        scores = self.ranker.score_many(np.asarray([[c.features[k] for k in FEATURES] for c in candidates]))
        for c, score in zip(candidates, scores.tolist()):
            c.score = score
        # the answers' types (IsA-like facts one hop away) for the leading candidates (see
        # ``typed``): each costs KB queries, cached per entity
        candidates.sort(key=lambda c: (-c.score, c.answer, c.side))
        self._type(candidates[: self.typed], q, wh)
        outside = False
        if wh is not None:
            # Answer-type check. Does the scene hold what the question asks for? If no
            # scene object (by its name or its types) is close to the answer-type phrase
            # ("which *American president* ... seen here" with a teddy bear, a bed and a
            # lamp), the answer lies outside the scene: the facts whose far end *is* of
            # that type are put first, in score order.
            self._type([c for c in candidates if c.side == "scene"], q, wh)
            scene_fit = max((c.features["wh_sim"] for c in candidates if c.side == "scene"), default=0.0)
            if scene_fit < SCENE_TYPE_MATCH:
                outside = True
                # typing costs KB queries: the far ends whose own name is closest to the
                # asked type are looked up, at most OUTSIDE_TYPED of them
                far = sorted((c for c in candidates if c.side == "kb"),
                             key=lambda c: -c.features["wh_sim"])[:OUTSIDE_TYPED]
                self._type(far, q, wh)
                for c in far:
                    c.type_match = c.features["wh_sim"] >= KB_TYPE_MATCH
        for c, p in zip(candidates, answer_probabilities([c.answer for c in candidates],
                                                         [c.score for c in candidates])):
            c.probability = p
        candidates.sort(key=lambda c: (not c.type_match, -c.probability, -c.score, c.answer, c.side))
        return Retrieval(question, links, candidates, self._labels, time.perf_counter() - t0, frame,
                         answer_outside_scene=outside)

    def _type(self, candidates: Sequence[Candidate], q: np.ndarray, wh: np.ndarray | None) -> None:
        """Look up the answer types of those of ``candidates`` not typed yet; update their
        ``type_sim`` and ``wh_sim`` features and their scores."""
        todo = [c for c in candidates if not c.typed]
        for c in todo:
            c.typed = True
        typed = {c.answer_entity: self.types_of(c.answer_entity) for c in todo
                 if c.answer_entity is not None and not isinstance(c.answer_entity, Literal)}
        type_texts = sorted({self.label(t.tail) for ts in typed.values() for t in ts})
        if not type_texts:
            return
        type_vectors = self.store.get(type_texts)
        type_sim = dict(zip(type_texts, (type_vectors @ q).tolist()))
        type_wh = dict(zip(type_texts, (type_vectors @ wh).tolist())) if wh is not None else {}
        for c in todo:
            types = typed.get(c.answer_entity, [])
            if types:
                # the types shown are those closest to what the question asks for
                key = type_wh if type_wh else type_sim
                ranked = sorted(types, key=lambda t: -key[self.label(t.tail)])
                c.types = ranked[:3]
                c.features["type_sim"] = max(type_sim[self.label(t.tail)] for t in types)
                if type_wh:
                    c.features["wh_sim"] = max(c.features["wh_sim"], type_wh[self.label(ranked[0].tail)])
                c.score = self.ranker.score([c.features[k] for k in FEATURES])


def _contained(text: str, known: set[str]) -> bool:
    """Whether every content word of ``text`` is among ``known`` (and there is one)."""
    mine = [w for w in words(text) if w not in CLOSED_CLASS]
    return bool(mine) and all(w in known or w.rstrip("s") in known for w in mine)


