"""Compositionally new CLEVR questions: known phrases, combined as no template combines them.

A parser trained on template questions has seen every phrase below ("the cube that is left
of the sphere", "both behind X and right of Y", "the same color as", "are there more ...
than ...") but never these combinations:

* ``and_or_clause``: a relative clause inside "and"/"or": "How many cubes are both behind the
  cylinder and left of the red sphere that is in front of the ball?", "How many things are
  either cubes or spheres that are left of the cylinder that is behind the red thing?";
* ``comparison_clause``: a relative clause inside a comparison of two objects or two
  counts, where templates allow at most one plain hop per side: "Does the cube that is left
  of the sphere that is behind the cylinder have the same color as the ball?", "Is the
  sphere that is both left of the cube and behind the cylinder the same size as the red
  thing?", "Does the other cube that is the same size as the sphere have the same color as
  the cylinder?", "Are there more cubes that are left of the sphere that is behind the
  cylinder than red things?", "Are there fewer cylinders than other cubes that are the same
  color as the sphere?";
* ``deeper_nesting``: four hops where templates stop at three: "What color is the thing
  behind the cube left of the sphere in front of the cylinder right of the small ball?".

They are written as templates in the official format (:func:`compositional_templates`) with
the official phrasing, and instantiated, checked, executed and worded by the same engine as
the official ones (:func:`nsreason.datasets.clevr.generate_questions`: same
constraints, synonyms, optional words, answer balancing; only questions whose program runs
without failure on the scene are kept). Each question carries ``"composition"``.

Novelty is checked, not assumed: :func:`program_structure` is a program's shape with every
value and every attribute filter removed (ops and wiring only; arguments of ``union``,
``intersect`` and ``equal_*`` unordered, ``less_than(a, b)`` read as ``greater_than(b, a)``),
and :data:`OFFICIAL_STRUCTURES` holds the shapes of all 90 official templates (every
expansion of a template has the same shape). A question is kept only when its shape is not
among them, so no template, whatever its values, writes its program.

>>> from nsreason.scene.clevr import load_clevr_scenes
>>> from nsreason.program import Program
>>> template = compositional_templates()["deeper_nesting"][0]
>>> program_structure(Program.from_clevr(template_program(template)))
'scene unique relate unique relate unique relate unique relate unique query_size'
>>> is_novel(Program.from_text("count(relate[left](unique(filter_color[red](scene()))))"))
False
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Mapping, Sequence
from typing import Any

from ...errors import InputError
from ...program.ir import Program
from ...program.vocab import get_vocabulary
from ...scene.graph import SceneGraph
from .generate import _scene_fields, generate_questions, run_generator
from .templates import ClevrTemplate, expand_program

__all__ = [
    "KINDS",
    "OFFICIAL_STRUCTURES",
    "compositional_templates",
    "generate_compositional",
    "is_novel",
    "main",
    "program_structure",
    "template_program",
    "template_structure",
]

KINDS = ("and_or_clause", "comparison_clause", "deeper_nesting")
"""The composition kinds, in the order questions of one scene are listed."""

# -- shapes of programs -------------------------------------------------------------------
_UNORDERED = frozenset({"union", "intersect", "equal_color", "equal_size", "equal_shape",
                        "equal_material", "equal_integer", "equal_object"})
_ATTRIBUTE_FILTERS = frozenset({"filter_size", "filter_color", "filter_material", "filter_shape"})


def program_structure(program: Program) -> str:
    """The shape of a CLEVR program as postfix ops: values and attribute filters dropped,
    arguments of symmetric ops sorted, ``less_than(a, b)`` written ``greater_than(b, a)``.

    >>> program_structure(Program.from_text(
    ...     "less_than(count(filter_color[red](scene())), count(relate[left](unique(scene()))))"))
    'scene unique relate count scene count greater_than'
    """
    steps = program.steps
    memo: list[str] = []
    for step in steps:  # steps are in topological order
        if step.op in _ATTRIBUTE_FILTERS:
            memo.append(memo[step.inputs[0]])
            continue
        op, parts = step.op, [memo[j] for j in step.inputs]
        if op == "less_than":
            op, parts = "greater_than", parts[::-1]
        if op in _UNORDERED:
            parts.sort()
        memo.append(" ".join([*parts, op]))
    return memo[-1]


def template_program(template: ClevrTemplate) -> list[dict[str, Any]]:
    """The release program of ``template`` with every attribute filter left empty
    (relations and values of plain nodes set to the first value of their domain): a
    program of the template's shape."""
    types = get_vocabulary("clevr").types
    ptypes = template.param_types
    values = dict.fromkeys(ptypes, "")
    for node in template.nodes:
        for k, name in enumerate(node.side_inputs):
            filtered = node.type.startswith(("filter", "relate_filter"))
            if not filtered or (node.type.startswith("relate_filter") and k == 0):
                values[name] = (types[ptypes[name]].domain or ("x",))[0]
    return expand_program(template, values)


