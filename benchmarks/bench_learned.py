"""Benchmark of the learned correction (issue 12 item 5): LightGBM vs scikit-learn, and the correction step in predict.

On the synthetic district (``testdata/district``), as generated and with a pattern notch injected
(12 dB at 60 deg off boresight, the same at every site): the calibration's site-out-of-fold residuals
and features (:func:`netqa.calibrate.learned.oof_physics_loss_db`, :func:`netqa.calibrate.features.point_features`),
then per library the site-held-out RMSE without and with the correction, the fit time (cross-validation
+ final fit, one thread) and the predict throughput on 2 M feature rows.  Then ``netqa predict`` of
the district (5 m, without and with delta-Bullington) without and with the correction, the fast path and the
earlier points-mode path in the same run: the correction step's pixels per second.  ``NETQA_BENCH_LEARNED_STEP_ONLY=1``
skips the library comparison.  The Cork
logs in ../shared/realdata carry no cell table or DEM, so they cannot be calibrated here.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DISTRICT = REPO / "testdata" / "district"


def _district_samples(tmp: Path, notch: bool) -> Path:
    import pandas as pd

    if not notch:
        return DISTRICT / "drives" / "district.csv"
    cells = pd.read_csv(DISTRICT / "cells.csv", dtype={"cell_id": str})
    s = pd.read_csv(DISTRICT / "drives" / "district.csv", dtype={"cell_id": str})
    c = cells.set_index(cells["cell_id"].astype(str)).loc[s["cell_id"].astype(str)]
    dx = (s["lon"].to_numpy() - c["lon"].to_numpy()) * np.cos(np.radians(c["lat"].to_numpy()))
    az = np.abs((np.degrees(np.arctan2(dx, s["lat"].to_numpy() - c["lat"].to_numpy())) - c["azimuth_deg"].to_numpy()
                 + 180.0) % 360.0 - 180.0)  # fmt: skip
    s["rsrp_dbm"] = s["rsrp_dbm"] - 12.0 * np.exp(-(((az - 60.0) / 20.0) ** 2))
    p = tmp / "notch.csv"
    s.to_csv(p, index=False)
    return p


def compare_libraries(samples: Path, n_rows: int = 2_000_000) -> list[dict]:
    """Per library: held-out RMSE (physics, corrected), fit + CV time [s], predict throughput [rows/s]."""
    from netqa.calibrate.fit import CalibrationConfig, fit_spm
    from netqa.calibrate.learned import LearnedConfig, fit_correction, fit_regressor, oof_physics_loss_db
    from netqa.calibrate.run import CalibrateOptions, calibration_data

    opt = CalibrateOptions(h_eff="ground", cv_group="site")
    ex: dict = {}
    data, *_, band, _att = calibration_data(samples, DISTRICT / "cells.csv", DISTRICT / "dem.tif", options=opt,
                                            attenuation=True, extras=ex)  # fmt: skip
    cfg = CalibrationConfig(**{**opt.fit.__dict__, "cv_group": "site"})
    cal = fit_spm(data, cfg)
    cal.bands = {}
    r = data.loss_db - oof_physics_loss_db(data, band, cal, cfg, data.site)
    X = ex["X"]
    big = np.tile(X, (n_rows // len(X) + 1, 1))[:n_rows]
    out = []
    for lib in ("lightgbm", "sklearn"):
        lc = LearnedConfig(library=lib)
        t0 = time.perf_counter()
        corr = fit_correction(X, r, data.site, ex["spec"], lc)
        t_fit = time.perf_counter() - t0
        model = corr.model if corr.model is not None else fit_regressor(X, np.nan_to_num(r), ex["spec"].categorical, lc)
        from netqa.calibrate.learned import predict_regressor

        t0 = time.perf_counter()
        predict_regressor(model, big)
        t_pred = time.perf_counter() - t0
        out.append({"library": lib, "rmse_physics_db": corr.holdout["rmse_physics_db"],
                    "rmse_corrected_db": corr.holdout["rmse_corrected_db"], "adopted": corr.adopted,
                    "fit_cv_s": round(t_fit, 2), "predict_rows_per_s": round(n_rows / t_pred)})  # fmt: skip
    return out


def predict_step(tmp: Path, samples: Path, resolution_m: float = 5.0, terrain: str = "none") -> dict:
    """``netqa predict`` of the district without and with the correction, fast path and the earlier path, one run.

    The correction step's time is the ``learned`` phase (features + trees) plus what the engine's
    ``best_terrain_db`` output adds to the ``engine`` phase (:mod:`netqa.timings`); the earlier path (the
    baseline, measured in the same run) is the points-mode features (:func:`netqa.predict.learned.correct_tile_points`,
    one exact profile per pixel) with the tree walk (:class:`netqa.calibrate.treeeval.FlatTrees`).  Best of 3 runs.
    """
    import netqa.predict.learned as nl
    from netqa import timings
    from netqa.calibrate import treetable
    from netqa.calibrate.run import CalibrateOptions, calibrate
    from netqa.predict import PredictConfig, predict

    toml = tmp / f"t-{terrain}.toml"
    calibrate(samples, DISTRICT / "cells.csv", DISTRICT / "dem.tif", toml, overwrite=True,
              options=CalibrateOptions(h_eff="ground", terrain=terrain, learned_correction=True))  # fmt: skip
    text = toml.read_text()
    if "\n[learned]" not in text:
        return {"terrain": terrain, "adopted": False}
    start = text.index("\n[learned]")
    bare = tmp / f"bare-{terrain}.toml"
    bare.write_text(text[:start] + text[text.index("\n[calibration]", start):])
    fast_tile, fast_tables = nl.correct_tile, treetable.TreeTables.from_booster

    def slow_tile(plan, sub, elev, region, rsrp, best, terrain_db, surface_m=None):
        return nl.correct_tile_points(plan, sub, elev, region, rsrp, best, surface_m=surface_m)

    from propagation.engine import raster

    pick = raster._take_server_excess
    pick_s = [0.0]

    def timed_pick(*args):  # the engine's only extra work for best_terrain_db (timed exactly: the engine's
        t0 = time.perf_counter()  # ~1 s varies by more than it on a shared machine)
        pick(*args)
        pick_s[0] += time.perf_counter() - t0

    phases, results = {}, {}
    # warm-up (compiles, caches) first, then alternate the runs (a shared machine): fastest of each phase
    runs = [("warm", toml, False), ("warm", toml, True)] + [("earlier", toml, True)] * 2
    runs += [("bare", bare, False), ("fast", toml, False)] * 5
    for name, f, slow in runs:
        nl.correct_tile, treetable.TreeTables.from_booster = (slow_tile, lambda *a, **k: None) if slow else (fast_tile, fast_tables)
        raster._take_server_excess = timed_pick
        try:
            cfg = PredictConfig(model="spm", terrain=terrain, model_file=f, resolution_m=resolution_m, radius_km=1.5)
            timings.reset()
            pick_s[0] = 0.0
            cov = predict(DISTRICT / "cells.csv", DISTRICT / "dem.tif", config=cfg, show_progress=False)
            t = timings.totals()
            t["pick"] = pick_s[0]
            best = phases.setdefault(name, {})
            for k in ("engine", "learned", "pick"):  # fastest of the runs, per phase
                best[k] = min(best.get(k, np.inf), t.get(k, 0.0))
            results[name] = np.asarray(cov.rsrp_dbm, np.float64)
        finally:
            nl.correct_tile, treetable.TreeTables.from_booster = fast_tile, fast_tables
            raster._take_server_excess = pick
    from netqa.io.learnedfile import load_learned
    from netqa.io.modelfile import read_model_file

    model = load_learned(toml, read_model_file(toml).learned).model
    t0 = time.perf_counter()
    treetable.TreeTables.from_booster(model)
    build_s = time.perf_counter() - t0
    n_px = int(np.isfinite(results["bare"]).sum())
    out = {"terrain": terrain, "resolution_m": resolution_m, "pixels": n_px,
           "engine_s": round(phases["bare"]["engine"], 3)}  # fmt: skip
    out["engine_fast_s"] = round(phases["fast"]["engine"], 3)  # with best_terrain_db (within noise of engine_s)
    for name in ("fast", "earlier"):
        # the fast path's engine work: the best server's terrain pick; the earlier path's points-mode engine calls
        # run inside its "learned" phase (they also count in "engine", nested)
        extra = phases[name]["pick"] if name == "fast" else 0.0
        step = phases[name]["learned"] + extra
        out[f"{name}_step_s"] = round(step, 3)
        out[f"{name}_engine_extra_s"] = round(extra, 4)
        out[f"{name}_px_per_s"] = round(n_px / max(step, 1e-9))
    out["tables_build_s"] = round(build_s, 3)  # once per process (included in fast_step_s)
    out["fast_px_per_s_after_build"] = round(n_px / max(out["fast_step_s"] - build_s, 1e-9))
    d = np.abs(results["fast"] - results["earlier"])[np.isfinite(results["bare"])]
    out["fast_vs_earlier_db"] = {"mean": round(float(d.mean()), 4), "p99": round(float(np.percentile(d, 99)), 3),
                                 "max": round(float(d.max()), 3)}  # fmt: skip
    return out


def terrain_feature_agreement(resolution_m: float = 10.0) -> dict:
    """The obstruction feature at predict (the sweep's best-server excess loss) against training's (points mode, the
    exact straight profile) at every covered pixel centre of the district: |difference| statistics [dB]."""
    from netqa.calibrate.features import FeatureSpec, point_features
    from netqa.compare.points import PointWorld
    from netqa.predict import PredictConfig
    from netqa.predict.surface import read_surface
    from netqa.predict.tiles import make_plan, read_elevation
    from propagation.engine import GridSpec, predict_coverage

    out = {}
    for name, surface in (("dem", None), ("surface", DISTRICT / "buildings.tif")):
        cfg = PredictConfig(model="spm", terrain="delta-bullington", resolution_m=resolution_m, radius_km=1.5)
        plan = make_plan(DISTRICT / "cells.csv", DISTRICT / "dem.tif", clutter=None, clutter_table=None, config=cfg,
                         grid=None, surface=surface)  # fmt: skip
        g = plan.grid
        elev = read_elevation(plan, g)
        obst = read_surface(surface, g) if surface is not None else None
        spec = GridSpec(g.transform.c, g.transform.f, g.pixel_size_m, g.height, g.width)
        cov = predict_coverage(plan.matrix, elev, spec, plan.engine, patterns=plan.patterns, surface_m=obst,
                               best_terrain_db=True)  # fmt: skip
        ok = np.isfinite(cov.best_cell)
        r, c = np.nonzero(ok)
        world = PointWorld(plan.df, plan.matrix, plan.patterns, np.asarray(elev, np.float32), spec, g.crs)
        world.grid = g
        if obst is not None:
            world.obstacle_m = np.asarray(obst, np.float32)
            world.surface_m = (world.elev_m + world.obstacle_m).astype(np.float32)
        x, y = g.transform.c + (c + 0.5) * g.pixel_size_m, g.transform.f - (r + 0.5) * g.pixel_size_m
        ref = point_features(world, x, y, cov.best_cell[ok].astype(np.int64), FeatureSpec("delta-bullington"))[:, 4]
        e = np.abs(cov.terrain_db[ok].astype(np.float64) - ref)
        out[name] = {"pixels": int(e.size), "mean_ref_db": round(float(ref.mean()), 2), "mean_abs_db": round(float(e.mean()), 3),
                     "p95_db": round(float(np.percentile(e, 95)), 3), "within_3db": round(float((e <= 3.0).mean()), 4),
                     "max_db": round(float(e.max()), 2)}  # fmt: skip
    return out


def correction_micro(n: int = 2_000_000) -> dict:
    """Trees (tables, :class:`netqa.calibrate.treetable.TreeTables`; and the tree walk,
    :class:`netqa.calibrate.treeeval.FlatTrees`) and the features of :func:`netqa.calibrate.features.grid_features`
    on ``n`` random pixels of a 1000 x 1000 window, 27 cells."""
    from netqa.calibrate.features import FeatureSpec, grid_features
    from netqa.calibrate.learned import LearnedConfig, LearnedCorrection, fit_regressor
    from netqa.calibrate.treeeval import FlatTrees
    from propagation.engine import cell_matrix

    rng = np.random.default_rng(1)
    X = np.column_stack([rng.normal(size=5000), rng.uniform(0, 180, 5000), rng.normal(size=5000),
                         rng.normal(size=5000), rng.exponential(3.0, 5000)])  # fmt: skip
    y = np.sin(X[:, 0]) + X[:, 1] / 50 + 0.3 * X[:, 4] + rng.normal(0, 1, 5000)
    spec = FeatureSpec("delta-bullington")
    corr = LearnedCorrection(spec, "lightgbm", "", fit_regressor(X, y, np.zeros(5, bool), LearnedConfig(min_samples_leaf=40)), True)
    walk = FlatTrees.from_booster(corr.model)
    corr.correction_db(X[:10]), walk.predict(X[:10])  # compile
    big = np.tile(X, (n // len(X) + 1, 1))[:n]
    t_trees = t_walk = t_feat = np.inf
    m = cell_matrix(x_m=np.zeros(27), y_m=np.zeros(27), height_m=np.full(27, 30.0), azimuth_deg=np.arange(27) * 13.0,
                    freq_mhz=np.full(27, 1800.0), rs_power_dbm=np.full(27, 15.0), bandwidth_mhz=np.full(27, 20.0),
                    ground_m=np.zeros(27))  # fmt: skip
    rows, cols = rng.integers(0, 1000, n), rng.integers(0, 1000, n)
    srv, terr = rng.integers(0, 27, n), rng.exponential(3.0, n)
    elev = rng.normal(size=(1000, 1000)).astype(np.float32)
    for _ in range(3):  # best of 3 (a shared machine)
        t0 = time.perf_counter()
        corr.correction_db(big)
        t1 = time.perf_counter()
        walk.predict(big)
        t2 = time.perf_counter()
        grid_features(spec, m, elev, -5000.0, 5000.0, 10.0, rows, cols, srv, terr)
        t3 = time.perf_counter()
        t_trees, t_walk, t_feat = min(t_trees, t1 - t0), min(t_walk, t2 - t1), min(t_feat, t3 - t2)
    return {"tables_rows_per_s": round(n / t_trees), "tree_walk_rows_per_s": round(n / t_walk),
            "features_px_per_s": round(n / t_feat), "together_px_per_s": round(n / (t_trees + t_feat))}  # fmt: skip


def main(argv=None) -> dict:
    logging.basicConfig(level=logging.WARNING)
    quick = os.environ.get("NETQA_BENCH_QUICK") == "1"
    res = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for notch in (False, True) if os.environ.get("NETQA_BENCH_LEARNED_STEP_ONLY") != "1" else ():
            s = _district_samples(tmp, notch)
            rows = compare_libraries(s, 200_000 if quick else 2_000_000)
            res["notch" if notch else "district"] = rows
            for row in rows:
                print(f"learned, district{' + notch' if notch else ''}: {row}")
        for terrain in ("none", "delta-bullington"):
            res[f"predict-{terrain}"] = predict_step(tmp, _district_samples(tmp, True), 20.0 if quick else 5.0, terrain)
            print(f"learned, predict correction step: {res[f'predict-{terrain}']}")
    res["terrain_feature"] = terrain_feature_agreement(20.0 if quick else 10.0)
    print(f"learned, obstruction feature sweep vs exact profile: {res['terrain_feature']}")
    res["micro"] = correction_micro(200_000 if quick else 2_000_000)
    print(f"learned, correction step on random pixels: {res['micro']}")
    return res


if __name__ == "__main__":
    main()
