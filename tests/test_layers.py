"""The layers of ``../shared/docs/DESIGN.md``, read from the package's import graph.

Every ``import`` in ``nsreason/`` (at module level or inside a function, under
``TYPE_CHECKING`` too) is resolved to the unit it names: a top-level module
(``nsreason/api.py`` → ``api``) or a sub-package (``nsreason/kb/...`` → ``kb``). Then:

- a unit imports only from its own row of the layer table or the rows above it (inference
  code, layers 0-4, never imports training, data-set or evaluation code);
- no two units import each other;
- every unit has a row (a new package must be placed in the table, here and in DESIGN.md).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "nsreason"

LAYERS: list[tuple[int, set[str]]] = [
    (0, {"errors", "typing", "registry", "jsonio", "limits"}),
    (1, {"program"}),
    (1, {"scene"}),
    (1, {"trace"}),
    (2, {"kb"}),
    (2, {"parse"}),
    (2, {"encode"}),
    (3, {"retrieve"}),
    (3, {"execute"}),
    (4, {"api", "serve"}),
    (5, {"datasets", "train", "eval", "okvqa", "testing"}),
    (6, {"cli"}),
]
"""Rows in order, as in DESIGN.md's table: (layer, units). ``testing`` (the KB conformance
suite for plug-in authors) sits with the tools of layer 5."""

ROW = {unit: i for i, (_, units) in enumerate(LAYERS) for unit in units}
LAYER = {unit: layer for layer, units in LAYERS for unit in units}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _unit(module: str) -> str | None:
    """``nsreason.kb.base`` → ``kb``; ``nsreason`` itself → None."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every nsreason import in ``path``; ``from X import name``
    counts as importing ``X`` and ``X.name`` (name may be a submodule)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.append((node.lineno, target))
            if node.module is None:  # `from . import x`: x is a module
                out += [(node.lineno, f"{target}.{a.name}") for a in node.names]
    return [(line, t) for line, t in out if t == "nsreason" or t.startswith("nsreason.")]


def import_graph() -> dict[tuple[str, str], list[str]]:
    """(importing unit, imported unit) → where (``file:line``), across units only."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        src = _unit(_module_name(path))
        for line, target in _imports(path):
            dst = _unit(target)
            if src is not None and dst is not None and dst != src:
                edges[(src, dst)].append(f"{path.relative_to(PACKAGE.parent)}:{line}")
    return dict(edges)


GRAPH = import_graph()
UNITS = {_unit(_module_name(p)) for p in PACKAGE.rglob("*.py")} - {None}


def test_every_unit_has_a_layer():
    missing = sorted(u for u in UNITS if u not in ROW)
    assert not missing, f"place these in the layer table (tests/test_layers.py, DESIGN.md): {missing}"


def test_no_import_climbs_a_layer():
    climbs = [f"{a} (layer {LAYER[a]}) imports {b} (layer {LAYER[b]}) at {', '.join(where)}"
              for (a, b), where in sorted(GRAPH.items())
              if a in ROW and b in ROW and ROW[b] > ROW[a]]
    assert not climbs, "\n".join(climbs)


def test_no_two_units_import_each_other():
    pairs = [f"{a} <-> {b}: {GRAPH[(a, b)][0]} and {GRAPH[(b, a)][0]}"
             for (a, b) in sorted(GRAPH) if a < b and (b, a) in GRAPH]
    assert not pairs, "\n".join(pairs)


def test_inference_never_imports_training_data_sets_or_evaluation():
    offending = [f"{a} imports {b} at {where[0]}" for (a, b), where in sorted(GRAPH.items())
                 if a in LAYER and b in LAYER and LAYER[a] <= 4 and LAYER[b] >= 5]
    assert not offending, "\n".join(offending)


@pytest.mark.parametrize("source, expected", [
    ("from ..execute.ops import OPS\n", ["nsreason.execute.ops"]),
    ("from .. import registry\n", ["nsreason", "nsreason.registry"]),
    ("import nsreason.kb.base\n", ["nsreason.kb.base"]),
    ("def f():\n    from ...eval import clevr\n", ["nsreason.eval"]),
])
def test_imports_are_resolved(tmp_path, monkeypatch, source, expected):
    """The resolver itself: relative imports from ``nsreason/retrieve/x.py`` (or one level
    deeper for three dots), imports inside functions."""
    deep = source.startswith("def")
    folder = tmp_path / "nsreason" / "retrieve" / ("sub" if deep else "")
    folder.mkdir(parents=True)
    (folder / "x.py").write_text(source)
    monkeypatch.setattr(f"{__name__}.PACKAGE", tmp_path / "nsreason")
    assert [t for _, t in _imports(folder / "x.py")] == expected
