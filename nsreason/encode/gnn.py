"""The GNN scene encoder: message passing over a scene graph's objects and relations.

:class:`SceneEncoder` reads a :class:`~nsreason.encode.scene.SceneBatch` and returns the
same tensors refined (:class:`Refined`): attribute distributions, existence and relation
probabilities, each the scene's own reading corrected by what the object's neighbourhood
says. Each scene is a PyG graph (``torch_geometric.data.Data``): one node per object (its
attribute distributions, the projected word vector of its name and values, existence,
coordinates), an edge between every ordered pair of objects carrying the stated relation
probabilities and the coordinate offset; scenes are batched with
``torch_geometric.data.Batch`` and encoded by relation-aware attention (``GATConv`` with
``edge_dim``), then turned back into padded tensors (``to_dense_batch``).

The corrections are residual and start at zero: an untrained encoder reads the scene
exactly as stated, so training can only move it where the data says the stated
confidences are off, or fill in what a scene leaves out (relations it does not state,
inferred from positions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .scene import OpenTables, SceneBatch

__all__ = ["Refined", "SceneEncoder"]

_EPS = 1e-4
_PREDICATE_DIM = 16


@dataclass
class Refined:
    """Probabilities the neural modules run on, per scene: ``exist [S, N]``, ``attrs[key]
    [S, N, D]`` (rows sum to 1), ``rels[p] [S, N, N]``; ``mask [S, N]`` marks real objects;
    ``open``: each scene's :class:`~nsreason.encode.scene.OpenTables` (open-vocabulary ops)."""

    exist: torch.Tensor
    attrs: dict[str, torch.Tensor]
    rels: dict[str, torch.Tensor]
    mask: torch.Tensor
    open: list[OpenTables]

    def take(self, index: torch.Tensor) -> Refined:
        """The scenes at ``index`` (one row per question); attribute and relation tensors
        are gathered when first read."""
        return Refined(self.exist[index], _Gathered(self.attrs, index), _Gathered(self.rels, index),
                       self.mask[index], [self.open[i] for i in index.tolist()])


class _Gathered(dict):  # type: ignore[type-arg]
    """``{key: tensor[index]}``, each gathered on first access."""

    def __init__(self, source: dict[str, torch.Tensor], index: torch.Tensor) -> None:
        super().__init__()
        self._source = source
        self._index = index

    def __missing__(self, key: str) -> torch.Tensor:
        value = self[key] = self._source[key][self._index]
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._source

    def __iter__(self) -> Any:
        return iter(self._source)

    def __len__(self) -> int:
        return len(self._source)


def _logit(p: torch.Tensor) -> torch.Tensor:
    p = p.clamp(_EPS, 1 - _EPS)
    return torch.log(p) - torch.log1p(-p)


