"""nsreason's own scene JSON (``"format": "nsreason.scene/1"``), documented in
``docs/scene-format.md``.

It holds everything a :class:`SceneGraph` can hold, and reading back what was written
gives an equal scene: ``scene_from_dict(scene_to_dict(s)) == s`` (ids keep their type,
attributes keep their order). Reading is strict: an unknown field, a wrong type or a
confidence outside [0, 1] is a :class:`~nsreason.errors.SceneFormatError` naming the path.

>>> data = {"format": "nsreason.scene/1", "id": "kitchen",
...         "objects": [{"id": "a", "name": "cup", "attributes": {"color": "red"},
...                      "labels": ["wooden"]},
...                     {"id": "b", "name": "table", "box": [0, 40, 200, 80]}],
...         "relations": [{"subject": "a", "predicate": "on", "object": "b"}]}
>>> scene = scene_from_dict(data)
>>> scene, scene.object("a").get("color"), scene.object("a").labels
(SceneGraph(objects=2, relations=1), 'red', ('wooden',))
>>> scene_from_dict(scene_to_dict(scene)) == scene
True
>>> data["objects"][0]["attributes"]["color"] = {"value": "red", "confidence": "high"}
>>> scene_from_dict(data)
Traceback (most recent call last):
...
nsreason.errors.SceneFormatError: objects[0].attributes.color.confidence: expected a number in [0, 1], got 'high'
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import SceneFormatError
from ..jsonio import read_json
from . import _checks as c
from .graph import Attribute, BoundingBox, Relation, SceneGraph, SceneObject

__all__ = [
    "FORMAT",
    "scene_to_dict",
    "scene_from_dict",
    "load_native_scenes",
    "save_native_scenes",
]

FORMAT = "nsreason.scene/1"
"""The format tag (name and version) this module reads and writes."""

_FILE_FIELDS = ("format", "scenes")
_SCENE_FIELDS = ("format", "id", "objects", "relations", "meta")
_OBJECT_FIELDS = (
    "id", "name", "attributes", "labels", "box", "coords", "features", "confidence", "extra",
)  # fmt: skip
_RELATION_FIELDS = ("subject", "predicate", "object", "confidence")
_VALUE_FIELDS = ("value", "confidence")
_ENTRY_FIELDS = ("key", "value", "confidence")


# -- writing ------------------------------------------------------------------------------
def scene_to_dict(scene: SceneGraph) -> dict[str, Any]:
    """The native JSON form of ``scene`` (plain dicts and lists, ready for ``json.dump``).

    Raises :class:`SceneFormatError` for what JSON cannot hold or the reader would refuse
    (a confidence outside [0, 1], a non-finite number, ``meta`` that is not JSON data).
    """
    out: dict[str, Any] = {"format": FORMAT}
    if scene.id is not None:
        if not isinstance(scene.id, (str, int)) or isinstance(scene.id, bool):
            c.fail(
                f"expected a scene id (a string, an integer or null), got {c.got(scene.id)}", "id"
            )
        out["id"] = scene.id
    out["objects"] = [_object_to_dict(o, f"objects[{i}]") for i, o in enumerate(scene.objects)]
    out["relations"] = [
        _relation_to_dict(r, f"relations[{j}]") for j, r in enumerate(scene.relations)
    ]
    if scene.meta:
        out["meta"] = c.json_value(scene.meta, "meta")
    return out


def _object_to_dict(obj: SceneObject, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {"id": c.object_id(obj.id, f"{path}.id")}
    if obj.name is not None:
        out["name"] = c.string(obj.name, f"{path}.name", "a string or null")
    attributes, labels = _attributes_to_json(obj.attributes, path)
    if attributes:
        out["attributes"] = attributes
    if labels:
        out["labels"] = labels
    if obj.box is not None:
        box = obj.box
        corners = (box.x, box.y, box.w, box.h)
        out["box"] = [c.number(v, f"{path}.box[{i}]") for i, v in enumerate(corners)]
    for name in ("coords", "features"):
        values = getattr(obj, name)
        if values is not None:
            out[name] = [c.number(v, f"{path}.{name}[{i}]") for i, v in enumerate(values)]
    if obj.confidence is not None:
        out["confidence"] = c.number(obj.confidence, f"{path}.confidence", unit=True)
    if obj.extra:
        out["extra"] = c.json_value(obj.extra, f"{path}.extra")
    return out


def _value_to_json(a: Attribute, path: str) -> str | dict[str, Any]:
    value = c.string(a.value, f"{path}.value")
    if a.confidence is None:
        return value
    return {"value": value, "confidence": c.number(a.confidence, f"{path}.confidence", unit=True)}


def _attributes_to_json(attributes: tuple[Attribute, ...], path: str) -> tuple[Any, list[Any]]:
    """The compact form ({key: value | [values]}, [labels]) when it gives the same order
    back (keys grouped in first-seen order, then labels); else the exact list form."""
    groups: dict[str, list[Attribute]] = {}
    labels: list[Attribute] = []
    for i, a in enumerate(attributes):
        if a.key is None:
            labels.append(a)
        else:
            groups.setdefault(c.string(a.key, f"{path}.attributes[{i}].key"), []).append(a)
    canonical = [a for group in groups.values() for a in group] + labels
    if tuple(canonical) == attributes:
        compact: dict[str, Any] = {}
        for key, group in groups.items():
            kpath = c.join(f"{path}.attributes", key)
            values = [_value_to_json(a, kpath) for a in group]
            compact[key] = values[0] if len(values) == 1 else values
        return compact, [_value_to_json(a, f"{path}.labels[{i}]") for i, a in enumerate(labels)]
    entries = []
    for i, a in enumerate(attributes):
        value = _value_to_json(a, f"{path}.attributes[{i}]")
        entry = {"value": value} if isinstance(value, str) else value
        entries.append({"key": a.key, **entry} if a.key is not None else entry)
    return entries, []


def _relation_to_dict(r: Relation, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "subject": c.object_id(r.subject, f"{path}.subject"),
        "predicate": c.string(r.predicate, f"{path}.predicate"),
        "object": c.object_id(r.object, f"{path}.object"),
    }
    if r.confidence is not None:
        out["confidence"] = c.number(r.confidence, f"{path}.confidence", unit=True)
    return out


def save_native_scenes(
    scenes: SceneGraph | Iterable[SceneGraph], path: str | Path, *, indent: int | None = None
) -> Path:
    """Write ``scenes`` to ``path`` in the native format; return the path.

    One :class:`SceneGraph` gives a one-scene file (``{"format": ..., "objects": ...}``),
    an iterable of them a ``{"format": ..., "scenes": [...]}`` file.
    """
    path = Path(path)
    if isinstance(scenes, SceneGraph):
        data = scene_to_dict(scenes)
    else:
        items = []
        for i, scene in enumerate(scenes):
            if not isinstance(scene, SceneGraph):
                c.fail(f"expected a SceneGraph, got {c.got(scene)}", f"scenes[{i}]")
            try:
                d = scene_to_dict(scene)
            except SceneFormatError as err:
                raise c.rebase(err, f"scenes[{i}]") from None
            del d["format"]
            items.append(d)
        data = {"format": FORMAT, "scenes": items}
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, indent=indent)
    path.write_text(text + "\n", encoding="utf-8")
    return path


# -- reading ------------------------------------------------------------------------------
def _check_format(value: Any, path: str) -> None:
    if value == FORMAT:
        return
    if isinstance(value, str) and value.startswith("nsreason.scene/"):
        c.fail(f"unsupported version {value!r}; this nsreason reads {FORMAT!r}", path)
    c.fail(f"expected {FORMAT!r}, got {c.got(value)}", path)


def scene_from_dict(data: Any, *, path: str = "") -> SceneGraph:
    """One native scene (a parsed JSON object) → :class:`SceneGraph`.

    ``path`` prefixes the paths in error messages (``scenes[3]``). The ``format`` field
    is optional here; when present it must be ``"nsreason.scene/1"``.
    """
    data = c.mapping(data, path, "a scene object ({'objects': [...], ...})")
    c.known_fields(data, _SCENE_FIELDS, path, "a scene")
    if "format" in data:
        _check_format(data["format"], c.join(path, "format"))
    scene_id = data.get("id")
    if scene_id is not None and (
        not isinstance(scene_id, (str, int)) or isinstance(scene_id, bool)
    ):
        c.fail(
            f"expected a scene id (a string, an integer or null), got {c.got(scene_id)}",
            c.join(path, "id"),
        )
    if "objects" not in data:
        c.fail("missing field 'objects'", path)
    raw_objects = c.array(data["objects"], c.join(path, "objects"), "a list of objects")
    objects = [
        _object(o, f"{c.join(path, 'objects')}[{i}]") for i, o in enumerate(raw_objects)
    ]
    raw_relations = data.get("relations")
    relations = []
    if raw_relations is not None:
        rpath = c.join(path, "relations")
        c.array(raw_relations, rpath, "a list of relations")
        relations = [_relation(r, f"{rpath}[{j}]") for j, r in enumerate(raw_relations)]
    meta = data.get("meta")
    if meta is not None:  # JSON data, as the writer requires
        meta = c.json_value(c.mapping(meta, c.join(path, "meta")), c.join(path, "meta"))
    try:
        return SceneGraph(objects, relations, id=scene_id, meta=meta)
    except SceneFormatError as err:  # duplicate ids, dangling relations
        raise c.rebase(err, path) from None


def _object(raw: Any, path: str) -> SceneObject:
    raw = c.mapping(raw, path)
    c.known_fields(raw, _OBJECT_FIELDS, path, "an object")
    if "id" not in raw:
        c.fail("missing field 'id'", path)
    oid = c.object_id(raw["id"], f"{path}.id")
    name = raw.get("name")
    if name is not None:
        c.string(name, f"{path}.name", "a string or null")
    attributes = _attributes(raw.get("attributes"), raw.get("labels"), path)
    box = raw.get("box")
    if box is not None:
        box = BoundingBox(*c.numbers(box, f"{path}.box", 4, "a list of 4 numbers [x, y, w, h]"))
    coords = raw.get("coords")
    if coords is not None:
        coords = c.numbers(coords, f"{path}.coords")
    features = raw.get("features")
    if features is not None:
        features = c.numbers(features, f"{path}.features")
    confidence = raw.get("confidence")
    if confidence is not None:
        confidence = c.number(confidence, f"{path}.confidence", unit=True)
    extra = raw.get("extra")
    extra = {} if extra is None else c.json_value(c.mapping(extra, f"{path}.extra"), f"{path}.extra")
    return SceneObject(
        id=oid,
        name=name,
        attributes=attributes,
        confidence=confidence,
        box=box,
        coords=coords,
        features=features,
        extra=extra,
    )


def _value(raw: Any, key: str | None, path: str) -> Attribute:
    """``"red"`` or ``{"value": "red", "confidence": 0.9}``."""
    if isinstance(raw, str):
        return Attribute(raw, key=key)
    if isinstance(raw, Mapping):
        c.known_fields(raw, _VALUE_FIELDS, path, "a value")
        if "value" not in raw:
            c.fail("missing field 'value'", path)
        value = c.string(raw["value"], f"{path}.value")
        conf = raw.get("confidence")
        if conf is not None:
            conf = c.number(conf, f"{path}.confidence", unit=True)
        return Attribute(value, key=key, confidence=conf)
    c.fail(
        "expected a value: a string or {'value': ..., 'confidence': ...}, "
        f"got {c.got(raw)}",
        path,
    )


def _attributes(raw: Any, raw_labels: Any, path: str) -> tuple[Attribute, ...]:
    out: list[Attribute] = []
    apath = f"{path}.attributes"
    if isinstance(raw, list):  # exact form: [{"key": ..., "value": ..., "confidence": ...}]
        if raw_labels is not None:
            c.fail(
                "'labels' cannot be combined with the list form of 'attributes' "
                "(put the labels in that list, as entries without a 'key')",
                f"{path}.labels",
            )
        for i, entry in enumerate(raw):
            epath = f"{apath}[{i}]"
            if isinstance(entry, Mapping):
                c.known_fields(entry, _ENTRY_FIELDS, epath, "an attribute")
                key = entry.get("key")
                if key is not None:
                    c.string(key, f"{epath}.key", "a string or null")
                out.append(_value({k: v for k, v in entry.items() if k != "key"}, key, epath))
            elif isinstance(entry, str):
                out.append(Attribute(entry))
            else:
                c.fail(
                    "expected an attribute: {'key': ..., 'value': ..., 'confidence': ...} "
                    f"or a label string, got {c.got(entry)}",
                    epath,
                )
        return tuple(out)
    if raw is not None:
        c.mapping(raw, apath, "an object {key: value} or a list of attributes")
        for key, values in raw.items():
            kpath = c.join(apath, key)
            if isinstance(values, list):
                out += [_value(v, key, f"{kpath}[{i}]") for i, v in enumerate(values)]
            else:
                out.append(_value(values, key, kpath))
    if raw_labels is not None:
        lpath = f"{path}.labels"
        c.array(raw_labels, lpath, "a list of labels")
        out += [_value(v, None, f"{lpath}[{i}]") for i, v in enumerate(raw_labels)]
    return tuple(out)


def _relation(raw: Any, path: str) -> Relation:
    raw = c.mapping(raw, path, "a relation {'subject', 'predicate', 'object'}")
    c.known_fields(raw, _RELATION_FIELDS, path, "a relation")
    for name in ("subject", "predicate", "object"):
        if name not in raw:
            c.fail(f"missing field {name!r}", path)
    conf = raw.get("confidence")
    if conf is not None:
        conf = c.number(conf, f"{path}.confidence", unit=True)
    return Relation(
        c.object_id(raw["subject"], f"{path}.subject"),
        c.string(raw["predicate"], f"{path}.predicate"),
        c.object_id(raw["object"], f"{path}.object"),
        conf,
    )


def load_native_scenes(source: str | Path | Mapping[str, Any]) -> list[SceneGraph]:
    """Load native scenes from a file path or parsed JSON: one scene
    (``{"format": "nsreason.scene/1", "objects": ...}``) or several
    (``{"format": "nsreason.scene/1", "scenes": [...]}``)."""
    origin = None
    if isinstance(source, (str, Path)):
        origin = str(source)
        source = read_json(source, SceneFormatError)
    try:
        data = c.mapping(
            source, "", f"a native scene file ({{'format': {FORMAT!r}, ...}})"
        )
        if "format" not in data:
            c.fail(
                f"missing field 'format': native scene files start with "
                f"{{'format': {FORMAT!r}, ...}}",
                "",
            )
        _check_format(data["format"], "format")
        if "scenes" in data:
            c.known_fields(data, _FILE_FIELDS, "", "a scenes file")
            scenes = c.array(data["scenes"], "scenes", "a list of scenes")
            return [scene_from_dict(s, path=f"scenes[{i}]") for i, s in enumerate(scenes)]
        return [scene_from_dict(data)]
    except SceneFormatError as err:
        if origin:
            err.with_source(origin)
        raise