def template_structure(template: ClevrTemplate) -> str:
    """The :func:`program_structure` shared by every question ``template`` can produce."""
    return program_structure(Program.from_clevr(template_program(template)))


OFFICIAL_STRUCTURES: frozenset[str] = frozenset(line.strip() for line in """
scene count
scene count scene count equal_integer
scene count scene count greater_than
scene count scene unique relate count equal_integer
scene count scene unique relate count greater_than
scene exist
scene scene union count
scene scene unique relate union count
scene unique query_color
scene unique query_color scene unique query_color equal_color
scene unique query_color scene unique relate unique query_color equal_color
scene unique query_material
scene unique query_material scene unique query_material equal_material
scene unique query_material scene unique relate unique query_material equal_material
scene unique query_shape
scene unique query_shape scene unique query_shape equal_shape
scene unique query_shape scene unique relate unique query_shape equal_shape
scene unique query_size
scene unique query_size scene unique query_size equal_size
scene unique query_size scene unique relate unique query_size equal_size
scene unique relate count
scene unique relate count scene count greater_than
scene unique relate count scene unique relate count equal_integer
scene unique relate count scene unique relate count greater_than
scene unique relate exist
scene unique relate scene unique relate intersect count
scene unique relate scene unique relate intersect unique query_color
scene unique relate scene unique relate intersect unique query_material
scene unique relate scene unique relate intersect unique query_shape
scene unique relate scene unique relate intersect unique query_size
scene unique relate scene unique relate union count
scene unique relate unique query_color
scene unique relate unique query_color scene unique relate unique query_color equal_color
scene unique relate unique query_material
scene unique relate unique query_material scene unique relate unique query_material equal_material
scene unique relate unique query_shape
scene unique relate unique query_shape scene unique relate unique query_shape equal_shape
scene unique relate unique query_size
scene unique relate unique query_size scene unique relate unique query_size equal_size
scene unique relate unique relate count
scene unique relate unique relate exist
scene unique relate unique relate unique query_color
scene unique relate unique relate unique query_material
scene unique relate unique relate unique query_shape
scene unique relate unique relate unique query_size
scene unique relate unique relate unique relate count
scene unique relate unique relate unique relate exist
scene unique relate unique relate unique relate unique query_color
scene unique relate unique relate unique relate unique query_material
scene unique relate unique relate unique relate unique query_shape
scene unique relate unique relate unique relate unique query_size
scene unique same_color count
scene unique same_color exist
scene unique same_color unique query_material
scene unique same_color unique query_shape
scene unique same_color unique query_size
scene unique same_material count
scene unique same_material exist
scene unique same_material unique query_color
scene unique same_material unique query_shape
scene unique same_material unique query_size
scene unique same_shape count
scene unique same_shape exist
scene unique same_shape unique query_color
scene unique same_shape unique query_material
scene unique same_shape unique query_size
scene unique same_size count
scene unique same_size exist
scene unique same_size unique query_color
scene unique same_size unique query_material
scene unique same_size unique query_shape
""".strip().splitlines())
""":func:`template_structure` of the 90 official CLEVR v1.0 templates (71 distinct shapes;
a test recomputes them from the template files when those are at hand)."""


def is_novel(program: Program, official: frozenset[str] | set[str] = OFFICIAL_STRUCTURES) -> bool:
    """Whether no official template can produce ``program`` (its shape is not theirs)."""
    return program_structure(program) not in official


