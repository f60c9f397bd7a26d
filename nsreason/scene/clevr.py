"""CLEVR scenes (official ``CLEVR_<split>_scenes.json`` format) → :class:`SceneGraph`.

Each CLEVR object becomes a :class:`SceneObject` with id = its index, name = its shape,
and keyed attributes ``size``, ``color``, ``material``, ``shape``; ``3d_coords`` become
``coords``; ``pixel_coords``, ``rotation`` and other fields stay in ``extra``. CLEVR's
``relationships[rel][i]`` lists the objects that stand in ``rel`` to object ``i``; each
``j`` in it becomes ``Relation(j, rel, i)`` ("j is left of i").

A CLEVR-Ref+ scene also has ``obj_mask`` and ``obj_bbox`` (keyed ``"1"``, ``"2"``, ... for
objects 0, 1, ...): each object then gets its ``box`` and ``extra["occlusion"]``, the
largest fraction of its box that an object in front of it covers (what ``filter_visible``
reads; :mod:`nsreason.scene.occlusion`). Both fields also stay in ``meta``, as every other
scene field does; a scene without them loads as before.

>>> scene = clevr_scene_from_dict({"objects": [
...     {"shape": "cube", "size": "large", "color": "red", "material": "metal"},
...     {"shape": "sphere", "size": "small", "color": "blue", "material": "rubber"}],
...     "relationships": {"left": [[1], []]}})
>>> scene
SceneGraph(objects=2, relations=1)
>>> scene.relations[0]
Relation(subject=1, predicate='left', object=0, confidence=None)
>>> clevr_scene_from_dict({"objects": [{"shape": "cube", "size": "large",
...     "color": "reddish", "material": "metal"}]}, path="scenes[3]")
Traceback (most recent call last):
...
nsreason.errors.SceneFormatError: scenes[3].objects[0].color: expected one of ['gray', 'red', 'blue', 'green', 'brown', 'purple', 'cyan', 'yellow'], got 'reddish'
"""  # noqa: E501  doctest: the error message above is one line

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import DanglingRelationError, SceneFormatError
from ..jsonio import read_json
from . import _checks
from .graph import Attribute, BoundingBox, Relation, SceneGraph, SceneObject
from .occlusion import occlusions

__all__ = ["CLEVR_ATTRIBUTES", "clevr_domains", "clevr_scene_from_dict", "load_clevr_scenes"]

# attribute key in CLEVR scene files → value type in the CLEVR vocabulary
CLEVR_ATTRIBUTES: dict[str, str] = {
    "size": "Size",
    "color": "Color",
    "material": "Material",
    "shape": "Shape",
}
_KNOWN_FIELDS = {"3d_coords", *CLEVR_ATTRIBUTES}


def clevr_domains(vocabulary: str = "clevr") -> dict[str, tuple[str, ...]]:
    """Allowed values of each CLEVR attribute, read from the vocabulary file."""
    from ..program.vocab import get_vocabulary

    types = get_vocabulary(vocabulary).types
    return {key: types[t].domain or () for key, t in CLEVR_ATTRIBUTES.items()}


def clevr_scene_from_dict(
    data: Any,
    *,
    path: str = "scene",
    domains: Mapping[str, Sequence[str]] | bool | None = True,
) -> SceneGraph:
    """One CLEVR scene dict → :class:`SceneGraph`.

    ``domains``: ``True`` (default) checks attribute values against the CLEVR vocabulary,
    a mapping gives other domains (CLEVR variants), ``None``/``False`` accepts any string.
    """
    if domains is True:
        domains = clevr_domains()
    if not isinstance(data, Mapping):
        raise SceneFormatError(f"expected a scene object, got {type(data).__name__}", path=path)
    raw_objects = data.get("objects")
    if not isinstance(raw_objects, list):
        raise SceneFormatError(
            f"expected a list of objects, got {type(raw_objects).__name__}", path=f"{path}.objects"
        )
    objects = [
        _object(i, o, f"{path}.objects[{i}]", domains or None) for i, o in enumerate(raw_objects)
    ]
    if "obj_mask" in data or "obj_bbox" in data:
        objects = _with_masks(objects, raw_objects, data, path)
    relations = _relations(data.get("relationships"), len(objects), f"{path}.relationships")
    meta = {k: v for k, v in data.items() if k not in ("objects", "relationships")}
    scene_id = data.get("image_index", data.get("image_filename"))
    if scene_id is not None and (
        not isinstance(scene_id, (int, str)) or isinstance(scene_id, bool)
    ):
        field = "image_index" if "image_index" in data else "image_filename"
        raise SceneFormatError(
            f"expected an integer or a string, got {_checks.got(scene_id)}", path=f"{path}.{field}"
        )
    return SceneGraph(objects, relations, id=scene_id, meta=meta)


