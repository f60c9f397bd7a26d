"""networkx and PyTorch Geometric exports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nsreason.errors import SceneFormatError
from nsreason.scene import Attribute, BoundingBox, Relation, SceneGraph, SceneObject
from nsreason.scene.export import to_hetero_pyg, to_networkx, to_pyg


def test_importing_the_scene_package_does_not_import_torch():
    code = (
        "import sys, nsreason, nsreason.scene, nsreason.scene.export;"
        "print(sorted(m for m in ('torch', 'torch_geometric') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- networkx -----------------------------------------------------------------------------
def test_networkx_four_objects(four_objects):
    g = four_objects.to_networkx()
    assert g.is_directed() and g.is_multigraph()
    assert list(g.nodes) == [0, 1, 2, 3]
    assert g.graph == {"id": "four", "meta": {}}
    node = g.nodes[2]
    assert node["name"] == "cylinder"
    assert node["attributes"] == {"size": "large", "color": "blue", "material": "rubber", "shape": "cylinder"}
    assert node["labels"] == ["wooden"]
    assert node["coords"] == (2.0, 1.0, 0.5)
    assert node["box"] is None and node["features"] is None and node["confidence"] is None
    assert node["position"] == 2
    assert g.number_of_edges() == len(four_objects.relations) == 24
    assert set(g[0][1]) == {"left", "behind"}
    assert g.edges[0, 1, "left"] == {"predicate": "left", "confidence": None}
    assert not g.has_edge(1, 0, "left") and g.has_edge(1, 0, "right")


def test_networkx_keeps_every_relation_and_confidences():
    scene = SceneGraph(
        [SceneObject("a", "cup", (Attribute("red", key="color"), Attribute("blue", key="color")),
                     box=BoundingBox(1, 2, 3, 4), confidence=0.5),
         SceneObject("b", "table")],
        [Relation("a", "on", "b", 0.9), Relation("a", "on", "b", 0.4), Relation("a", "on", "b"),
         Relation("b", "under", "a"), Relation("a", "near", "a")],
    )
    g = to_networkx(scene)
    assert g.number_of_edges() == 5
    assert sorted(g["a"]["b"]) == ["on", "on#2", "on#3"]
    assert [g.edges["a", "b", k]["confidence"] for k in ("on", "on#2", "on#3")] == [0.9, 0.4, None]
    assert all(d["predicate"] == "on" for d in g["a"]["b"].values())
    assert g.has_edge("a", "a", "near")
    assert g.nodes["a"]["attributes"] == {"color": ["red", "blue"]}
    assert g.nodes["a"]["box"] == (1, 2, 3, 4) and g.nodes["a"]["confidence"] == 0.5


@pytest.mark.data
def test_networkx_gqa(gqa_scenes):
    scene = gqa_scenes[0]
    g = to_networkx(scene)
    assert g.number_of_nodes() == len(scene) == 18
    assert g.number_of_edges() == len(scene.relations) == 33
    assert g.graph["id"] == "2353884"
    assert g.has_edge("2716708", "2449847", "of")
    assert g.nodes["2716708"]["name"] == "nose"
    total = sum(to_networkx(s).number_of_edges() for s in gqa_scenes)
    assert total == 4729


# -- PyG ----------------------------------------------------------------------------------
@pytest.fixture
def torch():
    """torch (skipping when torch or torch_geometric is not installed)."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("torch_geometric")
    torch.set_num_threads(1)  # the autouse fixture misses the first import
    return torch


def columns(data):
    return list(zip(data.edge_index[0].tolist(), data.edge_index[1].tolist(), data.edge_type.tolist()))


@pytest.mark.slow
def test_pyg_four_objects(four_objects, torch):
    data = four_objects.to_pyg()
    assert data.num_nodes == 4
    assert data.x is None  # no object has features
    assert data.edge_index.shape == (2, 24) and data.edge_index.dtype == torch.long
    assert data.edge_type.shape == (24,) and data.edge_type.dtype == torch.long
    assert data.predicates == ["behind", "front", "left", "right"]
    assert data.object_ids == [0, 1, 2, 3]
    assert data.names == ["cube", "sphere", "cylinder", "cube"]
    expected = [(r.subject, r.object, data.predicates.index(r.predicate)) for r in four_objects.relations]
    assert columns(data) == expected
    assert torch.equal(data.pos, torch.tensor([o.coords for o in four_objects.objects]))
    assert "box" not in data
    data.validate(raise_on_error=True)


@pytest.mark.slow
def test_pyg_feature_dim_fills_zeros(four_objects, torch):
    data = to_pyg(four_objects, feature_dim=5)
    assert data.x.shape == (4, 5) and data.x.dtype == torch.float and not data.x.any()


