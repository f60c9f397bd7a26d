"""Limits on what nsreason reads and says, as data in one place, with defaults a user can raise.

Every input nsreason reads from outside (a scene file, a ``@FILE`` program, a trace's JSON,
a question) is checked against these before work that grows with it starts, so hostile or
careless input ends in bounded time with a typed error (:mod:`nsreason.errors`) instead of a
``RecursionError``, a hang or an out-of-memory kill. The limits of knowledge-base queries
(results, time) are :class:`nsreason.kb.limits.Limits`.

>>> get_limits().json_depth
128
>>> with raised(json_depth=1_000):
...     get_limits().json_depth
1000
>>> get_limits().json_depth
128

Error messages are cut to :attr:`Limits.message_chars`; values quoted in them are cut with an
ellipsis and their size (:func:`shorten`):

>>> shorten("x" * 10_000, 30)
"'xxxxxxxxxxxxx… (10,002 chars)"
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = ["ENV", "Limits", "cut_message", "from_env", "how_to_raise", "get_limits", "raised", "set_limits", "shorten"]


@dataclass(frozen=True)
class Limits:
    """Input limits (raise one with :func:`set_limits`, for a block with :func:`raised`, for
    a run with the environment variable ``NSREASON_LIMITS``: :data:`ENV`).

    - ``file_bytes``: largest data file read (a scene file, a trace): at most this many
      bytes are read, one more tells it is larger.
    - ``program_bytes``: largest ``@FILE`` program or vocabulary file.
    - ``json_depth``: deepest nesting of lists and objects in JSON input.
    - ``string_chars``: longest string in JSON input.
    - ``question_chars``: longest question (or referring expression).
    - ``program_steps`` / ``program_depth``: most steps of a program, and its deepest
      nesting of inputs (the one-line text form nests one ``(`` per level).
    - ``message_chars``: longest error message; values quoted in one are cut with an
      ellipsis and their size.
    - ``rdf_line_bytes``: longest line of an N-Triples or N-Quads knowledge-base file, and
      longest text of one RDF/XML element (rdflib parses such a line in quadratic time).
    - ``xml_expansion``: how many times larger than its file an RDF/XML knowledge base may
      grow by its entities (an entity declared with another entity in its value is refused
      whatever this is: that is how a 1 KB "billion laughs" file grows to gigabytes).
    - ``response_bytes``: largest answer read from a SPARQL endpoint.
    """

    file_bytes: int = 1 << 30
    program_bytes: int = 1 << 20
    json_depth: int = 128
    string_chars: int = 1 << 20
    question_chars: int = 2_000
    program_steps: int = 1_000
    program_depth: int = 400
    message_chars: int = 2_000
    rdf_line_bytes: int = 1 << 18
    xml_expansion: int = 20
    response_bytes: int = 256 << 20

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"limit {f.name} must be a positive int, got {value!r}")


ENV = "NSREASON_LIMITS"
"""Environment variable raising limits for a whole run, e.g. for the ``nsreason`` command:
``NSREASON_LIMITS="file_bytes=4000000000,question_chars=10000"``."""


def from_env(value: str | None) -> Limits:
    """The default limits changed by ``value`` (``name=int`` pairs separated by commas).

    >>> from_env("json_depth=256, question_chars=10_000").question_chars
    10000
    >>> from_env("depth=3")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: NSREASON_LIMITS: unknown limit 'depth'; known: file_bytes, program_bytes, ...
    """
    changes: dict[str, int] = {}
    known = [f.name for f in dataclasses.fields(Limits)]
    for part in filter(None, (p.strip() for p in (value or "").split(","))):
        name, _, number = part.partition("=")
        name = name.strip()
        if name not in known:
            raise ValueError(f"{ENV}: unknown limit {name!r}; known: {', '.join(known)}")
        try:
            changes[name] = int(number.strip())
        except ValueError:
            raise ValueError(f"{ENV}: {name} must be an int, got {number.strip()!r}") from None
    return dataclasses.replace(Limits(), **changes)


def _initial() -> Limits:
    try:
        return from_env(os.environ.get(ENV))
    except ValueError as exc:  # a bad variable must not stop `import nsreason`
        import warnings

        warnings.warn(f"{exc}; using the default limits", stacklevel=2)
        return Limits()


def how_to_raise(name: str) -> str:
    """The advice error messages give for the limit ``name``.

    >>> how_to_raise("json_depth")
    'raise it with NSREASON_LIMITS=json_depth=N or nsreason.limits.set_limits(json_depth=N)'
    """
    return f"raise it with {ENV}={name}=N or nsreason.limits.set_limits({name}=N)"


_lock = threading.Lock()
_current = _initial()


def get_limits() -> Limits:
    """The limits in force (the process-wide ones)."""
    return _current


def set_limits(**changes: int) -> Limits:
    """Change some limits for the whole process; returns the previous ones.

    >>> old = set_limits(question_chars=10_000)
    >>> get_limits().question_chars
    10000
    >>> _ = set_limits(**dataclasses.asdict(old))
    """
    global _current
    with _lock:
        old = _current
        _current = dataclasses.replace(old, **changes)
    return old


@contextmanager
def raised(**changes: int) -> Iterator[Limits]:
    """Within the block, the limits with ``changes`` (the old ones come back after)."""
    old = set_limits(**changes)
    try:
        yield _current
    finally:
        set_limits(**dataclasses.asdict(old))


def shorten(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters with an ellipsis and its full size."""
    text = repr(value)
    if len(text) <= limit:
        return text
    tail = f"… ({len(text):,} chars)"
    return text[: max(1, limit - len(tail))] + tail


def cut_message(text: str, limit: int | None = None) -> str:
    """``text`` kept within ``limit`` (default :attr:`Limits.message_chars`) characters: its
    head and its end (where "expected ..., got ..." messages say what was expected) with
    what was cut between.

    >>> cut_message("expected an int, got '" + "9" * 80 + "'", 60)
    "expected an int, got '9999… (69 of 103 chars cut) …9999999'"
    """
    limit = limit or _current.message_chars
    if len(text) <= limit:
        return text
    room = max(2, limit - len(f"… ({len(text):,} of {len(text):,} chars cut) …"))
    keep_end = room // 4
    keep_head = room - keep_end
    cut = len(text) - keep_head - keep_end
    return f"{text[:keep_head]}… ({cut:,} of {len(text):,} chars cut) …{text[len(text) - keep_end:]}"
