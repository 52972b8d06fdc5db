"""Live monitoring: follow drive-test logs while they are written; rolling KPIs and threshold alerts.

:class:`Watcher` polls a folder: new log files are picked up when their header
line is complete, appended rows are read from the last offset, and a
half-written last line is held back until its newline arrives.  Rows go
through the same parsing and validation as ``netqa ingest``.  At each
interval it reports rolling KPIs per session and overall, computed over the
last ``window_s`` seconds of *log time*, and raises an alert when a KPI over
that window crosses its profile threshold (``[watch]`` in the profile TOML):

* ``coverage_rate`` below ``coverage_rate_min`` (needs ``min_samples`` samples),
* ``drop_rate`` above ``drop_rate_max`` (needs a set-up call in the window),
* ``ho_success_rate`` below ``ho_success_rate_min`` (needs a handover attempt),
* median DL throughput over download periods below ``dl_mbps_p50_min``.

Alerts are edge-triggered (one when a KPI enters the breached state, one
``recovered`` when it leaves it) and go to the ``emit`` callback and, as JSON
lines, to the alerts file.  The library never prints: the CLI passes ``print``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from netqa.errors import InputError, NetQAError
from netqa.ingest.batch import Batch, RejectLog
from netqa.ingest.files import LOG_SUFFIXES, is_events_file
from netqa.ingest.normalise import Normaliser
from netqa.ingest.plan import FilePlan, plan_file, resolve_format
from netqa.ingest.reader import parse_block
from netqa.ingest.validate import Validator
from netqa.kpi import compute_kpis, load_profile

log = logging.getLogger(__name__)

KEEP_COLUMNS = ("rsrp_dbm", "rsrq_db", "sinr_db", "dl_mbps", "ul_mbps")
#: (kpi key, threshold key, comparison) of the alert rules.
RULES = (
    ("coverage_rate", "coverage_rate_min", "<"),
    ("drop_rate", "drop_rate_max", ">"),
    ("ho_success_rate", "ho_success_rate_min", "<"),
    ("dl_mbps_p50", "dl_mbps_p50_min", "<"),
)


@dataclass
class _Follower:
    path: Path
    offset: int = 0
    line: int = 1
    plan: FilePlan | None = None
    validator: Validator | None = None
    norm: Normaliser | None = None
    n_events_taken: int = 0
    failed: str | None = None


@dataclass
class WatchState:
    """Counters since the watch started, and the recent rows kept for the window."""

    samples: pd.DataFrame = field(default_factory=pd.DataFrame)
    events: pd.DataFrame = field(default_factory=pd.DataFrame)
    n_read: int = 0
    n_accepted: int = 0
    n_covered: int = 0
    n_coverage_samples: int = 0
    event_counts: dict = field(default_factory=dict)
    breached: dict = field(default_factory=dict)  # (scope, kpi) -> bool
    n_alerts: int = 0


class Watcher:
    """Follows the logs in ``folder`` and evaluates rolling KPIs and alerts.

    Parameters
    ----------
    folder : path
        Folder the drive-test tool writes logs into.
    profile : str, Path or Profile
        Thresholds and ``[watch]`` settings (``lte``, ``nr`` or a TOML).
    alerts_path : path, optional
        Alerts are appended here as JSON lines.
    emit : callable, optional
        Receives each report and alert line (the CLI passes ``print``).
    fmt : str
        Log format, as for ``netqa ingest`` (default auto-detect).
    """

    def __init__(self, folder, profile="lte", alerts_path=None, emit: Callable[[str], None] | None = None, fmt: str = "auto",
                 tz: str | None = None):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise InputError(f"{self.folder}: not a folder; netqa watch follows the logs written into a folder")
        self.profile = load_profile(profile)
        w = self.profile.watch
        self.window_ns = int(float(w.get("window_s", 60.0)) * 1e9)
        self.min_samples = int(w.get("min_samples", 10))
        self.alerts_path = Path(alerts_path) if alerts_path else None
        self.emit = emit or (lambda line: None)
        self.fmt, self.tz = fmt, tz
        self.followers: dict[Path, _Follower] = {}
        self.rejects = RejectLog()
        self.state = WatchState()

    # ------------------------------------------------------------------ reading
    def _scan(self) -> None:
        for p in sorted(self.folder.iterdir()):
            if p.is_file() and p.suffix.lower() in LOG_SUFFIXES and p.suffix.lower() not in (".parquet", ".geoparquet") and p not in self.followers:
                self.followers[p] = _Follower(p)

    def _read_new(self, f: _Follower) -> tuple[Batch | None, list[dict]]:
        if f.failed:
            return None, []
        try:
            size = f.path.stat().st_size
        except FileNotFoundError:
            return None, []
        if size <= f.offset:
            return None, []
        if is_events_file(f.path):
            return None, self._read_events(f, size)
        if f.plan is None:
            if not _header_complete(f.path):
                return None, []
            try:
                mapping = resolve_format(self.fmt, f.path)
                f.plan = plan_file(f.path, mapping)
            except NetQAError as exc:
                if "no header" in str(exc) or "empty" in str(exc):
                    return None, []  # header not complete yet
                f.failed = str(exc)
                self.emit(f"watch: skipping {f.path.name}: {exc}")
                return None, []
            f.offset, f.line = f.plan.data_offset, f.plan.header_line + 1
            f.validator = Validator(str(f.path), self.rejects)
            f.norm = Normaliser(f.path.stem, derive_events=True)
            f.norm.hold = False
        with open(f.path, "rb") as fh:
            fh.seek(f.offset)
            data = fh.read(size - f.offset)
        cut = data.rfind(b"\n")
        if cut < 0:
            return None, []  # only a half-written line so far
        block = data[: cut + 1]
        f.offset += len(block)
        try:
            batch, n_read = parse_block(block, f.line, f.plan, self.rejects, self.tz)
        except NetQAError as exc:
            f.failed = str(exc)
            self.emit(f"watch: skipping {f.path.name}: {exc}")
            return None, []
        f.line += block.count(b"\n")
        self.state.n_read += n_read
        try:
            out = f.norm.push(f.validator.check(batch))
        except NetQAError as exc:
            f.failed = str(exc)
            self.emit(f"watch: skipping {f.path.name}: {exc}")
            return None, []
        new_events = f.norm.events.rows[f.n_events_taken:] if len(f.norm.events) > f.n_events_taken else []
        f.n_events_taken = len(f.norm.events)
        return out, list(new_events)

    def _read_events(self, f: _Follower, size: int) -> list[dict]:
        import csv

        with open(f.path, "rb") as fh:
            fh.seek(f.offset)
            data = fh.read(size - f.offset)
        cut = data.rfind(b"\n")
        if cut < 0:
            return []
        block = data[: cut + 1].decode("utf-8", "replace")
        f.offset += cut + 1
        rows = list(csv.reader(block.splitlines()))
        if f.plan is None:  # the header
            if not rows:
                return []
            f.plan = rows[0]  # type: ignore[assignment]
            rows = rows[1:]
        header = list(f.plan)  # type: ignore[arg-type]
        out = []
        for r in rows:
            d = dict(zip(header, r))
            t = pd.to_datetime(d.get("time"), utc=True, errors="coerce")
            if pd.isna(t) or not d.get("event"):
                continue
            out.append({"time": t.value, "session": d.get("session") or f.path.name.split(".events.")[0], "event": d["event"].strip()})
        return out

    # ------------------------------------------------------------------ KPIs
    def poll_once(self) -> list[dict]:
        """Read what is new, update the state, return the alerts raised now."""
        self._scan()
        batches, events = [], []
        for f in self.followers.values():
            b, ev = self._read_new(f)
            if b is not None and len(b):
                batches.append(b)
            events.extend(ev)
        st = self.state
        if batches:
            frames = []
            for b in batches:
                d = {c: b.cols[c] for c in KEEP_COLUMNS if c in b.cols}
                d["time"] = b.cols["time"]
                d["session"] = b.cols["session"].to_numpy(zero_copy_only=False)
                d["activity"] = b.cols["activity"].to_numpy(zero_copy_only=False) if "activity" in b.cols else None
                if "connected" in b.cols:  # 1 / 0 / -1 unknown -> True / False / None (period_mask reads it)
                    c = b.cols["connected"]
                    d["connected"] = np.where(c < 0, None, c == 1).astype(object)
                frames.append(pd.DataFrame(d))
            new = pd.concat(frames, ignore_index=True)
            st.n_accepted += len(new)
            k = compute_kpis(new, None, self.profile)
            st.n_covered += k["n_covered"]
            st.n_coverage_samples += k["n_coverage_samples"]
            st.samples = pd.concat([st.samples, new], ignore_index=True) if len(st.samples) else new
        if events:
            ev = pd.DataFrame(events)[["time", "session", "event"]]
            for e, n in ev["event"].value_counts().items():
                st.event_counts[e] = st.event_counts.get(e, 0) + int(n)
            st.events = pd.concat([st.events, ev], ignore_index=True) if len(st.events) else ev
        self._trim()
        return self._evaluate()

    def _trim(self) -> None:
        st = self.state
        if not len(st.samples):
            return
        latest = int(st.samples["time"].max())
        if len(st.events):
            latest = max(latest, int(st.events["time"].max()))
        st.samples = st.samples[st.samples["time"] >= latest - self.window_ns].reset_index(drop=True)
        if len(st.events):
            st.events = st.events[st.events["time"] >= latest - self.window_ns].reset_index(drop=True)

    def window_kpis(self) -> dict[str, dict]:
        """KPIs over the current window: ``overall`` and one entry per session."""
        st = self.state
        out = {"overall": compute_kpis(st.samples, st.events if len(st.events) else None, self.profile)}
        if len(st.samples):
            for s, d in st.samples.groupby("session"):
                e = st.events[st.events["session"] == s] if len(st.events) else None
                out[str(s)] = compute_kpis(d, e, self.profile)
        return out

    def _evaluate(self) -> list[dict]:
        w = self.profile.watch
        alerts = []
        latest = int(self.state.samples["time"].max()) if len(self.state.samples) else None
        for scope, k in self.window_kpis().items():
            for key, tkey, op in RULES:
                if tkey not in w:
                    continue
                value, thr = k.get(key), float(w[tkey])
                enough = {"coverage_rate": k["n_coverage_samples"] >= self.min_samples,
                          "dl_mbps_p50": k["n_dl_samples"] >= self.min_samples}.get(key, True)
                if value is None or not enough:
                    continue
                bad = value < thr if op == "<" else value > thr
                was = self.state.breached.get((scope, key), False)
                if bad != was:
                    self.state.breached[(scope, key)] = bad
                    alerts.append(self._alert(scope, key, value, thr, op, k, latest, "breached" if bad else "recovered"))
        return alerts

    def _alert(self, scope, key, value, thr, op, k, latest, status) -> dict:
        num_den = {"coverage_rate": ("n_covered", "n_coverage_samples"), "drop_rate": ("n_drops", "n_calls"),
                   "ho_success_rate": ("n_ho_success", "n_ho_attempts"), "dl_mbps_p50": (None, "n_dl_samples")}[key]
        a = {
            "time": None if latest is None else pd.Timestamp(latest, tz="UTC").isoformat(),
            "scope": scope, "kpi": key, "status": status, "value": value, "threshold": thr, "op": op,
            "window_s": self.window_ns / 1e9,
            "numerator": k.get(num_den[0]) if num_den[0] else None, "denominator": k.get(num_den[1]),
        }
        self.state.n_alerts += 1
        word = "ALERT" if status == "breached" else "recovered"
        self.emit(f"{word} [{scope}] {key} {value:.3f} {op} {thr:g} over the last {a['window_s']:g} s"
                  if status == "breached" else f"{word} [{scope}] {key} {value:.3f} back within {thr:g}")
        if self.alerts_path is not None:
            self.alerts_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.alerts_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(a) + "\n")
        return a

    def report_lines(self) -> list[str]:
        """One rolling-KPI line per session and one overall."""
        def fmt(v, p=3):
            return "null" if v is None else f"{v:.{p}f}"

        lines = []
        for scope, k in self.window_kpis().items():
            lines.append(f"[{scope}] n={k['n_samples']} coverage={fmt(k['coverage_rate'])} rsrp_mean={fmt(k['rsrp_dbm_mean'], 1)} dBm "
                         f"drop={fmt(k['drop_rate'])} ho_success={fmt(k['ho_success_rate'])} dl_p50={fmt(k['dl_mbps_p50'], 2)} Mbit/s")
        return lines

    def summary(self) -> dict:
        """Totals since the start: rows read/accepted/rejected, coverage and event rates."""
        st = self.state
        ev = st.event_counts
        n_calls = ev.get("call_attempt", 0) - ev.get("call_setup_failure", 0) if ev.get("call_attempt") else ev.get("call_drop", 0) + ev.get("call_end", 0)
        n_ho = ev.get("ho_attempt", 0) or ev.get("ho_success", 0) + ev.get("ho_failure", 0)
        return {
            "files": len(self.followers), "n_read": st.n_read, "n_accepted": st.n_accepted, "n_rejected": self.rejects.n_rejected,
            "coverage_rate": st.n_covered / st.n_coverage_samples if st.n_coverage_samples else None,
            "n_covered": st.n_covered, "n_coverage_samples": st.n_coverage_samples,
            "n_calls": n_calls, "n_drops": ev.get("call_drop", 0), "drop_rate": ev.get("call_drop", 0) / n_calls if n_calls else None,
            "n_ho_attempts": n_ho, "n_ho_success": ev.get("ho_success", 0),
            "ho_success_rate": ev.get("ho_success", 0) / n_ho if n_ho else None, "n_alerts": st.n_alerts,
        }

    def run(self, interval_s: float = 5.0, stop: Callable[[], bool] | None = None, max_s: float | None = None) -> dict:
        """Poll every ``interval_s`` until ``stop()`` is true, ``max_s`` passed, or Ctrl-C; return :meth:`summary`."""
        if interval_s <= 0:
            raise InputError(f"--interval-s {interval_s}: must be > 0 seconds")
        t0 = time.monotonic()
        try:
            while True:
                self.poll_once()
                for line in self.report_lines():
                    self.emit(line)
                if stop is not None and stop():
                    break
                if max_s is not None and time.monotonic() - t0 >= max_s:
                    break
                time.sleep(interval_s)
        except KeyboardInterrupt:
            pass
        self.poll_once()
        return self.summary()


def _header_complete(path: Path) -> bool:
    """True once the first line that is neither blank nor a '#' comment ends with a newline."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    for line in head.splitlines(keepends=True):
        if not line.strip() or line.lstrip().startswith(b"#"):
            continue
        return line.endswith(b"\n")
    return False


def watch(folder, profile="lte", interval_s: float = 5.0, alerts_path=None, emit=None, stop=None, max_s=None, fmt="auto", tz=None) -> dict:
    """Follow ``folder`` until stopped (Ctrl-C, ``stop()`` or ``max_s``); return the final summary."""
    return Watcher(folder, profile, alerts_path, emit, fmt, tz).run(interval_s, stop, max_s)
