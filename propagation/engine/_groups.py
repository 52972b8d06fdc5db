"""The raster engine's path groups and per-group pass, shared by the per-tile and the per-site designs.

:func:`prepare` checks a run's inputs and fixes its **group order** (the
order in which path groups are folded into the accumulators: best server by
a strict ``>``, the load-weighted power sum by ``+=``);
:func:`group_pass` runs one group's terrain sweep, path-clutter walk and
path-loss pass over a window into given accumulators; :func:`combine_bands`
turns the accumulators into the coverage bands.  :func:`propagation.engine.iter_coverage_tiles`
(one task per tile) and :mod:`propagation.engine.sites` (one task per site,
then a reduction per tile) both run exactly this code, in this group order,
so their pixels agree.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from propagation.diffraction import EARTH_RADIUS_KM, POLARIZATIONS
from propagation.engine._common import C_FREQ, C_GROUND, C_HEIGHT, C_RADIUS, C_X, C_Y, CELL_FIELDS, TerrainMethod
from propagation.engine._common import surface_profile
from propagation.engine.closed_form import _accumulate_group, affine_loss_coefficients
from propagation.engine.combine import (
    SHANNON_DL_CAP_DB,
    SHANNON_DL_PARAMS,
    SHANNON_UL_CAP_DB,
    SHANNON_UL_PARAMS,
    _combine,
)
from propagation.engine.config import (
    SUBCARRIER_HZ,
    GridSpec,
    _check_inputs,
    _check_stat_mask,
    _n_freq,
    _n_prb,
    stat_q_inverse,
)
from propagation.engine.path_clutter import (
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


def fold_order(cells, config, path_clutter_key=None) -> list[tuple[int, np.ndarray]]:
    """``(sweep id, member rows)`` of every group, in the order the engine folds them (a function of the cell
    matrix, ``config.spm_k_cells`` and the path-clutter keys only: the same for every window)."""
    keys = path_clutter_key if path_clutter_key is not None else np.full(cells.shape[0], -1, np.int64)
    return split_by_path_clutter(_k_groups(_path_groups(cells), config), keys)


def check_region(region, grid: GridSpec) -> tuple[int, int, int, int]:
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


class CombineConstants(NamedTuple):
    """What :func:`combine_bands` needs beside the accumulators (a function of the cells and the config)."""

    cells: np.ndarray
    ul_offset_db: np.ndarray
    noise_ue_dbm: float
    noise_bs_dbm: float
    ul_margin_db: float
    sh: np.ndarray
    n_freq: int


def combine_constants(cells: np.ndarray, config) -> CombineConstants:
    """The combination's constants for a checked cell matrix."""
    noise_re_dbm = THERMAL_NOISE_DBM_PER_HZ + 10.0 * math.log10(SUBCARRIER_HZ)
    n_sc = 12.0 * np.array([_n_prb(bw) for bw in cells[:, CELL_FIELDS.index("bandwidth_mhz")]])
    ul_offset = config.ue_power_dbm - 10.0 * np.log10(n_sc) - cells[:, CELL_FIELDS.index("rs_power_dbm")]
    sh = np.array(SHANNON_DL_PARAMS + SHANNON_UL_PARAMS + (SHANNON_DL_CAP_DB, SHANNON_UL_CAP_DB))
    return CombineConstants(cells, ul_offset, noise_re_dbm + config.noise_figure_db,
                            noise_re_dbm + config.bs_noise_figure_db, config.ul_margin_db, sh, _n_freq(cells))  # fmt: skip


def combine_bands(cc: CombineConstants, best_rsrp, best_idx, pow_sum, terrain=None) -> np.ndarray:
    """(5, rows, cols) float32 bands (6 with ``terrain``, the best server's terrain excess, as the last plane)."""
    bands = np.empty((5 if terrain is None else 6,) + best_rsrp.shape, np.float32)
    if terrain is not None:
        bands[5] = terrain
    _combine(cc.cells, cc.ul_offset_db, best_rsrp, best_idx, pow_sum, cc.noise_ue_dbm, cc.noise_bs_dbm,
             cc.ul_margin_db, cc.sh, bands)  # fmt: skip
    return bands


class Run(NamedTuple):
    """A checked run: inputs, per-group constants (in fold order) and what the group pass needs."""

    cells: np.ndarray
    elev: np.ndarray
    clutter: np.ndarray
    patterns: np.ndarray
    prof: object
    stat_mask: np.ndarray
    q_inv: float
    pclut: object
    pc_keys: np.ndarray
    grid: GridSpec
    config: object
    groups: list  # (sweep id, members) in fold order
    gconst: list  # (sweep id, members, mp, a_db, b_db, radius_m, bbox, n_rays) per group
    ae_km: float
    pol_id: int
    itm_prm: object


