"""The relations of a knowledge base, found by the words that name them.

A question names a relation of the user's KB in its own words ("How many things here can
roll?"); a program names it by its label (``kb_filter["can roll"](scene())``). The
:class:`RelationCatalogue` of a KB is read once when the KB loads: every predicate used in
its triples (names and provenance aside), with its names: ``rdfs:label`` s, ``skos:altLabel`` s
and the IRI's local name in words (``ex:conductsElectricity`` → "conducts electricity").
A phrase finds a relation by

1. ``label``: its words equal a name's words;
2. ``lemma``: their content words have the same base forms ("conduct electricity",
   "rolls" for "can roll"; derived words: "inventor" for "invented by");
3. ``synonym``: the phrase is a WordNet entry with a synonym that has a name's base forms
   ("stand for" for "symbolises");
4. ``similarity``: MiniLM cosine similarity of the phrase and a name (or the relation's
   ``rdfs:comment``/``skos:definition``) at least :data:`SIMILARITY_THRESHOLD` (only with an
   encoder); then ``phrase``: the question's unexplained words from the first to the last
   as one phrase, at least :data:`PHRASE_THRESHOLD`.

:meth:`RelationCatalogue.resolve` does this for a program's argument and fails with
``unknown_relation``, naming the phrase and listing the KB's relations, when nothing
matches; :meth:`RelationCatalogue.find` looks for the best-matching span of a question's
words (what :class:`nsreason.parse.mixed.MixedParser` asks).

>>> from nsreason.kb import MemoryKB
>>> from nsreason.kb.terms import XSD, Literal
>>> kb = MemoryKB()
>>> kb.add("http://ex.org/sphere", "http://ex.org/canRoll", Literal("true", XSD.boolean))
>>> catalogue = RelationCatalogue.from_kb(kb)
>>> [(r.labels, r.kind) for r in catalogue.relations]
[(('can roll',), 'boolean')]
>>> m = catalogue.resolve("rolls")
>>> str(m.relation.iri), m.method
('http://ex.org/canRoll', 'lemma')
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ExecutionFailure
from ..kb.terms import IRI, META_PREDICATES, XSD, Literal, Term

if TYPE_CHECKING:
    from ..kb.base import KnowledgeBase

__all__ = ["KBRelation", "RelationCatalogue", "RelationMatch", "SIMILARITY_THRESHOLD", "local_name_words",
           "truth_of"]

SIMILARITY_THRESHOLD = 0.6
"""Least MiniLM cosine similarity of a phrase and a relation's name for a ``similarity``
match. Set by hand, the value :mod:`nsreason.parse.words` uses for scene words: paraphrases
score 0.65-0.9 ("are able to roll" / "can roll" 0.88, "inventor" / "invented by" 0.69,
"born" / "birthplace" 0.68, "conductive" / "conducts electricity" 0.69); an attribute
phrase against a relation about 0.2 ("large cube" / "can roll")."""

_SCHEMA = frozenset(IRI("http://www.w3.org/2000/01/rdf-schema#" + n) for n in (
    "comment", "seeAlso", "isDefinedBy", "domain", "range", "subPropertyOf", "subClassOf")) | frozenset(
    IRI("http://www.w3.org/2004/02/skos/core#" + n) for n in ("definition", "note", "prefLabel", "hiddenLabel"))
"""Predicates that document the KB rather than relate things (besides ``META_PREDICATES``)."""
_DESCRIPTIONS = (IRI("http://www.w3.org/2000/01/rdf-schema#comment"),
                 IRI("http://www.w3.org/2004/02/skos/core#definition"))

PHRASE_THRESHOLD = 0.5
"""Least MiniLM similarity for a *phrase* of the question (its unexplained words from the
first to the last, up to :data:`MAX_PHRASE` words, whatever lies between) that no span
matched more closely: a relation paraphrased in several words ("get rusty if left
outside"). Set by hand, below the span threshold because a phrase holds other words too."""

MAX_PHRASE = 8

MAX_SENSES = 8
"""A word with more WordNet senses than this (in that part of speech) is not matched to a
relation through its synonyms: "get" is a synonym of "obtain", and of much else."""

_DERIVED = (("ors", ""), ("or", ""), ("ers", ""), ("er", ""), ("ive", ""), ("ion", ""), ("able", ""),
            ("ing", ""), ("ed", ""), ("ly", ""), ("y", ""))
"""Suffixes of words derived from a verb ("inventor", "conductive", "rollable", "bouncy";
an adverb from its adjective: "commonly"), tried when a word is no verb itself: the stem counts when
WordNet knows it as a verb (or, for "-ly", as an adjective)."""

MAX_RELATIONS = 2000
"""Predicates read into a catalogue at most (a KB with more is cut, and says so)."""

MAX_FACTS = 500
"""Facts read per entity by :meth:`RelationCatalogue.about`."""

HOP_MARGIN = 0.01
"""How much more similar a two-hop path's question must be than the best single
relation's for :meth:`RelationCatalogue.closest` to choose it (fewer hops on a tie)."""

MAX_PATHS = 400
"""Relations and two-hop paths :meth:`RelationCatalogue.closest` compares at most."""

MAX_NAME = 200
"""Characters of a relation's name compared by :meth:`RelationCatalogue.closest` (its
descriptions are read cut to this length too)."""

MAX_CACHED = 100_000
"""Relation questions whose MiniLM vectors a catalogue keeps (then starts again)."""

MAX_SPAN = 6
"""Longest phrase, in words, :meth:`RelationCatalogue.find` compares with the names."""

_STOP = frozenset(["a", "an", "the", "is", "are", "be", "been", "can", "could", "does", "do", "did", "has",
                   "have", "had", "of", "to", "its", "it", "that", "which", "will", "would", "was", "were",
                   "in", "on", "at", "by", "for", "with", "from", "as", "into"])
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|[_\-\s./]+")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_TRUE = frozenset(["true", "yes"])
_FALSE = frozenset(["false", "no"])


def local_name_words(iri: str) -> str:
    """The local name of an IRI in words: after the last ``#``, ``/`` or ``:``, split at
    camel case, underscores and hyphens.

    >>> local_name_words("http://ex.org/vocab#conductsElectricity"), local_name_words("urn:x:typical_use")
    ('conducts electricity', 'typical use')
    """
    name = re.split(r"[#/:]", iri.rstrip("/#"))[-1]
    return " ".join(w.lower() for w in _CAMEL.split(name) if w)


def truth_of(term: Term) -> bool | None:
    """What a relation's value says about whether it holds: True for a true literal
    (``true``/``yes``, or ``1`` typed ``xsd:boolean``) or an entity, False for a false one,
    None for another literal (a value, not a truth: a number is a count, not a truth).

    >>> truth_of(Literal("true")), truth_of(Literal("0")), truth_of(Literal("0", XSD.boolean))
    (True, None, False)
    """
    if not isinstance(term, Literal):
        return True
    v = term.value.strip().lower()
    if term.datatype == XSD.boolean:
        return v in ("true", "1")
    return True if v in _TRUE else False if v in _FALSE else None


@dataclass(frozen=True)
class KBRelation:
    """A predicate of the KB: its IRI, its names (labels, aliases, local name in words)
    and what its values are (``boolean``: true/false literals; ``literal``; ``entity``;
    ``mixed``)."""

    iri: IRI
    labels: tuple[str, ...]
    kind: str
    descriptions: tuple[str, ...] = ()
    """``rdfs:comment`` / ``skos:definition`` texts: compared by similarity only."""
    numeric: bool = False
    """Whether the values read are all numbers (a question "how many ..." asks for one)."""

    @property
    def name(self) -> str:
        return self.labels[0] if self.labels else str(self.iri)

    def to_json(self) -> dict[str, Any]:
        return {"iri": str(self.iri), "labels": list(self.labels), "kind": self.kind}


@dataclass(frozen=True)
class RelationMatch:
    """A phrase matched to a relation: the name that matched, how, and a score in [0, 1]."""

    phrase: str
    relation: KBRelation
    label: str
    method: str
    score: float

    def to_json(self) -> dict[str, Any]:
        return {"phrase": self.phrase, "relation": str(self.relation.iri), "label": self.label,
                "method": self.method, "score": round(self.score, 4)}


def _combinations(names: Sequence[Sequence[str]]) -> list[tuple[str, ...]]:
    """Every choice of one name per hop."""
    out: list[tuple[str, ...]] = [()]
    for options in names:
        out = [(*c, n) for c in out for n in options]
    return out


def _words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[a-z0-9]+", text.lower().replace("'", "")))


class RelationCatalogue:
    """The relations of one KB and how to find them by words (see the module docstring).

    ``encoder``: anything with ``encode(texts)`` returning L2-normalised rows (MiniLM,
    :class:`nsreason.encode.text.TextEncoder`); without one, no ``similarity`` step.
    ``lemmas``: word → base forms (default: WordNet's, :mod:`nsreason.parse.lexicon`)."""

    def __init__(self, relations: Sequence[KBRelation], *, encoder: Any = None,
                 threshold: float = SIMILARITY_THRESHOLD, truncated: bool = False,
                 kb: KnowledgeBase | None = None) -> None:
        self.relations = list(relations)
        self.encoder = encoder
        self.threshold = threshold
        self.truncated = truncated
        self._names = [(label, r) for r in self.relations for label in r.labels]
        self._similar_names = self._names + [(d, r) for r in self.relations for d in r.descriptions]
        self._by_words: dict[tuple[str, ...], tuple[str, KBRelation]] = {}
        self._by_lemmas: dict[tuple[str, ...], tuple[str, KBRelation]] = {}
        for label, r in self._names:
            self._by_words.setdefault(_words(label), (label, r))
            key = self._lemmas(_words(label))
            if key:
                self._by_lemmas.setdefault(key, (label, r))
        self._vectors: Any = None
        self.kb = kb
        """The KB the relations were read from: what :meth:`about` asks."""
        self._about: dict[tuple[str, ...], frozenset[IRI]] = {}
        self._labelled: dict[str, list[Term]] = {}
        self._text_vectors: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"RelationCatalogue(relations={len(self.relations)})"

    def __len__(self) -> int:
        return len(self.relations)

    @classmethod
    def from_kb(cls, kb: KnowledgeBase, *, encoder: Any = None, limit: int = MAX_RELATIONS,
                timeout: float | None = None) -> RelationCatalogue:
        """Read the predicates of ``kb`` (one ``SELECT DISTINCT`` where the backend runs
        SPARQL, else a scan of its triples), their names and the kind of their values."""
        predicates: list[IRI] = []
        truncated = False
        if kb.supports_sparql:
            rows = kb.sparql("SELECT DISTINCT ?p WHERE { ?s ?p ?o }", limit=limit + len(META_PREDICATES) + 1,
                             timeout=timeout)
            predicates = [r["p"] for r in rows if isinstance(r.get("p"), IRI)]
            truncated = bool(getattr(rows, "truncated", False))
        else:
            seen: set[IRI] = set()
            found = kb.match(None, None, None, limit=5_000_000, timeout=timeout)
            for t in found:
                if t.predicate not in seen:
                    seen.add(t.predicate)
                    predicates.append(t.predicate)
            truncated = bool(getattr(found, "truncated", False))
        predicates = sorted(p for p in set(predicates) if p not in META_PREDICATES and p not in _SCHEMA)
        if len(predicates) > limit:
            predicates, truncated = predicates[:limit], True
        relations = []
        for p in predicates:
            names = [*kb.labels(p, timeout=timeout), *kb.aliases(p, timeout=timeout), local_name_words(str(p))]
            labels = tuple(dict.fromkeys(n.strip().lower() for n in names if n and n.strip()))
            notes = [t.object.value for q in _DESCRIPTIONS
                     for t in kb.match(p, q, None, limit=3, timeout=timeout) if isinstance(t.object, Literal)]
            descriptions = tuple(dict.fromkeys(" ".join(n.split())[:MAX_NAME].lower() for n in notes if n.strip()))
            values = [t.object for t in kb.match(None, p, None, limit=20, timeout=timeout)]
            kinds = {("boolean" if truth_of(v) is not None and isinstance(v, Literal)
                      else "literal" if isinstance(v, Literal) else "entity") for v in values}
            numeric = bool(values) and all(isinstance(v, Literal) and _NUMBER.fullmatch(v.value.strip())
                                           for v in values)
            relations.append(KBRelation(p, labels, kinds.pop() if len(kinds) == 1 else "mixed", descriptions,
                                        numeric))
        return cls(relations, encoder=encoder, truncated=truncated, kb=kb)

    # ------------------------------------------------------------------ matching
    @staticmethod
    def _lemmas(words: Sequence[str]) -> tuple[str, ...]:
        from ..parse.lexicon import load_lexicon

        lexicon = load_lexicon()
        out = []
        for w in words:
            if w in _STOP:
                continue
            forms = lexicon.base_forms(w, "v")
            if not forms:
                for suffix, _ in _DERIVED:
                    stem = w[: -len(suffix)]
                    if w.endswith(suffix) and len(stem) >= 3:
                        forms = lexicon.base_forms(stem, "v") or lexicon.base_forms(stem + "e", "v")
                        if not forms and suffix == "ly":  # an adverb: its adjective ("commonly")
                            forms = lexicon.base_forms(stem, "a")
                        if forms:
                            break
            forms = forms or lexicon.base_forms(w, "n")
            out.append(forms[0] if forms else w)
        return tuple(out)

    def _exact(self, words: tuple[str, ...]) -> tuple[str, KBRelation, str, float] | None:
        hit = self._by_words.get(words)
        if hit is not None:
            return hit[0], hit[1], "label", 1.0
        key = self._lemmas(words)
        hit = self._by_lemmas.get(key) if key else None
        if hit is not None:
            return hit[0], hit[1], "lemma", 0.95
        return self._synonym(words)

    def _synonym(self, words: tuple[str, ...]) -> tuple[str, KBRelation, str, float] | None:
        """A WordNet synonym of the phrase (one entry: "stand for", "symbolise") whose
        content words have a name's base forms ("stand for" → "symbolises")."""
        from ..parse.lexicon import load_lexicon

        if not words or len(words) > 3:
            return None
        lexicon = load_lexicon()
        entry = "_".join(words)
        for pos in ("v", "n", "a"):
            for form in lexicon.base_forms(entry, pos)[:1]:
                if len(lexicon.senses(form, pos, limit=None)) > MAX_SENSES:
                    continue  # "get" (36 senses) is a synonym of too much to name a relation
                for synonym in sorted(lexicon.synonyms(form, pos, limit=None)):
                    key = self._lemmas(_words(synonym))
                    hit = self._by_lemmas.get(key) if key else None
                    if hit is not None:
                        return hit[0], hit[1], "synonym", 0.9
        return None

    def _similar(self, phrases: Sequence[str], threshold: float | None = None
                 ) -> list[tuple[str, KBRelation, float] | None]:
        """Per phrase, the most similar name (a label, or a description) if at least
        ``threshold`` (default :attr:`threshold`); the relation's label is reported."""
        if self.encoder is None or not self._similar_names or not phrases:
            return [None] * len(phrases)
        if self._vectors is None:
            self._vectors = self.encoder.encode([label for label, _ in self._similar_names])
        floor = self.threshold if threshold is None else threshold
        sims = self.encoder.encode(list(phrases)) @ self._vectors.T
        out: list[tuple[str, KBRelation, float] | None] = []
        for row in sims:
            k = int(row.argmax())
            label, r = self._similar_names[k]
            if label not in r.labels:
                label = r.name
            out.append((label, r, float(row[k])) if float(row[k]) >= floor else None)
        return out

    def resolve(self, phrase: str) -> RelationMatch:
        """The relation ``phrase`` names, or :class:`~nsreason.errors.ExecutionFailure`
        ``unknown_relation`` naming it and listing the KB's relations."""
        words = _words(phrase)
        hit = self._exact(words) if words else None
        if hit is not None:
            return RelationMatch(phrase, hit[1], hit[0], hit[2], hit[3])
        similar = self._similar([phrase])[0] if words else None
        if similar is not None:
            return RelationMatch(phrase, similar[1], similar[0], "similarity", similar[2])
        raise ExecutionFailure("unknown_relation", f"the knowledge base has no relation {phrase!r}; "
                               f"its relations: {self.describe()}")

    def _entities(self, names: Sequence[str]) -> list[Term]:
        """The entities labelled by each of ``names``, each name looked up once (a lookup
        may scan the KB's labels)."""
        if self.kb is None:
            return []
        for name in set(names) - self._labelled.keys():
            self._labelled[name] = list(self.kb.entities_by_label(name, limit=10))
        return [e for name in sorted(set(names)) for e in self._labelled[name]]

    def _predicates(self, entities: Sequence[Term]) -> frozenset[IRI]:
        assert self.kb is not None
        return frozenset(t.predicate for e in entities for t in self.kb.match(e, None, None, limit=MAX_FACTS))

    def about(self, names: Sequence[str], through: KBRelation | None = None) -> frozenset[IRI] | None:
        """The relations with a fact about an entity labelled by one of ``names`` (the
        values an attribute can take: "metal", "rubber"): the relations a question about a
        material can mean; ``through`` a relation: about the entities that relation leads
        to from them (a path's second hop). None without a KB, or when none is found."""
        key = (*sorted(set(names)), "" if through is None else str(through.iri))
        if key not in self._about:
            entities = self._entities(names)
            if through is not None and self.kb is not None:
                entities = [t.object for e in entities for t in self.kb.match(e, through.iri, None, limit=MAX_FACTS)
                            if not isinstance(t.object, Literal)]
            self._about[key] = self._predicates(entities) if entities else frozenset()
        return self._about[key] or None

    def typed(self, kinds: Sequence[str], about: Sequence[str] | None = None, numeric: bool = False,
              through: KBRelation | None = None) -> list[KBRelation]:
        """The relations whose values are of one of ``kinds`` (``boolean``, ``literal``,
        ``entity``, ``mixed``), with a fact about one of the entities ``about`` names (see
        :meth:`about`; all relations when none is named or linked), only the numeric ones
        when ``numeric`` and there are some."""
        linked = self.about(about, through) if about else None
        if through is not None and linked is None:
            return []
        out = [r for r in self.relations if r.kind in kinds and (linked is None or r.iri in linked)]
        if numeric and any(r.numeric for r in out):
            out = [r for r in out if r.numeric]
        return out

    def closest(self, text: str, null: str, verbalise: Callable[[str], Sequence[str]], *,
                kinds: Sequence[str], about: Sequence[str] | None = None, numeric: bool = False,
                hops: int = 1, prefer: Callable[[KBRelation], bool] | None = None
                ) -> tuple[list[RelationMatch], float] | None:
        """The relation (of :meth:`typed`), or with ``hops=2`` also the path of two, that a
        whole question ``text`` most likely asks about (outermost first), with its *gain*:
        how much more similar (MiniLM cosine) ``text`` is to its best verbalisation (each
        name and description as is, and as ``verbalise(name)`` puts it in a question; a
        path's names joined: "capital of the main producer") than to ``null``, the question
        without any relation. A path is chosen over a single relation only when more similar
        by :data:`HOP_MARGIN`; one whose outermost relation ``prefer`` accepts (the question
        names what it answers: "which *element* ...") over any other. None without an
        encoder or a candidate. The matches' method is ``question``."""
        import numpy as np

        if self.encoder is None:
            return None
        paths: list[tuple[KBRelation, ...]] = [(r,) for r in self.typed(kinds, about, numeric)]
        if hops >= 2 and about:
            for first in self.typed(("entity", "mixed"), about):
                paths += [(second, first) for second in self.typed(kinds, about, numeric, through=first)]
        paths = paths[:MAX_PATHS]
        if not paths:
            return None
        texts, owners = [], []
        for k, path in enumerate(paths):
            names = [tuple(n[:MAX_NAME] for n in ((*r.labels, *r.descriptions) if len(path) == 1 else r.labels[:2]))
                     for r in path]
            for combo in _combinations(names):
                name = " of the ".join(combo)
                for t in (name, *verbalise(name)):
                    texts.append(t)
                    owners.append(k)
        missing = [t for t in dict.fromkeys(texts) if t not in self._text_vectors]
        if missing:  # the relations' questions are the same for every question of a frame: kept
            if len(self._text_vectors) + len(missing) > MAX_CACHED:
                self._text_vectors.clear()
            self._text_vectors.update(zip(missing, self.encoder.encode(missing)))
        asked = self.encoder.encode([text, null])
        sims = np.stack([asked[1], *(self._text_vectors[t] for t in texts)]) @ asked[0]
        best: dict[int, float] = {}
        for k, sim in zip(owners, sims[1:]):
            best[k] = max(best.get(k, -1.0), float(sim))
        preferred = {x for x in best if prefer is not None and prefer(paths[x][0])}
        k = max(best, key=lambda x: (x in preferred, best[x] - (HOP_MARGIN if len(paths[x]) > 1 else 0.0)))
        return [RelationMatch(text, r, r.name, "question", best[k]) for r in paths[k]], best[k] - float(sims[0])

    def describe(self, n: int = 12) -> str:
        """The first ``n`` relations' names, for messages."""
        from ..limits import shorten

        names = [r.name for r in self.relations[:n]]
        more = f" and {len(self.relations) - n} more" if len(self.relations) > n else ""
        return (", ".join(shorten(x) for x in names) + more) if names else "none"

    def find(self, words: Sequence[str], allowed: Sequence[bool] | None = None
             ) -> tuple[int, int, RelationMatch] | None:
        """The span ``(start, end, match)`` of ``words`` (a question's, lower-cased) that
        best names a relation: the longest ``label``/``lemma`` match, else the most similar
        span (MiniLM); None when none does. A span must hold a word with ``allowed[i]``
        (default all), so a caller can keep to the words its own vocabulary does not
        explain."""
        spans = []
        n = len(words)
        for length in range(min(MAX_SPAN, n), 0, -1):
            for i in range(n - length + 1):
                j = i + length
                if allowed is not None and not any(allowed[i:j]):
                    continue
                spans.append((i, j))
        from ..parse.lexicon import load_lexicon

        best: tuple[float, int, int, RelationMatch] | None = None
        for i, j in spans:
            hit = self._exact(tuple(words[i:j]))
            if hit is not None and hit[2] in ("lemma", "synonym") and (words[i] in _STOP or words[j - 1] in _STOP) \
                    and not (hit[2] == "synonym" and load_lexicon().known("_".join(words[i:j]))):
                continue  # "the inventor of": the same content words as "inventor", no better a match
            if hit is not None:
                m = RelationMatch(" ".join(words[i:j]), hit[1], hit[0], hit[2], hit[3])
                key = (hit[3] + 0.01 * (j - i), i, j, m)
                if best is None or key[0] > best[0]:
                    best = key
        if best is not None:
            return best[1], best[2], best[3]
        # similar phrases: spans of the allowed words (and stop words between them), not
        # beginning or ending with a stop word ("objects are conductive" is not a relation)
        kept = [(i, j) for i, j in spans if words[i] not in _STOP and words[j - 1] not in _STOP
                and (allowed is None or all(allowed[k] or words[k] in _STOP for k in range(i, j)))]
        texts = [" ".join(words[i:j]) for i, j in kept]
        for (i, j), text, sim in zip(kept, texts, self._similar(texts)):
            if sim is None:
                continue
            if best is None or sim[2] > best[0]:
                best = (sim[2], i, j, RelationMatch(text, sim[1], sim[0], "similarity", sim[2]))
        if best is None and allowed is not None and any(allowed):
            # a relation paraphrased in several words: the phrase from the first unexplained
            # word to the last (other words between them included)
            open_at = [k for k, ok in enumerate(allowed) if ok]
            i, j = open_at[0], open_at[-1] + 1
            if j - i <= MAX_PHRASE:
                text = " ".join(words[i:j])
                sim = self._similar([text], PHRASE_THRESHOLD)[0]
                if sim is not None:
                    best = (sim[2], i, j, RelationMatch(text, sim[1], sim[0], "phrase", sim[2]))
        return None if best is None else (best[1], best[2], best[3])
