"""Routing of Reasoner.ask on scenes the CLEVR parser does not fit: scene questions go to the
scene_graph parser (no knowledge base), outside-knowledge questions still go to the KB, an
unknown word is refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from nsreason.api import Reasoner
from nsreason.execute.answer import Answer
from nsreason.scene.gqa import load_gqa_scenes

pytest.importorskip("spacy")
pytestmark = pytest.mark.slow  # loads the CLEVR parser and spaCy

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="module")
def scene():
    return {s.id: s for s in load_gqa_scenes(FIXTURES / "gqa_val_scene_graphs_3.json")}["2370424"]


@pytest.fixture
def reasoner(monkeypatch):
    r = Reasoner.default()
    calls: list[str] = []

    def knowledge(self, scene, refused, trace, reason=None):
        calls.append(refused.question)
        return Answer("from the KB", "from the KB", None, None, None)  # type: ignore[arg-type]

    monkeypatch.setattr(Reasoner, "_ask_knowledge", knowledge)
    r.knowledge_calls = calls  # type: ignore[attr-defined]
    return r


def test_a_gqa_scene_question_is_answered_from_the_scene_not_the_kb(reasoner, scene):
    answer = reasoner.ask(scene, "What color is the bag?")
    assert answer.value == "yellow" and reasoner.knowledge_calls == []
    parse = answer.trace.parse
    assert parse.details["parser"] == "scene_graph"
    assert {"word": "bag", "kind": "name", "terms": ["bag"], "method": "exact", "score": 1.0} in \
        parse.details["grounding"]
    assert reasoner.ask(scene, "What is the man wearing?").value == "helmet"
    assert reasoner.ask(scene, "Is there a dog?").value is False


def test_an_outside_knowledge_question_still_goes_to_the_kb(reasoner, scene):
    assert reasoner.ask(scene, "What is the helmet used for?").value == "from the KB"
    assert reasoner.ask(scene, "Which American president is associated with the bag?").value == "from the KB"
    assert len(reasoner.knowledge_calls) == 2


def test_an_unknown_word_is_refused_by_name_not_sent_to_the_kb(reasoner, scene):
    answer = reasoner.ask(scene, "What color is the blorptastic?")
    assert answer.value is None and answer.failure.code == "unknown_word"
    assert "'blorptastic'" in answer.failure.reason and reasoner.knowledge_calls == []


def test_clevr_scenes_keep_the_clevr_parser(reasoner):
    from nsreason import load_clevr_scenes

    clevr = load_clevr_scenes(Path(__file__).resolve().parents[1] / "examples/data/clevr_val_sample_scenes.json")[1]
    answer = reasoner.ask(clevr, "How many red things are there?")
    assert answer.text == "3" and answer.trace.parse.output == "count(filter_color[red](scene()))"
