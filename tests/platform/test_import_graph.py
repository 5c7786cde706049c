"""No import cycle in core/: the graph of its modules' imports, read with `ast` (late imports inside functions
included, `if TYPE_CHECKING:` blocks left out), has none."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "core"


def _module_name(path: Path) -> str:
    parts = path.relative_to(CORE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(node: ast.AST) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """Every module an import statement may load: the module, each name as a submodule, and their packages."""
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:  # relative: from the module's own package upward
            package = module.split(".") if is_package else module.split(".")[:-1]
            base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
        names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
    found = []
    for name in names:
        parts = name.split(".")
        found.extend(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return found


def _walk(nodes: list[ast.stmt]) -> list[ast.AST]:
    """The statements below `nodes`, skipping what only a type checker reads."""
    out: list[ast.AST] = []
    todo: list[ast.AST] = list(nodes)
    while todo:
        node = todo.pop()
        if _type_checking_only(node):
            continue
        out.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return out


def imports_of(source: str, module: str, is_package: bool = False) -> set[str]:
    """The modules `module` (whose code is `source`) may import, wherever the import statement is."""
    return {target for node in _walk(ast.parse(source).body) for target in _imported(node, module, is_package)}


def import_graph() -> dict[str, set[str]]:
    paths = {_module_name(path): path for path in sorted(CORE.rglob("*.py"))}
    return {module: {target for target in imports_of(path.read_text(), module, path.name == "__init__.py")
                     if target in paths and target != module} for module, path in paths.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected group of modules (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


SAMPLE = """
from typing import TYPE_CHECKING
import core.db
from core.tenancy import scope
from . import pages
if TYPE_CHECKING:
    from core.audit.services import ChainReport
def late():
    from core.topics.models import Topic
"""


def test_the_graph_sees_imports_anywhere_but_in_type_checking_blocks() -> None:
    found = imports_of(SAMPLE, "core.portal.admin")
    assert {"core", "core.db", "core.tenancy", "core.tenancy.scope", "core.portal.pages", "core.topics.models"} <= found
    assert "core.audit.services" not in found
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}) == [["a", "b", "c"]]


def test_core_has_no_import_cycle() -> None:
    assert cycles(import_graph()) == []
