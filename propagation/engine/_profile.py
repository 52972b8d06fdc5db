"""The straight terrain profile from a transmitter to raster pixels: the exact per-pixel references' sampling.

Shared by the slow references of the radial sweeps (:func:`propagation.engine.terrain_loss_reference`,
delta-Bullington, ITU-R P.1812-6 section 4.3; :func:`propagation.engine.itm_loss_reference`, Longley-Rice,
Hufford 1995): the profile to the centre of pixel (r, c) at distance D is sampled bilinearly at n + 1
equally spaced points, n = max(2, ceil(D / pixel)), the transmitter's interpolated ground first and the
pixel's own height last.  Plain numpy, no numba: the obviously-correct side of the sweep tests.
"""

from __future__ import annotations

import math

import numpy as np


def _bilinear_np(elev, x0_m, y0_m, pixel_m, x_m, y_m):
    """Plain-numpy bilinear interpolation of pixel-centre values, clamped at the edges. [m]"""
    n_rows, n_cols = elev.shape
    fx = np.clip((np.asarray(x_m) - x0_m) / pixel_m - 0.5, 0.0, n_cols - 1.0)
    fy = np.clip((y0_m - np.asarray(y_m)) / pixel_m - 0.5, 0.0, n_rows - 1.0)
    c = np.minimum(np.floor(fx).astype(int), max(n_cols - 2, 0))
    r = np.minimum(np.floor(fy).astype(int), max(n_rows - 2, 0))
    tx = fx - c
    ty = fy - r
    c1 = np.minimum(c + 1, n_cols - 1)
    r1 = np.minimum(r + 1, n_rows - 1)
    top = elev[r, c] * (1 - tx) + elev[r, c1] * tx
    bot = elev[r1, c] * (1 - tx) + elev[r1, c1] * tx
    return top * (1 - ty) + bot * ty


def straight_profiles(elev_m, x0_m, y0_m, pixel_m, x_tx_m, y_tx_m, rows, cols, *, profile_m=None,
                      clear_m: float = 0.0):
    """Yield ``(i, d_m, t, heights)`` for each pixel (rows[i], cols[i]): the straight profile to its centre.

    Parameters
    ----------
    elev_m : numpy.ndarray, (rows, cols)
        Terrain heights at pixel centres, north up. [m]
    x0_m, y0_m, pixel_m : float
        Left and top edges of the grid and its pixel size. [m]
    x_tx_m, y_tx_m : float
        Transmitter position. [m]
    rows, cols : array_like of int
        The pixels.
    profile_m : numpy.ndarray, optional
        Heights the profile runs over (ground + obstacles, same grid) [m]; None: ``elev_m``.  The two ends
        and the samples within ``clear_m`` of the receiver are taken from ``elev_m`` (the ground).
    clear_m : float
        Stretch before the receiver sampled on the ground when ``profile_m`` is given. [m]

    Yields
    ------
    tuple
        i; the distance D to the pixel centre [m]; the n + 1 fractions t = k / n of D; the heights [m]
        (float64, the transmitter's bilinear ground first, ``elev_m[r, c]`` last).  For D <= pixel_m
        (the transmitter's own pixel) t and heights are None: the references return 0 there.
    """
    elev = np.asarray(elev_m, dtype=np.float64)
    rows = np.asarray(rows, dtype=np.int64).ravel()
    cols = np.asarray(cols, dtype=np.int64).ravel()
    prof = elev if profile_m is None else np.asarray(profile_m, dtype=np.float64)
    z_site = _bilinear_np(elev, x0_m, y0_m, pixel_m, np.array([x_tx_m]), np.array([y_tx_m]))[0]
    for i, (r, c) in enumerate(zip(rows, cols)):
        x = x0_m + (c + 0.5) * pixel_m
        y = y0_m - (r + 0.5) * pixel_m
        d_m = math.hypot(x - x_tx_m, y - y_tx_m)
        if d_m <= pixel_m:
            yield i, d_m, None, None
            continue
        n = max(2, int(math.ceil(d_m / pixel_m - 1e-9)))
        t = np.linspace(0.0, 1.0, n + 1)
        xt, yt = x_tx_m + t * (x - x_tx_m), y_tx_m + t * (y - y_tx_m)
        heights = _bilinear_np(prof, x0_m, y0_m, pixel_m, xt, yt)
        if profile_m is not None:  # the receiver's own pixel: on the ground
            near = (1.0 - t) * d_m <= clear_m + 1e-6
            heights[near] = _bilinear_np(elev, x0_m, y0_m, pixel_m, xt[near], yt[near])
        heights[0] = z_site
        heights[-1] = elev[r, c]
        yield i, d_m, t, heights
