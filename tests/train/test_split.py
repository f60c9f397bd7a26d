"""The even/odd image rule shared by `train finetune --images` and the held-out evaluation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nsreason.errors import InputError
from nsreason.train.split import IMAGE_SETS, in_images, other_half


@given(st.integers(0, 10**9))
def test_halves_partition_the_images(index):
    assert in_images(index, "all")
    assert in_images(index, "even") != in_images(index, "odd")
    assert in_images(index, "even") == (index % 2 == 0)


@pytest.mark.parametrize("half", ["even", "odd"])
def test_other_half_is_disjoint(half):
    other = other_half(half)
    assert other != half and other_half(other) == half
    assert not any(in_images(i, half) and in_images(i, other) for i in range(50))


@pytest.mark.parametrize("bad", ["Even", "", "both", None])
def test_unknown_image_sets_are_typed_errors(bad):
    with pytest.raises(InputError, match="expected"):
        in_images(3, bad)
    with pytest.raises(InputError, match="expected 'even' or 'odd'"):
        other_half(bad if bad is not None else "all")
    assert bad not in IMAGE_SETS
