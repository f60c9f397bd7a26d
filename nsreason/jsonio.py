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
    except json.JSONDecodeError as exc:
        raise error(
            f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", source=str(path)
        ) from None
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 text: {exc.reason} at byte {exc.start}", source=str(path)) from None
