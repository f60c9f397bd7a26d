"""Shared fixtures: a 4-object scene, paths to ../shared/data (skipping when absent)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from nsreason.scene import Attribute, Relation, SceneGraph, SceneObject

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("NSREASON_SHARED_DATA", REPO.parent / "shared" / "data"))
EXAMPLES_DATA = REPO / "examples" / "data"

# torch on 2 threads slows badly under load: every test runs with one once torch is loaded
# (tests that import torch themselves also set it, for the first test to use it).
@pytest.fixture(autouse=True)
def _one_torch_thread():
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
    yield


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data; skips the test with a clear message when absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (the shared data folder beside the repository) - absent here")
    return path


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"needs the shared data folder {SHARED_DATA} - absent here")
    return SHARED_DATA


@pytest.fixture
def four_objects() -> SceneGraph:
    """A small CLEVR-like scene: 0 large red metal cube, 1 small red rubber sphere,
    2 large blue rubber cylinder, 3 small green metal cube. Left-to-right: 0, 1, 2, 3;
    front-to-back: 3, 2, 1, 0. A free label 'wooden' on object 2."""
    spec = [
        ("large", "red", "metal", "cube"),
        ("small", "red", "rubber", "sphere"),
        ("large", "blue", "rubber", "cylinder"),
        ("small", "green", "metal", "cube"),
    ]
    objects = []
    for i, (size, color, material, shape) in enumerate(spec):
        attrs = [
            Attribute(size, key="size"),
            Attribute(color, key="color"),
            Attribute(material, key="material"),
            Attribute(shape, key="shape"),
        ]
        if i == 2:
            attrs.append(Attribute("wooden"))
        objects.append(SceneObject(i, shape, tuple(attrs), coords=(float(i), float(3 - i), 0.5)))
    relations = []
    for a in range(4):
        for b in range(4):
            if a < b:  # a is left of b; a is behind b
                relations += [Relation(a, "left", b), Relation(b, "right", a)]
                relations += [Relation(a, "behind", b), Relation(b, "front", a)]
    return SceneGraph(objects, relations, id="four")


# A tiny parser trained here on the 30 bundled questions (parser and API tests).
@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    torch = pytest.importorskip("torch")
    from nsreason.datasets.clevr import load_clevr_questions
    from nsreason.train.parser import train_parser

    torch.set_num_threads(1)
    qs = load_clevr_questions(EXAMPLES_DATA / "clevr_val_sample_questions.json")
    pairs = [(q.question, q.program) for q in qs]
    out = tmp_path_factory.mktemp("parser")
    report = train_parser(
        pairs, out, epochs=80, batch_size=8, lr=3e-3, seed=1, dev_fraction=0.0,
        model_kwargs={"d_model": 64, "feedforward": 128, "encoder_layers": 1, "decoder_layers": 1},
        log=lambda _: None,
    )
    return out, report, qs
