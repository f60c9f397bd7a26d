"""Questions that need a CLEVR scene *and* a small Turtle knowledge base, with answers.

:func:`generate_kb_questions` writes questions about CLEVR scenes whose answer depends on
facts of a user's KB about the scene's attribute values (the shapes, materials and colours):
"How many things can roll?", "What is the typical use of the material of the thing left of
the small red sphere?". The questions come in the CLEVR v1.0 release format *without
programs*, so they measure a parser that must join the scene and the KB from the words
alone (``nsreason eval clevr --parser default --kb FILE``).

This module is an evaluation-data generator, written apart from the engine: it reads the
scenes' JSON itself and the KB with rdflib directly (never :mod:`nsreason.kb`), and computes
every answer from the objects' attributes, the scene's ``relationships`` lists and the
graph.

**The KB.** An attribute value is linked to the KB entity whose ``rdfs:label`` is the CLEVR
value ("cube", "metal", "red"...) and which has the relation asked about. A fact's value is
the answer: a boolean literal (yes/no, or what counts select), another literal (its text; an
integer as digits), or an entity (its ``rdfs:label``). Answers are lower-case strings, as
CLEVR writes them. A question is kept only when its object descriptions are unique in the
scene and every fact it needs has exactly one value (an entity value: exactly one label).

**The templates** (JSON data; see ``tests/fixtures/clevr_kb_small_templates.json``)::

    {"families": [
      {"name": "query_direct", "kind": "query", "reference": "direct", "templates": [
        {"relations": ["ex:usedFor"], "attribute": "material",
         "texts": ["What is the typical use of the material of {obj}?",
                   "What is {obj}'s material used for?"]}]},
      {"name": "count", "kind": "count", "filters": [0, 0], "templates": [
        {"relations": ["ex:can_roll"], "attribute": "shape", "texts": ["How many {things} can roll?"]}]}]}

``kind``: ``query`` (the value of one relation of the object's ``attribute``), ``two_hop``
(two relations, the first reaching an entity), ``yes_no`` (a boolean relation of one
object), ``count`` (objects whose boolean relation is true, among ``{things}``, described by
``filters`` = [fewest, most] attributes other than ``attribute``). ``reference``: how
``{obj}`` names the object: ``direct`` ("the large metal cylinder"), ``related`` ("the thing
left of the small red sphere") or ``any``. A text with ``{obj}'s`` (a possessive) is used
with direct references only. Relations are written as IRIs or as prefixed names the KB file
binds.

Command line::

    python -m nsreason.datasets.clevr.kb_questions --scenes CLEVR_val_scenes.json \\
        --kb kb.ttl --templates templates.json --out questions.json --images odd --per-scene 2

>>> words("metal"), plural("sphere")
(('metal', 'metallic', 'shiny'), 'spheres')
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import string
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import InputError
from ...jsonio import read_json

if TYPE_CHECKING:
    import rdflib

__all__ = [
    "ATTRIBUTE_VALUES",
    "KINDS",
    "KBFacts",
    "KBFamily",
    "KBTemplate",
    "generate_kb_questions",
    "load_kb",
    "load_kb_templates",
    "load_scenes",
    "main",
    "plural",
    "words",
]

ATTRIBUTES = ("size", "color", "material", "shape")
"""CLEVR's attributes, in the order its questions put their words."""

ATTRIBUTE_VALUES: dict[str, tuple[str, ...]] = {
    "size": ("large", "small"),
    "color": ("gray", "red", "blue", "green", "brown", "purple", "cyan", "yellow"),
    "material": ("metal", "rubber"),
    "shape": ("cube", "sphere", "cylinder"),
}

_WORDS: dict[str, tuple[str, ...]] = {  # CLEVR's synonyms (synonyms.json)
    "large": ("large", "big"),
    "small": ("small", "tiny"),
    "metal": ("metal", "metallic", "shiny"),
    "rubber": ("rubber", "matte"),
    "cube": ("cube", "block"),
    "sphere": ("sphere", "ball"),
    "cylinder": ("cylinder",),
    "": ("thing", "object"),
}

