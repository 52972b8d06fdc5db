"""The netqa error tree.

Every error a user can cause derives from :class:`NetQAError`; each subclass
also inherits the builtin it resembles, so ``except ValueError`` still works.
The CLI maps any ``NetQAError`` to a one-line message on stderr and exit code 2
(no traceback).  Messages name the file, row, field or flag at fault, quote the
value, and say how to fix it.
"""

from __future__ import annotations

#: Exit code for bad input (DESIGN.md, "Command line").
EXIT_BAD_INPUT = 2


class NetQAError(Exception):
    """Root of every user-facing netqa error."""

    exit_code = EXIT_BAD_INPUT


class InputError(NetQAError, ValueError):
    """An input file or value is invalid."""


class ConfigError(NetQAError, ValueError):
    """A project file, profile or mapping file has an unknown key or impossible value."""


class CellTableError(InputError):
    """The cell table is malformed (missing column, duplicate id, impossible value)."""


class AntennaPatternError(InputError):
    """An antenna pattern file (MSI/Planet) is malformed."""


class RasterError(InputError):
    """A raster (DEM, clutter, coverage) is missing, malformed or does not cover the area."""


class CRSError(InputError):
    """A coordinate reference system is missing or incompatible."""


class LogFormatError(InputError):
    """A drive-test log cannot be read in the requested or detected format."""


class OutputExistsError(NetQAError, FileExistsError):
    """An output exists and ``--overwrite`` was not given."""


class NotBuiltError(NetQAError, NotImplementedError):
    """A command whose issue has not landed yet."""


__all__ = [
    "EXIT_BAD_INPUT",
    "NetQAError",
    "InputError",
    "ConfigError",
    "CellTableError",
    "AntennaPatternError",
    "RasterError",
    "CRSError",
    "LogFormatError",
    "OutputExistsError",
    "NotBuiltError",
    "ValidityRangeWarning",  # noqa: F822 - provided by the module __getattr__ below (imported on use)
]


def __getattr__(name: str):
    """``ValidityRangeWarning`` (re-exported from :mod:`propagation`) is imported on first use.

    Importing :mod:`propagation` loads numba (and scipy, which numba imports): about 1 s
    that ``netqa --help`` and the commands without an engine should not pay.
    """
    if name == "ValidityRangeWarning":
        from propagation import ValidityRangeWarning

        return ValidityRangeWarning
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
