r"""Clutter loss, ITU-R P.2108-1 (09/2021) sections 3.1 and 3.2.

* :func:`p2108_height_gain_db` -- section 3.1, height-gain terminal
  correction model: the loss of a terminal below the representative clutter
  height R, 30 MHz to 3 GHz.
* :func:`p2108_clutter_loss_db` -- section 3.2, statistical clutter loss for
  terrestrial paths, 0.5 to 67 GHz, path length >= 0.25 km.

Every equation lives in one scalar numba core (:func:`_a_h_knife_edge_db`,
:func:`_a_h_log_db`, :func:`_w_l`, :func:`_l_ctt_w_db`, :func:`_l_ctt_db`):
the public functions validate and broadcast their arguments and run the cores
over them, and the raster engine calls the cores per pixel.
"""

from __future__ import annotations

import math

import numpy as np

from propagation._jit import jit
from propagation._validity import as_float, check_range, choice, require_positive, result

__all__ = [
    "p2108_clutter_loss_db",
    "p2108_height_gain_db",
    "P2108_CLUTTER_TYPES",
    "P2108_HEIGHT_GAIN_FREQ_MHZ",
    "P2108_STATISTICAL_FREQ_MHZ",
    "P2108_MIN_DIST_KM",
    "P2108_CAP_DIST_KM",
]

#: Table 3 of P.2108-1: clutter type -> (default representative height R [m], model).
#: Model "suburban" is eq. (2b) (log height gain), "urban" is eq. (2a) (knife edge).
P2108_CLUTTER_TYPES = {
    "water_sea": (10.0, "suburban"),
    "open_rural": (10.0, "suburban"),
    "suburban": (10.0, "urban"),
    "urban": (15.0, "urban"),
    "trees_forest": (15.0, "urban"),
    "dense_urban": (20.0, "urban"),
}

#: Validity range in frequency of section 3.1 (height gain) and 3.2 (statistical). [MHz]
P2108_HEIGHT_GAIN_FREQ_MHZ = (30.0, 3000.0)
P2108_STATISTICAL_FREQ_MHZ = (500.0, 67000.0)
#: Section 3.2: shortest path length of the model, and the length whose loss caps all longer paths. [km]
P2108_MIN_DIST_KM = 0.25
P2108_CAP_DIST_KM = 2.0

_MODEL_31 = "ITU-R P.2108-1 section 3.1"
_MODEL_32 = "ITU-R P.2108-1 section 3.2"


def p2108_height_gain_db(freq_mhz, h_rx_m, clutter_type, clutter_height_m=None, street_width_m=27.0, *, strict=True):
    r"""Height-gain terminal correction (clutter loss at one terminal), P.2108-1 section 3.1.

    Parameters
    ----------
    freq_mhz : array_like
        Frequency, validity range 30 to 3000 MHz. [MHz]
    h_rx_m : array_like
        Antenna height above ground of the terminal in clutter, > 0. [m]
    clutter_type : str
        One of water_sea, open_rural, suburban, urban, trees_forest,
        dense_urban (P.2108-1 Table 3).
    clutter_height_m : array_like or None, optional
        Representative clutter height R, > 0; None takes Table 3's default
        (10, 10, 10, 15, 15, 20 m in the order above). [m]
    street_width_m : array_like, optional
        Street width w_s, > 0 (default 27 m, the Recommendation's). [m]
    strict : bool, optional
        True raises ``ValueError`` outside 30-3000 MHz; False warns and
        extrapolates.

    Returns
    -------
    numpy.ndarray or numpy.float64
        Additional loss A_h, >= 0 (0 where h >= R). [dB]

    Notes
    -----
    For h < R (P.2108-1 eqs. (2a), (2b), (3), (4a)-(4e), f in GHz)::

        "urban" model (suburban, urban, trees_forest, dense_urban):
            A_h = J(nu) - 6.03,  nu = K_nu sqrt(h_dif theta_clut)
            h_dif = R - h,  theta_clut = atan(h_dif / w_s) [deg],  K_nu = 0.342 sqrt(f)
            J(nu) = 6.9 + 20 log10( sqrt((nu - 0.1)^2 + 1) + nu - 0.1 )
        "suburban" model (water_sea, open_rural):
            A_h = -K_h2 log10(h / R),  K_h2 = 21.8 + 6.2 log10(f)

    and A_h = 0 for h >= R.  Table 3 assigns the models to the clutter types.

    Examples
    --------
    >>> round(float(p2108_height_gain_db(1500.0, 2.0, "urban")), 1)
    24.5
    >>> round(float(p2108_height_gain_db(1500.0, 2.0, "open_rural")), 1)
    16.0
    >>> float(p2108_height_gain_db(1500.0, 30.0, "urban"))
    0.0
    """
    choice("clutter_type", clutter_type, tuple(P2108_CLUTTER_TYPES))
    default_r, model = P2108_CLUTTER_TYPES[clutter_type]
    freq = as_float("freq_mhz", freq_mhz)
    h = as_float("h_rx_m", h_rx_m)
    r = as_float("clutter_height_m", default_r if clutter_height_m is None else clutter_height_m)
    ws = as_float("street_width_m", street_width_m)
    require_positive("freq_mhz", freq, "MHz")
    require_positive("h_rx_m", h, "m")
    require_positive("clutter_height_m", r, "m")
    require_positive("street_width_m", ws, "m")
    check_range("freq_mhz", freq, *P2108_HEIGHT_GAIN_FREQ_MHZ, "MHz", _MODEL_31, strict)
    freq, h, r, ws = np.broadcast_arrays(freq, h, r, ws)
    flat = [np.ascontiguousarray(a, dtype=np.float64).ravel() for a in (freq * 1e-3, h, r, ws)]
    return result(_height_gain_loop(model == "urban", *flat).reshape(freq.shape))


