"""Inputs of a coverage prediction: the cell table's checks, the engine's cell matrix, clutter losses.

Shared by :mod:`netqa.predict` (rasters) and :mod:`netqa.compare` (points), so
both build the same cells and the same clutter physics:

* :func:`read_cells_table` / :func:`check_cells` -- any cell table reader's
  output, checked (duplicate ids, impossible heights/tilts/powers, each named);
* :func:`engine_cells` -- the engine's cell matrix and measured patterns (RS
  power per resource element from total power and bandwidth unless given,
  default gains, tilts, loads);
* :func:`clutter_arrays` and the P.2108 class typing
  (:func:`p2108_class_types`, :data:`P2108_TYPE_ALIASES`).
"""

from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from netqa.errors import CellTableError, InputError
from propagation import ValidityRangeWarning, p2108_height_gain_db
from propagation.engine import cell_matrix
from propagation.engine.config import CELL_DEFAULTS
from propagation.p2108 import P2108_CLUTTER_TYPES, P2108_HEIGHT_GAIN_FREQ_MHZ

if TYPE_CHECKING:
    from netqa.predict.config import PredictConfig

log = logging.getLogger("netqa.predict")

__all__ = [
    "read_cells_table", "check_cells", "read_tuned_model", "tuned_engine_settings", "dem_extent", "engine_cells",
    "clutter_arrays", "p2108_class_types", "P2108_TYPE_ALIASES", "P2108_STATISTICAL_TYPES",
    "DEFAULT_SECTOR_GAIN_DBI", "DEFAULT_OMNI_GAIN_DBI",
]  # fmt: skip

#: Clutter class names (case-insensitive, whole name) -> ITU-R P.2108-1 Table 3 clutter type, used when the class
#: table has no ``p2108_type`` column (or leaves it empty for a class).
P2108_TYPE_ALIASES = {
    "water": "water_sea", "sea": "water_sea", "water_sea": "water_sea",
    "open": "open_rural", "rural": "open_rural", "open_rural": "open_rural",
    "forest": "trees_forest", "trees": "trees_forest", "trees_forest": "trees_forest",
    "suburban": "suburban", "urban": "urban", "dense_urban": "dense_urban",
}  # fmt: skip
#: Clutter types that get the section 3.2 statistical loss (a terminal in urban or suburban clutter).
P2108_STATISTICAL_TYPES = ("suburban", "urban", "dense_urban")

#: Peak gains used when a cell gives none (``gain_dbi`` column or pattern file). [dBi]
DEFAULT_SECTOR_GAIN_DBI = 17.0
DEFAULT_OMNI_GAIN_DBI = 2.0



def read_cells_table(cells) -> pd.DataFrame:
    """A cell table from a path (CSV, GeoPackage/GeoJSON, OpenCelliD, mapped operator sheets) or as given."""
    if isinstance(cells, pd.DataFrame):
        return cells
    from netqa.io.cells import read_cells

    return read_cells(cells)


def cell_column(df, name, default=np.nan):
    if name in df.columns:
        return pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=np.float64)
    return np.full(len(df), default, dtype=np.float64)


