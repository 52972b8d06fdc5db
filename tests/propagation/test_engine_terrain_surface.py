"""Terrain diffraction over a building/obstacle surface (issue 12, ``surface_m`` / ``--surface``).

* one wall across a flat path: the loss computed by hand from ITU-R P.526-15
  eqs. (26), (31) and P.1812-6 eq. (21) (single knife edge, Bullington
  correction), equal in the reference, the radial sweep and the points mode;
* the receiver's own pixel: a wall in the last pixel before the receiver is
  its own building (no obstruction), one pixel farther it counts;
* the sweep against the per-pixel reference on the synthetic urban district
  (5 m buildings up to 50 m): the terrain sweep's accuracy goals (mean |error|
  0.15 dB, P95 1 dB, 99.5 % within 3 dB);
* raster vs points mode at the same pixel centres;
* validation of ``surface_m``.
"""

import math
from pathlib import Path

import numpy as np
import pytest

from propagation.engine import EngineConfig, GridSpec, cell_matrix, predict_coverage, terrain_loss_reference, terrain_loss_sweep
from propagation.engine.points import predict_points

DISTRICT = Path(__file__).resolve().parents[2] / "testdata" / "district"
PX = 5.0
FLAT = np.zeros((41, 121))
X0, Y0 = 0.0, 41 * PX
XS, YS = 10.5 * PX, Y0 - 20.5 * PX  # transmitter at the centre of pixel (20, 10); receiver pixel (20, 90): 400 m east


def _wall(col, height_m=20.0):
    s = np.zeros_like(FLAT)
    s[:, col] = height_m
    return s


def _hand_wall_loss_db(h_wall_m, d1_km, d2_km, h_tx_m, h_rx_m, freq_mhz, k_factor=4.0 / 3.0):
    """Single knife edge on flat ground, by hand: P.526-15 eq. (26) v with the earth bulge, J(v) eq. (31),
    then P.1812-6 eq. (21)'s Bullington correction (delta-Bullington adds nothing more on this short flat path)."""
    d_km = d1_km + d2_km
    lam_m = 0.2998 / (freq_mhz * 1e-3)  # P.1812-6's wavelength constant
    bulge_m = 500.0 * d1_km * d2_km / (6371.0 * k_factor)
    line_m = (h_tx_m * d2_km + h_rx_m * d1_km) / d_km
    v = (h_wall_m + bulge_m - line_m) * math.sqrt(0.002 * d_km / (lam_m * d1_km * d2_km))
    j_db = 6.9 + 20.0 * math.log10(math.sqrt((v - 0.1) ** 2 + 1.0) + v - 0.1)
    return j_db + (1.0 - math.exp(-j_db / 6.0)) * (10.0 + 0.02 * d_km)


def _one_cell(x, y, h_tx_m, freq_mhz=900.0, radius_km=0.5):
    return cell_matrix(x_m=[x], y_m=[y], height_m=[h_tx_m], azimuth_deg=[0.0], freq_mhz=[freq_mhz], rs_power_dbm=[15.0],
                       bandwidth_mhz=[10.0], pattern_id=[-2], gain_dbi=[0.0], radius_km=[radius_km])


def test_one_wall_gives_the_hand_computed_knife_edge_loss_in_every_mode():
    hand = _hand_wall_loss_db(20.0, 0.2, 0.2, 10.0, 1.5, 900.0)
    assert hand == pytest.approx(33.53, abs=0.01)  # v = 3.49, J = 23.71 dB
    ref = terrain_loss_reference(FLAT, X0, Y0, PX, XS, YS, 10.0, 1.5, 900.0, [20], [90], surface_m=_wall(50))[0]
    sweep = terrain_loss_sweep(FLAT, X0, Y0, PX, XS, YS, 10.0, 1.5, 900.0, 500.0, surface_m=_wall(50), n_rays=400)
    grid = GridSpec(X0, Y0, PX, *FLAT.shape)
    cfg = EngineConfig(model="fspl", terrain="delta-bullington")
    cell = _one_cell(XS, YS, 10.0)
    pts = predict_points(cell, FLAT, grid, [90.5 * PX], [YS], cfg, surface_m=_wall(50))[0, 0]
    free = predict_points(cell, FLAT, grid, [90.5 * PX], [YS], cfg)[0, 0]
    assert ref == pytest.approx(hand, abs=0.01)
    assert float(sweep[20, 90]) == pytest.approx(hand, abs=0.01)
    assert free - pts == pytest.approx(hand, abs=0.01)


