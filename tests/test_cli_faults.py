"""Issue 13 item 1: no fault of the file system, of a file's content or of a flag value reaches the
user as a traceback.  Every subcommand runs through a matrix of faults — a folder where a file is
expected, a file where a folder is expected, a missing file, a symlink loop, an unreadable file, a
truncated tiled GeoTIFF that fails on a tile read, a file of garbage, NaN/negative/inf numbers —
and must end with exit 2 and one line on stderr that names the file or the flag.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from netqa.cli import main

T = Path(__file__).resolve().parents[1] / "testdata"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    """Good inputs (a small samples file, a coverage raster) and every kind of broken path."""
    import rasterio
    from rasterio.shutil import copy as rio_copy

    d = tmp_path_factory.mktemp("faults")
    samples = d / "samples.parquet"
    assert main(["-q", "ingest", str(T / "drives" / "d3_north_loop.csv"), "--cells", str(T / "cells.csv"),
                 "--out", str(samples)]) == 0  # fmt: skip
    # A tiled (COG) copy of the DEM cut after its header: opening works, reading a tile fails.
    cog = d / "cog.tif"
    rio_copy(T / "dem.tif", cog, driver="COG", BLOCKSIZE=64, COMPRESS="DEFLATE")
    with rasterio.open(cog) as src:  # the header must still open after the cut
        assert src.width > 64
    data = cog.read_bytes()
    truncated = d / "truncated.tif"
    truncated.write_bytes(data[: len(data) // 3])
    garbage = d / "garbage.tif"
    garbage.write_bytes(os.urandom(4096))
    folder = d / "a_folder.csv"
    folder.mkdir()
    plain = d / "plain_file"
    plain.write_text("not a folder\n")
    loop = d / "loop.csv"
    os.symlink(loop, loop)  # a link to itself: ELOOP on open
    unreadable = d / "unreadable.csv"
    shutil.copy(T / "cells.csv", unreadable)
    unreadable.chmod(0)
    return {"samples": samples, "truncated": truncated, "garbage": garbage, "folder": folder, "plain": plain,
            "loop": loop, "unreadable": unreadable, "missing": d / "missing.csv", "under_file": plain / "x.out", "d": d}


def _run(args: list[str], capsys) -> tuple[int, str]:
    code = main(["-q", *args])
    err = capsys.readouterr().err
    return code, err


def _assert_one_line(code: int, err: str, name: str) -> None:
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, err
    assert len(lines) == 1, err
    assert name in lines[0], lines[0]


# (command template, the slot the fault goes into); {x} is the fault path, {s} good samples, {o} an output.
TEMPLATES = {
    "ingest-log": ["ingest", "{x}", "--out", "{o}.parquet"],
    "ingest-cells": ["ingest", str(T / "drives" / "d3_north_loop.csv"), "--cells", "{x}", "--out", "{o}.parquet"],
    "kpi-samples": ["kpi", "{x}", "--out", "{o}.json"],
    "kpi-regions": ["kpi", "{s}", "--regions", "{x}", "--out", "{o}.json"],
    "predict-dem": ["predict", "--cells", str(T / "cells.csv"), "--dem", "{x}", "--out", "{o}.tif", "--radius-km", "2",
                    "--resolution-m", "200"],
    "predict-cells": ["predict", "--cells", "{x}", "--dem", str(T / "dem.tif"), "--out", "{o}.tif"],
    "predict-clutter": ["predict", "--cells", str(T / "cells.csv"), "--dem", str(T / "dem.tif"), "--clutter", "{x}",
                        "--clutter-table", str(T / "clutter_classes.csv"), "--out", "{o}.tif", "--radius-km", "2",
                        "--resolution-m", "200"],
    "compare-samples": ["compare", "--samples", "{x}", "--cells", str(T / "cells.csv"), "--dem", str(T / "dem.tif"),
                        "--out", "{o}"],
    "compare-dem": ["compare", "--samples", "{s}", "--cells", str(T / "cells.csv"), "--dem", "{x}", "--out", "{o}"],
    "calibrate-dem": ["calibrate", "--samples", "{s}", "--cells", str(T / "cells.csv"), "--dem", "{x}",
                      "--out", "{o}.toml"],
    "calibrate-samples": ["calibrate", "--samples", "{x}", "--cells", str(T / "cells.csv"), "--dem",
                          str(T / "dem.tif"), "--out", "{o}.toml"],
    "score-regions": ["score", "--regions", "{x}", "--out", "{o}.gpkg"],
    "score-samples": ["score", "--regions", str(T / "regions.gpkg"), "--samples", "{x}", "--out", "{o}.gpkg"],
    "score-coverage": ["score", "--regions", str(T / "regions.gpkg"), "--coverage", "{x}", "--out", "{o}.gpkg"],
    "map-coverage": ["map", "{x}", "--out", "{o}.png"],
    "report-run": ["report", "{x}", "--out", "{o}.html"],
    "run-project": ["run", "{x}", "--out", "{o}"],
    "watch-dir": ["watch", "{x}", "--max-s", "0.2", "--interval-s", "0.1"],
}
# Which faults apply to which slot: every input takes folder/missing/loop/garbage; rasters take truncated.
RASTER_SLOTS = {"predict-dem", "predict-clutter", "compare-dem", "calibrate-dem", "score-coverage", "map-coverage"}
FILE_FAULTS = ("folder", "missing", "loop", "garbage")
CASES = [(slot, fault) for slot in TEMPLATES if slot not in ("report-run", "watch-dir") for fault in FILE_FAULTS]
CASES += [(slot, "truncated") for slot in sorted(RASTER_SLOTS)]
CASES += [("report-run", "plain"), ("report-run", "missing"), ("watch-dir", "plain"), ("watch-dir", "missing")]


def _fill(template: list[str], world: dict[str, Path], fault: str, out: Path) -> list[str]:
    return [a.format(x=world[fault], s=world["samples"], o=out) for a in template]


@pytest.mark.parametrize(("slot", "fault"), CASES, ids=[f"{s}-{f}" for s, f in CASES])
def test_input_fault_is_one_line_exit_2(slot, fault, world, capsys, tmp_path):
    code, err = _run(_fill(TEMPLATES[slot], world, fault, tmp_path / "out"), capsys)
    _assert_one_line(code, err, world[fault].name)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file; see the simulated test below")
@pytest.mark.parametrize("slot", ["ingest-cells", "predict-cells", "kpi-samples"])
def test_unreadable_file_is_one_line_exit_2(slot, world, capsys, tmp_path):
    code, err = _run(_fill(TEMPLATES[slot], world, "unreadable", tmp_path / "out"), capsys)
    _assert_one_line(code, err, "unreadable.csv")


@pytest.mark.parametrize("errno_name", ["EACCES", "ENOSPC", "EIO", "EROFS"])
def test_os_errors_raised_inside_a_stage_are_one_line(errno_name, monkeypatch, capsys, tmp_path):
    """Permission denied (simulated: tests run as root), a full disk, an I/O error while a stage works."""
    import errno

    import netqa.kpi

    def boom(*args, **kwargs):
        err = getattr(errno, errno_name)
        raise OSError(err, os.strerror(err), str(tmp_path / "kpi.json"))

    monkeypatch.setattr(netqa.kpi, "run_kpi", boom)
    code, err = _run(["kpi", str(tmp_path / "s.parquet"), "--out", str(tmp_path / "kpi.json")], capsys)
    _assert_one_line(code, err, "kpi.json")


@pytest.mark.parametrize("slot", ["kpi-samples", "predict-dem"])
def test_output_under_a_file_is_one_line_exit_2(slot, world, capsys):
    """--out inside a path whose parent is a file (ENOTDIR)."""
    args = _fill(TEMPLATES[slot], {**world, "x": world["samples"]}, "samples", world["under_file"])
    if slot == "predict-dem":
        args = _fill(TEMPLATES[slot], world, "samples", world["under_file"])
        args[args.index("--dem") + 1] = str(T / "dem.tif")
    code, err = _run(args, capsys)
    _assert_one_line(code, err, "plain_file")


BAD_NUMBERS = [
    (["kpi", "s.parquet", "--out", "k.json", "--bin-m"], "--bin-m", "nan"),
    (["kpi", "s.parquet", "--out", "k.json", "--bin-m"], "--bin-m", "-100"),
    (["kpi", "s.parquet", "--out", "k.json", "--bin-min-samples"], "--bin-min-samples", "2.5"),
    (["ingest", "a.csv", "--out", "s.parquet", "--session-gap-s"], "--session-gap-s", "-5"),
    (["ingest", "a.csv", "--out", "s.parquet", "--session-gap-s"], "--session-gap-s", "inf"),
    (["predict", "--cells", "c", "--dem", "d", "--out", "o.tif", "--resolution-m"], "--resolution-m", "NaN"),
    (["predict", "--cells", "c", "--dem", "d", "--out", "o.tif", "--radius-km"], "--radius-km", "-1"),
    (["predict", "--cells", "c", "--dem", "d", "--out", "o.tif", "--cell-load"], "--cell-load", "1.5"),
    (["predict", "--cells", "c", "--dem", "d", "--out", "o.tif", "--tile-px"], "--tile-px", "0"),
    (["predict", "--cells", "c", "--dem", "d", "--out", "o.tif", "--workers"], "--workers", "-2"),
    (["predict", "--cells", "c", "--dem", "d", "--out", "o.tif", "--location-pct"], "--location-pct", "100"),
    (["predict", "--cells", "c", "--dem", "d", "--out", "o.tif", "--rx-height-m"], "--rx-height-m", "nan"),
    (["compare", "--samples", "s", "--cells", "c", "--dem", "d", "--out", "o", "--min-dist-km"], "--min-dist-km", "-0.1"),
    (["compare", "--samples", "s", "--cells", "c", "--dem", "d", "--out", "o", "--rsrp-floor-dbm"], "--rsrp-floor-dbm", "nan"),
    (["calibrate", "--samples", "s", "--cells", "c", "--dem", "d", "--out", "o", "--max-dist-km"], "--max-dist-km", "-inf"),
    (["score", "--regions", "r", "--out", "o.gpkg", "--complaint-radius-m"], "--complaint-radius-m", "nan"),
    (["score", "--regions", "r", "--out", "o.gpkg", "--workers"], "--workers", "1.5"),
    (["watch", "d", "--interval-s"], "--interval-s", "0"),
    (["watch", "d", "--max-s"], "--max-s", "nan"),
]


@pytest.mark.parametrize(("args", "flag", "value"), BAD_NUMBERS, ids=[f"{a[0]}{f}={v}" for a, f, v in BAD_NUMBERS])
def test_impossible_number_is_one_line_naming_the_flag(args, flag, value, capsys):
    code = main([*args[:-1], f"{args[-1]}={value}"])  # '--flag=-1': argparse reads a bare '-1' as an option
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert flag in err and value in err


def test_a_bug_is_one_line_not_a_traceback(monkeypatch, capsys, tmp_path):
    import netqa.kpi

    def bug(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(netqa.kpi, "run_kpi", bug)
    code, err = _run(["kpi", str(tmp_path / "s.parquet"), "--out", str(tmp_path / "kpi.json")], capsys)
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "ZeroDivisionError" in err and "please report" in err


@pytest.mark.parametrize("command", ["kpi", "ingest"])
def test_output_that_is_a_folder_is_one_line_naming_it(command, world, capsys, tmp_path):
    """--out naming an existing folder (with --overwrite): the folder is named, not the temporary file."""
    out = tmp_path / "a_folder_out"
    out.mkdir()
    args = {"kpi": ["kpi", str(world["samples"])],
            "ingest": ["ingest", str(T / "drives" / "d3_north_loop.csv")]}[command]  # fmt: skip
    code, err = _run([*args, "--out", str(out), "--overwrite"], capsys)
    _assert_one_line(code, err, "a_folder_out")
    assert ".part" not in err and "is a folder" in err


@pytest.mark.parametrize("command", [["ingest", "a.csv", "--out", "s.parquet"], ["watch", "d"]], ids=["ingest", "watch"])
def test_unknown_time_zone_flag_is_one_line(command, capsys):
    assert main([*command, "--tz", "Mars/Olympus_Mons"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--tz" in err[0] and "Mars/Olympus_Mons" in err[0]