def check_cells(df: pd.DataFrame, label: str) -> None:
    """Raise :class:`~netqa.errors.CellTableError` naming the cell, field and value for a missing column,
    an empty table, a duplicate ``cell_id`` or an impossible height, power, frequency, bandwidth or tilt."""
    need = ("cell_id", "lat", "lon", "height_m", "azimuth_deg", "tx_power_dbm", "freq_mhz", "bandwidth_mhz")
    missing = [c for c in need if c not in df.columns and not (c == "tx_power_dbm" and "rs_power_dbm" in df.columns)]
    if missing:
        raise CellTableError(f"{label}: missing column(s) {', '.join(missing)}")
    if len(df) == 0:
        raise CellTableError(f"{label}: the cell table is empty")
    ids = df["cell_id"].astype(str)
    dup = ids[ids.duplicated()].unique()
    if len(dup):
        raise CellTableError(f"{label}: duplicate cell_id {', '.join(map(repr, dup[:5]))}; cell ids must be unique")
    checks = [
        ("lat", -90.0, 90.0, "deg"),
        ("lon", -180.0, 180.0, "deg"),
        ("height_m", 0.5, 1000.0, "m above ground"),
        ("tx_power_dbm", -30.0, 80.0, "dBm"),
        ("ground_m", -450.0, 9000.0, "m above mean sea level"),
        ("freq_mhz", 30.0, 100_000.0, "MHz"),
        ("bandwidth_mhz", 0.1, 400.0, "MHz"),
        ("mech_tilt_deg", -90.0, 90.0, "deg"),
        ("elec_tilt_deg", -90.0, 90.0, "deg"),
        ("hpbw_h_deg", 1.0, 360.0, "deg"),  # optional effective beamwidths (netqa audit --corrected-cells)
        ("hpbw_v_deg", 0.5, 90.0, "deg"),
    ]
    for name, lo, hi, unit in checks:
        if name not in df.columns:
            continue
        v = cell_column(df, name)
        if name in ("mech_tilt_deg", "elec_tilt_deg"):
            v = np.where(np.isnan(v), 0.0, v)
        if name in ("hpbw_h_deg", "hpbw_v_deg"):  # empty: the default sector's
            v = np.where(np.isnan(v), 65.0 if name == "hpbw_h_deg" else 10.0, v)
        bad = ~((v >= lo) & (v <= hi))
        if name == "ground_m":  # optional: NaN takes the DEM at the mast
            bad &= ~np.isnan(v)
        if name == "tx_power_dbm":  # not needed where rs_power_dbm is given
            bad &= ~(np.isnan(v) & np.isfinite(cell_column(df, "rs_power_dbm")))
        if bad.any():
            i = int(np.argmax(bad))
            raise CellTableError(
                f"{label}: cell {ids.iloc[i]!r}: {name} = {df[name].iloc[i]!r} is impossible; "
                f"expected {lo:g}..{hi:g} {unit}"
            )


def read_tuned_model(path):
    """The tuned model of ``--model-file`` (netqa calibrate's TOML; the one reader of that format)."""
    from netqa.io.modelfile import read_model_file

    p = Path(path)
    if not p.is_file():
        raise InputError(f"--model-file {p}: file not found")
    return read_model_file(p)


def tuned_engine_settings(tuned, df, *, check: bool = True) -> dict:
    """EngineConfig fields from a tuned model: global K, one K per band present in the cells, each cell's own
    K1/K2 (shrunk toward its band by calibrate) over its band's K, h_eff method.

    ``df`` rows are the engine's cell rows (``spm_k_cells`` is keyed by row), as :func:`engine_cells` keeps them.
    ``check``: warn where the file does not fit the cells (:func:`netqa.modelcheck.check_tuned_cells`; ``df``
    must then be the whole table).
    """
    if check:
        from netqa.modelcheck import check_tuned_cells

        check_tuned_cells(tuned, df, getattr(tuned, "source", "") or "(tuned model)")
    tech = df["tech"].astype(str).tolist() if "tech" in df.columns else ["LTE"] * len(df)
    ids = df["cell_id"].astype(str).tolist() if "cell_id" in df.columns else [None] * len(df)
    bands, own = {}, []
    for row, (t, f, cid) in enumerate(zip(tech, cell_column(df, "freq_mhz"), ids)):
        band = tuned.band_for(t, f)
        if band is not None:
            bands[float(f)] = band.k
        e = tuned.per_cell.get(cid) if cid is not None else None
        if e and "k1" in e:
            base = band.k if band is not None else tuned.k
            own.append((row, base._replace(k1=float(e["k1"]), k2=float(e.get("k2", base.k2)))))
    return {"spm_k": tuned.k, "spm_k_bands": tuple(sorted(bands.items())), "spm_k_cells": tuple(own),
            "spm_h_eff": tuned.h_eff_method}