@pytest.mark.slow
def test_pyg_features_stacked_and_checked(torch):
    objs = [SceneObject(i, features=(float(i), 1.0, 2.0)) for i in range(3)]
    data = to_pyg(SceneGraph(objs))
    assert data.x.tolist() == [[0, 1, 2], [1, 1, 2], [2, 1, 2]]
    assert data.edge_index.shape == (2, 0) and data.edge_type.shape == (0,)
    mixed = SceneGraph([*objs, SceneObject(3)])
    with pytest.raises(SceneFormatError) as info:
        to_pyg(mixed)
    assert info.value.path == "objects[3].features" and "pass feature_dim=" in info.value.message
    assert to_pyg(mixed, feature_dim=3).x[3].tolist() == [0, 0, 0]
    with pytest.raises(SceneFormatError, match=r"objects\[0\]\.features: expected 4 values, got 3"):
        to_pyg(mixed, feature_dim=4)
    ragged = SceneGraph([SceneObject(0, features=(1.0,)), SceneObject(1, features=(1.0, 2.0))])
    with pytest.raises(SceneFormatError, match=r"objects\[1\]\.features: expected 1 values, got 2"):
        to_pyg(ragged)


@pytest.mark.slow
def test_pyg_fixed_predicate_vocabulary(four_objects, torch):
    vocab = ["left", "right", "front", "behind", "on"]
    data = to_pyg(four_objects, predicates=vocab)
    assert data.predicates == vocab
    assert [vocab[t] for t in data.edge_type.tolist()] == [r.predicate for r in four_objects.relations]
    with pytest.raises(SceneFormatError) as info:
        to_pyg(four_objects, predicates=["left"])
    assert info.value.path == "relations[1].predicate"
    assert "predicate 'right' is not in the given predicates ['left']" in info.value.message


@pytest.mark.slow
def test_pyg_empty_scene(torch):
    data = to_pyg(SceneGraph([]))
    assert data.num_nodes == 0 and data.x is None and data.edge_index.shape == (2, 0)
    assert to_pyg(SceneGraph([]), feature_dim=4).x.shape == (0, 4)
    hetero = to_hetero_pyg(SceneGraph([]))
    assert hetero["object"].num_nodes == 0 and hetero.edge_types == []


@pytest.mark.slow
def test_pyg_string_ids_use_positions(torch):
    scene = SceneGraph([SceneObject("m", "man"), SceneObject("h", "hat")], [Relation("m", "wearing", "h")])
    data = to_pyg(scene)
    assert data.edge_index.tolist() == [[0], [1]] and data.object_ids == ["m", "h"]


@pytest.mark.slow
def test_hetero_four_objects(four_objects, torch):
    data = four_objects.to_hetero_pyg()
    assert data.node_types == ["object"]
    assert data["object"].num_nodes == 4
    assert data["object"].object_ids == [0, 1, 2, 3]
    assert "x" not in data["object"]
    assert data.edge_types == [("object", p, "object") for p in ["behind", "front", "left", "right"]]
    for predicate in ["behind", "front", "left", "right"]:
        ei = data["object", predicate, "object"].edge_index
        expected = [(r.subject, r.object) for r in four_objects.relations if r.predicate == predicate]
        assert list(zip(*ei.tolist())) == expected
    data.validate(raise_on_error=True)
    with_x = to_hetero_pyg(four_objects, feature_dim=2)
    assert with_x["object"].x.shape == (4, 2)


@pytest.mark.data
def test_pyg_gqa(gqa_scenes, torch):
    scene = gqa_scenes[0]
    data = to_pyg(scene)
    assert data.num_nodes == 18 and data.edge_index.shape == (2, 33)
    assert data.box.shape == (18, 4) and "pos" not in data and data.x is None
    assert data.predicates == sorted(scene.predicates())
    pos = {oid: i for i, oid in enumerate(data.object_ids)}
    assert columns(data) == [(pos[r.subject], pos[r.object], data.predicates.index(r.predicate)) for r in scene.relations]
    hetero = to_hetero_pyg(scene)
    assert sum(hetero[t].edge_index.shape[1] for t in hetero.edge_types) == 33
    assert ("object", "to the left of", "object") in hetero.edge_types
    # a fixed vocabulary over all 100 graphs gives consistent ids
    vocab = sorted(set().union(*(s.predicates() for s in gqa_scenes)))
    total = sum(to_pyg(s, predicates=vocab).edge_index.shape[1] for s in gqa_scenes)
    assert total == 4729