def test_wall_without_surface_is_flat_ground():
    sweep = terrain_loss_sweep(FLAT, X0, Y0, PX, XS, YS, 10.0, 1.5, 900.0, 500.0, n_rays=400)
    assert float(np.nanmax(sweep)) == 0.0


@pytest.mark.parametrize(("col", "obstructed"), [(89, False), (88, True)], ids=["own-pixel", "next-pixel"])
def test_the_receivers_own_building_does_not_obstruct_it(col, obstructed):
    ref = terrain_loss_reference(FLAT, X0, Y0, PX, XS, YS, 10.0, 1.5, 900.0, [20], [90], surface_m=_wall(col))[0]
    sweep = terrain_loss_sweep(FLAT, X0, Y0, PX, XS, YS, 10.0, 1.5, 900.0, 500.0, surface_m=_wall(col), n_rays=400)
    grid = GridSpec(X0, Y0, PX, *FLAT.shape)
    cfg = EngineConfig(model="fspl", terrain="delta-bullington")
    cell = _one_cell(XS, YS, 10.0)
    pts_loss = (predict_points(cell, FLAT, grid, [90.5 * PX], [YS], cfg)[0, 0]
                - predict_points(cell, FLAT, grid, [90.5 * PX], [YS], cfg, surface_m=_wall(col))[0, 0])  # fmt: skip
    assert float(sweep[20, 90]) == pytest.approx(ref, abs=0.01)
    assert pts_loss == pytest.approx(ref, abs=0.01)
    assert (ref > 30.0) if obstructed else (ref == 0.0)


def test_receiver_inside_a_building_keeps_its_height_above_ground():
    """A building over the receiver's own pixel leaves the loss unchanged (the receiver is not put on the roof)."""
    s = np.zeros_like(FLAT)
    s[:, 89:92] = 30.0  # the receiver's pixel (col 90) and one pixel either side
    ref = terrain_loss_reference(FLAT, X0, Y0, PX, XS, YS, 10.0, 1.5, 900.0, [20], [90], surface_m=s)[0]
    assert ref == 0.0


def _district_window(n=161):
    rasterio = pytest.importorskip("rasterio")
    with rasterio.open(DISTRICT / "dem.tif") as ds:
        dem = ds.read(1).astype(np.float64)
    with rasterio.open(DISTRICT / "buildings.tif") as ds:
        bld = ds.read(1).astype(np.float64)
    dem5 = np.repeat(np.repeat(dem, 2, axis=0), 2, axis=1)  # the 10 m DEM on the 5 m building grid
    r0 = c0 = dem5.shape[0] // 2 - n // 2
    return dem5[r0 : r0 + n, c0 : c0 + n], np.where(bld > 0, bld, 0.0)[r0 : r0 + n, c0 : c0 + n]


# The terrain sweep's goals (issue 4): mean |error| 0.15 dB, P95 1 dB, 99.5 % within 3 dB.  Reached on the
# district (161 x 161 px of 5 m, 25 m mast at the centre, 1800 MHz, 1500 pixels): 0.046 dB / 0.26 dB / 100 %
# (0.114 / 0.50 / 99.93 % with the 3 own samples per pixel of bare terrain instead of N_TAIL_SURFACE = 16).
GOALS = (0.15, 1.0, 0.995)


