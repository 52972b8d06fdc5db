"""The antenna audit (``netqa audit``): cells whose measurements contradict their database entry.

Samples + cells + DEM (+ clutter) -> per-serving-cell bins -> the antenna fit
of :mod:`netqa.calibrate.antenna` -> one row per cell with a verdict and its
evidence, written as CSV (and a JSON summary beside it).

Verdicts (``status``), in this order of precedence:

* ``not_judged``: the cell cannot be audited — an omni antenna or no
  azimuth in the table (nothing to contradict), or fewer than ``min_bins``
  bins; ``reason`` says which;
* ``swapped``: two cells of one site and band whose fitted azimuths each
  point within ``azimuth_threshold_deg`` of the OTHER cell's database azimuth
  while both are off their own by more than the threshold (crossed feeders
  or a wrong sector-to-cell mapping); ``swapped_with`` names the other;
* ``azimuth``: azimuth offset above ``azimuth_threshold_deg`` (default 30)
  AND above ``n_sigma`` (2) standard errors AND freeing it lowers the cell's
  bin RMSE by ``min_azimuth_gain_db`` (1 dB; everything else refitted);
* ``tilt``: total-tilt offset above ``tilt_threshold_deg`` (default 4), above
  ``tilt_n_sigma`` (5) standard errors, not at its bound, and freeing it lowers
  the RMSE by ``min_tilt_gain_db`` (0.5 dB; the vertical beamwidth held at the
  band's) — stricter than the azimuth because a tilt offset is confounded with
  every distance-dependent term the audit does not model (terrain
  diffraction, clutter along the path);
* ``undetermined``: a fitted tilt or beamwidth at its physical bound (the data
  contradict the pattern model), or the azimuth or tilt standard error exceeds
  ``max_azimuth_se_deg`` (10) / ``max_tilt_se_deg`` (2) and no finding
  stands: the measurements do not pin the antenna down (e.g. one street seen
  from the back lobe only);
* ``ok``: none of the above.

Columns of the table: ``site_id``, ``cell_id``, ``band``, ``status``,
``finding`` (one sentence), ``swapped_with``, ``db_azimuth_deg``,
``fitted_azimuth_deg``, ``azimuth_offset_deg`` (fitted minus database, wrapped
to [-180, 180)), ``azimuth_se_deg``, ``db_tilt_deg`` (mechanical +
electrical), ``fitted_tilt_deg``, ``tilt_offset_deg``, ``tilt_se_deg``,
``hpbw_h_deg``/``hpbw_v_deg`` (the cell's effective beamwidths, shrunk toward
the band's), ``n_samples``, ``n_bins``, ``rmse_before_db`` (bins' error with
the database azimuth and tilt and the band's beamwidths, the cell's intercept
refitted), ``rmse_after_db`` (with the cell's fitted antenna),
``azimuth_gain_db``/``tilt_gain_db`` (the RMSE drop from freeing that offset),
``reason``.  Standard errors are cluster-robust over ``cluster_m`` squares
(:func:`netqa.calibrate.antenna._robust_se`).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from netqa.calibrate.antenna import (
    AntennaData,
    AntennaFit,
    AntennaFitConfig,
    CellPrior,
    fit_antennas,
    wrap_deg,
)
from netqa.compare.binning import SampleFilters, filter_samples, square_bins
from netqa.errors import InputError
from netqa.io.modelfile import band_key

log = logging.getLogger(__name__)

COLUMNS = ("site_id", "cell_id", "band", "status", "finding", "swapped_with", "db_azimuth_deg", "fitted_azimuth_deg",
           "azimuth_offset_deg", "azimuth_se_deg", "db_tilt_deg", "fitted_tilt_deg", "tilt_offset_deg", "tilt_se_deg",
           "hpbw_h_deg", "hpbw_v_deg", "n_samples", "n_bins", "rmse_before_db", "rmse_after_db", "azimuth_gain_db",
           "tilt_gain_db", "reason")  # fmt: skip


@dataclass(frozen=True)
class AuditOptions:
    """Settings of :func:`audit`: DEM resolution [m], receiver height [m], bin size [m], the squares whose bins share
    their shadowing (clusters of the robust standard errors) [m], sample filters and the fit."""

    resolution_m: float = 10.0
    rx_height_m: float = 1.5
    bin_m: float = 20.0
    cluster_m: float = 100.0
    filters: SampleFilters = field(default_factory=lambda: SampleFilters(min_dist_km=0.05, max_dist_km=10.0))
    fit: AntennaFitConfig = field(default_factory=AntennaFitConfig)

    def __post_init__(self):
        for name in ("resolution_m", "bin_m", "cluster_m"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be > 0 m, got {v!r}")


@dataclass
class AuditInputs:
    """Binned :class:`AntennaData`, the database :class:`CellPrior`, the cell table and the sample counts."""

    data: AntennaData
    prior: CellPrior
    cells: pd.DataFrame
    n_samples: np.ndarray
    counts: dict
    sample_data: AntennaData | None = None
    sample_session: np.ndarray | None = None


def _col(df: pd.DataFrame, name: str) -> np.ndarray:
    if name not in df.columns:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[name], errors="coerce").to_numpy(np.float64)


def audit_inputs(samples, cells, dem, *, clutter=None, clutter_table=None, options: AuditOptions = AuditOptions()) -> AuditInputs:
    """Read and match the inputs, compute the per-sample geometry and bin it per serving cell."""
    from netqa.compare.points import ground_heights
    from netqa.compare.prepare import prepare
    from propagation.engine._common import CELL_FIELDS, PATTERN_OMNI

    prep = prepare(samples, cells, dem, clutter=clutter, clutter_table=clutter_table, resolution_m=options.resolution_m)
    w = prep.world
    m = w.matrix
    df = w.cells
    ground_site = m[:, CELL_FIELDS.index("ground_m")].copy()
    missing = np.isnan(ground_site)
    if missing.any():
        ground_site[missing] = ground_heights(w, m[missing, 0], m[missing, 1])
    s = prep.serving
    x, y = prep.x_m, prep.y_m
    dx, dy = x - m[s, 0], y - m[s, 1]
    dist_m = np.hypot(dx, dy)
    z_tx = ground_site[s] + m[s, CELL_FIELDS.index("height_m")]
    z_rx = ground_heights(w, x, y) + options.rx_height_m
    rsrp = pd.to_numeric(prep.df["rsrp_dbm"], errors="coerce").to_numpy(np.float64)
    eirp_peak = m[s, CELL_FIELDS.index("rs_power_dbm")] + m[s, CELL_FIELDS.index("gain_dbi")] - m[s, CELL_FIELDS.index("feeder_loss_db")]
    loss = eirp_peak - np.nan_to_num(prep.clutter_db) - rsrp
    keep, removed = filter_samples(dist_m / 1000.0, rsrp, options.filters)
    bearing = np.degrees(np.arctan2(dx, dy))
    depression = np.degrees(np.arctan2(z_tx - z_rx, np.maximum(dist_m, 1.0)))
    # bins: serving cell x bin_m squares; loss in dB mean (median of log-normal shadowing), bearing as a circular mean
    k = np.flatnonzero(keep)
    codes = square_bins(s[k].astype(object), x[k], y[k], options.bin_m)
    g = pd.DataFrame({"code": codes, "cell": s[k], "loss": loss[k], "logd": np.log10(dist_m[k] / 1000.0),
                      "sin": np.sin(np.radians(bearing[k])), "cos": np.cos(np.radians(bearing[k])),
                      "dep": depression[k], "x": x[k], "y": y[k]}).groupby("code").agg(
        cell=("cell", "first"), loss=("loss", "mean"), logd=("logd", "mean"), sin=("sin", "mean"), cos=("cos", "mean"),
        dep=("dep", "mean"), x=("x", "mean"), y=("y", "mean"), n=("loss", "size"))
    thin = g["n"] < options.filters.min_samples_per_bin
    removed["min_samples_per_bin"] = int(g.loc[thin, "n"].sum())
    g = g[~thin]
    data = AntennaData(loss_db=g["loss"].to_numpy(), dist_km=10.0 ** g["logd"].to_numpy(),
                       bearing_deg=np.degrees(np.arctan2(g["sin"].to_numpy(), g["cos"].to_numpy())),
                       depression_deg=g["dep"].to_numpy(), cell=g["cell"].to_numpy(np.int64),
                       block=square_bins(g["cell"].to_numpy(object), g["x"].to_numpy(), g["y"].to_numpy(),
                                         options.cluster_m))  # fmt: skip
    sample_data = AntennaData(loss[k], dist_m[k] / 1000.0, bearing[k], depression[k], s[k])
    tech = df["tech"].astype(str).to_numpy(object) if "tech" in df.columns else np.full(len(df), "", object)
    band = np.array([band_key(t, f) for t, f in zip(tech, m[:, CELL_FIELDS.index("freq_mhz")])], dtype=object)
    az = _col(df, "azimuth_deg")
    tilt = np.nan_to_num(_col(df, "mech_tilt_deg")) + np.nan_to_num(_col(df, "elec_tilt_deg"))
    pid = m[:, CELL_FIELDS.index("pattern_id")]
    judged = np.isfinite(az) & (pid != PATTERN_OMNI)
    why = np.where(pid == PATTERN_OMNI, "omni antenna in the cell table: no database azimuth to audit",
                   np.where(np.isfinite(az), "", "no azimuth_deg in the cell table"))  # fmt: skip
    prior = CellPrior(np.nan_to_num(az), tilt, band, judged, why.astype(object))
    n_samples = np.bincount(s[k], minlength=len(df))
    counts = {"read": prep.n_read, **prep.removed, **removed, "used": int(k.size), "bins": int(data.loss_db.size)}
    return AuditInputs(data, prior, df, n_samples, counts, sample_data, prep.df["session"].astype(str).to_numpy(object)[k])


def audit_table(fit: AntennaFit, inputs: AuditInputs, cfg: AntennaFitConfig) -> pd.DataFrame:
    """One row per cell with its verdict and the evidence (columns: :data:`COLUMNS`)."""
    df, prior = inputs.cells, inputs.prior
    rows = []
    for c in range(len(df)):
        f = fit.cells.get(c)
        db_az, db_tilt = float(prior.azimuth_deg[c]), float(prior.tilt_deg[c])
        row = {"site_id": str(df["site_id"].iloc[c]) if "site_id" in df.columns else "", "cell_id": str(df["cell_id"].iloc[c]),
               "band": prior.band[c], "swapped_with": "", "n_samples": int(inputs.n_samples[c]),
               "db_azimuth_deg": db_az if prior.judged[c] else float("nan"), "db_tilt_deg": db_tilt}  # fmt: skip
        if f is None or f.refused:
            reason = f.refused if f is not None else "no bins"
            row.update(status="not_judged", finding=f"not judged: {reason}", reason=reason, n_bins=f.n_bins if f else 0)
            rows.append(row)
            continue
        row.update(n_bins=f.n_bins, fitted_azimuth_deg=(db_az + f.azimuth_offset_deg) % 360.0,
                   azimuth_offset_deg=f.azimuth_offset_deg, azimuth_se_deg=f.azimuth_se_deg,
                   fitted_tilt_deg=db_tilt + f.tilt_offset_deg, tilt_offset_deg=f.tilt_offset_deg, tilt_se_deg=f.tilt_se_deg,
                   hpbw_h_deg=f.hpbw_h_deg, hpbw_v_deg=f.hpbw_v_deg, rmse_before_db=f.rmse_before_db,
                   rmse_after_db=f.rmse_after_db, azimuth_gain_db=f.azimuth_gain_db, tilt_gain_db=f.tilt_gain_db,
                   reason=f"at the bound: {f.at_bound}" if f.at_bound else "")  # fmt: skip
        az_bad = (abs(f.azimuth_offset_deg) > max(cfg.azimuth_threshold_deg, cfg.n_sigma * f.azimuth_se_deg)
                  and f.azimuth_gain_db >= cfg.min_azimuth_gain_db)  # fmt: skip
        tilt_bad = (abs(f.tilt_offset_deg) > max(cfg.tilt_threshold_deg, cfg.tilt_n_sigma * f.tilt_se_deg)
                    and f.tilt_gain_db >= cfg.min_tilt_gain_db and "tilt" not in f.at_bound)  # fmt: skip
        if az_bad:
            row.update(status="azimuth", finding=f"azimuth {f.azimuth_offset_deg:+.0f} deg (+/- {f.azimuth_se_deg:.0f}) "
                                                  f"off the database {db_az:.0f} deg")  # fmt: skip
        elif tilt_bad:
            row.update(status="tilt", finding=f"tilt {f.tilt_offset_deg:+.1f} deg (+/- {f.tilt_se_deg:.1f}) off the "
                                               f"database {db_tilt:.1f} deg")  # fmt: skip
        elif f.at_bound:
            row.update(status="undetermined", finding=f"the fit is at a physical bound ({f.at_bound}): the data "
                                                      "contradict the pattern model; not judged further")
        elif f.azimuth_se_deg > cfg.max_azimuth_se_deg or f.tilt_se_deg > cfg.max_tilt_se_deg:
            row.update(status="undetermined", finding="the measurements do not determine the antenna "
                                                      f"(azimuth +/- {f.azimuth_se_deg:.0f} deg, tilt +/- {f.tilt_se_deg:.1f} deg)")
        else:
            row.update(status="ok", finding="consistent with the database")
        rows.append(row)
    table = pd.DataFrame(rows)
    _mark_swaps(table, cfg)
    return table.reindex(columns=list(COLUMNS))


def _mark_swaps(table: pd.DataFrame, cfg: AntennaFitConfig) -> None:
    """Turn two ``azimuth`` findings of one site and band that point at each other's database azimuth into ``swapped``."""
    bad = table.index[table["status"] == "azimuth"]
    for i in bad:
        for j in bad:
            if j <= i or table.at[i, "site_id"] != table.at[j, "site_id"] or table.at[i, "band"] != table.at[j, "band"]:
                continue
            if table.at[i, "status"] != "azimuth" or table.at[j, "status"] != "azimuth":
                continue
            a = abs(float(wrap_deg(table.at[i, "fitted_azimuth_deg"] - table.at[j, "db_azimuth_deg"])))
            b = abs(float(wrap_deg(table.at[j, "fitted_azimuth_deg"] - table.at[i, "db_azimuth_deg"])))
            if a < cfg.azimuth_threshold_deg and b < cfg.azimuth_threshold_deg:
                for p, q in ((i, j), (j, i)):
                    table.at[p, "status"] = "swapped"
                    table.at[p, "swapped_with"] = table.at[q, "cell_id"]
                    table.at[p, "finding"] = (f"sectors swapped with {table.at[q, 'cell_id']}: measured azimuth "
                                              f"{table.at[p, 'fitted_azimuth_deg']:.0f} deg, that cell's database "
                                              f"{table.at[q, 'db_azimuth_deg']:.0f} deg")  # fmt: skip


