"""``netqa predict`` — coverage prediction: best-server RSRP, SINR and throughput GeoTIFF."""

from __future__ import annotations

from netqa.commands import (
    add_clutter_model_flags,
    add_dask_flags,
    add_model_flags,
    add_overwrite,
    check_workers,
    number,
)

#: --tasks default, stated here so that --help imports nothing heavy (a test checks it is
#: netqa.predict.sites.DEFAULT_TASKS, the library's).
DEFAULT_TASKS = "tiles"

NAME = "predict"
HELP = "coverage prediction: best-server RSRP, SINR and throughput GeoTIFF"
EXAMPLE = r"""
netqa predict --cells testdata/cells.csv --dem testdata/dem.tif --out coverage.tif --model hata --resolution-m 30
netqa predict --cells testdata/cells.csv --dem testdata/dem.tif --out coverage.tif --model fspl \
    --terrain delta-bullington --clutter testdata/clutter.tif --clutter-table testdata/clutter_classes.csv \
    --clutter-model p2108
netqa predict --cells cells.csv --dem dem.tif --out coverage.tif --radius-km 30 --workers 8
netqa predict --cells cells.csv --dem dem.tif --out coverage.tif --radius-km 15 --tile-px 512 --tasks sites --workers 2
netqa predict --cells testdata/district/cells.csv --dem testdata/district/dem.tif --out district.tif \
    --surface testdata/district/buildings.tif --terrain delta-bullington --model fspl --resolution-m 5 --radius-km 1.5
netqa predict --cells /shared/cells.csv --dem /shared/dem.tif --clutter /shared/clutter.tif \
    --clutter-table /shared/classes.csv --out coverage.tif --scheduler tcp://10.0.0.5:8786

Large areas: the tiles (--tile-px) run as Dask tasks with --workers N (a local cluster of N processes) or
--scheduler ADDRESS (a cluster); every worker must read the DEM and clutter files at the same paths. The
output is identical to the run in this process. --tasks sites splits the work by site instead: one task per
site (mast) reads and sweeps its own radius once, then one reduction per output tile folds the sites that
reach it (the same pixels up to the last-bit rounding another --tile-px also brings; for a radius much
larger than the tile; not with a learned correction).

Clutter models (with --clutter and --clutter-table):
  table              the class table's loss_db (a --model-file's tuned clutter losses replace it); a model file
                     with clutter losses along the path ('netqa calibrate --path-clutter') adds them to each
                     cell's path to each pixel, before the best server (the table model only):
                     netqa predict --cells cells.csv --dem dem.tif --clutter clutter.tif --clutter-table \
                         classes.csv --model spm --model-file tuned.toml --out coverage.tif
  p2108              ITU-R P.2108-1 section 3.1 height-gain loss at the receiver, per class and carrier:
                     R = the class's height_m (0: no loss), w_s = --street-width-m, h = --rx-height-m
  p2108-statistical  ITU-R P.2108-1 section 3.2 statistical loss (about 20-30 dB) at --location-pct, on
                     suburban, urban and dense_urban pixels only (the section's terminal in urban clutter)
  The class's P.2108 type comes from a p2108_type column of the class table, else from its name
  (case-insensitive, whole name): water, sea -> water_sea; open, rural -> open_rural; forest, trees ->
  trees_forest; suburban; urban; dense_urban (and the six type names themselves).
  Hata, COST-231 and the SPM already contain average clutter in their fit: use P.2108 mainly with fspl or
  tr38901-* and a terrain method.
"""


def add_arguments(parser) -> None:
    parser.add_argument("--cells", required=True, metavar="CELLS", help="cell table (CSV, GeoPackage, OpenCelliD CSV)")
    parser.add_argument("--dem", required=True, metavar="DEM", help="digital elevation model (GeoTIFF, SRTM .hgt)")
    parser.add_argument("--out", required=True, metavar="COVERAGE.tif", help="coverage GeoTIFF to write")
    add_model_flags(parser)
    parser.add_argument("--resolution-m", type=number(lo=1.0, hi=10_000.0, unit="m"), default=30.0, help="pixel size [m] (default 30)")
    parser.add_argument("--radius-km", type=number(lo=0.1, hi=200.0, unit="km"), default=15.0, help="coverage radius per cell [km] (default 15)")
    parser.add_argument("--noise-figure-db", type=number(lo=0.0, hi=20.0, unit="dB"), default=7.0, help="UE noise figure [dB] (default 7)")
    parser.add_argument("--cell-load", type=number(lo=0.0, hi=1.0), default=1.0,
                        help="share 0..1 of resource elements every cell occupies (interference weight; default 1)")
    add_clutter_model_flags(parser)
    parser.add_argument("--surface", metavar="RASTER",
                        help="building/obstacle heights above ground [m] (surface model minus DEM; nodata = 0): "
                             "--terrain delta-bullington then runs over ground + buildings while masts and "
                             "receivers keep their heights above the DEM's ground")  # fmt: skip
    parser.add_argument("--per-cell", metavar="PERCELL.tif", help="also write one rsrp_dbm band per cell")
    parser.add_argument("--tile-px", type=number(lo=16, hi=65_536, integer=True, unit="px"), default=4096,
                        help="side of the tiles computed and written one at a time [px] (default 4096); memory grows "
                             "as (tile + 2 x radius / resolution)^2, x the number of cells with --per-cell")  # fmt: skip
    add_dask_flags(parser)
    parser.add_argument("--tasks", choices=["tiles", "sites"], default=None,
                        help="how the work is split: tiles = one task per output tile, reading its terrain widened "
                             "by the radius; sites = one task per site over its own radius, then one reduction per "
                             "tile (same output to the last bits; default: %s)" % DEFAULT_TASKS)  # fmt: skip
    add_overwrite(parser)


def run(args) -> int:
    from netqa.timings import phase

    with phase("imports"):  # numpy, pandas, rasterio, numba (and its one-off set-up): what a run must load
        from netqa.predict import PredictConfig, predict_to_file

    check_workers(args)
    from netqa.modelcheck import check_model_file_flags

    check_model_file_flags(args.model, args.model_file)  # before any file is read
    if not (args.scheduler or args.workers > 1):  # Dask workers compile (or load) in their own processes
        from netqa.warmup import notice_if_cold

        notice_if_cold(terrain=args.terrain)

    from netqa.commands import itm_settings
    from netqa.predict.checks import check_predict_inputs

    itm = itm_settings(args, args.terrain)  # before any file is read
    check_predict_inputs(args.cells, args.dem, resolution_m=args.resolution_m, terrain=args.terrain,
                         model_file=args.model_file, surface=args.surface, itm=itm)  # fmt: skip
    config = PredictConfig(
        model=args.model,
        terrain=args.terrain,
        model_file=args.model_file,
        resolution_m=args.resolution_m,
        radius_km=args.radius_km,
        rx_height_m=args.rx_height_m,
        noise_figure_db=args.noise_figure_db,
        cell_load=args.cell_load,
        clutter_model=args.clutter_model,
        location_pct=args.location_pct,
        street_width_m=args.street_width_m,
        tile_px=args.tile_px,
        itm=itm,
    )
    predict_to_file(
        args.cells, args.dem, args.out, clutter=args.clutter, clutter_table=args.clutter_table, config=config,
        per_cell_out=args.per_cell, overwrite=args.overwrite, workers=args.workers, scheduler=args.scheduler,
        surface=args.surface, **({"tasks": args.tasks} if args.tasks else {}),
    )  # fmt: skip
    return 0
