"""The per-site task design of ``netqa predict`` (``--tasks sites``): one task per site, one reduction per tile.

Today's design (``--tasks tiles``, :func:`netqa.predict.tiles.compute_tile`)
reads, for every output tile, the DEM and clutter on the tile widened by the
coverage radius and sweeps every site that reaches the tile over it: with a
radius much larger than the tile each site's terrain is read and swept again
for every tile it reaches.  Here each **site** (the cells of one mast) is one
task: it reads the DEM/clutter/surface window of its own radius (plus
:data:`~netqa.predict.tiles.TILE_MARGIN_PX` pixels) once, runs each of its
path groups once over its whole disk
(:func:`propagation.engine.sites.group_partials`) and cuts the result into
pieces per output tile.  Each **output tile** is then one reduction that
folds the pieces of the sites reaching it, in the engine's group order
(:func:`propagation.engine.sites.fold_partials`): the same comparisons and
float64 sums as the per-tile run, in the same order.  Each pixel's per-cell
values are computed by the same code on another window, so the designs agree
as two ``--tile-px`` of the per-tile design agree: pixel for pixel on the test
world; elsewhere a few pixels may differ in the last bits, because a window's
origin enters the rounding of the mast's ground height (interpolated from the
DEM when the cell table has no ``ground_m``), of the sweep's ray geometry and
of a DEM resampled onto the grid (measured: 1 pixel of 5.1 M, one float32
step of SINR, best server identical; benchmarks/README.md).  ITM's sweep
depends on its window more (today's per-tile ITM output changes by up to
5 dB at a few per cent of the pixels with ``--tile-px``); the sites, each
over its whole disk, stay within 0.1 dB of a one-tile run there.

A piece holds float64 best RSRP, int32 best cell and float64 power sum per
pixel (20 bytes; + 4 per cell with per-cell output).  Memory: the pieces of
the sites computed and not yet reduced -- at most every site reaching the
tile rows in flight.  Not offered with a tuned model's learned correction
(it reads each tile's terrain itself).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from netqa.errors import InputError
from netqa.predict.tiles import TILE_MARGIN_PX, Plan, TileOut, count_near_mast, read_window_inputs
from netqa.timings import phase
from propagation.engine import GridSpec
from propagation.engine._common import C_RADIUS
from propagation.engine.sites import crop_partial, fold_partials, group_partials, site_order

log = logging.getLogger("netqa.predict")

#: The ways ``netqa predict`` splits its work into tasks (``--tasks``).
TASK_DESIGNS = ("tiles", "sites")
#: The default of ``--tasks`` (netqa.predict.predict, predict_to_file), chosen by measurement (benchmarks/README.md).
DEFAULT_TASKS = "tiles"


@dataclass(frozen=True)
class Site:
    """One site: its cell rows, the grid pixels its radius reaches (``reach``) and its read window (``window``),
    both (row0, row1, col0, col1) on the plan's grid, and the indices of the output tiles it reaches."""

    index: int
    rows: np.ndarray
    reach: tuple
    window: tuple
    tiles: tuple


@dataclass(frozen=True)
class SitePlan:
    """The output tiles (row-major), the sites (in the engine's fold order) and, per tile, the sites reaching it."""

    tiles: list
    sites: list
    tile_sites: list  # per tile: site indices, ascending (= fold order)


def check_tasks(tasks, plan: Plan | None = None) -> str:
    """``tasks`` checked (``--tasks``), and against the plan: a learned correction needs ``tiles``."""
    if tasks not in TASK_DESIGNS:
        raise InputError(f"--tasks {tasks!r}: choose one of {', '.join(TASK_DESIGNS)} (tiles: one task per output "
                         "tile; sites: one task per site, then one reduction per output tile)")  # fmt: skip
    if plan is not None and tasks == "sites" and plan.learned is not None:
        raise InputError(
            f"--tasks sites cannot apply the learned correction of --model-file {plan.config.model_file}: it reads "
            "each output tile's terrain around the best server; use --tasks tiles (same outputs otherwise)"
        )
    return tasks