def summary(fit: AntennaFit, table: pd.DataFrame, counts: dict) -> dict:
    """JSON-ready summary: per band fit, verdict counts, sample counts."""
    return {
        "bands": {b: {"slope_db_per_decade": round(f.slope_db, 2), "hpbw_h_deg": round(f.hpbw_h_deg, 1),
                      "hpbw_v_deg": round(f.hpbw_v_deg, 2), "default_pattern_weight": round(f.pattern_weight, 3),
                      "n_bins": f.n_bins, "n_cells": f.n_cells, **({"at_bound": f.at_bound} if f.at_bound else {})}
                  for b, f in fit.bands.items()},
        "verdicts": {k: int(v) for k, v in table["status"].value_counts().sort_index().items()},
        "flagged": table.loc[table["status"].isin(["azimuth", "swapped", "tilt"]), "cell_id"].tolist(),
        "samples": counts,
    }  # fmt: skip


def corrected_cells(cells: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The cell table with the audit's findings applied, for predict/compare/calibrate.

    Cells flagged ``azimuth`` or ``swapped`` take their fitted azimuth; cells
    flagged ``tilt`` their fitted total tilt (the offset is added to
    ``mech_tilt_deg``); every ``ok`` or flagged cell gets its effective
    beamwidths in ``hpbw_h_deg``/``hpbw_v_deg`` (read by the engine's
    parametric sector; empty = the default 65/10 deg); ``audit_status`` says
    what the audit found.  Unflagged offsets are left alone (within the noise).
    """
    out = cells.copy()
    t = table.set_index("cell_id")
    ids = out["cell_id"].astype(str)
    status = ids.map(t["status"]).fillna("not_judged")
    fix_az = status.isin(["azimuth", "swapped"]).to_numpy()
    out["azimuth_deg"] = np.where(fix_az, ids.map(t["fitted_azimuth_deg"]).round(1), out["azimuth_deg"])
    mech = pd.to_numeric(out["mech_tilt_deg"], errors="coerce").fillna(0.0) if "mech_tilt_deg" in out else 0.0
    out["mech_tilt_deg"] = np.where(status == "tilt", mech + ids.map(t["tilt_offset_deg"]).round(1), mech)
    keep = status.isin(["ok", "azimuth", "swapped", "tilt"]).to_numpy()
    out["hpbw_h_deg"] = np.where(keep, ids.map(t["hpbw_h_deg"]).round(1), np.nan)
    out["hpbw_v_deg"] = np.where(keep, ids.map(t["hpbw_v_deg"]).round(2), np.nan)
    out["audit_status"] = status.to_numpy()
    return out


def audit(samples, cells, dem, out, *, clutter=None, clutter_table=None, options: AuditOptions = AuditOptions(),
          overwrite: bool = False, corrected_cells_out=None) -> tuple[pd.DataFrame, dict]:  # fmt: skip
    """Run the audit and write ``out`` (CSV, :data:`COLUMNS`) and ``out`` with ``.json`` (the summary).

    Returns the table and the summary; with ``corrected_cells_out`` also writes
    :func:`corrected_cells` there (CSV).  When no cell can be judged (e.g. a
    table of omni antennas) the table still lists every cell as
    ``not_judged`` with the reason, and the summary says so; no fit is made.
    """
    from netqa.fileio import check_output, write_text_atomic

    out = check_output(out, overwrite)
    json_path = check_output(Path(out).with_suffix(".json"), overwrite)
    fixed_path = check_output(corrected_cells_out, overwrite) if corrected_cells_out else None
    inputs = audit_inputs(samples, cells, dem, clutter=clutter, clutter_table=clutter_table, options=options)
    try:
        fit = fit_antennas(inputs.data, inputs.prior, options.fit)
    except InputError as exc:
        if inputs.prior.judged.any():
            raise
        log.warning("audit: %s", exc)
        fit = AntennaFit(cells={c: _refused(inputs, c) for c in range(len(inputs.cells))})
    table = audit_table(fit, inputs, options.fit)
    info = summary(fit, table, inputs.counts)
    if not inputs.prior.judged.any():
        info["note"] = "no cell can be judged: " + "; ".join(sorted(set(inputs.prior.why.tolist())))
    write_text_atomic(out, table.to_csv(index=False, float_format="%.2f", lineterminator="\n"))
    write_text_atomic(json_path, json.dumps(info, indent=2, sort_keys=True) + "\n")
    if fixed_path is not None:
        fixed = corrected_cells(inputs.cells.drop(columns="geometry", errors="ignore"), table)
        write_text_atomic(fixed_path, fixed.to_csv(index=False, lineterminator="\n"))
    log.info("audit: %s", ", ".join(f"{k} {v}" for k, v in info["verdicts"].items()))
    return table, info


def _refused(inputs: AuditInputs, c: int):
    from netqa.calibrate.antenna import CellFit

    n = int(np.sum(inputs.data.cell == c))
    return CellFit(n, refused=str(inputs.prior.why[c]) or "no judgeable cell")


__all__ = ["COLUMNS", "AuditInputs", "AuditOptions", "audit", "audit_inputs", "audit_table", "corrected_cells", "summary"]
