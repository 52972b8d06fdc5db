"""The GeoTIFF writer: every raster netqa writes is a Cloud-Optimized GeoTIFF, compressed in parallel.

Private module; the public names (:func:`write_raster`, :func:`open_raster_writer`,
:class:`RasterWindowWriter`, :func:`open_cog_dataset`) are re-exported by
:mod:`netqa.io.raster`.

How a file is made (each choice measured; benchmarks/README.md, "Output writing"):

1. the pixels go into an uncompressed, band-interleaved, tiled *stage* GeoTIFF
   beside the output (ZSTD level 1 instead when the stage would exceed
   :data:`STAGE_RAW_MAX_BYTES`).  Every block is written once whatever GDAL's
   block cache holds: band-by-band writes into a compressed pixel-interleaved
   file recompress each block once per band when the cache is small (5 bands:
   6.6 s and a 2.7x larger file instead of 1.0 s);
2. GDAL's COG driver copies the stage into the output: internal overviews
   (nearest neighbour, so best-server indices and class codes stay codes) down
   to one block, IFDs first, then the tiles of the smallest overview to the
   full resolution, compressed once by :data:`NUM_THREADS` threads with
   :data:`CODEC` (lossless: float32 values are kept bit for bit);
3. the stage is removed, and the output renamed over ``path`` (atomic).

The ``GDAL_NUM_THREADS`` environment variable, when set, replaces ``ALL_CPUS``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil

from netqa.errors import RasterError
from netqa.fileio import atomic_path, check_output
from netqa.grid import Grid
from netqa.timings import phase

log = logging.getLogger(__name__)

#: Compression of every GeoTIFF netqa writes (COG driver options).  DEFLATE level 1 with the
#: floating-point predictor (3; 2 for integers): 1.7x faster than DEFLATE 6 for a 6 % larger file,
#: readable by every GeoTIFF reader; ZSTD 1 was about 15 % faster still but many GIS tools cannot
#: read it.  Measured in benchmarks/README.md ("Output writing").
CODEC = {"compress": "DEFLATE", "level": 1, "predictor": "YES"}
#: Stages larger than this are ZSTD-1 compressed instead of raw (disk space over speed). [bytes]
STAGE_RAW_MAX_BYTES = 2 << 30


def num_threads() -> str:
    """Threads for GDAL's block compression: ``$GDAL_NUM_THREADS`` or ``ALL_CPUS``."""
    return os.environ.get("GDAL_NUM_THREADS") or "ALL_CPUS"


#: Keys of a caller's profile that :func:`open_cog_dataset` passes on (the rest is this module's).
_PROFILE_KEYS = ("driver", "width", "height", "count", "dtype", "crs", "transform", "nodata", "photometric")


def _stage_profile(profile: dict, block_px: int) -> dict:
    """Profile of the stage file: tiled, band-interleaved, raw (ZSTD-1 beyond :data:`STAGE_RAW_MAX_BYTES`)."""
    out = {k: v for k, v in profile.items() if k in _PROFILE_KEYS}
    out.update(driver="GTiff", interleave="band", tiled=True, blockxsize=block_px, blockysize=block_px, BIGTIFF="IF_SAFER")
    raw_bytes = int(profile["width"]) * int(profile["height"]) * int(profile["count"]) * np.dtype(profile["dtype"]).itemsize
    if raw_bytes > STAGE_RAW_MAX_BYTES:
        out.update(compress="zstd", zstd_level=1, num_threads=num_threads())
    else:
        out.update(compress="none", sparse_ok=True)  # blocks never written read back as nodata
    return out


def _final_profile(profile: dict, block_px: int) -> dict:
    """Profile of a plain (``cog=False``) tiled GeoTIFF: :data:`CODEC`, compressed in parallel."""
    out = {k: v for k, v in profile.items() if k in _PROFILE_KEYS}
    is_float = np.issubdtype(np.dtype(profile["dtype"]), np.floating)
    out.update(
        driver="GTiff", interleave="band", tiled=True, blockxsize=block_px, blockysize=block_px, BIGTIFF="IF_SAFER",
        compress=CODEC["compress"], zlevel=CODEC["level"], predictor=3 if is_float else 2, num_threads=num_threads(),
    )  # fmt: skip
    return out


def _copy_to_cog(stage, out, block_px: int) -> None:
    """The COG of ``stage`` at ``out``: overviews, IFDs first, :data:`CODEC`, compressed by :func:`num_threads`."""
    rasterio.shutil.copy(
        stage, out, driver="COG", blocksize=block_px, overview_resampling="nearest",
        num_threads=num_threads(), BIGTIFF="IF_SAFER", **CODEC,
    )  # fmt: skip


