r"""Per-cell K1 and K2, shrunk toward the band's values (empirical Bayes).

A free least-squares K1/K2 per cell fits each cell's own drive, shadowing
included: on a real network it gave slopes from -2.7 to 67 dB/decade.  Here
each cell's deviation from the band line is a random effect with a spread
estimated from all cells of the band, and each cell's estimate is pulled
toward the band by how little its own data say.

Per cell c, with r the bin loss left after the band model (its K1 + K2 log d
put back) and :math:`t = \log_{10} d - m_c` centred on the cell's mean
log-distance :math:`m_c`, the own fit is a level and a slope deviation

.. math:: \hat a_c = \bar r_c, \qquad \hat b_c = \frac{\sum t\,r}{\sum t^2},

with sampling variances :math:`v_{a,c} = \sigma^2/n_c` and
:math:`v_{b,c} = \sigma^2/\sum t^2` (:math:`\sigma^2` the pooled within-cell
residual variance of the bins).  The between-cell variances are estimated by
moments over the cells of the band (deviations from the band, whose mean is
zero by construction):

.. math:: \tau_a^2 = \max\big(0,\ \overline{\hat a_c^2} - \overline{v_{a,c}}\big),
          \qquad \tau_b^2 = \max\big(0,\ \overline{\hat b_c^2} - \overline{v_{b,c}}\big)

and the posterior means are :math:`w_a \hat a_c` and :math:`w_b \hat b_c`
with :math:`w = \tau^2/(\tau^2 + v_c)` (0: the band's value, 1: the cell's own
fit).  Centring makes the level and slope estimates uncorrelated, so the two
shrink independently.  The cell's coefficients are then
:math:`K_{2,c} = K_2 + w_b\hat b_c` and
:math:`K_{1,c} = K_1 + w_a\hat a_c - w_b\hat b_c m_c`; the slope is held in
the physical range of :mod:`netqa.calibrate.bounds`.

Shadowing is correlated over tens of metres, so neighbouring bins are not
independent and :math:`\sigma^2/n_c` understates the sampling variance
(which would overstate :math:`\tau^2` and shrink too little).  When the bins'
grid positions are given, the correlation :math:`\rho` of the residuals of
grid-adjacent bins of one cell (8-neighbourhood, each pair once) is
estimated over the band, and each cell's variances are multiplied by its
design effect :math:`1 + (P_c/n_c)\,2\rho/(1-\rho)` (:math:`P_c` adjacent
pairs among its :math:`n_c` bins).  Along a drive route (:math:`P_c \approx n_c`)
this is the large-sample design effect :math:`(1+\rho)/(1-\rho)` of a mean
of AR(1) values, i.e. of shadowing with the exponential autocorrelation of
Gudmundson (Electronics Letters 27(23), 1991) sampled at equal steps (Kish,
Survey Sampling, 1965, on design effects); isolated bins (:math:`P_c = 0`)
get 1.  The correction is partial: the residuals are taken after each cell's
own line, which biases :math:`\rho` and :math:`\sigma^2` low, so on strongly
correlated routes :math:`\tau^2` stays somewhat overestimated (the tests
show a third or more of the spurious spread removed).  Fewer than 3 cells with enough bins cannot
estimate a spread: the band's values apply to every cell.

References: C. Morris, "Parametric empirical Bayes inference: theory and
applications", J. Amer. Statist. Assoc. 78(381), 1983 (the shrinkage
estimator); B. Efron and C. Morris, "Stein's paradox in statistics",
Scientific American 236(5), 1977; M. Gudmundson, "Correlation model for
shadow fading in mobile radio systems", Electronics Letters 27(23), 1991;
L. Kish, Survey Sampling, Wiley 1965 (design effect); R. DerSimonian and N. Laird,
"Meta-analysis in clinical trials", Controlled Clinical Trials 7, 1986 (the
moment estimator of the between-group variance).
"""

from __future__ import annotations

import numpy as np

from netqa.calibrate.bounds import clip_cell_slope

#: Fewest cells with enough bins to estimate the between-cell spread.
MIN_CELLS = 3


