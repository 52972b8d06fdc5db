"""Project files: TOML loaded into frozen, validated configuration objects.

A project file describes one run of the whole chain (``netqa run PROJECT.toml``)::

    [project]
    name = "Test world"
    out = "runs/testworld"            # run folder, relative to this file

    [inputs]
    cells = "testdata/cells.csv"
    dem = "testdata/dem.tif"
    clutter = "testdata/clutter.tif"
    clutter_table = "testdata/clutter_classes.csv"
    # surface = "buildings.tif"       # building heights above ground [m] (--surface)
    logs = ["testdata/drives/*.csv"]  # files, folders or glob patterns
    regions = "testdata/regions.gpkg"
    complaints = "testdata/complaints.csv"

    [predict]
    model = "hata"
    terrain = "none"
    resolution_m = 30.0
    radius_km = 15.0
    clutter_model = "table"           # or "p2108", "p2108-statistical" (ITU-R P.2108-1)
    location_pct = 50.0               # p2108-statistical: percentage of locations
    street_width_m = 27.0             # p2108: street width of the height-gain model

    [compare]
    clutter_model = "table"           # the same three keys, values and checks as [predict]

Every section and key is optional except ``[inputs]`` entries that the enabled
stages need.  Unknown sections or keys, missing files and impossible values are
rejected with a :class:`~netqa.errors.ConfigError` naming the file, the
``[section] key`` and the reason.  Relative paths are resolved against the
folder holding the project file.
"""

from __future__ import annotations

import dataclasses
import glob
import math
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from netqa.errors import ConfigError

MODELS = ("auto", "hata", "cost231", "spm", "tr38901-uma", "tr38901-umi", "tr38901-rma", "fspl")
TERRAIN_METHODS = ("none", "delta-bullington", "itm")
CLUTTER_MODELS = ("table", "p2108", "p2108-statistical")
LOG_FORMATS = ("auto", "netqa", "gnettrack", "networksurvey", "nemo")
MAP_FORMATS = ("png", "kmz", "html")
#: Coverage bands that a map can draw (netqa.maps.legend.LEGEND_BANDS less rsrq_db, which coverage lacks).
MAP_BANDS = ("rsrp_dbm", "sinr_db", "dl_mbps", "ul_mbps")


def _meta(*, choices=None, lo=None, hi=None, kind=None, unit="", help="", folders=False):
    return {"choices": choices, "lo": lo, "hi": hi, "kind": kind, "unit": unit, "help": help, "folders": folders}


@dataclass(frozen=True)
class ProjectSection:
    """``[project]``: the run's name and output folder."""

    name: str = field(default="netqa project", metadata=_meta(kind="str"))
    out: Path | None = field(default=None, metadata=_meta(kind="outpath"))


@dataclass(frozen=True)
class InputsSection:
    """``[inputs]``: the files the chain reads (paths relative to the project file)."""

    cells: Path | None = field(default=None, metadata=_meta(kind="path"))
    dem: tuple[Path, ...] = field(default=(), metadata=_meta(kind="paths"))
    clutter: Path | None = field(default=None, metadata=_meta(kind="path"))
    clutter_table: Path | None = field(default=None, metadata=_meta(kind="path"))
    #: building/obstacle heights ABOVE GROUND [m] (surface model minus DEM), as --surface of predict/compare/calibrate
    surface: Path | None = field(default=None, metadata=_meta(kind="path"))
    logs: tuple[Path, ...] = field(default=(), metadata=_meta(kind="paths", folders=True))
    regions: Path | None = field(default=None, metadata=_meta(kind="path"))
    complaints: Path | None = field(default=None, metadata=_meta(kind="path"))
    truth: Path | None = field(default=None, metadata=_meta(kind="path", help="test-world truth JSON"))


