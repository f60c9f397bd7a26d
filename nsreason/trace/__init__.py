"""Traces of execution: steps, failures, JSON (versioned schema), text and rich renderings."""

from .trace import READABLE_SCHEMAS, SCHEMA, Failure, Trace, TraceStep

__all__ = ["READABLE_SCHEMAS", "SCHEMA", "Failure", "Trace", "TraceStep"]
