"""Reading JSON files with errors that name the file, line and column."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import InputError

__all__ = ["loads_json", "read_json"]


def read_json(path: str | Path, error: type[InputError] = InputError) -> Any:
    """Parse the JSON file at ``path``; raise ``error`` (an :class:`InputError`
    subclass) naming the file when it cannot be read or parsed."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        raise error("file not found", source=str(path)) from None
    except IsADirectoryError:
        raise error("expected a JSON file, got a directory", source=str(path)) from None
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror}", source=str(path)) from exc
    except ValueError as exc:  # e.g. a NUL byte in the path
        raise error(f"cannot open file: {exc}", source=repr(str(path))) from None
    return loads_json(raw, error, source=str(path))


def loads_json(
    text: str | bytes, error: type[InputError] = InputError, *, source: str | None = None
) -> Any:
    """Parse JSON ``text``; raise ``error`` (with ``source``) when it is not valid JSON,
    not UTF-8, nested too deeply for Python's parser, or holds an integer too long to
    convert (more than ``sys.get_int_max_str_digits()`` digits)."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _decode_error(exc, error, source) from None
    except RecursionError:
        raise error("not readable JSON: nested too deeply", source=source) from None
    except ValueError as exc:  # an integer literal over the int-to-str digit limit
        raise error(f"not readable JSON: {exc}", source=source) from None


def _decode_error(
    exc: json.JSONDecodeError | UnicodeDecodeError, error: type[InputError], source: str | None
) -> InputError:
    if isinstance(exc, json.JSONDecodeError):
        return error(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", source=source
        )
    return error(f"not UTF-8 text: {exc.reason} at byte {exc.start}", source=source)