@dataclass(frozen=True)
class PredictSection:
    """``[predict]``: coverage prediction settings (see ``netqa predict --help``)."""

    enabled: bool = field(default=True, metadata=_meta(kind="bool"))
    #: auto: netqa.modelcheck.auto_model of the cells' carriers (hata, cost231 or tr38901-uma)
    model: str = field(default="auto", metadata=_meta(kind="str", choices=MODELS))
    terrain: str = field(default="none", metadata=_meta(kind="str", choices=TERRAIN_METHODS))
    model_file: Path | None = field(default=None, metadata=_meta(kind="path"))
    resolution_m: float = field(default=30.0, metadata=_meta(kind="float", lo=1.0, hi=10_000.0, unit="m"))
    radius_km: float = field(default=15.0, metadata=_meta(kind="float", lo=0.1, hi=200.0, unit="km"))
    rx_height_m: float = field(default=1.5, metadata=_meta(kind="float", lo=0.5, hi=50.0, unit="m"))
    noise_figure_db: float = field(default=7.0, metadata=_meta(kind="float", lo=0.0, hi=20.0, unit="dB"))
    cell_load: float = field(default=1.0, metadata=_meta(kind="float", lo=0.0, hi=1.0, unit="1"))
    #: predict with the SPM that the run's calibrate stage fitted (when it ran), instead of `model`
    use_calibrated: bool = field(default=False, metadata=_meta(kind="bool"))
    #: how clutter classes become losses: table, p2108 (P.2108 section 3.1), p2108-statistical (section 3.2)
    clutter_model: str = field(default="table", metadata=_meta(kind="str", choices=CLUTTER_MODELS))
    #: p2108-statistical: percentage of locations, 0 < p < 100
    location_pct: float = field(default=50.0, metadata=_meta(kind="float", lo=0.001, hi=99.999, unit="%"))
    #: p2108: street width w_s of the height-gain model
    street_width_m: float = field(default=27.0, metadata=_meta(kind="float", lo=1.0, hi=1000.0, unit="m"))
    #: side of a computation tile in pixels (memory ~ (tile + 2 x radius / resolution)^2 x 50 bytes)
    tile_px: int = field(default=4096, metadata=_meta(kind="int", lo=16, hi=65536, unit="px"))
    #: terrain = "itm": Longley-Rice settings, as the --itm-* flags (unset: the model's defaults); also used by the
    #: compare and calibrate stages
    itm_climate: int | None = field(default=None, metadata=_meta(kind="int", lo=1, hi=7))
    itm_n0: float | None = field(default=None, metadata=_meta(kind="float", lo=250.0, hi=400.0, unit="N-units"))
    itm_permittivity: float | None = field(default=None, metadata=_meta(kind="float", lo=1.0, hi=100.0))
    itm_conductivity: float | None = field(default=None, metadata=_meta(kind="float", lo=1e-6, hi=100.0, unit="S/m"))
    itm_mdvar: int | None = field(default=None, metadata=_meta(kind="int", lo=0, hi=33))
    itm_time_pct: float | None = field(default=None, metadata=_meta(kind="float", lo=0.001, hi=99.999, unit="%"))
    itm_location_pct: float | None = field(default=None, metadata=_meta(kind="float", lo=0.001, hi=99.999, unit="%"))
    itm_situation_pct: float | None = field(default=None, metadata=_meta(kind="float", lo=0.001, hi=99.999, unit="%"))
    #: ground-reflection polarisation of ITM and delta-Bullington (unset: horizontal)
    polarization: str | None = field(default=None, metadata=_meta(kind="str", choices=("horizontal", "vertical")))


_PREDICT_FIELDS = {f.name: f for f in fields(PredictSection)}


@dataclass(frozen=True)
class CompareSection:
    """``[compare]``: predicted vs measured (see ``netqa compare --help``); model and terrain come from ``[predict]``.

    The clutter keys take the values and validation of ``[predict]``'s; left out, each is ``[predict]``'s
    (so the comparison judges the physics that drew the coverage map), None here.
    """

    enabled: bool = field(default=True, metadata=_meta(kind="bool"))
    clutter_model: str | None = field(default=None, metadata=_PREDICT_FIELDS["clutter_model"].metadata)
    location_pct: float | None = field(default=None, metadata=_PREDICT_FIELDS["location_pct"].metadata)
    street_width_m: float | None = field(default=None, metadata=_PREDICT_FIELDS["street_width_m"].metadata)


