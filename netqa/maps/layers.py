"""Map inputs: a coverage band, cells (sites and sector wedges), measured samples and bins.

Everything the map writers draw is loaded here, once, into plain objects:

* :func:`read_band` -- one band of the coverage GeoTIFF (DESIGN.md "Coverage
  raster") in its own CRS, with NaN for nodata, and the best-server lookup;
* :func:`load_cells` -- the canonical Cells table from a (Geo)DataFrame or a file;
* :func:`load_samples` -- measured samples (canonical Samples columns) with lat/lon;
* :func:`bin_samples` -- samples averaged onto square bins (dBm in the linear domain);
* :func:`sector_wedge_lonlat` -- a sector drawn as a wedge along its azimuth;
* :func:`to_wgs84_rgba` -- a classified band reprojected to WGS84 as an RGBA image
  whose extent is exactly the raster bounds reprojected to WGS84 (KMZ, HTML).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.warp import calculate_default_transform, reproject, transform_bounds

from netqa.errors import CRSError, InputError, RasterError
from netqa.grid import WGS84, to_geographic, to_projected
from netqa.maps.legend import Legend, legend_for

log = logging.getLogger(__name__)

__all__ = [
    "CoverageBand",
    "band_names",
    "read_band",
    "band_legend",
    "load_cells",
    "load_samples",
    "bin_samples",
    "sector_wedge_lonlat",
    "to_wgs84_rgba",
    "WGS84Image",
    "load_regions",
    "region_label",
    "label_point",
    "REGION_COLUMNS",
]

#: Half-width of a drawn sector wedge when the table has no beamwidth. [deg]
WEDGE_HALF_WIDTH_DEG = 30.0
#: Region columns shown in balloons and hover text when present (names of DESIGN.md and ``netqa score``).
REGION_COLUMNS = (
    "region_id", "name", "area_type", "rank", "score_overall", "grade_overall", "score", "n_samples",
    "coverage_rate", "coverage_rate_measured", "coverage_rate_predicted", "rsrp_dbm_mean", "sinr_db_mean",
    "dl_mbps_mean", "dl_mbps_mean_measured", "drop_rate", "ho_success_rate", "complaints_n",
)
#: Columns averaged in the linear (power) domain when binning samples.
_POWER_COLUMNS = ("rsrp_dbm",)


@dataclass(frozen=True, eq=False)
class CoverageBand:
    """One band of a coverage raster, in the raster's own CRS.

    Attributes
    ----------
    name : str
        Band name (``rsrp_dbm``, ``best_cell``, ...).
    values : numpy.ndarray
        ``(rows, cols)`` float64, NaN for nodata. [band unit]
    transform : affine.Affine
        Pixel-to-CRS transform.
    crs : rasterio.crs.CRS
        The raster's CRS (never None).
    unit : str
        Unit from the band's ``unit`` tag, or "".
    cell_ids : list of str or None
        ``best_cell`` index -> cell id, from the file's ``best_cell`` tag.
    path : str
        Source file, for messages.
    """

    name: str
    values: np.ndarray
    transform: Affine
    crs: CRS
    unit: str = ""
    cell_ids: list | None = None
    path: str = ""

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)`` in the raster CRS."""
        rows, cols = self.values.shape
        return _bounds(self.transform, rows, cols)

    @property
    def pixel_size(self) -> float:
        """Mean pixel size in CRS units."""
        return (abs(self.transform.a) + abs(self.transform.e)) / 2.0


def _bounds(transform: Affine, rows: int, cols: int) -> tuple[float, float, float, float]:
    x0, y0 = transform.c, transform.f
    x1 = transform.c + transform.a * cols + transform.b * rows
    y1 = transform.f + transform.d * cols + transform.e * rows
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def _band_label(ds, i: int) -> str:
    tag = ds.tags(i).get("name")
    if tag:
        return tag
    desc = ds.descriptions[i - 1]
    if desc:
        return desc.split(":", 1)[0].strip()
    return f"band{i}"


def band_names(path: str | Path) -> list[str]:
    """Names of the bands of a coverage GeoTIFF (``name`` tag, else description up to ':')."""
    with rasterio.open(path) as ds:
        return [_band_label(ds, i) for i in range(1, ds.count + 1)]


