r"""ITM's line-of-sight reference attenuation and its variability, per raster pixel, with per-sweep constants.

The same formulas as :func:`propagation._itm_core.longley_rice` (its line-of-sight branch, [Algorithm sections
4.2, 4.3]) and :func:`propagation._itm_core.variability_db` ([Algorithm section 5]), rearranged for the
``--terrain itm`` sweep, which calls them once per pixel with one frequency, ground and set of quantiles:

* everything that depends on the frequency, the ground impedance, the climate and the quantiles only is
  computed once per sweep (:func:`sweep_constants`: f^(1/3), |Z_g|, Vogler's K factor, the climate curves'
  frequency factors, the mode of variability's deviates);
* cube roots as exp(ln x / 3), log10 as ln x / ln 10, x^(1/4) as two square roots, the complex reflection
  coefficient in real arithmetic (no ``pow``, no complex division).

The values equal the reference kernels' to rounding (relative ~1e-14, tested on random inputs in
``tests/propagation/test_engine_itm.py``); the public model (:mod:`propagation._itm_core`) is untouched.
Paths beyond ITM's smooth-earth horizon (d >= d_sML) and inputs the model rejects are the caller's
(:func:`propagation.engine._itm_pixel._a_ref_db`).
"""

from __future__ import annotations

import math

import numpy as np

from propagation import _itm_core as _c
from propagation._jit import jit_inline

_INV_LN10 = 1.0 / math.log(10.0)
_THIRD = 1.0 / 3.0
_A0_43 = (4.0 / 3.0) * _c.A0_M

# slots of the per-sweep constant vector
(K_F, K_F_CBRT, K_WN, K_Z_RE, K_Z_IM, K_Z_ABS, K_VOGLER, K_LN_F, K_D_EX_F, K_ZT, K_ZL, K_ZS, K_MODE, K_NO_SIT, K_NO_LOC,
 K_G_MINUS, K_G_PLUS, K_C_D, K_Z_D) = range(19)  # fmt: skip
K_V_MED, K_S_MINUS, K_S_PLUS = 19, 24, 29  # five curve constants each
N_K = 34


def sweep_constants(f_mhz, z_g, z_t, z_l, z_s, climate, mdvar):
    """The per-sweep constants of :func:`a_ref_los_db` and :func:`variability_db` (float64 vector, ``K_*`` slots)."""
    k = np.zeros(N_K)
    k[K_F] = f_mhz
    k[K_F_CBRT] = f_mhz ** (1.0 / 3.0)
    k[K_WN] = f_mhz / 47.7
    k[K_Z_RE] = z_g.real
    k[K_Z_IM] = z_g.imag
    k[K_Z_ABS] = abs(z_g)
    k[K_VOGLER] = 0.017778 / (k[K_F_CBRT] * k[K_Z_ABS])
    k[K_LN_F] = math.log(f_mhz)
    k[K_D_EX_F] = (575.7e12 / k[K_WN]) ** (1.0 / 3.0)
    c = int(climate) - 1
    mode = int(mdvar)
    no_sit = mode >= 20
    mode -= 20 if no_sit else 0
    no_loc = mode >= 10
    mode -= 10 if no_loc else 0
    if mode == 0:  # single message
        z_t = z_s
        z_l = z_s
    elif mode == 1:  # accidental
        z_l = z_s
    elif mode == 2:  # mobile
        z_l = z_t
    k[K_ZT], k[K_ZL], k[K_ZS] = z_t, z_l, z_s
    k[K_MODE], k[K_NO_SIT], k[K_NO_LOC] = mode, no_sit, no_loc
    q = math.log(0.133 * k[K_WN])
    fm, fp = _c._F_MINUS, _c._F_PLUS
    k[K_G_MINUS] = fm[0][c] + fm[1][c] / ((fm[2][c] * q) ** 2 + 1.0)
    k[K_G_PLUS] = fp[0][c] + fp[1][c] / ((fp[2][c] * q) ** 2 + 1.0)
    k[K_C_D] = _c._C_D[c]
    k[K_Z_D] = _c._Z_D[c]
    for slot, table in ((K_V_MED, _c._V_MED), (K_S_MINUS, _c._SIG_MINUS), (K_S_PLUS, _c._SIG_PLUS)):
        for i in range(5):
            k[slot + i] = table[i][c]
    return k


