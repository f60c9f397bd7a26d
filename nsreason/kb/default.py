"""The default knowledge base (``knowledge/default.nt.gz``), loaded offline into an
in-memory pyoxigraph store.

Built by ``knowledge/build.py`` from WordNet 3.0, Pattern's commonsense.csv and FVQA's
supporting facts (ConceptNet, DBpedia, WebChild), every fact with its source and licence
(see ``knowledge/README.md``). In a checkout it is read from ``knowledge/``; an installed
wheel carries it as package data (``nsreason/_knowledge``).
"""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from .base import KnowledgeBase
from .errors import KBFormatError, KBSpecError

__all__ = ["default_kb_file", "default_kb_key", "load_default_kb"]

_FILE = "default.nt.gz"


def default_kb_file() -> Path:
    """Where ``default.nt.gz`` is: the installed package data, else the checkout's
    ``knowledge/`` folder."""
    package = Path(__file__).resolve().parents[1]
    for folder in (package / "_knowledge", package.parent / "knowledge"):
        if (folder / _FILE).is_file():
            return folder / _FILE
    raise KBSpecError(f"the default knowledge base ({_FILE}) is missing: reinstall nsreason, or "
                      "rebuild it with knowledge/build.py")


def default_kb_key() -> str:
    """A short key of the default KB's content (its SHA-256), for caches derived from it."""
    h = hashlib.sha256()
    with default_kb_file().open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def load_default_kb(extra: Iterable[str | os.PathLike] = ()) -> KnowledgeBase:
    """The default KB in memory (pyoxigraph), plus the RDF files of ``extra`` loaded into
    the same store (a user's Turtle file next to it: its facts join the default ones,
    with the provenance that file gives them).

    >>> kb = load_default_kb()                         # doctest: +SKIP
    >>> len(kb) > 400_000                              # doctest: +SKIP
    True
    """
    import pyoxigraph as ox

    from .oxigraph_store import OxigraphKB

    kb = OxigraphKB(None)
    path = default_kb_file()
    try:
        with gzip.open(path, "rb") as f:
            kb.store.bulk_load(f, ox.RdfFormat.N_TRIPLES)
    except (SyntaxError, OSError) as exc:
        raise KBFormatError(f"the default knowledge base does not load: {exc}", source=str(path)) from exc
    for file in extra:
        kb.bulk_load(file)
    return kb