def _clutter_losses(table, tuned) -> np.ndarray:
    """Loss per code of the class table, with a tuned model's global clutter losses by class name. [dB]"""
    loss = table.loss_db(table.codes)
    if tuned is not None and tuned.clutter_loss_db and "name" in table.frame.columns:
        names = table.frame["name"].astype(str).tolist()
        loss = np.array([tuned.clutter_loss_db.get(n, v) for n, v in zip(names, loss)])
    return loss


def p2108_class_types(table) -> list[str]:
    """ITU-R P.2108-1 clutter type of every class of a class table (in ``table.codes`` order).

    The ``p2108_type`` column when the table has one and the class's entry is
    not empty (one of water_sea, open_rural, suburban, urban, trees_forest,
    dense_urban), else the class name by :data:`P2108_TYPE_ALIASES`
    (case-insensitive, whole name).

    Raises
    ------
    netqa.errors.InputError
        A ``p2108_type`` that is not a P.2108 type, or a class whose name is no
        alias and that has no ``p2108_type`` (the message names the class code
        and name and the fix).
    """
    where = table.path or "clutter class table"
    names = table.frame["name"].astype(str).tolist()
    given = table.frame["p2108_type"].tolist() if "p2108_type" in table.frame.columns else [""] * len(names)
    valid = ", ".join(P2108_CLUTTER_TYPES)
    types = []
    for code, name, raw in zip(table.codes.tolist(), names, given):
        value = "" if raw is None or (isinstance(raw, float) and math.isnan(raw)) else str(raw).strip()
        if value:
            kind = value.lower()
            if kind not in P2108_CLUTTER_TYPES:
                raise InputError(
                    f"{where}: class {code} ({name!r}): field 'p2108_type' = {value!r} is not an ITU-R P.2108 "
                    f"clutter type; use one of {valid}"
                )
        else:
            kind = P2108_TYPE_ALIASES.get(name.strip().lower())
            if kind is None:
                raise InputError(
                    f"{where}: class {code} ({name!r}) has no ITU-R P.2108 clutter type: its name is none of "
                    f"{', '.join(P2108_TYPE_ALIASES)}; add a 'p2108_type' column to the class table with one of "
                    f"{valid} for each class (or use --clutter-model table)"
                )
        types.append(kind)
    return types


def _class_rows(codes, table) -> np.ndarray:
    """Row of the class table (``table.codes`` order) of every pixel; nodata pixels get row 0."""
    table_codes = table.codes
    order = np.argsort(table_codes, kind="stable")
    filled = np.where(codes.nodata_mask, table_codes[0], codes.values)
    return order[np.searchsorted(table_codes[order], filled)]


def _height_gain_lut(types, heights_m, freqs_mhz, config) -> np.ndarray:
    """P.2108-1 section 3.1 loss per (carrier, class), (n_freq, n_classes); 0 for a class of height 0. [dB]"""
    lo, hi = P2108_HEIGHT_GAIN_FREQ_MHZ
    out_of_range = [f for f in freqs_mhz if not lo <= f <= hi]
    if out_of_range:
        warnings.warn(
            f"freq_mhz {', '.join(f'{f:g}' for f in out_of_range)} outside the validity range of ITU-R P.2108-1 "
            f"section 3.1 (height-gain clutter loss): [{lo:g}, {hi:g}] MHz; extrapolating",
            ValidityRangeWarning, stacklevel=3,
        )  # fmt: skip
    lut = np.zeros((len(freqs_mhz), len(types)), np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidityRangeWarning)  # warned once above
        for j, (kind, r_m) in enumerate(zip(types, heights_m)):
            if r_m > 0.0:
                lut[:, j] = p2108_height_gain_db(np.asarray(freqs_mhz, float), config.rx_height_m, kind,
                                                 clutter_height_m=r_m, street_width_m=config.street_width_m,
                                                 strict=False)  # fmt: skip
    return lut


