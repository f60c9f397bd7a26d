"""Symbolic op implementations, registered by name in :data:`OPS`.

Vocabulary entries name their implementation (``impl``) and constant ``params``; the
executor calls ``impl(index, *inputs, *params, *args)`` where ``index`` is the scene's
:class:`~nsreason.scene.index.SceneIndex`. Values flowing between steps:

=============  ==================================================
type kind      Python value
=============  ==================================================
object_set     ``int`` bitset over object positions
object         ``int`` object position
integer, bool  ``int``, ``bool``
value          ``str``
=============  ==================================================

An implementation that cannot produce a value raises
:class:`~nsreason.errors.ExecutionFailure`; the executor records it in the trace.

Add an op without touching the package::

    from nsreason.execute import OPS

    @OPS.register("filter_large_or_metal")
    def filter_large_or_metal(ix, objects):
        return objects & (ix.attribute_masks["size"].get("large", 0)
                          | ix.attribute_masks["material"].get("metal", 0))

and give it a signature in your vocabulary file (or publish it under the ``nsreason.ops``
entry-point group).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import ExecutionFailure
from ..registry import Registry
from ..scene.index import SceneIndex, iter_bits

__all__ = ["OPS"]

OPS: Registry[Any] = Registry("op implementation", "nsreason.ops")
_NONE: dict[str, int] = {}


def _describe(ix: SceneIndex, mask: int, limit: int = 6) -> str:
    ids = ix.decode(mask)
    shown = ", ".join(map(str, ids[:limit])) + (", ..." if len(ids) > limit else "")
    return f"{len(ids)} objects ({shown})" if ids else "no object"


# -- sets -------------------------------------------------------------------------------
@OPS.register("scene")
def scene(ix: SceneIndex) -> int:
    """All objects."""
    return ix.all


@OPS.register("filter_attribute")
def filter_attribute(ix: SceneIndex, objects: int, attribute: str, value: str) -> int:
    """Objects whose attribute ``attribute`` has ``value``."""
    return objects & ix.attribute_masks.get(attribute, _NONE).get(value, 0)


@OPS.register("filter_value")
def filter_value(ix: SceneIndex, objects: int, value: str) -> int:
    """Objects having ``value`` under any attribute key or as a free label."""
    return objects & ix.value_masks.get(value, 0)


@OPS.register("exclude_value")
def exclude_value(ix: SceneIndex, objects: int, value: str) -> int:
    """Objects *not* having ``value`` (under any key or as a label)."""
    return objects & ~ix.value_masks.get(value, 0)


@OPS.register("select_name")
def select_name(ix: SceneIndex, objects: int, name: str) -> int:
    """Objects of category ``name``."""
    return objects & ix.name_masks.get(name, 0)


@OPS.register("filter_attributes")
def filter_attributes(
    ix: SceneIndex, objects: int, attributes: Sequence[str], then: str | None, *values: str | None
) -> Any:
    """CLEVR's template shorthand: filter by every given (non-None) value, then optionally
    ``unique``/``count``/``exist``."""
    masks = ix.attribute_masks
    for attribute, value in zip(attributes, values):
        if value is not None:
            objects &= masks.get(attribute, _NONE).get(value, 0)
    return _THEN[then](ix, objects)


@OPS.register("relate_filter")
def relate_filter(
    ix: SceneIndex,
    obj: int,
    attributes: Sequence[str],
    then: str | None,
    relation: str,
    *values: str | None,
) -> Any:
    """CLEVR's template shorthand: relate, filter, then optionally unique/count/exist."""
    return filter_attributes(ix, ix.subjects_mask(relation, obj), attributes, then, *values)


@OPS.register("union")
def union(ix: SceneIndex, a: int, b: int) -> int:
    return a | b


@OPS.register("intersect")
def intersect(ix: SceneIndex, a: int, b: int) -> int:
    return a & b


@OPS.register("difference")
def difference(ix: SceneIndex, a: int, b: int) -> int:
    """Objects of ``a`` that are not in ``b``."""
    return a & ~b


@OPS.register("unique")
def unique(ix: SceneIndex, objects: int) -> int:
    """The single object of the set; fails on an empty or larger set, as CLEVR's engine
    does (``'__INVALID__'`` there, a recorded failure here)."""
    if objects and not objects & (objects - 1):
        return objects.bit_length() - 1
    raise ExecutionFailure(
        "not_unique", f"expected exactly one object, got {_describe(ix, objects)}"
    )