def shrink_cells(y, x, onehot, cell_of_bin, k, offsets, *, min_bins: int, min_distance_decades: float,
                 bin_ij=None) -> tuple[dict, dict]:  # fmt: skip
    """Per-cell K1/K2 shrunk toward the band (see the module docstring).

    Parameters
    ----------
    y : numpy.ndarray
        Bin losses less the known terms. [dB]
    x : numpy.ndarray
        (n_bins, 7) bin regressors of K1..K7.
    onehot : numpy.ndarray
        (n_bins, n_classes) clutter shares.
    cell_of_bin : numpy.ndarray
        Serving cell of each bin.
    k : numpy.ndarray
        The band's K1..K7.
    offsets : numpy.ndarray
        The band's clutter offsets. [dB]
    min_bins : int
        Fewest bins for a cell entry.
    min_distance_decades : float
        Least log-distance span (5th-95th percentile) for a cell's own slope.
    bin_ij : numpy.ndarray, optional
        (n_bins, 2) integer grid position of each bin (column, row of the
        ``bin_m`` squares), for the design effect of correlated neighbours;
        None: bins taken as independent.

    Returns
    -------
    (dict, dict)
        cell -> {"k1", "k2", "n_bins", "weight_k1", "weight_k2"[, "k2_note"]} or
        {"refused": reason, "n_bins"}; and the shrinkage statistics
        {"method", "tau_k1_db", "tau_k2_db_per_decade", "sigma_db", "n_cells", "neighbour_correlation",
        "weights": cell -> [w_k1, w_k2]
        (for the model file's ``[calibration]``)[, "slope_held": cell -> note]}.
    """
    k = np.asarray(k, np.float64)
    base = x @ k + onehot @ offsets
    r_all = np.asarray(y, np.float64) - base  # deviation of each bin from the band model
    log_h_med = float(np.median(x[:, 2])) if x.size else 0.0
    cells = sorted(set(cell_of_bin.tolist()), key=str)
    # each cell's bins in ascending bin order (a stable sort: the same values, in the same order, as a mask)
    index = {c: i for i, c in enumerate(cells)}
    code = np.fromiter((index[c] for c in cell_of_bin.tolist()), np.int64, count=len(cell_of_bin))
    order = np.argsort(code, kind="stable")
    ends = np.cumsum(np.bincount(code, minlength=len(cells)))
    own = {}
    out = {}
    rss, dof = 0.0, 0
    res_bin = np.full(r_all.size, np.nan)
    for i, cell in enumerate(cells):
        sel = order[ends[i - 1] if i else 0 : ends[i]]
        nb = int(sel.size)
        if nb < min_bins:
            out[str(cell)] = {"refused": f"{nb} bins < {min_bins}", "n_bins": nb}
            continue
        log_d = x[sel, 1]
        r = r_all[sel]
        m = float(np.mean(log_d))
        t = log_d - m
        p95, p5 = np.percentile(log_d, [95, 5])
        span = float(p95 - p5)
        stt = float(t @ t)
        slope_ok = span >= min_distance_decades and stt > 0
        a = float(np.mean(r))
        b = float(t @ r) / stt if slope_ok else 0.0
        res = r - a - b * t
        res_bin[sel] = res
        rss += float(res @ res)
        dof += nb - (2 if slope_ok else 1)
        own[str(cell)] = (a, b, nb, m, stt, slope_ok, span)
    stats = {"method": "empirical-bayes", "n_cells": len(own)}
    if len(own) < MIN_CELLS:
        for cell, (a, b, nb, *_rest) in own.items():
            out[cell] = {"refused": f"only {len(own)} cell(s) with >= {min_bins} bins (need {MIN_CELLS} to estimate "
                                    "the between-cell spread); the band's K1/K2 apply", "n_bins": nb}  # fmt: skip
        return out, stats
    sigma2 = rss / max(dof, 1)
    rho, pairs = _neighbour_correlation(res_bin, cell_of_bin, bin_ij)
    deff = {c: 1.0 + min(pairs.get(c, 0) / e[2], 1.0) * 2.0 * rho / (1.0 - rho) for c, e in own.items()}
    stats["neighbour_correlation"] = round(rho, 4)
    va = np.array([deff[c] * sigma2 / e[2] for c, e in own.items()])
    a_hat = np.array([e[0] for e in own.values()])
    tau_a2 = max(0.0, float(np.mean(a_hat**2) - np.mean(va)))
    slopes = [(c, e) for c, e in own.items() if e[5]]
    if slopes:
        vb = np.array([deff[c] * sigma2 / e[4] for c, e in slopes])
        b_hat = np.array([e[1] for _, e in slopes])
        tau_b2 = max(0.0, float(np.mean(b_hat**2) - np.mean(vb)))
    else:
        tau_b2 = 0.0
    stats.update(tau_k1_db=float(np.sqrt(tau_a2)), tau_k2_db_per_decade=float(np.sqrt(tau_b2)),
                 sigma_db=float(np.sqrt(sigma2)))  # fmt: skip
    stats["weights"] = {}
    for cell, (a, b, nb, m, stt, slope_ok, span) in own.items():
        w_a = tau_a2 / (tau_a2 + deff[cell] * sigma2 / nb) if tau_a2 > 0 else 0.0
        w_b = tau_b2 / (tau_b2 + deff[cell] * sigma2 / stt) if (slope_ok and tau_b2 > 0) else 0.0
        k2c, note = clip_cell_slope(k[1] + w_b * b, k[4], log_h_med)
        k1c = k[0] + w_a * a - (k2c - k[1]) * m
        entry = {"k1": float(k1c), "k2": float(k2c), "n_bins": nb, "weight_k1": round(w_a, 4),
                 "weight_k2": round(w_b, 4)}  # fmt: skip
        if not slope_ok:
            entry["k2_note"] = f"band K2 kept: distance span {span:.2f} decades < {min_distance_decades:g}"
        elif note:
            entry["k2_note"] = note
            stats.setdefault("slope_held", {})[cell] = note
        out[cell] = entry
        stats["weights"][cell] = [entry["weight_k1"], entry["weight_k2"]]
    return out, stats


