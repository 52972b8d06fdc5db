r"""Closed-form empirical path-loss models: free space, Okumura-Hata, COST-231 Hata (SPM: :mod:`propagation.spm`).

Every formula lives in one private numba scalar core (``_fspl_db``, ``_hata_db``,
``_cost231_db``; the SPM's ``_spm_db`` is in :mod:`propagation.spm`).  The raster engine calls those cores directly
inside its kernels (float64/int64 arguments, integer ids from :class:`HataEnv`
and :class:`HataCity`); the public functions validate and broadcast their
arguments and run the same cores over the flattened arrays, so there is one
source of truth per formula.

Logarithms are base 10.  Losses are basic transmission losses between
isotropic antennas, positive dB.
"""

from __future__ import annotations

import math
from enum import IntEnum

import numpy as np

from propagation._jit import jit
from propagation._validity import check_range, choice, flat_float64, positive_float, result

__all__ = [
    "HataEnv",
    "HataCity",
    "free_space_loss_db",
    "hata_loss_db",
    "cost231_hata_loss_db",
]

#: Speed of light in vacuum. [m/s]
SPEED_OF_LIGHT_M_S = 299_792_458.0
#: 20 log10(4 pi 1e9 / c): free-space constant for f in MHz and d in km. [dB]
FSPL_CONST_MHZ_KM_DB = 20.0 * math.log10(4.0 * math.pi * 1e9 / SPEED_OF_LIGHT_M_S)

#: Frequency above which COST-231 Hata replaces Okumura-Hata. [MHz]
HATA_MAX_FREQ_MHZ = 1500.0


class HataEnv(IntEnum):
    """Okumura-Hata environment (integer id passed to the numba cores).

    >>> HataEnv["SUBURBAN"].value
    1
    """

    URBAN = 0
    SUBURBAN = 1
    OPEN = 2


class HataCity(IntEnum):
    """City size selecting the mobile-antenna correction a(h_rx).

    >>> int(HataCity.LARGE)
    1
    """

    MEDIUM = 0  # small/medium city (also used for suburban/open in Hata 1980)
    LARGE = 1  # large city (COST-231: metropolitan centre, C_M = 3 dB)


# ----------------------------------------------------------------------------------
# numba scalar cores (the single source of truth for every formula)
# ----------------------------------------------------------------------------------


@jit
def _fspl_db(freq_mhz, dist_km):
    """ITU-R P.525-4 §2.2: 32.4478 + 20 log f[MHz] + 20 log d[km]."""
    return FSPL_CONST_MHZ_KM_DB + 20.0 * math.log10(freq_mhz) + 20.0 * math.log10(dist_km)


@jit
def _hata_a_hrx_db(freq_mhz, h_rx_m, city_id):
    """Hata 1980 mobile-antenna height correction a(h_rx). [dB]"""
    if city_id == 1:  # large city
        if freq_mhz <= 300.0:
            return 8.29 * math.log10(1.54 * h_rx_m) ** 2 - 1.1
        return 3.2 * math.log10(11.75 * h_rx_m) ** 2 - 4.97
    log_f = math.log10(freq_mhz)
    return (1.1 * log_f - 0.7) * h_rx_m - (1.56 * log_f - 0.8)


@jit
def _hata_db(freq_mhz, dist_km, h_tx_m, h_rx_m, env_id, city_id):
    """Okumura-Hata median loss (Hata 1980, urban/suburban/open formulas). [dB]"""
    log_f = math.log10(freq_mhz)
    log_ht = math.log10(h_tx_m)
    urban = (
        69.55
        + 26.16 * log_f
        - 13.82 * log_ht
        - _hata_a_hrx_db(freq_mhz, h_rx_m, city_id)
        + (44.9 - 6.55 * log_ht) * math.log10(dist_km)
    )
    if env_id == 1:  # suburban
        return urban - 2.0 * math.log10(freq_mhz / 28.0) ** 2 - 5.4
    if env_id == 2:  # open
        return urban - 4.78 * log_f**2 + 18.33 * log_f - 40.94
    return urban


@jit
def _cost231_db(freq_mhz, dist_km, h_tx_m, h_rx_m, city_id):
    """COST-231 Hata median loss (COST 231 Final Report §4.4); Hata urban at exactly 1500 MHz. [dB]"""
    if freq_mhz == HATA_MAX_FREQ_MHZ:
        return _hata_db(freq_mhz, dist_km, h_tx_m, h_rx_m, 0, city_id)
    log_ht = math.log10(h_tx_m)
    c_m = 3.0 if city_id == 1 else 0.0
    return (
        46.3
        + 33.9 * math.log10(freq_mhz)
        - 13.82 * log_ht
        - _hata_a_hrx_db(freq_mhz, h_rx_m, city_id)
        + (44.9 - 6.55 * log_ht) * math.log10(dist_km)
        + c_m
    )


