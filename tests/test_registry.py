"""Registries: names declared with the module that registers them are imported only when
asked for; a failed or empty import is a RegistryError naming the module."""

from __future__ import annotations

import sys

import pytest

from nsreason.errors import RegistryError
from nsreason.registry import Registry


@pytest.fixture
def plugin_module(tmp_path, monkeypatch):
    """A module on sys.path whose import registers 'heavy' in the registry it is given."""
    monkeypatch.syspath_prepend(str(tmp_path))
    registry: Registry = Registry("widget", None)
    monkeypatch.setattr(sys, "_nsreason_test_registry", registry, raising=False)
    (tmp_path / "nsr_test_heavy_plugin.py").write_text(
        "import sys\nsys._nsreason_test_registry.register('heavy', lambda: 'made')\n")
    (tmp_path / "nsr_test_empty_plugin.py").write_text("")
    (tmp_path / "nsr_test_broken_plugin.py").write_text("raise ImportError('needs torch_geometric')\n")
    yield registry
    for name in ("nsr_test_heavy_plugin", "nsr_test_empty_plugin", "nsr_test_broken_plugin"):
        sys.modules.pop(name, None)


def test_a_declared_name_is_listed_and_imported_only_when_asked_for(plugin_module):
    registry = plugin_module
    registry.register("light", lambda: "light")
    registry.declare("heavy", "nsr_test_heavy_plugin")
    assert registry.names() == ["heavy", "light"]
    assert "heavy" in registry
    assert "nsr_test_heavy_plugin" not in sys.modules  # listing and `in` import nothing
    assert registry.get("heavy")() == "made"
    assert "nsr_test_heavy_plugin" in sys.modules
    assert registry.names() == ["heavy", "light"]


def test_a_declared_module_that_does_not_exist_is_not_listed_and_its_name_errs(plugin_module):
    registry = plugin_module
    registry.declare("ghost", "nsr_test_no_such_plugin")
    registry.declare("ghost2", "nsr_test_no_such_package.sub")
    assert registry.names() == [] and "ghost" not in registry and "ghost2" not in registry
    with pytest.raises(RegistryError, match="widget 'ghost' could not be loaded: importing nsr_test_no_such_plugin"):
        registry.get("ghost")


def test_a_broken_or_empty_plugin_module_is_a_registry_error_naming_it(plugin_module):
    registry = plugin_module
    registry.declare("broken", "nsr_test_broken_plugin")
    registry.declare("empty", "nsr_test_empty_plugin")
    for _ in range(2):  # asked again, it says why again
        with pytest.raises(RegistryError, match="nsr_test_broken_plugin failed: ImportError: needs torch_geometric"):
            registry.get("broken")
    with pytest.raises(RegistryError, match="importing nsr_test_empty_plugin did not register widget 'empty'"):
        registry.get("empty")


def test_unknown_names_list_registered_and_declared_ones(plugin_module):
    registry = plugin_module
    registry.register("light", lambda: "light")
    registry.declare("heavy", "nsr_test_heavy_plugin")
    with pytest.raises(RegistryError, match=r"unknown widget 'heavy2'; available: \['heavy', 'light'\]"):
        registry.get("heavy2")
    assert "nsr_test_heavy_plugin" not in sys.modules
