"""The alerts and their tests use public Dagster APIs only."""

from __future__ import annotations

import ast
from pathlib import Path

from reveries_pipeline.operations import alerts


def _private_dagster_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [f"{path.name}:{node.lineno} {name}" for name in names if name.startswith("dagster._")]
    return found


def test_alerts_and_their_tests_import_only_public_dagster():
    package = Path(alerts.__file__).parent
    sources = [*sorted(package.glob("*.py")), *sorted(Path(__file__).parent.glob("*.py"))]
    assert len(sources) > 2
    assert [hit for path in sources for hit in _private_dagster_imports(path)] == []
