"""The parser is inference code (layer 2): nothing in nsreason/parse imports the executor,
data sets, training or evaluation (answer-only fine-tuning, which runs the executor, lives in
nsreason/train)."""

from __future__ import annotations

import ast

from tests.conftest import REPO

FORBIDDEN = ("nsreason.execute", "nsreason.datasets", "nsreason.train", "nsreason.eval",
             "nsreason.evaluate", "nsreason.okvqa", "nsreason.api", "nsreason.cli")


def _imports(path) -> set[str]:
    """Absolute names of the modules ``path`` imports (relative imports resolved)."""
    package = ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found |= {f"{module}.{a.name}" for a in node.names}
    return found


def test_resolving_relative_imports():
    names = _imports(REPO / "nsreason" / "parse" / "base.py")
    assert "nsreason.program.ir" in names and "nsreason.parse.seq2seq" in names


def _forbidden(name: str) -> bool:
    return any(name == f or name.startswith((f + ".", f + "_")) for f in FORBIDDEN)


def test_the_rule_catches_what_it_should():
    assert _forbidden("nsreason.execute.symbolic") and _forbidden("nsreason.evaluate_fvqa")
    assert _forbidden("nsreason.okvqa_kb") and _forbidden("nsreason.train")
    assert not _forbidden("nsreason.program.ir") and not _forbidden("nsreason.trace.trace")


def test_parse_imports_no_execution_data_set_training_or_evaluation_code():
    bad = sorted(
        f"{p.relative_to(REPO)}: {name}"
        for p in sorted((REPO / "nsreason" / "parse").rglob("*.py"))
        for name in _imports(p)
        if _forbidden(name)
    )
    assert not bad, bad
