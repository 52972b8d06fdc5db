"""The ``netqa calibrate`` stage: samples + cells + DEM (+ clutter) -> tuned SPM TOML.

Measured path loss per sample = EIRP towards the sample (the engine's RS
power, antenna gain, feeder loss and pattern, :func:`netqa.compare.points.calibration_geometry`)
minus the measured RSRP of the serving cell.  Samples are filtered (distance
range, RSRP floor; each filter's count reported), then :func:`netqa.calibrate.fit.fit_spm`
fits and cross-validates by session.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from netqa.calibrate.fit import Calibration, CalibrationConfig, CalibrationData, fit_spm
from netqa.calibrate.modelfile import read_model_file, write_model_file
from netqa.compare.binning import SampleFilters, filter_samples
from netqa.compare.points import calibration_geometry
from netqa.compare.prepare import prepare
from netqa.fileio import check_output
from propagation import SPM_DEFAULT_K
from propagation.engine import EngineConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CalibrateOptions:
    """Settings of :func:`calibrate`: terrain method, receiver height [m], prior model file,
    DEM resolution [m], sample filters (default 0.1-20 km, RSRP >= -140 dBm) and fit settings."""

    terrain: str = "none"
    rx_height_m: float = 1.5
    model_file: Path | None = None
    resolution_m: float = 30.0
    filters: SampleFilters = SampleFilters(min_dist_km=0.1, max_dist_km=20.0)
    fit: CalibrationConfig = field(default_factory=CalibrationConfig)
    #: "terrain": the engine's h_eff = max(z_site + h_tx - z_rx, 1 m); "site": the antenna height above
    #: ground at the site (cells' height_m), the other common SPM convention.
    h_eff: str = "terrain"

    def __post_init__(self):
        if self.h_eff not in ("terrain", "site"):
            raise ValueError(f"h_eff must be 'terrain' or 'site', got {self.h_eff!r}")


def calibration_data(samples, cells, dem, *, clutter=None, clutter_table=None,
                     options: CalibrateOptions = CalibrateOptions()):  # fmt: skip
    """Prepared, filtered :class:`CalibrationData`, the table clutter losses by class name, and counts."""
    prep = prepare(samples, cells, dem, clutter=clutter, clutter_table=clutter_table,
                   resolution_m=options.resolution_m)  # fmt: skip
    cfg = EngineConfig(model="spm", terrain=options.terrain, rx_height_m=options.rx_height_m)
    geo = calibration_geometry(prep.world, prep.x_m, prep.y_m, prep.serving, cfg)
    rsrp = pd.to_numeric(prep.df["rsrp_dbm"], errors="coerce").to_numpy(np.float64)
    keep, removed = filter_samples(geo["dist_km"], rsrp, options.filters)
    table_loss = {prep.world.clutter_name[c]: v for c, v in prep.world.clutter_loss.items()}
    prior_clutter = {}
    if options.model_file:
        prior_clutter = read_model_file(options.model_file).clutter_loss_db
    clutter_names = np.where(pd.isna(prep.clutter), "none", prep.clutter).astype(object)
    clutter_db = np.where(pd.isna(prep.clutter), 0.0, prep.clutter_db)
    if prior_clutter:
        clutter_db = pd.Series(clutter_names).map({**table_loss, **prior_clutter}).fillna(0.0).to_numpy(np.float64)
    h_eff = geo["h_tx_eff_m"]
    if options.h_eff == "site":
        h_eff = prep.world.matrix[np.maximum(prep.serving, 0), 3]
    data = CalibrationData(
        loss_db=geo["eirp_dbm"] - rsrp, dist_km=geo["dist_km"], h_tx_eff_m=h_eff,
        h_rx_m=np.full(rsrp.size, options.rx_height_m), diffraction_db=geo["diffraction_db"],
        freq_mhz=geo["freq_mhz"], clutter=clutter_names, clutter_db=clutter_db,
        cell=prep.df["cell_id"].astype(str).to_numpy(dtype=object),
        session=prep.df["session"].astype(str).to_numpy(dtype=object), x_m=prep.x_m, y_m=prep.y_m,
    ).subset(keep)  # fmt: skip
    counts = {"read": prep.n_read, **prep.removed, **removed, "used": data.n}
    return data, {**table_loss, **prior_clutter}, counts, prep.unknown_cells


def calibrate(samples, cells, dem, out, *, clutter=None, clutter_table=None,
              options: CalibrateOptions = CalibrateOptions(), overwrite: bool = False) -> Calibration:  # fmt: skip
    """Fit the SPM to the samples and write the tuned TOML to ``out`` (see :mod:`netqa.calibrate`).

    Returns
    -------
    Calibration
        With ``settings["samples"]`` holding the sample counts (read, removed per reason, used).
    """
    out = check_output(out, overwrite)
    prior = SPM_DEFAULT_K
    if options.model_file:
        prior = read_model_file(options.model_file).k
    fit_cfg = CalibrationConfig(**{**options.fit.__dict__, "prior": prior})
    data, table_loss, counts, unknown = calibration_data(samples, cells, dem, clutter=clutter,
                                                         clutter_table=clutter_table, options=options)  # fmt: skip
    log.info("calibrate: %d samples used of %d read (%s)", counts["used"], counts["read"],
             ", ".join(f"{k} {v}" for k, v in counts.items() if k not in ("read", "used")))  # fmt: skip
    cal = fit_spm(data, fit_cfg)
    cal.settings["samples"] = counts
    if unknown:
        cal.settings["unknown_serving_cells"] = unknown[:50]
    f = options.filters
    provenance = {
        "samples": str(samples) if not isinstance(samples, pd.DataFrame) else "DataFrame",
        "cells": str(cells) if not isinstance(cells, pd.DataFrame) else "DataFrame",
        "dem": str(dem), "terrain": options.terrain, "rx_height_m": options.rx_height_m,
        "filters": {"min_dist_km": f.min_dist_km, "max_dist_km": f.max_dist_km if math.isfinite(f.max_dist_km) else None,
                    "rsrp_floor_dbm": f.rsrp_floor_dbm},
        "prior": str(options.model_file) if options.model_file else "SPM_DEFAULT_K (Hata/COST-231 urban)",
    }  # fmt: skip
    used = {c for c in np.unique(data.clutter)}
    write_model_file(out, cal, clutter_table_loss_db={c: v for c, v in table_loss.items() if c in used} or None,
                     provenance=provenance, overwrite=True)  # fmt: skip
    h = cal.holdout
    if "tuned" in h:
        log.info("calibrate: held-out sessions (%d folds): tuned mean %+.2f dB, std %.2f dB; prior mean %+.2f dB, std %.2f dB",
                 h["n_folds"], h["tuned"]["mean_error_db"], h["tuned"]["std_error_db"],
                 h["prior"]["mean_error_db"], h["prior"]["std_error_db"])  # fmt: skip
    for name, why in cal.refused.items():
        log.info("calibrate: %s kept at the prior: %s", name, why)
    return cal


__all__ = ["CalibrateOptions", "calibrate", "calibration_data"]
