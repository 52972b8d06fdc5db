"""Residual statistics of predicted against measured values, overall and per group.

The residual is **predicted minus measured** (DESIGN.md, "Comparison
statistics"): a positive mean error means the model is optimistic (predicts
more signal than was measured).  For every set of samples the statistics are

* ``n`` -- samples with both values finite;
* ``mean_error_db`` -- mean of e = p - m;
* ``std_error_db`` -- population standard deviation of e (ddof 0), so that
  ``rmse_db**2 == mean_error_db**2 + std_error_db**2`` exactly;
* ``rmse_db`` -- root mean square of e;
* ``correlation`` -- Pearson correlation of p and m (None when undefined:
  fewer than 2 samples or a constant series).

Groups are computed in one pass with :func:`numpy.bincount` over integer group
codes (no Python loop over samples), so one million samples take milliseconds.

>>> s = error_stats([-80.0, -90.0, -100.0], [-82.0, -91.0, -97.0])
>>> s.n, s.mean_error_db
(3, 0.0)
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import pandas as pd

#: Default distance-bin edges for ``per_distance_km``. [km]
DISTANCE_BINS_KM = (0.0, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, math.inf)


class ErrorStats(NamedTuple):
    """Error statistics of one set of samples (units of the compared quantity, dB for power)."""

    n: int
    mean_error_db: float
    std_error_db: float
    rmse_db: float
    correlation: float

    def to_dict(self, unit: str = "db") -> dict:
        """JSON-ready dict; NaN becomes None.  ``unit`` renames the ``_db`` suffix (e.g. ``"mbps"``)."""
        out = {}
        for key, val in zip(self._fields, self):
            name = key if unit == "db" else key.replace("_db", "_" + unit)
            out[name] = val if key == "n" else _num(val)
        return out


def _num(val) -> float | None:
    val = float(val)
    return None if not math.isfinite(val) else round(val, 4)


def _sums(pred: np.ndarray, meas: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Per-group sums (n, Σe, Σe², Σp, Σm, Σp², Σm², Σpm), shape (8, n_groups)."""
    e = pred - meas
    # centre p and m before squaring (numerical stability of the correlation)
    p0 = pred - (np.mean(pred) if pred.size else 0.0)
    m0 = meas - (np.mean(meas) if meas.size else 0.0)
    out = np.empty((8, n_groups))
    out[0] = np.bincount(codes, minlength=n_groups)
    for k, w in enumerate((e, e * e, p0, m0, p0 * p0, m0 * m0, p0 * m0), start=1):
        out[k] = np.bincount(codes, weights=w, minlength=n_groups)
    return out


def _from_sums(s: np.ndarray) -> list[ErrorStats]:
    n, se, see, sp, sm, spp, smm, spm = s
    out = []
    for i in range(s.shape[1]):
        k = int(n[i])
        if k == 0:
            out.append(ErrorStats(0, math.nan, math.nan, math.nan, math.nan))
            continue
        mean = float(se[i] / k)
        var = max(float(see[i] / k) - mean * mean, 0.0)
        cov = spm[i] / k - (sp[i] / k) * (sm[i] / k)
        vp = spp[i] / k - (sp[i] / k) ** 2
        vm = smm[i] / k - (sm[i] / k) ** 2
        scale = max(spp[i] / k, smm[i] / k, 1e-300)
        corr = cov / math.sqrt(vp * vm) if k >= 2 and vp > 1e-12 * scale and vm > 1e-12 * scale else math.nan
        if math.isfinite(corr):
            corr = min(max(corr, -1.0), 1.0)
        out.append(ErrorStats(k, float(mean), math.sqrt(var), math.sqrt(max(see[i] / k, 0.0)), float(corr)))
    return out


def _finite_pair(predicted, measured):
    p = np.asarray(predicted, dtype=np.float64).ravel()
    m = np.asarray(measured, dtype=np.float64).ravel()
    if p.shape != m.shape:
        raise ValueError(f"predicted has {p.size} values, measured {m.size}; they must pair up sample by sample")
    ok = np.isfinite(p) & np.isfinite(m)
    return p, m, ok


def error_stats(predicted, measured) -> ErrorStats:
    """Statistics of ``predicted - measured`` over the samples where both are finite.

    Parameters
    ----------
    predicted, measured : array_like
        Paired values, same shape (for example RSRP). [dBm] or [dB]

    Returns
    -------
    ErrorStats

    Examples
    --------
    >>> s = error_stats([-80.0, -90.0], [-81.0, -93.0])
    >>> s.n, s.mean_error_db, s.std_error_db, round(s.rmse_db, 4), s.correlation
    (2, 2.0, 1.0, 2.2361, 1.0)
    """
    p, m, ok = _finite_pair(predicted, measured)
    p, m = p[ok], m[ok]
    return _from_sums(_sums(p, m, np.zeros(p.size, np.int64), 1))[0]


