"""Readers: delimited logs (through a :class:`LogMapping`) and canonical Parquet.

Text logs are read in byte blocks cut at line ends, so memory stays bounded
and every physical line keeps its number.  Within a block, blank lines and
comment lines are dropped, lines with the wrong number of fields are
quarantined (``truncated or malformed line``), and the rest is parsed by
``pyarrow.csv`` with typed columns (the fast path).  When a typed parse fails
(a non-numeric value, a bad timestamp, invalid UTF-8) the block is re-read as
strings and each value is parsed on its own, so the bad cells can be named.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from netqa.errors import LogFormatError
from netqa.ingest.batch import FLAG_BITS, NAT, Batch, RejectLog, constant_dict, dict_array, dict_codes, map_dict, per_value, string_array
from netqa.ingest.mapping import BUILTIN_FORMATS, TARGETS, LogMapping, builtin_mapping, load_mapping

log = logging.getLogger(__name__)

#: Bytes per block read from a text log.
BLOCK_BYTES = 32 << 20

#: Canonical technology names for common log spellings (after the mapping's own value map).
TECH_ALIASES = {
    "NR": "NR", "5G": "NR", "5G NSA": "NR", "5G SA": "NR", "NR5G": "NR",
    "LTE": "LTE", "4G": "LTE", "LTE-A": "LTE", "LTE+": "LTE", "E-UTRA": "LTE",
    "UMTS": "UMTS", "3G": "UMTS", "WCDMA": "UMTS", "HSPA": "UMTS", "HSPA+": "UMTS", "HSDPA": "UMTS", "HSUPA": "UMTS",
    "GSM": "GSM", "2G": "GSM", "EDGE": "GSM", "GPRS": "GSM",
}

#: String columns are parsed straight into dictionary arrays (few distinct values).
DICT_STRING = pa.dictionary(pa.int32(), pa.string())

#: Columns whose unparseable value rejects the row (the rest are cleared to NaN).
ROW_CRITICAL = ("time", "lat", "lon", "rsrp_dbm")


@dataclass
class FilePlan:
    """How one file is read: mapping, header and the columns to take."""

    path: Path
    mapping: LogMapping
    header: list[str]
    header_line: int  # 1-based line number of the header
    data_offset: int  # byte offset of the first line after the header
    use: dict[str, str]  # source -> canonical, present in the file
    constant_tech: str | None = None
    time_type: object = None  # pyarrow type that last parsed the time column
    time_is_naive: bool = True
    extra: dict = field(default_factory=dict)


#: The head of a log is read until it holds this many lines (or the file ends), so a header line longer
#: than the first read is still found whole; at most HEAD_MAX_BYTES.
HEAD_MIN_LINES = 50
HEAD_MAX_BYTES = 64 << 20


def _head_lines(raw: bytes) -> int:
    """Complete lines in ``raw`` that are neither blank nor ``#`` comments (header and data lines)."""
    if raw.count(b"\n") < HEAD_MIN_LINES:
        return raw.count(b"\n")  # short files and short heads: the plain count decides (cheap)
    lines = raw.split(b"\n")[:-1]
    return sum(1 for ln in lines if ln.strip() and not ln.lstrip().startswith(b"#"))


