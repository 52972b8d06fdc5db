"""Issue 13 item 9: the README's worked example runs verbatim and reproduces the figures the README quotes.

The ``sh`` block under "## A worked example" is run as it stands with bash (``set -eu``), in a
fresh folder that holds only a link to ``testdata``, with ``netqa`` on ``PATH`` as the activated
environment has it (here a shim running this tree's ``python -m netqa``).  The figures are read
from the README's "Figures the example reproduces" list and compared with the run's outputs
within the tolerances stated there.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(f"## {title}")
    end = README.find("\n## ", start + 3)
    return README[start:end if end > 0 else None]


def worked_example_script() -> str:
    """The first ``sh`` code block of the worked-example section, verbatim."""
    m = re.search(r"```sh\n(.*?)```", _section("A worked example"), re.DOTALL)
    assert m, "README: no sh block in 'A worked example'"
    return m.group(1)


def quoted_figures() -> list[tuple[str, float, float]]:
    """(name, value, tolerance) from the README lines '- `name`: VALUE (± TOL)'."""
    block = _section("A worked example").split("Figures the example reproduces", 1)[1]
    out = []
    for name, value, tol in re.findall(r"^- `([^`]+)`: (-?[\d.]+)(?: [^\s(]+)? \(± ([\d.]+)", block, re.MULTILINE):
        out.append((name, float(value), float(tol)))
    return out


def test_readme_says_how_to_put_netqa_on_the_path():
    quick = _section("Quick start")
    assert ". .venv/bin/activate" in quick or "source .venv/bin/activate" in quick
    assert "activate" in _section("A worked example")


def test_readme_quotes_figures_with_tolerances():
    names = [n for n, _, _ in quoted_figures()]
    assert {"ingest accepted", "compare rmse_db", "kpi coverage_rate"} <= set(names), names


@pytest.mark.slow
def test_worked_example_runs_verbatim_and_reproduces_the_figures(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shim = bindir / "netqa"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m netqa "$@"\n')
    shim.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    (work / "testdata").symlink_to(REPO / "testdata")
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}", "PYTHONPATH": str(REPO)}
    script = "set -eu\n" + worked_example_script()
    proc = subprocess.run(["bash", "-c", script], check=False, cwd=work, env=env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    run = work / "run"
    stats = json.loads((run / "compare" / "stats.json").read_text())
    kpi = json.loads((run / "kpi.json").read_text())
    m = re.search(r"read (\d+), accepted (\d+), rejected (\d+)", proc.stdout + proc.stderr)
    measured = {"ingest accepted": float(m.group(2)), "compare rmse_db": float(stats["rmse_db"]),
                "kpi coverage_rate": float(kpi["coverage_rate"])}
    for name, value, tol in quoted_figures():
        assert name in measured, f"README quotes {name!r}, which this test does not measure"
        assert abs(measured[name] - value) <= tol, f"{name}: README {value} ± {tol}, run gave {measured[name]}"
    for p in ("samples.parquet", "kpi.json", "tuned.toml", "coverage.tif", "scores.gpkg", "rsrp.png", "rsrp.kmz",
              "coverage.html"):
        assert (run / p).is_file(), p
