"""Raster engine: closed-form kernel vs model formulas, geometry, combination, serial == parallel."""

import math

import numba
import numpy as np
import pytest

from propagation import cost231_hata_loss_db, free_space_loss_db, hata_loss_db, sector_gain_db
from propagation.engine import EngineConfig, GridSpec, cell_matrix, predict_coverage
from propagation.throughput import SHANNON_DL, truncated_shannon_bps_hz
from propagation.units import THERMAL_NOISE_DBM_PER_HZ

GRID = GridSpec(-3000.0, 3000.0, 100.0, 60, 60)
FLAT = np.zeros(GRID.shape)


def _omni(**kw):
    base = dict(x_m=[0.0], y_m=[0.0], height_m=[30.0], azimuth_deg=[0.0], freq_mhz=[900.0], rs_power_dbm=[15.0],
                bandwidth_mhz=[10.0], pattern_id=[-2], gain_dbi=[0.0], radius_km=[10.0])  # fmt: skip
    base.update(kw)
    return cell_matrix(**base)


def _dist_km(grid=GRID, x=0.0, y=0.0):
    xx, yy = grid.centres()
    return np.hypot(xx - x, yy - y) / 1000.0


@pytest.mark.parametrize(
    "model, freq_mhz, oracle",
    [
        ("hata", 900.0, lambda f, d: hata_loss_db(f, d, 30.0, 1.5, strict=False)),
        ("cost231", 1800.0, lambda f, d: cost231_hata_loss_db(f, d, 30.0, 1.5, strict=False)),
        ("fspl", 2600.0, lambda f, d: free_space_loss_db(f, d)),
    ],
    ids=["hata", "cost231", "fspl"],
)
@pytest.mark.filterwarnings("ignore::propagation.ValidityRangeWarning")
def test_single_omni_on_flat_ground_reproduces_the_model_at_every_pixel(model, freq_mhz, oracle):
    cov = predict_coverage(_omni(freq_mhz=[freq_mhz]), FLAT, GRID, EngineConfig(model=model))
    d = _dist_km()
    expected = 15.0 - np.maximum(oracle(freq_mhz, d), free_space_loss_db(freq_mhz, d))
    np.testing.assert_allclose(cov.rsrp_dbm, expected, atol=2e-4)  # float32 output
    assert np.all(cov.best_cell == 0)


def test_pixels_beyond_the_radius_are_nan():
    cov = predict_coverage(_omni(radius_km=[1.0]), FLAT, GRID)
    far = _dist_km() > 1.0
    assert np.isnan(cov.rsrp_dbm[far]).all() and np.isfinite(cov.rsrp_dbm[~far]).all()


@pytest.mark.parametrize("azimuth_deg", [0.0, 90.0, 225.0], ids=["north", "east", "south-west"])
def test_sector_peak_lies_along_its_azimuth(azimuth_deg):
    cells = _omni(pattern_id=[-1], azimuth_deg=[azimuth_deg], gain_dbi=[17.0])
    cov = predict_coverage(cells, FLAT, GRID)
    xx, yy = GRID.centres()
    ring = np.abs(_dist_km() - 2.0) < 0.05
    r, c = np.argwhere(ring)[np.nanargmax(cov.rsrp_dbm[ring])]
    bearing = math.degrees(math.atan2(xx[r, c], yy[r, c])) % 360.0
    assert abs((bearing - azimuth_deg + 180.0) % 360.0 - 180.0) < 3.0


def test_sector_gain_matches_the_3gpp_pattern():
    cells = _omni(pattern_id=[-1], azimuth_deg=[40.0], gain_dbi=[17.0], mech_tilt_deg=[2.0], elec_tilt_deg=[4.0])
    omni = predict_coverage(_omni(), FLAT, GRID).rsrp_dbm
    cov = predict_coverage(cells, FLAT, GRID).rsrp_dbm
    xx, yy = GRID.centres()
    d_m = _dist_km() * 1000.0
    elev = np.degrees(np.arctan2(1.5 - 30.0, d_m))
    az_off = np.degrees(np.arctan2(xx, yy)) - 40.0
    gain = sector_gain_db(az_off, elev, 6.0)
    np.testing.assert_allclose(cov - omni, 17.0 + gain, atol=3e-4)