def clutter_arrays(codes, table, config: PredictConfig, freqs_mhz, tuned=None):
    """The engine's clutter inputs for a class raster on the grid, by ``config.clutter_model``.

    Parameters
    ----------
    codes : netqa.io.raster.Raster
        Class codes on the computation grid (nodata pixels get no loss).
    table : netqa.io.raster.ClutterTable
    config : PredictConfig
    freqs_mhz : array_like
        Sorted unique carrier frequencies (the cell matrix's ``freq_index`` order). [MHz]
    tuned : optional
        Tuned model (its per-class clutter losses replace ``loss_db`` in ``table`` mode).

    Returns
    -------
    (numpy.ndarray or None, numpy.ndarray or None)
        ``clutter_db`` -- (rows, cols) float for ``table``, (n_freq, rows, cols)
        float32 for ``p2108``, None for ``p2108-statistical`` [dB]; and the
        (rows, cols) bool ``clutter_stat_mask`` for ``p2108-statistical``, else None.
    """
    return apply_clutter(codes, table, clutter_lookup(table, config, freqs_mhz, tuned))


def clutter_lookup(table, config: PredictConfig, freqs_mhz, tuned=None) -> tuple[str, np.ndarray]:
    """(clutter model, its value per class of ``table``): loss [dB], (n_freq, n_classes) loss [dB] or bool."""
    if config.clutter_model == "table":
        return "table", _clutter_losses(table, tuned)
    if tuned is not None and tuned.clutter_loss_db:
        log.warning("--clutter-model %s: the model file's clutter losses are not used (they belong to the class "
                    "table model)", config.clutter_model)  # fmt: skip
    types = p2108_class_types(table)
    if config.clutter_model == "p2108":
        return "p2108", _height_gain_lut(types, table.height_m(table.codes), list(map(float, freqs_mhz)), config)
    return config.clutter_model, np.array([t in P2108_STATISTICAL_TYPES for t in types])


def apply_clutter(codes, table, lookup):
    """``(clutter_db, clutter_stat_mask)`` of a class raster from a :func:`clutter_lookup`."""
    kind, per_class = lookup
    rows = _class_rows(codes, table)
    nodata = codes.nodata_mask
    if kind == "table":
        return np.where(nodata, 0.0, per_class[rows]), None
    if kind == "p2108":
        return np.where(nodata[None], np.float32(0.0), per_class[:, rows]), None
    return None, per_class[rows] & ~nodata


def dem_extent(dem_paths, crs):
    """((left, bottom, right, top) of the union of the DEM files in ``crs``, the DEM's CRS)."""
    from netqa.io.raster import dem_extent as _io_dem_extent

    dem_crs, ext = _io_dem_extent(dem_paths, crs)
    return ext, dem_crs


def _patterns(df, label):
    """pattern_id per cell, the (n, 2, 360) kernel cuts, and the pattern gains/tilts."""
    n = len(df)
    pid = np.full(n, -1.0)
    gains = np.full(n, np.nan)
    tilts = np.full(n, np.nan)
    cuts = []
    if "antenna" not in df.columns:
        return pid, np.zeros((0, 2, 360)), gains, tilts
    from netqa.io.antenna import read_msi

    cache: dict[str, int] = {}
    base = Path(label).parent if label and Path(label).exists() else Path(".")
    for i, name in enumerate(df["antenna"].tolist()):
        if name is None or (isinstance(name, float) and math.isnan(name)) or str(name).strip() == "" or pd.isna(name):
            continue
        key = str(name).strip()
        if key.lower() == "omni":
            pid[i] = -2
            continue
        if key.lower() in ("sector", "3gpp"):
            continue
        if key not in cache:
            path = Path(key) if Path(key).is_absolute() else base / key
            if not path.exists():
                raise CellTableError(f"{label}: cell {df['cell_id'].iloc[i]!r}: antenna file {key!r} not found (looked at {path})")
            pat = read_msi(path)
            cache[key] = len(cuts)
            cuts.append((np.stack(pat.kernel_cuts()), pat.gain_dbi, pat.elec_tilt_deg))
        k = cache[key]
        pid[i] = k
        gains[i] = cuts[k][1]
        tilts[i] = cuts[k][2]
    arr = np.stack([c[0] for c in cuts]) if cuts else np.zeros((0, 2, 360))
    return pid, arr, gains, tilts


