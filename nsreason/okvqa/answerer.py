"""OK-VQA answerer plug-ins: the contract, the registry, and the ``prior`` and ``kb``
answerers.

A *plug-in* is an object with ``fit(examples) -> answerer``: ``examples`` are the
:class:`TrainingExample` s it may learn from (question, scene and human answers), and the
answerer it returns is a callable ``(question_text, scene) -> (answer, fact, score)``
(see :data:`Answerer`). The evaluation loop (:mod:`nsreason.eval.okvqa`) owns the
cross-validation folds: for each fold it fits the plug-in on the *other* folds' examples
and asks the fitted answerer about the held-out fold's questions, giving it only their text
and scene. A plug-in never receives the answers of a question it answers, so it need not
fold anything itself. Each example carries ``fold``, the fold of its image, so that a
plug-in that stacks (fits models on part of its training data to make features for the
rest, as the ``kb`` answerer does) can split its training data the same way.

Plug-ins are found by name in :data:`OKVQA_ANSWERERS` (entry-point group
``nsreason.okvqa_answerers``) or as ``"package.module:factory"``; the registered object is
a *factory* called with no argument that returns a plug-in (:func:`get_answerer`).
Registered: ``prior`` (:class:`PriorPlugin`), ``kb`` (:class:`KbPlugin`) and
``kb-without-kb`` (the same without the knowledge base's candidates: the ablation).
"""

from __future__ import annotations

import importlib
import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..datasets.okvqa import OkvqaAnswers
from ..errors import InputError, RegistryError
from ..registry import Registry
from ..retrieve.answer_cache import KbCandidate, RetrievalCache, default_retrieval
from ..retrieve.answer_candidates import (
    CandidateModels,
    Candidates,
    Vectors,
    build_candidates,
    default_vectors,
    scene_labels,
)
from ..retrieve.answer_model import AnswerModel
from ..retrieve.answer_prior import AnswerPrior, question_prefix
from ..scene.graph import SceneGraph
from .candidates import fit_fold_models
from .features import answer_targets
from .reranker import fit_reranker

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "OKVQA_ANSWERERS", "Answerer", "AnswererPlugin", "KbAnswerer", "KbPlugin", "PriorPlugin",
    "TrainingExample", "get_answerer", "image_folds",
]

_log = logging.getLogger(__name__)

Answerer = Callable[[str, SceneGraph], tuple[str | None, Any, float | None]]
"""``(question_text, scene) -> (answer, fact_or_None, score)``: ``answer`` a string (or None
to abstain, scored 0), ``fact`` whatever supports it (written to the predictions as
``to_dict()``, a list, or text), ``score`` a confidence (or None)."""


@dataclass(frozen=True)
class TrainingExample:
    """One question a plug-in may learn from: its text, its image's scene (``scene.id`` is
    the COCO image id), its human answers, and ``fold``: the cross-validation fold of its
    image (examples of one fit never share a fold with the questions answered after it)."""

    question_id: int
    question: str
    scene: SceneGraph
    answers: OkvqaAnswers
    fold: int = 0


class AnswererPlugin(Protocol):
    """What :data:`OKVQA_ANSWERERS`' factories return."""

    def fit(self, examples: Sequence[TrainingExample]) -> Answerer: ...


def image_folds(image_ids: Iterable[int], folds: int = 5, seed: int = 0) -> dict[int, int]:
    """Split images into ``folds`` folds at random (seeded): ``{image_id: fold}``, folds
    differing in size by at most one image.

    >>> from collections import Counter
    >>> sorted(Counter(image_folds(range(10), 3).values()).values())
    [3, 3, 4]
    """
    if folds < 2:
        raise ValueError(f"expected at least 2 folds, got {folds}")
    images = sorted(set(image_ids))
    random.Random(seed).shuffle(images)
    return {image: i % folds for i, image in enumerate(images)}


