"""The neural program parser: a small transformer encoder–decoder over question words that
emits type-constrained prefix program tokens, with batched beam search.

A checkpoint is a folder:

* ``model.safetensors`` — the weights (never pickles);
* ``config.json`` — model sizes, the vocabulary name, the program tokens, training facts;
* ``tokenizer.json`` — the word-level tokenizer trained with 🤗 ``tokenizers``;
* ``words.json`` — training word frequencies, used to correct one-letter typos.

torch is imported by this module only; ``import nsreason`` does not load it.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import InputError, VocabularyError
from ..trace.trace import Failure
from .base import Alternative, ParseResult
from .grammar import ProgramGrammar
from .text import FUNCTION_WORDS, correct_typos, words

__all__ = ["Seq2SeqConfig", "Seq2SeqModel", "Seq2SeqParser", "beam_search"]


def _english(word: str) -> bool:
    """Whether ``word`` is a number, an English function word or a word WordNet knows
    (inflections included)."""
    from .lexicon import load_lexicon

    return any(c.isdigit() for c in word) or word in FUNCTION_WORDS or load_lexicon().known(word)

CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE, WORDS_FILE = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "words.json",
)
PAD_WORD, UNK_WORD = "[PAD]", "[UNK]"


@dataclass
class Seq2SeqConfig:
    """Sizes of the model and what it was trained for."""

    src_vocab_size: int
    tgt_vocab_size: int
    vocabulary: str = "clevr"
    d_model: int = 128
    nhead: int = 4
    encoder_layers: int = 2
    decoder_layers: int = 2
    feedforward: int = 256
    dropout: float = 0.1
    max_src_len: int = 64
    max_tgt_len: int = 64
    program_tokens: list[str] = field(default_factory=list)
    training: dict[str, Any] = field(default_factory=dict)


class Seq2SeqModel(nn.Module):
    """Transformer encoder–decoder (pre-norm, learned positions)."""

    def __init__(self, config: Seq2SeqConfig) -> None:
        super().__init__()
        c = config
        self.config = c
        self.src_embed = nn.Embedding(c.src_vocab_size, c.d_model, padding_idx=0)
        self.tgt_embed = nn.Embedding(c.tgt_vocab_size, c.d_model, padding_idx=0)
        # fixed sinusoidal positions: programs longer than any seen in training still get
        # meaningful positions (learned ones would be untrained there)
        positions = _sinusoids(max(c.max_src_len, c.max_tgt_len) + 1, c.d_model)
        self.register_buffer("positions", positions, persistent=False)
        with warnings.catch_warnings():  # nested tensors do not apply to pre-norm layers
            warnings.filterwarnings("ignore", message="enable_nested_tensor")
            self.transformer = nn.Transformer(
                d_model=c.d_model,
                nhead=c.nhead,
                num_encoder_layers=c.encoder_layers,
                num_decoder_layers=c.decoder_layers,
                dim_feedforward=c.feedforward,
                dropout=c.dropout,
                batch_first=True,
                norm_first=True,
            )
        self.out = nn.Linear(c.d_model, c.tgt_vocab_size)
        self.scale = math.sqrt(c.d_model)

    def encode(self, src: torch.Tensor, src_pad: torch.Tensor) -> torch.Tensor:
        x = self.src_embed(src) * self.scale + self.positions[: src.size(1)]
        return self.transformer.encoder(x, src_key_padding_mask=src_pad)

    def decode(self, memory: torch.Tensor, src_pad: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
        """Logits for every position of ``tgt`` (which starts with ``<bos>``)."""
        n = tgt.size(1)
        y = self.tgt_embed(tgt) * self.scale + self.positions[:n]
        causal = torch.triu(torch.full((n, n), float("-inf"), device=tgt.device), diagonal=1)
        h = self.transformer.decoder(
            y, memory, tgt_mask=causal, memory_key_padding_mask=src_pad, tgt_is_causal=True
        )
        return self.out(h)

    def forward(self, src: torch.Tensor, src_pad: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(src, src_pad), src_pad, tgt_in)

    def start_decoding(self, memory: torch.Tensor, src_pad: torch.Tensor) -> DecodeCache:
        """The cache for incremental decoding of these encoded questions (see :meth:`step`)."""
        return DecodeCache(self, memory, src_pad)

    def step(self, cache: DecodeCache, index: torch.Tensor, last: torch.Tensor, position: int) -> torch.Tensor:
        """Incremental decoding (eval mode): the next-token logits of each row, given its
        last token; ``index`` says which question each row decodes. The cache keeps every
        layer's projected keys and values (of earlier positions, and of the questions), so a
        step costs O(length) instead of re-running the decoder over the whole prefix.
        Computes what :meth:`decode` computes for the last position."""
        y = self.tgt_embed(last[:, None]) * self.scale + self.positions[position]
        mask = cache.memory_mask[index]
        for i, layer in enumerate(self.transformer.decoder.layers):
            sa, ca = layer.self_attn, layer.multihead_attn
            h = layer.norm1(y)
            k, v = _heads(_project(sa, h, 1), sa), _heads(_project(sa, h, 2), sa)
            if cache.keys[i] is not None:
                k = torch.cat([cache.keys[i], k], dim=2)
                v = torch.cat([cache.values[i], v], dim=2)
            cache.keys[i], cache.values[i] = k, v
            y = y + _attend(sa, _project(sa, h, 0), k, v)
            h = layer.norm2(y)
            y = y + _attend(ca, _project(ca, h, 0), cache.memory_keys[i][index], cache.memory_values[i][index], mask)
            y = y + layer.linear2(layer.activation(layer.linear1(layer.norm3(y))))
        return self.out(self.transformer.decoder.norm(y))[:, -1]


class DecodeCache:
    """Projected keys/values for incremental decoding: of each question (cross-attention,
    computed once) and of each running row's earlier positions (self-attention)."""

    def __init__(self, model: Seq2SeqModel, memory: torch.Tensor, src_pad: torch.Tensor) -> None:
        layers = model.transformer.decoder.layers
        self.memory_keys = [_heads(_project(x.multihead_attn, memory, 1), x.multihead_attn) for x in layers]
        self.memory_values = [_heads(_project(x.multihead_attn, memory, 2), x.multihead_attn) for x in layers]
        self.memory_mask = ~src_pad[:, None, None, :]  # True: attend
        self.keys: list[torch.Tensor | None] = [None] * len(layers)
        self.values: list[torch.Tensor | None] = [None] * len(layers)

    def reorder(self, parents: torch.Tensor) -> None:
        """Keep the rows ``parents`` (in that order) for the next step."""
        self.keys = [k[parents] if k is not None else None for k in self.keys]
        self.values = [v[parents] if v is not None else None for v in self.values]


