r"""Least-squares fit of the Standard Propagation Model to binned measurements.

Model (the SPM of :func:`propagation.spm_loss_db`, with per-clutter offsets):

.. math:: L = K_1(f) + K_2\log d + K_3\log h_{eff} + K_4 L_{diff} + K_5\log d\log h_{eff}
          + K_6 h_{rx} + K_7\log h_{rx} + L_{clutter}(c) + \Delta_c

d in km, heights in m; :math:`K_1(f) = k_1 + F(f)` with the frequency rule F of
the prior coefficients (:func:`propagation.spm_k1_at`), so K1 is fitted at the
prior's reference frequency; :math:`L_{clutter}` is the clutter table's loss and
:math:`\Delta_c` the fitted offset of class c (the most populated class is the
anchor, offset 0: a common offset of all classes cannot be told from K1).
On request (``CalibrationConfig.path_clutter``) the model also takes
per-class losses weighted by each class's share of the last ``near_m`` and
of the whole path (:mod:`netqa.calibrate.pathterms`), adopted by the same
hold-out rule, within 0..40 dB, never beside the receiver offsets.

Measured path loss per sample: ``loss_db = EIRP towards the sample - RSRP``,
i.e. RS power + antenna peak gain - feeder loss + pattern gain - measured RSRP.

Procedure:

1. samples are grouped per serving cell into ``bin_m`` squares and averaged
   (power in the dB domain by default: the SPM is a median model and the
   median of log-normal shadowing is the mean of its dB values; the linear
   domain is available); every regressor is averaged the same way, so the
   model stays exactly linear in the bin means;
2. each bin is one observation with equal weight (a car stopped at a light
   does not outweigh a kilometre of road);
3. a coefficient (or the group of clutter offsets) is fitted only when the data determine it, else it keeps the
   prior value and the reason is recorded (:attr:`Calibration.refused`):
   fewer bins than ``min_bins``; distance span below ``min_distance_decades``
   (K2, K5); effective-height spread below ``min_log_height_std`` (K3, K5);
   no diffraction (K4); one receiver height (K6, K7); an optional coefficient
   (K3..K7) that does not lower the held-out-session error
   (:func:`select_coefficients`); and, after the fit, a nominal standard error
   above ``max_std_error`` (the coefficient is then fixed and the fit repeated);
   a fitted value outside the coefficient's **physical range**
   (:mod:`netqa.calibrate.bounds`: e.g. an effective distance slope outside
   20..70 dB/decade, a diffraction weight below 0) is refused: held at the
   bound, the others refitted, the reason recorded and a warning logged;
4. per cell, K1 and K2 are estimated on the cell's bins with the band's
   values of everything else, **shrunk toward the band** by empirical Bayes
   (:mod:`netqa.calibrate.shrink`), when the cell has ``min_bins_per_cell``
   bins (a slope only with a wide enough distance span);
5. the quoted error is **held out** (:mod:`netqa.calibrate.crossval`): the
   samples are grouped by ``cv_group`` (site: all co-sited cells together;
   session; cell), each group lies in one of at most ``max_folds`` folds,
   each fold is left out in turn, the model is fitted on the others and
   evaluated on the left-out samples one by one.

Reference: Forsk, Atoll Technical Reference Guide, "Standard Propagation
Model" (K1..K7, clutter, automatic calibration by least squares).
"""

from __future__ import annotations

import logging
import math

import numpy as np

from netqa.calibrate.bins import _known_db, _regressors, lookup
from netqa.calibrate.bounds import SPM_BOUNDS, bounds_table, check_bounds
from netqa.calibrate.cvbins import Binned, CvBins, one_blas_thread
from netqa.calibrate.data import (
    _DROP_ORDER,
    K_NAMES,
    PATH_CLUTTER,
    Calibration,
    CalibrationConfig,
    CalibrationData,
)
from netqa.calibrate.pathterms import (
    check_path_bounds,
    exclusive_receiver,
    free_path_columns,
    label,
    path_loss_db,
    reanchor,
)
from netqa.calibrate.shrink import shrink_cells
from netqa.compare.stats import ErrorStats, error_stats
from netqa.errors import InputError
from propagation import SpmCoefficients

log = logging.getLogger(__name__)

