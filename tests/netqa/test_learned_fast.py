"""The learned correction's fast raster path in predict (issue 12 item 5): features from the tile's arrays and the
engine's best-server terrain loss (:func:`netqa.calibrate.features.grid_features`) against points mode
(:func:`~netqa.calibrate.features.point_features`, the features calibrate trains on) at pixel centres, and the
corrected predict output against the points-mode reference path (:func:`netqa.predict.learned.correct_tile_points`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from netqa.calibrate.features import FeatureSpec, grid_features, point_features

REPO = Path(__file__).resolve().parents[2]
DISTRICT = REPO / "testdata" / "district"
PX = 10.0
N = 40


class _Grid:
    """A north-up grid with ``transform`` and ``rowcol`` (as :class:`netqa.grid.Grid`), left 0, top N * PX."""

    def __init__(self):
        from affine import Affine

        self.transform = Affine(PX, 0, 0, 0, -PX, N * PX)

    @staticmethod
    def rowcol(x, y):
        return ((N * PX - np.asarray(y)) // PX).astype(int), (np.asarray(x) // PX).astype(int)


def _small_world():
    """Two cells (one with NaN ground), rough ground, classes in bands with nodata holes, obstacles up to 20 m."""
    from netqa.compare.points import PointWorld
    from propagation.engine import GridSpec, cell_matrix

    rng = np.random.default_rng(5)
    m = cell_matrix(x_m=[105.0, 300.0], y_m=[300.0, 95.0], height_m=[30.0, 25.0], azimuth_deg=[90.0, 330.0],
                    freq_mhz=[1800.0, 2600.0], rs_power_dbm=[15.0, 15.0], bandwidth_mhz=[20.0, 20.0],
                    ground_m=[12.0, np.nan], mech_tilt_deg=[2.0, 0.0], elec_tilt_deg=[4.0, 6.0])  # fmt: skip
    elev = (10.0 + rng.normal(0, 3, (N, N))).astype(np.float32)
    world = PointWorld(None, m, np.zeros((0, 2, 360)), elev, GridSpec(0.0, N * PX, PX, N, N), None)
    world.grid = _Grid()
    codes = (np.arange(N)[None, :] // 8 % 3 + 1).repeat(N, axis=0).astype(np.int64)
    codes[rng.random(codes.shape) < 0.05] = -1
    codes[0, :3] = 9  # a code outside the table
    world.clutter_code = codes
    world.clutter_name = {1: "open", 2: "urban", 3: "forest"}
    world.obstacle_m = np.where(rng.random((N, N)) < 0.3, rng.uniform(3, 20, (N, N)), 0.0).astype(np.float32)
    world.surface_m = (world.elev_m + world.obstacle_m).astype(np.float32)
    return world


def test_grid_features_equal_point_features_at_pixel_centres():
    """Every column equal at pixel centres (the obstruction fed the same here; its sweep-vs-profile check is below)."""
    from netqa.compare.points import calibration_geometry
    from propagation.engine import EngineConfig

    world = _small_world()
    spec = FeatureSpec("delta-bullington", 1.5, ("open", "urban"), ("open", "urban", "forest"), 60.0, True)
    rng = np.random.default_rng(2)
    rows, cols = rng.integers(0, N, 300), rng.integers(0, N, 300)
    srv = rng.integers(-1, 2, 300)
    x, y = (cols + 0.5) * PX, N * PX - (rows + 0.5) * PX
    geo = calibration_geometry(world, x, y, srv, EngineConfig(model="spm", terrain="delta-bullington"))
    ref = point_features(world, x, y, srv, spec, geometry=geo)
    fast = grid_features(spec, world.matrix, world.elev_m, 0.0, N * PX, PX, rows, cols, srv, geo["diffraction_db"],
                         codes=world.clutter_code, code_names=world.clutter_name, obstacle_m=world.obstacle_m)  # fmt: skip
    assert fast.shape == ref.shape == (300, len(spec.names))
    exact = [k for k, n in enumerate(spec.names) if n != "building_h_m"]  # the numbers the trees saw in training
    np.testing.assert_allclose(fast[:, exact], ref[:, exact], rtol=1e-12, atol=1e-12)  # (libm vs numpy: last bit)
    np.testing.assert_allclose(fast[:, -1], ref[:, -1], rtol=0, atol=1e-4)  # float32 (ground + obstacle) - ground
    assert np.isnan(fast[srv < 0, 0]).all() and np.isfinite(fast[srv >= 0, :5]).all()
    f = dict(zip(spec.names, fast.T))
    assert set(np.unique(f["clutter"][np.isfinite(f["clutter"])])) == {0.0, 1.0}  # forest is not a receiver class
    assert (f["building_h_m"] > 0).any() and (f["share_whole:forest"] > 0).any()


def test_compiled_angles_equal_the_numpy_reference():
    from netqa.calibrate.features import angle_features
    from netqa.calibrate.pixelfeatures import angle_features_fast
    from propagation.engine import cell_matrix

    rng = np.random.default_rng(8)
    m = cell_matrix(x_m=[0.0, 500.0, -300.0], y_m=[0.0, 200.0, 100.0], height_m=[30.0, 25.0, 40.0],
                    azimuth_deg=[0.0, 200.0, 359.0], freq_mhz=[1800.0] * 3, rs_power_dbm=[15.0] * 3,
                    bandwidth_mhz=[20.0] * 3, ground_m=[10.0, 20.0, 5.0], pattern_id=[-1, -2, -1],
                    mech_tilt_deg=[2.0, 0.0, 1.0], elec_tilt_deg=[6.0, 4.0, 0.0])  # fmt: skip
    n = 5000
    x, y, z = rng.uniform(-2000, 2000, n), rng.uniform(-2000, 2000, n), rng.uniform(0, 50, n)
    x[:3], y[:3] = [0.0, 3.0, 500.0], [0.0, 4.0, 200.0]  # on the mast and inside the 10 m floor
    srv = rng.integers(-1, 3, n)
    ref = angle_features(m, x, y, z, srv, 1.5)
    fast = angle_features_fast(m, x, y, z, srv, 1.5)
    for k, name in enumerate(("log_dist_km", "az_off_deg", "elev_off_deg", "log_h_eff_m")):
        np.testing.assert_allclose(fast[:, k], ref[name], rtol=1e-12, atol=1e-12, equal_nan=True)
    assert np.isnan(fast[srv == 1, 1]).all()  # the omni cell has no boresight
    with pytest.raises(ValueError, match="serving row 7 outside the cell matrix"):
        angle_features_fast(m, [0.0], [0.0], [0.0], [7], 1.5)


def test_grid_features_name_the_missing_raster():
    spec = FeatureSpec("none", 1.5, ("open",), (), 300.0, False)
    with pytest.raises(ValueError, match="clutter features: give --clutter"):
        grid_features(spec, _small_world().matrix, np.zeros((N, N)), 0.0, N * PX, PX, [1], [1], [0], [0.0])
    with pytest.raises(ValueError, match="building height at the receiver: give --surface"):
        grid_features(FeatureSpec(building=True), _small_world().matrix, np.zeros((N, N)), 0.0, N * PX, PX, [1], [1],
                      [0], [0.0])  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------------
# netqa predict on the synthetic district: the fast path against the points-mode reference path
# ---------------------------------------------------------------------------------------------------------------------
needs_district = pytest.mark.skipif(not (DISTRICT / "cells.csv").exists(), reason="testdata/district not generated")


def _correction(spec: FeatureSpec):
    """A LightGBM correction on the spec's features: smooth in the obstruction and the angle off boresight."""
    pytest.importorskip("lightgbm")
    from netqa.calibrate.learned import LearnedConfig, LearnedCorrection, fit_regressor

    rng = np.random.default_rng(4)
    n = 6000
    cols = {"log_dist_km": np.log10(rng.uniform(0.02, 1.5, n)), "az_off_deg": rng.uniform(0, 180, n),
            "elev_off_deg": rng.uniform(-10, 40, n), "log_h_eff_m": np.log10(rng.uniform(5, 60, n)),
            "diffraction_db": rng.exponential(8.0, n), "building_h_m": rng.uniform(0, 30, n) * (rng.random(n) < 0.5)}  # fmt: skip
    X = np.column_stack([cols[k] for k in spec.names])
    y = 0.3 * cols["diffraction_db"] + 6.0 * np.exp(-(((cols["az_off_deg"] - 60.0) / 20.0) ** 2)) + 0.1 * cols[
        "building_h_m"] + rng.normal(0, 0.5, n)  # fmt: skip
    model = fit_regressor(X, y, spec.categorical, LearnedConfig(min_samples_leaf=40, max_leaves=8))
    return LearnedCorrection(spec, "lightgbm", "", model, True)


