"""``nsreason eval ... --html DIR`` (nsreason.eval.pages): an index with the accuracy per family,
every question wrong first, filterable; a trace page per wrong answer and per sampled right one."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nsreason.cli import main
from tests.conftest import chromium

REPO = Path(__file__).resolve().parents[2]
SCENES = REPO / "examples" / "data" / "clevr_val_sample_scenes.json"
QUESTIONS = REPO / "examples" / "data" / "clevr_val_sample_questions.json"
FETCH = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:|//)|@import|url\(\s*["']?(?:https?:|//)""", re.I)


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The sample questions with two expected answers changed (so two answers are wrong),
    evaluated with their gold programs."""
    tmp = tmp_path_factory.mktemp("eval")
    data = json.loads(QUESTIONS.read_text())
    data["questions"][0]["answer"] = "<b>not this</b>"
    data["questions"][3]["answer"] = "nope"
    questions = tmp / "questions.json"
    questions.write_text(json.dumps(data))
    out = tmp / "html"
    assert main(["eval", "clevr", "--scenes", str(SCENES), "--questions", str(questions), "--html", str(out),
                 "--html-successes", "3", "--json"]) == 0
    return out


def test_index_lists_every_question_wrong_first(pages, capsys):
    index = (pages / "index.html").read_text()
    keys = re.findall(r"data-key='([^']*)'", index)
    assert len(keys) == 30 and keys[:2] == ["0", "3"]
    assert re.findall(r"<tr class='(right|wrong)'", index)[:3] == ["wrong", "wrong", "right"]
    assert "Accuracy <strong>93.33%</strong> (28 of 30 right)" in index
    assert "&lt;b&gt;not this&lt;/b&gt;" in index and "<b>not this" not in index
    assert not FETCH.search(index)


def test_a_page_per_wrong_answer_and_sampled_right_ones(pages):
    files = sorted(p.name for p in (pages / "pages").iterdir())
    assert len(files) == 5 and "q-0.html" in files and "q-3.html" in files
    wrong = (pages / "pages" / "q-3.html").read_text()
    assert 'data-verdict="wrong"' in wrong and "href='../index.html'" in wrong
    from nsreason.scene.clevr import load_clevr_scenes

    image = json.loads(QUESTIONS.read_text())["questions"][3]["image_index"]
    scene = next(s for s in load_clevr_scenes(SCENES) if s.id == image)
    assert wrong.count("data-object=") == len(scene.objects)  # the scene drawn
    right = [f for f in files if f not in ("q-0.html", "q-3.html")]
    assert all('data-verdict="right"' in (pages / "pages" / f).read_text() for f in right)
    assert not any(FETCH.search((pages / "pages" / f).read_text()) for f in files)


def test_html_limit_caps_the_pages(tmp_path):
    out = tmp_path / "html"
    assert main(["eval", "clevr", "--scenes", str(SCENES), "--questions", str(QUESTIONS), "--html", str(out),
                 "--html-limit", "2", "--json"]) == 0
    assert len(list((out / "pages").iterdir())) == 2
    assert "2 right ones sampled" in (out / "index.html").read_text()


@pytest.mark.slow
def test_index_filters_in_the_browser(pages):
    b = chromium()
    shown = "[...document.querySelectorAll('table.questions tbody tr')].filter(r => !r.hidden).length"
    with b:
        url = (pages / "index.html").as_uri()
        b.open(url)
        assert b.evaluate(shown) == 30
        b.evaluate("const w = document.getElementById('wrong-only'); w.checked = true;"
                   "w.dispatchEvent(new Event('change'))")
        assert b.evaluate(shown) == 2
        b.evaluate("const f = document.getElementById('filter'); f.value = 'nope';"
                   "f.dispatchEvent(new Event('input'))")
        assert b.evaluate(shown) == 1
        b.evaluate("document.querySelector('tr[data-key=\"3\"] a').click()")
        b.wait_for("Page.loadEventFired")
        assert b.evaluate("document.querySelector('[data-verdict]').dataset.verdict") == "wrong"
        assert all(u.startswith("file://") for u in b.requests) and b.console_errors == []
