"""Execution of programs over scene graphs: op implementations and the symbolic executor."""

from .answer import Answer, answer_text
from .ops import OPS
from .symbolic import CompiledProgram, SymbolicExecutor

__all__ = ["Answer", "CompiledProgram", "OPS", "SymbolicExecutor", "answer_text"]
