"""The learned correction (issue 12 item 5): adopted on a pattern-shaped residual, refused on noise, the model file
round trip, version checks, and compare/predict applying it."""

from __future__ import annotations

import numpy as np
import pytest

from netqa.calibrate.features import FeatureSpec
from netqa.calibrate.learned import LearnedConfig, fit_correction

pytest.importorskip("lightgbm")

SPEC = FeatureSpec(terrain="none", rx_height_m=1.5)


def _synthetic(pattern_db: float, n: int = 6000, n_sites: int = 12, seed: int = 3):
    """Features of ``n`` samples around ``n_sites`` sites; residual = a pattern-shaped error + 4 dB site-free noise."""
    rng = np.random.default_rng(seed)
    log_d = np.log10(rng.uniform(0.1, 3.0, n))
    az = rng.uniform(0, 180, n)
    elev = rng.uniform(-5, 15, n)
    X = np.column_stack([log_d, az, elev, np.log10(rng.uniform(15, 40, n)), rng.exponential(2.0, n)])
    shape = np.minimum(12 * (az / 40.0) ** 2, 20.0) - np.minimum(12 * (az / 65.0) ** 2, 20.0)  # narrower real beam
    residual = pattern_db * shape / 20.0 + rng.normal(0, 4.0, n)
    sites = np.array([f"S{i % n_sites}" for i in range(n)], dtype=object)
    return X, residual, sites


@pytest.mark.parametrize("library", ["lightgbm", "sklearn"])
def test_pattern_shaped_residual_is_learned_and_adopted(library):
    pytest.importorskip("sklearn")
    X, r, sites = _synthetic(20.0)
    out = fit_correction(X, r, sites, SPEC, LearnedConfig(library=library, n_trees=100))
    h = out.holdout
    assert out.adopted, out.reason
    assert h["rmse_corrected_db"] < h["rmse_physics_db"] - 1.5
    assert h["rmse_corrected_db"] == pytest.approx(4.0, abs=0.4)  # down to the injected noise
    assert h["cv_group"] == "site" and h["n_sites"] == 12


def test_pure_noise_is_not_adopted():
    X, r, sites = _synthetic(0.0)
    out = fit_correction(X, r, sites, SPEC, LearnedConfig(n_trees=100))
    assert not out.adopted and out.model is None
    assert "not adopted" in out.reason
    assert out.holdout["rmse_corrected_db"] >= out.holdout["rmse_physics_db"] - 0.1  # both numbers recorded


def test_fit_is_deterministic_within_tolerance():
    X, r, sites = _synthetic(10.0, n=2000)
    a = fit_correction(X, r, sites, SPEC, LearnedConfig(n_trees=50))
    b = fit_correction(X, r, sites, SPEC, LearnedConfig(n_trees=50))
    np.testing.assert_allclose(a.correction_db(X[:200]), b.correction_db(X[:200]), atol=1e-6)


def test_one_site_is_not_validated():
    X, r, _ = _synthetic(10.0, n=1000)
    out = fit_correction(X, r, np.full(r.size, "S1", object), SPEC)
    assert not out.adopted and "site" in out.reason
