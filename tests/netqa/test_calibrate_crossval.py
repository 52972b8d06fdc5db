"""netqa.calibrate.crossval: folds grouped by site/session/cell, the leakage site grouping prevents, poor-result flags."""

from __future__ import annotations

import numpy as np
import pytest

from _calib_synth import FIX_K1_K2_K4, synth
from netqa.calibrate import CalibrationConfig, cross_validate
from netqa.calibrate.crossval import POOR_BIAS_DB, POOR_R, cv_labels, group_folds, holdout_line, holdout_warnings
from netqa.errors import InputError


@pytest.mark.parametrize("max_folds", [2, 3, 10])
def test_group_folds_never_split_a_group_and_cover_every_sample(max_folds):
    labels = np.array(list("aabbbcdddddeeffg"))
    folds = group_folds(labels, max_folds)
    assert len(folds) == min(max_folds, len(set(labels)))
    assert np.all(np.sum(folds, axis=0) == 1)
    for test in folds:
        assert not set(labels[test]) & set(labels[~test])


def test_group_folds_balance_sample_counts():
    labels = np.repeat(np.arange(12), np.arange(1, 13))  # groups of 1..12 samples
    sizes = [int(f.sum()) for f in group_folds(labels, 3)]
    assert max(sizes) - min(sizes) <= 2


def test_site_grouping_needs_site_labels():
    data = synth(n_sites=3)._replace(site=None)
    with pytest.raises(InputError, match="cross-validation by site needs the site"):
        cv_labels(data, "site")
    with pytest.raises(ValueError, match="cv_group must be one of site, session, cell"):
        CalibrationConfig(cv_group="drive")


def test_site_folds_hold_out_every_co_sited_cell():
    data = synth(n_sites=6)
    res = cross_validate(data, CalibrationConfig(cv_group="site"), fixed=dict(FIX_K1_K2_K4))
    assert res["cv_group"] == "site" and res["n_groups"] == 6 and res["n_folds"] == 6
    assert res["tuned"]["n"] == data.n


def test_session_folds_leak_site_effects_and_site_folds_do_not():
    """Every site driven in both sessions, with a real per-site offset (6 dB spread): held out by session, each
    cell's own K1 (learned from the other session at the same places) hides the offset; held out by site it
    cannot, and the quoted error is the one a new site will see."""
    data = synth(site_k1_sd_db=6.0, sigma_db=3.0, n_sites=10, n_per_cell=200, seed=8)
    by = {g: cross_validate(data, CalibrationConfig(cv_group=g), fixed=dict(FIX_K1_K2_K4))["tuned"]["rmse_db"]
          for g in ("session", "site")}  # fmt: skip
    assert by["session"] < 3.6  # ~ the 3 dB noise: optimistic
    assert by["site"] > by["session"] + 2.0  # ~ sqrt(3^2 + 6^2): honest for unseen sites


def _h(r=0.8, bias=0.0, rmse=6.0, prior_rmse=10.0):
    return {"cv_group": "site", "n_folds": 5, "n_groups": 9,
            "tuned": {"n": 100, "mean_error_db": bias, "std_error_db": 6.0, "rmse_db": rmse, "correlation": r},
            "prior": {"n": 100, "mean_error_db": 3.0, "std_error_db": 9.0, "rmse_db": prior_rmse, "correlation": 0.5}}


@pytest.mark.parametrize("kw, match", [({"r": 0.25}, f"r = 0.25 < {POOR_R:g}"), ({"r": -0.06}, "r = -0.06"),
                                       ({"bias": -3.5}, f"-3.5 dB exceeds \\+-{POOR_BIAS_DB:g}"),
                                       ({"rmse": 11.0}, "not below the prior")],
                         ids=["weak-r", "negative-r", "bias", "worse-than-prior"])  # fmt: skip
def test_poor_holdout_is_flagged(kw, match):
    import re

    w = holdout_warnings(_h(**kw))
    assert len(w) == 1 and re.search(match, w[0])


def test_good_holdout_is_not_flagged_and_the_line_names_everything():
    assert holdout_warnings(_h()) == []
    line = holdout_line("calibrate band LTE-1815", _h())
    for part in ("held out by site", "5 folds", "9 sites", "RMSE 6.00 dB", "bias +0.00 dB", "r 0.80", "prior RMSE 10.00"):
        assert part in line


def test_refused_holdout_is_reported_as_such():
    assert holdout_warnings({"refused": "1 site(s): a hold-out needs at least 2 sites"}) == [
        "1 site(s): a hold-out needs at least 2 sites"]
