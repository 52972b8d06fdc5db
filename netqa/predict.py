"""Coverage prediction: cells + DEM + clutter + settings -> coverage arrays and GeoTIFF.

The bridge between netqa's domain objects (the Cells table, rasters on a
:class:`~netqa.grid.Grid`) and the numba raster engine
(:mod:`propagation.engine`), which only sees float64 arrays.  The inputs half
(cell checks, the engine's cell matrix, clutter physics) is
:mod:`netqa.predict_inputs`, shared with the point predictions of
:mod:`netqa.compare`; this module runs the tiles and writes the GeoTIFFs.

>>> from netqa.predict import PredictConfig
>>> PredictConfig(model="cost231", radius_km=5.0).radius_km
5.0

Python API::

    from netqa.predict import predict, write_coverage
    result = predict("testdata/cells.csv", "testdata/dem.tif", config=PredictConfig(model="hata"))
    result.rsrp_dbm, result.transform, result.crs          # arrays on result.grid
    write_coverage(result, "coverage.tif")

Physics per cell (see :mod:`propagation.engine` for the kernels):
RSRP = RS power per resource element (``rs_power_dbm``, else total power
minus 10 log10(12 N_PRB)) + antenna peak gain - feeder loss + pattern gain
(3GPP parametric sector with mechanical + electrical downtilt, or the measured
MSI pattern named in the ``antenna`` column, or omni) - path loss (model +
terrain method) - clutter loss of the pixel's class.

Clutter models (``PredictConfig.clutter_model``, ``--clutter-model``; they need
the clutter raster and class table):

* ``table`` -- the class table's ``loss_db`` (a tuned model file's per-class
  clutter losses replace it), the same for every carrier;
* ``p2108`` -- ITU-R P.2108-1 section 3.1 height-gain terminal correction at
  the receiver, per class and carrier: the class's P.2108 clutter type (a
  ``p2108_type`` column, else its name by :data:`P2108_TYPE_ALIASES`), R = the
  class's ``height_m`` (0: no loss), w_s = ``street_width_m``, h =
  ``rx_height_m``;
* ``p2108-statistical`` -- ITU-R P.2108-1 section 3.2 statistical clutter loss
  L_ctt(f, d, p = ``location_pct``) on pixels of types suburban, urban and
  dense_urban (the section models a terminal in urban/suburban clutter; it has
  no statement for water, open or forest, which get no loss).

Hata, COST-231 and the SPM already contain average clutter in their fit, so the
P.2108 models are meant mainly with ``fspl``/``tr38901-*`` and a terrain method.
"""

from __future__ import annotations

import contextlib
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from netqa.errors import CellTableError, ConfigError, InputError, RasterError
from netqa.grid import Grid, study_crs, to_projected
from netqa.predict_inputs import (  # the inputs half lives there; re-exported here
    P2108_STATISTICAL_TYPES,
    P2108_TYPE_ALIASES,
    _apply_clutter,
    _clutter_lookup,
    _col,
    check_cells,
    clutter_arrays,
    dem_extent,
    engine_cells,
    p2108_class_types,
    read_cells_table,
    read_tuned_model,
    tuned_engine_settings,
)
from netqa.progress import Progress
from netqa.timings import phase
from propagation.engine import BANDS, EngineConfig, GridSpec, predict_coverage
from propagation.engine._common import C_FREQ, C_RADIUS
from propagation.pathloss import SPM_DEFAULT_K

log = logging.getLogger(__name__)

MODELS = ("hata", "cost231", "spm", "tr38901-uma", "tr38901-umi", "tr38901-rma", "fspl")
TERRAIN_METHODS = ("none", "delta-bullington")
CLUTTER_MODELS = ("table", "p2108", "p2108-statistical")

#: Band descriptions and units written to the coverage GeoTIFF.
BAND_UNITS = {
    "rsrp_dbm": "dBm",
    "best_cell": "index into the best_cell metadata list (cells table order)",
    "sinr_db": "dB",
    "dl_mbps": "Mbit/s",
    "ul_mbps": "Mbit/s",
}
NODATA = -9999.0

