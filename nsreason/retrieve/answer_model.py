"""A fitted OK-VQA answer model, saved without pickle and loaded for answering (layer 3).

An :class:`AnswerModel` answers a question about a *detection scene* (one object per
detected label, each with a ``source`` attribute naming its detector:
:func:`nsreason.datasets.okvqa.detection_scene`) from candidates - an answer classifier's,
the nearest training questions', the scene's labels, a knowledge base's facts - each scored
by a reranker (:class:`TreeEnsemble`, gradient-boosted regression trees) that predicts its
VQA accuracy; the best is the answer. ``nsreason train okvqa`` fits one
(:mod:`nsreason.okvqa`), :meth:`AnswerModel.save` writes it, :meth:`AnswerModel.load`
reads it back; ``nsreason eval okvqa --model DIR`` and ``Reasoner(okvqa_model=DIR)`` use it.

A model folder holds (:data:`CONFIG_FILE`, :data:`ARRAYS_FILE`, :data:`TABLES_FILE`)::

    config.json          format, features, answer vocabulary, settings, provenance
    arrays.safetensors   classifier.coef/intercept, neighbours.matrix, reranker.* (trees)
    tables.json          the neighbours' answers, answer frequencies, the prefix prior

Loading checks every file and field and raises
:class:`~nsreason.errors.ModelFormatError` naming the file and the field.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ExecutionFailure, ModelFormatError
from ..registry import Registry
from .answer_candidates import (
    FEATURES,
    SOURCES,
    AnswerClassifier,
    CandidateModels,
    Candidates,
    NeighbourVotes,
    Vectors,
    build_candidates,
    default_vectors,
    scene_labels,
)
from .answer_prior import AnswerPrior

if TYPE_CHECKING:
    import numpy as np

    from ..scene.graph import SceneGraph
    from ..scene.index import SceneIndex
    from .answer_cache import RetrievalCache

__all__ = ["ARRAYS_FILE", "CONFIG_FILE", "FORMAT", "TABLES_FILE", "AnswerModel", "TreeEnsemble",
           "answer_model_ops", "answer_model_program", "is_detection_scene"]

FORMAT = "nsreason.answer_model/1"
CONFIG_FILE = "config.json"
ARRAYS_FILE = "arrays.safetensors"
TABLES_FILE = "tables.json"
SHOWN = 10
"""Candidates listed in the trace (all are counted in ``considered``)."""


class TreeEnsemble:
    """Regression trees summed onto a baseline: the prediction of a row is ``baseline`` plus,
    tree by tree, the value of the leaf the row reaches (at a split, a value ``<=
    threshold`` goes left, a missing one where ``missing_left`` says). Nodes of all trees
    sit in flat arrays; tree ``t``'s root is node ``roots[t]``; ``left``/``right`` are
    indices into the same arrays. This is how scikit-learn's
    ``HistGradientBoostingRegressor`` predicts (same comparisons, same order of sums), so a
    converted one (:func:`nsreason.okvqa.reranker.trees_of`) predicts what it did.

    >>> import numpy as np
    >>> t = TreeEnsemble(0.5, np.array([0]), np.array([1, -1, -1]), np.array([0.0, 0, 0]),
    ...                  np.array([1, 0, 0]), np.array([2, 0, 0]), np.array([0, 0, 0]),
    ...                  np.array([0, 1, 1]), np.array([0.0, -1.0, 1.0]))
    >>> t.predict(np.array([[0.0, -3.0], [0.0, 2.0]])).tolist()
    [-0.5, 1.5]
    """

    ARRAYS = ("roots", "feature", "threshold", "left", "right", "missing_left", "is_leaf", "value")

    def __init__(self, baseline: float, roots: np.ndarray, feature: np.ndarray, threshold: np.ndarray,
                 left: np.ndarray, right: np.ndarray, missing_left: np.ndarray, is_leaf: np.ndarray,
                 value: np.ndarray) -> None:
        import numpy as np

        self.baseline = float(baseline)
        self.roots = np.asarray(roots, dtype=np.int64)
        self.feature = np.asarray(feature, dtype=np.int64)
        self.threshold = np.asarray(threshold, dtype=np.float64)
        self.left = np.asarray(left, dtype=np.int64)
        self.right = np.asarray(right, dtype=np.int64)
        self.missing_left = np.asarray(missing_left, dtype=bool)
        self.is_leaf = np.asarray(is_leaf, dtype=bool)
        self.value = np.asarray(value, dtype=np.float64)

    def __repr__(self) -> str:
        return f"TreeEnsemble(trees={len(self.roots)}, nodes={len(self.value)})"

    def predict(self, X: np.ndarray) -> np.ndarray:
        """One prediction per row of ``X``."""
        import numpy as np

        X = np.asarray(X, dtype=np.float64)
        out = np.full(len(X), self.baseline, dtype=np.float64)
        rows = np.arange(len(X))
        for root in self.roots:
            node = np.full(len(X), root, dtype=np.int64)
            inner = ~self.is_leaf[node]
            while inner.any():
                at = node[inner]
                x = X[rows[inner], self.feature[at]]
                go_left = np.where(np.isnan(x), self.missing_left[at], x <= self.threshold[at])
                node[inner] = np.where(go_left, self.left[at], self.right[at])
                inner = ~self.is_leaf[node]
            out += self.value[node]
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        import numpy as np

        return {"baseline": np.asarray([self.baseline], dtype=np.float64),
                **{name: getattr(self, name) for name in self.ARRAYS}}

    @classmethod
    def from_arrays(cls, a: Mapping[str, np.ndarray]) -> TreeEnsemble:
        return cls(float(a["baseline"][0]), *(a[name] for name in cls.ARRAYS))


def is_detection_scene(scene: SceneGraph) -> bool:
    """Whether every object of a non-empty ``scene`` is a detected label (its ``source``
    attribute names a detector of :data:`~nsreason.retrieve.answer_candidates.SOURCES`)."""
    return bool(scene.objects) and all(o.get("source") in SOURCES for o in scene.objects)


class AnswerModel:
    """Answers a question about a detection scene with one fit's models (module
    docstring): ``models`` make the candidates, ``reranker`` scores them. ``vectors``
    (default: MiniLM, :func:`~nsreason.retrieve.answer_candidates.default_vectors`) and
    ``retrieval`` (the KB candidates; None: none, or the KB of ``config["kb"]`` when
    loaded) are made on first use. ``config`` holds the settings and provenance
    :meth:`save` writes."""

    def __init__(self, models: CandidateModels, reranker: TreeEnsemble, *, vectors: Vectors | None = None,
                 retrieval: RetrievalCache | None = None, per_source: int = 10,
                 config: Mapping[str, Any] | None = None) -> None:
        self.models, self.reranker = models, reranker
        self._vectors, self.retrieval = vectors, retrieval
        self.per_source = per_source
        self.config = dict(config or {})
        self._kb_loaded = retrieval is not None

    def __repr__(self) -> str:
        return (f"AnswerModel(vocabulary={len(self.models.classifier.classes)}, "
                f"neighbours={len(self.models.neighbours.targets)}, kb={self.config.get('kb')!r})")

    @property
    def vectors(self) -> Vectors:
        if self._vectors is None:
            self._vectors = default_vectors()
        return self._vectors

    def _retrieval(self) -> RetrievalCache | None:
        if not self._kb_loaded:
            self._kb_loaded = True
            specs = self.config.get("kb")
            if specs:
                from .answer_cache import default_retrieval

                fitted_on = (self.config.get("provenance") or {}).get("kb_key")
                if fitted_on and list(specs) == ["default"]:
                    from ..kb.default import default_kb_key

                    if default_kb_key() != fitted_on:
                        warnings.warn(f"the answer model was fitted on KB candidates of the default KB "
                                      f"{fitted_on}; the default KB is now {default_kb_key()}: its "
                                      "candidates' features may differ (train the model again)", stacklevel=3)
                self.retrieval = default_retrieval(specs)
        return self.retrieval

    def candidates(self, question: str, scene: SceneGraph) -> Candidates:
        """Every candidate answer of ``question`` on ``scene`` with its feature row."""
        retrieval = self._retrieval()
        kb = retrieval.get(question, scene_labels(scene)) if retrieval is not None else []
        v = self.vectors
        X = v.question_image(question, scene)[None]
        V = v.neighbour_key(question, scene)[None]
        return build_candidates(self.models, v, [question], [scene], X, V, [kb], per_source=self.per_source)[0]

    def ranked(self, question: str, scene: SceneGraph) -> list[dict[str, Any]]:
        """The candidates best first, as JSON: ``answer``, ``score`` (the predicted VQA
        accuracy), ``from`` (which generators proposed it: classifier, neighbours, label,
        kb), their ``features`` and the KB ``fact`` (with its source) when the KB proposed
        the answer as a fact's far end."""
        import numpy as np

        c = self.candidates(question, scene)
        if not c.answers:
            return []
        scores = self.reranker.predict(c.X)
        col = {name: i for i, name in enumerate(FEATURES)}
        out = []
        for j in np.argsort(-scores, kind="stable"):
            row = c.X[j]
            used = [name for name, flag in (("classifier", row[col["clf_p"]] > 0),
                                            ("neighbours", row[col["knn_vote"]] > 0),
                                            ("label", row[col["is_label"]] > 0),
                                            ("kb", row[col["in_kb"]] > 0)) if flag]
            item: dict[str, Any] = {"answer": c.answers[j], "score": round(float(scores[j]), 6), "from": used,
                                    "features": {n: round(float(row[i]), 4) for n, i in col.items() if row[i]}}
            if c.answers[j] in c.facts:
                item["fact"] = c.facts[c.answers[j]]
            out.append(item)
        return out

    def __call__(self, question: str, scene: SceneGraph) -> tuple[str | None, Any, float | None]:
        """``(answer, its KB fact or None, predicted accuracy)``; Nones without candidates
        (the answerer contract of :mod:`nsreason.okvqa.answerer`)."""
        import numpy as np

        c = self.candidates(question, scene)
        if not c.answers:
            return None, None, None
        s = self.reranker.predict(c.X)
        j = int(np.argmax(s))
        return c.answers[j], c.facts.get(c.answers[j]), float(s[j])

    # -- files ----------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write the model to ``directory`` (created): safetensors and JSON, no pickle."""
        import numpy as np
        from safetensors.numpy import save_file

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        clf, nb = self.models.classifier, self.models.neighbours
        arrays: dict[str, np.ndarray] = {"neighbours.matrix": np.ascontiguousarray(nb.matrix)}
        if clf.coef is not None and clf.intercept is not None:
            arrays["classifier.coef"] = np.ascontiguousarray(clf.coef)
            arrays["classifier.intercept"] = np.ascontiguousarray(clf.intercept)
        arrays.update({f"reranker.{k}": np.ascontiguousarray(v) for k, v in self.reranker.arrays().items()})
        save_file(arrays, str(d / ARRAYS_FILE))
        tables = {"neighbour_answers": [dict(t) for t in nb.targets],
                  "frequency": dict(self.models.frequency), "prior": self.models.prior.to_json()}
        (d / TABLES_FILE).write_text(json.dumps(tables) + "\n", encoding="utf-8")
        config = {**self.config, "format": FORMAT, "features": list(FEATURES), "sources": list(SOURCES),
                  "per_source": self.per_source, "k": nb.k, "classes": clf.classes}
        (d / CONFIG_FILE).write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")
        return d

    @classmethod
    def load(cls, directory: str | Path, *, vectors: Vectors | None = None,
             retrieval: RetrievalCache | None = None) -> AnswerModel:
        """The model :meth:`save` wrote to ``directory``; a missing file or a missing or
        malformed field raises :class:`~nsreason.errors.ModelFormatError` naming both."""
        d = Path(directory)
        if not d.is_dir():
            raise ModelFormatError("expected an answer model folder (nsreason train okvqa --out DIR)",
                                   source=str(d))
        config = _json_file(d / CONFIG_FILE)
        src = str(d / CONFIG_FILE)
        if config.get("format") != FORMAT:
            raise ModelFormatError(f"expected {FORMAT!r}, got {config.get('format')!r}", path="format", source=src)
        if config.get("features") != list(FEATURES):
            raise ModelFormatError(f"the model was fitted on features {config.get('features')}, this "
                                   f"version computes {list(FEATURES)}; train it again", path="features", source=src)
        classes = _field(config, "classes", list, src)
        per_source = _field(config, "per_source", int, src)
        k = _field(config, "k", int, src)
        if not all(isinstance(c, str) for c in classes):
            raise ModelFormatError("expected a list of answers (strings)", path="classes", source=src)
        arrays = _arrays(d / ARRAYS_FILE)
        asrc = str(d / ARRAYS_FILE)
        matrix = _array(arrays, "neighbours.matrix", 2, asrc)
        coef = intercept = None
        if "classifier.coef" in arrays or len(classes) > 1:
            coef = _array(arrays, "classifier.coef", 2, asrc)
            intercept = _array(arrays, "classifier.intercept", 1, asrc)
            rows = 1 if len(classes) == 2 else len(classes)
            if coef.shape[0] != rows or intercept.shape != (rows,):
                raise ModelFormatError(f"expected {rows} rows for {len(classes)} classes, got coef "
                                       f"{coef.shape} and intercept {intercept.shape}",
                                       path="classifier.coef", source=asrc)
        trees = {name: _array(arrays, f"reranker.{name}", 1, asrc) for name in ("baseline", *TreeEnsemble.ARRAYS)}
        n_nodes = len(trees["value"])
        for name in ("feature", "threshold", "left", "right", "missing_left", "is_leaf"):
            if len(trees[name]) != n_nodes:
                raise ModelFormatError(f"expected {n_nodes} nodes, got {len(trees[name])}",
                                       path=f"reranker.{name}", source=asrc)
        tables = _json_file(d / TABLES_FILE)
        tsrc = str(d / TABLES_FILE)
        targets = _field(tables, "neighbour_answers", list, tsrc)
        if len(targets) != matrix.shape[0]:
            raise ModelFormatError(f"expected one answer table per neighbour row ({matrix.shape[0]}), "
                                   f"got {len(targets)}", path="neighbour_answers", source=tsrc)
        frequency = _field(tables, "frequency", dict, tsrc)
        prior = AnswerPrior.from_json(_field(tables, "prior", dict, tsrc), source=tsrc)
        models = CandidateModels(AnswerClassifier(classes, coef, intercept), NeighbourVotes(k).fit(matrix, targets),
                                 {str(a): float(f) for a, f in frequency.items()}, prior)
        meta = {key: v for key, v in config.items() if key not in ("format", "features", "sources", "classes",
                                                                   "per_source", "k")}
        return cls(models, TreeEnsemble.from_arrays(trees), vectors=vectors, retrieval=retrieval,
                   per_source=per_source, config=meta)