@pytest.mark.parametrize("tilt_deg", [3.0, 8.0], ids=["3deg", "8deg"])
def test_more_downtilt_moves_the_peak_inward(tilt_deg):
    grid = GridSpec(-100.0, 6000.0, 20.0, 300, 10)
    elev = np.zeros(grid.shape)
    base = dict(pattern_id=[-1], gain_dbi=[17.0], sla_v_db=[30.0], am_db=[40.0], radius_km=[7.0])
    # gain along the boresight = RSRP minus the omni RSRP
    omni = predict_coverage(_omni(radius_km=[7.0]), elev, grid).rsrp_dbm[:, 5]
    g0 = predict_coverage(_omni(mech_tilt_deg=[tilt_deg - 2.0], **base), elev, grid).rsrp_dbm[:, 5] - omni
    g1 = predict_coverage(_omni(mech_tilt_deg=[tilt_deg], **base), elev, grid).rsrp_dbm[:, 5] - omni
    d = _dist_km(grid)[:, 5]
    # rows go north to south: peak distance is where the gain is highest
    assert d[np.nanargmax(g1)] < d[np.nanargmax(g0)]


def test_sinr_and_throughput_follow_their_definitions():
    cells = cell_matrix(
        x_m=[-1000.0, 1000.0, 0.0], y_m=[0.0, 0.0, 1500.0], height_m=[30.0, 25.0, 35.0], azimuth_deg=[0.0, 0.0, 0.0],
        freq_mhz=[900.0, 900.0, 1800.0], rs_power_dbm=[15.0, 18.0, 12.0], bandwidth_mhz=[10.0, 10.0, 20.0],
        pattern_id=[-2, -2, -2], gain_dbi=[0.0, 0.0, 0.0], load=[0.5, 0.7, 1.0], radius_km=[10.0, 10.0, 10.0],
    )  # fmt: skip
    cfg = EngineConfig(model="hata", noise_figure_db=7.0)
    cov = predict_coverage(cells, FLAT, GRID, cfg, per_cell=True)
    p = cov.per_cell.astype(np.float64)
    np.testing.assert_array_equal(cov.best_cell, np.argmax(p, axis=0))
    np.testing.assert_allclose(cov.rsrp_dbm, p.max(axis=0), atol=1e-4)
    mw = 10.0 ** (p / 10.0)
    best = np.argmax(p, axis=0)
    freq = cells[:, 7]
    load = cells[:, 12]
    noise_mw = 10.0 ** ((THERMAL_NOISE_DBM_PER_HZ + 10 * np.log10(15e3) + 7.0) / 10.0)
    interf = np.zeros(GRID.shape)
    for j in range(3):
        same = (freq[j] == freq[best]) & (best != j)
        interf += np.where(same, load[j] * mw[j], 0.0)
    sig = np.take_along_axis(mw, best[None], 0)[0]
    sinr = 10 * np.log10(sig / (interf + noise_mw))
    np.testing.assert_allclose(cov.sinr_db, sinr, atol=1e-3)
    bw = cells[best, 11]
    np.testing.assert_allclose(cov.dl_mbps, bw * truncated_shannon_bps_hz(cov.sinr_db.astype(float), *SHANNON_DL),
                               rtol=1e-5, atol=1e-5)  # fmt: skip
    assert np.all(cov.ul_mbps >= 0) and np.all(cov.ul_mbps <= bw * 2.0 + 1e-4)


def test_serial_equals_parallel():
    rng = np.random.default_rng(3)
    elev = rng.uniform(0, 80, GRID.shape)
    cells = cell_matrix(
        x_m=[-500.0, -500.0, 800.0], y_m=[200.0, 200.0, -900.0], height_m=[30.0, 30.0, 25.0],
        azimuth_deg=[30.0, 150.0, 270.0], freq_mhz=[1800.0] * 3, rs_power_dbm=[15.0] * 3, bandwidth_mhz=[20.0] * 3,
        radius_km=[4.0] * 3,
    )  # fmt: skip
    cfg = EngineConfig(model="spm", terrain="delta-bullington", tile_px=32)
    par = predict_coverage(cells, elev, GRID, cfg).bands()
    n = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        ser = predict_coverage(cells, elev, GRID, cfg).bands()
    finally:
        numba.set_num_threads(n)
    np.testing.assert_array_equal(par, ser)