def _decode_head(path: Path, n_bytes: int = 1 << 16) -> tuple[str, bytes]:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(n_bytes)
            while _head_lines(raw) < HEAD_MIN_LINES and len(raw) < HEAD_MAX_BYTES:
                more = fh.read(len(raw))
                if not more:
                    break
                raw += more
    except IsADirectoryError:
        raise LogFormatError(f"{path}: is a folder, not a log file") from None
    except OSError as exc:
        raise LogFormatError(f"{path}: cannot be read ({exc.strerror})") from None
    if not raw.strip():
        raise LogFormatError(f"{path}: file is empty")
    if b"\x00" in raw:
        at = raw.index(b"\x00")
        line = raw[:at].count(b"\n") + 1
        raise LogFormatError(f"{path}: NUL byte at offset {at} (line {line}) in the first "
                             f"{len(raw)} bytes: binary or corrupted content, not a delimited text log (UTF-16 and "
                             "gzip/bzip2/xz/zip are read; this is neither)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(raw) - 4:  # not just a multi-byte char cut at the sniff boundary
            raise LogFormatError(f"{path}: not UTF-8 text (bad byte 0x{raw[exc.start]:02x} at offset {exc.start}); re-save the log as UTF-8") from None
        text = raw[: exc.start].decode("utf-8")
    return text, raw


def _header_of(text: str, raw: bytes, mapping: LogMapping) -> tuple[list[str], int, int] | None:
    """(header names, 1-based header line, byte offset after the header) or None."""
    offset = 0
    for i, line in enumerate(text.splitlines(keepends=True), start=1):
        stripped = line.strip().lstrip("\ufeff")
        offset += len(line.encode("utf-8"))
        if not stripped or (mapping.comment and stripped.startswith(mapping.comment)):
            continue
        if not line.endswith("\n") and offset >= len(raw):
            return None  # header line incomplete
        names = split_line(stripped, mapping.delimiter)
        if names is None:
            return None
        return [n.strip() for n in names], i, offset
    return None


def detect_format(path: str | Path) -> LogMapping:
    """The ready mapping whose ``detect`` columns all appear in the file's header.

    Raises LogFormatError naming the file, its header and the formats tried.
    """
    p = Path(path)
    if p.suffix.lower() in (".parquet", ".geoparquet"):
        return builtin_mapping("netqa")
    text, raw = _decode_head(p)
    tried = []
    for name in BUILTIN_FORMATS:
        m = builtin_mapping(name)
        hdr = _header_of(text, raw, m)
        if hdr and m.matches(hdr[0]):
            return m
        tried.append(f"{name} (needs {', '.join(m.detect)})")
    first = next((ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")), "")[:120]
    raise LogFormatError(
        f"{p}: log format not recognised; header starts {first!r}; tried {'; '.join(tried)}. "
        "Pass --format with a MAPPING.toml that maps this tool's columns onto netqa's"
    )


def resolve_format(fmt: str | None, path: Path) -> LogMapping:
    """``auto`` (detect), a ready format name, or a mapping TOML path."""
    if fmt in (None, "", "auto"):
        return detect_format(path)
    if fmt in BUILTIN_FORMATS:
        return builtin_mapping(fmt)
    if str(fmt).lower().endswith(".toml"):
        return load_mapping(fmt)
    raise LogFormatError(f"--format {fmt!r}: unknown; valid: auto, {', '.join(BUILTIN_FORMATS)} or a MAPPING.toml file")


def plan_file(path: Path, mapping: LogMapping, need_position: bool = True) -> FilePlan:
    """Check the header against the mapping; raise LogFormatError when columns are missing.

    ``need_position=False`` (a ``--track`` gives the positions) lets a log without lat/lon through.
    """
    text, raw = _decode_head(path)
    hdr = _header_of(text, raw, mapping)
    if hdr is None:
        raise LogFormatError(f"{path}: no header line (file truncated or only comments)")
    header, header_line, offset = hdr
    seen: dict[str, int] = {}
    for i, name in enumerate(header):  # make duplicate names unique, as pandas does
        if name in seen:
            seen[name] += 1
            header[i] = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
    if mapping.time_column not in header:
        raise LogFormatError(f"{path}: required time column {mapping.time_column!r} missing ({mapping.name} format); header has {header[:12]}")
    use = mapping.present(header)
    targets = set(use.values())
    for req in ("lat", "lon") if need_position else ():
        if req not in targets:
            srcs = [s for s, d in mapping.columns.items() if d == req]
            raise LogFormatError(f"{path}: required column for {req!r} missing (expected one of {srcs}, {mapping.name} format); "
                                 "a log without positions needs --track TRACK.gpx|TRACK.nmea")
    if not targets & {"rsrp_dbm", "rsrq_db", "sinr_db", "dl_mbps", "ul_mbps"}:
        raise LogFormatError(f"{path}: no measurement column (rsrp_dbm, rsrq_db, sinr_db, dl_mbps or ul_mbps) found for format {mapping.name}")
    constant_tech = None
    if "tech" not in targets:
        constant_tech = next((t for c, t in mapping.tech_from_columns.items() if c in header), None)
    return FilePlan(path, mapping, header, header_line, offset, use, constant_tech)


# --------------------------------------------------------------------------- blocks


def iter_line_blocks(fh, block_bytes: int = BLOCK_BYTES, final: bool = True):
    """Yield byte blocks that end at a line end (about ``block_bytes`` each).

    Each block is one read plus the rest of its last line (``readline``), so
    the data are copied once.  With ``final`` a last line without a newline is
    yielded with one added; otherwise it is held back (a live log's
    half-written line) and returned.
    """
    while True:
        chunk = fh.read(block_bytes)
        if not chunk:
            return b""
        if chunk[-1:] != b"\n":
            tail = fh.readline()
            if tail:
                chunk += tail
        if chunk[-1:] == b"\n":
            yield chunk
            continue
        cut = chunk.rfind(b"\n")  # end of file inside a line
        if cut >= 0:
            yield chunk[: cut + 1]
        carry = chunk[cut + 1 :]
        if final:
            yield carry + b"\n"
            return b""
        return carry


@dataclass
class BlockLines:
    """Line bookkeeping of one block."""

    keep: np.ndarray  # bool per line: a data line with the right field count
    bad_fields: np.ndarray  # indices of lines with the wrong field count
    field_counts: np.ndarray
    n_lines: int
    has_quote: bool
    cont: np.ndarray | None = None  # continuation lines of a quoted field with a line break (part of the row before)


#: A quoted field may span at most this many physical lines (a stray quote must not swallow the file).
MAX_QUOTED_LINES = 20


def scan_block(buf: bytes, delimiter: str, comment: str, n_fields: int, count_fields: bool = True) -> BlockLines:
    """Classify the lines of ``buf`` (which ends with a newline) in vectorised numpy.

    Without ``count_fields`` the fields are not counted when the block has no
    quotes or stray CRs (the typed parse then detects a wrong count itself).
    """
    arr = np.frombuffer(buf, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    n = nl.size
    starts = np.empty(n, dtype=np.int64)
    starts[0:1] = 0
    starts[1:] = nl[:-1] + 1
    ends = nl.copy()
    cr = (ends > starts) & (arr[np.maximum(ends - 1, 0)] == 13)
    ends = ends - cr
    lengths = ends - starts
    # blank = empty or only spaces/tabs (rare): test the first byte, then refine
    first = np.where(lengths > 0, arr[np.minimum(starts, arr.size - 1)], 10)
    blank = lengths == 0
    maybe_ws = ~blank & ((first == 32) | (first == 9))
    for i in np.flatnonzero(maybe_ws):
        blank[i] = not buf[starts[i] : ends[i]].strip()
    is_comment = np.zeros(n, dtype=bool)
    if comment:
        is_comment = (first == ord(comment[0])) & ~blank
    data = ~blank & ~is_comment
    has_quote = bool((arr == 34).any())
    has_cr = int((arr == 13).sum()) > int(cr.sum())  # a bare CR inside a line
    cont = None
    if has_quote or has_cr:
        counts = np.full(n, n_fields, dtype=np.int64)
        skip_to = -1
        for i in np.flatnonzero(data):
            if i <= skip_to:
                continue
            text = buf[starts[i] : ends[i]].decode("utf-8", "replace")
            fields = split_line(text, delimiter)
            if fields is None and text.count('"') % 2 == 1:  # a quoted field with a line break?
                j = _quoted_row_end(buf, starts, ends, i, n, delimiter, n_fields)
                if j > i:
                    if cont is None:
                        cont = np.zeros(n, dtype=bool)
                    cont[i + 1 : j + 1] = True
                    data[i + 1 : j + 1] = False
                    counts[i] = n_fields
                    skip_to = j
                    continue
            counts[i] = -1 if fields is None else len(fields)
    elif not count_fields:
        counts = np.full(n, n_fields, dtype=np.int64)
    else:
        dpos = np.flatnonzero(arr == ord(delimiter))
        counts = np.searchsorted(dpos, ends) - np.searchsorted(dpos, starts) + 1
    has_quote = has_quote or has_cr
    good = data & (counts == n_fields)
    bad = np.flatnonzero(data & (counts != n_fields))
    return BlockLines(good, bad, counts, n, has_quote, cont)


def _quoted_row_end(buf: bytes, starts, ends, i: int, n: int, delimiter: str, n_fields: int) -> int:
    """Last physical line of the row starting at line ``i`` whose quoted field holds line breaks; ``i`` if none fits.

    Lines are joined while the quotes stay unbalanced (at most :data:`MAX_QUOTED_LINES`); the join
    counts only when it parses to exactly ``n_fields`` fields, so a stray quote never swallows rows.
    """
    quotes = 0
    for j in range(i, min(n, i + MAX_QUOTED_LINES)):
        quotes += buf[starts[j] : ends[j]].count(b'"')
        if quotes % 2 == 0:
            text = buf[starts[i] : ends[j]].decode("utf-8", "replace").replace("\r\n", "\n")
            try:
                rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
            except csv.Error:
                return i
            return j if len(rows) == 1 and len(rows[0]) == n_fields else i
    return i


def _filtered_bytes(buf: bytes, keep: np.ndarray) -> bytes:
    if keep.all():
        return buf
    arr = np.frombuffer(buf, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    lens = np.diff(np.concatenate([[-1], nl]))
    return arr[np.repeat(keep, lens)].tobytes()


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
            return _finish(_from_typed(table, plan), first_line + np.arange(n, dtype=np.int64), plan, rejects, tz), n
    table = None
    damaged = _damaged_lines(buf)  # NUL bytes, invalid UTF-8: quarantined with their true cause
    lines = _without(scan_block(buf, m.delimiter, m.comment, len(plan.header), count_fields=False), damaged)
    if not lines.has_quote:  # fast path: trust the field counts unless the typed parse objects
        table = _typed_read(_filtered_bytes(buf, lines.keep), plan, quoted=False)
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
        data = _filtered_bytes(buf, lines.keep[row_of])
    else:
        data = _filtered_bytes(buf, lines.keep)
    if table is None:
        table = _typed_read(data, plan, quoted=lines.has_quote, multiline=multiline)
    if table is not None and table.num_rows == rows_line.size:
        cols = _from_typed(table, plan)
    else:
        cols = _from_strings(data, rows_line, plan, rejects, multiline=multiline)
    return _finish(cols, rows_line, plan, rejects, tz), n_read


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
    return _finish_cols(cols, np.empty(0, np.int64), plan)


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
        _note_nonfinite(cols, "time", v, ~np.asarray(t.is_null()))
    cols["_time_naive"] = np.full(table.num_rows, naive)
    for src, dst in plan.use.items():
        a = table.column(src).combine_chunks()
        if TARGETS[dst] == "float":
            cols[dst] = a.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
            _note_nonfinite(cols, dst, cols[dst], ~np.asarray(a.is_null()))
        else:
            cols[dst] = a
    return cols


def _note_nonfinite(cols: dict, name: str, values: np.ndarray, present: np.ndarray) -> None:
    """Remember the values written as text NaN / inf / Infinity (present, not a missing marker, yet not finite)."""
    with np.errstate(invalid="ignore"):
        bad = present & ~np.isfinite(values)
    if bad.any():
        cols.setdefault("_nonfinite", {})[name] = (bad, values[bad])


def _settle_nonfinite(cols: dict, rows_line: np.ndarray, plan: FilePlan, rejects: RejectLog) -> None:
    """A non-finite number is never a silent missing value: the row is rejected (time, position, RSRP)
    or the value cleared and flagged, with a reason in the rejects file."""
    nonfinite = cols.pop("_nonfinite", None)
    if not nonfinite:
        return
    n = rows_line.size
    file = str(plan.path)
    for name, (bad, vals) in nonfinite.items():
        text = [format(float(v)) for v in vals]
        reason = f"{name}: non-finite value (NaN or infinity written in the log) is not a measurement"
        if name in ROW_CRITICAL:
            prior = cols.get("_bad_rows", np.zeros(n, bool))
            new = bad & ~prior
            rejects.add(file, rows_line[new], name, np.asarray(text, dtype=object)[new[bad]], reason, key=f"{name} non-finite")
            cols["_bad_rows"] = prior | bad
        else:
            keep = ~cols.get("_bad_rows", np.zeros(n, bool))[bad]  # rows already rejected need no clearing
            bad = bad & ~cols.get("_bad_rows", np.zeros(n, bool))
            rejects.add(file, rows_line[bad], name, np.asarray(text, dtype=object)[keep], reason + "; cleared", "cleared", key=f"{name} non-finite")
            col = cols[name].copy()
            col[bad] = np.nan
            cols[name] = col
            cols.setdefault("_flags_extra", np.zeros(n, np.int32))
            cols["_flags_extra"] |= np.where(bad, FLAG_BITS.get(name, FLAG_BITS["other"]), 0).astype(np.int32)


def split_line(text: str, delimiter: str) -> list[str] | None:
    """Fields of one physical line (quotes honoured, no multi-line fields); None if unparseable."""
    if "\r" in text or "\x00" in text:
        return None
    try:
        return next(csv.reader([text], delimiter=delimiter, strict=True), [])
    except csv.Error:
        return None


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
            _note_nonfinite(cols, "time", np.where(written, np.nan, 0.0), written)
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
                _note_nonfinite(cols, dst, num, ~miss)
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


def _localize(t: np.ndarray, naive: np.ndarray, tz: str) -> np.ndarray:
    """Convert naive local times (int64 ns) in zone ``tz`` to UTC; NaT where ambiguous."""
    sel = naive & (t != NAT)
    if not sel.any() or tz.upper() == "UTC":
        return t
    out = t.copy()
    idx = pd.DatetimeIndex(t[sel].view("datetime64[ns]"))
    try:
        loc = idx.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    except Exception as exc:  # unknown zone name
        raise LogFormatError(f"time zone {tz!r} is not known ({exc}); use an IANA name such as Europe/Dublin") from None
    out[sel] = loc.tz_convert("UTC").tz_localize(None).to_numpy("datetime64[ns]").view(np.int64)
    return out


def _map_values(arr: pa.Array, table: dict[str, str], canonical: dict[str, str] | None = None) -> tuple[pa.Array, np.ndarray]:
    """Map a string column through ``table`` then ``canonical``; return (mapped dictionary array, unknown mask).

    The mapping runs once per distinct value, never per row.
    """
    codes, uniq = dict_codes(arr)
    mapped, unknown = [], []
    for u in uniq:
        v = table.get(u, u) if table else u
        if canonical is not None:
            key = v.strip().upper() if isinstance(v, str) else v
            c = canonical.get(key)
            unknown.append(c is None)
            v = c
        else:
            unknown.append(False)
        mapped.append(v)
    lut = dict(zip(uniq, mapped))
    out = map_dict(arr, lut.get)
    unk = np.asarray(unknown + [False], dtype=bool)
    return out, unk[codes]


def _finish(cols: dict, rows_line: np.ndarray, plan: FilePlan, rejects: RejectLog, tz: str | None) -> Batch:
    m = plan.mapping
    _settle_nonfinite(cols, rows_line, plan, rejects)
    zone = tz or m.timezone
    naive = cols.pop("_time_naive")
    t = cols["time"]
    if zone.lower() == "local":  # the log's local time in a zone nobody stated: the documented default, UTC
        zone = "UTC"
        n_assumed = int((naive & (t != NAT)).sum())
        if n_assumed:
            plan.extra["tz_assumed_utc"] = plan.extra.get("tz_assumed_utc", 0) + n_assumed
    if zone and zone.upper() != "UTC":
        t2 = _localize(t, naive, zone)
        amb = (t2 == NAT) & (t != NAT)
        if amb.any():
            vals = pd.DatetimeIndex(t[amb].view("datetime64[ns]")).astype(str).tolist()
            rejects.add(str(plan.path), rows_line[amb], "time", vals, f"ambiguous or non-existent local time in {zone} (daylight-saving change)")
            cols["_bad_rows"] = cols.get("_bad_rows", np.zeros(t.size, bool)) | amb
        cols["time"] = t2
    for dst, factor in m.scale.items():
        if dst in cols and isinstance(cols[dst], np.ndarray) and factor != 1.0:
            cols[dst] = cols[dst] * factor
    for dst, add_db in m.offset.items():
        if dst in cols and isinstance(cols[dst], np.ndarray) and add_db:
            cols[dst] = cols[dst] + add_db
    batch = _finish_cols(cols, rows_line, plan)
    return batch


def _finish_cols(cols: dict, rows_line: np.ndarray, plan: FilePlan) -> Batch:
    m = plan.mapping
    n = rows_line.size
    flags = np.zeros(n, dtype=np.int32)
    if "_cleared" in cols:
        flags[cols.pop("_cleared")] |= 128
    if "_flags_extra" in cols:
        flags |= cols.pop("_flags_extra")
    bad = cols.pop("_bad_rows", None)
    if "tech" in cols:
        mapped, unknown = _map_values(cols["tech"], m.values.get("tech", {}), TECH_ALIASES)
        cols["tech"] = mapped
        cols["_tech_unknown"] = unknown
    else:
        cols["tech"] = constant_dict(plan.constant_tech, n)
    for name in ("session", "cell_id", "state", "call_state", "serving"):
        if name in cols:
            cols[name] = dict_array(string_array(cols[name]))
            if name == "cell_id":  # '11016972.0' from a float-typed export -> '11016972'
                cols[name] = map_dict(cols[name], _int_id)
    for name, table in m.values.items():
        if name != "tech" and name in cols and not isinstance(cols[name], np.ndarray):
            cols[name], _ = _map_values(cols[name], table)
    connected, activity = _state_columns(cols.get("state"), m, n)
    given_conn = cols.pop("_connected", None)
    if "activity" in cols:  # an explicit activity column (netqa's own CSV/Parquet) fills what the state leaves open
        act_codes = per_value(cols["activity"], lambda v: ACTIVITY_ALIASES.get(v.strip().lower(), -1), -1, np.int32)
        state_codes = pc.fill_null(activity.indices, -1).to_numpy(zero_copy_only=False)
        act_codes = np.where(state_codes >= 0, state_codes, act_codes)
        mask = act_codes < 0
        activity = pa.DictionaryArray.from_arrays(pa.array(act_codes, mask=mask if mask.any() else None), pa.array(ACTIVITIES, type=pa.string()))
        connected = np.where(connected >= 0, connected, np.array([1, 1, 0, -1], dtype=np.int8)[act_codes])
    if given_conn is not None:
        connected = np.where(connected >= 0, connected, given_conn).astype(np.int8)
    cols["connected"], cols["activity"] = connected, activity
    cols["value_flags"] = flags
    if bad is not None:
        cols["_bad_rows"] = bad
    return Batch(cols, rows_line)


_INT_FLOAT = re.compile(r"^(-?\d+)\.0*$")
_DIGITS = re.compile(r"^\d+$")
_EXP = re.compile(r"^\d+(?:\.\d+)?[eE]\+?\d+$")


def normalise_cell_id(v) -> str | None:
    """One spelling of a cell id, used on both sides of the match (log and cell table).

    Surrounding spaces and quotes go; an integer written as a float by a
    spreadsheet or a NaN-holding pandas column (``7936001.0``, ``7.936001e+06``)
    becomes the integer; leading zeros of an all-digit id go (``007936001``),
    as any numeric reader drops them.  Other ids (hex ``A81B``, OpenCelliD's
    ``272-1-...``) are kept as they are.  Empty -> None.

    >>> [normalise_cell_id(x) for x in (" 7936001.0 ", "007936001", "7.936001e+06", "A81B", "", '"12"')]
    ['7936001', '7936001', '7936001', 'A81B', None, '12']
    """
    if v is None:
        return None
    t = str(v).strip().strip('"').strip("'").strip()
    if not t or t.lower() in ("nan", "none", "<na>"):
        return None
    m = _INT_FLOAT.match(t)
    if m:
        t = m.group(1)
    elif _EXP.match(t):
        f = float(t)
        if f.is_integer():
            t = str(int(f))
    if _DIGITS.match(t):
        t = t.lstrip("0") or "0"
    return t


def _int_id(v: str) -> str | None:
    return normalise_cell_id(v)


#: Activity codes of the ``activity`` column.
ACTIVITIES = ("download", "upload", "idle")
#: Spellings accepted in an explicit ``activity`` column -> index in ACTIVITIES.
ACTIVITY_ALIASES = {"download": 0, "dl": 0, "d": 0, "upload": 1, "ul": 1, "u": 1, "idle": 2, "i": 2}


def _state_columns(state, m: LogMapping, n: int) -> tuple[np.ndarray, pa.Array]:
    """(connected int8: 1 / 0 / -1 unknown, activity: download / upload / idle / null) from the state column."""
    if state is None or not m.state:
        return np.full(n, -1, dtype=np.int8), constant_dict(None, n)
    codes, uniq = dict_codes(state)
    uniq = [u.strip() for u in uniq]
    con = set(m.state.get("connected", ())) | set(m.state.get("download", ())) | set(m.state.get("upload", ()))
    idle = set(m.state.get("idle", ()))
    conn_u = np.array([1 if u in con else (0 if u in idle else -1) for u in uniq] + [-1], dtype=np.int8)
    act_u = np.array([(0 if u in m.state.get("download", ()) else 1 if u in m.state.get("upload", ()) else 2 if u in idle else -1)
                      for u in uniq] + [-1], dtype=np.int32)
    act = act_u[codes]
    mask = act < 0
    activity = pa.DictionaryArray.from_arrays(pa.array(act, mask=mask if mask.any() else None), pa.array(ACTIVITIES, type=pa.string()))
    return conn_u[codes], activity


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
        yield plan, _finish(cols, lines, plan, rejects, None), n