@contextlib.contextmanager
def open_cog_dataset(path, profile: dict, *, overwrite: bool = False, cog: bool = True, outputs=None):
    """Yield a writable rasterio dataset whose content becomes a COG at ``path`` (atomically) on a clean exit.

    ``profile`` gives the grid, bands and dtype (``driver``, ``width``,
    ``height``, ``count``, ``dtype``, ``crs``, ``transform``, ``nodata``, and
    optionally ``photometric`` and ``blockxsize``); compression, tiling and
    interleaving are this module's.  The dataset is the stage file: write
    pixels, colour maps, descriptions and tags into it as usual.  With
    ``cog=False`` the dataset is a plain tiled GeoTIFF written in place
    (no overviews).  On an error nothing is left behind.  With ``outputs``
    (a :class:`netqa.fileio.OutputSet`) the file is a member of that set and
    is committed with its other files instead of renamed on its own.
    """
    with _cog_dataset(check_output(path, overwrite), profile, cog=cog, outputs=outputs) as ds:
        yield ds


@contextlib.contextmanager
def _cog_dataset(p: Path, profile: dict, *, cog: bool, outputs):
    """:func:`open_cog_dataset` on a checked output path ``p``."""
    block_px = int(profile.get("blockxsize", 256))
    with (atomic_path(p) if outputs is None else contextlib.nullcontext(outputs.path(p))) as tmp:
        stage = tmp.with_name(tmp.stem + ".stage.tif") if cog else tmp
        try:
            with rasterio.open(stage, "w", **(_stage_profile if cog else _final_profile)(profile, block_px)) as ds:
                yield ds
            if cog:
                with phase("output"):
                    _copy_to_cog(stage, tmp, block_px)
        finally:
            if cog and stage.exists():
                stage.unlink()


def _describe_bands(ds, names, descriptions, units, metadata) -> None:
    """Band descriptions, units and ``name``/``unit`` tags, and the dataset tags (non-strings as JSON)."""
    for i, name in enumerate(names, start=1):
        ds.set_band_description(i, str(descriptions.get(name, name)))
        unit = units.get(name)
        if unit is not None:
            ds.set_band_unit(i, str(unit))
            ds.update_tags(i, unit=str(unit), name=str(name))
        else:
            ds.update_tags(i, name=str(name))
    if metadata:
        ds.update_tags(**{str(k): v if isinstance(v, str) else json.dumps(v) for k, v in metadata.items()})


class RasterWindowWriter:
    """Writes windows of a GeoTIFF opened by :func:`open_raster_writer` (NaN -> nodata, cast to its dtype)."""

    def __init__(self, ds, path: Path, names: list, nodata: float, dtype: str):
        self._ds, self.path, self.names, self._nodata, self._dtype = ds, path, names, nodata, dtype

    def write(self, row_off: int, col_off: int, bands) -> None:
        """Write ``bands`` ((n_bands, rows, cols), or n_bands arrays of (rows, cols)) at ``(row_off, col_off)``.

        Band by band, so the only extra memory is one band of the window.
        """
        from rasterio.windows import Window

        shapes = {np.shape(b) for b in bands}
        if len(bands) != len(self.names) or len(shapes) != 1 or len(next(iter(shapes))) != 2:
            raise RasterError(f"{self.path}: expected {len(self.names)} bands of one (rows, cols) shape, got {sorted(shapes)}")
        rows, cols = next(iter(shapes))
        if not (0 <= row_off and row_off + rows <= self._ds.height and 0 <= col_off and col_off + cols <= self._ds.width):
            raise RasterError(
                f"{self.path}: window rows {row_off}..{row_off + rows}, cols {col_off}..{col_off + cols} "
                f"is outside the {self._ds.height} x {self._ds.width} grid"
            )
        window = Window(col_off, row_off, cols, rows)
        with phase("output"):
            self._write(window, bands)

    def _write(self, window, bands) -> None:
        for i, band in enumerate(bands, start=1):
            a = np.asarray(band)
            if np.issubdtype(a.dtype, np.floating):  # as write_raster: NaN/inf -> nodata (in float64 when wider)
                wide = np.float64 if a.dtype.itemsize > np.dtype(self._dtype).itemsize else a.dtype.type
                a = np.where(np.isfinite(a), a.astype(wide, copy=False), wide(self._nodata))
            self._ds.write(a.astype(self._dtype, copy=False), i, window=window)


