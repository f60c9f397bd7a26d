"""Which questions a training run may see: the halves of a question set by image.

``nsreason train finetune --images even`` fine-tunes on the questions about even-numbered
images only, so the questions about odd-numbered images stay unseen for measuring (and the
other way round); the evaluation of such a parser must select the other half with the same
rule, :func:`in_images`. No torch here: an evaluation loop can import it cheaply.

>>> [i for i in range(5) if in_images(i, "odd")]
[1, 3]
>>> other_half("even")
'odd'
"""

from __future__ import annotations

from ..errors import InputError

__all__ = ["IMAGE_SETS", "in_images", "other_half"]

IMAGE_SETS = ("all", "even", "odd")
"""The values of ``--images``: every image, or the images of even or odd index."""


def in_images(image_index: int, images: str) -> bool:
    """Whether a question about the image with index ``image_index`` (CLEVR's
    ``image_index``) belongs to ``images``: ``"all"``, ``"even"`` or ``"odd"``."""
    if images not in IMAGE_SETS:
        raise InputError(f"expected images to be one of {list(IMAGE_SETS)}, got {images!r}")
    return images == "all" or image_index % 2 == (images == "odd")


def other_half(images: str) -> str:
    """The half a parser trained on ``images`` ("even" or "odd") was not trained on."""
    if images not in ("even", "odd"):
        raise InputError(f"expected 'even' or 'odd', got {images!r}")
    return "odd" if images == "even" else "even"