_RELATION_WORDS: dict[str, tuple[str, ...]] = {
    "left": ("left of", "to the left of", "on the left side of"),
    "right": ("right of", "to the right of", "on the right side of"),
    "front": ("in front of",),
    "behind": ("behind",),
}

KINDS = ("query", "two_hop", "yes_no", "count")
REFERENCES = ("direct", "related", "any")
_SLOTS = {"query": {"obj"}, "two_hop": {"obj"}, "yes_no": {"obj"}, "count": {"things"}}
_RELATIONS_NEEDED = {"query": 1, "two_hop": 2, "yes_no": 1, "count": 1}


def words(value: str) -> tuple[str, ...]:
    """The words CLEVR uses for an attribute value ("" → the nouns for any object)."""
    return _WORDS.get(value, (value,))


def plural(noun: str) -> str:
    """The plural of a CLEVR noun ("sphere" → "spheres", "thing" → "things")."""
    return noun + "s"


# ---------------------------------------------------------------------------------------------
# reading: scenes, KB, templates


def load_scenes(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ``info`` and ``scenes`` of a CLEVR scenes file, checked: every object has the four
    CLEVR attributes with CLEVR values, and ``relationships`` holds, for each of left, right,
    front and behind, one list of object indices per object (``relationships["left"][i]``:
    the objects left of object ``i``). Problems raise :class:`InputError` naming the file
    and the place."""
    data = read_json(path)
    src = str(path)
    if not isinstance(data, Mapping) or not isinstance(data.get("scenes"), list):
        raise InputError("expected a CLEVR scenes file: an object with a 'scenes' list", source=src)
    scenes = data["scenes"]
    for i, scene in enumerate(scenes):
        where = f"scenes[{i}]"
        if not isinstance(scene, Mapping):
            raise InputError(f"expected an object, got {type(scene).__name__}", path=where, source=src)
        index = scene.get("image_index")
        if not isinstance(index, int) or isinstance(index, bool):
            raise InputError(f"expected an integer, got {index!r}", path=f"{where}.image_index", source=src)
        objects = scene.get("objects")
        if not isinstance(objects, list):
            raise InputError("expected a list of objects", path=f"{where}.objects", source=src)
        for j, obj in enumerate(objects):
            for attr, values in ATTRIBUTE_VALUES.items():
                got = obj.get(attr) if isinstance(obj, Mapping) else None
                if got not in values:
                    raise InputError(f"expected one of {list(values)}, got {got!r}",
                                     path=f"{where}.objects[{j}].{attr}", source=src)
        rels = scene.get("relationships")
        for rel in _RELATION_WORDS:
            lists = rels.get(rel) if isinstance(rels, Mapping) else None
            if not isinstance(lists, list) or len(lists) != len(objects) or not all(
                isinstance(x, list) and all(isinstance(k, int) and 0 <= k < len(objects) for k in x)
                for x in lists
            ):
                raise InputError(f"expected one list of object indices (< {len(objects)}) per object",
                                 path=f"{where}.relationships.{rel}", source=src)
    info = data.get("info")
    return (dict(info) if isinstance(info, Mapping) else {}), scenes


@dataclass
class KBFacts:
    """A KB read with rdflib: relations by name, subjects by label, single values.

    >>> kb = load_kb_text('''@prefix ex: <http://example.org/> .
    ... @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
    ... ex:Sphere rdfs:label "sphere" ; ex:rolls true .
    ... ex:rolls rdfs:label "can roll" .''')
    >>> kb.value(kb.relation("ex:rolls"), "sphere")
    True
    """

    graph: rdflib.Graph
    source: str

    def relation(self, name: str) -> rdflib.URIRef:
        """The predicate ``name`` names (an IRI or a prefixed name bound in the file).
        Raises :class:`KeyError` when the KB has no triple with it."""
        import rdflib

        iri: rdflib.URIRef | None = None
        if ":" in name and not name.startswith(("http://", "https://", "urn:")):
            prefix, _, local = name.partition(":")
            for p, ns in self.graph.namespaces():
                if p == prefix:
                    iri = rdflib.URIRef(str(ns) + local)
        if iri is None:
            iri = rdflib.URIRef(name)
        if (None, iri, None) not in self.graph:
            raise KeyError(name)
        return iri

    def relations(self) -> list[str]:
        """Every predicate of the KB except rdf/rdfs ones, as written in the file (prefixed)."""
        skip = ("http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://www.w3.org/2000/01/rdf-schema#")
        preds = {p for p in self.graph.predicates() if not str(p).startswith(skip)}
        return sorted(self.graph.namespace_manager.normalizeUri(str(p)) for p in preds)

    def subject(self, relation: rdflib.URIRef, label: str) -> rdflib.term.Node | None:
        """The one entity labelled ``label`` that has ``relation`` (None: none or several)."""
        import rdflib

        found = {
            s for s in self.graph.subjects(rdflib.RDFS.label, None)
            if any(str(lab).lower() == label for lab in self.graph.objects(s, rdflib.RDFS.label))
            and (s, relation, None) in self.graph
        }
        return found.pop() if len(found) == 1 else None

    def single(self, subject: rdflib.term.Node, relation: rdflib.URIRef) -> rdflib.term.Node | None:
        """The one value of ``relation`` for ``subject`` (None: no value, or several)."""
        values = set(self.graph.objects(subject, relation))
        return values.pop() if len(values) == 1 else None

    def answer(self, node: rdflib.term.Node | None) -> bool | int | str | None:
        """A fact's value as an answer: a boolean, an integer, or lower-case text (an
        entity's one ``rdfs:label``); None when it has none or several labels."""
        import rdflib

        if node is None:
            return None
        if isinstance(node, rdflib.Literal):
            value = node.toPython()
            if isinstance(value, bool | int):
                return value
            return str(node).strip().lower() or None
        labels = {str(lab).strip().lower() for lab in self.graph.objects(node, rdflib.RDFS.label)}
        return labels.pop() if len(labels) == 1 else None

    def value(self, relation: rdflib.URIRef, attribute_value: str) -> bool | int | str | None:
        """The answer of ``relation`` for the entity of a CLEVR attribute value."""
        subject = self.subject(relation, attribute_value)
        return None if subject is None else self.answer(self.single(subject, relation))

    def hop(self, relation: rdflib.URIRef, attribute_value: str) -> rdflib.term.Node | None:
        """The one *entity* ``relation`` reaches from a CLEVR attribute value's entity."""
        import rdflib

        subject = self.subject(relation, attribute_value)
        node = None if subject is None else self.single(subject, relation)
        return node if isinstance(node, rdflib.URIRef | rdflib.BNode) else None


def load_kb(path: str | Path) -> KBFacts:
    """Read an RDF file (Turtle, N-Triples... by its suffix; Turtle otherwise) with rdflib.
    A missing, unreadable or empty file raises :class:`InputError` naming it."""
    try:
        import rdflib
        from rdflib.util import guess_format
    except ImportError:  # pragma: no cover - rdflib ships with the `knowledge` extra
        raise InputError("reading a KB needs rdflib: pip install 'nsreason[knowledge]'",
                         source=str(path)) from None
    p = Path(path)
    if not p.is_file():
        raise InputError("file not found" if not p.exists() else "expected an RDF file, got a directory",
                         source=str(path))
    fmt = guess_format(str(p)) or "turtle"
    graph = rdflib.Graph()
    try:
        graph.parse(str(p), format=fmt)
    except Exception as exc:  # noqa: BLE001 - rdflib's parsers raise many kinds
        raise InputError(f"not readable as {fmt}: {type(exc).__name__}: {exc}", source=str(path)) from None
    if len(graph) == 0:
        raise InputError(f"no triples read (as {fmt})", source=str(path))
    return KBFacts(graph, str(path))


def load_kb_text(text: str, fmt: str = "turtle", source: str = "<text>") -> KBFacts:
    """A KB from RDF text (for examples and tests); bad text raises :class:`InputError`."""
    import rdflib

    graph = rdflib.Graph()
    try:
        graph.parse(data=text, format=fmt)
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"not readable as {fmt}: {type(exc).__name__}: {exc}", source=source) from None
    return KBFacts(graph, source)


