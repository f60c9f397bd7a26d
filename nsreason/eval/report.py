"""The one printer of evaluation reports (``nsreason eval ...``).

>>> print(render_report({"questions": 2, "accuracy": 0.5,
...                      "by_type": {"kb": {"accuracy": 0.25, "questions": 4}}}, width=9))
questions: 2
 accuracy: 0.5000
  by_type:
       kb  0.2500 (4 questions)
>>> render_report({"questions": 2}, as_json=True)
'{\\n  "questions": 2\\n}'
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["render_report"]


def render_report(report: dict[str, Any], *, as_json: bool = False, width: int | None = None) -> str:
    """A report as one JSON object, or as one aligned line per figure, a breakdown (such as
    accuracy per knowledge type) indented below its name. ``width``: the width of the name
    column (default: the longest name)."""
    if as_json:
        return json.dumps(report, indent=2)
    width = width or max((len(k) for k in report), default=0)
    lines = []
    for key, value in report.items():
        if isinstance(value, dict) and value and all(
                isinstance(v, dict) and "accuracy" in v for v in value.values()):
            lines.append(f"{key:>{width}}:")
            lines += [f"{sub:>{width}}  {scores['accuracy']:.4f}{_count(scores)}"
                      for sub, scores in value.items()]
        else:
            lines.append(f"{key:>{width}}: {_fmt(value)}")
    return "\n".join(lines)


def _count(scores: dict[str, Any]) -> str:
    """`` (N questions)``: the breakdown's count under its own name (``questions``,
    ``refexps``...), or nothing when it has none."""
    for name, n in scores.items():
        if name != "accuracy" and isinstance(n, int) and not isinstance(n, bool):
            return f" ({n} {name})"
    return ""


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if value < 100 else f"{value:,.0f}"
    return str(value)