@dataclass(frozen=True)
class IngestSection:
    """``[ingest]``: drive-test log reading (see ``netqa ingest --help``)."""

    enabled: bool = field(default=True, metadata=_meta(kind="bool"))
    #: auto, netqa, gnettrack, networksurvey, nemo, or a mapping TOML (path relative to the project file)
    format: str = field(default="auto", metadata=_meta(kind="format"))
    tz: str | None = field(default=None, metadata=_meta(kind="tz"))
    #: GPX or NMEA track joined by time onto logs without positions (``--track``)
    track: Path | None = field(default=None, metadata=_meta(kind="path"))
    track_max_gap_s: float = field(default=10.0, metadata=_meta(kind="float", lo=0.0, hi=3600.0, unit="s"))


@dataclass(frozen=True)
class KpiSection:
    """``[kpi]``: measured KPIs (see ``netqa kpi --help``)."""

    enabled: bool = field(default=True, metadata=_meta(kind="bool"))
    #: lte, nr, or a profile TOML (path relative to the project file)
    profile: str = field(default="lte", metadata=_meta(kind="profile"))


@dataclass(frozen=True)
class StageSection:
    """A stage that only needs switching on or off (``[calibrate]``)."""

    enabled: bool = field(default=True, metadata=_meta(kind="bool"))


@dataclass(frozen=True)
class CalibrateSection:
    """``[calibrate]``: the SPM fit (see ``netqa calibrate --help``); terrain and receiver height come from ``[predict]``."""

    enabled: bool = field(default=True, metadata=_meta(kind="bool"))
    #: clutter along the path tried as calibratable terms (issue 12 item 3): none, near, whole or both
    path_clutter: str = field(default="none", metadata=_meta(kind="str", choices=("none", "near", "whole", "both")))
    #: the near share's stretch before the receiver
    path_clutter_near_m: float = field(default=300.0, metadata=_meta(kind="float", lo=1.0, hi=100_000.0, unit="m"))
    #: also fit the learned correction, kept only when site-held-out RMSE drops (issue 12 item 5)
    learned_correction: bool = field(default=False, metadata=_meta(kind="bool"))


@dataclass(frozen=True)
class ScoreSection:
    """``[score]``: regional scorecards (see ``netqa score --help``)."""

    enabled: bool = field(default=True, metadata=_meta(kind="bool"))
    scheduler: str | None = field(default=None, metadata=_meta(kind="str"))
    workers: int = field(default=1, metadata=_meta(kind="int", lo=1, hi=1024, unit="processes"))
    scheme: Path | None = field(default=None, metadata=_meta(kind="path"))
    campaign_window: str | None = field(default=None, metadata=_meta(kind="str"))
    complaint_radius_m: float = field(default=100.0, metadata=_meta(kind="float", lo=1.0, hi=10_000.0, unit="m"))
    traffic_raster: Path | None = field(default=None, metadata=_meta(kind="path"))
    repair: bool = field(default=True, metadata=_meta(kind="bool"))


@dataclass(frozen=True)
class MapSection:
    """``[map]``: which maps the run draws."""

    enabled: bool = field(default=True, metadata=_meta(kind="bool"))
    bands: tuple[str, ...] = field(default=("rsrp_dbm", "sinr_db", "dl_mbps"), metadata=_meta(kind="strs", choices=MAP_BANDS))
    formats: tuple[str, ...] = field(default=MAP_FORMATS, metadata=_meta(kind="strs", choices=MAP_FORMATS))


