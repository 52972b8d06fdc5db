r"""Per-site partial coverage and its exact reduction per output tile (the per-site task design).

:func:`iter_coverage_tiles` computes a tile by folding every path group that
reaches it into the tile's accumulators, in a fixed group order:

* best server: ``rsrp > best`` (strict, so the first cell in group order wins a tie), float64;
* interference: ``pow_sum[carrier] += sum_members load * P`` (float64, one ``+=`` per group and pixel);
* the best server's terrain excess (``best_terrain_db``): the excess of the final best server's group.

:func:`group_partials` computes, for some groups, each group's contribution
*on its own* over its whole coverage window (fresh accumulators per group:
the group's best member by the same strict ``>``, its own power sum, its
excess); :func:`fold_partials` folds such pieces into a tile in the same
group order, with the same comparisons and the same float64 additions
(``x + 0`` is ``x``, so pixels a group does not reach are unaffected).  The
accumulators, and so the bands of :func:`propagation.engine.combine`, are
then bit-identical to :func:`iter_coverage_tiles`' for the same per-pixel
inputs.  Why it is exact per pixel, for a group ``g`` with members ``M`` and
running best ``B``: the engine keeps ``B`` unless ``max_M rsrp > B``, and
then takes the first member reaching the maximum; the piece holds that
maximum and that member, and the fold takes it iff it is ``> B``.

A caller (``netqa predict --tasks sites``) runs :func:`group_partials` once
per site (mast) on a window of the site's radius, cuts the pieces per output
tile (:func:`crop_partial`) and folds, per tile, the pieces of every site
that reaches it, sites in the engine's group order (mast x, then y: the
leading keys of the group order, so one mast's groups follow each other).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from propagation.engine._common import C_FREQ_INDEX
from propagation.engine._groups import (
    check_region,
    combine_bands,
    combine_constants,
    fold_order,
    group_pass,
    new_cache,
    prepare,
)
from propagation.engine.config import EngineConfig, GridSpec
from propagation.engine.server_terrain import check_best_terrain


class GroupPartial(NamedTuple):
    """One path group's contribution over a window (rows ``win[0]:win[1]``, columns ``win[2]:win[3]`` of a grid).

    ``best_rsrp_dbm`` float64 (-inf where no member reaches), ``best_cell`` int32 cell row (-1: none),
    ``pow_sum_mw`` float64 load-weighted power of the members on carrier ``freq_index`` [mW],
    ``excess_db`` float32 terrain excess of the group's sweep ((0, 0) without a terrain method), or None when
    not kept; ``per_cell`` float32 (len(members), rows, cols) RSRP [dBm] or None.
    """

    group: int
    win: tuple
    freq_index: int
    members: np.ndarray
    best_rsrp_dbm: np.ndarray
    best_cell: np.ndarray
    pow_sum_mw: np.ndarray
    excess_db: np.ndarray | None
    per_cell: np.ndarray | None


def group_partials(
    cells, elev_m, grid: GridSpec, config: EngineConfig = EngineConfig(), *, groups=None,
    clutter_db=None, patterns=None, per_cell: bool = False, clutter_stat_mask=None, region=None, surface_m=None,
    path_clutter=None, best_terrain_db: bool = False,
) -> list[GroupPartial]:  # fmt: skip
    """The contributions of path groups over their coverage windows on ``grid``, in the engine's group order.

    Parameters
    ----------
    cells, elev_m, grid, config, clutter_db, patterns, clutter_stat_mask, surface_m, path_clutter
        As :func:`propagation.engine.predict_coverage` (the whole cell matrix: rows keep their meaning).
    groups : callable, optional
        ``groups(members) -> bool``: keep the group whose member rows are ``members`` (default: every group).
    per_cell : bool
        Also keep each member's RSRP.
    region : (int, int, int, int), optional
        ``(row0, row1, col0, col1)``: only these pixels (default: the whole grid).
    best_terrain_db : bool
        Keep each group's terrain excess (for the best server's terrain plane).

    Returns
    -------
    list of GroupPartial
        ``win`` in ``grid`` pixels; ``group`` the position in the engine's group order.
    """
    reg = check_region(region, grid)
    keep_terrain = check_best_terrain(best_terrain_db)
    run = prepare(cells, elev_m, grid, config, clutter_db=clutter_db, patterns=patterns,
                  clutter_stat_mask=clutter_stat_mask, surface_m=surface_m, path_clutter=path_clutter)  # fmt: skip
    n_cells = run.cells.shape[0]
    n_freq = combine_constants(run.cells, config).n_freq
    out = []
    cache = new_cache()
    for gi, (_sweep_id, members, *_rest) in enumerate(run.gconst):
        if groups is not None and not groups(members):
            continue
        bbox = run.gconst[gi][6]
        win = np.array([max(bbox[0], reg[0]), min(bbox[1], reg[1]), max(bbox[2], reg[2]), min(bbox[3], reg[3])], np.int64)
        if win[0] >= win[1] or win[2] >= win[3]:
            continue
        shape = (int(win[1] - win[0]), int(win[3] - win[2]))
        best = np.full(shape, -np.inf)
        idx = np.full(shape, -1, np.int32)
        pow_sum = np.zeros((n_freq,) + shape)  # only the group's carrier plane is written (the others stay unmapped)
        if per_cell:
            pc = np.zeros((n_cells,) + shape, np.float32)  # calloc: only the members' planes are ever touched
            pc[members] = np.nan
        else:
            pc = np.zeros((0, 0, 0), np.float32)
        excess = group_pass(run, gi, win, np.array([win[0], win[2]], np.int64), best, idx, pow_sum, pc, cache)
        f_idx = int(run.cells[members[0], C_FREQ_INDEX])
        out.append(GroupPartial(gi, tuple(int(v) for v in win), f_idx, members, best, idx, pow_sum[f_idx].copy(),
                                excess if keep_terrain else None, pc[members].copy() if per_cell else None))  # fmt: skip
    return out


def crop_partial(p: GroupPartial, row0: int, row1: int, col0: int, col1: int, *, shift=(0, 0)) -> GroupPartial | None:
    """``p`` on the rows ``row0:row1`` and columns ``col0:col1`` of its grid (copies), its window moved by
    ``shift`` = (rows, cols) (to another grid's pixels); None when they do not meet."""
    r0, r1 = max(p.win[0], row0), min(p.win[1], row1)
    c0, c1 = max(p.win[2], col0), min(p.win[3], col1)
    if r0 >= r1 or c0 >= c1:
        return None
    rs, cs = slice(r0 - p.win[0], r1 - p.win[0]), slice(c0 - p.win[2], c1 - p.win[2])
    ex = p.excess_db
    if ex is not None and ex.shape[0] > 0:
        ex = ex[rs, cs].copy()
    win = (r0 + shift[0], r1 + shift[0], c0 + shift[1], c1 + shift[1])
    return GroupPartial(p.group, win, p.freq_index, p.members, p.best_rsrp_dbm[rs, cs].copy(),
                        p.best_cell[rs, cs].copy(), p.pow_sum_mw[rs, cs].copy(), ex,
                        None if p.per_cell is None else p.per_cell[:, rs, cs].copy())  # fmt: skip


def fold_partials(cells, config: EngineConfig, shape, pieces, *, per_cell: bool = False,
                  best_terrain_db: bool = False) -> tuple[np.ndarray, np.ndarray | None]:  # fmt: skip
    """Fold ``pieces`` (in the engine's group order; windows in the tile's pixels) into a tile of ``shape``.

    Returns ``(bands, per_cell)`` as :func:`iter_coverage_tiles` yields them: (5, rows, cols) float32 (6 with
    ``best_terrain_db``), and (n_cells, rows, cols) float32 or None.  ``cells``: the cell matrix the pieces
    were computed with (the combination reads its carrier, load, bandwidth and power columns).
    """
    keep_terrain = check_best_terrain(best_terrain_db)
    cells = np.ascontiguousarray(cells, np.float64)
    cc = combine_constants(cells, config)
    best = np.full(shape, -np.inf)
    idx = np.full(shape, -1, np.int32)
    pow_sum = np.zeros((cc.n_freq,) + tuple(shape))
    terrain = np.full(shape, np.nan, np.float32) if keep_terrain else None
    pcs = np.full((cells.shape[0],) + tuple(shape), np.nan, np.float32) if per_cell else None
    for p in pieces:
        r0, r1, c0, c1 = p.win
        if not (0 <= r0 < r1 <= shape[0] and 0 <= c0 < c1 <= shape[1]):
            raise ValueError(f"piece window {p.win} (row0, row1, col0, col1) lies outside the tile {tuple(shape)}")
        b = best[r0:r1, c0:c1]
        win = p.best_rsrp_dbm > b  # the engine's strict '>': an earlier group keeps a tie
        b[win] = p.best_rsrp_dbm[win]
        idx[r0:r1, c0:c1][win] = p.best_cell[win]
        pow_sum[p.freq_index, r0:r1, c0:c1] += p.pow_sum_mw
        if keep_terrain:
            ex = p.excess_db
            if ex is None:
                raise ValueError("best_terrain_db needs pieces computed with best_terrain_db=True")
            v = np.zeros(p.best_cell.shape, np.float32) if ex.shape[0] == 0 else np.where(ex < 0, np.float32(0), ex)
            terrain[r0:r1, c0:c1][win] = v[win]
        if per_cell:
            if p.per_cell is None:
                raise ValueError("per_cell needs pieces computed with per_cell=True")
            pcs[p.members, r0:r1, c0:c1] = p.per_cell
    return combine_bands(cc, best, idx, pow_sum, terrain), pcs


def site_order(cells) -> list[np.ndarray]:
    """Cell rows per site (one mast position, x then y ascending): the order in which sites' pieces are folded
    (the engine's group order has the mast's x and y as its leading keys)."""
    xy = np.asarray(cells, np.float64)[:, :2]
    _, inverse = np.unique(xy, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    return [np.flatnonzero(inverse == s).astype(np.int64) for s in range(inverse.max() + 1)]


__all__ = ["GroupPartial", "crop_partial", "fold_order", "fold_partials", "group_partials", "site_order"]
