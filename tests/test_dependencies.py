"""Every declared runtime dependency is imported by netqa or propagation (no stale entries)."""

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: distribution name -> module name, where they differ
MODULE = {"dask": "dask", "pyyaml": "yaml"}


def test_declared_dependencies_are_used():
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    src = "\n".join(p.read_text(encoding="utf-8") for d in ("netqa", "propagation") for p in (REPO / d).rglob("*.py"))
    unused = []
    for dep in deps:
        name = re.match(r"[A-Za-z0-9_.-]+", dep).group(0).lower()
        mod = MODULE.get(name, name.replace("-", "_"))
        # an import, or a pandas/geopandas engine name (openpyxl is used as engine="openpyxl")
        if not re.search(rf"^\s*(import|from)\s+{mod}\b|engine=\"{mod}\"", src, flags=re.MULTILINE):
            unused.append(name)
    assert not unused, f"declared in pyproject.toml but never imported: {unused}"
