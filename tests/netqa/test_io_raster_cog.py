"""The GeoTIFF writer (issue 14): a valid Cloud-Optimized GeoTIFF at every size, values kept bit for bit.

The layout checks read the TIFF structure itself (IFD chain, tile offsets),
as GDAL's ``validate_cloud_optimized_geotiff.py`` does: every IFD before the
first tile, the full-resolution image first and its overviews after it in
decreasing size, and the tile data of each overview before that of the
larger image above it.
"""

from __future__ import annotations

import itertools
import struct

import numpy as np
import pytest
import rasterio
from rasterio._env import get_gdal_config

from netqa.grid import Grid
from netqa.io.raster import open_raster_writer, write_raster

_TYPE_SIZE = {3: 2, 4: 4, 16: 8}  # SHORT, LONG, LONG8
_TILE_WIDTH, _IMAGE_WIDTH, _TILE_OFFSETS, _TILE_BYTE_COUNTS = 322, 256, 324, 325


def tiff_ifds(path) -> list[dict]:
    """Each IFD of a (Big)TIFF: its file offset and the tags this test needs, in chain order."""
    data = path.read_bytes()
    bo = {b"II": "<", b"MM": ">"}[data[:2]]
    (magic,) = struct.unpack(bo + "H", data[2:4])
    big = magic == 43
    off_fmt, cnt_fmt, entry_size, inline = ("Q", "Q", 20, 8) if big else ("I", "H", 12, 4)
    (offset,) = struct.unpack(bo + off_fmt, data[8:16] if big else data[4:8])
    ifds = []
    while offset:
        (n,) = struct.unpack_from(bo + cnt_fmt, data, offset)
        pos = offset + struct.calcsize(cnt_fmt)
        tags = {}
        for i in range(n):
            e = pos + i * entry_size
            tag, typ = struct.unpack_from(bo + "HH", data, e)
            (count,) = struct.unpack_from(bo + ("Q" if big else "I"), data, e + 4)
            if tag not in (_TILE_WIDTH, _IMAGE_WIDTH, _TILE_OFFSETS, _TILE_BYTE_COUNTS) or typ not in _TYPE_SIZE:
                continue
            size = _TYPE_SIZE[typ]
            vpos = e + (12 if big else 8)
            if count * size > inline:
                (vpos,) = struct.unpack_from(bo + off_fmt, data, vpos)
            tags[tag] = list(struct.unpack_from(bo + {2: "H", 4: "I", 8: "Q"}[size] * count, data, vpos))
        ifds.append({"offset": offset, **tags})
        (offset,) = struct.unpack_from(bo + off_fmt, data, pos + n * entry_size)
    return ifds


def assert_cog_layout(path) -> None:
    """Fail unless ``path`` has the layout of a Cloud-Optimized GeoTIFF."""
    ifds = tiff_ifds(path)
    assert all(_TILE_WIDTH in ifd for ifd in ifds), "every image is tiled"
    widths = [ifd[_IMAGE_WIDTH][0] for ifd in ifds]
    assert widths == sorted(widths, reverse=True) and len(set(widths)) == len(widths), widths
    first_tile = min(o for ifd in ifds for o, n in zip(ifd[_TILE_OFFSETS], ifd[_TILE_BYTE_COUNTS]) if n)
    assert max(ifd["offset"] for ifd in ifds) < first_tile, "all IFDs before the tile data"
    spans = [(min(o for o, n in zip(ifd[_TILE_OFFSETS], ifd[_TILE_BYTE_COUNTS]) if n),
              max(o for o, n in zip(ifd[_TILE_OFFSETS], ifd[_TILE_BYTE_COUNTS]) if n)) for ifd in ifds]  # fmt: skip
    for bigger, smaller in itertools.pairwise(spans):
        assert smaller[1] < bigger[0], "an overview's tiles come before those of the larger image"
    with rasterio.open(path) as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert all(s == (ds.block_shapes[0]) for s in ds.block_shapes)
        block = ds.block_shapes[0][1]
        ovr = ds.overviews(1)
        assert len(ovr) == len(ifds) - 1
        # overviews halve the size until the smallest fits in one tile
        smallest = max(ds.width, ds.height) / (ovr[-1] if ovr else 1)
        assert smallest <= block * 1.0001 or not ovr and max(ds.width, ds.height) <= block


def _grid(rows, cols, px=30.0):
    return Grid.from_bounds("EPSG:32630", (480000.0, 4470000.0, 480000.0 + cols * px, 4470000.0 + rows * px), px)


def _bands(grid, seed=0):
    rng = np.random.default_rng(seed)
    rsrp = rng.normal(-95.0, 12.0, grid.shape)  # float64: rounded to float32 on the way
    rsrp[rng.random(grid.shape) < 0.2] = np.nan
    best = rng.integers(0, 7, grid.shape).astype(np.float32)
    best[np.isnan(rsrp)] = np.nan
    return {"rsrp_dbm": rsrp, "best_cell": best, "sinr_db": (rsrp + 100.0).astype(np.float32)}