# ----------------------------------------------------------------------------------
# fit
# ----------------------------------------------------------------------------------
def _solve(y, x, onehot, free_k, free_cl, prior_k, held_cl):
    """Least squares for the free coefficients; returns (k values (7,), class values (m,), std errors, residuals).

    ``held_cl`` (m,): the values of the class columns not in ``free_cl`` (0, or a physical bound). [dB]"""
    k = np.array(prior_k, dtype=np.float64)
    fixed = [j for j in range(7) if K_NAMES[j] not in free_k]
    fixed_cl = [j for j in range(onehot.shape[1]) if j not in free_cl]
    target = y - x[:, fixed] @ k[fixed] - onehot[:, fixed_cl] @ np.asarray(held_cl, np.float64)[fixed_cl]
    cols = [x[:, K_NAMES.index(name)] for name in free_k] + [onehot[:, j] for j in free_cl]
    a = np.column_stack(cols) if cols else np.zeros((y.size, 0))
    coef, *_ = np.linalg.lstsq(a, target, rcond=None)
    resid = target - a @ coef
    dof = max(y.size - a.shape[1], 1)
    sigma2 = float(resid @ resid) / dof
    try:
        cov = np.linalg.inv(a.T @ a) * sigma2
        se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    except np.linalg.LinAlgError:
        se = np.full(a.shape[1], np.inf)
    for name, val in zip(free_k, coef[: len(free_k)]):
        k[K_NAMES.index(name)] = val
    offsets = np.array(held_cl, dtype=np.float64)
    offsets[list(free_cl)] = coef[len(free_k):]
    names = list(free_k) + [("clutter", j) for j in free_cl]
    return k, offsets, dict(zip(names, se)), resid


def _fit_global(binned: Binned, config: CalibrationConfig, fixed: dict | None = None):
    data, classes = binned.data, binned.classes
    y, x, onehot, cell_of_bin, counts, names = binned.binned
    if y.size < config.min_bins:
        raise InputError(
            f"calibration needs at least {config.min_bins} bins of {config.bin_m:g} m, the data give {y.size} "
            f"({data.n} samples); add drive data or lower min_bins"
        )
    refused = binned.undetermined()
    for name, why in (fixed or {}).items():
        if name in K_NAMES:
            refused.setdefault(name, why)
    free_k = [name for name in K_NAMES if name not in refused]
    n_cl = onehot[:, : len(classes)].sum(axis=0)  # bins (fractional) per class
    anchor = int(np.argmax(n_cl)) if classes else None
    free_cl = []
    refused_cl = {}
    if config.clutter_offsets and "clutter" not in (fixed or {}):
        for j, name in enumerate(classes):
            if j == anchor:
                continue
            if n_cl[j] >= config.min_bins_per_clutter:
                free_cl.append(j)
            elif n_cl[j] > 0:
                refused_cl[f"clutter:{name}"] = f"{n_cl[j]:.0f} bins < {config.min_bins_per_clutter}"
    p_anchor, ties = binned.anchor() if len(names) > len(classes) else (None, [])
    free_p, refused_p = free_path_columns(onehot, names, len(classes), p_anchor, config, fixed)
    if len(ties) > 1 and free_p:  # equal table losses: the class the data find most open is the anchor
        p_anchor = reanchor(_solve(y, x, onehot, free_k, free_p, np.array(config.prior[:7], np.float64),
                                   np.zeros(len(names)))[1], names, p_anchor, ties)  # fmt: skip
        free_p, refused_p = free_path_columns(onehot, names, len(classes), p_anchor, config, fixed)
    free_cl, refused_rx = exclusive_receiver(free_cl, free_p, names)  # one of receiver offset / near loss per class
    free_cl += free_p
    refused_cl.update({**refused_p, **refused_rx})
    held_cl = np.zeros(len(names))
    k0 = np.array(config.prior[:7], dtype=np.float64)
    log_h_med = float(np.median(x[:, 2]))
    bounded = {}
    while True:
        k, offsets, se, resid = _solve(y, x, onehot, free_k, free_cl, k0, held_cl)
        bad = [(n, s) for n, s in se.items() if not isinstance(n, tuple) and n != "k1" and s > config.max_std_error[n]]
        bad_cl = [(n, s) for n, s in se.items() if isinstance(n, tuple) and s > _max_se(config, names[n[1]])]
        if not bad and not bad_cl:
            # physical bounds: hold the worst violation at its bound, refit the others (active set)
            hit = check_bounds(k, free_k, log_h_med, SPM_BOUNDS if config.bounds is None else config.bounds)
            hit_p = check_path_bounds(offsets, free_cl, names) if hit is None else None
            if hit is None and hit_p is None:
                break
            if hit is None:
                j, hold, asked, why = hit_p
                held_cl[j] = hold
                free_cl.remove(j)
                refused_cl[label(names[j])] = why
                bounded[label(names[j])] = {"fitted": float(asked), "held": float(hold)}
                continue
            name, hold, asked, why = hit
            k0[K_NAMES.index(name)] = hold
            free_k.remove(name)
            refused[name] = why
            bounded[name] = {"fitted": float(asked), "held": float(hold)}
            continue
        # drop one coefficient at a time, the least essential first, and refit
        if bad:
            name, s = min(bad, key=lambda item: _DROP_ORDER.index(item[0]))
            refused[name] = f"not determined by the data (standard error {s:.2f} > {config.max_std_error[name]:g})"
            free_k.remove(name)
        else:
            (_, j), s = max(bad_cl, key=lambda item: item[1])
            refused_cl[label(names[j])] = f"standard error {s:.2f} dB > {_max_se(config, names[j]):g}"
            free_cl.remove(j)
    return (k, offsets, se, free_k, refused, free_cl, refused_cl, anchor, (y, x, onehot, cell_of_bin, counts, resid),
            bounded, (names, p_anchor))


