"""OK-VQA answerers (layer 5): what answers an OK-VQA question from its text and the
detected labels of its image.

* :mod:`~nsreason.okvqa.answerer` - the plug-in contract (``fit(examples) -> answerer``),
  the registry and the ``prior``, ``kb`` and ``kb-without-kb`` plug-ins;
* :mod:`~nsreason.okvqa.prior` - the answer prior per question prefix;
* :mod:`~nsreason.okvqa.features` - text and image vectors, targets, feature names;
* :mod:`~nsreason.okvqa.candidates` - the answer classifier, the neighbour vote and the
  candidates' feature rows;
* :mod:`~nsreason.okvqa.reranker` - the learned scorer of candidates;
* :mod:`~nsreason.okvqa.cache` - the knowledge base's candidates, retrieved once, on disk.

The evaluation loop is :mod:`nsreason.eval.okvqa` (it imports this package, never the
reverse).
"""

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
from .prior import AnswerPrior, question_prefix

__all__ = ["OKVQA_ANSWERERS", "AnswerPrior", "Answerer", "AnswererPlugin", "KbAnswerer", "KbPlugin",
           "PriorPlugin", "TrainingExample", "get_answerer", "image_folds", "question_prefix"]
