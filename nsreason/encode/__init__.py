"""Encoders: sentences (all-MiniLM-L6-v2, offline) and the stores of their embeddings.

Nothing heavy is imported here: sentence-transformers loads on the first encoding.
"""

from __future__ import annotations

from .text import MINILM_SHA256, EmbeddingStore, TextEncoder, cache_dir, minilm_path

__all__ = ["MINILM_SHA256", "EmbeddingStore", "TextEncoder", "cache_dir", "minilm_path"]
