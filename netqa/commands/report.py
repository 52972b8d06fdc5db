"""``netqa report`` — a self-contained HTML campaign report from a run folder."""

from __future__ import annotations

from netqa.commands import add_overwrite, not_built

NAME = "report"
HELP = "a self-contained HTML campaign report from a run folder"
EXAMPLE = """
netqa report runs/2026-11-24/ --out report.html
"""


def add_arguments(parser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="run folder written by netqa run or netqa demo")
    parser.add_argument("--out", required=True, metavar="REPORT.html", help="report to write")
    add_overwrite(parser)


def run(args) -> int:
    return not_built(NAME, 8)
