"""The bitset index: masks per attribute, value, name; relation masks; decoding."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nsreason.scene import Attribute, Relation, SceneGraph, SceneObject
from nsreason.scene.index import _SMALL, iter_bits, mask_from_positions


def bits(*positions: int) -> int:
    return sum(1 << p for p in set(positions))


def test_attribute_value_and_name_masks(four_objects):
    ix = four_objects.index
    assert ix.n == 4 and ix.all == 0b1111
    assert ix.attribute_masks["color"] == {"red": bits(0, 1), "blue": bits(2), "green": bits(3)}
    assert ix.attribute_masks["size"]["large"] == bits(0, 2)
    assert ix.value_masks["wooden"] == bits(2)
    assert ix.value_masks["metal"] == bits(0, 3)
    assert ix.name_masks == {"cube": bits(0, 3), "sphere": bits(1), "cylinder": bits(2)}
    assert ix.attribute_values["shape"] == [("cube",), ("sphere",), ("cylinder",), ("cube",)]
    assert "wooden" not in ix.attribute_values.get("shape", [])


def test_relation_masks(four_objects):
    ix = four_objects.index
    # subjects_mask(left, o): the objects left of o
    assert ix.subjects_mask("left", 3) == bits(0, 1, 2)
    assert ix.subjects_mask("left", 0) == 0
    # objects_mask(left, s): what s is left of
    assert ix.objects_mask("left", 0) == bits(1, 2, 3)
    assert ix.objects_mask("right", 0) == 0
    assert ix.subjects_mask("left", 3) == ix.subjects_mask("left", 3)  # cached path
    assert ix.subjects_mask("under", 0) == 0 and ix.objects_mask("under", 0) == 0
    assert ix.subjects_of_set("left", bits(2, 3)) == bits(0, 1, 2)
    assert ix.objects_of_set("left", bits(0, 1)) == bits(1, 2, 3)
    assert ix.subjects_of_set("under", ix.all) == 0 and ix.objects_of_set("under", ix.all) == 0


def test_decode_and_mask_of_ids():
    scene = SceneGraph([SceneObject(i) for i in ("a", "b", "c", "d")])
    ix = scene.index
    assert ix.decode(bits(3, 1)) == ["b", "d"]
    assert ix.decode(0) == []
    assert ix.mask_of_ids(["d", "a"]) == bits(0, 3)
    assert ix.decode(ix.mask_of_ids(["c"])) == ["c"]


def naive_mask(positions) -> int:
    m = 0
    for p in positions:
        m |= 1 << p
    return m


def naive_bits(mask: int) -> list[int]:
    return [i for i in range(mask.bit_length()) if mask >> i & 1]


@st.composite
def sized_positions(draw):
    n = draw(st.one_of(st.integers(0, 80), st.integers(_SMALL - 2, _SMALL + 2), st.integers(_SMALL, 3000)))
    if n == 0:
        return n, []
    return n, draw(st.lists(st.integers(0, n - 1), max_size=200))


@settings(max_examples=200, deadline=None)
@given(sized_positions())
def test_mask_from_positions_matches_naive(case):
    n, positions = case
    mask = mask_from_positions(positions, n)
    assert mask == naive_mask(positions)
    assert mask.bit_length() <= n
    assert iter_bits(mask) == sorted(set(positions))


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.integers(0, 2**64 - 1), st.integers(2**63, 2**66), st.integers(0, 2**3000)))
def test_iter_bits_matches_naive(mask):
    assert iter_bits(mask) == naive_bits(mask)
    assert mask_from_positions(iter_bits(mask), max(mask.bit_length(), 1)) == mask


def test_large_scene_uses_bytearray_path_correctly():
    rng = random.Random(7)
    n = 1500  # > _SMALL: masks are built through a bytearray
    colors = ["red", "blue", "green"]
    objects = [SceneObject(f"o{i}", "ball", (Attribute(rng.choice(colors), key="color"),)) for i in range(n)]
    relations = [Relation(f"o{rng.randrange(n)}", "near", f"o{rng.randrange(n)}") for _ in range(4000)]
    scene = SceneGraph(objects, relations)
    ix = scene.index
    for color in colors:
        expected = naive_mask(i for i, o in enumerate(objects) if o.get("color") == color)
        assert ix.attribute_masks["color"][color] == expected
    pos = {o.id: i for i, o in enumerate(objects)}
    for target in rng.sample(range(n), 50):
        subj = naive_mask(pos[r.subject] for r in relations if pos[r.object] == target)
        obj = naive_mask(pos[r.object] for r in relations if pos[r.subject] == target)
        assert ix.subjects_mask("near", target) == subj
        assert ix.objects_mask("near", target) == obj
    some = naive_mask(rng.sample(range(n), 300))
    expected = naive_mask(pos[r.subject] for r in relations if some >> pos[r.object] & 1)
    assert ix.subjects_of_set("near", some) == expected
    assert ix.decode(some) == [objects[i].id for i in naive_bits(some)]
    assert ix.mask_of_ids(ix.decode(some)) == some


@pytest.mark.parametrize("n", [0, 1, 63, 64, 65, _SMALL, _SMALL + 1])
def test_all_mask(n):
    scene = SceneGraph([SceneObject(i) for i in range(n)])
    assert scene.index.all == (1 << n) - 1
    assert iter_bits(scene.index.all) == list(range(n))
