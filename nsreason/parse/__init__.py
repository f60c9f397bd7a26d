"""Parsers: question → program. The contract, the output grammar, the neural seq2seq parser.

torch is imported only by :mod:`nsreason.parse.seq2seq`; training lives in :mod:`nsreason.train`.
"""

from .base import PARSERS, Alternative, Parser, ParseResult, get_parser

__all__ = ["PARSERS", "Alternative", "ParseResult", "Parser", "get_parser"]
