"""Bitset index of a scene graph: what the symbolic executor runs on.

An object set is a Python ``int`` used as a bitset over object *positions* (bit ``i`` set
⇔ ``scene.objects[i]`` is in the set), so filtering is one ``&`` and counting is
``int.bit_count``. An object is its position. The index holds, built once per scene:

* ``attribute_masks[key][value]``: objects whose attribute ``key`` has ``value``;
* ``value_masks[value]``: objects having ``value`` under any key or as a free label;
* ``name_masks[name]``: objects of category ``name``;
* ``subjects[predicate][o]`` / ``objects_of[predicate][s]``: adjacency lists, turned into
  masks on demand and cached, so memory stays linear in the number of relations.

>>> from nsreason.scene.graph import SceneGraph, SceneObject, Attribute, Relation
>>> scene = SceneGraph([SceneObject(0, "cube", (Attribute("red", key="color"),)),
...                     SceneObject(1, "cube", (Attribute("blue", key="color"),))],
...                    [Relation(1, "left", 0)])
>>> ix = scene.index
>>> ix.attribute_masks["color"]["red"], ix.name_masks["cube"], ix.subjects_mask("left", 0)
(1, 3, 2)
>>> ix.decode(3)
[0, 1]

**How confidences are read.** Confidences are probabilities (DESIGN.md); the symbolic
executor is exact, so the index reads each uncertain fact at its most probable reading:

* for an attribute key whose values carry confidences, only the most confident value
  counts (a value without a confidence counts as 1.0; ties: the first listed); a key whose
  values carry none keeps all of them, as before;
* a free label (``key=None``) with confidence < 0.5 is left out;
* a relation with confidence < 0.5 is left out;
* an object with confidence < 0.5 is absent for the executor: it is left out of ``all``
  (so ``scene()`` does not include it), of every attribute, value and name mask, and of
  every relation (either end), so no op can reach it. It keeps its position, id, name and
  ``attribute_values`` (decoding and traces still work).

A scene without confidences (clean CLEVR) takes the same path at the same cost: one
``is None`` test per attribute and relation.

>>> noisy = SceneGraph([SceneObject(0, "cube", (Attribute("red", key="color", confidence=0.3),
...                                             Attribute("blue", key="color", confidence=0.7))),
...                     SceneObject(1, "cube", confidence=0.2)],
...                    [Relation(1, "left", 0, confidence=0.9)])
>>> ix = noisy.index
>>> ix.attribute_values["color"][0], ix.all, ix.subjects_mask("left", 0)
(('blue',), 1, 0)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .graph import Attribute, ObjectId, SceneGraph

__all__ = ["READ_THRESHOLD", "SceneIndex", "iter_bits", "mask_from_positions"]

READ_THRESHOLD = 0.5
"""Objects, relations and free labels with a confidence below this are left out of the
index (see the module docstring)."""

# Below this many objects, building a mask by shifting is cheaper than via a bytearray.
_SMALL = 512


def mask_from_positions(positions: Iterable[int], n: int) -> int:
    """The bitset with the given positions set, in time linear in ``n`` + positions."""
    if n <= _SMALL:
        m = 0
        for p in positions:
            m |= 1 << p
        return m
    buf = bytearray((n + 7) >> 3)
    for p in positions:
        buf[p >> 3] |= 1 << (p & 7)
    return int.from_bytes(buf, "little")


def iter_bits(mask: int) -> list[int]:
    """Positions of the set bits of ``mask``, ascending."""
    if mask.bit_length() <= 64:
        out = []
        while mask:
            low = mask & -mask
            out.append(low.bit_length() - 1)
            mask ^= low
        return out
    bits = bin(mask)[:1:-1]  # least significant first, '0b' prefix dropped
    return [i for i, c in enumerate(bits) if c == "1"]


class SceneIndex:
    """Bitset tables over one :class:`SceneGraph` (see the module docstring).

    Confidences are read at their most probable reading: per attribute key the most
    confident value only (a missing confidence counts as 1.0, ties go to the first);
    free labels, relations and objects only at confidence >= :data:`READ_THRESHOLD`
    (0.5); an object below it is left out of ``all``, of every mask and of every relation.
    """

    __slots__ = (
        "scene",
        "n",
        "all",
        "ids",
        "attribute_masks",
        "attribute_values",
        "value_masks",
        "name_masks",
        "names",
        "subjects",
        "objects_of",
        "_subject_masks",
        "_object_masks",
        "_memo",
    )

    def __init__(self, scene: SceneGraph) -> None:
        objects = scene.objects
        n = len(objects)
        self.scene = scene
        self.n = n
        self.all = (1 << n) - 1
        self.ids: tuple[ObjectId, ...] = tuple(o.id for o in objects)
        self.names: tuple[str | None, ...] = tuple(o.name for o in objects)

        attr_pos: dict[str, dict[str, list[int]]] = {}
        value_pos: dict[str, list[int]] = {}
        name_pos: dict[str, list[int]] = {}
        attribute_values: dict[str, list[tuple[str, ...]]] = {}
        hidden = 0  # objects whose confidence is below the threshold
        for i, obj in enumerate(objects):
            if obj.confidence is not None and obj.confidence < READ_THRESHOLD:
                hidden |= 1 << i
            if obj.name is not None:
                name_pos.setdefault(obj.name, []).append(i)
            attributes = obj.attributes
            for a in attributes:
                if a.confidence is not None:
                    attributes = _most_probable(attributes)
                    break
            for a in attributes:
                value_pos.setdefault(a.value, []).append(i)
                if a.key is not None:
                    attr_pos.setdefault(a.key, {}).setdefault(a.value, []).append(i)
                    per_object = attribute_values.get(a.key)
                    if per_object is None:  # not setdefault: its default would cost O(n) per call
                        per_object = attribute_values[a.key] = [()] * n
                    per_object[i] = (*per_object[i], a.value)
        self.attribute_masks = {
            key: {v: mask_from_positions(p, n) for v, p in vals.items()}
            for key, vals in attr_pos.items()
        }
        self.attribute_values = attribute_values
        self.value_masks = {v: mask_from_positions(p, n) for v, p in value_pos.items()}
        self.name_masks = {v: mask_from_positions(p, n) for v, p in name_pos.items()}
        if hidden:
            self._hide(hidden)

        pos = scene._positions
        subjects: dict[str, dict[int, list[int]]] = {}
        objects_of: dict[str, dict[int, list[int]]] = {}
        for r in scene.relations:
            if r.confidence is not None and r.confidence < READ_THRESHOLD:
                continue
            s, o = pos[r.subject], pos[r.object]
            if hidden and (hidden >> s & 1 or hidden >> o & 1):
                continue
            subjects.setdefault(r.predicate, {}).setdefault(o, []).append(s)
            objects_of.setdefault(r.predicate, {}).setdefault(s, []).append(o)
        self.subjects = subjects
        self.objects_of = objects_of
        self._subject_masks: dict[str, dict[int, int]] = {p: {} for p in subjects}
        self._object_masks: dict[str, dict[int, int]] = {p: {} for p in objects_of}
        self._memo: dict[Any, Any] = {}

    def _hide(self, hidden: int) -> None:
        """Leave the objects of ``hidden`` out of ``all`` and of every mask."""
        keep = self.all & ~hidden
        self.all = keep
        for masks in (self.value_masks, self.name_masks, *self.attribute_masks.values()):
            for v, m in masks.items():
                masks[v] = m & keep

    # -- relations ----------------------------------------------------------------------
    def subjects_mask(self, predicate: str, obj: int) -> int:
        """Objects ``s`` with a relation ``(s, predicate, obj)``: for CLEVR's
        ``relate[left](obj)``, the objects left of ``obj``."""
        cache = self._subject_masks.get(predicate)
        if cache is None:
            return 0
        m = cache.get(obj)
        if m is None:
            m = cache[obj] = mask_from_positions(self.subjects[predicate].get(obj, ()), self.n)
        return m

    def objects_mask(self, predicate: str, subj: int) -> int:
        """Objects ``o`` with a relation ``(subj, predicate, o)``: what ``subj`` is wearing."""
        cache = self._object_masks.get(predicate)
        if cache is None:
            return 0
        m = cache.get(subj)
        if m is None:
            m = cache[subj] = mask_from_positions(self.objects_of[predicate].get(subj, ()), self.n)
        return m

    def subjects_of_set(self, predicate: str, mask: int) -> int:
        """Union of :meth:`subjects_mask` over every object of ``mask``, linear time."""
        adj = self.subjects.get(predicate)
        if not adj:
            return 0
        return mask_from_positions(_gather(adj, mask), self.n)

    def objects_of_set(self, predicate: str, mask: int) -> int:
        """Union of :meth:`objects_mask` over every object of ``mask``, linear time."""
        adj = self.objects_of.get(predicate)
        if not adj:
            return 0
        return mask_from_positions(_gather(adj, mask), self.n)

    # -- derived tables -----------------------------------------------------------------
    def memo(self, key: Any, build: Callable[[SceneIndex], Any]) -> Any:
        """``build(self)``, made on first use per ``key`` and kept with the index: tables
        an op derives from the scene once (an order of the objects along a direction,
        their visibility) rather than on every call.

        >>> from nsreason.scene.graph import SceneGraph
        >>> ix = SceneGraph([]).index
        >>> ix.memo("n", lambda ix: ix.n), ix.memo("n", lambda ix: -1)
        (0, 0)
        """
        try:
            return self._memo[key]
        except KeyError:
            value = self._memo[key] = build(self)
            return value

    # -- decoding -----------------------------------------------------------------------
    def decode(self, mask: int) -> list[ObjectId]:
        """The ids of the objects in ``mask``, in scene order."""
        ids = self.ids
        return [ids[i] for i in iter_bits(mask)]

    def mask_of_ids(self, ids: Iterable[ObjectId]) -> int:
        """The bitset of the given object ids."""
        pos = self.scene._positions
        return mask_from_positions((pos[i] for i in ids), self.n)

    def __repr__(self) -> str:
        return f"SceneIndex(objects={self.n}, predicates={len(self.subjects)})"


def _most_probable(attributes: tuple[Attribute, ...]) -> tuple[Attribute, ...]:
    """The attributes the executor reads: per key carrying confidences, the most confident
    value (missing confidence = 1.0, ties: the first); free labels at >= the threshold;
    keys without confidences whole. Order: as listed."""
    best: dict[str, Attribute] = {}
    scored: set[str] = set()
    for a in attributes:
        if a.key is None:
            continue
        if a.confidence is not None:
            scored.add(a.key)
        b = best.get(a.key)
        if b is None or _confidence(a) > _confidence(b):
            best[a.key] = a
    out = []
    for a in attributes:
        if a.key is None:
            if a.confidence is None or a.confidence >= READ_THRESHOLD:
                out.append(a)
        elif a.key not in scored or best[a.key] is a:
            out.append(a)
    return tuple(out)


def _confidence(a: Attribute) -> float:
    return 1.0 if a.confidence is None else a.confidence


def _gather(adjacency: dict[int, list[int]], mask: int) -> Iterable[int]:
    for i in iter_bits(mask):
        yield from adjacency.get(i, ())
