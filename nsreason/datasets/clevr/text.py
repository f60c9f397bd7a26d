"""Writing a question's text: a template text's placeholders filled with values and their
synonyms (:func:`fill_text`), and the skeletons and patterns that tell which template a
question text came from (:func:`text_skeleton`, :func:`text_patterns`, :func:`text_coverage`)."""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ...program.vocab import get_vocabulary
from .templates import ClevrTemplate, _param_modes

__all__ = ["SUPERLATIVES", "SYNONYMS", "fill_text", "text_coverage", "text_patterns", "text_skeleton"]

SYNONYMS: dict[str, tuple[str, ...]] = {
    "thing": ("thing", "object"),
    "sphere": ("sphere", "ball"),
    "cube": ("cube", "block"),
    "large": ("large", "big"),
    "small": ("small", "tiny"),
    "metal": ("metallic", "metal", "shiny"),
    "rubber": ("rubber", "matte"),
    "left": ("left of", "to the left of", "on the left side of"),
    "right": ("right of", "to the right of", "on the right side of"),
    "behind": ("behind",),
    "front": ("in front of",),
    "above": ("above",),
    "below": ("below",),
}
"""CLEVR's ``synonyms.json`` (facebookresearch/clevr-dataset-gen, BSD licence): the words
a value may be written as. :func:`load_synonyms` reads another such file."""

SUPERLATIVES: dict[str, dict[str, tuple[str, ...]]] = {
    "before": {  # "the leftmost cube"
        "left": ("leftmost",),
        "right": ("rightmost",),
        "front": ("frontmost", "closest", "nearest"),
        "behind": ("farthest", "furthest", "rearmost", "backmost"),
    },
    "after": {  # "the cube on the far left"
        "left": ("farthest to the left", "furthest to the left", "farthest left", "on the far left",
                 "most to the left", "that is leftmost", "that is farthest to the left",
                 "left of everything else"),
        "right": ("farthest to the right", "furthest to the right", "farthest right",
                  "on the far right", "most to the right", "that is rightmost",
                  "that is farthest to the right", "right of everything else"),
        "front": ("closest to the camera", "nearest to the camera", "closest to the front",
                  "farthest in front", "furthest in front", "in the front", "in front",
                  "that is closest", "that is frontmost", "in front of everything else",
                  "in front of all the others"),
        "behind": ("farthest from the camera", "furthest from the camera", "farthest back",
                   "furthest back", "in the back", "at the back", "farthest away",
                   "furthest away", "that is farthest back", "behind everything else",
                   "behind all the others"),
    },
}
"""How a spatial superlative (parameter letter ``<D>``, of type Relation: the argument of the
``extreme`` op) is written: placed just before the object's ``<Z> <C> <M> <S>`` it reads
"leftmost", anywhere else (after the noun) "on the far left".
These are not part of CLEVR: they are the phrasings people use for "the object furthest
in a direction" (CLEVR-Humans), made for :mod:`nsreason.datasets.clevr.augment`."""

# Placeholder letter -> parameter type (the official templates name parameters this way).


_TOKEN = re.compile(r"\[[^\]]*\]|<[A-Z]\d*>s?|[^\s\[\];?,]+|[;?,]")
_PARAM = re.compile(r"<([A-Z])(\d*)>(s?)")


@functools.lru_cache(maxsize=4096)
def _segments(text: str) -> tuple[tuple[Any, ...], ...]:
    """A template text as segments: ("word", w), ("param", name, plural), ("opt", segs)."""
    out: list[tuple[Any, ...]] = []
    for tok in _TOKEN.findall(text):
        if tok.startswith("["):
            out.append(("opt", _segments(tok[1:-1])))
            continue
        m = _PARAM.fullmatch(tok)
        if m:
            out.append(("param", f"<{m.group(1)}{m.group(2)}>", bool(m.group(3))))
        else:
            out.append(("word", tok))
    return tuple(out)


def _letter(name: str) -> str:
    return name[1]


def fill_text(
    text: str,
    values: Mapping[str, str],
    rng: random.Random,
    synonyms: Mapping[str, Sequence[str]] = SYNONYMS,
) -> str:
    """A template text with its placeholders filled: ``values`` maps parameter names to
    values (``""`` or absent: empty; an empty shape reads "thing"). Each placeholder gets
    one synonym (drawn from ``rng``), ``[optional]`` words are kept with probability 1/2,
    "a"/"an" agree with the next word, spaces are collapsed and a final "?" ensured."""
    surface: dict[str, str] = {}

    def word_of(name: str) -> str:
        if name not in surface:
            value = values.get(name) or ""
            if not value and _letter(name) == "S":
                value = "thing"
            surface[name] = rng.choice(tuple(synonyms.get(value, (value,)))) if value else ""
        return surface[name]

    def superlative(name: str, before_noun: bool) -> str:
        value = values.get(name) or ""
        return rng.choice(SUPERLATIVES["before" if before_noun else "after"][value]) if value else ""

    def walk(segs: Sequence[tuple[Any, ...]], out: list[str]) -> None:
        for j, seg in enumerate(segs):
            if seg[0] == "word":
                out.append(seg[1])
            elif seg[0] == "opt":
                if rng.random() < 0.5:
                    walk(seg[1], out)
            elif _letter(seg[1]) == "D":
                after = segs[j + 1] if j + 1 < len(segs) else ("word", "")
                out.append(superlative(seg[1], after[0] == "param" and _letter(after[1]) in "ZCMS"))
            else:
                w = word_of(seg[1])
                if w:
                    out.append(w + "s" if seg[2] else w)

    words: list[str] = []
    walk(_segments(text), words)
    if _conflicting_pair(values) and ("other" in words or "another" in words):
        words = ["a" if w == "another" else w for w in words if w != "other"]
    return _finish(words)


