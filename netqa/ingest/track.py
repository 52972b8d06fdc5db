"""GPS tracks (GPX 1.1, NMEA 0183 GGA/RMC) and their time join onto a measurement log.

A scanner or modem log often has no positions of its own; a GPS logger ran
beside it.  ``netqa ingest LOG --track TRACK.gpx`` places each sample at the
track's position at the sample's time:

* a sample at a fix's time takes that fix;
* a sample between two consecutive fixes at most ``max_gap_s`` apart
  (default :data:`DEFAULT_MAX_GAP_S`, flag ``--track-max-gap-s``) is
  interpolated linearly in latitude and longitude (over a few seconds of
  driving the great-circle and the straight line differ by millimetres) and
  flagged ``gps_interpolated``;
* a sample before the first fix, after the last fix, in a longer gap, or next
  to a point without a fix (GGA quality 0, RMC status V, GPX ``<fix>none``) is
  quarantined to the rejects file with the reason: never interpolated across a
  non-fix.

Formats and their sources:

* GPX 1.1 (Topografix, https://www.topografix.com/GPX/1/1/): ``trkpt`` (and
  ``rtept``/``wpt`` when a file has no track) with ``lat``/``lon`` attributes,
  ``<time>`` (ISO 8601, UTC) and optional ``<fix>`` (none, 2d, 3d, dgps, pps).
  Read with the standard library's XML parser: GPX needs four elements, and
  expat refuses external entities and (since 2.4.1) entity-expansion bombs, so
  a dependency such as gpxpy would add nothing needed here.
* NMEA 0183 (NMEA 0183 v4.10; sentence layouts as in the gpsd project's
  "NMEA 0183 revealed"): GGA (time, position, fix quality) and RMC (time,
  status, position, speed, date), any talker (GP, GN, GL, GA, BD), parsed and
  checksum-checked with ``pynmea2``.  A sentence with a bad checksum or that
  does not parse is skipped and counted (``--track`` summary), never used.
  GGA carries no date: it takes the date of the nearest RMC.
"""

from __future__ import annotations

import logging
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from netqa.errors import LogFormatError
from netqa.ingest.batch import NAT, Batch, RejectLog

log = logging.getLogger(__name__)

#: Longest time between two fixes that a sample may be interpolated across [s].
#: Phones and loggers record every 1 s; 10 s allows a few dropped fixes while
#: the straight-line error stays small at town speeds (a 90-degree turn at
#: 30 km/h inside 10 s displaces the chord midpoint by at most ~30 m).
DEFAULT_MAX_GAP_S = 10.0

NS = 1_000_000_000


