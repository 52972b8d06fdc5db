"""Raster engine benchmarks (issue #4): closed form, delta-Bullington sweep, accuracy, scaling, network scale;
the ITM sweep (issue 15).

Environment knobs: ``NETQA_BENCH_NETWORK=0`` skips the 1,000-cell network run;
``NETQA_BENCH_QUICK=1`` shrinks every case (smoke test); ``NETQA_BENCH_ONLY=itm`` runs the ITM sweep alone.
"""

from __future__ import annotations

import math
import os
import resource
import time
from pathlib import Path

import numba
import numpy as np
from scipy.ndimage import gaussian_filter

from propagation.engine import (
    EngineConfig,
    GridSpec,
    cell_matrix,
    default_n_rays,
    itm_loss_reference,
    itm_loss_sweep,
    predict_coverage,
    terrain_loss_reference,
    terrain_loss_sweep,
)

QUICK = os.environ.get("NETQA_BENCH_QUICK") == "1"
TESTDATA = Path(__file__).resolve().parents[1] / "testdata"


def _best_of(fn, repeat=3):
    fn()  # compile / warm
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _synthetic_dem(n, px, seed=0):
    rng = np.random.default_rng(seed)
    e = gaussian_filter(rng.normal(size=(n, n)), 8.0)
    return 250.0 + e / e.std() * 60.0


def _sites(n_sites, extent_m, rng):
    xs = rng.uniform(0.1, 0.9, n_sites) * extent_m
    ys = rng.uniform(0.1, 0.9, n_sites) * extent_m
    x = np.repeat(xs, 3)
    y = np.repeat(ys, 3)
    az = np.tile([0.0, 120.0, 240.0], n_sites)
    return x, y, az


@numba.njit(parallel=True, cache=True)
def _bare_hata(xs, ys, a_db, b_db, x0, y0, px, n, out):
    """Same-run baseline: bare Hata (a + b log10 d) over the whole grid per cell, max over cells."""
    for r in numba.prange(n):
        y = y0 - (r + 0.5) * px
        for c in range(n):
            x = x0 + (c + 0.5) * px
            best = -1e30
            for i in range(xs.size):
                d = max(math.sqrt((x - xs[i]) ** 2 + (y - ys[i]) ** 2) * 1e-3, 0.01)
                best = max(best, -(a_db + b_db * math.log10(d)))
            out[r, c] = best


def bare_hata_rate(n=2000, n_cells=30):
    """Cell-pixels/s of the bare Hata kernel (the issue's ~200 M reference), measured now."""
    out = np.empty((n, n))
    rng = np.random.default_rng(0)
    xs, ys = rng.uniform(0, n * 30.0, n_cells), rng.uniform(0, n * 30.0, n_cells)
    t = _best_of(lambda: _bare_hata(xs, ys, 130.0, 35.0, 0.0, n * 30.0, 30.0, n, out))
    return n * n * n_cells / t


def bench_closed_form():
    n = 1000 if QUICK else 2000
    px = 30.0
    grid = GridSpec(0.0, n * px, px, n, n)
    elev = _synthetic_dem(n, px)
    rng = np.random.default_rng(1)
    x, y, az = _sites(10, n * px, rng)
    cells = cell_matrix(x_m=x, y_m=y, height_m=30.0, azimuth_deg=az, freq_mhz=1800.0, rs_power_dbm=15.0,
                        bandwidth_mhz=20.0, mech_tilt_deg=2.0, elec_tilt_deg=4.0, radius_km=15.0)  # fmt: skip
    cell_px = 0
    xx = (np.arange(n) + 0.5) * px
    yy = n * px - (np.arange(n) + 0.5) * px
    for cx, cy in zip(x, y):
        cell_px += int((((xx[None, :] - cx) ** 2 + (yy[:, None] - cy) ** 2) <= 15000.0**2).sum())
    bare = bare_hata_rate()
    print(f"same-run baseline: bare Hata kernel {bare / 1e6:.0f} M cell-pixels/s (issue: about 200 M on a free machine)")
    rates = {}
    for model in ("hata", "spm"):
        cfg = EngineConfig(model=model, tile_px=2048)
        t = _best_of(lambda: predict_coverage(cells, elev, grid, cfg), repeat=5)
        rates[model] = cell_px / t
        print(f"closed-form {model}: {len(x)} cells over {n}x{n} px, {cell_px / 1e6:.1f} M cell-pixels, "
              f"{t:.3f} s -> {cell_px / t / 1e6:.0f} M cell-pixels/s (goal >= 100 M); "
              f"{cell_px / t / bare:.2f}x the bare Hata kernel's rate")  # fmt: skip
        if cell_px / t < 100e6:
            print(f"  why not: per cell-pixel the kernel adds to the bare Hata loop the 3-D antenna pattern, the "
                  f"free-space floor, the best-server fold and one exp for the interference sum"
                  f"{' and the SPM its per-pixel effective-height log' if model == 'spm' else ''}; the goal is "
                  f"0.5x a bare kernel of about 200 M on this machine kind (benchmarks/README.md)")  # fmt: skip
    threads = numba.get_num_threads()
    if threads > 1:
        cfg = EngineConfig(model="hata", tile_px=2048)
        numba.set_num_threads(1)
        t1 = _best_of(lambda: predict_coverage(cells, elev, grid, cfg), repeat=3)
        numba.set_num_threads(threads)
        print(f"closed-form hata, 1 thread: {cell_px / t1 / 1e6:.0f} M cell-pixels/s "
              f"({threads} threads / 1 thread = {rates['hata'] * t1 / cell_px:.2f}x)")  # fmt: skip
    return rates["hata"]


