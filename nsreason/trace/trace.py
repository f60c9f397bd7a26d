"""Traces: what every step of an execution did, as a returned value.

A :class:`Trace` lists one :class:`TraceStep` per program step: the op, its value
arguments, the steps it read, its output (object ids, an object id, or a value), the
failure if it failed, and its wall time. Knowledge steps add the facts they used and neural
steps their attention in ``details``.

An executor that gives its answer a probability records it as the trace's ``confidence``
(None for the symbolic executor); the text rendering shows it next to the answer.

Traces serialise to JSON with a versioned schema (:data:`SCHEMA`) and back; traces written
under an earlier version (:data:`READABLE_SCHEMAS`) still load:

>>> t = Trace([TraceStep(0, "scene", (), (), [0, 1], "ObjectSet"),
...            TraceStep(1, "count", (), (0,), 2, "Integer")], answer=2)
>>> Trace.from_json(t.to_json()) == t
True
>>> print(t.render_text())
answer: 2
  #  op     args  inputs  output  time
  0  scene                [0, 1]  0.0µs
  1  count        0       2       0.0µs
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..errors import ProgramError, TraceFormatError
from ..jsonio import loads_json
from ..limits import shorten

if TYPE_CHECKING:  # pragma: no cover
    from ..program import Program
    from ..scene.graph import SceneGraph

__all__ = ["READABLE_SCHEMAS", "SCHEMA", "Failure", "TraceStep", "Trace", "StepStatus"]

SCHEMA = "nsreason.trace/2"
"""Schema id written into every serialised trace; :meth:`Trace.from_dict` checks it.
Version 2 added the answer's ``confidence`` (a number in [0, 1], or null)."""

READABLE_SCHEMAS = ("nsreason.trace/1", SCHEMA)
"""The schema versions :meth:`Trace.from_dict` reads (a version 1 trace has no confidence)."""

StepStatus = Literal["ok", "failed", "skipped"]


@dataclass(frozen=True, slots=True)
class Failure:
    """Why execution stopped: a machine-readable ``code`` ("not_unique",
    "unknown_value", "missing_op", "invalid_program"...), a ``reason`` for people, and
    the step that failed (None when the program failed before any step ran)."""

    code: str
    reason: str
    step: int | None = None

    def __str__(self) -> str:
        where = f"step {self.step}: " if self.step is not None else ""
        return f"{where}{self.code}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "reason": self.reason, "step": self.step}


@dataclass(slots=True)
class TraceStep:
    """One executed (or failed, or skipped) step."""

    index: int
    op: str
    args: tuple[Any, ...]
    inputs: tuple[int, ...]
    output: Any
    output_type: str
    status: StepStatus = "ok"
    failure: Failure | None = None
    time_ns: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "index": self.index,
            "op": self.op,
            "args": list(self.args),
            "inputs": list(self.inputs),
            "output": self.output,
            "output_type": self.output_type,
            "status": self.status,
            "failure": self.failure.to_dict() if self.failure else None,
            "time_ns": self.time_ns,
        }
        if self.details:
            d["details"] = self.details
        return d


