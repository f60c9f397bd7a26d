"""CLEVR questions from the official question templates, instantiated on real scenes.

A template (one entry of CLEVR's ``templates/*.json``) holds texts with placeholders
(``<Z>`` size, ``<C>`` color, ``<M>`` material, ``<S>`` shape, ``<R>`` relation, numbered
``<Z2>``... for further objects), a program over *template-level* nodes (``filter_unique``,
``relate_filter_count``...), the types of its parameters and constraints on them. For one
scene and one template, :func:`generate_questions`:

1. **chooses values** node by node, depth first in random order, from what the scene
   offers: a ``filter_unique`` gets only attribute combinations that pick out exactly one
   object; a ``filter_count``/``filter`` also gets a few combinations matching nothing (as
   many as there are single-object ones), a ``filter_exist`` as many empty ones as
   non-empty ones; a ``relate_filter*`` gets (relation, attributes) pairs, of which at most
   10% may be *trivial* (the relation removes nothing the attributes alone would keep), and
   only ``..._count``/``..._exist`` may come out empty. Any parameter may stay empty
   (``""``): its filter is left out and its word disappears from the text (an empty shape
   reads "thing"/"object");
2. **honours the constraints**: ``NULL``/``NOT_NULL`` (a parameter must / must not be
   empty), ``EQ``/``NEQ`` (two parameters equal / different), ``OUT_EQ``/``OUT_NEQ`` (two
   nodes give the same / a different result; for a ``filter_count``/``filter_exist`` node
   the *set* before counting is compared, so "are there as many red things as cubes" never
   compares a set with itself);
3. **balances answers**: per template, an answer is refused while it is already more than
   10% (plus one) ahead of every other answer, so no family is dominated by one answer;
4. **expands** the template-level nodes into the CLEVR v1.0 release chain exactly as the
   release files write it: ``filter_unique[<Z>,<C>,<M>,<S>]`` becomes
   ``filter_size``, ``filter_color``, ``filter_material``, ``filter_shape`` (only the
   non-empty ones, in that order) then ``unique``; ``relate_filter_*`` starts with
   ``relate``; steps keep the template's node order;
5. **executes** the expanded program with :class:`~nsreason.execute.SymbolicExecutor` and
   keeps the question only when execution has no failure (every ``unique`` on exactly one
   object) and gives the answer the search computed;
6. **writes the text**: one of the template's texts at random, each ``[optional words]``
   kept with probability 1/2, each value replaced by one of its synonyms
   (:data:`SYNONYMS`: sphere→ball, large→big, metal→shiny/metallic, left→"to the left of"...,
   chosen once per placeholder), ``<S>s`` pluralised, "a"/"an" agreed with the next word,
   "other"/"another" dropped when the two objects are described with conflicting values
   ("the other red cube ... as the blue sphere"), spaces collapsed, a final "?" ensured.

Per scene, templates are tried least-used first (ties in random order), at most one
question per template and scene, until ``per_scene`` questions are made; so the 90
families come out about equally often, as in the official files. Everything is drawn from
one ``random.Random(seed)``: the same scenes and seed give the same questions.

>>> from nsreason.scene.clevr import clevr_scene_from_dict
>>> scene = clevr_scene_from_dict({"image_index": 7, "objects": [
...     {"shape": "cube", "size": "large", "color": "red", "material": "metal"},
...     {"shape": "sphere", "size": "small", "color": "blue", "material": "rubber"},
...     {"shape": "cylinder", "size": "small", "color": "red", "material": "rubber"}]})
>>> template = ClevrTemplate.from_dict({
...     "text": ["What color is the <Z> <C> <M> <S>?"],
...     "nodes": [{"type": "scene", "inputs": []},
...               {"type": "filter_unique", "inputs": [0], "side_inputs": ["<Z>", "<C>", "<M>", "<S>"]},
...               {"type": "query_color", "inputs": [1]}],
...     "params": [{"type": "Size", "name": "<Z>"}, {"type": "Color", "name": "<C>"},
...                {"type": "Material", "name": "<M>"}, {"type": "Shape", "name": "<S>"}],
...     "constraints": [{"type": "NULL", "params": ["<C>"]}]}, "zero_hop.json", 4)
>>> q = generate_questions([scene], templates=[template], per_scene=1, seed=0)[0]
>>> q["question"], q["answer"], [n["function"] for n in q["program"]]
('What color is the block?', 'red', ['scene', 'filter_shape', 'unique', 'query_color'])
>>> fill_text("How many <Z2> <C2> <M2> <S2>s are <R> the <Z> <C> <M> <S>?",
...           {"<R>": "left", "<S>": "cube", "<C2>": "red", "<M>": "metal"}, random.Random(1))
'How many red things are to the left of the metallic block?'
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ExecutionFailure, InputError
from ..execute.answer import answer_text
from ..execute.ops import OPS
from ..execute.symbolic import SymbolicExecutor
from ..jsonio import read_json
from ..program.ir import Program
from ..program.vocab import Vocabulary, get_vocabulary
from ..scene.graph import SceneGraph

__all__ = [
    "SYNONYMS",
    "ClevrTemplate",
    "TemplateNode",
    "default_templates_dir",
    "expand_program",
    "fill_text",
    "generate_questions",
    "load_synonyms",
    "load_templates",
    "main",
    "run_generator",
    "text_coverage",
    "text_patterns",
    "text_skeleton",
]

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
in a direction" (CLEVR-Humans), made for :mod:`nsreason.datasets.clevr_augment`."""