def test_sweep_matches_the_reference_over_the_district_buildings():
    elev, bld = _district_window()
    n = elev.shape[0]
    x0, y0 = 0.0, n * PX
    xs, ys = (n / 2 + 0.13) * PX, y0 - (n / 2 + 0.41) * PX
    fast = terrain_loss_sweep(elev, x0, y0, PX, xs, ys, 25.0, 1.5, 1800.0, 0.5 * n * PX - PX, surface_m=bld)
    rr, cc = np.nonzero(np.isfinite(fast))
    sel = np.random.default_rng(7).choice(rr.size, 1500, replace=False)
    ref = terrain_loss_reference(elev, x0, y0, PX, xs, ys, 25.0, 1.5, 1800.0, rr[sel], cc[sel], surface_m=bld)
    err = np.abs(fast[rr[sel], cc[sel]] - ref)
    assert ref.mean() > 20.0  # the buildings obstruct most paths (mean 47.7 dB)
    assert err.mean() <= GOALS[0]
    assert np.percentile(err, 95) <= GOALS[1]
    assert (err <= 3.0).mean() >= GOALS[2]


def test_raster_and_points_modes_agree_at_pixel_centres_over_the_district():
    elev, bld = _district_window(121)
    n = elev.shape[0]
    grid = GridSpec(0.0, n * PX, PX, n, n)
    xs, ys = (n / 2 + 0.13) * PX, n * PX - (n / 2 + 0.41) * PX
    cell = _one_cell(xs, ys, 25.0, 1800.0, radius_km=0.29)
    cfg = EngineConfig(model="fspl", terrain="delta-bullington")
    cov = predict_coverage(cell, elev, grid, cfg, per_cell=True, surface_m=bld)
    rr, cc = np.nonzero(np.isfinite(cov.per_cell[0]))
    sel = np.random.default_rng(3).choice(rr.size, 800, replace=False)
    r, c = rr[sel], cc[sel]
    x, y = (c + 0.5) * PX, n * PX - (r + 0.5) * PX
    pts = predict_points(cell, elev, grid, x, y, cfg, ground_m=elev[r, c], surface_m=bld)[:, 0]
    flat = predict_points(cell, elev, grid, x, y, cfg, ground_m=elev[r, c])[:, 0]
    err = np.abs(cov.per_cell[0][r, c] - pts)
    assert (flat - pts).mean() > 20.0
    assert err.mean() <= GOALS[0]
    assert np.percentile(err, 95) <= GOALS[1]
    assert (err <= 3.0).mean() >= GOALS[2]


@pytest.mark.parametrize(("surface", "match"), [
    (np.zeros((5, 5)), "lie on the DEM's grid"),
    (np.full(FLAT.shape, np.nan), "NaN/inf"),
    (np.full(FLAT.shape, -2.0), "obstacle heights above ground"),
    (np.full(FLAT.shape, 1500.0), "subtract the DEM"),
], ids=["shape", "nan", "negative", "absolute-heights"])  # fmt: skip
def test_bad_surface_is_refused(surface, match):
    with pytest.raises(ValueError, match=match):
        terrain_loss_sweep(FLAT, X0, Y0, PX, XS, YS, 10.0, 1.5, 900.0, 500.0, surface_m=surface)
    grid = GridSpec(X0, Y0, PX, *FLAT.shape)
    with pytest.raises(ValueError, match=match):
        predict_points(_one_cell(XS, YS, 10.0), FLAT, grid, [300.0], [YS], EngineConfig(terrain="delta-bullington"),
                       surface_m=surface)  # fmt: skip


def test_itm_over_a_surface_is_refused_in_the_raster_engine():
    grid = GridSpec(X0, Y0, PX, *FLAT.shape)
    with pytest.raises(ValueError, match="not yet with 'itm'"):
        predict_coverage(_one_cell(XS, YS, 10.0), FLAT, grid, EngineConfig(terrain="itm"), surface_m=_wall(50))
