"""Keysight (Anite) Nemo measurement files (``.nmf``): header, GPS, LTE cells, throughput, calls, handovers.

Source: "Nemo File Format" specification (Anite Finland / Keysight, versions
2.03 to 2.30, chapter 3 "Description of the file format": every line is one
event, ``EVENT_ID,time,context IDs,parameters``, comma separated, strings in
double quotes; header lines start with ``#``).  The full text of the
specification was not readable through the project's search tools (only its
title pages and table of contents), so the record layouts below were taken
from that structure and checked field by field against public Nemo Outdoor
7.7 files in format 2.26 (github.com/tchiayan/nemoparser, ``server-test/``);
``tests/data/logs/nemo/README.md`` says the same.

Records read (others are skipped; ``p`` = parameters after the context IDs):

=========  ==============================================================  ===========================
record     layout                                                          becomes
=========  ==============================================================  ===========================
#START     ``#START,time,,"d.m.yyyy"``                                      date of the first record
#UT        ``#UT,,,offset_min,...``  local time minus UTC [min]             time zone (``--tz`` wins)
#DN, #HW   device name, hardware                                            logged
GPS        ``GPS,time,,lon,lat,height_m,distance_m,fix,satellites,...``    the positions (a track)
CELLMEAS   ``system,#hdr,hdr...,#cells,#params/cell,cells...``; LTE FDD   one sample per record
           (7) / TDD (8) cell: ``type,band,earfcn,pci,rssi,rsrp,rsrq,...`` with a serving cell
           (type 0 = serving, others = neighbours)
CI         ``system,#hdr,cinr_db,...`` (LTE)                                ``sinr_db`` (nearest, 1 s)
DRATE      ``#ctx,ctx..,protocol,ul_bit/s,dl_bit/s,ul_bytes,dl_bytes``      ``dl_mbps``/``ul_mbps`` (1 s)
CAA        call attempt                                                     ``call_attempt``
CAF        call attempt failed                                              ``call_setup_failure``
CAD        ``system,call type,status,cause``; status 2 = dropped            ``call_drop``/``call_end``
HOA/HOS/   handover attempt / success / failure                             ``ho_attempt``/``ho_success``
HOF                                                                         /``ho_failure``
=========  ==============================================================  ===========================

Times are local (``#UT`` gives the offset); a time earlier than the previous
record's by more than 12 h is taken as the next day.  Samples are placed on
the GPS records as on a ``--track`` (:mod:`netqa.ingest.track`: interpolation
only between fixes at most ``max_gap_s`` apart); a sample the GPS cannot place
is quarantined with the reason.  A CELLMEAS record of another system (GSM,
UMTS, NR: layouts not verified) or without a serving cell, and a malformed
record, go to the rejects file with the reason; ``read`` counts the CELLMEAS
records, so ``read == accepted + rejected`` holds.
"""

from __future__ import annotations

import csv
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from netqa.errors import LogFormatError
from netqa.ingest.batch import NAT, Batch, RejectLog
from netqa.ingest.track import DEFAULT_MAX_GAP_S, Track

log = logging.getLogger(__name__)

NS = 1_000_000_000
#: Nemo system codes read as LTE cell measurements.
LTE_SYSTEMS = {7: "LTE FDD", 8: "LTE TDD"}
#: Names of other system codes, for the reject reasons.
OTHER_SYSTEMS = {1: "GSM", 2: "TETRA", 5: "UMTS FDD", 6: "UMTS TD-SCDMA", 10: "cdmaOne", 11: "CDMA 1x", 12: "EVDO", 20: "WLAN", 25: "WiMAX"}
#: A CI or DRATE record further than this from a sample is not attached to it [s].
ATTACH_S = 1.0
#: CAD disconnect status meaning "dropped".
CAD_DROPPED = 2
EVENT_IDS = {"CAA": "call_attempt", "CAF": "call_setup_failure", "HOA": "ho_attempt", "HOS": "ho_success", "HOF": "ho_failure"}


@dataclass
class NemoHeader:
    """What the ``#`` lines say."""

    format_version: str | None = None
    device: str | None = None
    hardware: str | None = None
    start_date: pd.Timestamp | None = None
    utc_offset_min: float | None = None
    extra: dict = field(default_factory=dict)


