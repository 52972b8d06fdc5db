"""The ``netqa`` command: parse arguments, call one library function, map errors.

Each subcommand lives in :mod:`netqa.commands` as a module defining ``NAME``,
``HELP`` (one line), ``EXAMPLE`` (shown at the end of ``--help``),
``add_arguments(parser)`` and ``run(args) -> int``.  Commands only parse and
call; the work happens in library functions.  Any :class:`NetQAError` becomes a
one-line message on stderr and exit code 2, with no traceback; so does every
fault of the file system or of a file's content that the libraries report
(``OSError`` and its family — a folder where a file is expected, a symlink
loop, a permission, a full disk —, rasterio/GDAL, Arrow and OGR read errors),
and a bad flag value (one line, not argparse's usage block).  Anything else
is a bug: one line saying so, exit 2, the traceback only with ``--verbose``.

Flags are never abbreviated (``allow_abbrev=False`` on every parser: ``--out``
is not ``--o``, and a flag added later cannot silently change what an old
abbreviation meant); an unknown or misspelt flag is answered with the
subcommand's own usage line, ``netqa SUBCOMMAND: error: unrecognized
arguments: ...``, the closest valid flag suggested, and exit code 2.
"""

from __future__ import annotations

import argparse
import difflib
import errno
import importlib
import logging
import sys
import textwrap
import warnings

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
    "audit",
    "link",
    "score",
    "map",
    "report",
    "run",
)

