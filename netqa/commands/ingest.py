"""``netqa ingest`` — read, validate and normalise drive-test logs into canonical samples."""

from __future__ import annotations

import logging
import sys

from netqa.commands import add_overwrite

NAME = "ingest"
HELP = "read, validate and normalise drive-test logs into canonical samples"
EXAMPLE = """
netqa ingest testdata/drives/*.csv --out samples.parquet --cells testdata/cells.csv
netqa ingest ../shared/realdata/uccmisl-5g-cork/Download/Driving --format gnettrack --tz Europe/Dublin --out cork.parquet
"""

log = logging.getLogger("netqa.commands.ingest")


def add_arguments(parser) -> None:
    parser.add_argument("logs", nargs="+", metavar="LOG", help="drive-test log files or folders")
    parser.add_argument("--out", required=True, metavar="SAMPLES.parquet", help="samples GeoParquet to write")
    parser.add_argument("--format", default="auto", metavar="auto|netqa|gnettrack|networksurvey|MAPPING.toml", help="log format (default: auto-detect)")
    parser.add_argument("--cells", metavar="CELLS", help="cell table used to match serving cells")
    parser.add_argument("--tz", metavar="ZONE", help="IANA time zone of local timestamps, e.g. Europe/Dublin (G-NetTrack logs local time: without --tz it is read as UTC, with a warning)")
    parser.add_argument("--session-gap-s", type=float, default=120.0, help="a time gap longer than this starts a new session [s] (default 120)")
    add_overwrite(parser)


def run(args) -> int:
    from netqa.ingest import ingest_logs

    res = ingest_logs(args.logs, args.out, fmt=args.format, cells=args.cells, tz=args.tz,
                      overwrite=args.overwrite, gap_s=args.session_gap_s)
    for _, msg in res.files_failed:
        print(f"netqa ingest: error: {msg}", file=sys.stderr)
    print(res.summary())
    if res.files_tz_assumed_utc:  # the summary's companion: visible even where log lines are filtered
        print(f"netqa ingest: warning: {len(res.files_tz_assumed_utc)} log(s) in local time without a zone were read as UTC "
              f"({', '.join(res.files_tz_assumed_utc[:3])}{', ...' if len(res.files_tz_assumed_utc) > 3 else ''}); "
              "give --tz ZONE (e.g. --tz Europe/Dublin), or --tz UTC to confirm", file=sys.stderr)
    extra = [f"{res.n_cleared} values cleared", f"{res.n_interpolated} positions interpolated", f"{res.n_sessions} sessions"]
    if res.n_events_read or res.n_events_derived:
        extra.append(f"events: read {res.n_events_read}, accepted {res.n_events_accepted}, rejected {res.n_events_rejected}, derived {res.n_events_derived}")
    for f in res.files_latlon_swapped:
        extra.append(f"{f}: refused, fits the cell table only with latitude/longitude exchanged")
    if res.n_cells_matched is not None:
        extra.append(f"cells matched {res.n_cells_matched}, unmatched {res.n_cells_unmatched}")
    log.info("%s", "; ".join(extra))
    for reason, n in sorted(res.reasons.items(), key=lambda kv: -kv[1]):
        log.info("  %s: %d", reason, n)
    log.info("wrote %s%s, %s", res.out, f", {res.events_path}" if res.events_path else "", res.rejects_path)
    return 2 if res.files_failed else 0