def is_nemo(path) -> bool:
    """True for a ``.nmf`` file, or a text file whose first line is a Nemo ``#`` header record."""
    p = Path(path)
    if p.suffix.lower() == ".nmf":
        return True
    try:
        with open(p, "rb") as fh:
            head = fh.read(256).decode("utf-8", "replace").lstrip("\ufeff")
    except OSError:
        return False
    return head.startswith(("#PRODUCT,", "#FF,", "#AG,", "#START,"))


def _f(x: str) -> float:
    x = x.strip()
    return float(x) if x else math.nan


def _tod_ns(text: str) -> int:
    """``hh:mm:ss.sss`` -> ns since midnight; raises ValueError."""
    h, m, s = text.strip().split(":")
    v = (int(h) * 3600 + int(m) * 60 + float(s)) * NS
    if not (0 <= v < 86400 * NS + NS):
        raise ValueError(text)
    return round(v)


def _params(f: list[str]) -> list[str]:
    """Parameters after ``EVENT,time,#ctx,ctx...`` (an empty #ctx field means no context IDs)."""
    n = f[2].strip()
    k = int(n) if n else 0
    return f[3 + k:]


@dataclass
class NemoLog:
    """One parsed file: samples (a :class:`Batch` before validation), events, header, counts."""

    batch: Batch
    events: pd.DataFrame
    header: NemoHeader
    track: Track
    n_read: int


