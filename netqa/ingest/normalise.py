"""Normalisation of validated rows: sessions, stale-GPS interpolation, derived events, cell matching.

* **Sessions** — a session is a drive (the log's ``session`` column, else the
  file name); a time gap longer than ``gap_s`` starts a new session named
  ``<base>-s2``, ``<base>-s3``...
* **Stale GPS** — drive-test phones repeat the last fix for many rows (13-25
  rows in the Cork G-NetTrack logs).  The first row of each run of identical
  positions is taken as the fix, and the rows between two fixes of the same
  session are placed by linear interpolation in time; they get
  ``gps_interpolated = True``.  Fixes more than ``max_fix_gap_s`` apart are
  not bridged, nor are two fixes with a row without position between them
  (no fix, or a position cleared by validation such as a coordinate exactly
  0): interpolation never runs across a non-fix, and such rows stay without
  position.  Rows after the last fix of a session keep the stale position.
* **Events** — where a log brings no events file: a handover (``ho_attempt``
  and ``ho_success``) at each change of serving cell between two connected
  rows of one session; call events from a ``call_state`` column.
* **Cells** — with a cell table, the serving cell is matched by ``cell_id``,
  else by PCI plus EARFCN/frequency and the nearest site, and a log that fits
  the table only with lat/lon exchanged is refused (both in
  :mod:`netqa.ingest.cellmatch`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from netqa.ingest.batch import Batch, constant_dict, dict_codes, map_dict, per_value
from netqa.ingest.cellmatch import LatLonSwapCheck
from propagation._jit import jit

log = logging.getLogger(__name__)

NS = 1_000_000_000


@dataclass
class Segment:
    base: str
    name: str
    start_ns: int
    end_ns: int


@dataclass
class EventRows:
    """Accumulated derived events, kept as column chunks (one per block and kind)."""

    chunks: list[dict] = field(default_factory=list)
    n: int = 0

    def add_many(self, time_ns, lat, lon, session, event: str, cell_id, target_cell_id) -> None:
        """Events at rows of one block: arrays of equal length (``event`` one name for all)."""
        k = len(time_ns)
        if k == 0:
            return
        self.chunks.append({"time": np.asarray(time_ns, dtype=np.int64), "lat": np.asarray(lat, dtype=np.float64),
                            "lon": np.asarray(lon, dtype=np.float64), "session": np.asarray(session, dtype=object),
                            "event": np.full(k, event, dtype=object), "cell_id": np.asarray(cell_id, dtype=object),
                            "target_cell_id": np.asarray(target_cell_id, dtype=object)})
        self.n += k

    def __len__(self) -> int:
        return self.n

    def frame(self, sort: bool = True) -> pd.DataFrame:
        """All events so far (time as int64 ns), in time order unless ``sort`` is False (order added)."""
        if not self.chunks:
            return pd.DataFrame(columns=["time", "lat", "lon", "session", "event", "cell_id", "target_cell_id"])
        d = pd.DataFrame({k: np.concatenate([c[k] for c in self.chunks]) for k in self.chunks[0]})
        return d.sort_values("time", kind="stable").reset_index(drop=True) if sort else d

    @property
    def rows(self) -> list[dict]:
        """The events as dicts in the order added (appending only); for live use, where events are few."""
        return self.frame(sort=False).to_dict("records")


def _groups(names: pa.Array):
    enc = pc.dictionary_encode(names)
    codes = enc.indices.to_numpy(zero_copy_only=False)
    uniq = enc.dictionary.to_pylist()
    if len(uniq) == 1:
        return [(uniq[0], np.arange(codes.size))]
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    return [(uniq[codes[g[0]]], g) for g in np.split(order, bounds)]


def interpolate_positions(t: np.ndarray, lat: np.ndarray, lon: np.ndarray, seg: np.ndarray, max_fix_gap_s: float = 120.0):
    """Interpolate stale GPS positions between fixes along time.

    Parameters
    ----------
    t : numpy.ndarray
        Times, int64 [ns], non-decreasing within a segment.
    lat, lon : numpy.ndarray
        Logged positions [deg]; NaN where there is no fix.
    seg : numpy.ndarray
        Segment (session) code per row; rows of a segment are contiguous.
    max_fix_gap_s : float
        Fixes further apart than this are not bridged. [s]

    Returns
    -------
    lat, lon, interpolated
        New position arrays and a boolean mask of the rows that were moved.

    Examples
    --------
    >>> t = np.array([0, 1, 2, 3, 4], dtype=np.int64) * 1_000_000_000
    >>> la, lo, f = interpolate_positions(t, np.array([0., 0, 0, 0, 4]), np.array([0., 0, 0, 0, 8]), np.zeros(5, int))
    >>> la.tolist(), lo.tolist(), f.tolist()
    ([0.0, 1.0, 2.0, 3.0, 4.0], [0.0, 2.0, 4.0, 6.0, 8.0], [False, True, True, True, False])
    """
    lat2, lon2, moved, _ = _interpolate(t, lat, lon, seg, max_fix_gap_s)
    return lat2, lon2, moved


def _fixes(lat: np.ndarray, lon: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """GPS fixes: valid positions that start a segment or differ from the previous row."""
    n = lat.size
    fix = ~(np.isnan(lat) | np.isnan(lon))
    if n > 1:
        new = (lat[1:] != lat[:-1]) | (lon[1:] != lon[:-1]) | (seg[1:] != seg[:-1])
        fix[1:] &= new
    return fix


def _interpolate(t, lat, lon, seg, max_fix_gap_s):
    """interpolate_positions, also returning the fix mask (one pass of a compiled kernel)."""
    n = t.size
    lat2, lon2 = lat.copy(), lon.copy()
    moved = np.zeros(n, dtype=bool)
    seg = np.ascontiguousarray(seg, dtype=np.int64)
    fix = _fixes(lat, lon, seg)
    # rows without a position (non-fixes), counted up to each row: no interpolation spans one
    no_pos = np.cumsum(np.isnan(lat) | np.isnan(lon), dtype=np.int64)
    if n >= 2:
        _interp_kernel(np.ascontiguousarray(t, dtype=np.int64), np.ascontiguousarray(lat, dtype=np.float64),
                       np.ascontiguousarray(lon, dtype=np.float64), seg, fix, no_pos, float(max_fix_gap_s) * NS, lat2, lon2, moved)
    return lat2, lon2, moved, fix


@jit
def _interp_kernel(t, lat, lon, seg, fix, no_pos, max_gap_ns, lat2, lon2, moved):  # pragma: no cover - compiled
    n = t.size
    nxt = np.empty(n, dtype=np.int64)  # first fix strictly after each row (-1: none)
    q = -1
    for i in range(n - 1, -1, -1):
        nxt[i] = q
        if fix[i]:
            q = i
    p = -1  # last fix at or before the row
    for i in range(n):
        if fix[i]:
            p = i
            continue
        q = nxt[i]
        if p < 0 or q < 0 or seg[p] != seg[q]:  # segments are contiguous: rows between share it
            continue
        if no_pos[q] != no_pos[p]:  # a row without position lies between the fixes: never bridged
            continue
        dt = t[q] - t[p]
        if dt > max_gap_ns:
            continue
        w = 0.0
        if dt > 0:
            w = min(max((t[i] - t[p]) / dt, 0.0), 1.0)
        lat2[i] = lat[p] + w * (lat[q] - lat[p])
        lon2[i] = lon[p] + w * (lon[q] - lon[p])
        moved[i] = True


_CALL_PHASE = {
    "idle": 0, "": 0, "none": 0, "ended": 0, "end": 0, "released": 0,
    "dialing": 1, "dialling": 1, "attempt": 1, "alerting": 1, "setup": 1, "connecting": 1, "ringing": 1,
    "connected": 2, "active": 2, "offhook": 2, "in_call": 2,
    "dropped": 3, "drop": 3, "failed": 4, "setup_failure": 4, "blocked": 4,
}


class Normaliser:
    """Streams the validated blocks of one file through sessions, GPS, events and cells."""

    def __init__(self, file_session: str, *, gap_s: float = 120.0, max_fix_gap_s: float = 120.0,
                 derive_events: bool = True, cell_matcher=None, file: str = "", cells_name: str = "the cell table"):
        self.file_session = file_session
        self.gap_ns = int(gap_s * NS)
        self.max_fix_gap_s = max_fix_gap_s
        self.derive_events = derive_events
        self.cells = cell_matcher
        self.hold = True  # hold the rows after the last fix until the next one (False: live use)
        self.pending: Batch | None = None
        self.last: dict[str, tuple[int, int]] = {}  # base -> (last time ns, segment number)
        self.segments: list[Segment] = []
        self.open_names: dict[str, str] = {}  # base -> current segment name
        self.prev_final: dict[str, tuple] = {}  # base -> (segment, cell, connected, call phase)
        self.events = EventRows()
        self.n_interpolated = 0
        self.n_unmatched = 0
        self.n_matched = 0
        self.swap = LatLonSwapCheck(cell_matcher.cells) if cell_matcher is not None else None
        self.file, self.cells_name = file or file_session, cells_name

    # ---------------------------------------------------------------- sessions
    def _assign_sessions(self, b: Batch) -> None:
        n = len(b)
        base = b.cols.get("session")
        if base is None:
            base = constant_dict(self.file_session, n)
        else:
            base = map_dict(base, lambda v: v or None)
            if base.null_count:
                base = pc.fill_null(base, self.file_session)
        out = np.empty(n, dtype=np.int32)
        names: list[str] = []
        t_all = b.cols["time"]
        for name, idx in _groups(base):
            t = t_all[idx]
            last_t, k = self.last.get(name, (None, 0))
            prev = np.empty_like(t)
            prev[1:] = t[:-1]
            prev[0] = last_t if last_t is not None else t[0]
            new = (t - prev) > self.gap_ns
            if last_t is None:
                new[0] = True
                k = 0
            seg_no = k + np.cumsum(new)
            for s in np.unique(seg_no):
                rows = idx[seg_no == s]
                seg_name = name if s == 1 else f"{name}-s{s}"
                if self.segments and self.open_names.get(name) == seg_name:
                    seg = next(sg for sg in reversed(self.segments) if sg.name == seg_name)
                    seg.end_ns = int(t_all[rows[-1]])
                else:
                    self.segments.append(Segment(name, seg_name, int(t_all[rows[0]]), int(t_all[rows[-1]])))
                    self.open_names[name] = seg_name
                out[rows] = len(names)
                names.append(seg_name)
            self.last[name] = (int(t[-1]), int(seg_no[-1]))
        b.cols["session"] = map_dict(pa.DictionaryArray.from_arrays(pa.array(out), pa.array(names, type=pa.string())), str)

    # ---------------------------------------------------------------- streaming
    def push(self, b: Batch) -> Batch | None:
        """Add validated rows; return the rows that are final (may be empty)."""
        if len(b) == 0:
            return None
        if self.swap is not None:
            b = self.swap.apply(b, self.file, self.cells_name)
        self._assign_sessions(b)
        b.cols.setdefault("gps_interpolated", np.zeros(len(b), dtype=bool))
        comb = Batch.concat([self.pending, b]) if self.pending is not None and len(self.pending) else b
        if len(comb) == 0:
            return None
        final, self.pending = self._process(comb, final=not self.hold)
        return final

    def flush(self) -> Batch | None:
        if self.pending is None or len(self.pending) == 0:
            return None
        final, self.pending = self._process(self.pending, final=True)
        return final

    def _process(self, comb: Batch, final: bool):
        n = len(comb)
        enc = pc.dictionary_encode(comb.cols["session"])
        seg = enc.indices.to_numpy(zero_copy_only=False)
        names = enc.dictionary.to_pylist()
        t = comb.cols["time"]
        order = None
        if len(names) > 1:  # keep each segment contiguous for the interpolation
            order = np.argsort(seg, kind="stable")
            if np.all(np.diff(order) == 1):
                order = None
        if order is not None:
            comb = comb.take(order)
            seg = seg[order]
            t = comb.cols["time"]
        lat2, lon2, moved, fix = _interpolate(t, comb.cols["lat"], comb.cols["lon"], seg, self.max_fix_gap_s)
        hold = np.zeros(n, dtype=bool)
        if not final:  # hold each open segment's rows from its last fix on, until the next fix arrives
            open_codes = {names.index(v) for v in self.open_names.values() if v in names}
            single = len(open_codes) == 1 and seg[0] == seg[-1] and seg[0] in open_codes and (len(names) == 1 or (seg == seg[0]).all())
            for code in open_codes:
                rows = np.arange(n) if single else np.flatnonzero(seg == code)
                fixes = np.flatnonzero(fix[rows])
                if fixes.size == 0:
                    continue
                p = rows[fixes[-1]]
                if (t[rows[-1]] - t[p]) <= self.max_fix_gap_s * NS:
                    hold[rows[rows >= p]] = True
        keep_idx = np.flatnonzero(~hold)
        k = keep_idx.size
        if k == 0 or keep_idx[-1] == k - 1:  # held rows are a tail: split by views
            pending = comb.slice(k, n) if k < n else None
            out = comb.slice(0, k)
            keep_idx = slice(0, k)
        else:
            pending = comb.take(np.flatnonzero(hold))
            out = comb.take(keep_idx)
        out.cols["lat"] = lat2[keep_idx]
        out.cols["lon"] = lon2[keep_idx]
        out.cols["gps_interpolated"] = out.cols["gps_interpolated"] | moved[keep_idx]
        self.n_interpolated += int(moved[keep_idx].sum())
        if len(out) and order is not None:  # back to time order within the file
            out = out.take(np.argsort(out.line, kind="stable"))
        if len(out):
            if self.derive_events:
                self._derive_events(out)
            if self.cells is not None:
                out = self.cells.match(out)
                self.n_matched = self.cells.n_matched
                self.n_unmatched = self.cells.n_unmatched
        return out, pending

    # ---------------------------------------------------------------- events
    def _derive_events(self, b: Batch) -> None:
        n = len(b)
        s_codes, s_dict = dict_codes(b.cols["session"])
        if "cell_id" in b.cols:
            c_codes, c_dict = dict_codes(b.cols["cell_id"])
        else:
            c_codes, c_dict = np.full(n, -1, dtype=np.int64), []
        c_dict = c_dict + [""]  # code -1 (missing cell) -> ""
        c_codes = np.where(c_codes < 0, len(c_dict) - 1, c_codes)
        c_empty = np.array([v == "" for v in c_dict] + [True], dtype=bool)[c_codes]
        conn = b.cols.get("connected")
        if conn is None:
            conn = np.ones(n, dtype=np.int8)
        connected = conn == 1
        unknown = conn < 0
        if unknown.any():
            active = np.zeros(n, dtype=bool)
            for c in ("dl_mbps", "ul_mbps"):
                if c in b.cols:
                    active |= np.isfinite(b.cols[c])
            connected = connected | (unknown & active)
        phase = None
        if "call_state" in b.cols:
            phase = per_value(b.cols["call_state"], lambda v: _CALL_PHASE.get(v.strip().lower(), -1), 0, np.int8)
        base_of = {sg.name: sg.base for sg in self.segments}
        sess0, cell0 = s_dict[s_codes[0]], c_dict[c_codes[0]]
        p0 = self.prev_final.get(base_of.get(sess0, sess0))
        same_seg = np.zeros(n, dtype=bool)
        same_seg[1:] = s_codes[1:] == s_codes[:-1]
        change = np.zeros(n, dtype=bool)
        change[1:] = c_codes[1:] != c_codes[:-1]
        prev_ok = np.zeros(n, dtype=bool)
        prev_ok[1:] = ~c_empty[:-1] & connected[:-1]
        if p0:
            same_seg[0] = p0[0] == sess0
            change[0] = p0[1] != cell0
            prev_ok[0] = p0[1] != "" and p0[2]
        ho = same_seg & change & prev_ok & ~c_empty & connected
        t, lat, lon = b.cols["time"], b.cols["lat"], b.cols["lon"]
        s_arr, c_arr = np.asarray(s_dict, dtype=object), np.asarray(c_dict, dtype=object)
        hi = np.flatnonzero(ho)
        if hi.size:
            prev_cells = c_arr[c_codes[np.maximum(hi - 1, 0)]]
            if hi[0] == 0:
                prev_cells[0] = p0[1]
            for ev in ("ho_attempt", "ho_success"):
                self.events.add_many(t[hi], lat[hi], lon[hi], s_arr[s_codes[hi]], ev, prev_cells, c_arr[c_codes[hi]])
        if phase is not None:
            prev_ph = np.empty(n, dtype=np.int8)
            prev_ph[1:] = phase[:-1]
            prev_ph[0] = p0[3] if p0 and p0[3] is not None else 0
            a, z = np.where(same_seg, prev_ph, 0), phase
            call_events = (
                ("call_attempt", np.isin(a, (0, 3, 4, -1)) & np.isin(z, (1, 2))),
                ("call_setup_failure", (a == 1) & np.isin(z, (0, 3, 4))),
                ("call_end", (a == 2) & (z == 0)),
                ("call_drop", (a == 2) & np.isin(z, (3, 4))),
            )
            cell_or_none = np.where(c_arr == "", None, c_arr)
            for ev, mask in call_events:
                ci = np.flatnonzero(mask & (a != z))
                self.events.add_many(t[ci], lat[ci], lon[ci], s_arr[s_codes[ci]], ev, cell_or_none[c_codes[ci]], np.full(ci.size, None))
        last = n - 1
        sl = s_dict[s_codes[last]]
        self.prev_final[base_of.get(sl, sl)] = (sl, c_dict[c_codes[last]], bool(connected[last]), int(phase[last]) if phase is not None else None)

    def relabel_events(self, ev: pd.DataFrame) -> pd.DataFrame:
        """Give explicit events the session names after the gap split (by time)."""
        if ev.empty or not self.segments:
            return ev
        ev = ev.copy()
        out = ev["session"].astype(object).to_numpy(copy=True)
        t = ev["time"].astype("datetime64[ns, UTC]").dt.tz_localize(None).to_numpy().view(np.int64)
        by_base: dict[str, list[Segment]] = {}
        for sg in self.segments:
            by_base.setdefault(sg.base, []).append(sg)
        for i, (s, ti) in enumerate(zip(out, t)):
            base = s if s in by_base else (self.file_session if s in (None, "") or pd.isna(s) else None)
            segs = by_base.get(base) if base else None
            if not segs:
                continue
            starts = np.array([sg.start_ns for sg in segs])
            k = max(int(np.searchsorted(starts, ti, side="right")) - 1, 0)
            out[i] = segs[k].name
        ev["session"] = pd.array(out, dtype="string")
        return ev
