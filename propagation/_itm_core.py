r"""Longley-Rice ITM: the reference attenuation and the variability (numba kernels).

Private kernels shared by :mod:`propagation.itm` (point to point) and the raster engine's ``--terrain itm``
sweep.  They start from the quantities the profile analysis gives (horizon distances and angles, effective
heights, terrain irregularity delta_h, surface refractivity, ground impedance) and follow

* G. A. Hufford, "The ITS Irregular Terrain Model, version 1.2.2, the Algorithm" (NTIA/ITS, 1995), sections
  3-6 ("[Algorithm]" below), with equation numbers as cited by
* NTIA/ITS's reference implementation, github.com/NTIA/itm v1.4 (2024), whose documented behaviour
  (``LongleyRice``, ``DiffractionLoss``, ``LineOfSightLoss``, ``TroposcatterLoss``, ``Variability``)
  these kernels reproduce, including its constants and the ``MODE__P2P`` clutter constant C = 10;
* A. G. Longley, P. L. Rice, "Prediction of tropospheric radio transmission loss over irregular terrain"
  (ESSA Tech. Rep. ERL 79-ITS 67, 1968) and NBS Tech. Note 101 ("[TN101]") for the underlying equations.

Units: metres, MHz, radians, dB.  Kernels never validate (the public function does) and never allocate.
Warning flags are the reference model's bit values (:data:`propagation.itm.WARNING_FLAGS`).
"""

from __future__ import annotations

import cmath
import math

from propagation._jit import jit

#: Curvature-free reference radii of [Algorithm]: a_0 (4/3 earth) and a_9000 (variability). [m]
A0_M = 6370e3
A9000_M = 9000e3
#: Actual earth curvature gamma_a ~ 1 / 6370 km. [1/m]
GAMMA_A = 157e-9

MODE_LOS, MODE_DIFFRACTION, MODE_TROPOSCATTER = 1, 2, 3

# Warning bits of the reference implementation (include/Warnings.h).
W_TX_HEIGHT, W_RX_HEIGHT, W_FREQUENCY = 0x0001, 0x0002, 0x0004
W_DIST_BIG_1, W_DIST_BIG_2, W_DIST_SMALL_1, W_DIST_SMALL_2 = 0x0008, 0x0010, 0x0020, 0x0040
W_TX_HZN_ANGLE, W_RX_HZN_ANGLE = 0x0080, 0x0100
W_TX_HZN_DIST_1, W_RX_HZN_DIST_1, W_TX_HZN_DIST_2, W_RX_HZN_DIST_2 = 0x0200, 0x0400, 0x0800, 0x1000
W_EXTREME_VAR, W_SURFACE_N = 0x2000, 0x4000

# Error codes computed inside the model (include/Errors.h).
E_OK, E_NS_SMALL, E_NS_LARGE, E_EFFECTIVE_EARTH, E_GROUND_IMPEDANCE = 0, 1021, 1022, 1016, 1013


@jit
def terrain_roughness_m(d_m, delta_h_m):
    """delta_h(d) = delta_h (1 - 0.8 exp(-d / 50 km)), [ERL 79-ITS 67, eq. (3)]."""
    return delta_h_m * (1.0 - 0.8 * math.exp(-d_m / 50e3))


@jit
def _sigma_h_m(delta_h_m):
    """RMS terrain deviation within the first Fresnel zone, [ERL 79-ITS 67, eq. (3.6a)]."""
    return 0.78 * delta_h_m * math.exp(-0.5 * delta_h_m**0.25)


@jit
def _fresnel_db(v2):
    """Knife-edge attenuation as a function of v^2, [TN101 eqs. III.24b, c]."""
    if v2 < 5.76:
        return 6.02 + 9.11 * math.sqrt(v2) - 1.27 * v2
    return 12.953 + 10.0 * math.log10(v2)


