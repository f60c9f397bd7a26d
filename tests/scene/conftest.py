"""Fixtures for the scene tests: the shared GQA and CLEVR files, loaded once per module."""

from __future__ import annotations

import json

import pytest

from tests.conftest import shared_path

GQA_FILE = ("gqa", "gqa_val_scene_graphs_100.json")
CLEVR_HUMANS_FILE = ("clevr-humans", "CLEVR_train_scenes_1000.json")


@pytest.fixture(scope="module")
def gqa_path():
    return shared_path(*GQA_FILE)


@pytest.fixture(scope="module")
def gqa_raw(gqa_path):
    with gqa_path.open() as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def gqa_scenes(gqa_path):
    from nsreason.scene import load_gqa_scenes

    return load_gqa_scenes(gqa_path)


@pytest.fixture(scope="module")
def clevr_humans_path():
    return shared_path(*CLEVR_HUMANS_FILE)
