"""Scene graphs as padded tensors: what the GNN encoder and the neural executor read.

A batch of ``S`` scenes with at most ``N`` objects becomes (:class:`SceneBatch`):

* ``exist`` ``[S, N]``: each object's existence probability (its ``confidence``, 1.0 when
  the scene gives none; 0 on padding);
* ``attrs[key]`` ``[S, N, D]``: per attribute key of the vocabulary (CLEVR: color, size,
  shape, material), a probability distribution over the key's domain, read from the
  confidences of the object's values (see :func:`value_distribution`);
* ``rels[predicate]`` ``[S, N, N]``: ``rels[p][s, i, j]`` = the probability that object
  ``i`` stands in relation ``p`` to object ``j`` (its confidence, 1.0 when none is given);
  ``rel_given[p]`` ``[S]`` says whether the scene states relation ``p`` at all (when it does
  not, absent pairs are unknown, not false);
* ``pair_predicates`` ``[S, N, N, Q]``: the probability of every predicate any scene of the
  batch states (``predicates``, any word, the vocabulary's or not) for each ordered pair,
  with ``predicate_vectors`` ``[Q, W]``, their word vectors;
* ``coords`` ``[S, N, 3]`` with ``has_coords`` ``[S]`` (3D coordinates; for a scene with
  bounding boxes instead, each box's centre and size in units of the scene's extent); ``words`` ``[S, N, W]``: the mean
  word vector of each object's name and values, weighted by their confidences (so that a
  scene in another vocabulary, a GQA graph, still says something the encoder can read).

Confidences are probabilities (DESIGN.md): nothing here is learned; the encoder refines it.

>>> from nsreason.scene.graph import Attribute, SceneGraph, SceneObject
>>> p = value_distribution([Attribute("red", "color", 0.7), Attribute("blue", "color", 0.2)],
...                        ("red", "blue", "green"))
>>> [round(x, 6) for x in p]
[0.7, 0.2, 0.1]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import SceneFormatError
from ..program.vocab import Vocabulary

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from ..scene.graph import Attribute, ObjectId, SceneGraph

__all__ = ["OpenTables", "SceneBatch", "SceneSchema", "value_distribution", "scene_schema"]


@dataclass(frozen=True)
class SceneSchema:
    """What a vocabulary reads of a scene: attribute keys with their domains (from its
    ``query_attribute`` ops) and relation predicates (the domains of its ``subjects_of``
    ops' arguments)."""

    domains: tuple[tuple[str, tuple[str, ...]], ...]
    predicates: tuple[str, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.domains)

    def domain(self, key: str) -> tuple[str, ...]:
        return dict(self.domains)[key]

    def to_dict(self) -> dict[str, Any]:
        return {"domains": {k: list(d) for k, d in self.domains}, "predicates": list(self.predicates)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SceneSchema:
        return cls(tuple((k, tuple(d)) for k, d in data["domains"].items()), tuple(data["predicates"]))


def scene_schema(vocab: Vocabulary) -> SceneSchema:
    """The :class:`SceneSchema` of ``vocab``.

    >>> from nsreason.program.vocab import get_vocabulary
    >>> s = scene_schema(get_vocabulary("clevr"))
    >>> s.keys, s.predicates
    (('shape', 'color', 'size', 'material'), ('left', 'right', 'behind', 'front'))
    """
    domains: dict[str, tuple[str, ...]] = {}
    predicates: list[str] = []
    for sig in vocab.ops.values():
        params = dict(sig.params)
        if sig.impl == "query_attribute" and "attribute" in params:
            domain = vocab.types[sig.output].domain
            if domain is not None:
                domains.setdefault(params["attribute"], tuple(domain))
        if sig.impl == "subjects_of" and sig.args:
            domain = vocab.types[sig.args[0].type].domain
            for p in domain or ():
                if p not in predicates:
                    predicates.append(p)
    return SceneSchema(tuple(domains.items()), tuple(predicates))


def value_distribution(attributes: Iterable[Attribute], domain: Sequence[str]) -> list[float]:
    """A distribution over ``domain`` from an object's values of one key: each value's
    confidence (1.0 when none is given; several mentions of one value add up), scaled down
    when they sum over 1; what they leave is spread evenly over the values not mentioned
    (over the whole domain when none is). Values outside the domain are left out."""
    where = {v: i for i, v in enumerate(domain)}
    p = [0.0] * len(domain)
    for a in attributes:
        i = where.get(a.value)
        if i is not None:
            p[i] += 1.0 if a.confidence is None else float(a.confidence)
    total = sum(p)
    if total > 1.0:
        return [x / total for x in p]
    rest = [i for i, x in enumerate(p) if x == 0.0] or list(range(len(domain)))
    share = (1.0 - total) / len(rest)
    for i in rest:
        p[i] += share
    return p


class OpenTables:
    """What open-vocabulary ops read of one scene, made on first use: the probability that
    each object has a value (under any key or as a label: its most confident mention) or a
    key's value, is of a category, and stands in any predicate to each other object.
    Stated confidences only: the encoder refines the vocabulary's own keys and predicates."""

    __slots__ = ("scene", "_values", "_keyed", "_relations")

    def __init__(self, scene: SceneGraph) -> None:
        self.scene = scene
        self._values: dict[str, list[float]] | None = None
        self._keyed: dict[tuple[str, str], list[float]] | None = None
        self._relations: dict[str, dict[tuple[int, int], float]] | None = None

    def _read(self) -> None:
        values: dict[str, list[float]] = {}
        keyed: dict[tuple[str, str], list[float]] = {}
        n = len(self.scene.objects)
        for i, obj in enumerate(self.scene.objects):
            for a in obj.attributes:
                p = _probability(a.confidence, f"object {obj.id!r}.attributes.{a.key or 'label'}.confidence")
                row = values.setdefault(a.value, [0.0] * n)
                row[i] = max(row[i], p)
                if a.key is not None:
                    krow = keyed.setdefault((a.key, a.value), [0.0] * n)
                    krow[i] = max(krow[i], p)
        self._values, self._keyed = values, keyed

    def value(self, value: str) -> list[float]:
        """P(object has ``value``), per object."""
        if self._values is None:
            self._read()
        return self._values.get(value) or [0.0] * len(self.scene.objects)  # type: ignore[union-attr]

    def keyed(self, key: str, value: str) -> list[float]:
        """P(object's ``key`` is ``value``), per object."""
        if self._keyed is None:
            self._read()
        return self._keyed.get((key, value)) or [0.0] * len(self.scene.objects)  # type: ignore[union-attr]

    def name(self, name: str) -> list[float]:
        """1.0 for the objects of category ``name``."""
        return [1.0 if o.name == name else 0.0 for o in self.scene.objects]

    def relation(self, predicate: str) -> dict[tuple[int, int], float]:
        """``(i, j) → P(i predicate j)`` for the pairs the scene states."""
        if self._relations is None:
            where = {o.id: i for i, o in enumerate(self.scene.objects)}
            rels: dict[str, dict[tuple[int, int], float]] = {}
            for r in self.scene.relations:
                pair = (where[r.subject], where[r.object])
                table = rels.setdefault(r.predicate, {})
                table[pair] = max(table.get(pair, 0.0), _probability(r.confidence, f"relation {r.predicate}"))
            self._relations = rels
        return self._relations.get(predicate, {})


@dataclass
class SceneBatch:
    """Padded tensors of ``S`` scenes (see the module docstring); ``open[s]`` holds scene
    ``s``'s :class:`OpenTables`."""

    ids: list[list[ObjectId]]
    scene_ids: list[Any]
    exist: torch.Tensor
    attrs: dict[str, torch.Tensor]
    rels: dict[str, torch.Tensor]
    rel_given: dict[str, torch.Tensor]
    coords: torch.Tensor
    has_coords: torch.Tensor
    words: torch.Tensor
    mask: torch.Tensor
    open: list[OpenTables]
    predicates: list[str]
    pair_predicates: torch.Tensor
    predicate_vectors: torch.Tensor

    @property
    def size(self) -> int:
        return len(self.ids)

    @property
    def width(self) -> int:
        return int(self.exist.shape[1])

    def to(self, device: Any) -> SceneBatch:
        return SceneBatch(
            self.ids, self.scene_ids, self.exist.to(device),
            {k: v.to(device) for k, v in self.attrs.items()},
            {k: v.to(device) for k, v in self.rels.items()},
            {k: v.to(device) for k, v in self.rel_given.items()},
            self.coords.to(device), self.has_coords.to(device), self.words.to(device),
            self.mask.to(device), self.open, self.predicates, self.pair_predicates.to(device),
            self.predicate_vectors.to(device),
        )

    @classmethod
    def from_scenes(
        cls,
        scenes: Sequence[SceneGraph],
        schema: SceneSchema,
        word_vectors: Callable[[Sequence[str]], Any] | None = None,
        word_dim: int = 0,
    ) -> SceneBatch:
        """Tensors of ``scenes``. ``word_vectors(words) -> [len(words), word_dim]`` array
        gives the word features (none without it). Raises
        :class:`~nsreason.errors.SceneFormatError` for a confidence outside [0, 1]."""
        import numpy as np
        import torch

        if not scenes:
            raise SceneFormatError("a batch needs at least one scene", path="scenes")
        S = len(scenes)
        N = max(1, max(len(s.objects) for s in scenes))
        exist = np.zeros((S, N), np.float32)
        mask = np.zeros((S, N), bool)
        attrs = {k: np.zeros((S, N, len(d)), np.float32) for k, d in schema.domains}
        rels = {p: np.zeros((S, N, N), np.float32) for p in schema.predicates}
        given = {p: np.zeros(S, bool) for p in schema.predicates}
        coords = np.zeros((S, N, 3), np.float32)
        has_coords = np.zeros(S, bool)
        words = np.zeros((S, N, max(word_dim, 1)), np.float32)
        needed: dict[str, int] = {}
        weights: list[tuple[int, int, list[tuple[str, float]]]] = []
        predicate_index: dict[str, int] = {}
        pair_entries: list[tuple[int, int, int, int, float]] = []
        for s, scene in enumerate(scenes):
            where = {o.id: i for i, o in enumerate(scene.objects)}
            all_coords = all(o.coords is not None and len(o.coords) >= 2 for o in scene.objects)
            boxes = None if all_coords else _box_coords(scene)
            has_coords[s] = (all_coords or boxes is not None) and bool(scene.objects)
            if boxes is not None:
                coords[s, : len(boxes)] = boxes
            for i, obj in enumerate(scene.objects):
                path = f"scene {scene.id!r}: object {obj.id!r}"
                mask[s, i] = True
                exist[s, i] = _probability(obj.confidence, f"{path}.confidence")
                for a in obj.attributes:
                    _probability(a.confidence, f"{path}.attributes.{a.key or 'label'}.confidence")
                for key, domain in schema.domains:
                    attrs[key][s, i] = value_distribution((a for a in obj.attributes if a.key == key), domain)
                if all_coords:
                    c = tuple(obj.coords)[:3]  # type: ignore[arg-type]
                    coords[s, i, : len(c)] = c
                if word_vectors is not None:
                    terms = ([(obj.name, 1.0)] if obj.name else []) + [
                        (a.value, 1.0 if a.confidence is None else float(a.confidence)) for a in obj.attributes]
                    for w, _ in terms:
                        needed.setdefault(w, len(needed))
                    weights.append((s, i, terms))
            for r in scene.relations:
                p = _probability(r.confidence, f"scene {scene.id!r}: relation {r.subject!r} {r.predicate} "
                                 f"{r.object!r}.confidence")
                i, j = where[r.subject], where[r.object]
                pair_entries.append((s, i, j, predicate_index.setdefault(r.predicate, len(predicate_index)), p))
                if r.predicate not in rels:
                    continue
                rels[r.predicate][s, i, j] = max(rels[r.predicate][s, i, j], p)
                given[r.predicate][s] = True
        if word_vectors is not None and needed:
            table = np.asarray(word_vectors(list(needed)), np.float32)
            for s, i, terms in weights:
                total = sum(w for _, w in terms)
                if total > 0:
                    words[s, i] = sum(w * table[needed[t]] for t, w in terms) / total
        predicates = list(predicate_index)
        pair_predicates = np.zeros((S, N, N, len(predicates)), np.float32)
        for s, i, j, q, p in pair_entries:
            pair_predicates[s, i, j, q] = max(pair_predicates[s, i, j, q], p)
        if word_vectors is not None and predicates:
            predicate_vectors = np.asarray(word_vectors(predicates), np.float32).reshape(len(predicates), -1)
        else:
            predicate_vectors = np.zeros((len(predicates), max(word_dim, 1)), np.float32)
        return cls(
            [[o.id for o in sc.objects] for sc in scenes], [sc.id for sc in scenes],
            torch.from_numpy(exist), {k: torch.from_numpy(v) for k, v in attrs.items()},
            {k: torch.from_numpy(v) for k, v in rels.items()},
            {k: torch.from_numpy(v) for k, v in given.items()},
            torch.from_numpy(coords), torch.from_numpy(has_coords), torch.from_numpy(words),
            torch.from_numpy(mask), [OpenTables(sc) for sc in scenes], predicates,
            torch.from_numpy(pair_predicates), torch.from_numpy(predicate_vectors),
        )


def _box_coords(scene: SceneGraph) -> list[tuple[float, float, float]] | None:
    """Positions from bounding boxes when every object has one (GQA, a detector): the box
    centre in units of the scene's extent, and the box's size (square root of its area) in
    the same units; None otherwise."""
    objects = scene.objects
    if not objects or any(o.box is None for o in objects):
        return None
    extent = max(max(o.box.x + o.box.w, o.box.y + o.box.h) for o in objects)  # type: ignore[union-attr]
    extent = extent if extent > 0 else 1.0
    return [((o.box.x + o.box.w / 2) / extent, (o.box.y + o.box.h / 2) / extent,  # type: ignore[union-attr]
             (max(o.box.w, 0.0) * max(o.box.h, 0.0)) ** 0.5 / extent) for o in objects]  # type: ignore[union-attr]


def _probability(value: float | None, path: str) -> float:
    """A confidence as a probability (None: 1.0); a typed error naming ``path`` otherwise."""
    if value is None:
        return 1.0
    try:
        p = float(value)
    except (TypeError, ValueError):
        raise SceneFormatError(f"expected a confidence in [0, 1], got {value!r}", path=path) from None
    if not 0.0 <= p <= 1.0:  # also false for NaN
        raise SceneFormatError(f"expected a confidence in [0, 1], got {value!r}", path=path)
    return p
