"""The near-mast pixel count of predict (issue 14: windowed per mast) equals the whole-tile reference."""

from __future__ import annotations

import numpy as np

from netqa.grid import Grid
from netqa.predict.tiles import count_near_mast as _count_near_mast


def _reference(rsrp_dbm, matrix, tile_grid):
    """Every mast against every pixel of the tile (the code before issue 14)."""
    covered = np.isfinite(rsrp_dbm)
    xx, yy = tile_grid.coords()
    left, bottom, right, top = tile_grid.bounds
    near = np.zeros(rsrp_dbm.shape, bool)
    for x, y in np.unique(matrix[:, :2], axis=0):
        if left - 1e3 <= x <= right + 1e3 and bottom - 1e3 <= y <= top + 1e3:
            near |= ((xx[None, :] - x) ** 2 + (yy[:, None] - y) ** 2) < 1e6
    return int(covered.sum()), int((near & covered).sum())


def test_near_mast_count_equals_the_whole_tile_reference():
    rng = np.random.default_rng(0)
    g = Grid.from_bounds("EPSG:32630", (480000, 4470000, 480000 + 300 * 30, 4470000 + 250 * 30), 30)
    for _ in range(20):
        m = np.zeros((40, 10))
        m[:, 0], m[:, 1] = rng.uniform(478000, 492000, 40), rng.uniform(4468000, 4479000, 40)  # some outside the tile
        m[:5, 0] = 480000 + 30 * rng.integers(0, 300, 5) + 15  # masts on pixel centres: distances of exactly 1 km
        m[:5, 1] = 4470000 + 30 * rng.integers(0, 250, 5) + 15
        rsrp = np.where(rng.random(g.shape) < 0.8, -90.0, np.nan)
        got = _count_near_mast(rsrp, m, g)
        assert got == _reference(rsrp, m, g) and got[1] > 0
