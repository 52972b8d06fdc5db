"""Bounded-memory input for ``netqa kpi``: only the columns the KPIs use, streamed in row groups.

Reading a samples GeoParquet whole (every column, strings as Python objects, the
geometry as shapely points) costs about 550 bytes a sample: 5.6 GB for 10 M
samples.  :func:`read_kpi_samples` reads the KPI columns batch by batch with
pyarrow into preallocated float64 arrays, text columns as pandas categoricals
and the ``connected`` flag as a nullable boolean — about 60 bytes a sample, the
values unchanged (float64, as written) — and :func:`bin_samples` bins them
without per-sample geometry objects.  Measured peaks are in
``benchmarks/README.md`` (``bench_kpi``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from netqa.errors import InputError

#: Numeric columns the KPIs, the CDFs, the regions and the bins read.
NUMERIC = ("rsrp_dbm", "sinr_db", "rsrq_db", "dl_mbps", "ul_mbps", "lat", "lon")
#: Text columns kept as categoricals.
TEXT = ("tech", "activity")
#: Rows per batch read. [rows]
BATCH_ROWS = 1 << 18


def read_kpi_samples(path) -> pd.DataFrame:
    """The samples' KPI columns as a compact DataFrame (Parquet streamed by batches; CSV read whole).

    Parameters
    ----------
    path : str or Path
        Samples from ``netqa ingest`` (GeoParquet) or a canonical CSV.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`NUMERIC` (float64), :data:`TEXT` (categorical) and
        ``connected`` (nullable boolean) that the file has; no geometry.

    Raises
    ------
    InputError
        Missing or unreadable file.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: samples file not found")
    if p.suffix.lower() not in (".parquet", ".geoparquet"):
        from netqa.ingest import load_samples

        return load_samples(p)
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    pool = pa.default_memory_pool()
    try:
        pf = pq.ParquetFile(p, pre_buffer=False, buffer_size=1 << 22)
        names = set(pf.schema_arrow.names)
        n = pf.metadata.num_rows
        numeric = [c for c in NUMERIC if c in names]
        text = [c for c in TEXT if c in names]
        has_conn = "connected" in names
        cols = numeric + text + (["connected"] if has_conn else [])
        arrays = {c: np.empty(n, dtype=np.float64) for c in numeric}
        codes = {c: np.empty(n, dtype=np.int32) for c in text}
        cats: dict[str, dict] = {c: {} for c in text}
        conn_val = np.zeros(n, dtype=bool) if has_conn else None
        conn_na = np.ones(n, dtype=bool) if has_conn else None
        row = 0
        for batch in pf.iter_batches(batch_size=BATCH_ROWS, columns=cols):
            m = batch.num_rows
            for c in numeric:
                arr = batch.column(c).cast(pa.float64())
                arrays[c][row:row + m] = arr.to_numpy(zero_copy_only=False)  # nulls -> NaN
            for c in text:
                enc = pc.dictionary_encode(batch.column(c).cast(pa.string()))
                local = enc.dictionary.to_pylist()
                glob = np.array([cats[c].setdefault(v, len(cats[c])) for v in local], dtype=np.int32)
                idx = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
                good = idx >= 0
                part = np.full(m, -1, dtype=np.int32)
                part[good] = glob[idx[good]]
                codes[c][row:row + m] = part
            if has_conn:
                col = batch.column("connected").cast(pa.bool_())
                conn_na[row:row + m] = col.is_null().to_numpy(zero_copy_only=False)
                conn_val[row:row + m] = col.fill_null(False).to_numpy(zero_copy_only=False)
            row += m
            del batch
            pool.release_unused()  # hand decoded pages back to the OS: the peak stays one batch, not the file
    except InputError:
        raise
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise InputError(f"{p}: samples cannot be read ({' '.join(str(exc).split())})") from None
    if row != n:
        raise InputError(f"{p}: samples file holds {row} rows, its metadata says {n}: the file is damaged")
    data: dict = dict(arrays)
    for c in text:
        data[c] = pd.Categorical.from_codes(codes[c], categories=list(cats[c]))
    if has_conn:
        data["connected"] = pd.arrays.BooleanArray(conn_val, conn_na)
    return pd.DataFrame(data, copy=False)


