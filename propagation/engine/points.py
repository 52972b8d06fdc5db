"""POINTS mode: each cell's received power at arbitrary points, with the raster's physics.

For drive-test comparison and calibration: the same closed-form model,
antenna pattern, FSPL floor and clutter term as :func:`predict_coverage`; the
terrain term is the delta-Bullington loss (``terrain="itm"``: ITM's
attenuation relative to free space) over the straight profile to each point
(the raster's per-pixel reference), sampled bilinearly every ``pixel_m``
(with ``surface_m``: over ground + obstacles, the samples within one pixel of
the point on the ground, as the raster's sweep).
At pixel centres with the pixel's own height and no terrain
method the result equals the raster's per-cell RSRP -- clutter included:
a per-point loss (one value for all carriers or one per carrier frequency)
and the ITU-R P.2108-1 section 3.2 statistical loss where a per-point mask
is set, with the raster's distance clamp (0.25 km) and 2 km cap.
"""

from __future__ import annotations

import math

import numpy as np

from propagation._jit import jit_parallel, prange
from propagation import _fastmath as _fm
from propagation._itm_profile import I_AFS, I_LOSS, N_INTER, itm_p2p_kernel
from propagation.diffraction import EARTH_RADIUS_KM, POLARIZATIONS, _delta_bullington_db
from propagation.engine._common import C_AZ, C_FEEDER, C_FREQ, C_GAIN, C_GROUND, C_HEIGHT, C_RS, C_X, C_Y, MP_MIN_DIST_KM, MP_RX_HEIGHT
from propagation.engine._common import RX_CLEAR_PX, _bilinear, _spm_h_eff_m, surface_profile
from propagation.engine._common import C_FREQ_INDEX, TerrainMethod
from propagation.engine.closed_form import _antenna_gain_db, _model_loss_db, affine_loss_coefficients
from propagation.engine.config import (
    EngineConfig,
    GridSpec,
    _check_clutter,
    _check_elev,
    _check_inputs,
    _check_stat_mask,
    _n_freq,
    stat_q_inverse,
)
from propagation.engine.terrain_itm import N_ITM_PARAMS, P_CLIMATE, P_EPS, P_LQ, P_MDVAR, P_N0, P_POL, P_SIGMA, P_SQ, P_TQ
from propagation.p2108 import P2108_CAP_DIST_KM, P2108_MIN_DIST_KM, _l_ctt_w_db, _w_l
from propagation.pathloss import FSPL_CONST_MHZ_KM_DB

_RAD2DEG = 180.0 / math.pi


class PreparedTerrain:
    """A DEM (and optional obstacle heights) checked once, for many :func:`predict_points` calls.

    :func:`predict_points` checks its whole terrain grid on every call (finite heights; with a
    surface, obstacle heights within bounds and the ground + obstacle profile built), which costs
    tens of milliseconds for a 5000 x 5000 DEM and about a second with a surface -- more than the
    kernel itself when a caller evaluates a few hundred points per cell for hundreds of cells
    (calibration, drive-test comparison).  Build one with :func:`prepare_terrain` and pass it as
    ``elev_m``; the results are identical.  The arrays are private copies, read-only, so the
    checks stay true.

    Attributes
    ----------
    elev_m : numpy.ndarray, (rows, cols) float32
        Terrain heights. [m]
    profile_m : numpy.ndarray or None, (rows, cols) float32
        Ground + obstacles (the obstruction profile), or None without a surface. [m]
    grid : GridSpec
    """

    __slots__ = ("elev_m", "profile_m", "grid")

    def __init__(self, elev_m, profile_m, grid):
        self.elev_m, self.profile_m, self.grid = elev_m, profile_m, grid

    def __repr__(self) -> str:
        return f"PreparedTerrain({self.grid!r}, surface={'yes' if self.profile_m is not None else 'no'})"


def _frozen_copy(a):
    a = np.array(a, dtype=np.float32, order="C", copy=True)
    a.flags.writeable = False
    return a


def prepare_terrain(elev_m, grid: GridSpec, surface_m=None) -> PreparedTerrain:
    """Check a terrain grid (and obstacle heights) once for many :func:`predict_points` calls.

    Parameters
    ----------
    elev_m : numpy.ndarray, (rows, cols)
        Terrain heights above sea level on ``grid``, finite. [m]
    grid : GridSpec
    surface_m : numpy.ndarray, (rows, cols), optional
        Obstacle heights above ground on the same grid, finite, 0..1000 m (as
        :func:`predict_points`' ``surface_m``). [m]

    Returns
    -------
    PreparedTerrain
        Pass it as ``elev_m`` to :func:`predict_points` (with the same ``grid`` and no
        ``surface_m``).

    Raises
    ------
    ValueError
        As :func:`predict_points` would for the same arrays.
    """
    elev = _check_elev(elev_m, grid)
    prof = surface_profile(elev, surface_m, grid.shape)
    return PreparedTerrain(_frozen_copy(elev), None if prof is None else _frozen_copy(prof), grid)


