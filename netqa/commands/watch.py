"""``netqa watch`` — live KPIs and threshold alerts while logs are being written."""

from __future__ import annotations

from netqa.commands import not_built

NAME = "watch"
HELP = "live KPIs and threshold alerts while logs are being written"
EXAMPLE = """
netqa watch /data/drive-today --profile lte --interval-s 5 --alerts alerts.jsonl
"""


def add_arguments(parser) -> None:
    parser.add_argument("dir", metavar="DIR", help="folder the drive-test tool writes logs into")
    parser.add_argument("--profile", default="lte", metavar="lte|nr|FILE.toml", help="threshold profile (default: lte)")
    parser.add_argument("--interval-s", type=float, default=5.0, help="update interval [s] (default 5)")
    parser.add_argument("--alerts", metavar="ALERTS.jsonl", help="append alerts as JSON lines")


def run(args) -> int:
    return not_built(NAME, 5)
