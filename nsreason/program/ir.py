"""The program IR: a DAG of typed steps, one IR for every parser and executor.

A :class:`Program` is a tuple of :class:`Step` in topological order: each step names an
op of a :class:`~nsreason.program.vocab.Vocabulary`, the earlier steps it takes as inputs,
and its value arguments. The last step is the answer.

>>> p = Program([Step("scene"), Step("filter_color", (0,), ("red",)), Step("count", (1,))])
>>> p.validate() is p
True
>>> p.to_text()
'count(filter_color[red](scene()))'
>>> Program([Step("scene"), Step("count", (0,)), Step("unique", (1,))]).validate()
Traceback (most recent call last):
...
nsreason.errors.ProgramTypeError: program[2] (unique): input 0 is step 1 (count) of type Integer, expected ObjectSet
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import (
    ProgramError,
    ProgramFormatError,
    ProgramTypeError,
    UnknownOpError,
    UnknownValueError,
)
from .vocab import Vocabulary, get_vocabulary

__all__ = ["Step", "Program", "ArgValue", "MAX_TREE_STEPS", "check_step"]

MAX_TREE_STEPS = 100_000
"""The most steps :meth:`Program.canonical` (and so every tree form) writes out."""

ArgValue = str | int | bool | None
"""A value argument: a domain value ("red"), a number, or None for an omitted optional."""


_UNBOUND: tuple[Any, ...] = (None,) * 11
"""A step's cached binding before any executor bound it (a binding's width, see
:data:`nsreason.execute.codegen.BINDING_WIDTH`; its last element, the binding cache's
token, is None)."""


@dataclass(frozen=True, slots=True)
class Step:
    """One step: ``op`` applied to the outputs of steps ``inputs`` with value ``args``."""

    op: str
    inputs: tuple[int, ...] = ()
    args: tuple[ArgValue, ...] = ()
    _bound: tuple[Any, ...] = field(default=_UNBOUND, init=False, repr=False, compare=False)
    """An executor's binding of this step (see :mod:`nsreason.execute.codegen`), cached
    here as a program caches its compiled form; not part of the step's value."""

    def __post_init__(self) -> None:
        # Accept lists for convenience; store tuples so steps stay hashable.
        if not isinstance(self.inputs, tuple):
            object.__setattr__(self, "inputs", tuple(self.inputs))
        if not isinstance(self.args, tuple):
            object.__setattr__(self, "args", tuple(self.args))

    def __getstate__(self) -> tuple[str, tuple[int, ...], tuple[ArgValue, ...]]:
        return (self.op, self.inputs, self.args)  # the value, without the cached binding

    def __setstate__(self, state: tuple[str, tuple[int, ...], tuple[ArgValue, ...]]) -> None:
        for name, value in zip(("op", "inputs", "args"), state):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_bound", _UNBOUND)


