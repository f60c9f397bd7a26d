"""GQA ``semantic`` programs → :class:`Program` over the ``scene_graph`` vocabulary.

A GQA question (``*_questions.json``: ``{questionId: {"imageId", "question", "answer",
"semantic": [...], "types": {...}}}``) carries its program as a list of steps
``{"operation", "argument", "dependencies"}``. The format, as read in real GQA files
(val/train balanced questions quoted in public repositories, e.g.
anonymous-zzz/GazeVLM ``assets/AiR-D/GQA/questions/SAMPLE-val_balanced_questions.json``)
and in a public GQA executor (``OpSelect``/``OpRelate``/``OpVerify``/``OpChoose``/
``OpFilter``/``OpQuery``/``OpSame`` classes, one per atomic operation):

* ``operation`` is an atomic operation, optionally followed by a category:
  ``select``, ``relate``, ``filter color``, ``verify rel``, ``query`` (the category is then
  the argument: ``query: name``), ``choose name``, ``choose rel``, ``same material``,
  ``different``, ``exist``, ``and``, ``or``, ``common``...;
* ``argument``: an object name followed by the annotated object ids (``"pond (1039893)"``,
  ``"lamp (-)"`` when absent, ``"animal (17, 20)"``); a relation ``"name,predicate,dir"``
  (``"cart,near,s (1039872)"``: the carts that are near the pond, the target is the
  *subject*; ``"_,wearing,o (3558910)"``: what the selected object wears, the target is
  the *object*; ``_`` means any name); a value (``"white"``, ``"not(black)"``); two
  options (``"train|truck"``, ``"faucet,to the left of|to the right of,s (796690)"``);
  ``"?"`` or ``""`` when the operation takes none. Arguments may carry stray spaces
  (``"pitcher (2827701) "``, ``"small "``);
* ``dependencies``: indices of earlier steps whose results the operation reads.

GQA's release has no counting questions; ``count`` (the size of its one input set) is
read too, for question sets in GQA's format that count (``nsreason.datasets.gqa``).

**Object ids are annotations, not program input.** A gold program selects by *name*, as
GQA's own executors do (``select: shirt (1234567)`` becomes ``select[shirt](scene())``);
where a step needs one object (``query``, ``verify``, ``choose``, ``same``) the set is
passed through ``unique``, which fails, as a recorded execution failure, when the scene
has several objects of that name.

GQA scene graphs have attributes as free labels, without their category (``"white"``,
not ``color: white``): ``query color`` becomes ``query_among[white|black|...]``, the one
label of the object among the values :data:`ATTRIBUTE_CATEGORIES` lists for the category.

Operations without a mapping yet (``common``, comparatives such as ``choose older`` over
two objects, ``hposition``/``vposition`` categories, ``select: scene`` questions about the
whole image, ``relate`` on ``same <attribute>``, ``same``/``different`` over one set) and
malformed steps raise :class:`~nsreason.errors.ProgramFormatError` naming the step and the
field.

>>> program_from_gqa([
...     {"operation": "select", "argument": "pond (1039893)", "dependencies": []},
...     {"operation": "relate", "argument": "cart,near,s (1039872)", "dependencies": [0]},
...     {"operation": "exist", "argument": "?", "dependencies": [1]}]).to_text()
'exist(select[cart](relate_reverse[near](select[pond](scene()))))'
>>> program_from_gqa([
...     {"operation": "select", "argument": "faucet (1)", "dependencies": []},
...     {"operation": "verify color", "argument": "not(white)", "dependencies": [0]}])
Traceback (most recent call last):
...
nsreason.errors.ProgramFormatError: semantic[1].argument: verify takes a plain value, got 'not(white)'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import ProgramFormatError
from .ir import Program, Step

__all__ = ["ATTRIBUTE_CATEGORIES", "program_from_gqa", "relation_answer"]

ATTRIBUTE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "color": (
        "white", "black", "blue", "brown", "green", "red", "gray", "grey", "yellow", "pink",
        "orange", "silver", "tan", "purple", "gold", "beige", "teal", "maroon", "khaki",
        "cream colored", "dark blue", "light blue", "dark brown", "navy", "turquoise",
    ),
    "material": (
        "wood", "wooden", "metal", "plastic", "glass", "brick", "concrete", "stone", "leather",
        "cloth", "paper", "cardboard", "rubber", "porcelain", "ceramic", "steel", "chrome",
        "silk", "denim", "cotton", "wool", "mesh", "wicker", "marble", "aluminum", "iron",
    ),
    "size": ("large", "small", "big", "little", "tiny", "huge", "giant"),
    "shape": ("round", "square", "rectangular", "triangular", "oval", "circular"),
    "length": ("long", "short"),
    "height": ("tall", "short"),
    "pose": ("standing", "sitting", "lying", "walking", "running", "bending", "crouching"),
}
"""GQA attribute categories and their values, for ``query <category>`` and ``same
<category>`` on graphs whose attributes are free labels. Hand-made from the attributes of
the GQA val scene graphs (GQA's own category metadata is not part of the release);
extend it here."""

_IDS = re.compile(r"\s*\((?:-|[\d\s,]*)\)\s*$")
_NOT = re.compile(r"^not\((.*)\)$")
_UNSUPPORTED_CATEGORIES = ("hposition", "vposition")
_RELATION_ANSWERS = {"to the left of": "left", "to the right of": "right"}


def relation_answer(predicate: str) -> str:
    """GQA's answer for a chosen relation: ``"to the left of"`` → ``"left"`` (GQA val
    question 'Is the faucet to the right or to the left of the toilet?' is answered
    ``left``); any other predicate is its own answer.

    >>> relation_answer("to the right of"), relation_answer("on")
    ('right', 'on')
    """
    return _RELATION_ANSWERS.get(predicate, predicate)


def program_from_gqa(semantic: Any, *, path: str = "semantic") -> Program:
    """Convert a GQA ``semantic`` list into a :class:`Program` over the ``scene_graph``
    vocabulary (see the module docstring for the mapping).

    Raises :class:`~nsreason.errors.ProgramFormatError` whose path names the step and
    field (``semantic[3].argument``) for a malformed step or an operation without a
    mapping.

    >>> program_from_gqa([
    ...     {"operation": "select", "argument": "lady (1897363)", "dependencies": []},
    ...     {"operation": "relate", "argument": "_,wearing,o (3558910)", "dependencies": [0]},
    ...     {"operation": "query", "argument": "name", "dependencies": [1]}]).to_text()
    'query_name(unique(relate[wearing](select[lady](scene()))))'
    """
    return _Converter(path).convert(semantic)


class _Converter:
    """One conversion: the steps emitted so far and, per GQA step, its step and kind."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.steps: list[Step] = []
        self.out: list[tuple[int, str]] = []  # per GQA step: (our step index, kind)
        self.unique_of: dict[int, int] = {}

    # -- emitting -------------------------------------------------------------------------
    def emit(self, op: str, inputs: Sequence[int] = (), args: Sequence[Any] = ()) -> int:
        self.steps.append(Step(op, tuple(inputs), tuple(args)))
        return len(self.steps) - 1

    def unique(self, step: int) -> int:
        if step not in self.unique_of:
            self.unique_of[step] = self.emit("unique", (step,))
        return self.unique_of[step]

    def fail(self, message: str, i: int, field: str | None = None) -> ProgramFormatError:
        where = f"{self.path}[{i}]" + (f".{field}" if field else "")
        return ProgramFormatError(message, path=where)

    # -- reading --------------------------------------------------------------------------
    def convert(self, semantic: Any) -> Program:
        if not isinstance(semantic, (list, tuple)):
            raise ProgramFormatError(
                f"expected a list of steps {{operation, argument, dependencies}}, got "
                f"{type(semantic).__name__}",
                path=self.path,
            )
        if not semantic:
            raise ProgramFormatError("a program needs at least one step", path=self.path)
        for i, node in enumerate(semantic):
            self.out.append(self.step(i, node))
        program = Program(self.steps, "scene_graph")
        program._int_inputs = True  # every input is an index this converter emitted
        return program

    def step(self, i: int, node: Any) -> tuple[int, str]:
        if not isinstance(node, dict):
            raise self.fail(f"expected an object, got {type(node).__name__}", i)
        operation = node.get("operation")
        if not isinstance(operation, str) or not operation.strip():
            raise self.fail(f"expected a non-empty string, got {operation!r}", i, "operation")
        argument = node.get("argument", "")
        if argument is None:
            argument = ""
        if not isinstance(argument, str):
            raise self.fail(f"expected a string, got {argument!r}", i, "argument")
        deps = node.get("dependencies", [])
        if not isinstance(deps, list) or any(
            not isinstance(d, int) or isinstance(d, bool) or not 0 <= d < i for d in deps
        ):
            raise self.fail(
                f"expected a list of indices of earlier steps (0..{i - 1}), got {deps!r}"
                if i else f"the first step depends on no step, got {deps!r}",
                i,
                "dependencies",
            )
        atom, _, category = operation.strip().partition(" ")
        category = category.strip()
        handler = _HANDLERS.get(atom)
        if handler is None:
            raise self.fail(
                f"unknown GQA operation {operation!r}; known: {', '.join(sorted(_HANDLERS))}",
                i,
                "operation",
            )
        if category in _UNSUPPORTED_CATEGORIES or argument.strip() in _UNSUPPORTED_CATEGORIES:
            raise self.fail(
                f"{operation!r} on {category or argument.strip()!r} (a position in the image) "
                "has no mapping yet",
                i,
                "operation",
            )
        return handler(self, i, category, argument.strip(), deps)

    def input(self, i: int, deps: list[int], k: int, kind: str) -> int:
        """Our step for dependency ``k`` of GQA step ``i``, of kind ``set``/``object``/
        ``bool``; an object set feeds an object through ``unique``."""
        step, have = self.out[deps[k]]
        if kind == "object" and have == "set":
            return self.unique(step)
        if have != kind:
            raise self.fail(
                f"dependency {k} is step {deps[k]}, a {have}; this operation reads a {kind}",
                i,
                "dependencies",
            )
        return step

    def arity(self, i: int, deps: list[int], n: int, atom: str) -> None:
        if len(deps) != n:
            raise self.fail(f"{atom} reads {n} step(s), got {len(deps)}: {deps}", i, "dependencies")


