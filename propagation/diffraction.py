r"""Terrain diffraction: the delta-Bullington method (knife-edge J(v): :mod:`propagation.knife_edge`).

Public functions validate their arguments and call small numba kernels kept
next to them; the raster engine reuses the kernels directly (radial sweeps).

* :func:`delta_bullington_loss_db` -- ITU-R P.526-15 section 4.5, in the form
  written out step by step in ITU-R P.1812-6 sections 4.3.1 to 4.3.4 (and
  P.452-17 section 4.2): Bullington over the real profile, corrected by the
  spherical-earth diffraction of the least-squares smooth surface.

Kernel conventions (for the raster engine)
------------------------------------------
All kernels take float64 scalars/1-D arrays, never validate and never mutate
their inputs.  ``dist_km`` starts at 0 at the transmitter and increases;
``height_m`` is terrain above sea level; ``pol_id`` is 0 (horizontal) or 1
(vertical); ``omega`` is the fraction of the path over sea, 0..1; ``ae_km`` is
the effective earth radius, 6371 k.
"""

from __future__ import annotations

import math

import numpy as np

from propagation._jit import jit
from propagation import _fastmath as _fm
from propagation._validity import as_float, check_range, choice, result
from propagation.knife_edge import _knife_edge_j

__all__ = ["delta_bullington_loss_db", "POLARIZATIONS"]

#: Polarisation names accepted by :func:`delta_bullington_loss_db` -> kernel id.
POLARIZATIONS = {"horizontal": 0, "vertical": 1}

#: Mean earth radius used for the effective earth radius a_e = 6371 k. [km]
EARTH_RADIUS_KM = 6371.0

# Ground electrical constants of P.1812-6 section 4.3.3 / P.452-17 section 4.2.2.1.
_LAND_EPS_R, _LAND_SIGMA_S_PER_M = 22.0, 0.003
_SEA_EPS_R, _SEA_SIGMA_S_PER_M = 80.0, 5.0

# Speed of light as used by P.1812-6 / P.452-17 for the wavelength: lambda = 0.2998 / f_GHz. [m GHz]
_C_M_GHZ = 0.2998


# ----------------------------------------------------------------------------
# Bullington (P.1812-6 section 4.3.1, P.452-17 section 4.2.1)
# ----------------------------------------------------------------------------
@jit
def _bullington_scaled(dist_km, height_m, h_ts_m, h_rs_m, freq_mhz, ae_km, height_scale):
    """Bullington loss with terrain heights multiplied by ``height_scale`` (1 or 0)."""
    n = dist_km.size
    d_tot = dist_km[n - 1]
    ce = 1.0 / ae_km
    lam_m = _C_M_GHZ / (freq_mhz * 1e-3)
    # Highest slope from the transmitter to an intermediate point, eq. (13)/(14) [m/km].
    s_tim = -np.inf
    for i in range(1, n - 1):
        di = dist_km[i]
        s = (height_scale * height_m[i] + 500.0 * ce * di * (d_tot - di) - h_ts_m) / di
        if s > s_tim:
            s_tim = s
    s_tr = (h_rs_m - h_ts_m) / d_tot  # slope of the direct ray, eq. (15)
    los = s_tim < s_tr
    if not los:
        # Trans-horizon: highest slope from the receiver, eq. (17), bullington point, eq. (18).
        s_rim = -np.inf
        for i in range(1, n - 1):
            di = dist_km[i]
            s = (height_scale * height_m[i] + 500.0 * ce * di * (d_tot - di) - h_rs_m) / (d_tot - di)
            if s > s_rim:
                s_rim = s
        if s_tim + s_rim <= 0.0:  # grazing with a degenerate apex: use the LOS form (v = 0)
            los = True
    if los:
        # Eq. (16): highest diffraction parameter over the intermediate points.
        v_max = -np.inf
        for i in range(1, n - 1):
            di = dist_km[i]
            clearance = (
                height_scale * height_m[i]
                + 500.0 * ce * di * (d_tot - di)
                - (h_ts_m * (d_tot - di) + h_rs_m * di) / d_tot
            )
            v = clearance * math.sqrt(0.002 * d_tot / (lam_m * di * (d_tot - di)))
            if v > v_max:
                v_max = v
        l_uc = _knife_edge_j(v_max)
    else:
        d_bp = (h_rs_m - h_ts_m + s_rim * d_tot) / (s_tim + s_rim)  # eq. (18)
        v_b = (h_ts_m + s_tim * d_bp - (h_ts_m * (d_tot - d_bp) + h_rs_m * d_bp) / d_tot) * math.sqrt(
            0.002 * d_tot / (lam_m * d_bp * (d_tot - d_bp))
        )  # eq. (19)
        l_uc = _knife_edge_j(v_b)
    # Eq. (21): Bullington loss including the empirical correction for distance.
    return l_uc + (1.0 - _fm.exp(-l_uc / 6.0)) * (10.0 + 0.02 * d_tot)