@dataclass
class Track:
    """Time-ordered GPS points: ``time`` int64 ns UTC, ``lat``/``lon`` [deg], ``fix`` bool.

    Points without a fix keep their time (with NaN position) so that no
    sample is interpolated across them.
    """

    time: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    fix: np.ndarray
    source: str = ""
    n_skipped: int = 0
    skipped: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        order = np.argsort(self.time, kind="stable")
        self.time, self.lat, self.lon, self.fix = (np.asarray(a)[order] for a in (self.time, self.lat, self.lon, self.fix))
        # a repeated time keeps its last point (a logger writing GGA and RMC for one epoch)
        if self.time.size:
            last = np.append(self.time[1:] != self.time[:-1], True)
            self.time, self.lat, self.lon, self.fix = self.time[last], self.lat[last], self.lon[last], self.fix[last]

    def __len__(self) -> int:
        return int(self.time.size)

    @property
    def n_fixes(self) -> int:
        return int(self.fix.sum())

    def locate(self, t_ns: np.ndarray, max_gap_s: float = DEFAULT_MAX_GAP_S):
        """Positions at times ``t_ns`` (int64 ns UTC).

        Returns
        -------
        lat, lon : numpy.ndarray
            [deg]; NaN where the sample is not placed.
        interpolated : numpy.ndarray of bool
            Placed between two fixes (not on one).
        reason : numpy.ndarray of object
            None where placed, otherwise why not.
        """
        if not (max_gap_s >= 0 and math.isfinite(max_gap_s)):
            raise LogFormatError(f"--track-max-gap-s {max_gap_s!r}: must be a finite number >= 0")
        t = np.asarray(t_ns, dtype=np.int64)
        n = t.size
        lat = np.full(n, np.nan)
        lon = np.full(n, np.nan)
        interp = np.zeros(n, dtype=bool)
        reason = np.full(n, None, dtype=object)
        if n == 0:
            return lat, lon, interp, reason
        tt = self.time
        if tt.size == 0 or not self.fix.any():
            reason[:] = f"GPS track {self.source} has no fix"
            return lat, lon, interp, reason
        fix_t = tt[self.fix]
        missing_t = t == NAT
        # q = first point at or after t; p = q - 1 (last point before t)
        q = np.searchsorted(tt, t, side="left")
        exact = (q < tt.size) & (tt[np.minimum(q, tt.size - 1)] == t) & ~missing_t
        qc = np.minimum(q, tt.size - 1)
        pc = np.maximum(q - 1, 0)
        before = (t < fix_t[0]) & ~missing_t
        after = (t > fix_t[-1]) & ~missing_t
        on_fix = exact & self.fix[qc]
        on_nonfix = exact & ~self.fix[qc]
        between = ~missing_t & ~before & ~after & ~exact & (q > 0) & (q < tt.size)
        gap_ns = np.where(between, tt[qc] - tt[pc], 0)
        both_fix = self.fix[pc] & self.fix[qc]
        ok = between & both_fix & (gap_ns <= max_gap_s * NS)
        lat[on_fix], lon[on_fix] = self.lat[qc[on_fix]], self.lon[qc[on_fix]]
        if ok.any():
            w = (t[ok] - tt[pc[ok]]) / (tt[qc[ok]] - tt[pc[ok]])
            lat[ok] = self.lat[pc[ok]] + w * (self.lat[qc[ok]] - self.lat[pc[ok]])
            lon[ok] = _lon_interp(self.lon[pc[ok]], self.lon[qc[ok]], w)
            interp[ok] = True
        first, last = _iso(fix_t[0]), _iso(fix_t[-1])
        reason[before] = f"before the GPS track (first fix {first})"
        reason[after] = f"after the GPS track (last fix {last})"
        reason[on_nonfix] = "GPS track point without a fix at this time"
        nonfix_gap = between & ~both_fix
        reason[nonfix_gap] = "next to a GPS track point without a fix; not interpolated across a non-fix"
        long_gap = between & both_fix & ~ok
        if long_gap.any():
            reason[long_gap] = [f"in a {g / NS:.1f} s gap of the GPS track (longer than --track-max-gap-s {max_gap_s:g})" for g in gap_ns[long_gap]]
        reason[missing_t] = "no time to join the GPS track on"
        return lat, lon, interp, reason

    def join(self, b: Batch, rejects: RejectLog, file: str, max_gap_s: float = DEFAULT_MAX_GAP_S) -> Batch:
        """Fill ``lat``/``lon`` of batch ``b`` from the track; quarantine the rows it cannot place."""
        lat, lon, interp, reason = self.locate(b.cols["time"], max_gap_s)
        bad = np.isnan(lat)  # a placed sample always has a finite position (fixes have one)
        if bad.any():
            vals = _iso_many(b.cols["time"][bad])
            rejects.add(file, b.line[bad], "time", vals, reason[bad].tolist(), key="outside the GPS track or in a gap")
        b.cols["lat"], b.cols["lon"] = lat, lon
        b.cols["gps_interpolated"] = interp
        return b.take(~bad) if bad.any() else b


