"""Reading a program given in any supported format (for the CLI and APIs taking text)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import ProgramFormatError
from .clevr import program_from_clevr
from .ir import Program
from .vocab import OP_NAME, Vocabulary, get_vocabulary

__all__ = ["PROGRAM_FORMATS", "read_program"]

PROGRAM_FORMATS = ("auto", "text", "clevr", "prefix", "postfix")


def read_program(
    spec: str, vocabulary: str | Vocabulary = "clevr", format: str = "auto"
) -> Program:
    """A program from ``spec``: the one-line text form, CLEVR JSON nodes (release or
    generator format), prefix or postfix tokens separated by spaces, or ``@FILE`` holding
    any of these (CLEVR JSON may also be a whole question: an object with a ``program``
    list). ``format="auto"`` tells them apart: JSON starts with ``[`` or ``{``; the text
    form starts with an op (and its ``[arguments]``) followed by ``(``; postfix tokens
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
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ProgramFormatError(
                f"cannot read program file: {exc.strerror}", source=str(path)
            ) from None
        except UnicodeDecodeError as exc:
            raise ProgramFormatError(
                f"program file is not UTF-8 text: {exc.reason} at byte {exc.start}",
                source=str(path),
            ) from None
    if format == "auto":
        format = _detect(text, vocabulary)
    if format == "clevr":
        try:
            nodes = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProgramFormatError(
                f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            ) from None
        except RecursionError:
            raise ProgramFormatError("not valid JSON: nested too deeply") from None
        if isinstance(nodes, dict) and "program" in nodes:  # a whole CLEVR question
            return program_from_clevr(nodes["program"], vocabulary, path="program")
        return Program.from_clevr(nodes, vocabulary)
    if format == "text":
        return Program.from_text(text, vocabulary)
    from .tokens import split_tokens

    tokens = split_tokens(text)
    if format == "prefix":
        return Program.from_prefix(tokens, vocabulary)
    return Program.from_postfix(tokens, vocabulary)


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
