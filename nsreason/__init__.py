"""nsreason: neuro-symbolic reasoning over scene graphs.

A question about a scene becomes a typed module program, the program runs over the scene
graph, and the answer comes back with a trace of every step::

    >>> from nsreason import Program, SymbolicExecutor, load_clevr_scenes
    >>> scene = load_clevr_scenes({"objects": [{"shape": "cube", "size": "large",
    ...     "color": "red", "material": "metal"}]})[0]
    >>> SymbolicExecutor().execute(Program.from_text("count(scene())"), scene).value
    1

``import nsreason`` stays light: names are imported on first use, and torch only by the
layers that need it.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Reasoner": "nsreason.api",
    "Answer": "nsreason.execute",
    "SymbolicExecutor": "nsreason.execute",
    "OPS": "nsreason.execute",
    "EXECUTORS": "nsreason.execute",
    "Program": "nsreason.program",
    "Step": "nsreason.program",
    "Vocabulary": "nsreason.program",
    "get_vocabulary": "nsreason.program",
    "SceneGraph": "nsreason.scene",
    "SceneObject": "nsreason.scene",
    "Attribute": "nsreason.scene",
    "Relation": "nsreason.scene",
    "load_clevr_scenes": "nsreason.scene",
    "Trace": "nsreason.trace",
    "TraceStep": "nsreason.trace",
    "Failure": "nsreason.trace",
}

# Written out (not computed from _EXPORTS) so that linters and type checkers can read it;
# tests/test_package.py checks that it names exactly the lazy exports and __version__.
__all__ = [
    "Answer",
    "Attribute",
    "EXECUTORS",
    "Failure",
    "OPS",
    "Program",
    "Reasoner",
    "Relation",
    "SceneGraph",
    "SceneObject",
    "Step",
    "SymbolicExecutor",
    "Trace",
    "TraceStep",
    "Vocabulary",
    "get_vocabulary",
    "load_clevr_scenes",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'nsreason' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
