"""prepare_terrain: a DEM (and obstacles) checked once gives predict_points' results exactly."""

import numpy as np
import pytest

from propagation.engine import EngineConfig, GridSpec, PreparedTerrain, cell_matrix, predict_points, prepare_terrain


def _world(n=120, px=30.0):
    rng = np.random.default_rng(7)
    elev = (100.0 + 40.0 * rng.random((n, n))).astype(np.float32)
    obst = np.where(rng.random((n, n)) < 0.2, 15.0, 0.0).astype(np.float32)
    grid = GridSpec(0.0, n * px, px, n, n)
    c = n * px / 2
    cells = cell_matrix(x_m=[c, c + 300.0], y_m=[c, c - 200.0], height_m=[30.0, 25.0], azimuth_deg=[0.0, 120.0],
                        freq_mhz=[900.0, 1800.0], rs_power_dbm=[15.0, 18.0], bandwidth_mhz=[10.0, 20.0])  # fmt: skip
    x = c + rng.uniform(-1500, 1500, 200)
    y = c + rng.uniform(-1500, 1500, 200)
    return elev, obst, grid, cells, x, y


@pytest.mark.parametrize("terrain", ["none", "delta-bullington", "itm"])
@pytest.mark.parametrize("with_surface", [False, True])
def test_prepared_equals_plain(terrain, with_surface):
    elev, obst, grid, cells, x, y = _world()
    surf = obst if with_surface else None
    cfg = EngineConfig(model="hata", terrain=terrain)
    plain = predict_points(cells, elev, grid, x, y, cfg, surface_m=surf)
    prepared = predict_points(cells, prepare_terrain(elev, grid, surf), grid, x, y, cfg)
    np.testing.assert_array_equal(prepared, plain)
    if with_surface and terrain != "none":  # the surface really is inside the prepared terrain
        assert not np.array_equal(plain, predict_points(cells, elev, grid, x, y, cfg))


def test_prepared_arrays_are_private_and_read_only():
    elev, obst, grid, *_ = _world()
    pt = prepare_terrain(elev, grid, obst)
    assert isinstance(pt, PreparedTerrain) and "surface=yes" in repr(pt)
    elev[:] = np.nan  # the caller's array changes; the checked copy does not
    assert np.isfinite(pt.elev_m).all()
    with pytest.raises(ValueError):
        pt.elev_m[0, 0] = 1.0
    with pytest.raises(ValueError):
        pt.profile_m[0, 0] = 1.0


def test_prepare_checks_like_predict_points():
    elev, obst, grid, *_ = _world()
    bad = elev.copy()
    bad[3, 4] = np.nan
    with pytest.raises(ValueError, match="DEM voids"):
        prepare_terrain(bad, grid)
    with pytest.raises(ValueError, match="surface_m holds"):
        prepare_terrain(elev, grid, obst - 20.0)
    with pytest.raises(ValueError, match="shape"):
        prepare_terrain(elev[:10], grid)


def test_prepared_misuse_is_refused():
    elev, obst, grid, cells, x, y = _world()
    pt = prepare_terrain(elev, grid, obst)
    with pytest.raises(ValueError, match="given twice"):
        predict_points(cells, pt, grid, x, y, surface_m=obst)
    other = GridSpec(grid.x0_m + 30.0, grid.y0_m, grid.pixel_m, grid.n_rows, grid.n_cols)
    with pytest.raises(ValueError, match="prepared on"):
        predict_points(cells, pt, other, x, y)
