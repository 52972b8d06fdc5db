"""Rasters: the DEM, the clutter map and its class table, and the GeoTIFF writer.

Every raster comes back as a :class:`Raster` on a metric, square-pixel
:class:`~netqa.grid.Grid` with an explicit ``nodata_mask``; voids and gaps are
reported, never read as zero.

Public names
------------
:class:`Raster`, :func:`read_dem`, :func:`resample_to_grid`,
:func:`read_clutter` + :class:`ClutterTable`, :func:`write_raster` and
:func:`open_raster_writer` (Cloud-Optimized GeoTIFF, compressed in parallel;
:mod:`netqa.io._rasterwrite`), :func:`read_raster`.

Examples
--------
>>> import numpy as np
>>> from netqa.grid import Grid
>>> g = Grid.from_bounds("EPSG:32629", (0, 0, 300, 200), 100)
>>> r = Raster(np.zeros(g.shape), g, np.zeros(g.shape, bool), name="elev_m", unit="m")
>>> r.grid.shape, r.n_nodata
((2, 3), 0)
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import rasterio

from netqa.errors import CRSError, RasterError
from netqa.grid import Grid
from netqa.io._dem import HGT_VOID, open_source, read_dem
from netqa.io._rasterbase import RESAMPLING, Raster, resample_to_grid, to_metric_raster
from netqa.io._rasterwrite import RasterWindowWriter, open_cog_dataset, open_raster_writer, write_raster

log = logging.getLogger(__name__)

__all__ = [
    "Raster",
    "read_dem",
    "dem_extent",
    "resample_to_grid",
    "ClutterTable",
    "read_clutter_table",
    "read_clutter",
    "write_raster",
    "open_raster_writer",
    "RasterWindowWriter",
    "open_cog_dataset",
    "read_clutter_window",
    "read_raster",
    "RESAMPLING",
    "HGT_VOID",
]

#: Columns of a clutter class table CSV.
CLUTTER_TABLE_COLUMNS = ("code", "name", "loss_db", "height_m")


@dataclass(frozen=True, eq=False)
class ClutterTable:
    """Clutter classes: integer code -> name, loss [dB] (>= 0) and height [m] (>= 0).

    ``frame`` holds the table indexed by ``code`` (extra CSV columns are kept).
    """

    frame: pd.DataFrame
    path: str = ""

    @property
    def codes(self) -> np.ndarray:
        return self.frame.index.to_numpy(dtype=np.int64)

    def _lookup(self, column: str, codes) -> np.ndarray:
        codes = np.asarray(codes)
        table_codes = self.codes
        order = np.argsort(table_codes)
        pos = np.searchsorted(table_codes[order], codes)
        pos = np.clip(pos, 0, len(order) - 1)
        idx = order[pos]
        found = table_codes[idx] == codes
        if not np.all(found):
            missing = np.unique(codes[~found])
            raise RasterError(f"clutter codes {missing.tolist()} are not in the class table {self.path or ''}".rstrip())
        return self.frame[column].to_numpy(dtype=np.float64)[idx]

    def loss_db(self, codes) -> np.ndarray:
        """Clutter loss of each code. [dB]"""
        return self._lookup("loss_db", codes)

    def height_m(self, codes) -> np.ndarray:
        """Clutter height of each code. [m]"""
        return self._lookup("height_m", codes)


@contextlib.contextmanager
def open_georaster(path, what: str = "raster", *, metric: bool = False):
    """Open a GeoTIFF for reading after the checks every consumer needs; yields the rasterio dataset.

    Raises :class:`RasterError` when the file is missing, unreadable or rotated, and
    :class:`CRSError` when it has no CRS or (``metric=True``) a CRS not in metres.
    ``what`` names the raster in the messages ("coverage raster", ...).
    """
    from netqa.grid import is_metric

    p = Path(path)
    if not p.is_file():
        raise RasterError(f"{p}: {what} not found")
    try:
        ds = rasterio.open(p)
    except rasterio.errors.RasterioIOError as exc:
        raise RasterError(f"{p}: cannot read the {what} ({exc})") from None
    with ds:
        if ds.crs is None:
            raise CRSError(
                f"{p}: the {what} has no CRS, so it cannot be placed on a map; write it with a CRS "
                "(netqa predict does) or assign one with 'gdal_edit.py -a_srs EPSG:326NN'"
            )
        if metric and not is_metric(ds.crs):
            raise CRSError(
                f"{p}: {what} CRS {ds.crs.to_string()!r} is not metric; pixel areas need a projected CRS in "
                "metres (netqa predict writes UTM)"
            )
        if ds.transform.b != 0 or ds.transform.d != 0:
            raise RasterError(f"{p}: rotated rasters are not supported ({what})")
        yield ds


def dem_extent(paths, crs=None):
    """CRS and bounds of the union of DEM files (GeoTIFF or SRTM ``.hgt``), read from headers only.

    Parameters
    ----------
    paths : path or sequence of paths
        DEM files; all must share one CRS (as :func:`read_dem` requires).
    crs : optional
        CRS to express the bounds in (default the DEM's own).

    Returns
    -------
    (crs, (left, bottom, right, top))
        The DEM's own CRS and the union of the files' bounds in ``crs``
        (transformed with densified edges when it differs).

    Raises :class:`~netqa.errors.RasterError` naming a missing or unreadable file.
    """
    from rasterio.warp import transform_bounds

    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = list(paths)
    if not paths:
        raise RasterError("dem_extent: no DEM file given")
    ext = None
    dem_crs = None
    for p in paths:
        s = open_source(p)
        dem_crs = dem_crs or s.crs
        t = s.transform
        b = (t.c, t.f + t.e * s.height, t.c + t.a * s.width, t.f)
        if crs is not None and s.crs != crs:
            b = transform_bounds(s.crs, crs, *b, densify_pts=21)
        ext = b if ext is None else (min(ext[0], b[0]), min(ext[1], b[1]), max(ext[2], b[2]), max(ext[3], b[3]))
    return dem_crs, tuple(float(v) for v in ext)


def read_clutter_table(path) -> ClutterTable:
    """Read and validate a clutter class CSV with columns ``code, name, loss_db, height_m``.

    Raises :class:`~netqa.errors.RasterError` naming the file, the 1-based data
    row, the field and the value: missing columns, non-numeric or non-integer
    codes, duplicate codes, ``loss_db < 0`` or ``height_m < 0``.
    """
    p = Path(path)
    if not p.exists():
        raise RasterError(f"{p}: clutter class table not found")
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, skipinitialspace=True, comment="#")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise RasterError(f"{p}: not a readable CSV ({exc})") from exc
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in CLUTTER_TABLE_COLUMNS if c not in df.columns]
    if missing:
        raise RasterError(
            f"{p}: clutter class table lacks column(s) {', '.join(missing)}; "
            f"expected {', '.join(CLUTTER_TABLE_COLUMNS)} (found {', '.join(df.columns)})"
        )
    if df.empty:
        raise RasterError(f"{p}: clutter class table has no rows")
    out = {"name": df["name"].str.strip()}
    for col, lo in (("code", None), ("loss_db", 0.0), ("height_m", 0.0)):
        raw = df[col].str.strip()
        num = pd.to_numeric(raw, errors="coerce")
        for i in np.flatnonzero(num.isna().to_numpy() | ~np.isfinite(num.to_numpy(dtype=float))):
            raise RasterError(f"{p}: row {i + 1}: field '{col}' = {raw.iloc[i]!r} is not a number")
        if col == "code":
            for i in np.flatnonzero(num.to_numpy() != np.round(num.to_numpy())):
                raise RasterError(f"{p}: row {i + 1}: field 'code' = {raw.iloc[i]!r} is not an integer class code")
            num = num.astype(np.int64)
        else:
            for i in np.flatnonzero(num.to_numpy() < lo):
                raise RasterError(f"{p}: row {i + 1}: field '{col}' = {raw.iloc[i]} must be >= {lo:g}")
        out[col] = num
    frame = pd.DataFrame(out)
    dup = frame["code"].duplicated(keep=False)
    if dup.any():
        rows = (np.flatnonzero(dup.to_numpy()) + 1).tolist()
        codes = sorted(set(frame.loc[dup, "code"].tolist()))
        raise RasterError(f"{p}: duplicate clutter code(s) {codes} on rows {rows}; each code must appear once")
    extras = [c for c in df.columns if c not in CLUTTER_TABLE_COLUMNS]
    for c in extras:
        frame[c] = df[c]
    return ClutterTable(frame.set_index("code"), str(p))


def read_clutter(raster_path, table_path, *, grid: Grid | None = None) -> tuple[Raster, ClutterTable]:
    """Read a clutter class raster and its class table, checking every code is known.

    Parameters
    ----------
    raster_path : path
        Single-band integer raster of class codes (GeoTIFF or any GDAL
        format, any CRS; a geographic one is reprojected by nearest neighbour
        onto the local UTM zone).
    table_path : path
        CSV with columns ``code, name, loss_db, height_m`` (see :func:`read_clutter_table`).
    grid : Grid, optional
        Resample onto this grid (``nearest``) after reading.

    Returns
    -------
    (Raster, ClutterTable)
        Raster ``name="clutter_code"`` of int32 codes, nodata masked.

    Raises
    ------
    netqa.errors.RasterError
        A code present in the raster is missing from the table (the message
        names each code and how many pixels carry it), or the files are malformed.
    """
    table = read_clutter_table(table_path)
    src = open_source(raster_path)
    if src.kind != "gdal":
        raise RasterError(f"{src.path}: a clutter map must be a GeoTIFF (or another GDAL raster), not {src.path.suffix}")
    with rasterio.open(src.path) as ds:
        if not np.issubdtype(np.dtype(ds.dtypes[0]), np.integer):
            raise RasterError(f"{src.path}: clutter raster has {ds.dtypes[0]} values; class codes must be integers")
        arr = ds.read(1, masked=True)
    mask = np.ma.getmaskarray(arr)
    values = np.ma.filled(arr, 0).astype(np.int32)
    _check_clutter_codes(src.path, values, mask, table, "")
    raster = to_metric_raster(values, mask, src.transform, src.crs, name="clutter_code", unit="", resampling="nearest")
    if grid is not None:
        raster = resample_to_grid(raster, grid, "nearest")
    return raster, table


def _check_clutter_codes(path, values: np.ndarray, mask: np.ndarray, table: ClutterTable, where: str) -> None:
    """Refuse codes missing from the class table, counted in the file's own (source) pixels.

    Counting before any reprojection or resampling gives the numbers a user
    finds in a GIS for that file (resampling to a finer grid would multiply
    them, to a coarser one could hide a code altogether).
    """
    present, counts = np.unique(values[~mask], return_counts=True)
    unknown = ~np.isin(present, table.codes)
    if unknown.any():
        detail = ", ".join(f"code {int(c)} ({int(n)} source pixels)" for c, n in zip(present[unknown], counts[unknown]))
        raise RasterError(
            f"{path}: {detail}{where} not in the class table {table.path} "
            f"(codes {', '.join(str(int(c)) for c in table.codes)}); add a row for each code"
        )


def read_clutter_window(raster_path, table: ClutterTable, grid: Grid) -> Raster:
    """Class codes of a clutter raster on ``grid``, reading only the part of the file under it.

    The windowed twin of ``read_clutter(raster_path, table_path, grid=grid)``
    (bounded memory for tiled work): the source pixels under the grid plus a
    margin of two, resampled by nearest neighbour.  Pixels outside the file
    are nodata.

    Raises
    ------
    netqa.errors.RasterError
        A code under the grid is missing from ``table`` (each code named with
        its pixel count in this window), or the file is no integer GDAL raster.
    """
    import math

    from rasterio.warp import transform_bounds
    from rasterio.windows import Window

    src = open_source(raster_path)
    if src.kind != "gdal":
        raise RasterError(f"{src.path}: a clutter map must be a GeoTIFF (or another GDAL raster), not {src.path.suffix}")
    b = tuple(grid.bounds)
    if src.crs != grid.crs:
        b = transform_bounds(grid.crs, src.crs, *b, densify_pts=21)
    t, margin = src.transform, 2
    c0 = max(0, math.floor((b[0] - t.c) / t.a) - margin)
    c1 = min(src.width, math.ceil((b[2] - t.c) / t.a) + margin)
    r0 = max(0, math.floor((b[3] - t.f) / t.e) - margin)
    r1 = min(src.height, math.ceil((b[1] - t.f) / t.e) + margin)
    if c1 <= c0 or r1 <= r0:
        return Raster(np.zeros(grid.shape, np.int32), grid, np.ones(grid.shape, bool), name="clutter_code", unit="")
    with rasterio.open(src.path) as ds:
        if not np.issubdtype(np.dtype(ds.dtypes[0]), np.integer):
            raise RasterError(f"{src.path}: clutter raster has {ds.dtypes[0]} values; class codes must be integers")
        arr = ds.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True)
    mask = np.ma.getmaskarray(arr)
    values = np.ma.filled(arr, 0).astype(np.int32)
    _check_clutter_codes(src.path, values, mask, table, f" in rows {r0}..{r1 - 1}, columns {c0}..{c1 - 1}")
    win_t = t @ type(t).translation(c0, r0)
    raster = to_metric_raster(values, mask, win_t, src.crs, name="clutter_code", unit="", resampling="nearest")
    raster = resample_to_grid(raster, grid, "nearest")
    return raster


def read_raster(path, band: int | str = 1, *, name: str | None = None, unit: str | None = None) -> Raster:
    """Read one band of a GeoTIFF (e.g. a coverage raster) as a :class:`Raster`.

    ``band`` is a 1-based index or a band description/``name`` tag (``"rsrp_dbm"``).
    Name and unit default to the band's ``name``/description and ``unit`` tags.
    Rasters in a non-metric CRS are reprojected onto the local UTM zone.
    """
    p = Path(path)
    if not p.exists():
        raise RasterError(f"{p}: file not found")
    with rasterio.open(p) as ds:
        if ds.crs is None:
            raise RasterError(f"{p}: the raster has no CRS")
        idx = _band_index(ds, band, p)
        tags = ds.tags(idx)
        arr = ds.read(idx, masked=True)
        transform, crs = ds.transform, ds.crs
        desc = ds.descriptions[idx - 1]
        is_int = np.issubdtype(np.dtype(ds.dtypes[idx - 1]), np.integer)
    mask = np.ma.getmaskarray(arr)
    if is_int:
        values = np.ma.filled(arr, 0)
    else:
        values = np.ma.filled(arr.astype(np.float64), np.nan)
        mask |= ~np.isfinite(values)
    return to_metric_raster(
        values, mask, transform, crs,
        name=name or tags.get("name") or desc or f"band{idx}",
        unit=unit if unit is not None else tags.get("unit", ""),
        resampling="nearest" if is_int else "bilinear",
    )


def _band_index(ds, band, p: Path) -> int:
    if isinstance(band, (int, np.integer)):
        if not 1 <= band <= ds.count:
            raise RasterError(f"{p}: band {band} does not exist (the file has {ds.count} band(s))")
        return int(band)
    names = [ds.tags(i).get("name") or ds.descriptions[i - 1] for i in range(1, ds.count + 1)]
    for i, n in enumerate(names, start=1):
        if n == band or ds.descriptions[i - 1] == band:
            return i
    raise RasterError(f"{p}: no band named {band!r}; bands are {', '.join(str(n) for n in names)}")


