"""``netqa ingest`` — read, validate and normalise drive-test logs into canonical samples."""

from __future__ import annotations

import logging
import sys

from netqa.commands import POSITIVE, add_overwrite, time_zone

NAME = "ingest"
HELP = "read, validate and normalise drive-test logs into canonical samples"
EXAMPLE = """
netqa ingest testdata/drives/*.csv --out samples.parquet --cells testdata/cells.csv
netqa ingest ../shared/realdata/uccmisl-5g-cork/Download/Driving --format gnettrack --tz Europe/Dublin --out cork.parquet
netqa ingest drive.nmf --out drive.parquet                      # Nemo Outdoor file (auto-detected)
netqa ingest scanner.csv --format scanner.toml --track drive.gpx --out scanner.parquet
netqa ingest export.csv --suggest-mapping export.toml          # then edit export.toml and:
netqa ingest export.csv --format export.toml --out export.parquet
"""

log = logging.getLogger("netqa.commands.ingest")


def add_arguments(parser) -> None:
    parser.add_argument("logs", nargs="+", metavar="LOG", help="drive-test log files or folders")
    parser.add_argument("--out", metavar="SAMPLES.parquet", help="samples GeoParquet to write (required unless --suggest-mapping)")
    parser.add_argument("--format", default="auto", metavar="auto|netqa|gnettrack|networksurvey|nemo|MAPPING.toml", help="log format (default: auto-detect)")
    parser.add_argument("--track", metavar="TRACK.gpx|TRACK.nmea", help="GPS track (GPX 1.1 or NMEA 0183 GGA/RMC) joined by time onto a log without positions")
    parser.add_argument("--track-max-gap-s", type=float, default=None, metavar="S",
                        help="longest gap between track fixes interpolated across [s] (default 10); samples in longer gaps are rejected")
    parser.add_argument("--suggest-mapping", metavar="OUT.toml", help="write a commented mapping TOML guessed from the log's header, for you to check and pass to --format")
    parser.add_argument("--cells", metavar="CELLS", help="cell table used to match serving cells")
    parser.add_argument("--tz", type=time_zone, metavar="ZONE", help="IANA time zone of local timestamps, e.g. Europe/Dublin (G-NetTrack logs local time: without --tz it is read as UTC, with a warning)")
    parser.add_argument("--session-gap-s", type=POSITIVE, default=120.0, help="a time gap longer than this starts a new session [s] (default 120)")
    add_overwrite(parser)


def run(args) -> int:
    from netqa.errors import InputError
    from netqa.ingest import ingest_logs

    if args.suggest_mapping:
        from netqa.ingest.suggest import write_suggestion

        if args.out:
            raise InputError("--suggest-mapping writes only the mapping; check it, then ingest with --format OUT.toml --out SAMPLES.parquet")
        if len(args.logs) != 1:
            raise InputError("--suggest-mapping: give exactly one LOG (the mapping is guessed from its header)")
        sug = write_suggestion(args.logs[0], args.suggest_mapping, overwrite=args.overwrite)
        print(f"wrote {args.suggest_mapping}: {len(sug.columns)} columns mapped, {len(sug.unmapped)} left unmapped; "
              f"check it, then: netqa ingest {args.logs[0]} --format {args.suggest_mapping} --out SAMPLES.parquet")
        return 0
    if not args.out:
        raise InputError("--out SAMPLES.parquet is required (unless --suggest-mapping is given)")
    res = ingest_logs(args.logs, args.out, fmt=args.format, cells=args.cells, tz=args.tz,
                      overwrite=args.overwrite, gap_s=args.session_gap_s,
                      track=args.track, track_max_gap_s=args.track_max_gap_s)
    # each failed file was logged (at ERROR, shown even with --quiet) by ingest_logs
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
