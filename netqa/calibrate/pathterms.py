r"""Clutter along the path as calibratable terms of the SPM fit: per-class losses weighted by the class's share.

Planning tools' Standard Propagation Model does not take the clutter loss at
the receiver only: it weights each class's loss by the class's share of the
path over a maximum distance before the receiver (Forsk, Atoll Technical
Reference Guide, "Standard Propagation Model", clutter losses: "maximum
distance" and "weighting function"; uniform weighting here).  The fit
(:mod:`netqa.calibrate.fit`) takes, on request (``CalibrationConfig.path_clutter``),

.. math:: L = \mathrm{SPM}(K_1..K_7) + L_{clutter}(c_{rx}) + \Delta_{c_{rx}}
          + \sum_c N_c\,s^{near}_c + \sum_c W_c\,s^{whole}_c

with :math:`s^{near}_c` the share of class c over the last ``near_m`` metres
(default 300 m) and :math:`s^{whole}_c` over the whole path
(:func:`netqa.compare.pathclutter.clutter_shares`), :math:`N_c` and
:math:`W_c` the fitted losses [dB] of a path entirely in class c.  The
shares of a path sum to 1, so one class per group is the **anchor** (loss 0,
absorbed in K1): the path class with the lowest clutter-table loss at the
receiver (ties: the largest mean share), i.e. the most open class.  The
other losses are relative to it and physically in 0..40 dB
(:data:`PATH_BOUND`: denser clutter never helps; 40 dB is beyond the deepest
building-entry and foliage losses of ITU-R P.2109/P.833); a fitted value
outside is refused and held at the bound, the others refitted, the reason
recorded.  A class is fitted only with ``min_bins_per_clutter`` bins of
non-zero share, and only when its nominal standard error stays below
``max_std_error["path"]``.

**Collinearity.** The receiver's class and the near share are strongly
correlated (the receiver stands in its own pixel of the near stretch).  The
two are never fitted for the same class: the hold-out selection
(:func:`netqa.calibrate.fit.select_coefficients`) tries the receiver-clutter
offsets and the near-path losses as **alternatives** and adopts at most the
better one; in a fit asked for both (no selection), the receiver offsets
are dropped when near losses are fitted (the table loss at the receiver stays).  The whole-path losses are tried on top,
and each group is kept only when it lowers the site-grouped hold-out RMSE by
``min_holdout_gain_db``.

Reference: Forsk, Atoll Technical Reference Guide, "Standard Propagation
Model" (clutter losses, maximum distance, weighting; calibration).
"""

from __future__ import annotations

import numpy as np

from netqa.calibrate.bounds import Bound
from netqa.calibrate.data import PATH_CLUTTER, CalibrationConfig, CalibrationData

#: Physical range of a path-clutter class loss relative to the anchor (the most open class). [dB]
PATH_BOUND = Bound(0.0, 40.0, "dB",
                   "relative to the most open class (the anchor): denser clutter never lowers the loss; 40 dB "
                   "exceeds the deepest building-entry and foliage losses (ITU-R P.2109, P.833)")  # fmt: skip
#: Share columns of each group in :class:`CalibrationData`.
_SHARE = {"path_near": "near_share", "path_whole": "whole_share"}


def label(name: tuple[str, str]) -> str:
    """``("path_near", "urban")`` -> ``"path_near:urban"`` (names in fitted/refused/std_error)."""
    return f"{name[0]}:{name[1]}"


def check_path_data(data: CalibrationData, config: CalibrationConfig) -> None:
    """Raise ValueError when ``config.path_clutter`` asks for shares the data lack."""
    for group in PATH_CLUTTER[config.path_clutter]:
        share = getattr(data, _SHARE[group])
        if share is None or data.path_classes is None:
            raise ValueError(f"path_clutter = {config.path_clutter!r} needs {_SHARE[group]} and path_classes in the "
                             "calibration data (netqa.compare.pathclutter.sample_path_shares)")  # fmt: skip
        if np.shape(share) != (data.n, len(data.path_classes)):
            raise ValueError(f"{_SHARE[group]} must be (n samples, n path classes) = "
                             f"({data.n}, {len(data.path_classes)}), got {np.shape(share)}")  # fmt: skip


def path_columns(data: CalibrationData, config: CalibrationConfig, codes: np.ndarray, counts: np.ndarray):
    """Bin means of the requested share columns: ((n_bins, m) matrix, m names ``(group, class)``)."""
    groups = PATH_CLUTTER[config.path_clutter]
    if not groups:
        return np.zeros((counts.size, 0)), []
    check_path_data(data, config)
    cols, names = [], []
    for group in groups:
        share = np.asarray(getattr(data, _SHARE[group]), np.float64)
        for j, cls in enumerate(data.path_classes):
            cols.append(np.bincount(codes, weights=share[:, j], minlength=counts.size) / counts)
            names.append((group, str(cls)))
    return np.column_stack(cols), names


