"""``netqa demo`` — the whole chain on the embedded test world."""

from __future__ import annotations

from netqa.commands import add_overwrite, not_built

NAME = "demo"
HELP = "the whole chain on the embedded test world"
EXAMPLE = """
netqa demo --out demo-output
"""


def add_arguments(parser) -> None:
    parser.add_argument("--out", default="demo-output", metavar="DIR", help="output folder (default: demo-output)")
    add_overwrite(parser)


def run(args) -> int:
    return not_built(NAME, 2)
