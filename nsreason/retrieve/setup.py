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
    """The KB of ``specs`` (``default`` = the bundled one; RDF files given with it are
    loaded into the same store, other specs beside it as a union) and a cache key when its
    content is known (the default KB, alone or with RDF files: their checksums). No specs
    means ``["default"]``. Every spec is checked (:func:`~nsreason.kb.load.check_spec`)
    before anything loads: a missing file is a :class:`~nsreason.kb.errors.KBSpecError`
    naming its spec."""
    from ..kb.default import default_kb_key, load_default_kb
    from ..kb.load import check_spec, load_kb

    names = [os.fspath(s) for s in specs] or ["default"]
    if "default" not in names:
        for name in names:
            check_spec(name)
        return load_kb(names if len(names) > 1 else names[0]), None
    files: list[Path] = []
    others: list[str] = []
    for name in dict.fromkeys(n for n in names if n != "default"):
        backend, arg = check_spec(name)
        if backend == "rdf":
            files.append(Path(arg))
        else:
            others.append(name)
    key: str | None = default_kb_key()
    for f in files:
        key = f"{key}-{_checksum(f)}"
    kb: KnowledgeBase = load_default_kb(files)
    if others:
        from ..kb.multi import MultiKB

        kb, key = MultiKB([kb, *(load_kb(o) for o in others)]), None
    return kb, key


def _checksum(path: Path) -> str:
    """The first 8 hex digits of the file's SHA-256, read in blocks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:8]


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
