"""Points mode on a large DEM, one call per serving cell (as calibrate and compare call it).

A 5000 x 5000 DEM at 30 m (150 x 150 km), 60 serving cells with 300 drive points each, delta-Bullington,
without and with an obstacle (building) raster: ``predict_points`` given the arrays (checked on every call)
against the same given a :func:`propagation.engine.prepare_terrain` (checked once), in the same run.
Outputs are compared for identity.  ``NETQA_BENCH_QUICK=1``: 2000 x 2000, 20 cells.
"""

from __future__ import annotations

import os
import time

import numpy as np

from propagation.engine import EngineConfig, GridSpec, cell_matrix, predict_points, prepare_terrain

QUICK = os.environ.get("NETQA_BENCH_QUICK") == "1"


def main() -> None:
    n, n_cells, n_pts, px = (2000, 20, 300, 30.0) if QUICK else (5000, 60, 300, 30.0)
    rng = np.random.default_rng(3)
    elev = (150.0 + 80.0 * rng.random((n, n))).astype(np.float32)
    obst = np.where(rng.random((n, n)) < 0.15, 12.0, 0.0).astype(np.float32)
    grid = GridSpec(0.0, n * px, px, n, n)
    xy = rng.uniform(0.2, 0.8, (n_cells, 2)) * n * px
    cfg = EngineConfig(model="hata", terrain="delta-bullington")
    cells = [cell_matrix(x_m=[x], y_m=[y], height_m=[30.0], azimuth_deg=[0.0], freq_mhz=[1800.0],
                         rs_power_dbm=[15.0], bandwidth_mhz=[20.0]) for x, y in xy]  # fmt: skip
    pts = [(x + rng.uniform(-3000, 3000, n_pts), y + rng.uniform(-3000, 3000, n_pts)) for x, y in xy]
    predict_points(cells[0], elev, grid, *pts[0], cfg)  # kernels loaded
    for label, surf in (("no surface", None), ("with a building raster", obst)):
        t0 = time.perf_counter()
        plain = [predict_points(c, elev, grid, x, y, cfg, surface_m=surf) for c, (x, y) in zip(cells, pts)]
        t_plain = time.perf_counter() - t0
        t0 = time.perf_counter()
        terrain = prepare_terrain(elev, grid, surf)
        t_prep = time.perf_counter() - t0
        fast = [predict_points(c, terrain, grid, x, y, cfg) for c, (x, y) in zip(cells, pts)]
        t_fast = time.perf_counter() - t0
        same = all(np.array_equal(a, b) for a, b in zip(plain, fast))
        print(f"points mode, {n} x {n} DEM, {n_cells} serving cells x {n_pts} points, {label}: arrays checked per "
              f"call {t_plain:.2f} s ({1e3 * t_plain / n_cells:.1f} ms/call); prepare_terrain once {t_prep:.2f} s + "
              f"calls = {t_fast:.2f} s ({t_plain / t_fast:.0f}x); identical: {same}")  # fmt: skip


if __name__ == "__main__":
    main()