# Placeholder letter -> parameter type (the official templates name parameters this way).
_LETTER_TYPE = {"Z": "Size", "C": "Color", "M": "Material", "S": "Shape", "R": "Relation",
                "D": "Relation"}
# Attribute types in the order the release files write a filter chain.
_FILTER_TYPES = ("Size", "Color", "Material", "Shape")
_ATTRIBUTE = {"Size": "size", "Color": "color", "Material": "material", "Shape": "shape"}
# template-level node type -> what follows the filters (None: nothing)
_FILTER_NODES = {"filter": None, "filter_unique": "unique", "filter_count": "count",
                 "filter_exist": "exist"}
_RELATE_NODES = {"relate_filter": None, "relate_filter_unique": "unique",
                 "relate_filter_count": "count", "relate_filter_exist": "exist"}
# ops over a whole set that nsreason adds to CLEVR's (by name prefix)
_SET_LEVEL = ("extreme", "all_same_", "most_common_")
_CONSTRAINTS = ("NULL", "NOT_NULL", "EQ", "NEQ", "OUT_EQ", "OUT_NEQ")
_TRIVIAL_FRACTION = 0.1  # at most this share of relate options may be trivial
_BALANCE_RATIO = 1.1  # an answer may lead every other by at most 10% (plus one)
_SEARCH_BUDGET = 3000  # search states per (scene, template) attempt


