"""``netqa map`` — coverage maps: PNG, KMZ (Google Earth) or interactive HTML."""

from __future__ import annotations

from netqa.commands import add_overwrite, resolve_positional

NAME = "map"
HELP = "coverage maps: PNG, KMZ (Google Earth) or interactive HTML"
DESCRIPTION = (
    "Draw one band of a coverage GeoTIFF in the field's discrete classes. The format follows the "
    "extension of --out: .png (static map with legend, scale bar, north arrow, sites and sectors), "
    ".tif (paletted uint8 class raster with a colour table, for GIS), .kmz (Google Earth) or .html "
    "(self-contained interactive map that works offline)."
)
EXAMPLE = """
netqa map coverage.tif --out rsrp.png --band rsrp_dbm --cells testdata/cells.csv
netqa map coverage.tif --out coverage.kmz --cells testdata/cells.csv --samples drive.parquet
netqa map coverage.tif --out sinr.html --band sinr_db --legend my_sinr_classes.toml
netqa map --coverage coverage.tif --band best_cell --cells testdata/cells.csv --samples drive.parquet --out servers.png
"""


def add_arguments(parser) -> None:
    parser.add_argument("coverage_pos", nargs="?", metavar="COVERAGE.tif",
                        help="coverage GeoTIFF from netqa predict (same as --coverage)")
    parser.add_argument("--coverage", metavar="COVERAGE.tif", help="coverage GeoTIFF from netqa predict")
    parser.add_argument("--out", required=True, metavar="MAP.png|MAP.kmz|MAP.html", help="map to write; the format follows the extension")
    parser.add_argument("--band", default="rsrp_dbm", metavar="NAME", help="band to draw (default rsrp_dbm)")
    parser.add_argument("--cells", metavar="C", help="cell table: draw sites and sectors")
    parser.add_argument("--samples", metavar="S", help="measured samples to draw")
    parser.add_argument("--legend", metavar="LEGEND.toml", help="legend classes and colours (default: built-in for the band)")
    parser.add_argument("--dem", metavar="DEM", help="DEM GeoTIFF drawn as a hillshade under a PNG map")
    parser.add_argument("--regions", metavar="REGIONS", help="region polygons (or scores GeoPackage) for the HTML map")
    parser.add_argument("--title", metavar="TEXT", help="map title (default: the band's legend title)")
    add_overwrite(parser)


def run(args) -> int:
    from netqa.maps import write_map

    resolve_positional(args, "coverage", "--coverage")

    write_map(
        args.coverage, args.out, band=args.band, cells=args.cells, samples=args.samples, legend=args.legend,
        dem=args.dem, regions=args.regions, title=args.title, overwrite=args.overwrite,
    )
    return 0
