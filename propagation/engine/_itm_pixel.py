r"""ITM attenuation of one raster pixel from the state of its ray (for :mod:`.terrain_itm`).

The per-pixel half of the ``--terrain itm`` radial sweep: the ray's running sums and hulls plus the pixel's
own last samples give the horizons, the smooth-earth fits and the effective heights of the profile analysis
(G. A. Hufford, "The ITS Irregular Terrain Model, version 1.2.2, the Algorithm", NTIA/ITS 1995, section 3,
``qlrpfl``; NTIA/itm v1.4), then ITM's reference attenuation and variability (:mod:`propagation._itm_core`).
Private: the public API is :func:`propagation.engine.itm_loss_sweep`.
"""

from __future__ import annotations

import math

import numpy as np

from propagation import _itm_core as _c
from propagation._jit import jit, jit_inline
from propagation.engine import _itm_fast as _f
from propagation.engine._terrain_pixel import _hull_search

#: ITM parameter vector of the kernels (``ITM_PARAMS`` slots; :func:`.terrain_itm.itm_params` fills it).
(P_CLIMATE, P_N0, P_POL, P_EPS, P_SIGMA, P_MDVAR, P_ZT, P_ZL, P_ZS, P_TQ, P_LQ, P_SQ) = range(12)
N_ITM_PARAMS = 12


@jit_inline
def _psum(s0, s1, h, k, j):
    """(sum z_i, sum i z_i) over i <= j of the pixel's profile: running sums of the ray up to k, h[i] beyond."""
    if j < 0:
        return 0.0, 0.0
    if j <= k:
        return s0[j], s1[j]
    a = s0[k]
    b = s1[k]
    for i in range(k + 1, j + 1):
        a += h[i]
        b += i * h[i]
    return a, b


@jit_inline
def _fit(s0, s1, h, k, n, xi, d_a, d_b):
    """:func:`propagation._itm_profile.lls_fit` of the pixel's profile h[0..n] from the ray's running sums, O(1)."""
    i0 = int(max(d_a / xi, 0.0))
    i1 = n - int(max(n - d_b / xi, 0.0))
    if i1 <= i0:
        i0 = int(max(i0 - 1.0, 0.0))
        i1 = n - int(max(n - (i1 + 1.0), 0.0))
    x_len = float(i1 - i0)
    c = 0.5 * (i0 + i1)
    z0 = h[i0]
    z1 = h[i1]
    a1, b1 = _psum(s0, s1, h, k, i1)
    a0, b0 = _psum(s0, s1, h, k, i0 - 1)
    sum0 = a1 - a0
    sum1 = b1 - b0
    s_y = (sum0 - 0.5 * (z0 + z1)) / x_len
    s_xy = (sum1 - c * sum0) - 0.5 * (z0 * (i0 - c) + z1 * (i1 - c))
    s_xy = s_xy * 12.0 / ((x_len * x_len + 2.0) * x_len)
    return s_y - s_xy * c, s_y + s_xy * (n - c)