# -- templates ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TemplateNode:
    """One template-level node: its type, input nodes and parameter names."""

    type: str
    inputs: tuple[int, ...] = ()
    side_inputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClevrTemplate:
    """One CLEVR question template (the official JSON format, checked when read).

    ``filename`` and ``family`` (its position in that file) become the question's
    ``template_filename`` and ``question_family_index``.
    """

    filename: str
    family: int
    texts: tuple[str, ...]
    nodes: tuple[TemplateNode, ...]
    params: tuple[tuple[str, str], ...]  # (name, type), as declared
    constraints: tuple[tuple[str, tuple[Any, ...]], ...]  # (type, params)

    @property
    def param_types(self) -> dict[str, str]:
        return dict(self.params)

    @property
    def key(self) -> tuple[str, int]:
        return (self.filename, self.family)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], filename: str = "", family: int = 0,
        vocabulary: str | Vocabulary = "clevr",
    ) -> ClevrTemplate:
        """Read and check one template (``{"text", "nodes", "params", "constraints"}``)."""
        where = f"{filename}[{family}]" if filename else f"template[{family}]"
        vocab = get_vocabulary(vocabulary)
        try:
            texts = tuple(data["text"])
            raw_nodes = data["nodes"]
            params = tuple((p["name"], p["type"]) for p in data.get("params", []))
            raw_constraints = data.get("constraints", [])
        except (KeyError, TypeError) as err:
            raise InputError(f"not a CLEVR template: {err!r}", path=where) from None
        if not texts or not all(isinstance(t, str) and t for t in texts):
            raise InputError("expected a non-empty list of texts", path=f"{where}.text")
        declared = dict(params)
        for name, ptype in params:
            if ptype not in vocab.types:
                raise InputError(f"parameter {name}: unknown type {ptype!r}", path=f"{where}.params")
        nodes = []
        for i, n in enumerate(raw_nodes):
            npath = f"{where}.nodes[{i}]"
            ntype = n.get("type", n.get("function"))
            if ntype not in vocab:
                raise InputError(f"unknown node type {ntype!r}", path=npath)
            inputs = tuple(n.get("inputs", ()))
            if any(not isinstance(j, int) or not 0 <= j < i for j in inputs):
                raise InputError(f"inputs must be earlier nodes, got {list(inputs)}", path=npath)
            side = tuple(n.get("side_inputs", n.get("value_inputs", ())))
            for name in side:
                if name not in declared:
                    raise InputError(f"parameter {name!r} is not declared", path=npath)
            nodes.append(TemplateNode(ntype, inputs, side))
        constraints = []
        for i, c in enumerate(raw_constraints):
            ctype, cparams = c.get("type"), tuple(c.get("params", ()))
            if ctype not in _CONSTRAINTS:
                raise InputError(
                    f"unknown constraint {ctype!r}; known: {list(_CONSTRAINTS)}",
                    path=f"{where}.constraints[{i}]",
                )
            constraints.append((ctype, cparams))
        return cls(filename, family, texts, tuple(nodes), params, tuple(constraints))

    def to_dict(self) -> dict[str, Any]:
        """The official JSON form of this template."""
        return {
            "text": list(self.texts),
            "nodes": [
                {"type": n.type, "inputs": list(n.inputs),
                 **({"side_inputs": list(n.side_inputs)} if n.side_inputs else {})}
                for n in self.nodes
            ],
            "params": [{"type": t, "name": n} for n, t in self.params],
            "constraints": [{"type": t, "params": list(p)} for t, p in self.constraints],
        }


def default_templates_dir() -> Path:
    """Where the official templates are looked for: ``$NSREASON_CLEVR_TEMPLATES``, else
    ``$NSREASON_SHARED_DATA/clevr/templates``, else ``../shared/data/clevr/templates``
    beside the repository."""
    env = os.environ.get("NSREASON_CLEVR_TEMPLATES")
    if env:
        return Path(env)
    shared = os.environ.get("NSREASON_SHARED_DATA")
    base = Path(shared) if shared else Path(__file__).resolve().parents[2].parent / "shared" / "data"
    return base / "clevr" / "templates"


def load_templates(
    templates_dir: str | Path | None = None, vocabulary: str | Vocabulary = "clevr"
) -> list[ClevrTemplate]:
    """Every template of every ``*.json`` file of ``templates_dir`` (default
    :func:`default_templates_dir`), ordered by file name, then position in the file."""
    folder = Path(templates_dir) if templates_dir is not None else default_templates_dir()
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not files:
        raise InputError(
            "no CLEVR template files (*.json) found; pass templates_dir= (--templates) or set "
            "NSREASON_CLEVR_TEMPLATES to the official templates folder",
            source=str(folder),
        )
    out = []
    for path in files:
        data = read_json(path)
        if not isinstance(data, list):
            raise InputError("expected a list of templates", source=str(path))
        out.extend(ClevrTemplate.from_dict(t, path.name, i, vocabulary) for i, t in enumerate(data))
    return out


def load_synonyms(path: str | Path) -> dict[str, tuple[str, ...]]:
    """A ``synonyms.json`` file: ``{"sphere": ["sphere", "ball"], ...}``."""
    data = read_json(path)
    if not isinstance(data, dict) or not all(
        isinstance(v, list) and v and all(isinstance(w, str) for w in v) for v in data.values()
    ):
        raise InputError("expected an object of non-empty lists of words", source=str(path))
    return {k: tuple(v) for k, v in data.items()}


