"""Small validators shared by the scene loaders: each raises :class:`SceneFormatError`
naming the path and saying what was expected and what came.

>>> join("2353884", "objects"), join("", "objects"), join("attributes", "a.b")
('2353884.objects', 'objects', 'attributes["a.b"]')
>>> number("high", "objects[7].confidence", unit=True)
Traceback (most recent call last):
...
nsreason.errors.SceneFormatError: objects[7].confidence: expected a number in [0, 1], got 'high'
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

from ..errors import NSReasonError, SceneFormatError
from ..limits import get_limits, how_to_raise

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_\-]+\Z")


def join(path: str, key: str) -> str:
    """``path.key``; keys that are not plain words are quoted: ``path["to the left"]``."""
    part = key if _PLAIN_KEY.match(key) else f"[{json.dumps(key, ensure_ascii=False)}]"
    if not path:
        return part
    return f"{path}{part}" if part.startswith("[") else f"{path}.{part}"


def got(value: Any) -> str:
    """A short description of ``value`` for an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, (int, float)):
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "..."
    if isinstance(value, Mapping):
        keys = [str(k) for k in list(value)[:6]]
        more = ", ..." if len(value) > 6 else ""
        return f"an object with keys [{', '.join(keys)}{more}]" if keys else "an empty object"
    if isinstance(value, (list, tuple)):
        if len(value) <= 8 and all(v is None or isinstance(v, (str, int, float)) for v in value):
            text = repr(list(value))
            if len(text) <= 60:
                return text
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def fail(message: str, path: str, error: type[SceneFormatError] = SceneFormatError) -> NoReturn:
    raise error(message, path=path or None)


def mapping(value: Any, path: str, what: str = "an object") -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        fail(f"expected {what}, got {got(value)}", path)
    return value


def array(value: Any, path: str, what: str = "a list") -> list[Any]:
    if not isinstance(value, list):
        fail(f"expected {what}, got {got(value)}", path)
    return value


def string(value: Any, path: str, what: str = "a string") -> str:
    if not isinstance(value, str):
        fail(f"expected {what}, got {got(value)}", path)
    return value


def object_id(value: Any, path: str) -> str | int:
    """An object id: a string or an integer (never a bool or a float)."""
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    fail(f"expected an object id (a string or an integer), got {got(value)}", path)


def number(value: Any, path: str, *, unit: bool = False) -> float:
    """A finite number as a float; with ``unit=True`` also in [0, 1] (a confidence)."""
    what = "a number in [0, 1]" if unit else "a finite number"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            x = float(value)
        except OverflowError:
            x = math.inf
        if math.isfinite(x) and (not unit or 0.0 <= x <= 1.0):
            return x
    fail(f"expected {what}, got {got(value)}", path)


def numbers(
    value: Any, path: str, length: int | None = None, what: str | None = None
) -> tuple[float, ...]:
    """A list of finite numbers (of ``length`` items when given) as a tuple of floats."""
    if what is None:
        what = f"a list of {length} numbers" if length is not None else "a list of numbers"
    if not isinstance(value, list) or (length is not None and len(value) != length):
        fail(f"expected {what}, got {got(value)}", path)
    return tuple(number(v, f"{path}[{i}]") for i, v in enumerate(value))


def known_fields(raw: Mapping[str, Any], allowed: Iterable[str], path: str, what: str) -> None:
    """Fail on the first field of ``raw`` not in ``allowed``, listing the allowed ones."""
    allowed = tuple(allowed)
    for key in raw:
        if key not in allowed:
            fail(f"unknown field {key!r} of {what}; expected fields: {', '.join(allowed)}", path)


def json_value(value: Any, path: str, depth: int = 0) -> Any:
    """Check that ``value`` is plain JSON data (dicts with string keys, lists, tuples,
    strings, finite numbers, booleans, null) nested at most
    :attr:`~nsreason.limits.Limits.json_depth` deep; return a deep copy of it. The native
    reader and writer both check ``meta`` and ``extra`` with it: what one accepts, the other
    does."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            fail(f"expected JSON data, got {got(value)} (not finite)", path)
        return value
    if isinstance(value, (Mapping, list, tuple)) and depth >= get_limits().json_depth:
        fail(f"JSON data nested deeper than {get_limits().json_depth} levels "
             f"({how_to_raise('json_depth')})", path)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                fail(f"expected JSON data (objects with string keys), got key {got(k)}", path)
            out[k] = json_value(v, join(path, k), depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        items = [json_value(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
        return items if isinstance(value, list) else tuple(items)
    fail(f"expected JSON data, got {got(value)}", path)


def rebase(err: NSReasonError, prefix: str) -> NSReasonError:
    """Put ``prefix`` in front of the error's path (errors from :class:`SceneGraph`)."""
    if prefix:
        err.path = f"{prefix}.{err.path}" if err.path else prefix
        err.args = (err._compose(),)
    return err
