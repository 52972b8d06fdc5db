"""``netqa ingest`` — read, validate and normalise drive-test logs into canonical samples."""

from __future__ import annotations

from netqa.commands import add_overwrite, not_built

NAME = "ingest"
HELP = "read, validate and normalise drive-test logs into canonical samples"
EXAMPLE = """
netqa ingest testdata/drives/*.csv --out samples.parquet --cells testdata/cells.csv
"""


def add_arguments(parser) -> None:
    parser.add_argument("logs", nargs="+", metavar="LOG", help="drive-test log files or folders")
    parser.add_argument("--out", required=True, metavar="SAMPLES.parquet", help="samples GeoParquet to write")
    parser.add_argument("--format", default="auto", metavar="auto|netqa|gnettrack|networksurvey|MAPPING.toml", help="log format (default: auto-detect)")
    parser.add_argument("--cells", metavar="CELLS", help="cell table used to match serving cells")
    parser.add_argument("--tz", metavar="ZONE", help="time zone of local timestamps, e.g. Europe/Dublin")
    add_overwrite(parser)


def run(args) -> int:
    return not_built(NAME, 5)
