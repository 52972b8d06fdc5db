"""DEMs without a nodata tag that hold a void marker, and clutter errors counted in source pixels (issue 13 item 3)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import rasterio
from affine import Affine

from netqa.errors import RasterError
from netqa.grid import Grid
from netqa.io.raster import read_clutter, read_clutter_table, read_clutter_window, read_dem

UTM = "EPSG:32629"
GRID = Grid(UTM, Affine(30.0, 0, 500_000.0, 0, -30.0, 5_750_000.0), 40, 30)


def _dem(path, values, dtype, nodata=None):
    with rasterio.open(path, "w", driver="GTiff", width=GRID.width, height=GRID.height, count=1, dtype=dtype,
                       crs=GRID.crs, transform=GRID.transform, nodata=nodata) as ds:
        ds.write(values.astype(dtype), 1)
    return path


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int16"])
@pytest.mark.parametrize("sentinel", [-32768.0, -32767.0, -9999.0, -99999.0, 3.4028234663852886e38, -3.4028234663852886e38, 1e30])
def test_untagged_dem_sentinel_is_a_void_not_terrain(tmp_path, caplog, dtype, sentinel):
    info = np.iinfo(dtype) if dtype.startswith("int") else np.finfo(dtype)
    if not info.min <= sentinel <= info.max:
        pytest.skip(f"{sentinel:g} does not fit {dtype}")
    elev = np.full(GRID.shape, 87.5 if dtype.startswith("float") else 87)
    elev[3, 4] = sentinel
    elev[10:12, 20:23] = sentinel
    with caplog.at_level(logging.WARNING):
        dem = read_dem(_dem(tmp_path / "dem.tif", elev, dtype))
    assert dem.nodata_mask.sum() == 7 and dem.nodata_mask[3, 4] and np.isnan(dem.values[3, 4])
    assert np.nanmax(dem.values) < 100 and np.nanmin(dem.values) > 80  # nothing of the marker left as terrain
    assert "no nodata tag" in caplog.text and "dem.tif" in caplog.text


def test_untagged_dem_sentinel_under_requested_bounds_is_refused(tmp_path):
    elev = np.full(GRID.shape, 50.0)
    elev[15, 20] = -9999.0
    p = _dem(tmp_path / "dem.tif", elev, "float32")
    b = GRID.bounds
    with pytest.raises(RasterError, match=r"dem\.tif: 1 void or gap pixels"):
        read_dem(p, bounds=(b[0] + 300, b[1] + 300, b[2] - 300, b[3] - 300), crs=UTM)


def test_real_low_and_negative_heights_are_kept(tmp_path):
    """Below sea level is terrain (Dead Sea shore -430 m, polders -7 m): only the markers are voids."""
    elev = np.full(GRID.shape, -7.25)
    elev[0, 0] = -430.5
    elev[1, 1] = 8848.9
    dem = read_dem(_dem(tmp_path / "dem.tif", elev, "float32"))
    assert not dem.nodata_mask.any()
    assert dem.values[0, 0] == pytest.approx(-430.5) and dem.values[5, 5] == pytest.approx(-7.25)


def test_tagged_dem_keeps_its_own_nodata_rule(tmp_path):
    """With a nodata tag the tag decides: a -9999 under another tag is a (bad) height the user declared valid."""
    elev = np.full(GRID.shape, 20.0)
    elev[2, 2] = -1.0
    dem = read_dem(_dem(tmp_path / "dem.tif", elev, "float32", nodata=-1.0))
    assert dem.nodata_mask.sum() == 1 and dem.nodata_mask[2, 2]


TABLE = "code,name,loss_db,height_m\n1,open,0,0\n2,urban,18.5,20\n"


def _clutter(path, codes):
    with rasterio.open(path, "w", driver="GTiff", width=GRID.width, height=GRID.height, count=1, dtype="uint8",
                       crs=GRID.crs, transform=GRID.transform, nodata=255) as ds:
        ds.write(codes.astype("uint8"), 1)
    return path


def test_clutter_unknown_code_counts_source_pixels_not_resampled_ones(tmp_path):
    codes = np.ones(GRID.shape, int)
    codes[5, 5:8] = 9  # 3 source pixels of 30 m
    (tmp_path / "t.csv").write_text(TABLE)
    c = _clutter(tmp_path / "c.tif", codes)
    fine = Grid(UTM, Affine(10.0, 0, 500_000.0, 0, -10.0, 5_750_000.0), 120, 90)  # 9 grid pixels per source pixel
    with pytest.raises(RasterError, match=r"c\.tif: code 9 \(3 source pixels\) not in the class table"):
        read_clutter(c, tmp_path / "t.csv", grid=fine)
    with pytest.raises(RasterError, match=r"c\.tif: code 9 \(3 source pixels\) in rows .* not in the class table"):
        read_clutter_window(c, read_clutter_table(tmp_path / "t.csv"), fine)


def test_clutter_unknown_code_thinner_than_the_grid_is_still_refused(tmp_path):
    """A coarse grid's nearest-neighbour sampling can miss a one-pixel code: the source check cannot."""
    codes = np.ones(GRID.shape, int)
    codes[7, 7] = 9
    (tmp_path / "t.csv").write_text(TABLE)
    c = _clutter(tmp_path / "c.tif", codes)
    coarse = Grid(UTM, Affine(300.0, 0, 500_000.0, 0, -300.0, 5_750_000.0), 4, 3)
    with pytest.raises(RasterError, match=r"code 9 \(1 source pixels\)"):
        read_clutter_window(c, read_clutter_table(tmp_path / "t.csv"), coarse)