def _cell_lookup(ds, path) -> list | None:
    for where in (ds.tags(), *(ds.tags(i) for i in range(1, ds.count + 1))):
        raw = where.get("best_cell") or where.get("cell_ids")
        if raw is None:
            continue
        try:
            ids = json.loads(raw)
        except json.JSONDecodeError:
            ids = [s.strip() for s in raw.split(",")]
        if isinstance(ids, dict):  # {"0": "A1", ...}
            n = max(int(k) for k in ids) + 1 if ids else 0
            ids = [str(ids.get(str(k), k)) for k in range(n)]
        if isinstance(ids, list):
            return [str(x) for x in ids]
        log.warning("%s: best_cell metadata %r is not a list of cell ids; cells shown by index", path, raw[:60])
    return None


def read_band(path: str | Path, band: str = "rsrp_dbm") -> CoverageBand:
    """Read one band of a coverage GeoTIFF.

    Parameters
    ----------
    path : path
        Coverage GeoTIFF (``netqa predict``).
    band : str
        Band name (see :func:`band_names`) or 1-based index as a string.

    Raises
    ------
    netqa.errors.RasterError
        File missing or unreadable; no band of that name (the message lists them).
    netqa.errors.CRSError
        The raster has no CRS.
    """
    from netqa.io.raster import open_georaster

    p = Path(path)
    with open_georaster(p, "raster") as ds:
        names = [_band_label(ds, i) for i in range(1, ds.count + 1)]
        if band in names:
            idx = names.index(band) + 1
        elif str(band).isdigit() and 1 <= int(band) <= ds.count:
            idx = int(band)
        else:
            raise RasterError(f"{p}: no band named {band!r}; bands are {', '.join(names)} (choose one with --band)")
        arr = ds.read(idx, masked=True)
        values = np.ma.filled(arr.astype(np.float64), np.nan)
        values[~np.isfinite(values)] = np.nan
        unit = ds.tags(idx).get("unit") or (ds.units[idx - 1] if ds.units else "") or ""
        lookup = _cell_lookup(ds, p) if names[idx - 1] == "best_cell" else None
        return CoverageBand(names[idx - 1], values, ds.transform, ds.crs, unit, lookup, str(p))


def band_legend(band: CoverageBand, legend=None) -> Legend:
    """The legend to draw ``band`` with: ``legend`` (Legend or TOML path), the default, or best-server cells
    (coloured so that cells whose areas touch differ: :func:`netqa.maps.servers.best_server_legend`)."""
    if legend is None and band.name == "best_cell":
        from netqa.maps.servers import best_server_legend

        finite = band.values[np.isfinite(band.values)]
        n = int(finite.max()) + 1 if finite.size else 1
        ids = band.cell_ids or []
        labels = [ids[i] if i < len(ids) else f"cell #{i}" for i in range(max(n, len(ids)))]
        return best_server_legend(band.values, labels)
    return legend_for(band.name, legend)


# --- cells -----------------------------------------------------------------------------------


def load_cells(cells) -> pd.DataFrame:
    """Canonical cells as a DataFrame: a (Geo)DataFrame, or a file read with ``netqa.io.cells.read_cells``.

    Only ``site_id``, ``cell_id``, ``lat``, ``lon`` and ``azimuth_deg`` are required for maps.
    """
    if cells is None:
        return None
    if isinstance(cells, pd.DataFrame):
        df = pd.DataFrame(cells.drop(columns="geometry", errors="ignore"))
        source = "cells table"
    else:
        from netqa.io.cells import read_cells

        source = str(cells)
        df = pd.DataFrame(read_cells(cells).drop(columns="geometry", errors="ignore"))
    missing = [c for c in ("site_id", "cell_id", "lat", "lon", "azimuth_deg") if c not in df.columns]
    if missing:
        raise InputError(f"{source}: missing column(s) {', '.join(missing)} needed to draw sites and sectors")
    return df.reset_index(drop=True)