def _terrain_case(name, elev, px, radius_m, closed_rate):
    n_rows, n_cols = elev.shape
    x0, y0 = 0.0, n_rows * px
    xs, ys = (n_cols / 2 + 0.3) * px, y0 - (n_rows / 2 + 0.7) * px
    run = lambda: terrain_loss_sweep(elev, x0, y0, px, xs, ys, 30.0, 1.5, 900.0, radius_m)  # noqa: E731
    t = _best_of(run, repeat=4)  # the shared VM's rates vary by ~15 % from run to run: best of several
    fast = run()
    n_px = int(np.isfinite(fast).sum())
    rate = n_px / t
    # the full engine (terrain + closed form + combination) for one omni cell over the same disk
    grid = GridSpec(x0, y0, px, n_rows, n_cols)
    cells = cell_matrix(x_m=[xs], y_m=[ys], height_m=[30.0], azimuth_deg=[0.0], freq_mhz=[900.0],
                        rs_power_dbm=[15.0], bandwidth_mhz=[10.0], radius_km=[radius_m / 1000.0])  # fmt: skip
    t_cf = _best_of(lambda: predict_coverage(cells, elev, grid, EngineConfig(tile_px=4096)), repeat=5)
    t_db = _best_of(lambda: predict_coverage(cells, elev, grid, EngineConfig(terrain="delta-bullington",
                                                                                tile_px=4096)), repeat=4)  # fmt: skip
    print(f"delta-Bullington sweep, {name}: {n_px / 1e6:.2f} M px in {radius_m / 1e3:.0f} km radius at {px:.0f} m, "
          f"{default_n_rays(radius_m, px)} rays: {t:.3f} s -> {rate / 1e6:.1f} M px/s (goal >= 8 M); "
          f"1-cell engine closed form {t_cf:.3f} s vs with terrain {t_db:.3f} s: ratio {t_db / t_cf:.1f}x; "
          f"sweep cost vs closed-form multi-cell rate: {closed_rate / rate:.1f}x (goal <= 5x)")  # fmt: skip
    if rate < 8e6 or t_db / t_cf > 5:
        print("  why not: each pixel walks its ray's running hulls and takes its own last profile samples (the "
              "accuracy goals need them: benchmarks/README.md, 'Sweep'), and the ray ordering is about 18 % of the sweep (0.085 of 0.47 s on the 30 km disk); "
              "the speed passes and what they cost in accuracy are recorded there")  # fmt: skip
    # accuracy vs the per-pixel reference on a random sample of the disk
    rr, cc = np.nonzero(np.isfinite(fast))
    rng = np.random.default_rng(5)
    sel = rng.choice(rr.size, min(1500 if QUICK else 6000, rr.size), replace=False)
    t0 = time.perf_counter()
    ref = terrain_loss_reference(elev, x0, y0, px, xs, ys, 30.0, 1.5, 900.0, rr[sel], cc[sel])
    t_ref = (time.perf_counter() - t0) / sel.size
    err = np.abs(fast[rr[sel], cc[sel]] - ref)
    band = (ref >= 1.0) & (ref <= 20.0)
    print(f"  accuracy vs reference ({sel.size} px): mean |e| {err.mean():.3f} dB (goal 0.15), "
          f"p95 {np.percentile(err, 95):.2f} dB (goal 1), within 3 dB {100 * (err <= 3).mean():.2f} % (goal 99.5); "
          f"grazing band ({band.sum()} px): mean {err[band].mean():.3f}, p95 {np.percentile(err[band], 95):.2f}, "
          f"within 3 dB {100 * (err[band] <= 3).mean():.2f} %; reference {t_ref * 1e3:.2f} ms/px, "
          f"speed-up {t_ref * rate:,.0f}x")  # fmt: skip