@jit
def _bullington_db(dist_km, height_m, h_ts_m, h_rs_m, freq_mhz, ae_km):
    """Bullington diffraction loss over a profile, P.1812-6 eqs. (13)-(21). [dB]

    ``h_ts_m``/``h_rs_m`` are the antenna heights ABOVE SEA LEVEL.
    """
    return _bullington_scaled(dist_km, height_m, h_ts_m, h_rs_m, freq_mhz, ae_km, 1.0)


# ----------------------------------------------------------------------------
# Smooth-earth surface (P.1812-6 Attachment 1 sections 5.6.1 and 5.6.2)
# ----------------------------------------------------------------------------
@jit
def _smooth_earth_heights(dist_km, height_m, h_ts_m, h_rs_m):
    """Smooth-surface heights (h_std, h_srd) at the two ends for the diffraction model. [m amsl]

    Least-squares straight line through the profile, eqs. (85)-(88) of
    P.1812-6 Attachment 1 section 5.6.1 (the same as P.452-17 Attachment 2
    section 5.1.6.2), corrected for the highest obstruction and limited to
    the terminal ground heights, section 5.6.2 eqs. (89)-(90).
    ``h_ts_m``/``h_rs_m`` are antenna heights above sea level.
    """
    n = dist_km.size
    d_tot = dist_km[n - 1]
    v1 = 0.0
    v2 = 0.0
    for i in range(1, n):
        dd = dist_km[i] - dist_km[i - 1]
        v1 += dd * (height_m[i] + height_m[i - 1])
        v2 += dd * (
            height_m[i] * (2.0 * dist_km[i] + dist_km[i - 1])
            + height_m[i - 1] * (dist_km[i] + 2.0 * dist_km[i - 1])
        )
    h_st = (2.0 * v1 * d_tot - v2) / (d_tot * d_tot)
    h_sr = (v2 - v1 * d_tot) / (d_tot * d_tot)
    # Highest obstruction above the straight Tx-Rx line, eqs. (89a)-(89d).
    h_obs = -np.inf
    a_obt = -np.inf
    a_obr = -np.inf
    for i in range(1, n - 1):
        di = dist_km[i]
        hh = height_m[i] - (h_ts_m * (d_tot - di) + h_rs_m * di) / d_tot
        h_obs = max(h_obs, hh)
        a_obt = max(a_obt, hh / di)
        a_obr = max(a_obr, hh / (d_tot - di))
    if h_obs > 0.0:
        g_t = a_obt / (a_obt + a_obr)
        g_r = a_obr / (a_obt + a_obr)
        h_stp = h_st - h_obs * g_t
        h_srp = h_sr - h_obs * g_r
    else:
        h_stp = h_st
        h_srp = h_sr
    h_stdd = min(h_stp, height_m[0])
    h_srdd = min(h_srp, height_m[n - 1])
    return h_stdd, h_srdd


# ----------------------------------------------------------------------------
# Spherical-earth diffraction (P.1812-6 sections 4.3.2 and 4.3.3)
# ----------------------------------------------------------------------------
@jit
def _first_term_k_db(dist_km, h_te_m, h_re_m, k, x_scale, y_scale):
    """First-term loss from the normalised factor K, eqs. (30)-(36). [dB]

    ``x_scale`` = (f / a_dft^2)^(1/3) and ``y_scale`` = (f^2 / a_dft)^(1/3) with f in
    GHz and a_dft in km: the frequency and radius factors of eqs. (31) and (32).
    """
    k2 = k * k
    beta = (1.0 + 1.6 * k2 + 0.67 * k2 * k2) / (1.0 + 4.5 * k2 + 1.53 * k2 * k2)
    x = 21.88 * beta * x_scale * dist_km
    y_fac = 0.9575 * beta * y_scale
    if x >= 1.6:
        f_x = 11.0 + 10.0 * _fm.log10(x) - 17.6 * x
    else:
        f_x = -20.0 * _fm.log10(x) - 5.6488 * x**1.425
    g_min = 2.0 + 20.0 * math.log10(k)
    g_sum = 0.0
    for h in (h_te_m, h_re_m):
        b = beta * y_fac * h
        if b > 2.0:
            g = 17.6 * math.sqrt(b - 1.1) - 5.0 * _fm.log10(b - 1.1) - 8.0
        else:
            g = 20.0 * _fm.log10(b + 0.1 * b * b * b)
        g_sum += max(g, g_min)
    return -f_x - g_sum