@jit
def _hata_cost_ref_db(freq_mhz):
    """Hata (<= 1500 MHz) / COST-231 (above) urban medium-city loss at d = 1 km, h_tx = 1 m, h_rx = 1.5 m.

    This is the whole frequency dependence of those models at h_rx = 1.5 m (the
    distance and height logs vanish); SPM uses it as its default frequency term.
    """
    if freq_mhz <= HATA_MAX_FREQ_MHZ:
        return _hata_db(freq_mhz, 1.0, 1.0, 1.5, 0, 0)
    return _cost231_db(freq_mhz, 1.0, 1.0, 1.5, 0)


# loops over flattened, broadcast float64 arrays


@jit
def _fspl_loop(freq_mhz, dist_km):
    out = np.empty(freq_mhz.size)
    for i in range(out.size):
        out[i] = _fspl_db(freq_mhz[i], dist_km[i])
    return out


@jit
def _hata_loop(freq_mhz, dist_km, h_tx_m, h_rx_m, env_id, city_id):
    out = np.empty(freq_mhz.size)
    for i in range(out.size):
        out[i] = _hata_db(freq_mhz[i], dist_km[i], h_tx_m[i], h_rx_m[i], env_id, city_id)
    return out


@jit
def _cost231_loop(freq_mhz, dist_km, h_tx_m, h_rx_m, city_id):
    out = np.empty(freq_mhz.size)
    for i in range(out.size):
        out[i] = _cost231_db(freq_mhz[i], dist_km[i], h_tx_m[i], h_rx_m[i], city_id)
    return out


@jit
def _hata_cost_ref_loop(freq_mhz):
    out = np.empty(freq_mhz.size)
    for i in range(out.size):
        out[i] = _hata_cost_ref_db(freq_mhz[i])
    return out


def _env_city(env, city):
    env = choice("env", env, tuple(e.name.lower() for e in HataEnv))
    city = choice("city", city, tuple(c.name.lower() for c in HataCity))
    return int(HataEnv[env.upper()]), int(HataCity[city.upper()])


# ----------------------------------------------------------------------------------
# public functions
# ----------------------------------------------------------------------------------


def free_space_loss_db(freq_mhz, dist_km, *, strict=True):
    r"""Free-space basic transmission loss between isotropic antennas.

    Parameters
    ----------
    freq_mhz : array_like
        Carrier frequency, > 0. [MHz]
    dist_km : array_like
        Path length, > 0. [km]
    strict : bool
        Accepted for a uniform API; free space has no empirical validity range.

    Returns
    -------
    numpy.ndarray or numpy.float64
        Loss, positive for any realistic link. [dB]

    Notes
    -----
    .. math:: L = 32.4478 + 20\log_{10} f_{\mathrm{MHz}} + 20\log_{10} d_{\mathrm{km}}

    ITU-R P.525-4 (08/2019), §2.2 (basic transmission loss), with :math:`32.4478 = 20\log_{10}(4\pi\,10^9/c)`
    and c = 299 792 458 m/s.  Valid at any frequency and distance in the far field.

    Examples
    --------
    >>> round(float(free_space_loss_db(1000.0, 1.0)), 2)
    92.45
    >>> free_space_loss_db([900.0, 1800.0], 2.0).round(2).tolist()
    [97.55, 103.57]
    """
    freq = positive_float("freq_mhz", freq_mhz, "MHz")
    dist = positive_float("dist_km", dist_km, "km")
    shape, (f, d) = flat_float64(freq, dist)
    return result(_fspl_loop(f, d).reshape(shape))


#: Okumura-Hata validity ranges, Hata (1980) §IV; also COST 231 Final Report ch. 4.4.
HATA_RANGES = {
    "freq_mhz": (150.0, 1500.0, "MHz"),
    "dist_km": (1.0, 20.0, "km"),
    "h_tx_m": (30.0, 200.0, "m"),
    "h_rx_m": (1.0, 10.0, "m"),
}
#: COST-231 Hata validity ranges, COST 231 Final Report (1999) §4.4.
COST231_RANGES = {
    "freq_mhz": (1500.0, 2000.0, "MHz"),
    "dist_km": (1.0, 20.0, "km"),
    "h_tx_m": (30.0, 200.0, "m"),
    "h_rx_m": (1.0, 10.0, "m"),
}


def _checked(values, ranges, model, strict):
    """Validate positive, finite inputs and the model's ranges; return float arrays."""
    out = []
    for name, value in values.items():
        lo, hi, unit = ranges[name]
        arr = positive_float(name, value, unit)
        check_range(name, arr, lo, hi, unit, model, strict)
        out.append(arr)
    return out


