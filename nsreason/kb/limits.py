"""Limits on every knowledge-base query: a result limit and a time limit.

Every query has both: ``limit=`` and ``timeout=`` (seconds) on the call, else the KB's
:class:`Limits` (10,000 results, 30 s by default).

- Hitting the *result* limit is not an error: the result is cut at ``limit`` items and
  flagged, ``result.truncated is True`` (:class:`ResultList`, or :class:`Results` for the
  lazy :meth:`~nsreason.kb.KnowledgeBase.match` once iteration reaches the limit).
- Running past the *time* limit raises :class:`~nsreason.kb.errors.KBTimeoutError`
  (:class:`Budget`). For the lazy ``match`` the clock counts only time spent producing
  results, not time the caller spends between them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, Self, TypeVar

from .errors import KBTimeoutError

__all__ = ["Budget", "Limits", "ResultList", "Results", "cut", "take"]

T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    """Default limits of a KB's queries: at most ``results`` items, at most ``timeout`` s."""

    results: int = 10_000
    timeout: float = 30.0


class Budget:
    """The time budget of one query; re-entrant context manager that runs the clock.

    >>> b = Budget(5.0, "match")
    >>> with b:
    ...     b.check()
    >>> 0 <= b.elapsed() < 5
    True
    """

    __slots__ = ("_depth", "_since", "limit", "source", "spent", "timeout", "what")

    def __init__(self, timeout: float, what: str, source: str | None = None) -> None:
        self.timeout = timeout
        self.limit: int | None = None  # how many results the caller can use, when known
        self.what = what
        self.source = source
        self.spent = 0.0
        self._since: float | None = None
        self._depth = 0

    def __enter__(self) -> Self:
        if self._depth == 0:
            self._since = time.perf_counter()
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._since is not None:
            self.spent += time.perf_counter() - self._since
            self._since = None

    def elapsed(self) -> float:
        running = time.perf_counter() - self._since if self._since is not None else 0.0
        return self.spent + running

    def remaining(self) -> float:
        return max(0.0, self.timeout - self.elapsed())

    def check(self) -> None:
        """Raise :class:`KBTimeoutError` when the budget is spent."""
        if self.elapsed() > self.timeout:
            raise KBTimeoutError(
                f"{self.what} ran past its time limit of {self.timeout:g} s; "
                "pass a larger timeout= or narrow the query",
                source=self.source,
            )


class ResultList(list, Generic[T]):
    """A list of results; ``truncated`` is True when more existed than ``limit``."""

    def __init__(self, items: Iterable[T] = (), *, truncated: bool = False,
                 limit: int | None = None) -> None:
        super().__init__(items)
        self.truncated = truncated
        self.limit = limit

    def __repr__(self) -> str:
        flag = f", truncated at {self.limit}" if self.truncated else ""
        return f"{list.__repr__(self)}{flag}" if flag else list.__repr__(self)


class Results(Iterator[T]):
    """Lazy results of :meth:`KnowledgeBase.match`: at most ``limit`` items, each produced
    under the query's time budget. ``truncated`` becomes True when iteration reaches the
    limit and one more result exists."""

    def __init__(self, source: Iterable[T], limit: int, budget: Budget) -> None:
        self._it = iter(source)
        self._limit = limit
        self._budget = budget
        self._count = 0
        self._done = False
        self.truncated = False

    def __iter__(self) -> Results[T]:
        return self

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        with self._budget:
            try:
                item = next(self._it)
            except StopIteration:
                self._done = True
                raise
            self._budget.check()
        if self._count >= self._limit:
            self.truncated = True
            self._done = True
            self.close()
            raise StopIteration
        self._count += 1
        return item

    def close(self) -> None:
        close = getattr(self._it, "close", None)
        if close is not None:
            close()

    def list(self) -> ResultList[T]:
        """The remaining results as a :class:`ResultList` carrying the truncation flag."""
        items = list(self)
        return ResultList(items, truncated=self.truncated, limit=self._limit)


def cut(items: list[T], n: int) -> ResultList[T]:
    """The first ``n`` of ``items``, flagged truncated when there were more."""
    return ResultList(items[:n], truncated=len(items) > n, limit=n)


def take(it: Iterable[T], n: int) -> ResultList[T]:
    """At most ``n`` items of ``it`` (reading one more to know whether it was cut)."""
    out: list[T] = []
    for x in it:
        if len(out) == n:
            return ResultList(out, truncated=True, limit=n)
        out.append(x)
    return ResultList(out, truncated=False, limit=n)
