r"""Longley-Rice ITM over a raster: radial sweep and its per-pixel reference (``--terrain itm``).

The terrain term of ``--terrain itm`` is ITM's attenuation relative to free space at the pixel,
A = L_ITM - L_fs (median time, location and situation by default), so that ``--model fspl --terrain itm``
is the plain Longley-Rice prediction (:func:`propagation.itm_p2p_loss_db`, Hufford 1995; NTIA/itm v1.4).

Radial sweep.  For the profile from the transmitter to a pixel at distance D = n xi (n = ceil(D / pixel),
xi = D / n, the reference's own sampling), the quantities of the profile analysis come from per-ray state
that only grows as the sweep moves out, the ray's samples standing for the profile's samples
1..n-1-N_TAIL (the last N_TAIL are the pixel's own, see below):

* transmitter horizon: theta_tx = max_i (z_i - z_tx) / (i xi) - i xi gamma_e / 2
  = (1/xi) max_i (A_i - q i) with A_i = (z_i - z_tx) / i and q = gamma_e xi^2 / 2: a support query on the
  *upper hull* of the points (i, A_i), exact for every pixel's own gamma_e and xi (running maximum);
* receiver horizon: theta_rx = max_i [(g_i - Q) / (n - i)] / xi - 2 c n / xi with g_i = z_i - c i^2,
  c = gamma_e xi^2 / 2, Q = z_rx - c n^2: the tangent from (n, Q) to the upper hull of (i, g_i), built with
  the ray's c (gamma_e at the site, one pixel spacing); the hull optimum and its two hull neighbours are
  then evaluated exactly with the pixel's own gamma_e and xi;
* the mean path height (N_s, gamma_e) and the least-squares fits of the effective heights over any
  sub-range [d_a, d_b]: O(1) from *running sums* sum z_i and sum i z_i (trapezoid ends as ``zlsq1``);
* delta_h (interdecile range of the deviations from a straight line of the profile between
  min(15 h_tx, 0.1 d_Lt) and D - min(15 h_rx, 0.1 d_Lr), resampled at up to 245 points) is evaluated
  exactly (quickselect) at *knots* on the ray's own samples, at fixed sample indices along every ray
  (:func:`knot_schedule`: from n = 2, each ``max(DH_KNOT_MIN, DH_KNOT_REL n)`` beyond the last, so a
  tile that starts mid-ray takes the whole disk's knot positions), each knot taken ahead of the pixels
  with the end offsets of the pixel that starts it, and interpolated linearly in n between the knots
  around each pixel (where pixels are sparse, the last knot is reused as the lower one): delta_h moves
  slowly with D, and this O(245) step then runs once per knot instead of once per pixel (holding the
  last knot instead biased the loss low by 0.1-0.2 dB); rays go in groups of ``DH_SHARE`` (2): the group's
  first ray takes the knots, from the group's nearest pixel to its farthest, and the others (at most half a
  pixel away at the radius) interpolate them (half the knots for +0.013 dB mean error on the benchmark cases);
* each pixel's last ``N_TAIL`` profile samples are its own, on the straight line to it at the reference's
  spacing: ITM switches between its line-of-sight and horizon branches on the samples next to the
  receiver, where the ray is farthest from the pixel's line (16 samples: Jacksboro 1.14 -> 0.14 dB mean);
* the reference attenuation and the variability: :mod:`propagation._itm_core`, once per pixel.

The slow exact reference samples the straight profile to each pixel (n + 1 bilinear points, the
pixel's own height last) and calls :func:`propagation.itm_p2p_loss_db`.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from propagation import _itm_core as _c
from propagation._itm_profile import DELTA_H_SCRATCH, delta_h_core
from propagation._jit import jit_inline, jit_parallel, prange
from propagation._validity import ValidityRangeWarning
from propagation.engine._common import _bilinear
from propagation.engine._itm_pixel import (  # the P_* slots: points.py imports them from here
    N_ITM_PARAMS,
    P_CLIMATE,
    P_EPS,
    P_LQ,
    P_MDVAR,
    P_N0,
    P_POL,
    P_SIGMA,
    P_SQ,
    P_TQ,
    P_ZL,
    P_ZS,
    P_ZT,
    _pixel_horizons,
    _pixel_itm_db,
)
from propagation.engine._itm_fast import sweep_constants
from propagation.engine._profile import straight_profiles
from propagation.engine._terrain_pixel import _hull_push
from propagation.engine.terrain import (
    _BLOCK_STRIDE,
    _N_BLOCKS,
    _assign_rays,
    _check_window,
    _interp,
    _order_by_ray,
    default_n_rays,
)
from propagation.itm import itm_p2p_loss_db

#: delta_h knots: the next knot lies max(MIN, REL n) ray samples beyond the pixel n that passes the last one.
DH_KNOT_MIN = 5
DH_KNOT_REL = 0.06
#: Rays per knot group: the group's first ray takes the delta_h knots, the others interpolate them (rays
#: at most DH_SHARE - 1 ray spacings apart, i.e. (DH_SHARE - 1) / 2 pixel at the radius).
DH_SHARE = 2
#: The pixel's own samples on the straight line to it, before its own height (see the module docstring).
N_TAIL = 16

_POL_IDS = {"horizontal": 0, "vertical": 1}


def itm_params(climate=5, refractivity_n0=301.0, polarization="vertical", permittivity=15.0,
               conductivity_s_per_m=0.005, mdvar=12, time_pct=50.0, location_pct=50.0, situation_pct=50.0):  # fmt: skip
    """Validated ITM parameter vector for the engine kernels (the arguments of :func:`propagation.itm_p2p_loss_db`).

    >>> itm_params().shape
    (12,)
    """
    # one call of the public model validates every argument exactly as it does (flat 10 km path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidityRangeWarning)
        itm_p2p_loss_db(np.zeros(3), 5000.0, 10.0, 10.0, 1000.0, climate, refractivity_n0, polarization, permittivity,
                        conductivity_s_per_m, mdvar, time_pct, location_pct, situation_pct, strict=False)  # fmt: skip
    v = np.empty(N_ITM_PARAMS)
    v[P_CLIMATE] = int(climate)
    v[P_N0] = float(refractivity_n0)
    v[P_POL] = _POL_IDS[polarization]
    v[P_EPS] = float(permittivity)
    v[P_SIGMA] = float(conductivity_s_per_m)
    v[P_MDVAR] = int(mdvar)
    v[P_ZT] = _c.icdf(float(time_pct) / 100.0)
    v[P_ZL] = _c.icdf(float(location_pct) / 100.0)
    v[P_ZS] = _c.icdf(float(situation_pct) / 100.0)
    v[P_TQ] = float(time_pct) / 100.0
    v[P_LQ] = float(location_pct) / 100.0
    v[P_SQ] = float(situation_pct) / 100.0
    return v


@jit_inline
def _extend(hr, k_hr, upto, elev_m, fx0, fy0, sin_t, cos_t, lim_c, lim_r, x0_m, y0_m, pixel_m, xs, ys):
    """Take the ray's samples k_hr + 1 .. upto (one pixel apart, bilinear) into ``hr``; return the new count."""
    for k in range(k_hr + 1, upto + 1):
        hr[k] = _interp(elev_m, fx0 + k * sin_t, fy0 - k * cos_t, lim_c, lim_r, x0_m, y0_m, pixel_m,
                        xs + k * pixel_m * sin_t, ys + k * pixel_m * cos_t)  # fmt: skip
    return max(k_hr, upto)