# -- the compositional templates ----------------------------------------------------------
_ATTRS = ("size", "color", "material", "shape")
_LETTER = {"size": "Z", "color": "C", "material": "M", "shape": "S"}
_QUERY = {
    "size": ("What size is the {x}?", "What is the size of the {x}?", "How big is the {x}?",
             "There is a {x}; what size is it?", "There is a {x}; what is its size?"),
    "color": ("What color is the {x}?", "What is the color of the {x}?", "The {x} is what color?",
              "There is a {x}; what color is it?", "There is a {x}; what is its color?"),
    "material": ("What material is the {x}?", "What is the material of the {x}?",
                 "What is the {x} made of?", "There is a {x}; what is it made of?",
                 "There is a {x}; what is its material?"),
    "shape": ("What shape is the {x}?", "What is the shape of the {x}?", "The {x} is what shape?",
              "There is a {x}; what shape is it?", "There is a {x}; what is its shape?"),
}
_SAME = {"size": "the same size as", "color": "the same color as",
         "material": "[made of] the same material as", "shape": "the same shape as"}
_COUNT_CMP = {
    "greater_than": ("Are there more {a} than {b}?",
                     "Is the number of {a} greater than the number of {b}?"),
    "less_than": ("Are there fewer {a} than {b}?",
                  "Is the number of {a} less than the number of {b}?"),
    "equal_integer": ("Are there the same number of {a} and {b}?",
                      "Are there an equal number of {a} and {b}?",
                      "Is the number of {a} the same as the number of {b}?"),
}
_Spec = tuple[list[str], list[tuple[str, list[int], list[str]]], list[tuple[str, list[Any]]]]


def _suffix(n: int) -> str:
    return "" if n == 1 else str(n)


def _obj(n: int) -> list[str]:
    """Parameter names of object ``n``: ``<Z>, <C>, <M>, <S>`` for 1, ``<Z2>``... after."""
    s = _suffix(n)
    return [f"<Z{s}>", f"<C{s}>", f"<M{s}>", f"<S{s}>"]


def _np(n: int, plural: bool = False) -> str:
    """The noun phrase of object ``n``: ``<Z2> <C2> <M2> <S2>`` (plural: ``...<S2>s``)."""
    return " ".join(_obj(n)) + ("s" if plural else "")


def _r(n: int) -> str:
    return f"<R{_suffix(n)}>"


def _p(n: int, letter: str) -> str:
    return f"<{letter}{_suffix(n)}>"


def _compare_texts(attr: str, x: str, y: str, there: str | None = None) -> list[str]:
    """The official wordings of "do x and y have the same <attr>?"."""
    same = f"[made of] the same {attr}" if attr == "material" else f"the same {attr}"
    there = there or f"There is a {x}"
    return [
        f"Is the {attr} of the {x} the same as the {y}?",
        f"Does the {x} have the same {attr} as the {y}?",
        f"Is the {x} {same} as the {y}?",
        f"{there}; does it have the same {attr} as the {y}?",
        f"{there}; is it {same} as the {y}?",
    ]