@jit
def _knife_edge_db(d_m, f_mhz, a_e_m, theta_los, d_hzn_tx_m, d_hzn_rx_m):
    """Double knife-edge attenuation A_k, [Algorithm eqs. (4.12)-(4.15)], [TN101 eq. I.7]."""
    theta_nlos = d_m / a_e_m - theta_los
    d_nlos_m = d_m - d_hzn_tx_m - d_hzn_rx_m
    c = 0.0795775 * (f_mhz / 47.7) * theta_nlos * theta_nlos * d_nlos_m  # 1/(4 pi) k theta^2 d_nlos
    return _fresnel_db(c * d_hzn_tx_m / (d_nlos_m + d_hzn_tx_m)) + _fresnel_db(c * d_hzn_rx_m / (d_nlos_m + d_hzn_rx_m))


@jit
def _height_gain_db(x_km, k):
    """Vogler's height-gain function F(x, K), [Algorithm eq. (4.20)] / [TN101 eq. 8.5]."""
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


@jit
def _diffraction_line(d3_m, d4_m, f_mhz, a_e_m, theta_los, d_hzn_tx_m, d_hzn_rx_m, h_e_tx_m, h_e_rx_m, z_abs,
                      delta_h_m, h_tx_m, h_rx_m, d_sml_m):  # fmt: skip
    """Diffraction attenuation A_d at two distances, [Algorithm eqs. (4.10)-(4.21)]: A_d = w A_r + (1 - w) A_k + A_fo
    with Vogler's three-radius smooth earth A_r ([Vogler 1964], [Algorithm eqs. (4.16)-(4.20)]), the double knife
    edge A_k and the clutter factor A_fo ([ERL 79-ITS 67 eqs. (3.23), (3.38c)], point-to-point constant C = 10).

    The terminal terms (the radii d_L^2 / (2 h_e), their height gains, A_fo and the weight's square root) do not
    depend on the distance and are computed once for both.  Returns (A_d(d3), A_d(d4)). [dB]
    """
    f_cbrt = f_mhz ** (1.0 / 3.0)
    # terminal radii, [Vogler 1964 eq. 3] rearranged, and their height-gain functions
    x_t = 0.0
    f_sum = 0.0
    for i in range(2):
        dl = d_hzn_tx_m if i == 0 else d_hzn_rx_m
        a = 0.5 * dl * dl / (h_e_tx_m if i == 0 else h_e_rx_m)
        c0 = ((4.0 / 3.0) * A0_M / a) ** (1.0 / 3.0)  # [Vogler 1964, eq. 2]
        k = 0.017778 * c0 / (f_cbrt * z_abs)  # [Vogler 1964, eqs. 6a / 7a]
        x = (1.607 - k) * c0 * c0 * f_cbrt * dl * 1e-3
        x_t += x
        f_sum += _height_gain_db(x, k)
    sigma_h = _sigma_h_m(terrain_roughness_m(d_sml_m, delta_h_m))
    a_fo = min(15.0, 5.0 * math.log10(1.0 + 1e-5 * h_tx_m * h_rx_m * f_mhz * sigma_h))
    q = h_tx_m * h_rx_m + 10.0
    term = math.sqrt(1.0 + (h_e_tx_m * h_e_rx_m - h_tx_m * h_rx_m) / q)
    d_ml = d_hzn_tx_m + d_hzn_rx_m
    out3 = 0.0
    out4 = 0.0
    for j in range(2):
        d_m = d3_m if j == 0 else d4_m
        theta_nlos = d_m / a_e_m - theta_los
        a0 = (d_m - d_ml) / theta_nlos
        c0 = ((4.0 / 3.0) * A0_M / a0) ** (1.0 / 3.0)
        k = 0.017778 * c0 / (f_cbrt * z_abs)
        x0 = (1.607 - k) * c0 * c0 * f_cbrt * a0 * theta_nlos * 1e-3 + x_t
        a_r = 0.05751 * x0 - 10.0 * math.log10(x0) - f_sum - 20.0
        a_k = _knife_edge_db(d_m, f_mhz, a_e_m, theta_los, d_hzn_tx_m, d_hzn_rx_m)
        qq = (term + (-theta_los * a_e_m + d_ml) / d_m) * min(terrain_roughness_m(d_m, delta_h_m) * f_mhz / 47.7, 6283.2)
        w = 25.1 / (25.1 + math.sqrt(qq))
        a_d = w * a_r + (1.0 - w) * a_k + a_fo
        if j == 0:
            out3 = a_d
        else:
            out4 = a_d
    return out3, out4


