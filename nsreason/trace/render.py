"""Renderings of a :class:`~nsreason.trace.Trace`: plain text and rich tables."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .trace import Trace, TraceStep

__all__ = ["render_text", "render_rich", "format_value", "format_time"]

_HEADER = ("#", "op", "args", "inputs", "output", "time")


def format_value(value: Any, limit: int = 60) -> str:
    """Compact one-line form of a step output."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_time(ns: int) -> str:
    if ns < 1_000_000:
        return f"{ns / 1000:.1f}µs"
    return f"{ns / 1_000_000:.1f}ms"


def _row(step: TraceStep) -> tuple[str, ...]:
    if step.status == "ok":
        output = format_value(step.output)
    elif step.status == "failed":
        failure = step.failure
        output = f"FAILED {failure.code}: {failure.reason}" if failure else "FAILED"
    else:
        output = "(skipped)"
    args = ",".join("-" if a is None else str(a) for a in step.args)
    if step.op == "parse":  # the question → program step (index -1, before the program)
        args = format_value(args, limit=50)
        score = step.details.get("score")
        if step.status == "ok" and score is not None:
            output = f"{output} (p={score:.2f})"
    return (
        "-" if step.index < 0 else str(step.index),
        step.op,
        args,
        ",".join(map(str, step.inputs)),
        output,
        "" if step.status == "skipped" else format_time(step.time_ns),
    )


def _all_steps(trace: Trace) -> list[TraceStep]:
    return [trace.parse, *trace.steps] if trace.parse is not None else trace.steps


def _headline(trace: Trace) -> str:
    if trace.failure is not None:
        return f"failed: {trace.failure}"
    return f"answer: {format_value(trace.answer, limit=200)}"


def render_text(trace: Trace) -> str:
    """A headline (answer or failure) and one aligned row per step."""
    rows = [_HEADER, *(_row(s) for s in _all_steps(trace))]
    widths = [max(len(r[c]) for r in rows) for c in range(len(_HEADER))]
    lines = [_headline(trace)]
    if trace.program:
        lines.append(f"program: {trace.program}")
    for r in rows:
        cells = [r[0].rjust(widths[0])] + [r[c].ljust(widths[c]) for c in range(1, len(r))]
        lines.append(("  " + "  ".join(cells)).rstrip())
    return "\n".join(lines)


def render_rich(trace: Trace) -> Any:
    """A ``rich.table.Table`` of the trace (rich is imported here, not at import time)."""
    from rich.table import Table

    table = Table(title=_headline(trace), caption=trace.program)
    for name in _HEADER:
        table.add_column(name, justify="right" if name in ("#", "time") else "left")
    for step in _all_steps(trace):
        style = {"failed": "bold red", "skipped": "dim"}.get(step.status)
        table.add_row(*_row(step), style=style)
    return table