def test_tiles_do_not_change_the_result():
    rng = np.random.default_rng(4)
    elev = rng.uniform(0, 50, GRID.shape)
    cells = _omni(pattern_id=[-1], azimuth_deg=[100.0])
    a = predict_coverage(cells, elev, GRID, EngineConfig(terrain="delta-bullington", tile_px=17)).bands()
    b = predict_coverage(cells, elev, GRID, EngineConfig(terrain="delta-bullington", tile_px=4096)).bands()
    np.testing.assert_allclose(a, b, atol=1e-4, equal_nan=True)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(model="okumura"), "model must be one of"),
        (dict(terrain="itm-x"), "terrain must be one of"),
        (dict(rx_height_m=0.0), "rx_height_m must be"),
    ],
    ids=["model", "terrain", "rx-height"],
)
def test_config_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        EngineConfig(**kwargs)


@pytest.mark.parametrize(
    "column, value, match",
    [("height_m", -5.0, "height_m must be > 0"), ("load", 1.5, "load must lie in"), ("freq_mhz", np.nan, "finite")],
    ids=["height", "load", "freq-nan"],
)
def test_cell_matrix_rejects_impossible_values(column, value, match):
    with pytest.raises(ValueError, match=match):
        _omni(**{column: [value]})


def test_dem_voids_are_refused():
    elev = FLAT.copy()
    elev[3, 3] = np.nan
    with pytest.raises(ValueError, match="voids"):
        predict_coverage(_omni(), elev, GRID)


@pytest.mark.parametrize("terrain", ["none", "delta-bullington"], ids=["closed-form", "terrain"])
def test_points_mode_matches_the_raster_at_pixel_centres(terrain):
    from propagation.engine import predict_points, terrain_loss_reference

    rng = np.random.default_rng(8)
    elev = 100.0 + rng.uniform(0, 60, GRID.shape)
    cells = cell_matrix(
        x_m=[-500.0, 800.0], y_m=[200.0, -900.0], height_m=[30.0, 25.0], azimuth_deg=[30.0, 270.0],
        freq_mhz=[1800.0] * 2, rs_power_dbm=[15.0] * 2, bandwidth_mhz=[20.0] * 2, radius_km=[5.0] * 2,
    )  # fmt: skip
    cfg = EngineConfig(model="cost231", terrain=terrain)
    rows, cols = rng.integers(5, 55, 40), rng.integers(5, 55, 40)
    xx, yy = GRID.centres()
    pts = predict_points(cells, elev, GRID, xx[rows, cols], yy[rows, cols], cfg, ground_m=elev[rows, cols])
    if terrain == "none":
        ras = predict_coverage(cells, elev, GRID, cfg, per_cell=True).per_cell[:, rows, cols].T
        np.testing.assert_allclose(pts, ras, atol=2e-4)
    else:
        flat = predict_points(cells, elev, GRID, xx[rows, cols], yy[rows, cols], EngineConfig(model="cost231"),
                              ground_m=elev[rows, cols])  # fmt: skip
        ref = terrain_loss_reference(elev, GRID.x0_m, GRID.y0_m, GRID.pixel_m, -500.0, 200.0, 30.0, 1.5, 1800.0,
                                     rows, cols)  # fmt: skip
        np.testing.assert_allclose(flat[:, 0] - pts[:, 0], ref, atol=1e-4)  # float32 DEM in the kernel


@pytest.mark.parametrize("link", ["dl", "ul"])
def test_capped_shannon_is_bit_identical_to_truncated_shannon(link):
    from propagation.engine.combine import (
        SHANNON_DL_CAP_DB, SHANNON_DL_PARAMS, SHANNON_UL_CAP_DB, SHANNON_UL_PARAMS, _shannon_capped,
    )  # fmt: skip
    from propagation.throughput import _truncated_shannon

    alpha, lo, hi = SHANNON_DL_PARAMS if link == "dl" else SHANNON_UL_PARAMS
    cap = SHANNON_DL_CAP_DB if link == "dl" else SHANNON_UL_CAP_DB
    sinr = np.concatenate([np.linspace(-20.0, 60.0, 20001), cap + np.linspace(-1e-5, 1e-5, 2001), [np.nan]])
    got = np.array([_shannon_capped(s, alpha, lo, hi, cap) for s in sinr])
    want = np.array([_truncated_shannon(s, alpha, lo, hi) for s in sinr])
    np.testing.assert_array_equal(got, want)
    assert (sinr > cap).sum() > 1000  # the shortcut is exercised
