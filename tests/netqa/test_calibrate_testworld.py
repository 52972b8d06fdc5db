"""Issue #6 accuracy targets on the committed test world (testdata/, truth in truth.json).

netqa calibrate, per band, from the DEFAULT starting model (no template), with
the truth's effective-height convention (antenna height above ground at the
site, ``h_eff="ground"``) and delta-Bullington terrain, must recover the truth:
K1 at the band's carrier (truth's own 23 dB/decade rule) within +-2 dB, K2
within +-3 dB/decade, a held-out residual std within 0.5 dB of the
injected 6 dB shadowing and a mean within +-1 dB; the default model must be
clearly worse on the same held-out samples.  Issue 12: the hold-out groups by
site (all co-sited cells in one fold, the stage's default) instead of by
session, every fitted coefficient lies within its physical range, and the
per-cell coefficients are shrunk toward the band.
"""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netqa.calibrate import read_model_file
from netqa.calibrate.run import CalibrateOptions, calibrate
from propagation import spm_k1_at

TESTDATA = Path(__file__).resolve().parents[2] / "testdata"
SESSIONS = ("d1_highway_valdera", "d2_valdera_sotillo", "d3_north_loop")
BANDS = ("LTE-1815", "LTE-806")


@pytest.fixture(scope="module")
def truth():
    return json.loads((TESTDATA / "truth.json").read_text())


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    samples = pd.concat([pd.read_csv(TESTDATA / "drives" / f"{s}.csv") for s in SESSIONS], ignore_index=True)
    out = tmp_path_factory.mktemp("tw") / "tuned.toml"
    cal = calibrate(samples, TESTDATA / "cells.csv", TESTDATA / "dem.tif", out, clutter=TESTDATA / "clutter.tif",
                    clutter_table=TESTDATA / "clutter_classes.csv",
                    options=CalibrateOptions(terrain="delta-bullington", h_eff="ground"))  # fmt: skip
    return cal, out


def _band(tuned, key):
    cal, _ = tuned
    assert key in cal.bands and "cal" in cal.bands[key], cal.bands.get(key)
    return cal.bands[key]


@pytest.mark.parametrize("key", BANDS)
def test_k1_at_band_frequency_within_2_db(tuned, truth, key):
    b = _band(tuned, key)
    k = truth["spm"]
    k1_truth = k["k1"] + k["k_freq_db_per_decade"] * math.log10(b["freq_mhz"] / k["f_ref_mhz"])
    assert float(spm_k1_at(b["cal"].k, b["freq_mhz"])) == pytest.approx(k1_truth, abs=2.0)


@pytest.mark.parametrize("key", BANDS)
def test_k2_within_3_db_per_decade(tuned, truth, key):
    assert _band(tuned, key)["cal"].k.k2 == pytest.approx(truth["spm"]["k2"], abs=3.0)


@pytest.mark.parametrize("key", BANDS)
def test_holdout_std_matches_injected_shadowing(tuned, truth, key):
    h = _band(tuned, key)["cal"].holdout
    assert h["cv_group"] == "site" and h["n_sessions"] == 3 and h["n_groups"] >= 7  # 15 sites; 8 carry LTE-806
    assert h["n_folds"] == min(10, h["n_groups"])
    assert h["tuned"]["std_error_db"] == pytest.approx(truth["shadowing"]["sigma_db"], abs=0.5)
    assert abs(h["tuned"]["mean_error_db"]) <= 1.0


@pytest.mark.parametrize("key", BANDS)
def test_default_model_clearly_worse(tuned, key):
    h = _band(tuned, key)["cal"].holdout
    assert h["prior"]["rmse_db"] > 2.0 * h["tuned"]["rmse_db"]


def test_unidentifiable_coefficients_refused_with_reason(tuned):
    c = _band(tuned, "LTE-1815")["cal"]
    assert {"k6", "k7"} <= set(c.refused) and "receiver height" in c.refused["k6"]
    assert "k3" not in c.fitted and "k5" not in c.fitted


def test_model_file_has_one_section_per_band(tuned, truth):
    cal, out = tuned
    tm = read_model_file(out)
    assert set(tm.bands) == set(BANDS) and tm.h_eff_method == "ground"
    for key in BANDS:
        b = cal.bands[key]
        assert tm.k_for(b["tech"], b["freq_mhz"]) == b["cal"].k
    assert tm.k_for("NR", 3500.0) == tm.k  # no NR samples in the drives: the global fallback
    assert np.isfinite(tm.k.k1)


@pytest.mark.parametrize("text, match", [
    ('[spm]\nk1=1\nk2=2\nk3=3\nk4=4\nk5=5\nk6=6\nk7=7\n[band.X]\ntech="LTE"\nfreq_mhz=1800\nk1=1\nk2=2\nk3=3\nk4=4\n'
     'k5=5\nk6=6\nk7=7\nk9=1\n', "band.X"),
    ('[model]\nh_eff_method="sky"\n[spm]\nk1=1\nk2=2\nk3=3\nk4=4\nk5=5\nk6=6\nk7=7\n', "h_eff_method"),
    ('[spm]\nk1=1\nk2=2\nk3=3\nk4=4\nk5=5\nk6=6\nk7=7\n[bands]\n', "unknown key"),
], ids=["unknown-band-key", "bad-h-eff", "unknown-section"])  # fmt: skip
def test_model_file_bad_keys_refused(tmp_path, text, match):
    from netqa.errors import ConfigError

    p = tmp_path / "m.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=match):
        read_model_file(p)


@pytest.mark.parametrize("key", BANDS)
def test_fit_within_physical_bounds_and_not_poor(tuned, key):
    from netqa.calibrate.bounds import SPM_BOUNDS
    from netqa.calibrate.crossval import holdout_warnings

    c = _band(tuned, key)["cal"]
    assert c.bounded == {}  # the truth is physical: nothing had to be held
    assert SPM_BOUNDS["k4"].contains(c.k.k4)
    assert holdout_warnings(c.holdout) == []


@pytest.mark.parametrize("key", BANDS)
def test_per_cell_coefficients_shrunk_toward_the_band(tuned, key):
    """The truth has one K1/K2 for every cell: shrinkage keeps per-cell slopes within +-10 dB/decade of the band."""
    c = _band(tuned, key)["cal"]
    k2 = [e["k2"] for e in c.per_cell.values() if "k2" in e]
    assert k2 and max(abs(v - c.k.k2) for v in k2) < 10.0
    assert c.settings["per_cell_shrinkage"]["method"] == "empirical-bayes"
    assert all(0.0 <= e["weight_k2"] <= 1.0 for e in c.per_cell.values() if "k2" in e)