def grouped_stats(predicted, measured, groups) -> dict[str, ErrorStats]:
    """:func:`error_stats` per group label (labels as strings; missing labels skipped).

    Parameters
    ----------
    predicted, measured : array_like
        Paired values. [dBm] or [dB]
    groups : array_like
        One label per sample (cell id, clutter class, region, bin label...).

    Returns
    -------
    dict
        ``{label: ErrorStats}`` in sorted label order, groups without a finite
        pair left out.

    Examples
    --------
    >>> g = grouped_stats([1.0, 2.0, 5.0], [0.0, 0.0, 5.0], ["a", "a", "b"])
    >>> g["a"].mean_error_db, g["b"].n
    (1.5, 1)
    """
    p, m, ok = _finite_pair(predicted, measured)
    labels = pd.Series(np.asarray(groups, dtype=object).ravel())
    if labels.size != p.size:
        raise ValueError(f"groups has {labels.size} labels for {p.size} samples")
    ok &= labels.notna().to_numpy()
    codes, uniques = pd.factorize(labels[ok].astype(str), sort=True)
    stats = _from_sums(_sums(p[ok], m[ok], codes.astype(np.int64), len(uniques)))
    return {str(u): s for u, s in zip(uniques, stats) if s.n > 0}


def distance_bin_labels(dist_km, edges_km=DISTANCE_BINS_KM) -> np.ndarray:
    """Label each distance with its bin ``"lo-hi"`` (``"lo-"`` for the open last bin); NaN -> None.

    >>> distance_bin_labels([0.3, 1.5, 40.0], (0.0, 1.0, 2.0, float("inf"))).tolist()
    ['0-1', '1-2', '2-']
    """
    d = np.asarray(dist_km, dtype=np.float64).ravel()
    edges = np.asarray(edges_km, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"distance bin edges must increase strictly, got {list(edges_km)!r}")
    names = _all_labels(edges)
    idx = np.searchsorted(edges, d, side="right") - 1
    valid = np.isfinite(d) & (idx >= 0) & (idx < len(names))
    out = np.full(d.size, None, dtype=object)
    out[valid] = np.asarray(names, dtype=object)[idx[valid]]
    return out


def stats_table(predicted, measured, *, cell=None, clutter=None, dist_km=None, region=None,
                distance_edges_km=DISTANCE_BINS_KM, unit: str = "db") -> dict:  # fmt: skip
    """The ``stats.json`` block for one quantity: overall keys plus ``per_cell``,
    ``per_clutter``, ``per_distance_km`` and ``per_region`` (each only when given).

    >>> t = stats_table([1.0, 3.0], [0.0, 0.0], cell=["A", "B"])
    >>> t["n"], t["mean_error_db"], sorted(t["per_cell"])
    (2, 2.0, ['A', 'B'])
    """
    out = error_stats(predicted, measured).to_dict(unit)
    for key, labels in (("per_cell", cell), ("per_clutter", clutter), ("per_region", region)):
        if labels is not None:
            out[key] = {k: s.to_dict(unit) for k, s in grouped_stats(predicted, measured, labels).items()}
    if dist_km is not None:
        labels = distance_bin_labels(dist_km, distance_edges_km)
        groups = grouped_stats(predicted, measured, labels)
        order = {name: i for i, name in enumerate(_all_labels(distance_edges_km))}
        out["per_distance_km"] = {k: groups[k].to_dict(unit) for k in sorted(groups, key=order.get)}
    return out


def _all_labels(edges):
    e = list(edges)
    return [f"{lo:g}-" + ("" if not math.isfinite(hi) else f"{hi:g}") for lo, hi in zip(e[:-1], e[1:])]


def percentiles_side_by_side(predicted, measured, q=(5, 10, 50, 90, 95)) -> dict:
    """Percentiles of predicted and measured, each over its own finite values.

    >>> percentiles_side_by_side([1.0, 2.0, 3.0], [2.0, 4.0, 6.0], q=(50,))
    {'p50': {'predicted': 2.0, 'measured': 4.0}}
    """
    p = np.asarray(predicted, dtype=np.float64)
    m = np.asarray(measured, dtype=np.float64)
    p, m = p[np.isfinite(p)], m[np.isfinite(m)]
    out = {}
    for qq in q:
        out[f"p{qq:g}"] = {
            "predicted": _num(np.percentile(p, qq)) if p.size else None,
            "measured": _num(np.percentile(m, qq)) if m.size else None,
        }
    return out


__all__ = [
    "DISTANCE_BINS_KM",
    "ErrorStats",
    "distance_bin_labels",
    "error_stats",
    "grouped_stats",
    "percentiles_side_by_side",
    "stats_table",
]
