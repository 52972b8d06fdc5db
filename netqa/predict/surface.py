"""The building/obstacle height raster (``--surface``, issue 12): checked once, read per window.

``--surface RASTER`` holds the heights of buildings and other obstacles ABOVE
GROUND [m] (a digital surface model minus the DEM; nodata = 0 m).  Terrain
diffraction runs its obstruction profile over DEM + surface while masts and
receivers keep their heights above the DEM's ground
(:func:`propagation.engine.predict_coverage`, ``surface_m``).  The same reader
serves ``netqa predict`` (per tile, on the tile's widened window, exactly like
the DEM) and the points mode of ``netqa compare`` / ``netqa calibrate``
(:func:`netqa.compare.points.load_world`), so that both see the same heights.

The raster is sampled *nearest-neighbour* (a building keeps its height up to
its edge; bilinear sampling would turn walls into ramps); keep the grid's
resolution at or below the street width or streets vanish under buildings.
"""

from __future__ import annotations

import logging

import numpy as np

from netqa.errors import InputError
from propagation.engine._common import SURFACE_MAX_M

log = logging.getLogger(__name__)


#: Median height [m] of a surface raster's valid pixels above which it is taken for absolute elevations (a DSM
#: above sea level, not heights above ground): no built-up area has half its ground under 100 m buildings.
ABSOLUTE_MEDIAN_M = 100.0
#: Side [px] of the decimated read :func:`check_surface` takes its statistics from.
_STATS_PX = 1024


def warn_if_unused(path, terrain: str, *, flag: str = "--surface") -> None:
    """The loud warning that a surface obstructs no path without a terrain method (predict, compare, calibrate)."""
    if terrain == "none":
        log.warning("%s %s: without --terrain the surface obstructs no path (only a learned correction's building "
                    "height reads it); add --terrain delta-bullington for obstruction", flag, path)  # fmt: skip