def load_dem_30m(path):
    """A committed DEM on a 30 m metric grid: as stored when projected, else warped (bilinear) to its UTM zone.

    The Jacksboro DEM is 3 arc-second (about 93 x 74 m) in EPSG:4326; it is resampled to 30 m in
    UTM 16N (inset 2 km so that the rotated box stays inside) as ``netqa predict`` would, never read as if its pixels were 30 m.
    """
    import rasterio
    from rasterio.warp import transform_bounds

    from netqa.io.raster import read_dem

    with rasterio.open(path) as ds:
        crs, b = ds.crs, ds.bounds
    if not crs.is_geographic:
        return np.asarray(read_dem([path]).values, dtype=float)
    zone = int((0.5 * (b.left + b.right) + 180.0) // 6) + 1
    utm = f"EPSG:{32600 + zone if b.bottom >= 0 else 32700 + zone}"
    left, bottom, right, top = transform_bounds(crs, utm, *b)
    bounds = (left + 2000.0, bottom + 2000.0, right - 2000.0, top - 2000.0)
    return np.asarray(read_dem([path], bounds=bounds, crs=utm, resolution_m=30.0).values, dtype=float)


def bench_terrain(closed_rate):
    px = 30.0
    radius = 10_000.0 if QUICK else 30_000.0
    n = int(2 * radius / px) + 4
    _terrain_case("synthetic rolling hills", _synthetic_dem(n, px, 2), px, radius, closed_rate)
    for name in ("dem.tif", "jacksboro_dem.tif"):
        path = TESTDATA / name
        if not path.exists():
            print(f"delta-Bullington sweep, {name}: skipped (not in testdata/)")
            continue
        elev = load_dem_30m(path)
        r = min(radius, 0.5 * min(elev.shape) * px - 2 * px)
        _terrain_case(name, elev, px, r, closed_rate)


def bench_scaling():
    px = 30.0
    rng = np.random.default_rng(3)
    for n in ((500, 1000) if QUICK else (1000, 2000)):
        grid = GridSpec(0.0, n * px, px, n, n)
        elev = _synthetic_dem(n, px)
        x, y, az = _sites(10, n * px, rng)
        cells = cell_matrix(x_m=x, y_m=y, height_m=30.0, azimuth_deg=az, freq_mhz=1800.0, rs_power_dbm=15.0,
                            bandwidth_mhz=20.0, radius_km=5.0)  # fmt: skip
        cfg = EngineConfig(terrain="delta-bullington")
        t = _best_of(lambda: predict_coverage(cells, elev, grid, cfg), repeat=1)
        print(f"scaling, area: {n}x{n} px, 30 cells (5 km radius), delta-Bullington: {t:.2f} s")
    n = 1000
    grid = GridSpec(0.0, n * px, px, n, n)
    elev = _synthetic_dem(n, px)
    for n_sites in (5, 10, 20):
        x, y, az = _sites(n_sites, n * px, rng)
        cells = cell_matrix(x_m=x, y_m=y, height_m=30.0, azimuth_deg=az, freq_mhz=1800.0, rs_power_dbm=15.0,
                            bandwidth_mhz=20.0, radius_km=5.0)  # fmt: skip
        t = _best_of(lambda: predict_coverage(cells, elev, grid, EngineConfig(terrain="delta-bullington")), repeat=1)
        print(f"scaling, cells: {3 * n_sites} cells on {n}x{n} px: {t:.2f} s ({t / (3 * n_sites) * 1e3:.0f} ms/cell)")
    threads = numba.get_num_threads()
    x, y, az = _sites(10, n * px, rng)
    cells = cell_matrix(x_m=x, y_m=y, height_m=30.0, azimuth_deg=az, freq_mhz=1800.0, rs_power_dbm=15.0,
                        bandwidth_mhz=20.0, radius_km=5.0)  # fmt: skip
    times = {}
    for k in sorted({1, threads}):
        numba.set_num_threads(k)
        times[k] = _best_of(lambda: predict_coverage(cells, elev, grid, EngineConfig(terrain="delta-bullington")), 1)
    numba.set_num_threads(threads)
    print("scaling, threads: " + ", ".join(f"{k} -> {v:.2f} s" for k, v in times.items())
          + (f" (speed-up {times[1] / times[threads]:.2f}x)" if threads > 1 else ""))


def bench_network():
    if os.environ.get("NETQA_BENCH_NETWORK", "1") == "0" or QUICK:
        print("network scale: skipped (NETQA_BENCH_NETWORK=0 or quick mode)")
        return
    px = 30.0
    n = 3334  # 100 km at 30 m
    grid = GridSpec(0.0, n * px, px, n, n)
    elev = _synthetic_dem(n, px, 9).astype(np.float32)
    rng = np.random.default_rng(4)
    x, y, az = _sites(333, n * px, rng)
    x, y = x / 0.8 * 0.98 - 0.09 * n * px, y / 0.8 * 0.98 - 0.09 * n * px  # spread over the whole area
    cells = cell_matrix(x_m=x, y_m=y, height_m=30.0, azimuth_deg=az, freq_mhz=1800.0, rs_power_dbm=15.0,
                        bandwidth_mhz=20.0, radius_km=15.0)  # fmt: skip
    t0 = time.perf_counter()
    cov = predict_coverage(cells, elev, grid, EngineConfig(terrain="delta-bullington", tile_px=4096))
    t = time.perf_counter() - t0
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"network scale: {cells.shape[0]} cells ({cells.shape[0] // 3} sites) over {n}x{n} px (100 x 100 km, 30 m), "
          f"15 km radius, delta-Bullington: {t:.1f} s (goal < 60 s), peak RSS {peak_gb:.2f} GB (goal < 8 GB), "
          f"covered {100 * np.isfinite(cov.rsrp_dbm).mean():.1f} %")  # fmt: skip


