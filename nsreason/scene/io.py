"""One entry point for scene files: :func:`load_scenes` detects the format.

Formats: ``clevr`` (official CLEVR scenes), ``gqa`` (GQA / Visual Genome scene graphs),
``native`` (nsreason's own JSON, see :mod:`nsreason.scene.native`).
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


def detect_format(data: Any) -> str:
    """Guess the format of parsed scene JSON; raise :class:`SceneFormatError` if unsure."""
    if isinstance(data, Mapping):
        if str(data.get("format", "")).startswith("nsreason.scene"):
            return "native"
        scenes = data.get("scenes")
        if isinstance(scenes, list):
            first = scenes[0] if scenes else {}
            if isinstance(first, Mapping) and str(first.get("format", "")).startswith("nsreason.scene"):
                return "native"
            return "clevr"
        objects = data.get("objects")
        if isinstance(objects, list):
            return "clevr"
        if isinstance(objects, Mapping):
            return "gqa"
        values = list(data.values())[:1]
        if values and isinstance(values[0], Mapping) and isinstance(values[0].get("objects"), Mapping):
            return "gqa"
    if isinstance(data, list):
        return "clevr"
    raise SceneFormatError(
        "cannot tell the scene format: expected CLEVR scenes ({'scenes': [...]} or "
        "{'objects': [...]}), GQA scene graphs ({image_id: {'objects': {...}}}) or native "
        "JSON ({'format': 'nsreason.scene/1', ...}); pass format= explicitly"
    )


def load_scenes(source: str | Path | Any, format: str = "auto") -> list[SceneGraph]:
    """Load every scene of a file (or of already-parsed JSON) in any supported format."""
    origin = str(source) if isinstance(source, (str, Path)) else None
    data = read_json(source, SceneFormatError) if origin is not None else source
    try:
        fmt = detect_format(data) if format == "auto" else format
        if fmt not in SCENE_FORMATS:
            raise RegistryError(f"unknown scene format {fmt!r}; available: {sorted(SCENE_FORMATS)}")
        return SCENE_FORMATS[fmt](data)
    except SceneFormatError as err:
        raise err.with_source(origin) if origin and not err.source else err