@dataclass(frozen=True)
class KBTemplate:
    """Question texts over one relation chain of one attribute."""

    relations: tuple[str, ...]
    attribute: str
    texts: tuple[str, ...]


@dataclass(frozen=True)
class KBFamily:
    """A question family: its ``name``, ``kind``, how ``{obj}`` is named (``reference``),
    the filter sizes of counts (``filters``) and its templates."""

    name: str
    kind: str
    reference: str
    filters: tuple[int, int]
    templates: tuple[KBTemplate, ...]


def load_kb_templates(source: str | Path | Mapping[str, Any]) -> list[KBFamily]:
    """Read question templates (a JSON file or its parsed dict), checked: malformed entries
    raise :class:`InputError` naming the file and ``families[i].templates[j].field``."""
    origin = str(source) if isinstance(source, str | Path) else None
    data = read_json(source) if isinstance(source, str | Path) else source

    def bad(message: str, where: str) -> InputError:
        return InputError(message, path=where, source=origin)

    if not isinstance(data, Mapping) or not isinstance(data.get("families"), list) or not data["families"]:
        raise bad("expected an object with a non-empty 'families' list", "families")
    families = []
    names: set[str] = set()
    for i, fam in enumerate(data["families"]):
        where = f"families[{i}]"
        if not isinstance(fam, Mapping):
            raise bad("expected an object", where)
        name, kind = fam.get("name"), fam.get("kind")
        if not isinstance(name, str) or not name or name in names:
            raise bad(f"expected a new family name, got {name!r}", f"{where}.name")
        names.add(name)
        if kind not in KINDS:
            raise bad(f"expected one of {list(KINDS)}, got {kind!r}", f"{where}.kind")
        reference = fam.get("reference", "any")
        if reference not in REFERENCES:
            raise bad(f"expected one of {list(REFERENCES)}, got {reference!r}", f"{where}.reference")
        filters = fam.get("filters", [0, 0])
        if (not isinstance(filters, list) or len(filters) != 2
                or not all(isinstance(x, int) and 0 <= x <= 3 for x in filters) or filters[0] > filters[1]):
            raise bad(f"expected [fewest, most] attributes (0..3), got {filters!r}", f"{where}.filters")
        raw = fam.get("templates")
        if not isinstance(raw, list) or not raw:
            raise bad("expected a non-empty list", f"{where}.templates")
        templates = []
        for j, t in enumerate(raw):
            tw = f"{where}.templates[{j}]"
            if not isinstance(t, Mapping):
                raise bad("expected an object", tw)
            rels = t.get("relations")
            if (not isinstance(rels, list) or len(rels) != _RELATIONS_NEEDED[kind]
                    or not all(isinstance(r, str) and r for r in rels)):
                raise bad(f"expected {_RELATIONS_NEEDED[kind]} relation name(s) for kind {kind!r}, got {rels!r}",
                          f"{tw}.relations")
            attribute = t.get("attribute")
            if attribute not in ("color", "material", "shape", "size"):
                raise bad(f"expected one of {list(ATTRIBUTES)}, got {attribute!r}", f"{tw}.attribute")
            texts = t.get("texts")
            if not isinstance(texts, list) or not texts or not all(isinstance(x, str) and x for x in texts):
                raise bad("expected a non-empty list of texts", f"{tw}.texts")
            for k, text in enumerate(texts):
                try:
                    slots = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
                except ValueError as exc:
                    raise bad(f"not a text with {{slots}}: {exc}", f"{tw}.texts[{k}]") from None
                if slots != _SLOTS[kind]:
                    raise bad(f"expected the slot(s) {sorted(_SLOTS[kind])}, got {sorted(slots)}",
                              f"{tw}.texts[{k}]")
            templates.append(KBTemplate(tuple(rels), attribute, tuple(texts)))
        families.append(KBFamily(name, kind, reference, (filters[0], filters[1]), tuple(templates)))
    return families