def _itm_case(name, elev, px, radius_m, n_sample):
    n_rows, n_cols = elev.shape
    x0, y0 = 0.0, n_rows * px
    xs, ys = (n_cols / 2 + 0.3) * px, y0 - (n_rows / 2 + 0.7) * px
    run = lambda: itm_loss_sweep(elev, x0, y0, px, xs, ys, 30.0, 1.5, 900.0, radius_m)  # noqa: E731
    run_db = lambda: terrain_loss_sweep(elev, x0, y0, px, xs, ys, 30.0, 1.5, 900.0, radius_m)  # noqa: E731
    t = _best_of(run, repeat=3)
    t_db = _best_of(run_db, repeat=3)  # same run, same load: the delta-Bullington sweep for scale
    fast = run()
    n_px = int(np.isfinite(fast).sum())
    print(f"ITM sweep, {name}: {n_px / 1e6:.2f} M px in {radius_m / 1e3:.1f} km radius at {px:.0f} m: {t:.3f} s -> "
          f"{n_px / t / 1e6:.2f} M px/s (goal >= 3 M on 2 cores); delta-Bullington sweep same run "
          f"{n_px / t_db / 1e6:.2f} M px/s (ITM / delta-Bullington time {t / t_db:.1f}x)")  # fmt: skip
    if n_sample:
        rr, cc = np.nonzero(np.isfinite(fast))
        sel = np.random.default_rng(5).choice(rr.size, min(n_sample, rr.size), replace=False)
        t0 = time.perf_counter()
        ref = itm_loss_reference(elev, x0, y0, px, xs, ys, 30.0, 1.5, 900.0, rr[sel], cc[sel])
        t_ref = (time.perf_counter() - t0) / sel.size
        e = fast[rr[sel], cc[sel]] - ref
        err = np.abs(e)
        print(f"  accuracy vs reference ({sel.size} px): mean |e| {err.mean():.3f} dB (goal 0.3), p95 "
              f"{np.percentile(err, 95):.2f} dB (goal 1.5), within 3 dB {100 * (err <= 3).mean():.2f} % (goal 99); "
              f"bias {e.mean():+.3f} dB; reference {t_ref * 1e3:.2f} ms/px")  # fmt: skip


def bench_itm():
    px = 30.0
    radius = 6_000.0 if QUICK else 15_000.0
    n = int(2 * radius / px) + 4
    _itm_case("synthetic rolling hills", _synthetic_dem(n, px, 2), px, radius, 0 if QUICK else 1000)
    for name in ("dem.tif", "jacksboro_dem.tif"):
        path = TESTDATA / name
        if not path.exists():
            print(f"ITM sweep, {name}: skipped (not in testdata/)")
            continue
        elev = load_dem_30m(path)
        r = min(radius, 0.5 * min(elev.shape) * px - 2 * px)
        _itm_case(name, elev, px, r, 600 if QUICK else 3000)


def main():
    print(f"numba threads: {numba.get_num_threads()}")
    if os.environ.get("NETQA_BENCH_ONLY") == "itm":
        bench_itm()
        return
    rate = bench_closed_form()
    bench_terrain(rate)
    bench_itm()
    bench_scaling()
    bench_network()


if __name__ == "__main__":
    main()