def prepare(cells, elev_m, grid: GridSpec, config, *, clutter_db=None, patterns=None, clutter_stat_mask=None,
            surface_m=None, path_clutter=None) -> Run:  # fmt: skip
    """Check the inputs of a coverage run and compute every group's constants (its window on ``grid``)."""
    cells, elev, clutter, patterns = _check_inputs(cells, elev_m, grid, clutter_db, patterns)
    prof = surface_profile(elev, surface_m, grid.shape)
    if prof is not None and config.terrain_id == TerrainMethod.ITM:
        raise ValueError("surface_m works with terrain 'delta-bullington' in the raster engine (not yet with 'itm'); "
                         "use delta-bullington, or leave the surface out")  # fmt: skip
    stat_mask = _check_stat_mask(clutter_stat_mask, grid.shape, cells, stacklevel=5)
    q_inv = stat_q_inverse(config)
    config.check_k_cells(cells.shape[0])
    pclut = check_path_clutter(path_clutter, grid.shape, cells.shape[0], grid.pixel_m)  # issue 12 item 3
    pc_keys = path_clutter_keys(pclut, cells.shape[0])
    grouped = fold_order(cells, config, pc_keys)
    model_id = config.model_id
    gconst = []
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
    itm_prm = config.itm_params() if config.terrain_id == TerrainMethod.ITM else None
    return Run(cells, elev, clutter, patterns, prof, stat_mask, q_inv, pclut, pc_keys, grid, config, grouped, gconst,
               EARTH_RADIUS_KM * config.k_factor, POLARIZATIONS[config.polarization], itm_prm)  # fmt: skip


def new_cache() -> list:
    """The state :func:`group_pass` carries from one group to the next (the last sweep and path walk)."""
    return [-1, None, None, np.zeros((0, 0))]


def group_pass(run: Run, gi: int, win: np.ndarray, tile: np.ndarray, best_rsrp, best_idx, pow_sum, pc, cache):
    """Fold group ``gi`` over ``win`` (int64 (row0, row1, col0, col1) on the run's grid) into accumulators whose
    first pixel is ``tile`` (int64 (row0, col0)); returns the group's terrain excess over ``win`` ((0, 0): none).

    Consecutive groups of one sweep id (one mast's K sub-groups) reuse the sweep, and consecutive groups of one
    mast, radius and path-clutter table the path walk, through ``cache`` (:func:`new_cache`).
    """
    sweep_id, members, mp, a_db, b_db, radius_m, _bbox, n_rays = run.gconst[gi]
    cells, grid, config = run.cells, run.grid, run.config
    c0 = members[0]
    if sweep_id == cache[0]:
        excess = cache[1]  # cells of one mast with their own K: the terrain sweep is the same
    elif config.terrain_id == TerrainMethod.DELTA_BULLINGTON:
        excess = _sweep_window(run.elev, grid.x0_m, grid.y0_m, grid.pixel_m, cells[c0, C_X], cells[c0, C_Y],
                               cells[c0, C_GROUND], cells[c0, C_HEIGHT], config.rx_height_m,
                               cells[c0, C_FREQ], radius_m, win, run.ae_km, run.pol_id, n_rays, run.prof)  # fmt: skip
    elif config.terrain_id == TerrainMethod.ITM:
        excess = _itm_sweep_window(run.elev, grid.x0_m, grid.y0_m, grid.pixel_m, cells[c0, C_X], cells[c0, C_Y],
                                   cells[c0, C_GROUND], cells[c0, C_HEIGHT], config.rx_height_m,
                                   cells[c0, C_FREQ], radius_m, win, run.itm_prm, n_rays)  # fmt: skip
    else:
        excess = np.zeros((0, 0), np.float32)
    cache[0], cache[1] = sweep_id, excess
    # issue 12 item 3: clutter along the path, once per mast, radius and loss table (groups of one
    # mast follow each other: its carriers and K sub-groups share the walk when their tables agree)
    pkey = (cells[c0, C_X], cells[c0, C_Y], radius_m, int(run.pc_keys[c0]))
    if pkey[3] < 0:
        cache[3] = np.zeros((0, 0))
    elif pkey != cache[2]:
        cache[3] = path_clutter_window(run.pclut, int(c0), grid.x0_m, grid.y0_m, grid.pixel_m, cells[c0, C_X],
                                       cells[c0, C_Y], radius_m, win)  # fmt: skip
    cache[2] = pkey
    _accumulate_group(cells, members, run.patterns, run.elev, run.clutter, run.stat_mask, run.q_inv, grid.x0_m,
                      grid.y0_m, grid.pixel_m, win, tile, excess, cache[3], config.model_id, a_db, b_db, mp, best_rsrp,
                      best_idx, pow_sum, pc)  # fmt: skip
    return excess
