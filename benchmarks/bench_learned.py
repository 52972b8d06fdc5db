"""Benchmark of the learned correction (issue 12 item 5): LightGBM vs scikit-learn, and the correction step in predict.

On the synthetic district (``testdata/district``), as generated and with a pattern notch injected
(12 dB at 60 deg off boresight, the same at every site): the calibration's site-out-of-fold residuals
and features (:func:`netqa.calibrate.learned.oof_physics_loss_db`, :func:`netqa.calibrate.features.point_features`),
then per library the site-held-out RMSE without and with the correction, the fit time (cross-validation
+ final fit, one thread) and the predict throughput on 2 M feature rows.  Then ``netqa predict`` of
the district with and without the correction: the correction step's pixels per second.  The Cork
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


def predict_step(tmp: Path, samples: Path, resolution_m: float = 10.0) -> dict:
    """``netqa predict`` of the district with and without the correction: the correction step's throughput."""
    from netqa.calibrate.run import CalibrateOptions, calibrate
    from netqa.predict import PredictConfig, predict

    toml = tmp / "t.toml"
    calibrate(samples, DISTRICT / "cells.csv", DISTRICT / "dem.tif", toml, overwrite=True,
              options=CalibrateOptions(h_eff="ground", learned_correction=True))  # fmt: skip
    text = toml.read_text()
    if "\n[learned]" not in text:
        return {"adopted": False}
    start = text.index("\n[learned]")
    bare = tmp / "bare.toml"
    bare.write_text(text[:start] + text[text.index("\n[calibration]", start):])
    times = {}
    for name, f in (("bare", bare), ("learned", toml)):
        cfg = PredictConfig(model="spm", model_file=f, resolution_m=resolution_m, radius_km=1.5)
        predict(DISTRICT / "cells.csv", DISTRICT / "dem.tif", config=cfg, show_progress=False)  # warm
        t0 = time.perf_counter()
        cov = predict(DISTRICT / "cells.csv", DISTRICT / "dem.tif", config=cfg, show_progress=False)
        times[name] = time.perf_counter() - t0
    n_px = int(np.isfinite(cov.rsrp_dbm).sum())
    step = max(times["learned"] - times["bare"], 1e-9)
    return {"pixels": n_px, "predict_s": round(times["bare"], 2), "with_correction_s": round(times["learned"], 2),
            "correction_px_per_s": round(n_px / step)}  # fmt: skip


def correction_micro(n: int = 2_000_000) -> dict:
    """Trees (:class:`netqa.calibrate.treeeval.FlatTrees`) and geometric features on ``n`` random pixels, 27 cells."""
    from netqa.calibrate.features import FeatureSpec, angle_features
    from netqa.calibrate.learned import LearnedConfig, LearnedCorrection, fit_regressor
    from propagation.engine import cell_matrix
    from propagation.engine._common import bilinear_heights

    rng = np.random.default_rng(1)
    X = np.column_stack([rng.normal(size=5000), rng.uniform(0, 180, 5000), rng.normal(size=5000),
                         rng.normal(size=5000), np.zeros(5000)])  # fmt: skip
    y = np.sin(X[:, 0]) + X[:, 1] / 50 + rng.normal(0, 1, 5000)
    corr = LearnedCorrection(FeatureSpec(), "lightgbm", "", fit_regressor(X, y, np.zeros(5, bool), LearnedConfig(min_samples_leaf=40)), True)
    corr.correction_db(X[:10])  # compile
    big = np.tile(X, (n // len(X) + 1, 1))[:n]
    t0 = time.perf_counter()
    corr.correction_db(big)
    t_trees = time.perf_counter() - t0
    m = cell_matrix(x_m=np.zeros(27), y_m=np.zeros(27), height_m=np.full(27, 30.0), azimuth_deg=np.arange(27) * 13.0,
                    freq_mhz=np.full(27, 1800.0), rs_power_dbm=np.full(27, 15.0), bandwidth_mhz=np.full(27, 20.0),
                    ground_m=np.zeros(27))  # fmt: skip
    x, yy = rng.uniform(-5000, 5000, n), rng.uniform(-5000, 5000, n)
    elev = rng.normal(size=(1000, 1000)).astype(np.float32)
    t0 = time.perf_counter()
    z = bilinear_heights(elev, -5000.0, 5000.0, 10.0, x, yy)
    angle_features(m, x, yy, z, rng.integers(0, 27, n), 1.5)
    t_feat = time.perf_counter() - t0
    return {"trees_rows_per_s": round(n / t_trees), "features_px_per_s": round(n / t_feat),
            "together_px_per_s": round(n / (t_trees + t_feat))}  # fmt: skip


def main(argv=None) -> dict:
    logging.basicConfig(level=logging.WARNING)
    quick = os.environ.get("NETQA_BENCH_QUICK") == "1"
    res = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for notch in (False, True):
            s = _district_samples(tmp, notch)
            rows = compare_libraries(s, 200_000 if quick else 2_000_000)
            res["notch" if notch else "district"] = rows
            for row in rows:
                print(f"learned, district{' + notch' if notch else ''}: {row}")
        res["predict"] = predict_step(tmp, _district_samples(tmp, True), 20.0 if quick else 10.0)
        print(f"learned, predict correction step: {res['predict']}")
    res["micro"] = correction_micro(200_000 if quick else 2_000_000)
    print(f"learned, correction step on random pixels: {res['micro']}")
    return res


if __name__ == "__main__":
    main()
