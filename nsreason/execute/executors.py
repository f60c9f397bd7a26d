"""Executors by name: the :class:`Executor` protocol and the :data:`EXECUTORS` registry.

An executor is anything with ``execute(program, scene, *, trace=True) -> Answer``; one that
runs many questions faster together also has ``execute_many(pairs, *, trace=False) ->
list[Answer]``, one answer per ``(program, scene)`` pair in order, and loops over many
questions (:func:`execute_pairs`, ``nsreason eval clevr``) use it.

Executors are registered by name as factories (entry-point group ``nsreason.executors``)
and chosen as ``Reasoner(executor="symbolic")``, ``--executor NAME`` on the command line,
or passed as an instance. ``"neural"`` is declared with its module
(``nsreason.execute.neural``), imported only when that name is asked for: ``import
nsreason`` and the symbolic path stay free of torch.

>>> get_executor("symbolic")
SymbolicExecutor(vocabulary='per-program')
>>> get_executor("oracle")
Traceback (most recent call last):
...
nsreason.errors.RegistryError: unknown executor 'oracle'; available: [...]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from ..errors import InputError, RegistryError
from ..program.ir import Program
from ..registry import Registry
from ..scene.graph import SceneGraph
from .answer import Answer
from .symbolic import SymbolicExecutor

__all__ = ["EXECUTORS", "Executor", "execute_pairs", "get_executor"]


@runtime_checkable
class Executor(Protocol):
    """What runs a program on a scene: the answer (with its confidence, when the executor
    gives one) and, unless ``trace=False``, the trace of every step."""

    def execute(self, program: Program, scene: SceneGraph, *, trace: bool = True) -> Answer: ...


EXECUTORS: Registry[Callable[[], Any]] = Registry(
    "executor", "nsreason.executors", lazy={"neural": "nsreason.execute.neural"}
)
"""Executor factories by name: ``EXECUTORS.get(name)()`` returns an :class:`Executor`.
``"symbolic"``: :class:`~nsreason.execute.symbolic.SymbolicExecutor`; ``"neural"``:
registered by ``nsreason.execute.neural`` when first asked for."""

EXECUTORS.register("symbolic", SymbolicExecutor)


def get_executor(spec: str | Executor | None = None) -> Executor:
    """An executor by registered name (made by its factory), or passed through; ``None``:
    a new :class:`SymbolicExecutor`. An unknown name is a :class:`RegistryError` listing
    the registered ones; something that cannot ``execute`` is an :class:`InputError`."""
    if spec is None:
        return SymbolicExecutor()
    if isinstance(spec, str):
        executor = EXECUTORS.get(spec)()
        if not callable(getattr(executor, "execute", None)):
            raise RegistryError(
                f"executor factory {spec!r} returned {executor!r}, which has no "
                "execute(program, scene, *, trace=True)"
            )
        return executor  # type: ignore[no-any-return]
    if not callable(getattr(spec, "execute", None)):
        raise InputError(
            f"expected an executor name (one of {EXECUTORS.names()}) or an object with "
            f"execute(program, scene, *, trace=True), got {spec!r}"
        )
    return spec


def execute_pairs(
    executor: Executor, pairs: Sequence[tuple[Program, SceneGraph]], *, trace: bool = False
) -> list[Answer]:
    """Run every ``(program, scene)`` pair: through the executor's ``execute_many`` when
    it has one (a batch), else ``execute`` per pair. One :class:`Answer` per pair, in order;
    an ``execute_many`` that returns another number of answers is a :class:`RegistryError`
    (the plug-in is broken, not the input)."""
    many = getattr(executor, "execute_many", None)
    if callable(many):
        answers = list(many(pairs, trace=trace))
        if len(answers) != len(pairs):
            raise RegistryError(
                f"{executor!r}.execute_many returned {len(answers)} answers for {len(pairs)} questions"
            )
        return answers
    return [executor.execute(program, scene, trace=trace) for program, scene in pairs]
