"""Retrieval of facts for knowledge questions: entity linking, facts with provenance, the
fact ranker, the retriever and the knowledge ops (see docs/knowledge.md).

>>> from nsreason.retrieve import variants
>>> variants("Giraffes")
['giraffes', 'giraffe']
"""

from __future__ import annotations

from .facts import FactRecord, entity_facts
from .link import EntityLinker, Link, normalise, variants
from .ranker import FEATURES, Ranker
from .retriever import Candidate, Retrieval, Retriever

__all__ = ["FEATURES", "Candidate", "EntityLinker", "FactRecord", "Link", "Ranker", "Retrieval",
           "Retriever", "entity_facts", "normalise", "variants"]
