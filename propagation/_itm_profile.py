r"""Longley-Rice ITM point to point: the terrain-profile analysis and the whole path (numba kernels).

Private; the public API is :func:`propagation.itm_p2p_loss_db` / :func:`propagation.itm_p2p`.  Follows
Hufford, "The ITS Irregular Terrain Model, version 1.2.2, the Algorithm" (1995), section 3 (subroutines
``qlrpfl``, ``hzns``, ``dlthx``, ``zlsq1``) as restated in NTIA/ITS's reference implementation
github.com/NTIA/itm v1.4 (``QuickPfl``, ``FindHorizons``, ``ComputeDeltaH``, ``LinearLeastSquaresFit``,
``ITM_P2P_TLS_Ex``), whose documented behaviour they reproduce.

The profile is ``z`` (n + 1 heights above sea level, equally spaced by ``xi_m``, the first at the transmitter)
rather than the reference's ``pfl`` array; ``np_`` = n is the number of intervals.
"""

from __future__ import annotations

import math

import numpy as np

from propagation._itm_core import (
    free_space_db,
    icdf,
    longley_rice,
    surface_and_earth,
    variability_db,
)
from propagation._jit import jit
from propagation._select import select2

#: Slots of the intermediate-value vector written by :func:`itm_p2p_kernel`.
(I_LOSS, I_AREF, I_AFS, I_D_M, I_TH_TX, I_TH_RX, I_DH_TX, I_DH_RX, I_HE_TX, I_HE_RX, I_DELTA_H, I_NS, I_MODE,
 I_WARN, I_ERR) = range(15)  # fmt: skip
N_INTER = 15


@jit
def find_horizons(z, xi_m, a_e_m, h_tx_m, h_rx_m):
    """Horizon angles (rad) and distances (m) of both terminals, [Algorithm section 3 ``hzns``], [TN101 eq. 6.15].

    Line-of-sight values (the other terminal as horizon) unless an intermediate point rises above them.
    """
    n = z.size - 1
    d_m = n * xi_m
    z_tx = z[0] + h_tx_m
    z_rx = z[n] + h_rx_m
    th_tx = (z_rx - z_tx) / d_m - d_m / (2.0 * a_e_m)
    th_rx = -(z_rx - z_tx) / d_m - d_m / (2.0 * a_e_m)
    dh_tx = d_m
    dh_rx = d_m
    d_t = 0.0
    d_r = d_m
    for i in range(1, n):
        d_t += xi_m
        d_r -= xi_m
        t = (z[i] - z_tx) / d_t - d_t / (2.0 * a_e_m)
        r = -(z_rx - z[i]) / d_r - d_r / (2.0 * a_e_m)
        if t > th_tx:
            th_tx = t
            dh_tx = d_t
        if r > th_rx:
            th_rx = r
            dh_rx = d_r
    return th_tx, th_rx, dh_tx, dh_rx


@jit
def lls_fit(z, xi, d_start, d_end):
    """Least-squares line through the profile between two distances, returned as its heights at both ends
    of the whole profile (fit_tx at 0, fit_rx at n xi), [Algorithm section 3 ``zlsq1``].

    Trapezoid-weighted sums over the samples from int(d_start / xi) to n - int(n - d_end / xi).
    """
    n = z.size - 1
    i0 = int(max(d_start / xi, 0.0))
    i1 = n - int(max(n - d_end / xi, 0.0))
    if i1 <= i0:
        i0 = int(max(i0 - 1.0, 0.0))
        i1 = n - int(max(n - (i1 + 1.0), 0.0))
    x_len = float(i1 - i0)
    mid = -0.5 * x_len
    mid_end = i1 + mid
    s_y = 0.5 * (z[i0] + z[i1])
    s_xy = 0.5 * (z[i0] - z[i1]) * mid
    i = i0
    for _ in range(2, int(x_len) + 1):
        i += 1
        mid += 1.0
        s_y += z[i]
        s_xy += z[i] * mid
    s_y /= x_len
    s_xy = s_xy * 12.0 / ((x_len * x_len + 2.0) * x_len)
    return s_y - s_xy * mid_end, s_y + s_xy * (n - mid_end)


