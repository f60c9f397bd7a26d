"""Shared fixtures: a 4-object scene, paths to ../shared/data (skipping when absent).

Hypothesis runs under one of two profiles: ``ci`` (derandomized, no example database, no
deadline: a red CI run fails the same way when run again) when the ``CI`` environment
variable is set, as the CI runner does, and ``dev`` (random, hypothesis' defaults)
otherwise. ``HYPOTHESIS_PROFILE=ci`` (or ``make test-ci``) picks the CI one locally.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from nsreason.scene import Attribute, Relation, SceneGraph, SceneObject

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("NSREASON_SHARED_DATA", REPO.parent / "shared" / "data"))
EXAMPLES_DATA = REPO / "examples" / "data"

# Both from hypothesis' defaults: with CI set, recent hypothesis versions load their own
# "ci" profile on import, which an unparented profile would inherit.
settings.register_profile(
    "ci", parent=settings.get_profile("default"), derandomize=True, database=None,
    deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", parent=settings.get_profile("default"))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))

# torch on 2 threads slows badly under load: every test runs with one once torch is loaded
# (tests that import torch themselves also set it, for the first test to use it).
@pytest.fixture(autouse=True)
def _one_torch_thread():
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)
    yield


# -- ../shared/data: every test that reads it is marked `data` ------------------------------
# Two checks, both failing the test that breaks the rule: shared_path() and the shared_data
# fixture refuse a test without the marker, and an audit hook sees every file this process
# opens under the shared folder (library defaults included) while a test runs.
_SHARED_PREFIXES = tuple(sorted({os.path.join(os.path.abspath(SHARED_DATA), ""),
                                 os.path.join(os.path.realpath(SHARED_DATA), "")}))
_running: dict[str, Any] = {"item": None, "opened": []}


def _is_data_test() -> bool:
    item = _running["item"]
    return item is None or item.get_closest_marker("data") is not None


def _need_data_marker(what: str) -> None:
    if not _is_data_test():
        pytest.fail(f"{_running['item'].nodeid} reads {what} under the shared data folder but "
                    "is not marked @pytest.mark.data", pytrace=False)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event != "open" or _is_data_test():
        return
    try:
        path = os.path.abspath(os.fsdecode(args[0]))
    except (TypeError, ValueError):  # a file descriptor, a NUL byte
        return
    if path.startswith(_SHARED_PREFIXES):
        _running["opened"].append(path)


sys.addaudithook(_audit)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Know the running test from the start of its set-up (broader fixtures included)."""
    _running["item"], _running["opened"] = item, []


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    opened, _running["item"], _running["opened"] = _running["opened"], None, []
    if opened:
        pytest.fail(f"{item.nodeid} opened {opened[0]} (and {len(opened) - 1} more) under the "
                    "shared data folder but is not marked @pytest.mark.data", pytrace=False)


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data; skips the test with a clear message when absent. Only
    tests marked ``data`` may call it."""
    path = SHARED_DATA.joinpath(*parts)
    _need_data_marker(str(path))
    if not path.exists():
        pytest.skip(f"needs {path} (the shared data folder beside the repository) - absent here")
    return path


def chromium() -> Any:
    """A headless Chromium (:class:`nsreason.testing.browser.Browser`), or skip the test
    saying why there is none."""
    from nsreason.testing.browser import Browser, BrowserUnavailable

    try:
        return Browser()
    except BrowserUnavailable as err:
        pytest.skip(f"browser tests need Chromium: {err}")


@pytest.fixture
def shared_data() -> Path:
    _need_data_marker("the folder")
    if not SHARED_DATA.is_dir():
        pytest.skip(f"needs the shared data folder {SHARED_DATA} - absent here")
    return SHARED_DATA


@pytest.fixture
def four_objects() -> SceneGraph:
    """A small CLEVR-like scene: 0 large red metal cube, 1 small red rubber sphere,
    2 large blue rubber cylinder, 3 small green metal cube. Left-to-right: 0, 1, 2, 3;
    front-to-back: 3, 2, 1, 0. A free label 'wooden' on object 2."""
    spec = [
        ("large", "red", "metal", "cube"),
        ("small", "red", "rubber", "sphere"),
        ("large", "blue", "rubber", "cylinder"),
        ("small", "green", "metal", "cube"),
    ]
    objects = []
    for i, (size, color, material, shape) in enumerate(spec):
        attrs = [
            Attribute(size, key="size"),
            Attribute(color, key="color"),
            Attribute(material, key="material"),
            Attribute(shape, key="shape"),
        ]
        if i == 2:
            attrs.append(Attribute("wooden"))
        objects.append(SceneObject(i, shape, tuple(attrs), coords=(float(i), float(3 - i), 0.5)))
    relations = []
    for a in range(4):
        for b in range(4):
            if a < b:  # a is left of b; a is behind b
                relations += [Relation(a, "left", b), Relation(b, "right", a)]
                relations += [Relation(a, "behind", b), Relation(b, "front", a)]
    return SceneGraph(objects, relations, id="four")


# A tiny parser trained here on the 30 bundled questions (parser and API tests).
@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    torch = pytest.importorskip("torch")
    from nsreason.datasets.clevr import load_clevr_questions
    from nsreason.train.parser import train_parser

    torch.set_num_threads(1)
    qs = load_clevr_questions(EXAMPLES_DATA / "clevr_val_sample_questions.json")
    pairs = [(q.question, q.program) for q in qs]
    out = tmp_path_factory.mktemp("parser")
    report = train_parser(
        pairs, out, epochs=100, batch_size=8, lr=3e-3, seed=1, dev_fraction=0.0,
        model_kwargs={"d_model": 64, "feedforward": 128, "encoder_layers": 1, "decoder_layers": 1},
        log=lambda _: None,
    )
    return out, report, qs


# Executors by name: two small real executors (tests/execute/confident.py) registered for
# one test under test names; yields the instances their factories made, in order.
@pytest.fixture
def test_executors(monkeypatch):
    from nsreason.execute import EXECUTORS
    from tests.execute.confident import ConfidentExecutor, OneByOneExecutor

    made: list[Any] = []

    def factory(cls: type) -> Any:
        def make() -> Any:
            made.append(cls())
            return made[-1]
        return make

    monkeypatch.setitem(EXECUTORS._items, "confident-test", factory(ConfidentExecutor))
    monkeypatch.setitem(EXECUTORS._items, "one-by-one-test", factory(OneByOneExecutor))
    return made