@dataclass(frozen=True)
class PredictConfig:
    """Settings of :func:`predict` (the ``[predict]`` project section and ``netqa predict`` flags).

    ``model``/``terrain``: names of DESIGN.md; ``model_file``: tuned SPM TOML
    (K1..K7 at top level or under ``[spm]``); ``resolution_m`` pixel size
    [m]; ``radius_km`` coverage radius of every cell [km]; ``rx_height_m``
    [m]; ``noise_figure_db`` of the UE [dB]; ``cell_load`` share of resource
    elements every cell occupies (interference weight, 0..1); ``bounds``
    (left, bottom, right, top) in ``bounds_crs`` (default: the cells' radius,
    clipped to the DEM); ``tile_px`` side of the tiles that are read,
    computed and written one at a time [px]; ``clutter_model``
    table, p2108 or p2108-statistical (module docstring); ``location_pct``
    percentage of locations of the statistical clutter loss (0 < p < 100)
    [%]; ``street_width_m`` street width w_s of the P.2108 height-gain model [m].
    """

    model: str = "hata"
    terrain: str = "none"
    model_file: Path | None = None
    resolution_m: float = 30.0
    radius_km: float = 15.0
    rx_height_m: float = 1.5
    noise_figure_db: float = 7.0
    cell_load: float = 1.0
    bounds: tuple[float, float, float, float] | None = None
    bounds_crs: str | None = None
    tile_px: int = 4096
    clutter_model: str = "table"
    location_pct: float = 50.0
    street_width_m: float = 27.0
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.clutter_model not in CLUTTER_MODELS:
            raise ConfigError(f"--clutter-model {self.clutter_model!r} is unknown; choose one of {', '.join(CLUTTER_MODELS)}")
        p = self.location_pct
        if not (isinstance(p, (int, float)) and math.isfinite(p) and 0.0 < p < 100.0):
            raise ConfigError(f"--location-pct = {p!r} must lie strictly between 0 and 100 %; use 50 for the median")
        if self.model not in MODELS:
            raise ConfigError(f"--model {self.model!r} is unknown; choose one of {', '.join(MODELS)}")
        tp = self.tile_px
        if not (isinstance(tp, (int, np.integer)) and not isinstance(tp, bool) and 16 <= tp <= 65_536):
            raise ConfigError(f"--tile-px = {tp!r} must be a whole number of pixels in 16..65536; 4096 is the default "
                              "(smaller tiles hold less memory, larger ones re-read less terrain margin)")  # fmt: skip
        if self.terrain not in TERRAIN_METHODS:
            raise ConfigError(f"--terrain {self.terrain!r} is unknown; choose one of {', '.join(TERRAIN_METHODS)}")
        for name, lo, hi, unit in (("resolution_m", 1.0, 10_000.0, "m"), ("radius_km", 0.1, 200.0, "km"),
                                   ("rx_height_m", 0.5, 50.0, "m"), ("noise_figure_db", 0.0, 20.0, "dB"),
                                   ("cell_load", 0.0, 1.0, ""), ("street_width_m", 1.0, 1000.0, "m")):  # fmt: skip
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and lo <= v <= hi):
                flag = "--" + name.replace("_", "-")
                raise ConfigError(f"{flag} = {v!r} is outside {lo:g}..{hi:g} {unit}".rstrip())

    @classmethod
    def from_section(cls, section, **overrides) -> "PredictConfig":
        """The settings of a ``[predict]`` project section (:class:`netqa.config.PredictSection`), every key that
        is also a field here (so the two cannot drift), then ``overrides``.

        >>> from netqa.config import PredictSection
        >>> PredictConfig.from_section(PredictSection(radius_km=5.0), model="cost231").radius_km
        5.0
        """
        import dataclasses

        mine = {f.name: f for f in dataclasses.fields(cls)}
        values = {}
        for f in dataclasses.fields(section):
            if f.name in mine:
                v = getattr(section, f.name)
                if mine[f.name].type in ("int", int) and v is not None:
                    if float(v) != int(v):
                        raise ConfigError(f"[predict] {f.name} = {v!r} must be a whole number")
                    v = int(v)
                values[f.name] = v
        values.update(overrides)
        return cls(**values)


@dataclass(frozen=True)
class CoverageResult:
    """Coverage arrays on :attr:`grid` (float32, NaN where no cell reaches).

    ``best_cell`` is int32, -1 where none; ``cell_ids[best_cell]`` is the
    serving cell's id.  ``per_cell`` is (n_cells, rows, cols) RSRP or None.
    """

    rsrp_dbm: np.ndarray
    best_cell: np.ndarray
    sinr_db: np.ndarray
    dl_mbps: np.ndarray
    ul_mbps: np.ndarray
    grid: Grid
    cell_ids: tuple[str, ...]
    per_cell: np.ndarray | None = None
    settings: dict = field(default_factory=dict)

    @property
    def transform(self):
        return self.grid.transform

    @property
    def crs(self):
        return self.grid.crs

    def band(self, name: str) -> np.ndarray:
        if name not in BANDS:
            raise KeyError(f"unknown band {name!r}; bands: {', '.join(BANDS)}")
        return getattr(self, name)


