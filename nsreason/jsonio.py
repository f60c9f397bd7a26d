"""Reading JSON files with errors that name the file, line and column."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import InputError

__all__ = ["read_json"]


def read_json(path: str | Path, error: type[InputError] = InputError) -> Any:
    """Parse the JSON file at ``path``; raise ``error`` (an :class:`InputError`
    subclass) naming the file when it cannot be read or parsed."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise error("file not found", source=str(path)) from None
    except IsADirectoryError:
        raise error("expected a JSON file, got a directory", source=str(path)) from None
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror}", source=str(path)) from exc
    except ValueError as exc:  # e.g. a NUL byte in the path
        if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)):
            raise _decode_error(exc, error, path) from None
        raise error(f"cannot open file: {exc}", source=repr(str(path))) from None


def _decode_error(
    exc: json.JSONDecodeError | UnicodeDecodeError, error: type[InputError], path: Path
) -> InputError:
    if isinstance(exc, json.JSONDecodeError):
        return error(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", source=str(path)
        )
    return error(f"not UTF-8 text: {exc.reason} at byte {exc.start}", source=str(path))
