"""Tile planning and per-tile computation of :mod:`netqa.predict`.

:func:`make_plan` reads and checks the cells, settles the grid and checks the
DEM's extent and the clutter inputs once (no raster read);
:func:`compute_tile` reads one tile's DEM and clutter on the tile widened by
the coverage radius and runs the engine on it -- the one per-tile code path,
run in this process or by Dask workers (:mod:`netqa.predict.dask_tiles`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from netqa.errors import CellTableError, InputError, RasterError
from netqa.grid import Grid, study_crs, to_projected
from netqa.predict.config import PredictConfig
from netqa.predict.inputs import (
    apply_clutter,
    clutter_lookup,
    cell_column,
    check_cells,
    dem_extent,
    engine_cells,
    read_cells_table,
    read_tuned_model,
    tuned_engine_settings,
)
from netqa.timings import phase
from propagation.engine import BANDS, EngineConfig, GridSpec, predict_coverage
from propagation.engine._common import C_FREQ, C_RADIUS
from propagation.spm import SPM_DEFAULT_K

log = logging.getLogger("netqa.predict")

#: Pixels added to a tile's terrain window beyond the coverage radius: 2 for the bilinear neighbours of the
#: terrain sweep's samples (a ray sample lies within a pixel of the straight line to the tile's pixel, the
#: mast within a pixel of the radius), 2 more so that the DEM resampling's edge ring is never used.
TILE_MARGIN_PX = 4


@dataclass(frozen=True)
class Plan:
    """Everything the tile loop needs, validated once; shared by :func:`predict` and :func:`predict_to_file`."""

    df: pd.DataFrame
    label: str
    dem_paths: list
    grid: Grid
    matrix: np.ndarray
    patterns: np.ndarray
    engine: EngineConfig
    config: PredictConfig
    clutter_path: object = None
    clutter_table: object = None
    clutter_lookup: tuple | None = None
    surface_path: object = None  # --surface: building/obstacle heights above ground (netqa.predict.surface)
    #: the tuned model's learned correction (netqa.predict.learned), None when absent or not applicable
    learned: object = None
    #: the tuned model's clutter losses along the path per cell (netqa.predict.pathclutter.PathTables), or None
    path_clutter: object = None

    @property
    def cell_ids(self) -> tuple[str, ...]:
        return tuple(self.df["cell_id"].astype(str))

    @property
    def margin_px(self) -> int:
        """Pixels of terrain read around a tile: the largest coverage radius + :data:`TILE_MARGIN_PX`."""
        radius_m = float(self.matrix[:, C_RADIUS].max()) * 1000.0
        return int(math.ceil(radius_m / self.grid.pixel_size_m)) + TILE_MARGIN_PX

    @property
    def n_tiles(self) -> int:
        tp = self.config.tile_px
        return math.ceil(self.grid.height / tp) * math.ceil(self.grid.width / tp)

    def settings(self) -> dict:
        """The prediction settings stored with the result (and as GeoTIFF tags)."""
        c = self.config
        has_clutter = self.clutter_path is not None
        out = {"model": c.model, "terrain": c.terrain, "resolution_m": self.grid.pixel_size_m,
               "radius_km": c.radius_km, "rx_height_m": c.rx_height_m, "noise_figure_db": c.noise_figure_db,
               "cell_load": c.cell_load, "clutter_model": c.clutter_model if has_clutter else "none"}  # fmt: skip
        if self.surface_path is not None:
            out["surface"] = Path(self.surface_path).name
        if c.model_file:
            out["model_file"] = Path(c.model_file).name
        if has_clutter and c.clutter_model == "p2108":
            out["street_width_m"] = c.street_width_m
        if has_clutter and c.clutter_model == "p2108-statistical":
            out["location_pct"] = c.location_pct
        if self.path_clutter is not None:  # issue 12 item 3 (absent otherwise: outputs as before)
            out["path_clutter"] = "model file [path_clutter], weighted along the path"
        return out


def make_plan(cells, dem, *, clutter, clutter_table, config: PredictConfig, grid: Grid | None, surface=None) -> Plan:
    """Read and check the cells, settle the grid, check the DEM's extent and the clutter inputs (no raster read)."""
    from netqa.io.raster import read_clutter_table

    label = str(cells) if not isinstance(cells, pd.DataFrame) else "cells"
    df = read_cells_table(cells).reset_index(drop=True)
    check_cells(df, label)
    from netqa.modelcheck import check_model_file_flags, check_tuned_clutter, resolve_model  # issue 13

    check_model_file_flags(config.model, config.model_file)
    if config.model_file is None:
        config = dataclasses.replace(config, model=resolve_model(config.model, df["freq_mhz"], what="predict",
                                                                  terrain=config.terrain))  # fmt: skip
    dem_paths = [dem] if isinstance(dem, (str, Path)) else list(dem)
    lon, lat = cell_column(df, "lon"), cell_column(df, "lat")
    if grid is None:
        dem_crs = dem_extent(dem_paths, "EPSG:4326")[1]
        crs = study_crs(dem_crs, float(np.mean(lon)), float(np.mean(lat)))
    else:
        crs = grid.crs
    x, y = (np.asarray(v, dtype=np.float64) for v in to_projected(lon, lat, crs))
    dem_ext, _ = dem_extent(dem_paths, crs)
    outside = ~((x >= dem_ext[0]) & (x <= dem_ext[2]) & (y >= dem_ext[1]) & (y <= dem_ext[3]))
    if outside.any():
        ids = df["cell_id"].astype(str)[outside].tolist()
        raise CellTableError(
            f"{label}: cell(s) {', '.join(map(repr, ids[:5]))} lie outside the DEM {dem_paths[0]} "
            f"(covers x {dem_ext[0]:.0f}..{dem_ext[2]:.0f}, y {dem_ext[1]:.0f}..{dem_ext[3]:.0f} in {crs.to_string()}); "
            "add DEM tiles or remove the cells"
        )
    radius_m = config.radius_km * 1000.0
    if grid is None:
        if config.bounds is not None:
            from rasterio.warp import transform_bounds

            bcrs = config.bounds_crs or crs
            b = transform_bounds(bcrs, crs, *config.bounds) if bcrs != crs else config.bounds
        else:
            margin = 2.0 * config.resolution_m
            b = (
                max(x.min() - radius_m, dem_ext[0] + margin),
                max(y.min() - radius_m, dem_ext[1] + margin),
                min(x.max() + radius_m, dem_ext[2] - margin),
                min(y.max() + radius_m, dem_ext[3] - margin),
            )
        grid = Grid.from_bounds(crs, b, config.resolution_m)
    inside = grid.contains(x, y)
    if not np.all(inside):
        ids = df["cell_id"].astype(str)[~np.asarray(inside)].tolist()
        raise CellTableError(f"{label}: cell(s) {', '.join(map(repr, ids[:5]))} lie outside the prediction area {tuple(grid.bounds)}")
    check_dem_extent(dem_paths, grid, dem_ext)
    tuned = read_tuned_model(config.model_file) if config.model_file else None
    check_tuned_clutter(tuned, config.model_file, clutter)
    if (clutter is None) != (clutter_table is None):
        raise InputError("--clutter and --clutter-table go together; give both or neither")
    if clutter is None and config.clutter_model != "table":
        raise InputError(
            f"--clutter-model {config.clutter_model} needs a clutter class raster: give --clutter RASTER and "
            "--clutter-table CSV (code,name,loss_db,height_m[,p2108_type]), or leave --clutter-model table"
        )
    matrix, patterns = engine_cells(df, label, x, y, radius_km=config.radius_km, load=config.cell_load)
    if tuned is not None:  # the tuned model's weight of the assumed pattern's attenuation (issue 12)
        from netqa.predict.pattern_weight import apply_pattern_weights, cell_pattern_weights

        matrix = apply_pattern_weights(matrix, cell_pattern_weights(tuned, df))
    table = lookup = None
    if clutter is not None:
        table = read_clutter_table(clutter_table)
        lookup = clutter_lookup(table, config, np.unique(matrix[:, C_FREQ]), tuned)
    from netqa.predict.pathclutter import plan_path_tables  # issue 12 item 3: clutter along the path

    path_tables = plan_path_tables(tuned, df, table, clutter_model=config.clutter_model, model_file=config.model_file)
    spm = tuned_engine_settings(tuned, df) if tuned is not None else {"spm_k": SPM_DEFAULT_K}
    engine_cfg = EngineConfig(
        model=config.model, terrain=config.terrain, rx_height_m=config.rx_height_m,
        noise_figure_db=config.noise_figure_db, tile_px=config.tile_px, clutter_location_pct=config.location_pct,
        **spm, **dict(config.itm),
    )  # fmt: skip
    if surface is not None:
        from netqa.predict.surface import check_surface, check_surface_area

        check_surface(surface, grid.pixel_size_m, config.terrain)
        # none of the area covered: refused here too (Python API); the CLI and projects warned of partial cover
        check_surface_area(surface, tuple(grid.bounds), grid.crs, warn=False)
    learned = None
    if tuned is not None:  # issue 12 item 5
        from netqa.predict.learned import usable_correction

        learned = usable_correction(tuned, config.model_file, terrain=config.terrain, rx_height_m=config.rx_height_m,
                                    has_clutter=clutter is not None, has_surface=surface is not None,
                                    what="predict")  # fmt: skip
    return Plan(df, label, dem_paths, grid, matrix, patterns, engine_cfg, config, clutter, table, lookup, surface,
                learned, path_clutter=path_tables)


