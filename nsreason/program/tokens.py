"""Prefix and postfix token sequences, the output space of seq2seq program parsers.

A token is an op with its value arguments, written as in the one-line form:
``filter_color[red]``, ``relate[left]``, ``scene``. Arity comes from the vocabulary, so
no brackets or parentheses are needed between tokens (IEP / NS-VQA style).

>>> p = Program.from_text("count(relate[left](unique(filter_color[red](scene()))))")
>>> to_prefix(p)
['count', 'relate[left]', 'unique', 'filter_color[red]', 'scene']
>>> to_postfix(p)
['scene', 'filter_color[red]', 'unique', 'relate[left]', 'count']
>>> from_prefix(to_prefix(p)) == p == from_postfix(to_postfix(p))
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..errors import ProgramFormatError, ProgramSyntaxError
from .ir import ArgValue, Program, Step
from .text import format_arg, parse_program
from .vocab import Vocabulary, get_vocabulary

__all__ = ["to_prefix", "to_postfix", "from_prefix", "from_postfix", "format_token", "parse_token", "split_tokens"]

# A token: an op name, then optionally [...] whose quoted parts may hold spaces.
_TOKEN = re.compile(r'[^\s\[]+(?:\[(?:"(?:[^"\\]|\\.)*"|[^\]"])*\])?')


def format_token(step: Step) -> str:
    """``filter_color[red]`` for a step (its inputs are implicit)."""
    return f"{step.op}[{','.join(format_arg(a) for a in step.args)}]" if step.args else step.op


def parse_token(token: str, vocabulary: str | Vocabulary = "clevr") -> tuple[str, tuple[ArgValue, ...]]:
    """``'filter_color[red]'`` → ``('filter_color', ('red',))`` (arguments typed by the
    vocabulary, as in the one-line form)."""
    try:
        step = parse_program(token + "()", vocabulary).steps[-1]
    except ProgramSyntaxError as err:
        raise ProgramFormatError(f"malformed token {token!r}: {err.message}") from None
    return step.op, step.args


def split_tokens(text: str) -> list[str]:
    """Split a space-separated token string, keeping quoted arguments with spaces whole:
    ``'relate["left of"] scene'`` → ``['relate["left of"]', 'scene']``."""
    tokens, pos = [], 0
    for m in _TOKEN.finditer(text):
        if text[pos : m.start()].strip():
            raise ProgramFormatError(f"cannot split tokens at column {pos + 1}: {text[pos:m.start()]!r}")
        tokens.append(m.group())
        pos = m.end()
    if text[pos:].strip():
        raise ProgramFormatError(f"cannot split tokens at column {pos + 1}: {text[pos:]!r}")
    return tokens


def to_prefix(program: Program) -> list[str]:
    """Tokens in prefix order (root first, inputs left to right)."""
    canon = program.canonical()
    out: list[str] = []

    def visit(i: int) -> None:
        s = canon.steps[i]
        out.append(format_token(s))
        for j in s.inputs:
            visit(j)

    visit(len(canon.steps) - 1)
    return out


def to_postfix(program: Program) -> list[str]:
    """Tokens in postfix order: the canonical steps, one token each."""
    return [format_token(s) for s in program.canonical().steps]


def _arity(vocab: Vocabulary, op: str, position: int) -> int:
    sig = vocab.ops.get(op)
    if sig is None:
        raise ProgramFormatError(
            f"token {position}: unknown op {op!r}; the arity of every op must be known to read tokens",
            path=f"tokens[{position}]",
        )
    return len(sig.inputs)


def from_postfix(tokens: Sequence[str], vocabulary: str | Vocabulary = "clevr") -> Program:
    """Read postfix tokens (a stack machine: each op pops its inputs)."""
    vocab = get_vocabulary(vocabulary)
    steps: list[Step] = []
    stack: list[int] = []
    for k, token in enumerate(tokens):
        op, args = parse_token(token, vocab)
        n = _arity(vocab, op, k)
        if len(stack) < n:
            raise ProgramFormatError(
                f"token {k} ({token}) needs {n} input(s), only {len(stack)} available",
                path=f"tokens[{k}]",
            )
        inputs = tuple(stack[len(stack) - n :]) if n else ()
        del stack[len(stack) - n :]
        steps.append(Step(op, inputs, args))
        stack.append(len(steps) - 1)
    if len(stack) != 1:
        raise ProgramFormatError(
            f"expected the tokens to form one program, got {len(stack)} unconnected parts"
            if stack
            else "no tokens"
        )
    return Program(steps, vocabulary)


def from_prefix(tokens: Sequence[str], vocabulary: str | Vocabulary = "clevr") -> Program:
    """Read prefix tokens; the numbering is the canonical (post-order) one."""
    vocab = get_vocabulary(vocabulary)
    parsed = [(*parse_token(t, vocab), k) for k, t in enumerate(tokens)]
    if not parsed:
        raise ProgramFormatError("no tokens")
    steps: list[Step] = []
    pos = 0

    def read() -> int:  # recursive descent; depth is bounded by the program's depth
        nonlocal pos
        if pos >= len(parsed):
            raise ProgramFormatError(
                f"tokens ended early: an op still needs inputs after token {pos - 1}",
                path=f"tokens[{pos}]",
            )
        op, args, k = parsed[pos]
        pos += 1
        inputs = tuple(read() for _ in range(_arity(vocab, op, k)))
        steps.append(Step(op, inputs, args))
        return len(steps) - 1

    read()
    if pos != len(parsed):
        raise ProgramFormatError(
            f"{len(parsed) - pos} token(s) left over after a complete program", path=f"tokens[{pos}]"
        )
    return Program(steps, vocabulary)
