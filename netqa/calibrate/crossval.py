"""Cross-validation folds of the calibration, grouped by site, session or cell, and the verdict on the result.

A calibration is only as good as its error on data it has not seen.  Which
data count as "not seen" depends on what the model will be used for: a
network plan predicts **sites** the fit never saw, so the default groups
every sample of a site (all its co-sited cells, every session) into one fold
(``cv_group="site"``).  Grouping by session lets a site driven in two
sessions sit on both sides of a split (its own K1 leaks into the test fold,
the held-out error is optimistic); grouping by cell lets the co-sited cells
of one mast, which share its height, clutter and database errors, do the
same.  ``session`` and ``cell`` remain selectable for comparison.

A held-out result is flagged **poor** (:func:`holdout_warnings`) when the
correlation between predicted and measured is below :data:`POOR_R` (0.3:
the model explains under 10 % of the variance of the bins it predicts,
about what a distance-only fit achieves on urban drive data), when the mean
error exceeds :data:`POOR_BIAS_DB` (3 dB, half the typical 6-8 dB log-normal
shadowing spread: a bias that size shifts a -110 dBm coverage contour by
more than the prediction's own confidence), or when the tuned model is not
better than the prior on the held-out samples.

Reference: S. Arlot and A. Celisse, "A survey of cross-validation procedures
for model selection", Statistics Surveys 4, 2010, s. 8.3 (dependent data:
leave whole blocks out); D. R. Roberts et al., "Cross-validation strategies
for data with temporal, spatial, hierarchical, or phylogenetic structure",
Ecography 40, 2017 (blocked cross-validation).
"""

from __future__ import annotations

import numpy as np

from netqa.errors import InputError

#: Fold grouping keys.
CV_GROUPS = ("site", "session", "cell")
#: Held-out correlation below which the calibration is flagged poor.
POOR_R = 0.3
#: Held-out |mean error| above which the calibration is flagged poor. [dB]
POOR_BIAS_DB = 3.0


def check_cv_group(cv_group: str) -> str:
    """Return ``cv_group`` or raise :class:`InputError` listing the valid keys."""
    if cv_group not in CV_GROUPS:
        raise InputError(f"--cv-group {cv_group!r}: unknown grouping; choose one of {', '.join(CV_GROUPS)}")
    return cv_group


def cv_labels(data, cv_group: str) -> np.ndarray:
    """The fold label of each sample of a :class:`~netqa.calibrate.fit.CalibrationData`.

    ``site`` needs ``data.site``; ``session`` and ``cell`` use those columns.

    >>> from types import SimpleNamespace
    >>> cv_labels(SimpleNamespace(site=None, session=["a"], cell=["c1"]), "cell").tolist()
    ['c1']
    """
    check_cv_group(cv_group)
    labels = getattr(data, cv_group, None)
    if labels is None:
        raise InputError(f"cross-validation by {cv_group} needs the {cv_group} of each sample (CalibrationData.{cv_group} "
                         "is not set); give the cells' site_id or choose --cv-group session")  # fmt: skip
    return np.asarray(labels, dtype=object).astype(str)


def group_folds(labels, max_folds: int) -> list[np.ndarray]:
    """Boolean test masks, one per fold; each group (site, session or cell) lies in one fold only.

    Groups are dealt to folds by size, largest first, each to the fold with
    the fewest samples so far, so that folds hold similar amounts of data.

    >>> [m.tolist() for m in group_folds(["a", "b", "a", "c"], 2)]
    [[True, False, True, False], [False, True, False, True]]
    """
    labels = np.asarray(labels, dtype=object).astype(str)
    uniq, inv, counts = np.unique(labels, return_inverse=True, return_counts=True)
    n_folds = min(len(uniq), int(max_folds))
    fold_of = np.zeros(len(uniq), np.int64)
    load = np.zeros(n_folds)
    for g in sorted(range(len(uniq)), key=lambda i: (-counts[i], uniq[i])):
        f = int(np.argmin(load))
        fold_of[g] = f
        load[f] += counts[g]
    fold = fold_of[inv]
    return [fold == f for f in range(n_folds)]


def holdout_warnings(holdout: dict, label: str = "held-out ") -> list[str]:
    """Why a held-out result is poor (empty when it is not); see the module docstring for the thresholds.

    ``label`` starts each statistic's name (``netqa compare`` passes "" for its own samples).
    """
    t = holdout.get("tuned")
    if not t:
        return [holdout.get("refused", "no held-out statistics")]
    out = []
    r = t.get("correlation")
    if r is None or not np.isfinite(r) or r < POOR_R:
        out.append(f"{label}correlation r = {r if r is None else round(r, 2)} < {POOR_R:g}: the model barely "
                   "follows the measurements")  # fmt: skip
    bias = t.get("mean_error_db")
    if bias is not None and abs(bias) > POOR_BIAS_DB:
        out.append(f"{label}mean error {bias:+.1f} dB exceeds +-{POOR_BIAS_DB:g} dB")
    p = holdout.get("prior")
    if p and t.get("rmse_db") is not None and p.get("rmse_db") is not None and t["rmse_db"] >= p["rmse_db"]:
        out.append(f"the tuned model's {label}RMSE {t['rmse_db']:.1f} dB is not below the prior's "
                   f"{p['rmse_db']:.1f} dB")  # fmt: skip
    return out


def holdout_line(what: str, holdout: dict) -> str:
    """One line: held-out n, RMSE, mean error (bias), std and r of the tuned and prior models."""
    t, p = holdout.get("tuned"), holdout.get("prior")
    if not t:
        return f"{what}: no held-out statistics ({holdout.get('refused', 'not run')})"
    by = holdout.get("cv_group", "session")
    return (f"{what}: held out by {by} ({holdout.get('n_folds')} folds, {holdout.get('n_groups')} {by}s, n {t['n']}): "
            f"RMSE {t['rmse_db']:.2f} dB, bias {t['mean_error_db']:+.2f} dB, std {t['std_error_db']:.2f} dB, "
            f"r {t['correlation']:.2f}; prior RMSE {p['rmse_db']:.2f} dB, bias {p['mean_error_db']:+.2f} dB, "
            f"r {p['correlation']:.2f}")  # fmt: skip


__all__ = ["CV_GROUPS", "POOR_BIAS_DB", "POOR_R", "check_cv_group", "cv_labels", "group_folds", "holdout_line",
           "holdout_warnings"]  # fmt: skip
