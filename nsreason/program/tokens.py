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

from ..errors import ProgramFormatError, ProgramSyntaxError, UnknownOpError
from .ir import ArgValue, Program, Step
from .text import _Parser, format_arg
from .vocab import OP_NAME, Vocabulary, get_vocabulary

__all__ = [
    "to_prefix",
    "to_postfix",
    "from_prefix",
    "from_postfix",
    "format_token",
    "parse_token",
    "split_tokens",
]

# A token: an op name, then optionally [...] whose quoted parts may hold spaces.
_TOKEN = re.compile(r'[^\s\[]+(?:\[(?:"(?:[^"\\]|\\.)*"|[^\]"])*\])?')


def format_token(step: Step) -> str:
    """``filter_color[red]`` for a step (its inputs are implicit)."""
    return f"{step.op}[{','.join(format_arg(a) for a in step.args)}]" if step.args else step.op


def parse_token(
    token: str, vocabulary: str | Vocabulary = "clevr"
) -> tuple[str, tuple[ArgValue, ...]]:
    """``'filter_color[red]'`` → ``('filter_color', ('red',))`` (arguments typed by the
    vocabulary, as in the one-line form)."""
    if not isinstance(token, str):
        raise ProgramFormatError(f"expected a token (a string), got {token!r}")
    if OP_NAME.fullmatch(token):  # fast path: an op without arguments
        return token, ()
    vocab = get_vocabulary(vocabulary)
    cached = _parsed.get(token)
    if cached is not None and cached[0] is vocab:
        return cached[1]
    parser = _Parser(token, vocab)
    try:
        op, args = parser.head()
        parser.skip_ws()
        if parser.pos != len(token):
            parser.fail("expected end of token after the op and its [arguments]")
    except ProgramSyntaxError as err:
        raise ProgramFormatError(f"malformed token {token!r}: {err.message}") from None
    if len(_parsed) >= 65536:
        _parsed.clear()
    _parsed[token] = (vocab, (op, args))
    return op, args


# Parsed tokens (seq2seq parsers emit the same few thousand over and over), with the
# vocabulary that typed their arguments.
_parsed: dict[str, tuple[Vocabulary, tuple[str, tuple[ArgValue, ...]]]] = {}


def split_tokens(text: str) -> list[str]:
    """Split a space-separated token string, keeping quoted arguments with spaces whole:
    ``'relate["left of"] scene'`` → ``['relate["left of"]', 'scene']``."""
    if not isinstance(text, str):
        raise ProgramFormatError(f"expected a string of tokens, got {type(text).__name__}")
    tokens, pos = [], 0

    def check_gap(end: int) -> None:
        gap = text[pos:end]
        if gap.strip():
            column = pos + len(gap) - len(gap.lstrip()) + 1
            raise ProgramFormatError(f"cannot split tokens at column {column}: {gap.strip()!r}")

    for m in _TOKEN.finditer(text):
        check_gap(m.start())
        tokens.append(m.group())
        pos = m.end()
    check_gap(len(text))
    return tokens


def _tree_steps(program: Program) -> tuple[Step, ...]:
    if not program.steps:
        raise ProgramFormatError("an empty program has no token form", path="program")
    return program.canonical().steps


def to_prefix(program: Program) -> list[str]:
    """Tokens in prefix order (root first, inputs left to right)."""
    steps = _tree_steps(program)
    out: list[str] = []
    stack = [len(steps) - 1]
    while stack:  # iterative pre-order: deep programs must not hit the recursion limit
        s = steps[stack.pop()]
        out.append(format_token(s))
        stack.extend(reversed(s.inputs))
    return out


def to_postfix(program: Program) -> list[str]:
    """Tokens in postfix order: the canonical steps, one token each."""
    return [format_token(s) for s in _tree_steps(program)]


def _arity(vocab: Vocabulary, op: str, position: int) -> int:
    sig = vocab.ops.get(op)
    if sig is None:
        try:
            vocab.op(op)
            hint = ""
        except UnknownOpError as err:
            hint = err.message
        raise ProgramFormatError(
            f"{hint}; the arity of every op must be known to read tokens",
            path=f"tokens[{position}]",
        )
    return len(sig.inputs)


def _token_list(tokens: Sequence[str]) -> list[str]:
    if isinstance(tokens, str):
        raise ProgramFormatError(
            "expected a list of tokens, got a string; split it with split_tokens() first"
        )
    try:
        return list(tokens)
    except TypeError:
        raise ProgramFormatError(
            f"expected a list of tokens, got {type(tokens).__name__}"
        ) from None


def _parse_tokens(tokens: list[str], vocab: Vocabulary) -> list[tuple[str, tuple[ArgValue, ...]]]:
    parsed = []
    for k, token in enumerate(tokens):
        try:
            parsed.append(parse_token(token, vocab))
        except ProgramFormatError as err:
            raise ProgramFormatError(err.message, path=f"tokens[{k}]") from None
    return parsed


def from_postfix(tokens: Sequence[str], vocabulary: str | Vocabulary = "clevr") -> Program:
    """Read postfix tokens (a stack machine: each op pops its inputs)."""
    vocab = get_vocabulary(vocabulary)
    tokens = _token_list(tokens)
    steps: list[Step] = []
    stack: list[int] = []
    for k, (op, args) in enumerate(_parse_tokens(tokens, vocab)):
        token = tokens[k]
        n = _arity(vocab, op, k)
        if len(stack) < n:
            raise ProgramFormatError(
                f"{token!r} takes {n} input(s), only {len(stack)} available before it",
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
    program = Program(steps, vocabulary)
    program._int_inputs = True  # inputs are step positions counted here
    return program


def from_prefix(tokens: Sequence[str], vocabulary: str | Vocabulary = "clevr") -> Program:
    """Read prefix tokens; the numbering is the canonical (post-order) one."""
    vocab = get_vocabulary(vocabulary)
    tokens = _token_list(tokens)
    parsed = _parse_tokens(tokens, vocab)
    if not parsed:
        raise ProgramFormatError("no tokens")
    steps: list[Step] = []
    # Open ops still collecting inputs: [token position, op, args, arity, inputs so far].
    # An explicit stack, not recursion: deep programs must not hit the recursion limit.
    open_ops: list[tuple[int, str, tuple[ArgValue, ...], int, list[int]]] = []
    for k, (op, args) in enumerate(parsed):
        if k and not open_ops:
            raise ProgramFormatError(
                f"{len(parsed) - k} token(s) left over after a complete program",
                path=f"tokens[{k}]",
            )
        open_ops.append((k, op, args, _arity(vocab, op, k), []))
        while open_ops and len(open_ops[-1][4]) == open_ops[-1][3]:
            _, op_, args_, _, inputs = open_ops.pop()
            steps.append(Step(op_, tuple(inputs), args_))
            if open_ops:
                open_ops[-1][4].append(len(steps) - 1)
    if open_ops:
        k, op, _, n, inputs = open_ops[-1]
        raise ProgramFormatError(
            f"tokens ended early: token {k} {tokens[k]!r} takes {n} input(s), "
            f"got {len(inputs)}",
            path=f"tokens[{len(parsed)}]",
        )
    program = Program(steps, vocabulary)
    program._int_inputs = True  # inputs are step positions counted here
    return program
