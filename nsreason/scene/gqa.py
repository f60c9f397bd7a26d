"""GQA and Visual Genome scene graphs → :class:`SceneGraph`.

**GQA** (``{image_id: {"width", "height", "objects": {object_id: {"name", "x", "y", "w",
"h", "attributes": [...], "relations": [{"name", "object"}]}}}}``): object ids stay
strings, ``name`` becomes :attr:`SceneObject.name`, each attribute a free label
(``Attribute(value)``, key ``None``), ``x, y, w, h`` a :class:`BoundingBox`, and relation
``{"name": p, "object": o}`` of object ``s`` becomes ``Relation(s, p, o)``. The scene id
is the image id; ``width``, ``height`` and any other graph field (``location``,
``weather``) go into ``meta``; unknown object fields go into ``extra``.

**Visual Genome** (``scene_graphs.json``: a list of ``{"image_id", "objects": [{"object_id",
"names": [...] or "name", "x", "y", "w", "h", "attributes"?}], "relationships":
[{"predicate", "subject_id", "object_id"}]}``): ids keep the type they have in the file
(integers); the first of ``names`` is the name (all of them stay in ``extra["names"]``
when there are several); relationships may name their ends by ``subject_id``/``object_id``
or by embedded objects ``{"subject": {"object_id": ...}}``, which must be in the image's
``objects`` list (they are not added). Other relationship fields (``relationship_id``,
``synsets``) are dropped.

>>> scene, = load_gqa_scenes({"1": {"width": 10, "height": 10, "objects": {
...     "5": {"name": "man", "x": 0, "y": 0, "w": 4, "h": 9, "attributes": ["tall"],
...           "relations": [{"name": "wearing", "object": "6"}]},
...     "6": {"name": "hat", "x": 1, "y": 0, "w": 2, "h": 2, "attributes": [],
...           "relations": []}}}})
>>> scene.id, scene.relations[0], scene.object("5").labels
('1', Relation(subject='5', predicate='wearing', object='6', confidence=None), ('tall',))
>>> load_gqa_scenes({"1": {"objects": {"5": {"name": "man", "relations": [
...     {"name": "wearing", "object": "7"}]}}}})
Traceback (most recent call last):
...
nsreason.errors.DanglingRelationError: 1.objects.5.relations[0].object: '7' is not an object of this scene (ids: '5')
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import DanglingRelationError, SceneFormatError
from ..jsonio import read_json
from . import _checks as c
from .graph import (
    Attribute,
    BoundingBox,
    ObjectId,
    Relation,
    SceneGraph,
    SceneObject,
    _describe_ids,
)

__all__ = ["load_gqa_scenes", "gqa_scene_from_dict", "vg_scene_from_dict"]

_BOX = ("x", "y", "w", "h")
_GQA_OBJECT_FIELDS = {"name", "attributes", "relations", *_BOX}
_VG_OBJECT_FIELDS = {"object_id", "id", "name", "names", "attributes", *_BOX}


def load_gqa_scenes(source: str | Path | Mapping[str, Any] | list[Any]) -> list[SceneGraph]:
    """Load GQA or Visual Genome scene graphs from a file path or parsed JSON.

    Accepts a whole GQA file (``{image_id: graph}``), one GQA graph (``{"objects":
    {...}}``, scene id ``None`` unless it has ``image_id``), a Visual Genome
    ``scene_graphs.json`` (a list of images) or one VG image (``{"image_id", "objects": [...]}``).
    """
    origin = None
    if isinstance(source, (str, Path)):
        origin = str(source)
        source = read_json(source, SceneFormatError)
    try:
        if isinstance(source, list):
            return [vg_scene_from_dict(g, path=f"[{i}]") for i, g in enumerate(source)]
        data = c.mapping(
            source,
            "",
            "GQA scene graphs ({image_id: {'objects': {...}}}), one graph "
            "({'objects': {...}}) or Visual Genome images ([{'image_id', 'objects': [...]}])",
        )
        if "objects" in data:
            if isinstance(data["objects"], list):
                return [vg_scene_from_dict(data)]
            return [gqa_scene_from_dict(data)]
        return [
            gqa_scene_from_dict(graph, scene_id=image_id, path=c.join("", str(image_id)))
            for image_id, graph in data.items()
        ]
    except SceneFormatError as err:
        if origin:
            err.with_source(origin)
        raise


def _meta(data: Mapping[str, Any], skip: tuple[str, ...], path: str) -> dict[str, Any]:
    meta = {}
    for key, value in data.items():
        if key in skip:
            continue
        if key in ("width", "height") and value is not None:
            c.number(value, c.join(path, key))
        meta[key] = value
    return meta


def _box(raw: Mapping[str, Any], path: str) -> BoundingBox | None:
    present = [k for k in _BOX if raw.get(k) is not None]
    if not present:
        return None
    if len(present) < 4:
        missing = [k for k in _BOX if k not in present]
        c.fail(f"a bounding box needs x, y, w and h; missing {', '.join(missing)}", path)
    return BoundingBox(*(c.number(raw[k], c.join(path, k)) for k in _BOX))


def _labels(raw: Any, path: str) -> tuple[Attribute, ...]:
    if raw is None:
        return ()
    c.array(raw, path, "a list of attribute strings")
    return tuple(Attribute(c.string(a, f"{path}[{i}]")) for i, a in enumerate(raw))


def gqa_scene_from_dict(data: Any, *, scene_id: Any = None, path: str = "") -> SceneGraph:
    """One GQA graph (``{"width", "height", "objects": {id: {...}}}``) → :class:`SceneGraph`."""
    data = c.mapping(data, path, "a scene graph ({'objects': {...}})")
    skip: tuple[str, ...] = ("objects",)
    if scene_id is None and "image_id" in data:
        scene_id, skip = data["image_id"], ("objects", "image_id")
    if "objects" not in data:
        c.fail("missing field 'objects'", path)
    opath = c.join(path, "objects")
    raw_objects = c.mapping(data["objects"], opath, "an object {object_id: {...}}")
    objects: list[SceneObject] = []
    pending: list[tuple[ObjectId, Any, str]] = []  # subject id, raw relation, path
    for key, raw in raw_objects.items():
        path_o = c.join(opath, str(key))
        oid = c.object_id(key, path_o)
        raw = c.mapping(raw, path_o)
        if "name" not in raw:
            c.fail("missing field 'name'", path_o)
        name = c.string(raw["name"], c.join(path_o, "name"))
        attributes = _labels(raw.get("attributes"), c.join(path_o, "attributes"))
        box = _box(raw, path_o)
        rels = raw.get("relations")
        if rels is not None:
            rpath = c.join(path_o, "relations")
            c.array(rels, rpath, "a list of relations [{'name', 'object'}]")
            pending += [(oid, r, f"{rpath}[{k}]") for k, r in enumerate(rels)]
        extra = {k: v for k, v in raw.items() if k not in _GQA_OBJECT_FIELDS}
        objects.append(SceneObject(oid, name, attributes, box=box, extra=extra))
    ids = {o.id: None for o in objects}
    relations = []
    for subject, raw, rpath in pending:
        raw = c.mapping(raw, rpath, "a relation {'name', 'object'}")
        for field in ("name", "object"):
            if field not in raw:
                c.fail(f"missing field {field!r}", rpath)
        predicate = c.string(raw["name"], f"{rpath}.name")
        target = c.object_id(raw["object"], f"{rpath}.object")
        if target not in ids:
            hint = " (object ids are strings here)" if str(target) in ids else ""
            c.fail(
                f"{target!r} is not an object of this scene{hint} ({_describe_ids(ids)})",
                f"{rpath}.object",
                DanglingRelationError,
            )
        relations.append(Relation(subject, predicate, target))
    meta = _meta(data, skip, path)
    try:
        return SceneGraph(objects, relations, id=_scene_id(scene_id, path), meta=meta)
    except SceneFormatError as err:  # pragma: no cover - ids are mapping keys: unique
        raise c.rebase(err, path) from None


def _scene_id(value: Any, path: str) -> str | int | None:
    if value is None or isinstance(value, str) or (
        isinstance(value, int) and not isinstance(value, bool)
    ):
        return value
    c.fail(
        f"expected an image id (a string or an integer), got {c.got(value)}",
        c.join(path, "image_id"),
    )


def _vg_end(raw: Mapping[str, Any], end: str, path: str) -> Any:
    """The subject/object id of a VG relationship: ``subject_id`` or ``subject.object_id``."""
    if f"{end}_id" in raw:
        return c.object_id(raw[f"{end}_id"], f"{path}.{end}_id")
    if end in raw:
        embedded = c.mapping(raw[end], f"{path}.{end}", "an object {'object_id': ...}")
        key = "object_id" if "object_id" in embedded else "id"
        if key not in embedded:
            c.fail("missing field 'object_id'", f"{path}.{end}")
        return c.object_id(embedded[key], f"{path}.{end}.{key}")
    c.fail(f"missing field '{end}_id' (or '{end}')", path)


def vg_scene_from_dict(data: Any, *, path: str = "") -> SceneGraph:
    """One Visual Genome image (``{"image_id", "objects": [...], "relationships": [...]}``)
    → :class:`SceneGraph`."""
    data = c.mapping(data, path, "a Visual Genome image ({'image_id', 'objects': [...]})")
    if "objects" not in data:
        c.fail("missing field 'objects'", path)
    opath = c.join(path, "objects")
    raw_objects = c.array(data["objects"], opath, "a list of objects")
    objects = []
    for i, raw in enumerate(raw_objects):
        path_o = f"{opath}[{i}]"
        raw = c.mapping(raw, path_o)
        key = "object_id" if "object_id" in raw else "id"
        if key not in raw:
            c.fail("missing field 'object_id'", path_o)
        oid = c.object_id(raw[key], f"{path_o}.{key}")
        extra = {k: v for k, v in raw.items() if k not in _VG_OBJECT_FIELDS}
        if "names" in raw:
            names = c.array(raw["names"], f"{path_o}.names", "a non-empty list of names")
            if not names:
                c.fail("expected a non-empty list of names, got an empty list", f"{path_o}.names")
            names = [c.string(n, f"{path_o}.names[{k}]") for k, n in enumerate(names)]
            name = names[0]
            if len(names) > 1:
                extra["names"] = names
        elif "name" in raw:
            name = c.string(raw["name"], f"{path_o}.name")
        else:
            c.fail("missing field 'names' (or 'name')", path_o)
        attributes = _labels(raw.get("attributes"), f"{path_o}.attributes")
        objects.append(SceneObject(oid, name, attributes, box=_box(raw, path_o), extra=extra))
    relations = []
    raw_rels = data.get("relationships")
    if raw_rels is not None:
        rpath = c.join(path, "relationships")
        c.array(raw_rels, rpath, "a list of relationships")
        for j, raw in enumerate(raw_rels):
            path_r = f"{rpath}[{j}]"
            raw = c.mapping(raw, path_r, "a relationship {'predicate', 'subject_id', 'object_id'}")
            if "predicate" not in raw:
                c.fail("missing field 'predicate'", path_r)
            predicate = c.string(raw["predicate"], f"{path_r}.predicate")
            relations.append(
                (
                    Relation(
                        _vg_end(raw, "subject", path_r), predicate, _vg_end(raw, "object", path_r)
                    ),
                    path_r,
                )
            )
    meta = _meta(data, ("objects", "relationships", "image_id"), path)
    scene_id = _scene_id(data.get("image_id"), path)
    try:
        scene_objects = SceneGraph(objects, id=scene_id, meta=meta)
    except SceneFormatError as err:  # duplicate object ids
        raise c.rebase(err, path) from None
    for rel, path_r in relations:
        for end in ("subject", "object"):
            ref = getattr(rel, end)
            if not scene_objects.has_object(ref):
                c.fail(
                    f"{ref!r} is not an object of this image "
                    f"({_describe_ids(scene_objects._positions)})",
                    f"{path_r}.{end}",
                    DanglingRelationError,
                )
    return SceneGraph(objects, [r for r, _ in relations], id=scene_id, meta=meta)
