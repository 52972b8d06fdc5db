"""Readers: delimited logs (through a :class:`LogMapping`) and canonical Parquet.

Text logs are read in byte blocks cut at line ends, so memory stays bounded
and every physical line keeps its number.  Within a block, blank lines and
comment lines are dropped, lines with the wrong number of fields are
quarantined (``truncated or malformed line``), and the rest is parsed by
``pyarrow.csv`` with typed columns (the fast path).  When a typed parse fails
(a non-numeric value, a bad timestamp, invalid UTF-8) the block is re-read as
strings and each value is parsed on its own, so the bad cells can be named.
The parsed columns become a canonical batch in :mod:`netqa.ingest.finish`.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from netqa.errors import LogFormatError
from netqa.ingest.batch import NAT, Batch, RejectLog
from netqa.ingest.blocks import BlockLines, filtered_bytes, scan_block, split_line
from netqa.ingest.finish import batch_from_columns, finish_batch, note_nonfinite
from netqa.ingest.mapping import TARGETS, builtin_mapping
from netqa.ingest.plan import DICT_STRING, ROW_CRITICAL, FilePlan

log = logging.getLogger(__name__)


def _time_types(plan: FilePlan):
    fmt = plan.mapping.time_format
    if fmt in ("epoch_s", "epoch_ms"):
        return [pa.float64()]
    if fmt == "iso8601":
        first = plan.time_type
        cands = [pa.timestamp("ns", tz="UTC"), pa.timestamp("ns")]
        if first is not None:
            cands.remove(first)
            cands.insert(0, first)
        return cands
    return [pa.timestamp("ns")]


def _arrow_types(plan: FilePlan, time_type) -> dict:
    types = {plan.mapping.time_column: time_type}
    for src, dst in plan.use.items():
        types[src] = pa.float64() if TARGETS[dst] == "float" else DICT_STRING
    return types


def parse_block(buf: bytes, first_line: int, plan: FilePlan, rejects: RejectLog, tz: str | None) -> tuple[Batch, int]:
    """Parse one block (ending with a newline) into a canonical :class:`Batch`.

    Returns the batch and the number of data lines read (rows counted as read).
    """
    m = plan.mapping
    if _is_plain(buf, m.comment):  # fastest path: every line a data line, parsed in place
        n = buf.count(b"\n")
        table = _typed_read(buf, plan, quoted=False)
        if table is not None and table.num_rows == n:
            return finish_batch(_from_typed(table, plan), first_line + np.arange(n, dtype=np.int64), plan, rejects, tz), n
    table = None
    damaged = _damaged_lines(buf)  # NUL bytes, invalid UTF-8: quarantined with their true cause
    lines = _without(scan_block(buf, m.delimiter, m.comment, len(plan.header), count_fields=False), damaged)
    if not lines.has_quote:  # fast path: trust the field counts unless the typed parse objects
        table = _typed_read(filtered_bytes(buf, lines.keep), plan, quoted=False)
        if table is None or table.num_rows != int(lines.keep.sum()):
            table = None
            lines = _without(scan_block(buf, m.delimiter, m.comment, len(plan.header), count_fields=True), damaged)
    line_no = first_line + np.arange(lines.n_lines, dtype=np.int64)
    n_read = int(lines.keep.sum()) + int(lines.bad_fields.size)
    if damaged is not None:
        idx = np.array(sorted(damaged), dtype=np.int64)
        n_read += idx.size
        rejects.add(str(plan.path), line_no[idx], "*", [damaged[i][0] for i in idx], [damaged[i][1] for i in idx],
                    key="damaged bytes (NUL or invalid UTF-8)")
    if lines.bad_fields.size:
        arr = np.frombuffer(buf, dtype=np.uint8)
        nl = np.flatnonzero(arr == 10)
        starts = np.concatenate([[0], nl[:-1] + 1])
        texts = [buf[starts[i] : nl[i]].decode("utf-8", "replace").rstrip("\r")[:80] for i in lines.bad_fields]
        reasons = [f"truncated or malformed line: {lines.field_counts[i]} fields, header has {len(plan.header)}" for i in lines.bad_fields]
        rejects.add(str(plan.path), line_no[lines.bad_fields], "*", texts, reasons, key="wrong number of fields")
    rows_line = line_no[lines.keep]
    if rows_line.size == 0:
        return _empty_batch(plan), n_read
    multiline = lines.cont is not None and bool(lines.cont.any())
    if multiline:  # keep each kept row's continuation lines with it
        row_of = np.maximum.accumulate(np.where(~lines.cont, np.arange(lines.n_lines), 0))
        data = filtered_bytes(buf, lines.keep[row_of])
    else:
        data = filtered_bytes(buf, lines.keep)
    if table is None:
        table = _typed_read(data, plan, quoted=lines.has_quote, multiline=multiline)
    if table is not None and table.num_rows == rows_line.size:
        cols = _from_typed(table, plan)
    else:
        cols = _from_strings(data, rows_line, plan, rejects, multiline=multiline)
    return finish_batch(cols, rows_line, plan, rejects, tz), n_read


def _damaged_lines(buf: bytes) -> dict[int, tuple[str, str]] | None:
    """Lines of ``buf`` holding NUL bytes or invalid UTF-8: {line index: (shown text, reason)}; None if none.

    The head of a file is checked when it is opened; this catches the damage
    further in (a crash that zero-padded the file, a flipped byte), which
    would otherwise surface as a misleading "missing time" or "not a number".
    """
    has_nul = b"\x00" in buf
    try:
        buf.decode("utf-8")
        bad_utf8 = False
    except UnicodeDecodeError:
        bad_utf8 = True
    if not (has_nul or bad_utf8):
        return None
    arr = np.frombuffer(buf, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    starts = np.concatenate([[0], nl[:-1] + 1])
    out: dict[int, tuple[str, str]] = {}

    def shown(i: int) -> str:
        return buf[starts[i] : nl[i]].decode("utf-8", "replace").replace("\x00", "\\0").rstrip("\r")[:80]

    if has_nul:
        for i in np.unique(np.searchsorted(nl, np.flatnonzero(arr == 0))):
            k = int(buf[starts[i] : nl[i]].count(b"\x00"))
            out[int(i)] = (shown(i), f"{k} NUL byte(s) in the line: corrupted or zero-padded file (a logger stopped mid-write?)")
    if bad_utf8:
        pos = 0
        while pos < len(buf):
            try:
                buf[pos:].decode("utf-8")
                break
            except UnicodeDecodeError as exc:
                at = pos + exc.start
                i = int(np.searchsorted(nl, at))
                if i not in out:
                    out[i] = (shown(i), (f"invalid UTF-8 byte 0x{buf[at]:02x} at column {at - starts[i] + 1}: damaged line "
                                         "(or a log in another encoding; re-save it as UTF-8)"))
                pos = int(nl[i]) + 1 if i < nl.size else len(buf)
    return out


def _without(lines: BlockLines, damaged: dict | None) -> BlockLines:
    """``lines`` with the damaged lines taken out of the rows and the wrong-field-count lines."""
    if not damaged:
        return lines
    idx = np.array(sorted(damaged), dtype=np.int64)
    keep = lines.keep.copy()
    keep[idx] = False
    bad = lines.bad_fields[~np.isin(lines.bad_fields, idx)]
    return BlockLines(keep, bad, lines.field_counts, lines.n_lines, lines.has_quote)


def _is_plain(buf: bytes, comment: str) -> bool:
    """True when ``buf`` has no quote, bare CR or comment character (memchr-speed checks).

    CRLF line ends are fine (the parser takes them as line ends).  Blank lines
    and wrong field counts are caught by the typed parse itself (its row count
    or its error), which sends the block to the line-by-line path.
    """
    if not buf or b'"' in buf:
        return False
    if b"\r" in buf and buf.count(b"\r") != buf.count(b"\r\n"):
        return False
    return not (comment and comment.encode("utf-8")[:1] in buf)


def _typed_read(data: bytes, plan: FilePlan, quoted: bool, multiline: bool = False) -> pa.Table | None:
    """pyarrow's typed CSV parse of clean lines; None when any value or line does not parse."""
    m = plan.mapping
    include = [m.time_column] + list(plan.use)
    for ttype in _time_types(plan):
        try:
            table = pacsv.read_csv(
                io.BytesIO(data),
                read_options=pacsv.ReadOptions(column_names=plan.header, use_threads=True, block_size=1 << 22),
                parse_options=pacsv.ParseOptions(delimiter=m.delimiter, quote_char='"' if quoted else False,
                                                 newlines_in_values=multiline),
                convert_options=pacsv.ConvertOptions(
                    include_columns=include,
                    column_types=_arrow_types(plan, ttype),
                    null_values=list(m.missing),
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                    timestamp_parsers=[m.time_format] if "%" in m.time_format else None,
                ),
            )
            plan.time_type = ttype
            return table
        except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError):
            continue
    return None