def _predict_both(monkeypatch, terrain: str, building: bool):
    """(fast, reference, bare) best-server RSRP of the district at 20 m, 1 km radius, two tiles across."""
    import netqa.predict.learned as nl
    from netqa.predict import PredictConfig
    from netqa.predict.tiles import compute_tile, make_plan

    surface = DISTRICT / "buildings.tif" if building else None
    cfg = PredictConfig(model="spm", terrain=terrain, resolution_m=20.0, radius_km=1.0, tile_px=64)
    plan = make_plan(DISTRICT / "cells.csv", DISTRICT / "dem.tif", clutter=None, clutter_table=None, config=cfg,
                     grid=None, surface=surface)  # fmt: skip
    corr = _correction(FeatureSpec(terrain, 1.5, (), (), 300.0, building))
    tiles = list(plan.grid.tiles(cfg.tile_px))
    assert len(tiles) > 1

    def run(p):
        out = np.full(plan.grid.shape, np.nan, np.float32)
        for t in tiles:
            out[t.row_off : t.row_off + t.rows, t.col_off : t.col_off + t.cols] = compute_tile(p, t, False).bands[0]
        return out

    bare = run(plan)
    fast = run(dataclasses.replace(plan, learned=corr))
    monkeypatch.setattr(nl, "correct_tile", lambda plan, sub, elev, region, rsrp, best, terrain_db, surface_m=None:
                        nl.correct_tile_points(plan, sub, elev, region, rsrp, best, surface_m=surface_m))  # fmt: skip
    ref = run(dataclasses.replace(plan, learned=corr))
    return fast.astype(float), ref.astype(float), bare.astype(float)


