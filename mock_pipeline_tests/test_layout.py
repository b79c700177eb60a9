"""The code's shape that reviews rely on: modules stay readable, and the engine stays a pure library."""

from __future__ import annotations

import ast
from pathlib import Path

import mock_pipeline

PACKAGE = Path(mock_pipeline.__file__).parent
MAX_MODULE_LINES = 600


def test_no_module_is_over_600_lines() -> None:
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    assert len(sizes) > 50
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES} == {}


def test_the_engine_imports_no_dagster() -> None:
    imported: dict[str, set[str]] = {}
    for path in (PACKAGE / "engine").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                names = {node.module or ""}
            else:
                continue
            imported.setdefault(path.name, set()).update(n.split(".")[0] for n in names)
    assert "random.py" in imported and "numpy" in imported["random.py"]
    assert {name for name, modules in imported.items() if "dagster" in modules} == set()
