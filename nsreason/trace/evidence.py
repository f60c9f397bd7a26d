"""Outputs that carry their evidence into the trace.

An op that looks things up (a knowledge op: which entity a word became, which facts were
followed, with their sources and scores) returns its value wrapped as :func:`with_evidence`:
a ``str`` or ``int`` subclass that the next steps use as the plain value, and whose
``evidence`` the executor copies into the step's ``details`` when it writes the trace.

>>> v = with_evidence("copper wire", {"facts": [["metal", "typical use", "copper wire"]]})
>>> v == "copper wire", v.upper(), evidence_of(v)["facts"][0][1]
(True, 'COPPER WIRE', 'typical use')
>>> plain(with_evidence(True, {})) is True, evidence_of(3)
(True, None)
"""

from __future__ import annotations

from typing import Any

__all__ = ["EvidencedInt", "EvidencedStr", "evidence_of", "plain", "with_evidence"]


class EvidencedStr(str):
    """A ``str`` value with ``evidence`` (a JSON-able dict)."""

    __slots__ = ("evidence",)
    evidence: dict[str, Any]


class EvidencedInt(int):
    """An ``int`` value (an object-set bit mask, a count, or a truth as 0/1 with
    ``is_bool``) with ``evidence`` (``int`` subclasses cannot have slots)."""

    evidence: dict[str, Any]
    is_bool: bool


def with_evidence(value: Any, evidence: dict[str, Any]) -> Any:
    """``value`` (a str, an int or a bool) carrying ``evidence``."""
    if isinstance(value, str):
        out: Any = EvidencedStr(value)
    elif isinstance(value, int):
        out = EvidencedInt(value)
        out.is_bool = isinstance(value, bool)
    else:
        raise TypeError(f"only str, int and bool values carry evidence, got {type(value).__name__}")
    out.evidence = evidence
    return out


def evidence_of(value: Any) -> dict[str, Any] | None:
    """The evidence a value carries, or None."""
    return getattr(value, "evidence", None) if type(value) in (EvidencedStr, EvidencedInt) else None


def plain(value: Any) -> Any:
    """The plain value (``str``, ``int`` or ``bool``) of an evidenced one; others unchanged."""
    t = type(value)
    if t is EvidencedStr:
        return str(value)
    if t is EvidencedInt:
        return bool(value) if value.is_bool else int(value)
    return value
