"""``--terrain itm``: the radial-sweep ITM vs its per-pixel reference (straight profile, public model).

Accuracy is judged by the error distribution (issue 15): mean |error| <= 0.3 dB, 95th percentile <= 1.5 dB,
>= 99 % within 3 dB of the exact reference.  The limits below are the figures reached, with a little margin.
"""

import warnings

import numpy as np
import pytest

from propagation import ValidityRangeWarning, free_space_loss_db, itm_p2p_loss_db
from propagation.engine import (
    EngineConfig,
    GridSpec,
    cell_matrix,
    itm_loss_reference,
    itm_loss_sweep,
    predict_coverage,
    predict_points,
)
from tests.propagation.sweep_worlds import compare_sweep, dem_30m, rough_dem


def _compare(elev, px, h_tx, freq, n_sample, seed):
    return compare_sweep(itm_loss_sweep, itm_loss_reference, elev, px, h_tx, freq, n_sample, seed)


# (mean |e|, p95, share within 3 dB) with the defaults, plus margin (301 x 301 px windows, 4.5 km radius,
# 30 m mast, 1200 random px).  Reached: gentle synthetic 0.175 / 0.64 dB / 99.58 %, test world 0.154 /
# 0.59 dB / 100 %, Jacksboro 0.219 / 0.94 dB / 99.33 % -- inside the goals (0.3 dB, 1.5 dB, 99 %).
LIMITS = {
    "gentle": (0.21, 0.8, 0.99),
    "dem.tif": (0.19, 0.75, 0.995),
    "jacksboro_dem.tif": (0.26, 1.1, 0.99),
}


@pytest.mark.parametrize("name", list(LIMITS), ids=list(LIMITS))
def test_sweep_matches_the_per_pixel_reference_in_distribution(name):
    if name == "gentle":
        elev = rough_dem(161, 10.0, 10.0, 3)
        freq = 2600.0
    else:
        e = dem_30m(name)
        r0, c0 = e.shape[0] // 2 - 150, e.shape[1] // 2 - 150
        elev = e[r0 : r0 + 301, c0 : c0 + 301]
        freq = 900.0
    fast, ref = _compare(elev, 30.0, 30.0, freq, 1200, 7)
    err = np.abs(fast - ref)
    mean_max, p95_max, within3_min = LIMITS[name]
    assert err.mean() <= mean_max
    assert np.percentile(err, 95) <= p95_max
    assert (err <= 3.0).mean() >= within3_min


def test_flat_earth_sweep_equals_the_reference():
    fast, ref = _compare(np.zeros((121, 121)), 30.0, 30.0, 900.0, 400, 5)
    np.testing.assert_allclose(fast, ref, atol=1e-4)


def test_reference_is_the_public_model_minus_free_space():
    e = rough_dem(41, 30.0, 3.0, 4)
    px = 30.0
    ref = itm_loss_reference(e, 0.0, 41 * px, px, 20.5 * px, 20.5 * px, 30.0, 1.5, 900.0, [0], [40])
    d = np.hypot(20.0 * px, 20.0 * px)  # to the centre of pixel (row 0, col 40): (40.5, 40.5) px
    n = int(np.ceil(d / px))
    x = 20.5 * px + np.linspace(0, 1, n + 1) * 20.0 * px
    y = 20.5 * px + np.linspace(0, 1, n + 1) * 20.0 * px
    # straight profile sampled bilinearly (pixel centres at (c + 0.5) px, rows from the top)
    from propagation.engine._profile import _bilinear_np

    z = _bilinear_np(e.astype(float), 0.0, 41 * px, px, x, y)
    z[-1] = e[0, 40]
    with warnings.catch_warnings(record=True) as rec:  # a 0.84 km path (and a steep receiver horizon)
        warnings.simplefilter("always")
        loss = itm_p2p_loss_db(z, d / n, 30.0, 1.5, 900.0, strict=False)
    assert any(issubclass(w.category, ValidityRangeWarning) and "path length" in str(w.message) for w in rec)
    fs = 32.45 + 20 * np.log10(900.0) + 20 * np.log10(d / 1000)
    assert ref[0] == pytest.approx(loss - fs, abs=1e-9)


def test_sweep_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"freq_mhz must lie in \[20, 20000\] MHz for ITM"):
        itm_loss_sweep(np.zeros((9, 9)), 0.0, 270.0, 30.0, 135.0, 135.0, 30.0, 1.5, 10.0, 100.0)
    with pytest.raises(ValueError, match="climate must be one of"):
        itm_loss_sweep(np.zeros((9, 9)), 0.0, 270.0, 30.0, 135.0, 135.0, 30.0, 1.5, 900.0, 100.0, climate=9)


def test_engine_config_validates_itm_settings():
    with pytest.raises(ValueError, match="itm_\\* setting: refractivity_n0 must lie in"):
        EngineConfig(terrain="itm", itm_refractivity_n0=100.0)
    assert EngineConfig(terrain="itm").itm_params().shape == (12,)


