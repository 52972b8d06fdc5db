"""Regressors and bins of the SPM fit (:mod:`netqa.calibrate.fit`): per-sample regressors of K1..K7, the known
terms, the per-cell ``bin_m`` squares averaged into one observation each, and what the bins cannot determine.

Reference: Forsk, Atoll Technical Reference Guide, "Standard Propagation Model" (K1..K7; calibration by least
squares on binned measurements).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from netqa.calibrate.data import CalibrationConfig, CalibrationData
from netqa.calibrate.pathterms import path_columns
from propagation import SpmCoefficients, spm_k1_at


def _regressors(data: CalibrationData) -> np.ndarray:
    """(n, 7) regressors of K1..K7: 1, log d, log h, L_diff, log d log h, h_rx, log h_rx."""
    log_d = np.log10(np.asarray(data.dist_km, dtype=np.float64))
    log_h = np.log10(np.asarray(data.h_tx_eff_m, dtype=np.float64))
    h_rx = np.asarray(data.h_rx_m, dtype=np.float64)
    return np.column_stack([np.ones_like(log_d), log_d, log_h, np.asarray(data.diffraction_db, np.float64),
                            log_d * log_h, h_rx, np.log10(h_rx)])  # fmt: skip


def _known_db(data: CalibrationData, prior: SpmCoefficients) -> np.ndarray:
    """Terms not fitted: the K1 frequency shift F(f) and the table clutter loss. [dB]"""
    freq = np.asarray(data.freq_mhz, dtype=np.float64)
    shift = np.asarray(spm_k1_at(prior, freq), dtype=np.float64) - prior.k1
    return shift + np.asarray(data.clutter_db, dtype=np.float64)


def bin_codes(data: CalibrationData, config: CalibrationConfig) -> np.ndarray:
    """Bin code of each sample: serving cell x ``bin_m`` square, numbered in sorted (cell, column, row) order."""
    from netqa.compare.binning import square_bins

    return square_bins(np.asarray(data.cell, dtype=object), data.x_m, data.y_m, config.bin_m)


def _bin(data: CalibrationData, config: CalibrationConfig, classes: list[str], codes: np.ndarray | None = None):
    """Bin means: (y, regressors (nb, 7), class design (nb, m), cell labels, n samples, the m column names).

    The class design holds the receiver-clutter one-hot (``("clutter", class)``) and, when
    ``config.path_clutter`` asks, the path shares (``("path_near"|"path_whole", class)``, :mod:`.pathterms`).
    ``codes``: the samples' :func:`bin_codes`, when known already."""
    if codes is None:
        codes = bin_codes(data, config)
    n_bins = int(codes.max()) + 1 if codes.size else 0
    counts = np.bincount(codes, minlength=n_bins).astype(np.float64)
    y = np.asarray(data.loss_db, np.float64) - _known_db(data, config.prior)
    if config.average == "linear":  # average received power, i.e. -loss, in mW
        y_mean = -10.0 * np.log10(np.bincount(codes, weights=10.0 ** (-y / 10.0), minlength=n_bins) / counts)
    else:
        y_mean = np.bincount(codes, weights=y, minlength=n_bins) / counts
    reg = _regressors(data)
    x_mean = np.column_stack([np.bincount(codes, weights=reg[:, j], minlength=n_bins) / counts for j in range(7)])
    cl = pd.Categorical(np.asarray(data.clutter, dtype=object).astype(str), categories=classes).codes
    onehot = np.zeros((n_bins, len(classes)))
    for j in range(len(classes)):
        onehot[:, j] = np.bincount(codes, weights=(cl == j).astype(np.float64), minlength=n_bins) / counts
    cell_of_bin = np.empty(n_bins, dtype=object)
    cell_of_bin[codes] = np.asarray(data.cell, dtype=object)
    path, path_names = path_columns(data, config, codes, counts)
    names = [("clutter", c) for c in classes] + path_names
    return y_mean, x_mean, np.column_stack([onehot, path]), cell_of_bin, counts, names