def _and_or() -> list[_Spec]:
    out: list[_Spec] = []
    # "both <R3> the <3> and <R2> the <2> that is <R> the <1>": the clause on the last
    # conjunct, where it cannot attach to anything else
    chain = [("scene", [], []), ("filter_unique", [0], _obj(1)),
             ("relate_filter_unique", [1], [_r(1), *_obj(2)]), ("relate", [2], [_r(2)]),
             ("scene", [], []), ("filter_unique", [4], _obj(3)), ("relate", [5], [_r(3)]),
             ("intersect", [6, 3], [])]
    both = f"[both] {_r(3)} the {_np(3)} and {_r(2)} the {_np(2)} [that is] {_r(1)} the {_np(1)}"
    neq: list[tuple[str, list[Any]]] = [("OUT_NEQ", [2, 5])]
    out.append(([f"How many {_np(4, True)} are {both}?",
                 f"What number of {_np(4, True)} are {both}?"],
                [*chain, ("filter_count", [7], _obj(4))], neq))
    out.append(([f"Are there any {_np(4, True)} that are {both}?",
                 f"Is there a {_np(4)} that is {both}?"],
                [*chain, ("filter_exist", [7], _obj(4))], neq))
    for attr in _ATTRS:
        x = f"{_np(4)} that is {both}"
        out.append(([t.format(x=x) for t in _QUERY[attr]],
                    [*chain, ("filter_unique", [7], _obj(4)), (f"query_{attr}", [8], [])],
                    [*neq, ("NULL", [_p(4, _LETTER[attr])])]))
    # "either ... or ...": the clause (two levels deep) on the last disjunct
    heads = ("How many things are", "How many objects are", "What number of things are",
             "What number of objects are")
    nested = f"{_np(3, True)} [that are] {_r(2)} the {_np(2)} [that is] {_r(1)} the {_np(1)}"
    out.append(([f"{h} [either] {_np(4, True)} or {nested}?" for h in heads],
                [("scene", [], []), ("filter_unique", [0], _obj(1)),
                 ("relate_filter_unique", [1], [_r(1), *_obj(2)]),
                 ("relate_filter", [2], [_r(2), *_obj(3)]), ("scene", [], []),
                 ("filter", [4], _obj(4)), ("union", [5, 3], []), ("count", [6], [])],
                [("OUT_NEQ", [5, 3])]))
    nested = f"{_np(5, True)} [that are] {_r(3)} the {_np(4)} [that is] {_r(2)} the {_np(3)}"
    out.append(([f"{h} [either] {_np(2, True)} [that are] {_r(1)} the {_np(1)} or {nested}?"
                 for h in heads],
                [("scene", [], []), ("filter_unique", [0], _obj(1)),
                 ("relate_filter", [1], [_r(1), *_obj(2)]), ("scene", [], []),
                 ("filter_unique", [3], _obj(3)),
                 ("relate_filter_unique", [4], [_r(2), *_obj(4)]),
                 ("relate_filter", [5], [_r(3), *_obj(5)]), ("union", [2, 6], []),
                 ("count", [7], [])],
                [("OUT_NEQ", [2, 6])]))
    return out