def plan_sites(plan: Plan) -> SitePlan:
    """Sites, their windows and the tiles they reach (no raster read)."""
    grid, p = plan.grid, plan.grid.pixel_size_m
    top, left = grid.transform.f, grid.transform.c
    tp = plan.config.tile_px
    tiles = list(grid.tiles(tp))
    n_tc = -(-grid.width // tp)
    sites, tile_sites = [], [[] for _ in tiles]
    for s, rows in enumerate(site_order(plan.matrix)):
        x, y = plan.matrix[rows[0], 0], plan.matrix[rows[0], 1]
        r_m = float(plan.matrix[rows, C_RADIUS].max()) * 1000.0
        # the engine's reach of a group (propagation.engine._groups.prepare), on the whole grid
        reach = (max(0, int(np.floor((top - (y + r_m)) / p))), min(grid.height, int(np.ceil((top - (y - r_m)) / p))),
                 max(0, int(np.floor((x - r_m - left) / p))), min(grid.width, int(np.ceil((x + r_m - left) / p))))  # fmt: skip
        m = TILE_MARGIN_PX
        window = (max(0, reach[0] - m), min(grid.height, reach[1] + m), max(0, reach[2] - m), min(grid.width, reach[3] + m))
        ks = []
        if reach[0] < reach[1] and reach[2] < reach[3]:
            for tr in range(reach[0] // tp, (reach[1] - 1) // tp + 1):
                for tc in range(reach[2] // tp, (reach[3] - 1) // tp + 1):
                    ks.append(tr * n_tc + tc)
                    tile_sites[tr * n_tc + tc].append(s)
        sites.append(Site(s, rows, reach, window, tuple(ks)))
    return SitePlan(tiles, sites, tile_sites)


def compute_site(plan: Plan, site: Site, tiles: list, per_cell: bool):
    """On any process: one site's pieces per output tile ``{tile index: [GroupPartial]}`` (windows in the
    tile's pixels), and its window's pixels without a clutter class."""
    r0, r1, c0, c1 = site.window
    sub = plan.grid.window(r0, c0, r1 - r0, c1 - c0)
    elev, clutter_db, stat_mask, n_no_class, surface_m, path_clutter = read_window_inputs(plan, sub)
    spec = GridSpec(sub.transform.c, sub.transform.f, plan.grid.pixel_size_m, sub.height, sub.width)
    mine = set(site.rows.tolist())
    with phase("engine"):
        parts = group_partials(plan.matrix, elev, spec, plan.engine, groups=lambda m: int(m[0]) in mine,
                               clutter_db=clutter_db, patterns=plan.patterns, per_cell=per_cell,
                               clutter_stat_mask=stat_mask, surface_m=surface_m if plan.engine.terrain != "none" else None,
                               path_clutter=path_clutter)  # fmt: skip
    out = {}
    for k in site.tiles:
        t = tiles[k]
        pieces = [crop_partial(q, t.row_off - r0, t.row_off - r0 + t.rows, t.col_off - c0, t.col_off - c0 + t.cols,
                               shift=(r0 - t.row_off, c0 - t.col_off)) for q in parts]  # fmt: skip
        out[k] = [q for q in pieces if q is not None]
    return out, int(n_no_class)


def reduce_tile(plan: Plan, tile, pieces_by_site, per_cell: bool) -> TileOut:
    """One output tile from the pieces of the sites reaching it (``pieces_by_site`` in site order)."""
    pieces = [q for site_pieces in pieces_by_site for q in sorted(site_pieces, key=lambda q: q.group)]
    with phase("engine"):
        bands, pc = fold_partials(plan.matrix, plan.engine, (tile.rows, tile.cols), pieces, per_cell=per_cell)
    covered_px, near_mast_px = count_near_mast(bands[0], plan.matrix, plan.grid.tile_grid(tile))
    return TileOut(tuple(bands), pc, 0, covered_px, near_mast_px)


def iter_tiles_sites(plan: Plan, *, per_cell: bool):
    """Yield ``(tile, TileOut)`` in row-major order, computed here by sites: each site once, when the first tile
    it reaches comes, its pieces dropped as their tiles are done."""
    sp = plan_sites(plan)
    log.info("predict: %d site task(s), %d output tile(s)", len(sp.sites), len(sp.tiles))
    held = {}  # site index -> {tile index: pieces}
    for k, tile in enumerate(sp.tiles):
        no_class = 0
        for s in sp.tile_sites[k]:
            if s not in held:
                held[s], n = compute_site(plan, sp.sites[s], sp.tiles, per_cell)
                no_class += n
        out = reduce_tile(plan, tile, [held[s].pop(k) for s in sp.tile_sites[k]], per_cell)
        for s in sp.tile_sites[k]:
            if not held[s]:
                del held[s]
        yield tile, out._replace(no_clutter_px=no_class)


__all__ = ["DEFAULT_TASKS", "TASK_DESIGNS", "Site", "SitePlan", "check_tasks", "compute_site", "iter_tiles_sites", "plan_sites",
           "reduce_tile"]
