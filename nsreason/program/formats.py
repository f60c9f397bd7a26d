"""Reading a program given in any supported format (for the CLI and APIs taking text)."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import ProgramFormatError
from .ir import Program
from .vocab import Vocabulary

__all__ = ["PROGRAM_FORMATS", "read_program"]

PROGRAM_FORMATS = ("auto", "text", "clevr", "prefix", "postfix")


def read_program(
    spec: str, vocabulary: str | Vocabulary = "clevr", format: str = "auto"
) -> Program:
    """A program from ``spec``: the one-line text form, CLEVR JSON nodes (release or
    generator format), prefix or postfix tokens separated by spaces, or ``@FILE`` holding
    any of these. ``format="auto"`` tells them apart: JSON starts with ``[``; the text
    form has parentheses; postfix tokens start with a step without inputs (``scene``).
    """
    if format not in PROGRAM_FORMATS:
        raise ProgramFormatError(f"unknown program format {format!r}; available: {list(PROGRAM_FORMATS)}")
    text = spec.strip()
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ProgramFormatError(f"cannot read program file: {exc.strerror}", source=str(path)) from None
    if format == "auto":
        if text.startswith("["):
            format = "clevr"
        elif "(" in text:
            format = "text"
        else:
            first = text.split()[0] if text.split() else ""
            format = "postfix" if first.split("[")[0] == "scene" else "prefix"
    if format == "clevr":
        try:
            nodes = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProgramFormatError(
                f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            ) from None
        return Program.from_clevr(nodes, vocabulary)
    if format == "text":
        return Program.from_text(text, vocabulary)
    from .tokens import split_tokens

    tokens = split_tokens(text)
    if format == "prefix":
        return Program.from_prefix(tokens, vocabulary)
    return Program.from_postfix(tokens, vocabulary)
