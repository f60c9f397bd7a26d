"""More (text, program) pairs from one: the values swapped consistently in both.

A CLEVR question or CLEVR-Ref+ expression says its values in words ("the second one of the
shiny ball(s) from left that are behind ..."), and its program holds the same values as
arguments (``filter_ordinal["the second one of the","from left"]``,
``filter_material[metal]``, ``relate[behind]``). :func:`swap_values` draws, per value type,
a random permutation of the type's domain (the colours among themselves, left/right/front/
behind among the relations, the ordinal numbers, the ordinal directions, fully/partially
visible...) and applies it to the text and to the program together, writing each value
with a random synonym (CLEVR's ``synonyms.json``: metal → "shiny", left → "to the left
of"). The structure of the pair is untouched, so the new pair means what the old one meant
with other values: a parser trained on such pairs learns that a value word maps to its
argument wherever the phrase stands, not the value combinations of the few pairs it has.

Only values the text writes in a recognisable form are swapped: a pair whose text does not
show every value of its program (a hand-written question saying "shiny" for a value type
whose words this module does not know) is returned unchanged, so nothing wrong is learnt.

>>> import random
>>> from nsreason.program.ir import Program
>>> p = Program.from_text('filter_ordinal["the second one of the","from left"](filter_color[red](scene()))')
>>> text, q = swap_values("The second one of the red object(s) from left", p, random.Random(3))
>>> text
'The fourth one of the purple object(s) from right'
>>> q.to_text()
'filter_ordinal["the fourth one of the","from right"](filter_color[purple](scene()))'
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence

from ...program.ir import Program, Step
from ...program.vocab import get_vocabulary
from .text import SYNONYMS

__all__ = ["swap_shown", "swap_values", "swapped_pairs"]

_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "nineth")


def _surface(value_type: str, value: str, synonyms: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """The ways the text writes ``value`` (of ``value_type``), as regex-ready phrases."""
    if value_type == "Ordinal_number":
        return (value.split()[1],)  # "the second one of the" is written "second"
    if value_type in ("Ordinal_direction", "Visible"):
        return (value,)
    return tuple(synonyms.get(value, (value,)))  # a shape's plural ("cubes", "cube(s)") stays as written


def _pattern(value_type: str, phrase: str) -> str:
    escaped = re.escape(phrase).replace(r"\ ", r"\s+")
    if value_type == "Ordinal_number":
        return rf"\b{escaped}(?=\s+one\s+of\b)"
    if value_type == "Shape":
        return rf"\b{escaped}(?=s\b|\(s\)|\b)"
    return rf"\b{escaped}\b"


def swap_values(
    text: str,
    program: Program,
    rng: random.Random,
    *,
    synonyms: Mapping[str, Sequence[str]] = SYNONYMS,
    types: Sequence[str] | None = None,
) -> tuple[str, Program]:
    """``(text, program)`` with every value of a swappable type permuted (see the module
    docstring; ``types``: only these value types, default every closed type); unchanged
    when the text does not show each program value."""
    return swap_shown(text, program, rng, synonyms=synonyms, types=types) or (text, program)


def swap_shown(
    text: str,
    program: Program,
    rng: random.Random,
    *,
    synonyms: Mapping[str, Sequence[str]] = SYNONYMS,
    types: Sequence[str] | None = None,
) -> tuple[str, Program] | None:
    """:func:`swap_values`, but None when the text does not show each program value."""
    vocab = program.get_vocabulary()
    used: dict[str, set[str]] = {}
    for step in program.steps:
        sig = vocab.op(step.op)
        for spec, value in zip(sig.args, step.args, strict=False):
            domain = vocab.types[spec.type].domain if spec.type in vocab.types else None
            if domain and isinstance(value, str) and len(domain) > 1 and (types is None or spec.type in types):
                used.setdefault(spec.type, set()).add(value)
    if not used:
        return text, program
    # Where each value stands in the text (every program value must be found).
    spans: list[tuple[int, int, str, str]] = []  # start, end, type, value
    for value_type, values in used.items():
        for value in values:
            found = False
            for phrase in _surface(value_type, value, synonyms):
                for m in re.finditer(_pattern(value_type, phrase), text, flags=re.IGNORECASE):
                    spans.append((m.start(), m.end(), value_type, value))
                    found = True
            if not found:
                return None
    # A value of another type or a longer phrase may overlap ("left" inside "on the left
    # side of"): keep the longest span at each place, drop what it covers.
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    kept: list[tuple[int, int, str, str]] = []
    for s in spans:
        if kept and s[0] < kept[-1][1]:
            continue
        kept.append(s)
    mapping: dict[tuple[str, str], str] = {}
    for value_type in sorted(used):
        domain = list(vocab.types[value_type].domain or ())
        shuffled = domain[:]
        rng.shuffle(shuffled)
        mapping.update({(value_type, a): b for a, b in zip(domain, shuffled, strict=True)})
    pieces: list[str] = []
    last = 0
    for start, end, value_type, value in kept:
        new = mapping[(value_type, value)]
        word = rng.choice(_surface(value_type, new, synonyms))
        old = text[start:end]
        if old[:1].isupper():
            word = word[:1].upper() + word[1:]
        pieces += [text[last:start], word]
        last = end
    pieces.append(text[last:])
    steps = []
    for step in program.steps:
        sig = vocab.op(step.op)
        args = tuple(
            mapping.get((spec.type, value), value) if isinstance(value, str) else value
            for spec, value in zip(sig.args, step.args, strict=False)
        ) + step.args[len(sig.args):]
        steps.append(Step(step.op, step.inputs, args))
    return "".join(pieces), Program(steps, vocab)


def swapped_pairs(
    pairs: Sequence[tuple[str, Program]],
    copies: int,
    *,
    seed: int = 0,
    synonyms: Mapping[str, Sequence[str]] = SYNONYMS,
) -> list[tuple[str, Program]]:
    """``copies`` value-swapped versions of each pair (drawn from ``random.Random(seed)``),
    without duplicates of each other or of the originals; the originals are not included.

    >>> from nsreason.program.ir import Program
    >>> p = Program.from_text("count(filter_color[red](scene()))")
    >>> len(swapped_pairs([("How many red things are there?", p)], 3))
    3
    """
    rng = random.Random(seed)
    seen = {(t, p) for t, p in pairs}
    out = []
    for text, program in pairs:
        for _ in range(copies):
            for _attempt in range(4):
                new = swap_values(text, program, rng, synonyms=synonyms)
                if new not in seen:
                    seen.add(new)
                    out.append(new)
                    break
    return out


# The names of the types a CLEVR program may swap, for readers of this module.
SWAPPABLE = ("Size", "Color", "Material", "Shape", "Relation", "Ordinal_number", "Ordinal_direction", "Visible")
assert set(SWAPPABLE) <= set(get_vocabulary("clevr").types)