def _project(attn: nn.MultiheadAttention, x: torch.Tensor, which: int) -> torch.Tensor:
    """The query (0), key (1) or value (2) projection of ``attn`` applied to ``x``."""
    d = attn.embed_dim
    return nn.functional.linear(x, attn.in_proj_weight[which * d : (which + 1) * d],
                                attn.in_proj_bias[which * d : (which + 1) * d])


def _heads(x: torch.Tensor, attn: nn.MultiheadAttention) -> torch.Tensor:
    b, t, d = x.shape
    return x.view(b, t, attn.num_heads, d // attn.num_heads).transpose(1, 2)


def _attend(
    attn: nn.MultiheadAttention, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    b, t, d = q.shape
    out = nn.functional.scaled_dot_product_attention(_heads(q, attn), k, v, attn_mask=mask)
    return attn.out_proj(out.transpose(1, 2).reshape(b, t, d))


def _sinusoids(length: int, dim: int) -> torch.Tensor:
    """The transformer's sinusoidal position encodings, ``(length, dim)``."""
    pos = torch.arange(length, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    enc = torch.zeros(length, dim)
    enc[:, 0::2] = torch.sin(pos * freq)
    enc[:, 1::2] = torch.cos(pos * freq)
    return enc


@torch.no_grad()
def beam_search(
    model: Seq2SeqModel,
    grammar: ProgramGrammar,
    src: torch.Tensor,
    src_pad: torch.Tensor,
    *,
    beam: int = 5,
    max_len: int | None = None,
) -> list[list[tuple[list[int], float]]]:
    """Type-constrained beam search for a batch; per question, complete programs as
    (token ids, log-probability), best first. ``beam=1`` is greedy decoding."""
    max_len = max_len or model.config.max_tgt_len
    bos = grammar.index["<bos>"]
    memory = model.encode(src, src_pad)
    n = src.size(0)
    vocab_size = len(grammar)
    # A running hypothesis: (question, token ids, decoding state, log-prob, its row in the
    # previous step's cache). Finished programs are kept apart per question.
    rows: list[tuple[int, list[int], tuple[str, ...], float, int]] = [
        (b, [], grammar.start(), 0.0, b) for b in range(n)
    ]
    done: list[list[tuple[list[int], float]]] = [[] for _ in range(n)]
    masks: dict[tuple[tuple[str, ...], int], torch.Tensor] = {}
    cache = model.start_decoding(memory, src_pad)
    for t in range(max_len):
        if not rows:
            break
        if t:
            cache.reorder(torch.tensor([r[4] for r in rows]))
        index = torch.tensor([r[0] for r in rows])
        last = torch.tensor([r[1][-1] if r[1] else bos for r in rows])
        logp = model.step(cache, index, last, t).log_softmax(-1)
        budget = max_len - t
        row_masks = []
        for _, _, state, _, _ in rows:
            key = (state, budget)
            m = masks.get(key)
            if m is None:
                m = torch.full((vocab_size,), float("-inf"))
                allowed = grammar.allowed(state, budget)
                if allowed:
                    m[allowed] = 0.0
                masks[key] = m
            row_masks.append(m)
        logp = logp + torch.stack(row_masks)
        top_lp, top_id = logp.topk(min(beam, vocab_size), dim=-1)
        candidates: list[list[tuple[float, list[int], tuple[str, ...], int]]] = [[] for _ in range(n)]
        for r, ((b, ids, state, score, _), lps, toks) in enumerate(zip(rows, top_lp.tolist(), top_id.tolist())):
            for lp, tok in zip(lps, toks):
                if lp == float("-inf"):
                    break
                candidates[b].append((score + lp, [*ids, tok], grammar.advance(state, tok), r))
        rows = []
        for b in range(n):
            kept = []
            for score, ids, state, parent in sorted(candidates[b], key=lambda c: -c[0]):
                if grammar.is_complete(state):
                    done[b].append((ids, score))
                else:
                    kept.append((b, ids, state, score, parent))
            # a running hypothesis worse than the beam's worst finished one cannot win
            done[b].sort(key=lambda d: -d[1])
            del done[b][beam:]
            floor = done[b][-1][1] if len(done[b]) >= beam else float("-inf")
            rows += [h for h in kept[:beam] if h[3] > floor]
    return done


class Seq2SeqParser:
    """Question → CLEVR program, with the probability of the program and alternatives.

    Parameters
    ----------
    beam:
        Beam width (alternatives returned); 1 is greedy.
    min_confidence:
        Below this probability of the best program, the result is "could not parse"
        (the candidates stay in ``alternatives``). The default, 0.05, refuses only
        programs the parser is nearly guessing: a higher floor turns right answers into no
        answers on unseen human questions (measured in docs/parser.md, "Could not parse");
        the probability is reported with every answer.
    """

    name = "clevr"

    def __init__(
        self,
        model: Seq2SeqModel,
        tokenizer: Any,
        grammar: ProgramGrammar,
        word_counts: dict[str, int],
        *,
        beam: int = 5,
        min_confidence: float = 0.05,
        batch_size: int = 256,
    ) -> None:
        self.model = model.eval()
        self.refuse_unknown_words = True
        """Refuse a question with a word nothing knows (``unknown_word``); False reads it
        as the parser's vocabulary lets it (training code that replays the parser's own
        programs)."""
        self.tokenizer = tokenizer
        self.grammar = grammar
        self.word_counts = word_counts
        self.beam = beam
        self.min_confidence = min_confidence
        self.batch_size = batch_size
        self.vocabulary = grammar.vocabulary

    def __repr__(self) -> str:
        c = self.model.config
        return f"Seq2SeqParser({c.vocabulary!r}, d_model={c.d_model}, beam={self.beam})"

    # -- persistence ----------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        from safetensors.torch import save_file

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        state = {k: v.contiguous() for k, v in self.model.state_dict().items()}
        save_file(state, str(d / WEIGHTS_FILE))
        (d / CONFIG_FILE).write_text(json.dumps(asdict(self.model.config), indent=1) + "\n")
        self.tokenizer.save(str(d / TOKENIZER_FILE))
        (d / WORDS_FILE).write_text(json.dumps(self.word_counts, sort_keys=True) + "\n")

    @classmethod
    def load(cls, directory: str | Path, **kwargs: Any) -> Seq2SeqParser:
        """Load a checkpoint folder (see the module docstring); nothing is unpickled."""
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        d = Path(directory)
        missing = [f for f in (CONFIG_FILE, WEIGHTS_FILE, TOKENIZER_FILE, WORDS_FILE) if not (d / f).is_file()]
        if missing:
            raise InputError(f"not a parser checkpoint: missing {missing}", source=str(d))
        config = Seq2SeqConfig(**json.loads((d / CONFIG_FILE).read_text()))
        try:  # the checkpoint's own output space: ops added to the vocabulary since are left out
            grammar = ProgramGrammar(config.vocabulary, tokens=config.program_tokens)
        except VocabularyError as err:
            raise InputError(
                f"the checkpoint's program tokens do not fit the vocabulary {config.vocabulary!r} "
                f"({err.message}); retrain the parser for this vocabulary",
                source=str(d),
            ) from None
        model = Seq2SeqModel(config)
        model.load_state_dict(load_file(str(d / WEIGHTS_FILE)))
        tokenizer = Tokenizer.from_file(str(d / TOKENIZER_FILE))
        word_counts = json.loads((d / WORDS_FILE).read_text())
        return cls(model, tokenizer, grammar, word_counts, **kwargs)

    # -- parsing --------------------------------------------------------------------------
    def parse(self, question: str) -> ParseResult:
        return self.parse_batch([question])[0]

    def parse_batch(self, questions: Sequence[str], *, beam: int | None = None) -> list[ParseResult]:
        results: list[ParseResult] = []
        for start in range(0, len(questions), self.batch_size):
            results.extend(self._parse_chunk(questions[start : start + self.batch_size], beam or self.beam))
        return results

    def prepare(self, question: str) -> tuple[list[str], dict[str, Any]]:
        """Normalised, typo-corrected words of a question and what was changed."""
        raw = words(question) if isinstance(question, str) else []
        fixed, fixes, unknown = correct_typos(raw, self.word_counts)
        details: dict[str, Any] = {"words": " ".join(fixed)}
        if fixes:
            details["corrected"] = fixes
        if unknown:
            details["unknown_words"] = unknown
        return fixed, details

    def _parse_chunk(self, questions: Sequence[str], beam: int) -> list[ParseResult]:
        prepared = [self.prepare(q) for q in questions]
        max_src = self.model.config.max_src_len
        encodings = self.tokenizer.encode_batch([" ".join(w) for w, _ in prepared])
        ids = [e.ids[:max_src] or [self.tokenizer.token_to_id(UNK_WORD)] for e in encodings]
        width = max(len(x) for x in ids)
        src = torch.zeros((len(ids), width), dtype=torch.long)
        for i, x in enumerate(ids):
            src[i, : len(x)] = torch.tensor(x)
        src_pad = src == 0
        hyps = beam_search(self.model, self.grammar, src, src_pad, beam=beam)
        results = []
        for question, (ws, details), found in zip(questions, prepared, hyps):
            results.append(self._result(question, ws, details, found))
        return results

    def _result(
        self, question: str, ws: list[str], details: dict[str, Any], found: list[tuple[list[int], float]]
    ) -> ParseResult:
        alternatives = [Alternative(self.grammar.decode(ids), math.exp(lp)) for ids, lp in found]
        if not isinstance(question, str) or not ws:
            reason = "the question has no words" if isinstance(question, str) else (
                f"expected a question as a string, got {type(question).__name__}")
            return ParseResult(str(question), None, None, [], Failure("could_not_parse", reason), details)
        known = [w for w in ws if w in self.word_counts]
        if not known:
            failure = Failure("could_not_parse", f"no word of the question is known to the parser: {ws}")
            return ParseResult(question, None, None, alternatives, failure, details)
        if not alternatives:
            failure = Failure("could_not_parse", "no program found within the length limit")
            return ParseResult(question, None, None, [], failure, details)
        best = alternatives[0]
        unknown = details.get("unknown_words", [])
        # a word of three letters or fewer is more likely a slip ("hw many") than a concept
        strange = [w for w in unknown if len(w) > 3 and not _english(w)]
        if strange and self.refuse_unknown_words:  # nothing knows it (not the parser, not WordNet): refuse
            failure = Failure(
                "unknown_word",
                f"unknown word{'s' if len(strange) > 1 else ''} {', '.join(map(repr, strange))}: not in the "
                "parser's vocabulary, not a one-letter typo of a word in it, and not an English word (WordNet)",
            )
            return ParseResult(question, None, best.score, alternatives, failure, details)
        if len(unknown) * 3 > len(ws):
            failure = Failure(
                "could_not_parse",
                f"too many words unknown to the parser: {unknown}; closest programs: "
                + "; ".join(f"{a.program.to_text()} ({a.score:.2f})" for a in alternatives[:3]),
            )
            return ParseResult(question, None, best.score, alternatives, failure, details)
        if best.score < self.min_confidence:
            unknown = details.get("unknown_words")
            why = f"unknown words {unknown}; " if unknown else ""
            failure = Failure(
                "could_not_parse",
                f"{why}best program has probability {best.score:.2f} < {self.min_confidence}: "
                + "; ".join(f"{a.program.to_text()} ({a.score:.2f})" for a in alternatives[:3]),
            )
            return ParseResult(question, None, best.score, alternatives, failure, details)
        return ParseResult(question, best.program, best.score, alternatives, None, details)
