"""CLEVR question sets: reading the official files, and making new questions.

- :mod:`.questions`: CLEVR question files in both official formats (:func:`load_clevr_questions`);
- :mod:`.templates`: the official question templates (:func:`load_templates`), a template's
  program expanded into the release chain;
- :mod:`.text`: a question's text, placeholders filled with values and synonyms, template skeletons;
- :mod:`.search`: the search for parameter values of a template on a scene;
- :mod:`.generate`: questions from the templates on real scenes (:func:`generate_questions`;
  ``python -m nsreason.datasets.clevr.generate``);
- :mod:`.augment`: templates grown by relative clauses and superlatives, everyday templates
  (``python -m nsreason.datasets.clevr.augment``);
- :mod:`.compositional`: held-out sets of new combinations of known phrases
  (``python -m nsreason.datasets.clevr.compositional``);
- :mod:`.kb_questions`: questions that need a scene and a user's Turtle KB, answers computed
  with rdflib (``python -m nsreason.datasets.clevr.kb_questions``).
"""

from __future__ import annotations

from .generate import generate_questions, run_generator, write_questions
from .questions import ClevrQuestion, load_clevr_questions
from .templates import (
    ClevrTemplate,
    TemplateNode,
    default_templates_dir,
    expand_program,
    load_synonyms,
    load_templates,
)
from .text import SUPERLATIVES, SYNONYMS, fill_text, text_coverage, text_patterns, text_skeleton

__all__ = [
    "SUPERLATIVES",
    "SYNONYMS",
    "ClevrQuestion",
    "ClevrTemplate",
    "TemplateNode",
    "default_templates_dir",
    "expand_program",
    "fill_text",
    "generate_questions",
    "load_clevr_questions",
    "load_synonyms",
    "load_templates",
    "run_generator",
    "text_coverage",
    "text_patterns",
    "text_skeleton",
    "write_questions",
]