@jit
def _first_term_one_db(dist_km, h_te_m, h_re_m, f_ghz, adft_km, eps_r, sigma, pol_id):
    """First-term spherical-earth diffraction loss for one ground type, eqs. (29)-(36)."""
    k = 0.036 * (adft_km * f_ghz) ** (-1.0 / 3.0) * ((eps_r - 1.0) ** 2 + (18.0 * sigma / f_ghz) ** 2) ** -0.25
    if pol_id == 1:
        k = k * math.sqrt(eps_r * eps_r + (18.0 * sigma / f_ghz) ** 2)
    x_scale = (f_ghz / (adft_km * adft_km)) ** (1.0 / 3.0)
    y_scale = (f_ghz * f_ghz / adft_km) ** (1.0 / 3.0)
    return _first_term_k_db(dist_km, h_te_m, h_re_m, k, x_scale, y_scale)


@jit
def _first_term_db(dist_km, h_te_m, h_re_m, freq_mhz, adft_km, omega, pol_id):
    """Land/sea first-term loss interpolated by the sea fraction, eq. (28)/(37). [dB]"""
    f_ghz = freq_mhz * 1e-3
    l_sea = _first_term_one_db(dist_km, h_te_m, h_re_m, f_ghz, adft_km, _SEA_EPS_R, _SEA_SIGMA_S_PER_M, pol_id)
    l_land = _first_term_one_db(dist_km, h_te_m, h_re_m, f_ghz, adft_km, _LAND_EPS_R, _LAND_SIGMA_S_PER_M, pol_id)
    return omega * l_sea + (1.0 - omega) * l_land


@jit
def _spherical_earth_db(dist_km, h_te_m, h_re_m, freq_mhz, ae_km, omega, pol_id):
    """Spherical-earth diffraction loss L_dsph for effective heights, eqs. (22)-(27). [dB]

    ``dist_km`` is the path length (a scalar); heights are above the smooth
    surface, > 0.
    """
    lam_m = _C_M_GHZ / (freq_mhz * 1e-3)
    return _spherical_earth_core(dist_km, h_te_m, h_re_m, lam_m, ae_km, False, 0.0, 0.0, freq_mhz, omega, pol_id)


