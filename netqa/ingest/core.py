"""The ingest stage: logs -> validated, normalised GeoParquet samples, events and rejects.

``ingest_logs`` runs every log of a run into one output set (one log at a
time through :mod:`netqa.ingest.stream`); ``read_log`` is the in-memory
convenience.  The package layout is in :mod:`netqa.ingest`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from netqa.errors import InputError, LogFormatError, NetQAError
from netqa.fileio import atomic_set, check_output
from netqa.ingest.batch import RejectLog
from netqa.ingest.blocks import BLOCK_BYTES
from netqa.ingest.cellmatch import CellMatcher
from netqa.ingest.duplicates import SeenRows
from netqa.ingest.files import companion_events, events_path_for, expand_inputs, is_events_file, rejects_path_for, session_name
from netqa.ingest.load import load_samples
from netqa.ingest.normalise import Normaliser
from netqa.ingest.sideinputs import load_cells, read_events_file
from netqa.ingest.stream import ingest_file
from netqa.ingest.writer import SampleWriter, write_events, write_rejects
from netqa.progress import Progress
from netqa.schema import EVENT_COLUMNS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestResult:
    """Counts and paths of one ingest run; ``n_read == n_accepted + n_rejected``."""

    out: Path
    events_path: Path | None
    rejects_path: Path
    n_read: int
    n_accepted: int
    n_rejected: int
    n_cleared: int = 0
    n_events_read: int = 0
    n_events_accepted: int = 0
    n_events_rejected: int = 0
    n_events_derived: int = 0
    n_interpolated: int = 0
    n_sessions: int = 0
    n_cells_matched: int | None = None
    n_cells_unmatched: int | None = None
    files: tuple[str, ...] = ()
    files_failed: tuple[tuple[str, str], ...] = ()
    reasons: dict = field(default_factory=dict)
    files_latlon_swapped: tuple[str, ...] = ()  # logs refused: they fit the cell table only with lat/lon exchanged
    files_tz_assumed_utc: tuple[str, ...] = ()  # local-time logs read as UTC because no zone was given

    def summary(self) -> str:
        """The one-line reconciliation ``read N, accepted A, rejected R``."""
        return f"read {self.n_read}, accepted {self.n_accepted}, rejected {self.n_rejected}"


def ingest_logs(logs, out, *, fmt: str | None = "auto", cells=None, tz: str | None = None,
                overwrite: bool = False, gap_s: float = 120.0, max_fix_gap_s: float = 120.0,
                block_bytes: int = BLOCK_BYTES, track=None, track_max_gap_s: float | None = None) -> IngestResult:
    """Read, validate and normalise drive-test logs into canonical GeoParquet samples.

    Parameters
    ----------
    logs : sequence of path
        Log files or folders (``*.events.csv`` files are read as explicit events).
    out : path
        Samples GeoParquet to write; ``.events.parquet`` and ``.rejects.csv`` go beside it.
    fmt : str
        ``auto``, ``netqa``, ``gnettrack``, ``networksurvey``, ``nemo`` or a mapping TOML path.
    cells : path or DataFrame, optional
        Cell table to match serving cells against.
    tz : str, optional
        IANA zone of naive local timestamps (default: the mapping's, UTC).
    gap_s : float
        A time gap longer than this splits a session. [s]
    max_fix_gap_s : float
        GPS fixes further apart than this are not interpolated between. [s]
    track : path or Track, optional
        GPX or NMEA track whose positions are joined by time onto the samples
        (:mod:`netqa.ingest.track`); samples it cannot place are rejected.
    track_max_gap_s : float, optional
        Longest gap between track fixes interpolated across (default
        :data:`netqa.ingest.track.DEFAULT_MAX_GAP_S`). [s]

    Returns
    -------
    IngestResult
        Counts (``read == accepted + rejected``), output paths, failed files.
    """
    out = Path(out)
    ev_path, rj_path = events_path_for(out), rejects_path_for(out)
    for p in (out, ev_path, rj_path):
        check_output(p, overwrite)
    paths = expand_inputs(logs)
    if not paths:
        named = ", ".join(str(x) for x in ([logs] if isinstance(logs, (str, Path)) else logs))
        raise InputError(f"{named}: no log files (folders hold no .csv/.txt/.parquet/.nmf files)")
    from netqa.ingest.track import DEFAULT_MAX_GAP_S, Track, read_track

    track_gap = DEFAULT_MAX_GAP_S if track_max_gap_s is None else float(track_max_gap_s)
    if track is not None and not isinstance(track, Track):
        track = read_track(track)
        log.info("--track %s: %d points, %d with a fix", track.source, len(track), track.n_fixes)
        if track.n_skipped:
            log.warning("--track %s: %d points or sentences skipped (%s)", track.source, track.n_skipped,
                        ", ".join(f"{k}: {v}" for k, v in track.skipped.items()))
    cell_df = load_cells(cells)
    matcher = CellMatcher(cell_df) if cell_df is not None else None
    rejects, ev_rejects = RejectLog(), RejectLog()
    log_paths = [p for p in paths if not is_events_file(p)]
    event_paths = {p.resolve(): p for p in paths if is_events_file(p)}
    for p in log_paths:
        c = companion_events(p)
        if c is not None:
            event_paths.setdefault(c.resolve(), c)
    failed: list[tuple[str, str]] = []
    n_read = n_acc = 0
    all_events: list[pd.DataFrame] = []
    n_ev_read = 0
    n_interp = 0
    n_sessions = 0
    normalisers: dict[Path, Normaliser] = {}
    swapped_files: list[str] = []
    tz_assumed: list[str] = []
    fit_as_given: list[str] = []  # logs whose positions fit the cell table as given
    cells_label = str(cells) if cells is not None and not isinstance(cells, pd.DataFrame) else "the cell table"
    seen = SeenRows()  # rows kept so far: a row repeated anywhere in the run is a duplicate
    # samples, events and rejects are one output set: all three change together or none (netqa.fileio.atomic_set)
    with atomic_set([out, ev_path, rj_path]) as outputs:
        writer = SampleWriter(outputs.path(out), with_cells=matcher is not None)
        with Progress("ingest", total=len(log_paths), unit="files") as bar:
            for p in log_paths:
                r0, w0 = rejects.n_rejected, writer.n
                norm = None
                try:
                    explicit = companion_events(p) is not None
                    norm = Normaliser(session_name(p), gap_s=gap_s, max_fix_gap_s=max_fix_gap_s, derive_events=not explicit,
                                      cell_matcher=matcher, file=str(p), cells_name=cells_label)
                    info: dict = {}
                    nr, na = ingest_file(p, fmt, tz, rejects, norm, writer, block_bytes, info, seen, track=track,
                                         track_gap_s=track_gap)  # fmt: skip
                    if info.get("tz_assumed_utc"):
                        tz_assumed.append(str(p))
                    n_read += nr
                    n_acc += na
                    if nr != na + (rejects.n_rejected - r0):  # pragma: no cover - a bug if it happens
                        log.error("%s: counts do not reconcile: read %d, accepted %d, rejected %d", p, nr, na, rejects.n_rejected - r0)
                    normalisers[p.resolve()] = norm
                    if norm.swap is not None and norm.swap.swapped is False:
                        fit_as_given.append(str(p))
                    n_interp += norm.n_interpolated
                    n_sessions += len(norm.segments)
                    if len(norm.events):
                        d = norm.events.frame()
                        d["time"] = pd.to_datetime(d["time"], utc=True)
                        d["source"] = getattr(norm, "event_source", "derived")
                        all_events.append(d)
                    log.debug("%s: read %d, accepted %d", p, nr, na)
                except NetQAError as exc:
                    if norm is not None and norm.swap is not None and norm.swap.swapped:
                        swapped_files.append(str(p))
                    msg = str(exc)
                    if str(p) not in msg:
                        msg = f"{p}: {msg}"
                    # a file that fails part-way keeps what was already settled, so the counts still
                    # reconcile: rows written count as read and accepted, rows quarantined as read and rejected
                    written, rejected = writer.n - w0, rejects.n_rejected - r0
                    if written or rejected:
                        n_read += written + rejected
                        n_acc += written
                        msg += f" (stopped part-way: {written} rows already written, {rejected} rejected, are kept and counted)"
                    failed.append((str(p), msg))
                bar.update(1)
        writer.close()
        if swapped_files and not fit_as_given:  # every log disagrees with the table the same way: the table is at fault
            raise InputError(
                f"{cells_label}: the cell table's latitude and longitude look exchanged: the log(s) {', '.join(swapped_files[:3])}"
                f"{' ...' if len(swapped_files) > 3 else ''} fit it only with the two swapped and no log fits it as given; "
                "fix the table's lat/lon columns (nothing was written)")
        n_derived = sum(len(d) for d in all_events)
        for key, ep in event_paths.items():
            try:
                ev, n = read_events_file(ep, ev_rejects, tz)
            except NetQAError as exc:
                failed.append((str(ep), str(exc)))
                continue
            n_ev_read += n
            log_p = next((lp for lp in log_paths if companion_events(lp) is not None and companion_events(lp).resolve() == key), None)
            norm = normalisers.get(log_p.resolve()) if log_p is not None else None
            if norm is not None:
                if ev["session"].isna().all():
                    ev["session"] = norm.file_session
                ev = norm.relabel_events(ev)
            all_events.append(ev)
        if not n_acc and len(failed) == len(log_paths) + 0 and log_paths:
            raise LogFormatError("; ".join(m for _, m in failed) if failed else "no rows could be read")
        for _, msg in failed:  # logged once here: when every file failed, the error above says it once
            log.error("%s", msg)
        events = pd.concat(all_events, ignore_index=True) if all_events else None
        if events is not None and len(events):
            events = events.sort_values("time", kind="stable").reset_index(drop=True)
            write_events(events, outputs.path(ev_path))
        import pyarrow as pa

        write_rejects(pa.concat_tables([rejects.table(), ev_rejects.table()]), outputs.path(rj_path))
    n_ev_acc = (0 if events is None else int((events["source"] == "explicit").sum()))
    reasons = dict(rejects.reasons)
    for k, v in ev_rejects.reasons.items():
        reasons[f"events {k}"] = v
    return IngestResult(
        out=out,
        events_path=ev_path if events is not None and len(events) else None,
        rejects_path=rj_path,
        n_read=n_read,
        n_accepted=n_acc,
        n_rejected=rejects.n_rejected,
        n_cleared=rejects.n_cleared,
        n_events_read=n_ev_read,
        n_events_accepted=n_ev_acc,
        n_events_rejected=ev_rejects.n_rejected,
        n_events_derived=n_derived,
        n_interpolated=n_interp,
        n_sessions=n_sessions,
        n_cells_matched=matcher.n_matched if matcher else None,
        n_cells_unmatched=matcher.n_unmatched if matcher else None,
        files=tuple(str(p) for p in log_paths),
        files_failed=tuple(failed),
        reasons=reasons,
        files_latlon_swapped=tuple(swapped_files),
        files_tz_assumed_utc=tuple(tz_assumed),
    )


def read_log(path, fmt: str | None = "auto", tz: str | None = None, gap_s: float = 120.0):
    """One log in memory: (samples DataFrame, events DataFrame, rejects DataFrame).

    A convenience for notebooks and small logs; ``ingest_logs`` streams to disk.
    """
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        res = ingest_logs([path], Path(d) / "s.parquet", fmt=fmt, tz=tz, gap_s=gap_s)
        if res.files_failed:
            raise LogFormatError(res.files_failed[0][1])
        samples = load_samples(res.out)
        events = pd.read_parquet(res.events_path) if res.events_path else pd.DataFrame(columns=list(EVENT_COLUMNS))
        rejects = pd.read_csv(res.rejects_path, dtype={"value": str})
    return samples, events, rejects
