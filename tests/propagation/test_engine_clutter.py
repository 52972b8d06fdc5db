"""Raster and points engine with ITU-R P.2108 clutter: per-carrier clutter planes and the statistical mask."""

import warnings

import numpy as np
import pytest

from propagation import free_space_loss_db, p2108_clutter_loss_db, p2108_height_gain_db
from propagation._validity import ValidityRangeWarning
from propagation.engine import EngineConfig, GridSpec, cell_matrix, predict_coverage, predict_points

# 6 x 6 km around the mast: pixel centres from 0.07 km (inside the 0.25 km clamp) to 4.2 km (beyond the 2 km cap)
GRID = GridSpec(-3000.0, 3000.0, 100.0, 60, 60)
FLAT = np.zeros(GRID.shape)
FSPL = EngineConfig(model="fspl")
FREQS_MHZ = (900.0, 3500.0)


def _two_carriers(freqs=FREQS_MHZ):
    """Two co-sited omni cells on different carriers (freq_index 0 and 1 in sorted order)."""
    n = len(freqs)
    return cell_matrix(x_m=[0.0] * n, y_m=[0.0] * n, height_m=[30.0] * n, azimuth_deg=[0.0] * n,
                       freq_mhz=list(freqs), rs_power_dbm=[15.0] * n, bandwidth_mhz=[10.0] * n,
                       pattern_id=[-2] * n, gain_dbi=[0.0] * n, radius_km=[10.0] * n)  # fmt: skip


def _dist_km():
    xx, yy = GRID.centres()
    return np.hypot(xx, yy) / 1000.0


def _random_mask(seed=3):
    return np.random.default_rng(seed).random(GRID.shape) < 0.5


def _height_gain_planes(freqs=FREQS_MHZ, h_rx_m=1.5):
    """A class map of urban / open_rural / nothing, turned into one P.2108 section 3.1 plane per carrier."""
    classes = np.random.default_rng(7).integers(0, 3, GRID.shape)
    planes = np.zeros((len(freqs),) + GRID.shape, np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidityRangeWarning)  # 3500 MHz lies above section 3.1's 3 GHz
        for k, f in enumerate(freqs):
            urban = float(p2108_height_gain_db(f, h_rx_m, "urban", clutter_height_m=15.0, strict=False))
            rural = float(p2108_height_gain_db(f, h_rx_m, "open_rural", clutter_height_m=10.0, strict=False))
            planes[k] = np.select([classes == 1, classes == 2], [urban, rural], 0.0)
    return planes


@pytest.mark.filterwarnings("ignore::propagation.ValidityRangeWarning")
def test_per_carrier_clutter_planes_apply_to_each_carriers_cells():
    planes = _height_gain_planes()
    cov = predict_coverage(_two_carriers(), FLAT, GRID, FSPL, clutter_db=planes, per_cell=True)
    d = _dist_km()
    for k, f in enumerate(FREQS_MHZ):
        expected = 15.0 - free_space_loss_db(f, d) - planes[k]
        np.testing.assert_allclose(cov.per_cell[k], expected, atol=1e-4)
    assert np.abs(planes[1] - planes[0]).max() > 1.0  # the carriers really got different losses


def test_a_single_2d_plane_and_identical_3d_planes_are_bit_identical():
    plane = _height_gain_planes()[0]
    cells = _two_carriers()
    flat2d = predict_coverage(cells, FLAT, GRID, FSPL, clutter_db=plane, per_cell=True)
    stacked = predict_coverage(cells, FLAT, GRID, FSPL, clutter_db=np.stack([plane, plane]), per_cell=True)
    np.testing.assert_array_equal(flat2d.per_cell, stacked.per_cell)
    np.testing.assert_array_equal(flat2d.bands(), stacked.bands())


def _expected_stat_db(freq_mhz, location_pct, mask):
    d = np.maximum(_dist_km(), 0.25)  # the engine's clamp to the Recommendation's shortest path
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidityRangeWarning)
        loss = p2108_clutter_loss_db(freq_mhz, d, location_pct, strict=False)
    return np.where(mask, loss, 0.0)


@pytest.mark.parametrize("location_pct", [10.0, 50.0, 90.0], ids=["p10", "p50-median", "p90-falls-beyond-2km"])
def test_statistical_clutter_loss_equals_the_public_function_at_every_pixel(location_pct):
    mask = _random_mask()
    d = _dist_km()
    assert (mask & (d < 0.25)).any() and (mask & (d > 2.0)).any()  # clamp and cap are both exercised
    cfg = EngineConfig(model="fspl", clutter_location_pct=location_pct)
    cov = predict_coverage(_two_carriers(), FLAT, GRID, cfg, clutter_stat_mask=mask, per_cell=True)
    for k, f in enumerate(FREQS_MHZ):
        expected = 15.0 - free_space_loss_db(f, d) - _expected_stat_db(f, location_pct, mask)
        np.testing.assert_allclose(cov.per_cell[k], expected, atol=1e-4)


def test_statistical_loss_differs_by_carrier_and_is_capped_beyond_2km():
    mask = np.ones(GRID.shape, bool)
    cov = predict_coverage(_two_carriers(), FLAT, GRID, FSPL, clutter_stat_mask=mask, per_cell=True)
    d = _dist_km()
    loss = [15.0 - free_space_loss_db(f, d) - cov.per_cell[k] for k, f in enumerate(FREQS_MHZ)]
    far = d > 2.0
    for k, f in enumerate(FREQS_MHZ):
        np.testing.assert_allclose(loss[k][far], float(p2108_clutter_loss_db(f, 2.0)), atol=1e-4)
        np.testing.assert_allclose(loss[k][d < 0.25], float(p2108_clutter_loss_db(f, 0.25)), atol=1e-4)
    assert np.all(loss[1] - loss[0] > 1.0)  # 3500 MHz loses more than 900 MHz


