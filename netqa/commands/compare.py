"""``netqa compare`` — predicted vs measured signal strength, drop rate and throughput."""

from __future__ import annotations

from netqa.commands import add_model_flags, add_overwrite, not_built

NAME = "compare"
HELP = "predicted vs measured signal strength, drop rate and throughput"
EXAMPLE = """
netqa compare --samples samples.parquet --cells testdata/cells.csv --dem testdata/dem.tif --out compare/
"""


def add_arguments(parser) -> None:
    parser.add_argument("--samples", required=True, metavar="SAMPLES", help="samples from netqa ingest")
    parser.add_argument("--cells", required=True, metavar="CELLS", help="cell table")
    parser.add_argument("--dem", required=True, metavar="DEM", help="digital elevation model")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    add_model_flags(parser)
    add_overwrite(parser)


def run(args) -> int:
    return not_built(NAME, 6)
