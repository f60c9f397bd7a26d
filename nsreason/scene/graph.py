"""The scene model: objects with attributes, relations between them, optional geometry.

One :class:`SceneGraph` serves every source: CLEVR scenes, GQA/Visual Genome graphs,
a user's detector output. Attributes come in two shapes, both :class:`Attribute`:

* keyed, like ``color=red`` (``Attribute("red", key="color")``), and
* free labels, like ``wooden`` (``Attribute("wooden")``, ``key is None``),

each optionally with a confidence. A relation ``Relation(s, "left", o)`` reads
"*s* is left of *o*".

>>> scene = SceneGraph(
...     [SceneObject(0, "cube", (Attribute("red", key="color"), Attribute("wooden"))),
...      SceneObject(1, "sphere", (Attribute("blue", key="color"),))],
...     [Relation(0, "left", 1)],
... )
>>> scene
SceneGraph(objects=2, relations=1)
>>> scene.object(0).get("color"), scene.object(0).labels
('red', ('wooden',))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import DanglingRelationError, DuplicateIdError, SceneFormatError

if TYPE_CHECKING:  # pragma: no cover
    import networkx

    from .index import SceneIndex

__all__ = ["ObjectId", "Attribute", "BoundingBox", "SceneObject", "Relation", "SceneGraph"]

ObjectId = str | int
"""Object ids are strings (GQA: ``"2716708"``) or integers (CLEVR: the object's index)."""


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute of an object: ``key=value`` or, with ``key=None``, a free label."""

    value: str
    key: str | None = None
    confidence: float | None = None

    def __str__(self) -> str:
        return self.value if self.key is None else f"{self.key}={self.value}"


@dataclass(frozen=True, slots=True)
class BoundingBox:
    """An axis-aligned box in image pixels: top-left corner ``(x, y)``, width, height."""

    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True, slots=True)
class SceneObject:
    """One object of a scene.

    ``name`` is its category ("cube", "man", "teddy bear"). ``coords`` are 3D world
    coordinates, ``box`` a 2D bounding box, ``features`` a feature vector (e.g. from a
    detector), ``extra`` anything else the source had (CLEVR's rotation, pixel_coords...).
    """

    id: ObjectId
    name: str | None = None
    attributes: tuple[Attribute, ...] = ()
    confidence: float | None = None
    box: BoundingBox | None = None
    coords: tuple[float, ...] | None = None
    features: tuple[float, ...] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def get(self, key: str) -> str | None:
        """The value of attribute ``key`` (the first one if there are several), or None."""
        for a in self.attributes:
            if a.key == key:
                return a.value
        return None

    def values(self, key: str) -> tuple[str, ...]:
        """Every value of attribute ``key``."""
        return tuple(a.value for a in self.attributes if a.key == key)

    @property
    def labels(self) -> tuple[str, ...]:
        """The free labels (attributes without a key)."""
        return tuple(a.value for a in self.attributes if a.key is None)

    def describe(self) -> str:
        """A short human description: ``'large gray metal sphere #0'``."""
        words = [a.value for a in self.attributes if a.key != "shape" and a.value != self.name]
        return " ".join([*words, self.name or "object", f"#{self.id}"])


@dataclass(frozen=True, slots=True)
class Relation:
    """``subject`` stands in relation ``predicate`` to ``object``: (man, wearing, hat)."""

    subject: ObjectId
    predicate: str
    object: ObjectId
    confidence: float | None = None


class SceneGraph:
    """Objects, relations between them, and where they came from.

    Parameters
    ----------
    objects:
        The objects; ids must be unique.
    relations:
        Relations between objects of this scene (checked: no dangling ids).
    id:
        The scene's id (an image id, a file name...).
    meta:
        Anything else known about the scene (image file name, CLEVR directions...).
    """

    __slots__ = ("objects", "relations", "id", "meta", "_positions", "_index")

    def __init__(
        self,
        objects: Iterable[SceneObject],
        relations: Iterable[Relation] = (),
        *,
        id: str | int | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        self.objects: tuple[SceneObject, ...] = tuple(objects)
        self.relations: tuple[Relation, ...] = tuple(relations)
        self.id = id
        self.meta: dict[str, Any] = dict(meta or {})
        positions: dict[ObjectId, int] = {}
        for i, obj in enumerate(self.objects):
            if not isinstance(obj, SceneObject):
                raise SceneFormatError(
                    f"expected a SceneObject, got {type(obj).__name__}", path=f"objects[{i}]"
                )
            if obj.id in positions:
                raise DuplicateIdError(
                    f"object id {obj.id!r} is used twice (objects[{positions[obj.id]}] and "
                    f"objects[{i}]); ids must be unique within a scene",
                    path=f"objects[{i}].id",
                )
            positions[obj.id] = i
        for j, rel in enumerate(self.relations):
            for end in ("subject", "object"):
                ref = getattr(rel, end)
                if ref not in positions:
                    raise DanglingRelationError(
                        f"{end} {ref!r} is not an object of this scene "
                        f"({_describe_ids(positions)})",
                        path=f"relations[{j}].{end}",
                    )
        self._positions = positions
        self._index: SceneIndex | None = None

    # -- access -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.objects)

    def __repr__(self) -> str:
        return f"SceneGraph(objects={len(self.objects)}, relations={len(self.relations)})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SceneGraph):
            return NotImplemented
        return (
            self.objects == other.objects
            and self.relations == other.relations
            and self.id == other.id
            and self.meta == other.meta
        )

    __hash__ = None  # type: ignore[assignment]  # mutable meta: not hashable

    def position(self, object_id: ObjectId) -> int:
        """The position (0-based) of the object with id ``object_id``."""
        try:
            return self._positions[object_id]
        except KeyError:
            raise KeyError(
                f"no object with id {object_id!r} ({_describe_ids(self._positions)})"
            ) from None

    def object(self, object_id: ObjectId) -> SceneObject:
        """The object with id ``object_id``."""
        return self.objects[self.position(object_id)]

    def has_object(self, object_id: ObjectId) -> bool:
        return object_id in self._positions

    @property
    def ids(self) -> tuple[ObjectId, ...]:
        return tuple(o.id for o in self.objects)

    def predicates(self) -> set[str]:
        """Every relation predicate used in this scene."""
        return {r.predicate for r in self.relations}

    @property
    def index(self) -> SceneIndex:
        """The bitset index the symbolic executor runs on (built once, on first use)."""
        if self._index is None:
            from .index import SceneIndex

            self._index = SceneIndex(self)
        return self._index

    # -- conversions (implemented in .export / .native) ------------------------------------
    def to_networkx(self) -> networkx.MultiDiGraph:
        """A ``networkx.MultiDiGraph``: one node per object, one edge per relation."""
        from .export import to_networkx

        return to_networkx(self)

    def to_pyg(self, **kwargs: Any) -> Any:
        """A ``torch_geometric.data.Data`` (see :func:`nsreason.scene.export.to_pyg`)."""
        from .export import to_pyg

        return to_pyg(self, **kwargs)

    def to_hetero_pyg(self, **kwargs: Any) -> Any:
        """A ``torch_geometric.data.HeteroData``, one edge type per predicate."""
        from .export import to_hetero_pyg

        return to_hetero_pyg(self, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        """The native JSON form (see :mod:`nsreason.scene.native`)."""
        from .native import scene_to_dict

        return scene_to_dict(self)


def _describe_ids(object_ids: Iterable[ObjectId], limit: int = 8) -> str:
    ids = list(object_ids)
    shown = ", ".join(repr(i) for i in ids[:limit])
    more = f", ... ({len(ids)} in all)" if len(ids) > limit else ""
    return f"ids: {shown}{more}" if ids else "the scene has no objects"