def _empty_batch(plan: FilePlan) -> Batch:
    cols = {"time": np.empty(0, np.int64)}
    for src, dst in plan.use.items():
        cols[dst] = np.empty(0) if TARGETS[dst] == "float" else pa.array([], type=pa.string())
    cols["_time_naive"] = np.empty(0, bool)
    return batch_from_columns(cols, np.empty(0, np.int64), plan)


def _from_typed(table: pa.Table, plan: FilePlan) -> dict:
    m = plan.mapping
    cols: dict = {}
    t = table.column(m.time_column).combine_chunks()
    if pa.types.is_timestamp(t.type):
        cols["time"] = pc.fill_null(pc.cast(t, pa.int64()), NAT).to_numpy()
        naive = t.type.tz is None
    else:  # epoch seconds / milliseconds
        v = t.to_numpy(zero_copy_only=False).astype(np.float64)
        scale = 1e9 if m.time_format == "epoch_s" else 1e6
        ok = np.isfinite(v)
        out = np.full(v.shape, NAT, dtype=np.int64)
        out[ok] = np.round(v[ok] * scale).astype(np.int64)
        cols["time"] = out
        naive = False
        note_nonfinite(cols, "time", v, ~np.asarray(t.is_null()))
    cols["_time_naive"] = np.full(table.num_rows, naive)
    for src, dst in plan.use.items():
        a = table.column(src).combine_chunks()
        if TARGETS[dst] == "float":
            cols[dst] = a.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
            note_nonfinite(cols, dst, cols[dst], ~np.asarray(a.is_null()))
        else:
            cols[dst] = a
    return cols


