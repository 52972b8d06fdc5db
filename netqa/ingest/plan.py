"""Planning the read of one log: its format (auto-detected or mapped), header, delimiter and the columns to use."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from netqa.errors import LogFormatError
from netqa.ingest.mapping import BUILTIN_FORMATS, LogMapping, builtin_mapping, load_mapping

from netqa.ingest.blocks import split_line

log = logging.getLogger("netqa.ingest.reader")


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