class Program:
    """A typed DAG of :class:`Step` s over a vocabulary (default ``"clevr"``).

    Programs are immutable values: equal when their steps and vocabulary name are equal.
    Converters to and from every supported format live in :mod:`nsreason.program.text`,
    :mod:`~nsreason.program.tokens` and :mod:`~nsreason.program.clevr` and are reachable as
    methods (``to_text``, ``from_text``, ``to_clevr``...).
    """

    __slots__ = ("steps", "vocabulary", "_compiled", "_canonical", "_text", "_int_inputs")

    def __init__(self, steps: Iterable[Step], vocabulary: str | Vocabulary = "clevr") -> None:
        self.steps: tuple[Step, ...] = tuple(steps)
        self.vocabulary: str | Vocabulary = vocabulary
        # Executors cache their compiled form here, tagged by executor (see execute/).
        self._compiled: Any = None
        self._canonical: Program | None = None  # computed once (programs are immutable)
        self._text: str | None = None  # the one-line form, computed once
        # True when the reader that built the steps checked that every input is an int and
        # not a bool (the CLEVR, text and token readers do): executors may skip that check.
        self._int_inputs = False

    # -- value semantics ------------------------------------------------------------------
    @property
    def vocabulary_name(self) -> str:
        v = self.vocabulary
        return v.name if isinstance(v, Vocabulary) else str(v)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Program):
            return NotImplemented
        return self.steps == other.steps and self.vocabulary_name == other.vocabulary_name

    def __hash__(self) -> int:
        return hash((self.steps, self.vocabulary_name))

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __getitem__(self, i: int) -> Step:
        return self.steps[i]

    def __repr__(self) -> str:
        try:
            body = self.to_text()
        except ProgramError:
            body = f"{len(self.steps)} steps"
        return f"Program({body!r})"

    def get_vocabulary(self) -> Vocabulary:
        return get_vocabulary(self.vocabulary)

    # -- structure ------------------------------------------------------------------------
    def output_types(self, vocabulary: str | Vocabulary | None = None) -> list[str]:
        """The output type of every step (the program must be valid)."""
        vocab = get_vocabulary(vocabulary or self.vocabulary)
        return [vocab.op(s.op).output for s in self.steps]

    def canonical(self) -> Program:
        """The same computation as a tree, numbered in post-order (inputs left to right).

        Steps that do not feed the answer are dropped, and a step read by several steps
        (a shared sub-DAG) is written out once per use, as the tree forms (one-line text,
        prefix and postfix tokens) write it: those forms parse back to exactly this program.

        >>> dag = Program([Step("scene"), Step("count", (0,)), Step("exist", (0,)),
        ...                Step("count", (0,)), Step("equal_integer", (1, 3))])
        >>> [(s.op, s.inputs) for s in dag.canonical()]
        [('scene', ()), ('count', (0,)), ('scene', ()), ('count', (2,)), ('equal_integer', (1, 3))]

        Raises :class:`~nsreason.errors.ProgramFormatError` when a step reads a step that is
        not an earlier one (the steps would not form a DAG), or when the tree would exceed
        ``MAX_TREE_STEPS`` steps.
        """
        if self._canonical is None:
            self._canonical = self._make_canonical()
        return self._canonical

    def _make_canonical(self) -> Program:
        steps = self.steps
        if not steps:
            return self
        cap = MAX_TREE_STEPS + 1
        size: list[int] = []
        pending: list[int] = []  # a postfix stack machine: is the program already canonical?
        is_canonical = True
        for i, s in enumerate(steps):
            inputs = s.inputs
            total = 1
            for j in inputs:
                # `type(j) is int` first: the common case costs one test
                if (type(j) is not int or not 0 <= j < i) and (
                    not isinstance(j, int) or isinstance(j, bool) or not 0 <= j < i
                ):
                    raise ProgramFormatError(
                        f"step {i} ({s.op}) reads step {j!r}, which is not an earlier step",
                        path=f"program[{i}].inputs",
                    )
                total += size[j]
            size.append(total if total < cap else cap)
            if is_canonical:
                n = len(inputs)
                if n:
                    if tuple(pending[-n:]) != inputs:
                        is_canonical = False
                    del pending[-n:]
                pending.append(i)
        if is_canonical and len(pending) == 1:
            return self
        if size[-1] > MAX_TREE_STEPS:
            raise ProgramFormatError(
                f"written out as a tree, the program would have more than {MAX_TREE_STEPS} "
                "steps (shared steps are repeated once per use)",
                path="program",
            )
        out: list[Step] = []
        done: list[int] = []  # new indices of finished subtrees, in order
        stack: list[tuple[int, bool]] = [(len(steps) - 1, False)]
        while stack:  # iterative post-order: deep programs must not hit the recursion limit
            i, expanded = stack.pop()
            s = steps[i]
            if expanded:
                n = len(s.inputs)
                inputs = tuple(done[len(done) - n :]) if n else ()
                del done[len(done) - n :]
                out.append(Step(s.op, inputs, s.args))
                done.append(len(out) - 1)
            else:
                stack.append((i, True))
                stack.extend((j, False) for j in reversed(s.inputs))
        return Program(out, self.vocabulary)

    # -- validation -----------------------------------------------------------------------
    def validate(self, vocabulary: str | Vocabulary | None = None) -> Program:
        """Type-check against the vocabulary; return ``self`` or raise a
        :class:`~nsreason.errors.ProgramError` naming the step and what is wrong."""
        vocab = get_vocabulary(vocabulary or self.vocabulary)
        if not self.steps:
            raise ProgramFormatError("a program needs at least one step", path="program")
        out_types: list[str] = []
        for i, step in enumerate(self.steps):
            where = f"program[{i}] ({step.op})"
            try:
                sig = vocab.op(step.op)
            except UnknownOpError as err:
                raise UnknownOpError(err.message, path=where) from None
            if len(step.inputs) != len(sig.inputs):
                raise ProgramTypeError(
                    f"takes {len(sig.inputs)} input(s) {list(sig.inputs)}, got {len(step.inputs)}",
                    path=where,
                )
            for k, (j, want) in enumerate(zip(step.inputs, sig.inputs)):
                if not isinstance(j, int) or isinstance(j, bool) or not 0 <= j < i:
                    earlier = f"(0..{i - 1})" if i else "(none here)"
                    raise ProgramTypeError(
                        f"input {k} must be the index of an earlier step {earlier}, got {j!r}",
                        path=where,
                    )
                if out_types[j] != want and not vocab.takes(want, out_types[j]):
                    raise ProgramTypeError(
                        f"input {k} is step {j} ({self.steps[j].op}) of type {out_types[j]}, "
                        f"expected {want}",
                        path=where,
                    )
            _check_args(step, sig, vocab, where)
            out_types.append(sig.output)
        return self

    # -- converters (thin wrappers; see nsreason.program.convert) ---------------------------
    def to_text(self) -> str:
        """The one-line form, e.g. ``count(relate[left](unique(filter_color[red](scene()))))``."""
        if self._text is None:
            from .text import format_program

            self._text = format_program(self)
        return self._text

    @classmethod
    def from_text(cls, text: str, vocabulary: str | Vocabulary = "clevr") -> Program:
        """Parse the one-line form (see :mod:`nsreason.program.text`)."""
        from .text import parse_program

        return parse_program(text, vocabulary)

    def to_clevr(self, *, generator: bool = False) -> list[dict[str, Any]]:
        """CLEVR release nodes (``function``) or, with ``generator=True``, the generator's
        (``type``); see :mod:`nsreason.program.clevr`."""
        from .clevr import program_to_clevr

        return program_to_clevr(self, generator=generator)

    @classmethod
    def from_clevr(cls, nodes: Sequence[Any], vocabulary: str | Vocabulary = "clevr") -> Program:
        """Read CLEVR program nodes in either format (release or generator)."""
        from .clevr import program_from_clevr

        return program_from_clevr(nodes, vocabulary)

    def to_prefix(self) -> list[str]:
        """Prefix tokens: ``['count', 'filter_color[red]', 'scene']``."""
        from .tokens import to_prefix

        return to_prefix(self)

    def to_postfix(self) -> list[str]:
        """Postfix tokens: ``['scene', 'filter_color[red]', 'count']``."""
        from .tokens import to_postfix

        return to_postfix(self)

    @classmethod
    def from_prefix(cls, tokens: Sequence[str], vocabulary: str | Vocabulary = "clevr") -> Program:
        from .tokens import from_prefix

        return from_prefix(tokens, vocabulary)

    @classmethod
    def from_postfix(cls, tokens: Sequence[str], vocabulary: str | Vocabulary = "clevr") -> Program:
        from .tokens import from_postfix

        return from_postfix(tokens, vocabulary)


