"""Shared definitions of the raster engine: model ids, the cell matrix, sampling.

The engine works on plain float64 arrays.  A set of cells is one C-contiguous
float64 matrix of shape (n_cells, N_CELL_FIELDS) whose columns are named by
:data:`CELL_FIELDS`; kernels read it by the column constants below, which
keeps the number of numba specialisations at one per kernel.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from propagation._jit import jit, jit_inline


class PathLossModel(IntEnum):
    """Closed-form path-loss model (integer id passed to the kernels)."""

    FSPL = 0
    HATA = 1
    COST231 = 2
    SPM = 3
    TR38901_UMA = 4
    TR38901_UMI = 5
    TR38901_RMA = 6


class TerrainMethod(IntEnum):
    """Terrain diffraction method added to the closed-form loss."""

    NONE = 0
    DELTA_BULLINGTON = 1
    ITM = 2  # Longley-Rice: ITM's attenuation relative to free space (propagation.engine.terrain_itm)


#: Model names (DESIGN.md, ``--model``) -> id.
MODEL_IDS = {
    "fspl": PathLossModel.FSPL,
    "hata": PathLossModel.HATA,
    "cost231": PathLossModel.COST231,
    "spm": PathLossModel.SPM,
    "tr38901-uma": PathLossModel.TR38901_UMA,
    "tr38901-umi": PathLossModel.TR38901_UMI,
    "tr38901-rma": PathLossModel.TR38901_RMA,
}
#: Terrain method names (DESIGN.md, ``--terrain``) -> id.
TERRAIN_IDS = {"none": TerrainMethod.NONE, "delta-bullington": TerrainMethod.DELTA_BULLINGTON, "itm": TerrainMethod.ITM}

#: Columns of the cell matrix, in order.  Units are in the names.
#: ``x_m``/``y_m`` are projected coordinates in the grid's CRS; ``ground_m`` the
#: terrain height under the mast above sea level; ``load`` the fraction 0..1 of
#: resource elements a cell occupies (interference weight); ``pattern_id`` -1
#: for the 3GPP parametric sector, -2 for omni, >= 0 a row of the pattern array.
CELL_FIELDS = (
    "x_m",
    "y_m",
    "ground_m",
    "height_m",
    "azimuth_deg",
    "mech_tilt_deg",
    "elec_tilt_deg",
    "freq_mhz",
    "rs_power_dbm",
    "gain_dbi",
    "feeder_loss_db",
    "bandwidth_mhz",
    "load",
    "radius_km",
    "hpbw_h_deg",
    "hpbw_v_deg",
    "sla_v_db",
    "am_db",
    "pattern_id",
    "freq_index",
)
N_CELL_FIELDS = len(CELL_FIELDS)
(
    C_X,
    C_Y,
    C_GROUND,
    C_HEIGHT,
    C_AZ,
    C_MTILT,
    C_ETILT,
    C_FREQ,
    C_RS,
    C_GAIN,
    C_FEEDER,
    C_BW,
    C_LOAD,
    C_RADIUS,
    C_HPBW_H,
    C_HPBW_V,
    C_SLA_V,
    C_AM,
    C_PATTERN,
    C_FREQ_INDEX,
) = range(N_CELL_FIELDS)

PATTERN_SECTOR = -1
PATTERN_OMNI = -2

#: Model-parameter vector passed to kernels (float64), by index.
MP_ENV, MP_CITY, MP_RX_HEIGHT, MP_MIN_DIST_KM, MP_H_BUILDING, MP_STREET_WIDTH, MP_K_DIFF = range(7)
MP_K1, MP_K2, MP_K3, MP_K4, MP_K5, MP_K6, MP_K7 = range(7, 14)
#: 1.0: the SPM's effective height is the antenna height above ground at the site ("ground");
#: 0.0: the mast top above sea level minus the receiver's ground, at least 1 m ("relative").
MP_HEFF_GROUND = 14
N_MP = 15


@jit
def _spm_h_eff_m(h_tx_m, z_tx_m, z_rx_m, mp):
    """Effective transmitter height of the SPM by the method in ``mp[MP_HEFF_GROUND]``. [m]"""
    if mp[MP_HEFF_GROUND] > 0.5:
        return h_tx_m
    return max(z_tx_m - z_rx_m, 1.0)


@jit_inline
def _bilinear(elev_m, x0_m, y0_m, pixel_m, x_m, y_m):
    """Bilinear height at (x, y) from a grid of pixel-centre values; clamped at the edges. [m]

    ``x0_m``/``y0_m`` are the left and top edges of the grid (north up).
    """
    n_rows, n_cols = elev_m.shape
    fx = (x_m - x0_m) / pixel_m - 0.5
    fy = (y0_m - y_m) / pixel_m - 0.5
    fx = min(max(fx, 0.0), n_cols - 1.0)
    fy = min(max(fy, 0.0), n_rows - 1.0)
    c = min(int(fx), n_cols - 2) if n_cols > 1 else 0
    r = min(int(fy), n_rows - 2) if n_rows > 1 else 0
    tx = fx - c
    ty = fy - r
    c1 = min(c + 1, n_cols - 1)
    r1 = min(r + 1, n_rows - 1)
    top = elev_m[r, c] * (1.0 - tx) + elev_m[r, c1] * tx
    bot = elev_m[r1, c] * (1.0 - tx) + elev_m[r1, c1] * tx
    return top * (1.0 - ty) + bot * ty


def bilinear_heights(elev_m, x0_m, y0_m, pixel_m, x_m, y_m):
    """Bilinear terrain heights at points, from a north-up grid of pixel-centre values. [m]

    >>> e = np.array([[0.0, 10.0], [20.0, 30.0]])
    >>> float(bilinear_heights(e, 0.0, 2.0, 1.0, np.array([1.0]), np.array([1.0]))[0])
    15.0
    """
    x = np.ascontiguousarray(x_m, dtype=np.float64).ravel()
    y = np.ascontiguousarray(y_m, dtype=np.float64).ravel()
    return _bilinear_many(np.ascontiguousarray(elev_m, dtype=np.float32), float(x0_m), float(y0_m), float(pixel_m), x, y)


@jit
def _bilinear_many(elev_m, x0_m, y0_m, pixel_m, x_m, y_m):
    out = np.empty(x_m.size)
    for i in range(x_m.size):
        out[i] = _bilinear(elev_m, x0_m, y0_m, pixel_m, x_m[i], y_m[i])
    return out



#: With a surface (obstacle heights above ground): profile samples within this many pixels of the receiver
#: take the ground height, not ground + obstacles -- the receiver's own pixel (the bilinear samples that draw
#: on it), so that a receiver is not obstructed by the building it stands in; that building's loss is the
#: clutter model's (its class loss, or ITU-R P.2108).  In practice: the last sample before the receiver.
RX_CLEAR_PX = 1.0
#: Largest obstacle height a surface raster may hold (the tallest buildings are about 830 m). [m]
SURFACE_MAX_M = 1000.0


def surface_profile(elev_m, surface_m, shape):
    """Ground + obstacles (float32) for the obstruction profile, or None without a surface.

    ``surface_m``: heights of buildings and other obstacles ABOVE GROUND [m] on
    the same grid as ``elev_m`` (a surface model minus the DEM), finite, in
    0..:data:`SURFACE_MAX_M`.  Raises ``ValueError`` naming ``surface_m``.
    """
    if surface_m is None:
        return None
    s = np.asarray(surface_m, dtype=np.float64)
    if s.shape != tuple(shape):
        raise ValueError(f"surface_m has shape {s.shape}; it must lie on the DEM's grid, {tuple(shape)}")
    if not np.isfinite(s).all():
        raise ValueError("surface_m has NaN/inf pixels; use 0 m where there is no obstacle")
    lo, hi = float(s.min(initial=0.0)), float(s.max(initial=0.0))
    if lo < 0.0 or hi > SURFACE_MAX_M:
        raise ValueError(f"surface_m holds {lo:g}..{hi:g} m; expected obstacle heights above ground in "
                         f"0..{SURFACE_MAX_M:g} m (subtract the DEM from a surface model)")  # fmt: skip
    return np.ascontiguousarray(np.asarray(elev_m, dtype=np.float64) + s, dtype=np.float32)
