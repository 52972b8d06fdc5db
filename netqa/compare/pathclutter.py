"""Clutter along the path: each clutter class's share of the straight path from the serving mast to a sample.

Planning tools' Standard Propagation Model weights the clutter losses by the
classes crossed, not only the class at the receiver: the share of each class
over the last few hundred metres before the receiver (where the obstruction
that matters stands) and over the whole path (Forsk, Atoll Technical
Reference Guide, "Standard Propagation Model", clutter losses with a maximum
distance and a weighting function; here the uniform weighting).  This module
computes those shares in points mode, for every sample, as the regressors a
calibration needs (issue 12 item 3: per-class losses weighted by share as
calibratable terms).

The path is sampled at equal steps (default: the grid's pixel side) at the
midpoints ``(k + 1/2) step``, ``k = 0 .. ceil(d / step) - 1``, each midpoint
taking the class of the pixel it falls in (nearest class, as the raster
stores it).  The share of a class is the number of its midpoints over the
number of midpoints with a known class (nodata and pixels outside the raster
do not count); the near share uses the midpoints within ``near_m`` of the
receiver.  A path with no known pixel gets zero shares.
"""

from __future__ import annotations

import math

import numpy as np

#: Paths per vectorised chunk (bounds the (paths x steps) scratch arrays).
CHUNK_PATHS = 2048


