"""Errors of the knowledge-base layer, all under :class:`nsreason.errors.NSReasonError`.

Each one says what was expected and what came, with ``source`` (file or endpoint URL)
and ``path`` (``line 7, field 'relation'``) where known:

>>> err = KBFormatError("expected 3 or 4 fields, got 2", source="kb.csv", path="line 7")
>>> str(err)
'kb.csv: line 7: expected 3 or 4 fields, got 2'
>>> isinstance(err, ValueError), isinstance(KBTimeoutError("slow"), TimeoutError)
(True, True)

Unknown backend names raise :class:`nsreason.errors.RegistryError` (listing the
available backends), as every other failed plug-in lookup does.
"""

from __future__ import annotations

from ..errors import InputError, NSReasonError

__all__ = [
    "KBCapabilityError",
    "KBConnectionError",
    "KBError",
    "KBFormatError",
    "KBQueryError",
    "KBSecurityError",
    "KBSpecError",
    "KBTimeoutError",
]


class KBError(NSReasonError):
    """Base class of every knowledge-base error."""


class KBFormatError(KBError, InputError):
    """A knowledge-base file (RDF, CSV/TSV) is malformed; ``source`` is the file and
    ``path`` the line (and field) when the parser reports one."""


class KBSpecError(KBError, ValueError):
    """A KB spec string (``rdf:path.ttl``) is malformed or names a missing file."""


class KBQueryError(KBError, ValueError):
    """A query is invalid: a term that cannot be written in SPARQL, a SPARQL syntax error,
    a bad limit, an endpoint answering with an HTTP error."""


class KBCapabilityError(KBError, NotImplementedError):
    """The backend does not offer this operation (``supports_sparql`` is false...)."""


class KBConnectionError(KBError, ConnectionError):
    """A remote knowledge base cannot be reached (refused, DNS, reset)."""


class KBTimeoutError(KBError, TimeoutError):
    """A query ran past its time limit."""


class KBSecurityError(KBError, PermissionError):
    """Parsing tried to reach the network (remote JSON-LD context, external XML entity)."""
