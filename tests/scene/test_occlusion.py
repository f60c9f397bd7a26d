"""Occlusion from CLEVR-Ref+ masks and boxes: interval sums against a decoded image
(numpy slicing, as the generator), and the CLEVR loader's use of them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nsreason.errors import SceneFormatError
from nsreason.scene.clevr import clevr_scene_from_dict, load_clevr_scenes
from nsreason.scene.occlusion import box_sum, mask_rows

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "clevr_refplus_scenes_small.json"
H, W = 240, 320


def _code(runs: list[int]) -> str:
    """Run lengths cut or padded to fill the image exactly."""
    out, total = [], 0
    for run in runs:
        run = min(run, H * W - total)
        out.append(run)
        total += run
    out.append(H * W - total)
    return ",".join(map(str, out))


masks = st.lists(st.integers(0, 4000), max_size=40).map(_code)


boxes = st.tuples(st.integers(-40, W + 40), st.integers(-40, H + 40), st.integers(0, 200), st.integers(0, 200))


@settings(max_examples=150, deadline=None)
@given(masks, boxes)
def test_box_sum_equals_numpy_slicing_of_the_decoded_mask(code, box):
    image = []
    for k, run in enumerate(int(r) for r in code.split(",")):
        image += [k % 2] * run
    decoded = np.asarray(image).reshape(H, W)
    x, y, w, h = box
    rows, height, width = mask_rows(code)
    assert (height, width) == (H, W)
    assert box_sum(rows, box, height, width) == int(decoded[y:y + h, x:x + w].sum())


def test_fixture_scenes_get_boxes_and_occlusion():
    raw = json.loads(FIXTURE.read_text())["scenes"]
    for scene, data in zip(load_clevr_scenes(FIXTURE), raw):
        for i, o in enumerate(scene.objects):
            x, y, w, h = data["obj_bbox"][str(i + 1)]
            assert (o.box.x, o.box.y, o.box.w, o.box.h) == (x, y, w, h)
            assert 0.0 <= o.extra["occlusion"] <= 1.0
        assert scene.meta["obj_mask"] == data["obj_mask"]  # the scene keeps its fields, as before


def test_clean_clevr_scenes_load_as_before():
    data = {"objects": [{"shape": "cube", "size": "large", "color": "red", "material": "metal",
                         "pixel_coords": [1, 2, 3.0]}]}
    (o,) = clevr_scene_from_dict(data).objects
    assert o.box is None and "occlusion" not in o.extra and o.extra == {"pixel_coords": [1, 2, 3.0]}


@pytest.mark.parametrize(("change", "where"), [
    ({"obj_mask": {"1": "12"}}, "scene.obj_mask.1"),
    ({"obj_mask": {"1": "a,b"}}, "scene.obj_mask.1"),
    ({"obj_mask": {}}, "scene.obj_mask"),
    ({"obj_bbox": {"1": [0, 0, 1.5, 2]}}, "scene.obj_bbox.1"),
    ({"obj_bbox": None}, "scene.obj_bbox"),
])
def test_malformed_masks_and_boxes_name_the_field(change, where):
    data = {"objects": [{"shape": "cube", "size": "large", "color": "red", "material": "metal",
                         "pixel_coords": [1, 2, 3.0]}],
            "obj_mask": {"1": str(H * W)}, "obj_bbox": {"1": [0, 0, 2, 2]}, **change}
    with pytest.raises(SceneFormatError) as err:
        clevr_scene_from_dict(data)
    assert err.value.path == where