def check_surface(path, pixel_m: float, terrain: str, *, flag: str = "--surface", warn: bool = True) -> None:
    """Fail early on an unreadable surface raster or one the terrain method cannot use; warn on a coarse grid.

    ``terrain`` "itm" with a surface is refused in the raster engine (``netqa predict``).  Refused (one line,
    exit 2): no CRS, more than one band, heights below -1 m or above :data:`SURFACE_MAX_M`, absolute
    elevations (median of the valid pixels above :data:`ABSOLUTE_MEDIAN_M`).  Warned: a raster that holds
    only nodata or 0 m (it changes nothing), pixels much finer or coarser than the grid (``warn`` False: refuse
    only, as the project preflight does before the stages that warn).
    """
    if terrain == "itm":
        raise InputError(f"{flag} {path}: --terrain itm does not run over a surface in netqa predict yet; use "
                         "--terrain delta-bullington with --surface (netqa compare/calibrate accept both)")  # fmt: skip
    import rasterio

    try:
        with rasterio.open(path) as ds:
            crs, count = ds.crs, ds.count
            src_px = min(ds.res) if crs is not None and crs.is_projected else None
            f = max(1, int(np.ceil(max(ds.width, ds.height) / _STATS_PX)))
            sample = ds.read(1, out_shape=(max(1, ds.height // f), max(1, ds.width // f)), masked=True)
    except Exception as exc:
        raise InputError(f"{flag} {path}: cannot read ({exc})") from exc
    if crs is None:
        raise InputError(f"{flag} {path}: the raster has no CRS; assign the DEM's (gdal_edit.py -a_srs EPSG:xxxx)")
    if count != 1:
        raise InputError(f"{flag} {path}: {count} bands; a surface raster holds one band of obstacle heights above "
                         "ground [m] (extract it: gdal_translate -b N)")  # fmt: skip
    vals = np.asarray(sample.filled(np.nan), dtype=np.float64)
    if np.isinf(vals).any():
        raise InputError(f"{flag} {path}: holds infinite heights; expected building/obstacle heights above ground, "
                         f"0..{SURFACE_MAX_M:.0f} m (nodata for unknown pixels)")  # fmt: skip
    vals = vals[np.isfinite(vals)]
    lo, hi = (float(vals.min()), float(vals.max())) if vals.size else (0.0, 0.0)
    if lo < -1.0 or hi > SURFACE_MAX_M:
        raise InputError(f"{flag} {path}: heights {lo:.0f}..{hi:.0f} m; expected building/obstacle heights above "
                         f"ground, 0..{SURFACE_MAX_M:.0f} m (subtract the DEM from a surface model)")  # fmt: skip
    med = float(np.median(vals)) if vals.size else 0.0
    if med > ABSOLUTE_MEDIAN_M:
        raise InputError(f"{flag} {path}: median height {med:.0f} m (range {lo:.0f}..{hi:.0f} m): these look like "
                         "surface elevations above sea level, not obstacle heights above ground; subtract the "
                         "DEM (gdal_calc.py -A dsm.tif -B dem.tif --calc='A-B')")  # fmt: skip
    if not warn:
        return
    if vals.size == 0 or not np.any(vals > 0):
        log.warning("%s %s: WARNING: holds no obstacle (every pixel is nodata or 0 m): it changes nothing", flag, path)
    warn_if_unused(path, terrain, flag=flag)
    if src_px and pixel_m > 1.5 * src_px:
        log.warning("%s %s: %.0f m pixels sampled onto a %.0f m grid; streets narrower than the grid vanish under "
                    "buildings; use a resolution near %.0f m", flag, path, src_px, pixel_m, src_px)  # fmt: skip
    elif src_px and src_px > 2.0 * pixel_m:
        log.warning("%s %s: WARNING: its %.0f m pixels are coarser than the %.0f m grid: every building becomes a "
                    "%.0f m block (streets vanish); use a surface raster at the grid's resolution", flag, path, src_px,
                    pixel_m, src_px)  # fmt: skip


def check_surface_area(path, bounds, crs, *, flag: str = "--surface", warn: bool = True) -> float:
    """Refuse a surface raster that covers none of the area (wrong CRS or place); warn when it covers part of it.

    ``bounds`` ``(left, bottom, right, top)`` in ``crs``: the area computed (the DEM's, for predict).
    ``warn=False``: refuse only (a caller that already warned).  Returns the share of the area it covers [0..1].
    """
    import rasterio
    from rasterio.warp import transform_bounds

    try:
        with rasterio.open(path) as ds:
            src_crs, sb = ds.crs, tuple(ds.bounds)
    except Exception as exc:
        raise InputError(f"{flag} {path}: cannot read ({exc})") from exc
    if src_crs is None:
        raise InputError(f"{flag} {path}: the raster has no CRS; assign the DEM's (gdal_edit.py -a_srs EPSG:xxxx)")
    try:
        b = sb if src_crs == crs else transform_bounds(src_crs, crs, *sb, densify_pts=21)
    except Exception as exc:
        raise InputError(f"{flag} {path}: its CRS {src_crs.to_string()} cannot be transformed to the area's "
                         f"{crs.to_string() if hasattr(crs, 'to_string') else crs} ({exc})") from exc  # fmt: skip
    area = max((bounds[2] - bounds[0]) * (bounds[3] - bounds[1]), 1e-9)
    w = min(b[2], bounds[2]) - max(b[0], bounds[0])
    h = min(b[3], bounds[3]) - max(b[1], bounds[1])
    share = max(w, 0.0) * max(h, 0.0) / area if np.all(np.isfinite(b)) else 0.0
    if not np.all(np.isfinite(b)):
        raise InputError(f"{flag} {path}: its bounds {tuple(round(v, 3) for v in sb)} in {src_crs.to_string()} do not "
                         "map into the area's CRS: wrong CRS (metres tagged as degrees?); assign the right one "
                         "(gdal_edit.py -a_srs EPSG:xxxx)")  # fmt: skip
    if share <= 0.0:
        raise InputError(f"{flag} {path}: covers none of the area (its bounds {tuple(round(v, 1) for v in b)} vs "
                         f"{tuple(round(float(v), 1) for v in bounds)} in "
                         f"{crs.to_string() if hasattr(crs, 'to_string') else crs}): wrong CRS or another place")  # fmt: skip
    if share < 0.9 and warn:
        log.warning("%s %s: WARNING: covers %.0f %% of the area; obstacles elsewhere count as 0 m", flag, path,
                    100.0 * share)  # fmt: skip
    return share


def read_surface(path, grid, *, flag: str = "--surface") -> np.ndarray:
    """Obstacle heights above ground on ``grid`` (a :class:`netqa.grid.Grid` or window of one), float32. [m]

    Read like the DEM (:func:`netqa.io.raster.read_dem` on the grid's bounds,
    then onto its pixels), nearest-neighbour; nodata and pixels the raster
    does not cover count as 0 m; values below -1 m or above 1000 m are
    refused (absolute heights instead of heights above ground), -1..0 m is
    rounding noise of a DSM - DEM difference and becomes 0.
    """
    from netqa.io.raster import read_dem, resample_to_grid

    from netqa.errors import RasterError

    try:
        r = read_dem([path], bounds=tuple(grid.bounds), crs=grid.crs, resolution_m=grid.pixel_size_m,
                     resampling="nearest")  # fmt: skip
    except RasterError as exc:
        if "void or gap" not in str(exc) and "does not cover" not in str(exc):
            raise InputError(f"{flag} {path}: {exc}") from exc
        values = _read_filled(path, grid, flag)  # nodata or uncovered pixels: 0 m, as documented
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{flag} {path}: cannot read ({exc})") from exc
    else:
        h = resample_to_grid(r, grid, "nearest")
        values = np.where(h.nodata_mask, np.nan, h.values)
    heights = np.where(~np.isfinite(values), 0.0, values)
    lo, hi = float(np.min(heights, initial=0.0)), float(np.max(heights, initial=0.0))
    if lo < -1.0 or hi > SURFACE_MAX_M:
        raise InputError(f"{flag} {path}: heights {lo:.0f}..{hi:.0f} m; expected building/obstacle heights above "
                         f"ground, 0..{SURFACE_MAX_M:.0f} m (subtract the DEM from a surface model)")  # fmt: skip
    return np.maximum(heights, 0.0).astype(np.float32)


def check_dem_surface(path, dem, *, flag: str = "--surface") -> float:
    """:func:`check_surface_area` against the union of the DEM files' bounds (``dem``: a path or a list)."""
    import rasterio

    from netqa.predict.inputs import dem_extent

    paths = [dem] if isinstance(dem, (str, bytes)) or hasattr(dem, "__fspath__") else list(dem)
    try:
        with rasterio.open(paths[0]) as ds:
            crs = ds.crs
        if crs is None:
            return 1.0
        ext, crs = dem_extent(paths, crs)
    except Exception:
        return 1.0  # the DEM's own reader reports it, with its own message
    return check_surface_area(path, ext, crs, flag=flag)


def _read_filled(path, grid, flag: str) -> np.ndarray:
    """The surface on ``grid`` (nearest neighbour) with nodata and the pixels it does not cover as NaN."""
    import rasterio
    from rasterio.warp import Resampling, reproject

    out = np.full((grid.height, grid.width), np.nan, dtype=np.float32)
    try:
        with rasterio.open(path) as ds:
            reproject(rasterio.band(ds, 1), out, dst_transform=grid.transform, dst_crs=grid.crs,
                      dst_nodata=np.nan, resampling=Resampling.nearest)  # fmt: skip
    except Exception as exc:
        raise InputError(f"{flag} {path}: cannot read ({exc})") from exc
    return out
