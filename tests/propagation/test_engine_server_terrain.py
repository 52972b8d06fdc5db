"""``predict_coverage(..., best_terrain_db=True)``: the best server's terrain excess loss from the raster sweep
(issue 12 item 5), checked against the engine's own per-cell RSRP with and without the terrain method, against
the exact straight-profile reference within the sweep's goals, and off by default."""

import numpy as np
import pytest

from propagation.engine import (
    EngineConfig,
    GridSpec,
    cell_matrix,
    predict_coverage,
    terrain_loss_reference,
)
from tests.propagation.sweep_worlds import rough_dem

N = 81
PX = 30.0
GRID = GridSpec(0.0, N * PX, PX, N, N)


@pytest.fixture(scope="module")
def world():
    """Two three-sector sites (one with its own height) on rough terrain, 1.1 km radius."""
    elev = rough_dem(N, 40.0, 5.0, 11).astype(np.float32)
    xs = np.repeat([900.0, 1600.0], 3) + 0.3
    ys = np.repeat([1500.0, 900.0], 3) + 0.7
    cells = cell_matrix(x_m=xs, y_m=ys, height_m=np.repeat([30.0, 45.0], 3), azimuth_deg=np.tile([0.0, 120.0, 240.0], 2),
                        freq_mhz=np.full(6, 1800.0), rs_power_dbm=np.full(6, 15.0), bandwidth_mhz=np.full(6, 20.0),
                        radius_km=np.full(6, 1.1))  # fmt: skip
    return cells, elev


def _run(world, terrain, **kw):
    cells, elev = world
    return predict_coverage(cells, elev, GRID, EngineConfig(model="fspl", terrain=terrain, tile_px=32), **kw)


@pytest.mark.parametrize("terrain", ["delta-bullington", "itm"])
def test_terrain_of_the_best_server_equals_its_own_terrain_loss(world, terrain):
    """FSPL + terrain minus FSPL alone, for the best cell, is the excess loss the engine used at that pixel
    (clipped at 0 dB as points mode's obstruction feature: ITM can fall below free space)."""
    cov = _run(world, terrain, per_cell=True, best_terrain_db=True)
    bare = _run(world, "none", per_cell=True)
    best = cov.best_cell
    served = np.isfinite(best)
    assert served.mean() > 0.5
    r, c = np.nonzero(served)
    i = best[served].astype(int)
    ref = np.maximum(bare.per_cell[i, r, c].astype(float) - cov.per_cell[i, r, c].astype(float), 0.0)
    np.testing.assert_allclose(cov.terrain_db[served], ref, atol=2e-3)
    assert np.all(np.isnan(cov.terrain_db[~served]))
    assert (cov.terrain_db[served] > 1.0).mean() > 0.2  # the terrain obstructs a good share of the pixels


def test_off_by_default_and_bands_unchanged(world):
    on = _run(world, "delta-bullington", best_terrain_db=True)
    off = _run(world, "delta-bullington")
    assert off.terrain_db is None
    for a, b in zip(on[:5], off[:5]):
        np.testing.assert_array_equal(a, b)


def test_without_a_terrain_method_it_is_zero_where_served(world):
    cov = _run(world, "none", best_terrain_db=True)
    served = np.isfinite(cov.best_cell)
    assert np.all(cov.terrain_db[served] == 0.0) and np.all(np.isnan(cov.terrain_db[~served]))


def test_tiles_and_region_give_the_same_values(world):
    cells, elev = world
    whole = predict_coverage(cells, elev, GRID, EngineConfig(model="fspl", terrain="delta-bullington", tile_px=512),
                             best_terrain_db=True)  # fmt: skip
    part = predict_coverage(cells, elev, GRID, EngineConfig(model="fspl", terrain="delta-bullington", tile_px=16),
                            best_terrain_db=np.bool_(True), region=(10, 60, 5, 70))  # fmt: skip
    np.testing.assert_array_equal(part.terrain_db, whole.terrain_db[10:60, 5:70])


def test_agrees_with_the_exact_profile_within_the_sweep_goals(world):
    """Training traces the exact straight profile (points mode); predict reads the sweep: issue 4's goals."""
    cells, elev = world
    cov = _run(world, "delta-bullington", best_terrain_db=True)
    r, c = np.nonzero(np.isfinite(cov.best_cell))
    sel = np.random.default_rng(3).choice(r.size, 600, replace=False)
    r, c = r[sel], c[sel]
    best = cov.best_cell[r, c].astype(int)
    ref = np.empty(r.size)
    for i in np.unique(best):
        k = best == i
        ref[k] = np.maximum(terrain_loss_reference(elev, GRID.x0_m, GRID.y0_m, PX, cells[i, 0], cells[i, 1], cells[i, 3],
                                                   1.5, cells[i, 7], r[k], c[k]), 0.0)  # fmt: skip
    err = np.abs(cov.terrain_db[r, c] - ref)
    assert err.mean() <= 0.15 and np.percentile(err, 95) <= 1.0 and (err <= 3.0).mean() >= 0.99


@pytest.mark.parametrize("bad", ["yes", 1, None])
def test_bad_option_is_refused(world, bad):
    with pytest.raises(ValueError, match="best_terrain_db must be True or False"):
        _run(world, "none", best_terrain_db=bad)
