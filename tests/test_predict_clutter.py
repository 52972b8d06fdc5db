"""``netqa predict`` clutter models on the test world: table, p2108 (P.2108 section 3.1), p2108-statistical (3.2)."""

import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import rasterio

from netqa.cli import main
from netqa.config import project_from_dict
from netqa.errors import ConfigError, InputError
from netqa.grid import to_projected
from netqa.io.raster import read_clutter
from netqa.predict import PredictConfig, predict
from propagation import ValidityRangeWarning, p2108_clutter_loss_db, p2108_height_gain_db

TESTDATA = Path(__file__).resolve().parents[1] / "testdata"
CELLS, DEM = TESTDATA / "cells.csv", TESTDATA / "dem.tif"
CLUTTER, TABLE = TESTDATA / "clutter.tif", TESTDATA / "clutter_classes.csv"
FAST = dict(model="fspl", radius_km=1.5, resolution_m=90.0)  # small and coarse: the whole file runs in seconds
#: testdata/clutter_classes.csv: code -> (P.2108 type by the name aliases, loss_db, height_m)
CLASSES = {1: ("water_sea", 0.0, 0.0), 2: ("open_rural", 0.0, 0.0), 3: ("trees_forest", 8.0, 15.0),
           4: ("suburban", 6.0, 8.0), 5: ("urban", 11.0, 15.0), 6: ("dense_urban", 15.0, 25.0)}  # fmt: skip


def _predict(clutter_model, **kw):
    cfg = PredictConfig(**FAST, clutter_model=clutter_model, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidityRangeWarning)  # the 3500 MHz carrier lies above section 3.1's 3 GHz
        return predict(CELLS, DEM, clutter=CLUTTER, clutter_table=TABLE, config=cfg, per_cell=True, show_progress=False)


@pytest.fixture(scope="module")
def runs():
    return {m: _predict(m) for m in ("table", "p2108", "p2108-statistical")}


@pytest.fixture(scope="module")
def codes(runs):
    raster, _ = read_clutter(CLUTTER, TABLE, grid=runs["table"].grid)
    assert not raster.n_nodata
    return raster.values


@pytest.fixture(scope="module")
def cell_freqs():
    return pd.read_csv(CELLS)["freq_mhz"].to_numpy(float)


def _expected_height_gain_db(freq_mhz, code, h_rx_m=1.5, street_width_m=27.0):
    kind, _, r_m = CLASSES[code]
    if r_m == 0.0:
        return 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidityRangeWarning)
        return float(p2108_height_gain_db(freq_mhz, h_rx_m, kind, clutter_height_m=r_m, street_width_m=street_width_m,
                                          strict=False))  # fmt: skip


@pytest.mark.parametrize("code", sorted(CLASSES), ids=[CLASSES[c][0] for c in sorted(CLASSES)])
def test_p2108_differs_from_table_by_height_gain_minus_table_loss(runs, codes, cell_freqs, code):
    table, p2108 = runs["table"].per_cell, runs["p2108"].per_cell
    at = codes == code
    got, expected = [], []
    for freq in np.unique(cell_freqs):
        sel = cell_freqs == freq
        diff = (table[sel][:, at] - p2108[sel][:, at]).ravel()
        got.append(diff[np.isfinite(diff)])
        expected.append(np.full(got[-1].size, _expected_height_gain_db(freq, code) - CLASSES[code][1]))
    got, expected = np.concatenate(got), np.concatenate(expected)
    assert got.size > 0
    np.testing.assert_allclose(got, expected, atol=2e-4)


def test_p2108_urban_loss_is_the_hand_computed_value_at_1815_mhz():
    # R = 15 m, h = 1.5 m, w_s = 27 m: h_dif = 13.5 m, theta = atan(13.5 / 27) = 26.565 deg,
    # nu = 0.342 sqrt(1.815) sqrt(13.5 x 26.565) = 8.725, J(nu) = 31.665 dB, A_h = J - 6.03 = 25.635 dB
    assert _expected_height_gain_db(1815.0, 5) == pytest.approx(25.635, abs=0.002)