#: Most resampled points of :func:`delta_h_m` (10 x 25 - 5).
DELTA_H_MAX_POINTS = 245
#: Scratch length :func:`delta_h_core` needs (the points and the select's second buffer).
DELTA_H_SCRATCH = 2 * DELTA_H_MAX_POINTS


@jit
def delta_h_core(z, n, z_last, xi, d_start, d_end, s):
    """:func:`delta_h_m` of the profile z[0..n-1], z_last (at index n), with scratch ``s`` (>= DELTA_H_SCRATCH values)."""
    x0 = d_start / xi
    x1 = d_end / xi
    if x1 - x0 < 2.0:
        return 0.0
    p10 = min(max(4, int(0.1 * (x1 - x0 + 8.0))), 25)
    m = 10 * p10 - 5
    p90 = m - p10
    n_s = m - 1.0
    step = (x1 - x0) / n_s
    i = int(x0)
    x = x0 - (i + 1.0)
    for j in range(m):
        while x > 0.0 and i + 1 < n:
            x -= 1.0
            i += 1
        z1 = z_last if i + 1 == n else z[i + 1]
        s[j] = z1 + (z1 - z[i]) * x
        x += step
    # least-squares line over the m points (unit spacing, trapezoid weights at the ends, as zlsq1)
    s_y = 0.5 * (s[0] + s[m - 1])
    mid = -0.5 * n_s
    s_xy = 0.5 * (s[0] - s[m - 1]) * mid
    for j in range(1, m - 1):
        mid += 1.0
        s_y += s[j]
        s_xy += s[j] * mid
    s_y /= n_s
    s_xy = s_xy * 12.0 / ((n_s * n_s + 2.0) * n_s)
    y1 = s_y - s_xy * 0.5 * n_s
    slope = s_xy
    for j in range(m):
        s[j] -= y1 + slope * j
    # p10-th largest minus (p90 + 1)-th largest residual (exact order statistics, one shared select)
    lo_q, hi_q = select2(s, s[DELTA_H_MAX_POINTS:], m, m - 1 - p90, m - p10)
    return (hi_q - lo_q) / (1.0 - 0.8 * math.exp(-(d_end - d_start) / 50e3))


@jit
def delta_h_m(z, xi, d_start, d_end):
    """Terrain irregularity delta_h between two distances, [Algorithm section 3 ``dlthx``].

    The sub-profile is resampled at 10 p - 5 points (p in 4..25), a least-squares line removed, and the
    interdecile range of the residuals scaled up to its asymptotic value, [ERL 79-ITS 67 eq. (3)] inverted.
    """
    n = z.size - 1
    return delta_h_core(z, n, z[n], xi, d_start, d_end, np.empty(DELTA_H_SCRATCH))


@jit
def quick_pfl(z, xi, gamma_e, h_tx_m, h_rx_m):
    """Horizons, effective heights and delta_h of a profile, [Algorithm section 3 ``qlrpfl``].

    Returns (theta_tx, theta_rx, d_hzn_tx, d_hzn_rx, h_e_tx, h_e_rx, delta_h) in rad and m.
    """
    n = z.size - 1
    d_m = n * xi
    a_e = 1.0 / gamma_e
    th_tx, th_rx, dh_tx, dh_rx = find_horizons(z, xi, a_e, h_tx_m, h_rx_m)
    d_start = min(15.0 * h_tx_m, 0.1 * dh_tx)
    d_end = d_m - min(15.0 * h_rx_m, 0.1 * dh_rx)
    dh = delta_h_m(z, xi, d_start, d_end)
    if dh_tx + dh_rx > 1.5 * d_m:
        # well within line of sight: effective heights over the whole-path fit, horizons from delta_h
        fit_tx, fit_rx = lls_fit(z, xi, d_start, d_end)
        he_tx = h_tx_m + max(z[0] - fit_tx, 0.0)
        he_rx = h_rx_m + max(z[n] - fit_rx, 0.0)
        dh_tx = math.sqrt(2.0 * he_tx * a_e) * math.exp(-0.07 * math.sqrt(dh / max(he_tx, 5.0)))
        dh_rx = math.sqrt(2.0 * he_rx * a_e) * math.exp(-0.07 * math.sqrt(dh / max(he_rx, 5.0)))
        if dh_tx + dh_rx <= d_m:
            q = (d_m / (dh_tx + dh_rx)) ** 2
            he_tx *= q
            he_rx *= q
            dh_tx = math.sqrt(2.0 * he_tx * a_e) * math.exp(-0.07 * math.sqrt(dh / max(he_tx, 5.0)))
            dh_rx = math.sqrt(2.0 * he_rx * a_e) * math.exp(-0.07 * math.sqrt(dh / max(he_rx, 5.0)))
        q = math.sqrt(2.0 * he_tx * a_e)
        th_tx = (0.65 * dh * (q / dh_tx - 1.0) - 2.0 * he_tx) / q
        q = math.sqrt(2.0 * he_rx * a_e)
        th_rx = (0.65 * dh * (q / dh_rx - 1.0) - 2.0 * he_rx) / q
    else:
        fit_tx, _ = lls_fit(z, xi, d_start, 0.9 * dh_tx)
        he_tx = h_tx_m + max(z[0] - fit_tx, 0.0)
        _, fit_rx = lls_fit(z, xi, d_m - 0.9 * dh_rx, d_end)
        he_rx = h_rx_m + max(z[n] - fit_rx, 0.0)
    return th_tx, th_rx, dh_tx, dh_rx, he_tx, he_rx, dh