@pytest.mark.parametrize(("rows", "cols", "block_px", "n_overviews"), [
    (10, 12, 16, 0),  # one tile: a valid COG needs no overview
    (40, 33, 16, 2),  # 40 -> 20 -> 10 rows
    (300, 700, 64, 4),  # 700 -> 350 -> 175 -> 88 -> 44 columns
    (700, 520, 256, 2),
])  # fmt: skip
def test_every_size_is_a_valid_cog_with_overviews_down_to_one_tile(tmp_path, rows, cols, block_px, n_overviews):
    grid = _grid(rows, cols)
    p = write_raster(tmp_path / "cov.tif", _bands(grid), grid, units={"rsrp_dbm": "dBm"}, block_px=block_px)
    assert_cog_layout(p)
    with rasterio.open(p) as ds:
        assert len(ds.overviews(1)) == n_overviews
        assert ds.block_shapes[0] == (block_px, block_px)
        assert ds.compression.value == "DEFLATE" and ds.tags(ns="IMAGE_STRUCTURE")["PREDICTOR"] == "3"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["cov.tif"]  # no stage left behind


def _write_as_before(path, bands, grid, nodata=-9999.0):
    """The writer of netqa before issue 14: pixel-interleaved DEFLATE 6 GeoTIFF, band by band."""
    with rasterio.open(path, "w", driver="GTiff", width=grid.width, height=grid.height, count=len(bands),
                       dtype="float32", crs=grid.crs, transform=grid.transform, nodata=nodata, tiled=True,
                       blockxsize=16, blockysize=16, compress="deflate", predictor=3, zlevel=6) as ds:  # fmt: skip
        for i, a in enumerate(bands.values(), start=1):
            a = np.asarray(a)
            ds.write(np.where(np.isfinite(a), a, nodata).astype("float32"), i)


def test_values_are_pixel_identical_to_the_writer_before(tmp_path):
    grid = _grid(90, 70)
    bands = _bands(grid, seed=3)
    bands["rsrp_dbm"][5, 5] = -1e-38  # a float32 subnormal survives
    bands["rsrp_dbm"][6, 6] = np.inf  # inf -> nodata, as before
    new = write_raster(tmp_path / "new.tif", bands, grid, block_px=16)
    _write_as_before(tmp_path / "old.tif", bands, grid)
    with rasterio.open(new) as a, rasterio.open(tmp_path / "old.tif") as b:
        x, y = a.read(), b.read()
    assert x.dtype == y.dtype == np.float32
    assert x.tobytes() == y.tobytes()  # bit for bit, nodata included


def test_streamed_windows_make_the_same_pixels_as_one_write(tmp_path):
    grid = _grid(100, 90)
    bands = _bands(grid, seed=5)
    one = write_raster(tmp_path / "one.tif", bands, grid, block_px=32)
    with open_raster_writer(tmp_path / "win.tif", list(bands), grid, block_px=32) as w:
        for r0 in range(0, 100, 64):
            for c0 in range(0, 90, 64):
                w.write(r0, c0, [a[r0:r0 + 64, c0:c0 + 64] for a in bands.values()])
    with rasterio.open(one) as a, rasterio.open(tmp_path / "win.tif") as b:
        assert a.read().tobytes() == b.read().tobytes()
    assert (tmp_path / "one.tif").read_bytes() == (tmp_path / "win.tif").read_bytes()
    assert_cog_layout(tmp_path / "win.tif")


def test_windows_never_written_read_back_as_nodata(tmp_path):
    grid = _grid(64, 64)
    with open_raster_writer(tmp_path / "part.tif", ["x"], grid, block_px=16) as w:
        w.write(0, 0, [np.full((16, 16), 3.0)])
    with rasterio.open(tmp_path / "part.tif") as ds:
        a = ds.read(1)
    assert (a[:16, :16] == 3.0).all() and (a[16:] == -9999.0).all() and (a[:, 16:] == -9999.0).all()


def test_plain_geotiff_on_request_is_tiled_without_overviews(tmp_path):
    grid = _grid(40, 40)
    p = write_raster(tmp_path / "plain.tif", _bands(grid), grid, block_px=16, cog=False)
    with rasterio.open(p) as ds:
        assert ds.overviews(1) == [] and ds.block_shapes[0] == (16, 16) and ds.compression.value == "DEFLATE"
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") != "COG"


def test_write_size_does_not_depend_on_a_small_block_cache(tmp_path):
    """Each block is compressed once even when GDAL's cache is tiny (the nested-Env leak of issue 14)."""
    grid = _grid(256, 256)
    bands = _bands(grid, seed=1)
    ref = write_raster(tmp_path / "ref.tif", bands, grid, block_px=32)
    with rasterio.Env(GDAL_CACHEMAX=1):  # 1 MB: far less than the five bands' blocks
        small = write_raster(tmp_path / "small.tif", bands, grid, block_px=32)
    assert small.read_bytes() == ref.read_bytes()


def test_tile_reads_give_the_block_cache_back(tmp_path):
    """predict's capped cache for tile reads must not outlive them while an output file is open."""
    from netqa.predict.tiles import tile_read_env as _tile_read_env

    grid = _grid(32, 32)
    with open_raster_writer(tmp_path / "o.tif", ["x"], grid, block_px=16):  # an Env is active: the nested case
        before = get_gdal_config("GDAL_CACHEMAX", normalize=False)
        with _tile_read_env():
            assert get_gdal_config("GDAL_CACHEMAX") == 256
        assert get_gdal_config("GDAL_CACHEMAX", normalize=False) == before