def test_statistical_model_applies_l_ctt_to_urban_types_only(runs, codes, cell_freqs):
    res = runs["table"]
    df = pd.read_csv(CELLS)
    xs, ys = (np.asarray(v, float) for v in to_projected(df["lon"].to_numpy(), df["lat"].to_numpy(), res.crs))
    rows, cols = np.indices(res.grid.shape)
    px, py = (np.asarray(v, float) for v in res.grid.xy(rows, cols))
    urban = np.isin(codes, [4, 5, 6])
    table_loss = np.vectorize(lambda c: CLASSES[c][1])(codes)
    n_urban = n_other = 0
    for cell in range(len(df)):
        dist_km = np.hypot(px - xs[cell], py - ys[cell]) / 1000.0
        stat_loss = p2108_clutter_loss_db(cell_freqs[cell], np.maximum(dist_km, 0.25), 50.0)
        expected = np.where(urban, stat_loss, 0.0) - table_loss  # table rsrp - statistical rsrp
        diff = res.per_cell[cell] - runs["p2108-statistical"].per_cell[cell]
        ok = np.isfinite(diff)
        n_urban, n_other = n_urban + (ok & urban).sum(), n_other + (ok & ~urban).sum()
        np.testing.assert_allclose(diff[ok], expected[ok], atol=2e-4, err_msg=f"cell row {cell}")
    assert n_urban > 100 and n_other > 100


def test_statistical_loss_grows_with_location_pct(runs):
    p90 = _predict("p2108-statistical", location_pct=90.0)
    lower = runs["p2108-statistical"].per_cell - p90.per_cell  # extra loss at 90 % of locations
    ok = np.isfinite(lower)
    assert np.all(lower[ok] >= -1e-4) and lower[ok].max() > 5.0


def test_section_31_warns_once_for_a_carrier_above_3_ghz():
    cfg = PredictConfig(**FAST, clutter_model="p2108")
    with pytest.warns(ValidityRangeWarning, match=r"freq_mhz 3500 outside .*section 3.1.*\[30, 3000\] MHz") as rec:
        predict(CELLS, DEM, clutter=CLUTTER, clutter_table=TABLE, config=cfg, show_progress=False)
    assert len([w for w in rec if "section 3.1" in str(w.message)]) == 1


@pytest.mark.parametrize("clutter_model", ["table", "p2108", "p2108-statistical"])
@pytest.mark.filterwarnings("ignore::propagation.ValidityRangeWarning")
def test_cli_writes_a_geotiff_with_each_clutter_model(tmp_path, clutter_model):
    out = tmp_path / "cov.tif"
    rc = main(["predict", "--cells", str(CELLS), "--dem", str(DEM), "--out", str(out), "--model", "fspl",
               "--radius-km", "1.5", "--resolution-m", "90", "--clutter", str(CLUTTER), "--clutter-table", str(TABLE),
               "--clutter-model", clutter_model, "--location-pct", "60", "--street-width-m", "20", "--quiet"])  # fmt: skip
    assert rc == 0
    with rasterio.open(out) as ds:
        assert ds.count == 5 and ds.tags()["clutter_model"] == clutter_model
        assert np.isfinite(ds.read(1, masked=True).compressed()).all()


def _table(tmp_path, text):
    path = tmp_path / "classes.csv"
    path.write_text(text)
    return path


_ALL_CODES = "1,water,0,0\n2,open,0,0\n3,forest,8,15\n4,suburban,6,8\n5,urban,11,15\n"


@pytest.mark.parametrize("clutter_model", ["p2108", "p2108-statistical"])
def test_a_class_name_without_alias_or_p2108_type_is_named(tmp_path, clutter_model):
    table = _table(tmp_path, "code,name,loss_db,height_m\n" + _ALL_CODES + "6,Industrial Zone,15,25\n")
    cfg = PredictConfig(**FAST, clutter_model=clutter_model)
    with pytest.raises(InputError, match=r"class 6 \('Industrial Zone'\) has no ITU-R P.2108 clutter type.*add a "
                                         r"'p2108_type' column"):  # fmt: skip
        predict(CELLS, DEM, clutter=CLUTTER, clutter_table=table, config=cfg, show_progress=False)


