"""One log through the ingest stage: blocks parsed ahead in a thread, validated, normalised and written."""

from __future__ import annotations

import logging
from pathlib import Path

from netqa.errors import LogFormatError, NetQAError
from netqa.ingest.batch import RejectLog
from netqa.ingest.blocks import iter_line_blocks
from netqa.ingest.duplicates import SeenRows
from netqa.ingest.normalise import Normaliser
from netqa.ingest.plan import FilePlan, plan_file, resolve_format
from netqa.ingest.reader import iter_parquet_batches, parse_block
from netqa.ingest.validate import Validator
from netqa.ingest.writer import SampleWriter

log = logging.getLogger("netqa.ingest.core")  # the stage's logger, as before the split


def ingest_file(path: Path, fmt, tz, rejects: RejectLog, norm: Normaliser, writer: SampleWriter, block_bytes: int,
                info: dict | None = None, seen: SeenRows | None = None, *, track=None,
                track_gap_s: float = 10.0) -> tuple[int, int]:
    """Stream one log (text, Parquet or Nemo) through validation and ``norm`` into ``writer``.

    Bad rows go to ``rejects``; ``info["tz_assumed_utc"]`` is set when local
    times were read as UTC.  Returns (rows read, rows written).
    """
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
