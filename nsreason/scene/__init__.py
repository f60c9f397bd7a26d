"""Scene graphs: the model, the bitset index, loaders (CLEVR, GQA/VG, native) and exports.

``load_scenes(path)`` reads any supported file (the format is detected); the per-format
loaders say more about each. Exports to networkx and PyTorch Geometric live in
:mod:`nsreason.scene.export` (torch is imported only when they are called).
"""

from .clevr import clevr_scene_from_dict, load_clevr_scenes
from .export import to_hetero_pyg, to_networkx, to_pyg
from .gqa import load_gqa_scenes
from .graph import Attribute, BoundingBox, ObjectId, Relation, SceneGraph, SceneObject
from .io import SCENE_FORMATS, detect_format, load_scenes
from .native import load_native_scenes, save_native_scenes, scene_from_dict, scene_to_dict

__all__ = [
    "Attribute",
    "BoundingBox",
    "ObjectId",
    "Relation",
    "SCENE_FORMATS",
    "SceneGraph",
    "SceneObject",
    "clevr_scene_from_dict",
    "detect_format",
    "load_clevr_scenes",
    "load_gqa_scenes",
    "load_native_scenes",
    "load_scenes",
    "save_native_scenes",
    "scene_from_dict",
    "scene_to_dict",
    "to_hetero_pyg",
    "to_networkx",
    "to_pyg",
]
