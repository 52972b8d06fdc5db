"""``netqa compare`` — predicted vs measured signal strength, drop rate and throughput."""

from __future__ import annotations

from netqa.commands import add_model_flags, add_overwrite

NAME = "compare"
HELP = "predicted vs measured signal strength, drop rate and throughput"
EXAMPLE = """
netqa compare --samples samples.parquet --events samples.events.parquet --cells testdata/cells.csv \\
    --dem testdata/dem.tif --model spm --model-file tuned.toml --regions testdata/regions.gpkg --out compare/
"""


def add_arguments(parser) -> None:
    parser.add_argument("--samples", required=True, metavar="SAMPLES", help="samples from netqa ingest")
    parser.add_argument("--cells", required=True, metavar="CELLS", help="cell table")
    parser.add_argument("--dem", required=True, metavar="DEM", help="digital elevation model")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (stats.json, residuals.parquet, plots)")
    parser.add_argument("--events", nargs="+", metavar="EVENTS", help="events (drop rate and handover failure)")
    parser.add_argument("--regions", metavar="REGIONS", help="regions (GeoPackage/GeoJSON with region_id)")
    parser.add_argument("--min-dist-km", type=float, default=0.05, help="leave out samples nearer the serving cell [km]")
    parser.add_argument("--max-dist-km", type=float, default=float("inf"), help="leave out samples farther [km]")
    parser.add_argument("--rsrp-floor-dbm", type=float, default=-135.0, help="leave out samples below [dBm]")
    parser.add_argument("--min-samples-per-bin", type=int, default=3, help="averaged bins with fewer samples dropped")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    add_model_flags(parser)
    add_overwrite(parser)


def run(args) -> int:
    from pathlib import Path

    from netqa.compare.binning import SampleFilters
    from netqa.compare.run import CompareConfig, compare
    from netqa.errors import InputError

    try:
        filters = SampleFilters(min_dist_km=args.min_dist_km, max_dist_km=args.max_dist_km,
                                rsrp_floor_dbm=args.rsrp_floor_dbm, min_samples_per_bin=args.min_samples_per_bin)
    except ValueError as exc:
        raise InputError(f"filter flags: {exc}") from exc
    config = CompareConfig(model=args.model, terrain=args.terrain, rx_height_m=args.rx_height_m,
                           model_file=Path(args.model_file) if args.model_file else None, filters=filters,
                           plots=not args.no_plots)
    compare(args.samples, args.cells, args.dem, args.out, events=args.events, clutter=args.clutter,
            clutter_table=args.clutter_table, regions=args.regions, config=config, overwrite=args.overwrite)
    return 0
