"""``netqa predict`` — coverage prediction: best-server RSRP, SINR and throughput GeoTIFF."""

from __future__ import annotations

from netqa.commands import add_model_flags, add_overwrite, not_built

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
    parser.add_argument("--per-cell", metavar="PERCELL.tif", help="also write one rsrp_dbm band per cell")
    add_overwrite(parser)


def run(args) -> int:
    return not_built(NAME, 4)
