"""The computation grid: a north-up, square-pixel raster grid in a metric CRS.

DESIGN.md, "Grids and CRS": inputs arrive in any CRS, usually WGS84;
computation happens on a square-pixel grid in a metric CRS -- the DEM's when it
is projected, else the local UTM zone of the study area (:func:`study_crs`).

A :class:`Grid` is four numbers and a CRS: the affine ``transform`` (rasterio
convention, ``x = a*col + c``, ``y = e*row + f`` at the pixel's upper-left
corner), ``width`` (columns) and ``height`` (rows).  Arrays on a grid have shape
``(rows, cols)`` = :attr:`Grid.shape`; projected coordinates are ``(x, y)``
and geographic ones ``(lon, lat)`` in WGS84 degrees.

Examples
--------
>>> g = Grid.from_bounds("EPSG:32629", (500010.0, 5750000.0, 501000.0, 5750950.0), 100.0)
>>> g.shape, tuple(g.bounds)
((10, 10), (500000.0, 5750000.0, 501000.0, 5751000.0))
>>> g.xy(0, 0)
(500050.0, 5750950.0)
>>> utm_crs_for(-8.47, 51.9).to_epsg()
32629
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from affine import Affine
from pyproj import CRS as ProjCRS
from pyproj import Transformer
from rasterio.coords import BoundingBox
from rasterio.crs import CRS

from netqa.errors import CRSError

__all__ = [
    "Grid",
    "Tile",
    "as_crs",
    "is_metric",
    "utm_crs_for",
    "study_crs",
    "to_projected",
    "to_geographic",
    "WGS84",
]

#: Geographic WGS84 (lon, lat order with ``always_xy``).
WGS84 = CRS.from_epsg(4326)

#: Relative tolerance for "square pixel" and pixel alignment checks.
_REL_TOL = 1e-9


def as_crs(crs, what: str = "crs") -> CRS:
    """Return ``crs`` (EPSG code, ``"EPSG:xxxx"``, WKT, PROJ string, pyproj or rasterio CRS) as a rasterio CRS.

    Raises :class:`~netqa.errors.CRSError` naming ``what`` when it is missing or unreadable.
    """
    if crs is None:
        raise CRSError(f"{what} is missing; give an EPSG code such as 'EPSG:32629'")
    if isinstance(crs, CRS):
        return crs
    try:
        if isinstance(crs, int):
            return CRS.from_epsg(crs)
        return CRS.from_user_input(crs)
    except Exception as exc:  # rasterio raises its own CRSError subclasses
        raise CRSError(f"{what} {crs!r} is not a CRS that PROJ understands: {exc}") from exc


def is_metric(crs) -> bool:
    """True when ``crs`` is projected with both axes in metres."""
    pcrs = ProjCRS.from_user_input(as_crs(crs).to_wkt())
    if not pcrs.is_projected:
        return False
    return all(ax.unit_name in ("metre", "meter") for ax in pcrs.axis_info[:2])


def utm_crs_for(lon: float, lat: float) -> CRS:
    """The WGS84 UTM zone CRS (EPSG 326zz north, 327zz south) containing a point.

    Parameters
    ----------
    lon, lat : float
        WGS84 longitude in -180..180 and latitude in -80..84. [deg]

    Returns
    -------
    rasterio.crs.CRS
        ``EPSG:326zz`` for ``lat >= 0``, ``EPSG:327zz`` below the equator, with
        zone ``zz`` from :func:`netqa.geodesy.utm_zone`: the 6-degree zones
        with the Norway (32V) and Svalbard (31X, 33X, 35X, 37X) exceptions.

    Examples
    --------
    >>> utm_crs_for(-8.47, 51.9).to_epsg(), utm_crs_for(151.2, -33.9).to_epsg(), utm_crs_for(5.32, 60.39).to_epsg()
    (32629, 32756, 32632)
    """
    from netqa.geodesy import utm_zone

    lon, lat = float(lon), float(lat)
    zone = utm_zone(lon, lat)
    code = (32600 if lat >= 0 else 32700) + zone
    # Go through pyproj so that the definition comes from the PROJ database.
    return CRS.from_wkt(ProjCRS.from_epsg(code).to_wkt())


def study_crs(dem_crs, lon: float, lat: float) -> CRS:
    """The computation CRS: ``dem_crs`` when it is metric, else the UTM zone of (lon, lat)."""
    if dem_crs is not None and is_metric(dem_crs):
        return as_crs(dem_crs)
    return utm_crs_for(lon, lat)


@functools.lru_cache(maxsize=64)
def _transformer(src_wkt: str, dst_wkt: str) -> Transformer:
    return Transformer.from_crs(src_wkt, dst_wkt, always_xy=True)


def to_projected(lon, lat, crs):
    """Project WGS84 ``(lon, lat)`` [deg] into ``crs``; returns ``(x, y)`` in the CRS units.

    Scalars give floats, arrays give float64 arrays.

    Examples
    --------
    >>> x, y = to_projected(-9.0, 0.0, "EPSG:32629")
    >>> round(x, 3), round(y, 3)
    (500000.0, 0.0)
    """
    tr = _transformer(WGS84.to_wkt(), as_crs(crs).to_wkt())
    return _unwrap(tr.transform(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)))


def to_geographic(x, y, crs):
    """Inverse of :func:`to_projected`: ``(x, y)`` in ``crs`` to WGS84 ``(lon, lat)`` [deg]."""
    tr = _transformer(as_crs(crs).to_wkt(), WGS84.to_wkt())
    return _unwrap(tr.transform(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)))


def _unwrap(xy):
    a, b = (np.asarray(v, dtype=np.float64) for v in xy)
    if a.ndim == 0:
        return float(a), float(b)
    return a, b


class Tile(NamedTuple):
    """A rectangular window of a grid: offsets and size in pixels."""

    row_off: int
    col_off: int
    rows: int
    cols: int

    @property
    def slices(self) -> tuple[slice, slice]:
        """``(row_slice, col_slice)`` to index an array on the parent grid."""
        return slice(self.row_off, self.row_off + self.rows), slice(self.col_off, self.col_off + self.cols)


@dataclass(frozen=True)
class Grid:
    """A north-up, square-pixel grid in a metric CRS.

    Parameters
    ----------
    crs : CRS-like
        Projected CRS with metre axes (anything :func:`as_crs` accepts).
    transform : affine.Affine
        Pixel-to-CRS transform of the upper-left corner; no rotation,
        ``a == -e > 0`` (square pixels, north up). [m]
    width, height : int
        Number of columns and rows, >= 1.

    Raises
    ------
    netqa.errors.CRSError
        If the CRS is geographic or not in metres, or the pixels are not square
        and north-up.
    """

    crs: CRS
    transform: Affine
    width: int
    height: int

    def __post_init__(self):
        crs = as_crs(self.crs, "grid crs")
        if not is_metric(crs):
            raise CRSError(
                f"grid crs {crs.to_string()!r} is not a projected CRS in metres; "
                "compute on a metric CRS (the DEM's when projected, else utm_crs_for(lon, lat))"
            )
        t = self.transform
        if not isinstance(t, Affine):
            try:
                t = Affine(*tuple(t)[:6])
            except Exception as exc:
                raise CRSError(f"grid transform {self.transform!r} is not an affine transform") from exc
        if t.b != 0.0 or t.d != 0.0:
            raise CRSError(f"grid transform {tuple(t)[:6]} is rotated; only north-up grids are supported")
        if not (t.a > 0 and t.e < 0 and math.isclose(t.a, -t.e, rel_tol=_REL_TOL)):
            raise CRSError(
                f"grid pixels are {t.a:g} x {-t.e:g} m; a grid needs square, north-up pixels "
                "(transform.a == -transform.e > 0); resample onto Grid.from_bounds(...)"
            )
        for name in ("width", "height"):
            v = getattr(self, name)
            if int(v) != v or v < 1:
                raise CRSError(f"grid {name} = {v!r} must be a positive integer")
        object.__setattr__(self, "crs", crs)
        object.__setattr__(self, "transform", t)
        object.__setattr__(self, "width", int(self.width))
        object.__setattr__(self, "height", int(self.height))

    # --- construction -------------------------------------------------------
    @classmethod
    def from_bounds(cls, crs, bounds, resolution_m: float) -> Grid:
        """A grid covering ``bounds = (left, bottom, right, top)`` in ``crs``.

        The edges are snapped outward to whole multiples of ``resolution_m``
        (so grids of the same resolution and CRS align pixel for pixel).
        """
        res = float(resolution_m)
        if not (res > 0 and math.isfinite(res)):
            raise CRSError(f"resolution_m = {resolution_m!r} must be a positive number of metres")
        left, bottom, right, top = (float(v) for v in bounds)
        if not (right > left and top > bottom):
            raise CRSError(f"bounds {tuple(bounds)} are empty; expected (left, bottom, right, top) with right > left, top > bottom")
        eps = 1e-6  # metres-scale slack so that exact multiples do not grow a pixel
        x0 = math.floor(left / res + eps) * res
        y1 = math.ceil(top / res - eps) * res
        width = max(1, math.ceil((right - x0) / res - eps))
        height = max(1, math.ceil((y1 - bottom) / res - eps))
        return cls(crs, Affine(res, 0.0, x0, 0.0, -res, y1), width, height)

    @classmethod
    def around(cls, lon: float, lat: float, radius_m: float, resolution_m: float, crs=None) -> Grid:
        """A square grid of half-width ``radius_m`` centred on (lon, lat), in ``crs`` or the local UTM zone."""
        crs = as_crs(crs) if crs is not None else utm_crs_for(lon, lat)
        x, y = to_projected(lon, lat, crs)
        r = float(radius_m)
        return cls.from_bounds(crs, (x - r, y - r, x + r, y + r), resolution_m)

    # --- geometry -----------------------------------------------------------
    @property
    def pixel_size_m(self) -> float:
        """Pixel side. [m]"""
        return float(self.transform.a)

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)``."""
        return (self.height, self.width)

    @property
    def bounds(self) -> BoundingBox:
        """``BoundingBox(left, bottom, right, top)`` of the outer pixel edges, in CRS units."""
        t = self.transform
        return BoundingBox(t.c, t.f + t.e * self.height, t.c + t.a * self.width, t.f)

    def xy(self, row, col):
        """Centre of pixel ``(row, col)`` as ``(x, y)``; scalars or arrays (broadcast)."""
        t = self.transform
        r, c = np.broadcast_arrays(np.asarray(row, dtype=np.float64), np.asarray(col, dtype=np.float64))
        return _unwrap((t.c + (c + 0.5) * t.a, t.f + (r + 0.5) * t.e))

    def rowcol(self, x, y):
        """Pixel ``(row, col)`` containing ``(x, y)`` (may be outside ``0..shape``; see :meth:`contains`)."""
        t = self.transform
        col = np.floor((np.asarray(x, dtype=np.float64) - t.c) / t.a)
        row = np.floor((np.asarray(y, dtype=np.float64) - t.f) / t.e)
        if col.ndim == 0:
            return int(row), int(col)
        return row.astype(np.int64), col.astype(np.int64)

    def contains(self, x, y):
        """True where ``(x, y)`` falls inside the grid."""
        row, col = self.rowcol(x, y)
        return (np.asarray(row) >= 0) & (np.asarray(row) < self.height) & (np.asarray(col) >= 0) & (np.asarray(col) < self.width)

    def coords(self) -> tuple[np.ndarray, np.ndarray]:
        """Pixel-centre coordinate vectors ``(x[cols], y[rows])``."""
        x, _ = self.xy(0, np.arange(self.width))
        _, y = self.xy(np.arange(self.height), 0)
        return np.atleast_1d(x), np.atleast_1d(y)

    def lonlat(self) -> tuple[np.ndarray, np.ndarray]:
        """WGS84 ``(lon, lat)`` of every pixel centre, each of shape ``(rows, cols)``. [deg]"""
        x, y = self.coords()
        xx, yy = np.meshgrid(x, y)
        return to_geographic(xx, yy, self.crs)

    # --- tiling -------------------------------------------------------------
    def window(self, row_off: int, col_off: int, rows: int, cols: int) -> Grid:
        """The sub-grid of ``rows x cols`` pixels starting at ``(row_off, col_off)`` (clipped to the grid)."""
        r0, c0 = max(0, int(row_off)), max(0, int(col_off))
        r1, c1 = min(self.height, int(row_off) + int(rows)), min(self.width, int(col_off) + int(cols))
        if r1 <= r0 or c1 <= c0:
            raise CRSError(
                f"window (row_off={row_off}, col_off={col_off}, rows={rows}, cols={cols}) "
                f"does not overlap the grid of shape {self.shape}"
            )
        return Grid(self.crs, self.transform @ Affine.translation(c0, r0), c1 - c0, r1 - r0)

    def tiles(self, tile_px: int = 512) -> Iterator[Tile]:
        """Yield :class:`Tile` windows of at most ``tile_px x tile_px`` covering every pixel exactly once (row-major)."""
        n = int(tile_px)
        if n < 1:
            raise ValueError(f"tile_px = {tile_px!r} must be >= 1")
        for r0 in range(0, self.height, n):
            for c0 in range(0, self.width, n):
                yield Tile(r0, c0, min(n, self.height - r0), min(n, self.width - c0))

    def tile_grid(self, tile: Tile) -> Grid:
        """The sub-grid of one :class:`Tile`."""
        return self.window(*tile)

    def __repr__(self) -> str:
        b = self.bounds
        return (
            f"Grid({self.crs.to_string()}, {self.pixel_size_m:g} m, shape={self.shape}, "
            f"bounds=({b.left:g}, {b.bottom:g}, {b.right:g}, {b.top:g}))"
        )