def check_dem_extent(dem_paths, grid: Grid, dem_ext) -> None:
    """Fail early, from the DEM headers, when the grid reaches beyond the DEM (naming the uncovered extent)."""
    left, bottom, right, top = grid.bounds
    el, eb, er, et = dem_ext
    tol = 1e-6 * grid.pixel_size_m
    parts = []
    if left < el - tol:
        parts.append(f"west of x {el:.0f} (from {left:.0f})")
    if right > er + tol:
        parts.append(f"east of x {er:.0f} (to {right:.0f})")
    if bottom < eb - tol:
        parts.append(f"south of y {eb:.0f} (from {bottom:.0f})")
    if top > et + tol:
        parts.append(f"north of y {et:.0f} (to {top:.0f})")
    if parts:
        raise RasterError(
            f"{dem_paths[0]}: the DEM does not cover the prediction area ({left:.0f}, {bottom:.0f}, {right:.0f}, "
            f"{top:.0f}) in {grid.crs.to_string()}: uncovered {', '.join(parts)}; add DEM tiles or shrink the area"
        )


def read_elevation(plan: Plan, sub: Grid) -> np.ndarray:
    """Terrain heights on ``sub`` (a window of the plan's grid), no voids. [m]"""
    from netqa.io.raster import read_dem, resample_to_grid

    dem_r = read_dem(plan.dem_paths, bounds=tuple(sub.bounds), crs=sub.crs, resolution_m=sub.pixel_size_m)
    elev_r = resample_to_grid(dem_r, sub, "bilinear")
    if elev_r.n_nodata:
        rows, cols = np.nonzero(elev_r.nodata_mask)
        xs, ys = sub.xy(rows, cols)
        raise RasterError(
            f"{plan.dem_paths[0]}: the DEM has {elev_r.n_nodata} void or uncovered pixels under the prediction area, "
            f"within x {np.min(xs):.0f}..{np.max(xs):.0f}, y {np.min(ys):.0f}..{np.max(ys):.0f} ({sub.crs.to_string()}); "
            "fill the voids or add DEM tiles"
        )
    return elev_r.values