def _bin_grid(data: CalibrationData, config: CalibrationConfig, n_bins: int, codes: np.ndarray | None = None) -> np.ndarray:
    """(n_bins, 2) column and row of each bin's ``bin_m`` square (the codes of :func:`_bin`)."""
    if codes is None:
        codes = bin_codes(data, config)
    out = np.zeros((n_bins, 2), np.int64)
    out[codes, 0] = np.floor(np.asarray(data.x_m, np.float64) / config.bin_m)
    out[codes, 1] = np.floor(np.asarray(data.y_m, np.float64) / config.bin_m)
    return out


def restrict_bins(binned: tuple, codes: np.ndarray, keep: np.ndarray, classes: list[str]):
    """The bins of the samples ``keep`` (a mask) from the bins of all samples, when no bin mixes kept and
    left-out samples; None when one does.

    The bin means are bit-identical to :func:`_bin` of the kept samples with ``classes`` (their clutter
    classes, a subset of the full set): each bin holds the same samples in the same order, the codes stay
    in sorted order, and only the receiver-clutter columns of absent classes are dropped.

    Returns
    -------
    (tuple, numpy.ndarray) or None
        The :func:`_bin` tuple and the kept samples' new bin codes.
    """
    y, x, design, cell_of_bin, counts, names = binned
    kept_per_bin = np.bincount(codes, weights=keep.astype(np.float64), minlength=counts.size)
    if np.any((kept_per_bin > 0) & (kept_per_bin < counts)):
        return None
    bins = kept_per_bin > 0
    new_code = np.cumsum(bins) - 1
    index = {name: j for j, name in enumerate(names)}
    cols = [index[("clutter", c)] for c in classes] + [j for j, n in enumerate(names) if n[0] != "clutter"]
    sub = (y[bins], x[bins], design[bins][:, cols], cell_of_bin[bins], counts[bins], [names[j] for j in cols])
    return sub, new_code[codes[keep]]


def lookup(labels, table: dict) -> np.ndarray:
    """``table[label]`` for each label, 0.0 where the label is not in the table or its value is NaN
    (what ``pandas.Series(labels).map(table).fillna(0.0)`` gives, without the per-call cost of pandas).

    >>> lookup(np.array(["a", "b", "a"]), {"a": 1.5}).tolist()
    [1.5, 0.0, 1.5]
    """
    uniq, inv = np.unique(np.asarray(labels), return_inverse=True)
    values = np.array([table.get(u, 0.0) for u in uniq.tolist()], np.float64)
    values[np.isnan(values)] = 0.0
    return values[inv.ravel()]


def _identifiability(x: np.ndarray, config: CalibrationConfig) -> dict[str, str]:
    """Coefficients the bins cannot determine, with the reason."""
    refused = {}
    log_d, log_h, diff, h_rx = x[:, 1], x[:, 2], x[:, 3], x[:, 5]
    span = float(np.percentile(log_d, 95) - np.percentile(log_d, 5)) if log_d.size else 0.0
    if span < config.min_distance_decades:
        why = (f"distance span {10 ** span:.2f}x (5th-95th percentile, {span:.2f} decades) is below "
               f"{config.min_distance_decades:g} decades; drive farther from the sites")  # fmt: skip
        refused["k2"] = why
        refused["k5"] = why
    h_std = float(np.std(log_h))
    if not config.fit_k3_k5:
        refused.setdefault("k3", "not requested (fit_k3_k5 = false)")
        refused.setdefault("k5", "not requested (fit_k3_k5 = false)")
    elif h_std < config.min_log_height_std:
        why = (f"effective antenna heights barely vary (std of log10 h_eff {h_std:.3f} < "
               f"{config.min_log_height_std:g}); K3 cannot be told from K1")  # fmt: skip
        refused["k3"] = why
        refused.setdefault("k5", why)
    if not np.any(np.abs(diff) > 1e-9):
        refused["k4"] = "no terrain diffraction in the data (terrain method 'none' or no obstructed path)"
    if float(np.ptp(h_rx)) < 0.5:
        why = f"a single receiver height ({float(np.median(h_rx)):g} m) in all samples"
        refused["k6"] = why
        refused["k7"] = why
    return refused