@jit
def _spherical_earth_core(dist_km, h_te_m, h_re_m, lam_m, ae_km, land_only, k_f, f_cbrt, freq_mhz, omega, pol_id):
    """Eqs. (22)-(27) with the first term of eq. (28): land-only (precomputed ``k_f``, ``f_cbrt``) or land/sea."""
    d_los = math.sqrt(2.0 * ae_km) * (math.sqrt(0.001 * h_te_m) + math.sqrt(0.001 * h_re_m))  # eq. (22)
    if dist_km >= d_los:
        if land_only:
            return _first_term_land_db(dist_km, h_te_m, h_re_m, ae_km, k_f, f_cbrt)
        return _first_term_db(dist_km, h_te_m, h_re_m, freq_mhz, ae_km, omega, pol_id)
    # Early exit, exact: wherever eq. (24) puts d_se1, h_se >= min(h_te, h_re) - 500 (D/2)^2 / a_e and
    # h_req <= 17.456 sqrt((D/2)^2 lambda / D); when the first bound exceeds the second, h_se > h_req and
    # the loss is 0 without the arccos and cos of eq. (24c) (most line-of-sight raster pixels).
    if min(h_te_m, h_re_m) - 125.0 * dist_km * dist_km / ae_km > 8.728 * math.sqrt(dist_km * lam_m):
        return 0.0
    c = (h_te_m - h_re_m) / (h_te_m + h_re_m)  # eq. (24d)
    m = 250.0 * dist_km * dist_km / (ae_km * (h_te_m + h_re_m))  # eq. (24e)
    arg = 1.5 * c * math.sqrt(3.0 * m / (m + 1.0) ** 3)
    arg = min(1.0, max(-1.0, arg))
    b = 2.0 * math.sqrt((m + 1.0) / (3.0 * m)) * math.cos(math.pi / 3.0 + math.acos(arg) / 3.0)  # eq. (24c)
    d_se1 = 0.5 * dist_km * (1.0 + b)
    d_se2 = dist_km - d_se1
    h_se = ((h_te_m - 500.0 * d_se1 * d_se1 / ae_km) * d_se2 + (h_re_m - 500.0 * d_se2 * d_se2 / ae_km) * d_se1) / dist_km
    h_req = 17.456 * math.sqrt(d_se1 * d_se2 * lam_m / dist_km)  # eq. (25)
    if h_se > h_req:
        return 0.0
    a_em = 500.0 * (dist_km / (math.sqrt(h_te_m) + math.sqrt(h_re_m))) ** 2  # eq. (26)
    if land_only:
        l_dft = _first_term_land_db(dist_km, h_te_m, h_re_m, a_em, k_f, f_cbrt)
    else:
        l_dft = _first_term_db(dist_km, h_te_m, h_re_m, freq_mhz, a_em, omega, pol_id)
    if l_dft < 0.0:
        return 0.0
    return (1.0 - h_se / h_req) * l_dft  # eq. (27)


def land_first_term_constants(freq_mhz, pol_id):
    """(k_f, f_cbrt) for :func:`_spherical_earth_land_db`: the frequency-only factors of eqs. (29)-(36).

    k_f = 0.036 f^(-1/3) ((eps_r - 1)^2 + (18 sigma / f)^2)^(-1/4) (times
    sqrt(eps_r^2 + (18 sigma / f)^2) for vertical polarization), so that
    K = k_f / a_dft^(1/3); f_cbrt = f^(1/3) [GHz^(1/3)].
    """
    f_ghz = freq_mhz * 1e-3
    q = 18.0 * _LAND_SIGMA_S_PER_M / f_ghz
    k_f = 0.036 * f_ghz ** (-1.0 / 3.0) * ((_LAND_EPS_R - 1.0) ** 2 + q * q) ** -0.25
    if pol_id == 1:
        k_f *= math.sqrt(_LAND_EPS_R * _LAND_EPS_R + q * q)
    return k_f, f_ghz ** (1.0 / 3.0)


@jit
def _first_term_land_db(dist_km, h_te_m, h_re_m, adft_km, k_f, f_cbrt):
    """Land first-term loss, eqs. (29)-(36), with the frequency factors precomputed (one cube root). [dB]"""
    a_c = adft_km ** (1.0 / 3.0)
    return _first_term_k_db(dist_km, h_te_m, h_re_m, k_f / a_c, f_cbrt / (a_c * a_c), f_cbrt * f_cbrt / a_c)


@jit
def _spherical_earth_land_db(dist_km, h_te_m, h_re_m, lam_m, ae_km, k_f, f_cbrt):
    """:func:`_spherical_earth_db` for an all-land path (omega = 0), for the raster engine. [dB]

    Private helper: the same equations (22)-(27) with eq. (28) reduced to its
    land first term (the sea term has weight 0) and the frequency factors
    from :func:`land_first_term_constants` computed once per sweep; equal to
    ``_spherical_earth_db(..., omega=0.0, ...)`` to rounding (~1e-12 dB).
    """
    return _spherical_earth_core(dist_km, h_te_m, h_re_m, lam_m, ae_km, True, k_f, f_cbrt, 0.0, 0.0, 0)