@contextlib.contextmanager
def open_raster_writer(
    path,
    names,
    grid: Grid,
    *,
    nodata: float = -9999.0,
    dtype: str = "float32",
    descriptions: dict | None = None,
    units: dict | None = None,
    metadata: dict | None = None,
    overwrite: bool = False,
    block_px: int = 256,
    cog: bool = True,
    outputs=None,
):
    """Write a GeoTIFF window by window, atomically: the streamed twin of :func:`write_raster`.

    Yields a :class:`RasterWindowWriter`; on a clean exit the file (the same
    profile, band descriptions, units and tags as :func:`write_raster` writes)
    is made a Cloud-Optimized GeoTIFF and renamed over ``path``.  On an error
    nothing is left behind.  Windows not written stay nodata.  Memory: one
    band of one window; disk: a raw stage of the grid beside ``path`` while
    writing (ZSTD-compressed beyond :data:`STAGE_RAW_MAX_BYTES`).

    Parameters
    ----------
    path : path
        Output ``.tif``; refused when it exists unless ``overwrite``.
    names : sequence of str
        Band names, in order.
    grid, nodata, dtype, descriptions, units, metadata, overwrite, block_px, cog
        As :func:`write_raster`.
    outputs : netqa.fileio.OutputSet, optional
        Write the file as a member of this output set (committed with the
        set's other files by :func:`netqa.fileio.atomic_set`) instead of
        renaming it on its own.
    """
    p, names = _checked_target(path, names, grid, overwrite)
    with _window_writer(p, names, grid, nodata=nodata, dtype=dtype, descriptions=descriptions, units=units,
                        metadata=metadata, block_px=block_px, cog=cog, outputs=outputs) as writer:  # fmt: skip
        yield writer


def write_raster(
    path,
    bands: dict,
    grid: Grid,
    *,
    nodata: float = -9999.0,
    dtype: str = "float32",
    descriptions: dict | None = None,
    units: dict | None = None,
    metadata: dict | None = None,
    overwrite: bool = False,
    block_px: int = 256,
    cog: bool = True,
) -> Path:
    """Write bands to a Cloud-Optimized GeoTIFF (tiled, overviews, DEFLATE), atomically.

    Parameters
    ----------
    path : path
        Output ``.tif``.  Refused when it exists unless ``overwrite``.
    bands : dict[str, numpy.ndarray]
        Band name -> ``(rows, cols)`` array on ``grid``, in order.  NaN values
        are written as ``nodata``.
    grid : Grid
        Georeferencing (CRS and transform).
    nodata : float
        Nodata value set on the file (every band).
    dtype : str
        Storage type, ``float32`` by default.
    descriptions : dict, optional
        Band name -> description (default: the band name, e.g. ``rsrp_dbm``).
    units : dict, optional
        Band name -> unit, stored as the GDAL band unit and a ``unit`` tag.
    metadata : dict, optional
        Dataset tags; values that are not strings are stored as JSON
        (e.g. ``{"best_cell": ["A1", "A2"]}``).
    overwrite : bool
        Replace an existing file.
    block_px : int
        Tile size (multiple of 16).
    cog : bool
        Write a Cloud-Optimized GeoTIFF (GDAL COG driver: internal overviews
        down to one tile, IFDs first, tiles ordered for HTTP range reads), at
        every grid size (default); ``False`` writes a plain tiled GeoTIFF.

    Returns
    -------
    pathlib.Path
    """
    p, names = _checked_target(path, list(bands), grid, overwrite, bands)
    # one window covering the grid: the same profile, tags, nodata handling and atomic rename as streamed files
    with _window_writer(p, names, grid, nodata=nodata, dtype=dtype, descriptions=descriptions, units=units,
                        metadata=metadata, block_px=block_px, cog=cog, outputs=None) as writer:  # fmt: skip
        writer.write(0, 0, list(bands.values()))
    return p


def _checked_target(path, names, grid: Grid, overwrite: bool, bands: dict | None = None) -> tuple[Path, list[str]]:
    """The argument checks :func:`write_raster` and :func:`open_raster_writer` share, in this order.

    Every array of ``bands`` (when given) has the grid's shape; ``path`` is a
    new file unless ``overwrite`` (its folder is made); there is at least one
    band name.  Returns the output path and the band names as strings.

    Raises
    ------
    netqa.errors.RasterError
        A band's shape differs from the grid's, or there are no bands.
    netqa.errors.OutputExistsError
        ``path`` exists and ``overwrite`` is False.
    """
    p = Path(path)
    for name, arr in (bands or {}).items():
        if np.shape(arr) != grid.shape:
            raise RasterError(f"{p}: band {name!r} has shape {np.shape(arr)}, the grid is {grid.shape}")
    p = check_output(p, overwrite)
    names = [str(n) for n in names]
    if not names:
        raise RasterError(f"{p}: no bands to write")
    return p, names


@contextlib.contextmanager
def _window_writer(p: Path, names: list[str], grid: Grid, *, nodata, dtype, descriptions, units, metadata, block_px,
                   cog, outputs):  # fmt: skip
    """The :class:`RasterWindowWriter` of both public writers, once :func:`_checked_target` passed."""
    profile = dict(driver="GTiff", width=grid.width, height=grid.height, count=len(names), dtype=dtype,
                   crs=grid.crs, transform=grid.transform, nodata=nodata, blockxsize=block_px)  # fmt: skip
    with _cog_dataset(p, profile, cog=cog, outputs=outputs) as ds:
        _describe_bands(ds, names, dict(descriptions or {}), dict(units or {}), metadata)
        yield RasterWindowWriter(ds, p, names, nodata, dtype)
    log.info("wrote %s (%d bands, %s%s)", p, len(names), grid, ", COG" if cog else "")
