"""The nsreason error hierarchy.

Every error a user can cause (a bad file, a bad program, an unknown plug-in name) is a
subclass of :class:`NSReasonError`, carries a *path* saying where the problem is, and a
message saying what was expected and what came instead.

>>> err = SceneFormatError("expected one of ['red', 'blue'], got 'reddish'",
...                        path="scenes[3].objects[7].color", source="scenes.json")
>>> str(err)
"scenes.json: scenes[3].objects[7].color: expected one of ['red', 'blue'], got 'reddish'"

Messages are cut to :attr:`nsreason.limits.Limits.message_chars` (a 10 MB value quoted in
one does not make a 10 MB message):

>>> len(str(InputError("got " + "x" * 10_000_000))) <= 2_000
True

Failures *during execution* (``unique`` on three objects, ...) are not exceptions the user
sees: they are values recorded in the trace (see :mod:`nsreason.trace`).
"""

from __future__ import annotations

from .limits import cut_message

__all__ = [
    "NSReasonError",
    "InputError",
    "SceneFormatError",
    "DanglingRelationError",
    "DuplicateIdError",
    "ProgramError",
    "ProgramFormatError",
    "ProgramSyntaxError",
    "ProgramTypeError",
    "UnknownOpError",
    "UnknownValueError",
    "VocabularyError",
    "RegistryError",
    "TraceFormatError",
    "ModelFormatError",
    "ExecutionFailure",
    "NotAvailableError",
]


class NSReasonError(Exception):
    """Base class of every error nsreason raises on purpose.

    Parameters
    ----------
    message:
        What was expected and what came instead.
    path:
        Where in the input the problem is, e.g. ``scenes[3].objects[7].color`` or
        ``program[4].inputs``.
    source:
        The file (or other origin) the input came from, when known.
    """

    def __init__(self, message: str, *, path: str | None = None, source: str | None = None):
        self.message = message
        self.path = path
        self.source = source
        super().__init__(self._compose())

    def _compose(self) -> str:
        parts = [p for p in (self.source, self.path) if p]
        return cut_message(": ".join([*parts, self.message]))

    def with_source(self, source: str) -> NSReasonError:
        """Return the same error with ``source`` (e.g. the file name) filled in."""
        self.source = source
        self.args = (self._compose(),)
        return self

    def __str__(self) -> str:
        return self._compose()


class InputError(NSReasonError, ValueError):
    """Input data (scene, question file, trace JSON...) does not have the expected shape."""


class SceneFormatError(InputError):
    """A scene graph file or dict is malformed: wrong type, missing field, bad value."""


class DanglingRelationError(SceneFormatError):
    """A relation refers to an object id that the scene does not have."""


class DuplicateIdError(SceneFormatError):
    """Two objects of one scene share an id."""


class TraceFormatError(InputError):
    """A serialised trace is malformed or has an unsupported schema version."""


class ModelFormatError(InputError):
    """A saved model folder is malformed: a file missing, a field missing or of the wrong
    type or shape (``source`` names the file, ``path`` the field)."""


class VocabularyError(NSReasonError, ValueError):
    """An op vocabulary file is malformed (unknown type, missing field...)."""


class ProgramError(NSReasonError, ValueError):
    """Base class of errors about a program: its form, its ops, its types, its values."""


class ProgramFormatError(ProgramError):
    """A serialised program (CLEVR JSON, token sequence) has the wrong shape."""


class ProgramSyntaxError(ProgramFormatError):
    """The one-line text form of a program does not parse."""


class UnknownOpError(ProgramError):
    """A step names an op that the vocabulary does not define."""


class ProgramTypeError(ProgramError):
    """A step has the wrong number or types of inputs or value arguments."""


class UnknownValueError(ProgramError):
    """A value argument is outside the domain of its type (e.g. color 'reddish')."""


class RegistryError(NSReasonError, LookupError):
    """A plug-in name (vocabulary, op implementation, parser...) is not registered."""


class NotAvailableError(NSReasonError, NotImplementedError):
    """Something the interface names is not available in this version yet (a parser for
    referring expressions, ...): the message says what is and what is not."""


class ExecutionFailure(Exception):
    """Raised *inside* op implementations to stop execution with a reason.

    The executor catches it and records it in the trace as the failing step's outcome;
    it never escapes :meth:`nsreason.execute.Executor.execute`.

    Parameters
    ----------
    code:
        A short machine-readable kind: ``"not_unique"``, ``"unknown_value"``,
        ``"missing_op"``, ``"ambiguous_attribute"``, ``"missing_attribute"``...
    reason:
        A sentence for people.
    """

    def __init__(self, code: str, reason: str):
        self.code = code
        self.reason = reason
        super().__init__(f"{code}: {reason}")
