"""OK-VQA answerers (layer 5): what answers an OK-VQA question from its text and the
detected labels of its image.

* :mod:`~nsreason.okvqa.answerer` - the plug-in contract (``fit(examples) -> answerer``),
  the registry and the ``prior``, ``kb`` and ``kb-without-kb`` plug-ins;
* :mod:`~nsreason.okvqa.features` - the training targets;
* :mod:`~nsreason.okvqa.candidates` - fitting the answer classifier and the neighbour vote;
* :mod:`~nsreason.okvqa.reranker` - fitting the learned scorer of candidates.

What answers (inference, layer 3) lives in :mod:`nsreason.retrieve`: the answer prior
(``answer_prior``), the candidates and their features (``answer_candidates``), the
knowledge base's candidates kept on disk (``answer_cache``) and the fitted model that
``nsreason train okvqa`` saves and ``Reasoner(okvqa_model=DIR)`` loads (``answer_model``).

The evaluation loop is :mod:`nsreason.eval.okvqa` (it imports this package, never the
reverse).
"""

from ..retrieve.answer_prior import AnswerPrior, question_prefix
from .answerer import (
    OKVQA_ANSWERERS,
    Answerer,
    AnswererPlugin,
    KbAnswerer,
    KbPlugin,
    PriorPlugin,
    TrainingExample,
    get_answerer,
    image_folds,
)

__all__ = ["OKVQA_ANSWERERS", "AnswerPrior", "Answerer", "AnswererPlugin", "KbAnswerer", "KbPlugin",
           "PriorPlugin", "TrainingExample", "get_answerer", "image_folds", "question_prefix"]