@jit_inline
def _pixel_horizons(h, s0, s1, k, tx_x, tx_y, n_tx, rx_x, rx_y, n_rx, c_ray, n, d_m, h_tx, h_rx, prm, hints):
    """Horizons of one pixel's profile from its ray's state (see the module docstring).

    The pixel's profile is h[0..n]: the ray's samples 0..k (running sums s0, s1 and hulls over 1..k), then
    the pixel's own samples h[k+1..n-1] on the straight line to it and its height h[n].
    Returns (theta_tx, theta_rx, d_hzn_tx, d_hzn_rx, gamma_e, n_s) in rad, m, 1/m, N-units.
    """
    xi = d_m / n
    z_site = h[0]
    z_px = h[n]
    z_tx = z_site + h_tx
    z_rx = z_px + h_rx
    # mean path height -> N_s, gamma_e
    p10 = int(0.1 * n)
    hsys = (_psum(s0, s1, h, k, n - p10)[0] - _psum(s0, s1, h, k, p10 - 1)[0]) / (n - 2 * p10 + 1)
    n_s = prm[P_N0] if hsys == 0.0 else prm[P_N0] * math.exp(-hsys / 9460.0)
    gamma = _c.GAMMA_A * (1.0 - 0.04665 * math.exp(n_s / 179.3))
    # horizons: line-of-sight values, then the hull queries
    th_tx = (z_rx - z_tx) / d_m - d_m * gamma * 0.5
    th_rx = -(z_rx - z_tx) / d_m - d_m * gamma * 0.5
    dh_tx = d_m
    dh_rx = d_m
    q = gamma * xi * xi * 0.5
    if n_tx > 0:
        pos = _hull_search(1, tx_x, tx_y, n_tx, 1.0, 0.0, q, hints[0])
        hints[0] = pos
        i = tx_x[pos]
        t = (tx_y[pos] - q * i) / xi
        if t > th_tx:
            th_tx = t
            dh_tx = i * xi
    for i in range(k + 1, n):  # the pixel's own samples, after the ray's
        t = (h[i] - z_tx) / (i * xi) - i * xi * gamma * 0.5
        if t > th_tx:
            th_tx = t
            dh_tx = i * xi
    if n_rx > 0:
        pos = _hull_search(0, rx_x, rx_y, n_rx, 1.0, float(n), z_rx - c_ray * n * n, hints[1])
        hints[1] = pos
        for pp in range(max(pos - 1, 0), min(pos + 2, n_rx)):
            i = rx_x[pp]
            d_r = (n - i) * xi
            t = (h[i] - z_rx) / d_r - d_r * gamma * 0.5
            if t > th_rx:
                th_rx = t
                dh_rx = d_r
    for i in range(k + 1, n):
        d_r = (n - i) * xi
        t = (h[i] - z_rx) / d_r - d_r * gamma * 0.5
        if t > th_rx:
            th_rx = t
            dh_rx = d_r
    return th_tx, th_rx, dh_tx, dh_rx, gamma, n_s


@jit_inline
def _pixel_itm_db(h, s0, s1, k, n, d_m, th_tx, th_rx, dh_tx, dh_rx, gamma, n_s, dh, h_tx, h_rx, f_mhz, z_g, kc):
    """ITM attenuation relative to free space of one pixel, from its horizons and delta_h. [dB]

    ``kc``: the sweep's constants (:func:`._itm_fast.sweep_constants`); line-of-sight paths (d < d_sML, every
    pixel of a short-range sweep from a mast) take :func:`._itm_fast.a_ref_los_db`, the others
    :func:`_a_ref_db`."""
    xi = d_m / n
    a_e = 1.0 / gamma
    z_site = h[0]
    z_px = h[n]
    d_start = min(15.0 * h_tx, 0.1 * dh_tx)
    d_end = d_m - min(15.0 * h_rx, 0.1 * dh_rx)
    # effective heights ([Algorithm section 3, qlrpfl])
    if dh_tx + dh_rx > 1.5 * d_m:
        fit_tx, fit_rx = _fit(s0, s1, h, k, n, xi, d_start, d_end)
        he_tx = h_tx + max(z_site - fit_tx, 0.0)
        he_rx = h_rx + max(z_px - fit_rx, 0.0)
        dh_tx = math.sqrt(2.0 * he_tx * a_e) * math.exp(-0.07 * math.sqrt(dh / max(he_tx, 5.0)))
        dh_rx = math.sqrt(2.0 * he_rx * a_e) * math.exp(-0.07 * math.sqrt(dh / max(he_rx, 5.0)))
        if dh_tx + dh_rx <= d_m:
            r = (d_m / (dh_tx + dh_rx)) ** 2
            he_tx *= r
            he_rx *= r
            dh_tx = math.sqrt(2.0 * he_tx * a_e) * math.exp(-0.07 * math.sqrt(dh / max(he_tx, 5.0)))
            dh_rx = math.sqrt(2.0 * he_rx * a_e) * math.exp(-0.07 * math.sqrt(dh / max(he_rx, 5.0)))
        r = math.sqrt(2.0 * he_tx * a_e)
        th_tx = (0.65 * dh * (r / dh_tx - 1.0) - 2.0 * he_tx) / r
        r = math.sqrt(2.0 * he_rx * a_e)
        th_rx = (0.65 * dh * (r / dh_rx - 1.0) - 2.0 * he_rx) / r
    else:
        fit_tx, _ = _fit(s0, s1, h, k, n, xi, d_start, 0.9 * dh_tx)
        he_tx = h_tx + max(z_site - fit_tx, 0.0)
        _, fit_rx = _fit(s0, s1, h, k, n, xi, d_m - 0.9 * dh_rx, d_end)
        he_rx = h_rx + max(z_px - fit_rx, 0.0)
    d_sml = math.sqrt(2.0 * he_tx * a_e) + math.sqrt(2.0 * he_rx * a_e)
    if (d_m < d_sml and 150.0 <= n_s <= 400.0 and 4000000.0 <= a_e <= 13333333.0
            and kc[_f.K_Z_RE] > abs(kc[_f.K_Z_IM])):  # fmt: skip
        a_ref = _f.a_ref_los_db(th_tx, th_rx, dh_tx, dh_rx, he_tx, he_rx, a_e, d_sml, dh, h_tx, h_rx, d_m, kc)
    else:
        a_ref = _a_ref_db(th_tx, th_rx, f_mhz, z_g, dh_tx, dh_rx, he_tx, he_rx, gamma, n_s, dh, h_tx, h_rx, d_m)
        if math.isnan(a_ref):
            return np.nan
    return _f.variability_db(kc, he_tx, he_rx, dh, d_m, a_ref)