@dataclass(frozen=True)
class ProjectConfig:
    """A whole project file, validated.  Build it with :func:`load_project`."""

    source: Path | None
    project: ProjectSection = ProjectSection()
    inputs: InputsSection = InputsSection()
    ingest: IngestSection = IngestSection()
    kpi: KpiSection = KpiSection()
    predict: PredictSection = PredictSection()
    compare: CompareSection = CompareSection()
    calibrate: CalibrateSection = CalibrateSection()
    score: ScoreSection = ScoreSection()
    map: MapSection = MapSection()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict of every setting (paths as strings), for manifests."""

        def conv(v):
            if isinstance(v, Path):
                return str(v)
            if isinstance(v, tuple):
                return [conv(x) for x in v]
            return v

        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "source":
                continue
            sec = getattr(self, f.name)
            out[f.name] = {sf.name: conv(getattr(sec, sf.name)) for sf in fields(sec)}
        return out


_SECTIONS = {
    "project": ProjectSection,
    "inputs": InputsSection,
    "ingest": IngestSection,
    "kpi": KpiSection,
    "predict": PredictSection,
    "compare": CompareSection,
    "calibrate": CalibrateSection,
    "score": ScoreSection,
    "map": MapSection,
}


def load_project(path: str | Path) -> ProjectConfig:
    """Read and validate a project TOML file.

    Parameters
    ----------
    path : str or Path
        The project file.

    Returns
    -------
    ProjectConfig
        Frozen configuration; relative paths resolved against the file's folder.

    Raises
    ------
    ConfigError
        Unreadable TOML, an unknown section or key, a missing input file, a
        value of the wrong type or outside its range; the message names the
        file and the ``[section] key``.
    """
    p = Path(path)
    _check_path(p, f"{p}: project file", folders=False)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{p}: project file cannot be read ({exc.strerror})") from exc
    return project_from_dict(data, base_dir=p.resolve().parent, source=p)


def project_from_dict(data: dict[str, Any], base_dir: Path, source: Path | None = None) -> ProjectConfig:
    """Validate an already-parsed project mapping (see :func:`load_project`)."""
    where = str(source) if source else "project"
    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown section [{unknown[0]}]; valid sections: {', '.join(_SECTIONS)}"
        )
    built = {}
    for name, cls in _SECTIONS.items():
        table = data.get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: [{name}] must be a table, got {type(table).__name__}")
        built[name] = _build_section(cls, table, name, base_dir, where)
    return ProjectConfig(source=source, **built)


def _build_section(cls, table: dict[str, Any], section: str, base_dir: Path, where: str):
    valid = {f.name: f for f in fields(cls)}
    for key in table:
        if key not in valid:
            raise ConfigError(
                f"{where}: [{section}] unknown key '{key}'; valid keys: {', '.join(valid)}"
            )
    kwargs = {}
    for key, value in table.items():
        f = valid[key]
        kwargs[key] = _coerce(value, f.metadata, f"{where}: [{section}] {key}", base_dir)
    return cls(**kwargs)


def _coerce(value, meta, label: str, base_dir: Path):
    kind = meta["kind"]
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{label} must be true or false, got {value!r}")
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise ConfigError(f"{label} must be a string, got {value!r}")
        if meta["choices"] and value not in meta["choices"]:
            raise ConfigError(f"{label} = {value!r} is not one of {', '.join(meta['choices'])}")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or float(value) != int(value):
            raise ConfigError(f"{label} = {value!r} must be a whole number [{meta['unit']}]")
        v = int(value)
        if v < meta["lo"] or v > meta["hi"]:
            raise ConfigError(f"{label} = {value!r} is outside {meta['lo']}..{meta['hi']} {meta['unit']}")
        return v
    if kind == "tz":
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{label} must be a time zone name such as Europe/Dublin, got {value!r}")
        _check_tz(value, label)
        return value
    if kind == "profile":
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{label} must be 'lte', 'nr' or a profile TOML path, got {value!r}")
        if value in ("lte", "nr"):
            return value
        path = _resolve(base_dir / value, label)
        _check_path(path, f"{label} = {value!r}: profile", folders=False)
        return str(path)
    if kind == "format":
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{label} must be one of {', '.join(LOG_FORMATS)} or a mapping TOML path, got {value!r}")
        if value in LOG_FORMATS:
            return value
        path = _resolve(base_dir / value, label)
        if not path.exists():
            raise ConfigError(f"{label} = {value!r} is neither one of {', '.join(LOG_FORMATS)} nor a mapping file ({path} not found)")
        _check_path(path, f"{label} = {value!r}: mapping", folders=False)
        return str(path)
    if kind == "strs":
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            raise ConfigError(f"{label} must be a list of strings, got {value!r}")
        if meta["choices"]:
            for v in items:
                if v not in meta["choices"]:
                    raise ConfigError(f"{label}: {v!r} is not one of {', '.join(meta['choices'])}")
        return tuple(items)
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{label} must be a number [{meta['unit']}], got {value!r}")
        v = float(value)
        lo, hi = meta["lo"], meta["hi"]
        if not math.isfinite(v) or (lo is not None and v < lo) or (hi is not None and v > hi):
            raise ConfigError(f"{label} = {value!r} is outside {lo:g}..{hi:g} {meta['unit']}".rstrip())
        return v
    if kind == "outpath":
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{label} must be a path string, got {value!r}")
        path = _resolve(base_dir / value, label)
        if path.exists() and not path.is_dir():
            raise ConfigError(f"{label}: {path} is a file; the run folder must be a folder")
        return path
    if kind == "path":
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{label} must be a path string, got {value!r}")
        path = _resolve(base_dir / value, label)
        _check_path(path, label, folders=False)
        return path
    if kind == "paths":
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) and v for v in items):
            raise ConfigError(f"{label} must be a path or a list of paths, got {value!r}")
        out: list[Path] = []
        for item in items:
            pattern = str(base_dir / item)
            if glob.has_magic(item):
                matches = sorted(_resolve(Path(m), label) for m in glob.glob(pattern))
                if not matches:
                    raise ConfigError(f"{label}: no file matches {item!r} (looked in {base_dir})")
                for m in matches:
                    _check_path(m, label, folders=meta["folders"])
                out.extend(matches)
            else:
                path = _resolve(Path(pattern), label)
                _check_path(path, label, folders=meta["folders"])
                out.append(path)
        return tuple(out)
    raise AssertionError(f"unknown field kind {kind!r}")  # pragma: no cover


def _resolve(path: Path, label: str) -> Path:
    """``path.resolve()``, with a symbolic link loop (RuntimeError or OSError by Python version) a ConfigError."""
    try:
        return path.resolve()
    except (RuntimeError, OSError) as exc:
        raise ConfigError(f"{label}: symbolic link loop or unreadable path: {path} ({exc})") from None


def _check_path(path: Path, label: str, *, folders: bool) -> None:
    """Refuse a path that is missing, a link loop, unreadable, or of the wrong kind (a folder for a file).

    ``folders``: a folder is accepted too (log folders).  Raises :class:`ConfigError` naming ``label``.
    """
    import errno
    import os

    try:
        st = os.stat(path)
    except OSError as exc:
        why = {errno.ENOENT: "file not found", errno.ELOOP: "symbolic link loop",
               errno.ENOTDIR: "a file stands where a folder is expected in the path",
               errno.EACCES: "permission denied"}.get(exc.errno, exc.strerror)  # fmt: skip
        raise ConfigError(f"{label}: {why}: {path}") from None
    import stat

    if stat.S_ISDIR(st.st_mode):
        if folders:
            if not os.access(path, os.R_OK | os.X_OK):
                raise ConfigError(f"{label}: folder cannot be read (permission denied): {path}")
            return
        raise ConfigError(f"{label}: {path} is a folder; a file is expected here")
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"{label}: {path} is not a regular file")
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise ConfigError(f"{label}: file cannot be read ({exc.strerror}): {path}") from None


def _check_tz(name: str, label: str) -> None:
    """Refuse a time zone that is neither an IANA name (zoneinfo) nor one pandas understands."""
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
        return
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        pass
    try:
        import pandas as pd

        pd.Timestamp("2020-01-01").tz_localize(name)
    except Exception:  # noqa: BLE001 - pandas raises several types for an unknown zone
        raise ConfigError(f"{label} = {name!r} is not a known time zone; use an IANA name such as Europe/Dublin "
                          "or UTC") from None


def replace(config, **changes):
    """``dataclasses.replace`` re-exported for frozen configs."""
    return dataclasses.replace(config, **changes)
