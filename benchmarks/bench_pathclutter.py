"""Cost of the clutter losses along the path in ``netqa predict`` (issue 12 item 3), on the test world.

``netqa predict`` of the test world (84 cells at 28 sites, 30 m, tuned SPM + delta-Bullington + clutter
table) with a model file without and with ``[path_clutter]`` (near and whole-path losses), in this process
after a warm-up run (kernels compiled), best of :data:`REPEAT`; and the path-clutter kernel alone for one
mast over its disk (pixels per second).  Model files: near-only losses (``near.toml``: the walk covers the
last 300 m only) and near + whole-path losses (``path.toml``: the whole path is walked).  ``NETQA_BENCH_QUICK=1``: radius 3 km only.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np

QUICK = os.environ.get("NETQA_BENCH_QUICK") == "1"
REPEAT = 2
ROOT = Path(__file__).resolve().parents[1]
TESTDATA = ROOT / "testdata"
SPM = ("[spm]\nk1 = 23.0\nk2 = 44.9\nk3 = -13.82\nk4 = 0.7\nk5 = -6.55\nk6 = 0.0\nk7 = 0.0\n"
       "f_ref_mhz = 1800.0\nk_freq_db_per_decade = 23.0\n")  # fmt: skip
NEAR = ("[path_clutter]\nnear_m = 300.0\n[path_clutter.near_db]\nforest = 6.0\nsuburban = 4.0\nurban = 9.0\n"
        "dense_urban = 12.0\n")  # fmt: skip
PATH = NEAR + "[path_clutter.whole_db]\nforest = 2.0\nurban = 3.0\ndense_urban = 5.0\n"


def _predict(model_file: Path, radius_km: float):
    from netqa.predict import PredictConfig, predict

    cfg = PredictConfig(model="spm", terrain="delta-bullington", model_file=model_file, radius_km=radius_km)
    t0 = time.perf_counter()
    res = predict(TESTDATA / "cells.csv", TESTDATA / "dem.tif", clutter=TESTDATA / "clutter.tif",
                  clutter_table=TESTDATA / "clutter_classes.csv", config=cfg, show_progress=False)  # fmt: skip
    return time.perf_counter() - t0, res


def _kernel_rate(radius_km: float) -> float:
    """Pixels per second of the path-clutter walk alone, one mast at the centre of the test world's clutter."""
    import rasterio

    from propagation.engine import path_clutter_loss_db

    with rasterio.open(TESTDATA / "clutter.tif") as ds:
        codes = ds.read(1).astype(np.int64)
        t = ds.transform
    near, whole = np.array([0, 0, 0, 6.0, 4.0, 9.0, 12.0]), np.array([0, 0, 0, 2.0, 0, 3.0, 5.0])
    xs, ys = t.c + t.a * codes.shape[1] / 2 + 7.3, t.f + t.e * codes.shape[0] / 2 - 4.1
    path_clutter_loss_db(codes, t.c, t.f, t.a, xs, ys, near, whole, radius_m=radius_km * 1e3)  # compile
    best = np.inf
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        out = path_clutter_loss_db(codes, t.c, t.f, t.a, xs, ys, near, whole, radius_m=radius_km * 1e3)
        best = min(best, time.perf_counter() - t0)
    n_px = int(np.count_nonzero(np.hypot(*np.meshgrid(np.arange(codes.shape[1]) * t.a + t.c + t.a / 2 - xs,
                                                      np.arange(codes.shape[0]) * t.e + t.f + t.e / 2 - ys))
                                <= radius_km * 1e3))  # fmt: skip
    del out
    return n_px / best


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "plain.toml").write_text(SPM)
        (tmp / "path.toml").write_text(SPM + PATH)
        (tmp / "near.toml").write_text(SPM + NEAR)
        radii = (3.0,) if QUICK else (3.0, 8.0, 15.0)
        _predict(tmp / "path.toml", 1.0)  # compile
        print("netqa predict, test world (84 cells, 30 m, SPM + delta-Bullington + clutter table), best of", REPEAT)
        print(f"{'radius km':>9} | {'plain s':>8} | {'near s':>8} | {'near+whole s':>12} | {'ratio':>5} | "
              f"{'max drop dB':>11} | best server moved")  # fmt: skip
        for r in radii:
            tp = min(_predict(tmp / "plain.toml", r)[0] for _ in range(REPEAT))
            tn = min(_predict(tmp / "near.toml", r)[0] for _ in range(REPEAT))
            runs = [_predict(tmp / "path.toml", r) for _ in range(REPEAT)]
            tq = min(t for t, _ in runs)
            plain = _predict(tmp / "plain.toml", r)[1]
            path = runs[0][1]
            ok = np.isfinite(path.rsrp_dbm)
            drop = np.nanmax(plain.rsrp_dbm - path.rsrp_dbm)
            moved = float(np.mean(path.best_cell[ok] != plain.best_cell[ok]))
            print(f"{r:9.0f} | {tp:8.2f} | {tn:8.2f} | {tq:12.2f} | {tq / tp:5.2f} | {drop:11.2f} | {100 * moved:.1f} %")
        for r in radii:
            print(f"path-clutter kernel alone, one mast, R = {r:g} km: {_kernel_rate(r) / 1e6:.2f} M px/s")


if __name__ == "__main__":
    main()
