"""Clutter class shares along straight paths (whole path and its last ``near_m``), compiled.

The fast twin of ``netqa.compare.pathclutter.clutter_shares`` (the numpy
reference it is tested against): each path from (xt, yt) to (xr, yr) is
sampled at the midpoints ``(k + 1/2) d / n``, ``n = max(ceil(d / step), 1)``;
a midpoint takes the class of the pixel it falls in; the share of a class is
its count over the count of midpoints with a known class (inside the grid,
code >= 0), the near share over those within ``near_m`` of the receiver.
Used for the path-clutter terms of the SPM calibration (issue 12 item 3;
Forsk, Atoll Technical Reference Guide, "Standard Propagation Model",
clutter losses weighted along the path).
"""

from __future__ import annotations

import math

import numpy as np

from propagation._jit import jit


@jit
def _shares(codes, x0, px_w, y0, px_h, xt, yt, xr, yr, lut, n_classes, near_m, step, whole, near):  # pragma: no cover
    rows, cols = codes.shape
    lut_size = lut.size
    for i in range(xr.size):
        dx = xr[i] - xt[i]
        dy = yr[i] - yt[i]
        dist = math.hypot(dx, dy)
        n_steps = max(int(math.ceil(dist / step)), 1)
        ds = dist / n_steps
        n_known = 0
        n_near = 0
        for k in range(n_steps):
            s = (k + 0.5) * ds
            frac = s / dist if dist > 0 else 1.0
            c = int(math.floor((xt[i] + frac * dx - x0) / px_w))
            r = int(math.floor((yt[i] + frac * dy - y0) / px_h))
            if r < 0 or r >= rows or c < 0 or c >= cols:
                continue
            code = codes[r, c]
            if code < 0:
                continue
            n_known += 1
            is_near = (dist - s) <= near_m
            if is_near:
                n_near += 1
            j = lut[code] if code < lut_size else -1
            if j >= 0:
                whole[i, j] += 1.0
                if is_near:
                    near[i, j] += 1.0
        for j in range(n_classes):
            whole[i, j] = whole[i, j] / n_known if n_known > 0 else 0.0
            near[i, j] = near[i, j] / n_near if n_near > 0 else 0.0


def path_class_shares(codes, x0_m: float, pixel_w_m: float, y0_m: float, pixel_h_m: float, x_tx_m, y_tx_m, x_rx_m,
                      y_rx_m, classes, *, near_m: float, step_m: float) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Share of each class over the whole path and over its last ``near_m``.

    Parameters
    ----------
    codes : numpy.ndarray
        (rows, cols) integer clutter codes; negative = nodata.
    x0_m, pixel_w_m, y0_m, pixel_h_m : float
        The grid's north-up transform: x of the left edge, pixel width (> 0), y of the top edge, pixel height
        (< 0). [m]
    x_tx_m, y_tx_m, x_rx_m, y_rx_m : array_like
        Transmitter and receiver positions, broadcast to one per path. [m]
    classes : array_like of int
        The codes (>= 0) whose shares are returned, in this order.
    near_m, step_m : float
        Near-receiver stretch and sampling step, both > 0. [m]

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        (n_paths, n_classes) whole-path and near shares, rows summing to 1 (0 where no pixel is known). [-]
    """
    codes = np.asarray(codes)
    if codes.ndim != 2 or not np.issubdtype(codes.dtype, np.integer):
        raise ValueError(f"codes must be a 2-D integer grid, got {codes.dtype} with {codes.ndim} dimension(s)")
    for name, v in (("near_m", near_m), ("step_m", step_m), ("pixel_w_m", pixel_w_m)):
        if not (math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be > 0, got {v!r}")
    if not (math.isfinite(pixel_h_m) and pixel_h_m < 0):
        raise ValueError(f"pixel_h_m must be < 0 (north-up grid), got {pixel_h_m!r}")
    xt, yt, xr, yr = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, np.float64)).ravel()
                                           for v in (x_tx_m, y_tx_m, x_rx_m, y_rx_m)))  # fmt: skip
    classes = np.asarray(classes, np.int64).ravel()
    if np.any(classes < 0):
        raise ValueError("classes must be codes >= 0")
    whole = np.zeros((xr.size, classes.size))
    near = np.zeros((xr.size, classes.size))
    if xr.size == 0 or classes.size == 0:
        return whole, near
    lut = np.full(int(max(codes.max(initial=0), classes.max())) + 1, -1, np.int64)
    lut[classes] = np.arange(classes.size)
    _shares(np.ascontiguousarray(codes, np.int64), float(x0_m), float(pixel_w_m), float(y0_m), float(pixel_h_m),
            np.ascontiguousarray(xt), np.ascontiguousarray(yt), np.ascontiguousarray(xr), np.ascontiguousarray(yr),
            lut, classes.size, float(near_m), float(step_m), whole, near)  # fmt: skip
    return whole, near


__all__ = ["path_class_shares"]
