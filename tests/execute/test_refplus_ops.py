"""CLEVR-Ref+'s ops: filter_ordinal (order along a direction, the generator's tie rules) and
filter_visible (occlusion from masks and boxes), symbolic and soft."""

from __future__ import annotations

import pytest

from nsreason.execute.ops import ORDINAL_DIRECTIONS, ORDINAL_NUMBERS, VISIBILITY
from nsreason.execute.symbolic import SymbolicExecutor
from nsreason.program import Program
from nsreason.program.vocab import get_vocabulary
from nsreason.scene.clevr import clevr_scene_from_dict


def _obj(x: int, depth: float, **extra: object) -> dict[str, object]:
    return {"shape": "cube", "size": "large", "color": "red", "material": "metal",
            "pixel_coords": [x, 100, depth], **extra}


def _run(scene, text: str):
    return SymbolicExecutor().execute(Program.from_text(text), scene)


def _ordinal(k: int, direction: str, inner: str = "scene()") -> str:
    return f'filter_ordinal["{ORDINAL_NUMBERS[k]}", "{direction}"]({inner})'


def test_vocabulary_domains_are_the_metadata_values():
    types = get_vocabulary("clevr").types
    assert types["Ordinal_number"].domain == ORDINAL_NUMBERS
    assert types["Ordinal_direction"].domain == ORDINAL_DIRECTIONS
    assert types["Visible"].domain == VISIBILITY


def test_ordinal_counts_from_left_right_and_front():
    # x: 30, 10, 20; depth: 9, 7, 8
    scene = clevr_scene_from_dict({"objects": [_obj(30, 9.0), _obj(10, 7.0), _obj(20, 8.0)]})
    assert _run(scene, _ordinal(0, "from left")).value == [1]
    assert _run(scene, _ordinal(1, "from left")).value == [2]
    assert _run(scene, _ordinal(0, "from right")).value == [0]
    assert _run(scene, _ordinal(2, "from right")).value == [1]
    assert _run(scene, _ordinal(0, "from front")).value == [1]  # smallest depth is nearest
    assert _run(scene, _ordinal(2, "from front")).value == [0]


def test_ordinal_ties_follow_the_generator():
    # objects 0 and 2 share x: the stable sort puts 0 first from left, and "from right"
    # reads the same list backwards, so 2 comes first from right
    scene = clevr_scene_from_dict({"objects": [_obj(50, 9.0), _obj(10, 7.0), _obj(50, 8.0)]})
    assert _run(scene, _ordinal(1, "from left")).value == [0]
    assert _run(scene, _ordinal(2, "from left")).value == [2]
    assert _run(scene, _ordinal(0, "from right")).value == [2]
    assert _run(scene, _ordinal(1, "from right")).value == [0]


def test_ordinal_within_the_input_set_and_failures():
    scene = clevr_scene_from_dict({"objects": [_obj(30, 9.0), _obj(10, 7.0), _obj(20, 8.0)]})
    inner = "union(filter_shape[sphere](scene()), " + _ordinal(0, "from right") + ")"
    assert _run(scene, _ordinal(0, "from left", inner)).value == [0]
    too_far = _run(scene, _ordinal(3, "from left"))
    assert too_far.failure is not None and too_far.failure.code == "no_such_object"
    plain = clevr_scene_from_dict({"objects": [{"shape": "cube", "size": "large", "color": "red",
                                                "material": "metal"}]})
    missing = _run(plain, _ordinal(0, "from left"))
    assert missing.failure is not None and missing.failure.code == "missing_attribute"


def _masked_scene(coverage_rows: int) -> dict[str, object]:
    """Object 0 (near) covers the first ``coverage_rows`` rows of object 1's 10x10 box;
    240x320 masks."""
    total = 240 * 320
    # run lengths alternate 0s and 1s, starting with 0s
    front = f"0,{320 * coverage_rows},{total - 320 * coverage_rows}" if coverage_rows else str(total)
    return {"objects": [_obj(5, 1.0), _obj(5, 2.0)],
            "obj_mask": {"1": front, "2": str(total)},
            "obj_bbox": {"1": [0, 0, 320, max(coverage_rows, 1)], "2": [0, 0, 10, 10]}}


@pytest.mark.parametrize(("rows", "fully", "partially"), [(0, [0, 1], []), (2, [0], [1]), (5, [0], [1])])
def test_visible_splits_at_twenty_percent(rows, fully, partially):
    scene = clevr_scene_from_dict(_masked_scene(rows))
    assert scene.objects[1].extra["occlusion"] == pytest.approx(rows / 10)
    assert _run(scene, 'filter_visible["fully visible"](scene())').value == fully
    assert _run(scene, 'filter_visible["partially visible"](scene())').value == partially


def test_visible_refuses_the_undecided_band_and_scenes_without_masks():
    scene = clevr_scene_from_dict(_masked_scene(1))  # 10% covered
    answer = _run(scene, 'filter_visible["fully visible"](scene())')
    assert answer.failure is not None and answer.failure.code == "ambiguous_visibility"
    # the undecided object is not in the input set: no failure
    ok = _run(scene, f'filter_visible["fully visible"]({_ordinal(0, "from front")})')
    assert ok.value == [0]
    plain = clevr_scene_from_dict({"objects": [_obj(5, 1.0)]})
    missing = _run(plain, 'filter_visible["fully visible"](scene())')
    assert missing.failure is not None and missing.failure.code == "missing_attribute"


def test_soft_ops_agree_with_the_symbolic_ones_on_clean_scenes():
    pytest.importorskip("torch")
    from nsreason.execute.neural import NeuralExecutor

    scene = clevr_scene_from_dict({**_masked_scene(5), "objects": [_obj(30, 1.0), _obj(10, 2.0)]})
    neural, symbolic = NeuralExecutor(device="cpu"), SymbolicExecutor()
    for text in [_ordinal(0, "from left"), _ordinal(1, "from front"), _ordinal(0, "from right"),
                 'filter_visible["partially visible"](scene())',
                 'filter_visible["fully visible"](scene())']:
        program = Program.from_text(text)
        assert neural.execute(program, scene).value == symbolic.execute(program, scene).value, text
    # a set with too few members gives no object, not an error
    assert neural.execute(Program.from_text(_ordinal(2, "from left")), scene).value == []
