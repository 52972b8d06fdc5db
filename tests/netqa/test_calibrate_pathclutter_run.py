"""netqa calibrate --path-clutter end to end: a world whose truth has near-path clutter losses (issue 12 item 3).

The world of test_calibrate_run (5 sites x 3 cells, 12 km, AR(1) shadowing of 6 dB) with a fine clutter
mosaic (240 x 330 m blocks) whose classes cost nothing at the receiver but ``NEAR_DB`` x their share of the
last 300 m of the path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from test_calibrate_run import CRS, PX, X0, Y0, N, make_world

from netqa.calibrate import read_model_file
from netqa.calibrate.run import CalibrateOptions, calibrate
from netqa.compare.pathclutter import path_clutter_loss_db, sample_path_shares
from netqa.compare.points import load_world, sample_clutter
from netqa.errors import ConfigError

NEAR_DB = {"open": 0.0, "suburban": 5.0, "urban": 10.0}


def _load(d, samples):
    world, _ = load_world(d / "cells.csv", d / "dem.tif", samples_lonlat=(samples["lon"].to_numpy(),
                          samples["lat"].to_numpy()), clutter=d / "clutter.tif",
                          clutter_table=d / "clutter_classes.csv")  # fmt: skip
    return world


@pytest.fixture(scope="module")
def pworld(tmp_path_factory):
    d = make_world(tmp_path_factory.mktemp("pathworld"), n_sessions=5, n_per=1500, seed=11)
    samples = pd.read_parquet(d / "samples.parquet")
    old = _load(d, samples)
    xs, ys = old.sample_xy
    _, old_db = sample_clutter(old, xs, ys)  # the receiver-table loss in the generated truth, taken out again
    yy, xx = np.mgrid[0:N, 0:N]
    with rasterio.open(d / "clutter.tif", "w", driver="GTiff", width=N, height=N, count=1, dtype="int16", crs=CRS,
                       transform=Affine(PX, 0, X0, 0, -PX, Y0)) as ds:  # fmt: skip
        ds.write((1 + ((xx // 8 + 2 * (yy // 11)) % 3)).astype("int16"), 1)
    (d / "clutter_classes.csv").write_text("code,name,loss_db,height_m\n1,open,0,0\n2,suburban,0,0\n3,urban,0,0\n")
    world = _load(d, samples)
    serving = pd.Series(np.arange(len(world.cell_ids)), index=world.cell_ids).loc[samples["cell_id"]].to_numpy()
    names, _, near = sample_path_shares(world, xs, ys, serving, near_m=300.0)
    samples["rsrp_dbm"] = samples["rsrp_dbm"] + old_db - near @ np.array([NEAR_DB[n] for n in names])
    samples.to_parquet(d / "samples.parquet")
    (d / "prior.toml").write_text("[spm]\nk1 = 5.0\nk2 = 47.0\nk3 = -12.0\nk4 = 1.0\nk5 = -6.55\nk6 = 0.0\nk7 = 0.0\n"
                                  "f_ref_mhz = 1800.0\nk_freq_db_per_decade = 23.0\n")  # fmt: skip
    return d


def _calibrate(d, out, path_clutter):
    return calibrate(d / "samples.parquet", d / "cells.csv", d / "dem.tif", d / out, clutter=d / "clutter.tif",
                     clutter_table=d / "clutter_classes.csv", overwrite=True,
                     options=CalibrateOptions(model_file=d / "prior.toml", path_clutter=path_clutter))  # fmt: skip


@pytest.fixture(scope="module")
def fits(pworld):
    return _calibrate(pworld, "path.toml", "both"), _calibrate(pworld, "plain.toml", "none")


def test_calibrate_recovers_the_near_path_losses(fits):
    cal, plain = fits
    assert cal.path_anchor == "open"
    for c in ("suburban", "urban"):  # tolerance 2 dB: 6 dB shadowing correlated over 50 m
        assert cal.path_near_db[c] == pytest.approx(NEAR_DB[c], abs=2.0)
    assert cal.holdout["tuned"]["rmse_db"] < plain.holdout["tuned"]["rmse_db"] - 0.3


def test_the_model_file_round_trips_the_path_losses(pworld, fits):
    cal, _ = fits
    tm = read_model_file(pworld / "path.toml")
    assert tm.has_path_clutter
    pc = tm.path_clutter_for("LTE", 1800.0)
    assert pc.near_m == 300.0 and pc.anchor == "open"
    assert pc.near_db == pytest.approx(cal.path_near_db)
    assert not read_model_file(pworld / "plain.toml").has_path_clutter  # files without the section read as before


def test_compare_applies_the_path_losses(pworld, fits):
    from netqa.compare.run import CompareConfig, compare

    stats = {}
    for name in ("path", "plain"):
        stats[name] = compare(pworld / "samples.parquet", pworld / "cells.csv", pworld / "dem.tif", pworld / f"cmp_{name}",
                              clutter=pworld / "clutter.tif", clutter_table=pworld / "clutter_classes.csv",
                              config=CompareConfig(model="spm", model_file=pworld / f"{name}.toml"))  # fmt: skip
    assert stats["path"]["model"]["path_clutter_applied"] is True
    # the spread, not the bias: this world's truth K1 (20 dB) puts the SPM below free space, where the engine clamps
    assert stats["path"]["std_error_db"] < stats["plain"]["std_error_db"] - 0.3  # 7.13 -> 6.54 dB here


def test_points_loss_is_share_times_loss(pworld):
    samples = pd.read_parquet(pworld / "samples.parquet").iloc[:300]
    world = _load(pworld, samples)
    xs, ys = world.sample_xy
    tm = read_model_file(pworld / "path.toml")
    tables = [tm.path_clutter_for("LTE", 1800.0)] * len(world.cell_ids)
    loss = path_clutter_loss_db(world, xs, ys, tables)
    for i in (0, 7):
        names, _, near = sample_path_shares(world, xs, ys, np.full(xs.size, i), near_m=300.0)
        np.testing.assert_allclose(loss[:, i], near @ np.array([tables[i].near_db.get(n, 0.0) for n in names]),
                                   atol=1e-9)  # fmt: skip


def test_cli_flags_and_their_errors(pworld, tmp_path, capsys):
    from netqa.cli import main

    base = ["calibrate", "--samples", str(pworld / "samples.parquet"), "--cells", str(pworld / "cells.csv"),
            "--dem", str(pworld / "dem.tif"), "-q"]  # fmt: skip
    clutter = ["--clutter", str(pworld / "clutter.tif"), "--clutter-table", str(pworld / "clutter_classes.csv")]
    assert main(base + ["--out", str(tmp_path / "a.toml"), "--path-clutter", "near"]) == 2  # no clutter raster
    assert "--path-clutter near needs a clutter class raster" in capsys.readouterr().err
    assert main(base + clutter + ["--out", str(tmp_path / "b.toml"), "--path-clutter", "near",
                                  "--path-clutter-near-m", "-5"]) == 2  # fmt: skip
    assert "--path-clutter-near-m -5.0: must be a distance > 0 m" in capsys.readouterr().err
    assert main(base + clutter + ["--out", str(tmp_path / "c.toml"), "--path-clutter", "near",
                                  "--path-clutter-near-m", "200"]) == 0  # fmt: skip
    tm = read_model_file(tmp_path / "c.toml")
    assert tm.calibration["provenance"]["path_clutter_near_m"] == 200.0
    assert tm.has_path_clutter and tm.path_clutter_for("LTE", 1800.0).near_m == 200.0


def test_project_file_keys(tmp_path):
    from netqa.config import load_project

    p = tmp_path / "p.toml"
    p.write_text("[calibrate]\npath_clutter = 'both'\npath_clutter_near_m = 250\n")
    cfg = load_project(p)
    assert cfg.calibrate.path_clutter == "both" and cfg.calibrate.path_clutter_near_m == 250.0
    p.write_text("[calibrate]\npath_clutter = 'far'\n")
    with pytest.raises(ConfigError, match=r"\[calibrate\] path_clutter = 'far' is not one of none, near"):
        load_project(p)


def test_bad_path_clutter_table_in_a_model_file_is_refused(pworld, tmp_path):
    text = (pworld / "path.toml").read_text().replace("[path_clutter]\n", "[path_clutter]\nfar_m = 3\n", 1)
    (tmp_path / "bad.toml").write_text(text)
    with pytest.raises(ConfigError, match=r"\[path_clutter\] takes near_m, anchor, near_db, whole_db"):
        read_model_file(tmp_path / "bad.toml")


def test_project_preflight_path_clutter_needs_clutter_and_predict_may_use_it(tmp_path):
    from netqa.config import load_project
    from netqa.preflight import check_project

    t = Path(__file__).resolve().parents[2] / "testdata"
    inputs = (f"[inputs]\ncells = '{t / 'cells.csv'}'\ndem = '{t / 'dem.tif'}'\n"
              f"logs = ['{t / 'drives' / 'd3_north_loop.csv'}']\n")  # fmt: skip
    clutter = f"clutter = '{t / 'clutter.tif'}'\nclutter_table = '{t / 'clutter_classes.csv'}'\n"
    p = tmp_path / "p.toml"
    p.write_text(inputs + "[calibrate]\npath_clutter = 'near'\n")
    with pytest.raises(ConfigError, match=r"path_clutter = 'near' needs \[inputs\] clutter"):
        check_project(load_project(p))
    p.write_text(inputs + clutter + "[calibrate]\npath_clutter = 'near'\n[predict]\nuse_calibrated = true\n")
    check_project(load_project(p))  # netqa predict applies the path losses on rasters now


def test_cli_predict_applies_a_model_with_path_losses(tmp_path, capsys):
    from netqa.cli import main

    t = Path(__file__).resolve().parents[2] / "testdata"
    spm = ("[spm]\nk1 = 23.0\nk2 = 44.9\nk3 = -13.82\nk4 = 1.0\nk5 = -6.55\nk6 = 0.0\nk7 = 0.0\n"
           "f_ref_mhz = 1800.0\nk_freq_db_per_decade = 23.0\n")  # fmt: skip
    (tmp_path / "m.toml").write_text(spm + "[path_clutter]\nnear_m = 300.0\n[path_clutter.near_db]\nurban = 6.0\n")
    (tmp_path / "p.toml").write_text(spm)
    out = {}
    for name in ("m", "p"):
        argv = ["predict", "--cells", str(t / "cells.csv"), "--dem", str(t / "dem.tif"), "--clutter",
                str(t / "clutter.tif"), "--clutter-table", str(t / "clutter_classes.csv"), "--model", "spm",
                "--model-file", str(tmp_path / f"{name}.toml"), "--out", str(tmp_path / f"{name}.tif"),
                "--radius-km", "2", "-q"]  # fmt: skip
        assert main(argv) == 0, capsys.readouterr().err
        with rasterio.open(tmp_path / f"{name}.tif") as ds:
            out[name] = ds.read(1, masked=True)
    drop = out["p"] - out["m"]
    assert float(drop.min()) > -1e-3 and 0.5 < float(drop.max()) <= 6.0 + 1e-3  # at most the urban near loss
    argv[argv.index("--clutter"):argv.index("--clutter-table") + 2] = []
    argv[argv.index("--model-file") + 1] = str(tmp_path / "m.toml")
    argv[argv.index("--out") + 1] = str(tmp_path / "none.tif")
    assert main(argv) == 2
    assert "holds path-clutter losses" in capsys.readouterr().err