OKVQA_ANSWERERS: Registry[Callable[[], AnswererPlugin]] = Registry(
    "OK-VQA answerer", entry_point_group="nsreason.okvqa_answerers"
)


def get_answerer(spec: str) -> AnswererPlugin:
    """The plug-in a name (``prior``, ``kb``, a registered plug-in) or ``module:factory``
    names, made by its factory."""
    if ":" in spec:
        module, _, attr = spec.partition(":")
        try:
            factory = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise RegistryError(f"cannot load answerer factory {spec!r}: {exc}") from None
    else:
        factory = OKVQA_ANSWERERS.get(spec)
    plugin = factory()
    if not callable(getattr(plugin, "fit", None)):
        raise RegistryError(f"answerer factory {spec!r} returned {plugin!r}, which has no fit(examples)")
    return plugin


# -- prior -------------------------------------------------------------------------------

class PriorPlugin:
    """The answer prior (:class:`~nsreason.retrieve.answer_prior.AnswerPrior`; keyword arguments go
    to it), fitted on the examples' questions and answers."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs

    def __repr__(self) -> str:
        return f"PriorPlugin({self.kwargs})"

    def fit(self, examples: Sequence[TrainingExample]) -> AnswerPrior:
        return AnswerPrior(**self.kwargs).fit((e.question, e.answers) for e in examples)


OKVQA_ANSWERERS.register("prior", PriorPlugin)


# -- kb ----------------------------------------------------------------------------------

KbAnswerer = AnswerModel
"""What the ``kb`` plug-in's :meth:`KbPlugin.fit` returns: an
:class:`~nsreason.retrieve.answer_model.AnswerModel` (inference code, which
``nsreason train okvqa`` saves and ``Reasoner(okvqa_model=DIR)`` loads)."""


class KbPlugin:
    """The ``kb`` answerer: candidates from an answer classifier, the nearest training
    questions, the scene's labels and the knowledge base's facts, reranked by a learned
    scorer (docs/knowledge.md).

    :meth:`fit` makes a :class:`KbAnswerer`. Its reranker learns from every training
    example's candidates, made by models fitted without that example's fold (stacking, on
    the examples' ``fold``; by image when they all share one), so that their classifier
    and neighbour features are as sharp as on an unseen question. Fitted models are kept
    by the set of questions they were fitted on, so successive fits of one evaluation share
    them; the KB candidates (``retrieval``) and text vectors are kept across fits too.

    ``kb``: the KB specs the retriever uses (None: no KB candidates, the ablation);
    ``top``: the classifier's answer vocabulary; ``k``: neighbours; ``per_source``:
    candidates taken from the classifier and from the neighbours; ``stack_folds``: the
    image folds of the stacking when the examples all share one fold; ``seed``: their
    split's and the reranker's seed."""

    def __init__(self, *, kb: Sequence[str] | None = ("default",), top: int = 500, k: int = 20,
                 per_source: int = 10, stack_folds: int = 4, seed: int = 0, vectors: Vectors | None = None,
                 retrieval: RetrievalCache | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        self.kb, self.top, self.k, self.per_source = kb, top, k, per_source
        self.stack_folds, self.seed = stack_folds, seed
        self._vectors, self._retrieval = vectors, retrieval
        self.say = log or _log.info
        self._models: dict[frozenset[int], CandidateModels] = {}
        self._rows: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __repr__(self) -> str:
        return f"KbPlugin(kb={self.kb!r}, top={self.top}, k={self.k})"

    @property
    def vectors(self) -> Vectors:
        if self._vectors is None:
            self._vectors = default_vectors()
        return self._vectors

    @property
    def retrieval(self) -> RetrievalCache | None:
        if self._retrieval is None and self.kb is not None:
            self._retrieval = default_retrieval(self.kb)
        return self._retrieval

    def _inputs(self, examples: Sequence[TrainingExample]) -> tuple[np.ndarray, np.ndarray]:
        """The classifier inputs and neighbour keys of the examples (kept by question id)."""
        import numpy as np

        v = self.vectors
        todo = [e for e in examples if e.question_id not in self._rows]
        v.add(e.question for e in todo)
        v.add(question_prefix(e.question, 4) for e in todo)
        for e in todo:
            self._rows[e.question_id] = (v.question_image(e.question, e.scene),
                                         v.neighbour_key(e.question, e.scene))
        return (np.stack([self._rows[e.question_id][0] for e in examples]),
                np.stack([self._rows[e.question_id][1] for e in examples]))

    def _fold_models(self, examples: Sequence[TrainingExample], rows: np.ndarray, X: np.ndarray,
                     V: np.ndarray, targets: Sequence[dict[str, float]]) -> CandidateModels:
        key = frozenset(examples[i].question_id for i in rows)
        hit = self._models.get(key)
        if hit is None:
            hit = self._models[key] = fit_fold_models(
                X[rows], V[rows], [examples[i].question for i in rows],
                [examples[i].answers for i in rows], [targets[i] for i in rows], top=self.top, k=self.k)
        return hit

    def fit(self, examples: Sequence[TrainingExample]) -> KbAnswerer:
        import numpy as np

        t0 = time.perf_counter()
        groups = [e.fold for e in examples]
        if len(set(groups)) < 2:  # one fold given: split the examples by image
            fold_of = image_folds((e.scene.id for e in examples), self.stack_folds, self.seed)  # type: ignore[misc]
            groups = [fold_of[e.scene.id] for e in examples]  # type: ignore[index]
        if len(set(groups)) < 2:
            raise InputError(f"the kb answerer needs training questions on at least 2 images, "
                             f"got {len(examples)} questions")
        fold_arr = np.asarray(groups)
        targets = [answer_targets(e.answers) for e in examples]
        X, V = self._inputs(examples)
        kb: list[Sequence[KbCandidate]] = [[] for _ in examples]
        retrieval = self.retrieval
        if retrieval is not None:
            t = time.perf_counter()
            items = [(e.question, scene_labels(e.scene)) for e in examples]
            retrieval.fill(items)
            kb = [retrieval.get(q, labels) for q, labels in items]
            self.say(f"KB candidates: {retrieval.computed} retrieved so far, "
                     f"{time.perf_counter() - t:.0f} s")
        everything = np.arange(len(examples))
        final = self._fold_models(examples, everything, X, V, targets)
        cands: list[Candidates] = []
        accs: list[list[float]] = []
        for g in sorted(set(groups)):
            held = np.flatnonzero(fold_arr == g)
            models = self._fold_models(examples, np.flatnonzero(fold_arr != g), X, V, targets)
            made = build_candidates(models, self.vectors, [examples[i].question for i in held],
                                    [examples[i].scene for i in held], X[held], V[held],
                                    [kb[i] for i in held], per_source=self.per_source)
            cands.extend(made)
            accs.extend([examples[i].answers.accuracy(a) for a in c.answers] for i, c in zip(held, made))
        reranker = fit_reranker(cands, accs, seed=self.seed)
        self.vectors.store.save()
        self.say(f"fitted on {len(examples)} questions ({sum(len(c.answers) for c in cands)} "
                 f"candidates) in {time.perf_counter() - t0:.0f} s")
        config = {"answerer": "kb" if self.kb is not None else "kb-without-kb",
                  "kb": list(self.kb) if self.kb is not None else None, "top": self.top,
                  "stack_folds": len(set(groups)), "seed": self.seed, "encoder": "all-MiniLM-L6-v2"}
        return AnswerModel(final, reranker, vectors=self.vectors, retrieval=retrieval,
                           per_source=self.per_source, config=config)


OKVQA_ANSWERERS.register("kb", KbPlugin)


@OKVQA_ANSWERERS.register("kb-without-kb")
def kb_without_kb() -> KbPlugin:
    """The ``kb`` answerer without the knowledge base's candidates (the ablation that
    measures what the KB adds)."""
    return KbPlugin(kb=None)
