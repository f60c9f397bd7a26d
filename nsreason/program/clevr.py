"""CLEVR program formats ↔ :class:`Program`.

Two JSON shapes of the same node list exist:

* the CLEVR v1.0 **release** format: ``{"function": "relate", "inputs": [3],
  "value_inputs": ["left"]}``;
* the official **generator** format: ``{"type": "relate", "inputs": [3],
  "value_inputs": ["left"], "_output": [0, 2]}`` where ``_output`` is the step's
  ground-truth value (read it with :func:`clevr_outputs`).

Templates write value arguments as ``side_inputs``; that key is accepted too.

>>> nodes = [{"function": "scene", "inputs": [], "value_inputs": []},
...          {"function": "count", "inputs": [0], "value_inputs": []}]
>>> program_from_clevr(nodes).to_text()
'count(scene())'
>>> program_to_clevr(program_from_clevr(nodes)) == nodes
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import ProgramFormatError
from .ir import Program, Step
from .vocab import Vocabulary

__all__ = ["program_from_clevr", "program_to_clevr", "clevr_outputs"]


def program_from_clevr(
    nodes: Sequence[Any],
    vocabulary: str | Vocabulary = "clevr",
    *,
    path: str = "program",
    shared: dict[tuple[Any, ...], Step] | None = None,
) -> Program:
    """Read CLEVR program nodes (release or generator format) into a :class:`Program`.

    Only the *shape* is checked here (a :class:`ProgramFormatError` names the node and
    field); call :meth:`Program.validate` for ops, types and values.

    ``shared``: a dict kept across the programs of one file, so that equal steps (same op,
    inputs and string arguments) are one :class:`Step` object. Steps are immutable, so this
    changes nothing a program means; it saves memory and lets an executor recognise a step
    it has bound before by identity (:class:`~nsreason.execute.SymbolicExecutor`).
    """
    if not isinstance(nodes, (list, tuple)):
        raise ProgramFormatError(f"expected a list of nodes, got {type(nodes).__name__}", path=path)
    steps = []
    for i, node in enumerate(nodes):
        if not isinstance(node, dict):
            raise ProgramFormatError(
                f"expected an object, got {type(node).__name__}", path=f"{path}[{i}]"
            )
        op = node["function"] if "function" in node else node.get("type")
        if not isinstance(op, str) or not op:
            raise ProgramFormatError(
                "expected a non-empty string under 'function' (release format) or 'type' "
                f"(generator format), got {op!r}",
                path=f"{path}[{i}]",
            )
        inputs = node.get("inputs", [])
        if not isinstance(inputs, list):
            raise ProgramFormatError(
                f"expected a list of step indices, got {inputs!r}", path=f"{path}[{i}].inputs"
            )
        for j in inputs:
            if type(j) is not int and not _is_index(j):
                raise ProgramFormatError(
                    f"expected a list of step indices, got {inputs!r}", path=f"{path}[{i}].inputs"
                )
        key = "value_inputs" if "value_inputs" in node else "side_inputs"
        values = node.get(key, [])
        if not isinstance(values, list):
            _bad_values(values, f"{path}[{i}].{key}")
        for v in values:
            if v is not None and not isinstance(v, (str, int)):
                _bad_values(values, f"{path}[{i}].{key}")
        # Templates leave an unused optional slot as "" ; the IR says None.
        args = tuple([None if v == "" else v for v in values]) if values else ()
        if shared is None:
            steps.append(Step(op, tuple(inputs), args))
            continue
        # Only string (or omitted) arguments: a key must not match an equal value of
        # another type (True == 1); inputs are ints (checked above; bools are not).
        plain = all(v is None or type(v) is str for v in args)
        memo_key = (op, tuple(inputs), args)
        step = shared.get(memo_key) if plain else None
        if step is None:
            step = Step(op, memo_key[1], args)
            if plain and len(shared) < _MAX_SHARED:
                shared[memo_key] = step
        steps.append(step)
    program = Program(steps, vocabulary)
    program._int_inputs = True  # checked above
    return program


_MAX_SHARED = 1 << 16


def _bad_values(values: Any, where: str) -> None:
    raise ProgramFormatError(
        f"expected a list of values (strings, integers, booleans or null), got {values!r}",
        path=where,
    )


def _is_index(j: Any) -> bool:
    return isinstance(j, int) and not isinstance(j, bool)


def program_to_clevr(program: Program, *, generator: bool = False) -> list[dict[str, Any]]:
    """CLEVR nodes of ``program``: release format, or generator format (``type`` key,
    no ``_output``) with ``generator=True``."""
    key = "type" if generator else "function"
    return [
        {
            key: s.op,
            "inputs": list(s.inputs),
            "value_inputs": ["" if v is None else v for v in s.args],
        }
        for s in program.steps
    ]


def clevr_outputs(nodes: Sequence[dict[str, Any]]) -> list[Any] | None:
    """The generator's ground-truth ``_output`` of every node, or None when the nodes
    have none (release format)."""
    if not nodes or any("_output" not in n for n in nodes):
        return None
    return [n["_output"] for n in nodes]
