"""The search for parameter values of one template on one scene: node by node, depth
first in random order, only values the scene offers, honouring the constraints (see
:mod:`.generate` for the rules)."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ...errors import ExecutionFailure
from ...execute.ops import OPS
from ...program.vocab import Vocabulary, get_vocabulary
from ...scene.graph import SceneGraph
from .templates import (
    _ATTRIBUTE,
    _FILTER_NODES,
    _FILTER_TYPES,
    _RELATE_NODES,
    _SET_LEVEL,
    ClevrTemplate,
    TemplateNode,
    _param_modes,
)

__all__: list[str] = []

_TRIVIAL_FRACTION = 0.1  # at most this share of relate options may be trivial
_SEARCH_BUDGET = 3000  # search states per (scene, template) attempt

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
        out = [(*p, v) for p in out for v in c]
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