@jit
def path_mean_height_m(z):
    """Mean profile height without the first and last 10 % of the samples (the system height h_sys). [m]"""
    n = z.size - 1
    p10 = int(0.1 * n)
    acc = 0.0
    for i in range(p10, n - p10 + 1):
        acc += z[i]
    return acc / (n - 2 * p10 + 1)


@jit
def itm_p2p_kernel(z, xi, h_tx_m, h_rx_m, climate, n0, f_mhz, pol_id, eps_r, sigma, mdvar, time_q, loc_q, sit_q, out):
    """The whole point-to-point ITM on one profile; fills ``out`` (length :data:`N_INTER`, slots ``I_*``).

    ``time_q``, ``loc_q``, ``sit_q`` are fractions in (0, 1).  ``out[I_ERR]`` is 0 or the reference's error
    code; ``out[I_WARN]`` the warning bits of the path (input-range warnings are the caller's).
    """
    n_s, gamma_e, z_g = surface_and_earth(f_mhz, path_mean_height_m(z), n0, pol_id, eps_r, sigma)
    th_tx, th_rx, dh_tx, dh_rx, he_tx, he_rx, dh = quick_pfl(z, xi, gamma_e, h_tx_m, h_rx_m)
    d_m = (z.size - 1) * xi
    a_ref, mode, warn, err = longley_rice(th_tx, th_rx, f_mhz, z_g, dh_tx, dh_rx, he_tx, he_rx, gamma_e, n_s, dh,
                                          h_tx_m, h_rx_m, d_m)  # fmt: skip
    a_fs = free_space_db(d_m, f_mhz)
    loss = np.nan
    if err == 0:
        a_var, w2 = variability_db(icdf(time_q), icdf(loc_q), icdf(sit_q), he_tx, he_rx, dh, f_mhz, d_m, a_ref,
                                   climate, mdvar)  # fmt: skip
        warn |= w2
        loss = a_var + a_fs
    out[I_LOSS] = loss
    out[I_AREF] = a_ref
    out[I_AFS] = a_fs
    out[I_D_M] = d_m
    out[I_TH_TX] = th_tx
    out[I_TH_RX] = th_rx
    out[I_DH_TX] = dh_tx
    out[I_DH_RX] = dh_rx
    out[I_HE_TX] = he_tx
    out[I_HE_RX] = he_rx
    out[I_DELTA_H] = dh
    out[I_NS] = n_s
    out[I_MODE] = mode
    out[I_WARN] = warn
    out[I_ERR] = err


@jit
def itm_p2p_many(z, xi, h_tx, h_rx, climate, n0, f_mhz, pol_id, eps_r, sigma, mdvar, time_q, loc_q, sit_q, out):
    """:func:`itm_p2p_kernel` over flat, equally long parameter arrays; ``out`` is (n, :data:`N_INTER`)."""
    for k in range(h_tx.size):
        itm_p2p_kernel(z, xi, h_tx[k], h_rx[k], climate, n0[k], f_mhz[k], pol_id, eps_r[k], sigma[k], mdvar,
                       time_q[k], loc_q[k], sit_q[k], out[k])  # fmt: skip