def hata_loss_db(freq_mhz, dist_km, h_tx_m, h_rx_m, env="urban", city="medium", *, strict=True):
    r"""Okumura-Hata median basic transmission loss.

    Parameters
    ----------
    freq_mhz : array_like
        Carrier frequency, 150-1500. [MHz]
    dist_km : array_like
        Distance base station to mobile, 1-20. [km]
    h_tx_m : array_like
        Effective base-station antenna height, 30-200. [m]
    h_rx_m : array_like
        Mobile antenna height above ground, 1-10. [m]
    env : {"urban", "suburban", "open"}
        Environment; the suburban and open corrections apply to the urban value.
    city : {"medium", "large"}
        Selects the mobile-antenna correction a(h_rx) (for every ``env``).
    strict : bool
        Raise ``ValueError`` outside the validity ranges (default); with
        ``False`` warn with ``ValidityRangeWarning`` and extrapolate.

    Returns
    -------
    numpy.ndarray or numpy.float64
        Median loss, positive. [dB]

    Notes
    -----
    Urban (Hata 1980):

    .. math:: L_u = 69.55 + 26.16\log f - 13.82\log h_{tx} - a(h_{rx})
              + (44.9 - 6.55\log h_{tx})\log d

    with :math:`a(h) = (1.1\log f - 0.7)h - (1.56\log f - 0.8)` for a medium/small
    city, and for a large city :math:`8.29(\log 1.54h)^2 - 1.1` (f <= 300 MHz) or
    :math:`3.2(\log 11.75h)^2 - 4.97` (f > 300 MHz; Hata gives it for f >= 400 MHz).
    Suburban: :math:`L_u - 2(\log(f/28))^2 - 5.4`.
    Open: :math:`L_u - 4.78(\log f)^2 + 18.33\log f - 40.94`.

    Validity: f 150-1500 MHz, d 1-20 km, h_tx 30-200 m, h_rx 1-10 m.

    References: M. Hata, "Empirical formula for propagation loss in land mobile
    radio services", IEEE Trans. Veh. Technol. VT-29(3), 317-325, Aug. 1980;
    COST Action 231 Final Report (1999), ch. 4.4.

    Examples
    --------
    >>> round(float(hata_loss_db(900.0, 5.0, 50.0, 1.5)), 2)
    146.94
    >>> hata_loss_db(900.0, [1.0, 10.0], 50.0, 1.5, env="suburban").round(2)
    array([113.39, 147.17])
    """
    env_id, city_id = _env_city(env, city)
    values = {"freq_mhz": freq_mhz, "dist_km": dist_km, "h_tx_m": h_tx_m, "h_rx_m": h_rx_m}
    arrays = _checked(values, HATA_RANGES, "Okumura-Hata", strict)
    shape, flat = flat_float64(*arrays)
    return result(_hata_loop(*flat, env_id, city_id).reshape(shape))


def cost231_hata_loss_db(freq_mhz, dist_km, h_tx_m, h_rx_m, city="medium", *, strict=True):
    r"""COST-231 Hata median basic transmission loss (urban).

    Parameters
    ----------
    freq_mhz : array_like
        Carrier frequency, 1500-2000; exactly 1500 MHz returns Okumura-Hata. [MHz]
    dist_km : array_like
        Distance base station to mobile, 1-20. [km]
    h_tx_m : array_like
        Effective base-station antenna height, 30-200. [m]
    h_rx_m : array_like
        Mobile antenna height above ground, 1-10. [m]
    city : {"medium", "large"}
        "medium": medium city / suburban centre, C_M = 0 dB; "large":
        metropolitan centre, C_M = 3 dB.  Also selects a(h_rx) as in Hata.
    strict : bool
        Raise ``ValueError`` outside the validity ranges (default); with
        ``False`` warn with ``ValidityRangeWarning`` and extrapolate.

    Returns
    -------
    numpy.ndarray or numpy.float64
        Median loss, positive. [dB]

    Notes
    -----
    .. math:: L = 46.3 + 33.9\log f - 13.82\log h_{tx} - a(h_{rx})
              + (44.9 - 6.55\log h_{tx})\log d + C_M

    a(h_rx) as in :func:`hata_loss_db`.  At exactly 1500 MHz the Hata urban
    value is returned (the two models differ by about 1.3 dB there).
    Validity: f 1500-2000 MHz, d 1-20 km, h_tx 30-200 m, h_rx 1-10 m.

    Reference: COST Action 231, "Digital mobile radio towards future generation
    systems", Final Report, EUR 18957 (1999), §4.4.

    Examples
    --------
    >>> round(float(cost231_hata_loss_db(1800.0, 2.0, 30.0, 1.5)), 2)
    146.8
    """
    city_id = _env_city("urban", city)[1]
    values = {"freq_mhz": freq_mhz, "dist_km": dist_km, "h_tx_m": h_tx_m, "h_rx_m": h_rx_m}
    arrays = _checked(values, COST231_RANGES, "COST-231 Hata", strict)
    shape, flat = flat_float64(*arrays)
    return result(_cost231_loop(*flat, city_id).reshape(shape))