def check_step(step: Step, vocabulary: Vocabulary) -> Any:
    """The signature of ``step``'s op in ``vocabulary``, after the checks
    :meth:`Program.validate` makes of a step on its own (the op exists, its value arguments
    are as many as it takes and each in its type's domain); not its wiring, which depends
    on the steps before. Raises the :class:`~nsreason.errors.ProgramError` that ``validate``
    would, without the step's position.

    >>> from nsreason.program.vocab import get_vocabulary
    >>> check_step(Step("filter_color", (0,), ("red",)), get_vocabulary("clevr")).output
    'ObjectSet'
    """
    sig = vocabulary.op(step.op)
    _check_args(step, sig, vocabulary, f"step ({step.op})")
    return sig


def _check_args(step: Step, sig: Any, vocab: Vocabulary, where: str) -> None:
    args = step.args
    # Trailing optional arguments may be left out; a required one after an optional one
    # may not (write the optional one as an empty slot: ``pick[,bob]``).
    least = max((k + 1 for k, a in enumerate(sig.args) if not a.optional), default=0)
    if not least <= len(args) <= len(sig.args):
        want = f"{len(sig.args)}" if least == len(sig.args) else f"{least} to {len(sig.args)}"
        names = [a.name for a in sig.args]
        raise ProgramTypeError(
            f"takes {want} value argument(s) {names}, got {len(args)}: {list(args)}", path=where
        )
    for spec, value in zip(sig.args, args):
        if value is None:
            if spec.optional:
                continue
            raise ProgramTypeError(f"value argument {spec.name!r} is required", path=where)
        vtype = vocab.types[spec.type]
        if not vtype.accepts(value):
            raise UnknownValueError(
                f"{spec.name}: expected {vtype.describe_domain()} ({spec.type}), got {value!r}",
                path=where,
            )
