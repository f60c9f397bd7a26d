"""The CLEVR parser shipped inside the package: present, small, offline, accurate, robust."""

from __future__ import annotations

import hashlib
import json

import pytest

pytest.importorskip("torch")

from nsreason.api import Reasoner
from nsreason.datasets.clevr import load_clevr_questions
from nsreason.parse.base import SHIPPED
from nsreason.scene import load_clevr_scenes
from tests.conftest import EXAMPLES_DATA

CHECKPOINT = SHIPPED / "clevr"


@pytest.fixture(scope="module")
def reasoner():
    return Reasoner.default()


def test_weights_are_safetensors_small_and_match_their_checksum():
    weights = CHECKPOINT / "model.safetensors"
    assert weights.stat().st_size <= 50 * 2**20
    sums = dict(line.split()[::-1] for line in (CHECKPOINT / "SHA256SUMS").read_text().splitlines())
    for name, digest in sums.items():
        assert hashlib.sha256((CHECKPOINT / name).read_bytes()).hexdigest() == digest, name
    assert set(sums) == {"config.json", "model.safetensors", "tokenizer.json", "words.json"}
    assert not list(CHECKPOINT.glob("*.pt")) and not list(CHECKPOINT.glob("*.bin"))


def test_bundled_questions_are_answered(reasoner):
    scenes = {s.id: s for s in load_clevr_scenes(EXAMPLES_DATA / "clevr_val_sample_scenes.json")}
    qs = load_clevr_questions(EXAMPLES_DATA / "clevr_val_sample_questions.json")
    answers = reasoner.ask_many([(scenes[q.image_index], q.question) for q in qs])
    assert sum(a.text == q.answer for a, q in zip(answers, qs)) >= 29


@pytest.mark.parametrize(
    "variant",
    [
        "how many RED things are there",
        "How many red things are there ?",
        "  How   many red  things are there?  ",
        "How many red objects are there?",
        "Hw many red thngs are there?",
        "How mnay red things are there?",
    ],
)
def test_case_punctuation_spacing_typos_and_synonyms(reasoner, variant):
    result = reasoner.parser.parse(variant)
    assert result.ok, result.failure
    assert result.program.to_text() == "count(filter_color[red](scene()))"


def test_synonyms_of_clevr_words(reasoner):
    p = reasoner.parser
    assert p.parse("What color is the big ball?").program == p.parse("What color is the large sphere?").program
    assert p.parse("Is there a shiny block?").program == p.parse("Is there a metal cube?").program


@pytest.mark.parametrize(
    "question",
    ["What is the airspeed velocity of an unladen swallow?", "xyzzy plugh", ""],
)
def test_questions_outside_the_vocabulary_do_not_parse(reasoner, question):
    result = reasoner.parser.parse(question)
    assert not result.ok and result.failure.code in ("could_not_parse", "unknown_word")
    if result.failure.code == "unknown_word":
        assert "'unladen'" in result.failure.reason  # not WordNet's: refused by name


def test_config_records_how_it_was_trained():
    config = json.loads((CHECKPOINT / "config.json").read_text())
    assert config["vocabulary"] == "clevr"
    assert config["training"]["seed"] == 0 and config["training"]["examples"] > 20000


def test_a_word_nothing_knows_is_refused_by_name(reasoner):
    result = reasoner.parser.parse("What color is the blorptastic cube?")
    assert not result.ok and result.failure.code == "unknown_word" and "'blorptastic'" in result.failure.reason
    # words the parser never saw but English knows are read as before (not refused)
    assert reasoner.parser.parse("What color is the big cube pictured here?").ok
    assert reasoner.parser.parse("What color is the cube without any doubt?").failure is None or (
        reasoner.parser.parse("What color is the cube without any doubt?").failure.code != "unknown_word")


@pytest.mark.parametrize(
    ("text", "program"),
    [
        ("The second one of the cube(s) from left", 'filter_ordinal["the second one of the","from left"](filter_shape[cube](scene()))'),
        ("The fully visible red object(s)", 'filter_visible["fully visible"](filter_color[red](scene()))'),
        ("Any other things that are the same size as the first one of the sphere(s) from front",
         'same_size(unique(filter_ordinal["the first one of the","from front"](filter_shape[sphere](scene()))))'),
    ],
)
def test_referring_expressions_parse_to_programs_that_name_objects(reasoner, text, program):
    result = reasoner.parser.parse(text)
    assert result.ok and result.program.to_text() == program


def test_config_records_the_continued_training_on_referring_expressions():
    config = json.loads((CHECKPOINT / "config.json").read_text())
    (continued,) = config["training"]["continued"]
    assert continued["sources"]["new"]["pairs"] > 1000 and "filter_ordinal" in " ".join(continued["added_tokens"])
