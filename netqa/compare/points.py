"""Bridge from samples + cells + DEM + clutter to per-sample predictions with the engine's POINTS mode.

Every sample is predicted at its exact position (no raster look-up) with
:func:`propagation.engine.predict_points`, the same physics as ``netqa
predict``: RS power per resource element (``rs_power_dbm``, else total power
- 10 log10(12 N_PRB)) + antenna peak gain - feeder loss + pattern gain (3GPP
sector with mechanical + electrical tilt, measured MSI pattern, or omni) -
path loss (model + terrain method, never below free space) - clutter loss of
the sample's class.  The cell matrix is built exactly as :func:`netqa.predict.predict` builds it.

Per sample it returns the **serving cell's** predicted RSRP (the cell in the
log), the best server's, the predicted SINR of the serving cell (co-channel
interference of every other cell within ``radius_km`` at the engine's load,
thermal noise + UE noise figure per 15 kHz resource element, as the raster's
combination kernel) and the predicted DL/UL throughput from it (truncated
Shannon, TR 36.942 Annex A, the cell's bandwidth).

For calibration it also returns the geometry the SPM regresses on:
horizontal distance, effective antenna height ``max(z_site + h_tx - z_rx, 1 m)``
(the engine's definition), terrain excess loss, and the EIRP towards the
sample (antenna pattern included), all from the engine itself (an FSPL run
isolates EIRP + pattern, an FSPL + terrain run the diffraction).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from netqa.errors import CRSError, InputError
from netqa.timings import phase
from propagation.engine import EngineConfig, GridSpec
from propagation.engine.points import PreparedTerrain, predict_points, prepare_terrain
from propagation.engine.config import SUBCARRIER_HZ, _n_prb
from propagation.pathloss import free_space_loss_db
from propagation.throughput import SHANNON_DL, SHANNON_UL, truncated_shannon_bps_hz
from propagation.units import THERMAL_NOISE_DBM_PER_HZ

log = logging.getLogger(__name__)

#: The Longley-Rice settings of an EngineConfig that the calibration geometry carries over.
_ITM_ENGINE_FIELDS = ("itm_climate", "itm_refractivity_n0", "itm_permittivity", "itm_conductivity_s_per_m", "itm_mdvar",
                      "itm_time_pct", "itm_location_pct", "itm_situation_pct")  # fmt: skip

#: Points per engine call (bounds the (points x cells) matrix in memory).
CHUNK_POINTS = 100_000


@dataclass
class PointWorld:
    """Cells, terrain and clutter prepared for point predictions, in one metric CRS."""

    cells: pd.DataFrame
    matrix: np.ndarray
    patterns: np.ndarray
    elev_m: np.ndarray
    spec: GridSpec
    crs: object
    clutter_code: np.ndarray | None = None  # (rows, cols) int codes or None
    clutter_loss: dict = field(default_factory=dict)  # code -> loss [dB]
    clutter_name: dict = field(default_factory=dict)  # code -> name
    clutter_table: object = None  # the ClutterTable (for the P.2108 clutter models: point_clutter)
    surface_m: np.ndarray | None = None  # ground + buildings (rows, cols): the obstruction profile (issue 12, --surface)
    obstacle_m: np.ndarray | None = None  # buildings/obstacles above ground (rows, cols), the engine's ``surface_m`` [m]
    _prepared: tuple | None = field(default=None, repr=False, compare=False)

    def terrain(self) -> PreparedTerrain:
        """``elev_m`` and ``obstacle_m`` checked once for the engine's points mode (rebuilt when either is replaced).

        Calibration and comparison call the points mode once per serving cell and band; checking a
        large DEM (and building the ground + obstacle profile) on every call cost more than the kernel.
        """
        if self._prepared is None or self._prepared[0] is not self.elev_m or self._prepared[1] is not self.obstacle_m:
            self._prepared = (self.elev_m, self.obstacle_m, prepare_terrain(self.elev_m, self.spec, self.obstacle_m))
        return self._prepared[2]

    @property
    def cell_ids(self) -> np.ndarray:
        return self.cells["cell_id"].astype(str).to_numpy()


def _cell_matrix(df: pd.DataFrame, label: str, x, y, radius_km: float, load: float):
    """The engine's cell matrix, built exactly as :func:`netqa.predict.predict` builds it."""
    from netqa.predict.inputs import engine_cells

    return engine_cells(df, label, x, y, radius_km=radius_km, load=load)