def read_nemo(path, rejects: RejectLog, tz: str | None = None, track: Track | None = None,
              max_gap_s: float = DEFAULT_MAX_GAP_S) -> NemoLog:
    """Parse a Nemo ``.nmf`` file into canonical sample columns and events.

    Parameters
    ----------
    path : path
        The ``.nmf`` file.
    rejects : RejectLog
        Receives the quarantined CELLMEAS records, with reasons.
    tz : str, optional
        IANA zone of the file's local times; overrides the ``#UT`` offset.
    track : Track, optional
        Positions from an external ``--track`` instead of the file's GPS records.
    max_gap_s : float
        Longest gap between GPS fixes interpolated across. [s]
    """
    p = Path(path)
    file = str(p)
    hdr = NemoHeader()
    day = None  # ns of the current day's midnight (local)
    last_tod = None
    gps_t, gps_lat, gps_lon, gps_fix = [], [], [], []
    s_line, s_t, s_cols = [], [], {k: [] for k in ("rsrp_dbm", "rsrq_db", "rssi_dbm", "pci", "earfcn", "nbr_rsrp_dbm", "nbr_rsrq_db")}
    ci_t, ci_v, dr_t, dr_dl, dr_ul = [], [], [], [], []
    ev_t, ev_kind = [], []
    bad_line, bad_val, bad_reason = [], [], []
    n_read = 0
    try:
        fh = open(p, encoding="utf-8", errors="replace", newline="")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise LogFormatError(f"{p}: cannot be read ({exc.strerror})") from None
    with fh:
        for lineno, f in enumerate(_records(fh, p), start=1):
            if not f:
                continue
            rec = f[0].strip()
            if rec.startswith("#"):
                _header(rec, f, hdr)
                if rec == "#START" and len(f) > 1 and f[1].strip():
                    try:
                        last_tod = _tod_ns(f[1])
                    except ValueError:
                        pass
                    if hdr.start_date is not None:
                        day = hdr.start_date.value
                continue
            if rec not in ("GPS", "CELLMEAS", "CI", "DRATE", "CAD") and rec not in EVENT_IDS:
                continue
            if rec == "CELLMEAS":
                n_read += 1
            if day is None:
                if rec == "CELLMEAS":
                    bad_line.append(lineno); bad_val.append(",".join(f)[:80]); bad_reason.append("record before the #START header (no date)")
                continue
            try:
                tod = _tod_ns(f[1])
            except (ValueError, IndexError):
                if rec == "CELLMEAS":
                    bad_line.append(lineno); bad_val.append(f[1] if len(f) > 1 else ""); bad_reason.append("unparseable time (expected hh:mm:ss.sss)")
                else:
                    rejects.note(f"skipped: Nemo {rec} record with an unparseable time", 1)
                continue
            if last_tod is not None and tod < last_tod - 12 * 3600 * NS:
                day += 86400 * NS  # past midnight
            last_tod = tod
            t = day + tod
            try:
                if rec == "GPS":
                    q = f[3:]
                    lon, lat = _f(q[0]), _f(q[1])
                    fix = len(q) > 4 and q[4].strip() not in ("", "0") and np.isfinite(lat) and np.isfinite(lon)
                    gps_t.append(t); gps_lat.append(lat if fix else np.nan); gps_lon.append(lon if fix else np.nan); gps_fix.append(bool(fix))
                elif rec == "CELLMEAS":
                    why = _cellmeas(f[3:], s_cols)
                    if why:
                        bad_line.append(lineno); bad_val.append(",".join(f[:6])[:80]); bad_reason.append(why)
                    else:
                        s_line.append(lineno); s_t.append(t)
                elif rec == "CI":
                    q = f[3:]
                    if int(q[0]) in LTE_SYSTEMS and int(q[1]) >= 1:
                        ci_t.append(t); ci_v.append(_f(q[2]))
                elif rec == "DRATE":
                    q = _params(f)
                    dr_t.append(t); dr_ul.append(_f(q[1]) * 1e-6); dr_dl.append(_f(q[2]) * 1e-6)
                elif rec == "CAD":
                    q = _params(f)
                    status = int(q[2]) if len(q) > 2 and q[2].strip() else 0
                    ev_t.append(t); ev_kind.append("call_drop" if status == CAD_DROPPED else "call_end")
                else:
                    ev_t.append(t); ev_kind.append(EVENT_IDS[rec])
            except (ValueError, IndexError) as exc:
                if rec == "CELLMEAS":
                    bad_line.append(lineno); bad_val.append(",".join(f[:6])[:80]); bad_reason.append(f"malformed CELLMEAS record ({exc})")
                else:  # not a sample: counted in the summary, no rejects-file line
                    rejects.note(f"skipped: malformed Nemo {rec} record", 1)
                continue
    if hdr.start_date is None and n_read == 0 and not gps_t:
        raise LogFormatError(f"{p}: not a Nemo file (no #START header and no GPS or CELLMEAS record)")
    to_utc = _utc_converter(hdr, tz, p)
    if bad_line:
        rejects.add(file, np.array(bad_line), "*", bad_val, bad_reason, key="Nemo record not read")
    own = Track(to_utc(np.array(gps_t, np.int64)), np.array(gps_lat, float), np.array(gps_lon, float), np.array(gps_fix, bool), source=f"{p} (GPS records)")
    use_track = track if track is not None else own
    n = len(s_t)
    t_utc = to_utc(np.array(s_t, np.int64))
    cols: dict = {"time": t_utc, "_time_naive": np.zeros(n, bool)}
    for k, v in s_cols.items():
        cols[k] = np.array(v, float)
    cols["sinr_db"] = _nearest(t_utc, to_utc(np.array(ci_t, np.int64)), np.array(ci_v, float))
    cols["dl_mbps"] = _nearest(t_utc, to_utc(np.array(dr_t, np.int64)), np.array(dr_dl, float))
    cols["ul_mbps"] = _nearest(t_utc, to_utc(np.array(dr_t, np.int64)), np.array(dr_ul, float))
    cols["tech"] = pa.array(["LTE"] * n, type=pa.string())
    from netqa.ingest.mapping import builtin_mapping
    from netqa.ingest.plan import FilePlan
    from netqa.ingest.finish import finish_batch

    plan = FilePlan(p, builtin_mapping("netqa"), list(cols), 0, 0, {c: c for c in cols if not c.startswith("_") and c != "time"})
    batch = finish_batch(cols, np.array(s_line, np.int64), plan, rejects, None)
    batch = use_track.join(batch, rejects, file, max_gap_s)
    et = to_utc(np.array(ev_t, np.int64))
    elat, elon, _, _ = use_track.locate(et, max_gap_s)
    events = pd.DataFrame({"time": pd.to_datetime(et, utc=True), "lat": elat, "lon": elon, "session": p.stem,
                           "event": ev_kind, "cell_id": None, "target_cell_id": None})
    if hdr.device or hdr.hardware:
        log.info("%s: Nemo file format %s, device %s %s", p, hdr.format_version, hdr.device or "", hdr.hardware or "")
    return NemoLog(batch, events, hdr, own, n_read)


def _records(fh, p: Path):
    """Fields of each line; a line the CSV parser refuses (NUL bytes: a binary file) stops with its number."""
    reader = csv.reader(fh)
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise LogFormatError(f"{p}: line {reader.line_num}: not a Nemo text record ({exc})") from None


