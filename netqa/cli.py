"""The ``netqa`` command: parse arguments, call one library function, map errors.

Each subcommand lives in :mod:`netqa.commands` as a module defining ``NAME``,
``HELP`` (one line), ``EXAMPLE`` (shown at the end of ``--help``),
``add_arguments(parser)`` and ``run(args) -> int``.  Commands only parse and
call; the work happens in library functions.  Any :class:`NetQAError` becomes a
one-line message on stderr and exit code 2, with no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import textwrap

from netqa import __version__
from netqa.errors import NetQAError
from netqa.progress import set_enabled as _set_progress

#: Subcommands in the order ``netqa --help`` lists them.
COMMANDS = (
    "demo",
    "ingest",
    "kpi",
    "watch",
    "predict",
    "compare",
    "calibrate",
    "score",
    "map",
    "report",
    "run",
)

log = logging.getLogger("netqa")


def _common(parser: argparse.ArgumentParser, top: bool = False) -> None:
    # Subcommands suppress the default so that 'netqa -v predict' and 'netqa predict -v' both work.
    default = False if top else argparse.SUPPRESS
    g = parser.add_mutually_exclusive_group()
    g.add_argument("-v", "--verbose", action="store_true", default=default, help="log details (DEBUG level) to stderr")
    g.add_argument("-q", "--quiet", action="store_true", default=default, help="only errors; no progress output")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every subcommand of DESIGN.md."""
    parser = argparse.ArgumentParser(
        prog="netqa",
        description="netqa — network-quality analyzer for RF engineers: drive-test ingest and KPIs, "
        "coverage prediction, predicted-vs-measured comparison, calibration, regional scoring and maps.",
        epilog="Example:\n  netqa demo --out demo-output\n\nRun 'netqa COMMAND --help' for each command's options and an example.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"netqa {__version__}")
    _common(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        mod = importlib.import_module(f"netqa.commands.{name.replace('-', '_')}")
        p = sub.add_parser(
            name,
            help=mod.HELP,
            description=getattr(mod, "DESCRIPTION", mod.HELP),
            epilog="Example:\n" + textwrap.indent(textwrap.dedent(mod.EXAMPLE).strip("\n"), "  "),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _common(p)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def _configure_logging(verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else (logging.ERROR if quiet else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s" if not verbose else "%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("netqa")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    _set_progress(not quiet)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``netqa`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    _configure_logging(args.verbose, args.quiet)
    from netqa import timings

    timings.reset()
    try:
        code = int(args._run(args) or 0)
        log.debug("%s: %s", args.command, timings.summary())
        timings.write_if_requested(args.command)
        return code
    except NetQAError as exc:
        print(f"netqa {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"netqa {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