def _json_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ModelFormatError("missing file: not an answer model folder (nsreason train okvqa --out DIR)",
                               source=str(path))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ModelFormatError(f"expected JSON: {exc}", source=str(path)) from None
    if not isinstance(data, dict):
        raise ModelFormatError(f"expected a JSON object, got {type(data).__name__}", source=str(path))
    return data


def _field(data: Mapping[str, Any], name: str, kind: type, source: str) -> Any:
    if name not in data:
        raise ModelFormatError("missing field", path=name, source=source)
    value = data[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ModelFormatError(f"expected {kind.__name__}, got {type(value).__name__}", path=name, source=source)
    return value


def _arrays(path: Path) -> dict[str, np.ndarray]:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    if not path.is_file():
        raise ModelFormatError("missing file: not an answer model folder (nsreason train okvqa --out DIR)",
                               source=str(path))
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFormatError(f"expected a safetensors file: {exc}", source=str(path)) from None


def _array(arrays: Mapping[str, np.ndarray], name: str, ndim: int, source: str) -> np.ndarray:
    if name not in arrays:
        raise ModelFormatError("missing array", path=name, source=source)
    a = arrays[name]
    if a.ndim != ndim:
        raise ModelFormatError(f"expected {ndim} dimensions, got shape {a.shape}", path=name, source=source)
    return a


# -- the answer model as program steps (Reasoner) ------------------------------------------

def answer_model_program(question: str) -> Any:
    """The program a detection-scene question runs with an answer model.

    >>> answer_model_program("What sport is this?").to_text()
    'model_answer(model_rank["What sport is this?"](scene()))'
    """
    from ..program.ir import Program, Step

    return Program([Step("scene"), Step("model_rank", (0,), (question,)), Step("model_answer", (1,))],
                   "answer_model")


def answer_model_ops(model: AnswerModel, base: Registry[Any] | None = None) -> Registry[Any]:
    """The op implementations of ``base`` (:data:`nsreason.execute.OPS`) plus ``model_rank``
    (every candidate of the question, scored; the trace lists the best :data:`SHOWN` with
    where each came from and the KB fact behind it) and ``model_answer`` (the best one),
    bound to ``model`` (ops of ``programs/answer_model.yaml``)."""
    ops: Registry[Any] = Registry("op implementation", None)
    for name in base.names() if base is not None else ():
        ops.register(name, base.get(name))

    def model_rank(ix: SceneIndex, objects: int, question: str) -> dict[str, Any]:
        ranked = model.ranked(question, ix.scene)
        return {"question": question, "labels": scene_labels(ix.scene), "considered": len(ranked),
                "kb": model.config.get("kb"), "candidates": ranked[:SHOWN]}

    def model_answer(ix: SceneIndex, candidates: dict[str, Any]) -> str:
        if not candidates["candidates"]:
            raise ExecutionFailure("no_candidate", "the answer model has no candidate answer for this "
                                   "question and scene")
        return str(candidates["candidates"][0]["answer"])

    ops.register("model_rank", model_rank)
    ops.register("model_answer", model_answer)
    return ops
