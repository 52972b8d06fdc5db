"""Compiled twin of :func:`netqa.calibrate.features.angle_features` for the raster correction of ``netqa predict``.

The same four geometric features per pixel (log distance, angle off
boresight, angle below the tilted beam, log effective height of the serving
cell; 3GPP TR 36.814 V9.2.0 Table A.2.1.1-2 angle conventions), in one
parallel pass over the pixels instead of numpy's dozen temporaries.  The
numpy function is the reference it is tested against (the same formulas in the
same order; libm and numpy may differ in the last bit).
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from propagation._jit import jit_parallel


def angle_features_fast(matrix, x_m, y_m, z_rx_m, serving, rx_height_m: float, *, out=None) -> np.ndarray:
    """(n, 4) ``log_dist_km``, ``az_off_deg``, ``elev_off_deg``, ``log_h_eff_m`` (NaN rows where ``serving`` < 0).

    Arguments as :func:`netqa.calibrate.features.angle_features` (``matrix`` with ``ground_m`` filled);
    ``out``: a C-contiguous float64 (n, >= 4) array whose first four columns receive them (returned).
    Raises ``ValueError`` for arrays of different lengths, a serving row outside the matrix or a bad ``out``.
    """
    from propagation.engine._common import (
        C_AZ,
        C_ETILT,
        C_GROUND,
        C_HEIGHT,
        C_MTILT,
        C_PATTERN,
        C_X,
        C_Y,
        PATTERN_OMNI,
    )

    x, y, z = (np.ascontiguousarray(v, np.float64).ravel() for v in (x_m, y_m, z_rx_m))
    srv = np.ascontiguousarray(serving, np.int64).ravel()
    if not (x.size == y.size == z.size == srv.size):
        raise ValueError(f"x_m, y_m, z_rx_m and serving must have one value per pixel, got {x.size}, {y.size}, "
                         f"{z.size} and {srv.size}")  # fmt: skip
    m = np.asarray(matrix, np.float64)
    if srv.size and srv.max(initial=-1) >= m.shape[0]:
        raise ValueError(f"serving row {int(srv.max())} outside the cell matrix ({m.shape[0]} cells)")
    cell = np.ascontiguousarray(np.column_stack([
        m[:, C_X], m[:, C_Y], m[:, C_GROUND] + m[:, C_HEIGHT], m[:, C_MTILT] + m[:, C_ETILT],
        np.where(m[:, C_PATTERN] == PATTERN_OMNI, np.nan, m[:, C_AZ])]))  # fmt: skip
    if out is None:
        out = np.empty((x.size, 4))
    elif not (isinstance(out, np.ndarray) and out.dtype == np.float64 and out.flags.c_contiguous and out.ndim == 2
              and out.shape[0] == x.size and out.shape[1] >= 4):  # fmt: skip
        raise ValueError(f"out must be a C-contiguous float64 ({x.size}, >= 4) array")
    _angles(cell, x, y, z, srv, float(rx_height_m), out)
    return out


@jit_parallel
def _angles(cell, x, y, z, srv, h_rx, out):  # pragma: no cover
    for k in prange(x.size):
        i = srv[k]
        if i < 0:
            out[k, 0] = out[k, 1] = out[k, 2] = out[k, 3] = np.nan
            continue
        dx = x[k] - cell[i, 0]
        dy = y[k] - cell[i, 1]
        dist = max(math.hypot(dx, dy), 10.0)
        bearing = math.degrees(math.atan2(dx, dy))
        top = cell[i, 2]
        out[k, 0] = math.log10(dist / 1000.0)
        out[k, 1] = abs((bearing - cell[i, 4] + 180.0) % 360.0 - 180.0)
        out[k, 2] = math.degrees(math.atan2(top - (z[k] + h_rx), dist)) - cell[i, 3]
        out[k, 3] = math.log10(max(top - z[k], 1.0))


__all__ = ["angle_features_fast"]
