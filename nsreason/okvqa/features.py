"""What the ``kb`` answerer computes from texts and scenes: MiniLM vectors of questions,
labels and answers (:class:`Vectors`), the image vector of a scene, the training targets
(:func:`answer_targets`) and the reranker's feature names (:data:`FEATURES`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ..datasets.vqa_answers import normalize_answer

if TYPE_CHECKING:
    import numpy as np

    from ..encode.text import EmbeddingStore
    from ..scene.graph import SceneGraph

__all__ = ["ABSENT_RANK", "FEATURES", "SOURCES", "Vectors", "answer_targets", "default_vectors",
           "scene_labels"]


def scene_labels(scene: SceneGraph) -> list[str]:
    """The scene's object names, once each, in detection order."""
    return list(dict.fromkeys(o.name for o in scene.objects))


SOURCES = ("coco", "places", "imagenet")
"""The detectors whose labels make the image part of a question's vector, in order."""


class Vectors:
    """Embeddings of the texts the answerer meets: questions, labels, answers (normalised
    rows, from an :class:`~nsreason.encode.EmbeddingStore`, which embeds each text once), and
    the image vector of a scene (per detector in :data:`SOURCES`, the mean embedding of its
    labels)."""

    def __init__(self, store: EmbeddingStore) -> None:
        self.store = store

    def add(self, texts: Iterable[str]) -> None:
        """Embed the texts not seen yet (in one batch)."""
        self.store.get(list(texts))

    def get(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text."""
        return self.store.get(list(texts))

    @property
    def dim(self) -> int:
        return self.store.dim

    def image(self, scene: SceneGraph) -> np.ndarray:
        import numpy as np

        parts = []
        for source in SOURCES:
            names = [o.name for o in scene.objects if o.get("source") == source]
            parts.append(self.get(names).mean(axis=0) if names else np.zeros(self.dim, np.float32))
        return np.concatenate(parts).astype(np.float32)

    def question_image(self, question: str, scene: SceneGraph) -> np.ndarray:
        """The classifier's input: the question's row, then :meth:`image`."""
        import numpy as np

        return np.concatenate([self.get([question])[0], self.image(scene)])

    def neighbour_key(self, question: str, scene: SceneGraph) -> np.ndarray:
        """The neighbours' metric: question row and unit image vector, normalised."""
        import numpy as np

        img = self.image(scene)
        norm = float(np.linalg.norm(img))
        v = np.concatenate([self.get([question])[0], img / norm if norm else img])
        return v / np.linalg.norm(v)


def answer_targets(answers: Any) -> dict[str, float]:
    """The official accuracy of each normalised human answer of one question (> 0)."""
    out: dict[str, float] = {}
    for a in answers.counts:
        c = normalize_answer(a)
        if c and c not in out:
            acc = answers.accuracy(c)
            if acc > 0:
                out[c] = acc
    return out


FEATURES = (
    "clf_p", "clf_rank", "in_vocab", "knn_vote", "knn_rank",
    "is_label", "label_coco", "label_places", "label_imagenet", "label_rank",
    "in_kb", "kb_score", "kb_rank", "kb_votes", "kb_side",
    "log_freq", "prior", "cos_q", "cos_wh", "in_question", "words", "numeric",
)
"""The reranker's inputs for one (question, candidate answer), in this order. Ranks are
``log(1 + rank)`` (0-based; :data:`ABSENT_RANK` when the generator did not propose it)."""

ABSENT_RANK = 4.0


def default_vectors() -> Vectors:
    """:class:`Vectors` from MiniLM whose embeddings persist in the cache folder
    (``<cache>/embeddings/okvqa-texts.safetensors``)."""
    from ..encode.text import EmbeddingStore, TextEncoder, cache_dir

    return Vectors(EmbeddingStore(TextEncoder(), cache_dir() / "embeddings" / "okvqa-texts.safetensors"))