def _q_inverse(q):
    """Inverse complementary standard normal CDF, Q^-1(q), 0 < q < 1.

    Bisection on Q(x) = erfc(x / sqrt 2) / 2 over the lower tail (q <= 0.5),
    mirrored for q > 0.5; accurate to ~1e-12 (tested against scipy).
    """
    q = np.asarray(q, dtype=np.float64)
    tail = np.minimum(q, 1.0 - q)
    erfc = np.vectorize(math.erfc, otypes=[np.float64])
    lo = np.zeros(q.shape)
    hi = np.full(q.shape, 40.0)
    for _ in range(60):  # halves a 40-wide bracket to ~3e-17
        mid = 0.5 * (lo + hi)
        above = 0.5 * erfc(mid / math.sqrt(2.0)) > tail  # Q(mid) > q -> root lies above mid
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    x = 0.5 * (lo + hi)
    return np.where(q > 0.5, -x, x)


def p2108_clutter_loss_db(freq_mhz, dist_km, location_pct=50.0, *, strict=True):
    r"""Statistical clutter loss on a terrestrial path, P.2108-1 section 3.2.

    Parameters
    ----------
    freq_mhz : array_like
        Frequency, validity range 500 to 67 000 MHz (0.5-67 GHz). [MHz]
    dist_km : array_like
        Path length, validity range >= 0.25 km. [km]
    location_pct : array_like, optional
        Percentage of locations for which the loss is not exceeded,
        0 < p < 100 (always enforced). [%]
    strict : bool, optional
        True raises ``ValueError`` for frequency or distance outside the
        validity range; False warns and extrapolates.

    Returns
    -------
    numpy.ndarray or numpy.float64
        Clutter loss L_ctt not exceeded for p % of locations (one terminal in
        urban/suburban clutter); positive except in the low tail. [dB]

    Notes
    -----
    P.2108-1 eqs. (6)-(8), f in GHz, d in km::

        L_ctt = -5 log10(10^(-0.2 L_l) + 10^(-0.2 L_s)) - sigma_cb Q^-1(p / 100)
        L_l   = -2 log10(10^(-5 log10 f - 12.5) + 10^(-16.5))
        L_s   = 32.98 + 23.9 log10 d + 3 log10 f
        sigma_cb = sqrt((4^2 10^(-0.2 L_l) + 6^2 10^(-0.2 L_s)) / (10^(-0.2 L_l) + 10^(-0.2 L_s)))

    and L_ctt never exceeds its value at d = 2 km (same f and p).
    Q^-1 is the inverse complementary normal CDF.  The Recommendation applies
    the loss at both ends for paths longer than 1 km (the caller adds it twice).
    Edition -0 (2017) covered 2-67 GHz; edition -1 extended it to 0.5 GHz.

    Examples
    --------
    >>> round(float(p2108_clutter_loss_db(3500.0, 1.0, 50.0)), 1)
    30.1
    >>> p2108_clutter_loss_db(500.0, 0.25, [1.0, 50.0, 99.0]).round(1)
    array([ 3.9, 17.4, 30.9])
    """
    freq = as_float("freq_mhz", freq_mhz)
    dist = as_float("dist_km", dist_km)
    pct = as_float("location_pct", location_pct)
    require_positive("freq_mhz", freq, "MHz")
    require_positive("dist_km", dist, "km")
    bad = (pct <= 0.0) | (pct >= 100.0)
    if np.any(bad):
        raise ValueError(
            f"location_pct must lie strictly between 0 and 100 %, got {pct[bad].ravel()[0]:g}; "
            "use e.g. 50 for the median"
        )
    check_range("freq_mhz", freq, *P2108_STATISTICAL_FREQ_MHZ, "MHz", _MODEL_32, strict)
    check_range("dist_km", dist, P2108_MIN_DIST_KM, np.inf, "km", _MODEL_32, strict)
    # Q^-1 by bisection once per distinct percentage (not per broadcast element: a raster has one p)
    unique_pct, inverse = np.unique(pct, return_inverse=True)
    q_inv = _q_inverse(unique_pct / 100.0)[inverse].reshape(pct.shape)
    freq, dist, q_inv = np.broadcast_arrays(freq, dist, q_inv)
    flat = [np.ascontiguousarray(a, dtype=np.float64).ravel() for a in (freq * 1e-3, dist, q_inv)]
    return result(_ctt_loop(*flat).reshape(freq.shape))