log = logging.getLogger("netqa")


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (the flag and the reason), exit 2.

    A wrong command line's shape (an unknown flag, a missing required one) is
    answered with the subcommand's usage line first, as argparse does, so the
    user sees the flags that exist; a bad value of a known flag gets the one
    error line alone.
    """

    def error(self, message: str):  # argparse API
        if message.startswith(("unrecognized arguments", "the following arguments are required")):
            self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _common(parser: argparse.ArgumentParser, top: bool = False) -> None:
    # Subcommands suppress the default so that 'netqa -v predict' and 'netqa predict -v' both work.
    default = False if top else argparse.SUPPRESS
    g = parser.add_mutually_exclusive_group()
    g.add_argument("-v", "--verbose", action="store_true", default=default, help="log details (DEBUG level) to stderr")
    g.add_argument("-q", "--quiet", action="store_true", default=default, help="only errors; no progress output")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every subcommand of DESIGN.md."""
    parser = _Parser(
        prog="netqa",
        description="netqa — network-quality analyzer for RF engineers: drive-test ingest and KPIs, "
        "coverage prediction, predicted-vs-measured comparison, calibration, regional scoring and maps.",
        epilog="Example:\n  netqa demo --out demo-output\n\nRun 'netqa COMMAND --help' for each command's options and an example.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
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
            allow_abbrev=False,
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
    # Python warnings as one log line each (not two lines with the source line under them); GDAL's note on
    # the extension of an atomic write's temporary GeoPackage (renamed to .gpkg at the end) is noise
    warnings.filterwarnings("ignore", message="The filename extension should be", category=RuntimeWarning)
    warnings.showwarning = _warning_line


def _warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    log.warning("warning: %s (%s)", " ".join(str(message).split()), category.__name__)


def subcommand_parsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """``{name: parser}`` of every subcommand of ``parser`` (from :func:`build_parser`)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _unrecognized(parser: argparse.ArgumentParser, args, extras: list[str]) -> None:
    """Exit 2 with the subcommand's usage and the closest valid flag (argparse would show the top-level usage)."""
    sub = subcommand_parsers(parser).get(getattr(args, "command", None) or "", parser)
    msg = f"unrecognized arguments: {' '.join(extras)}"
    flags = [o for a in sub._actions for o in a.option_strings if o.startswith("--")]
    for e in extras:
        close = difflib.get_close_matches(e.split("=", 1)[0], flags, n=1, cutoff=0.6) if e.startswith("-") else []
        if close:
            msg += f" (did you mean {close[0]}?)"
            break
    sub.error(msg)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``netqa`` console script; returns the exit code."""
    parser = build_parser()
    try:
        args, extras = parser.parse_known_args(argv)
        if extras:
            _unrecognized(parser, args, extras)
    except SystemExit as exc:  # a bad flag (one line printed, code 2) returns like any bad input; --help exits 0
        if exc.code in (0, None):
            raise
        return int(exc.code) if isinstance(exc.code, int) else 2
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
        return _fail(args.command, _one_line(str(exc)), exc.exit_code)
    except KeyboardInterrupt:
        print(f"netqa {args.command}: interrupted", file=sys.stderr)
        return 130
    except BaseException as exc:  # the last line of defence: never a traceback
        if isinstance(exc, SystemExit):
            raise
        return _fail(args.command, describe_fault(exc), 2, exc)


#: Readable causes for the errno values a user can provoke with paths and disks.
_ERRNO_TEXT = {
    errno.ENOENT: "no such file or folder",
    errno.EISDIR: "is a folder, expected a file",
    errno.ENOTDIR: "not a folder (a file stands where a folder is expected)",
    errno.ELOOP: "symbolic link loop (too many levels of links)",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOSPC: "no space left on the device (disk full)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.ENAMETOOLONG: "file name too long",
    errno.EEXIST: "already exists",
    errno.ENOTEMPTY: "folder not empty",
    errno.EIO: "input/output error (damaged file or device)",
}


def _one_line(text: str, limit: int = 400) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _library_error_types() -> tuple[tuple[type, str], ...]:
    """(exception type, what it means) of the I/O libraries netqa reads through, when importable."""
    found = []
    for module, name, what in (
        ("rasterio.errors", "RasterioError", "raster read/write failed"),
        ("rasterio._err", "CPLE_BaseError", "raster read/write failed (GDAL)"),
        ("pyarrow.lib", "ArrowException", "Parquet/Arrow read failed"),
        ("pyogrio.errors", "DataSourceError", "vector file read failed"),
        ("pyogrio.errors", "DataLayerError", "vector file read failed"),
        ("pyogrio.errors", "FieldError", "vector file read failed"),
        ("pyogrio.errors", "GeometryError", "vector file read failed"),
    ):
        mod = sys.modules.get(module)  # only libraries already imported can have raised
        cls = getattr(mod, name, None) if mod is not None else None
        if isinstance(cls, type):
            found.append((cls, what))
    return tuple(found)


def _chain_text(exc: BaseException) -> str:
    """The messages of ``exc`` and its causes, outermost first, without "see previous exception" filler
    (rasterio's read errors carry the file and the block in the cause)."""
    parts, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        text = str(exc).strip()
        if text and "previous exception" not in text and text not in parts:
            parts.append(text)
        exc = exc.__cause__ or exc.__context__
    return ": ".join(parts) or "no details"


def describe_fault(exc: BaseException) -> str:
    """One line for a non-netqa exception: the file and the cause for I/O faults, else a bug report hint.

    Parameters
    ----------
    exc : BaseException
        The exception that reached the command line.

    Returns
    -------
    str
        One line without a newline.
    """
    if isinstance(exc, MemoryError):
        return "out of memory (try a smaller area, --tile-px, or fewer workers)"
    for cls, what in _library_error_types():
        if isinstance(exc, cls):
            return _one_line(f"{what}: {_chain_text(exc)}")
    if isinstance(exc, OSError):
        cause = _ERRNO_TEXT.get(exc.errno) or exc.strerror or str(exc) or type(exc).__name__
        names = [str(n) for n in (exc.filename, exc.filename2) if n is not None]
        if len(names) == 2 and ".part" in names[0]:  # an atomic write's temporary file: the target is what counts
            names = names[1:]
        where = " -> ".join(names)
        return _one_line(f"{where}: {cause}" if where else cause)
    if isinstance(exc, RuntimeError) and str(exc).startswith("Symlink loop"):  # pathlib.Path.resolve()
        return _one_line(f"symbolic link loop: {str(exc).removeprefix('Symlink loop from ')}")
    if isinstance(exc, UnicodeError):
        return _one_line(f"a file is not valid text in its encoding: {exc}")
    return _one_line(f"unexpected {type(exc).__name__}: {exc} (a netqa bug: please report it; "
                     "--verbose shows the traceback)")


def _fail(command: str, message: str, code: int, exc: BaseException | None = None) -> int:
    print(f"netqa {command}: error: {message}", file=sys.stderr)
    if exc is not None:
        log.debug("traceback of the error above", exc_info=exc)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
