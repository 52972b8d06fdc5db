"""The ingest stage: logs -> validated, normalised GeoParquet samples, events and rejects."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from netqa.errors import InputError, LogFormatError, NetQAError
from netqa.fileio import atomic_set, check_output, finish_pending_commits
from netqa.ingest.batch import RejectLog
from netqa.ingest.duplicates import SeenRows
from netqa.ingest.normalise import CellMatcher, Normaliser
from netqa.ingest.blocks import BLOCK_BYTES, iter_line_blocks
from netqa.ingest.plan import FilePlan, plan_file, resolve_format
from netqa.ingest.reader import iter_parquet_batches, parse_block
from netqa.ingest.validate import Validator
from netqa.ingest.writer import SampleWriter, write_events, write_rejects
from netqa.progress import Progress
from netqa.schema import EVENT_COLUMNS, EVENT_TYPES

log = logging.getLogger(__name__)

LOG_SUFFIXES = (".csv", ".txt", ".tsv", ".parquet", ".geoparquet", ".nmf")
#: Compressed text logs a folder contributes too (``drive.csv.gz``...; see netqa.ingest.source).
COMPRESSED_LOG_SUFFIXES = tuple(f"{a}{b}" for a in (".csv", ".txt", ".tsv") for b in (".gz", ".bz2", ".xz", ".zip"))


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


def events_path_for(out: str | os.PathLike) -> Path:
    """``SAMPLES.parquet`` -> ``SAMPLES.events.parquet``."""
    p = Path(out)
    return p.with_name(p.name[: -len(p.suffix)] + ".events.parquet" if p.suffix else p.name + ".events.parquet")


def rejects_path_for(out: str | os.PathLike) -> Path:
    """``SAMPLES.parquet`` -> ``SAMPLES.rejects.csv``."""
    p = Path(out)
    return p.with_name(p.name[: -len(p.suffix)] + ".rejects.csv" if p.suffix else p.name + ".rejects.csv")


def _session_name(p: Path) -> str:
    """The file's session name: its name without the log and compression suffixes (``d1.csv.gz`` -> ``d1``)."""
    name = p.name
    for sfx in COMPRESSED_LOG_SUFFIXES + LOG_SUFFIXES:
        if name.lower().endswith(sfx) and len(name) > len(sfx):
            return name[: -len(sfx)]
    return p.stem


def _is_events_file(p: Path) -> bool:
    name = p.name.lower()
    return ".events." in name


def expand_inputs(logs) -> list[Path]:
    """Files from the given paths; folders contribute their log files (sorted)."""
    out: list[Path] = []
    for item in logs:
        p = Path(item)
        if p.is_dir():
            out.extend(sorted(q for q in p.iterdir() if q.is_file() and (q.suffix.lower() in LOG_SUFFIXES
                                                                         or q.name.lower().endswith(COMPRESSED_LOG_SUFFIXES))))
        else:
            out.append(p)
    seen, uniq = set(), []
    for p in out:
        k = p.resolve()
        if k not in seen:
            seen.add(k)
            uniq.append(p)
    return uniq


def companion_events(p: Path) -> Path | None:
    """``LOG.csv`` -> ``LOG.events.csv`` (or ``.events.parquet``) when it exists."""
    for suffix in (".events.csv", ".events.parquet"):
        q = p.with_name(p.name[: -len(p.suffix)] + suffix)
        if q.is_file():
            return q
    return None


def _load_cells(cells):
    if cells is None:
        return None
    if isinstance(cells, pd.DataFrame):
        df = cells
    else:
        try:
            from netqa.io.cells import read_cells  # written in another issue
        except ImportError:
            read_cells = None
        if read_cells is not None:
            df = read_cells(cells)
        else:
            try:
                df = pd.read_csv(cells)
            except (OSError, ValueError) as exc:
                raise InputError(f"{cells}: cell table cannot be read ({exc})") from None
    missing = [c for c in ("cell_id", "lat", "lon") if c not in df.columns]
    if missing:
        raise InputError(f"{cells}: cell table lacks column(s) {missing} needed to match serving cells")
    return pd.DataFrame(df.drop(columns="geometry", errors="ignore"))