# ----------------------------------------------------------------------------------
# predict
# ----------------------------------------------------------------------------------
#: Pixels added to a tile's terrain window beyond the coverage radius: 2 for the bilinear neighbours of the
#: terrain sweep's samples (a ray sample lies within a pixel of the straight line to the tile's pixel, the
#: mast within a pixel of the radius), 2 more so that the DEM resampling's edge ring is never used.
TILE_MARGIN_PX = 4


@dataclass(frozen=True)
class _Plan:
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
        if has_clutter and c.clutter_model == "p2108":
            out["street_width_m"] = c.street_width_m
        if has_clutter and c.clutter_model == "p2108-statistical":
            out["location_pct"] = c.location_pct
        return out


def _plan(cells, dem, *, clutter, clutter_table, config: PredictConfig, grid: Grid | None) -> _Plan:
    """Read and check the cells, settle the grid, check the DEM's extent and the clutter inputs (no raster read)."""
    from netqa.io.raster import read_clutter_table

    label = str(cells) if not isinstance(cells, pd.DataFrame) else "cells"
    df = read_cells_table(cells).reset_index(drop=True)
    check_cells(df, label)
    dem_paths = [dem] if isinstance(dem, (str, Path)) else list(dem)
    lon, lat = _col(df, "lon"), _col(df, "lat")
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
    _check_dem_extent(dem_paths, grid, dem_ext)
    tuned = read_tuned_model(config.model_file) if config.model_file else None
    if (clutter is None) != (clutter_table is None):
        raise InputError("--clutter and --clutter-table go together; give both or neither")
    if clutter is None and config.clutter_model != "table":
        raise InputError(
            f"--clutter-model {config.clutter_model} needs a clutter class raster: give --clutter RASTER and "
            "--clutter-table CSV (code,name,loss_db,height_m[,p2108_type]), or leave --clutter-model table"
        )
    matrix, patterns = engine_cells(df, label, x, y, radius_km=config.radius_km, load=config.cell_load)
    table = lookup = None
    if clutter is not None:
        table = read_clutter_table(clutter_table)
        lookup = _clutter_lookup(table, config, np.unique(matrix[:, C_FREQ]), tuned)
    spm = tuned_engine_settings(tuned, df) if tuned is not None else {"spm_k": SPM_DEFAULT_K}
    engine_cfg = EngineConfig(
        model=config.model, terrain=config.terrain, rx_height_m=config.rx_height_m,
        noise_figure_db=config.noise_figure_db, tile_px=config.tile_px, clutter_location_pct=config.location_pct,
        **spm,
    )  # fmt: skip
    return _Plan(df, label, dem_paths, grid, matrix, patterns, engine_cfg, config, clutter, table, lookup)


def _check_dem_extent(dem_paths, grid: Grid, dem_ext) -> None:
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


def _read_elevation(plan: _Plan, sub: Grid) -> np.ndarray:
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


def _tile_clutter(plan: _Plan, sub: Grid):
    """``(clutter_db, clutter_stat_mask, pixels without a class)`` on ``sub``; (None, None, 0) without clutter."""
    if plan.clutter_path is None:
        return None, None, 0
    from netqa.io.raster import read_clutter_window

    codes = read_clutter_window(plan.clutter_path, plan.clutter_table, sub)
    clutter_db, stat_mask = _apply_clutter(codes, plan.clutter_table, plan.clutter_lookup)
    return clutter_db, stat_mask, codes.n_nodata


class _TileStats:
    """What the tile loop reports at the end: pixels without a clutter class, covered pixels near a mast."""

    def __init__(self):
        self.no_clutter_px = 0
        self.covered_px = 0
        self.near_mast_px = 0

    def add(self, out: _TileOut) -> None:
        """Add one tile's counts."""
        self.no_clutter_px += out.no_clutter_px
        self.covered_px += out.covered_px
        self.near_mast_px += out.near_mast_px

    def log(self, plan: _Plan) -> None:
        if self.no_clutter_px:
            log.warning("%s: %d pixels without a clutter class; no clutter loss there", plan.clutter_path,
                        self.no_clutter_px)  # fmt: skip
        if plan.config.model in ("hata", "cost231", "spm") and self.covered_px:
            log.info("predict: %.1f %% of covered pixels lie within 1 km of a mast, outside the %s validity range "
                     "(extrapolated)", 100.0 * self.near_mast_px / self.covered_px, plan.config.model)  # fmt: skip


