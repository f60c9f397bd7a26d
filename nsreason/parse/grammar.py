"""The output space of program parsers, derived from a vocabulary, and type-constrained
decoding over it.

Programs are emitted as prefix tokens (``count relate[left] unique filter_color[red]
scene``). Every op of the vocabulary whose value arguments have closed domains gives one
token per combination of values. Decoding keeps a stack of the types still to be produced:
it starts with the *root* types (an answer, or objects: a referring expression's program
ends in an object set), a token may be emitted only if its op outputs the type on top of the
stack, and emitting it replaces that type by the op's input types. When the stack
is empty the program is complete, and it type-checks by construction.

>>> g = ProgramGrammar("clevr")
>>> state = g.start()
>>> first = [g.tokens[t] for t in g.allowed(state)]
>>> first[:2], "count" in first, "unique" in first
(['scene', 'filter_color[gray]'], True, True)
>>> for tok in ["count", "filter_color[red]", "scene"]:
...     state = g.advance(state, g.index[tok])
>>> g.is_complete(state)
True
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from ..errors import VocabularyError
from ..program.ir import Program, Step
from ..program.tokens import format_token, from_prefix, to_prefix
from ..program.vocab import Vocabulary, get_vocabulary

__all__ = ["ProgramGrammar", "ROOT", "SPECIAL_TOKENS"]

ROOT = "<answer>"
"""Pseudo-type on the stack at the start: any answer type, or an object or object set (what a
referring expression's program ends in)."""

SPECIAL_TOKENS = ("<pad>", "<bos>")


class ProgramGrammar:
    """Prefix-token output space of a vocabulary with type-constrained decoding.

    A decoding *state* is a tuple of type names (the stack, top last).

    ``tokens``: the output space of a trained parser (its checkpoint's token list): only
    these tokens, in this order, so that a parser trained before ops joined the vocabulary
    (CLEVR-Ref+'s ``filter_ordinal``, ``filter_visible``) still loads and decodes the ops it
    knows. A token the vocabulary does not produce is a :class:`VocabularyError`.
    """

    def __init__(self, vocabulary: str | Vocabulary = "clevr", tokens: Sequence[str] | None = None) -> None:
        vocab = get_vocabulary(vocabulary)
        self.vocabulary = vocab
        only = None if tokens is None else list(tokens)
        made: list[str] = list(SPECIAL_TOKENS)
        outputs: list[str | None] = [None] * len(SPECIAL_TOKENS)
        inputs: list[tuple[str, ...]] = [()] * len(SPECIAL_TOKENS)
        for sig in vocab.ops.values():
            if sig.template_only:
                continue
            domains = []
            for a in sig.args:
                t = vocab.types[a.type]
                if t.kind != "value" or t.domain is None:
                    domains = None
                    break
                domains.append(t.domain)
            if domains is None:
                continue  # open-domain arguments need a copy mechanism: not in this grammar
            for values in itertools.product(*domains):
                made.append(format_token(Step(sig.name, (), tuple(values))))
                outputs.append(sig.output)
                inputs.append(sig.inputs)
        if len(made) == len(SPECIAL_TOKENS):
            raise VocabularyError(f"vocabulary {vocab.name!r} has no op with closed-domain arguments")
        if only is not None:
            where = {t: i for i, t in enumerate(made)}
            unknown = [t for t in only if t not in where]
            if unknown:
                raise VocabularyError(
                    f"tokens {unknown[:5]} are not in vocabulary {vocab.name!r}'s output space")
            keep = [where[t] for t in only]
            made = [made[i] for i in keep]
            outputs = [outputs[i] for i in keep]
            inputs = [inputs[i] for i in keep]
        self.tokens = made
        self.index = {t: i for i, t in enumerate(made)}
        self.outputs = outputs
        self.inputs = inputs
        self.answer_types = frozenset(
            name for name, t in vocab.types.items() if t.kind not in ("object", "object_set", "record")
        )
        self._by_type: dict[str, list[int]] = {}
        for i, out in enumerate(outputs):
            if out is not None:
                self._by_type.setdefault(out, []).append(i)
        self.root_types = self.answer_types | frozenset(
            name for name, t in vocab.types.items() if t.kind in ("object", "object_set"))
        self._by_type[ROOT] = sorted(
            i for i, out in enumerate(outputs) if out is not None and out in self.root_types
        )
        self.min_length = self._min_lengths()

    def __len__(self) -> int:
        return len(self.tokens)

    def __repr__(self) -> str:
        return f"ProgramGrammar({self.vocabulary.name!r}, tokens={len(self.tokens)})"

    def _min_lengths(self) -> dict[str, int]:
        """Fewest tokens that produce a value of each type (inf when impossible)."""
        inf = 10**9
        best = dict.fromkeys([*self.vocabulary.types, ROOT], inf)
        changed = True
        while changed:
            changed = False
            for i, out in enumerate(self.outputs):
                if out is None:
                    continue
                cost = 1 + sum(best[t] for t in self.inputs[i])
                for target in (out, ROOT) if out in self.root_types else (out,):
                    if cost < best[target]:
                        best[target] = cost
                        changed = True
        return best

    # -- decoding states ------------------------------------------------------------------
    def start(self) -> tuple[str, ...]:
        return (ROOT,)

    def allowed(self, state: tuple[str, ...], budget: int | None = None) -> list[int]:
        """Token ids allowed next; with ``budget`` (tokens left), only those after which
        the program can still be completed in time."""
        if not state:
            return []
        candidates = self._by_type.get(state[-1], [])
        if budget is None:
            return candidates
        rest = sum(self.min_length[t] for t in state[:-1])
        return [
            i for i in candidates if 1 + rest + sum(self.min_length[t] for t in self.inputs[i]) <= budget
        ]

    def advance(self, state: tuple[str, ...], token: int) -> tuple[str, ...]:
        """The state after emitting ``token`` (which must be allowed)."""
        return state[:-1] + tuple(reversed(self.inputs[token]))

    def is_complete(self, state: tuple[str, ...]) -> bool:
        return not state

    # -- conversion -----------------------------------------------------------------------
    def encode(self, program: Program) -> list[int]:
        """Token ids of a program (canonical prefix order); KeyError if outside the grammar."""
        return [self.index[t] for t in to_prefix(program)]

    def covers(self, program: Program) -> bool:
        try:
            self.encode(program)
        except KeyError:
            return False
        return True

    def decode(self, ids: Sequence[int]) -> Program:
        return from_prefix([self.tokens[i] for i in ids], self.vocabulary)
