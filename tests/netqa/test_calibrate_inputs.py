"""compare and calibrate inputs: one default filter set, site/cell selection, grid resolution, site ground altitude."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine

from netqa.calibrate import read_model_file
from netqa.calibrate.run import CalibrateOptions, calibration_data
from netqa.compare.points import native_pixel_m
from netqa.compare.run import CompareConfig
from netqa.compare.select import DEFAULT_FILTERS, Selection, parse_id_list
from netqa.errors import InputError

TESTDATA = Path(__file__).resolve().parents[2] / "testdata"
SESSIONS = ("d1_highway_valdera", "d2_valdera_sotillo", "d3_north_loop")


@pytest.fixture(scope="module")
def samples():
    return pd.concat([pd.read_csv(TESTDATA / "drives" / f"{s}.csv") for s in SESSIONS], ignore_index=True)


def _data(samples, cells=TESTDATA / "cells.csv", **opts):
    return calibration_data(samples, cells, TESTDATA / "dem.tif", options=CalibrateOptions(**opts))


# ---------------------------------------------------------------------------------- filters
def test_compare_and_calibrate_share_the_distance_and_signal_filters():
    c, k = CompareConfig().filters, CalibrateOptions().filters
    for name in ("min_dist_km", "max_dist_km", "rsrp_floor_dbm"):
        assert getattr(c, name) == getattr(k, name) == getattr(DEFAULT_FILTERS, name)
    assert (DEFAULT_FILTERS.min_dist_km, DEFAULT_FILTERS.max_dist_km, DEFAULT_FILTERS.rsrp_floor_dbm) == (0.1, 20.0, -130.0)


def test_cli_defaults_are_the_same_in_both_commands():
    from netqa.cli import build_parser

    p = build_parser()
    base = ["--samples", "s", "--cells", "c", "--dem", "d", "--out", "o"]
    a, b = p.parse_args(["compare", *base]), p.parse_args(["calibrate", *base])
    for name in ("min_dist_km", "max_dist_km", "rsrp_floor_dbm", "sites", "exclude_sites", "cell_ids", "resolution_m"):
        assert getattr(a, name) == getattr(b, name), name
    assert a.resolution_m is None and b.cv_group == "site"


# ---------------------------------------------------------------------------------- selection
def test_sites_keep_only_their_serving_samples(samples):
    data, _, counts, _, _ = _data(samples, selection=Selection(sites=("VAL01", "VAL02")))
    assert set(data.site.tolist()) <= {"VAL01", "VAL02"} and data.n > 100
    assert counts["not_selected"] > 0


def test_sites_and_exclude_sites_partition_the_samples(samples):
    all_n = _data(samples)[0].n
    a = _data(samples, selection=Selection(sites=("VAL01", "SOT01")))[0]
    b = _data(samples, selection=Selection(exclude_sites=("VAL01", "SOT01")))[0]
    assert a.n + b.n == all_n and not set(a.site.tolist()) & set(b.site.tolist())


def test_cell_ids_select_cells(samples):
    data = _data(samples, selection=Selection(cells=("7936003", "7936257")))[0]
    assert set(data.cell.tolist()) <= {"7936003", "7936257"} and data.n > 0


@pytest.mark.parametrize("sel, match", [(Selection(sites=("NOPE",)), "--sites: NOPE not in the cell table"),
                                        (Selection(cells=("1",)), "--cell-ids: 1 not in the cell table")],
                         ids=["unknown-site", "unknown-cell"])  # fmt: skip
def test_unknown_ids_are_named(samples, sel, match):
    with pytest.raises(InputError, match=match):
        _data(samples, selection=sel)


def test_id_lists_from_a_file(tmp_path):
    f = tmp_path / "train.txt"
    f.write_text("# training sites\nVAL01\nVAL02  # the town\n\nVAL01\n")
    assert parse_id_list(f"@{f}", "--sites") == ("VAL01", "VAL02")
    with pytest.raises(InputError, match="--sites @.*not found"):
        parse_id_list(f"@{tmp_path / 'none.txt'}", "--sites")
    with pytest.raises(InputError, match="no id given"):
        parse_id_list(" , ", "--sites")


# ---------------------------------------------------------------------------------- resolution
def test_native_resolution_by_default_and_the_flag_overrides(samples):
    assert _data(samples)[2]["grid_resolution_m"] == 30.0  # the test world's DEM and clutter are 30 m
    assert _data(samples, resolution_m=60.0)[2]["grid_resolution_m"] == 60.0
    with pytest.raises(InputError, match="--resolution-m"):
        _data(samples, resolution_m=-5.0)


def test_native_pixel_of_a_geographic_dem(tmp_path):
    p = tmp_path / "g.tif"
    arc = 1.0 / 3600.0  # SRTM 1 arc-second
    with rasterio.open(p, "w", driver="GTiff", width=10, height=10, count=1, dtype="float32", crs="EPSG:4326",
                       transform=Affine(arc, 0, -3.2, 0, -arc, 40.5)) as ds:  # fmt: skip
        ds.write(np.zeros((1, 10, 10), np.float32))
    # at 40 deg: 30.9 m north-south, 23.7 m east-west -> the finer
    assert native_pixel_m([p], 40.0) == pytest.approx(arc * 111_320.0 * np.cos(np.radians(40.0)), rel=1e-9)


# ---------------------------------------------------------------------------------- ground_m
def test_site_ground_altitude_replaces_the_dem_at_the_mast(samples):
    cells = pd.read_csv(TESTDATA / "cells.csv")
    cells["antenna"] = [str(TESTDATA / a) if isinstance(a, str) else a for a in cells["antenna"]]
    base = _data(samples, cells=cells)[0]
    raised = _data(samples, cells=cells.assign(ground_m=5000.0))[0]
    # h_eff (terrain convention) = ground at the mast + antenna height - ground at the receiver: raising the mast's
    # ground to 5000 m adds the same 5000 - DEM(mast) to every sample of a cell
    d = raised.h_tx_eff_m - base.h_tx_eff_m
    assert np.all(d > 3000.0)  # the test world lies 800-1100 m above sea level
    ok = base.h_tx_eff_m > 1.0  # not clipped at the 1 m floor
    for c in np.unique(base.cell[ok]):
        sel = ok & (base.cell == c)
        assert np.ptp(d[sel]) < 1e-6


# ---------------------------------------------------------------------------------- CLI end to end
def test_cli_calibrate_and_compare_on_held_out_sites(samples, tmp_path):
    from netqa.cli import main

    s = tmp_path / "s.csv"
    samples.to_csv(s, index=False)
    train = tmp_path / "train.txt"
    train.write_text("VAL01\nVAL02\nVAL03\nSOT01\nRUR01\nRUR02\nRUR03\n")
    common = ["--samples", str(s), "--cells", str(TESTDATA / "cells.csv"), "--dem", str(TESTDATA / "dem.tif"), "-q"]
    out = tmp_path / "t.toml"
    assert main(["calibrate", *common, "--out", str(out), "--sites", f"@{train}", "--cv-group", "site"]) == 0
    mf = read_model_file(out)
    prov = mf.calibration["provenance"]
    assert prov["cv_group"] == "site" and prov["selection"]["sites"][0] == "VAL01" and prov["grid_resolution_m"] == 30.0
    assert mf.calibration["holdout"]["cv_group"] == "site"
    cmp_dir = tmp_path / "cmp"
    assert main(["compare", *common, "--out", str(cmp_dir), "--model", "spm", "--model-file", str(out),
                 "--exclude-sites", f"@{train}", "--no-plots"]) == 0  # fmt: skip
    st = json.loads((cmp_dir / "stats.json").read_text())
    assert st["selection"]["exclude_sites"][0] == "VAL01" and st["samples"]["not_selected"] > 0
    assert st["grid_resolution_m"] == 30.0


def test_compare_flags_a_poor_result(samples, tmp_path, caplog):
    """The default (untuned) SPM on the test world is far too optimistic: compare says so, in stats.json and a warning."""
    import logging

    from netqa.compare.run import compare

    with caplog.at_level(logging.WARNING, logger="netqa.compare.run"):
        st = compare(samples, TESTDATA / "cells.csv", TESTDATA / "dem.tif", tmp_path / "c",
                     config=CompareConfig(model="spm", plots=False, selection=Selection(sites=("VAL01", "VAL02"))))  # fmt: skip
    assert any(p.startswith("mean error -") and "exceeds +-3 dB" in p for p in st["poor"])  # -17 dB without terrain
    assert any("POOR: mean error" in r.getMessage() for r in caplog.records)
