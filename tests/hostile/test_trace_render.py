"""Text that cannot be printed (nsreason.trace.render, Trace.to_json, the CLI's printing):
lone surrogates, undecodable bytes, escape codes and forged lines in a scene's strings or a
question. Text stays printable (escaped), JSON stays valid UTF-8 and reads back the same."""

from __future__ import annotations

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from nsreason.trace import Trace
from nsreason.trace.render import json_safe, printable, render_rich
from nsreason.trace.trace import Failure, TraceStep

NASTY = ["\ud800", "\udcff", "\x1b[2J", "\x1b]0;pwned\x07", "\x9b31m", "\u202e", "\n  9  forged  row",
         "\r", "\x00", "\u2028", "[bold red]markup[/]"]
nasty_text = st.lists(st.one_of(st.characters(), st.sampled_from(NASTY)), max_size=12).map("".join)
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def trace_with(text: str) -> Trace:
    steps = [TraceStep(0, "scene", (), (), [text, 1], "objects"),
             TraceStep(1, "query_name", (text,), (0,), text, "string"),
             TraceStep(2, "unique", (), (1,), None, "object", status="failed",
                       failure=Failure("not_unique", f"got {text}", 2))]
    return Trace(steps, answer=text, program=f"query_name[{text}](scene())", scene_id=text,
                 vocabulary="clevr")


@given(nasty_text)
@settings(max_examples=150, deadline=None)
def test_text_rendering_is_printable_and_keeps_its_rows(text):
    trace = trace_with(text)
    out = trace.render_text()
    assert not UNSAFE.search(out.replace("\n", ""))
    out.encode("utf-8")  # never a UnicodeEncodeError
    assert len(out.splitlines()) == len(trace_with("x").render_text().splitlines())


@given(nasty_text)
@settings(max_examples=150, deadline=None)
def test_json_is_valid_utf8_and_round_trips(text):
    trace = trace_with(text)
    out = trace.to_json(indent=2)
    out.encode("utf-8")
    assert not UNSAFE.search(out.replace("\n", ""))
    back = Trace.from_json(out)
    # JSON reads a surrogate pair written as two escapes as the one character they encode.
    same = text.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")
    assert back.answer == same and back.scene_id == same


def test_rich_rendering_does_not_read_markup_or_escape_codes():
    from rich.console import Console

    console = Console(record=True, width=200, force_terminal=False)
    console.print(render_rich(trace_with("[bold red]boom[/]\x1b[2J")))
    out = console.export_text()
    assert "[bold red]boom[/]\\x1b[2J" in out and "\x1b" not in out


def test_printable_and_json_safe():
    assert printable("a\x1b[2J\nb\ud800\u202e") == "a\\x1b[2J\\nb\\ud800\\u202e"
    assert printable(printable("\x1b\ud800")) == printable("\x1b\ud800")
    text = json.dumps({"k\ud800": "v\x9b\u2028"}, ensure_ascii=False)
    assert json.loads(json_safe(text)) == {"k\ud800": "v\x9b\u2028"}
    json_safe(text).encode("utf-8")
