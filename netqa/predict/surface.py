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


def check_surface(path, pixel_m: float, terrain: str, *, flag: str = "--surface") -> None:
    """Fail early on an unreadable surface raster or one the terrain method cannot use; warn on a coarse grid.

    ``terrain`` "itm" with a surface is refused in the raster engine (``netqa predict``).
    """
    if terrain == "itm":
        raise InputError(f"{flag} {path}: --terrain itm does not run over a surface in netqa predict yet; use "
                         "--terrain delta-bullington with --surface (netqa compare/calibrate accept both)")  # fmt: skip
    import rasterio

    try:
        with rasterio.open(path) as ds:
            src_px = min(ds.res) if ds.crs is not None and ds.crs.is_projected else None
    except Exception as exc:
        raise InputError(f"{flag} {path}: cannot read ({exc})") from exc
    if terrain == "none":
        log.warning("%s %s: without --terrain the surface obstructs no path (only a learned correction's building "
                    "height reads it); add --terrain delta-bullington for obstruction", flag, path)  # fmt: skip
    if src_px and pixel_m > 1.5 * src_px:
        log.warning("%s %s: %.0f m pixels sampled onto a %.0f m grid; streets narrower than the grid vanish under "
                    "buildings; use a resolution near %.0f m", flag, path, src_px, pixel_m, src_px)  # fmt: skip


def read_surface(path, grid, *, flag: str = "--surface") -> np.ndarray:
    """Obstacle heights above ground on ``grid`` (a :class:`netqa.grid.Grid` or window of one), float32. [m]

    Read like the DEM (:func:`netqa.io.raster.read_dem` on the grid's bounds,
    then onto its pixels), nearest-neighbour; nodata and pixels the raster
    does not cover count as 0 m; values below -1 m or above 1000 m are
    refused (absolute heights instead of heights above ground), -1..0 m is
    rounding noise of a DSM - DEM difference and becomes 0.
    """
    from netqa.io.raster import read_dem, resample_to_grid

    try:
        r = read_dem([path], bounds=tuple(grid.bounds), crs=grid.crs, resolution_m=grid.pixel_size_m,
                     resampling="nearest")  # fmt: skip
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{flag} {path}: cannot read ({exc})") from exc
    h = resample_to_grid(r, grid, "nearest")
    heights = np.where(h.nodata_mask | ~np.isfinite(h.values), 0.0, h.values)
    lo, hi = float(np.min(heights, initial=0.0)), float(np.max(heights, initial=0.0))
    if lo < -1.0 or hi > SURFACE_MAX_M:
        raise InputError(f"{flag} {path}: heights {lo:.0f}..{hi:.0f} m; expected building/obstacle heights above "
                         f"ground, 0..{SURFACE_MAX_M:.0f} m (subtract the DEM from a surface model)")  # fmt: skip
    return np.maximum(heights, 0.0).astype(np.float32)
