"""Start-up (issue 14): the CLI and ``--help`` import no heavy module; the engine's come with the command that runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Modules that cost 0.1-1 s each to import and that ``netqa --help`` must not load.
HEAVY = ("numba", "llvmlite", "scipy", "pandas", "geopandas", "matplotlib", "dask", "distributed", "rasterio",
         "pyproj", "shapely", "pyarrow", "pyogrio", "propagation")  # fmt: skip


def _loaded_after(code: str) -> list[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    return sorted(loaded & set(HEAVY))


@pytest.mark.parametrize("code", [
    "import netqa.cli",
    "import netqa.cli, netqa.commands.predict",
    "from netqa.cli import build_parser; build_parser()",  # what 'netqa predict --help' runs
    "import netqa.errors",
])  # fmt: skip
def test_cli_and_help_import_no_heavy_module(code):
    assert _loaded_after(code) == []


def test_validity_warning_is_still_reexported_by_netqa_errors():
    from netqa import errors
    from propagation import ValidityRangeWarning

    assert errors.ValidityRangeWarning is ValidityRangeWarning
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        errors.Nope  # noqa: B018