@jit
def _los_db(d_m, h_e_tx_m, h_e_rx_m, z_g, delta_h_m, m_d, a_d0, d_sml_m, f_mhz):
    """Line-of-sight attenuation: two-ray with a rough-earth reflection, blended with the extended
    diffraction line, [Algorithm eqs. (4.43)-(4.50)]."""
    sigma_h = _sigma_h_m(terrain_roughness_m(d_m, delta_h_m))
    wn = f_mhz / 47.7
    h_sum = h_e_tx_m + h_e_rx_m
    sin_psi = h_sum / math.sqrt(d_m * d_m + h_sum * h_sum)
    r_e = (sin_psi - z_g) / (sin_psi + z_g) * math.exp(-min(10.0, wn * sigma_h * sin_psi))
    q = r_e.real * r_e.real + r_e.imag * r_e.imag
    if q < 0.25 or q < sin_psi:
        r_e = r_e * math.sqrt(sin_psi / q)
    delta_phi = wn * 2.0 * h_e_tx_m * h_e_rx_m / d_m
    if delta_phi > 0.5 * math.pi:
        delta_phi = math.pi - 0.25 * math.pi * math.pi / delta_phi
    re = math.cos(delta_phi) + r_e.real
    im = -math.sin(delta_phi) + r_e.imag
    a_t = -10.0 * math.log10(re * re + im * im)
    a_d = m_d * d_m + a_d0
    w = 1.0 / (1.0 + f_mhz * delta_h_m / max(10e3, d_sml_m))
    return w * a_t + (1.0 - w) * a_d


@jit
def _h0_curve(j, r):
    """One of the five H_0(r) curves, [Algorithm eq. (6.13)]."""
    if j == 0:
        a, b = 25.0, 24.0
    elif j == 1:
        a, b = 80.0, 45.0
    elif j == 2:
        a, b = 177.0, 68.0
    elif j == 3:
        a, b = 395.0, 80.0
    else:
        a, b = 705.0, 105.0
    u = 1.0 / (r * r)
    return 10.0 * math.log10(1.0 + a * u * u + b * u)


@jit
def _h0_db(r, eta_s):
    """Frequency-gain function H_0(r, eta_s), interpolated between integer eta_s, [Algorithm eq. (6.12)]."""
    eta = min(max(eta_s, 1.0), 5.0)
    i = int(eta)
    q = eta - i
    out = _h0_curve(i - 1, r)
    if q != 0.0:
        out = (1.0 - q) * out + q * _h0_curve(i, r)
    return out


@jit
def _f_theta_d_db(td):
    """The attenuation function F(theta d), [Algorithm eq. (6.9)]."""
    if td <= 10e3:
        return 133.4 + 0.332e-3 * td - 10.0 * math.log10(td)
    if td <= 70e3:
        return 104.6 + 0.212e-3 * td - 2.5 * math.log10(td)
    return 71.8 + 0.157e-3 * td + 5.0 * math.log10(td)