class Trace:
    """The steps of one execution, plus its answer or failure.

    Executors may hand over a *builder* instead of steps, and the program itself instead
    of its text: both are then turned into their readable form only when first read, so
    recording a trace costs one clock read per step.
    """

    __slots__ = (
        "_steps", "_build", "_program", "answer", "failure", "scene_id", "vocabulary", "parse",
        "confidence",
    )

    def __init__(
        self,
        steps: Sequence[TraceStep] | None = None,
        *,
        answer: Any = None,
        failure: Failure | None = None,
        program: str | Program | None = None,
        scene_id: Any = None,
        vocabulary: str | None = None,
        builder: Callable[[], list[TraceStep]] | None = None,
        parse: TraceStep | None = None,
        confidence: float | None = None,
    ) -> None:
        if steps is None and builder is None:
            steps = []
        self._steps: list[TraceStep] | None = list(steps) if steps is not None else None
        self._build = builder
        self.answer = answer
        self.failure = failure
        # the one-line text, or a Program formatted when read
        self._program: str | Program | None = program
        self.scene_id = scene_id
        self.vocabulary = vocabulary
        # How the question became the program (op "parse"): the question, the chosen
        # program, its score and the alternatives. Shown and serialised before the steps.
        self.parse = parse
        # The probability the executor gives the answer (None: it gives none).
        self.confidence = confidence

    @classmethod
    def lazy(
        cls,
        answer: Any,
        failure: Failure | None,
        program: Any,
        scene_id: Any,
        vocabulary: str | None,
        builder: Callable[[], list[TraceStep]],
        confidence: float | None = None,
    ) -> Trace:
        """``Trace(answer=answer, failure=failure, program=program, scene_id=scene_id,
        vocabulary=vocabulary, builder=builder, confidence=confidence)``, made without the
        keyword handling of ``__init__``: executors make one per traced run."""
        trace = cls.__new__(cls)
        trace._steps = None
        trace._build = builder
        trace.answer = answer
        trace.failure = failure
        trace._program = program
        trace.scene_id = scene_id
        trace.vocabulary = vocabulary
        trace.parse = None
        trace.confidence = confidence
        return trace

    @property
    def program(self) -> str | None:
        """The program in its one-line text form."""
        if self._program is not None and not isinstance(self._program, str):
            try:
                self._program = self._program.to_text()
            except ProgramError:  # a malformed program has no text form; keep the trace usable
                self._program = None
        return self._program

    @property
    def steps(self) -> list[TraceStep]:
        if self._steps is None:
            assert self._build is not None
            self._steps = self._build()
            self._build = None
        return self._steps

    def __iter__(self) -> Iterator[TraceStep]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, i: int) -> TraceStep:
        return self.steps[i]

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def time_ns(self) -> int:
        return sum(s.time_ns for s in self.steps)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Trace):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        state = "ok" if self.failure is None else f"failed at step {self.failure.step}"
        return f"Trace(steps={len(self.steps)}, {state})"

    # -- serialisation --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            **({"parse": self.parse.to_dict()} if self.parse is not None else {}),
            "program": self.program,
            "vocabulary": self.vocabulary,
            "scene_id": self.scene_id,
            "answer": self.answer,
            "confidence": self.confidence,
            "failure": self.failure.to_dict() if self.failure else None,
            "steps": [s.to_dict() for s in self.steps],
        }

    def to_json(self, indent: int | None = None) -> str:
        """The trace as JSON text: valid UTF-8 whatever the scene's strings hold (lone
        surrogates and terminal controls come out as ``\\uXXXX`` escapes), and valid JSON
        whatever its numbers are: a number that is not finite (a NaN score) is written as
        ``null``, as :meth:`from_json`, which refuses ``NaN``, reads back.

        >>> t = Trace(answer=float("nan"), confidence=float("inf"))
        >>> t.to_json()[-83:]
        '"scene_id": null, "answer": null, "confidence": null, "failure": null, "steps": []}'
        >>> Trace.from_json(t.to_json()).answer is None
        True
        """
        from .render import json_safe

        data = self.to_dict()
        try:
            text = json.dumps(data, indent=indent, ensure_ascii=False, allow_nan=False)
        except ValueError:  # a NaN or an infinity somewhere: null, as JSON has no such number
            text = json.dumps(_finite(data), indent=indent, ensure_ascii=False, allow_nan=False)
        return json_safe(text)

    @classmethod
    def from_dict(cls, data: Any) -> Trace:
        """Read a serialised trace, checking its schema and every field."""
        return _trace_from_dict(data)

    @classmethod
    def from_json(cls, text: str | bytes) -> Trace:
        """Read a trace from its JSON text; anything else raises a :class:`TraceFormatError`."""
        return _trace_from_dict(loads_json(text, TraceFormatError))

    # -- rendering ------------------------------------------------------------------------
    def render_text(self) -> str:
        """A readable table (see :func:`nsreason.trace.render.render_text`)."""
        from .render import render_text

        return render_text(self)

    def __str__(self) -> str:
        return self.render_text()

    def to_html(self, scene: SceneGraph | None = None, **options: Any) -> str:
        """One self-contained HTML page of the trace, with ``scene`` drawn (the trace holds
        only its id; see :func:`nsreason.trace.html.render_html` for ``title``, ``gold``...)."""
        from .html import render_html

        return render_html(self, scene, **options)

    def _repr_html_(self) -> str:
        """The page in a notebook (without the scene: ``Answer`` shows it with its scene)."""
        from .html import notebook_frame

        return notebook_frame(self.to_html())

    def __rich__(self) -> Any:
        """Rich renderable (a table); rich is imported only when this is called."""
        from .render import render_rich

        return render_rich(self)