def _conflicting_pair(values: Mapping[str, str]) -> bool:
    """Whether the first two objects (``<Z>..<S>`` and ``<Z2>..<S2>``) are described with
    conflicting values, which makes "other" redundant ("the other red cube ... as the blue
    sphere")."""
    for letter in "ZCMS":
        a, b = values.get(f"<{letter}>") or "", values.get(f"<{letter}2>") or ""
        if a and b and a != b:
            return True
    return False


_VOWEL_SOUND = re.compile(r"[aeiouAEIOU]")


def _finish(words: list[str]) -> str:
    words = [w for w in " ".join(words).split() if w]  # multi-word synonyms become words
    for i in range(len(words) - 1):
        w = words[i]
        if w.lower() in ("a", "an"):
            article = "an" if _VOWEL_SOUND.match(words[i + 1]) else "a"
            words[i] = article.capitalize() if w[0].isupper() else article
    text = " ".join(words)
    text = re.sub(r"\s+([;?,])", r"\1", text)
    text = text.rstrip(" ;,")
    if not text.endswith("?"):
        text += "?"
    return text[:1].upper() + text[1:]


# -- text skeletons (measuring how the filler covers official texts) ----------------------
@functools.lru_cache(maxsize=1)
def _skeleton_words() -> tuple[dict[str, str], tuple[tuple[tuple[str, ...], str], ...]]:
    vocab = get_vocabulary("clevr")
    words: dict[str, str] = {}
    for ptype, letter in (("Size", "Z"), ("Color", "C"), ("Material", "M"), ("Shape", "S")):
        for value in (*(vocab.types[ptype].domain or ()), *(("thing",) if letter == "S" else ())):
            for w in SYNONYMS.get(value, (value,)):
                words[w] = letter
                words[w + "s"] = letter + "s"
    phrases = sorted(
        {tuple(p.split()) for v in vocab.types["Relation"].domain or () for p in SYNONYMS.get(v, (v,))},
        key=len, reverse=True,
    )
    return words, tuple((p, "R") for p in phrases)


def text_skeleton(text: str) -> str:
    """A question's word sequence with every attribute word replaced by its placeholder
    letter (``Z``, ``C``, ``M``, ``S``, plural ``Ss``), every relation phrase by ``R``, "an"
    written "a", lowercase, without "?".

    >>> text_skeleton("Is there an object to the left of the big shiny balls?")
    'is there a S R the Z M Ss'
    """
    words, phrases = _skeleton_words()
    toks = [t.lower() for t in re.findall(r"[^\s;?,]+|;", text)]
    out: list[str] = []
    i = 0
    while i < len(toks):
        for phrase, letter in phrases:
            if tuple(toks[i : i + len(phrase)]) == phrase:
                out.append(letter)
                i += len(phrase)
                break
        else:
            t = toks[i]
            out.append("a" if t == "an" else words.get(t, t))
            i += 1
    return " ".join(out)


def text_patterns(template: ClevrTemplate) -> list[re.Pattern[str]]:
    """Regular expressions over :func:`text_skeleton` strings: every skeleton
    :func:`generate_questions` can write for ``template`` (each text, each choice of
    optional words, each parameter empty or not as the constraints and node types allow,
    "other" kept or dropped) matches one of them."""
    modes = _param_modes(template)
    words, _ = _skeleton_words()

    def regex(segs: Iterable[tuple[Any, ...]]) -> str:
        parts = []
        for seg in segs:
            if seg[0] == "opt":
                parts.append(f"(?:{regex(seg[1])})?")
            elif seg[0] == "param":
                letter, mode = _letter(seg[1]), modes.get(seg[1], "required")
                if letter == "S":
                    parts.append("Ss " if seg[2] else "S ")
                elif letter == "R":
                    parts.append("R ")
                elif mode != "null":
                    unit = re.escape(letter + ("s" if seg[2] else "")) + " "
                    parts.append(unit if mode == "required" else f"(?:{unit})?")
            else:
                for w in text_skeleton(seg[1]).split() if seg[1] not in ";?," else [seg[1]]:
                    if w == "?":
                        continue
                    if w == "other":
                        parts.append("(?:other )?")
                    elif w == "another":
                        parts.append("(?:another |a )")
                    else:
                        parts.append(re.escape(words.get(w, w)) + " ")
        return "".join(parts)

    return [re.compile(regex(_segments(t))) for t in template.texts]


def text_coverage(
    questions: Iterable[Mapping[str, Any]], templates: Sequence[ClevrTemplate]
) -> dict[str, Any]:
    """How many question texts (official ones, say) have a skeleton that the text filler can
    write: for the question's own template (``own``) and for any template (``any``)."""
    by_key = {t.key: text_patterns(t) for t in templates}
    every = [p for ps in by_key.values() for p in ps]
    n = own = anyt = 0
    misses: list[str] = []
    for q in questions:
        n += 1
        sk = text_skeleton(q["question"]) + " "
        pats = by_key.get((q.get("template_filename"), q.get("question_family_index")), [])
        if any(p.fullmatch(sk) for p in pats):
            own += 1
            anyt += 1
        elif any(p.fullmatch(sk) for p in every):
            anyt += 1
        elif len(misses) < 20:
            misses.append(q["question"])
    return {"questions": n, "own_template": own / n if n else 0.0,
            "any_template": anyt / n if n else 0.0, "misses": misses}
