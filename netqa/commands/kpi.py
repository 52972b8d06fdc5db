"""``netqa kpi`` — chapter-3 KPIs from measured samples and events."""

from __future__ import annotations

import logging

from netqa.commands import COUNT, POSITIVE, add_overwrite

NAME = "kpi"
HELP = "chapter-3 KPIs from measured samples and events"
EXAMPLE = """
netqa kpi samples.parquet --events samples.events.parquet --profile lte --out kpi.json
netqa kpi samples.parquet --regions testdata/regions.gpkg --bin-m 100 --bins-out bins.gpkg --out kpi.json
"""

log = logging.getLogger("netqa.commands.kpi")


def add_arguments(parser) -> None:
    parser.add_argument("samples", metavar="SAMPLES", help="samples (GeoParquet/CSV) from netqa ingest")
    parser.add_argument("--events", metavar="EVENTS", help="events table (default: SAMPLES.events.parquet when it exists)")
    parser.add_argument("--regions", metavar="REGIONS", help="region polygons: one KPI object per region_id")
    parser.add_argument("--profile", default="lte", metavar="lte|nr|FILE.toml", help="threshold profile (default: lte)")
    parser.add_argument("--out", required=True, metavar="KPI.json", help="KPI JSON to write")
    parser.add_argument("--bin-m", type=POSITIVE, metavar="SIZE", help="also bin samples in squares of SIZE metres (linear-domain means)")
    parser.add_argument("--bin-min-samples", type=COUNT, metavar="N", help="leave out bins with fewer samples (default: the profile's, 5)")
    parser.add_argument("--bins-out", metavar="BINS.gpkg", help="where to write the bins (default: KPI.bins.gpkg)")
    add_overwrite(parser)


def run(args) -> int:
    from netqa.kpi import run_kpi

    doc = run_kpi(args.samples, args.out, events=args.events, regions=args.regions, profile=args.profile,
                  bin_m=args.bin_m, bins_out=args.bins_out, bin_min_samples=args.bin_min_samples, overwrite=args.overwrite)
    cov = doc["coverage_rate"]
    log.info("n_samples %d, coverage_rate %s, drop_rate %s, ho_success_rate %s",
             doc["n_samples"], "null" if cov is None else f"{cov:.3f}", doc["drop_rate"], doc["ho_success_rate"])
    print(f"wrote {args.out}")
    return 0