#: Rows projected per chunk when binning (bounds the float temporaries). [rows]
BIN_CHUNK_ROWS = 1 << 20
#: Largest dense bin grid (bins in the positions' bounding box) indexed by a lookup table. [bins]
DENSE_BINS_MAX = 1 << 26


def bin_samples(lon, lat, size_m: float):
    """Square bins of ``size_m`` in the local UTM zone (of the positions' bounding-box centre).

    Positions are projected in chunks of :data:`BIN_CHUNK_ROWS`; the occupied bins are found
    with a dense lookup over the bounding box when it holds at most :data:`DENSE_BINS_MAX`
    bins, else with ``numpy.unique`` (same result, more memory).

    Parameters
    ----------
    lon, lat : numpy.ndarray
        Positions, WGS84; rows without a finite position are in no bin. [deg]
    size_m : float
        Bin side, > 0. [m]

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray, CRS)
        Per row the bin index (-1: none), each bin's (bx, by) integer corners in
        units of ``size_m`` (bins sorted by bx, then by), and the UTM CRS.

    Examples
    --------
    >>> b, bx, by, crs = bin_samples(np.array([-3.0, -3.0, np.nan]), np.array([40.0, 40.0001, 40.0]), 100.0)
    >>> b.tolist(), len(bx), crs.to_epsg()
    ([0, 0, -1], 1, 32630)
    """
    from pyproj import Transformer

    from netqa.grid import utm_crs_for

    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    n = lon.size
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return np.full(n, -1, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), None
    lo_min, lo_max = np.min(lon, where=ok, initial=np.inf), np.max(lon, where=ok, initial=-np.inf)
    la_min, la_max = np.min(lat, where=ok, initial=np.inf), np.max(lat, where=ok, initial=-np.inf)
    utm = utm_crs_for(float((lo_min + lo_max) / 2.0), float((la_min + la_max) / 2.0))
    tr = Transformer.from_crs("EPSG:4326", utm, always_xy=True)
    itype = np.int32 if size_m >= 0.01 else np.int64  # |x| < 2e7 m
    bx = np.zeros(n, itype)
    by = np.zeros(n, itype)
    for i in range(0, n, BIN_CHUNK_ROWS):
        sl = slice(i, i + BIN_CHUNK_ROWS)
        x, y = tr.transform(lon[sl], lat[sl])
        with np.errstate(invalid="ignore"):
            bx[sl] = np.where(ok[sl], np.floor(np.asarray(x) / size_m), 0).astype(itype)
            by[sl] = np.where(ok[sl], np.floor(np.asarray(y) / size_m), 0).astype(itype)
    bx0, bx1 = int(np.min(bx, where=ok, initial=np.iinfo(itype).max)), int(np.max(bx, where=ok, initial=np.iinfo(itype).min))
    by0, by1 = int(np.min(by, where=ok, initial=np.iinfo(itype).max)), int(np.max(by, where=ok, initial=np.iinfo(itype).min))
    ny = by1 - by0 + 1
    n_box = (bx1 - bx0 + 1) * ny
    out = np.full(n, -1, np.int64)
    if n_box <= DENSE_BINS_MAX:
        occupied = np.zeros(n_box, bool)
        for i in range(0, n, BIN_CHUNK_ROWS):
            sl = slice(i, i + BIN_CHUNK_ROWS)
            k = (bx[sl].astype(np.int64) - bx0) * ny + (by[sl] - by0)
            occupied[k[ok[sl]]] = True
        lut = np.cumsum(occupied, dtype=np.int64) - 1
        for i in range(0, n, BIN_CHUNK_ROWS):
            sl = slice(i, i + BIN_CHUNK_ROWS)
            k = (bx[sl].astype(np.int64) - bx0) * ny + (by[sl] - by0)
            out[sl] = np.where(ok[sl], lut[np.where(ok[sl], k, 0)], -1)
        cells = np.flatnonzero(occupied)
    else:
        key = (bx[ok].astype(np.int64) - bx0) * ny + (by[ok] - by0)
        cells, inv = np.unique(key, return_inverse=True)
        out[ok] = inv
    return out, cells // ny + bx0, cells % ny + by0, utm
