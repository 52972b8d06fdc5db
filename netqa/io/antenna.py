"""MSI/Planet antenna pattern files (``.msi``, ``.pln``, ``.txt``): read and write.

The format (MSI Planet, the de-facto exchange format of antenna vendors; as
described e.g. by Radio Mobile's "MSI" definition page) is plain text::

    NAME <name>                 (some vendors omit the NAME keyword on line 1)
    MAKE <manufacturer>
    FREQUENCY <MHz>
    H_WIDTH <deg>
    V_WIDTH <deg>
    FRONT_TO_BACK <dB>
    GAIN <value> [dBd|dBi]      (no unit means dBd; dBi = dBd + 2.15)
    TILT <ELECTRICAL|MECHANICAL> [<deg>]
    POLARIZATION <text>
    COMMENT <text>
    HORIZONTAL 360
    0 <attenuation dB>
    ...
    359 <attenuation dB>
    VERTICAL 360
    0 <attenuation dB>
    ...

Attenuations are positive dB below the peak.  The horizontal angle is
measured from boresight (read clockwise), the vertical angle from the front
horizon downward (90 = straight down).  See :class:`propagation.AntennaPattern`.

A ``TILT ELECTRICAL`` line without a number (common: the tilt is only in the
name) takes the tilt from the vertical cut: the front-half angle of least
attenuation (positive below the horizon).
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import numpy as np

from netqa.errors import AntennaPatternError
from netqa.fileio import atomic_path, check_output
from propagation.antenna_pattern import N_CUT, AntennaPattern

__all__ = ["read_msi", "write_msi", "DBD_TO_DBI_DB"]

log = logging.getLogger(__name__)

#: Gain of a half-wave dipole over isotropic: dBi = dBd + 2.15. [dB]
DBD_TO_DBI_DB = 2.15

_HEADER_KEYS = ("NAME", "MAKE", "FREQUENCY", "GAIN", "TILT", "POLARIZATION", "COMMENT")
_SECTIONS = ("HORIZONTAL", "VERTICAL")


class _Reader:
    """Line-oriented parser keeping the file name and line number for errors."""

    def __init__(self, path: Path, lines: list[str]):
        self.path = path
        self.lines = lines

    def fail(self, line_no: int, problem: str) -> AntennaPatternError:
        return AntennaPatternError(f"{self.path}: line {line_no}: {problem}")


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _decode(path: Path, data: bytes) -> str:
    if not data.strip():
        raise AntennaPatternError(f"{path}: line 1: empty file; expected an MSI/Planet antenna pattern")
    if b"\x00" in data:
        line_no = data[: data.index(b"\x00")].count(b"\n") + 1
        raise AntennaPatternError(
            f"{path}: line {line_no}: binary content (NUL byte); expected a text MSI/Planet antenna pattern"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # vendor files are often Windows-1252/latin-1
    for i, line in enumerate(text.splitlines(), start=1):
        bad = [c for c in line if (ord(c) < 32 and c not in "\t\f\v") or 0x7F <= ord(c) < 0xA0]
        if bad:
            raise AntennaPatternError(
                f"{path}: line {i}: control character {bad[0]!r} in a text file; "
                "the file is binary or garbage, not an MSI/Planet antenna pattern"
            )
    return text


def _parse_gain(rd: _Reader, line_no: int, value: str) -> float:
    tokens = value.split()
    if not tokens or (g := _number(tokens[0])) is None:
        raise rd.fail(line_no, f"GAIN value {value!r} is not a number; write e.g. 'GAIN 15.85 dBd'")
    unit = tokens[1].lower() if len(tokens) > 1 else "dbd"
    if len(tokens) > 2 or unit not in ("dbd", "dbi"):
        raise rd.fail(line_no, f"unknown GAIN unit {' '.join(tokens[1:])!r}; allowed: dBd (the default) or dBi")
    return g + DBD_TO_DBI_DB if unit == "dbd" else g


def _parse_frequency(value: str) -> float | None:
    tokens = value.split()
    if not tokens or (f := _number(tokens[0])) is None or f <= 0:
        return None
    unit = tokens[1].lower() if len(tokens) > 1 else "mhz"
    scale = {"mhz": 1.0, "ghz": 1000.0, "khz": 1e-3, "hz": 1e-6}.get(unit)
    if scale is None or len(tokens) > 2:
        return None
    return f * scale


def _parse_tilt(rd: _Reader, line_no: int, value: str) -> tuple[str, float | None]:
    tokens = value.split()
    if not tokens:
        raise rd.fail(line_no, "TILT needs ELECTRICAL or MECHANICAL (optionally followed by the angle in degrees)")
    kind = tokens[0].upper()
    if kind not in ("ELECTRICAL", "MECHANICAL"):
        raise rd.fail(line_no, f"TILT kind {tokens[0]!r} unknown; allowed: ELECTRICAL, MECHANICAL")
    if len(tokens) == 1:
        return kind, None
    angle = _number(tokens[1].removesuffix("°"))
    if angle is None or len(tokens) > 2 or not -90.0 <= angle <= 90.0:
        raise rd.fail(line_no, f"TILT angle {' '.join(tokens[1:])!r} is not a number of degrees in [-90, 90]")
    return kind, angle


def _read_section(rd: _Reader, name: str, start: int, line_no: int, header: str) -> tuple[np.ndarray, int]:
    """Parse ``HORIZONTAL 360`` and its 360 data lines; return (values, next index)."""
    tokens = header.split()
    if len(tokens) != 2 or _number(tokens[1]) is None:
        raise rd.fail(line_no, f"{name} header {header.strip()!r} must be '{name} 360'")
    count = _number(tokens[1])
    if count != N_CUT:
        raise rd.fail(line_no, f"{name} section declares {tokens[1]} points; the MSI format needs exactly 360 (0..359)")
    values = np.full(N_CUT, np.nan)
    seen: dict[int, int] = {}
    i = start
    n = 0
    while n < N_CUT:
        if i >= len(rd.lines):
            missing = sorted(set(range(N_CUT)) - set(seen))
            raise rd.fail(
                len(rd.lines),
                f"{name} section ends after {n} of 360 points (end of file); missing angles "
                f"{', '.join(map(str, missing[:5]))}{' ...' if len(missing) > 5 else ''}",
            )
        text = rd.lines[i].strip()
        here = i + 1
        i += 1
        if not text:
            continue
        parts = text.split()
        if parts[0].upper() in _SECTIONS or parts[0].upper() in _HEADER_KEYS:
            missing = sorted(set(range(N_CUT)) - set(seen))
            raise rd.fail(
                here,
                f"{name} section has only {n} of 360 points before {parts[0]!r}; missing angles "
                f"{', '.join(map(str, missing[:5]))}{' ...' if len(missing) > 5 else ''}",
            )
        if len(parts) != 2:
            raise rd.fail(here, f"{name} data line {text!r} must be '<angle> <attenuation dB>'")
        angle = _number(parts[0])
        if angle is None:
            raise rd.fail(here, f"{name} angle {parts[0]!r} is not a number")
        if angle != int(angle):
            raise rd.fail(here, f"{name} angle {parts[0]} is not a whole degree; MSI uses 0, 1, ..., 359")
        k = int(angle)
        if not 0 <= k <= 359:
            raise rd.fail(here, f"{name} angle {parts[0]} is out of range 0..359")
        if k in seen:
            raise rd.fail(here, f"{name} angle {k} duplicated (first at line {seen[k]})")
        value = _number(parts[1])
        if value is None:
            raise rd.fail(here, f"{name} attenuation {parts[1]!r} at angle {k} is not a finite number")
        if value < 0:
            raise rd.fail(
                here,
                f"{name} attenuation {parts[1]} at angle {k} is negative; MSI attenuations are dB below the peak "
                "written without the minus sign",
            )
        values[k] = value
        seen[k] = here
        n += 1
    return values, i


def read_msi(path: str | os.PathLike) -> AntennaPattern:
    """Read an MSI/Planet antenna pattern file.

    Parameters
    ----------
    path : str or path-like
        ``.msi``, ``.pln`` or ``.txt`` file.

    Returns
    -------
    propagation.AntennaPattern
        Gain converted to dBi; cuts as attenuations (>= 0 dB).

    Raises
    ------
    netqa.errors.AntennaPatternError
        Naming the file, the line and the problem: empty or binary file,
        missing or repeated HORIZONTAL/VERTICAL section, a count other than
        360, missing, duplicate or out-of-range angles, non-numeric or negative
        attenuations, an unknown GAIN unit.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from propagation import AntennaPattern
    >>> p = AntennaPattern.from_sector(name="demo", gain_dbi=17.15)
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "demo.msi"
    >>> _ = write_msi(p, f)
    >>> read_msi(f) == p
    True
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise AntennaPatternError(f"{p}: cannot read antenna pattern file: {exc.strerror or exc}") from exc
    rd = _Reader(p, _decode(p, data).splitlines())

    name: str | None = None
    make = polarization = ""
    comments: list[str] = []
    freq_mhz: float | None = None
    gain_dbi: float | None = None
    tilts: dict[str, float | None] = {}
    extra: list[tuple[str, str]] = []
    cuts: dict[str, np.ndarray] = {}
    first_content = True
    i = 0
    while i < len(rd.lines):
        raw = rd.lines[i]
        line_no = i + 1
        i += 1
        text = raw.strip()
        if not text:
            continue
        key, _, value = text.replace("\t", " ").partition(" ")
        value = value.strip()
        upper = key.upper()
        if upper in _SECTIONS:
            if upper in cuts:
                raise rd.fail(line_no, f"second {upper} section; a file holds one horizontal and one vertical cut")
            cuts[upper], i = _read_section(rd, upper, i, line_no, text)
        elif upper == "NAME":
            name = value
        elif upper == "MAKE":
            make = value
        elif upper == "GAIN":
            gain_dbi = _parse_gain(rd, line_no, value)
        elif upper == "FREQUENCY":
            freq_mhz = _parse_frequency(value)
            if freq_mhz is None:
                log.warning("%s: line %d: FREQUENCY %r not a frequency in MHz; kept as text", p, line_no, value)
                extra.append((key, value))
        elif upper == "TILT":
            kind, angle = _parse_tilt(rd, line_no, value)
            tilts[kind] = angle
        elif upper in ("POLARIZATION", "POLARISATION"):
            polarization = value
        elif upper == "COMMENT":
            comments.append(value)
        elif _number(key) is not None:
            raise rd.fail(
                line_no,
                f"data line {text!r} outside a HORIZONTAL/VERTICAL section (more than 360 points, "
                "or a missing section header?)",
            )
        elif first_content and name is None:
            name = text  # vendors that leave out the NAME keyword on line 1
        elif key.replace("_", "").isalnum():
            extra.append((key, value))  # H_WIDTH, V_WIDTH, FRONT_TO_BACK, vendor keys: kept verbatim
        else:
            raise rd.fail(line_no, f"unrecognised line {text[:60]!r}; not an MSI/Planet antenna pattern?")
        first_content = False

    end = len(rd.lines)
    for section in _SECTIONS:
        if section not in cuts:
            raise rd.fail(end, f"no {section} section (end of file); an MSI file needs '{section} 360' and 360 lines")
    if gain_dbi is None:
        log.warning("%s: no GAIN line; assuming 0 dBi", p)
        gain_dbi = 0.0
    elec = tilts.get("ELECTRICAL", 0.0)
    if "ELECTRICAL" in tilts and elec is None:
        elec = _tilt_from_vertical(cuts["VERTICAL"])
        log.info("%s: TILT ELECTRICAL without an angle; %g deg taken from the vertical cut", p, elec)
    mech = tilts.get("MECHANICAL") or 0.0
    try:
        return AntennaPattern(
            name=p.stem if name is None else name,
            gain_dbi=gain_dbi,
            h_att_db=cuts["HORIZONTAL"],
            v_att_db=cuts["VERTICAL"],
            freq_mhz=freq_mhz,
            elec_tilt_deg=elec,
            mech_tilt_deg=mech,
            make=make,
            polarization=polarization,
            comment="\n".join(comments),
            extra=tuple(extra),
        )
    except ValueError as exc:  # pragma: no cover - every field is checked above
        raise AntennaPatternError(f"{p}: {exc}") from exc


