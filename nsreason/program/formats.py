"""Reading a program given in any supported format (for the CLI and APIs taking text)."""

from __future__ import annotations

import re
from typing import TypeVar

from ..errors import ProgramError, ProgramFormatError
from ..jsonio import loads_json, read_bounded
from ..limits import get_limits, how_to_raise
from .clevr import program_from_clevr
from .ir import Program
from .vocab import OP_NAME, Vocabulary, get_vocabulary

__all__ = ["PROGRAM_FORMATS", "read_program"]

T = TypeVar("T")

PROGRAM_FORMATS = ("auto", "text", "clevr", "prefix", "postfix")


def read_program(
    spec: str, vocabulary: str | Vocabulary = "clevr", format: str = "auto"
) -> Program:
    """A program from ``spec``: the one-line text form, CLEVR JSON nodes (release or
    generator format), prefix or postfix tokens separated by spaces, or ``@FILE`` holding
    any of these (CLEVR JSON may also be a whole question: an object with a ``program``
    list; read within :mod:`nsreason.limits`: a regular file, at most ``program_bytes``,
    validated, its errors never quote it). ``format="auto"`` tells them apart: JSON starts
    with ``[`` or ``{``; the text form starts with an op (and its ``[arguments]``) followed by ``(``; postfix tokens
    start with an op without inputs (``scene``), prefix tokens with one that has inputs.

    >>> read_program("count filter_color[red] scene").to_text()
    'count(filter_color[red](scene()))'
    >>> read_program("scene filter_color[red] count") == read_program(
    ...     "count(filter_color[red](scene()))")
    True
    """
    if format not in PROGRAM_FORMATS:
        raise ProgramFormatError(
            f"unknown program format {format!r}; available: {list(PROGRAM_FORMATS)}"
        )
    if not isinstance(spec, str):
        raise ProgramFormatError(f"expected a program as a string, got {type(spec).__name__}")
    text = spec.strip()
    if not text.startswith("@"):
        return _read(text, vocabulary, format)
    source = text[1:]
    text = _read_file(source)
    try:  # validated here too: an unknown op's error would quote the file
        return _read(text, vocabulary, format).validate()
    except ProgramError as err:
        # Never echo the file: `@/proc/self/environ` must not print the environment.
        place = _PLACE.match(err.path or "")  # `program[3]`, not a name the file holds
        where = f" at {place.group()}" if place else ""
        raise type(err)(
            f"not a program ({type(err).__name__}{where}); the file's content is not shown: "
            "pass the program inline to see the details",
            source=source,
        ) from None


_PLACE = re.compile(r"[a-z_]+(?:\[\d+\])+")


def _read_file(source: str) -> str:
    """The text of a ``@FILE`` program: a regular file, at most ``program_bytes`` long."""
    try:
        raw = read_bounded(source, get_limits().program_bytes, ProgramFormatError, "program file")
    except ProgramFormatError as err:
        raise ProgramFormatError(f"cannot read program file: {err.message}", source=source) from None
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise ProgramFormatError(
            f"program file is not UTF-8 text: {exc.reason} at byte {exc.start}", source=source
        ) from None


def _read(text: str, vocabulary: str | Vocabulary, format: str) -> Program:
    if format == "auto":
        format = _detect(text, vocabulary)
    if format == "clevr":
        nodes = loads_json(text, ProgramFormatError)
        if isinstance(nodes, dict) and "program" in nodes:  # a whole CLEVR question
            _check_size(nodes["program"])
            return _check_depth(program_from_clevr(nodes["program"], vocabulary, path="program"))
        _check_size(nodes)
        return _check_depth(Program.from_clevr(nodes, vocabulary))
    if format == "text":
        return _check_depth(_check_size(Program.from_text(text, vocabulary)))
    from .tokens import split_tokens

    tokens = split_tokens(text)
    _check_size(tokens)
    if format == "prefix":
        return _check_depth(Program.from_prefix(tokens, vocabulary))
    return _check_depth(Program.from_postfix(tokens, vocabulary))


def _check_size(value: T) -> T:
    """``value`` (steps, nodes or tokens), unless it has more than ``program_steps``."""
    limit = get_limits().program_steps
    n = len(value.steps) if isinstance(value, Program) else len(value) if isinstance(value, list) else 0
    if n > limit:
        raise ProgramFormatError(
            f"a program of {n:,} steps, the limit is {limit:,} "
            f"({how_to_raise('program_steps')})", path="program")
    return value


def _check_depth(program: Program) -> Program:
    """``program``, unless its inputs nest deeper than ``program_depth``, or, written out
    as a tree (the text, prefix and postfix forms repeat a shared step once per use), it
    would have more than ``program_steps`` steps: what is read can always be written.
    Counted without recursion; inputs that are not earlier steps are left to validation."""
    limits = get_limits()
    height: list[int] = []
    size: list[int] = []
    for i, step in enumerate(program.steps):
        inputs = [j for j in step.inputs if isinstance(j, int) and not isinstance(j, bool) and 0 <= j < i]
        h = 1 + max((height[j] for j in inputs), default=-1)
        if h > limits.program_depth:
            raise ProgramFormatError(
                f"a program nested deeper than {limits.program_depth} steps "
                f"({how_to_raise('program_depth')})", path="program")
        height.append(h)
        size.append(min(1 + sum(size[j] for j in inputs), limits.program_steps + 1))
    if size and size[-1] > limits.program_steps:
        raise ProgramFormatError(
            f"written out as a tree (a shared step once per use), the program would have more "
            f"than {limits.program_steps:,} steps ({how_to_raise('program_steps')})", path="program")
    return program


# An op and its optional [arguments] (quoted parts may hold ']'), then '(' : the text form.
_TEXT_HEAD = re.compile(
    r"\s*" + OP_NAME.pattern + r'\s*(?:\[(?:"(?:[^"\\]|\\.)*"|[^\]"])*\])?\s*\('
)


def _detect(text: str, vocabulary: str | Vocabulary) -> str:
    if text.startswith(("[", "{")):
        return "clevr"
    if _TEXT_HEAD.match(text):
        return "text"
    from .tokens import split_tokens

    try:
        ops = [t.split("[", 1)[0] for t in split_tokens(text)]
    except ProgramFormatError:
        ops = None
    if ops is None or any("(" in op or ")" in op for op in ops):
        # Not tokens; a '(' outside quotes says the text form was meant (its error is clearer).
        return "text" if "(" in text else "prefix"
    sig = get_vocabulary(vocabulary).ops.get(ops[0]) if ops else None
    return "postfix" if sig is not None and not sig.inputs else "prefix"