def _split_strings(data: bytes, plan: FilePlan, multiline: bool = False) -> dict[str, list]:
    m = plan.mapping
    want = [m.time_column] + list(plan.use)
    idx = [plan.header.index(c) for c in want]
    out: dict[str, list] = {c: [] for c in want}
    if multiline:  # rows with quoted line breaks: the csv module joins them (lines were checked row by row)
        rows_iter = csv.reader(io.StringIO(data.decode("utf-8", "replace"), newline=""), delimiter=m.delimiter)
    else:
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        rows_iter = (split_line(raw.decode("utf-8", "replace").rstrip("\r"), m.delimiter) or [] for raw in lines)
    for row in rows_iter:
        for c, i in zip(want, idx):
            out[c].append(row[i] if i < len(row) else "")
    return out


def _from_strings(data: bytes, rows_line: np.ndarray, plan: FilePlan, rejects: RejectLog, multiline: bool = False) -> dict:
    """Slow path: parse each value on its own and name the bad ones."""
    m = plan.mapping
    raw = _split_strings(data, plan, multiline)
    n = rows_line.size
    missing = set(m.missing)
    cols: dict = {}
    file = str(plan.path)
    # time
    s = pd.Series(raw[m.time_column][:n], dtype=object)
    absent = s.isna() | s.map(lambda v: v is None or v.strip() in missing)
    naive = np.ones(n, dtype=bool)
    if m.time_format in ("epoch_s", "epoch_ms"):
        v = pd.to_numeric(s, errors="coerce").to_numpy(np.float64)
        scale = 1e9 if m.time_format == "epoch_s" else 1e6
        t = np.where(np.isfinite(v), np.round(np.nan_to_num(v) * scale), 0).astype(np.int64)
        t[~np.isfinite(v)] = NAT
        naive[:] = False
        written = ~absent.to_numpy(bool) & s.fillna("").astype(str).str.strip().str.fullmatch(r"[+-]?(?:nan|inf|infinity)", case=False).to_numpy(bool)
        if written.any():
            note_nonfinite(cols, "time", np.where(written, np.nan, 0.0), written)
            absent = absent | written  # reported once, as non-finite
    elif m.time_format == "iso8601":
        s2 = s.where(~absent, None).astype(object)
        has_off = s2.fillna("").str.contains(r"(?:Z|[+-]\d\d:?\d\d)\s*$", regex=True).to_numpy(bool)
        t = np.full(n, NAT, dtype=np.int64)
        if has_off.any():
            d = pd.to_datetime(s2[has_off], format="ISO8601", utc=True, errors="coerce")
            t[has_off] = d.to_numpy("datetime64[ns]").view(np.int64)
            naive[has_off] = False
        if (~has_off).any():
            d = pd.to_datetime(s2[~has_off], format="ISO8601", errors="coerce")
            t[~has_off] = d.to_numpy("datetime64[ns]").view(np.int64)
    else:
        d = pd.to_datetime(s.where(~absent, None), format=m.time_format, errors="coerce")
        t = d.to_numpy("datetime64[ns]").view(np.int64).copy()
    cols["time"] = t
    cols["_time_naive"] = naive
    bad_t = (t == NAT) & ~absent.to_numpy(bool)
    if bad_t.any():
        vals = s[bad_t].tolist()
        rejects.add(file, rows_line[bad_t], "time", vals, f"unparseable time (expected {m.time_format})", key="unparseable time")
    cols["_bad_rows"] = bad_t
    for src, dst in plan.use.items():
        vals = pd.Series(raw[src][:n], dtype=object)
        miss = vals.map(lambda v: v is None or v.strip() in missing).to_numpy(bool)
        if TARGETS[dst] == "float":
            stripped = vals.where(~miss, None).str.strip()
            num = pd.to_numeric(stripped, errors="coerce").to_numpy(np.float64)
            written_nonfinite = ~miss & stripped.fillna("").str.fullmatch(r"[+-]?(?:nan|inf|infinity)", case=False).to_numpy(bool)
            bad = np.isnan(num) & ~miss & ~written_nonfinite
            if written_nonfinite.any() or np.isinf(num).any():
                note_nonfinite(cols, dst, num, ~miss)
            if bad.any():
                action = "rejected" if dst in ROW_CRITICAL else "cleared"
                if action == "rejected":
                    bad = bad & ~cols["_bad_rows"]
                    cols["_bad_rows"] = cols["_bad_rows"] | bad
                rejects.add(file, rows_line[bad], dst, vals[bad].tolist(), f"{dst}: not a number", action, key=f"{dst} not a number")
                if action == "cleared":
                    cols.setdefault("_cleared", np.zeros(n, bool))
                    cols["_cleared"] |= bad
            cols[dst] = num
        else:
            cols[dst] = pa.array([None if mm else str(v).strip() for v, mm in zip(vals.tolist(), miss)], type=pa.string())
    return cols