def clutter_shares(codes, transform, x_tx_m, y_tx_m, x_rx_m, y_rx_m, classes, *, near_m: float = 300.0,
                   step_m: float | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Share of each class over the whole path and over its last ``near_m``.

    Parameters
    ----------
    codes : numpy.ndarray
        (rows, cols) integer clutter codes; negative = nodata.
    transform : affine.Affine
        The grid's north-up transform (``a`` pixel width [m], ``e`` negative).
    x_tx_m, y_tx_m, x_rx_m, y_rx_m : array_like
        Transmitter and receiver positions, one per path. [m]
    classes : array_like of int
        The codes whose shares are returned, in this order.
    near_m : float
        Length of the near-receiver stretch, > 0. [m]
    step_m : float, optional
        Sampling step along the path, > 0 (default: the pixel width). [m]

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        (n_paths, n_classes) shares over the whole path and near the receiver,
        each row summing to 1 (or 0 where no pixel is known). [-]

    Examples
    --------
    >>> from affine import Affine
    >>> grid = np.array([[1, 1, 2, 2]])
    >>> whole, near = clutter_shares(grid, Affine(10, 0, 0, 0, -10, 10), [0.0], [5.0], [40.0], [5.0], [1, 2],
    ...                              near_m=10.0)
    >>> whole.tolist(), near.tolist()
    ([[0.5, 0.5]], [[0.0, 1.0]])
    """
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise ValueError(f"codes must be a 2-D grid, got {codes.ndim} dimension(s)")
    if not (math.isfinite(near_m) and near_m > 0):
        raise ValueError(f"near_m must be > 0 m, got {near_m!r}")
    step = abs(float(transform.a)) if step_m is None else float(step_m)
    if not (math.isfinite(step) and step > 0):
        raise ValueError(f"step_m must be > 0 m, got {step_m!r}")
    xt, yt, xr, yr = (np.atleast_1d(np.asarray(v, np.float64)).ravel() for v in (x_tx_m, y_tx_m, x_rx_m, y_rx_m))
    xt, yt, xr, yr = np.broadcast_arrays(xt, yt, xr, yr)
    classes = np.asarray(classes, np.int64).ravel()
    n = xr.size
    whole = np.zeros((n, classes.size))
    near = np.zeros((n, classes.size))
    if n == 0 or classes.size == 0:
        return whole, near
    # class index of every code (-1: not a requested class but known; -2: unknown)
    lut_size = int(max(codes.max(initial=0), classes.max(initial=0))) + 1
    lut = np.full(lut_size, -1, np.int64)
    lut[classes[classes >= 0]] = np.flatnonzero(classes >= 0)
    rows, cols = codes.shape
    for a in range(0, n, CHUNK_PATHS):
        sl = slice(a, min(a + CHUNK_PATHS, n))
        dx, dy = xr[sl] - xt[sl], yr[sl] - yt[sl]
        dist = np.hypot(dx, dy)
        n_steps = np.maximum(np.ceil(dist / step).astype(np.int64), 1)
        k = np.arange(int(n_steps.max()))[None, :]
        valid = k < n_steps[:, None]
        s = (k + 0.5) * (dist / n_steps)[:, None]  # midpoints, equal steps of at most `step`
        frac = np.where(dist[:, None] > 0, s / np.where(dist > 0, dist, 1.0)[:, None], 1.0)
        px = xt[sl][:, None] + frac * dx[:, None]
        py = yt[sl][:, None] + frac * dy[:, None]
        c = np.floor((px - transform.c) / transform.a).astype(np.int64)
        r = np.floor((py - transform.f) / transform.e).astype(np.int64)
        inside = valid & (r >= 0) & (r < rows) & (c >= 0) & (c < cols)
        code = np.where(inside, codes[np.clip(r, 0, rows - 1), np.clip(c, 0, cols - 1)], -1)
        known = inside & (code >= 0)
        idx = np.where(known, lut[np.clip(code, 0, lut_size - 1)], -2)
        is_near = (dist[:, None] - s) <= near_m
        for j in range(classes.size):
            hit = idx == j
            whole[sl, j] = hit.sum(axis=1)
            near[sl, j] = (hit & is_near).sum(axis=1)
        n_known = known.sum(axis=1).astype(np.float64)
        n_near = (known & is_near).sum(axis=1).astype(np.float64)
        whole[sl] = np.divide(whole[sl], n_known[:, None], out=np.zeros_like(whole[sl]), where=n_known[:, None] > 0)
        near[sl] = np.divide(near[sl], n_near[:, None], out=np.zeros_like(near[sl]), where=n_near[:, None] > 0)
    return whole, near


def fast_clutter_shares(codes, transform, x_tx_m, y_tx_m, x_rx_m, y_rx_m, classes, *, near_m: float = 300.0,
                        step_m: float | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """:func:`clutter_shares` (same arguments and results) by the compiled kernel
    :func:`propagation.engine.path_shares.path_class_shares`; :func:`clutter_shares` is its reference."""
    from propagation.engine.path_shares import path_class_shares

    step = abs(float(transform.a)) if step_m is None else float(step_m)
    return path_class_shares(codes, transform.c, transform.a, transform.f, transform.e, x_tx_m, y_tx_m, x_rx_m,
                             y_rx_m, classes, near_m=near_m, step_m=step)  # fmt: skip


def sample_path_shares(world, x_m, y_m, serving, *, near_m: float = 300.0):
    """:func:`clutter_shares` from each sample's serving mast (a :class:`~netqa.compare.points.PointWorld` row).

    Returns ``(names, whole, near)``: the class names (the clutter table's
    order) and the (n, n_classes) shares; samples without a serving cell get
    zero rows.  Raises ``ValueError`` when the world has no clutter raster.
    """
    if world.clutter_code is None:
        raise ValueError("clutter along the path needs a clutter class raster (--clutter and --clutter-table)")
    codes_sorted = sorted(world.clutter_name)
    serving = np.asarray(serving, np.int64)
    m = world.matrix
    srv = np.maximum(serving, 0)
    whole, near = fast_clutter_shares(world.clutter_code, world.grid.transform, m[srv, 0], m[srv, 1], x_m, y_m,
                                      codes_sorted, near_m=near_m)  # fmt: skip
    whole[serving < 0] = 0.0
    near[serving < 0] = 0.0
    return [world.clutter_name[c] for c in codes_sorted], whole, near


def path_clutter_loss_db(world, x_m, y_m, tables) -> np.ndarray:
    """Path-clutter loss from every cell to every point under each cell's fitted table (issue 12 item 3).

    Parameters
    ----------
    world : netqa.compare.points.PointWorld
        With a clutter class raster.
    x_m, y_m : array_like
        Point positions in the world's CRS. [m]
    tables : sequence
        One :class:`netqa.io.modelfile.PathClutter` or None per cell (row of ``world.matrix``).

    Returns
    -------
    numpy.ndarray
        (n points, n cells) loss: sum over classes of the near loss x near share plus the whole-path loss x
        whole share [dB]; 0 for cells without a table and beyond a cell's radius (no prediction there).
    """
    x = np.atleast_1d(np.asarray(x_m, np.float64))
    y = np.atleast_1d(np.asarray(y_m, np.float64))
    m = world.matrix
    out = np.zeros((x.size, m.shape[0]))
    if world.clutter_code is None:
        raise ValueError("path-clutter losses need a clutter class raster (--clutter and --clutter-table)")
    codes_sorted = sorted(world.clutter_name)
    names = [world.clutter_name[c] for c in codes_sorted]
    for i, t in enumerate(tables):
        if t is None or not (t.near_db or t.whole_db):
            continue
        sel = np.flatnonzero(np.hypot(x - m[i, 0], y - m[i, 1]) <= m[i, 13] * 1000.0)
        if not sel.size:
            continue
        whole, near = fast_clutter_shares(world.clutter_code, world.grid.transform, m[i, 0], m[i, 1], x[sel], y[sel],
                                          codes_sorted, near_m=t.near_m)  # fmt: skip
        w_near = np.array([t.near_db.get(n, 0.0) for n in names])
        w_whole = np.array([t.whole_db.get(n, 0.0) for n in names])
        out[sel, i] = near @ w_near + whole @ w_whole
    return out


def path_clutter_extra(world, tuned, tech, *, clutter_model: str = "table", model_file=None):
    """``extra(x, y)`` -> (points, cells) path-clutter loss [dB] of a tuned model in points mode, or None.

    None when the model file holds no path-clutter losses.  Raises
    :class:`~netqa.errors.InputError` when it does and no clutter raster is given;
    with a P.2108 clutter model the losses (fitted with the class table) are not applied, with a warning.
    """
    import logging

    from netqa.errors import InputError

    if not tuned.has_path_clutter:
        return None
    if world.clutter_code is None:
        raise InputError(f"--model-file {model_file}: holds path-clutter losses ([path_clutter]); give --clutter "
                         "RASTER and --clutter-table CSV to apply them")  # fmt: skip
    if clutter_model != "table":
        logging.getLogger(__name__).warning(
            "--clutter-model %s: the model file's path-clutter losses are not used (they belong to the class table "
            "model)", clutter_model)  # fmt: skip
        return None
    tables = [tuned.path_clutter_for(t, f) for t, f in zip(tech, world.matrix[:, 7])]

    def extra(x, y):
        return path_clutter_loss_db(world, x, y, tables)

    return extra


__all__ = ["CHUNK_PATHS", "clutter_shares", "fast_clutter_shares", "path_clutter_extra", "path_clutter_loss_db", "sample_path_shares"]
