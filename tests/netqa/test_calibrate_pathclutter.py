"""Clutter along the path as calibratable SPM terms (issue 12 item 3): recovery, adoption, bounds, identifiability."""

from __future__ import annotations

import numpy as np
import pytest
from _calib_synth import synth

from netqa.calibrate import CalibrationConfig, fit_spm
from netqa.calibrate.fit import predict_loss_db

CLASSES = ("open", "urban", "forest")
TABLE_DB = {"open": 0.0, "urban": 10.0, "forest": 6.0}  # receiver table losses: "open" is the anchor


def _with_path(near_db=None, whole_db=None, *, seed=5, sigma_db=3.0, n_per_cell=250, rare=None):
    """Synthetic data (5 sites x 3 cells) with class shares along each path and their losses added to the truth.

    The receiver's class is drawn from its near shares (so it is correlated with them, as on real paths);
    the table loss of the receiver class is a known term.  ``rare``: a class kept out of all but 10 samples."""
    data = synth(n_sites=5, cells_per_site=3, n_per_cell=n_per_cell, sigma_db=sigma_db, seed=seed)
    rng = np.random.default_rng(seed + 1)
    n = data.n
    whole = rng.dirichlet([2.0, 2.0, 2.0], n)
    near = rng.dirichlet([0.6, 0.6, 0.6], n)
    if rare is not None:
        j = CLASSES.index(rare)
        for share in (whole, near):
            keep = np.zeros(n, bool)
            keep[rng.choice(n, 10, replace=False)] = True
            share[~keep, j] = 0.0
            share /= share.sum(axis=1, keepdims=True)
    u = rng.uniform(size=n)
    rx = np.array(CLASSES, object)[np.minimum((u[:, None] > np.cumsum(near, axis=1)).sum(axis=1), 2)]
    table = np.array([TABLE_DB[c] for c in rx])
    loss = np.asarray(data.loss_db) + table
    for truth, share in ((near_db, near), (whole_db, whole)):
        if truth:
            loss = loss + share @ np.array([truth.get(c, 0.0) for c in CLASSES])
    return data._replace(loss_db=loss, clutter=rx, clutter_db=table, near_share=near, whole_share=whole,
                         path_classes=CLASSES)  # fmt: skip


def _cfg(**kw):
    return CalibrationConfig(cv_group="site", per_cell=False, **kw)


def test_near_path_loss_is_recovered_and_lowers_the_holdout_error():
    truth = {"urban": 9.0, "forest": 5.0}
    data = _with_path(near_db=truth)
    cal = fit_spm(data, _cfg(path_clutter="near"))
    assert cal.path_anchor == "open"
    assert "path_near:urban" in cal.fitted and "path_near:forest" in cal.fitted
    for c, v in truth.items():  # tolerance: 1 dB (3 dB shadowing, ~3700 bins)
        assert cal.path_near_db[c] == pytest.approx(v, abs=1.0)
    assert cal.path_near_db["open"] == 0.0
    # the receiver offsets are the collinear alternative: not fitted on top of the near losses
    assert not any(n.startswith("clutter:") for n in cal.fitted)
    assert "instead" in cal.refused["clutter"]
    base = fit_spm(data, _cfg())
    assert cal.holdout["tuned"]["rmse_db"] < base.holdout["tuned"]["rmse_db"] - 0.3  # 3.42 -> 2.96 dB here
    assert cal.holdout["tuned"]["rmse_db"] == pytest.approx(3.0, abs=0.15)  # the injected shadowing
    np.testing.assert_allclose(np.std(np.asarray(data.loss_db) - predict_loss_db(cal, data)), 3.0, atol=0.3)


def test_whole_path_loss_is_recovered():
    truth = {"urban": 12.0, "forest": 4.0}
    data = _with_path(whole_db=truth)
    cal = fit_spm(data, _cfg(path_clutter="both"))
    for c, v in truth.items():
        assert cal.path_whole_db[c] == pytest.approx(v, abs=1.5)
    assert "path_near" in cal.refused and not cal.path_near_db


def test_without_path_loss_in_the_truth_the_terms_are_not_adopted():
    data = _with_path()
    cal = fit_spm(data, _cfg(path_clutter="both"))
    assert not cal.path_near_db and not cal.path_whole_db and cal.path_anchor is None
    assert "path_whole" in cal.refused and "held-out" in cal.refused["path_whole"]
    assert "path_near" in cal.refused
    assert cal.settings["path_clutter"] == "both" and cal.settings["near_m"] == 300.0


def test_a_loss_outside_the_physical_range_is_refused_and_held_at_the_bound():
    data = _with_path(near_db={"urban": -8.0, "forest": 6.0})  # urban *lowering* the loss below open: not physical
    cal = fit_spm(data, _cfg(path_clutter="near", select_by_holdout=False, clutter_offsets=False), holdout=False)
    assert "physical range 0..40 dB" in cal.refused["path_near:urban"]
    assert cal.bounded["path_near:urban"]["held"] == 0.0 and cal.bounded["path_near:urban"]["fitted"] < -4.0
    assert cal.path_near_db["urban"] == 0.0
    assert "path_near:forest" in cal.fitted and cal.path_near_db["forest"] > 0.0


def test_a_class_with_too_few_bins_is_refused_with_the_reason():
    data = _with_path(near_db={"urban": 9.0}, rare="forest")
    cal = fit_spm(data, _cfg(path_clutter="near", select_by_holdout=False, clutter_offsets=False), holdout=False)
    assert "bins with a non-zero share" in cal.refused["path_near:forest"]
    assert "forest" not in cal.path_near_db
    assert cal.path_near_db["urban"] == pytest.approx(9.0, abs=1.0)


def test_both_asked_without_selection_fits_one_term_per_class():
    data = _with_path(near_db={"urban": 9.0, "forest": 5.0})
    cal = fit_spm(data, _cfg(path_clutter="near", select_by_holdout=False), holdout=False)
    assert not any(n.startswith("clutter:") for n in cal.fitted)
    assert all("collinear" in why for n, why in cal.refused.items() if n.startswith("clutter:"))
    assert sum(n.startswith("clutter:") for n in cal.refused) == 2  # the receiver classes but the anchor
    assert "path_near:urban" in cal.fitted


def test_missing_shares_are_refused():
    data = synth(n_sites=3, cells_per_site=1, n_per_cell=200)
    with pytest.raises(ValueError, match="needs near_share"):
        fit_spm(data, _cfg(path_clutter="near", select_by_holdout=False), holdout=False)
    with pytest.raises(ValueError, match="path_clutter must be one of"):
        CalibrationConfig(path_clutter="far")
