"""More CLEVR templates from the official ones: object phrases grown by relative clauses.

The official templates fix how deep a question nests (three hops at most), where a
relative clause may stand (never inside "either ... or", a comparison of two objects, or a
count comparison) and which clause follows which. A parser trained only on them learns
those 71 shapes and little else. People, and the held-out checks, combine the same phrases
freely, so the training data should cover the *closure* of the phrase grammar.

:func:`grow_template` takes one official template and rewrites a noun phrase that stands
on the whole scene ("the <Z2> <C2> <M2> <S2>", "<Z> <C> <M> <S>s") into the same phrase
with a clause that picks a new object:

* a spatial clause: "the cube [that is] <R5> the <Z5> <C5> <M5> <S5>", i.e. the filter now
  reads ``relate[<R5>](unique(filter(<5>)(scene())))`` instead of ``scene()``;
* a same-attribute clause: "the other cube that is the same color as the <5>", i.e.
  ``same_color(unique(filter(<5>)(scene())))``, with the official constraint that neither
  phrase names the shared attribute (``NULL``);
* a "both ... and ..." clause: "the cube that is [both] <R5> the <5> and <R6> the <6>",
  i.e. ``intersect(relate[<R5>](unique(...<5>...)), relate[<R6>](unique(...<6>...)))``, as
  CLEVR's ``single_and`` templates write it, with their constraint that the two objects
  differ (``OUT_NEQ``);
* a superlative: "the leftmost cube", "the cube on the far left", "the thing closest to
  the camera", i.e. ``unique(extreme[<D5>](filter(<5>)(scene())))`` in place of
  ``unique(filter(<5>)(scene()))``. CLEVR has no such op; people use it all the time
  (:data:`~nsreason.datasets.clevr.SUPERLATIVES` lists the wordings). Only a
  phrase written "the ..." that names one object takes it, and the search keeps only
  directions that pick one object out of several.

The new object phrase stands on the scene again, so it may be grown in turn: nesting goes
deeper than any template's. Programs are rewired at the template level, texts get the
same clause in every wording (wordings where the phrase is not written out exactly once
are dropped), and the result is an ordinary template: :func:`generate_augmented`
instantiates, checks and words it with the official engine
(:func:`nsreason.datasets.clevr.generate_questions`).

>>> from nsreason.datasets.clevr import ClevrTemplate
>>> t = ClevrTemplate.from_dict({
...     "text": ["What color is the <Z> <C> <M> <S>?"],
...     "nodes": [{"type": "scene", "inputs": []},
...               {"type": "filter_unique", "inputs": [0],
...                "side_inputs": ["<Z>", "<C>", "<M>", "<S>"]},
...               {"type": "query_color", "inputs": [1]}],
...     "params": [{"name": n, "type": t} for n, t in
...                [("<Z>", "Size"), ("<C>", "Color"), ("<M>", "Material"), ("<S>", "Shape")]],
...     "constraints": [{"type": "NULL", "params": ["<C>"]}]})
>>> grown = grow_template(t, 1, "spatial")
>>> grown.texts
('What color is the <Z> <C> <M> <S> [that is] <R2> the <Z2> <C2> <M2> <S2>?',)
>>> [n.type for n in grown.nodes]
['scene', 'filter_unique', 'relate', 'filter_unique', 'query_color']
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ...errors import InputError
from ...program.ir import Program
from ...scene.graph import SceneGraph
from .generate import generate_questions, run_generator
from .templates import ClevrTemplate, TemplateNode, load_templates
from .text import SYNONYMS

__all__ = [
    "CLAUSES",
    "CLAUSE_WEIGHTS",
    "JOINED_CLAUSE_WEIGHTS",
    "augmented_templates",
    "everyday_templates",
    "generate_augmented",
    "grow_template",
    "growable_slots",
    "hops",
    "main",
    "predicate_templates",
    "substitute_values",
]

CLAUSES = ("spatial", "same_size", "same_color", "same_material", "same_shape", "both", "superlative",
           "and_size", "and_color", "and_material", "or_size", "or_color", "or_material")
"""Kinds of clause :func:`grow_template` can attach."""

CLAUSE_WEIGHTS: dict[str, int] = {"spatial": 3, "same_size": 1, "same_color": 1, "same_material": 1,
                                  "same_shape": 1, "both": 2, "superlative": 3}
"""The clauses :func:`augmented_templates` draws by default, with their weights (the shipped
parser's first training stage); the attribute clauses joined to a spatial one ("and_*",
"or_*": "the cylinder that is metal and left of the cube", "things that are either red or
behind the ball") are drawn only when asked for (:data:`JOINED_CLAUSE_WEIGHTS`)."""

JOINED_CLAUSE_WEIGHTS: dict[str, int] = {**CLAUSE_WEIGHTS, "and_size": 2, "and_color": 2, "and_material": 2,
                                         "or_size": 1, "or_color": 1, "or_material": 1}
"""Every clause, the attribute clauses joined to a spatial clause among them."""

_OBJECT_NODES = frozenset({"filter", "filter_unique", "filter_count", "filter_exist"})
_LETTERS = {"Size": "Z", "Color": "C", "Material": "M", "Shape": "S"}
_SAME_PHRASE = {"size": "the same size as", "color": "the same color as",
                "material": "[made of] the same material as", "shape": "the same shape as"}
_SUFFIX = re.compile(r"<[A-Z](\d*)>")


def _object_params(node: TemplateNode) -> tuple[str, ...] | None:
    """The four object parameters ``<Z?> <C?> <M?> <S?>`` of a filter node, else None."""
    side = node.side_inputs
    if len(side) != 4 or [s[1] for s in side] != ["Z", "C", "M", "S"]:
        return None
    return side


def hops(template: ClevrTemplate) -> int:
    """The most relation or same-attribute hops on any path of ``template``'s program
    (template nodes ``relate_filter*`` count as one hop)."""
    depth: list[int] = []
    for node in template.nodes:
        own = node.type.startswith(("relate", "same_"))
        depth.append(own + max((depth[j] for j in node.inputs), default=0))
    return max(depth, default=0)


def growable_slots(template: ClevrTemplate) -> list[int]:
    """Nodes whose noun phrase can take a clause: attribute filters (``filter``,
    ``filter_unique``/``_count``/``_exist``) read straight from ``scene`` whose four
    parameters are written out exactly once in at least one wording."""
    out = []
    superlative_inputs = {n.inputs[0] for n in template.nodes if n.type == "extreme"}
    for i, node in enumerate(template.nodes):
        params = _object_params(node)
        if node.type not in _OBJECT_NODES or params is None or len(node.inputs) != 1:
            continue
        if i in superlative_inputs:  # "the leftmost cube [that is] left of ..." reads two ways
            continue
        if template.nodes[node.inputs[0]].type != "scene":
            continue
        phrase = " ".join(params)
        if any(t.count(phrase) == 1 for t in template.texts):
            out.append(i)
    return out


def _next_suffix(template: ClevrTemplate) -> str:
    used = [int(m.group(1) or 1) for name, _ in template.params for m in [_SUFFIX.fullmatch(name)] if m]
    return str(max(used, default=0) + 1)


def _grow_text(text: str, phrase: str, clause: str, new: str, attr: str | None) -> str | None:
    """``text`` with the clause after the one occurrence of ``phrase`` (None if not once)."""
    joins = clause == "both" or clause.startswith(("and_", "or_"))
    if text.count(phrase) != 1 or (joins and re.search(r"\b(and|or)\b", text)):
        return None  # "both ... and ..." beside another "and" or "or" reads two ways
    start = text.index(phrase)
    end = start + len(phrase)
    plural = text[end : end + 1] == "s"
    head = phrase + ("s" if plural else "")
    if clause == "superlative":  # "the <D5> <Z> ..." or "the <Z> ... <D5>": see fill_text
        if plural or not text[:start].lower().endswith("the "):
            return None
        return text[:start] + (f"{new} {phrase}" if attr == "before" else f"{phrase} {new}") + text[end:]
    if clause == "spatial":
        grown = f"{head} [{'that are' if plural else 'that is'}] {new}"
        return text[:start] + grown + text[end + plural :]
    if clause == "both" or clause.startswith("and_"):
        grown = f"{head} {'that are' if plural else 'that is'} [both] {new}"
        return text[:start] + grown + text[end + plural :]
    if clause.startswith("or_"):  # "things that are either red or left of the ball": a set
        if not plural:
            return None
        return text[:start] + f"{head} that are [either] {new}" + text[end + plural :]
    assert attr is not None
    grown = f"{head} {'that are' if plural else 'that is'} {_SAME_PHRASE[attr]} {new}"
    before = text[:start]
    # "the other cube that ...", "another cube that ...", "any other cubes that ..."
    article = re.search(r"(?:^|\s)([Aa]n?) $", before)
    if article:  # "a cube" -> "another cube"
        another = "Another" if article.group(1)[0] == "A" else "another"
        before = before[: article.start(1)] + another + " "
    elif not before.endswith("other "):
        before += "other "
    return before + grown + text[end + plural :]


def grow_template(template: ClevrTemplate, slot: int, clause: str) -> ClevrTemplate | None:
    """``template`` with a ``clause`` (one of :data:`CLAUSES`) on the noun phrase of node
    ``slot`` (one of :func:`growable_slots`); None when no wording can take it (a
    same-attribute clause on a phrase whose wording already says "other" twice, say; a
    "both ... and ..." clause in a template that already intersects; wordings that already
    say "and" are dropped for it)."""
    if clause not in CLAUSES:
        raise InputError(f"unknown clause {clause!r}; known: {list(CLAUSES)}")
    node = template.nodes[slot]
    params = _object_params(node)
    if params is None or slot not in growable_slots(template):
        raise InputError(f"node {slot} of {template.filename}[{template.family}] cannot take a clause")
    if (clause == "both" or clause.startswith(("and_", "or_"))) and any(
            n.type in ("intersect", "union") for n in template.nodes):
        return None  # "both ... and ..." inside another reads two ways
    if clause == "superlative" and node.type != "filter_unique":
        return None  # only a phrase naming one object: "the leftmost cube"
    k = int(_next_suffix(template))
    obj = tuple(f"<{letter}{k}>" for letter in "ZCMS")
    new_params: list[tuple[str, str]] = list(zip(obj, ("Size", "Color", "Material", "Shape")))
    attr = clause.removeprefix("same_") if clause.startswith("same_") else None
    joined = clause.split("_", 1)[1] if clause.startswith(("and_", "or_")) else None
    # the nodes put before the slot: inputs are "scene" (the slot's scene) or positions
    # within this block; the slot then reads the block's last node
    block: list[tuple[str, tuple[int | str, ...], tuple[str, ...]]]
    if clause == "spatial":
        new_params.append((f"<R{k}>", "Relation"))
        block = [("filter_unique", ("scene",), obj), ("relate", (0,), (f"<R{k}>",))]
        new_text = f"<R{k}> the {' '.join(obj)}"
    elif clause == "both":
        obj2 = tuple(f"<{letter}{k + 1}>" for letter in "ZCMS")
        new_params += [(f"<R{k}>", "Relation"), *zip(obj2, ("Size", "Color", "Material", "Shape")),
                       (f"<R{k + 1}>", "Relation")]
        block = [("filter_unique", ("scene",), obj), ("relate", (0,), (f"<R{k}>",)),
                 ("filter_unique", ("scene",), obj2), ("relate", (2,), (f"<R{k + 1}>",)),
                 ("intersect", (1, 3), ())]
        new_text = f"<R{k}> the {' '.join(obj)} and <R{k + 1}> the {' '.join(obj2)}"
    elif joined is not None:  # an attribute clause joined to a spatial one
        value = f"<{_LETTERS[joined.capitalize()]}{k + 1}>"
        new_params += [(f"<R{k}>", "Relation"), (value, joined.capitalize())]
        spoken = f"[made of] {value}" if joined == "material" else value
        if clause.startswith("and_"):  # filter_<attr>[value](relate[R](unique(<k>)))
            block = [("filter_unique", ("scene",), obj), ("relate", (0,), (f"<R{k}>",)),
                     ("filter", (1,), (value,))]
        else:  # union(filter_<attr>[value](scene()), relate[R](unique(<k>)))
            block = [("filter", ("scene",), (value,)), ("filter_unique", ("scene",), obj),
                     ("relate", (1,), (f"<R{k}>",)), ("union", (0, 2), ())]
        both_orders = [f"{spoken} and <R{k}> the {' '.join(obj)}", f"<R{k}> the {' '.join(obj)} and {spoken}"]
        new_text = both_orders[0] if clause.startswith("and_") else f"{spoken} or <R{k}> the {' '.join(obj)}"
    elif clause == "superlative":  # the slot's own filter moves into the block
        new_params = [(f"<D{k}>", "Relation")]
        block = [("filter", ("scene",), params), ("extreme", (0,), (f"<D{k}>",))]
        new_text = f"<D{k}>"
    else:
        block = [("filter_unique", ("scene",), obj), (f"same_{attr}", (0,), ())]
        new_text = f"the {' '.join(obj)}"
    texts = []
    variants = both_orders if clause.startswith("and_") else [new_text]
    for text in template.texts:
        for where in ("before", "after") if clause == "superlative" else (attr,):
            for said in variants:
                grown = _grow_text(text, " ".join(params), clause, said, where)
                if grown is not None:
                    texts.append(grown)
    if not texts:
        return None

    width = len(block)

    def shift(j: int) -> int:
        return j + width if j >= slot else j

    scene_input = node.inputs[0]
    nodes: list[TemplateNode] = []
    for i, n in enumerate(template.nodes):
        if i == slot:
            for btype, bins, bside in block:
                ins = tuple(scene_input if b == "scene" else slot + int(b) for b in bins)
                nodes.append(TemplateNode(btype, ins, bside))
            if clause == "superlative":
                nodes.append(TemplateNode("unique", (slot + width - 1,), ()))
            else:
                nodes.append(TemplateNode(n.type, (slot + width - 1,), n.side_inputs))
        else:
            nodes.append(TemplateNode(n.type, tuple(shift(j) for j in n.inputs), n.side_inputs))
    constraints = []
    for ctype, cparams in template.constraints:
        if ctype in ("OUT_EQ", "OUT_NEQ"):
            cparams = tuple(shift(j) if isinstance(j, int) else j for j in cparams)
        constraints.append((ctype, cparams))
    if clause == "both":  # two different objects, as in single_and
        constraints.append(("OUT_NEQ", (slot, slot + 2)))
    if joined is not None:  # "the metal cube that is rubber and ..." contradicts itself
        letter = _LETTERS[joined.capitalize()]
        constraints.append(("NOT_NULL", (f"<{letter}{k + 1}>",)))
        constraints.append(("NULL", (next(p for p in params if p[1] == letter),)))
    if attr is not None:  # "the red thing that is the same color as ..." says nothing
        letter = _LETTERS[attr.capitalize()]
        constraints.append(("NULL", (f"<{letter}{k}>",)))
        constraints.append(("NULL", (next(p for p in params if p[1] == letter),)))
    return ClevrTemplate(
        filename=template.filename,
        family=template.family,
        texts=tuple(texts),
        nodes=tuple(nodes),
        params=(*template.params, *new_params),
        constraints=tuple(constraints),
    )


def augmented_templates(
    templates: Sequence[ClevrTemplate],
    *,
    per_template: int = 8,
    max_clauses: int = 2,
    max_hops: int = 5,
    seed: int = 0,
    clauses: Mapping[str, int] | None = None,
) -> list[ClevrTemplate]:
    """Up to ``per_template`` distinct grown variants of each template: each gets 1 to
    ``max_clauses`` clauses on random growable phrases (including phrases added by an
    earlier clause), drawn with weights 3 (spatial), 1 (each same-attribute clause), 2
    ("both ... and ...") and 3 (superlative), with at most ``max_hops`` hops on any path. Variants are named
    ``augmented_<file>`` with consecutive family numbers, so questions made from them say
    where they came from."""
    rng = random.Random(seed)
    out: list[ClevrTemplate] = []
    drawn = dict(CLAUSE_WEIGHTS if clauses is None else clauses)
    unknown = set(drawn) - set(CLAUSES)
    if unknown:
        raise InputError(f"unknown clauses {sorted(unknown)}; known: {list(CLAUSES)}")
    kinds, weights = list(drawn), list(drawn.values())
    seen: set[tuple[Any, ...]] = set()
    for template in templates:
        made = 0
        for _ in range(per_template * 6):
            if made >= per_template:
                break
            grown = template
            for _ in range(rng.randint(1, max_clauses)):
                slots = growable_slots(grown)
                if not slots:
                    break
                candidate = grow_template(grown, rng.choice(slots), rng.choices(kinds, weights)[0])
                if candidate is None or hops(candidate) > max_hops:
                    continue
                grown = candidate
            if grown is template:
                continue
            key = (grown.nodes, grown.texts[0])
            if key in seen:
                continue
            seen.add(key)
            made += 1
            out.append(grown)
    return _numbered(out, "augmented_")


_PREDICATE = re.compile(r"<Z(\d*)> <C\1> <M\1> <S\1>(s?) (\[that are\]|\[that is\]|that are|that is|are|is) (<R\d*>)")


def predicate_templates(templates: Sequence[ClevrTemplate]) -> list[ClevrTemplate]:
    """Variants of ``templates`` where an attribute of a noun phrase followed by a spatial
    relation becomes a predicate joined to it: "How many <Z2> <C2> <M2> <S2>s are <R> the
    ...?" also reads "How many <Z2> <C2> <S2>s are [both] [made of] <M2> and <R> the ...?"
    (one variant per moved attribute: size, color, material; the moved one must not be
    empty). The programs are the templates' own: only the wording moves, so the parser
    learns that "are metal and left of" filters what "metal ... left of" filters. Wordings
    that already say "and" or "or" are left out (the new "and" would read two ways), as are
    templates with no such phrase.

    >>> t = ClevrTemplate.from_dict({
    ...     "text": ["How many <Z2> <C2> <M2> <S2>s are <R> the <Z> <C> <M> <S>?"],
    ...     "nodes": [{"type": "scene", "inputs": []},
    ...               {"type": "filter_unique", "inputs": [0], "side_inputs": ["<Z>", "<C>", "<M>", "<S>"]},
    ...               {"type": "relate_filter_count", "inputs": [1],
    ...                "side_inputs": ["<R>", "<Z2>", "<C2>", "<M2>", "<S2>"]}],
    ...     "params": [{"type": t, "name": f"<{n}>"} for t, n in [("Size", "Z"), ("Color", "C"),
    ...                ("Material", "M"), ("Shape", "S"), ("Relation", "R"), ("Size", "Z2"),
    ...                ("Color", "C2"), ("Material", "M2"), ("Shape", "S2")]],
    ...     "constraints": []}, "one_hop.json", 0)
    >>> [v.texts[0] for v in predicate_templates([t])][2]
    'How many <Z2> <C2> <S2>s are [both] [made of] <M2> and <R> the <Z> <C> <M> <S>?'
    """
    out = []
    for template in templates:
        for letter in "ZCM":
            texts = []
            moved: set[str] = set()
            for text in template.texts:
                if re.search(r"\b(and|or)\b", text):
                    continue
                m = _PREDICATE.search(text)
                if m is None:
                    continue
                k, plural, verb, relation = m.groups()
                verb = verb.strip("[]")  # "[that are] <R>" -> "that are [both] metal and <R>"
                words = {ch: f"<{ch}{k}>" for ch in "ZCMS"}
                value = words[letter]
                spoken = f"[made of] {value}" if letter == "M" else value
                head = " ".join(words[ch] for ch in "ZCMS" if ch != letter)
                phrase = f"{head}{plural} {verb} [both] {spoken} and {relation}"
                texts.append(text[: m.start()] + phrase + text[m.end():])
                moved.add(value)
            if len(moved) != 1:  # none, or wordings moving different phrases' attributes
                continue
            constraints = (*template.constraints, ("NOT_NULL", (moved.pop(),)))
            out.append(ClevrTemplate(template.filename, 0, tuple(texts), template.nodes, template.params,
                                     constraints))
    return _numbered(out, "predicate_")


def _numbered(templates: Sequence[ClevrTemplate], prefix: str) -> list[ClevrTemplate]:
    """``templates`` renamed ``<prefix><file>`` with consecutive family numbers per file, so
    questions made from them say where they came from."""
    counters: dict[str, int] = {}
    named = []
    for t in templates:
        filename = f"{prefix}{t.filename}"
        family = counters.get(filename, 0)
        counters[filename] = family + 1
        named.append(ClevrTemplate(filename, family, t.texts, t.nodes, t.params, t.constraints))
    return named


def everyday_templates() -> list[ClevrTemplate]:
    """Templates for questions people ask that CLEVR's templates never do, written in the
    official format (``nsreason/datasets/templates/everyday.json``) over the ops nsreason
    adds: "are all the cubes the same color?" (``all_same_*``), "what color are most of the
    spheres?" (``most_common_*``), "how many balls are not red?", "what size is the cube
    that is not metal?" (``difference``, one attribute negated), "are all the balls shiny?"
    (two counts compared)."""
    path = Path(__file__).parents[1] / "templates" / "everyday.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    return [ClevrTemplate.from_dict(t, path.name, i) for i, t in enumerate(data)]


def generate_augmented(
    scenes: Sequence[SceneGraph],
    *,
    per_scene: int = 5,
    per_template: int = 8,
    max_clauses: int = 2,
    max_hops: int = 5,
    seed: int = 0,
    templates: Sequence[ClevrTemplate] | None = None,
    everyday: bool = True,
    synonyms: Mapping[str, Sequence[str]] | None = None,
    stats: dict[str, Any] | None = None,
    clauses: Mapping[str, int] | None = None,
) -> list[dict[str, Any]]:
    """Up to ``per_scene`` questions per scene from the grown variants of ``templates``
    (default: the official ones) and, with ``everyday``, from :func:`everyday_templates`
    as they are and grown, as CLEVR v1.0 release dicts, deterministic for ``seed``."""
    base = list(templates) if templates is not None else load_templates()
    extra = everyday_templates() if everyday else []
    # "the cube left of the sphere that is not red" would say which is not red two ways
    growable = [t for t in extra if not any(n.type == "difference" for n in t.nodes)]
    grown = augmented_templates(base + growable, per_template=per_template,
                                max_clauses=max_clauses, max_hops=max_hops, seed=seed, clauses=clauses)
    return generate_questions(scenes, per_scene=per_scene, seed=seed + 1, templates=grown + extra,
                              synonyms=synonyms, stats=stats)


# -- value substitution (for few annotated programs) -----------------------------------------
def substitute_values(
    question: str,
    program: Program,
    rng: random.Random,
    synonyms: Mapping[str, Sequence[str]] | None = None,
) -> tuple[str, Program] | None:
    """The same question and program with the attribute values renamed consistently: one
    random permutation per attribute type (sizes, colors, materials, shapes), applied to the
    program's filter values and to the words of the question that name them, each written
    with a random synonym (:func:`nsreason.datasets.clevr.swap.swap_shown` restricted to the
    attributes). None when a filter value of the program is not written in the question
    (renaming it would make question and program disagree).

    A few annotated programs thus teach every value, not only those they happen to use
    (no new annotation: the structure of each pair is unchanged).

    >>> rng = random.Random(0)
    >>> program = Program.from_text("count(filter_shape[cube](filter_color[red](relate[left]("
    ...                             "unique(filter_shape[sphere](filter_size[large](scene())))))))")
    >>> q, p = substitute_values("How many red cubes are left of the big ball?", program, rng)
    >>> q
    'How many red cubes are left of the large cylinder?'
    >>> p.to_text()
    'count(filter_shape[cube](filter_color[red](relate[left](unique(filter_shape[cylinder](filter_size[large](scene())))))))'
    >>> substitute_values("How many cubes are there?", Program.from_text(
    ...     "count(filter_color[red](scene()))"), rng) is None  # "red" is not in the question
    True
    """
    from .swap import swap_shown

    return swap_shown(question, program, rng, synonyms=SYNONYMS if synonyms is None else synonyms,
                      types=("Size", "Color", "Material", "Shape"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nsreason.datasets.clevr.augment",
        description="CLEVR questions from official templates grown by relative clauses.",
    )
    parser.add_argument("--scenes", required=True, help="CLEVR scenes JSON file")
    parser.add_argument("--out", required=True, help="questions JSON file to write")
    parser.add_argument("--per-scene", type=int, default=5)
    parser.add_argument("--per-template", type=int, default=8)
    parser.add_argument("--max-clauses", type=int, default=2)
    parser.add_argument("--max-hops", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--templates", default=None, help="folder of template *.json files")
    parser.add_argument("--synonyms", default=None, help="synonyms.json (default: CLEVR's)")
    parser.add_argument("--predicates", action="store_true",
                        help="instead: the official templates with an attribute moved into a predicate joined to "
                        "a spatial relation (predicate_templates: 'how many things are metal and left of ...')")
    parser.add_argument("--clauses", choices=["default", "joined", "joined-only"], default="default",
                        help="clauses drawn: the default ones (CLAUSE_WEIGHTS), all of them (JOINED_CLAUSE_WEIGHTS), "
                        "or only the attribute clauses joined to a spatial one")
    args = parser.parse_args(argv)
    clauses = {"default": CLAUSE_WEIGHTS, "joined": JOINED_CLAUSE_WEIGHTS,
               "joined-only": {k: v for k, v in JOINED_CLAUSE_WEIGHTS.items() if k not in CLAUSE_WEIGHTS}}[args.clauses]
    if args.predicates:
        return run_generator(
            args, "nsreason.datasets.clevr.augment",
            lambda scenes, synonyms, stats: generate_questions(
                scenes, per_scene=args.per_scene, seed=args.seed,
                templates=predicate_templates(load_templates(args.templates) if args.templates else load_templates()),
                synonyms=synonyms, stats=stats),
            per_scene=args.per_scene,
        )
    return run_generator(
        args, "nsreason.datasets.clevr.augment",
        lambda scenes, synonyms, stats: generate_augmented(
            scenes, per_scene=args.per_scene, per_template=args.per_template,
            max_clauses=args.max_clauses, max_hops=args.max_hops, seed=args.seed,
            templates=load_templates(args.templates) if args.templates else None,
            synonyms=synonyms, stats=stats, clauses=clauses),
        per_scene=args.per_scene,
    )


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