@jit_inline
def _n_of(d_m, inv_px):
    """The reference's number of profile intervals to a pixel at d_m: max(2, ceil(d / pixel))."""
    return max(2, int(math.ceil(d_m * inv_px - 1e-9)))


@jit_parallel
def _itm_sweep(elev_m, x0_m, y0_m, pixel_m, xs, ys, z_site, h_tx, h_rx, f_mhz, z_g, prm, kc, win, n_rays, order, start,
               dist_of, knot_n, knot_at, out):  # fmt: skip
    """Evaluate every assigned pixel ray by ray (parallel over ray blocks); ``out`` is the window, float32."""
    r0, c0, c1 = win[0], win[2], win[3]
    nc = c1 - c0
    dtheta = 2.0 * math.pi / n_rays
    n_rows_e, n_cols_e = elev_m.shape
    lim_c = n_cols_e - 1.0
    lim_r = n_rows_e - 1.0
    fx0 = (xs - x0_m) / pixel_m - 0.5
    fy0 = (y0_m - ys) / pixel_m - 0.5
    inv_px = 1.0 / pixel_m
    ns_site = prm[P_N0] * math.exp(-z_site / 9460.0)  # the ray hull's gamma_e: at the site's ground height
    c_ray = _c.GAMMA_A * (1.0 - 0.04665 * math.exp(ns_site / 179.3)) * pixel_m * pixel_m * 0.5
    z_tx = z_site + h_tx
    n_blk = _N_BLOCKS if n_rays >= _N_BLOCKS else 1
    stride = _BLOCK_STRIDE if n_blk == _N_BLOCKS else 1
    per_blk = (n_rays + n_blk - 1) // n_blk
    for t in prange(n_blk):
        blk = (t * stride) % n_blk
        j0 = blk * per_blk
        j1 = min(j0 + per_blk, n_rays)
        n_max = 2
        for j in range(j0, j1):
            if start[j + 1] > start[j]:
                n_max = max(n_max, int(math.ceil(dist_of[order[start[j + 1] - 1]] * inv_px)) + 2)
        h = np.empty(n_max + 1)
        hr = np.empty(n_max + DH_KNOT_MIN + int(DH_KNOT_REL * n_max) + 2)  # the ray's samples, taken ahead for knots
        s0 = np.empty(n_max + 1)
        s1 = np.empty(n_max + 1)
        tx_x = np.empty(n_max + 1, np.int64)
        tx_y = np.empty(n_max + 1)
        rx_x = np.empty(n_max + 1, np.int64)
        rx_y = np.empty(n_max + 1)
        scratch = np.empty(DELTA_H_SCRATCH)
        hints = np.zeros(2, np.int64)
        dh_state = np.zeros(4)  # (delta_h, n) at the knots before and after the pixel
        tab_n = np.empty(n_max + 4)  # the knots of the group's first ray (n, delta_h), for the others
        tab_dh = np.empty(n_max + 4)
        n_tab = 0
        g_lo = 0
        g_hi = 0
        for j in range(j0, j1):
            a = start[j]
            b = start[j + 1]
            master = (j - j0) % DH_SHARE == 0
            if master:  # a new group of rays: the n range its knots must cover
                n_tab = 0
                g_lo = n_max + 1
                g_hi = 0
                for jj in range(j, min(j + DH_SHARE, j1)):
                    if start[jj + 1] > start[jj]:
                        g_lo = min(g_lo, _n_of(dist_of[order[start[jj]]], inv_px))
                        g_hi = max(g_hi, _n_of(dist_of[order[start[jj + 1] - 1]], inv_px))
            if a == b:
                continue
            # borrow the group's knots where they cover this ray's pixels
            borrow = (not master and n_tab >= 2 and tab_n[0] <= _n_of(dist_of[order[a]], inv_px)
                      and tab_n[n_tab - 1] >= _n_of(dist_of[order[b - 1]], inv_px))  # fmt: skip
            ptr = 0
            off_start = 0.0
            off_end = 0.0
            sin_t = math.sin(j * dtheta)
            cos_t = math.cos(j * dtheta)
            h[0] = z_site
            hr[0] = z_site
            k_hr = 0
            s0[0] = z_site
            s1[0] = 0.0
            k = 0
            n_tx = 0
            n_rx = 0
            hints[0] = 0
            hints[1] = 0
            dh_state[3] = -1.0
            for qq in range(a, b):
                p = order[qq]
                d_m = dist_of[p]
                rr = p // nc
                cc = p - rr * nc
                if d_m <= pixel_m:
                    out[rr, cc] = 0.0
                    continue
                n = _n_of(d_m, inv_px)
                m = min(N_TAIL, n - 1)
                if n - 1 - m > k_hr:
                    k_hr = _extend(hr, k_hr, n - 1 - m, elev_m, fx0, fy0, sin_t, cos_t, lim_c, lim_r, x0_m, y0_m,
                                   pixel_m, xs, ys)  # fmt: skip
                while k < n - 1 - m:
                    k += 1
                    hk = hr[k]
                    h[k] = hk
                    s0[k] = s0[k - 1] + hk
                    s1[k] = s1[k - 1] + k * hk
                    n_tx = _hull_push(tx_x, tx_y, n_tx, k, (hk - z_tx) / k)
                    n_rx = _hull_push(rx_x, rx_y, n_rx, k, hk - c_ray * k * k)
                # the pixel's own last samples, on the straight line to it at the reference's spacing D / n
                # (overwriting ray samples not taken yet: the ray recomputes them when it gets there)
                sp_px = d_m * inv_px / n
                sin_p = ((c0 + cc + 0.5) * pixel_m + x0_m - xs) / d_m
                cos_p = (y0_m - (r0 + rr + 0.5) * pixel_m - ys) / d_m
                for i in range(n - m, n):
                    di = i * sp_px
                    h[i] = _interp(elev_m, fx0 + di * sin_p, fy0 - di * cos_p, lim_c, lim_r, x0_m, y0_m, pixel_m,
                                   xs + di * pixel_m * sin_p, ys + di * pixel_m * cos_p)  # fmt: skip
                h[n] = elev_m[r0 + rr, c0 + cc]
                th_tx, th_rx, dh_tx, dh_rx, gamma, n_s = _pixel_horizons(h, s0, s1, k, tx_x, tx_y, n_tx, rx_x, rx_y,
                                                                         n_rx, c_ray, n, d_m, h_tx, h_rx, prm, hints)  # fmt: skip
                # delta_h: linear between knots on the ray's own samples (hr), the next knot taken ahead
                if borrow:
                    while ptr + 2 < n_tab and tab_n[ptr + 1] <= n:
                        ptr += 1
                    u = (n - tab_n[ptr]) / (tab_n[ptr + 1] - tab_n[ptr])
                    dh = tab_dh[ptr] + (tab_dh[ptr + 1] - tab_dh[ptr]) * u
                    out[rr, cc] = _pixel_itm_db(h, s0, s1, k, n, d_m, th_tx, th_rx, dh_tx, dh_rx, gamma, n_s, dh, h_tx,
                                                h_rx, f_mhz, z_g, kc)  # fmt: skip
                    continue
                off_start = min(15.0 * h_tx, 0.1 * dh_tx)
                off_end = min(15.0 * h_rx, 0.1 * dh_rx)
                if n >= dh_state[3]:
                    first = dh_state[3] < 0.0
                    if first:  # the ray's first pixel here: a knot at the schedule point at or below it
                        n_a = knot_n[knot_at[min(n, g_lo) if master else n]]
                        k_hr = _extend(hr, k_hr, n_a, elev_m, fx0, fy0, sin_t, cos_t, lim_c, lim_r, x0_m, y0_m,
                                       pixel_m, xs, ys)  # fmt: skip
                        dh_state[0] = delta_h_core(hr, n_a, hr[n_a], pixel_m, off_start, n_a * pixel_m - off_end,
                                                   scratch)  # fmt: skip
                        dh_state[1] = n_a
                        if master:
                            tab_n[0] = n_a
                            tab_dh[0] = dh_state[0]
                            n_tab = 1
                    else:
                        dh_state[0] = dh_state[2]
                        dh_state[1] = dh_state[3]
                    # one knot per trigger: where the ray's pixels are sparse, the last knot is reused
                    n_b = knot_n[knot_at[n] + 1]
                    k_hr = _extend(hr, k_hr, n_b, elev_m, fx0, fy0, sin_t, cos_t, lim_c, lim_r, x0_m, y0_m, pixel_m,
                                   xs, ys)  # fmt: skip
                    dh_state[2] = delta_h_core(hr, n_b, hr[n_b], pixel_m, off_start, n_b * pixel_m - off_end,
                                               scratch)  # fmt: skip
                    dh_state[3] = n_b
                    if master:
                        tab_n[n_tab] = n_b
                        tab_dh[n_tab] = dh_state[2]
                        n_tab += 1
                u = (n - dh_state[1]) / (dh_state[3] - dh_state[1])
                dh = dh_state[0] + (dh_state[2] - dh_state[0]) * u
                out[rr, cc] = _pixel_itm_db(h, s0, s1, k, n, d_m, th_tx, th_rx, dh_tx, dh_rx, gamma, n_s, dh, h_tx,
                                            h_rx, f_mhz, z_g, kc)  # fmt: skip
            # the group's first ray: knots on to the group's farthest pixel (the last pixel's end offsets)
            while master and n_tab >= 2 and tab_n[n_tab - 1] < g_hi:
                n_l = int(tab_n[n_tab - 1])
                n_b = knot_n[knot_at[n_l] + 1]
                k_hr = _extend(hr, k_hr, n_b, elev_m, fx0, fy0, sin_t, cos_t, lim_c, lim_r, x0_m, y0_m, pixel_m, xs, ys)
                tab_n[n_tab] = n_b
                tab_dh[n_tab] = delta_h_core(hr, n_b, hr[n_b], pixel_m, off_start, n_b * pixel_m - off_end, scratch)
                n_tab += 1


