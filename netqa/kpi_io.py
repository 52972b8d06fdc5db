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


def bin_samples(lon, lat, size_m: float):
    """Square bins of ``size_m`` in the local UTM zone (of the positions' bounding-box centre).

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
    """
    from pyproj import Transformer

    from netqa.grid import utm_crs_for

    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return np.full(lon.size, -1, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), None
    lo, la = lon[ok], lat[ok]
    utm = utm_crs_for(float((lo.min() + lo.max()) / 2.0), float((la.min() + la.max()) / 2.0))
    x, y = Transformer.from_crs("EPSG:4326", utm, always_xy=True).transform(lo, la)
    bx = np.floor(np.asarray(x) / size_m).astype(np.int64)
    by = np.floor(np.asarray(y) / size_m).astype(np.int64)
    del x, y
    span = int(by.max() - by.min()) + 1
    key = (bx - bx.min()) * span + (by - by.min())
    uniq, inv = np.unique(key, return_inverse=True)
    out = np.full(lon.size, -1, np.int64)
    out[ok] = inv
    ubx = uniq // span + bx.min()
    uby = uniq % span + by.min()
    return out, ubx, uby, utm
