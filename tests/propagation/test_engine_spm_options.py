"""SPM options of the raster engine: effective-height method and per-band coefficients."""

import numpy as np
import pytest

from propagation import SPM_DEFAULT_K, spm_loss_db
from propagation.engine import EngineConfig, GridSpec, cell_matrix, predict_coverage, predict_points

GRID = GridSpec(-3000.0, 3000.0, 100.0, 60, 60)
RS_DBM = 15.0


def _omni(freq_mhz=(900.0,), x_m=(0.0,)):
    n = len(freq_mhz)
    return cell_matrix(x_m=list(x_m), y_m=[0.0] * n, height_m=[30.0] * n, azimuth_deg=[0.0] * n,
                       freq_mhz=list(freq_mhz), rs_power_dbm=[RS_DBM] * n, bandwidth_mhz=[10.0] * n,
                       pattern_id=[-2] * n, gain_dbi=[0.0] * n)


def _slope_terrain():
    """Ground rising 20 m per km to the east: the receiver's ground differs from the site's."""
    x, _ = GRID.centres()
    return 500.0 + 0.02 * (x - x.min())


@pytest.mark.parametrize(
    "method, h_eff",
    [("ground", lambda z_site, z_rx: np.full_like(z_rx, 30.0)),
     ("relative", lambda z_site, z_rx: np.maximum(z_site + 30.0 - z_rx, 1.0))],
    ids=["ground", "relative"],
)
def test_effective_height_method(method, h_eff):
    elev = _slope_terrain()
    cfg = EngineConfig(model="spm", spm_h_eff=method, min_dist_km=0.2)
    x = np.array([2000.0, -2500.0, 1500.0])
    y = np.array([0.0, 500.0, -1200.0])
    z_rx = np.array([540.0, 450.0, 520.0])
    got = predict_points(_omni(), elev, GRID, x, y, cfg, ground_m=z_rx)[:, 0]
    z_site = float(np.mean(elev[29:31, 29:31]))
    dist_km = np.hypot(x, y) / 1000.0
    loss = spm_loss_db(900.0, dist_km, h_eff(z_site, z_rx), 1.5, strict=False)
    np.testing.assert_allclose(got, RS_DBM - loss, atol=1e-6)


def test_methods_agree_on_flat_ground():
    elev = np.full(GRID.shape, 100.0)
    a = predict_coverage(_omni(), elev, GRID, EngineConfig(model="spm", spm_h_eff="ground")).rsrp_dbm
    b = predict_coverage(_omni(), elev, GRID, EngineConfig(model="spm", spm_h_eff="relative")).rsrp_dbm
    np.testing.assert_allclose(a, b, atol=1e-4, equal_nan=True)


def test_per_band_coefficients_apply_by_carrier():
    k_band = SPM_DEFAULT_K._replace(k1=SPM_DEFAULT_K.k1 - 10.0)
    cfg_default = EngineConfig(model="spm", spm_h_eff="ground")
    cfg_bands = EngineConfig(model="spm", spm_h_eff="ground", spm_k_bands=((1815.0, k_band),))
    cells = _omni(freq_mhz=(806.0, 1815.0), x_m=(-1000.0, 1000.0))
    elev = np.zeros(GRID.shape)
    x, y = np.array([0.0, 2500.0]), np.array([2000.0, -1500.0])
    base = predict_points(cells, elev, GRID, x, y, cfg_default)
    banded = predict_points(cells, elev, GRID, x, y, cfg_bands)
    np.testing.assert_allclose(banded[:, 0], base[:, 0], atol=1e-9)  # 806 MHz: the global K
    np.testing.assert_allclose(banded[:, 1], base[:, 1] + 10.0, atol=1e-9)  # 1815 MHz: its band's K1


@pytest.mark.parametrize(
    "kwargs, match",
    [({"spm_h_eff": "average"}, "spm_h_eff must be one of"),
     ({"spm_k_bands": ((1800.0, 131.0),)}, "spm_k_bands entries")],
    ids=["unknown-method", "bad-band-entry"],
)
def test_bad_spm_options_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EngineConfig(model="spm", **kwargs)