def _lon_interp(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Longitude interpolation the short way round the antimeridian [deg]."""
    d = (b - a + 180.0) % 360.0 - 180.0
    out = a + w * d
    return (out + 180.0) % 360.0 - 180.0


def _iso(ns: int) -> str:
    return pd.Timestamp(int(ns), tz="UTC").isoformat().replace("+00:00", "Z")


def _iso_many(ns: np.ndarray) -> list[str]:
    return [None if v == NAT else _iso(v) for v in np.asarray(ns).tolist()]


# --------------------------------------------------------------------------- readers


def read_track(path) -> Track:
    """A GPX or NMEA track by its content (``<gpx`` root, or ``$..GGA``/``$..RMC`` sentences)."""
    p = Path(path)
    try:
        head = p.read_bytes()[:4096]
    except OSError as exc:
        raise LogFormatError(f"--track {p}: cannot be read ({exc.strerror})") from None
    text = head.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    if text.startswith("<") and "<gpx" in text:
        return read_gpx(p)
    if "GGA," in text or "RMC," in text:
        return read_nmea(p)
    raise LogFormatError(f"--track {p}: neither GPX (no <gpx> root) nor NMEA 0183 (no GGA/RMC sentence in the first 4 kB)")


_FIXLESS = {"none"}


def read_gpx(path) -> Track:
    """GPX 1.1 (or 1.0) track points; ``<fix>none</fix>`` points are non-fixes."""
    p = Path(path)
    try:
        root = ET.parse(p).getroot()
    except ET.ParseError as exc:
        raise LogFormatError(f"--track {p}: not well-formed GPX ({exc})") from None
    except OSError as exc:
        raise LogFormatError(f"--track {p}: cannot be read ({exc.strerror})") from None
    if not root.tag.endswith("gpx"):
        raise LogFormatError(f"--track {p}: root element is <{root.tag}>, not <gpx>")
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    pts = root.findall(f".//{ns}trkpt") or root.findall(f".//{ns}rtept") or root.findall(f".//{ns}wpt")
    texts, lats, lons, fixes = [], [], [], []
    skipped: dict[str, int] = {}
    for el in pts:
        tx = el.findtext(f"{ns}time")
        try:
            la, lo = float(el.get("lat")), float(el.get("lon"))
        except (TypeError, ValueError):
            skipped["point without a numeric lat/lon"] = skipped.get("point without a numeric lat/lon", 0) + 1
            continue
        if tx is None:
            skipped["point without <time>"] = skipped.get("point without <time>", 0) + 1
            continue
        fix_el = el.findtext(f"{ns}fix")
        ok = not (fix_el is not None and fix_el.strip().lower() in _FIXLESS) and abs(la) <= 90 and abs(lo) <= 180
        texts.append(tx.strip())
        lats.append(la if ok else np.nan)
        lons.append(lo if ok else np.nan)
        fixes.append(ok)
    parsed = pd.to_datetime(pd.Series(texts, dtype=object), utc=True, errors="coerce", format="ISO8601")
    good = parsed.notna().to_numpy()
    if (~good).any():
        skipped["unparseable <time>"] = int((~good).sum())
    times = parsed[good].to_numpy("datetime64[ns]").view(np.int64) if good.any() else []
    lats, lons, fixes = (np.asarray(a)[good] for a in (lats, lons, fixes)) if len(texts) else ([], [], [])
    if not len(times):
        raise LogFormatError(f"--track {p}: no track point with a time ({sum(skipped.values())} points skipped)")
    return Track(np.array(times, np.int64), np.array(lats), np.array(lons), np.array(fixes, bool),
                 source=str(p), n_skipped=sum(skipped.values()), skipped=skipped)


def read_nmea(path) -> Track:
    """NMEA 0183 GGA and RMC sentences (checksums required and checked)."""
    import pynmea2

    p = Path(path)
    try:
        lines = p.read_text(encoding="ascii", errors="replace").splitlines()
    except OSError as exc:
        raise LogFormatError(f"--track {p}: cannot be read ({exc.strerror})") from None
    skipped: dict[str, int] = {}
    recs = []  # (kind, time, date or None, lat, lon, fix)

    def skip(why: str) -> None:
        skipped[why] = skipped.get(why, 0) + 1

    for line in lines:
        s = line.strip()
        i = s.find("$")
        if i < 0:
            continue
        s = s[i:]
        kind = s[3:6]
        if kind not in ("GGA", "RMC"):
            continue
        if "*" not in s:
            skip("sentence without checksum")
            continue
        try:
            msg = pynmea2.parse(s, check=True)
        except pynmea2.ChecksumError:
            skip("bad checksum")
            continue
        except (pynmea2.ParseError, ValueError, AttributeError):
            skip("unparseable sentence")
            continue
        try:
            if msg.timestamp is None:
                skip("sentence without time")
                continue
            if kind == "GGA":
                q = int(msg.gps_qual or 0)
                fix = q > 0 and q != 6  # 6 = dead reckoning (estimated), not a measured fix
                date = None
            else:
                fix = msg.status == "A"
                date = msg.datestamp
            la, lo = (float(msg.latitude), float(msg.longitude)) if fix and msg.lat and msg.lon else (np.nan, np.nan)
        except (ValueError, TypeError, AttributeError):
            skip("unparseable sentence")
            continue
        recs.append((kind, msg.timestamp, date, la, lo, bool(fix and np.isfinite(la))))
    if not recs:
        raise LogFormatError(f"--track {p}: no valid GGA or RMC sentence ({sum(skipped.values())} skipped: {skipped})")
    dated = [i for i, r in enumerate(recs) if r[2] is not None]
    if not dated:
        raise LogFormatError(f"--track {p}: GGA sentences carry no date and the file has no RMC sentence to take it from")
    times = np.empty(len(recs), np.int64)
    k = 0
    for i, (kind, tod, date, *_rest) in enumerate(recs):
        while k + 1 < len(dated) and dated[k + 1] <= i:
            k += 1
        ref = recs[dated[k]]
        d = date if date is not None else ref[2]
        ts = pd.Timestamp.combine(d, tod).tz_localize("UTC") if tod.tzinfo is None else pd.Timestamp.combine(d, tod.replace(tzinfo=None)).tz_localize("UTC")
        if date is None:  # GGA: same day as its RMC, unless it lies across midnight from it
            ref_t = pd.Timestamp.combine(ref[2], ref[1].replace(tzinfo=None)).tz_localize("UTC")
            if (ts - ref_t).total_seconds() > 43200:
                ts -= pd.Timedelta(days=1)
            elif (ts - ref_t).total_seconds() < -43200:
                ts += pd.Timedelta(days=1)
        times[i] = ts.value
    return Track(times, np.array([r[3] for r in recs]), np.array([r[4] for r in recs]), np.array([r[5] for r in recs], bool),
                 source=str(p), n_skipped=sum(skipped.values()), skipped=skipped)
