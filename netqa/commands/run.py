"""``netqa run`` — the whole chain from a project file."""

from __future__ import annotations

import logging
from pathlib import Path

from netqa.commands import add_overwrite

NAME = "run"
HELP = "the whole chain from a project file, into a run folder with a manifest"
DESCRIPTION = (
    "Run every stage the project file enables (ingest, kpi, predict, compare, calibrate, score, map, report) "
    "into one run folder, and write manifest.json there: inputs with SHA-256, parameters, package versions "
    "and outputs. See netqa/data/demo_project.toml for a complete project file."
)
EXAMPLE = """
netqa run project.toml --out runs/2026-11-24
"""

log = logging.getLogger("netqa")


def add_arguments(parser) -> None:
    parser.add_argument("project", metavar="PROJECT.toml", help="project file")
    parser.add_argument("--out", metavar="DIR", help="run folder (default: [project] out in the file)")
    add_overwrite(parser)


def run(args) -> int:
    from netqa.config import load_project
    from netqa.errors import ConfigError
    from netqa.pipeline import run_project

    config = load_project(args.project)
    out = Path(args.out) if args.out else config.project.out
    if out is None:
        raise ConfigError(f"{args.project}: no run folder: give --out DIR or [project] out = \"DIR\"")
    manifest = run_project(config, out, overwrite=args.overwrite)
    log.info("run folder: %s (manifest: %s)", manifest.parent, manifest)
    return 0
