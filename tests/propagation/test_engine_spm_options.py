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
     ({"spm_k_bands": ((1800.0, 131.0),)}, "spm_k_bands entries"),
     ({"spm_k_cells": ((0, 131.0),)}, "spm_k_cells entries"),
     ({"spm_k_cells": ((-1, SPM_DEFAULT_K),)}, "spm_k_cells entries"),
     ({"spm_k_cells": ((0, SPM_DEFAULT_K), (0, SPM_DEFAULT_K))}, "row twice")],
    ids=["unknown-method", "bad-band-entry", "bad-cell-entry", "negative-row", "row-twice"],
)
def test_bad_spm_options_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EngineConfig(model="spm", **kwargs)


def _sectors():
    """Three sectors of one mast (one path group: one terrain sweep) and an omni elsewhere."""
    return cell_matrix(x_m=[0.0, 0.0, 0.0, 1500.0], y_m=[0.0, 0.0, 0.0, -1500.0], height_m=[30.0] * 4,
                       azimuth_deg=[0.0, 120.0, 240.0, 0.0], freq_mhz=[1815.0] * 4, rs_power_dbm=[RS_DBM] * 4,
                       bandwidth_mhz=[10.0] * 4, pattern_id=[-1, -1, -1, -2], gain_dbi=[17.0, 17.0, 17.0, 2.0])


@pytest.mark.parametrize("terrain", ["none", "delta-bullington"])
def test_per_cell_coefficients_shift_only_their_cell(terrain):
    """A cell's own K1/K2 (spm_k_cells) moves its RSRP by -(dK1 + dK2 log10 d), in rasters and points alike,
    and leaves the other cells of its mast (sharing its terrain sweep) unchanged."""
    own = SPM_DEFAULT_K._replace(k1=SPM_DEFAULT_K.k1 + 4.0, k2=SPM_DEFAULT_K.k2 - 6.0)
    cells = _sectors()
    elev = 100.0 + 40.0 * np.sin(np.add.outer(np.arange(60) / 7.0, np.arange(60) / 5.0))
    base_cfg = EngineConfig(model="spm", terrain=terrain, spm_h_eff="ground")
    cfg = EngineConfig(model="spm", terrain=terrain, spm_h_eff="ground", spm_k_cells=((1, own),))
    base = predict_coverage(cells, elev, GRID, base_cfg, per_cell=True).per_cell
    got = predict_coverage(cells, elev, GRID, cfg, per_cell=True).per_cell
    for c in (0, 2, 3):
        np.testing.assert_allclose(got[c], base[c], atol=1e-4, equal_nan=True)
    xc, yc = GRID.centres()
    dist_km = np.maximum(np.hypot(xc, yc) / 1000.0, base_cfg.min_dist_km)
    expected = base[1] - (4.0 - 6.0 * np.log10(dist_km))
    ok = np.isfinite(base[1]) & (np.hypot(xc, yc) > 300.0)  # beyond the free-space floor near the mast
    assert ok.sum() > 1000
    np.testing.assert_allclose(got[1][ok], expected[ok], atol=2e-3)
    x, y = np.array([2000.0, -1700.0, 900.0]), np.array([-800.0, 1200.0, 2100.0])
    pts = predict_points(cells, elev, GRID, x, y, cfg)
    pts_base = predict_points(cells, elev, GRID, x, y, base_cfg)
    d = np.hypot(x, y) / 1000.0
    np.testing.assert_allclose(pts[:, 1], pts_base[:, 1] - (4.0 - 6.0 * np.log10(d)), atol=1e-6)
    np.testing.assert_allclose(pts[:, [0, 2, 3]], pts_base[:, [0, 2, 3]], atol=1e-9)


def test_per_cell_coefficients_name_an_existing_row():
    cfg = EngineConfig(model="spm", spm_k_cells=((7, SPM_DEFAULT_K),))
    with pytest.raises(ValueError, match="names cell row"):
        predict_coverage(_sectors(), np.zeros(GRID.shape), GRID, cfg)
    with pytest.raises(ValueError, match="names cell row"):
        predict_points(_sectors(), np.zeros(GRID.shape), GRID, np.array([10.0]), np.array([500.0]), cfg)