@jit
def _a_ref_db(theta_tx, theta_rx, f_mhz, z_g, d_hzn_tx_m, d_hzn_rx_m, h_e_tx_m, h_e_rx_m, gamma_e, n_s, delta_h_m,
              h_tx_m, h_rx_m, d_m):  # fmt: skip
    """:func:`propagation._itm_core.longley_rice`'s A_ref (NaN on its errors), the troposcatter lines skipped where
    they cannot matter. [dB]

    Beyond ITM's smooth-earth horizon distance d_sML, A_ref is the troposcatter line only beyond
    d_x >= d_L + 1.088 (a_e^2 / f)^(1/3) ln f ([Algorithm section 4.4]; about 30 km at 900 MHz), so shorter paths
    there (low masts, long radii) need the diffraction line alone: the same value without the two troposcatter
    evaluations.  Every other case (line of sight d < d_sML, most pixels of a short-range sweep; long paths;
    the model's error cases) goes to ``longley_rice`` itself.
    """
    a_e = 1.0 / gamma_e
    d_sml = math.sqrt(2.0 * h_e_tx_m * a_e) + math.sqrt(2.0 * h_e_rx_m * a_e)
    if d_m >= d_sml:  # below d_sML (ITM's line of sight) straight to longley_rice
        d_ml = d_hzn_tx_m + d_hzn_rx_m
        scale = (a_e * a_e / f_mhz) ** (1.0 / 3.0)
        valid = 150.0 <= n_s <= 400.0 and 4000000.0 <= a_e <= 13333333.0 and z_g.real > abs(z_g.imag)
        if valid and d_m <= d_ml + 1.088 * scale * math.log(f_mhz):
            theta_los = -max(theta_tx + theta_rx, -d_ml / a_e)
            d3 = max(d_sml, d_ml + 5.0 * scale)
            d4 = d3 + 10.0 * scale
            a3, a4 = _c._diffraction_line(d3, d4, f_mhz, a_e, theta_los, d_hzn_tx_m, d_hzn_rx_m, h_e_tx_m, h_e_rx_m,
                                          abs(z_g), delta_h_m, h_tx_m, h_rx_m, d_sml)  # fmt: skip
            m_d = (a4 - a3) / (d4 - d3)
            a_d0 = a3 - m_d * d3
            return max(m_d * d_m + a_d0, 0.0)
    a_ref, _mode, _w, err = _c.longley_rice(theta_tx, theta_rx, f_mhz, z_g, d_hzn_tx_m, d_hzn_rx_m, h_e_tx_m, h_e_rx_m,
                                            gamma_e, n_s, delta_h_m, h_tx_m, h_rx_m, d_m)  # fmt: skip
    return np.nan if err != 0 else a_ref