# -- argument parsing ---------------------------------------------------------------------
def _name(conv: _Converter, i: int, argument: str) -> str:
    name = _IDS.sub("", argument).strip()
    if not name or any(c in name for c in ",|()"):
        raise conv.fail(f"expected an object name such as 'shirt (1234)', got {argument!r}", i,
                        "argument")
    return name


def _relation(conv: _Converter, i: int, argument: str) -> tuple[str, str, str]:
    """``"name,predicate,dir (ids)"`` → (name or '_', predicate, 's' or 'o')."""
    parts = [p.strip() for p in _IDS.sub("", argument).split(",")]
    if len(parts) < 3 or not parts[0] or not parts[-1] or not all(parts[1:-1]):
        raise conv.fail(
            f"expected a relation 'name,predicate,s|o' such as 'cart,near,s (12)', got {argument!r}",
            i, "argument",
        )
    name, predicate, direction = parts[0], ",".join(parts[1:-1]), parts[-1]
    if direction not in ("s", "o"):
        raise conv.fail(
            f"expected the direction 's' (the target is the subject) or 'o' (the object), "
            f"got {direction!r} in {argument!r}", i, "argument",
        )
    if any(c in name for c in "|()") or "(" in predicate or ")" in predicate:
        raise conv.fail(f"malformed relation {argument!r}", i, "argument")
    return name, predicate, direction


