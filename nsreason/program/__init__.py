"""Programs: the typed IR, op vocabularies, validation and converters (pure Python)."""

from .ir import ArgValue, Program, Step
from .vocab import ArgSpec, OpSignature, ValueType, Vocabulary, get_vocabulary, load_vocabulary

__all__ = [
    "ArgValue",
    "ArgSpec",
    "OpSignature",
    "Program",
    "Step",
    "ValueType",
    "Vocabulary",
    "get_vocabulary",
    "load_vocabulary",
]
