"""Packaging promises: `import nsreason` stays light; examples run."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint('\\n'.join(sys.modules))"],
        capture_output=True, text=True, check=True,
    ).stdout
    return set(out.split())


def test_import_nsreason_does_not_import_torch_or_heavy_libraries():
    mods = _modules_after("import nsreason")
    heavy = {"torch", "torch_geometric", "transformers", "spacy", "networkx", "rich", "yaml"}
    assert not (mods & heavy), mods & heavy


def test_symbolic_path_does_not_import_torch():
    code = (
        "from nsreason import Program, SymbolicExecutor, load_clevr_scenes\n"
        "s = load_clevr_scenes({'objects': [{'shape': 'cube', 'size': 'large', 'color': 'red', 'material': 'metal'}]})[0]\n"
        "assert SymbolicExecutor().execute(Program.from_text('count(scene())'), s).value == 1\n"
    )
    mods = _modules_after(code)
    assert "torch" not in mods and "torch_geometric" not in mods


@pytest.mark.slow
def test_demo_runs():
    proc = subprocess.run(
        [sys.executable, str(REPO / "examples" / "demo.py")], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "All 30 bundled questions: " in proc.stdout
    assert "unknown_word: unknown word 'unladen'" in proc.stdout and "not_unique" in proc.stdout


def test_every_subpackage_is_listed_for_the_wheel():
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(REPO).parts)
        for p in (REPO / "nsreason").rglob("__init__.py")
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert "nsreason._programs" in listed  # programs/ shipped as package data


def test_all_names_exactly_the_lazy_exports():
    import nsreason

    assert nsreason.__all__ == [*sorted(nsreason._EXPORTS), "__version__"]
    for name in nsreason.__all__:
        assert getattr(nsreason, name) is not None, name


@pytest.mark.slow
def test_the_kb_questions_example_runs_a_multi_hop_question_over_a_users_turtle_kb():
    proc = subprocess.run(
        [sys.executable, str(REPO / "examples" / "kb_questions.py")], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "answer: Thomas Edison" in out
    assert 'kb_query["invented by"](kb_query["common use"](query_material(' in out
    assert "metal --common use--> electrical wiring" in out and "workshop.ttl" in out
    assert "A: Dreghorn, Scotland" in out and "A: 6" in out and "A: False" in out
    assert "refused: unknown_relation: the question names 'melting point'" in out
