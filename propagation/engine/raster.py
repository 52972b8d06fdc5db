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

from propagation.diffraction import EARTH_RADIUS_KM, POLARIZATIONS
from propagation.engine._common import (
    C_FREQ,
    C_GROUND,
    C_HEIGHT,
    C_RADIUS,
    C_X,
    C_Y,
    CELL_FIELDS,
    PathLossModel,
    TerrainMethod,
    surface_profile,
)
from propagation.engine.config import (
    BANDS,
    CELL_DEFAULTS,
    SUBCARRIER_HZ,
    Coverage,
    EngineConfig,
    GridSpec,
    _check_inputs,
    _check_stat_mask,
    _n_freq,
    _n_prb,
    cell_matrix,
    stat_q_inverse,
)
from propagation.engine.closed_form import _accumulate_group, affine_loss_coefficients
from propagation.engine.combine import (
    SHANNON_DL_CAP_DB,
    SHANNON_DL_PARAMS,
    SHANNON_UL_CAP_DB,
    SHANNON_UL_PARAMS,
    _combine,
)
from propagation.engine.server_terrain import _take_server_excess, check_best_terrain, member_masks
from propagation.engine.path_clutter import (
    PathClutterGrid,
    check_path_clutter,
    path_clutter_keys,
    path_clutter_window,
    split_by_path_clutter,
)
from propagation.engine.terrain import _sweep_window, default_n_rays
from propagation.engine.terrain_itm import _itm_sweep_window
from propagation.units import THERMAL_NOISE_DBM_PER_HZ