@jit_parallel
def _points_kernel(cells, patterns, elev_m, prof_m, x0_m, y0_m, pixel_m, x_m, y_m, z_m, clutter_db, stat_mask, stat_q_inv,
                   model_id, ab, mps, terrain_id, ae_km, pol_id, itm_prm, out):  # fmt: skip
    n_pts = x_m.size
    n_cells = cells.shape[0]
    terrain_on = terrain_id != 0
    has_clutter = clutter_db.shape[0] > 0
    per_freq = clutter_db.shape[0] > 1
    has_stat = stat_mask.shape[0] > 0
    stat_w_l = np.zeros(n_cells)  # each carrier's eq. (7) term, once per cell
    stat_cap_db = np.zeros(n_cells)
    if has_stat:
        for i in range(n_cells):
            stat_w_l[i] = _w_l(cells[i, C_FREQ] * 1e-3)
            stat_cap_db[i] = _l_ctt_w_db(stat_w_l[i], cells[i, C_FREQ] * 1e-3, P2108_CAP_DIST_KM, stat_q_inv)
    for p in prange(n_pts):
        for i in range(n_cells):
            mp = mps[i]
            dx = x_m[p] - cells[i, C_X]
            dy = y_m[p] - cells[i, C_Y]
            dist_m = math.sqrt(dx * dx + dy * dy)
            dist_km = max(dist_m * 1e-3, mp[MP_MIN_DIST_KM])
            log_d = _fm.log10(dist_km)
            z_tx = cells[i, C_GROUND] + cells[i, C_HEIGHT]
            h_rx = mp[MP_RX_HEIGHT]
            diff = 0.0
            if terrain_on and dist_m > pixel_m:
                n = max(2, int(math.ceil(dist_m / pixel_m - 1e-9)))
                d_prof = np.empty(n + 1)
                h_prof = np.empty(n + 1)
                for k in range(n + 1):
                    t = k / n
                    d_prof[k] = t * dist_m * 1e-3
                    # ground + obstacles, but the ground within one pixel of the receiver (its own building)
                    src = elev_m if (n - k) * dist_m / n <= RX_CLEAR_PX * pixel_m + 1e-6 else prof_m
                    h_prof[k] = _bilinear(src, x0_m, y0_m, pixel_m, cells[i, C_X] + t * dx, cells[i, C_Y] + t * dy)
                h_prof[0] = cells[i, C_GROUND]
                h_prof[n] = z_m[p]
                if terrain_id == 2:  # ITM: its attenuation relative to free space over the same profile
                    inter = np.empty(N_INTER)
                    itm_p2p_kernel(h_prof, dist_m / n, cells[i, C_HEIGHT], h_rx, int(itm_prm[P_CLIMATE]),
                                   itm_prm[P_N0], cells[i, C_FREQ], int(itm_prm[P_POL]), itm_prm[P_EPS],
                                   itm_prm[P_SIGMA], int(itm_prm[P_MDVAR]), itm_prm[P_TQ], itm_prm[P_LQ],
                                   itm_prm[P_SQ], inter)  # fmt: skip
                    diff = inter[I_LOSS] - inter[I_AFS]
                else:
                    diff = max(_delta_bullington_db(d_prof, h_prof, cells[i, C_HEIGHT], h_rx, cells[i, C_FREQ], ae_km,
                                                    0.0, pol_id), 0.0)  # fmt: skip
            h_eff = _spm_h_eff_m(cells[i, C_HEIGHT], z_tx, z_m[p], mp)
            loss = _model_loss_db(model_id, ab[i, 0], ab[i, 1], cells[i, C_FREQ], dist_km, log_d, cells[i, C_HEIGHT],
                                  h_eff, diff, terrain_on, mp)  # fmt: skip
            loss = max(loss, FSPL_CONST_MHZ_KM_DB + 20.0 * math.log10(cells[i, C_FREQ]) + 20.0 * log_d)
            if has_clutter:
                loss += clutter_db[int(cells[i, C_FREQ_INDEX]) if per_freq else 0, p]
            if has_stat:
                if stat_mask[p] != 0:
                    d_stat_km = max(dist_m * 1e-3, P2108_MIN_DIST_KM)
                    if d_stat_km < P2108_CAP_DIST_KM or stat_q_inv < 0.0:
                        loss += min(_l_ctt_w_db(stat_w_l[i], cells[i, C_FREQ] * 1e-3, d_stat_km, stat_q_inv),
                                    stat_cap_db[i])  # fmt: skip
                    else:
                        loss += stat_cap_db[i]
            elev_deg = math.atan2(z_m[p] + h_rx - z_tx, max(dist_m, 1e-3)) * _RAD2DEG
            bearing = math.atan2(dx, dy) * _RAD2DEG
            g = _antenna_gain_db(cells, i, patterns, bearing - cells[i, C_AZ], elev_deg)
            out[p, i] = cells[i, C_RS] + cells[i, C_GAIN] - cells[i, C_FEEDER] + g - loss