def _finite(data: Any) -> Any:
    """A copy of JSON-ready ``data`` with every float that is not finite as None (without
    recursion: a deep value must not hit the recursion limit)."""
    def fix(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            out: dict[Any, Any] = {}
            todo.append((value, out))
            return out
        if isinstance(value, (list, tuple)):
            items: list[Any] = []
            todo.append((value, items))
            return items
        return value

    todo: list[tuple[Any, Any]] = []
    root = fix(data)
    while todo:
        source, target = todo.pop()
        if isinstance(target, dict):
            for k, v in source.items():
                target[k] = fix(v)
        else:
            target.extend(fix(v) for v in source)
    return root


def _trace_from_dict(data: Any) -> Trace:
    def need(cond: bool, path: str, msg: str) -> None:
        if not cond:
            raise TraceFormatError(msg, path=path)

    need(isinstance(data, dict), "", f"expected an object, got {type(data).__name__}")
    need(
        data.get("schema") in READABLE_SCHEMAS,
        "schema",
        f"expected one of {list(READABLE_SCHEMAS)}, got {data.get('schema')!r}",
    )
    steps_raw = data.get("steps")
    need(isinstance(steps_raw, list), "steps", "expected a list of steps")
    parse_raw = data.get("parse")
    entries = [("parse", parse_raw)] if parse_raw is not None else []
    entries += [(f"steps[{i}]", s) for i, s in enumerate(steps_raw)]
    steps = []
    last, seen = -1, set[int]()
    for p, s in entries:
        need(isinstance(s, dict), p, f"expected an object, got {type(s).__name__}")
        for key, types in (
            ("index", int),
            ("op", str),
            ("args", list),
            ("inputs", list),
            ("output_type", str),
            ("status", str),
            ("time_ns", int),
        ):
            need(isinstance(s.get(key), types) and not isinstance(s.get(key), bool),
                 f"{p}.{key}", f"expected {types.__name__}, got {s.get(key)!r}")
        index = s["index"]
        if p == "parse":
            need(index < 0, f"{p}.index", f"expected -1 (the parse comes before step 0), got {index}")
        else:
            need(index >= 0 and index > last, f"{p}.index",
                 f"expected a step index over {max(last, -1)}, got {index}")
            last = index
        need(s["time_ns"] >= 0, f"{p}.time_ns", f"expected a duration (int >= 0), got {s['time_ns']}")
        for j, step in enumerate(s["inputs"]):
            need(isinstance(step, int) and not isinstance(step, bool) and step in seen, f"{p}.inputs[{j}]",
                 f"expected the index of an earlier step (int), got {shorten(step)}")
        if p != "parse":
            seen.add(index)
        need(s["status"] in ("ok", "failed", "skipped"), f"{p}.status",
             f"expected one of ['ok', 'failed', 'skipped'], got {s['status']!r}")
        details = s.get("details", {})
        need(isinstance(details, dict), f"{p}.details", "expected an object")
        steps.append(
            TraceStep(
                index=s["index"],
                op=s["op"],
                args=tuple(s["args"]),
                inputs=tuple(s["inputs"]),
                output=s.get("output"),
                output_type=s["output_type"],
                status=s["status"],
                failure=_failure(s.get("failure"), f"{p}.failure"),
                time_ns=s["time_ns"],
                details=details,
            )
        )
    for key in ("program", "vocabulary"):
        need(data.get(key) is None or isinstance(data.get(key), str), key,
             f"expected a string or null, got {data.get(key)!r}")
    confidence = data.get("confidence")
    need(confidence is None or (isinstance(confidence, (int, float)) and not isinstance(confidence, bool)
                                and 0.0 <= confidence <= 1.0),
         "confidence", f"expected a probability in [0, 1] or null, got {confidence!r}")
    parse = steps.pop(0) if parse_raw is not None else None
    return Trace(
        steps,
        parse=parse,
        answer=data.get("answer"),
        failure=_failure(data.get("failure"), "failure"),
        program=data.get("program"),
        scene_id=data.get("scene_id"),
        vocabulary=data.get("vocabulary"),
        confidence=None if confidence is None else float(confidence),
    )


def _failure(raw: Any, path: str) -> Failure | None:
    if raw is None:
        return None
    if not (
        isinstance(raw, dict)
        and isinstance(raw.get("code"), str)
        and isinstance(raw.get("reason"), str)
        and (raw.get("step") is None
             or (isinstance(raw.get("step"), int) and not isinstance(raw.get("step"), bool)))
    ):
        raise TraceFormatError(
            f"expected {{'code': str, 'reason': str, 'step': int|null}}, got {raw!r}", path=path
        )
    return Failure(raw["code"], raw["reason"], raw.get("step"))
