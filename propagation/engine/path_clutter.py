"""Clutter loss weighted along the path, per pixel of a raster: the raster twin of the points-mode path-clutter term.

Planning tools' Standard Propagation Model weights per-class clutter losses by
each class's share of the path from the mast to the receiver: over the last
``near_m`` metres before the receiver and over the whole path (Forsk, Atoll
Technical Reference Guide, "Standard Propagation Model", clutter losses along
the path with uniform weighting; issue 12 item 3).  For a cell with per-class
losses ``near_db[c]`` and ``whole_db[c]`` the extra loss at a receiver is

    L_path = sum_c near_db[c] * near_share_c + sum_c whole_db[c] * whole_share_c

The shares follow the sampling rule of ``netqa.compare.pathclutter.clutter_shares``
(and its compiled twin :mod:`propagation.engine.path_shares`): the straight
path of length d is cut into ``n = max(ceil(d / step), 1)`` equal steps, each
midpoint ``(k + 1/2) d / n`` takes the class of the pixel it falls in, and a
share is the count of a class over the count of midpoints with a known class
(inside the grid, code >= 0); the near share counts the midpoints within
``near_m`` of the receiver.  A path without a known midpoint has zero shares.
Here the kernel sums the losses of the midpoints directly (no share rasters):
L_path = (sum of whole_db over the known midpoints) / n_known + (sum of
near_db over the known near midpoints) / n_near.

Cost: one walk of ``d / step`` midpoints per pixel, so O(radius / pixel) per
pixel (the terrain sweep is O(1) per pixel); see benchmarks/README.md.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from propagation._jit import jit, jit_parallel, prange


class PathClutterGrid(NamedTuple):
    """Per-cell clutter losses weighted along the path, for :func:`~propagation.engine.predict_coverage`.

    Attributes
    ----------
    codes : numpy.ndarray
        (rows, cols) integer clutter class codes on the engine's grid; negative = nodata (not counted).
    near_db : numpy.ndarray
        (n_cells, n_codes): loss of a near stretch entirely in class code j, for each cell (row of the cell
        matrix); codes >= n_codes count as known with 0 dB. [dB]
    whole_db : numpy.ndarray
        (n_cells, n_codes): the same over the whole path. [dB]
    near_m : float or numpy.ndarray
        The near stretch before the receiver, > 0, one for all cells or one per cell. [m]
    step_m : float, optional
        Sampling step along the path, > 0 (default: the grid's pixel side). [m]
    """

    codes: np.ndarray
    near_db: np.ndarray
    whole_db: np.ndarray
    near_m: float | np.ndarray = 300.0
    step_m: float | None = None


#: Distance of a midpoint from a pixel edge (in pixels) below which the kernel repeats the reference's
#: arithmetic: far above the ~1e-12 px by which the two formulas can differ, far below any real offset.
_TIE_PX = 1e-7


@jit_parallel
def _path_loss_window(codes, x0_m, y0_m, pixel_m, xs, ys, radius_m, win, near_lut, whole_lut, near_m, step_m,
                      check_ties, whole_any, out):  # pragma: no cover  # fmt: skip
    """Fill ``out`` (window rows x cols, float64) with the path-clutter loss from the mast (xs, ys) to each pixel
    centre of ``win`` = (row0, row1, col0, col1) within ``radius_m``; 0 beyond it. [dB]

    Midpoint k of n lies at column (xs - x0) / p + (k + 1/2) dx / (n p) (likewise the row): one multiply-add per
    step instead of the reference's three divisions (2x faster).  Both agree to ~1e-12 px, so they pick the
    same pixel except within rounding of a pixel edge (a mast exactly on a pixel centre puts many midpoints
    exactly on edges); there (within :data:`_TIE_PX`) the reference's own arithmetic is used, so the pixels,
    and the classes, are those of the reference.  That test runs only when ``check_ties``
    (:func:`_may_tie`: the mast sits where ties are possible), so a mast at a general position pays nothing
    for it.  The near test runs only from the first step that can lie within ``near_m`` (k >= n - 1 -
    floor(near_m / ds), which never skips one: the exact test follows); without whole-path losses
    (``whole_any`` False) the walk starts there, so a near-only table costs ~near_m / step steps per pixel
    whatever the distance.
    """
    rows, cols = codes.shape
    n_lut = near_lut.size
    r2_max = radius_m * radius_m
    inv_p = 1.0 / pixel_m
    px_h = -pixel_m
    cx0 = (xs - x0_m) * inv_p
    cy0 = (y0_m - ys) * inv_p
    r0, r1, c0, c1 = win[0], win[1], win[2], win[3]
    for r in prange(r0, r1):
        yr = y0_m - (r + 0.5) * pixel_m
        for c in range(c0, c1):
            xr = x0_m + (c + 0.5) * pixel_m
            dx = xr - xs
            dy = yr - ys
            if dx * dx + dy * dy > r2_max:
                out[r - r0, c - c0] = 0.0
                continue
            dist = math.hypot(dx, dy)
            n_steps = max(int(math.ceil(dist / step_m)), 1)
            ds = dist / n_steps
            scx = dx / n_steps * inv_p
            scy = -dy / n_steps * inv_p
            k_near = n_steps - int(near_m / ds) - 1 if ds > 0 else 0
            n_known = 0
            n_near = 0
            s_whole = 0.0
            s_near = 0.0
            for k in range(0 if whole_any else max(k_near, 0), n_steps):
                kk = k + 0.5
                fx = cx0 + kk * scx
                fy = cy0 + kk * scy
                flx = math.floor(fx)
                fly = math.floor(fy)
                cc = int(flx)
                rr = int(fly)
                if check_ties and max(abs(fx - flx - 0.5), abs(fy - fly - 0.5)) > 0.5 - _TIE_PX:
                    # within rounding of a pixel edge: the reference's own arithmetic decides (bit-identical)
                    frac = kk * ds / dist if dist > 0 else 1.0
                    cc = int(math.floor((xs + frac * dx - x0_m) / pixel_m))
                    rr = int(math.floor((ys + frac * dy - y0_m) / px_h))
                if rr < 0 or rr >= rows or cc < 0 or cc >= cols:
                    continue
                code = codes[rr, cc]
                if code < 0:
                    continue
                n_known += 1
                if code < n_lut:
                    s_whole += whole_lut[code]
                if k >= k_near and (dist - kk * ds) <= near_m:
                    n_near += 1
                    if code < n_lut:
                        s_near += near_lut[code]
            loss = 0.0
            if n_known > 0:
                loss += s_whole / n_known
            if n_near > 0:
                loss += s_near / n_near
            out[r - r0, c - c0] = loss


#: Rounding of the two midpoint formulas (pixels; ~1e-12 at 1e4 px) times a safety factor of 100.
_ROUND_PX = 1e-10


@jit
def _may_tie(a_px, n_max):  # pragma: no cover
    """Whether a midpoint can fall within rounding of a pixel edge along one axis, for a mast at ``a_px`` pixels
    from the grid's edge and paths of at most ``n_max`` steps.

    Midpoint k of n on the path to pixel centre c + 1/2 lies at X = a + (k + 1/2)(c + 1/2 - a) / n, so
    4n X = 2m a + (2k + 1)(2c + 1) with m = 2n - 2k - 1 (odd, < 2n): its distance from an integer (an edge) is
    at least dist(2m a, Z) / (4n).  When dist(2m a, Z) >= 4 n_max x :data:`_ROUND_PX` for every odd m < 2 n_max,
    no midpoint comes within :data:`_ROUND_PX` of an edge and the fast formula's pixel is the reference's.
    A mast at a general position fails that test with a probability of about 8 n_max^2 x 1e-10 (1e-4 at
    500 steps); a mast on a pixel centre or at a round coordinate passes it.
    """
    theta = 4.0 * n_max * _ROUND_PX
    for m in range(1, 2 * n_max, 2):
        x = 2.0 * m * a_px
        if abs(x - math.floor(x + 0.5)) < theta:
            return True
    return False


def check_path_clutter(path_clutter, grid_shape, n_cells: int, pixel_m: float):
    """Validate a :class:`PathClutterGrid` against the grid and the cell matrix; None passes through.

    Returns the validated grid with contiguous int64 codes, float64 (n_cells, n_codes) loss tables, a
    (n_cells,) ``near_m`` and a float ``step_m``.

    Raises
    ------
    TypeError
        Not a :class:`PathClutterGrid`.
    ValueError
        Naming the field, its shape or value and the rule.
    """
    if path_clutter is None:
        return None
    if not isinstance(path_clutter, PathClutterGrid):
        raise TypeError(f"path_clutter must be a PathClutterGrid, got {type(path_clutter).__name__}")
    codes = np.asarray(path_clutter.codes)
    if codes.ndim != 2 or not np.issubdtype(codes.dtype, np.integer):
        raise ValueError(f"path_clutter.codes must be a 2-D integer grid of class codes, got {codes.dtype} "
                         f"with shape {codes.shape}")  # fmt: skip
    if codes.shape != tuple(grid_shape):
        raise ValueError(f"path_clutter.codes has shape {codes.shape}, the grid (and elev_m) is {tuple(grid_shape)}")
    tables = []
    for name in ("near_db", "whole_db"):
        t = np.asarray(getattr(path_clutter, name), np.float64)
        if t.ndim != 2 or t.shape[0] != n_cells:
            raise ValueError(f"path_clutter.{name} must be (n_cells = {n_cells}, n_codes) losses [dB], "
                             f"got shape {t.shape}")  # fmt: skip
        if not np.isfinite(t).all():
            raise ValueError(f"path_clutter.{name} has NaN/inf losses; give finite dB (0 for a class without loss)")
        tables.append(np.ascontiguousarray(t))
    if tables[0].shape != tables[1].shape:
        raise ValueError(f"path_clutter.near_db {tables[0].shape} and whole_db {tables[1].shape} must have one shape")
    near_m = np.broadcast_to(np.asarray(path_clutter.near_m, np.float64), (n_cells,)).copy() \
        if np.ndim(path_clutter.near_m) in (0, 1) and np.size(path_clutter.near_m) in (1, n_cells) else None
    if near_m is None:
        raise ValueError(f"path_clutter.near_m must be one distance or one per cell ({n_cells}), "
                         f"got shape {np.shape(path_clutter.near_m)}")  # fmt: skip
    if not (np.isfinite(near_m).all() and (near_m > 0).all()):
        raise ValueError(f"path_clutter.near_m must be > 0 m, got {near_m[~(np.isfinite(near_m) & (near_m > 0))][0]!r}")
    step = pixel_m if path_clutter.step_m is None else path_clutter.step_m
    if isinstance(step, bool) or not (math.isfinite(float(step)) and float(step) > 0):
        raise ValueError(f"path_clutter.step_m must be > 0 m, got {path_clutter.step_m!r}")
    return PathClutterGrid(np.ascontiguousarray(codes, np.int64), tables[0], tables[1], near_m, float(step))


def path_clutter_keys(pc: PathClutterGrid | None, n_cells: int) -> np.ndarray:
    """Per cell, an id shared by the cells with the same losses and ``near_m`` (-1: no loss at all).

    The raster engine splits its path groups by this id: the cells of one sub-group share one walk.
    """
    if pc is None:
        return np.full(n_cells, -1, np.int64)
    key = np.concatenate([pc.near_m[:, None], pc.near_db, pc.whole_db], axis=1)
    _, inv = np.unique(key, axis=0, return_inverse=True)
    inv = np.asarray(inv, np.int64).ravel()
    none = ~(pc.near_db != 0).any(axis=1) & ~(pc.whole_db != 0).any(axis=1)
    inv[none] = -1
    return inv


def split_by_path_clutter(groups, keys: np.ndarray):
    """``(sweep id, rows)`` groups split further by :func:`path_clutter_keys` (sub-groups keep their sweep id and
    follow each other); unchanged when no cell has path-clutter losses."""
    if (keys < 0).all():
        return groups
    out = []
    for sweep_id, members in groups:
        k = keys[members]
        for v in dict.fromkeys(k.tolist()):
            out.append((sweep_id, members[k == v]))
    return out


def path_clutter_window(pc: PathClutterGrid, cell: int, x0_m: float, y0_m: float, pixel_m: float, x_tx_m: float,
                        y_tx_m: float, radius_m: float, win) -> np.ndarray:  # fmt: skip
    """Path-clutter loss of cell row ``cell`` of a checked :class:`PathClutterGrid` over a window. [dB]

    Parameters
    ----------
    pc : PathClutterGrid
        As returned by :func:`check_path_clutter`.
    cell : int
        Row of the cell matrix whose loss tables apply.
    x0_m, y0_m, pixel_m : float
        The grid's left and top edges and pixel side. [m]
    x_tx_m, y_tx_m : float
        The mast. [m]
    radius_m : float
        Pixels farther than this from the mast get 0 (no prediction there). [m]
    win : array_like of int
        (row0, row1, col0, col1) in grid pixels.

    Returns
    -------
    numpy.ndarray
        (row1 - row0, col1 - col0) float64 loss [dB], >= 0 when the losses are.
    """
    win = np.asarray(win, np.int64)
    out = np.zeros((int(win[1] - win[0]), int(win[3] - win[2])))
    if out.size:
        # the longest path to a pixel of the window (its corners), in steps
        ex = x0_m + np.array([win[2], win[3]]) * pixel_m - x_tx_m
        ey = y0_m - np.array([win[0], win[1]]) * pixel_m - y_tx_m
        far_m = min(float(np.hypot(np.abs(ex).max(), np.abs(ey).max())), float(radius_m) + pixel_m)
        n_max = int(math.ceil(far_m / pc.step_m)) + 1
        ties = _may_tie((x_tx_m - x0_m) / pixel_m, n_max) or _may_tie((y0_m - y_tx_m) / pixel_m, n_max)
        _path_loss_window(pc.codes, float(x0_m), float(y0_m), float(pixel_m), float(x_tx_m), float(y_tx_m),
                          float(radius_m), win, pc.near_db[cell], pc.whole_db[cell], float(pc.near_m[cell]),
                          float(pc.step_m), bool(ties), bool((pc.whole_db[cell] != 0).any()), out)  # fmt: skip
    return out


def path_clutter_loss_db(codes, x0_m: float, y0_m: float, pixel_m: float, x_tx_m: float, y_tx_m: float, near_db,
                         whole_db, *, near_m: float = 300.0, radius_m: float = math.inf, step_m: float | None = None,
                         window=None) -> np.ndarray:  # fmt: skip
    """Clutter loss weighted along the path from one mast to every pixel centre of a grid (or a window of it).

    Parameters
    ----------
    codes : numpy.ndarray
        (rows, cols) integer class codes; negative = nodata.
    x0_m, y0_m, pixel_m : float
        Left edge, top edge and pixel side (> 0) of the north-up grid. [m]
    x_tx_m, y_tx_m : float
        The mast. [m]
    near_db, whole_db : array_like
        Loss per class code (index = code) of a near stretch / whole path entirely in the class; codes beyond
        the vectors count as known with 0 dB. [dB]
    near_m : float
        The near stretch before the receiver, > 0. [m]
    radius_m : float
        Pixels beyond it get 0. [m]
    step_m : float, optional
        Sampling step along the path, > 0 (default ``pixel_m``). [m]
    window : (int, int, int, int), optional
        (row0, row1, col0, col1); default the whole grid.

    Returns
    -------
    numpy.ndarray
        float64 loss [dB] of the window's shape: sum over classes of near_db x near share + whole_db x whole
        share (module docstring; Forsk, Atoll Technical Reference Guide, "Standard Propagation Model").

    Examples
    --------
    >>> grid = np.array([[1, 1, 2, 2]])
    >>> path_clutter_loss_db(grid, 0.0, 10.0, 10.0, 0.0, 5.0, [0.0, 0.0, 6.0], [0.0, 0.0, 2.0], near_m=10.0).round(3)
    array([[0.   , 0.   , 6.667, 7.   ]])
    """
    codes = np.asarray(codes)
    if not (math.isfinite(pixel_m) and pixel_m > 0):
        raise ValueError(f"pixel_m must be > 0, got {pixel_m!r}")
    near = np.atleast_1d(np.asarray(near_db, np.float64))
    whole = np.atleast_1d(np.asarray(whole_db, np.float64))
    n = max(near.size, whole.size)
    near = np.pad(near.ravel(), (0, n - near.size))[None]
    whole = np.pad(whole.ravel(), (0, n - whole.size))[None]
    pc = check_path_clutter(PathClutterGrid(codes, near, whole, near_m, step_m), codes.shape, 1, float(pixel_m))
    win = (0, codes.shape[0], 0, codes.shape[1]) if window is None else tuple(int(v) for v in window)
    if len(win) != 4 or not (0 <= win[0] <= win[1] <= codes.shape[0] and 0 <= win[2] <= win[3] <= codes.shape[1]):
        raise ValueError(f"window {window!r} must be (row0, row1, col0, col1) inside the grid {codes.shape}")
    if not radius_m > 0:
        raise ValueError(f"radius_m must be > 0 m, got {radius_m!r}")
    return path_clutter_window(pc, 0, x0_m, y0_m, pixel_m, x_tx_m, y_tx_m, min(float(radius_m), 1e12), win)


__all__ = ["PathClutterGrid", "check_path_clutter", "path_clutter_keys", "path_clutter_loss_db",
           "path_clutter_window", "split_by_path_clutter"]  # fmt: skip
