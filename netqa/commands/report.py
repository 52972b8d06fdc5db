"""``netqa report`` — a self-contained HTML campaign report from a run folder."""

from __future__ import annotations

from netqa.commands import add_overwrite

NAME = "report"
HELP = "a self-contained HTML campaign report from a run folder"
DESCRIPTION = (
    "Lay out a run folder for a reader who was not there: run and stage status, inputs with SHA-256, "
    "parameters and versions, coverage maps, KPI tables, predicted-vs-measured statistics, calibration "
    "and the regional scorecard, in one HTML file that needs no network."
)
EXAMPLE = """
netqa report runs/2026-11-24/ --out report.html
"""


def add_arguments(parser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="run folder written by netqa run or netqa demo")
    parser.add_argument("--out", required=True, metavar="REPORT.html", help="report to write")
    add_overwrite(parser)


def run(args) -> int:
    from netqa.report import write_report

    write_report(args.run_dir, args.out, overwrite=args.overwrite)
    return 0