def read_events_file(path: Path, rejects: RejectLog, tz: str | None = None) -> tuple[pd.DataFrame, int]:
    """Explicit events (canonical Events columns) from CSV or Parquet; bad rows to ``rejects``."""
    try:
        if path.suffix.lower() in (".parquet", ".geoparquet"):
            df = pd.read_parquet(path)
            lines = np.arange(1, len(df) + 1)
        else:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#", skip_blank_lines=True)
            lines = np.arange(2, len(df) + 2)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise LogFormatError(f"{path}: events file cannot be read ({exc})") from None
    if "time" not in df.columns or "event" not in df.columns:
        raise LogFormatError(f"{path}: events file needs columns 'time' and 'event'; has {list(df.columns)[:12]}")
    n = len(df)
    f = str(path)
    t = pd.to_datetime(df["time"], utc=True, errors="coerce", format="ISO8601") if n else pd.Series([], dtype="datetime64[ns, UTC]")
    bad_t = t.isna().to_numpy()
    rejects.add(f, lines[bad_t], "time", df["time"][bad_t].astype(str).tolist(), "unparseable or missing event time")
    ev = df["event"].astype(str).str.strip()
    bad_e = ~ev.isin(EVENT_TYPES).to_numpy() & ~bad_t
    rejects.add(f, lines[bad_e], "event", ev[bad_e].tolist(), f"unknown event type (valid: {', '.join(EVENT_TYPES)})")
    keep = ~(bad_t | bad_e)
    out = pd.DataFrame({"time": t[keep].to_numpy()})
    out["time"] = pd.to_datetime(out["time"], utc=True)
    for c in ("lat", "lon"):
        out[c] = pd.to_numeric(df[c][keep], errors="coerce").to_numpy(np.float64) if c in df else np.nan
    for c in ("session", "cell_id", "target_cell_id"):
        if c in df:
            v = df[c][keep].astype(object).to_numpy()
            out[c] = pd.array([None if (x is None or str(x) in ("", "nan", "<NA>")) else str(x) for x in v], dtype="string")
        else:
            out[c] = pd.array([None] * int(keep.sum()), dtype="string")
    out["event"] = pd.array(ev[keep].tolist(), dtype="string")
    out["source"] = "explicit"
    return out, n


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
    cell_df = _load_cells(cells)
    matcher = CellMatcher(cell_df) if cell_df is not None else None
    rejects, ev_rejects = RejectLog(), RejectLog()
    log_paths = [p for p in paths if not _is_events_file(p)]
    event_paths = {p.resolve(): p for p in paths if _is_events_file(p)}
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
                    norm = Normaliser(_session_name(p), gap_s=gap_s, max_fix_gap_s=max_fix_gap_s, derive_events=not explicit,
                                      cell_matcher=matcher, file=str(p), cells_name=cells_label)
                    info: dict = {}
                    nr, na = _ingest_one(p, fmt, tz, rejects, norm, writer, block_bytes, info, seen, track=track,
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


def _ingest_one(path: Path, fmt, tz, rejects: RejectLog, norm: Normaliser, writer: SampleWriter, block_bytes: int,
                info: dict | None = None, seen: SeenRows | None = None, *, track=None,
                track_gap_s: float = 10.0) -> tuple[int, int]:
    if not path.exists():
        raise LogFormatError(f"{path}: file not found")
    n_read = n_acc = 0
    if _is_nemo(fmt, path):
        from netqa.ingest.nemo import read_nemo

        nl = read_nemo(path, rejects, tz, track, track_gap_s)
        validator = Validator(str(path), rejects, seen=seen)
        norm.derive_events, norm.event_source = False, "file"
        norm.n_interpolated += int(nl.batch.cols["gps_interpolated"].sum())
        n_acc += _write(writer, norm.push(validator.check(nl.batch)), path)
        n_acc += _write(writer, norm.flush(), path)
        ev = norm.relabel_events(nl.events)
        for kind, g in ev.groupby("event", sort=False):
            norm.events.add_many(g["time"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]").view("int64"),
                                 g["lat"], g["lon"], g["session"].astype(object), kind, g["cell_id"], g["target_cell_id"])
        return nl.n_read, n_acc
    if path.suffix.lower() in (".parquet", ".geoparquet"):
        validator = Validator(str(path), rejects, seen=seen)
        for plan, batch, nr in iter_parquet_batches(path, rejects):
            n_read += nr
            fin = norm.push(validator.check(batch))
            n_acc += _write(writer, fin, path)
    else:
        import tempfile

        from netqa.ingest.source import prepared_source

        with tempfile.TemporaryDirectory(prefix="netqa-ingest-") as work:
            src, steps = prepared_source(path, Path(work))  # compression, UTF-16, CR line ends -> UTF-8 lines
            if steps:
                log.info("%s: %s", path, ", ".join(steps))
            try:
                mapping = resolve_format(fmt, src)
                validator = Validator(str(path), rejects, mapping.declared_units, seen=seen)
                plan: FilePlan = plan_file(src, mapping, need_position=track is None)
            except NetQAError as exc:  # name the user's file, not the converted copy
                raise type(exc)(str(exc).replace(str(src), str(path))) from None
            plan.path = path
            if track is not None and {"lat", "lon"} <= set(plan.use.values()):
                log.warning("%s: the log has positions of its own; --track %s replaces them", path, track.source)
            parse_rejects = RejectLog()  # the parse thread's own log, merged below
            try:
                blocks = _parsed_blocks(src, plan, parse_rejects, tz, block_bytes)
                for batch, nr in prefetched(blocks):
                    n_read += nr
                    if track is not None:
                        batch = track.join(batch, rejects, str(path), track_gap_s)
                        norm.n_interpolated += int(batch.cols["gps_interpolated"].sum())
                    fin = norm.push(validator.check(batch))
                    n_acc += _write(writer, fin, path)
            finally:
                rejects.absorb(parse_rejects)
        n_assumed = plan.extra.get("tz_assumed_utc", 0)
        if n_assumed and info is not None:
            info["tz_assumed_utc"] = n_assumed
            log.warning("%s: timestamps are local time in a zone the %s log does not state, and no --tz was given: "
                        "%d read as UTC (the documented default; right for Ireland, the UK and Portugal in winter only). "
                        "Give --tz ZONE, e.g. --tz Europe/Dublin, or --tz UTC to confirm", path, mapping.name, n_assumed)
    n_acc += _write(writer, norm.flush(), path)
    return n_read, n_acc


def _is_nemo(fmt, path: Path) -> bool:
    if fmt == "nemo":
        return True
    if fmt not in (None, "", "auto"):
        return False
    from netqa.ingest.nemo import is_nemo

    return is_nemo(path)


def _parsed_blocks(path: Path, plan: FilePlan, rejects: RejectLog, tz, block_bytes: int):
    """(batch, rows read) per block of a text log, in file order."""
    line = plan.header_line + 1
    with open(path, "rb") as fh:
        fh.seek(plan.data_offset)
        for block in iter_line_blocks(fh, block_bytes):
            batch, nr = parse_block(block, line, plan, rejects, tz)
            line += block.count(b"\n")
            yield batch, nr


def prefetched(items, depth: int = 1):
    """Iterate ``items`` in a background thread, ``depth`` items ahead.

    Parsing the next block (pyarrow, GIL released) then overlaps with the
    validation of the current one.  An exception in the producer is raised
    here, in the consumer; leaving the loop early stops the producer.
    """
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(msg) -> bool:
        while not stop.is_set():
            try:
                q.put(msg, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put(("item", item)):
                    return
            put(("end", None))
        except BaseException as exc:  # handed to the consumer
            put(("error", exc))

    th = threading.Thread(target=work, name="netqa-parse", daemon=True)
    th.start()
    try:
        while True:
            kind, item = q.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        th.join()


def _write(writer: SampleWriter, b, path: Path) -> int:
    if b is None or len(b) == 0:
        return 0
    writer.write(b, str(path))
    return len(b)


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


def load_samples(path, columns=None) -> pd.DataFrame:
    """Samples from GeoParquet (netqa's output) or canonical CSV, as a DataFrame (no geometry)."""
    p = Path(path)
    finish_pending_commits(p.parent)  # an ingest killed mid-commit: complete its set before reading
    if not p.is_file():
        raise InputError(f"{p}: samples file not found")
    try:
        if p.suffix.lower() in (".parquet", ".geoparquet"):
            import pyarrow.parquet as pq

            names = pq.ParquetFile(p).schema_arrow.names
            cols = [c for c in (columns or names) if c in names and c != "geometry"]
            return pd.read_parquet(p, columns=cols)
        df = pd.read_csv(p, comment="#")
    except NetQAError:
        raise
    except Exception as exc:
        raise InputError(f"{p}: samples cannot be read ({exc})") from None
    if "time" in df:
        df["time"] = pd.to_datetime(df["time"], utc=True, errors="coerce", format="ISO8601")
    return df


def load_events(path) -> pd.DataFrame:
    """Events from Parquet or CSV (canonical Events columns)."""
    p = Path(path)
    finish_pending_commits(p.parent)
    if not p.is_file():
        raise InputError(f"{p}: events file not found")
    try:
        if p.suffix.lower() in (".parquet", ".geoparquet"):
            df = pd.read_parquet(p)
        else:
            df = pd.read_csv(p, comment="#")
            df["time"] = pd.to_datetime(df["time"], utc=True, errors="coerce", format="ISO8601")
    except Exception as exc:
        raise InputError(f"{p}: events cannot be read ({exc})") from None
    if "event" not in df.columns:
        raise InputError(f"{p}: events table has no 'event' column")
    return df.drop(columns="geometry", errors="ignore")
