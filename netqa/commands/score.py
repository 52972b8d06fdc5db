"""``netqa score`` — regional scorecards from field test, simulation and user feedback."""

from __future__ import annotations

from netqa.commands import add_overwrite, not_built

NAME = "score"
HELP = "regional scorecards from field test, simulation and user feedback"
EXAMPLE = """
netqa score --regions testdata/regions.gpkg --samples samples.parquet --coverage coverage.tif --out scores.gpkg
"""


def add_arguments(parser) -> None:
    parser.add_argument("--regions", required=True, metavar="REGIONS", help="region polygons (GeoPackage/GeoJSON/Shapefile)")
    parser.add_argument("--out", required=True, metavar="SCORES.gpkg", help="scorecards to write (CSV beside it)")
    parser.add_argument("--samples", metavar="S", help="samples from netqa ingest")
    parser.add_argument("--events", metavar="E", help="events table")
    parser.add_argument("--coverage", metavar="COVERAGE.tif", help="coverage GeoTIFF from netqa predict")
    parser.add_argument("--complaints", metavar="C", help="user complaints CSV")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    add_overwrite(parser)


def run(args) -> int:
    return not_built(NAME, 7)
