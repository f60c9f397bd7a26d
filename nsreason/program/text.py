"""The one-line text form of programs: ``count(relate[left](unique(filter_color[red](scene()))))``.

Grammar::

    expr  := OP ['[' arg (',' arg)* ']'] '(' [expr (',' expr)*] ')'
    arg   := BARE | "JSON string" | (nothing: an omitted optional argument)
    OP    := [A-Za-z_][A-Za-z0-9_.:-]*
    BARE  := characters other than whitespace , [ ] ( ) "

A value with spaces or punctuation is written as a JSON string:
``relate_in["to the left of"](select[man](scene()))``. Integer and bool arguments are
converted using the vocabulary. The text form is a tree: a step used twice (shared sub-DAG)
is written twice, and parsing gives the program's :meth:`~Program.canonical` numbering.

>>> p = parse_program('count(relate[left](unique(filter_color[red](scene()))))')
>>> [s.op for s in p.steps]
['scene', 'filter_color', 'unique', 'relate', 'count']
>>> format_program(p)
'count(relate[left](unique(filter_color[red](scene()))))'
>>> parse_program('count(filter_color[red](scene())')
Traceback (most recent call last):
...
nsreason.errors.ProgramSyntaxError: column 33: expected ')' to close 'count(' opened at column 6, got end of text
"""

from __future__ import annotations

import json
import re

from ..errors import ProgramSyntaxError
from .ir import ArgValue, Program, Step
from .vocab import Vocabulary, get_vocabulary

__all__ = ["format_program", "parse_program", "format_arg"]

_BARE = re.compile(r'[^\s,\[\]()"]+')
_OP = re.compile(r"[A-Za-z_][A-Za-z0-9_.:\-]*")
_MAX_DEPTH = 400


def format_arg(value: ArgValue) -> str:
    """One value argument as written inside ``[...]``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return text if _BARE.fullmatch(text) else json.dumps(text, ensure_ascii=False)


def format_program(program: Program) -> str:
    """The one-line form of ``program`` (its last step is the root)."""
    steps = program.steps
    if not steps:
        raise ProgramSyntaxError("an empty program has no text form")

    def fmt(i: int, depth: int) -> str:
        if depth > _MAX_DEPTH:
            raise ProgramSyntaxError(f"program deeper than {_MAX_DEPTH} steps")
        s = steps[i]
        args = f"[{','.join(format_arg(a) for a in s.args)}]" if s.args else ""
        for j in s.inputs:
            if not isinstance(j, int) or not 0 <= j < i:
                raise ProgramSyntaxError(
                    f"step {i} ({s.op}) reads step {j!r}, which is not an earlier step",
                    path=f"program[{i}]",
                )
        return f"{s.op}{args}({', '.join(fmt(j, depth + 1) for j in s.inputs)})"

    return fmt(len(steps) - 1, 0)


def parse_program(text: str, vocabulary: str | Vocabulary = "clevr") -> Program:
    """Parse the one-line form into a :class:`Program` over ``vocabulary``.

    Only syntax is checked here; call :meth:`Program.validate` for ops, types and values.
    """
    if not isinstance(text, str):
        raise ProgramSyntaxError(f"expected a string, got {type(text).__name__}")
    vocab = get_vocabulary(vocabulary)
    parser = _Parser(text, vocab)
    parser.expr(0)
    parser.skip_ws()
    if parser.pos != len(text):
        parser.fail("expected end of text after the root step")
    return Program(parser.steps, vocabulary)


class _Parser:
    def __init__(self, text: str, vocab: Vocabulary) -> None:
        self.text = text
        self.pos = 0
        self.vocab = vocab
        self.steps: list[Step] = []

    def fail(self, msg: str) -> None:
        got = repr(self.text[self.pos]) if self.pos < len(self.text) else "end of text"
        raise ProgramSyntaxError(f"column {self.pos + 1}: {msg}, got {got}")

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, ch: str, msg: str) -> None:
        self.skip_ws()
        if self.peek() != ch:
            self.fail(msg)
        self.pos += 1

    def expr(self, depth: int) -> int:
        if depth > _MAX_DEPTH:
            self.fail(f"nesting deeper than {_MAX_DEPTH}")
        self.skip_ws()
        m = _OP.match(self.text, self.pos)
        if not m:
            self.fail("expected an op name")
        op = m.group()
        self.pos = m.end()
        args: list[ArgValue] = []
        self.skip_ws()
        if self.peek() == "[":
            self.pos += 1
            args = self.args()
        self.skip_ws()
        open_at = self.pos + 1
        self.expect("(", f"expected '(' after {op!r}")
        inputs: list[int] = []
        self.skip_ws()
        if self.peek() != ")":
            while True:
                inputs.append(self.expr(depth + 1))
                self.skip_ws()
                if self.peek() == ",":
                    self.pos += 1
                    continue
                break
        self.expect(")", f"expected ')' to close '{op}(' opened at column {open_at}")
        self.steps.append(Step(op, tuple(inputs), tuple(self.coerce(op, args))))
        return len(self.steps) - 1

    def args(self) -> list[ArgValue]:
        values: list[ArgValue] = []
        while True:
            self.skip_ws()
            ch = self.peek()
            if ch == '"':
                try:
                    value, end = json.JSONDecoder().raw_decode(self.text, self.pos)
                except json.JSONDecodeError:
                    self.fail("unterminated or malformed quoted argument")
                values.append(value)
                self.pos = end
            elif ch in (",", "]"):
                values.append(None)
            else:
                m = _BARE.match(self.text, self.pos)
                if not m:
                    self.fail("expected a value argument")
                values.append(m.group())
                self.pos = m.end()
            self.skip_ws()
            if self.peek() == ",":
                self.pos += 1
                continue
            if self.peek() == "]":
                self.pos += 1
                return values
            self.fail("expected ',' or ']' in the value arguments")

    def coerce(self, op: str, args: list[ArgValue]) -> list[ArgValue]:
        """Turn bare ``3`` / ``true`` into int / bool where the vocabulary says so."""
        sig = self.vocab.ops.get(op)
        if sig is None:
            return args
        out = list(args)
        for k, (spec, value) in enumerate(zip(sig.args, args)):
            kind = self.vocab.types[spec.type].kind
            if isinstance(value, str):
                if kind == "integer" and re.fullmatch(r"-?\d+", value):
                    out[k] = int(value)
                elif kind == "bool" and value in ("true", "false"):
                    out[k] = value == "true"
        return out