def _value(conv: _Converter, i: int, argument: str, atom: str) -> tuple[str, bool]:
    """A value, and whether it was written ``not(value)``."""
    m = _NOT.match(argument)
    value = (m.group(1) if m else argument).strip()
    if not value or any(c in value for c in "|()"):
        raise conv.fail(f"expected a value such as 'red' or 'not(red)', got {argument!r}", i,
                        "argument")
    return value, m is not None


def _options(conv: _Converter, i: int, text: str, argument: str) -> tuple[str, str]:
    options = [o.strip() for o in text.split("|")]
    if len(options) != 2 or not all(options) or any(c in o for o in options for c in "()"):
        raise conv.fail(f"expected two options 'a|b', got {argument!r}", i, "argument")
    return options[0], options[1]


def _category_values(conv: _Converter, i: int, category: str) -> str:
    values = ATTRIBUTE_CATEGORIES.get(category)
    if values is None:
        raise conv.fail(
            f"attribute category {category!r} has no value list yet (known: "
            f"{', '.join(sorted(ATTRIBUTE_CATEGORIES))})", i, "argument" if category else "operation",
        )
    return "|".join(values)


# -- operations ---------------------------------------------------------------------------
_Handler = Callable[["_Converter", int, str, str, list[int]], tuple[int, str]]
"""One GQA operation: (converter, step index, category, argument, dependencies) -> (our
step, its kind)."""


def _select(conv: _Converter, i: int, category: str, argument: str, deps: list[int]) -> tuple[int, str]:
    conv.arity(i, deps, 0, "select")
    if _IDS.sub("", argument).strip() == "scene":
        raise conv.fail("select: scene (a question about the whole image: weather, place) "
                        "has no mapping yet", i, "argument")
    name = _name(conv, i, argument)
    return conv.emit("select", (conv.emit("scene"),), (name,)), "set"


def _related(conv: _Converter, i: int, source: int, name: str, predicate: str, direction: str) -> int:
    op = "relate_reverse" if direction == "s" else "relate"
    step = conv.emit(op, (source,), (predicate,))
    return step if name == "_" else conv.emit("select", (step,), (name,))


def _relate(conv: _Converter, i: int, category: str, argument: str, deps: list[int]) -> tuple[int, str]:
    conv.arity(i, deps, 1, "relate")
    name, predicate, direction = _relation(conv, i, argument)
    if predicate.startswith("same "):
        raise conv.fail(f"relate on {predicate!r} has no mapping yet", i, "argument")
    return _related(conv, i, conv.input(i, deps, 0, "set"), name, predicate, direction), "set"