class _TileOut(NamedTuple):
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
def _tile_read_env():
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


def _compute_tile(plan: _Plan, tile, per_cell: bool) -> _TileOut:
    """Read one tile's inputs and run the engine on it: the per-tile work of :func:`predict` (any process).

    The DEM and the clutter are read on the tile's window widened by
    :attr:`_Plan.margin_px` (clipped to the grid, so its pixels are the
    grid's own), and the engine computes only the tile (``region=``) while
    its terrain sweeps reach into the margin.  A top-level function of
    picklable arguments, so that Dask workers run exactly this code.
    Memory: one widened window of inputs plus one tile of outputs.
    """
    grid = plan.grid
    m = plan.margin_px
    sub = grid.window(tile.row_off - m, tile.col_off - m, tile.rows + 2 * m, tile.cols + 2 * m)
    r_off, c_off = max(0, tile.row_off - m), max(0, tile.col_off - m)
    with _tile_read_env(), phase("input"):
        elev = _read_elevation(plan, sub)
        clutter_db, stat_mask, n_no_class = _tile_clutter(plan, sub)
    spec = GridSpec(sub.transform.c, sub.transform.f, grid.pixel_size_m, sub.height, sub.width)
    region = (tile.row_off - r_off, tile.row_off - r_off + tile.rows, tile.col_off - c_off, tile.col_off - c_off + tile.cols)
    with phase("engine"):
        cov = predict_coverage(plan.matrix, elev, spec, plan.engine, clutter_db=clutter_db, patterns=plan.patterns,
                               per_cell=per_cell, clutter_stat_mask=stat_mask, region=region)  # fmt: skip
    covered_px, near_mast_px = _count_near_mast(cov.rsrp_dbm, plan.matrix, grid.tile_grid(tile))
    return _TileOut(tuple(cov[: len(BANDS)]), cov.per_cell, int(n_no_class), covered_px, near_mast_px)


def _iter_tiles(plan: _Plan, *, per_cell: bool, stats: _TileStats, bar=None, workers: int = 1, scheduler=None):
    """Yield ``(tile, bands, per_cell)`` for every tile of ``plan.grid`` in row-major order, reading per tile.

    In this process (:func:`_compute_tile` tile after tile) unless ``workers > 1``
    or ``scheduler``: then the tiles run as Dask tasks and come back in the same
    order (:func:`netqa.predict_dask.iter_tiles_dask`).  Use it inside
    ``contextlib.closing`` so that a cluster is shut down when the consumer fails.
    """
    if scheduler or workers > 1:
        from netqa.predict_dask import iter_tiles_dask

        tiles = iter_tiles_dask(plan, per_cell=per_cell, workers=workers, scheduler=scheduler)
    else:
        tiles = ((tile, _compute_tile(plan, tile, per_cell)) for tile in plan.grid.tiles(plan.config.tile_px))
    try:
        for tile, out in tiles:
            stats.add(out)
            if bar is not None:
                bar.update(1)
            yield tile, out.bands, out.per_cell  # the five bands, not stacked (no copy)
    finally:
        if hasattr(tiles, "close"):
            tiles.close()


def _count_near_mast(rsrp_dbm, matrix, tile_grid: Grid) -> tuple[int, int]:
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


def _check_workers(workers) -> None:
    if not (isinstance(workers, (int, np.integer)) and not isinstance(workers, bool) and workers >= 1):
        raise InputError(f"--workers {workers!r}: must be a whole number >= 1 (1: tile after tile in this process)")


