"""netqa.calibrate.cvbins: the bins made once per fit give exactly what binning and fitting each fold anew gives."""

from __future__ import annotations

import numpy as np
import pytest

from _calib_synth import synth
from netqa.calibrate import CalibrationConfig, cross_validate, fit_spm, predict_loss_db, prior_loss_db
from netqa.calibrate.bins import _bin, bin_codes, lookup, restrict_bins
from netqa.calibrate.crossval import cv_labels, group_folds
from netqa.calibrate.cvbins import CvBins, data_classes
from netqa.calibrate.shrink import _neighbour_correlation
from netqa.compare.stats import error_stats


def _data(seed=5):
    """Two clutter classes (one only in one cell, so some folds lack it), sessions alternating within cells."""
    d = synth(n_sites=6, n_per_cell=300, cell_k1_sd_db=4.0, seed=seed)
    rng = np.random.default_rng(seed)
    clutter = np.where(rng.uniform(size=d.n) < 0.3, "suburban", "urban").astype(object)
    clutter[(d.cell == "C00") & (rng.uniform(size=d.n) < 0.5)] = "forest"
    return d._replace(clutter=clutter, clutter_db=np.where(clutter == "urban", 0.0, 3.0))


def _equal_bins(a, b):
    assert len(a) == len(b) == 6
    for u, v in zip(a[:5], b[:5]):
        assert np.array_equal(u, v)  # bit for bit, not approximately
    assert a[5] == b[5]


@pytest.mark.parametrize("group", ["site", "cell"])
def test_fold_bins_restricted_from_all_bins_are_bit_identical_to_binning_the_fold(group):
    data, config = _data(), CalibrationConfig(cv_group=group, average="linear")
    cv = CvBins(data, config)
    for f, test in enumerate(group_folds(cv_labels(data, group), config.max_folds)):
        train = data.subset(~test)
        classes = data_classes(train)
        sub = restrict_bins(cv.all.binned, cv.all.codes, ~test, classes)
        assert sub is not None  # a site or cell fold never splits a bin
        _equal_bins(sub[0], _bin(train, config, classes))
        assert np.array_equal(sub[1], bin_codes(train, config))
        assert cv.fold(f).train.binned is not None and np.array_equal(cv.fold(f).mask, test)
    assert any(len(cv.fold(f).train.classes) < len(cv.all.classes) for f in range(len(cv.masks)))  # "forest" left out


def test_session_folds_that_split_a_bin_are_binned_from_their_own_samples():
    data, config = _data(), CalibrationConfig(cv_group="session")
    cv = CvBins(data, config)
    test = cv.masks[0]
    assert restrict_bins(cv.all.binned, cv.all.codes, ~test, data_classes(data.subset(~test))) is None
    train = data.subset(~test)
    _equal_bins(cv.fold(0).train.binned, _bin(train, config, data_classes(train)))
    assert cv.fold(0).per_cell_used  # the left-out session's cells are in the training set: shrinkage matters


def _reference_cross_validate(data, config, fixed):
    """The cross-validation as it was before the cache: every fold fitted by fit_spm on its own samples."""
    folds = group_folds(cv_labels(data, config.cv_group), config.max_folds)
    pred = np.full(data.n, np.nan)
    for test in folds:
        cal = fit_spm(data.subset(~test), config, holdout=False, fixed=fixed)
        pred[test] = predict_loss_db(cal, data.subset(test))
    return error_stats(data.loss_db, pred).to_dict(), error_stats(data.loss_db, prior_loss_db(config.prior, data)).to_dict()


@pytest.mark.parametrize("group", ["site", "session", "cell"])
@pytest.mark.parametrize("fixed", [{}, {n: "test" for n in ("k3", "k5", "k6", "k7")}])
def test_cross_validate_equals_fitting_every_fold_anew(group, fixed):
    data, config = _data(seed=11), CalibrationConfig(cv_group=group, min_bins_per_cell=10)
    res = cross_validate(data, config, fixed=fixed)
    tuned, prior = _reference_cross_validate(data, config, fixed)
    assert res["tuned"] == tuned  # exact: same bins, same fits, same predictions
    assert res["prior"] == prior


def _neighbour_correlation_slow(res, cell_of_bin, bin_ij):
    """Obviously-correct reference: a dict of (cell, column, row) and a loop over the four forward neighbours."""
    where = {(str(c), int(i), int(j)): n for n, (c, (i, j)) in enumerate(zip(cell_of_bin, bin_ij)) if np.isfinite(res[n])}
    num = sa = sb = 0.0
    pairs = {}
    for (c, i, j), n in where.items():
        for di, dj in ((1, 0), (0, 1), (1, 1), (1, -1)):
            m = where.get((c, i + di, j + dj))
            if m is not None:
                num, sa, sb = num + res[n] * res[m], sa + res[n] ** 2, sb + res[m] ** 2
                pairs[c] = pairs.get(c, 0) + 1
    if sa <= 0 or sb <= 0:
        return 0.0, pairs
    return float(np.clip(num / np.sqrt(sa * sb), 0.0, 0.95)), pairs


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_neighbour_correlation_equals_the_slow_reference(seed):
    rng = np.random.default_rng(seed)
    n = 400
    cells = rng.choice(np.array(["A", "B", "C10", "D"], object), n)
    ij = rng.integers(-6, 6, (n, 2)) + np.array([5000, -300])
    keep = np.unique(np.column_stack([np.unique(cells, return_inverse=True)[1].ravel(), ij]), axis=0, return_index=True)[1]
    cells, ij = cells[keep], ij[keep]  # one bin per (cell, square), as the binning makes them
    res = np.cumsum(rng.normal(size=cells.size))  # correlated along the bins
    res[rng.uniform(size=cells.size) < 0.1] = np.nan  # bins of refused cells
    fast, slow = _neighbour_correlation(res, cells, ij), _neighbour_correlation_slow(res, cells, ij)
    assert fast[0] == slow[0] and fast[1] == slow[1]
    assert sum(fast[1].values()) > 50


def test_neighbour_correlation_without_pairs_or_grid():
    assert _neighbour_correlation(np.array([1.0, 2.0]), np.array(["A", "B"], object), np.array([[0, 0], [0, 1]])) == (0.0, {})
    assert _neighbour_correlation(np.array([np.nan]), np.array(["A"], object), np.array([[0, 0]])) == (0.0, {})
    assert _neighbour_correlation(np.array([1.0]), np.array(["A"], object), None) == (0.0, {})


def test_lookup_is_pandas_map_with_zero_fill():
    import pandas as pd

    labels = np.array(["b", "a", "c", "a", "b"])
    table = {"a": 1.25, "b": float("nan")}
    assert lookup(labels, table).tolist() == pd.Series(labels).map(table).fillna(0.0).tolist()
    assert lookup(np.array([], str), table).size == 0


def test_one_blas_thread_limits_blas_inside_and_restores_it_after():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from netqa.calibrate.cvbins import one_blas_thread

    def blas_threads():
        return [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]

    before = blas_threads()
    with one_blas_thread():
        inside = blas_threads()
    assert inside and all(n == 1 for n in inside)
    assert blas_threads() == before
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):  # a caller's own limit comes back after a fit
        fit_spm(_data(), CalibrationConfig(cv_group="cell"), holdout=False)
        assert all(n == min(2, b) for n, b in zip(blas_threads(), before))
