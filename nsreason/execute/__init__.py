"""Execution of programs over scene graphs: op implementations, the symbolic executor, and
executors by name (:data:`EXECUTORS`)."""

from .answer import Answer, answer_text
from .executors import EXECUTORS, Executor, execute_pairs, get_executor
from .ops import OPS
from .symbolic import CompiledProgram, SymbolicExecutor

__all__ = [
    "EXECUTORS",
    "Answer",
    "CompiledProgram",
    "Executor",
    "OPS",
    "SymbolicExecutor",
    "answer_text",
    "execute_pairs",
    "get_executor",
]