def check_sample_coordinates(lat, lon, label: str = "samples") -> None:
    """Raise :class:`CRSError` when canonical WGS84 lat/lon look projected or are missing."""
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    bad = ~((np.abs(lat) <= 90.0) & (np.abs(lon) <= 180.0))
    bad &= np.isfinite(lat) & np.isfinite(lon)
    if bad.any():
        i = int(np.argmax(bad))
        raise CRSError(
            f"{label}: row {i}: lat {lat[i]!r}, lon {lon[i]!r} are not WGS84 degrees (projected coordinates in a "
            "lat/lon column?); canonical samples carry WGS84 lat/lon — re-run netqa ingest or reproject"
        )


def native_pixel_m(paths, lat_deg: float) -> float:
    """The finest pixel side of the rasters, in metres (geographic pixels converted at ``lat_deg``). [m]

    A geographic pixel of ``a`` x ``e`` degrees is ``a`` x 111 320 cos(lat) by
    ``e`` x 110 574 m (WGS84 at mid-latitudes, to 0.5 %); the finer side is
    returned, so that resampling onto a square grid of that side loses no
    detail along either axis.
    """
    from netqa.io._dem import open_source

    best = math.inf
    for p in paths:
        if p is None:
            continue
        src = open_source(p)
        a, e = abs(src.transform.a), abs(src.transform.e)
        if src.crs is not None and src.crs.is_geographic:
            a, e = a * 111_320.0 * math.cos(math.radians(lat_deg)), e * 110_574.0
        best = min(best, a, e)
    return float(best)