@needs_district
def test_predict_fast_path_equals_points_mode_without_terrain_method(monkeypatch):
    """No terrain method, building height from --surface: the two paths give the same pixels (float32 rounding)."""
    fast, ref, bare = _predict_both(monkeypatch, "none", True)
    ok = np.isfinite(bare)
    assert ok.mean() > 0.5
    np.testing.assert_array_equal(np.isfinite(fast), ok)
    np.testing.assert_allclose(fast[ok], ref[ok], atol=1e-4)
    assert np.std(bare[ok] - fast[ok]) > 1.0  # the correction acts and varies


@needs_district
@pytest.mark.parametrize("building", [False, True], ids=["dem", "surface"])
def test_predict_fast_path_agrees_with_points_mode_with_delta_bullington(monkeypatch, building):
    """With delta-Bullington the obstruction feature is the sweep's (fast) or the exact profile's (reference).

    Reached: mean |difference| 0.002 dB (DEM) and 0.012 dB (surface), P99 0.06 and 0 dB, max 0.5 and 3.9 dB."""
    fast, ref, bare = _predict_both(monkeypatch, "delta-bullington", building)
    ok = np.isfinite(bare)
    np.testing.assert_array_equal(np.isfinite(fast), ok)
    err = np.abs(fast[ok] - ref[ok])
    assert err.mean() <= 0.05 and np.percentile(err, 99) <= 0.5, (err.mean(), np.percentile(err, 99), err.max())
    assert np.std(bare[ok] - fast[ok]) > 1.0


# ---------------------------------------------------------------------------------------------------------------------
# the trees as lookup tables (netqa.calibrate.treetable)
# ---------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["finite", "with-nan", "zero-as-missing"])
def test_tree_tables_equal_lightgbm(case):
    """Same sums as LightGBM's own predict: NaN, categorical codes (unseen, negative, huge) and missing type Zero."""
    lgb = pytest.importorskip("lightgbm")
    from netqa.calibrate.learned import predict_regressor
    from netqa.calibrate.treetable import TreeTables

    rng = np.random.default_rng(9)
    n = 5000
    X = np.column_stack([rng.normal(size=n), rng.uniform(0, 180, n), rng.integers(0, 6, n).astype(float), np.zeros(n),
                         np.where(rng.random(n) < 0.3, 0.0, rng.exponential(3.0, n))])  # fmt: skip
    if case != "finite":
        X[rng.random(X.shape) < 0.2] = np.nan
    y = np.nan_to_num(np.sin(X[:, 0]) * 3 + (X[:, 2] == 3) * 5 + X[:, 1] / 40 + X[:, 4]) + rng.normal(0, 0.5, n)
    params = {"objective": "regression", "num_leaves": 4, "min_data_in_leaf": 20, "verbose": -1, "num_threads": 1,
              "zero_as_missing": case == "zero-as-missing"}  # fmt: skip
    model = lgb.train(params, lgb.Dataset(X, y, categorical_feature=[2]), num_boost_round=60)
    tables = TreeTables.from_booster(model)
    assert tables is not None
    Xt = X[rng.permutation(n)[:2000]].copy()
    Xt[:6, 2] = [-1.0, 7.0, np.nan, 300.0, 3.0, 2.5]  # unseen, negative, missing, huge and fractional categories
    Xt[6:10, 4] = [0.0, -0.0, 1e-40, -1e-40]
    np.testing.assert_allclose(tables.predict(Xt), predict_regressor(model, Xt), atol=1e-9)


def test_tree_tables_too_large_fall_back_to_the_tree_walk():
    pytest.importorskip("lightgbm")
    from netqa.calibrate.learned import LearnedCorrection
    from netqa.calibrate.treeeval import FlatTrees
    from netqa.calibrate.treetable import TreeTables

    corr = _correction(FeatureSpec("delta-bullington", 1.5))
    assert TreeTables.from_booster(corr.model, max_entries=10) is None
    X = np.column_stack([np.log10([0.3, 0.8]), [10.0, 60.0], [2.0, 5.0], np.log10([20.0, 30.0]), [0.0, 12.0]])
    np.testing.assert_allclose(corr.correction_db(X), FlatTrees.from_booster(corr.model).predict(X), atol=1e-9)
    assert isinstance(LearnedCorrection(corr.spec, "lightgbm", "", corr.model, True).correction_db(X), np.ndarray)
