"""Scene graphs as networkx and PyTorch Geometric graphs.

torch and torch_geometric are imported inside the PyG functions only, so that
``import nsreason.scene`` (and the whole symbolic path) never imports torch.

>>> from nsreason.scene.graph import Attribute, Relation, SceneGraph, SceneObject
>>> scene = SceneGraph([SceneObject("m", "man", (Attribute("tall"),)),
...                     SceneObject("h", "hat", (Attribute("red", key="color"),))],
...                    [Relation("m", "wearing", "h", confidence=0.9)])
>>> g = to_networkx(scene)
>>> g.nodes["h"]["name"], g.nodes["h"]["attributes"], g.nodes["m"]["labels"]
('hat', {'color': 'red'}, ['tall'])
>>> list(g.edges(keys=True, data="confidence"))
[('m', 'h', 'wearing', 0.9)]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import SceneFormatError
from .graph import ObjectId, SceneGraph, SceneObject

if TYPE_CHECKING:  # pragma: no cover
    import networkx
    from torch_geometric.data import Data, HeteroData

__all__ = ["to_networkx", "to_pyg", "to_hetero_pyg"]


def _keyed_attributes(obj: SceneObject) -> dict[str, Any]:
    """``{key: value}``, or ``{key: [values]}`` for keys with several values."""
    out: dict[str, Any] = {}
    for a in obj.attributes:
        if a.key is None:
            continue
        if a.key in out:
            prev = out[a.key]
            out[a.key] = [*prev, a.value] if isinstance(prev, list) else [prev, a.value]
        else:
            out[a.key] = a.value
    return out


def to_networkx(scene: SceneGraph) -> networkx.MultiDiGraph:
    """A ``networkx.MultiDiGraph`` with one node per object and one edge per relation.

    Nodes are object ids, in scene order, with data ``name``, ``attributes`` (``{key:
    value}``, a list of values for a key with several), ``labels`` (free labels, a list),
    ``box`` (``(x, y, w, h)`` or None), ``coords``, ``features``, ``confidence`` (None when
    absent) and ``position`` (the index in ``scene.objects``). Each relation is an edge
    subject → object keyed by its predicate, with data ``predicate`` and ``confidence``;
    the same (subject, predicate, object) given twice gets keys ``predicate``,
    ``predicate#2``, ... so no relation is lost. Graph data: ``id`` and ``meta``.
    """
    import networkx as nx

    g: nx.MultiDiGraph[ObjectId] = nx.MultiDiGraph(id=scene.id, meta=dict(scene.meta))
    for i, obj in enumerate(scene.objects):
        box = obj.box
        g.add_node(
            obj.id,
            name=obj.name,
            attributes=_keyed_attributes(obj),
            labels=list(obj.labels),
            box=None if box is None else (box.x, box.y, box.w, box.h),
            coords=obj.coords,
            features=obj.features,
            confidence=obj.confidence,
            position=i,
        )
    for r in scene.relations:
        key, n = r.predicate, 1
        while g.has_edge(r.subject, r.object, key):
            n += 1
            key = f"{r.predicate}#{n}"
        g.add_edge(r.subject, r.object, key=key, predicate=r.predicate, confidence=r.confidence)
    return g


def _stack(scene: SceneGraph, field: str, dim: int | None, fill: bool) -> Any:
    """``[N, D]`` float tensor of ``field`` (features, coords) or None when no object has it.

    Every object must have it with the same length (``dim`` when given); with ``fill``,
    objects lacking it get zeros of length ``dim``.
    """
    import torch

    rows = [getattr(o, field) for o in scene.objects]
    present = [r for r in rows if r is not None]
    if not present and not (fill and dim is not None):
        return None
    if dim is None:
        dim = len(present[0])
    for i, r in enumerate(rows):
        if r is None and not fill:
            raise SceneFormatError(
                f"has no {field} while other objects do; give every object {field} "
                f"(or pass feature_dim= to use zeros for missing ones)",
                path=f"objects[{i}].{field}",
            )
        if r is not None and len(r) != dim:
            raise SceneFormatError(
                f"expected {dim} values, got {len(r)}", path=f"objects[{i}].{field}"
            )
    if not rows:
        return torch.zeros((0, dim), dtype=torch.float)
    zeros = (0.0,) * dim
    return torch.tensor([zeros if r is None else r for r in rows], dtype=torch.float)


def _predicate_ids(scene: SceneGraph, predicates: Sequence[str] | None) -> list[str]:
    if predicates is None:
        return sorted(scene.predicates())
    predicates = list(predicates)
    known = set(predicates)
    for j, r in enumerate(scene.relations):
        if r.predicate not in known:
            raise SceneFormatError(
                f"predicate {r.predicate!r} is not in the given predicates {predicates[:8]}"
                f"{'...' if len(predicates) > 8 else ''}",
                path=f"relations[{j}].predicate",
            )
    return predicates


def _optional_geometry(scene: SceneGraph) -> dict[str, Any]:
    import torch

    out: dict[str, Any] = {}
    objs = scene.objects
    coords = [o.coords for o in objs if o.coords is not None]
    if objs and len(coords) == len(objs) and len({len(p) for p in coords}) == 1:
        out["pos"] = torch.tensor(coords, dtype=torch.float)
    boxes = [o.box for o in objs if o.box is not None]
    if objs and len(boxes) == len(objs):
        out["box"] = torch.tensor([(b.x, b.y, b.w, b.h) for b in boxes], dtype=torch.float)
    return out


def to_pyg(
    scene: SceneGraph,
    *,
    feature_dim: int | None = None,
    predicates: Sequence[str] | None = None,
) -> Data:
    """A ``torch_geometric.data.Data`` for a GNN.

    * ``x``: ``[N, D]`` float, the objects' ``features`` stacked. Every object must have
      features of one length; when none has any, ``x`` is None. With ``feature_dim=D``,
      objects without features get zeros (a featureless scene gives ``zeros([N, D])``)
      and every feature vector must have length ``D``.
    * ``edge_index``: ``[2, R]`` long, subject position → object position, one column
      per relation in scene order; ``edge_type``: ``[R]`` long, the index of each
      relation's predicate in ``predicates``.
    * ``predicates``: the predicate names (sorted, or the ``predicates`` given, so that
      ids agree across scenes); ``object_ids`` and ``names``: per node, in scene order.
    * ``pos`` (``[N, 3]`` coords) and ``box`` (``[N, 4]`` x, y, w, h) when every object
      has them; ``num_nodes`` is always set.

    Raises :class:`~nsreason.errors.SceneFormatError` when features are missing on some
    objects only or differ in length, or a predicate is not in ``predicates``.
    """
    from torch_geometric.data import Data

    names = _predicate_ids(scene, predicates)
    edge_index, edge_type = _edges(scene, names)
    data = Data(
        x=_stack(scene, "features", feature_dim, fill=feature_dim is not None),
        edge_index=edge_index,
        edge_type=edge_type,
        num_nodes=len(scene.objects),
        **_optional_geometry(scene),
    )
    data.predicates = names
    data.object_ids = list(scene.ids)
    data.names = [o.name for o in scene.objects]
    return data


def _edges(scene: SceneGraph, predicates: list[str]) -> tuple[Any, Any]:
    import torch

    pos = scene._positions
    ids = {p: i for i, p in enumerate(predicates)}
    rels = scene.relations
    edge_index = torch.tensor(
        [[pos[r.subject] for r in rels], [pos[r.object] for r in rels]], dtype=torch.long
    ).reshape(2, len(rels))
    edge_type = torch.tensor([ids[r.predicate] for r in rels], dtype=torch.long)
    return edge_index, edge_type


def to_hetero_pyg(
    scene: SceneGraph, *, feature_dim: int | None = None
) -> HeteroData:
    """A ``torch_geometric.data.HeteroData``: node type ``"object"`` and one edge type
    ``("object", predicate, "object")`` per predicate of the scene (sorted), each with
    its ``edge_index`` ``[2, R_p]`` in scene order.

    Node store ``"object"`` holds ``num_nodes``, ``x`` (as in :func:`to_pyg`, omitted when
    None), ``pos``/``box`` when every object has them, ``object_ids`` and ``names``.
    """
    import torch
    from torch_geometric.data import HeteroData

    data = HeteroData()
    store = data["object"]
    store.num_nodes = len(scene.objects)
    x = _stack(scene, "features", feature_dim, fill=feature_dim is not None)
    if x is not None:
        store.x = x
    for key, value in _optional_geometry(scene).items():
        store[key] = value
    store.object_ids = list(scene.ids)
    store.names = [o.name for o in scene.objects]
    pos = scene._positions
    by_predicate: dict[str, tuple[list[int], list[int]]] = {}
    for r in scene.relations:
        src, dst = by_predicate.setdefault(r.predicate, ([], []))
        src.append(pos[r.subject])
        dst.append(pos[r.object])
    for predicate in sorted(by_predicate):
        src, dst = by_predicate[predicate]
        data["object", predicate, "object"].edge_index = torch.tensor([src, dst], dtype=torch.long)
    return data
