"""The learned correction (issue 12 item 5): adopted on a pattern-shaped residual, refused on noise, the model file
round trip, version checks, and compare/predict applying it."""

from __future__ import annotations

import numpy as np
import pytest

from netqa.calibrate.features import FeatureSpec
from netqa.calibrate.learned import LearnedConfig, fit_correction

pytest.importorskip("lightgbm")

SPEC = FeatureSpec(terrain="none", rx_height_m=1.5)


def _synthetic(pattern_db: float, n: int = 6000, n_sites: int = 12, seed: int = 3):
    """Features of ``n`` samples around ``n_sites`` sites; residual = a pattern-shaped error + 4 dB site-free noise."""
    rng = np.random.default_rng(seed)
    log_d = np.log10(rng.uniform(0.1, 3.0, n))
    az = rng.uniform(0, 180, n)
    elev = rng.uniform(-5, 15, n)
    X = np.column_stack([log_d, az, elev, np.log10(rng.uniform(15, 40, n)), rng.exponential(2.0, n)])
    shape = np.minimum(12 * (az / 40.0) ** 2, 20.0) - np.minimum(12 * (az / 65.0) ** 2, 20.0)  # narrower real beam
    residual = pattern_db * shape / 20.0 + rng.normal(0, 4.0, n)
    sites = np.array([f"S{i % n_sites}" for i in range(n)], dtype=object)
    return X, residual, sites


@pytest.mark.parametrize("library", ["lightgbm", "sklearn"])
def test_pattern_shaped_residual_is_learned_and_adopted(library):
    pytest.importorskip("sklearn")
    X, r, sites = _synthetic(20.0)
    out = fit_correction(X, r, sites, SPEC, LearnedConfig(library=library, n_trees=100))
    h = out.holdout
    assert out.adopted, out.reason
    assert h["rmse_corrected_db"] < h["rmse_physics_db"] - 1.5
    assert h["rmse_corrected_db"] == pytest.approx(4.0, abs=0.4)  # down to the injected noise
    assert h["cv_group"] == "site" and h["n_sites"] == 12


def test_pure_noise_is_not_adopted():
    X, r, sites = _synthetic(0.0)
    out = fit_correction(X, r, sites, SPEC, LearnedConfig(n_trees=100))
    assert not out.adopted and out.model is None
    assert "not adopted" in out.reason
    assert out.holdout["rmse_corrected_db"] >= out.holdout["rmse_physics_db"] - 0.1  # both numbers recorded


def test_fit_is_deterministic_within_tolerance():
    X, r, sites = _synthetic(10.0, n=2000)
    a = fit_correction(X, r, sites, SPEC, LearnedConfig(n_trees=50))
    b = fit_correction(X, r, sites, SPEC, LearnedConfig(n_trees=50))
    np.testing.assert_allclose(a.correction_db(X[:200]), b.correction_db(X[:200]), atol=1e-6)


def test_one_site_is_not_validated():
    X, r, _ = _synthetic(10.0, n=1000)
    out = fit_correction(X, r, np.full(r.size, "S1", object), SPEC)
    assert not out.adopted and "site" in out.reason


# ---------------------------------------------------------------------------------------------------------------------
# calibrate -> model file -> compare / predict on the synthetic district, with a pattern-shaped error injected
# ---------------------------------------------------------------------------------------------------------------------
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DISTRICT = REPO / "testdata" / "district"
needs_district = pytest.mark.skipif(not (DISTRICT / "cells.csv").exists(), reason="testdata/district not generated")


def _az_off_deg(samples, cells):
    c = cells.set_index(cells["cell_id"].astype(str)).loc[samples["cell_id"].astype(str)]
    dx = (samples["lon"].to_numpy() - c["lon"].to_numpy()) * np.cos(np.radians(c["lat"].to_numpy()))
    dy = samples["lat"].to_numpy() - c["lat"].to_numpy()
    bearing = np.degrees(np.arctan2(dx, dy))
    return np.abs((bearing - c["azimuth_deg"].to_numpy() + 180.0) % 360.0 - 180.0)


