"""Grid: metric square-pixel grids, UTM zone choice, coordinates and tiling."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine

from netqa.errors import CRSError
from netqa.grid import Grid, is_metric, study_crs, to_geographic, to_projected, utm_crs_for

UTM29 = "EPSG:32629"


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [
        pytest.param(-8.47, 51.9, 32629, id="cork"),
        pytest.param(2.35, 48.85, 32631, id="paris"),
        pytest.param(151.21, -33.87, 32756, id="sydney"),
        pytest.param(-180.0, 10.0, 32601, id="antimeridian-west"),
        pytest.param(180.0, 10.0, 32660, id="antimeridian-east"),
        pytest.param(-6.0, 0.0, 32630, id="zone-edge-equator"),
    ],
)
def test_utm_zone_choice(lon, lat, epsg):
    assert utm_crs_for(lon, lat).to_epsg() == epsg


@pytest.mark.parametrize(("lon", "lat"), [(200.0, 0.0), (0.0, 85.0), (float("nan"), 0.0)], ids=["lon", "polar", "nan"])
def test_utm_zone_out_of_range(lon, lat):
    with pytest.raises(CRSError, match=r"outside"):
        utm_crs_for(lon, lat)


def test_projection_round_trip():
    lon = np.array([-8.47, -8.0, -9.2])
    lat = np.array([51.9, 52.1, 51.5])
    x, y = to_projected(lon, lat, UTM29)
    back_lon, back_lat = to_geographic(x, y, UTM29)
    np.testing.assert_allclose(back_lon, lon, atol=1e-9)
    np.testing.assert_allclose(back_lat, lat, atol=1e-9)
    # Central meridian of zone 29 is -9 deg: false easting 500 km there
    assert to_projected(-9.0, 51.9, UTM29)[0] == pytest.approx(500_000.0, abs=1e-6)


def test_study_crs_prefers_projected_dem():
    assert study_crs("EPSG:2157", -8.47, 51.9).to_epsg() == 2157  # Irish Transverse Mercator
    assert study_crs("EPSG:4326", -8.47, 51.9).to_epsg() == 32629
    assert study_crs(None, -8.47, 51.9).to_epsg() == 32629


@pytest.mark.parametrize(
    ("crs", "metric"),
    [("EPSG:32629", True), ("EPSG:4326", False), ("EPSG:3857", True), ("EPSG:2227", False)],
    ids=["utm", "wgs84", "web-mercator", "us-feet"],
)
def test_is_metric(crs, metric):
    assert is_metric(crs) is metric


def test_from_bounds_snaps_outward():
    g = Grid.from_bounds(UTM29, (500_010.0, 5_750_005.0, 500_990.0, 5_750_951.0), 100.0)
    assert tuple(g.bounds) == (500_000.0, 5_750_000.0, 501_000.0, 5_751_000.0)
    assert g.shape == (10, 10) and g.pixel_size_m == 100.0
    exact = Grid.from_bounds(UTM29, (500_000.0, 5_750_000.0, 501_000.0, 5_751_000.0), 100.0)
    assert exact.shape == (10, 10)


def test_pixel_centres_and_rowcol_are_inverse():
    g = Grid.from_bounds(UTM29, (0.0, 0.0, 3000.0, 2000.0), 30.0)
    rows, cols = np.meshgrid(np.arange(g.height), np.arange(g.width), indexing="ij")
    x, y = g.xy(rows, cols)
    assert tuple(g.bounds) == (0.0, 0.0, 3000.0, 2010.0)  # 2000 snapped up to a whole 30 m
    assert g.xy(0, 0) == (15.0, 1995.0)
    r, c = g.rowcol(x, y)
    np.testing.assert_array_equal(r, rows)
    np.testing.assert_array_equal(c, cols)
    assert g.rowcol(0.0, 2010.0) == (0, 0)  # upper-left corner belongs to pixel (0, 0)
    assert not g.contains(-1.0, 10.0) and g.contains(1.0, 10.0)


def test_coords_and_lonlat_shapes():
    g = Grid.around(-8.47, 51.9, 1000.0, 100.0)
    assert g.crs.to_epsg() == 32629 and g.shape in ((20, 20), (21, 21))
    x, y = g.coords()
    assert x.shape == (g.width,) and y.shape == (g.height,) and np.all(np.diff(y) < 0)
    lon, lat = g.lonlat()
    assert lon.shape == g.shape
    assert lon.mean() == pytest.approx(-8.47, abs=0.01) and lat.mean() == pytest.approx(51.9, abs=0.01)


@pytest.mark.parametrize(("shape", "tile_px"), [((1000, 700), 512), ((5, 7), 2), ((3, 3), 512), ((512, 1024), 256)], ids=str)
def test_tiles_cover_every_pixel_once(shape, tile_px):
    rows, cols = shape
    g = Grid(UTM29, Affine(10.0, 0, 0.0, 0, -10.0, 1e5), cols, rows)
    count = np.zeros(g.shape, dtype=int)
    for tile in g.tiles(tile_px):
        assert 0 < tile.rows <= tile_px and 0 < tile.cols <= tile_px
        count[tile.slices] += 1
    assert (count == 1).all()


def test_window_grid_matches_parent_pixels():
    g = Grid.from_bounds(UTM29, (0.0, 0.0, 1000.0, 1000.0), 10.0)
    tile = list(g.tiles(32))[5]
    sub = g.tile_grid(tile)
    assert sub.shape == (tile.rows, tile.cols)
    assert sub.xy(0, 0) == g.xy(tile.row_off, tile.col_off)
    assert sub.xy(sub.height - 1, sub.width - 1) == g.xy(tile.row_off + tile.rows - 1, tile.col_off + tile.cols - 1)
    clipped = g.window(90, 90, 50, 50)
    assert clipped.shape == (10, 10)
    with pytest.raises(CRSError, match=r"does not overlap"):
        g.window(200, 0, 5, 5)


@pytest.mark.parametrize(
    ("crs", "transform", "message"),
    [
        pytest.param("EPSG:4326", Affine(0.001, 0, -9, 0, -0.001, 52), r"EPSG:4326' is not a projected CRS in metres", id="geographic"),
        pytest.param("EPSG:2227", Affine(100, 0, 0, 0, -100, 0), r"is not a projected CRS in metres", id="feet"),
        pytest.param(UTM29, Affine(30, 0, 0, 0, -20, 0), r"pixels are 30 x 20 m; a grid needs square", id="non-square"),
        pytest.param(UTM29, Affine(30, 0, 0, 0, 30, 0), r"square, north-up", id="south-up"),
        pytest.param(UTM29, Affine(30, 1, 0, 0, -30, 0), r"is rotated", id="rotated"),
        pytest.param(None, Affine(30, 0, 0, 0, -30, 0), r"grid crs is missing", id="no-crs"),
        pytest.param("EPSG:999999", Affine(30, 0, 0, 0, -30, 0), r"is not a CRS that PROJ understands", id="bad-code"),
    ],
)
def test_invalid_grids(crs, transform, message):
    with pytest.raises(CRSError, match=message):
        Grid(crs, transform, 10, 10)


def test_invalid_size_and_resolution():
    with pytest.raises(CRSError, match=r"width = 0 must be a positive integer"):
        Grid(UTM29, Affine(30, 0, 0, 0, -30, 0), 0, 10)
    with pytest.raises(CRSError, match=r"resolution_m = -5 must be a positive"):
        Grid.from_bounds(UTM29, (0, 0, 100, 100), -5)
    with pytest.raises(CRSError, match=r"bounds .* are empty"):
        Grid.from_bounds(UTM29, (100, 0, 0, 100), 10)


def test_grid_is_frozen_and_hashable_equal():
    a = Grid.from_bounds(UTM29, (0, 0, 100, 100), 10)
    b = Grid.from_bounds("EPSG:32629", (0, 0, 100, 100), 10)
    assert a == b
    with pytest.raises(AttributeError):
        a.width = 5