# -- relations --------------------------------------------------------------------------
@OPS.register("subjects_of")
def subjects_of(ix: SceneIndex, obj: int, predicate: str) -> int:
    """Objects ``s`` with ``(s, predicate, obj)``: CLEVR's ``relate[left](x)``, the
    objects left of ``x``."""
    return ix.subjects_mask(predicate, obj)


@OPS.register("extreme")
def extreme(ix: SceneIndex, objects: int, predicate: str) -> int:
    """Members of the set with no *other* member in relation ``predicate`` to them: the
    superlative of a spatial relation. ``extreme[left]`` of the cubes is the leftmost
    cube ("the cube on the far left"), ``extreme[front]`` the closest one, ``extreme
    [behind]`` "the object behind everything". Several objects when none of them is
    further than another (CLEVR relations ignore differences under a small margin)."""
    out = 0
    for i in iter_bits(objects):
        if not ix.subjects_mask(predicate, i) & objects & ~(1 << i):
            out |= 1 << i
    return out


@OPS.register("relate_out")
def relate_out(ix: SceneIndex, objects: int, predicate: str) -> int:
    """Objects ``o`` with ``(s, predicate, o)`` for some ``s`` in the set: what the men
    are wearing."""
    return ix.objects_of_set(predicate, objects)


@OPS.register("relate_in")
def relate_in(ix: SceneIndex, objects: int, predicate: str) -> int:
    """Objects ``s`` with ``(s, predicate, o)`` for some ``o`` in the set: who is
    wearing the hats."""
    return ix.subjects_of_set(predicate, objects)


@OPS.register("verify_relation")
def verify_relation(ix: SceneIndex, subj: int, obj: int, predicate: str) -> bool:
    """Whether ``(subj, predicate, obj)`` holds."""
    return bool(ix.objects_mask(predicate, subj) >> obj & 1)


# -- attributes -------------------------------------------------------------------------
@OPS.register("query_attribute")
def query_attribute(ix: SceneIndex, obj: int, attribute: str) -> str:
    """The object's value of ``attribute``; fails when it has none or several (CLEVR's
    engine: ``'__INVALID__'`` for a list that is not a singleton)."""
    per_object = ix.attribute_values.get(attribute)
    values = per_object[obj] if per_object is not None else ()
    if len(values) == 1:
        return values[0]
    if not values:
        raise ExecutionFailure(
            "missing_attribute", f"object {ix.ids[obj]} has no {attribute!r} attribute"
        )
    raise ExecutionFailure(
        "ambiguous_attribute", f"object {ix.ids[obj]} has several {attribute!r} values: {list(values)}"
    )


@OPS.register("query_name")
def query_name(ix: SceneIndex, obj: int) -> str:
    """The object's category."""
    name = ix.names[obj]
    if name is None:
        raise ExecutionFailure("missing_attribute", f"object {ix.ids[obj]} has no name")
    return name


@OPS.register("same_attribute")
def same_attribute(ix: SceneIndex, obj: int, attribute: str) -> int:
    """Objects *other than* ``obj`` with its value of ``attribute`` (CLEVR's ``same_*``)."""
    value = query_attribute(ix, obj, attribute)
    return ix.attribute_masks[attribute][value] & ~(1 << obj)


@OPS.register("verify_value")
def verify_value(ix: SceneIndex, obj: int, value: str) -> bool:
    """Whether the object has ``value`` (under any key, or as a label)."""
    return bool(ix.value_masks.get(value, 0) >> obj & 1)


@OPS.register("verify_attribute")
def verify_attribute(ix: SceneIndex, obj: int, attribute: str, value: str) -> bool:
    """Whether the object's ``attribute`` has ``value``."""
    return bool(ix.attribute_masks.get(attribute, _NONE).get(value, 0) >> obj & 1)


@OPS.register("verify_name")
def verify_name(ix: SceneIndex, obj: int, name: str) -> bool:
    return ix.names[obj] == name


@OPS.register("same_value")
def same_value(ix: SceneIndex, a: int, b: int, attribute: str) -> bool:
    """Whether two objects share their value of ``attribute``."""
    return query_attribute(ix, a, attribute) == query_attribute(ix, b, attribute)


@OPS.register("different_value")
def different_value(ix: SceneIndex, a: int, b: int, attribute: str) -> bool:
    return query_attribute(ix, a, attribute) != query_attribute(ix, b, attribute)


@OPS.register("same_name")
def same_name(ix: SceneIndex, a: int, b: int) -> bool:
    return query_name(ix, a) == query_name(ix, b)