def _comparison() -> list[_Spec]:
    out: list[_Spec] = []
    for attr in _ATTRS:  # one side described through a two-level clause
        q, eq, L = f"query_{attr}", f"equal_{attr}", _LETTER[attr]
        x = f"{_np(3)} [that is] {_r(2)} the {_np(2)} [that is] {_r(1)} the {_np(1)}"
        out.append((_compare_texts(attr, x, _np(4)),
                    [("scene", [], []), ("filter_unique", [0], _obj(1)),
                     ("relate_filter_unique", [1], [_r(1), *_obj(2)]),
                     ("relate_filter_unique", [2], [_r(2), *_obj(3)]), (q, [3], []),
                     ("scene", [], []), ("filter_unique", [5], _obj(4)), (q, [6], []),
                     (eq, [4, 7], [])],
                    [("NULL", [_p(3, L)]), ("NULL", [_p(4, L)]), ("OUT_NEQ", [3, 6])]))
    for attr in _ATTRS:  # one side described through a "both ... and ..." clause
        q, eq, L = f"query_{attr}", f"equal_{attr}", _LETTER[attr]
        x = f"{_np(3)} that is [both] {_r(1)} the {_np(1)} and {_r(2)} the {_np(2)}"
        out.append((_compare_texts(attr, x, _np(4)),
                    [("scene", [], []), ("filter_unique", [0], _obj(1)), ("relate", [1], [_r(1)]),
                     ("scene", [], []), ("filter_unique", [3], _obj(2)), ("relate", [4], [_r(2)]),
                     ("intersect", [2, 5], []), ("filter_unique", [6], _obj(3)), (q, [7], []),
                     ("scene", [], []), ("filter_unique", [9], _obj(4)), (q, [10], []),
                     (eq, [8, 11], [])],
                    [("NULL", [_p(3, L)]), ("NULL", [_p(4, L)]), ("OUT_NEQ", [1, 4]),
                     ("OUT_NEQ", [7, 10])]))
    for i, same in enumerate(_ATTRS):  # one side described through "the same <attr> as"
        attr = _ATTRS[(i + 1) % 4]
        q, eq, L, S = f"query_{attr}", f"equal_{attr}", _LETTER[attr], _LETTER[same]
        clause = f"{_np(2)} that is {_SAME[same]} the {_np(1)}"
        out.append((_compare_texts(attr, f"other {clause}", _np(3), f"There is another {clause}"),
                    [("scene", [], []), ("filter_unique", [0], _obj(1)), (f"same_{same}", [1], []),
                     ("filter_unique", [2], _obj(2)), (q, [3], []), ("scene", [], []),
                     ("filter_unique", [5], _obj(3)), (q, [6], []), (eq, [4, 7], [])],
                    [("NULL", [_p(1, S)]), ("NULL", [_p(2, S)]), ("NULL", [_p(2, L)]),
                     ("NULL", [_p(3, L)]), ("OUT_NEQ", [3, 6]), ("OUT_NEQ", [1, 6])]))
    for cmp, wordings in _COUNT_CMP.items():  # counts: the counted things through a clause
        a = f"{_np(3, True)} [that are] {_r(2)} the {_np(2)} [that is] {_r(1)} the {_np(1)}"
        b = _np(4, True)
        first = cmp != "equal_integer"  # "... the cube and red things" would be ambiguous
        texts = [t.format(a=a, b=b) if first else t.format(a=b, b=a) for t in wordings]
        nodes = [("scene", [], []), ("filter_unique", [0], _obj(1)),
                 ("relate_filter_unique", [1], [_r(1), *_obj(2)]),
                 ("relate_filter_count", [2], [_r(2), *_obj(3)]),
                 ("scene", [], []), ("filter_count", [4], _obj(4)),
                 (cmp, [3, 5] if first else [5, 3], [])]
        out.append((texts, nodes, [("OUT_NEQ", [3, 5])]))
    for i, same in enumerate(_ATTRS):  # counts, one side through "the same <attr> as", last
        cmp = tuple(_COUNT_CMP)[i % 3]
        S = _LETTER[same]
        a = f"other {_np(2, True)} that are {_SAME[same]} the {_np(1)}"
        out.append(([t.format(a=_np(3, True), b=a) for t in _COUNT_CMP[cmp]],
                    [("scene", [], []), ("filter_count", [0], _obj(3)), ("scene", [], []),
                     ("filter_unique", [2], _obj(1)), (f"same_{same}", [3], []),
                     ("filter_count", [4], _obj(2)), (cmp, [1, 5], [])],
                    [("NULL", [_p(1, S)]), ("NULL", [_p(2, S)]), ("OUT_NEQ", [1, 5])]))
    return out


def _deeper() -> list[_Spec]:
    out: list[_Spec] = []
    chain = [("scene", [], []), ("filter_unique", [0], _obj(1))]
    for hop in range(1, 4):
        chain.append(("relate_filter_unique", [hop], [_r(hop), *_obj(hop + 1)]))
    inner = (f"{_np(4)} [that is] {_r(3)} the {_np(3)} [that is] {_r(2)} the {_np(2)} "
             f"[that is] {_r(1)} the {_np(1)}")
    for attr in _ATTRS:
        x = f"{_np(5)} [that is] {_r(4)} the {inner}"
        out.append(([t.format(x=x) for t in _QUERY[attr]],
                    [*chain, ("relate_filter_unique", [4], [_r(4), *_obj(5)]),
                     (f"query_{attr}", [5], [])],
                    [("NULL", [_p(5, _LETTER[attr])])]))
    out.append(([f"How many {_np(5, True)} are {_r(4)} the {inner}?",
                 f"What number of {_np(5, True)} are {_r(4)} the {inner}?",
                 f"There is a {inner}; how many {_np(5, True)} are {_r(4)} it?"],
                [*chain, ("relate_filter_count", [4], [_r(4), *_obj(5)])], []))
    out.append(([f"Are there any {_np(5, True)} [that are] {_r(4)} the {inner}?",
                 f"Is there a {_np(5)} [that is] {_r(4)} the {inner}?",
                 f"There is a {inner}; are there any {_np(5, True)} [that are] {_r(4)} it?"],
                [*chain, ("relate_filter_exist", [4], [_r(4), *_obj(5)])], []))
    return out


