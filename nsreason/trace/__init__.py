"""Traces of execution: steps, failures, JSON (versioned schema), text and rich renderings."""

from .trace import SCHEMA, Failure, Trace, TraceStep

__all__ = ["SCHEMA", "Failure", "Trace", "TraceStep"]
