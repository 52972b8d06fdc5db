"""Resampling onto a grid aligned with the source (issue 14): a slice, identical to GDAL's warp."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine

from netqa.grid import Grid
from netqa.io import _rasterbase as rb
from netqa.io.raster import Raster, resample_to_grid


@pytest.fixture(scope="module")
def dem():
    g = Grid.from_bounds("EPSG:32630", (480000.0, 4470000.0, 480000.0 + 120 * 30.0, 4470000.0 + 90 * 30.0), 30.0)
    rng = np.random.default_rng(1)
    vals = 300.0 + np.cumsum(rng.normal(size=g.shape), axis=1)
    mask = np.zeros(g.shape, bool)
    mask[40:44, 60:66] = True  # a void
    vals[mask] = np.nan
    return Raster(vals, g, mask, name="elev_m", unit="m")


def _warped(src, sub, method, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(rb, "_pixel_offset", lambda *a: None)  # force GDAL's warp
        return resample_to_grid(src, sub, method)


@pytest.mark.parametrize("method", ["bilinear", "nearest"])
@pytest.mark.parametrize(("r0", "c0", "h", "w"), [(0, 0, 90, 120), (10, 20, 30, 40), (-5, -7, 20, 30),
                                                  (80, 110, 30, 30), (35, 55, 15, 20), (200, 0, 5, 5)])  # fmt: skip
def test_aligned_window_equals_the_warp_bit_for_bit(dem, monkeypatch, method, r0, c0, h, w):
    sub = Grid(dem.grid.crs, dem.grid.transform * Affine.translation(c0, r0), w, h)
    fast = resample_to_grid(dem, sub, method)
    slow = _warped(dem, sub, method, monkeypatch)
    assert np.array_equal(fast.nodata_mask, slow.nodata_mask)
    assert np.array_equal(fast.values, slow.values, equal_nan=True) and fast.values.dtype == slow.values.dtype


def test_integer_codes_slice_like_the_warp(dem, monkeypatch):
    codes = Raster(np.where(dem.nodata_mask, 0, dem.values // 7).astype(np.int32), dem.grid, dem.nodata_mask, name="c")
    sub = Grid(dem.grid.crs, dem.grid.transform * Affine.translation(-3, 30), 50, 40)
    fast, slow = resample_to_grid(codes, sub, "nearest"), _warped(codes, sub, "nearest", monkeypatch)
    assert np.array_equal(fast.values, slow.values) and np.array_equal(fast.nodata_mask, slow.nodata_mask)


def test_aligned_grid_takes_no_warp_and_a_shifted_one_does(dem, monkeypatch):
    calls = []
    real = rb.reproject
    monkeypatch.setattr(rb, "reproject", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    resample_to_grid(dem, Grid(dem.grid.crs, dem.grid.transform * Affine.translation(4, 4), 30, 30), "bilinear")
    assert calls == []
    resample_to_grid(dem, Grid(dem.grid.crs, dem.grid.transform * Affine.translation(4.5, 4), 30, 30), "bilinear")
    assert calls  # half a pixel off: a real resampling
    calls.clear()
    resample_to_grid(dem, Grid(dem.grid.crs, dem.grid.transform * Affine.translation(4, 4), 30, 30), "cubic")
    assert calls  # only nearest and bilinear take the slice


@pytest.mark.parametrize("method", ["bilinear", "cubic", "nearest", "average"])
@pytest.mark.parametrize("crs", ["EPSG:32630", "EPSG:32629"])
def test_threaded_warp_equals_one_thread(monkeypatch, method, crs):
    """GDAL's warper on several threads (the default) gives every pixel as one thread does, voids included."""
    g = Grid.from_bounds("EPSG:32630", (480000.0, 4470000.0, 480000.0 + 700 * 30.0, 4470000.0 + 600 * 30.0), 30.0)
    rng = np.random.default_rng(4)
    vals = 300.0 + np.cumsum(rng.normal(size=g.shape), axis=1)
    mask = np.zeros(g.shape, bool)
    mask[100:140, 200:260] = True
    vals[mask] = np.nan
    src = Raster(vals, g, mask, name="elev_m", unit="m")
    if crs == "EPSG:32629":  # the same area in the next UTM zone: a real reprojection
        from rasterio.warp import transform_bounds

        dst = Grid.from_bounds(crs, transform_bounds(g.crs, crs, *g.bounds), 25.0)
    else:  # a fraction of a pixel off: a resampling
        dst = Grid(g.crs, g.transform * Affine.translation(0.37, 0.61), 650, 560)
    many = resample_to_grid(src, dst, method)
    monkeypatch.setattr(rb, "_WARP_THREADS", 1)
    one = resample_to_grid(src, dst, method)
    assert rb._WARP_THREADS == 1 and np.isfinite(many.values).sum() > 100_000
    assert np.array_equal(many.nodata_mask, one.nodata_mask)
    assert np.array_equal(many.values, one.values, equal_nan=True)
