"""One entry point for scene files: :func:`load_scenes` detects the format.

Formats: ``clevr`` (official CLEVR scenes, :mod:`nsreason.scene.clevr`), ``gqa`` (GQA and
Visual Genome scene graphs, :mod:`nsreason.scene.gqa`), ``native`` (nsreason's own JSON,
:mod:`nsreason.scene.native`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import RegistryError, SceneFormatError
from ..jsonio import read_json
from .graph import SceneGraph

__all__ = ["SCENE_FORMATS", "detect_format", "load_scenes"]


def _clevr(data: Any) -> list[SceneGraph]:
    from .clevr import load_clevr_scenes

    return load_clevr_scenes(data)


def _gqa(data: Any) -> list[SceneGraph]:
    from .gqa import load_gqa_scenes

    return load_gqa_scenes(data)


def _native(data: Any) -> list[SceneGraph]:
    from .native import load_native_scenes

    return load_native_scenes(data)


SCENE_FORMATS: dict[str, Callable[[Any], list[SceneGraph]]] = {
    "clevr": _clevr,
    "gqa": _gqa,
    "native": _native,
}


def _is_vg_image(value: Any) -> bool:
    """A Visual Genome image: ``{"image_id"?, "objects": [{"object_id", ...}], ...}``."""
    if not isinstance(value, Mapping) or not isinstance(value.get("objects"), list):
        return False
    objects = value["objects"]
    if objects:
        return isinstance(objects[0], Mapping) and "object_id" in objects[0]
    return "image_id" in value or isinstance(value.get("relationships"), list)


def detect_format(data: Any) -> str:
    """Guess the format of parsed scene JSON; raise :class:`SceneFormatError` if unsure.

    >>> detect_format({"format": "nsreason.scene/1", "objects": []})
    'native'
    >>> detect_format({"scenes": [{"objects": [], "relationships": {}}]})
    'clevr'
    >>> detect_format({"2353884": {"width": 500, "objects": {}}})
    'gqa'
    >>> detect_format([{"image_id": 1, "objects": [{"object_id": 5, "names": ["man"]}]}])
    'gqa'
    """
    if isinstance(data, Mapping):
        if "format" in data and str(data["format"]).startswith("nsreason.scene"):
            return "native"
        scenes = data.get("scenes")
        if isinstance(scenes, list):
            first = scenes[0] if scenes else {}
            if isinstance(first, Mapping) and str(first.get("format", "")).startswith(
                "nsreason.scene"
            ):
                return "native"
            return "clevr"
        objects = data.get("objects")
        if _is_vg_image(data):
            return "gqa"
        if isinstance(objects, list):
            return "clevr"
        if isinstance(objects, Mapping):
            return "gqa"
        first_value = next(iter(data.values()), None)
        if isinstance(first_value, Mapping) and isinstance(first_value.get("objects"), Mapping):
            return "gqa"
    if isinstance(data, list):
        return "gqa" if data and _is_vg_image(data[0]) else "clevr"
    raise SceneFormatError(
        "cannot tell the scene format: expected CLEVR scenes ({'scenes': [...]} or "
        "{'objects': [...]}), GQA scene graphs ({image_id: {'objects': {...}}}), Visual "
        "Genome images ([{'image_id', 'objects': [{'object_id', ...}]}]) or native JSON "
        "({'format': 'nsreason.scene/1', ...}); pass format= explicitly "
        f"(one of {', '.join(sorted(SCENE_FORMATS))})"
    )


def load_scenes(source: str | Path | Any, format: str = "auto") -> list[SceneGraph]:
    """Load every scene of a file (or of already-parsed JSON) in any supported format.

    ``format`` is ``"auto"`` (see :func:`detect_format`) or a name of :data:`SCENE_FORMATS`.

    >>> load_scenes({"format": "nsreason.scene/1", "objects": [{"id": 0, "name": "cube"}]})
    [SceneGraph(objects=1, relations=0)]
    >>> load_scenes({"objects": []}, format="yaml")
    Traceback (most recent call last):
    ...
    nsreason.errors.RegistryError: unknown scene format 'yaml'; available: auto, clevr, gqa, native
    """
    if not isinstance(format, str) or (format != "auto" and format not in SCENE_FORMATS):
        raise RegistryError(
            f"unknown scene format {format!r}; "
            f"available: {', '.join(['auto', *sorted(SCENE_FORMATS)])}"
        )
    origin = str(source) if isinstance(source, (str, Path)) else None
    data = read_json(source, SceneFormatError) if origin is not None else source
    try:
        if isinstance(data, str):  # a JSON string: never read it as a second path
            raise SceneFormatError("expected a JSON object or list of scenes, got a string")
        fmt = detect_format(data) if format == "auto" else format
        return SCENE_FORMATS[fmt](data)
    except SceneFormatError as err:
        if origin and not err.source:
            err.with_source(origin)
        raise
