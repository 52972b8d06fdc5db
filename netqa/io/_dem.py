"""DEM reading: GeoTIFF (any CRS GDAL reads) and SRTM ``.hgt`` tiles, mosaicked.

Private module; :func:`read_dem` is re-exported by :mod:`netqa.io.raster`.
"""

from __future__ import annotations

import logging
import math
import os
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from netqa.errors import RasterError
from netqa.grid import WGS84, as_crs, to_geographic
from netqa.grid import Grid
from netqa.io._rasterbase import Raster, _warp, default_resolution_m, is_square_metric, metric_grid_for

log = logging.getLogger(__name__)

#: SRTM void value (NASA SRTM v2/v3 documentation): never a height.
HGT_VOID = -32768
#: Void markers of DEM writers (SRTM/GDAL int16 -32768 and -32767, ESRI/ASCII-grid -9999 and -99999) that
#: a GeoTIFF without a nodata tag may still hold: never a height on Earth (lowest land -430 m, Dead Sea).
DEM_SENTINELS = (-32768.0, -32767.0, -9999.0, -99999.0)
#: A height of this magnitude or more is a void marker (float32 max 3.4e38, 1e30...), never terrain:
#: no point on or under the Earth's surface is within a factor 10 of it (Everest 8849 m, Challenger Deep -10935 m). [m]
DEM_IMPLAUSIBLE_ABS_M = 1.0e5
#: Samples per side of SRTM tiles: 1 arc-second (SRTM1) and 3 arc-second (SRTM3).
HGT_SIZES = {3601: "1 arc-second", 1201: "3 arc-second"}
_HGT_NAME = re.compile(r"([NS])(\d{2})([EW])(\d{3})", re.IGNORECASE)
#: Extra source pixels read around a requested area so bilinear resampling has neighbours.
_MARGIN_PX = 2


@dataclass(frozen=True)
class _Source:
    """One DEM file: its georeferencing and a windowed reader (NaN for nodata)."""

    path: Path
    crs: CRS
    transform: Affine
    width: int
    height: int
    kind: str  # "hgt" or "gdal"
    samples: np.ndarray | None = None  # .hgt samples already in memory (from a .zip)

    def read(self, row0: int, col0: int, rows: int, cols: int) -> np.ndarray:
        if self.kind == "hgt":
            if self.samples is not None:
                hgt = self.samples
            else:
                hgt = np.memmap(self.path, dtype=">i2", mode="r", shape=(self.height, self.width))
            block = np.asarray(hgt[row0 : row0 + rows, col0 : col0 + cols]).astype(np.float64)
            block[block == HGT_VOID] = np.nan
            return block
        with rasterio.open(self.path) as ds:
            arr = ds.read(1, window=Window(col0, row0, cols, rows), masked=True)
            untagged = ds.nodata is None
        out = np.ma.filled(arr.astype(np.float64), np.nan)
        if untagged:  # a DEM that forgot its nodata tag: its writer's void marker is a void, not terrain
            out = mask_dem_sentinels(out, self.path)
        out[~np.isfinite(out)] = np.nan
        return out


def mask_dem_sentinels(heights_m: np.ndarray, path=None) -> np.ndarray:
    """NaN where a DEM without a nodata tag holds a void marker (in place; returned).

    The markers are :data:`DEM_SENTINELS` and any magnitude of at least
    :data:`DEM_IMPLAUSIBLE_ABS_M` (float32 max 3.4e38 and the like), for int
    and float files alike; they are counted in a warning naming the file.

    Parameters
    ----------
    heights_m : numpy.ndarray
        Heights read from the file, float64. [m]
    path : path, optional
        The file (for the warning).
    """
    with np.errstate(invalid="ignore"):
        void = np.isin(heights_m, DEM_SENTINELS) | (np.abs(heights_m) >= DEM_IMPLAUSIBLE_ABS_M)
    if void.any():
        vals = np.unique(heights_m[void])
        shown = ", ".join(f"{v:g}" for v in vals[:4]) + (", ..." if vals.size > 4 else "")
        (log.info if str(path) in _SENTINEL_WARNED else log.warning)("%s: no nodata tag; %d pixels hold the void marker(s) %s and are read as voids, not terrain",
                    path, int(void.sum()), shown)
        _SENTINEL_WARNED.add(str(path))
        heights_m[void] = np.nan
    return heights_m


_SENTINEL_WARNED: set[str] = set()  # files already warned about (windowed reads warn once per file)