@jit
def _tropo_db(d_m, theta_tx, theta_rx, d_hzn_tx_m, d_hzn_rx_m, h_e_tx_m, h_e_rx_m, a_e_m, n_s, f_mhz, theta_los,
              h0_prev):  # fmt: skip
    """Troposcatter attenuation A_scat and the H_0 used, [Algorithm eqs. (4.61)-(4.67)], [TN101 eqs. 9.3-9.5].

    ``h0_prev`` < 0 on the first call (at d_6); the second call (d_5) reuses the first H_0 where its own
    would exceed 15 dB.  Returns (1001, h0_prev) where A_scat is undefined (r_1, r_2 < 0.2).
    """
    wn = f_mhz / 47.7
    if h0_prev > 15.0:
        h_0 = h0_prev
    else:
        ad = d_hzn_tx_m - d_hzn_rx_m
        rr = h_e_rx_m / h_e_tx_m
        if ad < 0.0:
            ad = -ad
            rr = 1.0 / rr
        theta = theta_tx + theta_rx + d_m / a_e_m
        r1 = 2.0 * wn * theta * h_e_tx_m
        r2 = 2.0 * wn * theta * h_e_rx_m
        if r1 < 0.2 and r2 < 0.2:
            return 1001.0, h0_prev
        s = (d_m - ad) / (d_m + ad)
        q = min(max(0.1, rr / s), 10.0)
        s = max(0.1, s)
        h0_m = (d_m - ad) * (d_m + ad) * theta * 0.25 / d_m
        eta_s = (h0_m / 1.7556e3) * (1.0 + (0.031 - n_s * 2.32e-3 + n_s * n_s * 5.67e-6)
                                     * math.exp(-min(1.7, h0_m / 8.0e3) ** 6))  # fmt: skip
        h_00 = 0.5 * (_h0_db(r1, eta_s) + _h0_db(r2, eta_s))
        dh0 = min(h_00, 6.0 * (0.6 - math.log10(max(eta_s, 1.0))) * math.log10(s) * math.log10(q))
        h_0 = max(h_00 + dh0, 0.0)
        if eta_s < 1.0:
            sq2 = math.sqrt(2.0)
            g = (1.0 + sq2 / r1) * (1.0 + sq2 / r2)
            h_0 = eta_s * h_0 + (1.0 - eta_s) * 10.0 * math.log10(g * g * (r1 + r2) / (r1 + r2 + 2.0 * sq2))
        if h_0 > 15.0 and h0_prev >= 0.0:
            h_0 = h0_prev
    th = d_m / a_e_m - theta_los
    a = (_f_theta_d_db(th * d_m) + 10.0 * math.log10(wn * 47.7 * th**4)
         - 0.1 * (n_s - 301.0) * math.exp(-th * d_m / 40e3) + h_0)  # fmt: skip
    return a, h_0