# --------------------------------------------------------------------------- parquet


def iter_parquet_batches(path: Path, rejects: RejectLog, batch_rows: int = 1 << 20):
    """Canonical Parquet/GeoParquet samples in row batches (line = 1-based row number)."""
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:
        raise LogFormatError(f"{path}: not a readable Parquet file ({exc})") from None
    names = pf.schema_arrow.names
    for req in ("time", "lat", "lon"):
        if req not in names and not (req in ("lat", "lon") and "geometry" in names):
            raise LogFormatError(f"{path}: required column {req!r} missing; has {names[:12]}")
    row0 = 1
    for rb in pf.iter_batches(batch_size=batch_rows):
        tbl = pa.Table.from_batches([rb])
        n = tbl.num_rows
        cols: dict = {}
        t = tbl.column("time").combine_chunks()
        if pa.types.is_timestamp(t.type):
            naive = t.type.tz is None
            cols["time"] = pc.fill_null(pc.cast(pc.cast(t, pa.timestamp("ns", tz=t.type.tz)), pa.int64()), NAT).to_numpy()
        else:
            raise LogFormatError(f"{path}: column 'time' has type {t.type}, expected a timestamp")
        cols["_time_naive"] = np.full(n, naive)
        if "lat" not in names:
            import shapely

            geom = shapely.from_wkb(tbl.column("geometry").to_numpy(zero_copy_only=False))
            cols["lat"], cols["lon"] = shapely.get_y(geom), shapely.get_x(geom)
        if "connected" in names:  # netqa's own output: True / False / null
            con = tbl.column("connected").combine_chunks()
            cols["_connected"] = pc.fill_null(pc.cast(con, pa.int8()), -1).to_numpy(zero_copy_only=False).astype(np.int8)
        for c in names:
            if c in TARGETS and c != "time":
                a = tbl.column(c).combine_chunks()
                if TARGETS[c] == "float":
                    cols[c] = pc.cast(a, pa.float64()).to_numpy(zero_copy_only=False)
                else:
                    cols[c] = pc.cast(a, pa.string())
        plan = FilePlan(path, builtin_mapping("netqa"), names, 0, 0, {c: c for c in names if c in TARGETS and c != "time"})
        lines = np.arange(row0, row0 + n, dtype=np.int64)
        row0 += n
        yield plan, finish_batch(cols, lines, plan, rejects, None), n
