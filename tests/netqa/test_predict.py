"""netqa.predict and ``netqa predict``: inputs to the coverage GeoTIFF, bad-input errors."""

import json

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine

from netqa.cli import main
from netqa.errors import CellTableError, ConfigError, RasterError
from netqa.grid import to_geographic
from netqa.predict import BAND_UNITS, NODATA, PredictConfig, predict, write_coverage, write_per_cell

CRS = "EPSG:32614"
X0, Y0, PX, N = 600_000.0, 3_700_000.0, 60.0, 100  # 6 x 6 km DEM


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("world")
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:N, 0:N]
    elev = 300.0 + 40.0 * np.sin(xx / 15.0) * np.cos(yy / 11.0) + rng.normal(0, 1, (N, N))
    dem = d / "dem.tif"
    with rasterio.open(dem, "w", driver="GTiff", width=N, height=N, count=1, dtype="float32", crs=CRS,
                       transform=Affine(PX, 0, X0, 0, -PX, Y0), nodata=-32768) as ds:  # fmt: skip
        ds.write(elev.astype("float32"), 1)
    codes = np.where(xx < N // 2, 1, 2).astype("int16")
    clut = d / "clutter.tif"
    with rasterio.open(clut, "w", driver="GTiff", width=N, height=N, count=1, dtype="int16", crs=CRS,
                       transform=Affine(PX, 0, X0, 0, -PX, Y0)) as ds:  # fmt: skip
        ds.write(codes, 1)
    table = d / "clutter_classes.csv"
    table.write_text("code,name,loss_db,height_m\n1,open,0,0\n2,urban,12,15\n")
    bad_table = d / "clutter_bad.csv"
    bad_table.write_text("code,name,loss_db,height_m\n1,open,0,0\n")
    lon, lat = to_geographic(np.array([X0 + 2500.0, X0 + 2500.0, X0 + 4000.0]),
                             np.array([Y0 - 3000.0, Y0 - 3000.0, Y0 - 2000.0]), CRS)  # fmt: skip
    cells = pd.DataFrame({
        "site_id": ["S1", "S1", "S2"], "cell_id": ["S1A", "S1B", "S2A"], "lat": lat, "lon": lon,
        "height_m": [30.0, 30.0, 25.0], "azimuth_deg": [0.0, 180.0, 90.0], "mech_tilt_deg": [2.0, 2.0, 0.0],
        "elec_tilt_deg": [4.0, 4.0, 6.0], "tx_power_dbm": [46.0, 46.0, 43.0], "freq_mhz": [1800.0] * 3,
        "bandwidth_mhz": [20.0] * 3, "tech": ["LTE"] * 3,
    })  # fmt: skip
    csv = d / "cells.csv"
    cells.to_csv(csv, index=False)
    return {"dir": d, "dem": dem, "clutter": clut, "table": table, "bad_table": bad_table, "cells": cells, "csv": csv}


CFG = PredictConfig(model="cost231", radius_km=3.0, resolution_m=60.0)


@pytest.fixture(scope="module")
def result(world):
    return predict(world["cells"], world["dem"], config=CFG, per_cell=True, show_progress=False)


def test_prediction_covers_the_area_with_consistent_bands(result):
    assert result.rsrp_dbm.shape == result.grid.shape
    ok = np.isfinite(result.rsrp_dbm)
    assert ok.mean() > 0.9
    np.testing.assert_array_equal(result.best_cell[ok], np.argmax(np.nan_to_num(result.per_cell, nan=-np.inf), axis=0)[ok])
    assert np.all(result.best_cell[~ok] == -1)
    assert result.crs.to_epsg() == 32614


def test_geotiff_reads_back_with_crs_transform_bands_and_nodata(result, tmp_path):
    path = write_coverage(result, tmp_path / "coverage.tif")
    with rasterio.open(path) as ds:
        assert ds.crs.to_epsg() == 32614
        assert ds.transform == result.transform
        assert ds.descriptions == tuple(BAND_UNITS)
        assert ds.units == tuple(BAND_UNITS.values())
        assert ds.nodata == NODATA
        assert all(dt == "float32" for dt in ds.dtypes)
        assert ds.profile["tiled"] and ds.profile["compress"] == "deflate"
        assert json.loads(ds.tags()["best_cell"]) == ["S1A", "S1B", "S2A"]
        rsrp = ds.read(1, masked=True)
        best = ds.read(2, masked=True)
    np.testing.assert_allclose(rsrp.filled(np.nan), result.rsrp_dbm, equal_nan=True)
    np.testing.assert_array_equal(best.filled(-1).astype(int), result.best_cell)
    assert not list(tmp_path.glob(".*part*"))  # atomic write left nothing behind


def test_per_cell_file_has_one_band_per_cell(result, tmp_path):
    path = write_per_cell(result, tmp_path / "percell.tif")
    with rasterio.open(path) as ds:
        assert ds.count == 3 and ds.descriptions[0] == "rsrp_dbm S1A"


def test_clutter_loss_lowers_rsrp_in_its_class(world, result):
    cl = predict(world["cells"], world["dem"], clutter=world["clutter"], clutter_table=world["table"], config=CFG,
                 show_progress=False, per_cell=True)  # fmt: skip
    diff = result.per_cell - cl.per_cell
    rows, cols = np.indices(result.grid.shape)
    xx, _ = result.grid.xy(rows, cols)
    urban = xx >= X0 + PX * (N // 2)
    np.testing.assert_allclose(diff[:, urban][np.isfinite(diff[:, urban])], 12.0, atol=1e-3)
    np.testing.assert_allclose(diff[:, ~urban][np.isfinite(diff[:, ~urban])], 0.0, atol=1e-3)


def test_terrain_adds_diffraction_loss(world, result):
    t = predict(world["cells"], world["dem"], config=PredictConfig(model="cost231", radius_km=3.0, resolution_m=60.0,
                terrain="delta-bullington"), show_progress=False)  # fmt: skip
    ok = np.isfinite(t.rsrp_dbm)
    assert np.all(t.rsrp_dbm[ok] <= result.rsrp_dbm[ok] + 1e-3)
    assert (t.rsrp_dbm[ok] < result.rsrp_dbm[ok] - 1.0).mean() > 0.05


def test_cli_writes_the_coverage_geotiff(world, tmp_path):
    out = tmp_path / "cov.tif"
    rc = main(["predict", "--cells", str(world["csv"]), "--dem", str(world["dem"]), "--out", str(out),
               "--model", "cost231", "--radius-km", "2", "--resolution-m", "60", "--quiet"])  # fmt: skip
    assert rc == 0 and out.exists()
    assert main(["predict", "--cells", str(world["csv"]), "--dem", str(world["dem"]), "--out", str(out), "--quiet"]) == 2


@pytest.mark.parametrize(
    "change, error, match",
    [
        (lambda df: df.assign(cell_id=["A", "A", "B"]), CellTableError, "duplicate cell_id 'A'"),
        (lambda df: df.assign(height_m=[30.0, -3.0, 25.0]), CellTableError, "cell 'S1B': height_m"),
        (lambda df: df.assign(mech_tilt_deg=[2.0, 2.0, 120.0]), CellTableError, "cell 'S2A': mech_tilt_deg"),
        (lambda df: df.assign(tx_power_dbm=[46.0, 146.0, 43.0]), CellTableError, "tx_power_dbm"),
        (lambda df: df.assign(lon=df.lon + 1.0), CellTableError, "outside the DEM"),
    ],
    ids=["duplicate-id", "negative-height", "tilt", "power", "outside-dem"],
)
def test_bad_cells_are_named(world, change, error, match):
    with pytest.raises(error, match=match):
        predict(change(world["cells"].copy()), world["dem"], config=CFG, show_progress=False)


def test_dem_not_covering_the_area_names_the_uncovered_extent(world):
    cfg = PredictConfig(radius_km=3.0, resolution_m=60.0, bounds=(X0 - 3000, Y0 - 5000, X0 + 5000, Y0 - 1000))
    with pytest.raises(RasterError, match="uncovered"):
        predict(world["cells"], world["dem"], config=cfg, show_progress=False)


def test_clutter_code_missing_from_the_table_is_named(world):
    with pytest.raises(RasterError, match="code 2"):
        predict(world["cells"], world["dem"], clutter=world["clutter"], clutter_table=world["bad_table"], config=CFG,
                show_progress=False)  # fmt: skip


@pytest.mark.parametrize(
    "kwargs, match",
    [(dict(model="okumura"), "--model 'okumura'"), (dict(terrain="itm2"), "--terrain"),
     (dict(radius_km=0.0), "--radius-km"), (dict(cell_load=2.0), "--cell-load")],
    ids=["model", "terrain", "radius", "load"],
)
def test_bad_settings_are_named(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        PredictConfig(**kwargs)


def _model_file(path, *, k1_band=None, h_eff="ground", clutter_urban=None):
    text = f'[model]\nh_eff_method = "{h_eff}"\n[spm]\nk1 = 150.0\nk2 = 44.9\nk3 = -13.82\nk4 = 1.0\nk5 = -6.55\nk6 = 0.0\nk7 = 0.0\n'
    if clutter_urban is not None:
        text += f"[clutter_loss_db]\nurban = {clutter_urban}\n"
    if k1_band is not None:
        text += (f'[band.LTE-1800]\ntech = "LTE"\nfreq_mhz = 1800.0\nk1 = {k1_band}\nk2 = 44.9\nk3 = -13.82\nk4 = 1.0\n'
                 "k5 = -6.55\nk6 = 0.0\nk7 = 0.0\n")  # fmt: skip
    path.write_text(text)
    return path


def test_tuned_model_file_applies_its_band_coefficients(world, tmp_path):
    cfg = PredictConfig(model="spm", radius_km=3.0, resolution_m=60.0)
    glob = predict(world["cells"], world["dem"], show_progress=False,
                   config=PredictConfig(**{**cfg.__dict__, "model_file": _model_file(tmp_path / "g.toml")}))
    band = predict(world["cells"], world["dem"], show_progress=False,
                   config=PredictConfig(**{**cfg.__dict__, "model_file": _model_file(tmp_path / "b.toml", k1_band=140.0)}))
    ok = np.isfinite(glob.rsrp_dbm) & np.isfinite(band.rsrp_dbm)
    diff = (band.rsrp_dbm - glob.rsrp_dbm)[ok]
    # K1 10 dB lower -> 10 dB more signal, except right at the masts where the free-space floor binds
    assert (np.abs(diff - 10.0) < 1e-3).mean() > 0.99
    assert ((diff > -1e-3) & (diff < 10.0 + 1e-3)).all()


def test_tuned_model_file_applies_each_cells_own_coefficients(world, tmp_path):
    """[cells."S1B"] K1/K2 over its band's K: that cell's raster moves by -(dK1 + dK2 log10 d), the others do not
    (the same per-cell coefficients netqa compare applies at the samples)."""
    cfg = PredictConfig(model="spm", radius_km=3.0, resolution_m=60.0)
    band = _model_file(tmp_path / "b.toml", k1_band=140.0)
    own = tmp_path / "own.toml"
    own.write_text(band.read_text() + '[cells.S1B]\nk1 = 143.0\nk2 = 40.9\n[cells.S2A]\nk1 = 137.5\n')
    kw = dict(per_cell=True, show_progress=False)
    a = predict(world["cells"], world["dem"], config=PredictConfig(**{**cfg.__dict__, "model_file": band}), **kw)
    b = predict(world["cells"], world["dem"], config=PredictConfig(**{**cfg.__dict__, "model_file": own}), **kw)
    np.testing.assert_allclose(b.per_cell[0], a.per_cell[0], atol=1e-3, equal_nan=True)  # S1A: its band's K
    d1, d2 = b.per_cell[1] - a.per_cell[1], b.per_cell[2] - a.per_cell[2]
    ok1, ok2 = np.isfinite(d1), np.isfinite(d2)
    assert ok1.sum() > 500 and ok2.sum() > 500
    assert (np.abs(d2[ok2] - 2.5) < 1e-3).mean() > 0.99  # S2A: K1 2.5 dB lower, K2 of the band
    # S1B: dK1 = +3, dK2 = -4 -> -3 + 4 log10(d / km): about -7 dB at 0.1 km to -1.1 dB at 3 km
    assert (d1[ok1] < -1.0).mean() > 0.99 and np.ptp(d1[ok1]) > 2.0
    assert np.nanmax(np.abs(b.rsrp_dbm - a.rsrp_dbm)) > 1.0


def test_tuned_model_file_clutter_losses_replace_the_table(world, tmp_path):
    cfg = dict(model="spm", radius_km=3.0, resolution_m=60.0)
    kw = dict(clutter=world["clutter"], clutter_table=world["table"], show_progress=False)
    table = predict(world["cells"], world["dem"], config=PredictConfig(**cfg, model_file=_model_file(tmp_path / "t.toml")), **kw)
    tuned = predict(world["cells"], world["dem"],
                    config=PredictConfig(**cfg, model_file=_model_file(tmp_path / "c.toml", clutter_urban=5.0)), **kw)
    diff = (table.rsrp_dbm - tuned.rsrp_dbm)[np.isfinite(table.rsrp_dbm)]
    # urban pixels (table 12 dB, tuned 5 dB) gain 7 dB; open pixels are unchanged
    assert set(np.round(np.unique(np.round(diff, 3)), 2)) <= {0.0, -7.0}
    assert (np.abs(diff + 7.0) < 1e-3).any() and (np.abs(diff) < 1e-3).any()


def test_nr_reference_signal_power_uses_273_resource_blocks(world, tmp_path):
    cells = world["cells"].copy()
    cells["tech"], cells["freq_mhz"], cells["bandwidth_mhz"] = "NR", 3500.0, 100.0
    cells["tx_power_dbm"] = 49.0
    nr = predict(cells, world["dem"], config=PredictConfig(model="fspl", radius_km=3.0, resolution_m=60.0),
                 per_cell=True, show_progress=False)
    cells["rs_power_dbm"] = 49.0 - 10.0 * np.log10(12 * 273)
    given = predict(cells, world["dem"], config=PredictConfig(model="fspl", radius_km=3.0, resolution_m=60.0),
                    per_cell=True, show_progress=False)
    np.testing.assert_allclose(nr.per_cell, given.per_cell, atol=1e-4, equal_nan=True)


def test_dem_extent_reads_crs_and_bounds_from_headers(world):
    from netqa.io.raster import dem_extent

    crs, bounds = dem_extent(world["dem"])
    assert crs.to_epsg() == 32614
    assert bounds == pytest.approx((X0, Y0 - N * PX, X0 + N * PX, Y0))
    _, geo = dem_extent([world["dem"]], "EPSG:4326")
    assert -99.0 < geo[0] < geo[2] < -97.0 and 33.0 < geo[1] < geo[3] < 34.0
    with pytest.raises(RasterError, match="not found"):
        dem_extent(world["dir"] / "missing.tif")


def test_cli_noise_figure_and_cell_load_reach_the_prediction(world, tmp_path):
    base = ["predict", "--cells", str(world["csv"]), "--dem", str(world["dem"]), "--model", "cost231",
            "--radius-km", "2", "--resolution-m", "60", "--quiet"]  # fmt: skip
    sinr = {}
    for name, extra in (("default", []), ("quiet", ["--noise-figure-db", "3", "--cell-load", "0.2"])):
        out = tmp_path / f"{name}.tif"
        assert main(base + ["--out", str(out)] + extra) == 0
        with rasterio.open(out) as ds:
            sinr[name] = ds.read(3, masked=True).filled(np.nan)
    ok = np.isfinite(sinr["default"])
    assert np.all(sinr["quiet"][ok] >= sinr["default"][ok] - 1e-4)
    assert np.nanmean(sinr["quiet"][ok] - sinr["default"][ok]) > 0.5
    assert main(base + ["--out", str(tmp_path / "bad.tif"), "--cell-load", "1.5"]) == 2