def _max_se(config: CalibrationConfig, name: tuple) -> float:
    """Largest nominal standard error of a class column kept in the fit. [dB]"""
    return config.max_std_error["clutter" if name[0] == "clutter" else "path"]


def predict_loss_db(cal: Calibration, data: CalibrationData, *, per_cell: bool = True) -> np.ndarray:
    """Path loss of the tuned model at each sample (clutter table loss + offsets included). [dB]"""
    k = np.array(cal.k[:7])
    reg = _regressors(data)
    loss = reg @ k + _known_db(data, cal.k)
    cl = np.asarray(data.clutter, dtype=object).astype(str)
    if cal.clutter_offset_db:
        loss = loss + lookup(cl, cal.clutter_offset_db)
    if cal.path_near_db or cal.path_whole_db:
        loss = loss + path_loss_db(cal, data)
    if per_cell and cal.per_cell:
        cells = np.asarray(data.cell, dtype=object).astype(str)
        d_k1 = {c: e["k1"] - k[0] for c, e in cal.per_cell.items() if "k1" in e}
        d_k2 = {c: e["k2"] - k[1] for c, e in cal.per_cell.items() if "k2" in e}
        loss = loss + lookup(cells, d_k1) + lookup(cells, d_k2) * reg[:, 1]
    return loss


def prior_loss_db(prior: SpmCoefficients, data: CalibrationData) -> np.ndarray:
    """Path loss of the untuned prior SPM at each sample (table clutter loss included). [dB]"""
    return _regressors(data) @ np.array(prior[:7]) + _known_db(data, prior)


def _stats_dict(s: ErrorStats) -> dict:
    return s.to_dict()


