"""``netqa run`` — the whole chain from a project file."""

from __future__ import annotations

from netqa.commands import add_overwrite, not_built

NAME = "run"
HELP = "the whole chain from a project file, into a run folder with a manifest"
EXAMPLE = """
netqa run project.toml
"""


def add_arguments(parser) -> None:
    parser.add_argument("project", metavar="PROJECT.toml", help="project file (see README, 'Project file')")
    parser.add_argument("--out", metavar="DIR", help="run folder (default: the project's [run] out)")
    add_overwrite(parser)


def run(args) -> int:
    return not_built(NAME, 2)