# ---------------------------------------------------------------------------------------------
# describing objects


def _matches(obj: Mapping[str, Any], desc: Mapping[str, str]) -> bool:
    return all(obj[a] == v for a, v in desc.items())


def _unique_description(objects: Sequence[Mapping[str, Any]], i: int, among: Sequence[int],
                        rng: random.Random, allow_empty: bool = False, exclude: str = "") -> dict[str, str] | None:
    """A random short set of object ``i``'s attribute values (not ``exclude``) that no other
    object of ``among`` has (the fewest attributes, or one more); None when none is unique."""
    found = []
    usable = [a for a in ATTRIBUTES if a != exclude]
    for k in range(0 if allow_empty else 1, len(usable) + 1):
        for attrs in itertools.combinations(usable, k):
            desc = {a: objects[i][a] for a in attrs}
            if sum(_matches(objects[j], desc) for j in among) == 1:
                found.append(desc)
    if not found:
        return None
    fewest = min(map(len, found))
    return rng.choice([d for d in found if len(d) <= fewest + 1])


def _phrase(desc: Mapping[str, str], rng: random.Random, *, many: bool = False) -> str:
    """CLEVR words for a description: "large metal cylinder", "red thing", ("red things")."""
    adjectives = [rng.choice(words(desc[a])) for a in ("size", "color", "material") if a in desc]
    noun = rng.choice(words(desc.get("shape", "")))
    return " ".join([*adjectives, plural(noun) if many else noun])


