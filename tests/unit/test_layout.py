"""The suite's own layout: every test module in a layer folder, none importing another.

Shared test code lives in support modules (``tests/helpers.py``, ``tests/support/``), so a test
module can move between folders, or be run alone, without dragging other test modules along.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import ROOT

TESTS = ROOT / "tests"
LAYERS = {"unit", "transport", "venues", "e2e", "conformance", "chaos", "fuzz", "peers"}


def imported_modules(path: Path) -> list[str]:
    """Every module name ``path`` imports (``from a.b import c`` gives ``a.b`` and ``a.b.c``)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def is_test_module_or_conftest(name: str) -> bool:
    parts = name.split(".")
    return parts[0] == "tests" and any(p.startswith("test_") or p == "conftest" for p in parts[1:])


def test_every_test_module_is_in_a_layer_folder() -> None:
    modules = sorted(TESTS.rglob("test_*.py"))
    assert len(modules) > 50  # the glob found the suite
    misplaced = [str(p.relative_to(TESTS)) for p in modules if p.relative_to(TESTS).parts[0] not in LAYERS]
    assert misplaced == [], f"put these under one of {sorted(LAYERS)}"


def test_no_test_module_imports_another_test_module_or_a_conftest() -> None:
    offending = [
        f"{path.relative_to(TESTS)} imports {name}"
        for path in sorted(TESTS.rglob("*.py"))
        for name in imported_modules(path)
        if is_test_module_or_conftest(name)
    ]
    assert offending == [], "move the shared code to tests/helpers.py or tests/support/"


def test_the_import_check_sees_both_import_forms(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    source = "import tests.unit.test_a\nfrom tests.venues import test_b\nfrom tests.helpers import wait_until\n"
    module.write_text(source, encoding="utf-8")
    flagged = [name for name in imported_modules(module) if is_test_module_or_conftest(name)]
    assert flagged == ["tests.unit.test_a", "tests.venues.test_b"]
