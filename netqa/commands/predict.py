"""``netqa predict`` — coverage prediction: best-server RSRP, SINR and throughput GeoTIFF."""

from __future__ import annotations

from netqa.commands import add_model_flags, add_overwrite

NAME = "predict"
HELP = "coverage prediction: best-server RSRP, SINR and throughput GeoTIFF"
EXAMPLE = """
netqa predict --cells testdata/cells.csv --dem testdata/dem.tif --out coverage.tif --model hata --resolution-m 30
"""


def add_arguments(parser) -> None:
    parser.add_argument("--cells", required=True, metavar="CELLS", help="cell table (CSV, GeoPackage, OpenCelliD CSV)")
    parser.add_argument("--dem", required=True, metavar="DEM", help="digital elevation model (GeoTIFF, SRTM .hgt)")
    parser.add_argument("--out", required=True, metavar="COVERAGE.tif", help="coverage GeoTIFF to write")
    add_model_flags(parser)
    parser.add_argument("--resolution-m", type=float, default=30.0, help="pixel size [m] (default 30)")
    parser.add_argument("--radius-km", type=float, default=15.0, help="coverage radius per cell [km] (default 15)")
    parser.add_argument("--noise-figure-db", type=float, default=7.0, help="UE noise figure [dB] (default 7)")
    parser.add_argument("--cell-load", type=float, default=1.0,
                        help="share 0..1 of resource elements every cell occupies (interference weight; default 1)")
    parser.add_argument("--per-cell", metavar="PERCELL.tif", help="also write one rsrp_dbm band per cell")
    add_overwrite(parser)


def run(args) -> int:
    from netqa.fileio import check_output
    from netqa.predict import PredictConfig, predict, write_coverage, write_per_cell

    check_output(args.out, args.overwrite)
    if args.per_cell:
        check_output(args.per_cell, args.overwrite)
    config = PredictConfig(
        model=args.model,
        terrain=args.terrain,
        model_file=args.model_file,
        resolution_m=args.resolution_m,
        radius_km=args.radius_km,
        rx_height_m=args.rx_height_m,
        noise_figure_db=args.noise_figure_db,
        cell_load=args.cell_load,
    )
    result = predict(
        args.cells, args.dem, clutter=args.clutter, clutter_table=args.clutter_table, config=config,
        per_cell=bool(args.per_cell),
    )  # fmt: skip
    write_coverage(result, args.out, overwrite=args.overwrite)
    if args.per_cell:
        write_per_cell(result, args.per_cell, overwrite=args.overwrite)
    return 0
