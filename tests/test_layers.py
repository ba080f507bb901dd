"""Imports flow one way: edges (cli, commands, app, bot, web, board's routes) on top, the core below; no circles."""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "taskbot"
EDGES = {"taskbot.cli", "taskbot.commands", "taskbot.app", "taskbot.__main__", "taskbot.web", "taskbot.board.routes",
         "taskbot.board.commands"}
CORE = {"taskbot.model", "taskbot.registry", "taskbot.units", "taskbot.yamlsrc", "taskbot.diagnostics",
        "taskbot.planning", "taskbot.recurrence", "taskbot.workdays", "taskbot.digest", "taskbot.standing",
        "taskbot.feeds", "taskbot.store", "taskbot.store_models", "taskbot.service", "taskbot.delivery",
        "taskbot.invites", "taskbot.clock"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PKG.rglob("*.py"):
        parts = path.relative_to(PKG.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _graph() -> dict[str, set[str]]:
    """Every import of a taskbot module by another, at module level or inside a function."""
    mods = _modules()
    graph = {m: set() for m in mods}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    stem = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(stem) + ("." + node.module if node.module else "")
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for t in targets:
                if t in mods and t != name and not name.startswith(t + "."):  # a package's own submodules
                    graph[name].add(t)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_import_circles():
    assert _cycles(_graph()) == []


def test_the_core_imports_no_edge():
    graph = _graph()
    assert {m: sorted(graph[m] & (EDGES | {m for m in graph if m.startswith("taskbot.bot")})) for m in CORE
            if graph[m] & (EDGES | {m for m in graph if m.startswith("taskbot.bot")})} == {}


def test_the_checker_sees_a_circle():
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
