"""``netqa kpi`` — chapter-3 KPIs from measured samples and events."""

from __future__ import annotations

import logging

from netqa.commands import COUNT, POSITIVE, add_deprecated_alias, add_overwrite, add_samples_flag, resolve_positional

NAME = "kpi"
HELP = "chapter-3 KPIs from measured samples and events"
DESCRIPTION = (
    "The KPIs of the chapter-3 quality standard (coverage rate, signal strength and quality, drop rate, "
    "handover success, throughput; definitions in the README and DESIGN.md 'KPIs') over all samples, per "
    "technology and per region; optionally per serving cell (--per-cell, TEMS/Nemo 'cell statistics') and as a "
    "formatted Excel workbook (--xlsx)."
)
EXAMPLE = """
netqa kpi samples.parquet --events samples.events.parquet --profile lte --out kpi.json
netqa kpi --samples samples.parquet --regions testdata/regions.gpkg --bin-m 100 --bins-out bins.gpkg --out kpi.json
netqa kpi --samples samples.parquet --per-cell kpi_cells.csv --xlsx kpi.xlsx --out kpi.json
"""

log = logging.getLogger("netqa.commands.kpi")


def add_arguments(parser) -> None:
    add_samples_flag(parser, positional=True, help="samples (GeoParquet/CSV) from netqa ingest")
    parser.add_argument("--events", metavar="EVENTS", help="events table (default: SAMPLES.events.parquet when it exists)")
    parser.add_argument("--regions", metavar="REGIONS", help="region polygons: one KPI object per region_id")
    parser.add_argument("--profile", default="lte", metavar="lte|nr|FILE.toml", help="threshold profile (default: lte)")
    parser.add_argument("--out", required=True, metavar="KPI.json", help="KPI JSON to write")
    parser.add_argument("--bin-m", type=POSITIVE, metavar="SIZE", help="also bin samples in squares of SIZE metres (linear-domain means)")
    parser.add_argument("--min-bin-samples", type=COUNT, metavar="N", help="leave out bins with fewer samples (default: the profile's, 5)")
    add_deprecated_alias(parser, "--bin-min-samples", "--min-bin-samples", dest="min_bin_samples", type=COUNT, metavar="N")
    parser.add_argument("--bins-out", metavar="BINS.gpkg", help="where to write the bins (default: KPI.bins.gpkg)")
    parser.add_argument("--per-cell", metavar="CELLS.csv",
                        help="also write per-serving-cell statistics (samples, RSRP/RSRQ/SINR linear- and dB-domain "
                             "means and percentiles, coverage rate, calls, drops, handovers, throughput) as CSV")
    parser.add_argument("--xlsx", metavar="KPI.xlsx",
                        help="also write the KPI and per-cell tables as a formatted Excel workbook")
    add_overwrite(parser)


def run(args) -> int:
    from netqa.errors import InputError
    from netqa.fileio import check_output
    from netqa.kpi import run_kpi

    resolve_positional(args, "samples", "--samples")
    if args.bin_m is not None and not args.bin_m > 0:
        raise InputError(f"--bin-m {args.bin_m:g}: must be > 0 metres")
    min_bin = getattr(args, "min_bin_samples", None)
    if min_bin is not None and min_bin < 1:
        raise InputError(f"--min-bin-samples {min_bin}: must be >= 1")
    for flag, path in (("--per-cell", args.per_cell), ("--xlsx", args.xlsx)):
        if path is not None:
            check_output(path, args.overwrite)  # refuse before any work
    doc = run_kpi(args.samples, args.out, events=args.events, regions=args.regions, profile=args.profile,
                  bin_m=args.bin_m, bins_out=args.bins_out, bin_min_samples=min_bin, overwrite=args.overwrite)
    cov = doc["coverage_rate"]
    log.info("n_samples %d, coverage_rate %s, drop_rate %s, ho_success_rate %s",
             doc["n_samples"], "null" if cov is None else f"{cov:.3f}", doc["drop_rate"], doc["ho_success_rate"])
    print(f"wrote {args.out}")
    if args.per_cell or args.xlsx:
        from netqa.kpi_cells import run_per_cell

        run_per_cell(args.samples, doc, per_cell=args.per_cell, xlsx=args.xlsx, events=args.events,
                     profile=args.profile, overwrite=args.overwrite)
    return 0