@OPS.register("all_same")
def all_same(ix: SceneIndex, objects: int, attribute: str) -> bool:
    """Whether every object of the set has the same value of ``attribute`` ("are all the
    balls the same size?"); fails on an empty set, where the question has no answer."""
    if not objects:
        raise ExecutionFailure("empty_set", "no object to compare")
    values = {query_attribute(ix, i, attribute) for i in iter_bits(objects)}
    return len(values) == 1


@OPS.register("most_common")
def most_common(ix: SceneIndex, objects: int, attribute: str) -> str:
    """The value of ``attribute`` that most objects of the set have ("what color are most of
    the cubes?"); fails on an empty set or a tie."""
    counts: dict[str, int] = {}
    for i in iter_bits(objects):
        value = query_attribute(ix, i, attribute)
        counts[value] = counts.get(value, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    if not ranked:
        raise ExecutionFailure("empty_set", f"no object to take the most common {attribute} of")
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        tied = sorted(v for v, c in ranked if c == ranked[0][1])
        raise ExecutionFailure("tie", f"{attribute} values tied for most common: {tied}")
    return ranked[0][0]


# -- answers ----------------------------------------------------------------------------
@OPS.register("count")
def count(ix: SceneIndex, objects: int) -> int:
    return objects.bit_count()


@OPS.register("exist")
def exist(ix: SceneIndex, objects: int) -> bool:
    return objects != 0


@OPS.register("equal")
def equal(ix: SceneIndex, a: Any, b: Any) -> bool:
    return a == b


@OPS.register("less_than")
def less_than(ix: SceneIndex, a: int, b: int) -> bool:
    return a < b


@OPS.register("greater_than")
def greater_than(ix: SceneIndex, a: int, b: int) -> bool:
    return a > b


@OPS.register("and")
def and_(ix: SceneIndex, a: bool, b: bool) -> bool:
    return a and b


@OPS.register("or")
def or_(ix: SceneIndex, a: bool, b: bool) -> bool:
    return a or b


@OPS.register("not")
def not_(ix: SceneIndex, a: bool) -> bool:
    return not a


_THEN = {None: lambda ix, objects: objects, "unique": unique, "count": count, "exist": exist}


# -- GQA ----------------------------------------------------------------------------------
@OPS.register("query_among")
def query_among(ix: SceneIndex, obj: int, options: str) -> str:
    """The object's one value among ``options`` (``"white|black|..."``), read under any
    key or as a free label: a colour on a graph whose attributes carry no category (GQA).
    Fails when it has none of them or several."""
    values = ix.value_masks
    found = [v for v in options.split("|") if values.get(v, 0) >> obj & 1]
    if len(found) == 1:
        return found[0]
    if not found:
        raise ExecutionFailure(
            "missing_attribute", f"object {ix.ids[obj]} has none of the values {options!r}"
        )
    raise ExecutionFailure(
        "ambiguous_attribute", f"object {ix.ids[obj]} has several of the values: {found}"
    )


@OPS.register("choose")
def choose(ix: SceneIndex, first_holds: bool, second_holds: bool, first: str, second: str) -> str:
    """``first`` when only the first test holds, ``second`` when only the second does
    (GQA's ``choose``); fails when both or neither hold."""
    if first_holds != second_holds:
        return first if first_holds else second
    both = "both" if first_holds else "neither"
    raise ExecutionFailure("no_choice", f"{both} of {first!r} and {second!r} hold")


# -- CLEVR-Ref+ ---------------------------------------------------------------------------
ORDINAL_NUMBERS: tuple[str, ...] = (
    "the first one of the", "the second one of the", "the third one of the",
    "the fourth one of the", "the fifth one of the", "the sixth one of the",
    "the seventh one of the", "the eighth one of the", "the nineth one of the",
)
"""CLEVR-Ref+'s ordinal values (metadata.json ``Ordinal_number``, its spelling kept):
value ``k`` picks the ``k+1``-th object."""
ORDINAL_DIRECTIONS: tuple[str, ...] = ("from left", "from right", "from front")
"""CLEVR-Ref+'s ``Ordinal_direction`` values."""
VISIBILITY: tuple[str, ...] = ("fully visible", "partially visible")
"""CLEVR-Ref+'s ``Visible`` values."""


def ordinal_order(ix: SceneIndex, direction: str) -> tuple[int, ...]:
    """Every object position in the order ``filter_ordinal`` counts along ``direction``,
    made once per scene (:meth:`SceneIndex.memo`). As the official generator (ccvl/
    clevr-refplus-dataset-gen, ``filter_ordinal``): ``from left`` sorts by image x
    (``pixel_coords[0]``) ascending, ``from front`` by depth (``pixel_coords[2]``) ascending,
    both stable over the input set in object order (ties: the lower position first);
    ``from right`` is ``from left`` read backwards (ties: the higher position first).
    An object without ``pixel_coords`` is an :class:`ExecutionFailure`."""
    if direction not in ORDINAL_DIRECTIONS:
        raise ExecutionFailure("bad_value", f"unknown ordinal direction {direction!r}")
    return ix.memo(("ordinal_order", direction), lambda ix: _order(ix, direction))  # type: ignore[no-any-return]


def _order(ix: SceneIndex, direction: str) -> tuple[int, ...]:
    axis = 2 if direction == "from front" else 0
    keys = []
    for i, obj in enumerate(ix.scene.objects):
        pc = obj.extra.get("pixel_coords")
        if not isinstance(pc, (list, tuple)) or len(pc) != 3 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in pc
        ):
            raise ExecutionFailure(
                "missing_attribute",
                f"object {ix.ids[i]} has no image position (pixel_coords [x, y, depth]) to order by",
            )
        keys.append(pc[axis])
    order = sorted(range(ix.n), key=keys.__getitem__)
    return tuple(reversed(order)) if direction == "from right" else tuple(order)


