"""``netqa demo`` — the whole chain on the embedded test world."""

from __future__ import annotations

import json
import logging

from netqa.commands import add_overwrite

NAME = "demo"
HELP = "the whole chain on the embedded test world"
DESCRIPTION = (
    "Ingest the test world's drive logs, compute KPIs, predict coverage, compare and calibrate, "
    "score the regions and draw maps and a report, all into one folder with a manifest."
)
EXAMPLE = """
netqa demo --out demo-output --overwrite
"""

log = logging.getLogger("netqa")


def add_arguments(parser) -> None:
    parser.add_argument("--out", default="demo-output", metavar="DIR", help="output folder (default: demo-output)")
    add_overwrite(parser)


def run(args) -> int:
    from netqa.demo import run_demo

    manifest_path = run_demo(args.out, overwrite=args.overwrite)
    manifest = json.loads(manifest_path.read_text())
    for stage in manifest["stages"]:
        line = f"  {stage['name']:<10} {stage['status']}"
        if stage["outputs"]:
            line += ": " + ", ".join(stage["outputs"])
        elif stage["message"] and stage["status"] != "done":
            line += f" ({stage['message']})"
        log.info(line)
    out = manifest_path.parent.resolve()
    log.info("demo outputs are in %s (see manifest.json)", out)
    if (out / "report.html").is_file():
        log.info("open the campaign report: %s", (out / "report.html").as_uri())
    if (out / "maps").is_dir():
        log.info("maps (PNG, KMZ for Google Earth, interactive HTML): %s", out / "maps")
    return 0
