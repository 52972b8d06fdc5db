"""``netqa compare`` — predicted vs measured signal strength, drop rate and throughput."""

from __future__ import annotations

from netqa.commands import (
    COUNT,
    RESOLUTION_M,
    add_clutter_model_flags,
    add_deprecated_alias,
    add_model_flags,
    add_overwrite,
    itm_settings,
    number,
)

NAME = "compare"
HELP = "predicted vs measured signal strength, drop rate and throughput"
EXAMPLE = """
netqa compare --samples samples.parquet --events samples.events.parquet --cells testdata/cells.csv \\
    --dem testdata/dem.tif --model spm --model-file tuned.toml --regions testdata/regions.gpkg --out compare/
netqa compare --samples samples.parquet --cells testdata/cells.csv --dem testdata/dem.tif --model fspl \
    --terrain delta-bullington --clutter testdata/clutter.tif --clutter-table testdata/clutter_classes.csv \
    --clutter-model p2108-statistical --location-pct 50 --out compare-p2108/
netqa compare --samples samples.parquet --cells testdata/cells.csv --dem testdata/dem.tif --out compare/ \
    --xlsx compare.xlsx

Clutter models (with --clutter and --clutter-table), as in netqa predict (see netqa predict --help):
  table              the class table's loss_db (a --model-file's tuned clutter losses replace it)
  p2108              ITU-R P.2108-1 section 3.1 height-gain loss at the receiver, per class and carrier
  p2108-statistical  ITU-R P.2108-1 section 3.2 statistical loss at --location-pct on suburban, urban and
                     dense_urban classes
  A --model-file's tuned clutter losses apply only with table (a warning says so otherwise).

Per-region figures (--regions): a sample, call or drop counts in every region whose polygon holds it
(overlapping regions, e.g. a road corridor over rural areas, share it), as in netqa kpi and netqa score.
"""


def add_arguments(parser) -> None:
    parser.add_argument("--samples", required=True, metavar="SAMPLES", help="samples from netqa ingest")
    parser.add_argument("--cells", required=True, metavar="CELLS", help="cell table")
    parser.add_argument("--dem", required=True, metavar="DEM", help="digital elevation model")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (stats.json, residuals.parquet, plots)")
    parser.add_argument("--events", nargs="+", metavar="EVENTS", help="events (drop rate and handover failure)")
    parser.add_argument("--regions", metavar="REGIONS", help="regions (GeoPackage/GeoJSON with region_id)")
    parser.add_argument("--surface", metavar="RASTER",
                        help="building/obstacle heights above ground [m] (surface model minus DEM): terrain diffraction "
                             "runs over ground + obstacles; antennas and receivers keep their heights above ground")
    add_filter_flags(parser, min_bin_samples=3, bins="averaged windows/bins")
    add_selection_flags(parser)
    parser.add_argument("--xlsx", metavar="STATS.xlsx",
                        help="also write the error statistics (overall, per cell, clutter, distance, region) as a "
                             "formatted Excel workbook")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    add_model_flags(parser)
    add_clutter_model_flags(parser)
    add_overwrite(parser)


def add_filter_flags(parser, *, min_bin_samples, bins, min_dist_km=None, max_dist_km=None, rsrp_floor_dbm=None) -> None:
    """The sample-filter, grid and selection flags shared by compare and calibrate (each filter's removals are
    reported); the distance and signal defaults are one definition, :data:`netqa.compare.select.DEFAULT_FILTERS` (values in :data:`netqa.schema.DEFAULT_FILTER_VALUES`)
    (``netqa audit`` overrides them: the tilt needs the samples near the mast)."""
    from netqa.schema import DEFAULT_FILTER_VALUES as D  # light: no comparison stack at parser build

    min_dist_km = D["min_dist_km"] if min_dist_km is None else min_dist_km
    max_dist_km = D["max_dist_km"] if max_dist_km is None else max_dist_km
    rsrp_floor_dbm = D["rsrp_floor_dbm"] if rsrp_floor_dbm is None else rsrp_floor_dbm
    parser.add_argument("--min-dist-km", type=number(lo=0.0, unit="km"), default=min_dist_km,
                        help=f"leave out samples nearer the serving cell [km] (default {min_dist_km:g})")
    parser.add_argument("--max-dist-km", type=number(lo=0.0, lo_open=True, unit="km", allow_inf=True), default=max_dist_km,
                        help=f"leave out samples farther from the serving cell [km] (default {max_dist_km:g})")
    parser.add_argument("--rsrp-floor-dbm", type=number(unit="dBm"), default=rsrp_floor_dbm,
                        help=f"leave out samples below this RSRP, near the noise floor [dBm] (default {rsrp_floor_dbm:g})")
    parser.add_argument("--min-bin-samples", dest="min_bin_samples", type=COUNT, metavar="N",
                        default=min_bin_samples, help=f"{bins} with fewer samples are left out (default {min_bin_samples})")
    add_deprecated_alias(parser, "--min-samples-per-bin", "--min-bin-samples", dest="min_bin_samples", type=int,
                         metavar="N")  # fmt: skip


