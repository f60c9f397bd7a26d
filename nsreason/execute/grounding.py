"""Grounding a referring expression: which objects a program's final object set names.

:class:`Grounding` is what :meth:`Reasoner.ground <nsreason.api.Reasoner.ground>` and
``nsreason eval refexp`` return: the referred objects' ids, a score for every object of
the scene (1.0 / 0.0 from the symbolic executor; the final step's attention, the
probability that the object is in the set, from the neural one), the trace, and the
failure when the program failed on the scene.

>>> from nsreason.scene.clevr import clevr_scene_from_dict
>>> from nsreason.program import Program
>>> from nsreason.execute.symbolic import SymbolicExecutor
>>> scene = clevr_scene_from_dict({"objects": [
...     {"shape": "cube", "size": "large", "color": "red", "material": "metal"},
...     {"shape": "sphere", "size": "small", "color": "blue", "material": "rubber"}]})
>>> g = ground_program(SymbolicExecutor(), scene, Program.from_text("filter_shape[cube](scene())"))
>>> g.objects, g.scores
([0], {0: 1.0, 1: 0.0})
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ProgramTypeError
from ..program.ir import Program
from ..program.vocab import get_vocabulary
from ..scene.graph import ObjectId, SceneGraph
from ..trace.trace import Failure, Trace
from .answer import Answer

__all__ = ["Grounding", "check_referring", "ground_program", "grounding_from_answer", "grounding_from_tree",
           "is_referring"]


@dataclass(slots=True)
class Grounding:
    """The objects a referring expression names on one scene.

    ``objects``: their ids in scene order (empty on failure); ``scores``: per object of
    the scene, how strongly it is referred to (see the module docstring; empty on
    failure); ``trace``: every step (None when run untraced); ``failure``: why the program
    gave no objects, else None; ``program``: the program that ran."""

    objects: list[ObjectId]
    scores: dict[ObjectId, float]
    trace: Trace | None = None
    failure: Failure | None = None
    program: Program | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.failure is None

    def to_dict(self) -> dict[str, Any]:
        """``{"objects", "scores", "failure", "trace"}`` (JSON-able; score keys as strings)."""
        return {
            "objects": list(self.objects),
            "scores": {str(k): v for k, v in self.scores.items()},
            "failure": None if self.failure is None else self.failure.to_dict(),
            "trace": None if self.trace is None else self.trace.to_dict(),
        }


def check_referring(program: Program) -> None:
    """A :class:`ProgramTypeError` unless ``program`` ends in an ``Object`` or an
    ``ObjectSet`` (a referring expression names objects, it does not count them)."""
    vocab = get_vocabulary(program.vocabulary)
    if not program.steps:
        raise ProgramTypeError("a referring expression's program has no steps")
    sig = vocab.op(program.steps[-1].op)
    kind = vocab.types[sig.output].kind
    if kind not in ("object", "object_set"):
        raise ProgramTypeError(
            f"a referring expression's program must end in an Object or an ObjectSet; "
            f"this one ends in {sig.name} -> {sig.output}",
            path=f"program[{len(program.steps) - 1}]",
        )


def is_referring(program: Program) -> bool:
    """Whether ``program`` ends in an ``Object`` or ``ObjectSet`` (see :func:`check_referring`)."""
    try:
        check_referring(program)
    except ProgramTypeError:
        return False
    return True


def grounding_from_answer(answer: Answer, scene: SceneGraph) -> Grounding:
    """The :class:`Grounding` of an executor's answer to a referring program on ``scene``:
    the neural executor's scores are read from the final step's attention in the trace
    (so run it traced; untraced, the members score 1.0), the symbolic executor's are 1.0
    for members and 0.0 for the rest."""
    if answer.failure is not None:
        return Grounding([], {}, answer.trace, answer.failure, answer.program)
    value = answer.value
    members = list(value) if isinstance(value, (list, tuple)) else [value]
    chosen = set(members)
    attention = None
    if answer.confidence is not None and answer.trace is not None and answer.trace.steps:
        attention = answer.trace.steps[-1].details.get("attention")
    if attention is not None:
        scores = {o.id: float(attention.get(str(o.id), 0.0)) for o in scene.objects}
    else:
        scores = {o.id: 1.0 if o.id in chosen else 0.0 for o in scene.objects}
    objects = [o.id for o in scene.objects if o.id in chosen]
    return Grounding(objects, scores, answer.trace, None, answer.program)


def ground_program(executor: Any, scene: SceneGraph, program: Program, *, trace: bool = True) -> Grounding:
    """Run a referring program (checked by :func:`check_referring`) with ``executor`` on
    ``scene``: its :class:`Grounding`."""
    check_referring(program)
    # always traced: an executor's per-object attention is in its trace
    g = grounding_from_answer(executor.execute(program, scene, trace=True), scene)
    if not trace:
        g.trace = None
    return g


def grounding_from_tree(tg: Any, scene_id: Any = None, *, trace: bool = True) -> Grounding:
    """The :class:`Grounding` of a :class:`~nsreason.parse.tree.TreeGrounding`: its
    objects and scores, and a trace of one ``tree_ground`` step holding the grounded tree."""
    t = None
    if trace:
        t = Trace([tg.to_trace_step(0)], answer=list(tg.objects) if tg.ok else None, failure=tg.failure,
                  scene_id=scene_id)
    return Grounding(list(tg.objects), dict(tg.scores), t, tg.failure, None)
