"""Running a prediction: :func:`predict` (arrays) and :func:`predict_to_file` (streamed GeoTIFF).

Both plan once (:func:`netqa.predict.tiles.make_plan`) and walk the tiles in
row-major order, computed in this process or on Dask
(:mod:`netqa.predict.dask_tiles`), so their pixels are the same.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import numpy as np

from netqa.errors import InputError
from netqa.grid import Grid
from netqa.predict.config import CoverageResult, PredictConfig
from netqa.predict.sites import DEFAULT_TASKS, check_tasks
from netqa.predict.tiles import Plan, TileStats, compute_tile, make_plan
from netqa.predict.write import coverage_file_args, per_cell_file_args, write_coverage_style
from netqa.progress import Progress
from netqa.timings import phase
from propagation.engine import BANDS

log = logging.getLogger("netqa.predict")


def _iter_tiles(plan: Plan, *, per_cell: bool, stats: TileStats, bar=None, workers: int = 1, scheduler=None,
                tasks: str = "tiles"):
    """Yield ``(tile, bands, per_cell)`` for every tile of ``plan.grid`` in row-major order, reading per tile.

    In this process (:func:`compute_tile` tile after tile) unless ``workers > 1``
    or ``scheduler``: then the tiles run as Dask tasks and come back in the same
    order (:func:`netqa.predict.dask_tiles.iter_tiles_dask`).  Use it inside
    ``contextlib.closing`` so that a cluster is shut down when the consumer fails.
    """
    if tasks == "sites" and (scheduler or workers > 1):
        from netqa.predict.dask_sites import iter_sites_dask

        tiles = iter_sites_dask(plan, per_cell=per_cell, workers=workers, scheduler=scheduler)
    elif tasks == "sites":
        from netqa.predict.sites import iter_tiles_sites

        tiles = iter_tiles_sites(plan, per_cell=per_cell)
    elif scheduler or workers > 1:
        from netqa.predict.dask_tiles import iter_tiles_dask

        tiles = iter_tiles_dask(plan, per_cell=per_cell, workers=workers, scheduler=scheduler)
    else:
        tiles = ((tile, compute_tile(plan, tile, per_cell)) for tile in plan.grid.tiles(plan.config.tile_px))
    try:
        for tile, out in tiles:
            stats.add(out)
            if bar is not None:
                bar.update(1)
            yield tile, out.bands, out.per_cell  # the five bands, not stacked (no copy)
    finally:
        if hasattr(tiles, "close"):
            tiles.close()


def _check_workers(workers) -> None:
    if not (isinstance(workers, (int, np.integer)) and not isinstance(workers, bool) and workers >= 1):
        raise InputError(f"--workers {workers!r}: must be a whole number >= 1 (1: tile after tile in this process)")


def _progress(plan: Plan, show_progress: bool):
    log.info("predict: %d cells, %r, model %s, terrain %s, %d tile(s) of %d px", len(plan.df), plan.grid,
             plan.config.model, plan.config.terrain, plan.n_tiles, plan.config.tile_px)  # fmt: skip
    return Progress("predict", total=plan.n_tiles, unit="tiles") if show_progress else None


def predict(
    cells,
    dem,
    *,
    clutter=None,
    clutter_table=None,
    config: PredictConfig = PredictConfig(),
    grid: Grid | None = None,
    per_cell: bool = False,
    show_progress: bool = True,
    workers: int = 1,
    scheduler: str | None = None,
    surface=None,
    tasks: str = DEFAULT_TASKS,
) -> CoverageResult:
    """Predict best-server RSRP, SINR and throughput over an area.

    Parameters
    ----------
    cells : path or pandas.DataFrame
        Cell table (canonical Cells columns, DESIGN.md).
    dem : path or list of paths
        DEM GeoTIFF(s) / SRTM .hgt tile(s), any CRS.
    clutter, clutter_table : path, optional
        Clutter class raster and its class table (``code,name,loss_db,height_m``, optional
        ``p2108_type``); how they become losses: ``config.clutter_model``.
    config : PredictConfig
    grid : netqa.grid.Grid, optional
        Computation grid (default: every cell's radius, clipped to the DEM, in
        the DEM's CRS when metric, else the local UTM zone).
    per_cell : bool
        Also keep each cell's RSRP.
    show_progress : bool
        Report progress per tile.
    workers : int
        Tiles at once on a local Dask cluster of that many single-threaded
        worker processes (numba on one thread each); 1 (default): tile after
        tile in this process, numba on every core.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:8786``) to run the tiles on
        instead; its workers must read the DEM and clutter files at the same
        paths.  Results are identical whatever the workers.
    tasks : str
        How the work is split (:mod:`netqa.predict.sites`): ``"tiles"``, one
        task per output tile reading its terrain widened by the radius; or
        ``"sites"``, one task per site (mast) over its own radius, then one
        reduction per output tile.  Same pixels (see :mod:`netqa.predict.sites`
        for when); default :data:`DEFAULT_TASKS`.  A tuned model's learned
        correction needs ``"tiles"``.
    surface : path, optional
        Building/obstacle heights ABOVE GROUND [m] (``--surface``: a surface
        model minus the DEM, nodata = 0), read per tile like the DEM
        (nearest-neighbour, :mod:`netqa.predict.surface`).  The terrain method
        (``delta-bullington``) then runs its obstruction profile over ground +
        obstacles while masts and receivers keep their heights above the DEM's
        ground; the receiver's own pixel stays on the ground (its own building
        is the clutter model's loss).  ``terrain="itm"`` with a surface is refused.

    Returns
    -------
    CoverageResult

    Raises
    ------
    netqa.errors.CellTableError, RasterError, ConfigError, InputError
        Bad cells (duplicate id, impossible value, outside the DEM), a DEM
        that does not cover the area or has voids under it (the uncovered
        extent is named), a clutter code missing from its table, an unreadable
        model file; an unreachable ``scheduler`` or files the Dask workers cannot read (InputError).

    Notes
    -----
    The work runs tile by tile (``config.tile_px``), reading the DEM and the
    clutter per tile exactly as :func:`predict_to_file` does, so the arrays
    equal that file's bands pixel for pixel; only the result arrays are whole.
    """
    _check_workers(workers)
    check_tasks(tasks)
    plan = make_plan(cells, dem, clutter=clutter, clutter_table=clutter_table, config=config, grid=grid, surface=surface)
    check_tasks(tasks, plan)
    g = plan.grid
    stats = TileStats()
    bands = pcs = None
    bar = _progress(plan, show_progress)
    tiles = _iter_tiles(plan, per_cell=per_cell, stats=stats, bar=bar, workers=workers, scheduler=scheduler,
                        tasks=tasks)  # fmt: skip
    try:
        for tile, tile_bands, pc in tiles:
            if plan.n_tiles == 1:  # the tile is the grid: its arrays are the result (no copy)
                bands, pcs = tile_bands, pc
                continue
            if bands is None:
                bands = np.empty((len(BANDS),) + g.shape, np.float32)
                pcs = np.empty((len(plan.matrix),) + g.shape, np.float32) if per_cell else None
            rows, cols = tile.slices
            for i, band in enumerate(tile_bands):
                bands[i, rows, cols] = band
            if per_cell:
                pcs[:, rows, cols] = pc
    finally:
        tiles.close()
        if bar is not None:
            bar.close()
    stats.log(plan)
    best = np.where(np.isnan(bands[1]), -1, bands[1]).astype(np.int32)
    return CoverageResult(bands[0], best, bands[2], bands[3], bands[4], g, plan.cell_ids, pcs, plan.settings())


def predict_to_file(
    cells,
    dem,
    out,
    *,
    clutter=None,
    clutter_table=None,
    config: PredictConfig = PredictConfig(),
    grid: Grid | None = None,
    per_cell_out=None,
    overwrite: bool = False,
    show_progress: bool = True,
    workers: int = 1,
    scheduler: str | None = None,
    surface=None,
    tasks: str = DEFAULT_TASKS,
) -> Path:
    """Predict coverage tile by tile straight into the coverage GeoTIFF (bounded memory, any area).

    The streamed twin of ``write_coverage(predict(...), out)``: the same
    validation, the same tiles and the same file (profile, band descriptions,
    units, nodata, tags), pixel for pixel.  Each tile of ``config.tile_px``
    reads the DEM and the clutter on the tile widened by the coverage radius
    plus :data:`TILE_MARGIN_PX` pixels, computes only the tile, and writes its
    five bands (and its per-cell bands) into the output with a windowed write.
    Peak memory is about ``(tile_px + 2 (radius / pixel + 4))^2`` pixels of
    inputs (float32 terrain, float64 clutter loss, the resampling's float64
    copies) plus one tile of outputs (5 float32 bands, or n_cells more with
    ``per_cell_out``), whatever the area.

    Parameters
    ----------
    cells, dem, clutter, clutter_table, config, grid, surface
        As :func:`predict`.
    out : path
        Coverage GeoTIFF (DESIGN.md "Coverage raster"); written to a
        temporary file beside it and renamed at the end.
    per_cell_out : path, optional
        Also write one ``rsrp_dbm`` band per cell there (as :func:`write_per_cell`).
    overwrite : bool
        Replace existing outputs (else they are refused before any work).
    show_progress, workers, scheduler, tasks
        As :func:`predict`.  On Dask the tiles are computed by the workers and
        written here in tile order as they come back, with at most
        :data:`netqa.predict.dask_tiles.TILES_IN_FLIGHT_PER_THREAD` tiles per worker
        thread submitted or held at a time (bounded memory).  The bands and tags
        equal the local run's; so do the bytes, unless a (non-COG) output
        outgrows GDAL's block cache, when its blocks may be laid out in
        another order.

    Returns
    -------
    pathlib.Path
        ``out``.

    Raises
    ------
    As :func:`predict`; a DEM void is reported when its tile is reached
    (the message names the void's extent), and nothing is written then.
    """
    from netqa.fileio import atomic_set, check_output
    from netqa.io.raster import open_raster_writer

    _check_workers(workers)
    check_tasks(tasks)
    check_output(out, overwrite)
    if per_cell_out is not None:
        check_output(per_cell_out, overwrite)
    with phase("input"):  # cells, antenna patterns, DEM extent
        plan = make_plan(cells, dem, clutter=clutter, clutter_table=clutter_table, config=config, grid=grid,
                         surface=surface)  # fmt: skip
    check_tasks(tasks, plan)
    stats = TileStats()
    bar = _progress(plan, show_progress)
    with contextlib.ExitStack() as stack:
        if bar is not None:
            stack.callback(bar.close)
        # coverage and per-cell rasters are one output set (netqa.fileio.atomic_set): both change or neither
        outputs = stack.enter_context(atomic_set([out] + ([per_cell_out] if per_cell_out is not None else [])))
        cov_w = stack.enter_context(open_raster_writer(out, BANDS, plan.grid, **coverage_file_args(plan.cell_ids, plan.settings()), overwrite=overwrite, outputs=outputs))  # fmt: skip
        pc_w = None
        if per_cell_out is not None:
            pc_w = stack.enter_context(open_raster_writer(per_cell_out, plan.cell_ids, plan.grid, **per_cell_file_args(plan.cell_ids), overwrite=overwrite, outputs=outputs))  # fmt: skip
        tiles = stack.enter_context(contextlib.closing(_iter_tiles(
            plan, per_cell=pc_w is not None, stats=stats, bar=bar, workers=workers, scheduler=scheduler,
            tasks=tasks)))  # fmt: skip
        for tile, bands, pc in tiles:
            cov_w.write(tile.row_off, tile.col_off, bands)
            if pc_w is not None:
                pc_w.write(tile.row_off, tile.col_off, pc)
    stats.log(plan)
    write_coverage_style(out)
    return Path(out)