def test_the_table_model_ignores_class_names(tmp_path):
    table = _table(tmp_path, "code,name,loss_db,height_m\n" + _ALL_CODES + "6,Industrial Zone,15,25\n")
    predict(CELLS, DEM, clutter=CLUTTER, clutter_table=table, config=PredictConfig(**FAST), show_progress=False)


@pytest.mark.filterwarnings("ignore::propagation.ValidityRangeWarning")
def test_a_p2108_type_column_overrides_the_name(tmp_path, runs):
    rows = "1,water,0,0,\n2,open,0,0,\n3,forest,8,15,\n4,suburban,6,8,\n5,urban,11,15,\n6,Industrial Zone,15,25,dense_urban\n"
    table = _table(tmp_path, "code,name,loss_db,height_m,p2108_type\n" + rows)
    got = predict(CELLS, DEM, clutter=CLUTTER, clutter_table=table, show_progress=False, per_cell=True,
                  config=PredictConfig(**FAST, clutter_model="p2108"))  # fmt: skip
    np.testing.assert_array_equal(got.per_cell, runs["p2108"].per_cell)


def test_a_bad_p2108_type_is_named(tmp_path):
    table = _table(tmp_path, "code,name,loss_db,height_m,p2108_type\n1,water,0,0,ocean\n2,open,0,0,\n3,forest,8,15,\n"
                             "4,suburban,6,8,\n5,urban,11,15,\n6,dense_urban,15,25,\n")  # fmt: skip
    with pytest.raises(InputError, match=r"class 1 \('water'\): field 'p2108_type' = 'ocean' is not an ITU-R P.2108"):
        predict(CELLS, DEM, clutter=CLUTTER, clutter_table=table, config=PredictConfig(**FAST, clutter_model="p2108"),
                show_progress=False)  # fmt: skip


@pytest.mark.parametrize("clutter_model", ["p2108", "p2108-statistical"])
def test_p2108_without_a_clutter_raster_is_refused(clutter_model):
    with pytest.raises(InputError, match=f"--clutter-model {clutter_model} needs a clutter class raster: give --clutter"):
        predict(CELLS, DEM, config=PredictConfig(**FAST, clutter_model=clutter_model), show_progress=False)


def test_cli_p2108_without_clutter_exits_2(tmp_path, capsys):
    out = tmp_path / "cov.tif"
    rc = main(["predict", "--cells", str(CELLS), "--dem", str(DEM), "--out", str(out), "--clutter-model", "p2108"])
    assert rc == 2 and not out.exists()
    assert "--clutter-model p2108 needs a clutter class raster" in capsys.readouterr().err