def _template(kind: str, family: int, spec: _Spec) -> ClevrTemplate:
    texts, nodes, constraints = spec
    letters = {"Z": "Size", "C": "Color", "M": "Material", "S": "Shape", "R": "Relation"}
    params: dict[str, str] = {}
    for _, _, side in nodes:
        for name in side:
            params.setdefault(name, letters[name[1]])
    return ClevrTemplate.from_dict(
        {
            "text": list(texts),
            "nodes": [{"type": t, "inputs": i, "side_inputs": s} for t, i, s in nodes],
            "params": [{"type": t, "name": n} for n, t in params.items()],
            "constraints": [{"type": t, "params": p} for t, p in constraints],
        },
        f"compositional_{kind}.json",
        family,
    )


def compositional_templates() -> dict[str, list[ClevrTemplate]]:
    """The templates of each composition kind, in the official template format (family
    index: position within the kind; file name ``compositional_<kind>.json``)."""
    specs = {"and_or_clause": _and_or(), "comparison_clause": _comparison(),
             "deeper_nesting": _deeper()}
    return {kind: [_template(kind, i, s) for i, s in enumerate(sp)] for kind, sp in specs.items()}


# -- generation ---------------------------------------------------------------------------
def generate_compositional(
    scenes: Sequence[SceneGraph],
    *,
    per_kind: int = 1,
    seed: int = 0,
    kinds: Sequence[str] = KINDS,
    synonyms: Mapping[str, Sequence[str]] | None = None,
    official: frozenset[str] | set[str] = OFFICIAL_STRUCTURES,
    stats: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Up to ``per_kind`` questions of each composition kind per scene: CLEVR v1.0 release
    dicts with a ``"composition"`` field, deterministic for a ``seed``, listed by scene then
    kind. A question whose program an official template could produce (its shape is in
    ``official``) is dropped and counted in ``stats[kind]["not_novel"]``: none should be."""
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise InputError(f"unknown composition kind(s) {unknown}; known: {list(KINDS)}")
    templates = compositional_templates()
    rng = random.Random(seed)
    made: list[tuple[int, int, int, dict[str, Any]]] = []
    position: dict[Any, int] = {}
    for i, scene in enumerate(scenes):
        position.setdefault(_scene_fields(scene, i)["image_index"], i)
    for k, kind in enumerate(kinds):
        st: dict[str, Any] = {}
        qs = generate_questions(scenes, per_scene=per_kind, seed=rng.randrange(2**32),
                                templates=templates[kind], synonyms=synonyms, stats=st)
        st.pop("per_family", None)
        st["not_novel"] = 0
        for n, q in enumerate(qs):
            if not is_novel(Program.from_clevr(q["program"]), official):
                st["not_novel"] += 1
                continue
            q["composition"] = kind
            made.append((position.get(q["image_index"], 0), k, n, q))
        st["kept"] = len(qs) - st["not_novel"]
        if stats is not None:
            stats[kind] = st
    made.sort(key=lambda item: item[:3])
    out = [q for *_, q in made]
    for i, q in enumerate(out):
        q["question_index"] = i
    return out


# -- command line ---------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nsreason.datasets.clevr.compositional",
        description="Compositionally new CLEVR questions (phrases of the templates, combined "
        "as no template combines them), answered on CLEVR scenes.",
    )
    parser.add_argument("--scenes", required=True, help="CLEVR scenes JSON file")
    parser.add_argument("--out", required=True, help="questions JSON file to write")
    parser.add_argument("--per-kind", type=int, default=1, help="questions per kind and scene")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--synonyms", default=None, help="synonyms.json (default: CLEVR's)")
    args = parser.parse_args(argv)
    return run_generator(
        args, "nsreason.datasets.clevr.compositional",
        lambda scenes, synonyms, stats: generate_compositional(
            scenes, per_kind=args.per_kind, seed=args.seed, kinds=args.kinds, synonyms=synonyms,
            stats=stats),
        per_kind=args.per_kind,
    )


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