def _open_hgt(path: Path) -> _Source:
    m = _HGT_NAME.search(path.name)
    if not m:
        raise RasterError(
            f"{path}: an SRTM .hgt file name must give its south-west corner, like N51W009.hgt; got {path.name!r}"
        )
    ns, lat_s, ew, lon_s = m.groups()
    lat = int(lat_s) * (1 if ns.upper() == "N" else -1)
    lon = int(lon_s) * (1 if ew.upper() == "E" else -1)
    if not (-90 <= lat < 90 and -180 <= lon < 180):
        raise RasterError(f"{path}: tile corner lat={lat}, lon={lon} from the name is outside the globe")
    samples = None
    if path.suffix.lower() == ".zip":
        samples = _hgt_from_zip(path)
        size = samples.nbytes
    else:
        size = path.stat().st_size
    n = math.isqrt(size // 2)
    if size % 2 or n * n * 2 != size or n not in HGT_SIZES:
        raise RasterError(
            f"{path}: {size} bytes is not an SRTM tile; expected 3601x3601 (25934402 bytes, 1 arc-second) "
            f"or 1201x1201 (2884802 bytes, 3 arc-second) big-endian int16 samples"
        )
    step = 1.0 / (n - 1)
    # Samples are points on whole arc-seconds; the first row is the north edge (lat + 1).
    transform = Affine(step, 0.0, lon - step / 2.0, 0.0, -step, lat + 1 + step / 2.0)
    if samples is not None:
        samples = samples.reshape(n, n)
    return _Source(path, WGS84, transform, n, n, "hgt", samples)


def _hgt_from_zip(path: Path) -> np.ndarray:
    """The big-endian int16 samples of the single ``.hgt`` inside a zip (as NASA distributes them)."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if n.lower().endswith(".hgt")]
            if len(names) != 1:
                raise RasterError(f"{path}: expected one .hgt file inside the zip, found {len(names)}")
            return np.frombuffer(zf.read(names[0]), dtype=">i2")
    except zipfile.BadZipFile as exc:
        raise RasterError(f"{path}: not a readable zip ({exc})") from exc


def _open_gdal(path: Path) -> _Source:
    try:
        with rasterio.open(path) as ds:
            if ds.crs is None:
                raise RasterError(f"{path}: the raster has no CRS; assign one (gdal_edit.py -a_srs EPSG:xxxx)")
            if ds.transform.b != 0 or ds.transform.d != 0:
                raise RasterError(f"{path}: rotated rasters are not supported; warp it north-up with gdalwarp")
            return _Source(path, ds.crs, ds.transform, ds.width, ds.height, "gdal")
    except rasterio.errors.RasterioIOError as exc:
        raise RasterError(f"{path}: cannot read as a raster ({exc})") from exc


def open_source(path) -> _Source:
    p = Path(path)
    if not p.exists():
        raise RasterError(f"{p}: file not found")
    if p.suffix.lower() == ".hgt" or p.name.lower().endswith(".hgt.zip"):
        return _open_hgt(p)
    return _open_gdal(p)


def _names(sources) -> str:
    names = [s.path.name for s in sources]
    return names[0] if len(names) == 1 else f"{len(names)} tiles ({', '.join(names[:4])}{', ...' if len(names) > 4 else ''})"


def _check_compatible(sources: list[_Source]) -> None:
    s0 = sources[0]
    for s in sources[1:]:
        if s.crs != s0.crs:
            raise RasterError(
                f"{s.path}: CRS {s.crs.to_string()} differs from {s0.path.name}'s {s0.crs.to_string()}; "
                "warp the tiles to one CRS first (gdalwarp)"
            )
        if not (math.isclose(s.transform.a, s0.transform.a, rel_tol=1e-6) and math.isclose(s.transform.e, s0.transform.e, rel_tol=1e-6)):
            raise RasterError(
                f"{s.path}: pixel size {s.transform.a:g} x {-s.transform.e:g} differs from {s0.path.name}'s "
                f"{s0.transform.a:g} x {-s0.transform.e:g}; mosaic tiles of one resolution"
            )
        dc = (s.transform.c - s0.transform.c) / s0.transform.a
        dr = (s.transform.f - s0.transform.f) / s0.transform.e
        if abs(dc - round(dc)) > 1e-3 or abs(dr - round(dr)) > 1e-3:
            raise RasterError(f"{s.path}: its pixels are not aligned with {s0.path.name}'s; resample it onto one grid first")


@dataclass(frozen=True)
class _Mosaic:
    transform: Affine  # of the full union extent
    width: int
    height: int

    def extent(self):
        t = self.transform
        return (t.c, t.f + t.e * self.height, t.c + t.a * self.width, t.f)

    def window_for(self, region, margin: int = 0):
        """(row0, col0, rows, cols) of mosaic pixels intersecting ``region``, clipped."""
        t = self.transform
        left, bottom, right, top = region
        c0 = max(0, math.floor((left - t.c) / t.a + 1e-9) - margin)
        c1 = min(self.width, math.ceil((right - t.c) / t.a - 1e-9) + margin)
        r0 = max(0, math.floor((top - t.f) / t.e + 1e-9) - margin)
        r1 = min(self.height, math.ceil((bottom - t.f) / t.e - 1e-9) + margin)
        return r0, c0, max(0, r1 - r0), max(0, c1 - c0)


def _union(sources: list[_Source]) -> _Mosaic:
    s0 = sources[0]
    a, e = s0.transform.a, s0.transform.e
    left = min(s.transform.c for s in sources)
    top = max(s.transform.f for s in sources)
    right = max(s.transform.c + a * s.width for s in sources)
    bottom = min(s.transform.f + e * s.height for s in sources)
    return _Mosaic(Affine(a, 0.0, left, 0.0, e, top), round((right - left) / a), round((bottom - top) / e))


def _assemble(sources: list[_Source], mosaic: _Mosaic, win) -> np.ndarray:
    """Read window ``win`` of the mosaic; NaN where no tile has data (first valid tile wins)."""
    r0, c0, rows, cols = win
    out = np.full((rows, cols), np.nan)
    for s in sources:
        so_r = round((s.transform.f - mosaic.transform.f) / mosaic.transform.e)
        so_c = round((s.transform.c - mosaic.transform.c) / mosaic.transform.a)
        ir0, ic0 = max(r0, so_r), max(c0, so_c)
        ir1, ic1 = min(r0 + rows, so_r + s.height), min(c0 + cols, so_c + s.width)
        if ir1 <= ir0 or ic1 <= ic0:
            continue
        block = s.read(ir0 - so_r, ic0 - so_c, ir1 - ir0, ic1 - ic0)
        dst = out[ir0 - r0 : ir1 - r0, ic0 - c0 : ic1 - c0]
        np.copyto(dst, block, where=np.isnan(dst))
    return out


def _contains(outer, inner) -> bool:
    """Whether window ``outer`` (row0, col0, rows, cols) contains window ``inner``."""
    return (outer[0] <= inner[0] and outer[1] <= inner[1] and inner[0] + inner[2] <= outer[0] + outer[2]
            and inner[1] + inner[3] <= outer[1] + outer[3])  # fmt: skip


def _uncovered(region, extent) -> list[str]:
    """Human-readable parts of ``region`` outside ``extent`` (both left, bottom, right, top)."""
    left, bottom, right, top = region
    el, eb, er, et = extent
    parts = []
    if left < el:
        parts.append(f"west of {el:.6g} (from {left:.6g})")
    if right > er:
        parts.append(f"east of {er:.6g} (to {right:.6g})")
    if bottom < eb:
        parts.append(f"south of {eb:.6g} (from {bottom:.6g})")
    if top > et:
        parts.append(f"north of {et:.6g} (to {top:.6g})")
    return parts


def read_dem(paths, *, bounds=None, crs=None, resolution_m: float | None = None, resampling: str = "bilinear") -> Raster:
    """Read a DEM from GeoTIFF(s) and/or SRTM ``.hgt`` tiles, mosaicked, on a metric grid.

    Parameters
    ----------
    paths : path or iterable of paths
        GeoTIFF (any CRS GDAL reads) and/or SRTM ``.hgt`` tiles (1 or 3
        arc-second; the size comes from the file length, the south-west
        corner from the name such as ``N51W009.hgt``; big-endian int16 with
        -32768 voids; also zipped as NASA serves them, ``N51W009.SRTMGL1.hgt.zip``).
        An int16 GeoTIFF without a nodata tag has -32768 read as void too.
        Tiles must share CRS, pixel size and alignment.
    bounds : (left, bottom, right, top), optional
        Area that must be covered, in ``crs``.  The result is cropped to it
        (plus a margin of two source pixels for resampling).
    crs : CRS-like, optional
        CRS of ``bounds``; default the DEM's own CRS.  When it is metric it is
        also the output CRS for a geographic DEM.
    resolution_m : float, optional
        Output pixel size when the DEM must be reprojected; default the DEM's
        pixel height in metres (about 30 m for SRTM1, 90 m for SRTM3).
    resampling : str
        Used when reprojecting (``bilinear`` by default).

    Returns
    -------
    Raster
        ``name="elev_m"``, ``unit="m"``, float64 heights above the DEM's
        vertical datum with NaN and ``nodata_mask`` True at voids and gaps.
        A DEM in a projected metric CRS with square pixels keeps its own grid;
        otherwise it is reprojected onto the ``crs`` (when metric) or the local
        UTM zone (DESIGN.md, "Grids and CRS").

    Raises
    ------
    netqa.errors.RasterError
        A file is unreadable or not a DEM; the tiles disagree; ``bounds`` are not
        covered (the message names the uncovered extent); voids or gaps lie under
        ``bounds`` (the message gives the count).  Voids are never read as sea level.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = list(paths) if isinstance(paths, Iterable) else [paths]
    if not paths:
        raise RasterError("read_dem: no DEM files given")
    sources = [open_source(p) for p in paths]
    _check_compatible(sources)
    src_crs = sources[0].crs
    mosaic = _union(sources)
    label = _names(sources)

    if bounds is not None:
        bcrs = as_crs(crs, "crs of bounds") if crs is not None else src_crs
        region = tuple(float(v) for v in bounds)
        if not (region[2] > region[0] and region[3] > region[1]):
            raise RasterError(f"bounds {region} are empty; expected (left, bottom, right, top)")
        src_region = region if bcrs == src_crs else transform_bounds(bcrs, src_crs, *region, densify_pts=21)
        _check_coverage(label, region, bcrs, src_region, src_crs, mosaic)
        strict = mosaic.window_for(src_region)
        # Target grid first, then the source area it needs.
        if is_square_metric(mosaic.transform, src_crs):
            need = src_region
            grid = None
        else:
            res = resolution_m if resolution_m is not None else default_resolution_m(mosaic.transform, src_crs)
            grid = metric_grid_for(bcrs, region, crs, res)
            need = transform_bounds(grid.crs, src_crs, *grid.bounds, densify_pts=21)
        win = mosaic.window_for(need, margin=_MARGIN_PX if grid is not None else 0)
        # the area asked for must hold no void: checked on the window read anyway when it contains it (one read)
        values = _assemble(sources, mosaic, win) if _contains(win, strict) else None
        inner = _assemble(sources, mosaic, strict) if values is None else values[
            strict[0] - win[0] : strict[0] - win[0] + strict[2], strict[1] - win[1] : strict[1] - win[1] + strict[3]]
        voids = np.isnan(inner)
        if voids.any():
            raise RasterError(_void_message(label, voids, strict, mosaic, src_crs, region, bcrs))
    else:
        grid = None
        win = (0, 0, mosaic.height, mosaic.width)
        values = None

    if values is None:
        values = _assemble(sources, mosaic, win)
    r0, c0, rows, cols = win
    win_transform = mosaic.transform @ Affine.translation(c0, r0)
    mask = np.isnan(values)
    if mask.any():
        log.warning(
            "%s: %d void or gap pixels (%.2f %%) in the DEM area read; they are masked, never read as sea level",
            label, int(mask.sum()), 100.0 * mask.mean(),
        )
    if grid is None and is_square_metric(win_transform, src_crs):
        return Raster(values, Grid(src_crs, win_transform, cols, rows), mask, name="elev_m", unit="m")
    if grid is None:
        region = (win_transform.c, win_transform.f + win_transform.e * rows, win_transform.c + win_transform.a * cols, win_transform.f)
        grid = metric_grid_for(src_crs, region, crs, resolution_m, win_transform)
    log.info("%s: reprojecting the DEM from %s onto %r", label, src_crs.to_string(), grid)
    vals, grid, m = _warp(values, mask, win_transform, src_crs, grid, resampling, "elev_m")
    return Raster(vals, grid, m, name="elev_m", unit="m")


def _check_coverage(label, region, bcrs, src_region, src_crs, mosaic: _Mosaic) -> None:
    parts = _uncovered(src_region, mosaic.extent())
    if not parts:
        return
    el, eb, er, et = mosaic.extent()
    raise RasterError(
        f"{label}: the DEM does not cover the requested bounds {tuple(round(v, 6) for v in region)} "
        f"({as_crs(bcrs).to_string()}); uncovered {', '.join(parts)} in {src_crs.to_string()}; "
        f"the DEM covers ({el:.6g}, {eb:.6g}, {er:.6g}, {et:.6g}); add the missing tiles or shrink the area"
    )


def _void_message(label, voids, win, mosaic: _Mosaic, src_crs, region, bcrs) -> str:
    n = int(voids.sum())
    r, c = np.argwhere(voids)[0]
    t = mosaic.transform
    x, y = t.c + t.a * (win[1] + c + 0.5), t.f + t.e * (win[0] + r + 0.5)
    lon, lat = (x, y) if src_crs.is_geographic else to_geographic(x, y, src_crs)
    return (
        f"{label}: {n} void or gap pixels (no data) lie under the requested bounds "
        f"{tuple(round(v, 6) for v in region)} ({as_crs(bcrs).to_string()}), the first at lon {lon:.5f}, lat {lat:.5f}; "
        "voids are never read as sea level: use a void-filled DEM (SRTM v3, Copernicus GLO-30) "
        "or fill them (gdal_fillnodata.py), or move the area"
    )