def _direct(scene: Mapping[str, Any], rng: random.Random, exclude: str = "") -> tuple[int, str] | None:
    """An object named by a description unique in the scene, without the ``exclude``
    attribute (the one the question asks about): "the large metal cylinder"."""
    objects = scene["objects"]
    i = rng.randrange(len(objects))
    desc = _unique_description(objects, i, range(len(objects)), rng, exclude=exclude)
    return None if desc is None else (i, "the " + _phrase(desc, rng))


def _related(scene: Mapping[str, Any], rng: random.Random, exclude: str = "") -> tuple[int, str] | None:
    """An object named through a spatial relation from a uniquely described anchor: "the
    cube left of the small red sphere" (unique among the objects left of the anchor)."""
    objects = scene["objects"]
    anchor = rng.randrange(len(objects))
    anchor_desc = _unique_description(objects, anchor, range(len(objects)), rng)
    if anchor_desc is None:
        return None
    rel = rng.choice(list(_RELATION_WORDS))
    around = scene["relationships"][rel][anchor]
    if not around:
        return None
    target = rng.choice(around)
    desc = _unique_description(objects, target, around, rng, allow_empty=True, exclude=exclude)
    if desc is None:
        return None
    that = rng.choice(("", "that is "))
    text = f"the {_phrase(desc, rng)} {that}{rng.choice(_RELATION_WORDS[rel])} the {_phrase(anchor_desc, rng)}"
    return target, text


# ---------------------------------------------------------------------------------------------
# generating


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:]


