"""The fact ranker: which (fact, answer side) best answers a question.

A candidate is a fact reached from a scene object plus the side of the fact that answers:
``scene`` (the object itself: "which object in this image is used for transport?") or
``kb`` (the fact's other end: "what is the object in this image used for?"). Its features
(:data:`FEATURES`) compare the question with the fact and its ends through MiniLM
embeddings, and add two small learned classifiers over the question embedding: which
relation it asks about and which side answers it. The score is linear in the features
(fitted listwise, below). All of it is a few thousand numbers, fitted by
:func:`nsreason.train.ranker.fit_ranker` (``nsreason train ranker``) and shipped as
safetensors with a JSON config; nothing is unpickled.

Features, in order:

``fact_sim``
    cosine(question, the fact's text: its surface text if it has one, else "head relation
    tail");
``other_sim``
    cosine(question, the end of the fact that is *not* the answer): the question names it
    ("which object is used for *transport*");
``relation``
    log P(the fact's relation | question) (relations the classifier never saw get the
    uniform probability);
``side``
    log P(this side answers | question);
``other_in_question`` / ``answer_in_question``
    1 when the question contains that end's words, else 0;
``type_sim``
    the best cosine(question, a type of the answer): the far ends of its ``IsA``-like facts
    (``IsA``, ``hypernym``, ``instance_of``...) — "which *American president*";
``ground_sim``
    the best cosine(question, another fact of the scene object): how well the object fits
    what the question says about it ("the *stuffed animal* seen here");
``wh_sim``
    where the question names what it asks for ("which *American president*", see
    :mod:`nsreason.retrieve.question`): the best cosine(that phrase, the answer or one of
    its types); else 0;
``source``
    how much likelier a fact of this fact's source was to be the supporting fact than a
    fact of any source, in the training questions (log ratio, :attr:`Ranker.source_prior`,
    by the source's label); 0 for a source the ranker never saw (a user's KB).

The scorer is fitted *listwise* (a softmax over each question's candidates, the right
ones as the target), so a score is a logit up to a constant per question: the retriever
turns a question's scores into probabilities with a softmax, and adds up the probabilities
of the candidates that give the same answer (:func:`answer_probabilities`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["FEATURES", "SIDES", "Ranker", "answer_key", "answer_probabilities", "default_ranker_dir"]

FEATURES = ("fact_sim", "other_sim", "relation", "side", "other_in_question",
            "answer_in_question", "type_sim", "ground_sim", "wh_sim", "source")
SIDES = ("scene", "kb")
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


def default_ranker_dir() -> Path:
    """The shipped ranker (trained on FVQA's training questions): ``nsreason/retrieve/weights/fvqa``."""
    return Path(__file__).with_name("weights") / "fvqa"


@dataclass
class Ranker:
    """Learned parts of the ranking (see the module docstring).

    ``relations``: the relation names the classifier knows (labels or local names);
    ``rel_w`` (R × 384), ``rel_b`` (R): relation classifier; ``side_w`` (384), ``side_b``:
    P(kb side); ``w`` (len(FEATURES)), ``b``: the candidate scorer; ``source_prior``:
    source label → the ``source`` feature of its facts.
    """

    relations: list[str]
    rel_w: np.ndarray
    rel_b: np.ndarray
    side_w: np.ndarray
    side_b: float
    w: np.ndarray
    b: float
    info: dict[str, Any] = field(default_factory=dict)
    source_prior: dict[str, float] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Ranker(relations={len(self.relations)}, features={len(FEATURES)})"

    # -- question-level predictions -----------------------------------------------------
    def relation_logprobs(self, q: np.ndarray) -> dict[str, float]:
        import numpy as np

        z = self.rel_w @ q + self.rel_b
        z = z - z.max()
        logp = z - math.log(float(np.exp(z).sum()))
        return dict(zip(self.relations, map(float, logp)))

    def side_logprobs(self, q: np.ndarray) -> dict[str, float]:
        z = float(self.side_w @ q + self.side_b)  # logit of "kb"
        kb = -math.log1p(math.exp(-z)) if z > -30 else z
        scene = -math.log1p(math.exp(z)) if z < 30 else -z
        return {"kb": kb, "scene": scene}

    def source_feature(self, source: str | None) -> float:
        """The ``source`` feature of a fact whose source is labelled ``source`` (0 unseen)."""
        return float(self.source_prior.get(source or "", 0.0))

    def score(self, features: Sequence[float]) -> float:
        return float(sum(w * f for w, f in zip(self.w, features)) + self.b)

    def score_many(self, features: np.ndarray) -> np.ndarray:
        """The scores of the rows of ``features`` (candidates × len(FEATURES)) at once."""
        import numpy as np

        return features @ np.asarray(self.w, dtype=np.float64) + self.b if len(features) else np.zeros(0)

    # -- files --------------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        import numpy as np
        from safetensors.numpy import save_file

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        save_file({"rel_w": self.rel_w.astype(np.float32), "rel_b": self.rel_b.astype(np.float32),
                   "side_w": self.side_w.astype(np.float32),
                   "w": np.asarray(self.w, dtype=np.float32),
                   "scalars": np.asarray([self.side_b, self.b], dtype=np.float32)},
                  str(d / WEIGHTS_FILE))
        config = {"features": list(FEATURES), "relations": self.relations,
                  "source_prior": self.source_prior, **self.info}
        (d / CONFIG_FILE).write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path | None = None) -> Ranker:
        from safetensors.numpy import load_file

        d = Path(directory) if directory is not None else default_ranker_dir()
        missing = [f for f in (CONFIG_FILE, WEIGHTS_FILE) if not (d / f).is_file()]
        if missing:
            raise InputError(f"not a ranker folder: missing {missing}", source=str(d))
        config = json.loads((d / CONFIG_FILE).read_text(encoding="utf-8"))
        if config.get("features") != list(FEATURES):
            raise InputError(f"the ranker was trained with features {config.get('features')}, "
                             f"this version computes {list(FEATURES)}; retrain it", source=str(d))
        t = load_file(str(d / WEIGHTS_FILE))
        info = {k: v for k, v in config.items() if k not in ("features", "relations", "source_prior")}
        prior = config.get("source_prior", {})
        if not isinstance(prior, dict) or not all(isinstance(v, (int, float)) for v in prior.values()):
            raise InputError(f"expected 'source_prior' as an object of numbers, got {prior!r}",
                             source=str(d / CONFIG_FILE))
        return cls(list(config["relations"]), t["rel_w"], t["rel_b"], t["side_w"],
                   float(t["scalars"][0]), t["w"], float(t["scalars"][1]), info,
                   {str(k): float(v) for k, v in prior.items()})


