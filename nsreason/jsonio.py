"""Reading JSON files with errors that name the file, line and column, within the limits of
:mod:`nsreason.limits` (file size, nesting depth, string length)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from .errors import InputError, NSReasonError
from .limits import get_limits, how_to_raise, shorten

__all__ = ["check_json_limits", "loads_json", "read_bounded", "read_json"]

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def read_bounded(
    path: str | Path, limit: int, error: type[NSReasonError] = InputError, what: str = "file"
) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them: anything else
    (missing, a directory, a FIFO or a device, larger than ``limit``) raises ``error``
    naming the file. The kind is checked before the file is opened (opening a FIFO would
    block), and at most ``limit + 1`` bytes are read (``/proc`` files say size 0)."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise error("file not found", source=str(path)) from None
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror}", source=str(path)) from None
    except ValueError as exc:  # e.g. a NUL byte in the path
        raise error(f"cannot open file: {exc}", source=repr(str(path))) from None
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
        article = "a JSON file" if what == "JSON file" else f"a regular {what}"
        raise error(f"expected {article}, got {kind}", source=str(path))
    if st.st_size > limit:
        raise error(_too_large(st.st_size, limit), source=str(path))
    try:
        with path.open("rb") as fh:
            raw = fh.read(limit + 1)
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror}", source=str(path)) from None
    if len(raw) > limit:
        raise error(_too_large(None, limit), source=str(path))
    return raw


def _too_large(size: int | None, limit: int) -> str:
    said = f"{size:,} bytes" if size is not None else "more"
    return (f"file too large: {said}, the limit is {limit:,} bytes "
            f"({how_to_raise('file_bytes')})")


def read_json(path: str | Path, error: type[NSReasonError] = InputError) -> Any:
    """Parse the JSON file at ``path``; raise ``error`` (an :class:`InputError`
    subclass) naming the file when it cannot be read or parsed, is not a regular file, or
    is over a limit of :mod:`nsreason.limits`."""
    raw = read_bounded(path, get_limits().file_bytes, error, "JSON file")
    return loads_json(raw, error, source=str(path))


def loads_json(
    text: str | bytes, error: type[NSReasonError] = InputError, *, source: str | None = None
) -> Any:
    """Parse JSON ``text``; raise ``error`` (with ``source``) when it is not valid JSON
    (``NaN`` and ``Infinity`` are not; neither is an object with a key twice: one value
    would be dropped silently), not UTF-8, nested deeper than :attr:`~nsreason.limits.Limits.json_depth`, has a string
    longer than :attr:`~nsreason.limits.Limits.string_chars` or an integer too long to
    convert (more than ``sys.get_int_max_str_digits()`` digits).

    >>> loads_json("[" * 200 + "]" * 200)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nsreason.errors.InputError: [0][0][0][0][0][0][0][0]...: JSON nested deeper than 128 levels ...)
    """
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except _Refused as exc:
        raise error(f"not valid JSON: {exc.args[0]}", source=source) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _decode_error(exc, error, source) from None
    except RecursionError:
        raise error("not readable JSON: nested too deeply", source=source) from None
    except ValueError as exc:  # an integer literal over the int-to-str digit limit
        raise error(f"not readable JSON: {exc}", source=source) from None
    check_json_limits(value, text, error, source=source)
    return value


class _Refused(Exception):
    """Raised by the parser's hooks; :func:`loads_json` turns it into the caller's error."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        key = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise _Refused(f"the key {shorten(key, 60)} is in one object twice "
                       f"(with keys {shorten([k for k, _ in pairs][:5], 80)})")
    return obj


def _no_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number")


def check_json_limits(
    value: Any, text: str | bytes | None = None, error: type[NSReasonError] = InputError,
    *, source: str | None = None,
) -> None:
    """Raise ``error`` when parsed JSON ``value`` nests deeper than the depth limit or holds
    a string over the string limit. Without recursion; skipped when ``text`` (what was
    parsed) is too short to break either."""
    limits = get_limits()
    if text is not None:
        raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
        opens = raw.count(b"[") + raw.count(b"{")
        if opens <= limits.json_depth and len(text) <= limits.string_chars:
            return
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if len(item) > limits.string_chars:
                raise error(f"a JSON string of {len(item):,} characters, the limit is "
                            f"{limits.string_chars:,} ({how_to_raise('string_chars')})",
                            path=_path_to(value, item), source=source)
            continue
        if isinstance(item, (list, dict)):
            if depth >= limits.json_depth:
                raise error(f"JSON nested deeper than {limits.json_depth} levels "
                            f"({how_to_raise('json_depth')})",
                            path=_path_to(value, item), source=source)
            if isinstance(item, dict):
                stack.extend((k, depth + 1) for k in item)
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)


def _path_to(value: Any, target: Any, shown: int = 8) -> str | None:
    """Where ``target`` (found by identity) is in ``value``, e.g. ``scenes[0].objects[3].color``
    (a key for a string that is a key; the first ``shown`` parts of a deep path)."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while stack:
        item, parts = stack.pop()
        if item is target:
            head = "".join(parts[:shown]).lstrip(".")
            return head + ("..." if len(parts) > shown else "") or None
        if isinstance(item, dict):
            for k, v in item.items():
                name = f".{k}" if k.isidentifier() and len(k) <= 40 else f"[{shorten(k, 40)}]"
                if k is target:
                    return "".join((*parts[:shown], name)).lstrip(".")
                stack.append((v, (*parts, name) if len(parts) <= shown else parts))
        elif isinstance(item, list):
            stack.extend((v, (*parts, f"[{i}]") if len(parts) <= shown else parts)
                         for i, v in enumerate(item))
    return None


def _decode_error(
    exc: json.JSONDecodeError | UnicodeDecodeError, error: type[NSReasonError], source: str | None
) -> NSReasonError:
    if isinstance(exc, json.JSONDecodeError):
        return error(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", source=source
        )
    return error(f"not UTF-8 text: {exc.reason} at byte {exc.start}", source=source)