def _one_cell(freq=900.0):
    return cell_matrix(x_m=[1500.0], y_m=[1500.0], height_m=[30.0], azimuth_deg=[0.0], freq_mhz=[freq],
                       rs_power_dbm=[15.0], bandwidth_mhz=[10.0], pattern_id=[-2], gain_dbi=[0.0], radius_km=[1.4])  # fmt: skip


def test_fspl_plus_itm_terrain_is_the_itm_prediction_in_raster_and_points():
    elev = rough_dem(100, 25.0, 4.0, 9)
    grid = GridSpec(0.0, 3000.0, 30.0, 100, 100)
    cells = _one_cell()
    from propagation.engine._profile import _bilinear_np

    cells[0, 2] = _bilinear_np(elev, 0.0, 3000.0, 30.0, np.array([1500.0]), np.array([1500.0]))[0]  # ground_m
    cfg = EngineConfig(model="fspl", terrain="itm", min_dist_km=0.001)
    cov = predict_coverage(cells, elev, grid, cfg, per_cell=True)
    rows = np.array([20, 80, 50, 30])
    cols = np.array([30, 75, 90, 60])
    x = grid.x0_m + (cols + 0.5) * grid.pixel_m
    y = grid.y0_m - (rows + 0.5) * grid.pixel_m
    pts = predict_points(cells, elev, grid, x, y, cfg, ground_m=elev[rows, cols])[:, 0]
    ref = itm_loss_reference(elev, 0.0, 3000.0, 30.0, 1500.0, 1500.0, 30.0, 1.5, 900.0, rows, cols,
                             polarization="horizontal")  # fmt: skip
    d_km = np.hypot(x - 1500.0, y - 1500.0) * 1e-3
    expected = 15.0 - np.maximum(free_space_loss_db(900.0, d_km) + ref, free_space_loss_db(900.0, d_km))
    np.testing.assert_allclose(pts, expected, atol=0.01)  # points mode: the exact profile (FSPL constants differ 0.002 dB)
    sweep = cov.per_cell[0][rows, cols]
    assert np.max(np.abs(sweep - pts)) < 3.0


def test_pixel_a_ref_equals_longley_rice_including_the_troposcatter_skip():
    """The engine's A_ref (troposcatter lines skipped where the diffraction line decides) is longley_rice's."""
    from propagation import _itm_core as _c
    from propagation.engine._itm_pixel import _a_ref_db
    from propagation.engine.terrain_itm import _ground_impedance, itm_params

    rng = np.random.default_rng(3)
    n_skip = n_los = n_full = 0
    for _ in range(3000):
        f = float(rng.choice([100.0, 900.0, 3500.0]))
        z_g = _ground_impedance(f, itm_params(polarization=str(rng.choice(["vertical", "horizontal"]))))
        h_tx, h_rx = rng.uniform(2.0, 100.0), rng.uniform(1.0, 10.0)
        he_tx, he_rx = h_tx + rng.uniform(0.0, 50.0), h_rx + rng.uniform(0.0, 20.0)
        d_m = 10.0 ** rng.uniform(3.0, 5.5)
        args = (rng.uniform(-0.01, 0.03), rng.uniform(-0.01, 0.05), f, z_g, rng.uniform(100.0, 0.6 * d_m),
                rng.uniform(50.0, 0.4 * d_m), he_tx, he_rx, rng.uniform(1.0 / 9e6, 1.0 / 7e6), rng.uniform(260.0, 350.0),
                rng.uniform(0.0, 300.0), h_tx, h_rx, d_m)  # fmt: skip
        a_ref, mode, _w, err = _c.longley_rice(*args)
        assert err == 0
        assert _a_ref_db(*args) == a_ref  # bit for bit: the same operations in the same order
        n_los += mode == _c.MODE_LOS
        n_full += mode == _c.MODE_TROPOSCATTER
        n_skip += mode == _c.MODE_DIFFRACTION
    assert min(n_los, n_skip, n_full) > 50  # every branch exercised
    bad = _c.longley_rice(0.01, 0.01, 900.0, complex(0.1, 0.5), 5e3, 5e3, 30.0, 3.0, 1.0 / 8.5e6, 301.0, 50.0, 30.0,
                          1.5, 20e3)  # fmt: skip
    assert bad[3] == _c.E_GROUND_IMPEDANCE
    assert np.isnan(_a_ref_db(0.01, 0.01, 900.0, complex(0.1, 0.5), 5e3, 5e3, 30.0, 3.0, 1.0 / 8.5e6, 301.0, 50.0,
                              30.0, 1.5, 20e3))  # fmt: skip