def _header(rec: str, f: list[str], hdr: NemoHeader) -> None:
    vals = [v.strip() for v in f[3:]]
    if rec == "#FF" and vals:
        hdr.format_version = vals[0]
    elif rec == "#DN" and vals:
        hdr.device = vals[0]
    elif rec == "#HW" and vals:
        hdr.hardware = " ".join(v for v in vals if v)
    elif rec == "#UT" and vals and vals[0]:
        try:
            hdr.utc_offset_min = float(vals[0])
        except ValueError:
            raise LogFormatError(f"#UT header {vals[0]!r}: not a UTC offset in minutes") from None
    elif rec == "#START" and vals and hdr.start_date is None:
        d = pd.to_datetime(vals[0], format="%d.%m.%Y", errors="coerce")
        if pd.isna(d):
            raise LogFormatError(f"#START header date {vals[0]!r}: expected d.m.yyyy")
        hdr.start_date = d


def _cellmeas(q: list[str], out: dict) -> str | None:
    """Append one LTE CELLMEAS record's serving and strongest-neighbour values to ``out``; or say why not."""
    system = int(q[0])
    if system not in LTE_SYSTEMS:
        name = OTHER_SYSTEMS.get(system, "unknown")
        return f"CELLMEAS of system {system} ({name}) not read: netqa reads LTE FDD (7) and LTE TDD (8)"
    nh = int(q[1])
    n_cells, k = int(q[2 + nh]), int(q[3 + nh])
    if k < 7:
        return f"malformed CELLMEAS record: {k} parameters per LTE cell, expected at least 7"
    cells = q[4 + nh:]
    if len(cells) < n_cells * k:
        return f"truncated CELLMEAS record: {n_cells} cells x {k} parameters, {len(cells)} fields"
    serving, nbrs = None, []
    for i in range(n_cells):
        c = cells[i * k:(i + 1) * k]
        row = (int(c[0]), _f(c[2]), _f(c[3]), _f(c[4]), _f(c[5]), _f(c[6]))  # type, earfcn, pci, rssi, rsrp, rsrq
        if row[0] == 0 and serving is None:
            serving = row
        elif row[0] != 0:
            nbrs.append(row)
    if serving is None:
        return "CELLMEAS without a serving cell (cell type 0)"
    best = max((r for r in nbrs if np.isfinite(r[4])), key=lambda r: r[4], default=None)
    out["earfcn"].append(serving[1]); out["pci"].append(serving[2]); out["rssi_dbm"].append(serving[3])
    out["rsrp_dbm"].append(serving[4]); out["rsrq_db"].append(serving[5])
    out["nbr_rsrp_dbm"].append(best[4] if best else np.nan); out["nbr_rsrq_db"].append(best[5] if best else np.nan)
    return None


def _nearest(t: np.ndarray, rt: np.ndarray, rv: np.ndarray, tol_s: float = ATTACH_S) -> np.ndarray:
    """Value of the record nearest in time to each ``t`` (NaN beyond ``tol_s``)."""
    out = np.full(t.size, np.nan)
    if rt.size == 0 or t.size == 0:
        return out
    order = np.argsort(rt, kind="stable")
    rt, rv = rt[order], rv[order]
    j = np.clip(np.searchsorted(rt, t), 1, rt.size - 1) if rt.size > 1 else np.zeros(t.size, int)
    if rt.size > 1:
        left = j - 1
        pick = np.where(np.abs(t - rt[left]) <= np.abs(rt[j] - t), left, j)
    else:
        pick = j
    ok = np.abs(rt[pick] - t) <= tol_s * NS
    out[ok] = rv[pick[ok]]
    return out


def _utc_converter(hdr: NemoHeader, tz: str | None, p: Path):
    """Local ns -> UTC ns: ``--tz`` if given, else the #UT offset, else UTC (with a warning)."""
    if tz:
        def conv(t: np.ndarray) -> np.ndarray:
            if t.size == 0:
                return t
            idx = pd.DatetimeIndex(t.view("datetime64[ns]"))
            try:
                loc = idx.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
            except Exception as exc:  # noqa: BLE001 - zoneinfo/pytz raise several types for an unknown zone
                raise LogFormatError(f"--tz {tz!r}: not a known time zone ({exc}); use an IANA name such as Europe/Helsinki") from None
            return loc.tz_convert("UTC").tz_localize(None).to_numpy("datetime64[ns]").view(np.int64)
        return conv
    if hdr.utc_offset_min is not None:
        off = round(hdr.utc_offset_min * 60 * NS)
        return lambda t: np.where(t == NAT, NAT, t - off)
    log.warning("%s: no #UT header and no --tz; Nemo times taken as UTC", p)
    return lambda t: t