def _ground_impedance(f_mhz, prm):
    _ns, _g, z_g = _c.surface_and_earth(f_mhz, 0.0, prm[P_N0], int(prm[P_POL]), prm[P_EPS], prm[P_SIGMA])
    return z_g


def _itm_sweep_window(elev, x0, y0, px, xs, ys, z_site, h_tx, h_rx, freq, radius_m, win, prm, n_rays):
    """Unchecked sweep (arguments typed): the float32 window of ITM attenuation, NaN outside the radius."""
    nr = int(win[1] - win[0])
    nc = int(win[3] - win[2])
    ray_of = np.empty(nr * nc, np.int64)
    dist_of = np.empty(nr * nc, np.float64)
    _assign_rays(x0, y0, px, xs, ys, radius_m, win, n_rays, ray_of, dist_of)
    order, start = _order_by_ray(ray_of, dist_of, n_rays, px, radius_m)
    out = np.full((nr, nc), np.nan, np.float32)
    z_g = _ground_impedance(freq, prm)
    kc = sweep_constants(freq, z_g, prm[P_ZT], prm[P_ZL], prm[P_ZS], prm[P_CLIMATE], prm[P_MDVAR])
    knot_n, knot_at = knot_schedule(int(math.ceil(radius_m / px)) + 4)
    _itm_sweep(elev, x0, y0, px, xs, ys, z_site, h_tx, h_rx, freq, z_g, prm, kc, win, n_rays, order, start, dist_of,
               knot_n, knot_at, out)  # fmt: skip
    return out