@pytest.mark.parametrize("pct", ["0", "100", "-3", "nan"])
def test_cli_bad_location_pct_exits_2(tmp_path, capsys, pct):
    out = tmp_path / "cov.tif"
    rc = main(["predict", "--cells", str(CELLS), "--dem", str(DEM), "--out", str(out), "--clutter", str(CLUTTER),
               "--clutter-table", str(TABLE), "--clutter-model", "p2108-statistical", "--location-pct", pct])  # fmt: skip
    assert rc == 2 and not out.exists()
    assert "--location-pct" in capsys.readouterr().err


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(clutter_model="itu"), "--clutter-model 'itu' is unknown; choose one of table, p2108, p2108-statistical"),
        (dict(location_pct=100.0), "--location-pct = 100.0 must lie strictly between 0 and 100"),
        (dict(street_width_m=0.0), "--street-width-m = 0.0 is outside 1..1000 m"),
    ],
    ids=["model", "pct", "street"],
)
def test_predict_config_refuses_bad_values(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        PredictConfig(**kwargs)


def test_project_keys_round_trip_and_reach_the_predict_stage(tmp_path, monkeypatch):
    import netqa.predict as predict_module
    from netqa.pipeline import stages

    cfg = project_from_dict({"inputs": {"cells": str(CELLS), "dem": str(DEM)},
                             "predict": {"clutter_model": "p2108-statistical", "location_pct": 90, "street_width_m": 20}},
                            base_dir=tmp_path)  # fmt: skip
    assert (cfg.predict.clutter_model, cfg.predict.location_pct, cfg.predict.street_width_m) == ("p2108-statistical", 90.0, 20.0)
    assert {k: cfg.to_dict()["predict"][k] for k in ("clutter_model", "location_pct", "street_width_m")} == {
        "clutter_model": "p2108-statistical", "location_pct": 90.0, "street_width_m": 20.0}
    seen = {}
    monkeypatch.setattr(predict_module, "predict_to_file", lambda *a, config, **kw: seen.setdefault("config", config))
    stages.predict(SimpleNamespace(config=cfg, products={}, out_dir=tmp_path, overwrite=False))
    got = seen["config"]
    assert (got.clutter_model, got.location_pct, got.street_width_m) == ("p2108-statistical", 90.0, 20.0)


@pytest.mark.parametrize(
    "key, value, match",
    [("clutter_model", "itu", "is not one of table, p2108, p2108-statistical"),
     ("location_pct", 100, r"\[predict\] location_pct = 100 is outside"),
     ("street_width_m", 0, r"\[predict\] street_width_m = 0 is outside")],
    ids=["model", "pct", "street"],
)  # fmt: skip
def test_project_refuses_bad_clutter_keys(tmp_path, key, value, match):
    with pytest.raises(ConfigError, match=match):
        project_from_dict({"predict": {key: value}}, base_dir=tmp_path)


# --- the same clutter models in POINTS mode (netqa compare's engine path) ------------------------------------


@pytest.fixture(scope="module")
def point_world(cell_freqs):
    from netqa.compare.points import load_world

    df = pd.read_csv(CELLS)
    rng = np.random.default_rng(5)
    idx = rng.integers(0, len(df), 400)
    lon = df["lon"].to_numpy()[idx] + rng.uniform(-0.012, 0.012, idx.size)  # within ~1 km of a cell
    lat = df["lat"].to_numpy()[idx] + rng.uniform(-0.009, 0.009, idx.size)
    world, inside = load_world(CELLS, DEM, samples_lonlat=(lon, lat), clutter=CLUTTER, clutter_table=TABLE,
                               resolution_m=90.0, radius_km=15.0)  # fmt: skip
    sx, sy = world.sample_xy
    return world, sx[inside], sy[inside], idx[inside]


@pytest.mark.filterwarnings("ignore::propagation.ValidityRangeWarning")
def test_points_mode_applies_the_same_clutter_models(point_world, cell_freqs):
    from netqa.compare.points import point_clutter, predict_samples
    from propagation.engine import EngineConfig

    world, x, y, serving = point_world
    row, col = world.grid.rowcol(x, y)
    code = world.clutter_code[np.clip(row, 0, world.spec.n_rows - 1), np.clip(col, 0, world.spec.n_cols - 1)]
    freq = cell_freqs[serving]
    dist_km = np.hypot(x - world.matrix[serving, 0], y - world.matrix[serving, 1]) / 1000.0
    rsrp = {}
    for model in ("table", "p2108", "p2108-statistical"):
        cfg = PredictConfig(**FAST, clutter_model=model, location_pct=70.0)
        clutter_db, mask = point_clutter(world, x, y, cfg)
        eng = EngineConfig(model="fspl", clutter_location_pct=cfg.location_pct)
        rsrp[model] = predict_samples(world, x, y, serving, eng, clutter_db=clutter_db, clutter_stat_mask=mask).rsrp_dbm
    table_loss = np.array([CLASSES[c][1] for c in code])
    height_gain = np.array([_expected_height_gain_db(f, c) for f, c in zip(freq, code)])
    urban = np.isin(code, [4, 5, 6])
    stat = np.where(urban, p2108_clutter_loss_db(freq, np.maximum(dist_km, 0.25), 70.0), 0.0)
    assert urban.any() and (~urban).any() and (height_gain > 0).any()
    np.testing.assert_allclose(rsrp["table"] - rsrp["p2108"], height_gain - table_loss, atol=1e-9)
    np.testing.assert_allclose(rsrp["table"] - rsrp["p2108-statistical"], stat - table_loss, atol=1e-9)