def test_sweep_los_a_ref_and_variability_equal_the_model_kernels():
    """The sweep's per-pixel ITM (constants hoisted per sweep, no pow) is longley_rice + variability_db to rounding."""
    from propagation import _itm_core as _c
    from propagation.engine import _itm_fast as _f
    from propagation.engine.terrain_itm import _ground_impedance, itm_params

    rng = np.random.default_rng(11)
    n_los = n_two = 0
    for _ in range(4000):
        f = float(rng.choice([100.0, 900.0, 3500.0, 12000.0]))
        pol = str(rng.choice(["vertical", "horizontal"]))
        prm = itm_params(polarization=pol, climate=int(rng.integers(1, 8)), mdvar=int(rng.choice([0, 1, 2, 3, 12, 23])),
                         time_pct=rng.uniform(1, 99), location_pct=rng.uniform(1, 99), situation_pct=rng.uniform(1, 99))  # fmt: skip
        z_g = _ground_impedance(f, prm)
        kc = _f.sweep_constants(f, z_g, prm[6], prm[7], prm[8], prm[0], prm[5])
        h_tx, h_rx = rng.uniform(2.0, 100.0), rng.uniform(1.0, 10.0)
        he_tx, he_rx = h_tx + rng.uniform(0.0, 50.0), h_rx + rng.uniform(0.0, 20.0)
        gamma = rng.uniform(1.0 / 9e6, 1.0 / 7e6)
        d_sml = np.sqrt(2 * he_tx / gamma) + np.sqrt(2 * he_rx / gamma)
        d_m = d_sml * rng.uniform(0.02, 0.999)
        dh_tx, dh_rx = rng.uniform(100.0, 0.8 * d_m), rng.uniform(30.0, 0.5 * d_m)
        th_tx, th_rx, n_s, dh = rng.uniform(-0.01, 0.03), rng.uniform(-0.01, 0.05), rng.uniform(260.0, 350.0), rng.uniform(0.0, 300.0)
        a_ref, mode, _w, err = _c.longley_rice(th_tx, th_rx, f, z_g, dh_tx, dh_rx, he_tx, he_rx, gamma, n_s, dh, h_tx,
                                               h_rx, d_m)  # fmt: skip
        assert err == 0 and mode == _c.MODE_LOS
        fast = _f.a_ref_los_db(th_tx, th_rx, dh_tx, dh_rx, he_tx, he_rx, 1.0 / gamma, d_sml, dh, h_tx, h_rx, d_m, kc)
        assert fast == pytest.approx(a_ref, rel=1e-11, abs=1e-9)
        var, _w2 = _c.variability_db(prm[6], prm[7], prm[8], he_tx, he_rx, dh, f, d_m, a_ref, int(prm[0]), int(prm[5]))
        assert _f.variability_db(kc, he_tx, he_rx, dh, d_m, a_ref) == pytest.approx(var, rel=1e-12, abs=1e-10)
        n_los += 1
        n_two += a_ref > 0.0
    assert n_two > 1000  # not only the clipped zero


def test_knot_schedule_is_fixed_and_indexed():
    from propagation.engine.terrain_itm import DH_KNOT_MIN, DH_KNOT_REL, knot_schedule

    knot_n, knot_at = knot_schedule(600)
    assert knot_n[0] == 2 and knot_n[-1] > 601
    assert np.array_equal(np.diff(knot_n), np.maximum(DH_KNOT_MIN, (DH_KNOT_REL * knot_n[:-1]).astype(int)))
    for n in range(2, 602):
        assert knot_n[knot_at[n]] <= n < knot_n[knot_at[n] + 1]


def test_tile_layout_moves_few_pixels_little():
    """Knots at fixed positions along each ray: a window starting mid-ray takes the whole disk's knots
    (their end offsets aside), so 64 px tiles move few pixels, by little."""
    from propagation.engine import itm_loss_sweep

    elev = rough_dem(241, 40.0, 6.0, 3)
    px, n = 30.0, 241
    x0, y0 = 0.0, n * px
    xs, ys = (n / 2 + 0.13) * px, y0 - (n / 2 + 0.41) * px
    radius = 0.5 * n * px - px
    whole = itm_loss_sweep(elev, x0, y0, px, xs, ys, 30.0, 1.5, 900.0, radius)
    tiled = np.full_like(whole, np.nan)
    for r in range(0, n, 64):
        for c in range(0, n, 64):
            w = (r, min(r + 64, n), c, min(c + 64, n))
            tiled[w[0]:w[1], w[2]:w[3]] = itm_loss_sweep(elev, x0, y0, px, xs, ys, 30.0, 1.5, 900.0, radius, window=w)
    ok = np.isfinite(whole)
    assert np.array_equal(ok, np.isfinite(tiled))
    d = np.abs(tiled - whole)[ok]
    assert (d > 1e-3).mean() < 0.14 and d.mean() < 0.045  # 9 %, 0.035 dB; before the fixed schedule 18.5 %, 0.052 dB