def _neighbour_correlation(res, cell_of_bin, bin_ij) -> tuple[float, dict]:
    """Correlation of the residuals of grid-adjacent bins of one cell (clipped to 0..0.95), and pairs per cell.

    Each pair is counted once (right, up, up-right, down-right neighbours of every bin, bins in ascending
    order); the sums run in that order, one term after another, so that they do not depend on how the pairs
    are found."""
    if bin_ij is None:
        return 0.0, {}
    ij = np.asarray(bin_ij, np.int64)
    ok = np.flatnonzero(np.isfinite(res))
    if ok.size == 0:
        return 0.0, {}
    labels = np.asarray(cell_of_bin, dtype=object)[ok].astype(str)
    names, cc = np.unique(labels, return_inverse=True)
    i = ij[ok, 0] - ij[ok, 0].min() + 1  # 1-based: a neighbour one step down or left stays >= 0
    j = ij[ok, 1] - ij[ok, 1].min() + 1
    w, h = int(j.max()) + 2, int(i.max()) + 2
    key = (cc.ravel().astype(np.int64) * h + i) * w + j  # unique per (cell, column, row)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    partner = np.full((ok.size, 4), -1, np.int64)
    for d, (di, dj) in enumerate(((1, 0), (0, 1), (1, 1), (1, -1))):
        target = key + di * w + dj
        pos = np.minimum(np.searchsorted(sorted_key, target), ok.size - 1)
        hit = sorted_key[pos] == target
        partner[hit, d] = ok[order[pos[hit]]]
    first = np.repeat(ok, 4)[partner.ravel() >= 0]  # pairs in the order (bin, direction)
    second = partner.ravel()[partner.ravel() >= 0]
    pairs: dict = {}
    if first.size == 0:
        return 0.0, pairs
    num = float(np.add.accumulate(res[first] * res[second])[-1])
    sa = float(np.add.accumulate(res[first] ** 2)[-1])
    sb = float(np.add.accumulate(res[second] ** 2)[-1])
    per_cell = np.bincount(np.repeat(cc.ravel(), 4)[partner.ravel() >= 0], minlength=names.size)
    pairs = {str(names[c]): int(n) for c, n in enumerate(per_cell) if n}
    if sa <= 0 or sb <= 0:
        return 0.0, pairs
    return float(np.clip(num / np.sqrt(sa * sb), 0.0, 0.95)), pairs


__all__ = ["MIN_CELLS", "shrink_cells"]