def predict_points(cells, elev_m, grid: GridSpec, x_m, y_m, config: EngineConfig = EngineConfig(), *,
                   ground_m=None, clutter_db=None, patterns=None, clutter_stat_mask=None, surface_m=None):  # fmt: skip
    """Received power (RSRP per resource element) of every cell at every point. [dBm]

    Parameters
    ----------
    cells : numpy.ndarray
        Cell matrix from :func:`cell_matrix`.
    elev_m : numpy.ndarray or PreparedTerrain
        Terrain grid (for the site heights and the terrain profiles), or the same checked once
        by :func:`prepare_terrain` (faster for repeated calls on a large grid). [m]
    grid : GridSpec
    x_m, y_m : array_like
        Point coordinates in the grid's CRS. [m]
    config : EngineConfig
    ground_m : array_like, optional
        Ground height at the points (default: bilinear from ``elev_m``). [m]
    clutter_db : array_like, optional
        Clutter loss at each point, (n_points,) for every carrier or
        (n_freq, n_points) with row k for the cells whose ``freq_index`` is k
        (at least max(freq_index) + 1 rows, so a subset of a cell matrix may
        be passed with the full matrix's planes). [dB]
    patterns : numpy.ndarray, optional
        Measured patterns, as for :func:`predict_coverage`.
    clutter_stat_mask : array_like, optional
        (n_points,) bool/0-1: points in urban/suburban clutter, which get the
        ITU-R P.2108-1 section 3.2 loss at ``config.clutter_location_pct`` (as
        :func:`predict_coverage`).
    surface_m : numpy.ndarray, (rows, cols), optional
        Building/obstacle heights above ground on the grid of ``elev_m``
        (finite, 0..1000 m), as :func:`predict_coverage`: the terrain profile
        runs over ``elev_m + surface_m`` except its samples within one pixel
        of the point, which stay on the ground; the masts' and the points'
        heights stay referenced to ``elev_m`` (and ``ground_m``). [m]

    Returns
    -------
    numpy.ndarray, (n_points, n_cells) float64

    Examples
    --------
    >>> from propagation.engine import cell_matrix
    >>> cells = cell_matrix(x_m=[0.0], y_m=[0.0], height_m=[30.0], azimuth_deg=[0.0], freq_mhz=[900.0],
    ...                     rs_power_dbm=[15.0], bandwidth_mhz=[10.0], pattern_id=[-2], gain_dbi=[0.0])
    >>> grid = GridSpec(-1500.0, 1500.0, 100.0, 30, 30)
    >>> round(float(predict_points(cells, np.zeros(grid.shape), grid, [0.0], [1450.0])[0, 0]), 2)
    -117.09
    """
    if isinstance(elev_m, PreparedTerrain):
        if elev_m.grid != grid:
            raise ValueError(f"elev_m was prepared on {elev_m.grid!r}, not on grid = {grid!r}")
        if surface_m is not None:
            raise ValueError("surface_m is given twice: pass it to prepare_terrain only (the PreparedTerrain holds it)")
        cells, elev, _, patterns = _check_inputs(cells, elev_m.elev_m, grid, None, patterns, elev_checked=True)
        prof = elev_m.profile_m
    else:
        cells, elev, _, patterns = _check_inputs(cells, elev_m, grid, None, patterns)
        prof = surface_profile(elev, surface_m, grid.shape)
    x = np.ascontiguousarray(x_m, dtype=np.float64).ravel()
    y = np.ascontiguousarray(y_m, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x_m and y_m must have the same length, got {x.size} and {y.size}")
    if ground_m is None:
        z = np.array([_bilinear(elev, grid.x0_m, grid.y0_m, grid.pixel_m, a, b) for a, b in zip(x, y)])
    else:
        z = np.broadcast_to(np.asarray(ground_m, dtype=np.float64), x.shape).copy()
    if clutter_db is not None and np.ndim(clutter_db) == 0:
        clutter_db = np.full(x.shape, float(clutter_db))
    clut = _check_clutter(clutter_db, x.shape, _n_freq(cells), at_least=True, dtype=np.float64)
    stat_mask = _check_stat_mask(clutter_stat_mask, x.shape, cells, stacklevel=3)
    for name, arr in (("x_m", x), ("y_m", y), ("ground_m", z)):
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} must be finite at every point")
    config.check_k_cells(cells.shape[0])
    mps = np.stack([config.model_params(f, i) for i, f in enumerate(cells[:, C_FREQ])])
    ab = np.array([affine_loss_coefficients(config.model_id, f, h, mp)
                   for f, h, mp in zip(cells[:, C_FREQ], cells[:, C_HEIGHT], mps)])  # fmt: skip
    itm_prm = config.itm_params() if config.terrain_id == TerrainMethod.ITM else np.zeros(N_ITM_PARAMS)
    out = np.empty((x.size, cells.shape[0]))
    _points_kernel(cells, patterns, elev, elev if prof is None else prof, grid.x0_m, grid.y0_m, grid.pixel_m, x, y, z, clut, stat_mask,
                   stat_q_inverse(config), config.model_id, ab, mps, config.terrain_id,
                   EARTH_RADIUS_KM * config.k_factor, POLARIZATIONS[config.polarization], itm_prm, out)  # fmt: skip
    return out
