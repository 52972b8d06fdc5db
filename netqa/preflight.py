"""Check a whole project before its first stage runs.

:func:`netqa.config.load_project` validates each key on its own (types, ranges,
path kinds, time zones, whole-number counts).  :func:`check_project` adds what
needs more than one key or a look inside a file: option clashes (a tuned model
file with a model other than the SPM, a clutter raster without its class
table), and that every input opens as what it claims to be (cells table,
rasters, region polygons, scoring scheme, KPI profile, log mapping, campaign
window).  :func:`netqa.pipeline.run_project` calls it before it creates the
run folder, so a bad ``[score]`` key never leaves half a run behind.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from netqa.config import ProjectConfig
from netqa.errors import ConfigError, NetQAError

#: A Dask scheduler address: ``[protocol://]host[:port]`` without spaces.
_SCHEDULER_RE = re.compile(r"([a-z][a-z0-9+]*://)?[^\s:/]+(:\d{1,5})?/?")


def check_project(config: ProjectConfig) -> None:
    """Refuse a project whose keys clash or whose inputs do not open.

    Parameters
    ----------
    config : ProjectConfig
        A project from :func:`netqa.config.load_project`.

    Raises
    ------
    ConfigError
        Naming the project file and the ``[section] key`` at fault, and why.
    """
    where = str(config.source) if config.source else "project"
    _check_clashes(config, where)
    for label, check in _content_checks(config):
        try:
            check()
        except ConfigError as exc:
            text = str(exc)
            raise ConfigError(text if text.startswith(where) else f"{where}: {label}: {text}") from None
        except (NetQAError, OSError, ValueError, RuntimeError) as exc:
            raise ConfigError(f"{where}: {label}: {' '.join(str(exc).split())}") from None
        except Exception as exc:  # noqa: BLE001 - a library's own error type for an unreadable file
            raise ConfigError(f"{where}: {label}: cannot be read ({type(exc).__name__}: {exc})") from None


def _check_clashes(config: ProjectConfig, where: str) -> None:
    p, i = config.predict, config.inputs
    from netqa.predict.config import check_itm_pairs, itm_pairs

    try:  # Longley-Rice keys with another terrain method, or values the model refuses
        check_itm_pairs(itm_pairs(p), p.terrain)
    except ConfigError as exc:
        raise ConfigError(f"{where}: [predict] {exc}") from None
    if p.model_file is not None and p.model != "spm":
        raise ConfigError(f"{where}: [predict] model_file is set but [predict] model = {p.model!r}: a tuned model "
                          "file holds SPM coefficients; set model = \"spm\" or remove model_file")  # fmt: skip
    if p.use_calibrated and p.model_file is not None:
        raise ConfigError(f"{where}: [predict] use_calibrated = true and [predict] model_file are both set; "
                          "keep one (use_calibrated takes this run's calibration)")  # fmt: skip
    if p.use_calibrated and p.enabled:
        missing = [k for k, ok in (("[calibrate] enabled", config.calibrate.enabled),
                                   ("[ingest] enabled", config.ingest.enabled), ("[inputs] logs", bool(i.logs)),
                                   ("[inputs] cells", i.cells is not None), ("[inputs] dem", bool(i.dem))) if not ok]  # fmt: skip
        if missing:
            raise ConfigError(f"{where}: [predict] use_calibrated = true needs the calibrate stage to run, but "
                              f"{', '.join(missing)} is off or missing; the coverage would silently use "
                              f"model = {p.model!r}")  # fmt: skip
    c = config.calibrate  # issue 12 item 3: clutter along the path (compare and predict apply it)
    if c.enabled and c.path_clutter != "none" and i.clutter is None:
        raise ConfigError(f"{where}: [calibrate] path_clutter = {c.path_clutter!r} needs [inputs] clutter and "
                          "clutter_table (the classes along the path)")  # fmt: skip
    if (i.clutter is None) != (i.clutter_table is None):
        given, other = ("clutter", "clutter_table") if i.clutter is not None else ("clutter_table", "clutter")
        raise ConfigError(f"{where}: [inputs] {given} is given without [inputs] {other}; the clutter raster "
                          "needs its class table (and the reverse)")  # fmt: skip
    if p.model_file is not None and i.clutter is None:
        from netqa.calibrate.modelfile import read_model_file
        from netqa.modelcheck import fitted_with_clutter

        try:
            tuned = read_model_file(p.model_file)
        except NetQAError as exc:
            raise ConfigError(f"{where}: [predict] model_file: {exc}") from None
        if fitted_with_clutter(tuned):
            raise ConfigError(f"{where}: [predict] model_file {p.model_file.name} was fitted with clutter losses but "
                              "[inputs] clutter is not given: add clutter and clutter_table (the ones it was "
                              "calibrated with)")  # fmt: skip
    s = config.score
    if s.scheduler is not None and not _SCHEDULER_RE.fullmatch(s.scheduler):
        raise ConfigError(f"{where}: [score] scheduler = {s.scheduler!r} is not a Dask scheduler address "
                          "(e.g. tcp://10.0.0.5:8786)")  # fmt: skip


def _content_checks(config: ProjectConfig) -> list[tuple[str, Callable[[], object]]]:
    i, s = config.inputs, config.score
    checks: list[tuple[str, Callable[[], object]]] = []
    if i.cells is not None:
        checks.append(("[inputs] cells", lambda: _read_cells(i.cells)))
    for dem in i.dem:
        checks.append((f"[inputs] dem ({dem.name})" if len(i.dem) > 1 else "[inputs] dem", _raster(dem)))
    if i.clutter is not None:
        checks.append(("[inputs] clutter", _raster(i.clutter)))
    if i.clutter_table is not None:
        checks.append(("[inputs] clutter_table", lambda: _read_csv_head(i.clutter_table)))
    if i.surface is not None:
        checks.append(("[inputs] surface", lambda: _check_surface(config)))
    if config.predict.model_file is not None:  # values outside their physical bounds, before any stage runs
        checks.append(("[predict] model_file", lambda: _read_model_file(config.predict.model_file)))
    if i.complaints is not None:
        checks.append(("[inputs] complaints", lambda: _read_csv_head(i.complaints)))
    if i.regions is not None:
        checks.append(("[inputs] regions", lambda: _read_vector_info(i.regions)))
    if s.traffic_raster is not None:
        checks.append(("[score] traffic_raster", _raster(s.traffic_raster)))
    if s.scheme is not None:
        checks.append(("[score] scheme", lambda: _load_scheme(s.scheme)))
    if s.campaign_window is not None:
        checks.append(("[score] campaign_window", lambda: _check_window(s.campaign_window)))
    if config.kpi.profile not in ("lte", "nr"):
        checks.append(("[kpi] profile", lambda: _load_profile(config.kpi.profile)))
    if config.ingest.format not in ("auto", "netqa", "gnettrack", "networksurvey"):
        checks.append(("[ingest] format", lambda: _load_mapping(config.ingest.format)))
    return checks


def _check_surface(config: ProjectConfig) -> None:
    """The surface raster as ``netqa predict --surface`` checks it (one band, CRS, heights, overlap with the DEM)."""
    from netqa.predict.surface import check_dem_surface, check_surface

    i, p = config.inputs, config.predict
    terrain = p.terrain if p.enabled else "delta-bullington"  # ITM over a surface: refused by predict only
    check_surface(i.surface, p.resolution_m, terrain, flag="[inputs] surface", warn=False)
    if i.dem:
        check_dem_surface(i.surface, list(i.dem), flag="[inputs] surface")


def _read_model_file(path: Path) -> None:
    from netqa.io.modelfile import read_model_file

    read_model_file(path)


def _read_cells(path: Path) -> None:
    from netqa.io.cells import read_cells

    cells = read_cells(path)
    if len(cells) == 0:
        raise ConfigError(f"{path}: the cell table has no rows")


def _raster(path: Path) -> Callable[[], None]:
    def check() -> None:
        import rasterio
        from rasterio.errors import RasterioError

        try:
            with rasterio.open(path) as src:
                if src.count < 1 or src.width < 1 or src.height < 1:
                    raise ConfigError(f"{path}: the raster has no pixels")
        except RasterioError as exc:
            raise ConfigError(f"{path}: not a readable raster ({' '.join(str(exc).split())})") from None

    return check


def _read_csv_head(path: Path) -> None:
    import pandas as pd

    try:
        pd.read_csv(path, nrows=5, sep=None, engine="python")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ConfigError(f"{path}: not a readable CSV table ({exc})") from None


def _read_vector_info(path: Path) -> None:
    import pyogrio

    try:
        info = pyogrio.read_info(path)
    except Exception as exc:  # noqa: BLE001 - pyogrio's DataSourceError and friends
        raise ConfigError(f"{path}: not a readable vector file ({' '.join(str(exc).split())})") from None
    if not info.get("features"):
        raise ConfigError(f"{path}: holds no region polygons")


def _load_scheme(path: Path) -> None:
    from netqa.score.scheme import load_scheme

    load_scheme(path)


def _check_window(window: str) -> None:
    import pandas as pd

    from netqa.score.chunks import _campaign_codes

    _campaign_codes(pd.DataFrame({"time": pd.to_datetime(["2026-01-01T00:00:00Z"])}), window)


def _load_profile(profile: str) -> None:
    from netqa.kpi import load_profile

    load_profile(profile)


def _load_mapping(path: str) -> None:
    from netqa.ingest.mapping import load_mapping

    load_mapping(path)
