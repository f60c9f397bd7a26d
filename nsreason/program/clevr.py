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
    nodes: Sequence[Any], vocabulary: str | Vocabulary = "clevr", *, path: str = "program"
) -> Program:
    """Read CLEVR program nodes (release or generator format) into a :class:`Program`.

    Only the *shape* is checked here (a :class:`ProgramFormatError` names the node and
    field); call :meth:`Program.validate` for ops, types and values.
    """
    if not isinstance(nodes, (list, tuple)):
        raise ProgramFormatError(f"expected a list of nodes, got {type(nodes).__name__}", path=path)
    steps = []
    for i, node in enumerate(nodes):
        where = f"{path}[{i}]"
        if not isinstance(node, dict):
            raise ProgramFormatError(f"expected an object, got {type(node).__name__}", path=where)
        op = node.get("function", node.get("type"))
        if not isinstance(op, str) or not op:
            raise ProgramFormatError(
                "expected a non-empty string under 'function' (release format) or 'type' "
                f"(generator format), got {op!r}",
                path=where,
            )
        inputs = node.get("inputs", [])
        if not isinstance(inputs, list) or not all(
            isinstance(j, int) and not isinstance(j, bool) for j in inputs
        ):
            raise ProgramFormatError(f"expected a list of step indices, got {inputs!r}", path=f"{where}.inputs")
        key = "value_inputs" if "value_inputs" in node else "side_inputs"
        values = node.get(key, [])
        if not isinstance(values, list) or not all(
            v is None or isinstance(v, (str, int)) for v in values
        ):
            raise ProgramFormatError(f"expected a list of values, got {values!r}", path=f"{where}.{key}")
        # Templates leave an unused optional slot as "" ; the IR says None.
        args = tuple(None if v == "" else v for v in values)
        steps.append(Step(op, tuple(inputs), args))
    return Program(steps, vocabulary)


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
