"""The platform's apps stack in one declared order and import only downward (docs/architecture.md).

Every platform/**/*.py is parsed with ``ast``; every import (at module level and inside functions)
of another app is an edge. An edge from a lower app to a higher one fails, and so does a cycle
between apps. An upward notification goes through common.hooks instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

PLATFORM = Path(__file__).resolve().parents[1] / "platform"

# Lowest first. reports and datasets share a level: both may import jobs and below, neither the other.
# singscope (settings, root URLs, the Celery app) sits on top of everything.
ORDER = [["common"], ["accounts"], ["songs"], ["annotations"], ["jobs"], ["reports", "datasets"], ["api"],
         ["singscope"]]
LEVEL = {app: level for level, apps in enumerate(ORDER) for app in apps}

def imports_between_apps(root: Path = PLATFORM) -> list[tuple[str, str, str, int]]:
    """(importing file relative to platform/, importing app, imported module, line) for every import of
    another app, at module level or inside a function."""
    edges = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        app = rel.parts[0]
        if app not in LEVEL:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                target = module.split(".")[0]
                if target in LEVEL and target != app:
                    edges.append((rel.as_posix(), app, module, node.lineno))
    return edges


def upward(edges) -> list[str]:
    return [f"{file}:{line} ({app}) imports {module}" for file, app, module, line in edges
            if LEVEL[module.split(".")[0]] >= LEVEL[app]]


def cycles(edges) -> list[list[str]]:
    """Strongly connected groups of more than one app in the app import graph (Tarjan)."""
    graph: dict[str, set[str]] = {app: set() for app in LEVEL}
    for _file, app, module, _line in edges:
        graph[app].add(module.split(".")[0])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for app in graph:
        if app not in index:
            visit(app)
    return found


def test_every_platform_app_has_a_place_in_the_order():
    apps = {p.name for p in PLATFORM.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}
    assert apps == set(LEVEL), "add the new app to ORDER (and to docs/architecture.md)"


def test_no_app_imports_a_higher_app_or_one_of_its_level():
    assert upward(imports_between_apps()) == []


def test_no_import_cycle_between_apps():
    assert cycles(imports_between_apps()) == []


def test_the_checks_catch_an_upward_import_inside_a_function(tmp_path):
    (tmp_path / "songs").mkdir()
    (tmp_path / "jobs").mkdir()
    (tmp_path / "songs" / "services.py").write_text("def f():\n    from reports.services import report_create\n")
    (tmp_path / "jobs" / "services.py").write_text("from songs.services import f\n")
    edges = imports_between_apps(tmp_path)
    assert upward(edges) == ["songs/services.py:2 (songs) imports reports.services"]
    assert cycles(edges + [("reports/x.py", "reports", "jobs.models", 1), ("jobs/y.py", "jobs", "reports.x", 1)]) \
        == [["jobs", "reports", "songs"]]
