"""Writers: streaming GeoParquet samples, events GeoParquet and the rejects CSV.

Samples are written block by block with :class:`pyarrow.parquet.ParquetWriter`
(bounded memory).  The ``geometry`` column is WKB points built directly in
numpy (21 bytes each: byte order, type 1, x = lon, y = lat), null where the
position is missing, and the file carries GeoParquet 1.0 ``geo`` metadata
(CRS OGC:CRS84 = WGS84 lon/lat), so geopandas and GDAL read it as points in
EPSG:4326.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from netqa.ingest.batch import Batch

#: Output samples schema (canonical columns first, then netqa's extras).
SAMPLE_SCHEMA = pa.schema([
    ("time", pa.timestamp("ns", tz="UTC")),
    ("lat", pa.float64()),
    ("lon", pa.float64()),
    ("session", pa.string()),
    ("tech", pa.string()),
    ("cell_id", pa.string()),
    ("rsrp_dbm", pa.float64()),
    ("rsrq_db", pa.float64()),
    ("sinr_db", pa.float64()),
    ("dl_mbps", pa.float64()),
    ("ul_mbps", pa.float64()),
    ("speed_kmh", pa.float64()),
    ("pci", pa.float64()),
    ("earfcn", pa.float64()),
    ("cqi", pa.float64()),
    ("rssi_dbm", pa.float64()),
    ("nbr_rsrp_dbm", pa.float64()),
    ("nbr_rsrq_db", pa.float64()),
    ("connected", pa.bool_()),
    ("activity", pa.string()),
    ("gps_interpolated", pa.bool_()),
    ("value_flags", pa.int32()),
    ("source_file", pa.dictionary(pa.int32(), pa.string())),
    ("source_line", pa.int64()),
])
CELL_MATCH_FIELDS = [pa.field("log_cell_id", pa.string()), pa.field("cell_matched", pa.bool_())]
#: Parquet dictionary encoding only where values repeat (strings, quantised radio values, flags);
#: positions, times and line numbers are near-unique and would only pay for a failed dictionary.
DICTIONARY_COLUMNS = ["session", "tech", "cell_id", "activity", "source_file", "log_cell_id", "rsrp_dbm", "rsrq_db",
                      "sinr_db", "pci", "earfcn", "cqi", "rssi_dbm", "connected", "gps_interpolated", "value_flags", "cell_matched"]
#: Row-group statistics for the columns that queries filter on.
STATISTICS_COLUMNS = ["time", "lat", "lon", "session", "tech", "cell_id", "rsrp_dbm", "source_line"]
#: Rows per Parquet row group (about 1 M: large enough for fast scans, small enough to stream).
ROW_GROUP_ROWS = 1 << 20


def wkb_points(lon: np.ndarray, lat: np.ndarray) -> pa.Array:
    """Little-endian WKB points as a pyarrow binary array; null where lon/lat is NaN.

    >>> a = wkb_points(np.array([1.0]), np.array([2.0]))
    >>> import shapely; shapely.from_wkb(a.to_numpy(zero_copy_only=False)[0]).wkt
    'POINT (1 2)'
    """
    n = lon.size
    rec = np.zeros(n, dtype=np.dtype([("bo", "u1"), ("ty", "<u4"), ("x", "<f8"), ("y", "<f8")]))
    rec["bo"] = 1
    rec["ty"] = 1
    rec["x"] = lon
    rec["y"] = lat
    valid = ~(np.isnan(lon) | np.isnan(lat))
    offsets = (np.arange(n + 1, dtype=np.int32) * 21)
    validity = None
    if not valid.all():
        validity = pa.array(valid).buffers()[1]
    return pa.Array.from_buffers(pa.binary(), n, [validity, pa.py_buffer(offsets), pa.py_buffer(rec.tobytes())],
                                 null_count=int((~valid).sum()))


def geo_metadata(geometry_types=("Point",)) -> bytes:
    meta = {
        "version": "1.0.0",
        "primary_column": "geometry",
        "columns": {"geometry": {"encoding": "WKB", "geometry_types": list(geometry_types),
                                 "crs": _crs84_projjson()}},
    }
    return json.dumps(meta).encode()


def _crs84_projjson():
    try:
        import pyproj

        return pyproj.CRS("EPSG:4326").to_json_dict()
    except Exception:  # pragma: no cover - pyproj is a dependency
        return None


def batch_to_table(b: Batch, file: str, with_cells: bool) -> pa.Table:
    n = len(b)
    arrays = []
    fields = list(SAMPLE_SCHEMA) + (CELL_MATCH_FIELDS if with_cells else [])
    for fld in fields:
        name = fld.name
        if name == "time":
            arrays.append(pa.array(b.cols["time"], type=pa.int64()).cast(pa.timestamp("ns", tz="UTC")))
        elif name == "source_file":
            arrays.append(pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([file], type=pa.string())))
        elif name == "source_line":
            arrays.append(pa.array(b.line, type=pa.int64()))
        elif name == "connected":
            c = b.cols.get("connected")
            arrays.append(pa.nulls(n, pa.bool_()) if c is None else pa.array(c == 1, mask=(c < 0)))
        elif name in b.cols:
            v = b.cols[name]
            arrays.append(pa.array(v, type=fld.type) if isinstance(v, np.ndarray) else v.cast(fld.type))
        elif pa.types.is_floating(fld.type):  # a column the log does not have: all missing (null reads as NaN)
            arrays.append(pa.nulls(n, pa.float64()))
        elif name == "gps_interpolated":
            arrays.append(pa.array(np.zeros(n, dtype=bool)))
        elif name == "value_flags":
            arrays.append(pa.array(np.zeros(n, dtype=np.int32)))
        else:
            arrays.append(pa.nulls(n, fld.type))
    arrays.append(wkb_points(b.cols["lon"], b.cols["lat"]))
    schema = pa.schema(fields + [pa.field("geometry", pa.binary())], metadata={b"geo": geo_metadata()})
    return pa.Table.from_arrays(arrays, schema=schema)


def _parquet_writer(path, schema: pa.Schema) -> pq.ParquetWriter:
    names = set(schema.names)
    return pq.ParquetWriter(path, schema, compression="snappy",
                            use_dictionary=[c for c in DICTIONARY_COLUMNS if c in names],
                            write_statistics=[c for c in STATISTICS_COLUMNS if c in names])


class SampleWriter:
    """Streams sample batches into one GeoParquet file.

    Parquet encoding runs in a background thread (pyarrow releases the GIL),
    overlapping with the parsing of the next block; at most one table waits.
    """

    def __init__(self, path, with_cells: bool = False):
        from concurrent.futures import ThreadPoolExecutor

        self.path = path
        self.with_cells = with_cells
        self.writer: pq.ParquetWriter | None = None
        self.n = 0
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="netqa-parquet")
        self._pending = None

    def _wait(self) -> None:
        if self._pending is not None:
            fut, self._pending = self._pending, None
            fut.result()

    def write(self, b: Batch | None, file: str) -> None:
        """Queue one batch; its table is built and encoded in the background thread."""
        if b is None or len(b) == 0:
            return
        self._wait()
        self._pending = self._pool.submit(self._encode, b, file)
        self.n += len(b)

    def _encode(self, b: Batch, file: str) -> None:
        tbl = batch_to_table(b, file, self.with_cells)
        if self.writer is None:
            self.writer = _parquet_writer(self.path, tbl.schema)
        self.writer.write_table(tbl, row_group_size=ROW_GROUP_ROWS)

    def close(self) -> None:
        try:
            self._wait()
        finally:
            self._pool.shutdown(wait=True)
        if self.writer is None:  # no rows: still write a valid, empty file
            empty = Batch({"time": np.empty(0, np.int64), "lat": np.empty(0), "lon": np.empty(0)}, np.empty(0, np.int64))
            tbl = batch_to_table(empty, "", self.with_cells)
            self.writer = _parquet_writer(self.path, tbl.schema)
            self.writer.write_table(tbl)
        self.writer.close()


def write_events(events: pd.DataFrame, path) -> None:
    """Events GeoParquet (canonical Events columns + point geometry)."""
    ev = events.reset_index(drop=True)
    t = pd.to_datetime(ev["time"], utc=True)
    arrays = {
        "time": pa.array(t.dt.tz_localize(None).to_numpy("datetime64[ns]").view(np.int64)).cast(pa.timestamp("ns", tz="UTC")),
        "lat": pa.array(ev["lat"].to_numpy(np.float64)),
        "lon": pa.array(ev["lon"].to_numpy(np.float64)),
    }
    for c in ("session", "event", "cell_id", "target_cell_id", "source"):
        vals = ev[c].astype(object).where(ev[c].notna(), None).tolist() if c in ev else [None] * len(ev)
        arrays[c] = pa.array([None if v is None else str(v) for v in vals], type=pa.string())
    arrays["geometry"] = wkb_points(ev["lon"].to_numpy(np.float64), ev["lat"].to_numpy(np.float64))
    tbl = pa.table(arrays).replace_schema_metadata({b"geo": geo_metadata()})
    pq.write_table(tbl, path, compression="zstd")


def write_rejects(table: pa.Table, path) -> None:
    """Rejects CSV: file, line, column, value, reason, action."""
    pacsv.write_csv(table, path)
