"""Mapping assistant: guess a log mapping TOML from a CSV export's header and first rows.

``netqa ingest FILE --suggest-mapping OUT.toml`` writes a commented mapping in
the format of :mod:`netqa.ingest.mapping` for the user to check, edit and pass
back with ``--format OUT.toml``.  What is guessed, and from what:

* **delimiter** — the one of ``,`` ``;`` tab ``|`` that splits the header and
  the first rows into the same number of fields (most fields wins);
* **columns** — header names in the spellings of common tools (TEMS
  Discovery ``All-Latitude``, QualiPoc ``LTE RSRP [dBm]``, XCAL
  ``LTE KPI PCell Serving RSRP[dBm]``, NetMonster ``ssRsrp``, G-NetTrack
  ``DL_bitrate`` ...), compared after lower-casing and dropping punctuation
  and the unit in brackets; neighbour columns (``nbr``, ``neighbour``,
  ``ncell``) go to ``nbr_*`` only;
* **units** — from the bracketed unit in the name (``[kbps]``, ``(m/s)``);
  a throughput column without one whose median exceeds 2000 is guessed to be
  kbit/s, and the comment says so;
* **time format** — the first of ISO 8601, epoch s/ms and common day-first /
  month-first / dotted patterns that parses every sampled value; a
  day/month order that the values cannot decide is flagged;
* **decimal mark** — values such as ``-95,5`` in a ``;`` file mean a decimal
  comma, which netqa's reader does not convert: the comment says to re-export.

Nothing guessed is trusted silently: every line carries a comment saying what
it was guessed from, and unrecognised columns are listed, commented out.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from netqa.errors import LogFormatError
from netqa.fileio import check_output, write_text_atomic

#: Rows sampled to guess formats.
N_SAMPLE = 200

#: (canonical, exact normalised aliases) - checked first.
ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("time", "timestamp", "datetime", "date time", "utc", "time utc", "gps time", "utc time", "time stamp", "devicetime", "date and time"),
    "lat": ("lat", "latitude", "all latitude", "gps latitude", "gps lat", "y"),
    "lon": ("lon", "lng", "long", "longitude", "all longitude", "gps longitude", "gps lon", "x"),
    "speed_kmh": ("speed", "velocity", "gps speed", "speed kmh", "all speed"),
    "tech": ("tech", "technology", "rat", "network type", "networktype", "networkmode", "network mode", "network tech", "network", "system", "access technology"),
    "cell_id": ("cell id", "cellid", "cid", "ci", "eci", "ecgi", "nci", "nr cell id", "eutran cell id", "rawcellid", "serving cell id", "cell identity", "cgi"),
    "pci": ("pci", "pcid", "physical cell id", "serving pci", "lte pci", "nr pci", "lte serving pci"),
    "earfcn": ("earfcn", "dl earfcn", "arfcn", "nrarfcn", "nr arfcn", "channel", "uarfcn", "dl channel"),
    "session": ("session", "logfile", "log file", "file", "filename", "file name", "test"),
}

#: (canonical, required word(s), words that veto) - the contains rules, in order.
KEYWORDS: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("rsrp_dbm", ("rsrp",), ()),
    ("rsrq_db", ("rsrq",), ()),
    ("sinr_db", ("sinr",), ()),
    ("sinr_db", ("rssnr",), ()),
    ("sinr_db", ("snr",), ()),
    ("sinr_db", ("cinr",), ()),
    ("rssi_dbm", ("rssi",), ()),
    ("cqi", ("cqi",), ()),
    ("dl_mbps", ("dl", "throughput"), ()),
    ("dl_mbps", ("dl", "bitrate"), ()),
    ("dl_mbps", ("dl", "tput"), ()),
    ("dl_mbps", ("downlink",), ()),
    ("dl_mbps", ("pdsch", "throughput"), ()),
    ("ul_mbps", ("ul", "throughput"), ()),
    ("ul_mbps", ("ul", "bitrate"), ()),
    ("ul_mbps", ("ul", "tput"), ()),
    ("ul_mbps", ("uplink",), ()),
    ("ul_mbps", ("pusch", "throughput"), ()),
    ("pci", ("pci",), ()),
    ("earfcn", ("earfcn",), ()),
    ("earfcn", ("arfcn",), ()),
]
NEIGHBOUR = ("nbr", "neighbor", "neighbour", "ncell", "nrx", "neigh", "n1")
UNIT_WORDS = {"kbps": "kbit/s", "kbit/s": "kbit/s", "kb/s": "kbit/s", "mbps": "mbit/s", "mbit/s": "mbit/s",
              "bps": "bit/s", "bit/s": "bit/s", "gbps": "gbit/s", "km/h": "km/h", "kmh": "km/h", "m/s": "m/s", "mph": "mph"}

TIME_PATTERNS = ["%Y.%m.%d_%H.%M.%S", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M:%S.%f", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M:%S.%f",
                 "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M:%S.%f", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S.%f",
                 "%d-%m-%Y %H:%M:%S", "%Y%m%d%H%M%S", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M"]


@dataclass
class Suggestion:
    """The guesses for one file and the comments that explain them."""

    source: str
    delimiter: str
    comment: str
    header: list[str]
    columns: dict[str, str] = field(default_factory=dict)  # source -> canonical
    why: dict[str, str] = field(default_factory=dict)  # source -> comment
    units: dict[str, tuple[str, str]] = field(default_factory=dict)  # canonical -> (unit, why)
    time_column: str | None = None
    time_format: str | None = None
    time_note: str = ""
    missing: list[str] = field(default_factory=lambda: [""])
    tech_from_columns: dict[str, str] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _norm(name: str) -> tuple[str, str | None]:
    """(normalised name, unit in brackets or None): ``'DL Throughput [kbps]'`` -> ``('dl throughput', 'kbit/s')``."""
    unit = None
    m = re.search(r"[\[(]\s*([^\])]+?)\s*[\])]", name)
    if m:
        unit = UNIT_WORDS.get(m.group(1).strip().lower())
        name = name[: m.start()] + " " + name[m.end():]
    s = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)  # camelCase -> words (ssRsrp -> ss Rsrp)
    s = re.sub(r"[^0-9a-z]+", " ", s.lower()).strip()
    return s, unit


def _words(s: str) -> set[str]:
    return set(s.split())


def _match(name: str) -> tuple[str | None, str]:
    s, _ = _norm(name)
    w = _words(s)
    if w & set(NEIGHBOUR) or any(s.startswith(p) for p in ("nbr", "neigh", "nrx")):
        for dst, key in (("nbr_rsrp_dbm", "rsrp"), ("nbr_rsrq_db", "rsrq")):
            if key in s:
                return dst, f"neighbour {key.upper()} ('{name}')"
        return None, "a neighbour column with no canonical counterpart"
    for dst, aliases in ALIASES.items():
        if s in aliases:
            return dst, f"name '{name}'"
    for dst, need, veto in KEYWORDS:
        if all((k in w) or (len(k) > 3 and k in s) for k in need) and not (w & set(veto)):
            return dst, f"'{'+'.join(need)}' in '{name}'"
    return None, "not recognised"


def _sniff(text: str) -> tuple[str, str, list[str], list[list[str]]]:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    comment = "#" if lines and lines[0].lstrip().startswith("#") else ""
    data = [ln for ln in lines if not (comment and ln.lstrip().startswith(comment))]
    if not data:
        raise LogFormatError("no header line")
    best = None
    for d in (",", ";", "\t", "|"):
        rows = list(csv.reader(io.StringIO("\n".join(data[:50])), delimiter=d))
        n = len(rows[0])
        consistent = sum(len(r) == n for r in rows[1:])
        score = (n > 1, consistent, n)
        if best is None or score > best[0]:
            best = (score, d, rows)
    _, d, _ = best
    rows = list(csv.reader(io.StringIO("\n".join(data[: N_SAMPLE + 1])), delimiter=d))
    header = [h.strip().lstrip("\ufeff") for h in rows[0]]
    return d, comment, header, [r for r in rows[1:] if len(r) == len(header)]


def _guess_time(values: list[str]) -> tuple[str | None, str]:
    vals = [v.strip() for v in values if v.strip()][:N_SAMPLE]
    if not vals:
        return None, "no values to guess the time format from"
    num = pd.to_numeric(pd.Series(vals), errors="coerce")
    if num.notna().all():
        med = float(num.median())
        if med > 1e11:
            return "epoch_ms", f"numbers around {med:.0f}: milliseconds since 1970"
        if med > 1e8:
            return "epoch_s", f"numbers around {med:.0f}: seconds since 1970"
        return None, f"numbers around {med:g} are not epoch times; set [time] format by hand"
    if re.match(r"^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", vals[0]):
        return None, "time of day only (no date): netqa needs date and time in one column; re-export with a date"
    if all(re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", v) for v in vals):
        return "iso8601", f"ISO 8601 values such as '{vals[0]}'"
    ok = []
    for pat in TIME_PATTERNS:
        parsed = pd.to_datetime(pd.Series(vals), format=pat, errors="coerce")
        if parsed.notna().all():
            ok.append(pat)
    if not ok:
        return None, f"values such as '{vals[0]}' match no known pattern; set [time] format (strftime) by hand"
    pat = ok[0]
    note = f"values such as '{vals[0]}'"
    if "%d/%m" in pat and any("%m/%d" in p for p in ok):
        note += "; CHECK: day/month order cannot be told from these values (day-first assumed)"
    return pat, note


def suggest_mapping(path) -> Suggestion:
    """Guess a mapping for the delimited log ``path`` (see the module docstring)."""
    p = Path(path)
    try:
        raw = p.read_bytes()[: 1 << 20]
    except OSError as exc:
        raise LogFormatError(f"{p}: cannot be read ({exc.strerror})") from None
    warnings = []
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
        warnings.append("the file is not UTF-8 (read as Latin-1 here); re-save it as UTF-8 before ingesting")
    if "\n" in text and len(raw) == 1 << 20:
        text = text[: text.rfind("\n")]
    try:
        delim, comment, header, rows = _sniff(text)
    except LogFormatError as exc:
        raise LogFormatError(f"{p}: {exc}") from None
    sug = Suggestion(str(p), delim, comment, header, warnings=warnings)
    cols = {h: [r[i] for r in rows] for i, h in enumerate(header)}
    taken: dict[str, str] = {}
    for h in header:
        dst, why = _match(h)
        if dst is None:
            sug.unmapped.append(h)
            sug.why[h] = why
            continue
        if dst in taken:
            sug.unmapped.append(h)
            sug.why[h] = f"also looks like {dst} (taken by '{taken[dst]}')"
            continue
        taken[dst] = h
        sug.columns[h] = dst
        sug.why[h] = why
    marks = sorted({v.strip() for vs in cols.values() for v in vs if v.strip() in ("-", "NaN", "nan", "N/A", "n/a", "null", "NULL", "--")})
    sug.missing = [""] + marks
    for h, dst in sug.columns.items():
        unit = _norm(h)[1]
        vals = pd.to_numeric(pd.Series([v for v in cols[h] if v.strip() not in sug.missing]), errors="coerce")
        if dst.endswith("_mbps"):
            if unit and unit != "mbit/s":
                sug.units[dst] = (unit, f"unit '{unit}' in the column name")
            elif unit is None and vals.notna().any() and float(vals.median()) > 2000:
                sug.units[dst] = ("kbit/s", f"CHECK: no unit in the name and the median is {float(vals.median()):.0f}, too high for Mbit/s")
            elif unit is None:
                sug.why[h] += "; no unit in the name: Mbit/s assumed, CHECK"
        elif dst == "speed_kmh" and unit and unit != "km/h":
            sug.units[dst] = (unit, f"unit '{unit}' in the column name")
        elif dst == "speed_kmh" and unit is None:
            sug.why[h] += "; no unit in the name: km/h assumed, CHECK"
        if delim == ";" and dst not in ("time", "tech", "cell_id", "session"):
            commas = [v for v in cols[h] if re.fullmatch(r"-?\d+,\d+", v.strip())]
            if commas:
                sug.warnings.append(f"column '{h}' has decimal commas (e.g. '{commas[0]}'); netqa reads '.' decimals only: "
                                    "re-export with a '.' decimal mark (or ',' never as decimal) before ingesting")
    by_dst = {d: h for h, d in sug.columns.items()}
    for a, b in (("dl_mbps", "ul_mbps"), ("ul_mbps", "dl_mbps")):  # a unit-less twin follows its guessed counterpart
        if a in sug.units and b in by_dst and b not in sug.units and _norm(by_dst[b])[1] is None:
            sug.units[b] = (sug.units[a][0], f"CHECK: no unit in the name; taken like '{by_dst[a]}'")
            sug.why[by_dst[b]] = sug.why[by_dst[b]].replace("; no unit in the name: Mbit/s assumed, CHECK", "")
    t = next((h for h, d in sug.columns.items() if d == "time"), None)
    sug.time_column = t
    if any(_norm(h)[0] == "date" for h in header):
        sug.warnings.append("date and time seem to be in separate columns; netqa needs both in one column: re-export them joined")
    if t is None:
        sug.warnings.append("no time column recognised: set [time] column by hand")
    else:
        sug.time_format, sug.time_note = _guess_time(cols[t])
        if sug.time_format is None:
            sug.warnings.append(f"time column '{t}': {sug.time_note}")
    if "tech" not in taken:
        m = next((h for h, d in sug.columns.items() if d == "rsrp_dbm"), None)
        if m is not None:
            s = _norm(m)[0]
            tech = "NR" if re.search(r"\b(nr|5g|ss)\b", s) else "LTE"
            sug.tech_from_columns[m] = tech
    for need in ("lat", "lon"):
        if need not in taken:
            sug.warnings.append(f"no {need} column recognised: map it, or ingest with --track TRACK.gpx")
    if not set(taken) & {"rsrp_dbm", "rsrq_db", "sinr_db", "dl_mbps", "ul_mbps"}:
        sug.warnings.append("no measurement column (RSRP, RSRQ, SINR, throughput) recognised")
    return sug


def _q(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def render_toml(sug: Suggestion) -> str:
    """The suggestion as a commented mapping TOML (the format of :mod:`netqa.ingest.mapping`)."""
    name = re.sub(r"[^0-9A-Za-z_]+", "_", Path(sug.source).stem) or "mylog"
    out = [f"# Mapping suggested by `netqa ingest {Path(sug.source).name} --suggest-mapping` from the header and first rows.",
           "# CHECK every line, then ingest with:  netqa ingest LOG --format THIS.toml --out SAMPLES.parquet",
           "# Canonical names: see README 'Log mappings' (time, lat, lon, rsrp_dbm, rsrq_db, sinr_db, dl_mbps, ...)."]
    for w in sug.warnings:
        out.append(f"# WARNING: {w}")
    detect = [h for h, d in sug.columns.items() if d in ("time", "lat", "lon", "rsrp_dbm")]
    delim = "\\t" if sug.delimiter == "\t" else sug.delimiter
    out += ["", "[format]", f"name = {_q(name)}",
            f"delimiter = {_q(delim)}   # guessed: splits the header and rows into {len(sug.header)} fields",
            f"comment = {_q(sug.comment)}",
            f"missing = [{', '.join(_q(m) for m in sug.missing)}]   # markers seen in the first rows, plus empty",
            f"detect = [{', '.join(_q(h) for h in detect)}]", "", "[time]"]
    if sug.time_column:
        out.append(f"column = {_q(sug.time_column)}")
    else:
        out.append('# column = ""   # no time column recognised: set it')
    if sug.time_format:
        out.append(f"format = {_q(sug.time_format)}   # guessed from {sug.time_note}")
    else:
        out.append(f'# format = ""   # {sug.time_note or "not guessed"}')
    out += ['timezone = "UTC"   # zone of times without an offset; or pass --tz', "", "[columns]   # source column = canonical name"]
    for h, d in sug.columns.items():
        if d == "time":
            continue
        out.append(f"{_q(h)} = {_q(d)}   # {sug.why[h]}")
    for h in sug.unmapped:
        out.append(f"# {_q(h)} = \"\"   # {sug.why[h]}")
    if sug.units:
        out += ["", "[units]   # source unit of a canonical column"]
        for d, (u, why) in sug.units.items():
            out.append(f"{d} = {_q(u)}   # {why}")
    if sug.tech_from_columns:
        out += ["", "[tech_from_columns]   # no technology column: the RAT of every row, from the measurement column's name"]
        for h, t in sug.tech_from_columns.items():
            out.append(f"{_q(h)} = {_q(t)}")
    return "\n".join(out) + "\n"


def write_suggestion(path, out, overwrite: bool = False) -> Suggestion:
    """Guess a mapping for ``path`` and write it to ``out`` (TOML, atomically)."""
    check_output(out, overwrite)
    sug = suggest_mapping(path)
    write_text_atomic(out, render_toml(sug))
    return sug
