"""The one-line text form of programs: ``count(relate[left](unique(filter_color[red](scene()))))``.

Grammar::

    expr  := OP ['[' arg (',' arg)* ']'] '(' [expr (',' expr)*] ')'
    arg   := BARE | "JSON string" | (nothing: an omitted optional argument)
    OP    := [A-Za-z_][A-Za-z0-9_.:-]*
    BARE  := characters other than whitespace , [ ] ( ) "

A value with spaces or punctuation is written as a JSON string:
``relate_in["to the left of"](select[man](scene()))``. Bare integer and bool arguments
(``3``, ``true``) are converted where the vocabulary's type says so; a quoted argument
always stays a string. The text form is a tree: a step used twice (shared sub-DAG) is
written twice, and parsing gives the program's :meth:`~Program.canonical` form.
Nesting deeper than ``MAX_DEPTH`` is refused both ways.

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
from typing import NoReturn

from ..errors import ProgramSyntaxError
from .ir import ArgValue, Program, Step
from .vocab import OP_NAME, Vocabulary, get_vocabulary

__all__ = ["format_program", "parse_program", "format_arg", "MAX_DEPTH"]

_BARE = re.compile(r'[^\s,\[\]()"]+')
_OP = OP_NAME
_INT = re.compile(r"-?[0-9]+")
_WS = re.compile(r"\s*")
_HEAD = re.compile(r"\s*(" + OP_NAME.pattern + r")\s*(\[)?")
_SIMPLE_ARGS = re.compile(r'(\s*(?:[^\s,\[\]()"]+)?\s*(?:,\s*(?:[^\s,\[\]()"]+)?\s*)*)\]')
_OPEN = re.compile(r"\s*\(")
_CLOSE = re.compile(r"\s*\)")
_SEP = re.compile(r"\s*([,)])")
_JSON = json.JSONDecoder()
MAX_DEPTH = 400
"""The deepest nesting the text form is written and read with (a chain of 401 steps)."""
_MAX_DEPTH = MAX_DEPTH


def format_arg(value: ArgValue) -> str:
    """One value argument as written inside ``[...]``: bare when it can be, else JSON-quoted
    (spaces, ``,[]()"``, unprintable characters, the empty string).

    >>> format_arg("red"), format_arg("to the left of"), format_arg(None), format_arg(True)
    ('red', '"to the left of"', '', 'true')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if _BARE.fullmatch(text) and text.isprintable():
        return text
    return json.dumps(text, ensure_ascii=False)  # control characters come out escaped


def format_program(program: Program) -> str:
    """The one-line form of ``program`` (its last step is the root; steps that do not
    feed it are left out)."""
    if not program.steps:
        raise ProgramSyntaxError("an empty program has no text form", path="program")
    steps = program.canonical().steps  # a tree in post-order: built bottom-up, no recursion
    texts: list[str] = []
    height: list[int] = []
    for s in steps:
        h = 1 + max((height[j] for j in s.inputs), default=-1)
        if h > _MAX_DEPTH:
            raise ProgramSyntaxError(
                f"program deeper than {_MAX_DEPTH} nested steps has no text form", path="program"
            )
        height.append(h)
        args = f"[{','.join(format_arg(a) for a in s.args)}]" if s.args else ""
        texts.append(f"{s.op}{args}({', '.join(texts[j] for j in s.inputs)})")
    return texts[-1]


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
    program = Program(parser.steps, vocabulary)
    program._int_inputs = True  # inputs are step positions counted by the parser
    return program


class _Parser:
    def __init__(self, text: str, vocab: Vocabulary) -> None:
        self.text = text
        self.pos = 0
        self.vocab = vocab
        self.steps: list[Step] = []

    def fail(self, msg: str) -> NoReturn:
        got = repr(self.text[self.pos]) if self.pos < len(self.text) else "end of text"
        raise ProgramSyntaxError(f"column {self.pos + 1}: {msg}, got {got}")

    def skip_ws(self) -> None:
        m = _WS.match(self.text, self.pos)
        assert m is not None  # r"\s*" matches the empty string too
        self.pos = m.end()

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def head(self) -> tuple[str, tuple[ArgValue, ...]]:
        """``OP ['[' args ']']``: an op name and its (coerced) value arguments."""
        m = _HEAD.match(self.text, self.pos)
        if not m:
            self.skip_ws()
            self.fail("expected an op name")
        op = m.group(1)
        self.pos = m.end()
        if not m.group(2):
            return op, ()
        simple = _SIMPLE_ARGS.match(self.text, self.pos)
        if simple:  # fast path: bare arguments only
            self.pos = simple.end()
            args = [(v.strip() or None, False) for v in simple.group(1).split(",")]
        else:
            args = self.args()
        return op, tuple(self.coerce(op, args))

    def expr(self, depth: int) -> int:
        if depth > _MAX_DEPTH:
            self.skip_ws()
            self.fail(f"nesting deeper than {_MAX_DEPTH}")
        op, args = self.head()
        text = self.text
        m = _OPEN.match(text, self.pos)
        if not m:
            self.skip_ws()
            self.fail(f"expected '(' after {op!r}")
        open_at = m.end()  # 1-based column of '('
        self.pos = m.end()
        inputs: list[int] = []
        m = _CLOSE.match(text, self.pos)
        if m:
            self.pos = m.end()
        else:
            while True:
                inputs.append(self.expr(depth + 1))
                m = _SEP.match(text, self.pos)
                if not m:
                    self.skip_ws()
                    self.fail(f"expected ')' to close '{op}(' opened at column {open_at}")
                self.pos = m.end()
                if m.group(1) == ")":
                    break
        self.steps.append(Step(op, tuple(inputs), args))
        return len(self.steps) - 1

    def args(self) -> list[tuple[ArgValue, bool]]:
        """The arguments after ``[``, each with whether it was quoted."""
        values: list[tuple[ArgValue, bool]] = []
        while True:
            self.skip_ws()
            ch = self.peek()
            if ch == '"':
                try:
                    value, end = _JSON.raw_decode(self.text, self.pos)
                except json.JSONDecodeError:
                    self.fail("unterminated or malformed quoted argument")
                values.append((value, True))
                self.pos = end
            elif ch in (",", "]"):
                values.append((None, False))
            else:
                m = _BARE.match(self.text, self.pos)
                if not m:
                    self.fail("expected a value argument")
                values.append((m.group(), False))
                self.pos = m.end()
            self.skip_ws()
            if self.peek() == ",":
                self.pos += 1
                continue
            if self.peek() == "]":
                self.pos += 1
                return values
            self.fail("expected ',' or ']' in the value arguments")

    def coerce(self, op: str, args: list[tuple[ArgValue, bool]]) -> list[ArgValue]:
        """Turn bare ``3`` / ``true`` into int / bool where the vocabulary says so."""
        out = [value for value, _ in args]
        sig = self.vocab.ops.get(op)
        if sig is None:
            return out
        for k, (spec, (value, quoted)) in enumerate(zip(sig.args, args)):
            if quoted or not isinstance(value, str):
                continue
            kind = self.vocab.types[spec.type].kind
            if kind == "integer" and _INT.fullmatch(value) and len(value) <= 4000:
                out[k] = int(value)  # (longer ones stay strings: int() refuses them)
            elif kind == "bool" and value in ("true", "false"):
                out[k] = value == "true"
        return out
