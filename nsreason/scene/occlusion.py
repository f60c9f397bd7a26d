"""Occlusion from CLEVR-Ref+ object masks and boxes: what ``filter_visible`` reads.

CLEVR-Ref+ scenes (``CLEVR-Ref+_<split>_scenes.json``) add to each CLEVR scene
``obj_mask`` (per object, keyed ``"1"``, ``"2"``, ... for objects 0, 1, ...: a run-length
code of the image, comma-separated run lengths alternating 0s and 1s and starting with 0s,
row-major, 320×480 or 240×320 pixels) and ``obj_bbox`` (``[x, y, w, h]`` per object).

The official generator (ccvl/clevr-refplus-dataset-gen, ``question_engine.py``,
``get_visible_occlusion_sets``; the copy read was a derived fork's, with the same
function) decides visibility per *pair* of objects ``i < j``: the one nearer the camera
(smaller ``pixel_coords[2]``; when they are equal, ``j`` counts as the nearer) is in front;
``fraction`` = pixels of the front object's mask inside the back object's box
(``mask[y:y+h, x:x+w]``, numpy slicing) / ``w·h``. A back object with ``fraction ≥ 0.2``
for some front object is "partially visible", every other object "fully visible"; a scene
with any pair at ``0 < fraction < 0.2`` gets no visibility expression at all.

:func:`occlusions` gives each object's largest such fraction (0.0 when no object in front
covers any of its box): the object is partially visible iff it is ≥ :data:`VISIBLE_THRESHOLD`,
which is the generator's split on every scene it accepts. Masks are never decoded into
images: a mask becomes per-row column intervals, and a box sum adds their overlaps.

>>> # a 240x320 image: object 1 covers row 0, columns 0..9; object 2 has its box there
>>> mask1 = "10," + str(240 * 320 - 10)
>>> mask2 = str(240 * 320)
>>> occlusions([mask1, mask2], [[0, 0, 5, 5], [0, 0, 10, 2]], [1.0, 2.0])
[0.0, 0.5]
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from ..errors import SceneFormatError

__all__ = ["VISIBLE_THRESHOLD", "IMAGE_SIZES", "mask_rows", "box_sum", "occlusions"]

VISIBLE_THRESHOLD = 0.2
"""The generator's ``thre2``: covered at least this much, an object is partially visible."""

IMAGE_SIZES: dict[int, tuple[int, int]] = {320 * 480: (320, 480), 240 * 320: (240, 320)}
"""Pixel count → (height, width): the two image sizes the generator's masks come in."""

Rows = tuple[list[int], list[tuple[int, int, int]]]
"""A mask as sorted row numbers and, per entry, ``(row, first column, end column)``."""


def mask_rows(code: str, path: str = "obj_mask") -> tuple[Rows, int, int]:
    """A run-length mask → its per-row intervals of 1s, and the image height and width."""
    if not isinstance(code, str):
        raise SceneFormatError(f"expected a run-length string, got {type(code).__name__}", path=path)
    try:
        runs = [int(x) for x in code.split(",")]
    except ValueError:
        raise SceneFormatError(
            "expected comma-separated run lengths (integers), got " + repr(code[:40]), path=path
        ) from None
    if any(r < 0 for r in runs):
        raise SceneFormatError("expected non-negative run lengths", path=path)
    total = sum(runs)
    size = IMAGE_SIZES.get(total)
    if size is None:
        raise SceneFormatError(
            f"expected run lengths summing to 153600 (320x480) or 76800 (240x320), got {total}",
            path=path,
        )
    height, width = size
    rows: list[int] = []
    spans: list[tuple[int, int, int]] = []
    at = 0
    for k, run in enumerate(runs):
        if k % 2 and run:
            start, end = at, at + run
            while start < end:
                row, col = divmod(start, width)
                stop = min(end, (row + 1) * width)
                rows.append(row)
                spans.append((row, col, col + stop - start))
                start = stop
        at += run
    return (rows, spans), height, width


def box_sum(mask: Rows, box: Sequence[int], height: int, width: int) -> int:
    """Pixels of ``mask`` in ``image[y:y+h, x:x+w]`` with Python slice semantics (as the
    generator's numpy slicing: negative ends count from the far side, ends are clipped)."""
    x, y, w, h = box
    top, bottom, _ = slice(y, y + h).indices(height)
    left, right, _ = slice(x, x + w).indices(width)
    if bottom <= top or right <= left:
        return 0
    rows, spans = mask
    total = 0
    for k in range(bisect_left(rows, top), bisect_left(rows, bottom)):
        _, c0, c1 = spans[k]
        lo, hi = max(c0, left), min(c1, right)
        if hi > lo:
            total += hi - lo
    return total


def occlusions(
    masks: Sequence[str], boxes: Sequence[Sequence[int]], depths: Sequence[float], path: str = "scene"
) -> list[float]:
    """Per object, the largest fraction of its box covered by the mask of an object in
    front of it (see the module docstring); ``masks``, ``boxes`` and ``depths``
    (``pixel_coords[2]``) are in object order. A box of no area is covered 0.0."""
    n = len(masks)
    decoded = []
    for i, code in enumerate(masks):
        decoded.append(mask_rows(code, f"{path}.obj_mask.{i + 1}"))
    out = [0.0] * n
    for i in range(n):
        for j in range(i + 1, n):
            front, back = (i, j) if depths[i] < depths[j] else (j, i)
            rows, height, width = decoded[front]
            area = boxes[back][2] * boxes[back][3]
            if area <= 0:
                continue
            fraction = box_sum(rows, boxes[back], height, width) / area
            if fraction > out[back]:
                out[back] = fraction
    return out