def _instantiate(fam: KBFamily, tpl: KBTemplate, rels: Sequence[rdflib.URIRef], kb: KBFacts,
                 scene: Mapping[str, Any], rng: random.Random) -> tuple[str, str] | None:
    """One question of ``tpl`` on ``scene`` and its answer, or None when this draw is
    ambiguous or its answer undefined."""
    objects = scene["objects"]
    if fam.kind == "count":
        text = rng.choice(tpl.texts)
        k = rng.randint(*fam.filters)
        anchor = objects[rng.randrange(len(objects))]
        attrs = rng.sample([a for a in ATTRIBUTES if a != tpl.attribute], k)
        desc = {a: anchor[a] for a in attrs}
        members = [o for o in objects if _matches(o, desc)]
        values = [kb.value(rels[0], o[tpl.attribute]) for o in members]
        if not all(isinstance(v, bool) for v in values):
            return None
        return _sentence(text.format(things=_phrase(desc, rng, many=True))), str(sum(map(bool, values)))
    kind = rng.choice(("direct", "related")) if fam.reference == "any" else fam.reference
    texts = [t for t in tpl.texts if kind == "direct" or "{obj}'s" not in t]  # possessives: direct only
    ref = (_direct if kind == "direct" else _related)(scene, rng, tpl.attribute)
    if ref is None or not texts:
        return None
    text = rng.choice(texts)
    i, phrase = ref
    value = objects[i][tpl.attribute]
    answer: bool | int | str | None
    if fam.kind == "two_hop":
        middle = kb.hop(rels[0], value)
        answer = None if middle is None else kb.answer(kb.single(middle, rels[1]))
    else:
        answer = kb.value(rels[0], value)
    if fam.kind == "yes_no":
        if not isinstance(answer, bool):
            return None
        answer_text = "yes" if answer else "no"
    else:
        if answer is None or isinstance(answer, bool):
            return None
        answer_text = str(answer)
    return _sentence(text.format(obj=phrase)), answer_text


def generate_kb_questions(
    scenes_file: str | Path,
    kb_file: str | Path,
    templates: str | Path | Mapping[str, Any] | Sequence[KBFamily],
    *,
    images: str = "odd",
    per_scene: int = 3,
    seed: int = 0,
    tries: int = 40,
) -> list[dict[str, Any]]:
    """Questions in the CLEVR v1.0 release format without programs (``image_index``,
    ``image_filename``, ``question``, ``answer``, ``split``, ``question_family_index`` =
    the family's position in the templates, ``question_index``), up to ``per_scene`` on each
    scene of ``images`` (``"odd"``, ``"even"`` or ``"all"`` image indices).

    Families take turns across the scenes (so each gets a fair share); a family that has no
    well-defined question on a scene after ``tries`` draws gives its turn to the next. Yes/no
    families alternate the answer they look for first (an even share of yes and no where
    the scenes allow). One scene never gets the same text twice. The same arguments give the
    same questions.
    """
    if images not in ("odd", "even", "all"):
        raise InputError(f"expected images to be one of ['all', 'even', 'odd'], got {images!r}")
    if per_scene < 1:
        raise InputError(f"expected per_scene >= 1, got {per_scene}")
    info, scenes = load_scenes(scenes_file)
    kb = load_kb(kb_file)
    families = _families(templates)
    tsrc = str(templates) if isinstance(templates, str | Path) else "templates"
    resolved: list[list[tuple[KBTemplate, list[Any]]]] = []
    for i, fam in enumerate(families):
        row = []
        for j, tpl in enumerate(fam.templates):
            try:
                rels = [kb.relation(r) for r in tpl.relations]
            except KeyError as exc:
                raise InputError(f"relation {exc.args[0]!r} is not in the KB {kb.source} "
                                 f"(its relations: {', '.join(kb.relations())})",
                                 path=f"families[{i}].templates[{j}].relations", source=tsrc) from None
            row.append((tpl, rels))
        resolved.append(row)
    split = str(info.get("split", "val"))
    out: list[dict[str, Any]] = []
    turn = 0
    want_yes = True
    for scene in scenes:
        index = scene["image_index"]
        if images != "all" and index % 2 != (images == "odd"):
            continue
        if not scene["objects"]:
            continue
        rng = random.Random(f"{seed}:{index}")
        seen: set[str] = set()
        for _ in range(per_scene):
            for shift in range(len(families)):
                f = (turn + shift) % len(families)
                fam = families[f]
                made = _draw(fam, resolved[f], kb, scene, rng, tries, seen, want_yes)
                if made is None:
                    continue
                question, answer = made
                if fam.kind == "yes_no":
                    want_yes = not want_yes
                seen.add(question)
                out.append({
                    "image_index": index,
                    "image_filename": scene.get("image_filename", f"CLEVR_{split}_{index:06d}.png"),
                    "question": question,
                    "answer": answer,
                    "split": split,
                    "question_family_index": f,
                    "question_index": len(out),
                })
                turn = f + 1
                break
    return out