# -- text ---------------------------------------------------------------------------------
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


def _param_modes(template: ClevrTemplate) -> dict[str, str]:
    """Per parameter: "null" (must be empty), "required" (never empty) or "optional"."""
    modes: dict[str, str] = {}
    for node in template.nodes:
        filtered = node.type in _FILTER_NODES or node.type in _RELATE_NODES
        for k, name in enumerate(node.side_inputs):
            relation = node.type in _RELATE_NODES and k == 0
            modes[name] = "optional" if filtered and not relation else "required"
    for ctype, params in template.constraints:
        for name in params:
            if ctype == "NULL":
                modes[name] = "null"
            elif ctype == "NOT_NULL" and modes.get(name) == "optional":
                modes[name] = "required"
    return modes


# -- the search ---------------------------------------------------------------------------
class _SceneFacts:
    """Per-scene tables: each object's attributes and the objects of any attribute combo."""

    __slots__ = ("_key_masks", "_masks", "_present", "all", "attrs", "ix", "scene")

    def __init__(self, scene: SceneGraph) -> None:
        ix = scene.index
        self.scene = scene
        self.ix = ix
        self.all = ix.all
        self._masks = [ix.attribute_masks.get(_ATTRIBUTE[t], {}) for t in _FILTER_TYPES]
        values = [ix.attribute_values.get(_ATTRIBUTE[t], [()] * ix.n) for t in _FILTER_TYPES]
        self.attrs = [tuple(v[i][0] if v[i] else None for v in values) for i in range(ix.n)]
        self._key_masks: dict[tuple[str | None, ...], int] = {}
        self._present: dict[tuple[int, tuple[str, ...]], list[tuple[str | None, ...]]] = {}

    def key_mask(self, key: tuple[str | None, ...]) -> int:
        m = self._key_masks.get(key)
        if m is None:
            m = self.all
            for masks, v in zip(self._masks, key):
                if v is not None:
                    m &= masks.get(v, 0)
            self._key_masks[key] = m
        return m

    def present_keys(self, objects: int, modes: tuple[str, ...]) -> list[tuple[str | None, ...]]:
        """Attribute combinations (None: not used) describing some object of ``objects``,
        with "null" positions always None and "required" ones never, in a fixed order."""
        cache_key = (objects, modes)
        hit = self._present.get(cache_key)
        if hit is not None:
            return hit
        keys: dict[tuple[str | None, ...], None] = {}
        for i, attrs in enumerate(self.attrs):
            if not objects >> i & 1:
                continue
            choices = []
            for a, mode in zip(attrs, modes):
                if mode == "null" or a is None:
                    choices.append((None,) if mode != "required" else ())
                elif mode == "required":
                    choices.append((a,))
                else:
                    choices.append((None, a))
            for key in _product(choices):
                keys[key] = None
        out = list(keys)
        self._present[cache_key] = out
        return out


