"""``netqa score`` — regional scorecards from field test, simulation and user feedback."""

from __future__ import annotations

from netqa.commands import POSITIVE, add_dask_flags, add_overwrite, check_workers

NAME = "score"
HELP = "regional scorecards from field test, simulation and user feedback"
DESCRIPTION = (
    "Per region: measured KPIs (samples and events inside the polygon), predicted coverage over the "
    "region's area (area-weighted pixels of the coverage raster), complaints per km² and per 1,000 samples, "
    "the agreement between methods, a 0-100 score and grade per dimension and overall, and trends per "
    "campaign. Writes the GeoPackage layer 'scores', the same table as CSV, a trends CSV and a choropleth PNG "
    "beside it. Interrupted runs resume; one failing region is recorded in its row."
)
EXAMPLE = """
netqa score --regions testdata/regions.gpkg --samples samples.parquet --coverage coverage.tif --out scores.gpkg
netqa score --regions regions.gpkg --samples s.parquet --complaints complaints.csv --scheduler tcp://10.0.0.5:8786 --out scores.gpkg
netqa score --regions testdata/regions.gpkg --samples samples.parquet --out scores.gpkg --xlsx scores.xlsx
"""


def add_arguments(parser) -> None:
    parser.add_argument("--regions", required=True, metavar="REGIONS", help="region polygons (GeoPackage/GeoJSON/Shapefile)")
    parser.add_argument("--out", required=True, metavar="SCORES.gpkg", help="scorecards to write (CSV beside it)")
    parser.add_argument("--samples", metavar="S", help="samples from netqa ingest")
    parser.add_argument("--events", metavar="E", help="events table (default: SAMPLES.events.parquet when present)")
    parser.add_argument("--coverage", metavar="COVERAGE.tif", help="coverage GeoTIFF from netqa predict")
    parser.add_argument("--complaints", metavar="C", help="user complaints CSV")
    parser.add_argument("--cells", metavar="CELLS", help="cell table (bandwidth for predicted capacity and load)")
    parser.add_argument("--traffic-raster", metavar="TRAFFIC.tif",
                        help="offered traffic density raster [Mbit/s per km²], summed per region for the predicted load "
                             "(default: the regions' offered_traffic_mbps column)")
    parser.add_argument("--xlsx", metavar="SCORES.xlsx",
                        help="also write the scorecard (and trends) as a formatted Excel workbook")
    add_dask_flags(parser)
    parser.add_argument("--scheme", metavar="SCHEME.toml", help="scoring scheme (default: the documented netqa default)")
    parser.add_argument("--profile", default="lte", metavar="lte|nr|FILE.toml", help="KPI threshold profile (default: lte)")
    parser.add_argument("--campaign-window", metavar="FREQ", help="make campaigns from sample time (pandas frequency: MS, W, 7D) when samples have no 'campaign' column")
    parser.add_argument("--complaint-radius-m", type=POSITIVE, default=100.0, metavar="M", help="radius for measured coverage around a complaint [m] (default 100)")
    parser.add_argument("--no-repair", dest="repair", action="store_false",
                        help="reject invalid polygons (row 'failed' with the reason) instead of repairing them with a warning")
    add_overwrite(parser)


def run(args) -> int:
    from netqa.errors import InputError
    from netqa.fileio import check_output
    from netqa.score import score_regions

    check_workers(args)
    if args.xlsx:
        check_output(args.xlsx, args.overwrite)
    if args.complaint_radius_m <= 0:
        raise InputError(f"--complaint-radius-m {args.complaint_radius_m}: must be > 0 metres")
    score_regions(
        args.regions, args.out, samples=args.samples, events=args.events, coverage=args.coverage,
        complaints=args.complaints, cells=args.cells, scheme=args.scheme, profile=args.profile,
        scheduler=args.scheduler, workers=args.workers, campaign_window=args.campaign_window,
        complaint_radius_m=args.complaint_radius_m, overwrite=args.overwrite, repair=args.repair,
        traffic_raster=args.traffic_raster,
    )  # fmt: skip
    if args.xlsx:
        from netqa.xlsx import write_score_workbook

        write_score_workbook(args.out, args.xlsx, overwrite=args.overwrite)
    return 0