@OPS.register("filter_ordinal")
def filter_ordinal(ix: SceneIndex, objects: int, number: str, direction: str) -> int:
    """The ``number``-th object of the set counted ``direction`` (CLEVR-Ref+: "the second
    one of the cubes from left"), as a one-object set. Fails when the set has fewer
    objects. (The generator also never asks for an ordinal among a single object; that is
    a rule of what it generates, not of the meaning: here the first of one is that one.)"""
    try:
        k = ORDINAL_NUMBERS.index(number)
    except ValueError:
        raise ExecutionFailure("bad_value", f"unknown ordinal {number!r}") from None
    seen = 0
    for i in ordinal_order(ix, direction):
        if objects >> i & 1:
            if seen == k:
                return 1 << i
            seen += 1
    raise ExecutionFailure(
        "no_such_object", f"{number!r} {direction}: the set has only {_describe(ix, objects)}"
    )


def visibility_masks(ix: SceneIndex) -> tuple[int, int, int, int]:
    """``(fully, partially, ambiguous, unknown)`` visible objects as bitsets, made once per
    scene from each object's ``extra["occlusion"]`` (set by the CLEVR scene loader from
    CLEVR-Ref+ masks and boxes; :mod:`nsreason.scene.occlusion`): partially visible at
    ≥ 0.2 covered, fully visible at 0.0, ambiguous in between (the generator asks nothing
    about visibility in a scene with such an overlap), unknown without the field."""
    return ix.memo("visibility", _visibility)  # type: ignore[no-any-return]


def _visibility(ix: SceneIndex) -> tuple[int, int, int, int]:
    from ..scene.occlusion import VISIBLE_THRESHOLD

    fully = partially = ambiguous = unknown = 0
    for i, obj in enumerate(ix.scene.objects):
        covered = obj.extra.get("occlusion")
        if not isinstance(covered, (int, float)) or isinstance(covered, bool):
            unknown |= 1 << i
        elif covered >= VISIBLE_THRESHOLD:
            partially |= 1 << i
        elif covered > 0:
            ambiguous |= 1 << i
        else:
            fully |= 1 << i
    return fully, partially, ambiguous, unknown


@OPS.register("filter_visible")
def filter_visible(ix: SceneIndex, objects: int, visibility: str) -> int:
    """Objects of the set that are ``fully visible`` (no object in front covers any of
    their box) or ``partially visible`` (one covers ≥ 20% of it), as CLEVR-Ref+'s generator
    decides (``filter_visible``). Fails when an object of the set has no occlusion
    measure (a scene without masks) or is covered by more than 0% and less than 20%:
    the generator leaves such scenes out, and the answer would be a guess."""
    fully, partially, ambiguous, unknown = visibility_masks(ix)
    if objects & unknown:
        raise ExecutionFailure(
            "missing_attribute",
            f"visibility of {_describe(ix, objects & unknown)} is unknown: the scene has no "
            "object masks and boxes (obj_mask, obj_bbox: CLEVR-Ref+ scenes have them)",
        )
    if objects & ambiguous:
        raise ExecutionFailure(
            "ambiguous_visibility",
            f"{_describe(ix, objects & ambiguous)} covered between 0% and 20%: neither fully "
            "nor clearly partially visible",
        )
    if visibility == "fully visible":
        return objects & fully
    if visibility == "partially visible":
        return objects & partially
    raise ExecutionFailure("bad_value", f"unknown visibility {visibility!r}")
