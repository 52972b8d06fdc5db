"""Validation and quarantine of parsed sample rows (vectorised, per block).

The choice per check — **rejected** (row quarantined to ``SAMPLES.rejects.csv``)
or **cleared** (value set to NaN, row kept, bit set in ``value_flags``, and a
``cleared`` line in the rejects file) — is:

================================  ========  ==================================================
check                             action    why
================================  ========  ==================================================
unparseable / missing time        rejected  a sample without a time cannot be placed or ordered
ambiguous local time (DST)        rejected  the true UTC instant is unknown
time earlier than previous row    rejected  clock jump or shuffled log; the row cannot be trusted
exact duplicate of previous row   rejected  logged twice; would double-count in every KPI
unparseable / out-of-range lat,   rejected  a corrupt position (beyond +-90/+-180) means a
lon; swapped lat/lon                        corrupt record or a wrong column mapping
(0, 0) "zero island" position     cleared   no GPS fix yet; the radio values are still valid
serving RSRP outside the RAT's    rejected  sentinels (-200, 0, 255...) and impossible RSRP:
3GPP reporting range                        the serving measurement is the row's reason to be
RSRQ up to 0.5 dB beyond its      kept,     a range-end report: TS 36.133 Table 9.1.7-1 maps
range (LTE -20 .. -19.5 dB,       flagged   RSRQ_00 to "RSRQ < -19.5 dB" and phones with
-3 .. -2.5 dB)                              integer RSRQ write it as -20; the value stays as
                                            reported (a censored value: the truth is at or
                                            beyond the range end), ``value_flags`` bit 512
RSRQ, SINR outside range          cleared   the RSRP and throughput of the row remain usable
(further out)
throughput < 0 or > 20 Gbit/s     cleared   impossible value; unit errors for whole files raise
speed < 0 or > 500 km/h,          cleared   optional columns; do not cost the row
PCI, CQI, neighbour values
unknown technology name           cleared   tech becomes missing; ranges fall back to the widest
neighbour record (servingCell =   rejected  a Network Survey neighbour row is not a serving
false)                                      sample
================================  ========  ==================================================

Reporting ranges: 3GPP TS 36.133 (LTE RSRP -140..-44 dBm, RSRQ -19.5..-3 dB),
TS 38.133 (NR SS-RSRP -156..-31 dBm, SS-RSRQ -43..20 dB, SS-SINR -23..40 dB),
TS 25.133 (UMTS CPICH RSCP -120..-25 dBm, Ec/No -24..0 dB), TS 45.008 (GSM
RXLEV -110..-48 dBm); SINR -23..40 dB for every RAT.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from netqa.errors import LogFormatError
from netqa.ingest.batch import FLAG_BITS, NAT, Batch, RejectLog, dict_array, dict_codes, per_value
from netqa.ingest.duplicates import SeenRows, first_in_block, row_hashes

log = logging.getLogger(__name__)

#: Reporting ranges (low, high) per RAT; key None = technology unknown (widest).
RSRP_RANGE_DBM = {"LTE": (-140.0, -44.0), "NR": (-156.0, -31.0), "UMTS": (-120.0, -25.0), "GSM": (-110.0, -48.0), None: (-156.0, -31.0)}
RSRQ_RANGE_DB = {"LTE": (-19.5, -3.0), "NR": (-43.0, 20.0), "UMTS": (-24.0, 0.0), "GSM": (-np.inf, np.inf), None: (-43.0, 20.0)}
SINR_RANGE_DB = {"LTE": (-23.0, 40.0), "NR": (-23.0, 40.0), "UMTS": (-23.0, 40.0), "GSM": (-23.0, 40.0), None: (-23.0, 40.0)}
#: RSRQ report resolution [dB] (TS 36.133 Table 9.1.7-1, TS 38.133 Table 10.1.11.1-1, TS 25.133 Ec/No).
#: A value at most one step beyond either end of the range is that end's report: RSRQ_00 means
#: "RSRQ < -19.5 dB", and phones with integer RSRQ write it as -20; such values are kept and flagged.
RSRQ_REPORT_STEP_DB = 0.5
#: Simple ranges for optional columns (cleared when outside).
OPTIONAL_RANGES = {
    "dl_mbps": (0.0, 20000.0),
    "ul_mbps": (0.0, 20000.0),
    "speed_kmh": (0.0, 500.0),
    "pci": (0.0, 1007.0),
    "earfcn": (0.0, 3279165.0),
    "cqi": (0.0, 15.0),
    "rssi_dbm": (-130.0, 0.0),
}
#: Median non-zero throughput above this [Mbit/s] means the column is not in Mbit/s.
UNIT_SANITY_MBPS = 2000.0
#: Per-file unit check of serving RSRP: at least this many values are looked at (the first block's). [rows]
RSRP_UNIT_MIN_VALUES = 10
#: ... and the file is refused when this share of them lies outside the reporting range of their RAT
#: (a dBm log has none there but sentinels)...
RSRP_UNIT_OUT_SHARE = 0.5
#: ... or when this share lies in the band a 30 dB (dBW) shift fills just below the range's floor, with at
#: least :data:`RSRP_UNIT_BAND_DISTINCT` distinct values (sentinels such as -200 are one value, far below).
RSRP_UNIT_BAND_SHARE = 0.02
RSRP_UNIT_BAND_DISTINCT = 3
#: Floor of measured RSRP for that check, any RAT [dBm]: TS 38.133 reports NR SS-RSRP down to -156 dBm, but no
#: UE detects a cell that far down (thermal noise per 30 kHz sub-carrier is about -129 dBm before the noise
#: figure), so a continuum of values below -140 dBm is a unit error, whatever the RAT.
RSRP_UNIT_FLOOR_DBM = -140.0
#: Offsets that bring a wrongly-united RSRP back into dBm: dB added -> what the log probably holds.
RSRP_UNIT_CANDIDATES = {30.0: ("dBW", "dBW"), -140.0: ("the 3GPP report index RSRP_nn or Android ASU (RSRP + 140)", "index"),
                        -30.0: ("dBm + 30 (a constant offset)", None), 10.0: ("dBm - 10 (a constant offset)", None)}
#: Values at or beyond this magnitude are 'unavailable' markers (Android's Integer.MAX_VALUE, 2^31 - 1).
UNAVAILABLE_ABS = 2.147e9


@dataclass
class FileState:
    """What validation and normalisation carry from one block of a file to the next."""

    file: str
    prev: dict = field(default_factory=dict)  # session -> (latest time kept [ns], its line)
    unit_checked: bool = False
    n_read: int = 0


def _fmt_time(ns: np.ndarray) -> list[str]:
    return pd.DatetimeIndex(np.asarray(ns).view("datetime64[ns]")).strftime("%Y-%m-%dT%H:%M:%S.%fZ").str.replace(r"\.000000Z$", "Z", regex=True).tolist()


def _tech_ranges(tech, table: dict) -> tuple[np.ndarray, np.ndarray]:
    enc = tech if isinstance(tech, pa.DictionaryArray) else pc.dictionary_encode(tech)
    uniq = enc.dictionary.to_pylist()
    lo = np.array([table.get(u, table[None])[0] for u in uniq] + [table[None][0]])
    hi = np.array([table.get(u, table[None])[1] for u in uniq] + [table[None][1]])
    codes = pc.fill_null(enc.indices, len(uniq)).to_numpy(zero_copy_only=False)
    return lo[codes], hi[codes]


def _range_text(table: dict, unit: str) -> str:
    return ", ".join(f"{k} {lo:g}..{hi:g}" for k, (lo, hi) in table.items() if k and np.isfinite(lo))


class Validator:
    """Applies the checks of the module docstring to the blocks of one file."""

    def __init__(self, file: str, rejects: RejectLog, declared_units=(), seen: SeenRows | None = None):
        self.state = FileState(file)
        self.rejects = rejects
        self.seen = seen if seen is not None else SeenRows()  # rows kept in this run (shared across its files)
        self.file_no = self.seen.file_number(file)
        self.declared_units = set(declared_units)
        self.rsrp_checked = "rsrp_dbm" in self.declared_units  # a stated unit was converted on read

    def _reject(self, b: Batch, mask: np.ndarray, column: str, values, reason, key: str) -> None:
        if mask.any():
            vals = values[mask] if isinstance(values, np.ndarray) else values
            self.rejects.add(self.state.file, b.line[mask], column, vals, reason, "rejected", key=key)

    def _clear(self, b: Batch, name: str, mask: np.ndarray, reason: str, key: str, bit: int) -> None:
        if mask.any():
            col = b.cols[name]
            self.rejects.add(self.state.file, b.line[mask], name, col[mask], reason, "cleared", key=key)
            col = col.copy()
            col[mask] = np.nan
            b.cols[name] = col
            b.cols["value_flags"] = b.cols["value_flags"] | np.where(mask, bit, 0).astype(np.int32)

    def check(self, b: Batch) -> Batch:
        """Validate one block; return the accepted rows (cleared values set to NaN)."""
        n = len(b)
        if n == 0:
            return b
        b = Batch(dict(b.cols), b.line)
        alive = ~b.cols.pop("_bad_rows", np.zeros(n, bool))
        f = self.state.file
        # neighbour records (Network Survey)
        if "serving" in b.cols:
            s = per_value(b.cols["serving"], lambda v: v.strip().lower() == "false", False, bool)
            m = alive & s
            self._reject(b, m, "serving", "false", "neighbour-cell record (servingCell = false), not a serving sample", "neighbour record")
            alive &= ~m
        t = b.cols["time"]
        m = alive & (t == NAT)
        self._reject(b, m, "time", "", "missing time", "missing time")
        alive &= ~m
        # positions
        lat, lon = b.cols["lat"], b.cols["lon"]
        one_missing = alive & (np.isnan(lat) ^ np.isnan(lon))
        if one_missing.any():
            self._clear(b, "lat", one_missing & ~np.isnan(lat), "longitude missing; position cleared", "half position", FLAG_BITS["position"])
            self._clear(b, "lon", one_missing & ~np.isnan(b.cols["lon"]), "latitude missing; position cleared", "half position", FLAG_BITS["position"])
            lat, lon = b.cols["lat"], b.cols["lon"]
        with np.errstate(invalid="ignore"):
            swapped = alive & (np.abs(lat) > 90) & (np.abs(lat) <= 180) & (np.abs(lon) <= 90)
            bad_pos = alive & ~swapped & ((np.abs(lat) > 90) | (np.abs(lon) > 180))
        if swapped.any():
            vals = [f"lat={a:g} lon={o:g}" for a, o in zip(lat[swapped], lon[swapped])]
            self.rejects.add(f, b.line[swapped], "lat", vals, "latitude and longitude look swapped (|lat| > 90, |lon| <= 90); fix the column mapping", key="lat/lon swapped")
            alive &= ~swapped
        if bad_pos.any():
            vals = [f"lat={a:g} lon={o:g}" for a, o in zip(lat[bad_pos], lon[bad_pos])]
            self.rejects.add(f, b.line[bad_pos], "lat", vals, "position outside -90..90 latitude / -180..180 longitude", key="position out of range")
            alive &= ~bad_pos
        # a coordinate exactly 0 is a receiver without a fix writing its default, not a position: (0, 0)
        # "zero island", or one axis zeroed (0, lon) / (lat, 0); a real fix on the equator or the Greenwich
        # meridian to the last logged digit is far rarer than a missing fix
        zero_both = alive & (lat == 0) & (lon == 0)
        zero_one = alive & ((lat == 0) ^ (lon == 0))
        if zero_both.any():
            self._clear(b, "lat", zero_both, "(0, 0) zero-island position: no GPS fix", "zero island", FLAG_BITS["position"])
        if zero_one.any():
            vals = np.array([f"lat={a:g} lon={o:g}" for a, o in zip(lat[zero_one], lon[zero_one])], dtype=object)
            self.rejects.add(f, b.line[zero_one], "lat", vals, "a coordinate exactly 0: no GPS fix (position cleared, not used for interpolation)",
                             "cleared", key="coordinate exactly 0")
            b.cols["value_flags"] = b.cols["value_flags"] | np.where(zero_one, FLAG_BITS["position"], 0).astype(np.int32)
        zero = zero_both | zero_one
        if zero.any():
            b.cols["lat"] = np.where(zero, np.nan, b.cols["lat"])
            b.cols["lon"] = np.where(zero, np.nan, b.cols["lon"])
        # technology
        unknown = b.cols.pop("_tech_unknown", None)
        if unknown is not None and (alive & unknown).any():
            m = alive & unknown
            self.rejects.add(f, b.line[m], "tech", "unrecognised", "unknown technology name (valid: GSM, UMTS, LTE, NR and common aliases); cleared", "cleared", key="unknown tech")
            b.cols["value_flags"] = b.cols["value_flags"] | np.where(m, FLAG_BITS["tech"], 0).astype(np.int32)
        tech = dict_array(b.cols["tech"])
        # Android's 'unavailable' marker (2^31 - 1) in any numeric column means missing
        for name, v in list(b.cols.items()):
            if isinstance(v, np.ndarray) and v.dtype.kind == "f" and name not in ("lat", "lon"):
                with np.errstate(invalid="ignore"):
                    m = alive & (np.abs(v) >= UNAVAILABLE_ABS)
                self._clear(b, name, m, f"{name}: 'unavailable' marker (2^31 - 1) treated as missing", "unavailable marker", FLAG_BITS.get(name, FLAG_BITS["other"]))
        # serving RSRP: reject outside the RAT's range (sentinels included)
        if "rsrp_dbm" in b.cols:
            r = b.cols["rsrp_dbm"]
            lo, hi = _tech_ranges(tech, RSRP_RANGE_DBM)
            self._rsrp_unit_sanity(r[alive], lo[alive], hi[alive])
            with np.errstate(invalid="ignore"):
                m = alive & ((r < lo) | (r > hi))
            if m.any():
                techs = pc.fill_null(tech.take(pa.array(np.flatnonzero(m))).cast(pa.string()), "unknown RAT").to_pylist()
                reasons = [f"rsrp_dbm {v:g} outside the {tt} reporting range {a:g}..{z:g} dBm (sentinel or invalid)" for v, tt, a, z in zip(r[m], techs, lo[m], hi[m])]
                self.rejects.add(f, b.line[m], "rsrp_dbm", r[m], reasons, key="rsrp_dbm out of range")
                alive &= ~m
        for name, table, unit in (("rsrq_db", RSRQ_RANGE_DB, "dB"), ("sinr_db", SINR_RANGE_DB, "dB"), ("nbr_rsrp_dbm", RSRP_RANGE_DBM, "dBm"), ("nbr_rsrq_db", RSRQ_RANGE_DB, "dB")):
            if name in b.cols:
                v = b.cols[name]
                lo, hi = _tech_ranges(tech, table)
                with np.errstate(invalid="ignore"):
                    m = alive & ((v < lo) | (v > hi))
                    if table is RSRQ_RANGE_DB and m.any():  # the range-end reports (RSRQ_00 / RSRQ_34): kept, flagged
                        end = m & (v >= lo - RSRQ_REPORT_STEP_DB) & (v <= hi + RSRQ_REPORT_STEP_DB)
                        if end.any():
                            b.cols["value_flags"] = b.cols["value_flags"] | np.where(end, FLAG_BITS["range_end"], 0).astype(np.int32)
                            self.rejects.note(f"flagged: {name} at a reporting-range end (true value beyond it)", int(end.sum()))
                            m &= ~end
                self._clear(b, name, m, f"{name} outside the reporting range ({_range_text(table, unit)} {unit})", f"{name} out of range", FLAG_BITS.get(name, FLAG_BITS["other"]))
        self._unit_sanity(b, alive)
        for name, (lo, hi) in OPTIONAL_RANGES.items():
            if name in b.cols:
                v = b.cols[name]
                with np.errstate(invalid="ignore"):
                    m = alive & ((v < lo) | (v > hi))
                self._clear(b, name, m, f"{name} outside {lo:g}..{hi:g}", f"{name} out of range", FLAG_BITS.get(name, FLAG_BITS["other"]))
        if not alive.all():
            b = b.take(alive)
        return self._order_and_duplicates(b)

    def _rsrp_unit_sanity(self, r: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        """Refuse a file whose serving RSRP is not in dBm (dBW, a report index, a constant offset).

        Per-row range checks alone would reject the values that a 30 dB shift
        pushes out of the range and keep the rest 30 dB off; the file is
        judged as a whole instead, once, on its first block with at least
        :data:`RSRP_UNIT_MIN_VALUES` values.  A mapping that states the unit
        (``[units] rsrp_dbm = "dBW"``, ``"index"``, or ``"dBm"`` to confirm) is
        converted on read and not second-guessed.
        """
        if self.rsrp_checked:
            return
        ok = np.isfinite(r) & (np.abs(r) < UNAVAILABLE_ABS)
        r, lo, hi = r[ok], lo[ok], hi[ok]
        if r.size < RSRP_UNIT_MIN_VALUES:
            return
        self.rsrp_checked = True
        lo = np.maximum(lo, RSRP_UNIT_FLOOR_DBM)
        out = (r < lo) | (r > hi)
        band = (r >= lo - 31.0) & (r < lo - 0.5)
        share_out, share_band = float(out.mean()), float(band.mean())
        if share_out < RSRP_UNIT_OUT_SHARE and not (share_band >= RSRP_UNIT_BAND_SHARE and np.unique(r[band]).size >= RSRP_UNIT_BAND_DISTINCT):
            return
        fits = {off: float(((r + off >= lo) & (r + off <= hi)).mean()) for off in RSRP_UNIT_CANDIDATES}
        best = max(fits, key=fits.get)
        what, unit = RSRP_UNIT_CANDIDATES[best]
        if fits[best] >= 0.95 and fits[best] > 1.0 - share_out:
            cause = f"with {best:+g} dB {fits[best]:.0%} fit it: the log is probably in {what}"
            fix = (f"declare the unit in a mapping ([units] rsrp_dbm = \"{unit}\"; converted on read)" if unit
                   else "correct the offset at the source, or give a mapping whose [units] states it")
        else:
            cause = "no standard unit or offset makes them fit"
            fix = "check the column mapping (is this column RSRP in dBm?)"
        raise LogFormatError(
            f"{self.state.file}: rsrp_dbm is not in dBm: {share_out:.0%} of the first {r.size} values lie outside the "
            f"reporting range of their RAT ({share_band:.0%} in the 30 dB just below its floor; median {float(np.median(r)):g}); "
            f"{cause}. The file is refused rather than kept off by a constant; {fix}, or state [units] rsrp_dbm = \"dBm\" "
            "to keep the values and reject the out-of-range rows one by one"
        )

    def _unit_sanity(self, b: Batch, alive: np.ndarray) -> None:
        if self.state.unit_checked:
            return
        for name in ("dl_mbps", "ul_mbps"):
            if name not in b.cols:
                continue
            v = b.cols[name][alive]
            v = v[np.isfinite(v) & (v > 0)]
            if v.size >= 20:
                self.state.unit_checked = True
                med = float(np.median(v))
                if med > UNIT_SANITY_MBPS:
                    raise LogFormatError(
                        f"{self.state.file}: {name} median {med:,.0f} Mbit/s is implausible; the log is probably in kbit/s. "
                        "Use a mapping with [units] " f"{name} = \"kbit/s\""
                    )

    def _order_and_duplicates(self, b: Batch) -> Batch:
        """Reject duplicates (anywhere in the run) and the stretch of rows after the clock jumps back.

        A row equal to an earlier row (time and every mapped value) is a
        duplicate, wherever that row was (:mod:`netqa.ingest.duplicates`).  Within a
        session, a row earlier than the latest time kept so far is out of
        order, and so is every row after it until the clock passes that time
        again: a clock that jumps back is quarantined as a whole stretch.
        """
        n = len(b)
        if n == 0:
            return b
        f = self.state.file
        sess = b.cols.get("session")
        if sess is None or sess.null_count == n:
            groups = [(None, np.arange(n))]
        else:
            codes, names = dict_codes(pc.fill_null(sess, ""))
            if codes.min() == codes.max():
                groups = [(names[codes[0]], np.arange(n))]
            else:
                order = np.argsort(codes, kind="stable")
                bounds = np.flatnonzero(np.diff(codes[order])) + 1
                groups = [(names[codes[g[0]]], g) for g in np.split(order, bounds)]
        key_names = [c for c in sorted(b.cols) if c not in ("value_flags", "connected", "activity", "gps_interpolated")]
        h = row_hashes(b, key_names)
        seen_before, seen_file, seen_line = self.seen.lookup(h)
        rep, first = first_in_block(h)
        dup = seen_before | rep
        if dup.any():
            here = f"{self.seen.files[self.file_no]}"
            reasons = []
            for i in np.flatnonzero(dup):
                if seen_before[i]:
                    src = self.seen.files[seen_file[i]]
                    reasons.append(f"duplicate of line {seen_line[i]} (same time and every mapped value)" if src == here
                                   else f"duplicate of {src} line {seen_line[i]} (same time and every mapped value: the same drive in two files?)")
                else:
                    reasons.append(f"duplicate of line {b.line[first[i]]} (same time and every mapped value)")
            self.rejects.add(f, b.line[dup], "*", None, reasons, key="duplicate row")
        keep = ~dup
        t_all = b.cols["time"]
        for name, idx in groups:
            t = t_all[idx]
            lines = b.line[idx]
            hw_t, hw_line = self.state.prev.get(name, (NAT, 0))
            t_eff = np.where(dup[idx], NAT, t)  # duplicates never move the clock
            vals = np.concatenate([[hw_t], t_eff])
            run_max = np.maximum.accumulate(vals)
            is_new = vals >= run_max
            at_max = np.maximum.accumulate(np.where(is_new, np.arange(vals.size), 0))
            prior = run_max[:-1]
            prior_line = np.concatenate([[hw_line], lines])[at_max[:-1]]
            back = ~dup[idx] & (t < prior)
            if back.any():
                pt = _fmt_time(prior[back])
                reasons = [f"time goes backwards: {a} is earlier than {p} on line {pl}; rows are quarantined until the clock passes it again"
                           for a, p, pl in zip(_fmt_time(t[back]), pt, prior_line[back])]
                self.rejects.add(f, lines[back], "time", _fmt_time(t[back]), reasons, key="time out of order")
            keep[idx[back]] = False
            self.state.prev[name] = (int(run_max[-1]), int(np.concatenate([[hw_line], lines])[at_max[-1]]))
        self.seen.add(h[~dup], self.file_no, b.line[~dup])  # every row read (kept or out of order) is a row to repeat
        return b if keep.all() else b.take(keep)
