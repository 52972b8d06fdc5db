r"""Fit the effective antenna of every cell from measurements: azimuth and tilt offsets and beamwidths.

The model of a bin's measured path loss towards cell c of band B (the
measured loss EXCLUDING the antenna pattern: RS power + peak gain - feeder -
clutter - RSRP) is the log-distance part of the Standard Propagation Model
plus the attenuation of a 3GPP parametric sector pattern:

.. math:: L_i = a_c + b_B \log_{10} d_i + A\big(\phi_i - \alpha_c - \Delta\alpha_c,\;
          \theta_i - t_c - \Delta t_c;\; h_c, v_c\big)

with :math:`A(\phi, \theta; h, v) = \min(\min(12(\phi/h)^2, A_m) + \min(12(\theta/v)^2, SLA_v), A_m)`
(3GPP TR 36.814 V9.2.0 Table A.2.1.1-2; :math:`A_m` = 25 dB, :math:`SLA_v` = 20 dB),
:math:`\phi` the bearing from the site to the bin (from north, clockwise),
:math:`\theta` the depression angle in 3-D (terrain heights), :math:`\alpha_c`
and :math:`t_c` the database azimuth and total (mechanical + electrical) downtilt.
:math:`a_c` absorbs K1, K3 log h_eff and the RS power/gain errors of the cell;
:math:`b_B` is the band's K2 (d in km).

Fitted, by nonlinear least squares (:func:`scipy.optimize.least_squares`,
trust-region reflective, within bounds):

* per band: :math:`b_B` (10-60 dB/decade) and the band's effective beamwidths
  :math:`h_B` (30-120 deg) and :math:`v_B` (3-30 deg), with every cell's
  intercept, robustly (soft-L1) so that a wrong cell does not bend the band;
  the band is refitted once with every cell's azimuth and tilt offsets applied;
* per cell: :math:`a_c`, the azimuth offset :math:`\Delta\alpha_c` (wrapped to
  [-180, 180) deg; started from a grid of every 15 deg x every 5 deg of tilt so that a large error is found),
  the tilt offset :math:`\Delta t_c` (-10..15 deg) and the cell's beamwidths,
  **shrunk toward the band** by Gaussian priors (maximum a posteriori):
  log beamwidth ratio to the band ~ N(0, 0.15^2), tilt offset ~ N(0, 5^2 deg^2),
  azimuth offset ~ N(0, 60^2 deg^2) (weak: it only steadies cells with few bins).

Uncertainties: the larger of the nominal standard errors (Jacobian at the
solution, residual variance) and the cluster-robust (sandwich) ones with
the bins' spatial blocks as clusters (shadowing is shared by nearby bins).
For the audit, each offset's evidence is also the drop of the cell's RMSE
when it is freed (nested fits, everything else refitted).

Also fitted, for planning models that keep the database's default pattern
(65/10 deg): the **pattern-attenuation weight** w of each band, the
least-squares factor on the default pattern's attenuation (with the fitted
azimuth/tilt offsets) in :math:`L = a_c + b_B\log d + w\,A_{default}`; w < 1
means the assumed pattern over-attenuates.

Reference for the fit: Forsk, Atoll Technical Reference Guide, "Standard
Propagation Model" (automatic calibration); for the shrinkage: A. Gelman et
al., *Bayesian Data Analysis*, 3rd ed., ch. 5 (hierarchical normal models).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from netqa.errors import InputError

log = logging.getLogger(__name__)

AM_DB = 25.0
SLA_V_DB = 20.0
DEFAULT_HPBW_H_DEG = 65.0
DEFAULT_HPBW_V_DEG = 10.0


class AntennaData(NamedTuple):
    """Per-bin (or per-sample) inputs of the antenna fit (1-D arrays of equal length).

    ``loss_db`` measured loss without the pattern (RS power + peak gain - feeder -
    clutter loss - RSRP) [dB]; ``dist_km`` horizontal distance [km];
    ``bearing_deg`` from the site, clockwise from north [deg];
    ``depression_deg`` below the antenna's horizon [deg]; ``cell`` index into
    the cell arrays of :class:`CellPrior`; ``block`` optional spatial block id
    (e.g. 100 m squares) of each bin, the clusters of the robust standard errors.
    """

    loss_db: np.ndarray
    dist_km: np.ndarray
    bearing_deg: np.ndarray
    depression_deg: np.ndarray
    cell: np.ndarray
    block: np.ndarray | None = None

    def subset(self, mask) -> AntennaData:
        return AntennaData(*(None if a is None else np.asarray(a)[mask] for a in self))


@dataclass(frozen=True)
class AntennaFitConfig:
    """Bounds, priors and thresholds of the fit and of the audit (angles in deg)."""

    min_bins: int = 30
    hpbw_h_bounds_deg: tuple = (30.0, 120.0)
    hpbw_v_bounds_deg: tuple = (3.0, 30.0)
    slope_bounds_db: tuple = (10.0, 60.0)
    tilt_offset_bounds_deg: tuple = (-10.0, 15.0)
    prior_log_hpbw_std: float = 0.15
    prior_tilt_std_deg: float = 5.0
    prior_azimuth_std_deg: float = 60.0
    azimuth_start_step_deg: float = 15.0
    # audit thresholds
    azimuth_threshold_deg: float = 30.0
    tilt_threshold_deg: float = 4.0
    n_sigma: float = 2.0
    tilt_n_sigma: float = 5.0
    max_azimuth_se_deg: float = 10.0
    max_tilt_se_deg: float = 2.0
    min_azimuth_gain_db: float = 1.0
    min_tilt_gain_db: float = 0.5

    def __post_init__(self):
        if int(self.min_bins) < 5:
            raise ValueError(f"min_bins must be >= 5, got {self.min_bins!r}")
        for name in ("azimuth_threshold_deg", "tilt_threshold_deg", "n_sigma", "tilt_n_sigma", "min_azimuth_gain_db",
                     "min_tilt_gain_db"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")


@dataclass
class CellFit:
    """The fitted antenna of one cell (offsets are TRUE minus DATABASE)."""

    n_bins: int
    intercept_db: float = float("nan")
    azimuth_offset_deg: float = float("nan")
    azimuth_se_deg: float = float("nan")
    tilt_offset_deg: float = float("nan")
    tilt_se_deg: float = float("nan")
    hpbw_h_deg: float = float("nan")
    hpbw_v_deg: float = float("nan")
    rmse_before_db: float = float("nan")
    rmse_after_db: float = float("nan")
    azimuth_gain_db: float = float("nan")
    tilt_gain_db: float = float("nan")
    at_bound: str = ""
    refused: str = ""


@dataclass
class BandFit:
    """The fitted band: slope [dB/decade], beamwidths [deg], default-pattern weight, bins and cells used."""

    slope_db: float
    hpbw_h_deg: float
    hpbw_v_deg: float
    pattern_weight: float = float("nan")
    n_bins: int = 0
    n_cells: int = 0
    at_bound: str = ""


@dataclass
class AntennaFit:
    """Result of :func:`fit_antennas`: ``bands`` band -> :class:`BandFit`, ``cells`` index -> :class:`CellFit`."""

    bands: dict = field(default_factory=dict)
    cells: dict = field(default_factory=dict)

    def predict_loss_db(self, data: AntennaData, prior: CellPrior) -> np.ndarray:
        """Predicted loss without pattern (same convention as ``data.loss_db``); NaN for cells not fitted. [dB]"""
        out = np.full(np.asarray(data.loss_db).size, np.nan)
        for c in np.unique(data.cell):
            f = self.cells.get(int(c))
            if f is None or f.refused:
                continue
            sel = data.cell == c
            b = self.bands[prior.band[c]]
            out[sel] = _model(data.subset(sel), prior.azimuth_deg[c] + f.azimuth_offset_deg, prior.tilt_deg[c] + f.tilt_offset_deg,
                              f.hpbw_h_deg, f.hpbw_v_deg, f.intercept_db, b.slope_db)  # fmt: skip
        return out


class CellPrior(NamedTuple):
    """Database values per cell: ``azimuth_deg``, total ``tilt_deg`` (down positive), ``band`` key, ``judged``
    (False for cells the audit cannot judge, e.g. omni antennas), with ``why`` the reason."""

    azimuth_deg: np.ndarray
    tilt_deg: np.ndarray
    band: np.ndarray
    judged: np.ndarray
    why: np.ndarray


def wrap_deg(a):
    """Angle wrapped to [-180, 180). [deg]

    >>> wrap_deg([190.0, -180.0, 540.0]).tolist()
    [-170.0, -180.0, -180.0]
    """
    return (np.asarray(a, dtype=np.float64) + 180.0) % 360.0 - 180.0


def sector_attenuation_db(az_off_deg, elev_off_deg, hpbw_h_deg, hpbw_v_deg):
    """3GPP parametric sector attenuation, >= 0 (TR 36.814 V9.2.0 Table A.2.1.1-2). [dB]

    ``elev_off_deg`` is the depression angle minus the downtilt.

    >>> float(sector_attenuation_db(32.5, 0.0, 65.0, 10.0))
    3.0
    >>> float(sector_attenuation_db(180.0, 0.0, 65.0, 10.0))
    25.0
    """
    a_h = np.minimum(12.0 * (wrap_deg(az_off_deg) / hpbw_h_deg) ** 2, AM_DB)
    a_v = np.minimum(12.0 * (np.asarray(elev_off_deg, dtype=np.float64) / hpbw_v_deg) ** 2, SLA_V_DB)
    return np.minimum(a_h + a_v, AM_DB)


def _model(d: AntennaData, az_deg, tilt_deg, h_deg, v_deg, a_db, b_db):
    att = sector_attenuation_db(d.bearing_deg - az_deg, d.depression_deg - tilt_deg, h_deg, v_deg)
    return a_db + b_db * np.log10(d.dist_km) + att


def _fit_band(data: AntennaData, prior: CellPrior, cells: np.ndarray, offsets: dict, cfg: AntennaFitConfig,
              start: BandFit | None) -> BandFit:  # fmt: skip
    """Joint robust fit of one band's slope and beamwidths with every cell's intercept."""
    from scipy.optimize import least_squares

    sel = np.isin(data.cell, cells)
    d = data.subset(sel)
    idx = np.searchsorted(cells, d.cell)
    az = prior.azimuth_deg[cells] + np.array([offsets.get(int(c), (0.0, 0.0))[0] for c in cells])
    tilt = prior.tilt_deg[cells] + np.array([offsets.get(int(c), (0.0, 0.0))[1] for c in cells])
    logd = np.log10(d.dist_km)

    def resid(p):
        b, h, v = p[:3]
        att = sector_attenuation_db(d.bearing_deg - az[idx], d.depression_deg - tilt[idx], h, v)
        return p[3:][idx] + b * logd + att - d.loss_db

    s = start or BandFit(35.0, DEFAULT_HPBW_H_DEG, DEFAULT_HPBW_V_DEG)
    a0 = np.array([np.median((d.loss_db - s.slope_db * logd)[idx == k]) for k in range(cells.size)])
    lo = [cfg.slope_bounds_db[0], cfg.hpbw_h_bounds_deg[0], cfg.hpbw_v_bounds_deg[0]] + [-np.inf] * cells.size
    hi = [cfg.slope_bounds_db[1], cfg.hpbw_h_bounds_deg[1], cfg.hpbw_v_bounds_deg[1]] + [np.inf] * cells.size
    p0 = np.clip(np.r_[s.slope_db, s.hpbw_h_deg, s.hpbw_v_deg, a0], np.array(lo) + 1e-6, np.array(hi) - 1e-6)
    r = least_squares(resid, p0, bounds=(lo, hi), loss="soft_l1", f_scale=8.0, x_scale="jac")
    bound = [f"{name} {r.x[i]:.3g}" for i, name in ((0, "slope"), (1, "horizontal beamwidth"), (2, "vertical beamwidth"))
             if min(r.x[i] - lo[i], hi[i] - r.x[i]) < 1e-3 * max(1.0, abs(r.x[i]))]  # fmt: skip
    return BandFit(float(r.x[0]), float(r.x[1]), float(r.x[2]), n_bins=int(d.loss_db.size), n_cells=int(cells.size),
                   at_bound=", ".join(bound))  # fmt: skip


def _fit_cell(d: AntennaData, az_db: float, tilt_db: float, band: BandFit, cfg: AntennaFitConfig) -> CellFit:
    """MAP fit of one cell: intercept, azimuth and tilt offsets, beamwidths shrunk toward the band."""
    from scipy.optimize import least_squares

    logd = np.log10(d.dist_km)
    base = d.loss_db - band.slope_db * logd
    n = base.size

    def rmse_for(daz, dtilt, h, v):
        att = sector_attenuation_db(d.bearing_deg - az_db - daz, d.depression_deg - tilt_db - dtilt, h, v)
        r = base - att
        return float(np.sqrt(np.mean((r - r.mean()) ** 2))), float(r.mean())

    before, _ = rmse_for(0.0, 0.0, band.hpbw_h_deg, band.hpbw_v_deg)
    sigma = max(before, 1.0)
    lo = np.array([-np.inf, -np.inf, cfg.tilt_offset_bounds_deg[0], np.log(cfg.hpbw_h_bounds_deg[0] / band.hpbw_h_deg),
                   np.log(cfg.hpbw_v_bounds_deg[0] / band.hpbw_v_deg)])  # fmt: skip
    hi = np.array([np.inf, np.inf, cfg.tilt_offset_bounds_deg[1], np.log(cfg.hpbw_h_bounds_deg[1] / band.hpbw_h_deg),
                   np.log(cfg.hpbw_v_bounds_deg[1] / band.hpbw_v_deg)])  # fmt: skip

    def resid(p):
        a, daz, dtilt, eh, ev = p
        att = sector_attenuation_db(d.bearing_deg - az_db - daz, d.depression_deg - tilt_db - dtilt,
                                    band.hpbw_h_deg * np.exp(eh), band.hpbw_v_deg * np.exp(ev))  # fmt: skip
        data_r = (a + att - base) / sigma
        prior_r = [wrap_deg(daz) / cfg.prior_azimuth_std_deg, dtilt / cfg.prior_tilt_std_deg,
                   eh / cfg.prior_log_hpbw_std, ev / cfg.prior_log_hpbw_std]  # fmt: skip
        return np.r_[data_r, prior_r]

    # azimuth x tilt: every start on a grid, the best few refined (the cost has a local minimum per lobe position)
    starts = [(sa, st) for sa in np.arange(-180.0, 180.0, cfg.azimuth_start_step_deg)
              for st in np.arange(cfg.tilt_offset_bounds_deg[0], cfg.tilt_offset_bounds_deg[1] + 1e-9, 5.0)]
    cost = [rmse_for(sa, st, band.hpbw_h_deg, band.hpbw_v_deg)[0] for sa, st in starts]
    scale = np.array([1.0, 5.0, 1.0, 0.1, 0.1])

    def solve(p0, fixed=()):
        """Least squares over the parameters not in ``fixed`` (indices held at p0's values)."""
        free = np.array([i not in fixed for i in range(5)])

        def r_free(q):
            p = np.array(p0, dtype=np.float64)
            p[free] = q
            return resid(p)

        q0 = np.clip(np.asarray(p0, dtype=np.float64)[free], lo[free] + 1e-9, hi[free] - 1e-9)
        r = least_squares(r_free, q0, bounds=(lo[free], hi[free]), x_scale=scale[free])
        p = np.array(p0, dtype=np.float64)
        p[free] = r.x
        return r, p

    best = best_p = None
    for k in np.argsort(cost)[:4]:
        sa, st = starts[k]
        r, p = solve([rmse_for(sa, st, band.hpbw_h_deg, band.hpbw_v_deg)[1], sa, st, 0.0, 0.0])
        if best is None or r.cost < best.cost:
            best, best_p = r, p
    a, daz, dtilt, eh, ev = best_p
    h, v = band.hpbw_h_deg * np.exp(eh), band.hpbw_v_deg * np.exp(ev)
    after, _ = rmse_for(daz, dtilt, h, v)
    # nested models: the RMSE drop from freeing the azimuth offset (everything else refitted), and from freeing the
    # tilt offset (the vertical beamwidth held at the band's: a wider beam would otherwise hide a wrong tilt)
    _, p_az0 = solve([a, 0.0, dtilt, eh, ev], fixed=(1,))
    _, p_t0 = solve([a, daz, 0.0, eh, 0.0], fixed=(2, 4))
    az_gain = rmse_for(0.0, p_az0[2], band.hpbw_h_deg * np.exp(p_az0[3]), band.hpbw_v_deg * np.exp(p_az0[4]))[0] - after
    tilt_gain = rmse_for(p_t0[1], 0.0, band.hpbw_h_deg * np.exp(p_t0[3]), band.hpbw_v_deg * np.exp(p_t0[4]))[0] - after
    se = _robust_se(best, n, d.block)
    bound = [name for i, name in ((2, "tilt offset"), (3, "horizontal beamwidth"), (4, "vertical beamwidth"))
             if min(best_p[i] - lo[i], hi[i] - best_p[i]) < 1e-3 * max(1.0, abs(best_p[i]))]  # fmt: skip
    return CellFit(n_bins=n, intercept_db=float(a), azimuth_offset_deg=float(wrap_deg(daz)), azimuth_se_deg=float(se[1]),
                   tilt_offset_deg=float(dtilt), tilt_se_deg=float(se[2]), hpbw_h_deg=float(h), hpbw_v_deg=float(v),
                   rmse_before_db=before, rmse_after_db=after, azimuth_gain_db=float(az_gain),
                   tilt_gain_db=float(tilt_gain), at_bound=", ".join(bound))  # fmt: skip


def _robust_se(res, n_data: int, block) -> np.ndarray:
    """Standard errors of a least-squares fit: the larger of the nominal and the cluster-robust (sandwich) ones.

    Residuals of nearby bins share the shadowing, so the nominal errors are too small; the cluster-robust
    covariance (A. C. Cameron and D. L. Miller, J. Human Resources 50(2), 2015, eq. (11)) with the spatial
    ``block`` of each bin as the cluster (the prior rows each their own) allows for it.
    """
    j, f = res.jac, res.fun
    try:
        bread = np.linalg.inv(j.T @ j)
    except np.linalg.LinAlgError:
        return np.full(j.shape[1], np.inf)
    s2 = float(np.sum(f[:n_data] ** 2) / max(n_data - j.shape[1], 1))
    nominal = np.sqrt(np.clip(np.diag(bread) * s2, 0.0, None))
    if block is None:
        return nominal
    groups = np.r_[np.unique(np.asarray(block), return_inverse=True)[1], np.arange(f.size - n_data) + n_data + 10**9]
    score = j * f[:, None]
    _, inv = np.unique(groups, return_inverse=True)
    g = np.zeros((inv.max() + 1, j.shape[1]))
    np.add.at(g, inv, score)
    n_g = g.shape[0]
    meat = g.T @ g * (n_g / max(n_g - 1, 1))
    robust = np.sqrt(np.clip(np.diag(bread @ meat @ bread), 0.0, None))
    return np.maximum(nominal, robust)


def _pattern_weight(data: AntennaData, prior: CellPrior, fit: AntennaFit, cells: np.ndarray, band: BandFit) -> float:
    """Least-squares weight of the default 65/10 deg pattern's attenuation (per-cell intercepts, band slope)."""
    ys, xs = [], []
    for c in cells:
        f = fit.cells[int(c)]
        sel = data.cell == c
        d = data.subset(sel)
        att = sector_attenuation_db(d.bearing_deg - prior.azimuth_deg[c] - f.azimuth_offset_deg,
                                    d.depression_deg - prior.tilt_deg[c] - f.tilt_offset_deg,
                                    DEFAULT_HPBW_H_DEG, DEFAULT_HPBW_V_DEG)  # fmt: skip
        y = d.loss_db - band.slope_db * np.log10(d.dist_km)
        ys.append(y - y.mean())
        xs.append(att - att.mean())
    x, y = np.concatenate(xs), np.concatenate(ys)
    den = float(x @ x)
    return float(x @ y / den) if den > 0 else float("nan")


def fit_antennas(data: AntennaData, prior: CellPrior, cfg: AntennaFitConfig = AntennaFitConfig()) -> AntennaFit:
    """Fit every band and every judged cell with at least ``cfg.min_bins`` bins (see the module docstring).

    Raises
    ------
    InputError
        When no band has a cell with enough bins.
    """
    fit = AntennaFit()
    counts = np.bincount(np.asarray(data.cell, dtype=np.int64), minlength=prior.band.size)
    for c in range(prior.band.size):
        if not prior.judged[c]:
            fit.cells[c] = CellFit(int(counts[c]), refused=str(prior.why[c]))
        elif counts[c] < cfg.min_bins:
            fit.cells[c] = CellFit(int(counts[c]), refused=f"{counts[c]} bins < {cfg.min_bins}")
    for band in sorted(set(prior.band.tolist())):
        cells = np.array([c for c in range(prior.band.size) if prior.band[c] == band and c not in fit.cells], dtype=np.int64)
        if cells.size == 0:
            continue
        bf = _fit_band(data, prior, cells, {}, cfg, None)
        for _round in range(2):
            for c in cells:
                d = data.subset(data.cell == c)
                fit.cells[int(c)] = _fit_cell(d, float(prior.azimuth_deg[c]), float(prior.tilt_deg[c]), bf, cfg)
            offsets = {int(c): (fit.cells[int(c)].azimuth_offset_deg, fit.cells[int(c)].tilt_offset_deg) for c in cells}
            if _round == 0:
                bf = _fit_band(data, prior, cells, offsets, cfg, bf)
        fit.bands[band] = bf
        bf.pattern_weight = _pattern_weight(data, prior, fit, cells, bf)
        if bf.at_bound:
            log.warning("antenna fit %s: at the physical bound (%s): the data push against the model; the band's "
                        "cells are judged against it with care", band, bf.at_bound)  # fmt: skip
        log.info("antenna fit %s: slope %.1f dB/decade, beamwidths %.0f/%.1f deg, default-pattern weight %.2f (%d cells)",
                 band, bf.slope_db, bf.hpbw_h_deg, bf.hpbw_v_deg, bf.pattern_weight, bf.n_cells)  # fmt: skip
    if not fit.bands:
        raise InputError(f"no cell has {cfg.min_bins} bins with a judgeable antenna; nothing to fit")
    return fit


__all__ = ["AntennaData", "AntennaFit", "AntennaFitConfig", "BandFit", "CellFit", "CellPrior", "fit_antennas",
           "sector_attenuation_db", "wrap_deg"]  # fmt: skip