def add_selection_flags(parser) -> None:
    """--sites, --exclude-sites, --cell-ids and --resolution-m: the same meaning in compare and calibrate."""
    parser.add_argument("--sites", metavar="IDS", help="keep only samples served by these sites (site_id): "
                        "comma-separated, or @FILE with one id a line; every cell still transmits")
    parser.add_argument("--exclude-sites", metavar="IDS", help="leave out samples served by these sites (as --sites)")
    parser.add_argument("--cell-ids", metavar="IDS", help="keep only samples served by these cells (cell_id; as --sites)")
    parser.add_argument("--resolution-m", type=RESOLUTION_M, default=None, metavar="M",
                        help="grid the DEM and clutter are resampled onto [m] (default: their native pixel size, "
                             "no resampling to a coarser grid); samples keep their exact positions")


def selection_from_args(args):
    """:class:`~netqa.compare.select.Selection` from --sites/--exclude-sites/--cell-ids."""
    from netqa.compare.select import Selection, parse_id_list

    return Selection(sites=parse_id_list(args.sites, "--sites"),
                     exclude_sites=parse_id_list(args.exclude_sites, "--exclude-sites"),
                     cells=parse_id_list(args.cell_ids, "--cell-ids"))  # fmt: skip


def filters_from_args(args):
    """:class:`~netqa.compare.binning.SampleFilters` from the flags; a bad combination is an InputError."""
    import math

    from netqa.compare.binning import SampleFilters
    from netqa.errors import InputError

    if not args.min_dist_km >= 0:
        raise InputError(f"--min-dist-km {args.min_dist_km:g}: must be >= 0 km")
    if not args.max_dist_km > args.min_dist_km:
        raise InputError(f"--max-dist-km {args.max_dist_km:g} must be above --min-dist-km {args.min_dist_km:g}")
    if not math.isfinite(args.rsrp_floor_dbm):
        raise InputError(f"--rsrp-floor-dbm {args.rsrp_floor_dbm}: must be a finite number of dBm")
    if args.min_bin_samples < 1:
        raise InputError(f"--min-bin-samples {args.min_bin_samples}: must be >= 1")
    try:
        return SampleFilters(min_dist_km=args.min_dist_km, max_dist_km=args.max_dist_km,
                             rsrp_floor_dbm=args.rsrp_floor_dbm, min_samples_per_bin=args.min_bin_samples)  # fmt: skip
    except ValueError as exc:
        raise InputError(f"filter flags (--min-dist-km/--max-dist-km/--rsrp-floor-dbm/--min-bin-samples): {exc}") from exc


def run(args) -> int:
    from pathlib import Path

    from netqa.timings import phase

    with phase("imports"):  # numpy, pandas, rasterio, numba (and its one-off set-up): what a run must load
        from netqa.compare.run import CompareConfig, compare
    from netqa.warmup import notice_if_cold

    notice_if_cold(points=True)
    from netqa.fileio import check_output
    from netqa.modelcheck import check_model_file_flags

    check_model_file_flags(args.model, args.model_file)  # before any file is read
    filters = filters_from_args(args)
    if args.xlsx:
        check_output(args.xlsx, args.overwrite)
    config = CompareConfig(model=args.model, terrain=args.terrain, rx_height_m=args.rx_height_m,
                           model_file=Path(args.model_file) if args.model_file else None, filters=filters,
                           plots=not args.no_plots, clutter_model=args.clutter_model,
                           location_pct=args.location_pct, street_width_m=args.street_width_m,
                           resolution_m=args.resolution_m, selection=selection_from_args(args),
                           itm=itm_settings(args, args.terrain))  # fmt: skip
    compare(args.samples, args.cells, args.dem, args.out, events=args.events, clutter=args.clutter,
            clutter_table=args.clutter_table, regions=args.regions, config=config, overwrite=args.overwrite,
            surface=args.surface)
    if args.xlsx:
        import json

        from netqa.xlsx import compare_sheets, write_workbook

        stats = json.loads((Path(args.out) / "stats.json").read_text(encoding="utf-8"))
        write_workbook(args.xlsx, compare_sheets(stats), overwrite=args.overwrite,
                       notes={"residual": "predicted minus measured", "stats": str(Path(args.out) / "stats.json")})
    return 0
