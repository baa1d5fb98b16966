"""The package's imports run one way: totesys -> ingestion -> processing -> reference -> warehouse -> dashboard,
with shared plumbing below all of them and the assembly (definitions, cli, operations) on top.

Run as a script to print the folder-level import graph (mermaid):

    .venv/bin/python -m reveries_pipeline_tests.test_layering
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "reveries_pipeline"

STAGES = ("totesys", "ingestion", "processing", "reference", "warehouse", "dashboard")
SHARED = (
    "config",
    "endpoints",
    "catalog",
    "asset_keys",
    "concurrency",
    "jobs",
    "embedded",
    "lake",
    "resources",
    "io_managers",
    "code_links",
)
ASSEMBLY = ("operations", "environment", "dagster_instance", "definitions", "cli")


def _room(module: str) -> str:
    """The folder (or top-level module) a dotted module name belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def import_graph() -> dict[str, set[str]]:
    """{room: rooms it imports}, from every `import reveries_pipeline...` in the package."""
    graph: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        room = _room(".".join(rel.parts))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name.startswith("reveries_pipeline.") and _room(name) != room:
                    graph[room].add(_room(name))
    return graph


def _edge_is_allowed(src: str, dst: str) -> bool:
    if src in ASSEMBLY:
        return dst != "definitions" or src == "cli"
    if src in SHARED:
        return dst in SHARED
    if src in STAGES:
        return dst in SHARED or (dst in STAGES and STAGES.index(dst) < STAGES.index(src))
    return False


def test_every_room_is_known():
    rooms = {_room(".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts)) for p in PACKAGE.rglob("*.py")}
    assert rooms - {"__init__"} <= set(STAGES + SHARED + ASSEMBLY)


def test_imports_run_one_way():
    backwards = sorted(
        (src, dst) for src, dsts in import_graph().items() for dst in dsts if not _edge_is_allowed(src, dst)
    )
    assert not backwards, f"imports against the flow: {backwards}"


def test_no_two_folders_import_each_other():
    graph = import_graph()
    cycles = sorted({tuple(sorted((a, b))) for a, bs in graph.items() for b in bs if a in graph.get(b, set())})
    assert not cycles, f"folders that import each other: {cycles}"


def mermaid() -> str:
    lines = ["flowchart BT"]
    for src, dsts in sorted(import_graph().items()):
        lines += [f"    {src} --> {dst}" for dst in sorted(dsts)]
    return "\n".join(lines)


if __name__ == "__main__":
    print(mermaid())