@pytest.mark.parametrize("mask", [None, np.zeros(GRID.shape, bool), np.zeros(GRID.shape, np.uint8)],
                         ids=["none", "bool-zeros", "uint8-zeros"])  # fmt: skip
def test_an_empty_stat_mask_changes_nothing(mask):
    cells = _two_carriers()
    plane = _height_gain_planes()[0]
    base = predict_coverage(cells, FLAT, GRID, EngineConfig(model="hata"), clutter_db=plane, per_cell=True)
    got = predict_coverage(cells, FLAT, GRID, EngineConfig(model="hata"), clutter_db=plane, per_cell=True,
                           clutter_stat_mask=mask)  # fmt: skip
    np.testing.assert_array_equal(base.bands(), got.bands())
    np.testing.assert_array_equal(base.per_cell, got.per_cell)


@pytest.mark.parametrize("location_pct", [50.0, 90.0], ids=["p50", "p90"])
@pytest.mark.filterwarnings("ignore::propagation.ValidityRangeWarning")
def test_points_mode_equals_raster_mode_at_pixel_centres(location_pct):
    cells = _two_carriers()
    planes = _height_gain_planes()
    mask = _random_mask()
    cfg = EngineConfig(model="fspl", clutter_location_pct=location_pct)
    cov = predict_coverage(cells, FLAT, GRID, cfg, clutter_db=planes, clutter_stat_mask=mask, per_cell=True)
    rows, cols = np.nonzero(np.isfinite(cov.rsrp_dbm))
    xx, yy = GRID.centres()
    pts = predict_points(cells, FLAT, GRID, xx[rows, cols], yy[rows, cols], cfg,
                         clutter_db=planes[:, rows, cols], clutter_stat_mask=mask[rows, cols])  # fmt: skip
    np.testing.assert_allclose(pts, cov.per_cell[:, rows, cols].T, atol=1e-4)


def test_points_accept_a_subset_of_cells_with_the_full_matrixs_planes():
    cells = _two_carriers()
    planes = np.array([[1.0, 2.0], [10.0, 20.0]])  # (n_freq, n_points)
    x, y = np.array([500.0, 0.0]), np.array([0.0, 800.0])
    both = predict_points(cells, FLAT, GRID, x, y, FSPL, clutter_db=planes)
    second = predict_points(cells[1:], FLAT, GRID, x, y, FSPL, clutter_db=planes)
    np.testing.assert_array_equal(second[:, 0], both[:, 1])
    no_clutter = predict_points(cells, FLAT, GRID, x, y, FSPL)
    np.testing.assert_allclose(no_clutter - both, planes.T, atol=1e-12)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(clutter_db=np.zeros((3,) + GRID.shape)), "3 frequency planes, the cells have 2 carrier"),
        (dict(clutter_db=np.zeros((61, 60))), r"clutter_db has shape \(61, 60\)"),
        (dict(clutter_db=np.zeros((2, 60, 59))), r"clutter_db has shape \(2, 60, 59\)"),
        (dict(clutter_db=np.full(GRID.shape, np.nan)), "clutter_db must be finite"),
        (dict(clutter_stat_mask=np.ones((60, 61), bool)), r"clutter_stat_mask has shape \(60, 61\)"),
        (dict(clutter_stat_mask=np.ones(GRID.shape, np.float64)), "clutter_stat_mask must be boolean"),
    ],
    ids=["too-many-planes", "wrong-2d", "wrong-3d", "nan", "mask-shape", "mask-float"],
)
def test_raster_shape_errors_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        predict_coverage(_two_carriers(), FLAT, GRID, FSPL, **kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(clutter_db=np.zeros(3)), r"clutter_db has shape \(3,\)"),
        (dict(clutter_db=np.zeros((1, 3))), r"clutter_db has shape \(1, 3\)"),
        (dict(clutter_stat_mask=np.ones(3, bool)), r"clutter_stat_mask has shape \(3,\)"),
    ],
    ids=["clutter-length", "clutter-planes-length", "mask-length"],
)
def test_points_shape_errors_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        predict_points(_two_carriers(), FLAT, GRID, [0.0, 100.0], [100.0, 0.0], FSPL, **kwargs)


@pytest.mark.parametrize("location_pct", [0.0, 100.0, -5.0, float("nan")], ids=["0", "100", "negative", "nan"])
def test_location_pct_outside_0_100_is_refused(location_pct):
    with pytest.raises(ValueError, match="clutter_location_pct must lie strictly between 0 and 100"):
        EngineConfig(clutter_location_pct=location_pct)


def test_carrier_outside_the_statistical_range_warns_once_and_extrapolates():
    cells = _two_carriers((400.0, 900.0))
    with pytest.warns(ValidityRangeWarning, match=r"freq_mhz 400 outside .*P.2108-1 section 3.2.*\[500, 67000\] MHz") as rec:
        cov = predict_coverage(cells, FLAT, GRID, FSPL, clutter_stat_mask=np.ones(GRID.shape, bool), per_cell=True)
    assert len([w for w in rec if issubclass(w.category, ValidityRangeWarning)]) == 1
    assert np.isfinite(cov.per_cell).all()


def test_no_warning_without_a_mask():
    with warnings.catch_warnings():
        warnings.simplefilter("error", ValidityRangeWarning)
        predict_coverage(_two_carriers((400.0, 900.0)), FLAT, GRID, FSPL, clutter_stat_mask=np.zeros(GRID.shape, bool))