def knot_schedule(n_cap: int):
    """The delta_h knots' sample indices along every ray, and for each n <= ``n_cap`` the index of the knot at or
    below it: ``(knot_n, knot_at)``, ``knot_n[0] = 2``, ``knot_n[i + 1] = knot_n[i] + max(DH_KNOT_MIN,
    DH_KNOT_REL knot_n[i])`` (the names avoid numba's parfor argument ``sched``).

    Fixed positions (not the first pixel a window holds on a ray) make the knots, and so the raster, the same
    whatever the tile layout, except where a knot's end offsets (the pixel's horizon distances) differ.
    """
    s = [2]
    while s[-1] <= n_cap + 1:
        s.append(s[-1] + max(DH_KNOT_MIN, int(DH_KNOT_REL * s[-1])))
    knot_n = np.array(s, np.int64)
    knot_at = np.maximum(np.searchsorted(knot_n, np.arange(n_cap + 2), side="right") - 1, 0).astype(np.int64)
    return knot_n, knot_at


def _check_common(elev_m, pixel_m, h_tx_m, h_rx_m, freq_mhz, radius_m=1.0):
    elev = np.ascontiguousarray(elev_m, dtype=np.float32)
    if elev.ndim != 2:
        raise ValueError(f"elev_m must be a 2-D grid, got shape {elev.shape}")
    for name, val in (("pixel_m", pixel_m), ("radius_m", radius_m)):
        if not (np.isfinite(val) and val > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {val!r}")
    for name, val, lo, hi, unit in (("h_tx_m", h_tx_m, 0.5, 3000.0, "m"), ("h_rx_m", h_rx_m, 0.5, 3000.0, "m"),
                                    ("freq_mhz", freq_mhz, 20.0, 20000.0, "MHz")):  # fmt: skip
        if not (np.isfinite(val) and lo <= val <= hi):
            raise ValueError(f"{name} must lie in [{lo:g}, {hi:g}] {unit} for ITM, got {val!r}")
    return elev


def itm_loss_sweep(elev_m, x0_m, y0_m, pixel_m, x_tx_m, y_tx_m, h_tx_m, h_rx_m, freq_mhz, radius_m, *, window=None,
                   n_rays=None, **itm_kwargs):  # fmt: skip
    r"""ITM attenuation relative to free space from one transmitter over a raster window, by radial sweep.

    Parameters
    ----------
    elev_m : numpy.ndarray, (rows, cols)
        Terrain heights above sea level at pixel centres, north up. [m]
    x0_m, y0_m : float
        Left and top edges of the grid in its projected CRS. [m]
    pixel_m : float
        Pixel size, > 0. [m]
    x_tx_m, y_tx_m : float
        Transmitter position in the grid's CRS. [m]
    h_tx_m, h_rx_m : float
        Antenna heights above ground, 0.5 to 3000 m. [m]
    freq_mhz : float
        Frequency, 20 to 20000 MHz. [MHz]
    radius_m : float
        Pixels farther than this are NaN. [m]
    window : (row0, row1, col0, col1), optional
        Sub-window of the grid to evaluate (default the whole grid).
    n_rays : int, optional
        Number of rays (default :func:`~propagation.engine.default_n_rays`, two per pixel at the radius).
    **itm_kwargs
        ``climate``, ``refractivity_n0``, ``polarization``, ``permittivity``,
        ``conductivity_s_per_m``, ``mdvar``, ``time_pct``, ``location_pct``,
        ``situation_pct`` as for :func:`propagation.itm_p2p_loss_db`.

    Returns
    -------
    numpy.ndarray, float32, window shape
        L_ITM - L_fs (ITM's loss minus its free-space loss 32.45 + 20 log f + 20 log d), 0 within one
        pixel of the transmitter, NaN beyond the radius. [dB]

    Notes
    -----
    Hufford (1995), the ITM algorithm, from per-ray running maxima, hulls and sums (module docstring);
    outside ITM's ranges (d < 1 km ...) it extrapolates silently, as ``strict=False`` does.

    Examples
    --------
    >>> e = np.zeros((41, 41))
    >>> out = itm_loss_sweep(e, 0.0, 1230.0, 30.0, 615.0, 615.0, 30.0, 1.5, 900.0, 600.0)
    >>> bool(np.nanmax(out) < 30.0)
    True
    """
    elev = _check_common(elev_m, pixel_m, h_tx_m, h_rx_m, freq_mhz, radius_m)
    prm = itm_params(**itm_kwargs)
    win = _check_window((0, elev.shape[0], 0, elev.shape[1]) if window is None else window, *elev.shape)
    if n_rays is None:
        n_rays = default_n_rays(radius_m, pixel_m)
    z_site = _bilinear(elev, float(x0_m), float(y0_m), float(pixel_m), float(x_tx_m), float(y_tx_m))
    return _itm_sweep_window(elev, float(x0_m), float(y0_m), float(pixel_m), float(x_tx_m), float(y_tx_m), z_site,
                             float(h_tx_m), float(h_rx_m), float(freq_mhz), float(radius_m), win, prm, int(n_rays))  # fmt: skip


def itm_loss_reference(elev_m, x0_m, y0_m, pixel_m, x_tx_m, y_tx_m, h_tx_m, h_rx_m, freq_mhz, rows, cols,
                       **itm_kwargs):  # fmt: skip
    """Slow exact reference of :func:`itm_loss_sweep`: the straight profile to each pixel through the public model.

    For each pixel (rows[i], cols[i]) the profile from the transmitter to the pixel centre is sampled
    bilinearly at n + 1 equally spaced points, n = max(2, ceil(D / pixel_m)), the pixel's own height last, and
    passed to :func:`propagation.itm_p2p_loss_db` (``strict=False``, warnings silenced).  Returns float64
    L_ITM - L_fs [dB]; 0 for D <= pixel_m, as the sweep.

    >>> e = np.zeros((5, 5)); e[2, 3] = 80.0
    >>> ref = itm_loss_reference(e, 0.0, 150.0, 30.0, 15.0, 75.0, 10.0, 1.5, 900.0, [2], [4])
    >>> bool(ref[0] > 10.0)
    True
    """
    elev = np.asarray(elev_m, dtype=np.float64)
    _check_common(elev, pixel_m, h_tx_m, h_rx_m, freq_mhz)
    rows = np.asarray(rows, dtype=np.int64).ravel()
    out = np.empty(rows.size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidityRangeWarning)
        for i, d_m, t, heights in straight_profiles(elev, x0_m, y0_m, pixel_m, x_tx_m, y_tx_m, rows, cols):
            if t is None:
                out[i] = 0.0
                continue
            n = t.size - 1
            loss = itm_p2p_loss_db(heights, d_m / n, h_tx_m, h_rx_m, freq_mhz, strict=False, **itm_kwargs)
            out[i] = loss - _c.free_space_db(d_m, freq_mhz)
    return out
