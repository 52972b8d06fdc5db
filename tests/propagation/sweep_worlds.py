"""Test worlds and the sweep-vs-reference comparison shared by the radial-sweep tests.

Used by ``test_engine_terrain.py`` (delta-Bullington) and ``test_engine_itm.py`` (Longley-Rice): synthetic
rough terrain, the committed DEMs on a 30 m grid, and a random sample of a sweep's pixels against the
slow per-pixel reference (the public model on the straight profile).
"""

from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter

TESTDATA = Path(__file__).resolve().parents[2] / "testdata"


def rough_dem(n, relief_m, smooth_px, seed):
    """n x n synthetic terrain around 300 m: Gaussian-smoothed noise with standard deviation ``relief_m``. [m]"""
    rng = np.random.default_rng(seed)
    e = gaussian_filter(rng.normal(size=(n, n)), smooth_px)
    return 300.0 + e / e.std() * relief_m


def dem_30m(name):
    """A committed DEM on a 30 m metric grid (the Jacksboro 3 arc-second DEM warped to UTM 16N, bilinear)."""
    from benchmarks.bench_engine import load_dem_30m

    return load_dem_30m(TESTDATA / name)


def compare_sweep(sweep, reference, elev, px, h_tx, freq, n_sample, seed):
    """(sweep, reference) losses [dB] at ``n_sample`` random pixels of the disk around the grid's centre.

    ``sweep`` and ``reference`` are :func:`propagation.engine.terrain_loss_sweep` and
    :func:`~propagation.engine.terrain_loss_reference` or their ITM pair; receiver 1.5 m, transmitter
    slightly off the centre pixel, radius one pixel short of the grid's half-width.
    """
    n_rows, n_cols = elev.shape
    x0, y0 = 0.0, n_rows * px
    xs, ys = (n_cols / 2 + 0.13) * px, y0 - (n_rows / 2 + 0.41) * px
    radius = 0.5 * min(n_rows, n_cols) * px - px
    fast = sweep(elev, x0, y0, px, xs, ys, h_tx, 1.5, freq, radius)
    rr, cc = np.nonzero(np.isfinite(fast))
    sel = np.random.default_rng(seed).choice(rr.size, min(n_sample, rr.size), replace=False)
    ref = reference(elev, x0, y0, px, xs, ys, h_tx, 1.5, freq, rr[sel], cc[sel])
    return fast[rr[sel], cc[sel]].astype(float), ref