def _path_groups(cells: np.ndarray) -> list[np.ndarray]:
    """Rows of cells that share one path-loss computation (same mast, height, frequency, radius)."""
    key = cells[:, [C_X, C_Y, C_GROUND, C_HEIGHT, C_FREQ, C_RADIUS]]
    _, inverse = np.unique(key, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    return [np.flatnonzero(inverse == g).astype(np.int64) for g in range(inverse.max() + 1)]


def _k_groups(groups, config) -> list[tuple[int, np.ndarray]]:
    """``(sweep id, rows)``: each path group split by the cells' own SPM coefficients (``config.spm_k_cells``).

    The sub-groups of one path group share its sweep id (one terrain sweep) and follow each other.
    """
    if not config.spm_k_cells:
        return list(enumerate(groups))
    own = {int(row): k for row, k in config.spm_k_cells}
    out = []
    for g, members in enumerate(groups):
        keys = [own.get(int(m)) for m in members]
        for k in dict.fromkeys(keys):
            out.append((g, members[np.array([kk == k for kk in keys])]))
    return out


def _check_region(region, grid: GridSpec) -> tuple[int, int, int, int]:
    """``region`` as ``(row0, row1, col0, col1)`` ints inside ``grid``; the whole grid when None.

    Raises ``ValueError`` naming the region, the grid shape and the rule.
    """
    if region is None:
        return 0, grid.n_rows, 0, grid.n_cols
    try:
        vals = tuple(region)
    except TypeError:
        vals = ()
    if len(vals) != 4 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in vals):
        raise ValueError(f"region must be 4 integers (row0, row1, col0, col1) in grid pixels, got {region!r}")
    r0, r1, c0, c1 = (int(v) for v in vals)
    if not (0 <= r0 < r1 <= grid.n_rows and 0 <= c0 < c1 <= grid.n_cols):
        raise ValueError(
            f"region (row0, row1, col0, col1) = {(r0, r1, c0, c1)} must satisfy 0 <= row0 < row1 <= {grid.n_rows} "
            f"and 0 <= col0 < col1 <= {grid.n_cols} (the grid is {grid.n_rows} x {grid.n_cols} px); "
            "give a non-empty window inside the grid, or None for the whole grid"
        )
    return r0, r1, c0, c1


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
    reg = _check_region(region, grid)
    keep_terrain = check_best_terrain(best_terrain_db)  # issue 12 item 5 (propagation.engine.server_terrain)
    cells, elev, clutter, patterns = _check_inputs(cells, elev_m, grid, clutter_db, patterns)
    prof = surface_profile(elev, surface_m, grid.shape)
    if prof is not None and config.terrain_id == TerrainMethod.ITM:
        raise ValueError("surface_m works with terrain 'delta-bullington' in the raster engine (not yet with 'itm'); "
                         "use delta-bullington, or leave the surface out")  # fmt: skip
    stat_mask = _check_stat_mask(clutter_stat_mask, grid.shape, cells)
    q_inv = stat_q_inverse(config)
    groups = _path_groups(cells)
    config.check_k_cells(cells.shape[0])
    pclut = check_path_clutter(path_clutter, grid.shape, cells.shape[0], grid.pixel_m)  # issue 12 item 3
    pc_keys = path_clutter_keys(pclut, cells.shape[0])
    no_path = np.zeros((0, 0))
    n_freq = _n_freq(cells)
    noise_re_dbm = THERMAL_NOISE_DBM_PER_HZ + 10.0 * math.log10(SUBCARRIER_HZ)
    n_sc = 12.0 * np.array([_n_prb(bw) for bw in cells[:, CELL_FIELDS.index("bandwidth_mhz")]])
    ul_offset = config.ue_power_dbm - 10.0 * np.log10(n_sc) - cells[:, CELL_FIELDS.index("rs_power_dbm")]
    sh = np.array(SHANNON_DL_PARAMS + SHANNON_UL_PARAMS + (SHANNON_DL_CAP_DB, SHANNON_UL_CAP_DB))
    ae_km = EARTH_RADIUS_KM * config.k_factor
    pol_id = POLARIZATIONS[config.polarization]
    model_id = config.model_id
    itm_prm = config.itm_params() if config.terrain_id == TerrainMethod.ITM else None
    # per-group constants
    gconst = []
    grouped = split_by_path_clutter(_k_groups(groups, config), pc_keys)
    for sweep_id, members in grouped:
        c0 = members[0]
        freq, h_tx = cells[c0, C_FREQ], cells[c0, C_HEIGHT]
        mp = config.model_params(freq, int(c0))
        a_db, b_db = affine_loss_coefficients(model_id, freq, h_tx, mp)
        radius_m = cells[c0, C_RADIUS] * 1000.0
        x, y = cells[c0, C_X], cells[c0, C_Y]
        p = grid.pixel_m
        bbox = (
            max(0, int(math.floor((grid.y0_m - (y + radius_m)) / p))),
            min(grid.n_rows, int(math.ceil((grid.y0_m - (y - radius_m)) / p))),
            max(0, int(math.floor((x - radius_m - grid.x0_m) / p))),
            min(grid.n_cols, int(math.ceil((x + radius_m - grid.x0_m) / p))),
        )
        n_rays = default_n_rays(radius_m, p, config.rays_per_pixel)
        gconst.append((sweep_id, members, mp, a_db, b_db, radius_m, bbox, n_rays))
    masks = member_masks(cells.shape[0], grouped) if keep_terrain else None
    tp = int(config.tile_px)
    for tr0 in range(reg[0], reg[1], tp):
        for tc0 in range(reg[2], reg[3], tp):
            tr1, tc1 = min(tr0 + tp, reg[1]), min(tc0 + tp, reg[3])
            shape = (tr1 - tr0, tc1 - tc0)
            best_rsrp = np.full(shape, -np.inf)
            best_idx = np.full(shape, -1, np.int32)
            pow_sum = np.zeros((n_freq,) + shape)
            pc = np.full((cells.shape[0],) + shape, np.nan, np.float32) if per_cell else np.zeros((0, 0, 0), np.float32)
            tile = np.array([tr0, tc0], np.int64)
            last_sweep, excess = -1, None
            terrain = np.full(shape, np.nan, np.float32) if keep_terrain else None
            last_path, path_db = None, no_path
            for gi, (sweep_id, members, mp, a_db, b_db, radius_m, bbox, n_rays) in enumerate(gconst):
                win = np.array([max(bbox[0], tr0), min(bbox[1], tr1), max(bbox[2], tc0), min(bbox[3], tc1)], np.int64)
                if win[0] >= win[1] or win[2] >= win[3]:
                    continue
                c0 = members[0]
                if sweep_id == last_sweep:
                    pass  # cells of one mast with their own K: the terrain sweep is the same
                elif config.terrain_id == TerrainMethod.DELTA_BULLINGTON:
                    excess = _sweep_window(elev, grid.x0_m, grid.y0_m, grid.pixel_m, cells[c0, C_X], cells[c0, C_Y],
                                           cells[c0, C_GROUND], cells[c0, C_HEIGHT], config.rx_height_m,
                                           cells[c0, C_FREQ], radius_m, win, ae_km, pol_id, n_rays, prof)  # fmt: skip
                elif config.terrain_id == TerrainMethod.ITM:
                    excess = _itm_sweep_window(elev, grid.x0_m, grid.y0_m, grid.pixel_m, cells[c0, C_X], cells[c0, C_Y],
                                               cells[c0, C_GROUND], cells[c0, C_HEIGHT], config.rx_height_m,
                                               cells[c0, C_FREQ], radius_m, win, itm_prm, n_rays)  # fmt: skip
                else:
                    excess = np.zeros((0, 0), np.float32)
                last_sweep = sweep_id
                # issue 12 item 3: clutter along the path, once per mast, radius and loss table (groups of one
                # mast follow each other: its carriers and K sub-groups share the walk when their tables agree)
                pkey = (cells[c0, C_X], cells[c0, C_Y], radius_m, int(pc_keys[c0]))
                if pkey[3] < 0:
                    path_db = no_path
                elif pkey != last_path:
                    path_db = path_clutter_window(pclut, int(c0), grid.x0_m, grid.y0_m, grid.pixel_m, cells[c0, C_X],
                                                  cells[c0, C_Y], radius_m, win)  # fmt: skip
                last_path = pkey
                _accumulate_group(cells, members, patterns, elev, clutter, stat_mask, q_inv, grid.x0_m, grid.y0_m,
                                  grid.pixel_m, win, tile, excess, path_db, model_id, a_db, b_db, mp, best_rsrp,
                                  best_idx, pow_sum, pc)  # fmt: skip
                if keep_terrain:
                    _take_server_excess(best_idx, tr0, tc0, win, masks[gi], excess, terrain)
            bands = np.empty((6 if keep_terrain else 5,) + shape, np.float32)
            if keep_terrain:
                bands[5] = terrain
            _combine(cells, ul_offset, best_rsrp, best_idx, pow_sum, noise_re_dbm + config.noise_figure_db,
                     noise_re_dbm + config.bs_noise_figure_db, config.ul_margin_db, sh, bands)  # fmt: skip
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
    reg_r0, reg_r1, reg_c0, reg_c1 = _check_region(region, grid)
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
