"""Plain Python functions that run a program of a given *shape*.

A shape is what the generated code depends on: for each step, the indices of its input
steps, how many constants its implementation takes after the inputs, and whether a domain
check wraps its output. It never holds op names, implementations or values: those are the
program's *bindings*, one tuple per step, handed to the functions at every call. A program
of ``n`` steps runs as::

    def run(ix, B):                            # untraced: locals only
        [(_, F0), (_, F1, C1_0, C1_1), (_, F2, K2)] = B
        v0 = F0(ix)
        v1 = F1(ix, v0, C1_0, C1_1)
        v2 = K2(F2(ix, v1))                    # K: domain check of a closed value type
        return v2

    def run_all(ix, B, outs, clocks, clock):   # traced: every output, and a clock
        ...                                    # reading before and after each step

where step ``i``'s binding is ``(tag, F<i>, C<i>_0, ..., [K<i>])``: a tag the executor
uses to find the shape (ignored here), the implementation, its constants (params, then
value arguments), and the domain check when there is one. The source is generated once per
shape and cached (:func:`runners`); programs of the same shape share the two functions, so
compiling a program needs no code generation, only its bindings. Running is one
implementation call per step, with no interpreter loop and no per-step closure.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

__all__ = ["StepBinding", "Shape", "runners"]

StepBinding = tuple[Any, ...]
"""One bound step: ``(tag, implementation, *constants)``, then the domain check (a
callable) when the step's shape says it has one."""

Shape = tuple[tuple[tuple[int, ...], int, bool], ...]
"""Per step: (input step indices, number of constants, whether the output is checked)."""


@lru_cache(maxsize=8192)
def runners(shape: Shape) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``(run, run_all)`` for programs of ``shape`` (see the module docstring):
    ``run(ix, bindings)`` returns the last step's value; ``run_all(ix, bindings, outs,
    clocks, clock)`` appends every step's output to ``outs`` and a ``clock()`` reading to
    ``clocks`` before the first step and after each step. The functions are pure: the
    cache depends on the shape only, never on an executor, registry or vocabulary."""
    unpack: list[str] = []
    calls: list[str] = []
    for i, (ins, n_consts, checked) in enumerate(shape):
        consts = [f"C{i}_{k}" for k in range(n_consts)]
        names = ["_", f"F{i}", *consts]
        call = f"F{i}({', '.join(['ix', *(f'v{j}' for j in ins), *consts])})"
        if checked:
            names.append(f"K{i}")
            call = f"K{i}({call})"
        unpack.append(f"({', '.join(names)})")
        calls.append(call)
    last = len(shape) - 1
    bind = f"    [{', '.join(unpack)}] = B"
    src = ["def run(ix, B):", bind]
    src += [f"    v{i} = {call}" for i, call in enumerate(calls)]
    src += [f"    return v{last}", "def run_all(ix, B, outs, clocks, clock):", bind]
    src += ["    ap = outs.append", "    tk = clocks.append", "    tk(clock())"]
    for i, call in enumerate(calls):
        src += [f"    v{i} = {call}", f"    ap(v{i})", "    tk(clock())"]
    namespace: dict[str, Any] = {}
    code = compile("\n".join(src), f"<nsreason program shape, {len(shape)} steps>", "exec")
    exec(code, namespace)
    return namespace["run"], namespace["run_all"]
