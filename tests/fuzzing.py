"""Hypothesis strategies shared by the loaders' fuzz tests: JSON-like values with a file
format's own field names and telling values mixed in, and "mostly well formed, sometimes
anything" fields."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st


def json_values(fields: Sequence[str], samples: Sequence[Any]) -> tuple[st.SearchStrategy, st.SearchStrategy]:
    """``(keys, json_like)``: mapping keys (the format's ``fields`` or short text), and any
    JSON-like value (None, booleans, small and huge integers, floats, short text, the given
    ``samples``, lists and objects of those)."""
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(-3, 5), st.integers(), st.floats(),
        st.sampled_from(list(samples)), st.text(max_size=5),
    )
    keys = st.one_of(st.sampled_from(list(fields)), st.text(max_size=4))
    json_like = st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
        max_leaves=10,
    )
    return keys, json_like


def or_junk(json_like: st.SearchStrategy, one_in: int = 8) -> Callable[[st.SearchStrategy], st.SearchStrategy]:
    """``or_junk(json_like)(good)``: mostly a value of ``good``, one time in ``one_in``
    anything of ``json_like``."""

    @st.composite
    def pick(draw: Any, good: st.SearchStrategy) -> Any:
        return draw(json_like) if draw(st.integers(0, one_in - 1)) == 0 else draw(good)

    return pick