def _progress(plan: _Plan, show_progress: bool):
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
    plan = _plan(cells, dem, clutter=clutter, clutter_table=clutter_table, config=config, grid=grid)
    g = plan.grid
    stats = _TileStats()
    bands = pcs = None
    bar = _progress(plan, show_progress)
    tiles = _iter_tiles(plan, per_cell=per_cell, stats=stats, bar=bar, workers=workers, scheduler=scheduler)
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
    cells, dem, clutter, clutter_table, config, grid
        As :func:`predict`.
    out : path
        Coverage GeoTIFF (DESIGN.md "Coverage raster"); written to a
        temporary file beside it and renamed at the end.
    per_cell_out : path, optional
        Also write one ``rsrp_dbm`` band per cell there (as :func:`write_per_cell`).
    overwrite : bool
        Replace existing outputs (else they are refused before any work).
    show_progress, workers, scheduler
        As :func:`predict`.  On Dask the tiles are computed by the workers and
        written here in tile order as they come back, with at most
        :data:`netqa.predict_dask.TILES_IN_FLIGHT_PER_THREAD` tiles per worker
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
    from netqa.fileio import check_output
    from netqa.io.raster import open_raster_writer

    _check_workers(workers)
    check_output(out, overwrite)
    if per_cell_out is not None:
        check_output(per_cell_out, overwrite)
    with phase("input"):  # cells, antenna patterns, DEM extent
        plan = _plan(cells, dem, clutter=clutter, clutter_table=clutter_table, config=config, grid=grid)
    stats = _TileStats()
    bar = _progress(plan, show_progress)
    with contextlib.ExitStack() as stack:
        if bar is not None:
            stack.callback(bar.close)
        cov_w = stack.enter_context(open_raster_writer(out, BANDS, plan.grid, **_coverage_file_args(plan.cell_ids, plan.settings()), overwrite=overwrite))  # fmt: skip
        pc_w = None
        if per_cell_out is not None:
            pc_w = stack.enter_context(open_raster_writer(per_cell_out, plan.cell_ids, plan.grid, **_per_cell_file_args(plan.cell_ids), overwrite=overwrite))  # fmt: skip
        tiles = stack.enter_context(contextlib.closing(_iter_tiles(
            plan, per_cell=pc_w is not None, stats=stats, bar=bar, workers=workers, scheduler=scheduler)))  # fmt: skip
        for tile, bands, pc in tiles:
            cov_w.write(tile.row_off, tile.col_off, bands)
            if pc_w is not None:
                pc_w.write(tile.row_off, tile.col_off, pc)
    stats.log(plan)
    return Path(out)


# ----------------------------------------------------------------------------------
# output
# ----------------------------------------------------------------------------------
def write_coverage(result: CoverageResult, path, *, overwrite: bool = False) -> Path:
    """Write the coverage GeoTIFF of DESIGN.md ("Coverage raster"), atomically.

    Five float32 bands ``rsrp_dbm``, ``best_cell``, ``sinr_db``, ``dl_mbps``,
    ``ul_mbps`` (descriptions = band names, units set), nodata -9999, tiled and
    deflate-compressed; dataset metadata ``best_cell`` = JSON list of cell ids
    (index -> id) and the prediction settings.
    """
    from netqa.io.raster import write_raster

    best = np.where(result.best_cell < 0, np.nan, result.best_cell).astype(np.float32)
    bands = {name: (best if name == "best_cell" else result.band(name)) for name in BANDS}
    return write_raster(path, bands, result.grid, **_coverage_file_args(result.cell_ids, result.settings),
                        overwrite=overwrite)  # fmt: skip


def _coverage_file_args(cell_ids, settings) -> dict:
    """nodata, units and tags of the coverage GeoTIFF (one place for the in-memory and the streamed writer)."""
    meta = {"best_cell": list(cell_ids), "netqa_product": "coverage", **{k: str(v) for k, v in settings.items()}}
    return {"nodata": NODATA, "units": BAND_UNITS, "metadata": meta}


def _per_cell_file_args(cell_ids) -> dict:
    """nodata, units, descriptions and tags of the per-cell RSRP GeoTIFF (band names = the cell ids)."""
    return {"nodata": NODATA, "units": {c: "dBm" for c in cell_ids}, "descriptions": {c: f"rsrp_dbm {c}" for c in cell_ids},
            "metadata": {"netqa_product": "per_cell_rsrp_dbm", "cell_ids": list(cell_ids)}}  # fmt: skip


def write_per_cell(result: CoverageResult, path, *, overwrite: bool = False) -> Path:
    """Write one ``rsrp_dbm`` band per cell (description = the cell id), atomically."""
    from netqa.io.raster import write_raster

    if result.per_cell is None:
        raise InputError("per-cell RSRP was not computed; call predict(..., per_cell=True)")
    bands = {cid: result.per_cell[i] for i, cid in enumerate(result.cell_ids)}
    return write_raster(path, bands, result.grid, **_per_cell_file_args(result.cell_ids), overwrite=overwrite)


__all__ = [
    "PredictConfig",
    "CoverageResult",
    "predict",
    "predict_to_file",
    "write_coverage",
    "write_per_cell",
    "clutter_arrays",
    "p2108_class_types",
    "BAND_UNITS",
    "NODATA",
    "TILE_MARGIN_PX",
    "CLUTTER_MODELS",
    "P2108_TYPE_ALIASES",
    "P2108_STATISTICAL_TYPES",
]
