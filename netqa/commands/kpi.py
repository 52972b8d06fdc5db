"""``netqa kpi`` — chapter-3 KPIs from measured samples and events."""

from __future__ import annotations

from netqa.commands import add_overwrite, not_built

NAME = "kpi"
HELP = "chapter-3 KPIs from measured samples and events"
EXAMPLE = """
netqa kpi samples.parquet --events samples.events.parquet --profile lte --out kpi.json
"""


def add_arguments(parser) -> None:
    parser.add_argument("samples", metavar="SAMPLES", help="samples (GeoParquet/CSV) from netqa ingest")
    parser.add_argument("--events", metavar="EVENTS", help="events table")
    parser.add_argument("--regions", metavar="REGIONS", help="region polygons: one KPI object per region_id")
    parser.add_argument("--profile", default="lte", metavar="lte|nr|FILE.toml", help="threshold profile (default: lte)")
    parser.add_argument("--out", required=True, metavar="KPI.json", help="KPI JSON to write")
    add_overwrite(parser)


def run(args) -> int:
    return not_built(NAME, 5)