class SceneEncoder(nn.Module):
    """Relation-aware message passing over scene graphs (see the module docstring).

    ``domains``: attribute key → domain size; ``predicates``: the relation predicates
    read; ``word_dim``: the width of the word vectors (0: none); ``message_passing``: False
    turns the GATConv layers off (the ablation: each object refined from itself alone).
    """

    def __init__(
        self,
        domains: dict[str, int],
        predicates: list[str],
        *,
        word_dim: int = 0,
        hidden: int = 64,
        layers: int = 2,
        heads: int = 4,
        message_passing: bool = True,
        predicate_words: bool = False,
    ) -> None:
        from torch_geometric.nn import GATConv

        super().__init__()
        self.domains = dict(domains)
        self.predicates = list(predicates)
        self.message_passing = message_passing
        self.word_dim = word_dim
        # the word vectors of the predicates each pair states, projected (a GQA graph's
        # "wearing" says something too); off in models saved before it existed
        self.predicate_words = bool(predicate_words and word_dim)
        self.predicate_proj = nn.Linear(word_dim, _PREDICATE_DIM) if self.predicate_words else None
        words = 32 if word_dim else 0
        self.word_proj = nn.Linear(word_dim, words) if word_dim else None
        node_in = sum(self.domains.values()) + words + 1 + 3 + 1
        edge_in = 2 * len(self.predicates) + 3 + 1 + (_PREDICATE_DIM if self.predicate_words else 0)
        self.inp = nn.Sequential(nn.Linear(node_in, hidden), nn.ReLU())
        self.convs = nn.ModuleList(
            GATConv(hidden, hidden // heads, heads=heads, edge_dim=edge_in, add_self_loops=False)
            for _ in range(layers))
        self.norms = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(layers))
        self.attr_heads = nn.ModuleDict({k: nn.Linear(hidden, d) for k, d in self.domains.items()})
        self.exist_head = nn.Linear(hidden, 1)
        self.rel_head = nn.Sequential(
            nn.Linear(2 * hidden + edge_in, hidden), nn.ReLU(), nn.Linear(hidden, len(self.predicates))
        ) if self.predicates else None
        heads = [*self.attr_heads.values(), self.exist_head] + ([self.rel_head[-1]] if self.rel_head else [])
        for head in heads:
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)

    def config(self) -> dict[str, Any]:
        return {"domains": self.domains, "predicates": self.predicates, "word_dim": self.word_dim,
                "hidden": self.inp[0].out_features, "layers": len(self.convs),
                "heads": self.convs[0].heads if len(self.convs) else 4,
                "message_passing": self.message_passing, "predicate_words": self.predicate_words}

    def forward(self, batch: SceneBatch) -> Refined:
        from torch_geometric.data import Batch, Data
        from torch_geometric.utils import to_dense_batch

        S, N = batch.exist.shape
        mask = batch.mask
        coords = batch.coords * batch.has_coords[:, None, None]
        parts = [batch.attrs[k] for k in self.domains]
        if self.word_proj is not None:
            parts.append(self.word_proj(batch.words))
        parts += [batch.exist[..., None], coords, batch.has_coords[:, None, None].expand(S, N, 1).float()]
        x_dense = torch.cat(parts, dim=-1)
        # Edge features of every ordered pair (i, j): the stated probability of each
        # predicate and whether the scene states it at all, the offset j - i, and whether
        # coordinates are known.
        rel = torch.stack([batch.rels[p] for p in self.predicates], dim=-1) if self.predicates else \
            batch.exist.new_zeros(S, N, N, 0)
        given = torch.stack([batch.rel_given[p] for p in self.predicates], dim=-1).float() if self.predicates \
            else batch.exist.new_zeros(S, 0)
        offset = coords[:, None, :, :] - coords[:, :, None, :]
        edge_parts = [rel, given[:, None, None, :].expand(S, N, N, given.shape[-1]), offset,
                      batch.has_coords[:, None, None, None].expand(S, N, N, 1).float()]
        if self.predicate_proj is not None:
            pairs = batch.pair_predicates
            if pairs.shape[-1]:
                vec = pairs @ self.predicate_proj(batch.predicate_vectors)
                vec = vec / pairs.sum(-1, keepdim=True).clamp_min(1.0)
            else:
                vec = batch.exist.new_zeros(S, N, N, _PREDICATE_DIM)
            edge_parts.append(vec)
        edge_dense = torch.cat(edge_parts, dim=-1)
        graphs = []
        for s in range(S):
            n = int(mask[s].sum())
            ii, jj = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
            keep = ii != jj
            ei = torch.stack([ii[keep], jj[keep]])
            graphs.append(Data(x=x_dense[s, :n], edge_index=ei, edge_attr=edge_dense[s, :n, :n][keep],
                               num_nodes=n))
        g = Batch.from_data_list(graphs)
        h = self.inp(g.x)
        if self.message_passing:
            for conv, norm in zip(self.convs, self.norms):
                h = norm(h + torch.relu(conv(h, g.edge_index, g.edge_attr)))
        h_dense, _ = to_dense_batch(h, g.batch, batch_size=S, max_num_nodes=N)
        attrs = {}
        for k in self.domains:
            logits = torch.log(batch.attrs[k].clamp_min(_EPS)) + self.attr_heads[k](h_dense)
            attrs[k] = torch.softmax(logits, dim=-1)
        exist = torch.sigmoid(_logit(batch.exist) + self.exist_head(h_dense)[..., 0]) * mask
        pair = torch.cat([h_dense[:, :, None, :].expand(S, N, N, h.shape[-1]),
                          h_dense[:, None, :, :].expand(S, N, N, h.shape[-1]), edge_dense], dim=-1)
        delta = self.rel_head(pair) if self.rel_head is not None else pair[..., :0]
        eye = torch.eye(N, dtype=torch.bool)[None]
        pair_mask = mask[:, :, None] & mask[:, None, :] & ~eye
        rels = {}
        for k, p in enumerate(self.predicates):
            # stated: the stated probability's logit; not stated: even odds, then corrected
            base = torch.where(batch.rel_given[p][:, None, None], _logit(batch.rels[p]), torch.zeros_like(rel[..., k]))
            rels[p] = torch.sigmoid(base + delta[..., k]) * pair_mask
        return Refined(exist, attrs, rels, mask, batch.open)