# ----------------------------------------------------------------------------
# Delta-Bullington (P.1812-6 section 4.3.4, P.526-15 section 4.5)
# ----------------------------------------------------------------------------
@jit
def _delta_bullington_parts(dist_km, terrain_m, surface_m, h_tx_m, h_rx_m, freq_mhz, ae_km, omega, pol_id):
    """(L_d, L_bulla, L_bulls, L_dsph) for one profile; antenna heights above ground. [dB]

    ``terrain_m`` (bare ground, amsl) gives the terminal heights and the
    smooth surface; ``surface_m`` (ground plus representative clutter at the
    intermediate points, P.1812-6 eq. (1c)) is what the Bullington
    construction sees.  Pass the same array twice for a bare profile.
    """
    n = dist_km.size
    h_ts = terrain_m[0] + h_tx_m
    h_rs = terrain_m[n - 1] + h_rx_m
    l_bulla = _bullington_db(dist_km, surface_m, h_ts, h_rs, freq_mhz, ae_km)
    h_std, h_srd = _smooth_earth_heights(dist_km, terrain_m, h_ts, h_rs)
    h_te = h_ts - h_std  # effective heights above the smooth surface, eq. (38)
    h_re = h_rs - h_srd
    l_bulls = _bullington_scaled(dist_km, surface_m, h_te, h_re, freq_mhz, ae_km, 0.0)
    l_dsph = _spherical_earth_db(dist_km[n - 1], h_te, h_re, freq_mhz, ae_km, omega, pol_id)
    return l_bulla + max(l_dsph - l_bulls, 0.0), l_bulla, l_bulls, l_dsph


@jit
def _delta_bullington_db(dist_km, height_m, h_tx_m, h_rx_m, freq_mhz, ae_km, omega, pol_id):
    """Delta-Bullington excess loss over one profile, eq. (39) of P.1812-6. [dB]

    ``h_tx_m``/``h_rx_m`` are antenna heights ABOVE GROUND at the two ends.
    """
    return _delta_bullington_parts(dist_km, height_m, height_m, h_tx_m, h_rx_m, freq_mhz, ae_km, omega, pol_id)[0]


@jit
def _delta_bullington_many(dist_km, height_m, h_tx_m, h_rx_m, freq_mhz, ae_km, omega, pol_id):
    out = np.empty(h_tx_m.size)
    for i in range(h_tx_m.size):
        out[i] = _delta_bullington_db(dist_km, height_m, h_tx_m[i], h_rx_m[i], freq_mhz[i], ae_km[i], omega[i], pol_id)
    return out


_MODEL = "ITU-R P.526-15 section 4.5 / P.1812-6 delta-Bullington"


def _check_profile(dist_km, height_m):
    dist = as_float("dist_km", dist_km)
    height = as_float("height_m", height_m)
    if dist.ndim != 1 or height.ndim != 1:
        raise ValueError(
            f"dist_km and height_m must be 1-D profile arrays, got shapes {dist.shape} and {height.shape}"
        )
    if dist.size != height.size:
        raise ValueError(
            f"dist_km and height_m must have the same length, got {dist.size} and {height.size}; "
            "give one terrain height per profile distance"
        )
    if dist.size < 3:
        raise ValueError(
            f"a terrain profile needs at least 3 points (both ends and one between), got {dist.size}"
        )
    if dist[0] != 0.0:
        raise ValueError(f"dist_km must start at 0 (the transmitter), got {dist[0]:g} km; subtract dist_km[0]")
    steps = np.diff(dist)
    if np.any(steps <= 0.0):
        i = int(np.argmax(steps <= 0.0))
        raise ValueError(
            f"dist_km must be strictly increasing, got {dist[i]:g} then {dist[i + 1]:g} km at index {i + 1}"
        )
    return np.ascontiguousarray(dist), np.ascontiguousarray(height)


