"""The project's import graph, read from the code (every import, function-level ones included).

``python -m tests.helpers.import_graph`` prints the package-level edges (docs/architecture.md draws
them); tests/test_architecture.py holds the rules against it.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("aivj", "coupling", "datamodules", "callbacks", "experiments", "scripts", "benchmarks")
TOP_FILES = ("train.py", "eval.py")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_files() -> dict[str, Path]:
    files = {_module_name(ROOT / f): ROOT / f for f in TOP_FILES}
    for pkg in PACKAGES:
        files.update({_module_name(p): p for p in (ROOT / pkg).rglob("*.py")})
    return files


def _imported(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.add(name)
            out.update(f"{name}.{a.name}" for a in node.names)
    return out


def _drop_packages_of_submodules(names: set[str], files: dict[str, Path]) -> set[str]:
    """``from aivj.report import plots`` imports the module aivj.report.plots, not the package's own code."""
    return {n for n in names if files[n].name != "__init__.py" or not any(m.startswith(n + ".") for m in names)}


def module_graph() -> dict[str, set[str]]:
    """{module: project modules it imports}; a name imported from a module counts as that module."""
    files = project_files()
    graph = {}
    for module, path in files.items():
        names = _imported(ast.parse(path.read_text(encoding="utf-8")), module, path.name == "__init__.py")
        graph[module] = _drop_packages_of_submodules({n for n in names if n in files and n != module}, files)
    return graph


def external_imports(prefix: str) -> dict[str, set[str]]:
    """{module under ``prefix``: top-level names of what it imports outside the project}."""
    files, out = project_files(), {}
    for module, path in files.items():
        if module == prefix or module.startswith(prefix + "."):
            names = _imported(ast.parse(path.read_text(encoding="utf-8")), module, path.name == "__init__.py")
            out[module] = {n.split(".")[0] for n in names if n and n.split(".")[0] not in PACKAGES + ("train", "eval")}
    return out


def package_of(module: str) -> str:
    """The part a module belongs to: ``aivj.<package>`` for aivj's packages, the module itself for
    aivj's top-level files (aivj.cli, aivj.training, ...), else the top-level folder (coupling, ...)."""
    parts = module.split(".")
    if parts[0] != "aivj":
        return parts[0]
    return ".".join(parts[:2]) if len(parts) > 1 else module


def package_edges() -> dict[str, set[str]]:
    edges = defaultdict(set)
    for module, imports in module_graph().items():
        for other in imports:
            a, b = package_of(module), package_of(other)
            if a != b:
                edges[a].add(b)
    return edges


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index, low, on_stack, stack, out, counter = {}, {}, set(), [], [], [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        out.append(sorted(component))
    return out


def main() -> int:
    edges = package_edges()
    for pkg in sorted(set(edges) | {b for bs in edges.values() for b in bs}):
        print(f"{pkg} -> {', '.join(sorted(edges.get(pkg, ()))) or '(nothing)'}")
    for component in cycles(module_graph()):
        print("file cycle:", " <-> ".join(component))
    for component in cycles({k: set(v) for k, v in edges.items()}):
        print("package cycle:", " <-> ".join(component))
    return 0


if __name__ == "__main__":
    sys.exit(main())
