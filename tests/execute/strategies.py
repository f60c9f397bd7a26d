"""Hypothesis strategies for scenes the executor runs on."""

from __future__ import annotations

from hypothesis import strategies as st

from nsreason.program import get_vocabulary
from nsreason.scene import Attribute, Relation, SceneGraph, SceneObject

CLEVR_KEYS = ("size", "color", "material", "shape")


@st.composite
def clevr_scenes(draw, max_objects: int = 8) -> SceneGraph:
    """Random CLEVR-like scenes: every object has the four CLEVR attributes from the
    vocabulary's domains; relations are random pairs over CLEVR's four predicates."""
    types = get_vocabulary("clevr").types
    domains = {k: types[k.capitalize()].domain for k in CLEVR_KEYS}
    n = draw(st.integers(0, max_objects))
    objects = []
    for i in range(n):
        values = {k: draw(st.sampled_from(domains[k])) for k in CLEVR_KEYS}
        attrs = tuple(Attribute(values[k], key=k) for k in CLEVR_KEYS)
        objects.append(SceneObject(i, values["shape"], attrs))
    relations = []
    if n > 1:
        pairs = draw(
            st.lists(
                st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.sampled_from(types["Relation"].domain)),
                max_size=4 * n,
            )
        )
        relations = [Relation(a, p, b) for a, b, p in pairs if a != b]
    return SceneGraph(objects, relations, id="random")
