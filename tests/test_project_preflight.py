"""Issue 13 item 1: a whole project file is validated before the first stage runs.

Every bad key — in any section, of any kind (type, whole-number count, time zone, path of the wrong
kind, a file that does not open as what it claims, a clash between keys) — ends ``netqa run`` with
exit 2 and one line naming the project file and the ``[section] key``, and leaves no run folder
behind (no half run: ingest never ran).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from netqa.cli import main
from netqa.config import load_project
from netqa.errors import ConfigError
from netqa.preflight import check_project

T = Path(__file__).resolve().parents[1] / "testdata"
GOOD = """
[inputs]
cells = "cells.csv"
dem = "dem.tif"
logs = ["drives/d3_north_loop.csv"]
regions = "regions.gpkg"
"""


@pytest.fixture
def world(tmp_path: Path) -> Path:
    for name in ("cells.csv", "dem.tif", "regions.gpkg", "clutter.tif", "clutter_classes.csv"):
        shutil.copy(T / name, tmp_path / name)
    (tmp_path / "drives").mkdir()
    shutil.copy(T / "drives" / "d3_north_loop.csv", tmp_path / "drives")
    (tmp_path / "garbage.gpkg").write_bytes(os.urandom(2048))
    (tmp_path / "bad_scheme.toml").write_text("[schem]\nname = 'x'\n")
    (tmp_path / "tuned.toml").write_text("# a tuned model\n")
    k = "\n".join(f"{n} = {v!r}" for n, v in (("k1", 23.5), ("k2", 44.9), ("k3", -13.82), ("k4", 0.5), ("k5", -6.55),
                                               ("k6", 0.0), ("k7", 0.0), ("f_ref_mhz", 900.0)))  # fmt: skip
    (tmp_path / "tuned_clutter.toml").write_text(f"[spm]\n{k}\n[clutter_loss_db]\nurban = 12.0\n")
    os.symlink(tmp_path / "loop.csv", tmp_path / "loop.csv")
    return tmp_path


CASES = [
    ("[score]\nworkers = 2.5\n", r"[score] workers = 2.5 must be a whole number"),
    ("[score]\nworkers = 0\n", r"[score] workers = 0 is outside 1..1024"),
    ("[score]\ncampaign_window = 'fortnightly'\n", "[score] campaign_window"),
    ("[score]\nscheme = 'bad_scheme.toml'\n", "bad_scheme.toml"),
    ("[score]\nscheme = 'drives'\n", "[score] scheme"),
    ("[score]\nscheduler = 'not an address'\n", "[score] scheduler"),
    ("[score]\ncomplaint_radius_m = nan\n", "[score] complaint_radius_m"),
    ("[ingest]\ntz = 'Mars/Olympus_Mons'\n", "[ingest] tz = 'Mars/Olympus_Mons' is not a known time zone"),
    ("[kpi]\nprofile = 'nope.toml'\n", "[kpi] profile"),
    ("[predict]\ntile_px = 512.5\n", "[predict] tile_px = 512.5 must be a whole number"),
    ("[predict]\nresolution_m = inf\n", "[predict] resolution_m"),
    ("[predict]\nmodel_file = 'tuned.toml'\n", "[predict] model_file is set but [predict] model = 'auto'"),
    ("[predict]\nmodel = 'spm'\nmodel_file = 'tuned_clutter.toml'\n", "[predict] model_file tuned_clutter.toml was fitted with clutter"),
    ("[predict]\nuse_calibrated = true\n[calibrate]\nenabled = false\n", "[predict] use_calibrated"),
    ("[map]\nbands = ['rsrq_db']\n", "[map] bands"),
    ("[project]\nout = 'cells.csv'\n", "[project] out"),
]
# Replacements of a key of GOOD ([inputs] paths of the wrong kind or content).
INPUT_CASES = [
    ('cells = "cells.csv"', 'cells = "drives"', "[inputs] cells", "is a folder"),
    ('cells = "cells.csv"', 'cells = "loop.csv"', "[inputs] cells", "symbolic link loop"),
    ('cells = "cells.csv"', 'cells = "regions.gpkg"', "[inputs] cells", "regions.gpkg"),
    ('dem = "dem.tif"', 'dem = "cells.csv"', "[inputs] dem", "not a readable raster"),
    ('dem = "dem.tif"', 'dem = "drives"', "[inputs] dem", "is a folder"),
    ('regions = "regions.gpkg"', 'regions = "garbage.gpkg"', "[inputs] regions", "garbage.gpkg"),
    ('logs = ["drives/d3_north_loop.csv"]', 'logs = ["loop.csv"]', "[inputs] logs", "symbolic link loop"),
    ('regions = "regions.gpkg"', 'regions = "regions.gpkg"\nclutter = "clutter.tif"', "[inputs] clutter",
     "clutter_table"),
]


def _run(world: Path, text: str, capsys) -> tuple[int, list[str]]:
    project = world / "project.toml"
    project.write_text(text)
    code = main(["-q", "run", str(project), "--out", str(world / "run")])
    return code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize(("extra", "needle"), CASES, ids=[c[1].split("]")[0].strip("[") + "-" + c[0].split("\n")[-2].split("=")[0].strip() for c in CASES])
def test_bad_key_stops_before_the_first_stage(world, extra, needle, capsys):
    code, err = _run(world, GOOD + extra, capsys)
    assert code == 2
    assert len(err) == 1 and "Traceback" not in err[0], err
    assert needle in err[0] and "project.toml" in err[0], err[0]
    assert not (world / "run").exists(), "a stage ran before the project was refused"


@pytest.mark.parametrize(("old", "new", "key", "needle"), INPUT_CASES, ids=[f"{c[2]}-{c[1].split('=')[-1].strip()}" for c in INPUT_CASES])
def test_input_of_the_wrong_kind_stops_before_the_first_stage(world, old, new, key, needle, capsys):
    code, err = _run(world, GOOD.replace(old, new), capsys)
    assert code == 2
    assert len(err) == 1 and "Traceback" not in err[0], err
    assert key in err[0] and needle in err[0], err[0]
    assert not (world / "run").exists()


def test_the_demo_project_passes_the_checks():
    project = Path(__file__).resolve().parents[1] / "netqa" / "data" / "demo_project.toml"
    src = project.read_text()
    # the demo project's paths are relative to testdata (netqa demo copies the file there)
    cfg = load_project(_copy_beside_testdata(project, src))
    check_project(cfg)


def _copy_beside_testdata(project: Path, text: str) -> Path:
    import tempfile

    d = Path(tempfile.mkdtemp())
    for p in T.iterdir():
        (d / p.name).symlink_to(p)
    (d / "project.toml").write_text(text)
    return d / "project.toml"


def test_check_project_names_the_section_and_key_in_python(world):
    (world / "project.toml").write_text(GOOD + "[score]\ncampaign_window = 'fortnightly'\n")
    with pytest.raises(ConfigError, match=r"project.toml: \[score\] campaign_window"):
        check_project(load_project(world / "project.toml"))
