"""Questions that need the scene and a knowledge base together, over a KB never seen before.

"How many things in the scene can roll?" and "What is a typical use of the material the
thing left of the red cube is made of?" join a scene question the program parser reads
("how many things are there", "what is the material of the thing left of the red cube")
with a relation of the user's knowledge base ("can roll", "typical use"). The relations are
known only when the KB loads, so no parser can have learnt them; :class:`MixedParser`
works the way text-to-SQL parsers link a question to a database schema:

1. **Schema linking.** The question's words that the program parser's own vocabulary
   does not explain (words it never or rarely saw in training, not function words) are
   where a relation can be named; a ``finder`` (the KB's
   :class:`~nsreason.retrieve.relations.RelationCatalogue`: labels, lemmas, then MiniLM
   similarity) finds the span that best names one.
2. **The frame** says how the relation joins the scene: from the words around the span,
   a count ("how many ... <relation>" → ``count(kb_filter[r](X))``), an existence ("are
   there ... that <relation>" → ``exist(kb_filter[r](X))``), a yes/no question about one
   object or one of its values ("does the large cylinder <relation>" →
   ``kb_verify[r](unique(X))``; "does the material of ... <relation>" →
   ``kb_check[r](query_material(...))``) or a lookup ("what is the <relation> of the
   material of ..." → ``kb_query[r](query_material(...))``; "of the large cylinder" →
   ``kb_property[r](unique(X))``).
3. **The scene part** is asked to the program parser as a plain scene question ("How many
   <things> are there?", "What is the material of <...>?", "What color is <...>?"); among
   its candidates, the first whose last step fits the frame is joined with the knowledge
   step. The program is in the vocabulary ``clevr+knowledge`` (or the base parser's
   vocabulary ``+knowledge``).

4. **Paraphrases.** A question may name a relation in words none of its names share ("how
   heavy for its size is the material of X" for ``density``, "what noise do you hear if
   you knock on X's material" for ``sound when tapped``). When the words left unexplained
   are not one relation's name, or a name is only *similar* to some words, or the relation
   found does not fit the frame (a yes/no question asks a true/false relation; a relation
   looked up on a material has facts about materials), the frame is read from the
   question's structure alone (:func:`_skeleton`: CLEVR's referring expressions, the
   attribute named, how the question begins), and the relation from the whole question:
   among the relations whose values fit the frame and that have facts about the
   attribute's values (and, for a lookup, the two-hop paths through an entity they lead
   to), the one whose question in the frame (:func:`_verbalise`) is most similar to the
   question with its object replaced by "the object" (MiniLM). It is taken only if it
   explains the question better than the scene question alone by :data:`GAIN`; a
   question naming a relation the KB lacks ("the melting point of the material of X")
   gains less and is refused.

The parse's details (the trace's parse step) hold the relation matched (phrase, label,
method, score; method ``question`` with its ``gain`` for a paraphrase), the frame and the
scene question asked.

A question with such words and no relation that matches gives None from :meth:`parse`
(see :meth:`MixedParser.unmatched`, which names the words, for a refusal).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..program.ir import Program, Step
from .base import Alternative, Parser, ParseResult
from .text import FUNCTION_WORDS

__all__ = ["ATTRIBUTES", "MixedParser", "RelationFinder"]

ATTRIBUTES = {"material": "material", "substance": "material", "color": "color", "colour": "color",
              "hue": "color", "shape": "shape", "form": "shape", "size": "size"}
"""Words naming an attribute whose value a knowledge step can look up (CLEVR's), with the
WordNet synonyms of the attribute's sense ("the *form* of X" is its shape)."""

RARE = 20
"""A word the program parser saw fewer times than this in training is one its vocabulary
does not explain (a relation may be named there)."""

_COUNT = (("how", "many"), ("what", "number", "of"), ("the", "number", "of"), ("count", "the"), ("count",))
_EXIST = (("are", "there"), ("is", "there"), ("does", "the", "scene", "have"), ("does", "the", "scene", "contain"),
          ("do", "any"), ("does", "any"), ("are", "any"), ("is", "any"))
_AUX = frozenset(["is", "are", "does", "do", "can", "could", "will", "would", "has", "have", "was", "were"])
_GLUE = frozenset(["that", "which", "who", "whose", "are", "is", "can", "could", "do", "does", "will", "would",
                   "have", "has", "be", "the", "a", "an", "of", "for", "to", "in", "on", "from", "with", "by", "at",
                   "into", "here", "there", "shown", "visible", "seen", "scene", "image", "picture", "this",
                   "belong", "belongs", "come", "comes", "fall", "falls", "go", "goes", "made"])
"""Words around a noun phrase that are not part of it: auxiliaries, prepositions, "in the
scene", and the light verbs that end a lookup ("which industry does X belong to", "where
does X come from", "what is X made of")."""
_RELATIVE = frozenset(["that", "which", "who", "whose"])
_CONDITION = frozenset(["when", "if", "once", "whenever"])
_COPULAS = frozenset(["get", "gets", "got", "become", "becomes", "became", "turn", "turns", "seem", "seems",
                      "belong", "belongs", "come", "comes", "fall", "falls", "go", "goes"])
"""Verbs that only link a thing to a property or a class ("get rusty", "which industry does
X belong to", "where does X come from"): they name no relation."""
_VAGUE = frozenset(["something", "anything", "things", "thing", "it", "one", "objects", "object"])
_PLACE = frozenset(["scene", "image", "picture", "photo", "photograph", "shown", "visible", "seen", "here"])
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?|'s\b")


GAIN = 0.08
"""Least *gain* for a relation found from the whole question (a paraphrase: see
:meth:`MixedParser._closest`): how much more similar (MiniLM cosine) the question is to the
relation's question than to the scene question alone. Set by hand on the development
sets' paraphrases (-0.06 to +0.3) and on questions naming relations their KBs lack (mostly
-0.33 to +0.07: "how many faces does the shape of X have" against "number of vertices";
every "what is the <R> of the material of X" below 0). A relation the KB has that is close
in meaning to the one named gains more and is taken ("can X float" against "bounces":
0.15)."""

_VALUES = {"material": ("metal", "rubber"), "shape": ("cube", "sphere", "cylinder"),
           "color": ("gray", "grey", "red", "blue", "green", "brown", "purple", "cyan", "yellow"),
           "size": ("large", "small")}
"""CLEVR's attribute values: what a relation about an attribute has facts about."""
_ALL_VALUES = tuple(v for values in _VALUES.values() for v in values)
_ADJECTIVES = frozenset([*_VALUES["size"], *_VALUES["color"], *_VALUES["material"],
                        "big", "tiny", "metallic", "shiny", "matte", "grey"])
_NOUNS = frozenset(["thing", "things", "object", "objects", "item", "items", "cube", "cubes", "block", "blocks",
                    "sphere", "spheres", "ball", "balls", "cylinder", "cylinders"])
_DETERMINERS = frozenset(["the", "a", "an"])
_SPATIAL = (("left", "of"), ("right", "of"), ("to", "the", "left", "of"), ("to", "the", "right", "of"),
            ("on", "the", "left", "side", "of"), ("on", "the", "right", "side", "of"), ("in", "front", "of"),
            ("behind",))
"""CLEVR's referring expressions: "the [size] [color] [material] <shape> [(that is) <spatial
relation> <referring expression>]" (its metadata's values and synonyms)."""
_HOW_MUCH = (("how", "many"), ("how", "much"), ("how", "long"), ("how", "heavy"), ("how", "far"),
             ("how", "old"), ("how", "big"), ("how", "dense"))
_HEAD_ENDS = frozenset(["of", "for", "with", "in", "on", "at", "from", "by", "to", "that", "which", "who"])
_NOUN_SENSES = 8
"""A noun with more WordNet senses than this names a relation only by its own forms, not
its synonyms (as :data:`nsreason.retrieve.relations.MAX_SENSES` for verbs)."""
_LIKE = {"shaped": "shape", "colored": "color", "coloured": "color"}


def _np_end(words: Sequence[str], start: int) -> int | None:
    """The end of the CLEVR referring expression that begins at ``words[start]`` (a
    spatial relation to another one included), None when none begins there.

    >>> _np_end("the big red cube left of the ball is".split(), 0)
    8
    """
    n, k = len(words), start
    if k < n and words[k] in _DETERMINERS:
        k += 1
    while k < n and words[k] in _ADJECTIVES:
        k += 1
    if k >= n or words[k] not in _NOUNS:
        return None
    end = m = k + 1
    if m + 1 < n and words[m] in ("that", "which") and words[m + 1] in ("is", "are"):
        m += 2
    for spatial in _SPATIAL:
        if tuple(words[m: m + len(spatial)]) == spatial:
            inner = _np_end(words, m + len(spatial))
            if inner is not None:
                return inner
    return end


def _first_np(words: Sequence[str], skip: tuple[int, int] | None = None) -> tuple[int, int] | None:
    for s in range(len(words)):
        if words[s] in _DETERMINERS and (skip is None or not skip[0] <= s < skip[1]):
            e = _np_end(words, s)
            if e is not None:
                return s, e
    return None


def _skeleton(words: Sequence[str]) -> tuple[_Frame, str] | None:
    """How a question joins the scene and one relation, read from its structure alone (the
    relation's words unknown): its frame, and its text with the scene part replaced by "the
    object" ("things" for a count), the text :meth:`MixedParser._closest` compares with each
    relation's question.

    >>> frame, text = _skeleton(_tokens("How heavy for its size is the material the big cube is made of?"))
    >>> frame.kind, frame.scene_question, text
    ('query', 'What is the material of the big cube?', 'how heavy for its size is the material the object is made of')
    """
    n = len(words)

    def text(span: tuple[int, int], replacement: str) -> str:
        out = [*words[: span[0]], replacement, *words[span[1]:]]
        return " ".join(out).replace(" 's", "'s")

    # a count: "how many <things> ...", "how many of the <things> ...", "of the <things>, how many ..."
    count = None
    for k in range(n):
        p = _starts(words[k:], _COUNT[:3])
        if p and (k == 0 or words[0] in ("of", "among")):
            q = k + p
            if q < n and words[q] == "of":
                q += 1
            e = _np_end(words, q)
            if e is not None:
                count = (q, e)
            elif k > 0:
                e = _np_end(words, 1)
                count = (1, e) if e is not None and e <= k else None
            break
    if count is not None:
        np = _noun_phrase(words[count[0]: count[1]]).removeprefix("the ")
        return _Frame("count", f"How many {np} are there?", words=tuple(words[count[0]: count[1]])), \
            text(count, "the things" if words[count[0]] in _DETERMINERS else "things")
    p = _starts(words, _EXIST)
    if p:
        q = p + (1 if p < n and words[p] in ("any", "some") else 0)
        e = _np_end(words, q)
        if e is not None:
            np = _noun_phrase(words[q:e]).removeprefix("the ").removeprefix("a ").removeprefix("an ")
            return _Frame("exist", f"Are there any {np}?", words=tuple(words[q:e])), \
                text((q, e), "the things" if words[q] in _DETERMINERS else "things")
    yes_no = bool(words) and words[0] in _AUX
    # an attribute of one object: "the <attribute> of|as X", "the <attribute> (that) X (is made of)",
    # "X's <attribute>", "its <attribute>" (X elsewhere), "shaped like X"
    for a, w in enumerate(words):
        attribute = ATTRIBUTES.get(w)
        span = None
        if attribute is None and w in _LIKE and a + 1 < n and words[a + 1] in ("like", "as"):
            attribute = _LIKE[w]
            e = _np_end(words, a + 2)
            span = (a + 2, e) if e is not None else None
        elif attribute is not None:
            k = a + 1 + (a + 1 < n and words[a + 1] in ("of", "as", "that", "which"))
            e = _np_end(words, k)
            if e is not None:
                span = (k, e)
            elif a >= 2 and words[a - 1] == "'s":
                starts = [s for s in range(a - 1) if words[s] in _DETERMINERS and _np_end(words, s) == a - 1]
                span = (starts[0], a - 1) if starts else None
            elif a >= 1 and words[a - 1] == "its":
                span = _first_np(words, (a - 1, a + 1))
        if attribute is None or span is None or attribute == "size":
            continue
        np = _noun_phrase(words[span[0]: span[1]])
        return _Frame("check" if yes_no else "query", f"What is the {attribute} of {np}?", attribute,
                      words=tuple(words[span[0]: span[1]])), text(span, "the object")
    # one object: "does X <relation>", "what is the <relation> of X"
    span = _first_np(words)
    if span is None:
        return None
    np = _noun_phrase(words[span[0]: span[1]])
    return _Frame("verify" if yes_no else "property", f"What color is {np}?",
                  words=tuple(words[span[0]: span[1]])), text(span, "the object")


def _answer_noun(words: Sequence[str], relation: Any) -> str | None:
    """The noun a question asks for ("which *element* ...", "what kind of *stone* ...") when
    it is the head of one of the relation's names (:func:`_head`; its base form, or a
    WordNet synonym of a noun with few senses: "bloom" names "flower of that colour", not
    "bloom month"), else None: the answer type a lookup names, as question answering
    matches it. Attribute and scene nouns ("which colour", "what thing") name no relation."""
    from .lexicon import load_lexicon

    k = next((k + 1 for k, w in enumerate(words[:3]) if w in ("which", "what")), None)
    if k is None:
        return None
    while k < len(words) and words[k] in ("kind", "type", "sort", "of"):
        k += 1
    lexicon = load_lexicon()
    heads = [_head(name) for name in getattr(relation, "labels", ())]
    named = {f for w in heads if w for f in (w, *lexicon.base_forms(w, "n"))}
    for noun in words[k: k + 3]:  # "what precious stone": the noun after its adjectives
        if noun in FUNCTION_WORDS or noun in _AUX or noun in ATTRIBUTES or noun in _NOUNS:
            break
        forms = {noun, *lexicon.base_forms(noun, "n")}
        if len(lexicon.senses(noun, "n", limit=None)) <= _NOUN_SENSES:
            forms |= lexicon.synonyms(noun, "n", limit=None)
        if forms & named or any(f.split()[-1] in named for f in forms if " " in f):
            return noun
    return None


def _head(name: str) -> str | None:
    """The head noun of a relation's name: its last word before a preposition or a
    relative word ("main chemical *element*", "*flower* of that colour", "bloom *month*").

    >>> _head("flower of that colour"), _head("bloomMonth".lower()), _head("main producing country")
    ('flower', 'bloommonth', 'country')
    """
    words = re.findall(r"[a-z]+", name.lower())
    cut = next((k for k, w in enumerate(words) if k > 0 and w in _HEAD_ENDS), len(words))
    return words[cut - 1] if cut else None


def _verbalise(frame: _Frame, name: str | None) -> list[str]:
    """Questions of ``frame`` asking for the relation ``name`` about "the object" (or
    "things"); with no name, the question the frame asks without any relation (the
    baseline of a relation's gain).

    >>> _verbalise(_Frame("query", "", "material"), "density")
    ['what is the density of the material of the object']
    """
    a = frame.attribute
    if frame.kind == "query":
        return [f"what is the {name} of the {a} of the object" if name else f"what is the {a} of the object"]
    if frame.kind == "check":
        return ([f"is the {a} of the object {name}", f"does the {a} of the object have a {name}"] if name
                else [f"what is the {a} of the object"])
    if frame.kind == "property":
        return [f"what is the {name} of the object"] if name else ["what is the object"]
    if frame.kind == "verify":
        return [f"is the object {name}", f"does the object {name}", f"does the object have a {name}"] if name \
            else ["is it the object"]
    if frame.kind == "exist":
        return [f"are there things that are {name}", f"are there things that {name}",
                f"are there things with a {name}"] if name else ["are there any things"]
    return [f"how many things are {name}", f"how many things {name}", f"how many things have a {name}"] if name \
        else ["how many things are there"]


class RelationFinder(Protocol):
    """What finds a relation in a question's words (a
    :class:`~nsreason.retrieve.relations.RelationCatalogue`)."""

    def find(self, words: Sequence[str], allowed: Sequence[bool] | None = None) -> tuple[int, int, Any] | None:
        ...


@dataclass(frozen=True)
class _Frame:
    kind: str  # count | exist | verify | check | query | property
    scene_question: str
    attribute: str | None = None
    rest: tuple[str, ...] = ()  # a lookup's words after the relation (another may be named there)
    words: tuple[str, ...] = ()  # the words the scene question is made of


def _tokens(text: str) -> list[str]:
    """Lower-cased words; a possessive ``'s`` kept as its own token."""
    out = []
    for t in _TOKEN.findall(text.lower().replace("’", "'")):
        if t.endswith("'s") and len(t) > 2:
            out += [t[:-2], "'s"]
        else:
            out.append(t.replace("'", ""))
    return out


def _starts(words: Sequence[str], prefixes: Sequence[tuple[str, ...]]) -> int:
    for p in prefixes:
        if tuple(words[: len(p)]) == p:
            return len(p)
    return 0


def _trim(words: Sequence[str]) -> list[str]:
    """A noun phrase without the glue around it (auxiliaries, "that", "in the scene")."""
    out = list(words)
    while out and out[-1] in _GLUE:
        out.pop()
    while out and (out[0] in _GLUE - {"the", "a", "an"} or out[0] in ("any", "some")):
        out.pop(0)
    return out


def _counted(before: Sequence[str], after: Sequence[str]) -> list[str]:
    """The noun phrase of the things counted, from the words ``before`` and ``after`` the
    relation: without a relative clause that only leads to the relation ("things whose
    color is a", "objects that are made of a material that"; a clause that describes the
    things, "that are left of the red cube", stays) and without the words that bridge to it
    through an attribute ("made of a material", "have a colour")."""
    w = list(before)
    bridge = _GLUE | set(ATTRIBUTES) | _RELATIVE
    for k in range(len(w) - 1, 0, -1):
        if w[k] in _RELATIVE and all(x in bridge for x in w[k + 1:]):
            w = w[:k]
            break
    w += after
    while w and (w[-1] in _GLUE or w[-1] in ATTRIBUTES):
        w.pop()
    return w


def _attribute_phrase(words: Sequence[str]) -> tuple[str, list[str]] | None:
    """(attribute, noun phrase) of "the material of NP", "the material (that) NP is made
    of", "NP's material"; None for a plain noun phrase."""
    w = list(words)
    while len(w) >= 2 and w[0] in ("most", "much", "all", "some") and w[1] == "of":
        w = w[2:]  # "(is) most of the material of X (made)"
    if w and w[0] in ("the", "its"):
        w = w[1:]
    if len(w) >= 4 and w[0] == "same" and w[1] in ATTRIBUTES and w[2] == "as":  # "(has) the same colour as X"
        return ATTRIBUTES[w[1]], _trim(w[3:])
    if len(w) >= 3 and w[0] in ATTRIBUTES and w[1] == "of":
        return ATTRIBUTES[w[0]], _trim(w[2:])
    if len(w) >= 2 and w[0] in ATTRIBUTES:
        rest = w[1:]
        if rest and rest[0] in ("that", "which"):
            rest = rest[1:]
        while rest and rest[-1] in ("of", "made", "is", "has", "have", "in", "with"):
            rest.pop()
        if rest:
            return ATTRIBUTES[w[0]], _trim(rest)
    if "'s" in w:
        k = w.index("'s")
        if k + 1 < len(w) and w[k + 1] in ATTRIBUTES:
            return ATTRIBUTES[w[k + 1]], _trim(["the", *[x for x in w[:k] if x != "the"]])
    return None


def _noun_phrase(words: Sequence[str]) -> str:
    np = _trim(words)
    if np and np[0] not in ("the", "a", "an"):
        np = ["the", *np]
    return " ".join(np)


class MixedParser:
    """Parses questions that join the scene and a KB (see the module docstring).

    ``base``: the program parser of the scene part; ``finder``: finds a relation's span in
    words (or a factory of one, called when first needed); ``known``: the base parser's
    training words with their counts (a word seen at least :data:`RARE` times is one it
    explains); ``beam``: the scene question's candidates tried."""

    name = "mixed"

    def __init__(self, base: Parser, finder: RelationFinder | Callable[[], RelationFinder],
                 known: Mapping[str, int] | None = None, *, beam: int = 5) -> None:
        self.base = base
        self._finder = finder
        self.known = dict(known or {})
        self.beam = beam
        vocabulary = getattr(getattr(base, "grammar", None), "vocabulary", None)
        self.vocabulary = f"{vocabulary.name if vocabulary is not None else 'clevr'}+knowledge"

    def __repr__(self) -> str:
        return f"MixedParser(base={self.base!r})"

    @property
    def finder(self) -> RelationFinder:
        """The relation finder; given as a factory, it is made on the first question with
        words the base parser does not explain (a KB loads only when one may be needed)."""
        if not hasattr(self._finder, "find"):
            self._finder = self._finder()  # type: ignore[operator]
        return self._finder  # type: ignore[return-value]

    def _open(self, words: Sequence[str]) -> list[bool]:
        """Per word: whether a relation may be named there (not explained by the base parser)."""
        return [w not in FUNCTION_WORDS and w != "'s" and not w.isdigit() and self.known.get(w, 0) < RARE
                and w not in ATTRIBUTES and w not in _PLACE for w in words]

    def unmatched(self, question: str) -> list[str]:
        """The question's words the base parser does not explain (where a relation would
        be named): what a refusal names when no relation of the KB matches them."""
        words = _tokens(question)
        return [w for w, ok in zip(words, self._open(words)) if ok]

    def refusal(self, question: str, words: Sequence[str] | None = None,
                details: Mapping[str, Any] | None = None) -> ParseResult | None:
        """An ``unknown_relation`` failure naming ``words`` (default: :meth:`unmatched`)
        and listing the KB's relations; None when there is no such word."""
        from ..limits import cut_message
        from ..trace.trace import Failure

        words = list(words) if words is not None else self.unmatched(question)
        if not words:
            return None
        describe = getattr(self.finder, "describe", None)
        listed = f" (its relations: {describe()})" if callable(describe) else ""
        failure = Failure("unknown_relation", cut_message(
            f"the question names {' '.join(words)!r}, which is neither in the question parser's vocabulary "
            f"nor a relation of the knowledge base{listed}"))
        return ParseResult(question, None, None, [], failure, {**(details or {}), "parser": self.name,
                                                                 "unmatched": words})

    def parse(self, question: str) -> ParseResult | None:
        """The program joining the scene and the KB, or None when the question names no
        relation of the KB in words the base parser does not explain."""
        words = _tokens(question)
        allowed = self._open(words)
        if not any(allowed):
            return None
        hit = self._outer(words, allowed)
        if hit is None:
            return self._closest(question, words)
        i, j, match = hit
        frame = self._frame(words, i, j, getattr(getattr(match, "relation", None), "kind", "boolean"))
        matches = [match]
        while frame is not None and frame.rest:  # "the <relation> of the <relation> of ...": a path
            inner = self._inner(frame.rest)
            if inner is None:
                break
            matches.append(inner[0])
            frame = self._lookup(inner[1])
        if frame is None:
            return self._closest(question, words)
        details: dict[str, Any] = {"parser": self.name, "relation": match.to_json(), "frame": frame.kind,
                                   "scene_question": frame.scene_question}
        # every word the scene parser does not explain must be part of a relation matched:
        # "who came up with the common use of ..." must not answer the common use
        # a trailing condition ("... bounce when they are dropped", "... if it is left outside")
        # qualifies the relation; it names none
        end = next((k for k in range(len(words)) if words[k] in _CONDITION and k > 0), len(words))
        leftover = [w for w, ok in zip(words[:end], allowed[:end]) if ok and w not in _COPULAS]
        for m in matches:
            for w in str(m.phrase).split():
                if w in leftover:
                    leftover.remove(w)
        if leftover:  # words neither the scene parser nor a relation's name explains: the
            # question paraphrases a relation, or names one the KB lacks (refused, not guessed)
            return self._closest(question, words) or self.refusal(question, leftover, details)
        if not self._fits(frame, matches):  # "is any side of X rounded" is no question of the density
            return self._closest(question, words)
        if any(m.method in ("similarity", "phrase") for m in matches):
            # a name only similar to some words: the whole question read in its frame decides
            closest = self._closest(question, words)
            if closest is not None and closest.ok:
                return closest
        return self._program(question, frame, matches, details)

    def _fits(self, frame: _Frame, matches: Sequence[Any]) -> bool:
        """Whether relations matched by their names fit the frame: a yes/no or count frame
        asks a true/false relation, a lookup another; a relation looked up on an
        attribute's value has facts about that attribute's values (when the finder can
        say: ``about``)."""
        outer, inner = matches[0].relation, matches[-1].relation
        if outer.kind != "mixed" and (outer.kind == "boolean") != (frame.kind in ("count", "exist", "verify", "check")):
            return False
        about = getattr(self.finder, "about", None)
        if not callable(about):
            return True
        # the innermost relation has facts about the attribute's values (any value for a
        # frame on whole objects), the next one about where the innermost leads
        values = _VALUES.get(frame.attribute or "", _ALL_VALUES) if frame.kind in ("query", "check") else _ALL_VALUES
        linked = about(values)
        if linked is None:  # no value is a labelled entity of the KB: nothing to tell
            return True
        if inner.iri not in linked:
            return False
        if len(matches) >= 2:  # the second hop (a longer path's further hops are not checked)
            linked = about(values, inner)
            if linked is None or matches[-2].relation.iri not in linked:
                return False
        return True

    def _program(self, question: str, frame: _Frame, matches: Sequence[Any], details: dict[str, Any]) -> ParseResult:
        """The scene question of ``frame`` parsed and joined with the relations ``matches``
        (outermost first)."""
        parsed = self.base.parse_batch([frame.scene_question], beam=self.beam)[0]  # type: ignore[call-arg]
        score = 1.0
        for m in matches:
            score *= m.score
        alternatives = []
        for alt in parsed.alternatives:
            program = self._join(alt.program, frame, [m.label for m in reversed(matches)])
            if program is not None:
                alternatives.append(Alternative(program, alt.score * score))
        if len(matches) > 1:
            details["path"] = [m.to_json() for m in reversed(matches)]
        if not alternatives:
            from ..trace.trace import Failure

            why = parsed.failure.reason if parsed.failure else "no candidate of the scene question fits the frame"
            return ParseResult(question, None, None, [], Failure(
                "could_not_parse", f"the scene part {frame.scene_question!r}: {why}"), details)
        return ParseResult(question, alternatives[0].program, alternatives[0].score, alternatives, None, details)

    # ------------------------------------------------------------------ paraphrases
    def _closest(self, question: str, words: Sequence[str]) -> ParseResult | None:
        """A question that paraphrases a relation in words none of its names share ("how
        heavy for its size is the material of X" for ``density``): its frame read from its
        structure alone (:func:`_skeleton`), then, among the relations whose values fit the
        frame and which have facts about the attribute's values, the one whose question
        (:func:`_verbalise`) is most similar to the question with its object replaced by
        "the object" (MiniLM), if it explains the question better than the scene question
        alone by at least :data:`GAIN` (so "the melting point of the material of X" is not
        answered with a relation the KB has), or by anything at all when the noun the
        question asks for names the relation ("which *element* is the material of X mostly
        made of" for ``main chemical element``: :func:`_answer_noun`). None when no
        relation does."""
        closest = getattr(self.finder, "closest", None)
        if not callable(closest):
            return None
        skeleton = _skeleton(words)
        if skeleton is None:
            return None
        frame, neutral = skeleton
        kinds = ("boolean",) if frame.kind in ("count", "exist", "check", "verify") else ("literal", "entity", "mixed")
        about = _VALUES.get(frame.attribute or "") if frame.kind in ("query", "check") else _ALL_VALUES
        numeric = any(tuple(words[k: k + 2]) in _HOW_MUCH or tuple(words[k: k + 3]) == ("what", "number", "of")
                      for k in range(len(words)))  # "how many edges ...", "... has how many edges"
        found = closest(neutral, _verbalise(frame, None)[0], lambda name: _verbalise(frame, name),
                        kinds=kinds, about=about, numeric=numeric, hops=2 if frame.kind == "query" else 1,
                        prefer=lambda relation: _answer_noun(words, relation) is not None)
        if found is None:
            return None
        matches, gain = found
        typed_answer = _answer_noun(words, matches[0].relation)
        if gain < (0.0 if typed_answer else GAIN):
            return None
        details: dict[str, Any] = {"parser": self.name, "relation": matches[0].to_json(), "frame": frame.kind,
                                   "scene_question": frame.scene_question, "gain": round(gain, 4)}
        if typed_answer:
            details["answer_noun"] = typed_answer
        return self._program(question, frame, matches, details)

    def _outer(self, words: Sequence[str], allowed: Sequence[bool]) -> tuple[int, int, Any] | None:
        """The relation the question asks last: of the relation spans found, the one that
        ends the question ("when was the typical use of ... invented?"), else the first
        ("who invented the common use of ..."); inner
        ones are read by :meth:`_inner` from the words it looks up."""
        hits: list[tuple[int, int, Any]] = []
        free = list(allowed)
        while len(hits) < 4:
            hit = self.finder.find(words, free)
            if hit is None:
                break
            hits.append(hit)
            for k in range(hit[0], hit[1]):
                free[k] = False
        if not hits:
            return None
        last = max(k for k, w in enumerate(words) if w not in FUNCTION_WORDS) if any(
            w not in FUNCTION_WORDS for w in words) else len(words) - 1
        ending = [h for h in hits if h[0] <= last < h[1]]
        return ending[0] if ending else min(hits, key=lambda h: h[0])

    # ------------------------------------------------------------------ frames
    def _frame(self, words: Sequence[str], i: int, j: int, kind: str = "boolean") -> _Frame | None:
        """The frame of a question whose relation (of value ``kind``) spans ``words[i:j]``."""
        n = _starts(words, _COUNT)
        if n and n <= i and kind == "literal":  # "how many flat faces does the shape of X have": a number
            return self._lookup(words[j:])     # the KB holds, not objects counted
        if n and n <= i:  # the things counted: the words around the relation ("how many red cubes can roll",
            subject = _counted(words[n:i], words[j:])  # "how many magnetic red cubes are there")
            np = _noun_phrase(subject) or "the things"
            return _Frame("count", f"How many {np.removeprefix('the ')} are there?", words=tuple(subject))
        n = _starts(words, _EXIST)
        if n and n <= i:
            subject = _counted(words[n:i], words[j:])
            np = _noun_phrase(subject) or "the things"
            np = np.removeprefix("the ").removeprefix("a ").removeprefix("an ")
            return _Frame("exist", f"Are there any {np}?", words=tuple(subject))
        if words and words[0] in _AUX and i > 1:
            subject = words[1:i]
            if not [w for w in _trim(subject) if w not in _VAGUE]:  # "can something be stacked on X": X follows
                subject = _trim(words[j:])
            attr = _attribute_phrase(subject)
            if attr is not None:
                return _Frame("check", f"What is the {attr[0]} of {_noun_phrase(attr[1])}?", attr[0],
                              words=tuple(attr[1]))
            return _Frame("verify", f"What color is {_noun_phrase(subject)}?", words=tuple(subject))
        # a lookup: the thing looked up follows the relation ("the <relation> of X", "who
        # <relation> X"), or comes before it ("what is X <relation>")
        rest = _trim(words[j + 1:] if j < len(words) and words[j] in ("of", "for") else words[j:])
        if not [w for w in rest if w not in FUNCTION_WORDS]:  # "... is found in what?": X came before
            k = 1 if words and words[0] in FUNCTION_WORDS - {"the", "a", "an"} else 0
            while k < i and words[k] in _AUX | {"the", "a", "an"}:
                k += 1
            rest = list(words[k:i])
        return self._lookup(rest)

    def _lookup(self, rest: Sequence[str]) -> _Frame | None:
        rest = _trim(rest)  # "(what <relation>) does the material of X have" -> "the material of X"
        attr = _attribute_phrase(rest)
        if attr is not None:
            return _Frame("query", f"What is the {attr[0]} of {_noun_phrase(attr[1])}?", attr[0], tuple(rest),
                          tuple(attr[1]))
        np = _noun_phrase(rest)
        if not np:
            return None
        return _Frame("property", f"What color is {np}?", None, tuple(rest), tuple(rest))

    def _inner(self, rest: Sequence[str]) -> tuple[Any, list[str]] | None:
        """A relation named first in a lookup's words ("[the] <relation> of <rest>"): its
        match and the words after "of"."""
        k = 1 if rest and rest[0] in ("the", "a", "an", "its") else 0
        stop = rest.index("of", k) if "of" in rest[k:] else len(rest)  # the relation ends at "of"
        hit = self.finder.find(list(rest), [x and k <= n < stop for n, x in enumerate(self._open(rest))])
        if hit is None:
            return None
        i, j, match = hit
        if i != k or j >= len(rest) or rest[j] not in ("of", "for") or j + 1 >= len(rest):
            return None
        return match, list(rest[j + 1:])

    @staticmethod
    def _join(program: Program, frame: _Frame, labels: Sequence[str]) -> Program | None:
        """The scene program joined with the knowledge steps of ``frame`` (the relations
        ``labels``, innermost first; more than one only for a lookup: a path of
        ``kb_query`` steps), or None when its last step does not fit the frame."""
        label = labels[0]
        steps = list(program.steps)
        root = steps[-1]
        n = len(steps)
        if frame.kind in ("count", "exist"):
            if root.op != frame.kind or len(root.inputs) != 1:
                return None
            new = [*steps[:-1], Step("kb_filter", (root.inputs[0],), (label,)), Step(root.op, (n - 1,))]
        elif frame.kind in ("query", "check"):
            if root.op != f"query_{frame.attribute}":
                return None
            op = "kb_query" if frame.kind == "query" else "kb_check"
            new = [*steps, Step(op, (n - 1,), (label,))]
        else:  # property, verify: the object the scene question asked the colour of
            if root.op != "query_color" or len(root.inputs) != 1 or steps[root.inputs[0]].op != "unique":
                return None
            op = "kb_property" if frame.kind == "property" else "kb_verify"
            new = [*steps[:-1], Step(op, (root.inputs[0],), (label,))]
        for outer in labels[1:]:
            new.append(Step("kb_query", (len(new) - 1,), (outer,)))
        vocabulary = program.vocabulary if isinstance(program.vocabulary, str) else program.vocabulary.name
        return Program(new, f"{vocabulary}+knowledge")