@jit_inline
def _cbrt(x):
    return math.exp(math.log(x) * _THIRD)


@jit_inline
def _sigma_h_m(dh_d):
    """:func:`propagation._itm_core._sigma_h_m` (delta_h^(1/4) as two square roots)."""
    return 0.78 * dh_d * math.exp(-0.5 * math.sqrt(math.sqrt(dh_d)))


@jit_inline
def _fresnel_db(v2):
    if v2 < 5.76:
        return 6.02 + 9.11 * math.sqrt(v2) - 1.27 * v2
    return 12.953 + 10.0 * _INV_LN10 * math.log(v2)


@jit_inline
def _height_gain_db(x_km, k):
    """:func:`propagation._itm_core._height_gain_db` with log10 as ln / ln 10 (it uses natural logs already)."""
    if x_km < 200.0:
        w = -math.log(k)
        if k < 1e-5 or x_km * w * w * w > 5495.0:
            out = -117.0
            if x_km > 1.0:
                out += 17.372 * math.log(x_km)
            return out
        return 2.5e-5 * x_km * x_km / k - 8.686 * w - 15.0
    out = 0.05751 * x_km - 4.343 * math.log(x_km)
    if x_km < 2000.0:
        w = 0.0134 * x_km * math.exp(-0.005 * x_km)
        out = (1.0 - w) * out + w * (17.372 * math.log(x_km) - 117.0)
    return out


@jit_inline
def _terminal(dl, h_e, kc):
    """One terminal's (x, F(x, K)) of Vogler's three-radius diffraction, [Vogler 1964 eqs. 2, 3, 6a, 7a]."""
    c0 = _cbrt(_A0_43 * 2.0 * h_e / (dl * dl))
    k = kc[K_VOGLER] * c0
    x = (1.607 - k) * c0 * c0 * kc[K_F_CBRT] * dl * 1e-3
    return x, _height_gain_db(x, k)


@jit_inline
def _diffraction_at(d_m, kc, a_e, theta_los, dh_tx, dh_rx, x_t, f_sum, term, a_fo, delta_h):
    """A_d(d) of :func:`propagation._itm_core._diffraction_line` from its distance-free terms. [dB]"""
    d_ml = dh_tx + dh_rx
    theta_nlos = d_m / a_e - theta_los
    a0 = (d_m - d_ml) / theta_nlos
    c0 = _cbrt(_A0_43 / a0)
    k = kc[K_VOGLER] * c0
    x0 = (1.607 - k) * c0 * c0 * kc[K_F_CBRT] * a0 * theta_nlos * 1e-3 + x_t
    a_r = 0.05751 * x0 - 10.0 * _INV_LN10 * math.log(x0) - f_sum - 20.0
    d_nlos = d_m - d_ml
    c = 0.0795775 * kc[K_WN] * theta_nlos * theta_nlos * d_nlos
    a_k = _fresnel_db(c * dh_tx / (d_nlos + dh_tx)) + _fresnel_db(c * dh_rx / (d_nlos + dh_rx))
    rough = delta_h * (1.0 - 0.8 * math.exp(-d_m / 50e3))
    qq = (term + (-theta_los * a_e + d_ml) / d_m) * min(rough * kc[K_WN], 6283.2)
    w = 25.1 / (25.1 + math.sqrt(qq))
    return w * a_r + (1.0 - w) * a_k + a_fo