@jit
def longley_rice(theta_tx, theta_rx, f_mhz, z_g, d_hzn_tx_m, d_hzn_rx_m, h_e_tx_m, h_e_rx_m, gamma_e, n_s,
                 delta_h_m, h_tx_m, h_rx_m, d_m):  # fmt: skip
    """Reference attenuation A_ref relative to free space, [Algorithm sections 4.1-4.4] (point to point).

    Returns (a_ref_db, mode, warning_bits, error_code); a_ref_db >= 0.
    """
    a_e = 1.0 / gamma_e
    d_hs_tx = math.sqrt(2.0 * h_e_tx_m * a_e)
    d_hs_rx = math.sqrt(2.0 * h_e_rx_m * a_e)
    d_sml = d_hs_tx + d_hs_rx
    d_ml = d_hzn_tx_m + d_hzn_rx_m
    theta_los = -max(theta_tx + theta_rx, -d_ml / a_e)
    warn = 0
    if abs(theta_tx) > 200e-3:
        warn |= W_TX_HZN_ANGLE
    if abs(theta_rx) > 200e-3:
        warn |= W_RX_HZN_ANGLE
    if d_hzn_tx_m < 0.1 * d_hs_tx:
        warn |= W_TX_HZN_DIST_1
    if d_hzn_rx_m < 0.1 * d_hs_rx:
        warn |= W_RX_HZN_DIST_1
    if d_hzn_tx_m > 3.0 * d_hs_tx:
        warn |= W_TX_HZN_DIST_2
    if d_hzn_rx_m > 3.0 * d_hs_rx:
        warn |= W_RX_HZN_DIST_2
    if n_s < 150.0:
        return 0.0, 0, warn, E_NS_SMALL
    if n_s > 400.0:
        return 0.0, 0, warn, E_NS_LARGE
    if n_s < 250.0:
        warn |= W_SURFACE_N
    if a_e < 4000000.0 or a_e > 13333333.0:
        return 0.0, 0, warn, E_EFFECTIVE_EARTH
    if z_g.real <= abs(z_g.imag):
        return 0.0, 0, warn, E_GROUND_IMPEDANCE
    z_abs = abs(z_g)
    scale = (a_e * a_e / f_mhz) ** (1.0 / 3.0)
    # the diffraction line through two points far in the diffraction region, [Algorithm eqs. (4.2)-(4.4)]
    d3 = max(d_sml, d_ml + 5.0 * scale)
    d4 = d3 + 10.0 * scale
    a3, a4 = _diffraction_line(d3, d4, f_mhz, a_e, theta_los, d_hzn_tx_m, d_hzn_rx_m, h_e_tx_m, h_e_rx_m, z_abs,
                               delta_h_m, h_tx_m, h_rx_m, d_sml)  # fmt: skip
    m_d = (a4 - a3) / (d4 - d3)
    a_d0 = a3 - m_d * d3
    if d_m < abs(h_e_tx_m - h_e_rx_m) / 200e-3:
        warn |= W_DIST_SMALL_1
    if d_m < 1e3:
        warn |= W_DIST_SMALL_2
    if d_m > 1000e3:
        warn |= W_DIST_BIG_1
    if d_m > 2000e3:
        warn |= W_DIST_BIG_2
    if d_m < d_sml:
        # line of sight, [Algorithm section 4.3], [ERL 79-ITS 67 eqs. (3.16)-(3.21)]
        a_sml = d_sml * m_d + a_d0
        d0 = 0.04 * f_mhz * h_e_tx_m * h_e_rx_m
        if a_d0 >= 0.0:
            d0 = min(d0, 0.5 * d_ml)
            d1 = d0 + 0.25 * (d_ml - d0)
        else:
            d1 = max(-a_d0 / m_d, 0.25 * d_ml)
        a1 = _los_db(d1, h_e_tx_m, h_e_rx_m, z_g, delta_h_m, m_d, a_d0, d_sml, f_mhz)
        use_two = False
        k1 = 0.0
        k2 = 0.0
        if d0 < d1:
            a0 = _los_db(d0, h_e_tx_m, h_e_rx_m, z_g, delta_h_m, m_d, a_d0, d_sml, f_mhz)
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
        a_o = a_sml - k1 * d_sml - k2 * math.log(d_sml)
        a_ref = a_o + k1 * d_m + k2 * math.log(d_m)
        mode = MODE_LOS
    else:
        # beyond the horizon: diffraction or troposcatter, [Algorithm section 4.4]
        d5 = d_ml + 200e3
        d6 = d_ml + 400e3
        a6, h0 = _tropo_db(d6, theta_tx, theta_rx, d_hzn_tx_m, d_hzn_rx_m, h_e_tx_m, h_e_rx_m, a_e, n_s, f_mhz,
                           theta_los, -1.0)  # fmt: skip
        a5, h0 = _tropo_db(d5, theta_tx, theta_rx, d_hzn_tx_m, d_hzn_rx_m, h_e_tx_m, h_e_rx_m, a_e, n_s, f_mhz,
                           theta_los, h0)  # fmt: skip
        if a5 < 1000.0:
            m_s = (a6 - a5) / 200e3
            d_x = max(max(d_sml, d_ml + 1.088 * scale * math.log(f_mhz)), (a5 - a_d0 - m_s * d5) / (m_d - m_s))
            a_s0 = (m_d - m_s) * d_x + a_d0
        else:
            m_s = m_d
            a_s0 = a_d0
            d_x = 10e6
        if d_m > d_x:
            a_ref = m_s * d_m + a_s0
            mode = MODE_TROPOSCATTER
        else:
            a_ref = m_d * d_m + a_d0
            mode = MODE_DIFFRACTION
    return max(a_ref, 0.0), mode, warn, E_OK


@jit
def icdf(q):
    """Inverse complementary normal distribution Q^-1(q), Abramowitz & Stegun 26.2.23 ([Algorithm eq. (6.2)])."""
    x = 1.0 - q if q > 0.5 else q
    t = math.sqrt(-2.0 * math.log(x))
    zeta = ((0.010328 * t + 0.802853) * t + 2.515516) / (((0.001308 * t + 0.189269) * t + 1.432788) * t + 1.0)
    out = t - zeta
    return -out if q > 0.5 else out