def _filter(conv: _Converter, i: int, category: str, argument: str, deps: list[int]) -> tuple[int, str]:
    conv.arity(i, deps, 1, "filter")
    value, negated = _value(conv, i, argument, "filter")
    source = conv.input(i, deps, 0, "set")
    return conv.emit("exclude" if negated else "filter", (source,), (value,)), "set"


def _verify(conv: _Converter, i: int, category: str, argument: str, deps: list[int]) -> tuple[int, str]:
    conv.arity(i, deps, 1, "verify")
    if category == "rel":
        name, predicate, direction = _relation(conv, i, argument)
        related = _related(conv, i, conv.input(i, deps, 0, "set"), name, predicate, direction)
        return conv.emit("exist", (related,)), "bool"
    value, negated = _value(conv, i, argument, "verify")
    if negated:
        raise conv.fail(f"verify takes a plain value, got {argument!r}", i, "argument")
    obj = conv.input(i, deps, 0, "object")
    if category == "name":
        return conv.emit("verify_name", (obj,), (value,)), "bool"
    return conv.emit("verify", (obj,), (value,)), "bool"


def _query(conv: _Converter, i: int, category: str, argument: str, deps: list[int]) -> tuple[int, str]:
    conv.arity(i, deps, 1, "query")
    what = category or argument
    obj = conv.input(i, deps, 0, "object")
    if what == "name":
        return conv.emit("query_name", (obj,)), "value"
    return conv.emit("query_among", (obj,), (_category_values(conv, i, what),)), "value"


def _choose(conv: _Converter, i: int, category: str, argument: str, deps: list[int]) -> tuple[int, str]:
    if len(deps) != 1:
        raise conv.fail(
            f"choose {category!r} over {len(deps)} steps (a comparison between objects) has "
            "no mapping yet", i, "dependencies",
        )
    if category == "rel":
        name, predicates, direction = _relation(conv, i, argument)
        first, second = _options(conv, i, predicates, argument)
        source = conv.input(i, deps, 0, "set")
        tests = [conv.emit("exist", (_related(conv, i, source, name, p, direction),))
                 for p in (first, second)]
        answers = (relation_answer(first), relation_answer(second))
        return conv.emit("choose", tests, answers), "value"
    first, second = _options(conv, i, argument, argument)
    obj = conv.input(i, deps, 0, "object")
    op = "verify_name" if category == "name" else "verify"
    tests = [conv.emit(op, (obj,), (v,)) for v in (first, second)]
    return conv.emit("choose", tests, (first, second)), "value"


def _exist(conv: _Converter, i: int, category: str, argument: str, deps: list[int]) -> tuple[int, str]:
    conv.arity(i, deps, 1, "exist")
    return conv.emit("exist", (conv.input(i, deps, 0, "set"),)), "bool"


def _count(conv: _Converter, i: int, category: str, argument: str, deps: list[int]) -> tuple[int, str]:
    conv.arity(i, deps, 1, "count")
    return conv.emit("count", (conv.input(i, deps, 0, "set"),)), "integer"


def _logic(op: str) -> _Handler:
    def handler(conv: _Converter, i: int, category: str, argument: str, deps: list[int]) -> tuple[int, str]:
        conv.arity(i, deps, 2, op)
        a, b = (conv.input(i, deps, k, "bool") for k in (0, 1))
        return conv.emit(op, (a, b)), "bool"

    return handler


def _compare(negate: bool) -> _Handler:
    def handler(conv: _Converter, i: int, category: str, argument: str, deps: list[int]) -> tuple[int, str]:
        atom = "different" if negate else "same"
        if len(deps) != 2:
            raise conv.fail(
                f"{atom} over {len(deps)} step(s) (all objects of one set alike) has no "
                "mapping yet", i, "dependencies",
            )
        a, b = (conv.input(i, deps, k, "object") for k in (0, 1))
        what = category or argument
        if what in ("name", "type"):
            step = conv.emit("same_name", (a, b))
        else:
            values = _category_values(conv, i, what)
            qa, qb = (conv.emit("query_among", (o,), (values,)) for o in (a, b))
            step = conv.emit("equal_value", (qa, qb))
        return (conv.emit("not", (step,)) if negate else step), "bool"

    return handler


def _unsupported(conv: _Converter, i: int, category: str, argument: str, deps: list[int]) -> tuple[int, str]:
    raise conv.fail("common (what two objects have in common) has no mapping yet", i, "operation")


_HANDLERS: dict[str, _Handler] = {
    "select": _select,
    "relate": _relate,
    "filter": _filter,
    "verify": _verify,
    "query": _query,
    "choose": _choose,
    "exist": _exist,
    "count": _count,
    "and": _logic("and"),
    "or": _logic("or"),
    "same": _compare(False),
    "different": _compare(True),
    "common": _unsupported,
}