@jit_inline
def _los_db(d_m, he_tx, he_rx, kc, delta_h, m_d, a_d0, d_sml):
    """:func:`propagation._itm_core._los_db` (two-ray with the rough-earth reflection, in real arithmetic)."""
    sigma_h = _sigma_h_m(delta_h * (1.0 - 0.8 * math.exp(-d_m / 50e3)))
    wn = kc[K_WN]
    zr = kc[K_Z_RE]
    zi = kc[K_Z_IM]
    h_sum = he_tx + he_rx
    s = h_sum / math.sqrt(d_m * d_m + h_sum * h_sum)
    # (s - Z) / (s + Z) = ((s^2 - |Z|^2) - 2 i s Im Z) / |s + Z|^2, times the roughness factor
    g = math.exp(-min(10.0, wn * sigma_h * s)) / ((s + zr) * (s + zr) + zi * zi)
    r_re = (s * s - zr * zr - zi * zi) * g
    r_im = -2.0 * s * zi * g
    q = r_re * r_re + r_im * r_im
    if q < 0.25 or q < s:
        u = math.sqrt(s / q)
        r_re *= u
        r_im *= u
    delta_phi = wn * 2.0 * he_tx * he_rx / d_m
    if delta_phi > 0.5 * math.pi:
        delta_phi = math.pi - 0.25 * math.pi * math.pi / delta_phi
    re = math.cos(delta_phi) + r_re
    im = -math.sin(delta_phi) + r_im
    a_t = -10.0 * _INV_LN10 * math.log(re * re + im * im)
    w = 1.0 / (1.0 + kc[K_F] * delta_h / max(10e3, d_sml))
    return w * a_t + (1.0 - w) * (m_d * d_m + a_d0)


@jit_inline
def a_ref_los_db(theta_tx, theta_rx, dh_tx, dh_rx, he_tx, he_rx, a_e, d_sml, delta_h, h_tx, h_rx, d_m, kc):
    """A_ref of :func:`propagation._itm_core.longley_rice` for a line-of-sight path (d_m < d_sml, valid N_s, a_e
    and Z_g: the caller checks), [Algorithm eqs. (4.2)-(4.4), section 4.3]. [dB]"""
    d_ml = dh_tx + dh_rx
    theta_los = -max(theta_tx + theta_rx, -d_ml / a_e)
    scale = _cbrt(a_e * a_e) / kc[K_F_CBRT]
    d3 = max(d_sml, d_ml + 5.0 * scale)
    d4 = d3 + 10.0 * scale
    # the diffraction line's distance-free terms: both terminals, A_fo, the weight's square root
    x_a, f_a = _terminal(dh_tx, he_tx, kc)
    x_b, f_b = _terminal(dh_rx, he_rx, kc)
    sigma_h = _sigma_h_m(delta_h * (1.0 - 0.8 * math.exp(-d_sml / 50e3)))
    a_fo = min(15.0, 5.0 * _INV_LN10 * math.log(1.0 + 1e-5 * h_tx * h_rx * kc[K_F] * sigma_h))
    term = math.sqrt(1.0 + (he_tx * he_rx - h_tx * h_rx) / (h_tx * h_rx + 10.0))
    a3 = _diffraction_at(d3, kc, a_e, theta_los, dh_tx, dh_rx, x_a + x_b, f_a + f_b, term, a_fo, delta_h)
    a4 = _diffraction_at(d4, kc, a_e, theta_los, dh_tx, dh_rx, x_a + x_b, f_a + f_b, term, a_fo, delta_h)
    m_d = (a4 - a3) / (d4 - d3)
    a_d0 = a3 - m_d * d3
    # line of sight, [ERL 79-ITS 67 eqs. (3.16)-(3.21)], as longley_rice
    a_sml = d_sml * m_d + a_d0
    d0 = 0.04 * kc[K_F] * he_tx * he_rx
    if a_d0 >= 0.0:
        d0 = min(d0, 0.5 * d_ml)
        d1 = d0 + 0.25 * (d_ml - d0)
    else:
        d1 = max(-a_d0 / m_d, 0.25 * d_ml)
    a1 = _los_db(d1, he_tx, he_rx, kc, delta_h, m_d, a_d0, d_sml)
    use_two = False
    k1 = 0.0
    k2 = 0.0
    if d0 < d1:
        a0 = _los_db(d0, he_tx, he_rx, kc, delta_h, m_d, a_d0, d_sml)
        q = math.log(d_sml / d0)
        k2 = max(0.0, ((d_sml - d0) * (a1 - a0) - (d1 - d0) * (a_sml - a0))
                 / ((d_sml - d0) * math.log(d1 / d0) - (d1 - d0) * q))  # fmt: skip
        use_two = a_d0 > 0.0 or k2 > 0.0
        if use_two:
            k1 = (a_sml - a0 - k2 * q) / (d_sml - d0)
            if k1 < 0.0:
                k1 = 0.0
                k2 = max(a_sml - a0, 0.0) / q
                if k2 == 0.0:
                    k1 = m_d
    if not use_two:
        k1 = max(a_sml - a1, 0.0) / (d_sml - d1)
        k2 = 0.0
        if k1 == 0.0:
            k1 = m_d
    # a_ref = a_o + k1 d + k2 ln d with a_o = a_sml - k1 d_sml - k2 ln d_sml
    return max(a_sml + k1 * (d_m - d_sml) + k2 * math.log(d_m / d_sml), 0.0)