def _object(
    i: int, raw: Any, path: str, domains: Mapping[str, Sequence[str]] | None
) -> SceneObject:
    if not isinstance(raw, Mapping):
        raise SceneFormatError(f"expected an object, got {type(raw).__name__}", path=path)
    attributes = []
    for key in CLEVR_ATTRIBUTES:
        if key not in raw:
            raise SceneFormatError(f"missing field {key!r}", path=path)
        value = raw[key]
        if not isinstance(value, str):
            raise SceneFormatError(f"expected a string, got {value!r}", path=f"{path}.{key}")
        if domains is not None and value not in domains[key]:
            raise SceneFormatError(
                f"expected one of {list(domains[key])}, got {value!r}", path=f"{path}.{key}"
            )
        attributes.append(Attribute(value, key=key))
    coords = raw.get("3d_coords")
    if coords is not None:
        coords = _checks.numbers(coords, f"{path}.3d_coords", 3, "3 numbers [x, y, z]")
    extra = {k: v for k, v in raw.items() if k not in _KNOWN_FIELDS}
    return SceneObject(
        id=i, name=raw["shape"], attributes=tuple(attributes), coords=coords, extra=extra
    )


def _with_masks(
    objects: list[SceneObject], raw_objects: list[Any], data: Mapping[str, Any], path: str
) -> list[SceneObject]:
    """Objects with their CLEVR-Ref+ ``box`` and ``extra["occlusion"]``."""
    n = len(objects)
    keys = [str(i + 1) for i in range(n)]
    tables = {}
    for field in ("obj_mask", "obj_bbox"):
        table = data.get(field)
        if not isinstance(table, Mapping):
            raise SceneFormatError(
                f"expected an object keyed '1'..'{n}' (one entry per object), got {_checks.got(table)}",
                path=f"{path}.{field}",
            )
        missing = [k for k in keys if k not in table]
        if missing:
            raise SceneFormatError(
                f"missing the entries of objects {missing[:8]} (keys are object index + 1)",
                path=f"{path}.{field}",
            )
        tables[field] = table
    boxes = []
    for k in keys:
        box = tables["obj_bbox"][k]
        if not (isinstance(box, list) and len(box) == 4
                and all(type(v) is int for v in box)):
            raise SceneFormatError(
                f"expected 4 integers [x, y, w, h], got {_checks.got(box)}", path=f"{path}.obj_bbox.{k}"
            )
        boxes.append(box)
    depths = []
    for i, raw in enumerate(raw_objects):
        where = f"{path}.objects[{i}].pixel_coords"
        depths.append(_checks.numbers(raw.get("pixel_coords"), where, 3, "3 numbers [x, y, depth]")[2])
    covered = occlusions([tables["obj_mask"][k] for k in keys], boxes, depths, path)
    return [
        SceneObject(id=o.id, name=o.name, attributes=o.attributes, coords=o.coords,
                    box=BoundingBox(*boxes[i]), extra={**o.extra, "occlusion": covered[i]})
        for i, o in enumerate(objects)
    ]


def _relations(raw: Any, n: int, path: str) -> list[Relation]:
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        raise SceneFormatError(
            f"expected an object of relation lists, got {type(raw).__name__}", path=path
        )
    relations = []
    for rel, lists in raw.items():
        rpath = f"{path}.{rel}"
        if not isinstance(lists, list) or len(lists) != n:
            got = len(lists) if isinstance(lists, list) else type(lists).__name__
            raise SceneFormatError(f"expected one list per object ({n}), got {got}", path=rpath)
        for i, related in enumerate(lists):
            if not isinstance(related, list):
                raise SceneFormatError(
                    f"expected a list of object indices, got {related!r}", path=f"{rpath}[{i}]"
                )
            for k, j in enumerate(related):
                if not isinstance(j, int) or isinstance(j, bool):
                    raise SceneFormatError(
                        f"expected an object index, got {j!r}", path=f"{rpath}[{i}][{k}]"
                    )
                if not 0 <= j < n:
                    raise DanglingRelationError(
                        f"object index {j} is out of range (the scene has {n} objects)",
                        path=f"{rpath}[{i}][{k}]",
                    )
                relations.append(Relation(j, rel, i))
    return relations


def load_clevr_scenes(
    source: str | Path | Mapping[str, Any] | list[Any],
    *,
    domains: Mapping[str, Sequence[str]] | bool | None = True,
) -> list[SceneGraph]:
    """Load CLEVR scenes from a file path or parsed JSON: a whole scenes file
    (``{"scenes": [...]}``), a list of scenes, or one scene (``{"objects": ...}``)."""
    origin = None
    if isinstance(source, (str, Path)):
        origin = str(source)
        source = read_json(source, SceneFormatError)
    if domains is True:
        domains = clevr_domains()
    try:
        if isinstance(source, Mapping) and "scenes" in source:
            scenes = source["scenes"]
            if not isinstance(scenes, list):
                raise SceneFormatError(
                    f"expected a list, got {type(scenes).__name__}", path="scenes"
                )
            return [
                clevr_scene_from_dict(s, path=f"scenes[{i}]", domains=domains)
                for i, s in enumerate(scenes)
            ]
        if isinstance(source, list):
            return [
                clevr_scene_from_dict(s, path=f"[{i}]", domains=domains)
                for i, s in enumerate(source)
            ]
        if isinstance(source, Mapping) and "objects" in source:
            return [clevr_scene_from_dict(source, domains=domains)]
        raise SceneFormatError(
            "expected a CLEVR scenes file ({'scenes': [...]}), a list of scenes, "
            f"or one scene ({{'objects': [...]}}), got {_shape(source)}"
        )
    except SceneFormatError as err:
        if origin:
            err.with_source(origin)
        raise


def _shape(value: Any) -> str:
    if isinstance(value, Mapping):
        return f"an object with keys {sorted(map(str, value))[:8]}"
    return type(value).__name__
