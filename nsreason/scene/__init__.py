"""Scene graphs: the model, the bitset index, loaders (CLEVR, GQA/VG, native) and exports."""

from .clevr import clevr_scene_from_dict, load_clevr_scenes
from .graph import Attribute, BoundingBox, ObjectId, Relation, SceneGraph, SceneObject

__all__ = [
    "Attribute",
    "BoundingBox",
    "ObjectId",
    "Relation",
    "SceneGraph",
    "SceneObject",
    "clevr_scene_from_dict",
    "load_clevr_scenes",
]
