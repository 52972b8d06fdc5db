"""Zonal statistics of the coverage raster over region polygons.

Pixels are weighted by the **exact fraction of their area inside the polygon**:
pixels touched by the polygon but not by its boundary (nor next to it) weigh 1;
pixels on the boundary get ``area(pixel ∩ polygon) / area(pixel)`` from a
vectorised shapely intersection.  Areas are planar areas in the raster's metric
CRS (UTM for netqa predictions; the UTM scale error is below 0.1 % inside a
zone).

Nodata pixels, and the parts of a region outside the raster, are *not*
counted as uncovered: they are left out of every predicted indicator and the
region's ``raster_covered_share`` (the share of its area with a valid
prediction) says how much of it the prediction speaks for.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import shapely
from affine import Affine
from rasterio.features import rasterize
from scipy.ndimage import binary_dilation

from netqa.errors import RasterError
from netqa.io.raster import open_georaster
from netqa.schema import COVERAGE_BANDS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CoverageInfo:
    """What a task needs to know about the coverage raster (cheap to ship to a worker)."""

    path: str
    crs_wkt: str
    transform: tuple
    width: int
    height: int
    bands: dict  # quantity -> 1-based band index
    cell_ids: tuple  # best_cell index -> cell id

    @property
    def affine(self) -> Affine:
        return Affine(*self.transform[:6])

    @property
    def pixel_area_m2(self) -> float:
        t = self.affine
        return abs(t.a * t.e - t.b * t.d)


def open_coverage(path) -> CoverageInfo:
    """Check a coverage GeoTIFF and describe it (bands by name, best_cell lookup)."""
    p = Path(path)
    with open_georaster(p, "coverage raster", metric=True) as ds:
        names = [(ds.tags(i).get("name") or ds.descriptions[i - 1] or "") for i in range(1, ds.count + 1)]
        bands = {}
        for q in COVERAGE_BANDS:
            if q in names:
                bands[q] = names.index(q) + 1
        if not bands and ds.count >= len(COVERAGE_BANDS):
            bands = {q: i for i, q in enumerate(COVERAGE_BANDS, start=1)}  # DESIGN.md band order
            log.warning("%s: bands have no names; assuming the DESIGN.md order %s", p, ", ".join(COVERAGE_BANDS))
        if "rsrp_dbm" not in bands:
            raise RasterError(f"{p}: no band named 'rsrp_dbm'; bands are {', '.join(map(repr, names))}")
        cell_ids = ()
        raw = ds.tags().get("best_cell")
        if raw:
            try:
                cell_ids = tuple(str(c) for c in json.loads(raw))
            except (ValueError, TypeError):
                log.warning("%s: best_cell metadata is not a JSON list; capacity per cell is unavailable", p)
        return CoverageInfo(str(p), ds.crs.to_wkt(), tuple(ds.transform)[:6], ds.width, ds.height, bands, cell_ids)


def window_of(bounds, transform: Affine, width: int, height: int):
    """Pixel window ``(row0, row1, col0, col1)`` covering ``bounds``, clipped to the raster; None if outside."""
    minx, miny, maxx, maxy = bounds
    a, c, e, f = transform.a, transform.c, transform.e, transform.f
    col0 = max(0, math.floor((minx - c) / a))
    col1 = min(width, math.ceil((maxx - c) / a))
    row0 = max(0, math.floor((maxy - f) / e))
    row1 = min(height, math.ceil((miny - f) / e))
    if col1 <= col0 or row1 <= row0:
        return None
    return row0, row1, col0, col1


def pixel_fractions(geom, transform: Affine, shape: tuple[int, int]) -> np.ndarray:
    """Fraction of each pixel's area inside ``geom`` (0..1) on a window.

    Parameters
    ----------
    geom : shapely Polygon or MultiPolygon
        In the raster's CRS.
    transform : affine.Affine
        Transform of the window's upper-left pixel.
    shape : (rows, cols)

    Returns
    -------
    numpy.ndarray
        float64 ``(rows, cols)``.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> w = pixel_fractions(box(0.5, 0.0, 2.0, 2.0), Affine(1, 0, 0, 0, -1, 2), (2, 2))
    >>> w.tolist()
    [[0.5, 1.0], [0.5, 1.0]]
    """
    rows, cols = shape
    touched = rasterize([(geom, 1)], out_shape=shape, transform=transform, all_touched=True, dtype="uint8").astype(bool)
    edge = rasterize([(geom.boundary, 1)], out_shape=shape, transform=transform, all_touched=True, dtype="uint8").astype(bool)
    edge = binary_dilation(edge, iterations=1)
    w = np.where(touched & ~edge, 1.0, 0.0)
    r, c = np.nonzero(edge)
    if r.size:
        x0 = transform.c + c * transform.a
        y1 = transform.f + r * transform.e
        boxes = shapely.box(x0, y1 + transform.e, x0 + transform.a, y1)
        area = abs(transform.a * transform.e)
        w[r, c] = np.clip(shapely.area(shapely.intersection(boxes, geom)) / area, 0.0, 1.0)
    return w


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs) -> list[float]:
    """Weighted quantiles: the smallest value whose cumulative weight reaches q × total.

    >>> weighted_quantiles(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 2.0]), [0.25, 0.5, 0.9])
    [1.0, 2.0, 3.0]
    """
    order = np.argsort(values, kind="stable")
    v, cw = values[order], np.cumsum(weights[order])
    total = cw[-1]
    idx = np.searchsorted(cw, np.asarray(qs, dtype=float) * total - 1e-12 * total, side="left")
    return [float(v[min(i, v.size - 1)]) for i in idx]


#: Predicted statistics per band: (band, mean kind, percentiles).
_STATS = (("rsrp_dbm", "linear", (5, 50, 95)), ("sinr_db", "arith", (5, 50, 95)),
          ("dl_mbps", "arith", (10, 50, 90)), ("ul_mbps", "arith", (10, 50, 90)))  # fmt: skip

PREDICTED_KEYS = ("coverage_rate",) + tuple(
    f"{b}_{s}" for b, _, ps in _STATS for s in ("mean",) + tuple(f"p{p}" for p in ps)
)


def read_block(info: CoverageInfo, ds, bounds_list) -> tuple | None:
    """All bands of the window covering every bounds in ``bounds_list``, read once.

    Returns ``(row0, col0, {quantity: float64 array})`` for :func:`zonal_indicators`'
    ``block``, or None when the regions are too spread out for one window to
    pay (more than twice their own windows' pixels, or over 16 M pixels).
    """
    wins = [w for w in (window_of(b, info.affine, info.width, info.height) for b in bounds_list) if w is not None]
    if not wins:
        return None
    r0, r1 = min(w[0] for w in wins), max(w[1] for w in wins)
    c0, c1 = min(w[2] for w in wins), max(w[3] for w in wins)
    own = sum((w[1] - w[0]) * (w[3] - w[2]) for w in wins)
    union = (r1 - r0) * (c1 - c0)
    if union > 2 * own + 10_000 or union > 16_000_000:
        return None
    window = rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0)
    return r0, c0, {q: _read(ds, i, window) for q, i in info.bands.items()}


def zonal_indicators(info: CoverageInfo, geom, area_m2: float, thresholds, capacity_density=None, ds=None, block=None) -> dict:
    """Predicted indicators of one region (keys get ``_predicted`` appended by the caller).

    Parameters
    ----------
    info : CoverageInfo
    geom : shapely geometry in the raster CRS
    area_m2 : float
        Region area. [m²]
    thresholds : netqa.kpi.Profile
        Coverage thresholds ``rsrp_dbm_min`` [dBm] and ``sinr_db_min`` [dB].
    capacity_density : numpy.ndarray, optional
        Capacity per served area of each best_cell index. [Mbit/s/m²]
    ds : rasterio dataset, optional
        The coverage raster already open (a batch of regions opens it once).
    block : tuple, optional
        :func:`read_block` of a batch: the region's pixels are sliced from it
        when it holds them (same values as a read of the region's window).

    Returns
    -------
    dict
        ``coverage_rate``, RSRP/SINR/DL/UL statistics, ``raster_covered_share``,
        ``predicted_area_km2`` and, with ``capacity_density``, ``capacity_mbps``.
    """
    out: dict = dict.fromkeys(PREDICTED_KEYS)
    out["raster_covered_share"] = 0.0
    out["predicted_area_km2"] = 0.0
    out["capacity_mbps"] = None
    win = window_of(geom.bounds, info.affine, info.width, info.height)
    if win is None:
        return out
    r0, r1, c0, c1 = win
    wt = info.affine @ Affine.translation(c0, r0)
    w = pixel_fractions(geom, wt, (r1 - r0, c1 - c0))
    if not w.any():
        return out
    px = info.pixel_area_m2
    window = rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0)
    if block is not None and block[0] <= r0 and block[1] <= c0 and all(
        r1 - block[0] <= a.shape[0] and c1 - block[1] <= a.shape[1] for a in block[2].values()
    ):
        br, bc, arrays = block
        data = {q: a[r0 - br : r1 - br, c0 - bc : c1 - bc] for q, a in arrays.items()}
    elif ds is None:
        with rasterio.open(info.path) as own:
            data = {q: _read(own, i, window) for q, i in info.bands.items()}
    else:
        data = {q: _read(ds, i, window) for q, i in info.bands.items()}
    rsrp = data["rsrp_dbm"]
    valid = np.isfinite(rsrp) & (w > 0)
    wv = np.where(valid, w, 0.0)
    wsum = float(wv.sum())
    out["predicted_area_km2"] = wsum * px / 1e6
    out["raster_covered_share"] = min(1.0, wsum * px / area_m2) if area_m2 > 0 else 0.0
    if wsum <= 0:
        return out
    sinr = data.get("sinr_db")
    cov = (rsrp >= thresholds.rsrp_dbm_min) & (sinr >= thresholds.sinr_db_min if sinr is not None else True)
    out["coverage_rate"] = float((wv * cov).sum() / wsum)
    for band, kind, pcts in _STATS:
        arr = data.get(band)
        if arr is None:
            continue
        ok = valid & np.isfinite(arr)
        if not ok.any():
            continue
        v, ww = arr[ok], w[ok]
        if kind == "linear":
            out[f"{band}_mean"] = float(10.0 * np.log10(np.sum(ww * 10.0 ** (v / 10.0)) / ww.sum()))
        else:
            out[f"{band}_mean"] = float(np.sum(ww * v) / ww.sum())
        for p, val in zip(pcts, weighted_quantiles(v, ww, [p / 100.0 for p in pcts])):
            out[f"{band}_p{p}"] = val
    best = data.get("best_cell")
    if capacity_density is not None and best is not None:
        ok = valid & np.isfinite(best) & (best >= 0) & (best < len(capacity_density))
        idx = best[ok].astype(np.int64)
        dens = capacity_density[idx]
        good = np.isfinite(dens)
        out["capacity_mbps"] = float(np.sum(w[ok][good] * dens[good]) * px) if good.any() else None
    return out


def _read(ds, band: int, window) -> np.ndarray:
    arr = ds.read(band, window=window, masked=True).astype(np.float64)
    return np.ma.filled(arr, np.nan)


def sample_points(info: CoverageInfo, x: np.ndarray, y: np.ndarray, bands=("rsrp_dbm", "sinr_db")) -> dict:
    """Raster values at points (raster CRS coordinates); NaN outside the raster or on nodata."""
    t = info.affine
    col = np.floor((np.asarray(x) - t.c) / t.a)
    row = np.floor((np.asarray(y) - t.f) / t.e)
    inside = (col >= 0) & (col < info.width) & (row >= 0) & (row < info.height) & np.isfinite(col) & np.isfinite(row)
    r, c = row[inside].astype(np.int64), col[inside].astype(np.int64)
    out = {}
    with rasterio.open(info.path) as ds:
        for q in bands:
            vals = np.full(np.shape(x), np.nan)
            if q in info.bands and r.size:
                arr = _read(ds, info.bands[q], None)
                vals[inside] = arr[r, c]
            out[q] = vals
    return out


def capacity_density(info: CoverageInfo, bandwidth_mhz: dict, se_fn) -> np.ndarray | None:
    """Capacity per served area of each cell: bandwidth × mean SE / served area. [Mbit/s per m²]

    DESIGN.md "KPIs": capacity = bandwidth × mean spectral efficiency over the area
    a cell serves.  A region gets each cell's capacity in proportion to the share
    of the cell's served area that lies inside it, so regions sum to the network.
    """
    if not info.cell_ids or "best_cell" not in info.bands or "sinr_db" not in info.bands:
        return None
    with rasterio.open(info.path) as ds:
        best = _read(ds, info.bands["best_cell"], None)
        sinr = _read(ds, info.bands["sinr_db"], None)
    n = len(info.cell_ids)
    ok = np.isfinite(best) & np.isfinite(sinr) & (best >= 0) & (best < n)
    idx = best[ok].astype(np.int64)
    se = se_fn(sinr[ok])
    count = np.bincount(idx, minlength=n).astype(np.float64)
    se_sum = np.bincount(idx, weights=se, minlength=n)
    bw = np.array([bandwidth_mhz.get(c, np.nan) for c in info.cell_ids], dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_se = se_sum / count
        dens = bw * mean_se / (count * info.pixel_area_m2)
    dens[count == 0] = np.nan
    return dens


@dataclass(frozen=True)
class TrafficInfo:
    """An offered-traffic raster: density of offered traffic per pixel. [Mbit/s per km²]"""

    path: str
    crs_wkt: str
    transform: tuple
    width: int
    height: int
    band: int

    @property
    def affine(self) -> Affine:
        return Affine(*self.transform[:6])

    @property
    def pixel_area_km2(self) -> float:
        t = self.affine
        return abs(t.a * t.e - t.b * t.d) / 1e6


#: Band name looked for in a traffic raster (else band 1 is used).
TRAFFIC_BAND = "offered_traffic_mbps_per_km2"


def open_traffic(path) -> TrafficInfo:
    """Check an offered-traffic GeoTIFF (metric CRS, not rotated) and describe it.

    The band named :data:`TRAFFIC_BAND` (tag ``name`` or description) is used,
    else band 1; values are offered traffic densities in Mbit/s per km²
    (busy-hour traffic map); nodata pixels carry no traffic information.
    """
    p = Path(path)
    with open_georaster(p, "traffic raster", metric=True) as ds:
        names = [(ds.tags(i).get("name") or ds.descriptions[i - 1] or "") for i in range(1, ds.count + 1)]
        band = names.index(TRAFFIC_BAND) + 1 if TRAFFIC_BAND in names else 1
        return TrafficInfo(str(p), ds.crs.to_wkt(), tuple(ds.transform)[:6], ds.width, ds.height, band)


def zonal_traffic(info: TrafficInfo, geom, area_m2: float, ds=None) -> dict:
    """Offered traffic of a region from a traffic-density raster (area-weighted sum).

    ``offered_traffic_mbps = Σ_pixels f_px × A_px × ρ_px`` with ``f_px`` the
    share of the pixel's area inside the polygon, ``A_px`` the pixel area
    [km²] and ``ρ_px`` the density [Mbit/s per km²]; ``traffic_covered_share``
    is the share of the region's area with a valid density.  ``geom`` must
    be in the traffic raster's CRS.

    Examples
    --------
    A 100 m raster of 40 Mbit/s/km² under a 150 m × 100 m box: 0.015 km² × 40.

    >>> import numpy as np, tempfile, os
    >>> from shapely.geometry import box
    >>> d = tempfile.mkdtemp(); p = os.path.join(d, "t.tif")
    >>> with rasterio.open(p, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32", crs="EPSG:32632",
    ...                    transform=Affine(100, 0, 0, 0, -100, 400)) as o:
    ...     o.write(np.full((1, 4, 4), 40.0, dtype="float32"))
    >>> r = zonal_traffic(open_traffic(p), box(50, 50, 200, 150), 15000.0)
    >>> round(r["offered_traffic_mbps"], 9), r["traffic_covered_share"]
    (0.6, 1.0)
    """
    out = {"offered_traffic_mbps": None, "traffic_covered_share": 0.0}
    win = window_of(geom.bounds, info.affine, info.width, info.height)
    if win is None:
        return out
    r0, r1, c0, c1 = win
    w = pixel_fractions(geom, info.affine @ Affine.translation(c0, r0), (r1 - r0, c1 - c0))
    window = rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0)
    if ds is None:
        with rasterio.open(info.path) as own:
            rho = _read(own, info.band, window)
    else:
        rho = _read(ds, info.band, window)
    ok = np.isfinite(rho) & (w > 0)
    if not ok.any():
        return out
    px = info.pixel_area_km2
    out["offered_traffic_mbps"] = float(np.sum(w[ok] * rho[ok]) * px)
    out["traffic_covered_share"] = min(1.0, float(w[ok].sum()) * px * 1e6 / area_m2) if area_m2 > 0 else 0.0
    return out