def load_world(cells, dem, *, samples_lonlat, clutter=None, clutter_table=None, resolution_m: float | None = None,
               radius_km: float = 15.0, cell_load: float = 1.0, margin_m: float = 1000.0, surface=None):  # fmt: skip
    """Read cells, DEM and clutter (and a building-height raster) for the area of the samples and the cells.

    ``surface``: heights of buildings and other obstacles ABOVE GROUND [m]
    (a surface model minus the DEM; nodata = 0).  Terrain diffraction then
    runs over ground + obstacles while antennas and receivers keep their
    heights above the DEM's ground (sites' ground is taken from the DEM).
    The raster is sampled nearest-neighbour onto the grid: keep
    ``resolution_m`` at or below the street width or streets vanish.

    ``resolution_m`` is the side of the square computation grid that the DEM
    (bilinear) and the clutter classes (nearest) are resampled onto [m]; None
    (the default of compare and calibrate) takes the finest native pixel of
    the DEM and the clutter raster (:func:`native_pixel_m`), so nothing is
    averaged away.  Samples keep their exact positions whatever the grid:
    terrain heights are interpolated bilinearly at each sample and the
    engine's point mode traces each path to the sample itself.

    Returns ``(world, inside)``: the :class:`PointWorld` and a boolean mask of
    the samples inside the DEM (the others cannot be predicted; the caller
    counts them).
    """
    from netqa.grid import Grid, study_crs, to_projected
    from netqa.io.raster import read_clutter, read_dem, resample_to_grid
    from netqa.predict.inputs import check_cells, check_cells_ground, check_resolution, dem_extent, read_cells_table

    label = str(cells) if not isinstance(cells, pd.DataFrame) else "cells"
    df = read_cells_table(cells).reset_index(drop=True)
    check_cells(df, label)
    dem_paths = [dem] if isinstance(dem, (str, bytes)) or hasattr(dem, "__fspath__") else list(dem)
    check_cells_ground(df, dem_paths, label)
    s_lon, s_lat = (np.asarray(v, dtype=np.float64) for v in samples_lonlat)
    check_sample_coordinates(s_lat, s_lon)
    c_lon = pd.to_numeric(df["lon"]).to_numpy(np.float64)
    c_lat = pd.to_numeric(df["lat"]).to_numpy(np.float64)
    dem_crs = dem_extent(dem_paths, "EPSG:4326")[1]
    crs = study_crs(dem_crs, float(np.mean(c_lon)), float(np.mean(c_lat)))
    cx, cy = (np.asarray(v, dtype=np.float64) for v in to_projected(c_lon, c_lat, crs))
    sx, sy = (np.asarray(v, dtype=np.float64) for v in to_projected(s_lon, s_lat, crs))
    ok = np.isfinite(sx) & np.isfinite(sy)
    if ok.any():  # samples and cells in different places: usually a CRS mix-up upstream
        sub = np.flatnonzero(ok)[:: max(1, int(ok.sum()) // 2000)]
        near_km = np.min(np.hypot(sx[sub][:, None] - cx[None, :], sy[sub][:, None] - cy[None, :]), axis=1) / 1000.0
        if np.median(near_km) > 100.0:
            raise CRSError(
                f"the samples lie a median {np.median(near_km):.0f} km from the nearest cell of {label}; samples and "
                "cells are probably in different CRSs (cells and samples carry WGS84 lat/lon) — check both inputs"
            )
    dem_ext, _ = dem_extent(dem_paths, crs)
    if resolution_m is None:
        resolution_m = native_pixel_m([*dem_paths, clutter, surface], float(np.mean(c_lat)))
        log.info("compare/calibrate grid: %.1f m, the native resolution of the DEM%s", resolution_m,
                 " and clutter" if clutter is not None else "")  # fmt: skip
    elif not (math.isfinite(resolution_m) and resolution_m > 0):
        raise InputError(f"--resolution-m {resolution_m!r}: must be a positive number of metres")
    else:
        native = native_pixel_m([*dem_paths, clutter, surface], float(np.mean(c_lat)))
        ratio = resolution_m / native
        if abs(ratio - round(ratio)) > 0.01 or ratio < 0.99:
            log.warning("--resolution-m %g: WARNING: not a whole multiple of the inputs' %.1f m pixels: the DEM is "
                        "interpolated and the clutter/surface classes resampled nearest onto shifted pixels; use "
                        "%.0f m or a multiple", resolution_m, native, native)  # fmt: skip
    check_resolution(resolution_m, dem_ext)
    margin = 2.0 * resolution_m
    inside = ok & (sx > dem_ext[0] + margin) & (sx < dem_ext[2] - margin) & (sy > dem_ext[1] + margin) & (sy < dem_ext[3] - margin)
    if not inside.any():
        raise InputError(
            f"no sample lies inside the DEM {dem_paths[0]} (x {dem_ext[0]:.0f}..{dem_ext[2]:.0f}, y "
            f"{dem_ext[1]:.0f}..{dem_ext[3]:.0f} in {crs.to_string()}); check that samples and DEM cover the same area"
        )
    xs = np.concatenate([sx[inside], cx])
    ys = np.concatenate([sy[inside], cy])
    b = (max(xs.min() - margin_m, dem_ext[0] + margin), max(ys.min() - margin_m, dem_ext[1] + margin),
         min(xs.max() + margin_m, dem_ext[2] - margin), min(ys.max() + margin_m, dem_ext[3] - margin))  # fmt: skip
    grid = Grid.from_bounds(crs, b, resolution_m)
    dem_r = read_dem(dem_paths, bounds=tuple(grid.bounds), crs=grid.crs, resolution_m=grid.pixel_size_m)
    elev = resample_to_grid(dem_r, grid, "bilinear")
    values = np.where(elev.nodata_mask, np.nan, elev.values)
    if np.isnan(values).any():
        fill = np.nanmedian(values)
        log.warning("%s: %d void pixels near the samples filled with the median height", dem_paths[0], int(np.isnan(values).sum()))
        values = np.where(np.isnan(values), fill, values)
    matrix, patterns = _cell_matrix(df, label, cx, cy, radius_km, cell_load)
    spec = GridSpec(grid.transform.c, grid.transform.f, grid.pixel_size_m, grid.height, grid.width)
    world = PointWorld(df, matrix, patterns, values.astype(np.float32), spec, crs)
    world.grid = grid
    if (clutter is None) != (clutter_table is None):
        raise InputError("--clutter and --clutter-table go together; give both or neither")
    if clutter is not None:
        codes, table = read_clutter(clutter, clutter_table, grid=grid)
        world.clutter_code = np.where(codes.nodata_mask, -1, codes.values).astype(np.int64)
        frame = table.frame
        world.clutter_loss = {int(c): float(v) for c, v in zip(frame.index, frame["loss_db"])}
        world.clutter_name = {int(c): str(v) for c, v in zip(frame.index, frame["name"])}
        world.clutter_table = table
    if surface is not None:
        world.obstacle_m = _surface_grid(surface, grid)
        world.surface_m = (world.elev_m + world.obstacle_m).astype(np.float32)
        col = matrix[:, 2]
        matrix[:, 2] = np.where(np.isnan(col), ground_heights(world, cx, cy), col)  # masts stand on the DEM's ground
    world.sample_xy = (sx, sy)
    return world, inside


def _surface_grid(surface, grid) -> np.ndarray:
    """Obstacle heights above ground on the grid (float32) [m], read as ``netqa predict`` reads them."""
    from netqa.predict.surface import check_surface, check_surface_area, read_surface

    check_surface(surface, grid.pixel_size_m, "delta-bullington")  # terrain "none": warned by compare/calibrate
    check_surface_area(surface, tuple(grid.bounds), grid.crs)
    return read_surface(surface, grid)


def profile_grid(world: PointWorld) -> np.ndarray:
    """The heights terrain diffraction runs over: ground + obstacles with a surface raster, else the DEM. [m]

    The engine takes the DEM and the obstacles apart (``world.terrain()``: ``prepare_terrain(elev_m, spec, obstacle_m)``),
    so that the profile's samples within one pixel of the receiver stay on the ground, as in ``netqa predict``.
    """
    return world.surface_m if world.surface_m is not None else world.elev_m


def sample_clutter(world: PointWorld, x, y) -> tuple[np.ndarray, np.ndarray]:
    """Clutter class name (None where unknown) and table loss [dB] (0 where unknown) at points."""
    n = np.asarray(x).size
    if world.clutter_code is None:
        return np.full(n, None, dtype=object), np.zeros(n)
    row, col = world.grid.rowcol(x, y)
    row = np.clip(row, 0, world.spec.n_rows - 1)
    col = np.clip(col, 0, world.spec.n_cols - 1)
    code = world.clutter_code[row, col]
    names = pd.Series(code).map(world.clutter_name).to_numpy(dtype=object)
    loss = pd.Series(code).map(world.clutter_loss).fillna(0.0).to_numpy(np.float64)
    return names, loss


def point_clutter(world: PointWorld, x, y, config, tuned=None):
    """The engine's clutter inputs at points under ``config.clutter_model``, as ``netqa predict`` builds them.

    ``config`` is a :class:`netqa.predict.PredictConfig` (or anything with its
    ``clutter_model``, ``rx_height_m``, ``street_width_m``).  Returns
    ``(clutter_db, clutter_stat_mask)`` for :func:`predict_samples`: (n,) [dB]
    and None for ``table``; (n_freq, n) [dB] per carrier (the cell matrix's
    ``freq_index`` order) and None for ``p2108``; None and an (n,) bool mask
    for ``p2108-statistical`` (pass ``EngineConfig(clutter_location_pct=...)``).
    Points outside the class raster or on its nodata get no clutter loss.
    """
    from types import SimpleNamespace

    from netqa.predict.inputs import clutter_arrays

    n = np.asarray(x).size
    if world.clutter_code is None or world.clutter_table is None:
        if config.clutter_model != "table":
            raise InputError(f"--clutter-model {config.clutter_model} needs a clutter class raster: give --clutter "
                             "RASTER and --clutter-table CSV, or leave --clutter-model table")  # fmt: skip
        return np.zeros(n), None
    row, col = world.grid.rowcol(x, y)
    row = np.clip(row, 0, world.spec.n_rows - 1)
    col = np.clip(col, 0, world.spec.n_cols - 1)
    code = world.clutter_code[row, col]
    codes = SimpleNamespace(values=np.where(code < 0, world.clutter_table.codes[0], code), nodata_mask=code < 0)
    return clutter_arrays(codes, world.clutter_table, config, np.unique(world.matrix[:, 7]), tuned)


def ground_heights(world: PointWorld, x, y) -> np.ndarray:
    """Bilinear terrain height at points. [m]"""
    from propagation.engine._common import bilinear_heights

    s = world.spec
    return bilinear_heights(world.elev_m, s.x0_m, s.y0_m, s.pixel_m, x, y)


class PointPrediction:
    """Per-sample predictions: serving and best-server RSRP [dBm] and best cell index (over all cells, and within
    the serving cell's layer: ``best_layer_*``), serving SINR [dB], DL/UL [Mbit/s]."""

    def __init__(self, n):
        self.rsrp_dbm = np.full(n, np.nan)
        self.best_rsrp_dbm = np.full(n, np.nan)
        self.best_cell = np.full(n, -1, np.int64)
        self.best_layer_rsrp_dbm = np.full(n, np.nan)
        self.best_layer_cell = np.full(n, -1, np.int64)
        self.sinr_db = np.full(n, np.nan)
        self.dl_mbps = np.full(n, np.nan)
        self.ul_mbps = np.full(n, np.nan)


@phase("engine")
def predict_samples(world: PointWorld, x, y, serving, config: EngineConfig, *, clutter_db=None,
                    loss_offset_db=None, noise_figure_db: float = 7.0, groups=None,
                    extra_loss=None, layer=None, clutter_stat_mask=None) -> PointPrediction:  # fmt: skip
    """Predictions at the samples for their serving cell (row index, -1 unknown) and the best server.

    ``loss_offset_db`` (per sample) is added to the serving cell's path loss.
    ``groups``: list of ``(cell_rows, EngineConfig, clutter_db per sample)``
    predicting each group of cells with its own model (one tuned SPM and
    clutter table per band); ``extra_loss(x, y, z)`` returns an extra loss
    (points x cells) [dB] added to every cell (per-cell K1/K2, h_eff convention).
    ``layer`` (one int per cell, equal for cells of one technology and
    carrier): the best server restricted to the serving cell's layer goes in
    ``best_layer_*`` (without it, or for samples without a serving cell, the
    best over all cells).  ``clutter_db`` is (n,) for every carrier or
    (n_freq, n) per carrier; ``clutter_stat_mask`` (n,) marks the points that
    get the P.2108 section 3.2 loss at ``config.clutter_location_pct`` (see
    :func:`point_clutter`).
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    serving = np.asarray(serving, np.int64)
    n = x.size
    out = PointPrediction(n)
    z = ground_heights(world, x, y)
    clut = np.zeros(n) if clutter_db is None else np.asarray(clutter_db, np.float64)
    stat = None if clutter_stat_mask is None else np.asarray(clutter_stat_mask, bool)
    m = world.matrix
    load = m[:, 12]
    freq_idx = m[:, 19].astype(np.int64)
    radius_m = m[:, 13] * 1000.0
    noise_mw = 10.0 ** ((THERMAL_NOISE_DBM_PER_HZ + 10.0 * math.log10(SUBCARRIER_HZ) + noise_figure_db) / 10.0)
    n_sc = 12.0 * np.array([_n_prb(b) for b in m[:, 11]])
    ul_offset = config.ue_power_dbm - 10.0 * np.log10(n_sc) - m[:, 8]
    noise_bs = THERMAL_NOISE_DBM_PER_HZ + 10.0 * math.log10(SUBCARRIER_HZ) + config.bs_noise_figure_db
    for a in range(0, n, CHUNK_POINTS):
        sl = slice(a, min(a + CHUNK_POINTS, n))
        if groups is None:
            p = predict_points(m, world.terrain(), world.spec, x[sl], y[sl], config, ground_m=z[sl], clutter_db=clut[..., sl],
                               patterns=world.patterns, clutter_stat_mask=None if stat is None else stat[sl])  # fmt: skip
        else:
            p = np.full((sl.stop - sl.start, m.shape[0]), -np.inf)
            for rows, cfg_g, clut_g in groups:
                p[:, rows] = predict_points(m[rows], world.terrain(), world.spec, x[sl], y[sl], cfg_g, ground_m=z[sl],
                                            clutter_db=np.asarray(clut_g, np.float64)[..., sl], patterns=world.patterns,
                                            clutter_stat_mask=None if stat is None else stat[sl])  # fmt: skip
        if extra_loss is not None:
            p = p - extra_loss(x[sl], y[sl], z[sl])
        dist = np.hypot(x[sl][:, None] - m[None, :, 0], y[sl][:, None] - m[None, :, 1])
        p = np.where(dist <= radius_m[None, :], p, -np.inf)
        srv = serving[sl]
        known = srv >= 0
        rows = np.arange(p.shape[0])
        s_rsrp = np.where(known, p[rows, np.where(known, srv, 0)], np.nan)
        if loss_offset_db is not None:
            s_rsrp = s_rsrp - np.asarray(loss_offset_db, np.float64)[sl]
        s_rsrp = np.where(np.isfinite(s_rsrp), s_rsrp, np.nan)
        best = np.argmax(p, axis=1)
        out.best_cell[sl] = np.where(np.isfinite(p[rows, best]), best, -1)
        out.best_rsrp_dbm[sl] = np.where(np.isfinite(p[rows, best]), p[rows, best], np.nan)
        out.rsrp_dbm[sl] = s_rsrp
        if layer is not None:
            lay = np.asarray(layer, np.int64)
            same_layer = ~known[:, None] | (lay[None, :] == lay[np.where(known, srv, 0)][:, None])
            pl = np.where(same_layer, p, -np.inf)
            bl = np.argmax(pl, axis=1)
            ok_l = np.isfinite(pl[rows, bl])
            out.best_layer_cell[sl] = np.where(ok_l, bl, -1)
            out.best_layer_rsrp_dbm[sl] = np.where(ok_l, pl[rows, bl], np.nan)
        else:
            out.best_layer_cell[sl] = out.best_cell[sl]
            out.best_layer_rsrp_dbm[sl] = out.best_rsrp_dbm[sl]
        # SINR of the serving cell: co-channel cells at their load, as the raster's combination kernel
        mw = np.where(np.isfinite(p), 10.0 ** (p / 10.0), 0.0) * load[None, :]
        s_idx = np.where(known, srv, 0)
        same = freq_idx[None, :] == freq_idx[s_idx][:, None]
        interf = np.sum(np.where(same, mw, 0.0), axis=1) - mw[rows, s_idx]
        s_mw = 10.0 ** (s_rsrp / 10.0)
        sinr = 10.0 * np.log10(s_mw / (np.maximum(interf, 0.0) + noise_mw))
        out.sinr_db[sl] = sinr
        bw = m[s_idx, 11]
        out.dl_mbps[sl] = bw * truncated_shannon_bps_hz(np.nan_to_num(sinr, nan=-99.0), *SHANNON_DL, strict=False)
        snr_ul = ul_offset[s_idx] + s_rsrp - noise_bs - config.ul_margin_db
        out.ul_mbps[sl] = bw * truncated_shannon_bps_hz(np.nan_to_num(snr_ul, nan=-99.0), *SHANNON_UL, strict=False)
        for arr in (out.dl_mbps, out.ul_mbps, out.sinr_db):
            arr[sl] = np.where(np.isfinite(s_rsrp), arr[sl], np.nan)
    return out


@phase("engine")
def calibration_geometry(world: PointWorld, x, y, serving, config: EngineConfig) -> dict:
    """Per-sample regressors for the SPM fit, from the engine (serving cell only; -1 rows get NaN).

    Returns dict of ``dist_km``, ``h_tx_eff_m``, ``diffraction_db``, ``eirp_dbm``
    (RS power + gain - feeder + pattern gain towards the sample) and ``freq_mhz``.
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    serving = np.asarray(serving, np.int64)
    n = x.size
    z = ground_heights(world, x, y)
    m = world.matrix
    out = {k: np.full(n, np.nan) for k in ("dist_km", "h_tx_eff_m", "diffraction_db", "eirp_dbm", "freq_mhz")}
    fspl_cfg = EngineConfig(model="fspl", terrain="none", rx_height_m=config.rx_height_m, min_dist_km=config.min_dist_km)
    terr_cfg = EngineConfig(model="fspl", terrain=config.terrain, rx_height_m=config.rx_height_m,
                            min_dist_km=config.min_dist_km, k_factor=config.k_factor, polarization=config.polarization,
                            **{f: getattr(config, f) for f in _ITM_ENGINE_FIELDS})  # fmt: skip
    ground_site = m[:, 2].copy()
    if np.isnan(ground_site).any():
        ground_site = np.where(np.isnan(ground_site), ground_heights(world, m[:, 0], m[:, 1]), ground_site)
    for i in np.unique(serving[serving >= 0]):
        idx = np.flatnonzero(serving == i)
        one = m[i : i + 1].copy()
        one[0, 2] = ground_site[i]
        dist_km = np.maximum(np.hypot(x[idx] - one[0, 0], y[idx] - one[0, 1]) * 1e-3, config.min_dist_km)
        p_free = predict_points(one, world.terrain(), world.spec, x[idx], y[idx], fspl_cfg, ground_m=z[idx],
                                patterns=world.patterns)[:, 0]  # fmt: skip
        eirp = p_free + free_space_loss_db(one[0, 7], dist_km, strict=False)
        if config.terrain != "none":
            p_terr = predict_points(one, world.terrain(), world.spec, x[idx], y[idx], terr_cfg, ground_m=z[idx],
                                    patterns=world.patterns)[:, 0]  # fmt: skip
            out["diffraction_db"][idx] = np.maximum(p_free - p_terr, 0.0)
        else:
            out["diffraction_db"][idx] = 0.0
        out["dist_km"][idx] = dist_km
        out["h_tx_eff_m"][idx] = np.maximum(one[0, 2] + one[0, 3] - z[idx], 1.0)
        out["eirp_dbm"][idx] = eirp
        out["freq_mhz"][idx] = one[0, 7]
    return out


__all__ = ["PointPrediction", "PointWorld", "calibration_geometry", "check_sample_coordinates", "load_world",
           "native_pixel_m", "profile_grid",
           "predict_samples", "sample_clutter", "point_clutter", "ground_heights"]  # fmt: skip
