"""Point tables for scoring (samples, events, complaints) and their assignment to regions.

Samples, events and complaints carry WGS84 ``lat``/``lon`` (DESIGN.md,
"Canonical tables").  They are projected once into the regions' metric CRS and
assigned to regions in one vectorised pass (:func:`assign_points`: a bucket
sort of the points, then ``shapely.intersects_xy`` per region on the candidate
buckets), which yields (point, region) pairs; points in overlapping regions
count in each, points on no region in none.  Each region's rows are then a slice of
the pairs sorted by region (a group-by, not a per-region search).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from netqa.errors import InputError
from netqa.schema import COMPLAINT_CATEGORIES

log = logging.getLogger(__name__)

#: Sample columns scoring reads (others are ignored); ``campaign`` is optional.
SAMPLE_READ = ("time", "lat", "lon", "session", "cell_id", "rsrp_dbm", "rsrq_db", "sinr_db", "dl_mbps", "ul_mbps", "activity", "connected", "campaign")
EVENT_READ = ("time", "lat", "lon", "session", "event", "cell_id", "target_cell_id")


def read_table(path, what: str, columns=None) -> pd.DataFrame:
    """Read a Parquet/GeoParquet or CSV table with at least ``lat`` and ``lon``."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: {what} file not found")
    try:
        if p.suffix.lower() in (".parquet", ".pq", ".geoparquet"):
            import pyarrow.parquet as pq  # noqa: PLC0415

            names = pq.ParquetFile(p).schema_arrow.names
            cols = [c for c in columns if c in names] if columns else None
            df = pd.read_parquet(p, columns=cols)
        else:
            df = pd.read_csv(p, comment="#")
            if columns:
                df = df[[c for c in columns if c in df.columns]]
    except (OSError, ValueError) as exc:
        raise InputError(f"{p}: cannot read {what} ({exc})") from exc
    for c in ("lat", "lon"):
        if c not in df.columns:
            raise InputError(f"{p}: {what} have no {c!r} column (WGS84 degrees); columns are {', '.join(map(str, df.columns))}")
    if "time" in df.columns and not pd.api.types.is_datetime64_any_dtype(df["time"]):
        df["time"] = pd.to_datetime(df["time"], utc=True, errors="coerce")
    return df


def read_complaints(path) -> pd.DataFrame:
    """Complaints CSV (``time, lat, lon, category[, text]``); unknown categories become ``other`` with a warning."""
    df = read_table(path, "complaints")
    if "category" not in df.columns:
        raise InputError(f"{path}: complaints have no 'category' column; expected one of {', '.join(COMPLAINT_CATEGORIES)}")
    cat = df["category"].astype(str).str.strip().str.lower()
    unknown = ~cat.isin(COMPLAINT_CATEGORIES)
    if unknown.any():
        first = int(np.flatnonzero(unknown.to_numpy())[0])
        log.warning(
            "%s: %d complaint(s) with an unknown category counted as 'other' (first: row %d, %r); known: %s",
            path, int(unknown.sum()), first + 1, df["category"].iloc[first], ", ".join(COMPLAINT_CATEGORIES),
        )
        cat = cat.where(~unknown, "other")
    df["category"] = cat
    return df


def project_lonlat(df: pd.DataFrame, crs) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of the rows' WGS84 lon/lat in ``crs``; NaN where a position is missing."""
    lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~((np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = tr.transform(lon, lat)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    x[bad] = np.nan
    y[bad] = np.nan
    return x, y


def assign_points(x: np.ndarray, y: np.ndarray, geoms) -> tuple[np.ndarray, np.ndarray]:
    """(point index, region index) pairs of points inside (or on the edge of) each region.

    The points are bucketed once into a coarse grid (sorted by bucket, so every
    bucket row is one contiguous slice); each region takes the buckets under its
    bounding box and keeps the points that intersect it, tested with the
    vectorised ``shapely.intersects_xy`` on the prepared polygon -- no per-point
    geometry objects, so 10 M points cost a few seconds and little memory.

    Parameters
    ----------
    x, y : numpy.ndarray
        Point coordinates in the regions' CRS. [m]
    geoms : sequence of shapely geometries (None for unusable regions)

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        int64 point indices and region indices, sorted by region then point.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> p, r = assign_points(np.array([0.5, 1.5, 5.0, 1.0]), np.array([0.5, 0.5, 5.0, 0.2]), [box(0, 0, 1, 1), box(1, 0, 2, 1)])
    >>> p.tolist(), r.tolist()
    ([0, 3, 1, 3], [0, 0, 1, 1])
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    ok = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    usable = [(i, g) for i, g in enumerate(geoms) if g is not None and not g.is_empty]
    if ok.size == 0 or not usable:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    xo, yo = x[ok], y[ok]
    bounds = np.array([g.bounds for _, g in usable])
    x0, y0 = float(xo.min()), float(yo.min())
    span = max(float(xo.max()) - x0, float(yo.max()) - y0, 1e-9)
    # bucket side: about the median region size, but at most 4096 buckets per side
    size = float(np.median(np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])))
    size = max(size / 2.0, span / 4096.0, 1e-9)
    nx = int(span // size) + 1
    ix = ((xo - x0) // size).astype(np.int64)
    iy = ((yo - y0) // size).astype(np.int64)
    key = iy * nx + ix
    order = np.argsort(key, kind="stable")
    starts = np.searchsorted(key[order], np.arange(nx * (int(iy.max()) + 1) + 1))
    ny = int(iy.max()) + 1
    p_parts, r_parts = [], []
    for (ri, g), (bx0, by0, bx1, by1) in zip(usable, bounds):
        cx0 = max(int((bx0 - x0) // size), 0)
        cx1 = min(int((bx1 - x0) // size), nx - 1)
        cy0 = max(int((by0 - y0) // size), 0)
        cy1 = min(int((by1 - y0) // size), ny - 1)
        if cx1 < cx0 or cy1 < cy0:
            continue
        sl = [order[starts[r * nx + cx0] : starts[r * nx + cx1 + 1]] for r in range(cy0, cy1 + 1)]
        cand = np.concatenate(sl) if len(sl) > 1 else sl[0]
        if cand.size == 0:
            continue
        cxs, cys = xo[cand], yo[cand]
        inb = (cxs >= bx0) & (cxs <= bx1) & (cys >= by0) & (cys <= by1)
        cand, cxs, cys = cand[inb], cxs[inb], cys[inb]
        shapely.prepare(g)
        hit = cand[shapely.intersects_xy(g, cxs, cys)]
        if hit.size:
            p_parts.append(np.sort(ok[hit]))
            r_parts.append(np.full(hit.size, ri, dtype=np.int64))
    if not p_parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    # regions were visited in index order and each region's points sorted: already (region, point) order
    return np.concatenate(p_parts), np.concatenate(r_parts)


def group_offsets(region_idx: np.ndarray, n_regions: int) -> np.ndarray:
    """Offsets so that region ``i``'s pairs are ``[off[i], off[i+1])`` of the sorted pairs."""
    return np.concatenate([[0], np.cumsum(np.bincount(region_idx, minlength=n_regions))]).astype(np.int64)
