"""``netqa demo``: the whole chain on the embedded synthetic test world."""

from __future__ import annotations

import logging
import tomllib
from importlib import resources
from pathlib import Path

from netqa.config import ProjectConfig, project_from_dict
from netqa.pipeline import prepare_run_dir, run_project

log = logging.getLogger(__name__)

#: The repository's committed test world (present in a source checkout).
REPO_TESTDATA = Path(__file__).resolve().parents[1] / "testdata"


def demo_config(testdata: Path) -> ProjectConfig:
    """The demo project (``netqa/data/demo_project.toml``) resolved against ``testdata``."""
    text = resources.files("netqa").joinpath("data/demo_project.toml").read_text(encoding="utf-8")
    return project_from_dict(tomllib.loads(text), base_dir=testdata, source=None)


def find_testdata(out_dir: Path) -> Path:
    """The test world: the repository's ``testdata/`` or, outside a checkout, one generated into ``out_dir``."""
    if (REPO_TESTDATA / "cells.csv").is_file():
        return REPO_TESTDATA
    from netqa import testworld

    target = out_dir / "testworld"
    log.info("no committed test world found; generating one into %s", target)
    testworld.generate(target, seed=7)
    return target


def run_demo(out_dir: str | Path, *, overwrite: bool = False) -> Path:
    """Run the antenna audit of the synthetic district, then the demo chain into ``out_dir``; returns the manifest path."""
    out = prepare_run_dir(Path(out_dir), overwrite)
    testdata = find_testdata(out)
    run_district_audit(testdata / "district", out / "audit")  # first, so that the report stage shows it
    return run_project(demo_config(testdata), out, overwrite=True)


def run_district_audit(district: Path, out: Path):
    """``netqa audit`` on the synthetic district (``testdata/district``) into ``out/district_audit.csv`` (+ ``.json``,
    and ``.html``, the report section as a page).

    Returns the audit table, or None when the district is absent (a generated test world has none).
    """
    from netqa.calibrate.audit import audit

    if not (district / "cells.csv").is_file():
        log.info("no synthetic district at %s; antenna audit skipped", district)
        return None
    out.mkdir(parents=True, exist_ok=True)
    from netqa.calibrate.audit_report import write_audit_page

    table, info = audit(district / "drives" / "district.csv", district / "cells.csv", district / "dem.tif",
                        out / "district_audit.csv", overwrite=True)  # fmt: skip
    write_audit_page(out / "district_audit.html", table, info)
    return table