def sector_wedge_lonlat(lon: float, lat: float, azimuth_deg: float, radius_m: float,
                        half_width_deg: float = WEDGE_HALF_WIDTH_DEG, n_arc: int = 12) -> list[tuple[float, float]]:
    """Closed ring ``[(lon, lat), ...]`` of a sector wedge along ``azimuth_deg`` (from north, clockwise).

    The wedge is built in a local azimuthal-equidistant approximation (metres
    east and north of the site), good to well under a pixel at wedge sizes.
    """
    m_per_deg_lat = 111_320.0
    m_per_deg_lon = m_per_deg_lat * math.cos(math.radians(lat))
    ring = [(lon, lat)]
    for k in range(n_arc + 1):
        az = math.radians(azimuth_deg - half_width_deg + 2.0 * half_width_deg * k / n_arc)
        ring.append((lon + radius_m * math.sin(az) / m_per_deg_lon, lat + radius_m * math.cos(az) / m_per_deg_lat))
    ring.append((lon, lat))
    return ring


def cell_half_width_deg(row) -> float:
    """Half of the horizontal beamwidth when the table has one, else :data:`WEDGE_HALF_WIDTH_DEG`."""
    hpbw = row.get("hpbw_h_deg") if hasattr(row, "get") else None
    if hpbw is not None and np.isfinite(hpbw) and 0 < hpbw <= 360:
        return float(hpbw) / 2.0
    return WEDGE_HALF_WIDTH_DEG


# --- regions ---------------------------------------------------------------------------------


def load_regions(regions):
    """Region polygons in WGS84: a GeoDataFrame, or a vector file (layer ``scores`` when present, else the first).

    A scores GeoPackage (``netqa score``) carries ``score_overall`` and
    ``grade_overall``, which the maps show beside the region names.

    Raises
    ------
    netqa.errors.InputError
        File missing; no geometry.
    netqa.errors.CRSError
        The layer has no CRS.
    """
    if regions is None:
        return None
    import geopandas as gpd

    if isinstance(regions, gpd.GeoDataFrame):
        gdf, source = regions, "regions"
    else:
        import pyogrio

        p = Path(regions)
        source = str(p)
        if not p.exists():
            raise InputError(f"{p}: regions file not found")
        layers = [name for name, _ in pyogrio.list_layers(p)]
        gdf = gpd.read_file(p, layer="scores" if "scores" in layers else layers[0])
    if gdf.crs is None:
        raise CRSError(f"{source}: the layer has no CRS; set one (e.g. EPSG:4326) in the file")
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    return gdf.to_crs(4326).reset_index(drop=True)


def _present(v) -> bool:
    return v is not None and v is not pd.NA and not (isinstance(v, float) and math.isnan(v))


def label_point(geom, clip_box=None):
    """Where to write a polygon's label: the pole of inaccessibility of its largest part (inside the
    ``clip_box`` shapely geometry when given), so a ring around another region is labelled on the ring.
    None when nothing is left.
    """
    from shapely.ops import polylabel

    if clip_box is not None:
        geom = geom.intersection(clip_box)
    if geom.is_empty:
        return None
    parts = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type == "Polygon" and not g.is_empty]
    if not parts:
        return geom.representative_point()
    part = max(parts, key=lambda g: g.area)
    return polylabel(part, tolerance=math.sqrt(part.area) / 100.0)


def region_label(row, with_score: bool = True) -> str:
    """``name`` (else ``region_id``) and, when the row carries one, the overall score and grade.

    >>> region_label({"region_id": "R1", "name": "North", "score_overall": 51.27, "grade_overall": "D"})
    'North\\n51 (D)'
    """
    get = row.get if hasattr(row, "get") else (lambda k, d=None: d)
    name = get("name") if _present(get("name")) else get("region_id", "")
    label = str(name) if _present(name) else ""
    score = get("score_overall") if _present(get("score_overall")) else get("score")
    if with_score and _present(score):
        grade = get("grade_overall")
        label += f"\n{float(score):.0f}" + (f" ({grade})" if _present(grade) else "")
    return label


# --- samples ---------------------------------------------------------------------------------


def load_samples(samples) -> pd.DataFrame:
    """Measured samples with ``lat``/``lon``: a (Geo)DataFrame, GeoParquet/Parquet or CSV file."""
    if samples is None:
        return None
    if isinstance(samples, pd.DataFrame):
        df = pd.DataFrame(samples.drop(columns="geometry", errors="ignore"))
        source = "samples table"
    else:
        from netqa.ingest import load_samples as read_samples  # GeoParquet of netqa ingest or canonical CSV

        source = str(samples)
        df = read_samples(samples)
    missing = [c for c in ("lat", "lon") if c not in df.columns]
    if missing:
        raise InputError(f"{source}: missing column(s) {', '.join(missing)}")
    ok = np.isfinite(df["lat"].to_numpy(float)) & np.isfinite(df["lon"].to_numpy(float))
    return df.loc[ok].reset_index(drop=True)


