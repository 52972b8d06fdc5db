"""netqa predict applies a tuned model's clutter losses along the path (issue 12 item 3): on flat ground the
raster gives, at pixel centres, what compare's points mode gives there; best server and SINR follow; tiles
change nothing; model files without path clutter give what they gave before."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine

from netqa.compare.pathclutter import clutter_shares
from netqa.errors import InputError
from netqa.grid import to_geographic
from netqa.predict import PredictConfig, predict
from propagation.engine import path_clutter_loss_db

CRS = "EPSG:32629"
PX = 30.0
N = 160
X0, Y0 = 499_980.0, 5_760_000.0
NAMES = {1: "open", 2: "suburban", 3: "urban", 4: "forest"}
SPM = ("[spm]\nk1 = 23.0\nk2 = 44.9\nk3 = -13.82\nk4 = 0.7\nk5 = -6.55\nk6 = 0.0\nk7 = 0.0\n"
       "f_ref_mhz = 1800.0\nk_freq_db_per_decade = 23.0\n")  # fmt: skip
PATH = ("[path_clutter]\nnear_m = 240.0\nanchor = 'open'\n[path_clutter.near_db]\nsuburban = 5.0\nurban = 11.0\n"
        "forest = 7.5\n[path_clutter.whole_db]\nurban = 4.0\nforest = 2.0\n")  # fmt: skip
NEAR_DB = np.array([0.0, 0.0, 5.0, 11.0, 7.5])  # by code
WHOLE_DB = np.array([0.0, 0.0, 0.0, 4.0, 2.0])


def _write(path, arr, dtype, nodata=None):
    with rasterio.open(path, "w", driver="GTiff", width=N, height=N, count=1, dtype=dtype, crs=CRS, nodata=nodata,
                       transform=Affine(PX, 0, X0, 0, -PX, Y0)) as ds:  # fmt: skip
        ds.write(arr.astype(dtype), 1)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("pathpredict")
    _write(d / "dem.tif", np.full((N, N), 60.0), "float32", -32768)
    yy, xx = np.mgrid[0:N, 0:N]
    codes = 1 + ((xx // 7 + 3 * (yy // 5) + (xx * yy) // 97) % 4)
    codes[70:74, 20:60] = 0  # nodata: not counted along the path
    _write(d / "clutter.tif", codes, "int16", 0)
    (d / "classes.csv").write_text("code,name,loss_db,height_m\n" + "".join(f"{c},{n},{2 * c},0\n" for c, n in NAMES.items()))
    rows = []
    for s, (sx, sy) in enumerate([(1713.3, -1911.1), (3170.7, -2233.9), (2411.2, -3401.6)]):
        lon, lat = to_geographic(X0 + sx, Y0 + sy, CRS)
        for k, az in enumerate((10, 130, 250)):
            rows.append(dict(site_id=f"S{s}", cell_id=f"S{s}-{k}", lat=lat, lon=lon, height_m=25.0 + 5 * s,
                             azimuth_deg=az, mech_tilt_deg=0.0, elec_tilt_deg=3.0, tx_power_dbm=46.0,
                             freq_mhz=1800.0, bandwidth_mhz=20.0, tech="LTE", gain_dbi=17.0))  # fmt: skip
    pd.DataFrame(rows).to_csv(d / "cells.csv", index=False)
    (d / "plain.toml").write_text(SPM)
    (d / "path.toml").write_text(SPM + PATH)
    return d


def _predict(d, model_file, **kw):
    cfg = PredictConfig(model="spm", model_file=d / model_file, radius_km=kw.pop("radius_km", 1.8), **kw)
    return predict(d / "cells.csv", d / "dem.tif", clutter=d / "clutter.tif", clutter_table=d / "classes.csv",
                   config=cfg, per_cell=True, show_progress=False)  # fmt: skip


@pytest.fixture(scope="module")
def runs(world):
    return {"plain": _predict(world, "plain.toml"), "path": _predict(world, "path.toml"),
            "tiled": _predict(world, "path.toml", tile_px=40)}  # fmt: skip


def _pixels(res, n, seed):
    """n random covered pixel centres: (rows, cols, x, y)."""
    rng = np.random.default_rng(seed)
    rr, cc = np.nonzero(np.isfinite(res.rsrp_dbm))
    pick = rng.choice(rr.size, n, replace=False)
    rows, cols = rr[pick], cc[pick]
    t = res.grid.transform
    return rows, cols, t.c + (cols + 0.5) * t.a, t.f + (rows + 0.5) * t.e


def _masts(d):
    from netqa.grid import to_projected

    cells = pd.read_csv(d / "cells.csv")
    x, y = to_projected(cells["lon"].to_numpy(), cells["lat"].to_numpy(), CRS)
    return np.asarray(x), np.asarray(y)


@pytest.mark.parametrize("cell", [0, 4, 8])
def test_per_cell_drop_is_the_reference_shares_times_the_losses(world, runs, cell):
    plain, path = runs["plain"], runs["path"]
    with rasterio.open(world / "clutter.tif") as ds:
        codes = ds.read(1).astype(np.int64)
        src = ds.transform
    codes[codes == 0] = -1  # the file's nodata
    m_x, m_y = _masts(world)
    rows, cols, x, y = _pixels(path, 300, cell)
    ok = np.isfinite(path.per_cell[cell, rows, cols])
    whole, near = clutter_shares(codes, src, m_x[cell], m_y[cell], x, y, [1, 2, 3, 4], near_m=240.0)
    ref = near @ NEAR_DB[1:] + whole @ WHOLE_DB[1:]
    drop = plain.per_cell[cell, rows, cols] - path.per_cell[cell, rows, cols]
    assert ok.sum() > 100
    np.testing.assert_allclose(drop[ok], ref[ok], atol=5e-5)  # float32 rasters


def test_raster_matches_compare_points_mode_at_pixel_centres(world, runs, tmp_path):
    from netqa.compare.run import CompareConfig, compare

    path = runs["path"]
    rows, cols, x, y = _pixels(path, 400, 11)
    lon, lat = to_geographic(x, y, CRS)
    serving = np.array(path.cell_ids)[path.best_cell[rows, cols]]
    pd.DataFrame({"time": pd.Timestamp("2024-05-01", tz="UTC") + pd.to_timedelta(np.arange(x.size), "s"),
                  "lat": lat, "lon": lon, "session": "P", "tech": "LTE", "cell_id": serving, "rsrp_dbm": -90.0,
                  "rsrq_db": np.nan, "sinr_db": np.nan, "dl_mbps": np.nan, "ul_mbps": np.nan}
                 ).to_parquet(tmp_path / "s.parquet")  # fmt: skip
    stats = compare(tmp_path / "s.parquet", world / "cells.csv", world / "dem.tif", tmp_path / "cmp",
                    clutter=world / "clutter.tif", clutter_table=world / "classes.csv",
                    config=CompareConfig(model="spm", model_file=world / "path.toml", resolution_m=PX, radius_km=1.8,
                                         plots=False))  # fmt: skip
    assert stats["model"]["path_clutter_applied"] is True
    res = pd.read_parquet(tmp_path / "cmp" / "residuals.parquet")
    np.testing.assert_allclose(res["rsrp_predicted_dbm"], path.rsrp_dbm[rows, cols], atol=1e-3)  # 4e-6 dB seen
    np.testing.assert_allclose(res["best_rsrp_predicted_dbm"], path.rsrp_dbm[rows, cols], atol=1e-3)
    assert (res["best_cell_id"].to_numpy() == serving).mean() > 0.99  # ties within 0.05 dB may differ


def test_best_server_and_sinr_see_the_path_losses(runs):
    plain, path = runs["plain"], runs["path"]
    ok = np.isfinite(path.rsrp_dbm)
    np.testing.assert_array_equal(path.best_cell[ok], np.argmax(np.nan_to_num(path.per_cell, nan=-np.inf), axis=0)[ok])
    moved = (path.best_cell != plain.best_cell) & ok
    assert 0.01 < moved.mean() < 0.5  # the best server changes where the path classes differ
    assert np.nanmean(plain.rsrp_dbm - path.rsrp_dbm) > 2.0
    assert (path.sinr_db[moved] != plain.sinr_db[moved]).all()
    assert path.settings["path_clutter"].startswith("model file [path_clutter]")
    assert "path_clutter" not in plain.settings


def test_tiles_are_identical_to_one_tile(runs):
    a, b = runs["path"], runs["tiled"]
    for name in ("rsrp_dbm", "best_cell", "sinr_db", "dl_mbps", "ul_mbps"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    np.testing.assert_array_equal(a.per_cell, b.per_cell)


def test_without_path_clutter_the_engine_gets_none(world, monkeypatch):
    """A model file without [path_clutter]: the engine is called exactly as before (no path_clutter argument)."""
    from netqa.predict import tiles

    seen = []
    real = tiles.predict_coverage

    def spy(*a, **kw):
        seen.append(kw.get("path_clutter"))
        return real(*a, **kw)

    monkeypatch.setattr(tiles, "predict_coverage", spy)
    _predict(world, "plain.toml", radius_km=0.5)
    assert seen and all(s is None for s in seen)


def test_path_model_without_clutter_raster_is_refused(world):
    cfg = PredictConfig(model="spm", model_file=world / "path.toml", radius_km=1.0)
    with pytest.raises(InputError, match=r"holds path-clutter losses .*give --clutter RASTER"):
        predict(world / "cells.csv", world / "dem.tif", config=cfg, show_progress=False)


def test_p2108_clutter_model_warns_and_skips_the_path_losses(world, caplog):
    cfg = PredictConfig(model="spm", model_file=world / "path.toml", radius_km=0.5, clutter_model="p2108")
    (world / "classes_p.csv").write_text("code,name,loss_db,height_m,p2108_type\n1,open,0,0,open_rural\n"
                                         "2,suburban,0,10,suburban\n3,urban,0,20,urban\n4,forest,0,15,trees_forest\n")
    with caplog.at_level("WARNING"):
        res = predict(world / "cells.csv", world / "dem.tif", clutter=world / "clutter.tif",
                      clutter_table=world / "classes_p.csv", config=cfg, show_progress=False)  # fmt: skip
    assert "path-clutter losses are not used" in caplog.text
    assert "path_clutter" not in res.settings


def test_kernel_equals_the_reference_on_random_codes():
    rng = np.random.default_rng(5)
    codes = rng.integers(-1, 6, (80, 90))
    t = Affine(25.0, 0, 1000.0, 0, -25.0, 9000.0)
    near, whole = rng.uniform(0, 12, 6), rng.uniform(0, 6, 6)
    for xt, yt in rng.uniform([1000.0, 7000.0], [3250.0, 9000.0], (4, 2)):
        got = path_clutter_loss_db(codes, t.c, t.f, t.a, xt, yt, near, whole, near_m=180.0)
        rr, cc = np.mgrid[0:80, 0:90]
        x, y = t.c + (cc.ravel() + 0.5) * t.a, t.f + (rr.ravel() + 0.5) * t.e
        w, n = clutter_shares(codes, t, xt, yt, x, y, np.arange(6), near_m=180.0)
        np.testing.assert_allclose(got.ravel(), n @ near + w @ whole, atol=1e-6)


def test_link_adds_the_path_loss_row_and_lowers_the_prediction(world, runs):
    from netqa.link.analyse import analyse_link

    path = runs["path"]
    r, c = 52, 95
    t = path.grid.transform
    rx = to_geographic(t.c + (c + 0.5) * t.a, t.f + (r + 0.5) * t.e, CRS)
    kw = {"cell_id": "S1-0", "rx_lonlat": (float(rx[0]), float(rx[1])), "clutter": world / "clutter.tif",
          "clutter_table": world / "classes.csv", "resolution_m": PX, "model": "spm", "terrain": "none"}
    plain = analyse_link(world / "cells.csv", world / "dem.tif", model_file=world / "plain.toml", **kw)
    tuned = analyse_link(world / "cells.csv", world / "dem.tif", model_file=world / "path.toml", **kw)
    row = [x for x in tuned.losses if x.model == "clutter along the path (tuned)"]
    assert len(row) == 1 and not [x for x in plain.losses if x.model.startswith("clutter along the path")]
    drop = float(runs["plain"].per_cell[3, r, c] - path.per_cell[3, r, c])
    assert drop > 1.0
    assert row[0].loss_db == pytest.approx(drop, abs=1e-3)
    assert plain.predicted_rsrp_dbm - tuned.predicted_rsrp_dbm == pytest.approx(drop, abs=1e-3)


def test_dask_tiles_apply_the_path_losses_as_the_local_run(world, runs):
    distributed = pytest.importorskip("distributed")
    import logging

    logging.getLogger("distributed").setLevel(logging.ERROR)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as c:
        cfg = PredictConfig(model="spm", model_file=world / "path.toml", radius_km=1.8, tile_px=40)
        remote = predict(world / "cells.csv", world / "dem.tif", clutter=world / "clutter.tif",
                         clutter_table=world / "classes.csv", config=cfg, per_cell=True, show_progress=False,
                         scheduler=c.scheduler_address)  # fmt: skip
    for name in ("rsrp_dbm", "best_cell", "sinr_db", "per_cell"):
        np.testing.assert_array_equal(getattr(remote, name), getattr(runs["tiled"], name), err_msg=name)