@one_blas_thread()
def fit_spm(data: CalibrationData, config: CalibrationConfig = CalibrationConfig(), *, holdout: bool = True,
            fixed: dict | None = None) -> Calibration:
    """Fit the SPM (K1..K7, clutter offsets, per-cell K1/K2) to measured path loss.

    Parameters
    ----------
    data : CalibrationData
        Per-sample measured path loss and geometry (filtered already).
    config : CalibrationConfig
    holdout : bool
        Also run the cross-validation by session.
    fixed : dict, optional
        Coefficient name -> reason, for coefficients to keep at the prior.
        When None and ``config.select_by_holdout``, the optional coefficients
        (K3..K7) are chosen by :func:`select_coefficients`.

    Returns
    -------
    Calibration

    Raises
    ------
    netqa.errors.InputError
        Too few bins for any fit.
    """
    if data.n == 0:
        raise InputError("calibration got no samples (all filtered out or none matched a cell)")
    cv = CvBins(data, config)  # the bins of all samples and of the folds, made once for every fit below
    selection = None
    if fixed is None and config.select_by_holdout:
        fixed, selection = _select(cv)
    cal, (y, x, onehot, *_rest), k, offsets = _fit_binned(cv.all, config, fixed, config.per_cell)
    cal.fit = {
        "n_samples": data.n,
        "n_bins": int(y.size),
        "bins": _stats_dict(error_stats(y, x @ k + onehot @ offsets)),
        "samples": _stats_dict(error_stats(np.asarray(data.loss_db), predict_loss_db(cal, data))),
        "distance_km": [float(np.min(data.dist_km)), float(np.max(data.dist_km))],
    }
    cal.settings = {"bin_m": config.bin_m, "average": config.average, "min_bins": config.min_bins,
                    "min_bins_per_cell": config.min_bins_per_cell, "min_distance_decades": config.min_distance_decades,
                    "cv_group": config.cv_group, "path_clutter": config.path_clutter, "near_m": config.near_m,
                    "bounds": bounds_table(SPM_BOUNDS if config.bounds is None else config.bounds)}  # fmt: skip
    if cal.shrinkage is not None:
        cal.settings["per_cell_shrinkage"] = cal.shrinkage
    del cal.shrinkage
    if holdout:
        for name in cal.bounded:
            log.warning("calibrate: %s refused: %s", name, cal.refused[name])
    if selection is not None:
        cal.fit["selection_holdout_rmse_db"] = selection
    if holdout:
        cal.holdout = _cross_validate(cv, fixed)
    return cal


def _fit_binned(binned: Binned, config: CalibrationConfig, fixed: dict | None, per_cell: bool):
    """The fit on given bins: (Calibration without ``fit``/``settings``, the bins, K1..K7, class values).

    ``per_cell``: also shrink per-cell K1/K2 (the statistics go to ``cal.shrinkage``)."""
    (k, offsets, se, free_k, refused, free_cl, refused_cl, anchor, bins, bounded,
     (names, p_anchor)) = _fit_global(binned, config, fixed)
    classes = binned.classes
    prior = config.prior
    tuned = SpmCoefficients(*[float(v) for v in k], prior.f_ref_mhz, prior.k_freq_db_per_decade)
    cal = Calibration(
        k=tuned,
        clutter_offset_db={classes[j]: float(offsets[j]) for j in range(len(classes)) if j in free_cl or j == anchor},
        clutter_anchor=classes[anchor] if anchor is not None else None,
        fitted=list(free_k) + [label(names[j]) for j in free_cl],
        refused={**refused, **{g: fixed[g] for g in ("clutter",) + PATH_CLUTTER[config.path_clutter] if g in (fixed or {})},
                 **refused_cl},
        std_error={(n if not isinstance(n, tuple) else label(names[n[1]])): float(s) for n, s in se.items()},
    )
    cal.bounded = bounded
    cal.near_m = config.near_m
    for group, table in (("path_near", cal.path_near_db), ("path_whole", cal.path_whole_db)):
        cols = [j for j, nm in enumerate(names) if nm[0] == group and (j in free_cl or label(nm) in bounded)]
        if cols:
            table.update({p_anchor: 0.0, **{names[j][1]: float(offsets[j]) for j in cols}})
            cal.path_anchor = p_anchor
    y, x, onehot, cell_of_bin = bins[:4]
    cal.shrinkage = None
    if per_cell:
        cal.per_cell, cal.shrinkage = shrink_cells(y, x, onehot, cell_of_bin, k, offsets, min_bins=config.min_bins_per_cell,
                                                   min_distance_decades=config.min_distance_decades,
                                                   bin_ij=binned.grid())  # fmt: skip
    return cal, bins, k, offsets


def _holdout_rmse(cv: CvBins, fixed: dict) -> float:
    res = _cross_validate(cv, fixed)
    return math.inf if "tuned" not in res else float(res["tuned"]["rmse_db"])


def _round(v: float) -> float | None:
    return None if not math.isfinite(v) else round(float(v), 3)


@one_blas_thread()
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
    return _select(CvBins(data, config))