def _product(choices: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = [()]
    for c in choices:
        out = [p + (v,) for p in out for v in c]
    return out


def _single(mask: int) -> int | None:
    return mask.bit_length() - 1 if mask and not mask & (mask - 1) else None


@dataclass
class _Found:
    values: dict[str, str]
    answer: Any


class _Search:
    """Depth-first search for parameter values of one template on one scene."""

    def __init__(
        self, template: ClevrTemplate, facts: _SceneFacts, rng: random.Random,
        vocab: Vocabulary, accept: Callable[[Any], bool], budget: int = _SEARCH_BUDGET,
    ) -> None:
        self.t = template
        self.facts = facts
        self.rng = rng
        self.vocab = vocab
        self.accept = accept
        self.budget = budget
        self.types = template.param_types
        modes = _param_modes(template)
        self.modes = modes
        self.param_checks: dict[str, list[tuple[str, str, str]]] = {}
        self.out_checks: dict[int, list[tuple[str, int, int]]] = {}
        for ctype, params in template.constraints:
            if ctype in ("EQ", "NEQ"):
                a, b = params
                self.param_checks.setdefault(b, []).append((ctype, a, b))
                self.param_checks.setdefault(a, []).append((ctype, a, b))
            elif ctype in ("OUT_EQ", "OUT_NEQ"):
                i, j = params
                self.out_checks.setdefault(max(i, j), []).append((ctype, i, j))
        self.n = len(template.nodes)
        # a plain filter must filter, except on a set that a set-level op or a further
        # filter reads ("the leftmost thing", "are all the objects the same color", "are
        # all the objects shiny", "how many things are not red")
        self.whole_scene_ok = {
            template.nodes[n.inputs[0]] for n in template.nodes
            if n.type == "difference" or n.type.startswith(_SET_LEVEL) or n.type in _FILTER_NODES
        }
        self._cache: dict[tuple[int, tuple[Any, ...]], list[tuple[Any, ...]]] = {}

    def run(self) -> _Found | None:
        outs: list[Any] = []
        sets: list[Any] = []
        return self._dfs(0, outs, sets, {})

    # one level of the search
    def _dfs(self, k: int, outs: list[Any], sets: list[Any], vals: dict[str, str]) -> _Found | None:
        if self.budget <= 0:
            return None
        self.budget -= 1
        if k == self.n:
            answer = outs[-1]
            return _Found(dict(vals), answer) if self.accept(answer) else None
        node = self.t.nodes[k]
        ins = tuple(outs[j] for j in node.inputs)
        options = self._cache.get((k, ins))
        if options is None:
            options = self._cache[(k, ins)] = self._options(node, ins)
        for names, values, out, set_out in _random_order(options, self.rng):
            if self.budget <= 0:
                return None
            assign = {n: (v or "") for n, v in zip(names, values) if n is not None}
            new_vals = {**vals, **assign} if assign else vals
            if not self._params_ok(assign, new_vals):
                continue
            outs.append(out)
            sets.append(set_out)
            if self._outs_ok(k, outs, sets):
                found = self._dfs(k + 1, outs, sets, new_vals)
                if found is not None:
                    return found
            outs.pop()
            sets.pop()
        return None

    def _params_ok(self, assign: Mapping[str, str], vals: Mapping[str, str]) -> bool:
        for name in assign:
            for ctype, a, b in self.param_checks.get(name, ()):
                if a in vals and b in vals and (vals[a] == vals[b]) != (ctype == "EQ"):
                    return False
        return True

    def _outs_ok(self, k: int, outs: list[Any], sets: list[Any]) -> bool:
        for ctype, i, j in self.out_checks.get(k, ()):
            a, b = (sets[i], sets[j]) if sets[i] is not None and sets[j] is not None else (outs[i], outs[j])
            if (a == b) != (ctype == "OUT_EQ"):
                return False
        return True

    def _filter_modes(self, names: Sequence[str]) -> tuple[tuple[str, ...], list[str | None]]:
        """Per filter type (size, color, material, shape): the mode and parameter name."""
        by_type: dict[str, str] = {self.types[n]: n for n in names}
        order = [by_type.get(t) for t in _FILTER_TYPES]
        modes = tuple(self.modes.get(n, "optional") if n else "null" for n in order)
        return modes, order

    def _options(self, node: TemplateNode, ins: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """Every admissible choice for ``node`` given its inputs' values: (parameter names,
        their values (None: empty), the node's output, the set it filtered or None)."""
        facts, rng = self.facts, self.rng
        if node.type in _FILTER_NODES:
            then = _FILTER_NODES[node.type]
            modes, order = self._filter_modes(node.side_inputs)
            objects = ins[0]
            found: dict[tuple[str | None, ...], int] = {}
            for key in facts.present_keys(objects, modes):
                if then is None and all(v is None for v in key) and node not in self.whole_scene_ok:
                    continue  # a plain filter must filter
                found[key] = objects & facts.key_mask(key)
            if then == "unique":
                found = {k: m for k, m in found.items() if _single(m) is not None}
            elif then in ("count", None):
                extra = sum(1 for m in found.values() if _single(m) is not None)
                found.update(self._empty_keys(objects, modes, extra, found))
            elif then == "exist":
                found.update(self._empty_keys(objects, modes, len(found), found))
            names = tuple(order)
            options = [(names, k, _then(then, m), m) for k, m in found.items()]
        elif node.type in _RELATE_NODES:
            then = _RELATE_NODES[node.type]
            rel_name, *names = node.side_inputs
            modes, order = self._filter_modes(names)
            obj = ins[0]
            include_zero = then in ("count", "exist")
            keys = facts.present_keys(facts.all, modes)
            names = (rel_name, *order)
            plain, trivial = [], []
            for rel in self.vocab.types[self.types[rel_name]].domain or ():
                related = facts.ix.subjects_mask(rel, obj)
                for key in keys:
                    km = facts.key_mask(key)
                    m = related & km
                    if then == "unique" and _single(m) is None:
                        continue
                    if not m and not include_zero:
                        continue
                    option = (names, (rel, *key), _then(then, m), m)
                    (trivial if m == km else plain).append(option)
            n_trivial = round(len(plain) * _TRIVIAL_FRACTION / (1 - _TRIVIAL_FRACTION))
            rng.shuffle(trivial)
            options = plain + trivial[:n_trivial]
        else:
            sig = self.vocab.op(node.type)
            arg_types = [self.types[n] for n in node.side_inputs]
            domains = [self.vocab.types[t].domain or () for t in arg_types]
            impl = OPS.get(sig.impl)
            consts = tuple(v for _, v in sig.params)
            options = []
            for args in _product([tuple(d) for d in domains]):
                try:
                    out = impl(facts.ix, *ins, *consts, *args)
                except ExecutionFailure:
                    continue
                if node.type == "extreme" and (out == ins[0] or _single(out) is None):
                    continue  # a superlative must pick out one object of several
                if node.type.startswith(_SET_LEVEL) and ins[0].bit_count() < 2:
                    continue  # "are all the cubes ..." of one cube says little
                options.append((node.side_inputs, args, out, None))
        return options

    def _empty_keys(
        self, objects: int, modes: tuple[str, ...], n: int, taken: Mapping[Any, int]
    ) -> dict[tuple[str | None, ...], int]:
        """Up to ``n`` attribute combinations matching no object of ``objects``: drawn by
        first drawing how many attributes to use, so short ones are as likely as long ones."""
        if n <= 0:
            return {}
        groups: dict[int, list[tuple[str | None, ...]]] = {}
        for key in _all_keys(modes, self.vocab.name):
            if key not in taken and not objects & self.facts.key_mask(key):
                groups.setdefault(sum(v is not None for v in key), []).append(key)
        out: dict[tuple[str | None, ...], int] = {}
        sizes = sorted(groups)
        while len(out) < n and sizes:
            size = self.rng.choice(sizes)
            group = groups[size]
            out[group.pop(self.rng.randrange(len(group)))] = 0
            if not group:
                sizes.remove(size)
        return out


@functools.lru_cache(maxsize=256)
def _all_keys(modes: tuple[str, ...], vocabulary: str) -> tuple[tuple[str | None, ...], ...]:
    """Every attribute combination allowed by ``modes`` (none of them all-empty)."""
    types = get_vocabulary(vocabulary).types
    choices = []
    for t, mode in zip(_FILTER_TYPES, modes):
        domain = tuple(types[t].domain or ())
        choices.append((None,) if mode == "null" else domain if mode == "required" else (None, *domain))
    return tuple(k for k in _product(choices) if any(v is not None for v in k))


def _random_order(items: list[Any], rng: random.Random) -> Iterable[Any]:
    """The items in random order, drawn lazily (a search often stops after a few)."""
    items = items[:]
    n = len(items)
    for i in range(n):
        j = rng.randrange(i, n)
        items[i], items[j] = items[j], items[i]
        yield items[i]


def _then(then: str | None, mask: int) -> Any:
    if then == "unique":
        return _single(mask)
    if then == "count":
        return mask.bit_count()
    if then == "exist":
        return mask != 0
    return mask


# -- expansion to the release format --------------------------------------------------------
def expand_program(template: ClevrTemplate, values: Mapping[str, str]) -> list[dict[str, Any]]:
    """The CLEVR v1.0 release program of ``template`` with parameter ``values``: template-only
    nodes become ``[relate,] filter_size, filter_color, filter_material, filter_shape`` (only
    the non-empty ones, in that order) ``[, unique | count | exist]``."""
    types = template.param_types
    nodes: list[dict[str, Any]] = []
    where: list[int] = []  # template node -> release step holding its output

    def add(function: str, inputs: list[int], value_inputs: list[str]) -> int:
        nodes.append({"inputs": inputs, "function": function, "value_inputs": value_inputs})
        return len(nodes) - 1

    for node in template.nodes:
        ins = [where[j] for j in node.inputs]
        if node.type in _FILTER_NODES or node.type in _RELATE_NODES:
            then = _FILTER_NODES.get(node.type, _RELATE_NODES.get(node.type))
            names = list(node.side_inputs)
            cur = ins[0]
            if node.type in _RELATE_NODES:
                cur = add("relate", [cur], [values[names.pop(0)]])
            by_type = {types[n]: n for n in names}
            for t in _FILTER_TYPES:
                v = values.get(by_type.get(t, ""), "")
                if v:
                    cur = add(f"filter_{_ATTRIBUTE[t]}", [cur], [v])
            if then is not None:
                cur = add(then, [cur], [])
            where.append(cur)
        else:
            where.append(add(node.type, ins, [values[n] for n in node.side_inputs]))
    return nodes


# -- generation -----------------------------------------------------------------------------
@dataclass
class _Stats:
    attempts: int = 0
    made: int = 0
    no_instance: int = 0  # the search found no values (or ran out of budget)
    balance_refusals: int = 0  # answers refused to keep a family balanced
    duplicates: int = 0
    executor_rejected: int = 0  # the executor failed or disagreed (should stay 0)
    per_family: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "attempts": self.attempts, "made": self.made, "no_instance": self.no_instance,
            "balance_refusals": self.balance_refusals, "duplicates": self.duplicates,
            "executor_rejected": self.executor_rejected,
            "rejection_rate": 1 - self.made / self.attempts if self.attempts else 0.0,
            "families": len(self.per_family),
        }


def _balanced(counts: Counter, answer: str) -> bool:
    c = counts.get(answer, 0)
    top_other = max((v for a, v in counts.items() if a != answer), default=0)
    return c + 1 <= _BALANCE_RATIO * top_other + 1


def _scene_fields(scene: SceneGraph, position: int) -> dict[str, Any]:
    meta = scene.meta or {}
    index = meta.get("image_index", scene.id if isinstance(scene.id, int) else position)
    out: dict[str, Any] = {"split": meta.get("split", "generated")}
    if "image_filename" in meta:
        out["image_filename"] = meta["image_filename"]
        out["image"] = str(meta["image_filename"]).rsplit(".", 1)[0]
    out["image_index"] = index
    return out


def generate_questions(
    scenes: Sequence[SceneGraph],
    *,
    per_scene: int = 10,
    seed: int = 0,
    templates_dir: str | Path | None = None,
    templates: Sequence[ClevrTemplate] | None = None,
    synonyms: Mapping[str, Sequence[str]] | None = None,
    stats: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Up to ``per_scene`` questions per scene (CLEVR v1.0 release dicts), deterministic
    for a given ``seed``; see the module docstring for how they are made.

    ``templates`` (default: :func:`load_templates` of ``templates_dir``) may be any
    templates in the official format. ``stats``, when given, is filled with counts:
    attempts, made, why attempts failed, and the ``rejection_rate``.
    """
    if templates is None:
        templates = load_templates(templates_dir)
    if not templates:
        raise InputError("no templates to generate questions from")
    synonyms = SYNONYMS if synonyms is None else synonyms
    rng = random.Random(seed)
    vocab = get_vocabulary("clevr")
    executor = SymbolicExecutor()
    st = _Stats()
    used: Counter = Counter()
    answers: dict[tuple[str, int], Counter] = {t.key: Counter() for t in templates}
    out: list[dict[str, Any]] = []
    for position, scene in enumerate(scenes):
        facts = _SceneFacts(scene)
        order = sorted(templates, key=lambda t: (used[t.key], rng.random()))
        made_here = 0
        texts_here: set[str] = set()
        for template in order:
            if made_here >= per_scene:
                break
            st.attempts += 1
            counts = answers[template.key]
            refused = [0]

            def accept(raw: Any, counts: Counter = counts, refused: list[int] = refused) -> bool:
                ok = _balanced(counts, answer_text(raw))
                refused[0] += not ok
                return ok

            found = _Search(template, facts, rng, vocab, accept).run()
            st.balance_refusals += refused[0]
            if found is None:
                st.no_instance += 1
                continue
            nodes = expand_program(template, found.values)
            program = Program.from_clevr(nodes)
            result = executor.execute(program, scene, trace=False)
            expected = answer_text(found.answer)
            if result.failure is not None or answer_text(result.value) != expected:
                st.executor_rejected += 1
                continue
            text = fill_text(rng.choice(template.texts), found.values, rng, synonyms)
            if text in texts_here:
                st.duplicates += 1
                continue
            texts_here.add(text)
            counts[expected] += 1
            used[template.key] += 1
            made_here += 1
            st.made += 1
            st.per_family[template.key] += 1
            out.append({
                **_scene_fields(scene, position),
                "question": text,
                "program": nodes,
                "answer": expected,
                "template_filename": template.filename,
                "question_family_index": template.family,
                "question_index": len(out),
            })
    if stats is not None:
        stats.update(st.as_dict())
        stats["per_family"] = {f"{k[0]}:{k[1]}": v for k, v in sorted(st.per_family.items())}
    return out


# -- command line ---------------------------------------------------------------------------
def write_questions(path: str | Path, questions: list[dict[str, Any]], info: dict[str, Any]) -> None:
    """Write a CLEVR questions file (``{"info": ..., "questions": [...]}``)."""
    Path(path).write_text(json.dumps({"info": info, "questions": questions}) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nsreason.datasets.clevr_generate",
        description="Instantiate the official CLEVR question templates on CLEVR scenes.",
    )
    parser.add_argument("--scenes", required=True, help="CLEVR scenes JSON file")
    parser.add_argument("--out", required=True, help="questions JSON file to write")
    parser.add_argument("--per-scene", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--templates", default=None, help="folder of template *.json files")
    parser.add_argument("--synonyms", default=None, help="synonyms.json (default: CLEVR's)")
    args = parser.parse_args(argv)
    return run_generator(
        args, "nsreason.datasets.clevr_generate",
        lambda scenes, synonyms, stats: generate_questions(
            scenes, per_scene=args.per_scene, seed=args.seed, templates_dir=args.templates,
            synonyms=synonyms, stats=stats),
        per_scene=args.per_scene,
    )


def run_generator(
    args: argparse.Namespace,
    generator: str,
    make: Callable[[list[SceneGraph], Mapping[str, Sequence[str]] | None, dict[str, Any]], list[dict[str, Any]]],
    **info: Any,
) -> int:
    """The body of the question generators' ``python -m`` entry points: read
    ``args.scenes`` (and ``args.synonyms`` when given), ``make(scenes, synonyms, stats)``,
    write ``args.out`` with ``info`` (plus version, generator, seed, scenes), and report the
    counts on stderr. Bad input: the error on stderr and exit status 2."""
    from ..scene.clevr import load_clevr_scenes

    try:
        scenes = load_clevr_scenes(args.scenes)
        synonyms = load_synonyms(args.synonyms) if args.synonyms else None
        stats: dict[str, Any] = {}
        questions = make(scenes, synonyms, stats)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    write_questions(args.out, questions, {"version": "1.0", "generator": generator, "seed": args.seed,
                                          **info, "scenes": str(args.scenes)})
    stats.pop("per_family", None)
    print(f"{len(questions)} questions from {len(scenes)} scenes -> {args.out} "
          f"{json.dumps(stats)}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