@jit
def _curve(c1, c2, x1, x2, x3, d_e):
    """The climate curve form of [Algorithm eq. (5.5)] / [TN101v2 eqs. III.69, III.70]."""
    r = (d_e / x1) ** 2
    return (c1 + c2 / (1.0 + ((d_e - x2) / x3) ** 2)) * r / (1.0 + r)


# Climate constants, [Algorithm Table 5.1] / [TN101 Fig. 10.13] (columns: climates 1..7).
_V_MED = (
    (-9.67, -0.62, 1.26, -9.21, -0.62, -0.39, 3.15),
    (12.7, 9.19, 15.5, 9.05, 9.19, 2.86, 857.9),
    (144.9e3, 228.9e3, 262.6e3, 84.1e3, 228.9e3, 141.7e3, 2222.0e3),
    (190.3e3, 205.2e3, 185.2e3, 101.1e3, 205.2e3, 315.9e3, 164.8e3),
    (133.8e3, 143.6e3, 99.8e3, 98.6e3, 143.6e3, 167.4e3, 116.3e3),
)
_SIG_MINUS = (
    (2.13, 2.66, 6.11, 1.98, 2.68, 6.86, 8.51),
    (159.5, 7.67, 6.65, 13.11, 7.16, 10.38, 169.8),
    (762.2e3, 100.4e3, 138.2e3, 139.1e3, 93.7e3, 187.8e3, 609.8e3),
    (123.6e3, 172.5e3, 242.2e3, 132.7e3, 186.8e3, 169.6e3, 119.9e3),
    (94.5e3, 136.4e3, 178.6e3, 193.5e3, 133.5e3, 108.9e3, 106.6e3),
)
_SIG_PLUS = (
    (2.11, 6.87, 10.08, 3.68, 4.75, 8.58, 8.43),
    (102.3, 15.53, 9.60, 159.3, 8.12, 13.97, 8.19),
    (636.9e3, 138.7e3, 165.3e3, 464.4e3, 93.2e3, 216.0e3, 136.2e3),
    (134.8e3, 143.7e3, 225.7e3, 93.1e3, 135.9e3, 152.0e3, 188.5e3),
    (95.6e3, 98.6e3, 129.7e3, 94.2e3, 113.4e3, 122.7e3, 122.9e3),
)
_C_D = (1.224, 0.801, 1.380, 1.000, 1.224, 1.518, 1.518)
_Z_D = (1.282, 2.161, 1.282, 20.0, 1.282, 1.282, 1.282)
_F_MINUS = ((1.0, 1.0, 1.0, 1.0, 0.92, 1.0, 1.0), (0.0, 0.0, 0.0, 0.0, 0.25, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0, 1.77, 0.0, 0.0))
_F_PLUS = ((1.0, 0.93, 1.0, 0.93, 0.93, 1.0, 1.0), (0.0, 0.31, 0.0, 0.19, 0.31, 0.0, 0.0), (0.0, 2.00, 0.0, 1.79, 2.00, 0.0, 0.0))