def delta_bullington_loss_db(
    dist_km,
    height_m,
    h_tx_m,
    h_rx_m,
    freq_mhz,
    k_factor=4.0 / 3.0,
    sea_fraction=0.0,
    polarization="horizontal",
    *,
    strict=True,
):
    r"""Terrain diffraction loss over one profile by the delta-Bullington method.

    Parameters
    ----------
    dist_km : array_like, 1-D
        Distances of the profile points from the transmitter, starting at 0,
        strictly increasing; at least 3 points. [km]
    height_m : array_like, 1-D
        Terrain height above sea level at those points (may include
        representative clutter at intermediate points, as P.1812 does). [m]
    h_tx_m, h_rx_m : array_like
        Antenna heights above ground at the first and last profile point;
        > 0, validity range 1 to 3000 m (P.1812-6). [m]
    freq_mhz : array_like
        Frequency, validity range 30 to 6000 MHz (P.1812-6). [MHz]
    k_factor : array_like, optional
        Effective earth-radius factor, a_e = 6371 k km; > 0 (4/3 median
        standard atmosphere; P.1812 uses 157 / (157 - dN) and 3 for beta0). [1]
    sea_fraction : array_like, optional
        Fraction of the path over sea, omega in [0, 1]; the first-term
        spherical-earth loss is interpolated between land (eps_r 22,
        sigma 0.003 S/m) and sea (eps_r 80, sigma 5 S/m). [1]
    polarization : {"horizontal", "vertical"}, optional
    strict : bool, optional
        True raises ``ValueError`` when frequency or antenna heights lie
        outside the validity range; False warns and extrapolates.

    ``h_tx_m``, ``h_rx_m``, ``freq_mhz``, ``k_factor`` and ``sea_fraction``
    broadcast together; the profile is shared.

    Returns
    -------
    numpy.ndarray or numpy.float64
        Diffraction loss in excess of free space, >= 0. [dB]

    Notes
    -----
    L_d = L_bulla + max(L_dsph - L_bulls, 0)   (P.1812-6 eq. (39); P.526-15 eq. (67))

    * L_bulla: Bullington loss (eqs. (13)-(21)) of the real profile with the
      antennas at ground + h above sea level.  Case LOS (S_tim < S_tr): J of
      the highest v over the intermediate points; otherwise J(v_b) of the
      Bullington point.  L = L_uc + (1 - exp(-L_uc / 6)) (10 + 0.02 d).
    * L_bulls: the same with every terrain height set to zero and the antenna
      heights h'_ts = h_ts - h_std, h'_rs = h_rs - h_srd above the
      least-squares smooth surface (P.1812-6 Att. 1 sections 5.6.1, 5.6.2).
    * L_dsph: spherical-earth diffraction for those effective heights
      (eqs. (22)-(27)) with the first-term method (eqs. (28)-(37)).

    The wavelength is 0.2998 / f_GHz m, as in the Recommendations.
    Validated against the ITU-R SG3 P.1812 validation profiles (see tests).

    Examples
    --------
    A 10 km flat path with a 60 m ridge in the middle, 900 MHz:

    >>> d = np.linspace(0.0, 10.0, 101)
    >>> h = np.where(np.isclose(d, 5.0), 60.0, 0.0)
    >>> round(float(delta_bullington_loss_db(d, h, 30.0, 10.0, 900.0)), 1)
    29.0
    """
    dist, height = _check_profile(dist_km, height_m)
    pol_id = POLARIZATIONS[choice("polarization", polarization, tuple(POLARIZATIONS))]
    h_tx = as_float("h_tx_m", h_tx_m)
    h_rx = as_float("h_rx_m", h_rx_m)
    freq = as_float("freq_mhz", freq_mhz)
    k = as_float("k_factor", k_factor)
    omega = as_float("sea_fraction", sea_fraction)
    for name, arr, unit in (("h_tx_m", h_tx, "m"), ("h_rx_m", h_rx, "m"), ("freq_mhz", freq, "MHz"), ("k_factor", k, "")):
        if np.any(arr <= 0.0):
            raise ValueError(f"{name} must be > 0{(' ' + unit) if unit else ''}, got {arr[arr <= 0.0].ravel()[0]:g}")
    if np.any((omega < 0.0) | (omega > 1.0)):
        bad = omega[(omega < 0.0) | (omega > 1.0)].ravel()[0]
        raise ValueError(f"sea_fraction must lie in [0, 1] (share of the path over sea), got {bad:g}")
    check_range("freq_mhz", freq, 30.0, 6000.0, "MHz", _MODEL, strict)
    check_range("h_tx_m", h_tx, 1.0, 3000.0, "m", _MODEL, strict)
    check_range("h_rx_m", h_rx, 1.0, 3000.0, "m", _MODEL, strict)
    h_tx, h_rx, freq, k, omega = np.broadcast_arrays(h_tx, h_rx, freq, k, omega)
    shape = h_tx.shape
    flat = [np.ascontiguousarray(a.ravel(), dtype=np.float64) for a in (h_tx, h_rx, freq, k * EARTH_RADIUS_KM, omega)]
    out = _delta_bullington_many(dist, height, flat[0], flat[1], flat[2], flat[3], flat[4], pol_id)
    return result(np.maximum(out, 0.0).reshape(shape))
