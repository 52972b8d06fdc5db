"""netqa.calibrate.bounds: physical ranges of K2..K7, held at the bound with the reason, a warning and the model file."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from _calib_synth import FIX_K1_K2_K4, synth
from netqa.calibrate import CalibrationConfig, fit_spm, read_model_file, write_model_file
from netqa.calibrate.bounds import SPM_BOUNDS, check_bounds, effective_slope
from propagation import SPM_DEFAULT_K

LOG_H = math.log10(30.0)


def _fit(data, **cfg):
    return fit_spm(data, CalibrationConfig(**cfg), holdout=False, fixed=dict(FIX_K1_K2_K4))


def test_in_range_fit_is_untouched():
    cal = _fit(synth(slope_db=35.0, k4=0.6))
    assert cal.bounded == {} and {"k2", "k4"} <= set(cal.fitted)
    assert effective_slope(cal.k.k2, cal.k.k5, LOG_H) == pytest.approx(35.0, abs=1.0)
    assert cal.k.k4 == pytest.approx(0.6, abs=0.05)


def test_slope_below_free_space_is_held_at_20_db_per_decade_with_the_reason():
    cal = _fit(synth(slope_db=12.0, k4=0.6))
    assert "k2" in cal.bounded and "k2" not in cal.fitted
    assert effective_slope(cal.k.k2, cal.k.k5, LOG_H) == pytest.approx(20.0, abs=1e-9)
    assert "outside the physical range 20..70" in cal.refused["k2"] and "free space" in cal.refused["k2"]
    # the data asked for ~12 dB/decade: K2 = 12 - K5 log10(30)
    assert cal.bounded["k2"]["fitted"] == pytest.approx(12.0 - SPM_DEFAULT_K.k5 * LOG_H, abs=1.0)


def test_negative_diffraction_weight_is_held_at_zero():
    cal = _fit(synth(slope_db=35.0, k4=-0.5))
    assert cal.k.k4 == 0.0 and "k4" in cal.bounded and cal.bounded["k4"]["fitted"] < -0.3
    assert "raise the signal" in cal.refused["k4"]
    assert {"k1", "k2"} <= set(cal.fitted)  # the others were refitted with K4 held


def test_steep_slope_is_held_at_70():
    cal = _fit(synth(slope_db=85.0, k4=0.6))
    assert effective_slope(cal.k.k2, cal.k.k5, LOG_H) == pytest.approx(70.0, abs=1e-9)


def test_unbounded_fit_is_available_for_comparison():
    cal = _fit(synth(slope_db=12.0, k4=-0.5), bounds={})
    assert cal.bounded == {} and cal.k.k4 < 0 and effective_slope(cal.k.k2, cal.k.k5, LOG_H) < 15


def test_refusal_is_warned_and_written_to_the_model_file(tmp_path, caplog):
    data = synth(slope_db=12.0, k4=0.6)
    with caplog.at_level(logging.WARNING, logger="netqa.calibrate.fit"):
        cal = fit_spm(data, CalibrationConfig(cv_group="site"), fixed=dict(FIX_K1_K2_K4))
    assert any("k2 refused" in r.getMessage() and "physical range" in r.getMessage() for r in caplog.records)
    mf = read_model_file(write_model_file(tmp_path / "t.toml", cal))
    assert "physical range 20..70" in mf.calibration["refused"]["k2"]
    assert mf.calibration["settings"]["bounds"]["k4"] == [0.0, 1.2]


@pytest.mark.parametrize("name, value", [("k3", 4.0), ("k5", -12.0), ("k6", 0.5), ("k7", -20.0)],
                         ids=["k3-positive", "k5-too-negative", "k6-positive", "k7-too-negative"])  # fmt: skip
def test_check_bounds_names_each_violation(name, value):
    k = np.array(SPM_DEFAULT_K[:7], dtype=float)
    k[[2, 4, 5, 6]] = [-13.82, -6.55, -2.0, 0.0]
    k[int(name[1]) - 1] = value
    hit = check_bounds(k, [name], LOG_H)
    b = SPM_BOUNDS[name]
    assert hit is not None and hit[0] == name and hit[1] == b.nearest(value) and hit[2] == value
    assert f"{b.lo:g}..{b.hi:g}" in hit[3]


def test_check_bounds_picks_the_worst_first():
    k = np.array([120.0, 10.0, -13.82, -2.0, -6.55, 0.0, 0.0])  # k2 slope far out, k4 slightly out
    assert check_bounds(k, ["k2", "k4"], LOG_H)[0] == "k4"  # -2 is 1.67 ranges out; slope 0.3 is 0.39 out
    assert check_bounds(k, ["k2"], LOG_H)[0] == "k2"


def test_hata_lies_inside_every_bound():
    """Hata's own coefficients (Hata 1980 eqs. (4)-(5), d in km) at 30 m and 1800 MHz are physical."""
    hata = {"k2": 44.9, "k3": -13.82, "k5": -6.55, "k6": -(1.1 * math.log10(1800) - 0.7)}
    for name, v in hata.items():
        assert SPM_BOUNDS[name].contains(v), name
    assert SPM_BOUNDS["k2"].contains(effective_slope(44.9, -6.55, LOG_H))
