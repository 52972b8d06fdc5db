"""Which optional terms the SPM fit keeps: each must lower the held-out error (:func:`select_coefficients`).

Nominal standard errors are optimistic with spatially correlated shadowing;
an honest hold-out (folds grouped by site, session or cell,
:mod:`netqa.calibrate.crossval`) is not.  Starting from K1 and K2, each
optional term the data can determine is tried in turn and kept only when
the held-out RMSE drops by ``CalibrationConfig.min_holdout_gain_db[name]``.

Reference: Forsk, Atoll Technical Reference Guide, "Standard Propagation
Model" (automatic calibration); T. Hastie, R. Tibshirani, J. Friedman, The
Elements of Statistical Learning, 2nd ed., Springer 2009, s. 7.10
(cross-validation for model selection).
"""

from __future__ import annotations

import math

import numpy as np

from netqa.calibrate.crossval import cv_labels
from netqa.calibrate.data import PATH_CLUTTER, CalibrationConfig, CalibrationData
from netqa.calibrate.fit import _bin, _identifiability, cross_validate
from netqa.calibrate.pathterms import free_path_columns, path_anchor


def _holdout_rmse(data: CalibrationData, config: CalibrationConfig, fixed: dict) -> float:
    res = cross_validate(data, config, fixed=fixed)
    return math.inf if "tuned" not in res else float(res["tuned"]["rmse_db"])


def _round(v: float) -> float | None:
    return None if not math.isfinite(v) else round(float(v), 3)


def select_coefficients(data: CalibrationData, config: CalibrationConfig) -> tuple[dict, dict]:
    """Choose the optional terms by their effect on the held-out error.

    Starting from K1 and K2, each optional term the data can determine (in the
    order: the receiver-clutter offsets as one group -- or, with
    ``config.path_clutter`` "near"/"both", their **alternative** the near-path
    losses, whichever lowers the held-out error more (the two are collinear,
    :mod:`netqa.calibrate.pathterms`) --, K3, K5, K4, K6, K7, then the
    whole-path losses as one group) is kept only if it lowers the held-out
    RMSE (folds by ``config.cv_group``) by at least
    ``config.min_holdout_gain_db[name]`` (0.1 dB for the interaction term K5,
    which trades against K2; 0.05 dB else).  With fewer than two groups
    (sites, sessions or cells) no optional term is fitted.

    Returns
    -------
    (dict, dict)
        Term -> reason for those kept at the prior (or not fitted), and the
        hold-out RMSE of each trial [dB].
    """
    path_groups = PATH_CLUTTER[config.path_clutter]
    optional = ("clutter", "k3", "k5", "k4", "k6", "k7") + path_groups
    n_groups = len(set(cv_labels(data, config.cv_group).tolist()))
    if n_groups < 2:
        return {n: f"not validated: a hold-out needs at least 2 {config.cv_group}s" for n in optional}, {}
    classes = sorted(set(np.asarray(data.clutter, dtype=object).astype(str).tolist()))
    _, x, design, _, _, names = _bin(data, config, classes)
    undetermined = _identifiability(x, config)
    if not config.clutter_offsets or len(classes) < 2:
        undetermined["clutter"] = "not requested" if not config.clutter_offsets else "a single clutter class"
    if path_groups:
        free, _ = free_path_columns(design, names, len(classes), path_anchor(data)[0], config, {})
        for g in path_groups:
            if not any(names[j][0] == g for j in free):
                undetermined[g] = (f"no clutter class other than the anchor has {config.min_bins_per_clutter} bins "
                                   "with a non-zero share")  # fmt: skip
    fixed = {n: undetermined.get(n, "does not lower the held-out error") for n in optional}
    best = _holdout_rmse(data, config, fixed)
    trials = {"k1+k2": _round(best)}
    for name in optional:
        if name == "path_near":
            continue  # tried as the alternative of the receiver-clutter offsets
        candidates = [name] + (["path_near"] if name == "clutter" and "path_near" in path_groups else [])
        tried = {}
        for c in candidates:
            if c in undetermined:
                continue
            trial_fixed = {n: r for n, r in fixed.items() if n != c}
            tried[c] = (_holdout_rmse(data, config, trial_fixed), trial_fixed)
            trials["+" + c] = _round(tried[c][0])
        if not tried:
            continue
        pick = min(tried, key=lambda c: tried[c][0])
        rmse, trial_fixed = tried[pick]
        gain = config.min_holdout_gain_db[pick]
        if rmse <= best - gain:
            prev = best
            fixed, best = trial_fixed, rmse
            for other, (r_other, _) in tried.items():
                if other != pick:
                    fixed[other] = (f"{pick} adopted instead (held-out RMSE {_round(prev)} -> {_round(rmse)} dB, "
                                    f"with {other} {_round(r_other)} dB); the receiver class and the near-path "
                                    "share are collinear, only one is fitted")  # fmt: skip
        else:
            for c, (r, _) in tried.items():
                fixed[c] = (f"does not lower the held-out RMSE by {config.min_holdout_gain_db[c]:g} dB "
                            f"({_round(best)} -> {_round(r)} dB)")  # fmt: skip
    return fixed, trials


__all__ = ["select_coefficients"]
