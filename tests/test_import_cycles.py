"""Architecture: no import cycle anywhere in ``netqa/`` or ``propagation/``, and no module over 500 lines.

The graph is read from the source (``ast``), so it counts every import the
code can run: module level, inside functions (lazy imports) and under
``TYPE_CHECKING``.  An edge from a module to its own parent package is not
counted (Python imports the parent first anyway); ``from pkg import name``
counts as an edge to ``pkg.name`` when that is a module, else to ``pkg``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("netqa", "propagation")
#: The most lines a module may have (README, "Layout"; modules near 500 lines or fewer, split by job beyond).
MAX_MODULE_LINES = 500


def module_files(root: Path, packages=PACKAGES) -> dict[str, Path]:
    """Dotted module name -> source file, for every ``.py`` under the packages."""
    mods = {}
    for pkg in packages:
        for path in sorted((root / pkg).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            mods[".".join(parts)] = path
    return mods


def _resolve(name: str, mods) -> str | None:
    while name and name not in mods:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules of ``mods`` it imports (anywhere in its source)."""
    edges: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module
                targets = [f"{target}.{a.name}" for a in node.names] + [target]
            else:
                continue
            for t in targets:
                hit = _resolve(t, mods)
                if hit and hit != mod and not mod.startswith(hit + "."):
                    edges[mod].add(hit)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def _describe(comp, edges) -> str:
    return "; ".join(f"{m} -> {', '.join(sorted(e for e in edges[m] if e in comp))}" for m in comp)


def test_no_import_cycle_in_netqa_or_propagation():
    edges = import_graph(module_files(ROOT))
    found = cycles(edges)
    assert not found, "import cycles: " + " | ".join(_describe(c, edges) for c in found)


def test_propagation_never_imports_netqa_even_lazily():
    edges = import_graph(module_files(ROOT))
    bad = sorted(f"{m} -> {t}" for m, ts in edges.items() if m.startswith("propagation") for t in ts
                 if t.startswith("netqa"))  # fmt: skip
    assert not bad


@pytest.mark.parametrize("lazy", [False, True], ids=["module-level", "inside-a-function"])
def test_the_cycle_check_finds_a_cycle(tmp_path, lazy):
    pkg = tmp_path / "netqa"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from netqa.sub import b\n")
    body = "def f():\n    from netqa import a\n" if lazy else "from netqa import a\n"
    (pkg / "sub" / "b.py").write_text(body)
    (pkg / "c.py").write_text("from . import a\n")  # a relative import into the cycle, not part of it
    edges = import_graph(module_files(tmp_path, ("netqa",)))
    assert cycles(edges) == [["netqa.a", "netqa.sub.b"]]



def oversized_modules(root: Path, packages=PACKAGES, limit: int = MAX_MODULE_LINES) -> dict[str, int]:
    """``pkg/path/module.py`` -> line count, for every ``.py`` under the packages with more than ``limit`` lines."""
    sizes = {}
    for path in module_files(root, packages).values():
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > limit:
            sizes[path.relative_to(root).as_posix()] = n
    return sizes


def test_no_module_exceeds_500_lines():
    big = oversized_modules(ROOT)
    assert not big, (f"modules over {MAX_MODULE_LINES} lines (split each by job into sibling modules): "
                     + ", ".join(f"{m} ({n} lines)" for m, n in sorted(big.items())))


def test_the_size_check_finds_an_oversized_module(tmp_path):
    pkg = tmp_path / "netqa"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "at_limit.py").write_text("x = 1\n" * MAX_MODULE_LINES)
    (pkg / "sub" / "__init__.py").write_text("y = 2\n" * (MAX_MODULE_LINES + 1))
    (pkg / "sub" / "big.py").write_text("z = 3\n" * 600 + "w = 4")  # the last line has no newline: still counted
    assert oversized_modules(tmp_path, ("netqa",)) == {"netqa/sub/__init__.py": MAX_MODULE_LINES + 1, "netqa/sub/big.py": 601}