def engine_cells(df: pd.DataFrame, label: str, x_m, y_m, *, radius_km: float, load: float):
    """The engine's cell matrix and measured-pattern array for a canonical cell table.

    One place turns the Cells table into the float64 arrays of
    :func:`propagation.engine.cell_matrix` — for the raster (:func:`predict`)
    and for point predictions (:mod:`netqa.compare`) alike.

    Parameters
    ----------
    df : pandas.DataFrame
        Canonical Cells table (checked by the caller).
    label : str
        Where the table came from (for messages and relative antenna paths).
    x_m, y_m : array_like
        Cell positions in the computation CRS. [m]
    radius_km : float
        Coverage radius of every cell. [km]
    load : float
        Cell load 0..1 (interference weight).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The cell matrix and the (n_patterns, 2, 360) measured cuts.

    Notes
    -----
    Peak gain: ``gain_dbi``, else the pattern file's, else 17 dBi (sector) or
    2 dBi (omni).  Measured patterns: the kernel adds the cell's electrical
    tilt minus the tilt already in the file's cuts.  RS power per resource
    element: ``rs_power_dbm``, else total power - 10 log10(12 N_PRB) with
    N_PRB by technology (:func:`netqa.io.cells.rs_power_dbm`; NR at 30 kHz).
    """
    from netqa.io.cells import rs_power_dbm

    pid, patterns, pat_gain, pat_tilt = _patterns(df, label)
    gain = cell_column(df, "gain_dbi")
    gain = np.where(np.isfinite(gain), gain, np.where(np.isfinite(pat_gain), pat_gain,
                    np.where(pid == -2, DEFAULT_OMNI_GAIN_DBI, DEFAULT_SECTOR_GAIN_DBI)))  # fmt: skip
    # measured patterns: the kernel adds (cell's electrical tilt - the tilt already in the cuts)
    elec = cell_column(df, "elec_tilt_deg")
    measured = pid >= 0
    elec = np.where(measured, np.where(np.isfinite(elec), elec - np.nan_to_num(pat_tilt), 0.0), np.nan_to_num(elec))
    bw = cell_column(df, "bandwidth_mhz")
    rs = cell_column(df, "rs_power_dbm")
    tech = df["tech"].astype(str).str.upper().to_numpy() if "tech" in df.columns else np.full(len(df), "LTE")
    derived = rs_power_dbm(cell_column(df, "tx_power_dbm"), bw, np.where(np.isin(tech, ("LTE", "NR")), tech, "LTE"))
    rs = np.where(np.isfinite(rs), rs, derived)
    matrix = cell_matrix(
        x_m=x_m, y_m=y_m, height_m=cell_column(df, "height_m"), azimuth_deg=cell_column(df, "azimuth_deg"),
        mech_tilt_deg=np.nan_to_num(cell_column(df, "mech_tilt_deg"), nan=0.0), elec_tilt_deg=elec,
        freq_mhz=cell_column(df, "freq_mhz"), rs_power_dbm=rs, gain_dbi=gain,
        feeder_loss_db=np.nan_to_num(cell_column(df, "feeder_loss_db"), nan=0.0), bandwidth_mhz=bw,
        load=load, radius_km=radius_km, pattern_id=pid, ground_m=cell_column(df, "ground_m"),
        # optional effective beamwidths of the parametric sector (issue 12: netqa audit --corrected-cells)
        hpbw_h_deg=np.nan_to_num(cell_column(df, "hpbw_h_deg"), nan=CELL_DEFAULTS["hpbw_h_deg"]),
        hpbw_v_deg=np.nan_to_num(cell_column(df, "hpbw_v_deg"), nan=CELL_DEFAULTS["hpbw_v_deg"]),
    )  # fmt: skip
    return matrix, patterns


#: Largest difference between a cell's ``ground_m`` and the DEM at its mast before a warning. [m]
GROUND_TOLERANCE_M = 50.0


