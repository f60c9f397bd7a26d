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


# -- reading confidences (DESIGN.md: the symbolic executor reads the most confident value,
# relations and objects at >= 0.5) ----------------------------------------------------------
def _a(value, key=None, confidence=None):
    return Attribute(value, key=key, confidence=confidence)


def test_most_confident_value_per_key():
    obj = SceneObject(0, "cube", (
        _a("red", "color", 0.2), _a("small", "size"), _a("blue", "color", 0.7),
        _a("green", "color", 0.1),
        _a("metal", "material", 0.5), _a("rubber", "material", 0.5),  # tie: the first
        _a("cube", "shape", 0.9), _a("sphere", "shape"),  # missing confidence counts as 1.0
        _a("striped", "pattern"), _a("dotted", "pattern"),  # no confidences: both stay
    ))
    ix = SceneGraph([obj]).index
    assert ix.attribute_values["color"] == [("blue",)]
    assert ix.attribute_values["material"] == [("metal",)]
    assert ix.attribute_values["shape"] == [("sphere",)]
    assert ix.attribute_values["size"] == [("small",)]
    assert ix.attribute_values["pattern"] == [("striped", "dotted")]
    assert set(ix.attribute_masks["color"]) == {"blue"}
    assert "red" not in ix.value_masks and "rubber" not in ix.value_masks
    assert ix.value_masks["dotted"] == 1


def test_free_labels_and_relations_below_half_are_left_out():
    scene = SceneGraph(
        [SceneObject(0, "cup", (_a("wooden", None, 0.49), _a("shiny", None, 0.5), _a("old"))),
         SceneObject(1, "cup")],
        [Relation(0, "left", 1, 0.49), Relation(1, "right", 0, 0.5), Relation(0, "near", 1)],
    )
    ix = scene.index
    assert "wooden" not in ix.value_masks
    assert ix.value_masks["shiny"] == 1 and ix.value_masks["old"] == 1
    assert ix.subjects_mask("left", 1) == 0 and ix.objects_mask("left", 0) == 0
    assert ix.subjects_mask("right", 0) == bits(1)
    assert ix.subjects_mask("near", 1) == bits(0)


def test_objects_below_half_are_absent_for_the_executor():
    from nsreason.execute import SymbolicExecutor
    from nsreason.program.clevr import program_from_clevr

    objects = [
        SceneObject(0, "cube", (_a("red", "color", 0.9), _a("cube", "shape")), confidence=0.9),
        SceneObject(1, "cube", (_a("red", "color", 0.8), _a("cube", "shape")), confidence=0.3),
        SceneObject(2, "sphere", (_a("red", "color", 0.6), _a("sphere", "shape"))),  # 1.0
    ]
    relations = [Relation(1, "left", 0, 1.0), Relation(2, "left", 0, 1.0),
                 Relation(0, "left", 1, 1.0)]
    scene = SceneGraph(objects, relations)
    ix = scene.index
    assert ix.all == bits(0, 2)
    assert ix.attribute_masks["color"]["red"] == bits(0, 2)
    assert ix.name_masks["cube"] == bits(0) and ix.value_masks["red"] == bits(0, 2)
    assert ix.subjects_mask("left", 0) == bits(2) and ix.objects_mask("left", 0) == 0
    # what stays: its position, id, name and attribute values
    assert ix.n == 3 and ix.decode(bits(1)) == [1] and ix.names[1] == "cube"
    assert ix.attribute_values["color"][1] == ("red",)
    executor = SymbolicExecutor()
    count = program_from_clevr([{"function": "scene", "inputs": []},
                                {"function": "filter_color", "inputs": [0], "value_inputs": ["red"]},
                                {"function": "count", "inputs": [1]}])
    assert executor.execute(count, scene).value == 2
    same = program_from_clevr([{"function": "scene", "inputs": []},
                               {"function": "filter_shape", "inputs": [0], "value_inputs": ["sphere"]},
                               {"function": "unique", "inputs": [1]},
                               {"function": "same_color", "inputs": [2]},
                               {"function": "count", "inputs": [3]}])
    assert executor.execute(same, scene).value == 1  # object 0; the hidden object 1 is not seen


def _read(obj: SceneObject) -> SceneObject:
    """What the index should read of ``obj``, written without confidences."""
    best: dict = {}
    scored = {a.key for a in obj.attributes if a.key is not None and a.confidence is not None}
    for a in obj.attributes:
        if a.key in scored:
            c = 1.0 if a.confidence is None else a.confidence
            if a.key not in best or c > best[a.key][0]:
                best[a.key] = (c, a)
    kept = tuple(
        Attribute(a.value, key=a.key) for a in obj.attributes
        if (a.key is None and (a.confidence is None or a.confidence >= 0.5))
        or (a.key is not None and (a.key not in scored or best[a.key][1] is a))
    )
    return SceneObject(obj.id, obj.name, kept)


_conf = st.one_of(st.none(), st.sampled_from([0.0, 0.2, 0.49, 0.5, 0.7, 1.0]))


@st.composite
def scenes_with_confidences(draw):
    n = draw(st.integers(1, 6))
    objects = []
    for i in range(n):
        attrs = draw(st.lists(st.builds(
            Attribute, st.sampled_from(["red", "blue", "big", "wooden"]),
            key=st.sampled_from([None, "color", "size"]), confidence=_conf), max_size=6))
        objects.append(SceneObject(i, draw(st.sampled_from(["cube", "ball"])), tuple(attrs),
                                   confidence=draw(_conf)))
    relations = draw(st.lists(st.builds(
        Relation, st.integers(0, n - 1), st.sampled_from(["left", "on"]), st.integers(0, n - 1),
        confidence=_conf), max_size=10))
    return SceneGraph(objects, relations)


@settings(max_examples=150, deadline=None)
@given(scenes_with_confidences())
def test_index_equals_the_index_of_what_it_reads(scene):
    """The index of a scene with confidences = the index of the scene rewritten with only
    the facts read (no confidences), objects below 0.5 taken out of every mask."""
    ix = scene.index
    hidden = {i for i, o in enumerate(scene.objects) if o.confidence is not None and o.confidence < 0.5}
    keep = ~sum(1 << i for i in hidden)
    plain = SceneGraph(
        [_read(o) for o in scene.objects],
        [Relation(r.subject, r.predicate, r.object) for r in scene.relations
         if (r.confidence is None or r.confidence >= 0.5)
         and scene.position(r.subject) not in hidden and scene.position(r.object) not in hidden],
    ).index
    assert ix.all == plain.all & keep
    assert ix.attribute_values == plain.attribute_values
    for table, expected in ((ix.value_masks, plain.value_masks), (ix.name_masks, plain.name_masks)):
        assert table == {v: m & keep for v, m in expected.items()}
    assert ix.attribute_masks == {k: {v: m & keep for v, m in vals.items()}
                                  for k, vals in plain.attribute_masks.items()}
    assert ix.subjects == plain.subjects and ix.objects_of == plain.objects_of