# ----------------------------------------------------------------------------------
# scalar numba cores (the raster engine's per-pixel evaluation; no validation)
# ----------------------------------------------------------------------------------
_DEG_PER_RAD = 180.0 / math.pi


@jit
def _a_h_knife_edge_db(f_ghz, h_m, r_m, ws_m):
    """Eq. (2a), the "urban" model of section 3.1 (knife edge over the clutter), 0 for h >= R. [dB]

    f in GHz, terminal height h, clutter height R, street width w_s in m; no validation.
    """
    if h_m >= r_m:
        return 0.0
    h_dif = r_m - h_m  # eq. (4c)
    theta_clut_deg = math.atan(h_dif / ws_m) * _DEG_PER_RAD  # eq. (4d)
    nu = 0.342 * math.sqrt(f_ghz) * math.sqrt(h_dif * theta_clut_deg)  # eqs. (4a), (4b)
    w = nu - 0.1
    return 6.9 + 20.0 * math.log10(math.sqrt(w * w + 1.0) + w) - 6.03  # eqs. (2a), (3)


@jit
def _a_h_log_db(f_ghz, h_m, r_m):
    """Eq. (2b), the "suburban" model of section 3.1 (log height gain), 0 for h >= R. [dB]"""
    if h_m >= r_m:
        return 0.0
    k_h2 = 21.8 + 6.2 * math.log10(f_ghz)  # eq. (4e)
    return -k_h2 * math.log10(h_m / r_m)


@jit
def _w_l(f_ghz):
    """10^(-0.2 L_l) with L_l of eq. (7): the frequency-only term of section 3.2 (once per carrier)."""
    l_l = -2.0 * math.log10(10.0 ** (-5.0 * math.log10(f_ghz) - 12.5) + 10.0**-16.5)  # eq. (7)
    return 10.0 ** (-0.2 * l_l)


@jit
def _l_ctt_w_db(w_l, f_ghz, dist_km, q_inv):
    """Eqs. (6), (6a), (8) of section 3.2 without the 2 km cap, given ``w_l`` = :func:`_w_l` (f); ``q_inv`` =
    Q^-1(p/100). [dB]"""
    l_s = 32.98 + 23.9 * math.log10(dist_km) + 3.0 * math.log10(f_ghz)  # eq. (8)
    w_s = 10.0 ** (-0.2 * l_s)
    sigma_cb = math.sqrt((16.0 * w_l + 36.0 * w_s) / (w_l + w_s))  # eq. (6a)
    return -5.0 * math.log10(w_l + w_s) - sigma_cb * q_inv  # eq. (6)


@jit
def _l_ctt_core_db(f_ghz, dist_km, q_inv):
    """Eqs. (6)-(8) of section 3.2 without the 2 km cap; ``q_inv`` = Q^-1(p/100). [dB]"""
    return _l_ctt_w_db(_w_l(f_ghz), f_ghz, dist_km, q_inv)


@jit
def _l_ctt_db(f_ghz, dist_km, q_inv):
    """Section 3.2 clutter loss with the cap at 2 km (as :func:`p2108_clutter_loss_db`, no validation). [dB]

    "The clutter loss must not exceed a maximum value given by eq. (6) with d = 2 km."
    """
    w_l = _w_l(f_ghz)
    return min(_l_ctt_w_db(w_l, f_ghz, dist_km, q_inv), _l_ctt_w_db(w_l, f_ghz, P2108_CAP_DIST_KM, q_inv))


@jit
def _height_gain_loop(urban, f_ghz, h_m, r_m, ws_m):
    out = np.empty(f_ghz.size)
    for i in range(f_ghz.size):
        out[i] = _a_h_knife_edge_db(f_ghz[i], h_m[i], r_m[i], ws_m[i]) if urban else _a_h_log_db(f_ghz[i], h_m[i], r_m[i])
    return out


@jit
def _ctt_loop(f_ghz, dist_km, q_inv):
    out = np.empty(f_ghz.size)
    for i in range(f_ghz.size):
        out[i] = _l_ctt_db(f_ghz[i], dist_km[i], q_inv[i])
    return out
