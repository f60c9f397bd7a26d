"""Compiling a bound program into two plain Python functions.

A program of ``n`` steps becomes::

    def run(ix):                               # untraced: locals only
        v0 = F0(ix)
        v1 = F1(ix, v0, C1_0, C1_1)
        v2 = K2(F2(ix, v1))                    # K: domain check of a closed value type
        return v2

    def run_all(ix, outs, clocks, clock):      # traced: every output, and a clock
        ...                                    # reading before and after each step

where ``F<i>`` is step ``i``'s implementation and ``C<i>_<k>`` its constants (params, then
value arguments). The source is generated from the program's *shape* only (input indices
and counts, never op names or values), compiled once per shape and cached; a program then
costs one call of the cached factory. Running is one implementation call per step, with no
interpreter loop and no per-step closure, which is what makes the executor faster than a
plain interpreter (see ``benchmarks/``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

__all__ = ["StepBinding", "build_runners"]

# One step: (implementation, input step indices, constants, domain checker or None)
StepBinding = tuple[Callable[..., Any], tuple[int, ...], tuple[Any, ...], Callable[[Any], Any] | None]
Shape = tuple[tuple[tuple[int, ...], int, bool], ...]


def build_runners(steps: Sequence[StepBinding]) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``(run, run_all)`` for the bound steps (see the module docstring)."""
    shape: Shape = tuple((ins, len(consts), check is not None) for _, ins, consts, check in steps)
    values: list[Any] = []
    for fn, _, consts, check in steps:
        values.append(fn)
        values.extend(consts)
        if check is not None:
            values.append(check)
    return _factory(shape)(*values)


@lru_cache(maxsize=8192)
def _factory(shape: Shape) -> Callable[..., tuple[Callable[..., Any], Callable[..., Any]]]:
    params: list[str] = []
    calls: list[str] = []
    for i, (ins, n_consts, checked) in enumerate(shape):
        consts = [f"C{i}_{k}" for k in range(n_consts)]
        params.append(f"F{i}")
        params.extend(consts)
        call = f"F{i}({', '.join(['ix', *(f'v{j}' for j in ins), *consts])})"
        if checked:
            params.append(f"K{i}")
            call = f"K{i}({call})"
        calls.append(call)
    last = len(shape) - 1
    src = [f"def make({', '.join(params)}):", "    def run(ix):"]
    src += [f"        v{i} = {call}" for i, call in enumerate(calls)]
    src += [f"        return v{last}", "    def run_all(ix, outs, times, clock):"]
    src += ["        ap = outs.append", "        tk = times.append", "        tk(clock())"]
    for i, call in enumerate(calls):
        src += [f"        v{i} = {call}", f"        ap(v{i})", "        tk(clock())"]
    src += ["    return run, run_all"]
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(src), f"<nsreason program shape {len(shape)} steps>", "exec"), namespace)
    return namespace["make"]