def tile_clutter(plan: Plan, sub: Grid):
    """``(clutter_db, clutter_stat_mask, pixels without a class)`` on ``sub``; (None, None, 0) without clutter."""
    if plan.clutter_path is None:
        return None, None, 0
    from netqa.io.raster import read_clutter_window

    codes = read_clutter_window(plan.clutter_path, plan.clutter_table, sub)
    clutter_db, stat_mask = apply_clutter(codes, plan.clutter_table, plan.clutter_lookup)
    return clutter_db, stat_mask, codes.n_nodata


class TileStats:
    """What the tile loop reports at the end: pixels without a clutter class, covered pixels near a mast."""

    def __init__(self):
        self.no_clutter_px = 0
        self.covered_px = 0
        self.near_mast_px = 0

    def add(self, out: TileOut) -> None:
        """Add one tile's counts."""
        self.no_clutter_px += out.no_clutter_px
        self.covered_px += out.covered_px
        self.near_mast_px += out.near_mast_px

    def log(self, plan: Plan) -> None:
        if self.no_clutter_px:
            log.warning("%s: %d pixels without a clutter class; no clutter loss there", plan.clutter_path,
                        self.no_clutter_px)  # fmt: skip
        if plan.config.model in ("hata", "cost231", "spm") and self.covered_px:
            log.info("predict: %.1f %% of covered pixels lie within 1 km of a mast, outside the %s validity range "
                     "(extrapolated)", 100.0 * self.near_mast_px / self.covered_px, plan.config.model)  # fmt: skip