def check_cells_ground(cells, dem_paths, label: str | None = None) -> list[str]:
    """Warn when a cell table's ``ground_m`` disagrees with the DEM at the mast by more than
    :data:`GROUND_TOLERANCE_M` (another datum, feet for metres, a wrong site), or puts the antenna below the DEM's
    ground: the engine takes ``ground_m`` over the DEM, so the mast would float above or sink into the terrain.

    ``cells``: a path or a table; ``dem_paths``: a path or a list.  Returns the ids of the cells warned about.
    """
    import rasterio
    from rasterio.warp import transform as warp_transform

    if not isinstance(cells, pd.DataFrame) and str(cells).lower().endswith(".csv"):
        try:  # most tables have no ground_m: do not read (and log) the table a second time for nothing
            with open(cells, encoding="utf-8-sig", errors="replace") as f:
                if "ground_m" not in f.readline():
                    return []
        except OSError:
            return []  # the table's own reader reports it
    df = read_cells_table(cells) if not isinstance(cells, pd.DataFrame) else cells
    label = label or (str(cells) if not isinstance(cells, pd.DataFrame) else "cells")
    if "ground_m" not in df.columns:
        return []
    g = pd.to_numeric(df["ground_m"], errors="coerce").to_numpy(np.float64)
    if not np.isfinite(g).any():
        return []
    lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(np.float64)
    lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(np.float64)
    dem = np.full(len(df), np.nan)
    paths = [dem_paths] if isinstance(dem_paths, (str, bytes)) or hasattr(dem_paths, "__fspath__") else list(dem_paths)
    for path in paths:
        try:
            with rasterio.open(path) as ds:
                if ds.crs is None:
                    continue
                xs, ys = warp_transform("EPSG:4326", ds.crs, lon.tolist(), lat.tolist())
                b = ds.bounds
                for i, (x, y) in enumerate(zip(xs, ys)):
                    if np.isnan(dem[i]) and b.left <= x < b.right and b.bottom < y <= b.top:
                        v = next(ds.sample([(x, y)], masked=True))[0]
                        dem[i] = np.nan if np.ma.is_masked(v) or not np.isfinite(float(v)) else float(v)
        except Exception:  # noqa: BLE001 -- the DEM's own reader reports an unreadable file
            continue
    h = pd.to_numeric(df.get("height_m", pd.Series(np.zeros(len(df)))), errors="coerce").to_numpy(np.float64)
    diff = g - dem
    bad = np.isfinite(diff) & ((np.abs(diff) > GROUND_TOLERANCE_M) | (g + np.nan_to_num(h) < dem))
    if not bad.any():
        return []
    ids = df["cell_id"].astype(str).to_numpy()[bad] if "cell_id" in df.columns else np.flatnonzero(bad).astype(str)
    worst = int(np.argmax(np.where(bad, np.abs(diff), -1.0)))
    log.warning("%s: WARNING: ground_m of %d cell(s) (e.g. %s) differs from the DEM at the mast by up to %+.0f m (%s: "
                "ground_m %.1f m, DEM %.1f m): the engine takes ground_m, so those antennas stand %s the terrain; "
                "check the column's datum and unit, or leave it empty to take the DEM", label, int(bad.sum()),
                ", ".join(ids[:3]), diff[worst], ids[0] if len(ids) == 1 else str(df["cell_id"].astype(str).iloc[worst]),
                g[worst], dem[worst], "below" if diff[worst] < 0 else "far above")  # fmt: skip
    return ids.tolist()


def check_resolution(resolution_m: float, extent, *, flag: str = "--resolution-m", what: str = "the DEM") -> None:
    """Refuse a grid spacing that leaves fewer than 4 pixels across the area (``extent`` (l, b, r, t) in metres):
    the run would fail later with a message about empty bounds, or predict one meaningless pixel."""
    side = min(extent[2] - extent[0], extent[3] - extent[1])
    if resolution_m * 4.0 > side:
        raise InputError(f"{flag} {resolution_m:g}: coarser than a quarter of {what}'s extent ({side:.0f} m across); "
                         f"use at most {side / 4.0:.0f} m (typically the DEM's own pixel size)")  # fmt: skip