def _select(cv: CvBins) -> tuple[dict, dict]:
    """:func:`select_coefficients` on the bins of ``cv`` (made once for every trial)."""
    config = cv.config
    path_groups = PATH_CLUTTER[config.path_clutter]
    optional = ("clutter", "k3", "k5", "k4", "k6", "k7") + path_groups
    n_groups = len(set(cv.labels.tolist()))
    if n_groups < 2:
        return {n: f"not validated: a hold-out needs at least 2 {config.cv_group}s" for n in optional}, {}
    classes = cv.all.classes
    design, names = cv.all.binned[2], cv.all.binned[5]
    undetermined = cv.all.undetermined()
    if not config.clutter_offsets or len(classes) < 2:
        undetermined["clutter"] = "not requested" if not config.clutter_offsets else "a single clutter class"
    if path_groups:
        free, _ = free_path_columns(design, names, len(classes), cv.all.anchor()[0], config, {})
        for g in path_groups:
            if not any(names[j][0] == g for j in free):
                undetermined[g] = (f"no clutter class other than the anchor has {config.min_bins_per_clutter} bins "
                                   "with a non-zero share")  # fmt: skip
    fixed = {n: undetermined.get(n, "does not lower the held-out error") for n in optional}
    best = _holdout_rmse(cv, fixed)
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
            tried[c] = (_holdout_rmse(cv, trial_fixed), trial_fixed)
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


def session_folds(session, max_folds: int) -> list[np.ndarray]:
    """Boolean test masks, one per fold; each fold holds whole sessions (never split).

    >>> [m.tolist() for m in session_folds(["a", "b", "a", "c"], 2)]
    [[True, False, True, True], [False, True, False, False]]
    """
    labels = np.asarray(session, dtype=object).astype(str)
    uniq, inv = np.unique(labels, return_inverse=True)
    n_folds = min(len(uniq), max_folds)
    fold_of_session = np.arange(len(uniq)) % n_folds
    fold = fold_of_session[inv]
    return [fold == f for f in range(n_folds)]


@one_blas_thread()
def cross_validate(data: CalibrationData, config: CalibrationConfig = CalibrationConfig(), *,
                   fixed: dict | None = None) -> dict:
    """Held-out statistics of the tuned model and of the prior, per sample, folds grouped by ``config.cv_group``.

    Residual = predicted - measured RSRP = measured loss - predicted loss.
    Returns ``{"cv_group", "n_folds", "n_groups", "n_sessions", "tuned": stats, "prior": stats}`` or
    ``{"refused": reason}`` with fewer than two groups (see :mod:`netqa.calibrate.crossval`).
    """
    return _cross_validate(CvBins(data, config), fixed)


def _cross_validate(cv: CvBins, fixed: dict | None) -> dict:
    """:func:`cross_validate` on the fold bins of ``cv``."""
    data, config = cv.data, cv.config
    labels, folds = cv.labels, cv.masks
    n_groups = len(set(labels.tolist()))
    n_sessions = len(set(np.asarray(data.session, dtype=object).astype(str).tolist()))
    if len(folds) < 2:
        return {"refused": f"{n_groups} {config.cv_group}(s): a hold-out needs at least 2 {config.cv_group}s; "
                           "the quoted fit is in-sample only"}  # fmt: skip
    pred = np.full(data.n, np.nan)
    skipped = []
    for f in range(len(folds)):
        fold = cv.fold(f)
        try:  # what fit_spm(train, config, holdout=False, fixed=fixed or {}) predicts for the left-out samples
            cal = _fit_binned(fold.train, config, fixed or {}, config.per_cell and fold.per_cell_used)[0]
        except InputError as exc:
            skipped.append(f"fold {f}: {exc}")
            continue
        pred[fold.mask] = predict_loss_db(cal, fold.test)
    meas = np.asarray(data.loss_db, np.float64)
    ok = np.isfinite(pred)
    if not ok.any():
        return {"refused": "no fold could be fitted: " + "; ".join(skipped)}
    prior = prior_loss_db(config.prior, data)
    out = {
        "cv_group": config.cv_group,
        "n_folds": len(folds),
        "n_groups": n_groups,
        "n_sessions": n_sessions,
        "tuned": _stats_dict(error_stats(meas[ok], pred[ok])),
        "prior": _stats_dict(error_stats(meas[ok], prior[ok])),
    }
    if skipped:
        out["skipped_folds"] = skipped
    return out


__all__ = [
    "Calibration",
    "CalibrationConfig",
    "CalibrationData",
    "K_NAMES",
    "cross_validate",
    "fit_spm",
    "predict_loss_db",
    "prior_loss_db",
    "select_coefficients",
    "session_folds",
]