def path_anchor(data: CalibrationData) -> tuple[str | None, list[str]]:
    """The anchor class: lowest receiver clutter-table loss among the classes on the paths (ties: largest share),
    and the classes tied with it (table losses within 0.1 dB; :func:`reanchor` chooses among them)."""
    if data.path_classes is None:
        return None, []
    share = data.whole_share if data.whole_share is not None else data.near_share
    mean = np.asarray(share, np.float64).mean(axis=0) if data.n else np.zeros(len(data.path_classes))
    rx = np.asarray(data.clutter, dtype=object).astype(str)
    table = np.asarray(data.clutter_db, np.float64)
    keys = []
    for j, cls in enumerate(data.path_classes):
        if mean[j] > 0:
            at = table[rx == str(cls)]
            keys.append((float(np.median(at)) if at.size else np.inf, -mean[j], str(cls)))
    if not keys:
        return None, []
    keys.sort()
    return keys[0][2], [k[2] for k in keys if k[0] <= keys[0][0] + 0.1]


def reanchor(values: np.ndarray, names: list, anchor: str, ties: list[str]) -> str:
    """Among the tied candidates, the class with the lowest fitted loss (near group, else whole) becomes the anchor:
    the table cannot say which is the most open, the data can (an exact reparametrisation: the shares sum to 1)."""
    group = "path_near" if any(n[0] == "path_near" for n in names) else "path_whole"
    fitted = {n[1]: float(values[j]) for j, n in enumerate(names) if n[0] == group}
    fitted[anchor] = 0.0
    return min(ties, key=lambda c: (fitted.get(c, np.inf), c != anchor))


def free_path_columns(design: np.ndarray, names: list, first: int, anchor: str | None, config: CalibrationConfig,
                      fixed: dict | None) -> tuple[list[int], dict]:  # fmt: skip
    """Indices of the path columns (from ``first``) the bins determine, and the reason for each of the others."""
    free, refused = [], {}
    for j in range(first, len(names)):
        group, cls = names[j]
        if group in (fixed or {}) or cls == anchor:
            continue
        n_bins = int(np.count_nonzero(design[:, j] > 0))
        if n_bins >= config.min_bins_per_clutter:
            free.append(j)
        elif n_bins > 0:
            refused[label(names[j])] = f"{n_bins} bins with a non-zero share < {config.min_bins_per_clutter}"
    return free, refused


def exclusive_receiver(free_cl: list[int], free_path: list[int], names: list) -> tuple[list[int], dict]:
    """With near-path losses fitted, no receiver offset is (collinear: the near shares sum to 1 and hold the
    receiver's own pixel); returns the receiver columns kept and the reason for each dropped one."""
    if not any(names[j][0] == "path_near" for j in free_path):
        return free_cl, {}
    why = "the near-path losses are fitted instead (receiver class and near shares are collinear)"
    return [], {label(names[j]): why for j in free_cl}


def check_path_bounds(offsets: np.ndarray, free_cl: list[int], names: list, bound: Bound = PATH_BOUND):
    """The worst path loss outside ``bound`` among the free columns: ``(column, hold, asked, reason)`` or None."""
    worst = None
    for j in free_cl:
        if names[j][0] not in _SHARE:
            continue
        v = float(offsets[j])
        if bound.contains(v):
            continue
        hold = bound.nearest(v)
        why = (f"fitted {v:.3g} dB is outside the physical range {bound.lo:g}..{bound.hi:g} {bound.unit} "
               f"({bound.why}); held at the bound {hold:g}")  # fmt: skip
        if worst is None or bound.excess(v) > worst[0]:
            worst = (bound.excess(v), j, hold, v, why)
    return None if worst is None else worst[1:]


def path_loss_db(cal, data: CalibrationData) -> np.ndarray:
    """The fitted path-clutter loss at each sample, sum over classes of loss x share. [dB]"""
    out = np.zeros(data.n)
    for table, share in ((cal.path_near_db, data.near_share), (cal.path_whole_db, data.whole_share)):
        if not table:
            continue
        if share is None or data.path_classes is None:
            raise ValueError("the calibration has path-clutter losses: the data need near_share/whole_share")
        w = np.array([table.get(str(c), 0.0) for c in data.path_classes])
        out += np.asarray(share, np.float64) @ w
    return out


__all__ = ["PATH_BOUND", "check_path_bounds", "check_path_data", "exclusive_receiver", "free_path_columns", "label",
           "path_anchor", "path_columns", "path_loss_db"]
