"""``netqa map`` — coverage maps: PNG, KMZ (Google Earth) or interactive HTML."""

from __future__ import annotations

from netqa.commands import add_overwrite, not_built

NAME = "map"
HELP = "coverage maps: PNG, KMZ (Google Earth) or interactive HTML"
EXAMPLE = """
netqa map coverage.tif --out rsrp.png --band rsrp_dbm --cells testdata/cells.csv
"""


def add_arguments(parser) -> None:
    parser.add_argument("coverage", metavar="COVERAGE.tif", help="coverage GeoTIFF from netqa predict")
    parser.add_argument("--out", required=True, metavar="MAP.png|MAP.kmz|MAP.html", help="map to write; the format follows the extension")
    parser.add_argument("--band", default="rsrp_dbm", metavar="NAME", help="band to draw (default rsrp_dbm)")
    parser.add_argument("--cells", metavar="C", help="cell table: draw sites and sectors")
    parser.add_argument("--samples", metavar="S", help="measured samples to draw")
    add_overwrite(parser)


def run(args) -> int:
    return not_built(NAME, 8)
