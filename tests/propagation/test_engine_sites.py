"""The per-site design (``propagation.engine.sites``): per-group pieces folded per tile equal the per-tile run, bit
for bit, whatever the site windows and the tiles (best server with ties, SINR's power sum, per-cell RSRP, the best
server's terrain excess)."""

import numpy as np
import pytest

from propagation.engine import EngineConfig, GridSpec, cell_matrix, iter_coverage_tiles
from propagation.engine.sites import crop_partial, fold_partials, group_partials, site_order

GRID = GridSpec(500_010.0, 4_400_040.0, 30.0, 90, 110)
TILE_PX = 32


def _terrain():
    rng = np.random.default_rng(11)
    xx, yy = np.meshgrid(np.arange(GRID.n_cols), np.arange(GRID.n_rows))
    hills = 40.0 * np.sin(xx / 9.0) * np.cos(yy / 13.0) + 60.0 * np.exp(-((xx - 55.0) ** 2) / 40.0)
    return 200.0 + hills + rng.normal(0.0, 2.0, GRID.shape)


ELEV = _terrain()


def _cells():
    """Four sites, two carriers; cells 0 and 4 are the same antenna with two radii (two path groups of one mast,
    equal RSRP where both reach: a tie that the first group in the engine's order keeps)."""
    x = GRID.x0_m + np.array([20.5, 20.5, 80.0, 60.0, 20.5, 95.0]) * GRID.pixel_m
    y = GRID.y0_m - np.array([30.0, 30.0, 70.0, 10.0, 30.0, 30.0]) * GRID.pixel_m
    return cell_matrix(
        x_m=x, y_m=y, height_m=[30.0, 30.0, 25.0, 40.0, 30.0, 35.0], azimuth_deg=[60.0, 200.0, 300.0, 0.0, 60.0, 90.0],
        mech_tilt_deg=[2.0, 2.0, 1.0, 0.0, 2.0, 3.0], freq_mhz=[1800.0, 1800.0, 1800.0, 800.0, 1800.0, 800.0],
        rs_power_dbm=[18.0, 18.0, 16.0, 20.0, 18.0, 17.0], bandwidth_mhz=[20.0, 20.0, 20.0, 10.0, 20.0, 10.0],
        pattern_id=[-1, -1, -1, -2, -1, -1], radius_km=[1.6, 1.6, 1.2, 1.5, 1.3, 2.0], load=[1, 1, 0.5, 1, 1, 0.7],
    )  # fmt: skip


CELLS = _cells()


def _tiles_run(cfg):
    """The per-tile design: bands (6 with the terrain plane) and per-cell RSRP over the grid."""
    bands = np.empty((6,) + GRID.shape, np.float32)
    pcs = np.empty((CELLS.shape[0],) + GRID.shape, np.float32)
    for r0, c0, b, pc in iter_coverage_tiles(CELLS, ELEV, GRID, cfg, per_cell=True, best_terrain_db=True):
        bands[:, r0 : r0 + b.shape[1], c0 : c0 + b.shape[2]] = b
        pcs[:, r0 : r0 + b.shape[1], c0 : c0 + b.shape[2]] = pc
    return bands, pcs


def _sites_run(cfg, margin_px):
    """The per-site design: each site's groups on its own window of the grid (its radius + ``margin_px``),
    cut per tile, folded per tile in site order."""
    pieces = []  # (site, piece) with windows in grid pixels
    for s, rows in enumerate(site_order(CELLS)):
        x, y, r_m = CELLS[rows[0], 0], CELLS[rows[0], 1], CELLS[rows, 13].max() * 1000.0
        r0 = max(0, int((GRID.y0_m - y - r_m) // GRID.pixel_m) - margin_px)
        r1 = min(GRID.n_rows, int((GRID.y0_m - y + r_m) // GRID.pixel_m) + 1 + margin_px)
        c0 = max(0, int((x - r_m - GRID.x0_m) // GRID.pixel_m) - margin_px)
        c1 = min(GRID.n_cols, int((x + r_m - GRID.x0_m) // GRID.pixel_m) + 1 + margin_px)
        sub = GridSpec(GRID.x0_m + c0 * GRID.pixel_m, GRID.y0_m - r0 * GRID.pixel_m, GRID.pixel_m, r1 - r0, c1 - c0)
        mine = set(rows.tolist())
        for p in group_partials(CELLS, ELEV[r0:r1, c0:c1], sub, cfg, groups=lambda m: int(m[0]) in mine,
                                per_cell=True, best_terrain_db=True):  # fmt: skip
            pieces.append((s, crop_partial(p, 0, sub.n_rows, 0, sub.n_cols, shift=(r0, c0))))
    bands = np.empty((6,) + GRID.shape, np.float32)
    pcs = np.empty((CELLS.shape[0],) + GRID.shape, np.float32)
    for tr0 in range(0, GRID.n_rows, TILE_PX):
        for tc0 in range(0, GRID.n_cols, TILE_PX):
            tr1, tc1 = min(tr0 + TILE_PX, GRID.n_rows), min(tc0 + TILE_PX, GRID.n_cols)
            mine = [crop_partial(p, tr0, tr1, tc0, tc1, shift=(-tr0, -tc0)) for _, p in pieces]
            b, pc = fold_partials(CELLS, cfg, (tr1 - tr0, tc1 - tc0), [p for p in mine if p is not None],
                                  per_cell=True, best_terrain_db=True)  # fmt: skip
            bands[:, tr0:tr1, tc0:tc1] = b
            pcs[:, tr0:tr1, tc0:tc1] = pc
    return bands, pcs


@pytest.mark.parametrize("terrain", ["none", "delta-bullington"])
@pytest.mark.parametrize("margin_px", [0, 4])
def test_sites_folded_per_tile_equal_the_per_tile_run_bit_for_bit(terrain, margin_px):
    cfg = EngineConfig(model="hata", terrain=terrain, tile_px=TILE_PX)
    tb, tpc = _tiles_run(cfg)
    sb, spc = _sites_run(cfg, margin_px)
    np.testing.assert_array_equal(sb, tb)
    np.testing.assert_array_equal(spc, tpc)
    assert np.isfinite(tb[0]).mean() > 0.9 and np.isfinite(tb[2]).any()
    # the tie: where cells 0 and 4 give the same RSRP and one of them serves, cell 4 serves (its group, radius
    # 1.3 km, comes before cell 0's, 1.6 km, in the engine's order); in both designs, as the arrays are equal
    tie = (tpc[0] == tpc[4]) & np.isin(tb[1], (0, 4))
    assert tie.sum() > 100 and (tb[1][tie] == 4).all()


def test_fold_refuses_a_piece_outside_the_tile():
    cfg = EngineConfig(model="hata")
    p = group_partials(CELLS, ELEV, GRID, cfg)[0]
    with pytest.raises(ValueError, match="outside the tile"):
        fold_partials(CELLS, cfg, (10, 10), [p])


def test_group_order_and_site_order_agree():
    # one mast's groups follow each other in the engine's order, and masts come in site_order's order
    from propagation.engine._groups import fold_order

    site_of = {int(r): s for s, rows in enumerate(site_order(CELLS)) for r in rows}
    seq = [site_of[int(m[0])] for _, m in fold_order(CELLS, EngineConfig())]
    assert seq == sorted(seq)