@jit_inline
def _curve(kc, slot, d_e):
    """[Algorithm eq. (5.5)] with the five constants at kc[slot:slot + 5]."""
    r = d_e / kc[slot + 2]
    r *= r
    u = (d_e - kc[slot + 3]) / kc[slot + 4]
    return (kc[slot] + kc[slot + 1] / (1.0 + u * u)) * r / (1.0 + r)


@jit_inline
def variability_db(kc, he_tx, he_rx, delta_h, d_m, a_ref):
    """:func:`propagation._itm_core.variability_db`'s attenuation, the sweep's constants hoisted. [dB]"""
    wn = kc[K_WN]
    d_ex = math.sqrt(2.0 * _c.A9000_M * he_tx) + math.sqrt(2.0 * _c.A9000_M * he_rx) + kc[K_D_EX_F]
    d_e = 130e3 * d_m / d_ex if d_m < d_ex else 130e3 + d_m - d_ex
    mode = kc[K_MODE]
    z_t = kc[K_ZT]
    z_l = kc[K_ZL]
    z_s = kc[K_ZS]
    sigma_s = 0.0 if kc[K_NO_SIT] != 0.0 else 5.0 + 3.0 * math.exp(-d_e / 100e3)
    v_med = _curve(kc, K_V_MED, d_e)
    if kc[K_NO_LOC] != 0.0:
        sigma_l = 0.0
    else:
        dh_d = delta_h * (1.0 - 0.8 * math.exp(-d_m / 50e3))
        sigma_l = 10.0 * wn * dh_d / (wn * dh_d + 13.0)
    y_l = sigma_l * z_l
    s_plus = _curve(kc, K_S_PLUS, d_e) * kc[K_G_PLUS]
    if z_t < 0.0:
        sigma_t = _curve(kc, K_S_MINUS, d_e) * kc[K_G_MINUS]
    elif z_t <= kc[K_Z_D]:
        sigma_t = s_plus
    else:
        s_td = kc[K_C_D] * s_plus
        sigma_t = s_td + (s_plus - s_td) * kc[K_Z_D] / z_t
    y_t = sigma_t * z_t
    y_s_sq = sigma_s * sigma_s + y_t * y_t / (7.8 + z_s * z_s) + y_l * y_l / (24.0 + z_s * z_s)
    if mode == 0.0:
        y_r = 0.0
        y_s = math.sqrt(sigma_t * sigma_t + sigma_l * sigma_l + y_s_sq) * z_s
    elif mode == 1.0:
        y_r = y_t
        y_s = math.sqrt(sigma_l * sigma_l + y_s_sq) * z_s
    elif mode == 2.0:
        y_r = math.sqrt(sigma_t * sigma_t + sigma_l * sigma_l) * z_t
        y_s = math.sqrt(y_s_sq) * z_s
    else:
        y_r = y_t + y_l
        y_s = math.sqrt(y_s_sq) * z_s
    out = a_ref - v_med - y_r - y_s
    if out < 0.0:
        out = out * (29.0 - out) / (29.0 - 10.0 * out)
    return out
