"""Typed array-level API of the raster engine: cells x grid x terrain -> coverage arrays.

Usage::

    cells = cell_matrix(x_m=..., y_m=..., height_m=..., ...)   # (n, N_CELL_FIELDS) float64
    grid = GridSpec(x0_m, y0_m, pixel_m, n_rows, n_cols)
    cov = predict_coverage(cells, elev_m, grid, EngineConfig(model="hata"))
    cov.rsrp_dbm, cov.best_cell, cov.sinr_db, cov.dl_mbps, cov.ul_mbps

The work is split in square tiles (``EngineConfig.tile_px``); each tile is
independent (its own accumulators, the cells whose radius reaches it), so the
memory held is one tile's accumulators plus one path group's terrain window,
whatever the area, and tiles could run on different machines.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np

from propagation.engine._common import PathLossModel, TerrainMethod
from propagation.engine._groups import check_region, combine_bands, combine_constants, group_pass, new_cache, prepare
from propagation.engine.config import BANDS, CELL_DEFAULTS, Coverage, EngineConfig, GridSpec, cell_matrix
from propagation.engine.path_clutter import PathClutterGrid
from propagation.engine.server_terrain import _take_server_excess, check_best_terrain, member_masks


def iter_coverage_tiles(
    cells, elev_m, grid: GridSpec, config: EngineConfig = EngineConfig(), *,
    clutter_db=None, patterns=None, per_cell: bool = False, clutter_stat_mask=None, region=None, surface_m=None,
    path_clutter: PathClutterGrid | None = None,
    best_terrain_db: bool = False,
) -> Iterator[tuple[int, int, np.ndarray, np.ndarray | None]]:  # fmt: skip
    """Yield ``(row0, col0, bands, per_cell)`` tile by tile (bounded memory).

    ``bands`` is (5, tile rows, tile cols) float32 in :data:`BANDS` order (NaN
    where no cell reaches); ``per_cell`` (n_cells, tile rows, tile cols)
    float32 RSRP [dBm] when requested, else None.  ``row0``/``col0`` are the
    tile's first pixel in the grid.  Tiles of ``config.tile_px`` start at the
    region's first row and column.  Arguments as :func:`predict_coverage`; with
    ``best_terrain_db`` ``bands`` has a sixth plane, the best server's terrain excess loss [dB].
    """
    reg = check_region(region, grid)
    keep_terrain = check_best_terrain(best_terrain_db)  # issue 12 item 5 (propagation.engine.server_terrain)
    run = prepare(cells, elev_m, grid, config, clutter_db=clutter_db, patterns=patterns,
                  clutter_stat_mask=clutter_stat_mask, surface_m=surface_m, path_clutter=path_clutter)  # fmt: skip
    cc = combine_constants(run.cells, config)
    masks = member_masks(run.cells.shape[0], run.groups) if keep_terrain else None
    tp = int(config.tile_px)
    for tr0 in range(reg[0], reg[1], tp):
        for tc0 in range(reg[2], reg[3], tp):
            tr1, tc1 = min(tr0 + tp, reg[1]), min(tc0 + tp, reg[3])
            shape = (tr1 - tr0, tc1 - tc0)
            best_rsrp = np.full(shape, -np.inf)
            best_idx = np.full(shape, -1, np.int32)
            pow_sum = np.zeros((cc.n_freq,) + shape)
            n_cells = run.cells.shape[0]
            pc = np.full((n_cells,) + shape, np.nan, np.float32) if per_cell else np.zeros((0, 0, 0), np.float32)
            tile = np.array([tr0, tc0], np.int64)
            terrain = np.full(shape, np.nan, np.float32) if keep_terrain else None
            cache = new_cache()
            for gi, g in enumerate(run.gconst):
                bbox = g[6]
                win = np.array([max(bbox[0], tr0), min(bbox[1], tr1), max(bbox[2], tc0), min(bbox[3], tc1)], np.int64)
                if win[0] >= win[1] or win[2] >= win[3]:
                    continue
                excess = group_pass(run, gi, win, tile, best_rsrp, best_idx, pow_sum, pc, cache)
                if keep_terrain:
                    _take_server_excess(best_idx, tr0, tc0, win, masks[gi], excess, terrain)
            bands = combine_bands(cc, best_rsrp, best_idx, pow_sum, terrain)
            yield tr0, tc0, bands, (pc if per_cell else None)


def predict_coverage(
    cells, elev_m, grid: GridSpec, config: EngineConfig = EngineConfig(), *,
    clutter_db=None, patterns=None, per_cell: bool = False, clutter_stat_mask=None, region=None, surface_m=None,
    path_clutter: PathClutterGrid | None = None, on_tile: Callable[[int, int], None] | None = None,
    best_terrain_db: bool = False,
) -> Coverage:  # fmt: skip
    """Best-server RSRP, best cell, SINR and DL/UL throughput over a grid.

    Parameters
    ----------
    cells : numpy.ndarray
        Cell matrix from :func:`cell_matrix` (coordinates in the grid's CRS).
    elev_m : numpy.ndarray, (rows, cols)
        Terrain height above sea level at the pixel centres, no voids. [m]
    grid : GridSpec
    config : EngineConfig
    clutter_db : numpy.ndarray, optional
        Clutter loss added at each pixel: (rows, cols) for every carrier, or
        (n_freq, rows, cols) with plane k for the cells whose ``freq_index``
        is k (the k-th of the sorted unique ``freq_mhz``), e.g. P.2108
        section 3.1 height-gain losses per carrier. [dB]
    patterns : numpy.ndarray, optional
        Measured antenna patterns (n, 2, 360): horizontal and vertical attenuation. [dB]
    per_cell : bool
        Also return each cell's RSRP, (n_cells, rows, cols).
    clutter_stat_mask : numpy.ndarray, optional
        (rows, cols) bool/0-1: pixels whose terminal stands in urban or
        suburban clutter.  There each cell's path gets the ITU-R P.2108-1
        section 3.2 statistical clutter loss L_ctt(f, d, p) with p =
        ``config.clutter_location_pct``, evaluated exactly per pixel (see Notes).
    region : (int, int, int, int), optional
        ``(row0, row1, col0, col1)``: compute only rows row0..row1-1 and
        columns col0..col1-1 of the grid (default: the whole grid).  The
        terrain, clutter and mask arrays still cover the whole grid, so the
        terrain sweeps of the region's pixels reach outside it; cells whose
        radius does not reach the region are skipped.  The region's values are
        bit-identical to the same pixels of a whole-grid run.
    surface_m : numpy.ndarray, (rows, cols), optional
        Heights of buildings and other obstacles ABOVE GROUND on the grid of
        ``elev_m`` (a surface model minus the DEM; finite, 0..1000 m; 0 where
        none).  The terrain method (``delta-bullington``; ``itm`` is refused)
        then runs its obstruction profile over ``elev_m + surface_m``, while
        masts and receivers keep their heights above the ground ``elev_m`` at
        their own positions; the profile's samples within one pixel of the
        receiver stay on the ground (the receiver's own building is the
        clutter model's job; :mod:`propagation.engine.terrain`).  Without a
        terrain method it has no effect. [m]
    path_clutter : PathClutterGrid, optional
        Per-cell clutter losses weighted by each class's share of the path
        (the last ``near_m`` and the whole path from the mast;
        :mod:`propagation.engine.path_clutter`): the class codes on this grid
        and (n_cells, n_codes) loss tables.  Added to each cell's path loss
        at each pixel before the best-server and SINR combination, never
        scaled by K4.  Cells whose tables are all 0 cost nothing.
    on_tile : callable, optional
        Called as ``on_tile(done, total)`` after each tile (progress).
    best_terrain_db : bool
        Also return ``Coverage.terrain_db``: the terrain method's excess loss over free space on the path from
        each pixel's best server, >= 0, as the path-loss model used it (0 without a terrain method, NaN where no
        cell serves; :mod:`propagation.engine.server_terrain`).  Default off: outputs and speed unchanged. [dB]

    Returns
    -------
    Coverage
        float32 arrays of the region's shape (the grid's by default), NaN
        where no cell's radius reaches.

    Notes
    -----
    Statistical clutter loss (P.2108-1 eqs. (6)-(8), as
    :func:`propagation.p2108_clutter_loss_db`): d is the pixel's horizontal
    distance from the mast, clamped to >= 0.25 km, the Recommendation's
    shortest path (nearer pixels get the 0.25 km value, not an
    extrapolation); the loss never exceeds its value at 2 km.  For p <= 50 %
    L_ctt grows with d, so beyond 2 km it *is* the 2 km value, computed once
    per path group; for p > 50 % it can fall slowly beyond 2 km (by < 0.07 dB
    over 0.5-67 GHz), so it is evaluated there too.  Carriers outside
    500-67 000 MHz are extrapolated with one :class:`ValidityRangeWarning`.
    The loss is applied once (at the terminal end); the Recommendation's
    second term for a base station also in clutter is not added.

    Examples
    --------
    >>> cells = cell_matrix(x_m=[0.0], y_m=[0.0], height_m=[30.0], azimuth_deg=[0.0], freq_mhz=[900.0],
    ...                     rs_power_dbm=[15.0], bandwidth_mhz=[10.0], pattern_id=[-2], gain_dbi=[0.0])
    >>> grid = GridSpec(-1500.0, 1500.0, 100.0, 30, 30)
    >>> cov = predict_coverage(cells, np.zeros(grid.shape), grid)
    >>> round(float(cov.rsrp_dbm[0, 15]), 1)   # 1.45 km north: 15 dBm - Hata(900 MHz, 30 m, 1.5 m)
    -117.1
    """
    reg_r0, reg_r1, reg_c0, reg_c1 = check_region(region, grid)
    rows, cols = reg_r1 - reg_r0, reg_c1 - reg_c0
    pcs = None
    n_tiles = math.ceil(rows / config.tile_px) * math.ceil(cols / config.tile_px)
    keep_terrain = check_best_terrain(best_terrain_db)
    out = np.empty((6 if keep_terrain else 5, rows, cols), np.float32) if n_tiles > 1 else None
    for done, (r0, c0, bands, pc) in enumerate(
        iter_coverage_tiles(cells, elev_m, grid, config, clutter_db=clutter_db, patterns=patterns, per_cell=per_cell,
                            clutter_stat_mask=clutter_stat_mask, region=(reg_r0, reg_r1, reg_c0, reg_c1),
                            surface_m=surface_m, best_terrain_db=keep_terrain, path_clutter=path_clutter),
        start=1,
    ):
        if n_tiles == 1:  # one tile covers the region: its arrays are the result (no copy)
            out, pcs = bands, pc
        else:
            r0, c0 = r0 - reg_r0, c0 - reg_c0
            out[:, r0 : r0 + bands.shape[1], c0 : c0 + bands.shape[2]] = bands
            if pc is not None:
                if pcs is None:
                    pcs = np.empty((pc.shape[0], rows, cols), np.float32)
                pcs[:, r0 : r0 + pc.shape[1], c0 : c0 + pc.shape[2]] = pc
        if on_tile is not None:
            on_tile(done, n_tiles)
    return Coverage(out[0], out[1], out[2], out[3], out[4], pcs, out[5] if out.shape[0] > 5 else None)


__all__ = [
    "BANDS",
    "CELL_DEFAULTS",
    "Coverage",
    "EngineConfig",
    "GridSpec",
    "PathClutterGrid",
    "PathLossModel",
    "TerrainMethod",
    "cell_matrix",
    "iter_coverage_tiles",
    "predict_coverage",
]