@pytest.fixture(scope="module")
def district_run(tmp_path_factory):
    """Samples with an extra loss shaped like a pattern notch 60 deg off boresight (the same at every site), calibrated with
    --learned-correction, and compared with and without the correction."""
    import pandas as pd

    from netqa.cli import main

    if not (DISTRICT / "cells.csv").exists():
        pytest.skip("testdata/district not generated")
    d = tmp_path_factory.mktemp("learned")
    cells = pd.read_csv(DISTRICT / "cells.csv", dtype={"cell_id": str})
    s = pd.read_csv(DISTRICT / "drives" / "district.csv", dtype={"cell_id": str})
    s["rsrp_dbm"] = s["rsrp_dbm"] - 12.0 * np.exp(-(((_az_off_deg(s, cells) - 60.0) / 20.0) ** 2))  # a pattern notch
    s.to_csv(d / "samples.csv", index=False)
    common = ["--samples", str(d / "samples.csv"), "--cells", str(DISTRICT / "cells.csv"), "--dem", str(DISTRICT / "dem.tif")]
    assert main(["calibrate", *common, "--h-eff", "ground", "--learned-correction", "--out", str(d / "t.toml"),
                 "--quiet"]) == 0  # fmt: skip
    assert main(["compare", *common, "--model", "spm", "--model-file", str(d / "t.toml"), "--out", str(d / "cmp"),
                 "--quiet"]) == 0  # fmt: skip
    return d, common


@needs_district
def test_district_correction_is_adopted_stored_and_used_by_compare(district_run):
    import json

    from netqa.io.modelfile import read_model_file

    d, _ = district_run
    tm = read_model_file(d / "t.toml")
    h = tm.learned["holdout"]
    assert h["cv_group"] == "site" and h["rmse_corrected_db"] < h["rmse_physics_db"] - 0.5
    assert (d / tm.learned["file"]).is_file() and tm.learned["library"] == "lightgbm"
    assert tm.learned["features"]["names"][:2] == ["log_dist_km", "az_off_deg"]
    stats = json.loads((d / "cmp" / "stats.json").read_text())
    assert stats["model"]["learned_correction"]["holdout"]["rmse_corrected_db"] == h["rmse_corrected_db"]


@needs_district
def test_model_file_round_trip_gives_the_same_correction(district_run):
    from netqa.io.learnedfile import load_learned
    from netqa.io.modelfile import read_model_file

    d, _ = district_run
    tm = read_model_file(d / "t.toml")
    corr = load_learned(d / "t.toml", tm.learned)
    X = np.array([[np.log10(0.5), 5.0, 2.0, np.log10(25.0), 0.0], [np.log10(0.5), 60.0, 2.0, np.log10(25.0), 0.0]])
    g = corr.correction_db(X)
    assert g[1] - g[0] > 4.0  # in the notch the learned extra loss is large (12 dB injected)


@needs_district
@pytest.mark.parametrize("edit, match", [
    (lambda t: t.replace('library_version = "', 'library_version = "0.'), r"fitted with lightgbm 0\..*install"),
    (lambda t: t.replace('"log_h_eff_m"', '"h_eff_km"'), r"features: feature list"),
    (lambda t: t.replace('sha256 = "', 'sha256 = "00'), r"does not match its sha256"),
], ids=["version", "features", "sidecar"])  # fmt: skip
def test_mismatched_record_is_refused(district_run, tmp_path, edit, match):
    import shutil

    from netqa.errors import ConfigError
    from netqa.io.learnedfile import load_learned
    from netqa.io.modelfile import read_model_file

    d, _ = district_run
    tm0 = read_model_file(d / "t.toml")
    shutil.copy(d / tm0.learned["file"], tmp_path / tm0.learned["file"])
    (tmp_path / "t.toml").write_text(edit((d / "t.toml").read_text()))
    with pytest.raises(ConfigError, match=match):
        load_learned(tmp_path / "t.toml", read_model_file(tmp_path / "t.toml").learned)


@needs_district
def test_predict_applies_the_correction(district_run):
    from netqa.io.modelfile import read_model_file
    from netqa.predict import PredictConfig, predict

    d, _ = district_run
    cfg = PredictConfig(model="spm", model_file=d / "t.toml", resolution_m=40.0, radius_km=1.5)
    with_corr = predict(DISTRICT / "cells.csv", DISTRICT / "dem.tif", config=cfg, show_progress=False)
    tm = read_model_file(d / "t.toml")
    bare = d / "bare.toml"  # the same physics without the [learned] record
    text = (d / "t.toml").read_text()
    start = text.index("\n[learned]")
    end = text.index("\n[calibration]", start)
    bare.write_text(text[:start] + text[end:])
    without = predict(DISTRICT / "cells.csv", DISTRICT / "dem.tif", config=PredictConfig(
        model="spm", model_file=bare, resolution_m=40.0, radius_km=1.5), show_progress=False)  # fmt: skip
    diff = np.asarray(without.rsrp_dbm, np.float64) - np.asarray(with_corr.rsrp_dbm, np.float64)
    ok = np.isfinite(diff)
    assert ok.mean() > 0.5 and tm.learned
    assert np.nanstd(diff) > 1.0  # a correction that varies over the area (antenna angles)
    np.testing.assert_array_equal(np.asarray(without.best_cell)[ok], np.asarray(with_corr.best_cell)[ok])


