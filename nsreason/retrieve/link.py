"""Linking mentions (scene object labels, question phrases) to knowledge-base entities.

A mention is looked up by its label, then by its *variants* (lower case, punctuation and a
leading article dropped, the last word made singular: "a Computer." → "computer", "giraffes"
→ "giraffe"), against every ``rdfs:label`` and ``skos:altLabel`` of the KB. The index of
labels is built once per local KB (one pass over its label triples); a remote KB (a SPARQL
endpoint: ``kb.remote``) is never paged through: the mention as written, then each form, is
looked up with a query (:meth:`~nsreason.kb.KnowledgeBase.entities_by_label`, which ignores
case and spacing but not punctuation), all within the KB's time budget
(``kb.limits.timeout``). Each :class:`Link` says how
it was made (``label``, ``variant``), so the trace can show why an object became an entity.

>>> from nsreason.kb import MemoryKB, IRI, RDFS, SKOS, Literal
>>> kb = MemoryKB([(IRI("urn:giraffe"), RDFS.label, Literal("giraffe")),
...                (IRI("urn:tv"), RDFS.label, Literal("television")),
...                (IRI("urn:tv"), SKOS.altLabel, Literal("tv"))])
>>> linker = EntityLinker(kb)
>>> [(str(link.entity), link.method) for link in linker.link("Giraffes")]
[('urn:giraffe', 'variant')]
>>> [(str(link.entity), link.method) for link in linker.link("TV")]
[('urn:tv', 'label')]
>>> linker.link("a unicorn")
[]
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..kb.base import KnowledgeBase
from ..kb.limits import Budget
from ..kb.terms import IRI, RDFS, SKOS, BNode, Literal, Term

__all__ = ["EntityLinker", "Link", "normalise", "variants"]

_ARTICLE = re.compile(r"^(?:a|an|the)\s+")
_PUNCT = re.compile(r"[^\w\s'&-]+")
_SPACE = re.compile(r"\s+")
_IRREGULAR = {"people": "person", "men": "man", "women": "woman", "children": "child",
              "mice": "mouse", "teeth": "tooth", "feet": "foot", "geese": "goose",
              "knives": "knife", "leaves": "leaf", "shelves": "shelf", "wolves": "wolf"}


def normalise(text: str) -> str:
    """Lower case, ``_`` as space, punctuation dropped, white space collapsed.

    >>> normalise("  Hot_Dog. ")
    'hot dog'
    """
    text = _PUNCT.sub(" ", text.lower().replace("_", " "))
    return _SPACE.sub(" ", text).strip()


def _singulars(word: str) -> list[str]:
    """Singular forms ``word`` may have (more than one where English spelling is ambiguous:
    "buses" → bus, "houses" → house)."""
    if word in _IRREGULAR:
        return [_IRREGULAR[word]]
    if len(word) > 4 and word.endswith("ies"):
        return [word[:-3] + "y"]
    if len(word) > 3 and word.endswith("es") and word[-3] in "sxzh":
        return [word[:-2], word[:-1]]  # boxes -> box; horses -> horse
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return [word[:-1]]
    return []


def variants(text: str) -> list[str]:
    """The forms a mention is looked up under, most literal first.

    >>> variants("The Boxes.")
    ['the boxes', 'the box', 'the boxe', 'boxes', 'box', 'boxe']
    >>> variants("buses")[1:]
    ['bus', 'buse']
    """
    out: list[str] = []
    base = normalise(text)
    for form in (base, _ARTICLE.sub("", base)):
        if form and form not in out:
            out.append(form)
        words = form.split()
        for single in (_singulars(words[-1]) if words else []):
            single = " ".join([*words[:-1], single])
            if single not in out:
                out.append(single)
    return out


@dataclass(frozen=True, slots=True)
class Link:
    """A mention linked to an entity: the label that matched, how (``label``: the mention
    is a label or alias; ``variant``: a normalised form of it is) and a score in [0, 1]."""

    mention: str
    entity: IRI | BNode
    label: str
    method: str
    score: float


class EntityLinker:
    """Links mentions to the entities of ``kb`` by label and alias (see the module doc).

    ``max_links`` caps the entities one mention links to (a word can name many synsets).
    """

    def __init__(self, kb: KnowledgeBase, *, max_links: int = 8) -> None:
        self.kb = kb
        self.max_links = max_links
        self._index: dict[str, list[tuple[Term, str]]] | None = None
        members = getattr(kb, "members", None) if kb.remote else None
        if kb.remote:  # local members (of a union) are indexed, remote ones queried
            self._local = [m for m in members or () if not m.remote]
            self._remote = [m for m in members or [kb] if m.remote]
        else:
            self._local, self._remote = [kb], []

    def __repr__(self) -> str:
        size = "not built" if self._index is None else f"{len(self._index)} labels"
        return f"EntityLinker({type(self.kb).__name__}, {size})"

    @property
    def index(self) -> dict[str, list[tuple[Term, str]]]:
        """normalised label → [(entity, label as written)], built on first use."""
        if self._index is None:
            index: dict[str, list[tuple[Term, str]]] = {}
            for pred in (RDFS.label, SKOS.altLabel):
                for t in (t for kb in self._local
                          for t in kb.match(None, pred, None, limit=50_000_000, timeout=600)):
                    if isinstance(t.object, Literal) and not isinstance(t.subject, Literal):
                        key = normalise(t.object.value)
                        if key:
                            index.setdefault(key, []).append((t.subject, t.object.value))
            for entries in index.values():
                entries.sort(key=lambda e: (str(e[0]), e[1]))
            self._index = index
        return self._index

    def labels(self) -> Iterable[str]:
        """Every normalised label of the KB's local part (a remote KB's are not listed)."""
        return self.index.keys()

    def _query(self, form: str, budget: Budget) -> list[tuple[Term, str]]:
        """The entities of the remote KBs with the label ``form``, within ``budget``."""
        found: list[tuple[Term, str]] = []
        with budget:
            for kb in self._remote:  # out of time: the endpoint raises KBTimeoutError
                found.extend((e, form) for e in kb.entities_by_label(
                    form, limit=self.max_links, timeout=max(budget.remaining(), 1e-9))
                    if isinstance(e, (IRI, BNode)))
        return found

    def link(self, mention: str) -> list[Link]:
        """The entities ``mention`` names, best first (empty when none)."""
        index = self.index
        forms = variants(mention)
        out: list[Link] = []
        seen: set[Term] = set()
        budget = Budget(min(kb.limits.timeout for kb in self._remote), "linking",
                        source=repr(mention)[:60]) if self._remote else None
        written = " ".join(mention.split())
        for k, form in enumerate(forms):
            hits = list(index.get(form, ()))
            if budget is not None:  # a remote KB: its labels as written (punctuation kept), then the form
                asked = [written, form] if k == 0 and written.lower() != form else [form]
                hits += [hit for text in asked for hit in self._query(text, budget)]
            for entity, label in hits:
                if entity in seen:
                    continue
                seen.add(entity)
                exact = k == 0
                out.append(Link(mention, entity, label, "label" if exact else "variant",
                                1.0 if exact else 0.9))
            if out:
                break  # a more literal form matched: don't widen
        return out[: self.max_links]
