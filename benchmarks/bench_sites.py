"""Per-site against per-tile task design of ``netqa predict`` (issue 14 item 5), radius >> tile.

A network of :data:`N_SITES` three-sector sites spread over about
``SPREAD_KM`` x ``SPREAD_KM`` (the grid: that plus the radius on every side), 30 m pixels, R = 15 km,
COST-231 + delta-Bullington over synthetic hills (a UTM DEM on the prediction grid), output tiles of
:data:`TILE_PX` px.  Four runs of :func:`netqa.predict.predict` (arrays, no file written), alternated in
the same run, best of :data:`REPEAT` by wall time:

* ``--tasks tiles`` and ``--tasks sites`` in this process (numba on every core);
* the same two on a local Dask cluster of 2 single-threaded worker processes (``--workers 2``; the
  cluster's start is part of each run, as in the CLI).

Every run's five bands are compared with the first local per-tile run's (``identical`` = bit for bit,
NaN where NaN).  ``python -m benchmarks sites``; ``NETQA_BENCH_QUICK=1``: 12 sites, R = 8 km, one repeat.
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

QUICK = os.environ.get("NETQA_BENCH_QUICK") == "1"
N_SITES = 12 if QUICK else 36
RADIUS_KM = 8.0 if QUICK else 15.0
SPREAD_KM = 20.0 if QUICK else 40.0
TILE_PX = int(os.environ.get("NETQA_BENCH_TILE_PX", "512"))
REPEAT = 1 if QUICK else 3
PX_M = 30.0


def _write_dem(path: Path, n: int, seed: int) -> tuple[float, float]:
    """Synthetic hills (as bench_e2e's) on a 30 m UTM grid whose edges are whole multiples of 30 m, like the
    prediction grid's: the DEM is sliced, not resampled (see the identity note in netqa.predict.sites).
    Returns the centre. [m]"""
    import rasterio
    from rasterio.transform import from_origin
    from scipy.ndimage import gaussian_filter

    from benchmarks.bench_e2e import CENTRE, CRS

    rng = np.random.default_rng(seed)
    e = gaussian_filter(rng.normal(size=(n, n)), 8.0)
    e = (250.0 + e / e.std() * 60.0).astype(np.float32)
    x0 = np.floor((CENTRE[0] - n * PX_M / 2) / PX_M) * PX_M
    y1 = np.floor((CENTRE[1] + n * PX_M / 2) / PX_M) * PX_M
    with rasterio.open(path, "w", driver="GTiff", width=n, height=n, count=1, dtype="float32", crs=CRS,
                       transform=from_origin(x0, y1, PX_M, PX_M), nodata=-9999.0, tiled=True, compress="deflate") as ds:  # fmt: skip
        ds.write(e, 1)
    return x0 + n * PX_M / 2, y1 - n * PX_M / 2


def _inputs(tmp: Path):
    from benchmarks.bench_e2e import _write_cells

    n = int((SPREAD_KM + 2 * RADIUS_KM + 4.0) * 1000 / PX_M)
    dem, cells = tmp / "sites_dem.tif", tmp / "sites_cells.csv"
    cx, cy = _write_dem(dem, n, 5)
    rng = np.random.default_rng(14)
    half = SPREAD_KM * 500.0
    xy = np.column_stack([cx + rng.uniform(-half, half, N_SITES), cy + rng.uniform(-half, half, N_SITES)])
    _write_cells(cells, np.repeat(xy, 3, axis=0), np.tile([0.0, 120.0, 240.0], N_SITES))
    return cells, dem


def _with_ground(cells: Path, dem: Path, out: Path) -> None:
    """``cells`` with a ground_m column (the DEM pixel under each mast)."""
    import pandas as pd
    import rasterio

    from netqa.grid import to_projected

    df = pd.read_csv(cells)
    with rasterio.open(dem) as ds:
        x, y = to_projected(df["lon"].to_numpy(), df["lat"].to_numpy(), ds.crs)
        df["ground_m"] = [float(v[0]) for v in ds.sample(zip(np.asarray(x), np.asarray(y)))]
    df.to_csv(out, index=False)


def _compare(a, b) -> str:
    """'identical to' (bit for bit, NaN where NaN), or how many pixels of which band differ and by how much."""
    out = []
    for k in ("rsrp_dbm", "best_cell", "sinr_db", "dl_mbps", "ul_mbps"):
        x, y = a.band(k), b.band(k)
        bad = ~((x == y) | (np.isnan(x) & np.isnan(y)))
        if bad.any():
            out.append(f"{k} {int(bad.sum())} px (max |d| {np.nanmax(np.abs(x[bad].astype(float) - y[bad])):.2g})")
    return "identical to" if not out else "differ from: " + ", ".join(out) + " of " + str(a.rsrp_dbm.size) + " px:"


def main() -> None:
    from netqa.predict import PredictConfig, predict

    config = PredictConfig(model="cost231", terrain="delta-bullington", radius_km=RADIUS_KM, resolution_m=PX_M,
                           tile_px=TILE_PX)  # fmt: skip
    cases = [("tiles, this process", "tiles", 1), ("sites, this process", "sites", 1),
             ("tiles, Dask 2 workers", "tiles", 2), ("sites, Dask 2 workers", "sites", 2)]  # fmt: skip
    with tempfile.TemporaryDirectory() as d, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cells, dem = _inputs(Path(d))
        ref = predict(cells, dem, config=config, show_progress=False)  # also compiles / loads the kernels here
        g = ref.grid
        print(f"network: {N_SITES} sites x 3 cells over ~{SPREAD_KM:g} x {SPREAD_KM:g} km, R = {RADIUS_KM:g} km, "
              f"{PX_M:g} m: grid {g.height} x {g.width} px, tiles of {TILE_PX} px "
              f"({-(-g.height // TILE_PX) * -(-g.width // TILE_PX)} tiles); load {os.getloadavg()[0]:.2f}")  # fmt: skip
        best = {name: np.inf for name, _, _ in cases}
        cpu = {name: np.inf for name, _, _ in cases}
        same = {name: True for name, _, _ in cases}
        for _ in range(REPEAT):
            for name, tasks, workers in cases:  # alternated: the machine's load hits every case alike
                t0, c0 = time.perf_counter(), time.process_time()
                res = predict(cells, dem, config=config, show_progress=False, tasks=tasks, workers=workers)
                best[name] = min(best[name], time.perf_counter() - t0)
                cpu[name] = min(cpu[name], time.process_time() - c0)  # this process only (not Dask's workers)
                same[name] = _compare(res, ref)
        base = best["tiles, this process"]
        for name, _, _ in cases:
            cpu_s = f", CPU {cpu[name]:6.2f} s" if name.endswith("this process") else ""
            print(f"  {name:24s} {best[name]:6.2f} s (best of {REPEAT}{cpu_s}), {base / best[name]:.2f}x the local "
                  f"per-tile run; bands {same[name]} the local per-tile run's")  # fmt: skip
        for w in ("this process", "Dask 2 workers"):
            t, s = best[f"tiles, {w}"], best[f"sites, {w}"]
            print(f"  {w}: sites / tiles = {s / t:.2f} ({'sites' if s < t else 'tiles'} faster)")
        # the mast's ground: without ground_m each window interpolates the DEM at the mast from its own origin
        # (float64 rounding); with ground_m in the table both designs are bit-identical
        cells_g = Path(d) / "sites_cells_ground.csv"
        _with_ground(cells, dem, cells_g)
        a = predict(cells_g, dem, config=config, show_progress=False, tasks="tiles")
        s = predict(cells_g, dem, config=config, show_progress=False, tasks="sites")
        print(f"  with ground_m in the cell table: sites (this process) {_compare(s, a)} tiles")
        print(f"  load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