def answer_key(answer: str) -> str:
    """The form under which candidates count as the same answer: normalised, without a
    leading article.

    >>> answer_key("A Bus stop."), answer_key("bus stop")
    ('bus stop', 'bus stop')
    """
    from .link import normalise

    text = normalise(answer)
    for article in ("a ", "an ", "the "):
        if text.startswith(article) and len(text) > len(article):
            return text[len(article):]
    return text


def answer_probabilities(answers: Sequence[str], scores: Sequence[float]) -> list[float]:
    """For each candidate, the probability of its *answer*: a softmax over all the
    candidates' scores, summed over the candidates giving that answer (:func:`answer_key`).

    >>> [round(p, 3) for p in answer_probabilities(["bus", "a bus", "car"], [0.0, 0.0, 0.0])]
    [0.667, 0.667, 0.333]
    """
    if not len(scores):
        return []
    top = max(scores)
    weights = [math.exp(s - top) for s in scores]
    total = sum(weights)
    mass: dict[str, float] = {}
    keys = [answer_key(a) for a in answers]
    for k, w in zip(keys, weights):
        mass[k] = mass.get(k, 0.0) + w / total
    return [mass[k] for k in keys]


def _logistic(x: Any, y: Any, l2: float, steps: int = 200) -> tuple[Any, Any]:
    """Weights and bias of an L2-regularised logistic (or softmax, for integer ``y``)
    regression, fitted with L-BFGS in torch (full batch, deterministic)."""
    import torch

    x = torch.as_tensor(x, dtype=torch.float64)
    multi = y.dtype.kind in "iu" and int(y.max()) > 1
    n_out = int(y.max()) + 1 if multi else 1
    w = torch.zeros(x.shape[1], n_out, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(n_out, dtype=torch.float64, requires_grad=True)
    target = torch.as_tensor(y, dtype=torch.long if multi else torch.float64)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> Any:
        opt.zero_grad()
        z = x @ w + b
        if multi:
            loss = torch.nn.functional.cross_entropy(z, target)
        else:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(z[:, 0], target)
        loss = loss + l2 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    w_, b_ = w.detach().numpy(), b.detach().numpy()
    return (w_.T, b_) if multi else (w_[:, 0], float(b_[0]))