class TileOut(NamedTuple):
    """One computed tile: its five bands (float32 arrays of the tile), per-cell RSRP or None, and its counts."""

    bands: tuple
    per_cell: np.ndarray | None
    no_clutter_px: int
    covered_px: int
    near_mast_px: int


#: GDAL block cache while a tile's DEM and clutter are read, unless the user set ``GDAL_CACHEMAX`` [MB]: GDAL's
#: default (5 % of the RAM, in every process, so in every Dask worker) would dominate the memory of small tiles.
#: The cache never changes values.
TILE_READ_CACHE_MB = 256


@contextlib.contextmanager
def tile_read_env():
    """``rasterio.Env`` with the block cache at :data:`TILE_READ_CACHE_MB`, or none when ``GDAL_CACHEMAX`` is set.

    The cache size in force before is put back on the way out: a ``rasterio.Env``
    nested in another (an output file open in this process) leaves its
    ``GDAL_CACHEMAX`` behind, and the writes after it then ran with a cache of
    256 (5 x slower, the compressed blocks rewritten once per band).
    """
    import os

    import rasterio
    from rasterio._env import get_gdal_config, set_gdal_config

    if "GDAL_CACHEMAX" in os.environ or (rasterio.env.hasenv() and "GDAL_CACHEMAX" in rasterio.env.getenv()):
        yield
        return
    before = get_gdal_config("GDAL_CACHEMAX", normalize=False)
    try:
        with rasterio.Env(GDAL_CACHEMAX=TILE_READ_CACHE_MB):
            yield
    finally:
        if before is not None and get_gdal_config("GDAL_CACHEMAX", normalize=False) != before:
            set_gdal_config("GDAL_CACHEMAX", before, normalize=False)


def read_window_inputs(plan: Plan, sub: Grid):
    """``(elev_m, clutter_db, clutter_stat_mask, pixels without a class, surface_m, path_clutter)`` on ``sub``
    (a window of the plan's grid): what the engine reads, for a tile (:func:`compute_tile`) or a site
    (:mod:`netqa.predict.sites`)."""
    with tile_read_env(), phase("input"):
        elev = read_elevation(plan, sub)
        clutter_db, stat_mask, n_no_class = tile_clutter(plan, sub)
        surface_m = None
        needs_surface = plan.learned is not None and plan.learned.spec.building  # issue 12 item 5: building height
        if plan.surface_path is not None and (plan.engine.terrain != "none" or needs_surface):
            from netqa.predict.surface import read_surface

            surface_m = read_surface(plan.surface_path, sub)
        from netqa.predict.pathclutter import tile_path_clutter  # issue 12 item 3

        path_clutter = tile_path_clutter(plan, sub)
    return elev, clutter_db, stat_mask, n_no_class, surface_m, path_clutter