@needs_district
def test_compare_warns_when_the_correction_cannot_apply(district_run, capsys):
    from netqa.cli import main

    d, common = district_run
    assert main(["compare", *common, "--model", "spm", "--model-file", str(d / "t.toml"), "--terrain",
                 "delta-bullington", "--out", str(d / "cmp2")]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert "learned correction" in err and "NOT APPLIED: it was trained with --terrain none" in err


@pytest.mark.parametrize("nan_share", [0.0, 0.2], ids=["finite", "with-nan"])
def test_flat_trees_equal_lightgbm(nan_share):
    from netqa.calibrate.learned import fit_regressor, predict_regressor
    from netqa.calibrate.treeeval import FlatTrees

    rng = np.random.default_rng(9)
    n = 5000
    X = np.column_stack([rng.normal(size=n), rng.uniform(0, 180, n), rng.integers(0, 6, n).astype(float), np.zeros(n)])
    X[rng.random(X.shape) < nan_share] = np.nan
    y = np.nan_to_num(np.sin(X[:, 0]) * 3 + (X[:, 2] == 3) * 5 + X[:, 1] / 40) + rng.normal(0, 0.5, n)
    model = fit_regressor(X, y, [False, False, True, False], LearnedConfig(max_leaves=8, min_samples_leaf=20))
    flat = FlatTrees.from_booster(model)
    Xt = X[rng.permutation(n)[:2000]].copy()
    Xt[:5, 2] = [-1.0, 7.0, np.nan, 300.0, 3.0]  # unseen, negative, missing and huge categories
    np.testing.assert_allclose(flat.predict(Xt), predict_regressor(model, Xt), atol=1e-9)


class _Grid10:
    """The 10 m grid of :func:`test_point_features_on_a_small_world` (left 0, top 100 m)."""

    def __init__(self):
        from affine import Affine

        self.transform = Affine(10, 0, 0, 0, -10, 100)

    @staticmethod
    def rowcol(x, y):
        return ((100 - np.asarray(y)) // 10).astype(int), (np.asarray(x) // 10).astype(int)


def test_point_features_on_a_small_world():
    """Angles, clutter class and path shares on a 10 x 10 grid with classes by column (known by construction)."""
    from netqa.calibrate.features import point_features
    from netqa.compare.points import PointWorld
    from propagation.engine import GridSpec, cell_matrix

    m = cell_matrix(x_m=[50.0], y_m=[50.0], height_m=[30.0], azimuth_deg=[90.0], freq_mhz=[1800.0],
                    rs_power_dbm=[15.0], bandwidth_mhz=[20.0], ground_m=[0.0], mech_tilt_deg=[2.0],
                    elec_tilt_deg=[4.0])  # fmt: skip
    world = PointWorld(None, m, np.zeros((0, 2, 360)), np.zeros((10, 10), np.float32), GridSpec(0.0, 100.0, 10.0, 10, 10),
                       None)  # fmt: skip
    world.grid = _Grid10()
    world.clutter_code = np.where(np.arange(10)[None, :] < 7, 1, 2).repeat(10, axis=0)
    world.clutter_name = {1: "open", 2: "urban"}
    spec = FeatureSpec("none", 1.5, ("open", "urban"), ("open", "urban"), 20.0)
    X = point_features(world, [95.0, 50.0], [50.0, 95.0], [0, 0], spec)
    f = dict(zip(spec.names, X.T))
    np.testing.assert_allclose(f["az_off_deg"], [0.0, 90.0], atol=1e-9)
    np.testing.assert_allclose(f["log_dist_km"], np.log10([0.045, 0.045]))
    np.testing.assert_allclose(f["elev_off_deg"], np.degrees(np.arctan2(28.5, 45.0)) - 6.0)
    np.testing.assert_allclose(f["clutter"], [1.0, 0.0])  # urban (index 1) east of x = 70 m, open elsewhere
    assert f["share_near:urban"][0] == 1.0 and f["share_whole:urban"][1] == 0.0
    assert 0.4 < f["share_whole:urban"][0] < 0.7


@needs_district
def test_recalibrating_without_the_correction_removes_the_sidecar(district_run, tmp_path):
    import shutil

    from netqa.cli import main

    d, common = district_run
    shutil.copy(d / "t.toml", tmp_path / "t.toml")
    shutil.copy(d / "t.learned.txt", tmp_path / "t.learned.txt")
    assert main(["calibrate", *common, "--h-eff", "ground", "--out", str(tmp_path / "t.toml"), "--overwrite",
                 "--quiet"]) == 0  # fmt: skip
    assert not (tmp_path / "t.learned.txt").exists() and "[learned]" not in (tmp_path / "t.toml").read_text()