@jit
def variability_db(z_t, z_l, z_s, h_e_tx_m, h_e_rx_m, delta_h_m, f_mhz, d_m, a_ref_db, climate, mdvar):
    """Attenuation relative to free space at the requested quantiles, [Algorithm section 5] (eqs. (5.1)-(5.11)).

    ``z_t``, ``z_l``, ``z_s``: standard normal deviates Q^-1 of the time, location and situation fractions.
    ``climate`` 1..7; ``mdvar`` 0-3 (+10: no location variability, +20: no situation variability).
    Returns (attenuation_db, warning_bits).
    """
    c = climate - 1
    wn = f_mhz / 47.7
    d_ex = math.sqrt(2.0 * A9000_M * h_e_tx_m) + math.sqrt(2.0 * A9000_M * h_e_rx_m) + (575.7e12 / wn) ** (1.0 / 3.0)
    d_e = 130e3 * d_m / d_ex if d_m < d_ex else 130e3 + d_m - d_ex
    mode = mdvar
    no_situation = mode >= 20
    if no_situation:
        mode -= 20
    sigma_s = 0.0 if no_situation else 5.0 + 3.0 * math.exp(-d_e / 100e3)
    no_location = mode >= 10
    if no_location:
        mode -= 10
    v_med = _curve(_V_MED[0][c], _V_MED[1][c], _V_MED[2][c], _V_MED[3][c], _V_MED[4][c], d_e)
    if mode == 0:  # single message
        z_t = z_s
        z_l = z_s
    elif mode == 1:  # accidental
        z_l = z_s
    elif mode == 2:  # mobile
        z_l = z_t
    warn = W_EXTREME_VAR if (abs(z_t) > 3.10 or abs(z_l) > 3.10 or abs(z_s) > 3.10) else 0
    if no_location:
        sigma_l = 0.0
    else:
        dh_d = terrain_roughness_m(d_m, delta_h_m)
        sigma_l = 10.0 * wn * dh_d / (wn * dh_d + 13.0)
    y_l = sigma_l * z_l
    q = math.log(0.133 * wn)
    g_minus = _F_MINUS[0][c] + _F_MINUS[1][c] / ((_F_MINUS[2][c] * q) ** 2 + 1.0)
    g_plus = _F_PLUS[0][c] + _F_PLUS[1][c] / ((_F_PLUS[2][c] * q) ** 2 + 1.0)
    s_minus = _curve(_SIG_MINUS[0][c], _SIG_MINUS[1][c], _SIG_MINUS[2][c], _SIG_MINUS[3][c], _SIG_MINUS[4][c], d_e) * g_minus
    s_plus = _curve(_SIG_PLUS[0][c], _SIG_PLUS[1][c], _SIG_PLUS[2][c], _SIG_PLUS[3][c], _SIG_PLUS[4][c], d_e) * g_plus
    s_td = _C_D[c] * s_plus
    tgtd = (s_plus - s_td) * _Z_D[c]
    if z_t < 0.0:
        sigma_t = s_minus
    elif z_t <= _Z_D[c]:
        sigma_t = s_plus
    else:
        sigma_t = s_td + tgtd / z_t
    y_t = sigma_t * z_t
    y_s_sq = sigma_s * sigma_s + y_t * y_t / (7.8 + z_s * z_s) + y_l * y_l / (24.0 + z_s * z_s)
    if mode == 0:
        y_r = 0.0
        y_s = math.sqrt(sigma_t * sigma_t + sigma_l * sigma_l + y_s_sq) * z_s
    elif mode == 1:
        y_r = y_t
        y_s = math.sqrt(sigma_l * sigma_l + y_s_sq) * z_s
    elif mode == 2:
        y_r = math.sqrt(sigma_t * sigma_t + sigma_l * sigma_l) * z_t
        y_s = math.sqrt(y_s_sq) * z_s
    else:
        y_r = y_t + y_l
        y_s = math.sqrt(y_s_sq) * z_s
    out = a_ref_db - v_med - y_r - y_s
    if out < 0.0:  # [Algorithm eq. (5.2)]: soften a gain over free space
        out = out * (29.0 - out) / (29.0 - 10.0 * out)
    return out, warn


@jit
def surface_and_earth(f_mhz, h_sys_m, n0, pol_id, eps_r, sigma_s_per_m):
    """Surface refractivity N_s, effective earth curvature gamma_e and ground impedance Z_g,
    [Algorithm eqs. (4.3), (4.4), (4.5)] / [TN101 eqs. 4.3, 4.4].  pol_id 0 horizontal, 1 vertical."""
    n_s = n0 if h_sys_m == 0.0 else n0 * math.exp(-h_sys_m / 9460.0)
    gamma_e = GAMMA_A * (1.0 - 0.04665 * math.exp(n_s / 179.3))
    ep = complex(eps_r, 18000.0 * sigma_s_per_m / f_mhz)
    z_g = cmath.sqrt(ep - 1.0)
    if pol_id == 1:
        z_g = z_g / ep
    return n_s, gamma_e, z_g


@jit
def free_space_db(d_m, f_mhz):
    """ITM's free-space loss 32.45 + 20 log f + 20 log d_km. [dB]"""
    return 32.45 + 20.0 * math.log10(f_mhz) + 20.0 * math.log10(d_m * 1e-3)