def _tilt_from_vertical(v_att_db: np.ndarray) -> float:
    """Downtilt (deg, positive below the horizon) of the front-half minimum of a vertical cut."""
    front = np.r_[np.arange(0, 91), np.arange(-89, 0)]  # depression angles
    values = v_att_db[front % N_CUT]
    return float(front[int(np.argmin(values))])


def _fmt(x: float) -> str:
    """Shortest positional text that reads back to the same float64."""
    return np.format_float_positional(float(x), trim="-")


def write_msi(pattern: AntennaPattern, path: str | os.PathLike, *, overwrite: bool = True) -> Path:
    """Write ``pattern`` as an MSI/Planet file, atomically; ``read_msi`` reads it back equal.

    Gain is written in dBi with its unit; numbers use the shortest text that
    round-trips exactly; the electrical and mechanical tilts are written as
    ``TILT ELECTRICAL <deg>`` / ``TILT MECHANICAL <deg>`` when not zero.

    Parameters
    ----------
    pattern : propagation.AntennaPattern
    path : str or path-like
        Output file (``.msi`` by convention).
    overwrite : bool
        Replace an existing file (default); ``False`` raises
        ``netqa.errors.OutputExistsError`` instead.

    Returns
    -------
    pathlib.Path
    """
    for label, text in (("name", pattern.name), ("make", pattern.make), ("polarization", pattern.polarization)):
        if "\n" in text or "\r" in text:
            raise AntennaPatternError(f"{path}: pattern {label} {text!r} spans several lines; MSI needs one line")
    lines = [f"NAME {pattern.name}"]
    if pattern.make:
        lines.append(f"MAKE {pattern.make}")
    if pattern.freq_mhz is not None:
        lines.append(f"FREQUENCY {_fmt(pattern.freq_mhz)}")
    lines += [f"{k} {v}".rstrip() for k, v in pattern.extra]
    lines.append(f"GAIN {_fmt(pattern.gain_dbi)} dBi")
    if pattern.elec_tilt_deg != 0.0:
        lines.append(f"TILT ELECTRICAL {_fmt(pattern.elec_tilt_deg)}")
    if pattern.mech_tilt_deg != 0.0:
        lines.append(f"TILT MECHANICAL {_fmt(pattern.mech_tilt_deg)}")
    if pattern.polarization:
        lines.append(f"POLARIZATION {pattern.polarization}")
    if pattern.comment:
        lines += [f"COMMENT {c}".rstrip() for c in pattern.comment.split("\n")]
    for section, cut in (("HORIZONTAL", pattern.h_att_db), ("VERTICAL", pattern.v_att_db)):
        lines.append(f"{section} {N_CUT}")
        lines += [f"{k} {_fmt(v)}" for k, v in enumerate(cut)]
    target = check_output(path, overwrite)
    with atomic_path(target) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target
