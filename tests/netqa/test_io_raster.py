"""Raster readers and writer: SRTM .hgt and GeoTIFF DEMs, clutter, write_raster."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import rasterio
from affine import Affine

from netqa.errors import OutputExistsError, RasterError
from netqa.grid import Grid, to_geographic, to_projected
from netqa.io.raster import (
    Raster,
    read_clutter,
    read_clutter_table,
    read_dem,
    read_raster,
    resample_to_grid,
    write_raster,
)

N3 = 1201  # SRTM3 samples per side


def _elev(lon, lat):
    """Linear test surface, integral on every SRTM3 sample: 1 m per sample north, 2 m per sample east."""
    return (lat - 50.0) * 1200.0 + 2.0 * (lon + 10.0) * 1200.0


def make_hgt(folder, lat0: int, lon0: int, voids=None):
    """Write an SRTM3 tile ``N{lat0}W{-lon0}.hgt`` of the linear test surface; ``voids`` = (r0, r1, c0, c1)."""
    r = np.arange(N3)[:, None]
    c = np.arange(N3)[None, :]
    lat = lat0 + 1 - r / 1200.0
    lon = lon0 + c / 1200.0
    h = np.rint(_elev(lon, lat)).astype(">i2")
    if voids is not None:
        r0, r1, c0, c1 = voids
        h[r0:r1, c0:c1] = -32768
    ns = "N" if lat0 >= 0 else "S"
    ew = "E" if lon0 >= 0 else "W"
    path = folder / f"{ns}{abs(lat0):02d}{ew}{abs(lon0):03d}.hgt"
    h.tofile(path)
    return path


@pytest.fixture
def two_tiles(tmp_path):
    """N51W009 with a 10x10 void block at rows 600..610, cols 300..310, and N51W008 beside it."""
    a = make_hgt(tmp_path, 51, -9, voids=(600, 610, 300, 310))
    b = make_hgt(tmp_path, 51, -8)
    return [a, b]


def _value_at(raster: Raster, lon, lat):
    x, y = to_projected(lon, lat, raster.grid.crs)
    r, c = raster.grid.rowcol(x, y)
    return raster.values[r, c], raster.grid.xy(r, c)


def test_hgt_mosaic_reprojects_to_utm_with_true_heights(two_tiles):
    bounds = (-8.2, 51.4, -7.8, 51.6)  # straddles the tile edge at lon -8
    dem = read_dem(two_tiles, bounds=bounds, crs="EPSG:4326")
    assert dem.grid.crs.to_epsg() == 32629
    assert dem.grid.pixel_size_m == 93.0
    assert dem.name == "elev_m" and dem.unit == "m"
    # Every pixel inside the requested area has data and matches the surface.
    for lon, lat in [(-8.1, 51.45), (-8.0, 51.5), (-7.9, 51.55)]:
        value, (x, y) = _value_at(dem, lon, lat)
        plon, plat = to_geographic(x, y, dem.grid.crs)
        assert value == pytest.approx(_elev(plon, plat), abs=0.6)


def test_hgt_void_reported_without_bounds(two_tiles, caplog):
    with caplog.at_level(logging.WARNING):
        dem = read_dem(two_tiles[:1])
    assert "100 void or gap pixels" in caplog.text
    assert dem.nodata_mask.any()
    assert np.all(np.isnan(dem.values[dem.nodata_mask]))
    assert np.all(np.isfinite(dem.values[~dem.nodata_mask]))


def test_hgt_void_under_bounds_raises_with_count(two_tiles):
    # the void block spans lon -8.75..-8.742, lat 51.492..51.5
    with pytest.raises(RasterError, match=r"100 void or gap pixels .* never read as sea level"):
        read_dem(two_tiles, bounds=(-8.8, 51.45, -8.7, 51.55), crs="EPSG:4326")


def test_hgt_bounds_clear_of_void_read_cleanly(two_tiles):
    dem = read_dem(two_tiles, bounds=(-8.5, 51.2, -8.3, 51.3), crs="EPSG:4326")
    x, y = to_projected(-8.4, 51.25, dem.grid.crs)
    r, c = dem.grid.rowcol(x, y)
    assert not dem.nodata_mask[r - 5 : r + 5, c - 5 : c + 5].any()


def test_dem_not_covering_bounds_names_uncovered_extent(two_tiles):
    with pytest.raises(RasterError, match=r"does not cover .*uncovered west of -9\.0004"):
        read_dem(two_tiles, bounds=(-9.5, 51.2, -8.5, 51.4), crs="EPSG:4326")


def test_missing_tile_gap_is_reported(tmp_path):
    a = make_hgt(tmp_path, 51, -9)
    b = make_hgt(tmp_path, 50, -8)  # diagonal: N51W008 and N50W009 are missing
    with pytest.raises(RasterError, match=r"void or gap pixels"):
        read_dem([a, b], bounds=(-8.2, 51.2, -7.8, 51.4), crs="EPSG:4326")


@pytest.mark.parametrize(
    ("name", "n_bytes", "message"),
    [
        pytest.param("N51W009.hgt", 1000, r"1000 bytes is not an SRTM tile", id="wrong-size"),
        pytest.param("tile.hgt", 2 * N3 * N3, r"must give its south-west corner", id="bad-name"),
    ],
)
def test_malformed_hgt(tmp_path, name, n_bytes, message):
    p = tmp_path / name
    p.write_bytes(b"\0" * n_bytes)
    with pytest.raises(RasterError, match=message):
        read_dem(p)


def test_missing_file(tmp_path):
    with pytest.raises(RasterError, match=r"nope\.tif: file not found"):
        read_dem(tmp_path / "nope.tif")


def test_tiles_of_different_resolution_refused(tmp_path):
    a = make_hgt(tmp_path, 51, -9)
    b = tmp_path / "N51W008.hgt"
    np.zeros((3601, 3601), ">i2").tofile(b)
    with pytest.raises(RasterError, match=r"pixel size .* differs"):
        read_dem([a, b])


UTM = "EPSG:32629"


@pytest.fixture
def utm_grid():
    return Grid(UTM, Affine(30.0, 0, 500_000.0, 0, -30.0, 5_750_000.0), 40, 30)


def test_projected_geotiff_dem_keeps_its_grid(tmp_path, utm_grid):
    elev = np.arange(utm_grid.height * utm_grid.width, dtype=float).reshape(utm_grid.shape)
    elev[3, 4] = np.nan
    p = write_raster(tmp_path / "dem.tif", {"elev_m": elev}, utm_grid, units={"elev_m": "m"})
    dem = read_dem(p)
    assert dem.grid == utm_grid
    assert dem.nodata_mask.sum() == 1 and dem.nodata_mask[3, 4]
    np.testing.assert_allclose(dem.values[~dem.nodata_mask], elev[np.isfinite(elev)])
    crop = read_dem(p, bounds=(500_100.0, 5_749_500.0, 500_400.0, 5_749_800.0))
    assert tuple(crop.grid.bounds) == (500_090.0, 5_749_490.0, 500_420.0, 5_749_820.0)
    assert crop.values[0, 0] == elev[6, 3]


def test_dem_window_is_read_once_and_voids_under_the_bounds_still_refused(tmp_path, utm_grid, monkeypatch):
    from netqa.io import _dem

    elev = np.arange(utm_grid.height * utm_grid.width, dtype=float).reshape(utm_grid.shape)
    elev[20, 30] = np.nan  # outside the bounds below
    p = write_raster(tmp_path / "dem.tif", {"elev_m": elev}, utm_grid, units={"elev_m": "m"})
    calls, real = [], _dem._assemble
    monkeypatch.setattr(_dem, "_assemble", lambda *a: calls.append(a[2]) or real(*a))
    crop = read_dem(p, bounds=(500_100.0, 5_749_500.0, 500_400.0, 5_749_800.0))
    assert len(calls) == 1 and crop.values[0, 0] == elev[6, 3]  # the void check used the same read
    with pytest.raises(RasterError, match="void"):
        read_dem(p, bounds=(500_800.0, 5_749_300.0, 501_000.0, 5_749_500.0))  # holds pixel (20, 30)


def test_geographic_geotiff_dem_is_reprojected(tmp_path):
    t = Affine(1 / 1200, 0, -8.6, 0, -1 / 1200, 52.0)
    lon = -8.6 + (np.arange(240) + 0.5) / 1200
    lat = 52.0 - (np.arange(120) + 0.5) / 1200
    elev = _elev(lon[None, :], lat[:, None])
    p = tmp_path / "geo.tif"
    with rasterio.open(p, "w", driver="GTiff", width=240, height=120, count=1, dtype="float64", crs="EPSG:4326", transform=t, nodata=-9999) as ds:
        ds.write(elev, 1)
    dem = read_dem(p, resolution_m=50.0)
    assert dem.grid.crs.to_epsg() == 32629 and dem.grid.pixel_size_m == 50.0
    assert dem.nodata_mask.any()  # corners of the UTM box fall outside the lon/lat box
    value, (x, y) = _value_at(dem, -8.55, 51.96)
    assert value == pytest.approx(_elev(*to_geographic(x, y, dem.grid.crs)), abs=0.5)


def test_resample_propagates_nodata(utm_grid):
    vals = np.ones(utm_grid.shape)
    mask = np.zeros(utm_grid.shape, bool)
    mask[10, 10] = True
    vals[10, 10] = np.nan
    src = Raster(vals, utm_grid, mask, name="elev_m", unit="m")
    fine = Grid.from_bounds(UTM, (utm_grid.bounds.left - 60, utm_grid.bounds.bottom, utm_grid.bounds.right, utm_grid.bounds.top), 10.0)
    out = resample_to_grid(src, fine)
    # the void pixel's footprint (10 x 10 m pixels inside it) is nodata
    x, y = utm_grid.xy(10, 10)
    r, c = fine.rowcol(x, y)
    assert out.nodata_mask[r - 1 : r + 2, c - 1 : c + 2].all()
    # outside the source (60 m strip on the west) is nodata, far from the void is data
    assert out.nodata_mask[:, :6].all()
    assert not out.nodata_mask[:, 60:].any()
    np.testing.assert_allclose(out.values[~out.nodata_mask], 1.0)


def test_resample_refuses_to_blend_codes(utm_grid):
    codes = Raster(np.ones(utm_grid.shape, np.int32), utm_grid, np.zeros(utm_grid.shape, bool))
    with pytest.raises(ValueError, match=r"'bilinear' would blend the integer codes"):
        resample_to_grid(codes, utm_grid, "bilinear")


def test_resample_unknown_method(utm_grid):
    src = Raster(np.ones(utm_grid.shape), utm_grid, np.zeros(utm_grid.shape, bool))
    with pytest.raises(ValueError, match=r"'lanczos9' is unknown; choose one of nearest, bilinear"):
        resample_to_grid(src, utm_grid, "lanczos9")


# --- clutter ---------------------------------------------------------------

TABLE = "code,name,loss_db,height_m\n1,open,0,0\n2,urban,18.5,20\n3,forest,10,15\n"


def _clutter_tif(path, grid, codes, nodata=255):
    with rasterio.open(path, "w", driver="GTiff", width=grid.width, height=grid.height, count=1, dtype="uint8", crs=grid.crs, transform=grid.transform, nodata=nodata) as ds:
        ds.write(codes.astype("uint8"), 1)
    return path


def test_read_clutter(tmp_path, utm_grid):
    codes = np.ones(utm_grid.shape, int)
    codes[:5] = 2
    codes[0, 0] = 255  # nodata
    (tmp_path / "classes.csv").write_text(TABLE)
    raster, table = read_clutter(_clutter_tif(tmp_path / "c.tif", utm_grid, codes), tmp_path / "classes.csv")
    assert raster.grid == utm_grid and raster.nodata_mask.sum() == 1
    assert raster.values[1, 0] == 2 and raster.values[10, 0] == 1
    np.testing.assert_allclose(table.loss_db([1, 2, 3, 2]), [0.0, 18.5, 10.0, 18.5])
    np.testing.assert_allclose(table.height_m(np.array([[3]])), [[15.0]])


def test_clutter_code_missing_from_table(tmp_path, utm_grid):
    codes = np.ones(utm_grid.shape, int)
    codes[:2] = 7  # 2 rows x 40 cols
    (tmp_path / "classes.csv").write_text(TABLE)
    with pytest.raises(RasterError, match=r"c\.tif: code 7 \(80 source pixels\) not in the class table .*classes\.csv"):
        read_clutter(_clutter_tif(tmp_path / "c.tif", utm_grid, codes), tmp_path / "classes.csv")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("code,name,loss_db\n1,open,0\n", r"lacks column\(s\) height_m", id="missing-column"),
        pytest.param("code,name,loss_db,height_m\n1,a,0,0\n1,b,3,5\n", r"duplicate clutter code\(s\) \[1\] on rows \[1, 2\]", id="duplicate-code"),
        pytest.param("code,name,loss_db,height_m\n1,a,0,0\n2,b,-3,5\n", r"row 2: field 'loss_db' = -3 must be >= 0", id="negative-loss"),
        pytest.param("code,name,loss_db,height_m\n1,a,0,-1\n", r"row 1: field 'height_m' = -1 must be >= 0", id="negative-height"),
        pytest.param("code,name,loss_db,height_m\n1,a,x,0\n", r"row 1: field 'loss_db' = 'x' is not a number", id="non-numeric"),
        pytest.param("code,name,loss_db,height_m\n1.5,a,0,0\n", r"row 1: field 'code' = '1.5' is not an integer", id="fractional-code"),
        pytest.param("code,name,loss_db,height_m\n", r"has no rows", id="empty"),
    ],
)
def test_malformed_clutter_table(tmp_path, text, message):
    p = tmp_path / "classes.csv"
    p.write_text(text)
    with pytest.raises(RasterError, match=r"classes\.csv: .*" + message):
        read_clutter_table(p)


# --- write_raster ------------------------------------------------------------


def test_write_raster_round_trip(tmp_path, utm_grid):
    rsrp = np.full(utm_grid.shape, -90.0)
    rsrp[0, 0] = np.nan
    best = np.zeros(utm_grid.shape)
    out = write_raster(
        tmp_path / "cov.tif",
        {"rsrp_dbm": rsrp, "best_cell": best},
        utm_grid,
        descriptions={"rsrp_dbm": "rsrp_dbm: best-server RSRP [dBm]"},
        units={"rsrp_dbm": "dBm", "best_cell": "index"},
        metadata={"best_cell": ["A1", "A2"], "model": "hata"},
    )
    with rasterio.open(out) as ds:
        assert ds.crs.to_epsg() == 32629
        assert ds.transform == utm_grid.transform
        assert ds.nodata == -9999.0 and ds.dtypes == ("float32", "float32")
        assert ds.descriptions == ("rsrp_dbm: best-server RSRP [dBm]", "best_cell")
        assert ds.tags(1)["unit"] == "dBm" and ds.units[0] == "dBm"
        assert json.loads(ds.tags()["best_cell"]) == ["A1", "A2"] and ds.tags()["model"] == "hata"
        assert ds.profile["tiled"] and ds.compression.value == "DEFLATE"
        assert ds.read(1)[0, 0] == -9999.0
    back = read_raster(out, "rsrp_dbm")
    assert back.grid == utm_grid and back.unit == "dBm" and back.name == "rsrp_dbm"
    assert back.nodata_mask.sum() == 1 and back.values[1, 1] == -90.0


def test_write_raster_refuses_overwrite(tmp_path, utm_grid):
    p = write_raster(tmp_path / "a.tif", {"x": np.zeros(utm_grid.shape)}, utm_grid)
    with pytest.raises(OutputExistsError, match=r"a\.tif: output exists; pass --overwrite"):
        write_raster(p, {"x": np.zeros(utm_grid.shape)}, utm_grid)
    write_raster(p, {"x": np.ones(utm_grid.shape)}, utm_grid, overwrite=True)
    assert read_raster(p).values[0, 0] == 1.0
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.tif"]  # no temporary left behind


def test_write_raster_shape_mismatch(tmp_path, utm_grid):
    with pytest.raises(RasterError, match=r"band 'x' has shape \(2, 2\), the grid is \(30, 40\)"):
        write_raster(tmp_path / "a.tif", {"x": np.zeros((2, 2))}, utm_grid)


def test_write_raster_checks_shapes_before_the_output(tmp_path, utm_grid):
    """A wrong shape is named first, even when the output exists, and no folder is made for it."""
    (tmp_path / "a.tif").write_bytes(b"")
    with pytest.raises(RasterError, match=r"a\.tif: band 'y' has shape \(30,\), the grid is \(30, 40\)"):
        write_raster(tmp_path / "a.tif", {"x": np.zeros(utm_grid.shape), "y": np.zeros(30)}, utm_grid)
    with pytest.raises(RasterError, match="has shape"):
        write_raster(tmp_path / "new" / "a.tif", {"x": np.zeros((2, 2))}, utm_grid)
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("streamed", [False, True], ids=["write_raster", "open_raster_writer"])
def test_raster_writers_share_their_checks(tmp_path, utm_grid, streamed):
    from netqa.io.raster import open_raster_writer

    def write(path, bands, **kw):
        if not streamed:
            return write_raster(path, bands, utm_grid, **kw)
        with open_raster_writer(path, list(bands), utm_grid, **kw) as w:
            w.write(0, 0, list(bands.values()))
        return path

    with pytest.raises(RasterError, match=r"none\.tif: no bands to write"):
        write(tmp_path / "none.tif", {})
    p = write(tmp_path / "a.tif", {"x": np.zeros(utm_grid.shape)})
    with pytest.raises(OutputExistsError, match=r"a\.tif: output exists; pass --overwrite"):
        write(p, {})  # the existing output is named before the missing bands
    write(p, {"x": np.full(utm_grid.shape, 2.0)}, overwrite=True)
    assert read_raster(p).values[0, 0] == 2.0
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.tif"]


def test_read_raster_unknown_band(tmp_path, utm_grid):
    p = write_raster(tmp_path / "a.tif", {"x": np.zeros(utm_grid.shape)}, utm_grid)
    with pytest.raises(RasterError, match=r"no band named 'y'; bands are x"):
        read_raster(p, "y")


# --- the shared synthetic test world (skips until it exists) -----------------


def test_world_dem(testdata):
    p = testdata / "dem.tif"
    if not p.exists():
        pytest.skip("testdata/dem.tif not generated yet")
    dem = read_dem(p)
    assert dem.grid.pixel_size_m > 0 and np.isfinite(dem.values[~dem.nodata_mask]).all()


def test_world_clutter(testdata):
    r, t = testdata / "clutter.tif", testdata / "clutter_classes.csv"
    if not (r.exists() and t.exists()):
        pytest.skip("testdata/clutter.tif or clutter_classes.csv not generated yet")
    raster, table = read_clutter(r, t)
    assert np.isin(raster.values[~raster.nodata_mask], table.codes).all()


def test_write_raster_cog_keeps_descriptions_units_and_tags(tmp_path, utm_grid):
    p = write_raster(
        tmp_path / "cog.tif", {"rsrp_dbm": np.full(utm_grid.shape, -80.0), "best_cell": np.ones(utm_grid.shape)}, utm_grid,
        units={"rsrp_dbm": "dBm"}, metadata={"best_cell": ["A"]}, cog=True,
    )
    with rasterio.open(p) as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert ds.descriptions == ("rsrp_dbm", "best_cell") and ds.tags(1)["unit"] == "dBm"
        assert ds.nodata == -9999.0 and ds.crs.to_epsg() == 32629 and json.loads(ds.tags()["best_cell"]) == ["A"]
    assert sorted(x.name for x in tmp_path.iterdir()) == ["cog.tif"]


def test_zipped_hgt_reads_like_the_plain_tile(tmp_path):
    import zipfile

    plain = make_hgt(tmp_path, 51, -9, voids=(600, 610, 300, 310))
    zpath = tmp_path / "zipped" / "N51W009.SRTMGL3.hgt.zip"
    zpath.parent.mkdir()
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.write(plain, "N51W009.hgt")
    bounds = (-8.6, 51.2, -8.5, 51.3)
    a = read_dem(plain, bounds=bounds, crs="EPSG:4326")
    b = read_dem(zpath, bounds=bounds, crs="EPSG:4326")
    assert a.grid == b.grid
    np.testing.assert_array_equal(a.values, b.values)


def test_int16_geotiff_without_nodata_tag_has_voids_masked(tmp_path, utm_grid):
    elev = np.full(utm_grid.shape, 120, dtype="int16")
    elev[2, 2] = -32768
    p = tmp_path / "srtm.tif"
    with rasterio.open(p, "w", driver="GTiff", width=utm_grid.width, height=utm_grid.height, count=1, dtype="int16", crs=utm_grid.crs, transform=utm_grid.transform) as ds:
        ds.write(elev, 1)
    dem = read_dem(p)
    assert dem.nodata_mask.sum() == 1 and dem.nodata_mask[2, 2] and np.isnan(dem.values[2, 2])