def _draw(fam: KBFamily, row: Sequence[tuple[KBTemplate, list[Any]]], kb: KBFacts, scene: Mapping[str, Any],
          rng: random.Random, tries: int, seen: set[str], want_yes: bool) -> tuple[str, str] | None:
    fallback = None
    for _ in range(tries):
        tpl, rels = rng.choice(row)
        made = _instantiate(fam, tpl, rels, kb, scene, rng)
        if made is None or made[0] in seen:
            continue
        if fam.kind != "yes_no" or (made[1] == "yes") == want_yes:
            return made
        fallback = fallback or made
    return fallback


def _families(templates: str | Path | Mapping[str, Any] | Sequence[KBFamily]) -> list[KBFamily]:
    if isinstance(templates, str | Path | Mapping):
        return load_kb_templates(templates)
    if not all(isinstance(t, KBFamily) for t in templates):
        raise InputError("expected a templates file, its dict, or KBFamily objects")
    return list(templates)


def write_kb_questions(questions: list[dict[str, Any]], out: str | Path, *, scenes_file: str | Path,
                       kb_file: str | Path, families: Sequence[KBFamily], **settings: Any) -> None:
    """Write ``questions`` as a CLEVR release-format file; ``info`` names the scenes, KB,
    family names (by ``question_family_index``) and the generator settings."""
    info, _ = load_scenes(scenes_file)
    info.update({
        "generator": "nsreason.datasets.clevr.kb_questions",
        "scenes": Path(scenes_file).name,
        "kb": Path(kb_file).name,
        "families": [f.name for f in families],
        "family_kinds": [f.kind for f in families],
        **settings,
    })
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps({"info": info, "questions": questions}, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """``python -m nsreason.datasets.clevr.kb_questions``: write a question set, print its
    families' sizes."""
    ap = argparse.ArgumentParser(description="CLEVR questions that need a scene and a Turtle KB (release format)")
    ap.add_argument("--scenes", required=True, help="a CLEVR scenes file (CLEVR_<split>_scenes.json)")
    ap.add_argument("--kb", required=True, help="the KB (Turtle, or another RDF format by suffix)")
    ap.add_argument("--templates", required=True, help="question templates (JSON)")
    ap.add_argument("--out", required=True, help="where to write the questions (JSON)")
    ap.add_argument("--images", default="odd", choices=["odd", "even", "all"],
                    help="only scenes with these image indices (default odd)")
    ap.add_argument("--per-scene", type=int, default=3, help="questions per scene (default 3)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    try:
        families = load_kb_templates(args.templates)
        questions = generate_kb_questions(args.scenes, args.kb, families, images=args.images,
                                          per_scene=args.per_scene, seed=args.seed)
        write_kb_questions(questions, args.out, scenes_file=args.scenes, kb_file=args.kb, families=families,
                           templates=Path(args.templates).name, images=args.images,
                           per_scene=args.per_scene, seed=args.seed)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    counts = Counter(q["question_family_index"] for q in questions)
    print(f"{len(questions)} questions on {len({q['image_index'] for q in questions})} scenes -> {args.out}")
    for i, fam in enumerate(families):
        print(f"  {fam.name:<20} {counts.get(i, 0):>5}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
