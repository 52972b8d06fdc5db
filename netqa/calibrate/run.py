"""The ``netqa calibrate`` stage: samples + cells + DEM (+ clutter) -> tuned SPM TOML.

Measured path loss per sample = EIRP towards the sample (the engine's RS
power, antenna gain, feeder loss and pattern, :func:`netqa.compare.points.calibration_geometry`)
minus the measured RSRP of the serving cell.  Samples are filtered (distance
range, RSRP floor: the same defaults as ``netqa compare``,
:data:`netqa.compare.select.DEFAULT_FILTERS`; each filter's count reported;
optionally only the samples of selected sites or cells), then
:func:`netqa.calibrate.fit.fit_spm` fits within physical bounds and
cross-validates with folds grouped by site (default; or session, cell): once
per (technology, carrier) band
(:func:`netqa.io.modelfile.band_key`; one tuned model per band, so that
no frequency rule biases the fit) and once over all bands (the global
fallback for cells of bands without enough data).  Each fit's held-out RMSE,
bias and correlation are logged, with a warning when they are poor
(:func:`netqa.calibrate.crossval.holdout_warnings`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from netqa.calibrate.crossval import check_cv_group, holdout_line, holdout_warnings
from netqa.calibrate.fit import Calibration, CalibrationConfig, CalibrationData, fit_spm
from netqa.compare.binning import SampleFilters, filter_samples, filters_report, square_bins
from netqa.compare.points import calibration_geometry
from netqa.compare.prepare import prepare
from netqa.compare.select import DEFAULT_FILTERS, Selection, site_labels
from netqa.errors import InputError
from netqa.fileio import check_output
from netqa.io.modelfile import band_key, read_model_file, write_model_file
from propagation import SPM_DEFAULT_K
from propagation.engine import EngineConfig

log = logging.getLogger(__name__)


#: ``CalibrateOptions.h_eff`` (canonical or older name) -> the model file's ``h_eff_method``.
H_EFF_METHOD = {"ground": "ground", "relative": "relative", "site": "ground", "terrain": "relative"}


@dataclass(frozen=True)
class CalibrateOptions:
    """Settings of :func:`calibrate`: terrain method, receiver height [m], prior model file,
    DEM/clutter grid [m] (None: their native resolution), sample filters (default
    :data:`~netqa.compare.select.DEFAULT_FILTERS`, 0.1-20 km, RSRP >= -130 dBm, as compare; samples in fit bins
    holding fewer than ``filters.min_samples_per_bin`` dropped), the serving sites/cells used (``selection``),
    the cross-validation grouping (``cv_group``: site, session or cell; it overrides ``fit.cv_group``) and fit
    settings."""

    terrain: str = "none"
    rx_height_m: float = 1.5
    model_file: Path | None = None
    resolution_m: float | None = None
    filters: SampleFilters = DEFAULT_FILTERS
    fit: CalibrationConfig = field(default_factory=CalibrationConfig)
    selection: Selection = field(default_factory=Selection)
    cv_group: str = "site"
    #: The model file's ``h_eff_method`` names: "relative": the engine's h_eff = max(z_site + h_tx - z_rx, 1 m);
    #: "ground": the antenna height above ground at the site (cells' height_m), the other common SPM convention.
    #: The older names "terrain" (= relative) and "site" (= ground) are accepted and normalised.
    h_eff: str = "relative"
    #: Also fit, per band, the weight of the assumed antenna pattern's attenuation (netqa.calibrate.pattern);
    #: kept only where it lowers the held-out error.
    pattern_weight: bool = False
    # --- issue 12 item 3: clutter along the path (netqa.calibrate.pathterms) ---
    #: "none", "near", "whole" or "both": path-clutter losses tried as optional terms (overrides fit.path_clutter)
    path_clutter: str = "none"
    #: the near share's stretch before the receiver [m] (overrides fit.near_m)
    path_clutter_near_m: float = 300.0
    # --- end issue 12 item 3 ---
    #: Also fit the learned correction (netqa.calibrate.learned), kept only when the site-held-out RMSE drops by
    #: ``learned.min_gain_db``; None: ``LearnedConfig()`` defaults.
    learned_correction: bool = False
    learned: object = None
    #: Longley-Rice settings of ``terrain="itm"`` (:class:`netqa.predict.PredictConfig`'s ``itm``); give the same
    #: to ``netqa predict`` with the tuned model.
    itm: tuple = ()

    def __post_init__(self):
        if self.h_eff not in H_EFF_METHOD:
            raise ValueError(f"h_eff must be 'ground' or 'relative' (older names: 'site', 'terrain'), got {self.h_eff!r}")
        object.__setattr__(self, "h_eff", H_EFF_METHOD[self.h_eff])
        check_cv_group(self.cv_group)
        CalibrationConfig(path_clutter=self.path_clutter, near_m=self.path_clutter_near_m)  # validates both
        from netqa.predict.config import check_itm_pairs

        check_itm_pairs(self.itm, self.terrain)


def calibration_data(samples, cells, dem, *, clutter=None, clutter_table=None,
                     options: CalibrateOptions = CalibrateOptions(), attenuation: bool = False, surface=None,
                     extras: dict | None = None):  # fmt: skip
    """Prepared, filtered :class:`CalibrationData`, the clutter losses by class name, the sample counts,
    the unknown serving cells and the band key of each sample (its serving cell's tech and carrier);
    with ``attenuation``, also the assumed pattern's attenuation towards each sample [dB] (a sixth item);
    with ``extras`` (a dict), also the learned correction's ``spec`` and features ``X`` of the kept samples."""
    prep = prepare(samples, cells, dem, clutter=clutter, clutter_table=clutter_table, surface=surface,
                   resolution_m=options.resolution_m, selection=options.selection)  # fmt: skip
    cfg = EngineConfig(model="spm", terrain=options.terrain, rx_height_m=options.rx_height_m, **dict(options.itm))
    geo = calibration_geometry(prep.world, prep.x_m, prep.y_m, prep.serving, cfg)
    rsrp = pd.to_numeric(prep.df["rsrp_dbm"], errors="coerce").to_numpy(np.float64)
    keep, removed = filter_samples(geo["dist_km"], rsrp, options.filters)
    table_loss = {prep.world.clutter_name[c]: v for c, v in prep.world.clutter_loss.items()}
    cells_df = prep.world.cells
    from netqa.modelcheck import warn_out_of_range

    warn_out_of_range("spm", prep.world.matrix[:, 7], what="calibrate")  # the SPM's checked 150-3500 MHz
    tech = cells_df["tech"].astype(str).to_numpy(object) if "tech" in cells_df else np.full(len(cells_df), "", object)
    cell_band = np.array([band_key(t, f) for t, f in zip(tech, prep.world.matrix[:, 7])], dtype=object)
    band = cell_band[np.maximum(prep.serving, 0)]
    clutter_names = np.where(pd.isna(prep.clutter), "none", prep.clutter).astype(object)
    clutter_db = np.where(pd.isna(prep.clutter), 0.0, prep.clutter_db)
    prior_clutter = {}
    if options.model_file:
        tm = read_model_file(options.model_file)
        prior_clutter = tm.clutter_loss_db
        for key in np.unique(band):  # each band starts from its own section's clutter losses
            sel = band == key
            b = tm.bands.get(key)
            losses = {**table_loss, **tm.clutter_loss_db, **(b.clutter_loss_db if b is not None else {})}
            clutter_db[sel] = pd.Series(clutter_names[sel]).map(losses).fillna(0.0).to_numpy(np.float64)
    h_eff = geo["h_tx_eff_m"]
    if options.h_eff == "ground":
        h_eff = prep.world.matrix[np.maximum(prep.serving, 0), 3]
    data = CalibrationData(
        loss_db=geo["eirp_dbm"] - rsrp, dist_km=geo["dist_km"], h_tx_eff_m=h_eff,
        h_rx_m=np.full(rsrp.size, options.rx_height_m), diffraction_db=geo["diffraction_db"],
        freq_mhz=geo["freq_mhz"], clutter=clutter_names, clutter_db=clutter_db,
        cell=prep.df["cell_id"].astype(str).to_numpy(dtype=object),
        session=prep.df["session"].astype(str).to_numpy(dtype=object), x_m=prep.x_m, y_m=prep.y_m,
        site=site_labels(cells_df)[np.maximum(prep.serving, 0)],
        **_path_shares(prep, options),  # issue 12 item 3
    ).subset(keep)  # fmt: skip
    band = band[keep]
    if extras is not None:  # learned correction (issue 12 item 5): the same features as compare and predict
        from netqa.calibrate.features import point_features, spec_for_world

        spec = spec_for_world(prep.world, terrain=options.terrain, rx_height_m=options.rx_height_m,
                              classes_seen=clutter_names[keep])  # fmt: skip
        extras.update(spec=spec, X=point_features(prep.world, prep.x_m, prep.y_m, prep.serving, spec, geometry=geo)[keep])
    m, s_idx = prep.world.matrix, np.maximum(prep.serving, 0)
    att = np.maximum((m[s_idx, 8] + m[s_idx, 9] - m[s_idx, 10]) - geo["eirp_dbm"], 0.0)[keep]  # peak EIRP - EIRP
    # minimum samples per bin: the fit's own bins (serving cell x bin_m squares)
    codes = square_bins(data.cell, data.x_m, data.y_m, options.fit.bin_m)
    per_bin = np.bincount(codes, minlength=int(codes.max()) + 1 if codes.size else 0)
    thin = per_bin[codes] < options.filters.min_samples_per_bin if codes.size else np.zeros(0, bool)
    removed["min_samples_per_bin"] = int(thin.sum())
    data, band, att = data.subset(~thin), band[~thin], att[~thin]
    if extras is not None:
        extras["X"] = extras["X"][~thin]
    counts = {"read": prep.n_read, **prep.removed, **removed, "used": data.n,
              "grid_resolution_m": float(prep.world.grid.pixel_size_m)}
    counts["filters"] = filters_report(options.filters, removed, bin_removed=removed["min_samples_per_bin"],
                                       bin_scope=f"the fit's {options.fit.bin_m:g} m bins per serving cell")  # fmt: skip
    if attenuation:
        return data, {**table_loss, **prior_clutter}, counts, prep.unknown_cells, band, att
    return data, {**table_loss, **prior_clutter}, counts, prep.unknown_cells, band


def calibrate(samples, cells, dem, out, *, clutter=None, clutter_table=None,
              options: CalibrateOptions = CalibrateOptions(), overwrite: bool = False, surface=None) -> Calibration:  # fmt: skip
    """Fit the SPM to the samples, per band and globally, and write the tuned TOML to ``out``.

    Returns
    -------
    Calibration
        The global fit, with ``bands`` (band key -> {"tech", "freq_mhz",
        "cal": Calibration} or {"refused": reason, "n_samples"}) and
        ``settings["samples"]`` holding the sample counts (read, removed per
        reason, used).
    """
    out = check_output(out, overwrite)
    if surface is not None:
        from netqa.predict.surface import warn_if_unused

        warn_if_unused(surface, options.terrain)
    tm = read_model_file(options.model_file) if options.model_file else None
    prior = tm.k if tm is not None else SPM_DEFAULT_K
    extras = {} if options.learned_correction else None
    data, table_loss, counts, unknown, band, att = calibration_data(samples, cells, dem, clutter=clutter,
                                                                    clutter_table=clutter_table, options=options,
                                                                    attenuation=True, surface=surface,
                                                                    extras=extras)  # fmt: skip
    filters = counts.pop("filters")
    grid_m = counts.pop("grid_resolution_m")
    log.info("calibrate: %d samples used of %d read (%s)", counts["used"], counts["read"],
             ", ".join(f"{k} {v}" for k, v in counts.items() if k not in ("read", "used")))  # fmt: skip
    bands = {}
    for key in sorted(set(band.tolist())):
        sel = band == key
        sub = data.subset(sel)
        tech, _, freq = key.rpartition("-")
        b_prior = tm.k_for(tech, float(freq)) if tm is not None else prior
        cfg = CalibrationConfig(**{**options.fit.__dict__, "prior": b_prior, "cv_group": options.cv_group,
                                   **_path_settings(options)})  # fmt: skip
        try:
            if options.pattern_weight:
                from netqa.calibrate.pattern import fit_with_pattern_weight

                fitted = fit_with_pattern_weight(sub, att[sel], cfg)
            else:
                fitted = fit_spm(sub, cfg)
            bands[key] = {"tech": tech, "freq_mhz": float(np.median(sub.freq_mhz)), "cal": fitted}
        except InputError as exc:
            bands[key] = {"refused": str(exc), "n_samples": sub.n}
            log.info("calibrate: band %s not fitted (the global model applies): %s", key, exc)
            continue
        _log_fit(f"band {key}", bands[key]["cal"])
    fit_cfg = CalibrationConfig(**{**options.fit.__dict__, "prior": prior, "cv_group": options.cv_group,
                                   **_path_settings(options)})  # fmt: skip
    if len(bands) == 1 and "cal" in next(iter(bands.values())):
        cal = _copy_cal(next(iter(bands.values()))["cal"])  # one band: the global model is that band's
    else:
        cal = fit_spm(data, fit_cfg)
    cal.bands = bands
    cal.settings["samples"] = counts
    cal.settings["filters"] = filters
    if unknown:
        cal.settings["unknown_serving_cells"] = unknown[:50]
    f = options.filters
    provenance = {
        "samples": str(samples) if not isinstance(samples, pd.DataFrame) else "DataFrame",
        "cells": str(cells) if not isinstance(cells, pd.DataFrame) else "DataFrame",
        "dem": str(dem), **({"surface": str(surface)} if surface is not None else {}), "terrain": options.terrain,
        "rx_height_m": options.rx_height_m, "cv_group": options.cv_group, "grid_resolution_m": grid_m,
        **({"itm": dict(options.itm)} if options.itm else {}),
        **({"path_clutter": options.path_clutter, "path_clutter_near_m": options.path_clutter_near_m}
           if options.path_clutter != "none" else {}),
        **({"selection": {k: list(v) for k, v in vars(options.selection).items() if v is not None}}
           if options.selection.active else {}),
        "filters": {"min_dist_km": f.min_dist_km, "max_dist_km": f.max_dist_km if math.isfinite(f.max_dist_km) else None,
                    "rsrp_floor_dbm": f.rsrp_floor_dbm, "min_samples_per_bin": f.min_samples_per_bin},
        "prior": str(options.model_file) if options.model_file else "SPM_DEFAULT_K (Hata/COST-231 urban)",
    }  # fmt: skip
    learned = None
    if options.learned_correction:  # issue 12 item 5: adopted only when site-held-out RMSE drops
        from netqa.calibrate.learned import LearnedConfig, learn

        learned = learn(data, band, cal, fit_cfg, extras["X"], extras["spec"], options.learned or LearnedConfig())
        cal.settings["learned_correction"] = {k: v for k, v in learned.summary().items() if k != "features"}
        if learned.adopted:
            from netqa.io.learnedfile import learned_record, model_bytes, sidecar_path

            side, blob = sidecar_path(out, learned.library), model_bytes(learned)
            learned = (learned_record(learned, side, blob), side, blob)
        else:
            learned = None
    used = {c for c in np.unique(data.clutter)}
    write_model_file(out, cal, clutter_table_loss_db={c: v for c, v in table_loss.items() if c in used} or None,
                     provenance=provenance, h_eff_method=H_EFF_METHOD[options.h_eff], overwrite=True,
                     learned=learned)  # fmt: skip
    if learned is None:  # a sidecar of an earlier run beside an overwritten file is no longer referenced
        from netqa.io.learnedfile import SUFFIX, sidecar_path

        for lib in SUFFIX:
            if sidecar_path(out, lib).exists():
                sidecar_path(out, lib).unlink()
                log.info("calibrate: removed %s (no learned correction in the new %s)", sidecar_path(out, lib), out)
    _log_fit("global", cal)
    return cal




def _path_settings(options: CalibrateOptions) -> dict:
    """The fit settings of the path-clutter terms (issue 12 item 3)."""
    return {"path_clutter": options.path_clutter, "near_m": options.path_clutter_near_m}


def _path_shares(prep, options: CalibrateOptions) -> dict:
    """Per-sample class shares of the near stretch and of the whole path from the serving mast (issue 12 item 3)."""
    if options.path_clutter == "none":
        return {}
    if prep.world.clutter_code is None:
        raise InputError(f"--path-clutter {options.path_clutter} needs a clutter class raster: give --clutter RASTER "
                         "and --clutter-table CSV")  # fmt: skip
    from netqa.compare.pathclutter import sample_path_shares

    names, whole, near = sample_path_shares(prep.world, prep.x_m, prep.y_m, prep.serving,
                                            near_m=options.path_clutter_near_m)  # fmt: skip
    return {"near_share": near, "whole_share": whole, "path_classes": tuple(names)}


def _copy_cal(cal: Calibration) -> Calibration:
    import copy

    return copy.copy(cal)


def _log_fit(what: str, cal: Calibration) -> None:
    """The held-out statistics (a warning when poor) and each refusal (a warning when a physical bound held it)."""
    log.info("%s", holdout_line(f"calibrate {what}", cal.holdout))
    for why in holdout_warnings(cal.holdout):
        log.warning("calibrate %s: POOR: %s", what, why)
    for name, why in cal.refused.items():
        if name in cal.bounded:
            continue  # fit_spm warned already
        log.info("calibrate %s: %s kept at the prior: %s", what, name, why)


__all__ = ["CalibrateOptions", "calibrate", "calibration_data"]