def compute_tile(plan: Plan, tile, per_cell: bool) -> TileOut:
    """Read one tile's inputs and run the engine on it: the per-tile work of :func:`predict` (any process).

    The DEM and the clutter are read on the tile's window widened by
    :attr:`Plan.margin_px` (clipped to the grid, so its pixels are the
    grid's own), and the engine computes only the tile (``region=``) while
    its terrain sweeps reach into the margin.  A top-level function of
    picklable arguments, so that Dask workers run exactly this code.
    Memory: one widened window of inputs plus one tile of outputs.
    """
    grid = plan.grid
    m = plan.margin_px
    sub = grid.window(tile.row_off - m, tile.col_off - m, tile.rows + 2 * m, tile.cols + 2 * m)
    r_off, c_off = max(0, tile.row_off - m), max(0, tile.col_off - m)
    elev, clutter_db, stat_mask, n_no_class, surface_m, path_clutter = read_window_inputs(plan, sub)
    spec = GridSpec(sub.transform.c, sub.transform.f, grid.pixel_size_m, sub.height, sub.width)
    region = (tile.row_off - r_off, tile.row_off - r_off + tile.rows, tile.col_off - c_off, tile.col_off - c_off + tile.cols)
    with phase("engine"):
        cov = predict_coverage(plan.matrix, elev, spec, plan.engine, clutter_db=clutter_db, patterns=plan.patterns,
                               per_cell=per_cell, clutter_stat_mask=stat_mask, region=region,
                               surface_m=surface_m if plan.engine.terrain != "none" else None,
                               best_terrain_db=plan.learned is not None, path_clutter=path_clutter)  # fmt: skip
    if plan.learned is not None:  # issue 12 item 5: the best server's learned correction
        from netqa.predict.learned import correct_tile

        with phase("learned"):
            cov = cov._replace(rsrp_dbm=correct_tile(plan, sub, elev, region, cov.rsrp_dbm, cov.best_cell,
                                                     cov.terrain_db, surface_m=surface_m))
    covered_px, near_mast_px = count_near_mast(cov.rsrp_dbm, plan.matrix, grid.tile_grid(tile))
    return TileOut(tuple(cov[: len(BANDS)]), cov.per_cell, int(n_no_class), covered_px, near_mast_px)


def count_near_mast(rsrp_dbm, matrix, tile_grid: Grid) -> tuple[int, int]:
    """A tile's covered pixels and those of them within 1 km of a mast."""
    covered = np.isfinite(rsrp_dbm)
    n_covered = int(covered.sum())
    if not n_covered:
        return 0, 0
    xx, yy = tile_grid.coords()
    left, bottom, right, top = tile_grid.bounds
    near = np.zeros(rsrp_dbm.shape, bool)
    for x, y in np.unique(matrix[:, :2], axis=0):
        if left - 1e3 <= x <= right + 1e3 and bottom - 1e3 <= y <= top + 1e3:
            # only the rows and columns within 1 km (outside them dx^2 or dy^2 alone is >= 1e6): the same
            # pixels as over the whole tile, at 70 x 70 instead of 4096 x 4096 per mast (999 cells: 9 s -> 0.1 s)
            cols = np.flatnonzero((xx - x) ** 2 < 1e6)
            rows = np.flatnonzero((yy - y) ** 2 < 1e6)
            if cols.size and rows.size:
                c0, c1, r0, r1 = cols[0], cols[-1] + 1, rows[0], rows[-1] + 1
                near[r0:r1, c0:c1] |= ((xx[None, c0:c1] - x) ** 2 + (yy[r0:r1, None] - y) ** 2) < 1e6
    return n_covered, int((near & covered).sum())
