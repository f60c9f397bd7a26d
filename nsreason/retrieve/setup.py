"""Building a retriever from KB specs: what :class:`~nsreason.api.Reasoner`, the evaluation
loops and the training commands share.

:func:`load_kbs` turns ``--kb`` specs into one knowledge base (and a cache key when its
content is known); :func:`make_retriever` puts the MiniLM encoder, the embedding store of
that KB and a fact ranker around it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..kb.base import KnowledgeBase
    from .ranker import Ranker
    from .retriever import Retriever

__all__ = ["load_kbs", "make_retriever"]


def load_kbs(specs: Sequence[str | os.PathLike[str]]) -> tuple[KnowledgeBase, str | None]:
    """The KB of ``specs`` (``default`` = the bundled one; extra RDF files given with it are
    loaded into the same store) and a cache key when its content is known (the default KB,
    alone or with files: their checksums). No specs means ``["default"]``."""
    from ..kb.default import default_kb_key, load_default_kb
    from ..kb.load import load_kb

    names = [os.fspath(s) for s in specs] or ["default"]
    if names[0] == "default":
        extra = [s.split(":", 1)[1] if s.startswith("rdf:") else s for s in names[1:]]
        key = default_kb_key()
        for f in extra:
            key += "-" + hashlib.sha256(Path(f).read_bytes()).hexdigest()[:8]
        return load_default_kb(extra), key
    return load_kb(names if len(names) > 1 else names[0]), None


def make_retriever(kb: KnowledgeBase, key: str | None, ranker: str | Ranker | None = None) -> Retriever:
    """A :class:`~nsreason.retrieve.retriever.Retriever` over ``kb`` with ``ranker`` (a
    folder, a :class:`~nsreason.retrieve.ranker.Ranker`, or None: the shipped one); with a
    ``key`` its text embeddings persist in the cache folder (``$NSREASON_CACHE`` or
    ``~/.cache/nsreason``)."""
    from ..encode.text import EmbeddingStore, TextEncoder, cache_dir
    from .ranker import Ranker
    from .retriever import Retriever

    encoder = TextEncoder()
    path = cache_dir() / "embeddings" / f"kb-{key}.safetensors" if key else None
    if not isinstance(ranker, Ranker):
        ranker = Ranker.load(ranker)
    return Retriever(kb, ranker=ranker, encoder=encoder, store=EmbeddingStore(encoder, path))
