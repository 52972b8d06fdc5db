r"""The antenna pattern-attenuation weight: fitted with the SPM, stored in the tuned model, applied to the engine's cells.

Cell tables seldom carry the real antenna pattern; planning tools then assume
a default sector (3GPP parametric, 65/10 deg) whose attenuation towards a
receiver may be too strong or too weak where buildings scatter the signal.
The weight ``w`` says how much of the assumed pattern's attenuation applies:

.. math:: L_{meas} = \mathrm{SPM}(K_1..K_7) + L_{clutter} + w\,A(\phi, \theta)

with :math:`A \ge 0` the assumed pattern's attenuation towards the sample
(:func:`netqa.compare.points.calibration_geometry`: peak EIRP minus EIRP
towards the sample).  For a fixed ``w`` the SPM stays linear, so ``w`` is
profiled: :func:`fit_with_pattern_weight` minimises the binned in-sample RMSE
of :func:`netqa.calibrate.fit.fit_spm` over ``w`` in ``[0.05, 1.5]``
(bounded Brent), refits fully (cross-validated) at the optimum, and keeps
the weight only when the held-out error drops by ``min_gain_db`` against
``w = 1`` (the assumed pattern as is).

In the engine the weight needs no new physics: for the 3GPP parametric sector
:math:`w\min(\min(12(\phi/h)^2, A_m) + \min(12(\theta/v)^2, SLA), A_m)` equals
the same pattern with :math:`h/\sqrt{w}`, :math:`v/\sqrt{w}`,
:math:`w\,SLA` and :math:`w\,A_m` (:func:`netqa.predict.pattern_weight.apply_pattern_weights`); measured
(MSI) patterns and omni cells are left as they are.

References: 3GPP TR 36.814 V9.2.0 Table A.2.1.1-2 (the pattern); issue 12's
held-out experiment (a fitted pattern term lowered the RMSE by 3 dB); Forsk,
Atoll Technical Reference Guide, "Standard Propagation Model" (calibration).
"""

from __future__ import annotations

import logging
import math

import numpy as np

from netqa.calibrate.fit import (
    K_NAMES,
    Calibration,
    CalibrationConfig,
    CalibrationData,
    fit_spm,
)
from netqa.predict.pattern_weight import apply_pattern_weights, cell_pattern_weights

log = logging.getLogger(__name__)

#: Bounds of the fitted weight [-]: 0 would remove the pattern (an infinite beamwidth in the engine).
WEIGHT_BOUNDS = (0.05, 1.5)


def _with_weight(data: CalibrationData, attenuation_db: np.ndarray, weight: float) -> CalibrationData:
    """Measured loss with ``weight`` x the assumed attenuation instead of all of it. [dB]"""
    return data._replace(loss_db=np.asarray(data.loss_db, np.float64) + (1.0 - weight) * attenuation_db)


def fit_with_pattern_weight(data: CalibrationData, attenuation_db, config: CalibrationConfig | None = None, *,
                            min_gain_db: float = 0.05) -> Calibration:  # fmt: skip
    """Fit the SPM with a pattern-attenuation weight (see the module docstring).

    Parameters
    ----------
    data : CalibrationData
        As for :func:`~netqa.calibrate.fit.fit_spm`; ``loss_db`` includes the
        assumed pattern's full attenuation.
    attenuation_db : array_like
        The assumed pattern's attenuation towards each sample, >= 0. [dB]
    config : CalibrationConfig, optional
        Settings of the SPM fit (default ``CalibrationConfig()``).
    min_gain_db : float
        Held-out RMSE drop needed to keep the weight. [dB]

    Returns
    -------
    Calibration
        The fit at the adopted weight, with ``pattern_weight`` (1.0 when not
        adopted) and ``settings["pattern_weight"]`` (fitted value, held-out
        RMSE with and without it, adopted or the reason not).
    """
    from scipy.optimize import minimize_scalar

    config = config or CalibrationConfig()
    att = np.asarray(attenuation_db, dtype=np.float64)
    if att.shape != np.asarray(data.loss_db).shape or not np.all(np.isfinite(att)) or np.any(att < -1e-9):
        raise ValueError("attenuation_db must be finite, >= 0 and one value per sample")
    base = fit_spm(data, config)
    base.pattern_weight = 1.0
    fixed = {n: r for n, r in base.refused.items() if n in K_NAMES or n in ("clutter", "path_near", "path_whole")}
    light = CalibrationConfig(**{**config.__dict__, "per_cell": False, "select_by_holdout": False})

    def rmse(w: float) -> float:
        cal = fit_spm(_with_weight(data, att, w), light, holdout=False, fixed=fixed)
        return float(cal.fit["bins"]["rmse_db"])

    res = minimize_scalar(rmse, bounds=WEIGHT_BOUNDS, method="bounded", options={"xatol": 0.02})
    w = float(res.x)
    tuned = fit_spm(_with_weight(data, att, w), config, fixed=fixed)
    tuned.pattern_weight = w
    if "prior" in base.holdout:  # the prior model keeps the full assumed pattern: its errors are base's
        tuned.holdout["prior"] = base.holdout["prior"]
    before = float(base.holdout.get("tuned", {}).get("rmse_db", math.nan))
    after = float(tuned.holdout.get("tuned", {}).get("rmse_db", math.nan))
    info = {"fitted": round(w, 3), "holdout_rmse_db_weighted": round(after, 3), "holdout_rmse_db_unweighted": round(before, 3),
            "bins_rmse_db_weighted": round(float(res.fun), 3)}  # fmt: skip
    if math.isfinite(after) and math.isfinite(before) and after <= before - min_gain_db:
        tuned.settings["pattern_weight"] = {**info, "adopted": True}
        log.info("calibrate: pattern weight %.2f adopted (held-out RMSE %.2f -> %.2f dB)", w, before, after)
        return tuned
    why = (f"held-out RMSE {before:.2f} -> {after:.2f} dB, less than {min_gain_db:g} dB better"
           if math.isfinite(after) and math.isfinite(before) else "no held-out error to judge it")
    base.settings["pattern_weight"] = {**info, "adopted": False, "reason": why}
    log.info("calibrate: pattern weight %.2f not adopted: %s", w, why)
    return base


__all__ = ["WEIGHT_BOUNDS", "apply_pattern_weights", "cell_pattern_weights", "fit_with_pattern_weight"]
