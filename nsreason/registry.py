"""Name → plug-in registries, filled by decorators and by package entry points.

A :class:`Registry` maps names to objects (op implementations, vocabularies, parsers,
knowledge-base backends...). Plug-ins from other packages are found through the entry-point
group given at construction and loaded only when a name is first looked up. A name may also
be *declared* with the module that registers it (``lazy=`` or :meth:`Registry.declare`):
the module is imported only when that name is asked for, so that a plug-in with heavy
dependencies (torch) costs nothing until it is used.

>>> shapes = Registry("shape", entry_point_group=None)
>>> @shapes.register("square")
... def square(x: float) -> float:
...     return x * x
>>> shapes.get("square")(3)
9
>>> shapes.get("circle")
Traceback (most recent call last):
...
nsreason.errors.RegistryError: unknown shape 'circle'; available: ['square']
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterator, Mapping
from importlib.metadata import entry_points
from typing import Generic, TypeVar, overload

from .errors import RegistryError

T = TypeVar("T")

__all__ = ["Registry"]


class Registry(Generic[T]):
    """A named collection of plug-ins of one kind.

    Parameters
    ----------
    kind:
        What is registered, for messages ("op implementation", "vocabulary").
    entry_point_group:
        Entry-point group searched for plug-ins of other packages, e.g.
        ``"nsreason.ops"``; ``None`` for none.
    lazy:
        Names declared with the module whose import registers them (see :meth:`declare`).
    """

    def __init__(
        self, kind: str, entry_point_group: str | None, *, lazy: Mapping[str, str] | None = None
    ) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._items: dict[str, T] = {}
        self._lazy: dict[str, str] = dict(lazy or {})
        self._entry_points_loaded = entry_point_group is None
        self.generation = 0
        """Counts :meth:`register` calls: a cache of looked-up items is stale once it moves."""

    @overload
    def register(self, name: str, item: T, *, replace: bool = False) -> T: ...

    @overload
    def register(
        self, name: str, item: None = None, *, replace: bool = False
    ) -> Callable[[T], T]: ...

    def register(
        self, name: str, item: T | None = None, *, replace: bool = False
    ) -> T | Callable[[T], T]:
        """Register ``item`` under ``name``; without ``item``, work as a decorator."""
        if item is None:

            def decorator(obj: T) -> T:
                self.register(name, obj, replace=replace)
                return obj

            return decorator
        if not replace and name in self._items and self._items[name] is not item:
            raise RegistryError(
                f"{self.kind} {name!r} is already registered; pass replace=True to override"
            )
        self._items[name] = item
        self.generation += 1
        return item

    def declare(self, name: str, module: str) -> None:
        """Declare that importing ``module`` registers ``name``: the module is imported
        the first time ``name`` is looked up, not before. A declared name whose module
        cannot be found is not listed among the available ones.

        >>> r = Registry("codec", None, lazy={"json": "json"})
        >>> r.declare("gzip", "gzip")
        >>> r.names()
        ['gzip', 'json']
        >>> r.get("json")
        Traceback (most recent call last):
        ...
        nsreason.errors.RegistryError: importing json did not register codec 'json'
        """
        self._lazy[name] = module

    def _import_declared(self, name: str) -> None:
        """Import the module declared for ``name`` (once); a failed import, or a module that
        does not register the name, is a :class:`RegistryError` naming the module."""
        module = self._lazy.pop(name)
        try:
            importlib.import_module(module)
        except Exception as exc:  # an ImportError, or the plug-in's own error while loading
            self._lazy[name] = module  # asked again, it tries again (and says why again)
            raise RegistryError(
                f"{self.kind} {name!r} could not be loaded: importing {module} failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if name not in self._items:
            raise RegistryError(f"importing {module} did not register {self.kind} {name!r}")

    def _declared_available(self) -> set[str]:
        """The declared names whose module exists (found without importing it)."""
        found = set()
        for name, module in self._lazy.items():
            try:
                if importlib.util.find_spec(module) is not None:
                    found.add(name)
            except (ImportError, ValueError):  # a parent package missing, or a bad name
                continue
        return found

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        if self.entry_point_group is None:  # not reached: such a registry starts loaded
            return
        for ep in entry_points(group=self.entry_point_group):
            if ep.name not in self._items:
                try:
                    self._items[ep.name] = ep.load()
                except Exception as exc:  # a broken plug-in must not hide the others
                    raise RegistryError(
                        f"{self.kind} plug-in {ep.name!r} ({ep.value}) failed to load: {exc}"
                    ) from exc

    def get(self, name: str) -> T:
        """Return the plug-in called ``name``; the error lists what is available."""
        if name in self._items:
            return self._items[name]
        if name in self._lazy:
            self._import_declared(name)
            return self._items[name]
        self._load_entry_points()
        try:
            return self._items[name]
        except KeyError:
            raise RegistryError(
                f"unknown {self.kind} {name!r}; available: {self.names()}"
            ) from None

    def __contains__(self, name: object) -> bool:
        if name in self._items:
            return True
        if name in self._lazy:
            return name in self._declared_available()
        self._load_entry_points()
        return name in self._items

    def names(self) -> list[str]:
        """All registered names, sorted: entry points included, and declared names whose
        module exists (not imported by this)."""
        self._load_entry_points()
        return sorted(set(self._items) | self._declared_available())

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def __repr__(self) -> str:
        return f"Registry(kind={self.kind!r}, items={len(self._items)})"

