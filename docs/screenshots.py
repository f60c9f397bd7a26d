"""Make the screenshots of docs/viewer.md (docs/images/viewer-*.png) in headless Chromium.

    .venv/bin/python docs/screenshots.py            # from the repository root; needs chromium

Each page is the one ``nsreason ask --html`` / ``ground --html`` writes, opened from disk, with a
step selected by a click as a user would (nsreason.testing.browser drives the browser).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from nsreason.api import Reasoner  # noqa: E402
from nsreason.scene.io import load_scenes  # noqa: E402
from nsreason.testing.browser import Browser  # noqa: E402

OUT = REPO / "docs" / "images"
CLEVR = REPO / "examples" / "data" / "clevr_val_sample_scenes.json"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    clevr = load_scenes(CLEVR)
    shots = []
    symbolic = Reasoner("clevr", kb=None).ask(clevr[1], "What size is the cylinder that is left of the cyan thing?")
    shots.append(("viewer-symbolic", symbolic.to_html(gold="large"), "5"))
    neural = Reasoner("clevr", "neural", kb=None).ask(clevr[1], "How many cylinders are left of the cyan cube?")
    step = next(s.index for s in neural.trace.steps if s.op.startswith("relate"))
    shots.append(("viewer-neural", neural.to_html(), str(step)))
    kb = Reasoner("clevr", kb=[str(REPO / "examples" / "knowledge" / "workshop.ttl")]).ask(
        clevr[1], "Who invented the common use of the material of the large cyan cube?")
    shots.append(("viewer-knowledge", kb.to_html(), str(len(kb.trace.steps) - 2)))
    with tempfile.TemporaryDirectory() as tmp, Browser(width=1100, height=760) as browser:
        for name, html, selected in shots:
            page = Path(tmp) / f"{name}.html"
            page.write_text(html, encoding="utf-8")
            browser.open(page.as_uri())
            browser.evaluate(f"document.querySelector('[data-step=\"{selected}\"]').click()")
            browser.evaluate("document.querySelector('details.rejected')?.removeAttribute('open')")
            if name == "viewer-knowledge":  # the facts of the step, in view
                browser.evaluate(f"document.querySelector('[data-detail=\"{selected}\"]').scrollIntoView()")
            png = browser.screenshot(OUT / f"{name}.png")
            print(f"{png.relative_to(REPO)}: {png.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