def bin_samples(samples: pd.DataFrame, column: str, crs, bin_m: float) -> pd.DataFrame:
    """Average ``column`` of samples onto square bins of ``bin_m`` in ``crs`` (metric).

    dBm columns are averaged in the linear (mW) domain, others arithmetically.
    Returns one row per bin: ``lon``, ``lat`` (bin centre, WGS84), ``value``, ``n``.
    """
    if column not in samples.columns:
        raise InputError(f"samples: no column {column!r} to bin; columns are {', '.join(map(str, samples.columns))}")
    v = samples[column].to_numpy(dtype=float)
    ok = np.isfinite(v)
    if not ok.any():
        return pd.DataFrame({"lon": [], "lat": [], "value": [], "n": []})
    x, y = to_projected(samples["lon"].to_numpy(float)[ok], samples["lat"].to_numpy(float)[ok], crs)
    ix, iy = np.floor(np.asarray(x) / bin_m).astype(np.int64), np.floor(np.asarray(y) / bin_m).astype(np.int64)
    vals = v[ok]
    lin = column in _POWER_COLUMNS or column.endswith("_dbm")
    df = pd.DataFrame({"ix": ix, "iy": iy, "v": 10.0 ** (vals / 10.0) if lin else vals})
    g = df.groupby(["ix", "iy"], sort=True)["v"].agg(["mean", "size"]).reset_index()
    value = 10.0 * np.log10(g["mean"].to_numpy()) if lin else g["mean"].to_numpy()
    cx, cy = (g["ix"].to_numpy() + 0.5) * bin_m, (g["iy"].to_numpy() + 0.5) * bin_m
    lon, lat = to_geographic(cx, cy, crs)
    return pd.DataFrame({"lon": np.asarray(lon), "lat": np.asarray(lat), "value": value, "n": g["size"].to_numpy()})


# --- WGS84 overlay -----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class WGS84Image:
    """An RGBA image on a WGS84 grid: ``rgba`` (rows, cols, 4) uint8 and its ``(west, south, east, north)``."""

    rgba: np.ndarray
    west: float
    south: float
    east: float
    north: float


def wgs84_bounds(band: CoverageBand) -> tuple[float, float, float, float]:
    """The raster bounds reprojected to WGS84 ``(west, south, east, north)``, edges densified."""
    return transform_bounds(band.crs, WGS84, *band.bounds, densify_pts=21)


def to_wgs84_rgba(band: CoverageBand, legend: Legend, alpha: int = 200) -> WGS84Image:
    """Classify ``band`` with ``legend`` and reproject the classes (nearest) to a WGS84 RGBA image.

    The image extent equals :func:`wgs84_bounds` exactly (pixel size in degrees
    is adjusted to fit, near the source resolution), so a GroundOverlay's
    LatLonBox matches the raster.  Classes are reprojected, not values, so no
    colour is blended across a class boundary.
    """
    west, south, east, north = wgs84_bounds(band)
    rows, cols = band.shape
    _, w0, h0 = calculate_default_transform(band.crs, WGS84, cols, rows, *band.bounds)
    w, h = max(1, int(w0)), max(1, int(h0))
    dst_transform = Affine((east - west) / w, 0.0, west, 0.0, -(north - south) / h, north)
    idx = legend.classify(band.values).astype(np.int16)
    dst = np.full((h, w), -1, dtype=np.int16)
    reproject(idx, dst, src_transform=band.transform, src_crs=band.crs, dst_transform=dst_transform,
              dst_crs=WGS84, src_nodata=-1, dst_nodata=-1, resampling=Resampling.nearest)
    pal = np.vstack([legend.palette_rgba(alpha), np.zeros((1, 4), dtype=np.uint8)])
    return WGS84Image(pal[np.where(dst < 0, len(legend.classes), dst)], west, south, east, north)
