r"""Closed-form empirical path-loss models: free space, Okumura-Hata, COST-231 Hata, SPM.

Every formula lives in one private numba scalar core (``_fspl_db``, ``_hata_db``,
``_cost231_db``, ``_spm_db``).  The raster engine calls those cores directly
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
from typing import Mapping, NamedTuple

import numpy as np

from propagation._jit import jit
from propagation._validity import as_float, check_range, choice, require_positive, result

__all__ = [
    "HataEnv",
    "HataCity",
    "SpmCoefficients",
    "SPM_DEFAULT_K",
    "free_space_loss_db",
    "hata_loss_db",
    "cost231_hata_loss_db",
    "spm_loss_db",
    "spm_k1_at",
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
def _spm_db(k1, k2, k3, k4, k5, k6, k7, dist_km, h_tx_eff_m, h_rx_m, diffraction_db, clutter_db):
    """Standard Propagation Model; ``k1`` already shifted to the carrier frequency. [dB]"""
    log_d = math.log10(dist_km)
    log_ht = math.log10(h_tx_eff_m)
    return (
        k1
        + k2 * log_d
        + k3 * log_ht
        + k4 * diffraction_db
        + k5 * log_d * log_ht
        + k6 * h_rx_m
        + k7 * math.log10(h_rx_m)
        + clutter_db
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
def _spm_loop(k1, k2, k3, k4, k5, k6, k7, dist_km, h_tx_eff_m, h_rx_m, diffraction_db, clutter_db):
    out = np.empty(dist_km.size)
    for i in range(out.size):
        out[i] = _spm_db(
            k1[i], k2, k3, k4, k5, k6, k7,
            dist_km[i], h_tx_eff_m[i], h_rx_m[i], diffraction_db[i], clutter_db[i],
        )  # fmt: skip
    return out


@jit
def _hata_cost_ref_loop(freq_mhz):
    out = np.empty(freq_mhz.size)
    for i in range(out.size):
        out[i] = _hata_cost_ref_db(freq_mhz[i])
    return out


def _flat(*arrays):
    """Broadcast float64 arrays; return (shape, contiguous 1-D copies)."""
    bcast = np.broadcast_arrays(*arrays)
    shape = bcast[0].shape
    return shape, [np.ascontiguousarray(a, dtype=np.float64).reshape(-1) for a in bcast]


def _positive(name, value, unit):
    arr = as_float(name, value)
    require_positive(name, arr, unit)
    return arr


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
    freq = _positive("freq_mhz", freq_mhz, "MHz")
    dist = _positive("dist_km", dist_km, "km")
    shape, (f, d) = _flat(freq, dist)
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
        arr = _positive(name, value, unit)
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
    shape, flat = _flat(*arrays)
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
    shape, flat = _flat(*arrays)
    return result(_cost231_loop(*flat, city_id).reshape(shape))


# ----------------------------------------------------------------------------------
# Standard Propagation Model
# ----------------------------------------------------------------------------------

#: K1 frequency slope used by planning tools when moving a tuned K1 to another band. [dB/decade]
PLANNING_K1_SLOPE_DB_PER_DECADE = 23.0

_SPM_KEYS = ("k1", "k2", "k3", "k4", "k5", "k6", "k7", "f_ref_mhz", "k_freq_db_per_decade")


class SpmCoefficients(NamedTuple):
    r"""Standard Propagation Model coefficients K1..K7 and the K1 frequency convention.

    Frequency convention: K1 is stated at ``f_ref_mhz`` and moved to the carrier
    frequency f by :func:`spm_k1_at`:

    * ``f_ref_mhz is None``: K1 is used unchanged at every frequency;
    * ``k_freq_db_per_decade`` a number s: ``K1(f) = k1 + s log10(f / f_ref)``
      (planning tools use s = 23 dB/decade, the default);
    * ``k_freq_db_per_decade is None``: ``K1(f) = k1 + R(f) - R(f_ref)`` where
      R(f) is the Hata (f <= 1500 MHz) / COST-231 (above) urban medium-city loss
      at d = 1 km, h_tx = 1 m, h_rx = 1.5 m, i.e. the exact frequency
      dependence of those models (slope about 26.1 resp. 33.8 dB/decade).

    Examples
    --------
    >>> k = SpmCoefficients.from_mapping({"k1": 20.0, "k2": 44.9, "k3": 5.83, "k4": 1.0,
    ...     "k5": -6.55, "k6": 0.0, "k7": 0.0, "f_ref_mhz": 1800.0})
    >>> round(float(spm_k1_at(k, 2600.0)), 3)
    23.673
    """

    k1: float
    k2: float
    k3: float
    k4: float
    k5: float
    k6: float
    k7: float
    f_ref_mhz: float | None = None
    k_freq_db_per_decade: float | None = PLANNING_K1_SLOPE_DB_PER_DECADE

    @classmethod
    def from_mapping(cls, mapping: Mapping) -> "SpmCoefficients":
        """Build coefficients from a dict (for example a parsed TOML table).

        Keys: ``k1`` .. ``k7`` (required), ``f_ref_mhz`` and
        ``k_freq_db_per_decade`` (optional).  Unknown keys, missing K's and
        non-numeric or non-finite values raise ``ValueError`` naming the key.

        >>> SpmCoefficients.from_mapping({"k1": 1, "k9": 2})
        Traceback (most recent call last):
        ...
        ValueError: unknown SPM coefficient key(s) 'k9'; valid keys: k1, k2, k3, k4, k5, k6, k7, f_ref_mhz, k_freq_db_per_decade
        """
        unknown = [key for key in mapping if key not in _SPM_KEYS]
        if unknown:
            raise ValueError(
                f"unknown SPM coefficient key(s) {', '.join(map(repr, unknown))}; "
                f"valid keys: {', '.join(_SPM_KEYS)}"
            )
        missing = [key for key in _SPM_KEYS[:7] if key not in mapping]
        if missing:
            raise ValueError(f"SPM coefficients missing required key(s) {', '.join(missing)}")
        return cls(**dict(mapping)).validated()

    def to_mapping(self) -> dict:
        """Return a plain dict (``None`` fields left out) suitable for TOML.

        >>> SPM_DEFAULT_K.to_mapping()["k2"]
        44.9
        """
        return {key: float(val) for key, val in zip(_SPM_KEYS, self) if val is not None}

    def validated(self) -> "SpmCoefficients":
        """Return a copy with float fields; raise ``ValueError`` naming a bad field.

        >>> SpmCoefficients(1, 2, 3, 4, 5, 6, 7).validated().k7
        7.0
        """
        values = []
        for key, val in zip(_SPM_KEYS, self):
            if val is None and key in ("f_ref_mhz", "k_freq_db_per_decade"):
                values.append(None)
                continue
            if isinstance(val, bool) or not isinstance(val, (int, float, np.floating, np.integer)):
                raise ValueError(f"SPM coefficient {key} must be a number, got {val!r}")
            if not math.isfinite(val):
                raise ValueError(f"SPM coefficient {key} must be finite, got {val!r}")
            values.append(float(val))
        if values[7] is not None and values[7] <= 0:
            raise ValueError(f"SPM coefficient f_ref_mhz must be > 0 MHz, got {values[7]!r}")
        return SpmCoefficients(*values)


def _default_spm_k():
    f_ref = 900.0
    # a(h_rx) of the medium city is linear in h_rx with slope (1.1 log f - 0.7):
    # frozen at f_ref; the rest of a(1.5 m) goes with the frequency term R(f).
    k6 = -(1.1 * math.log10(f_ref) - 0.7)
    k1 = float(_hata_cost_ref_db(f_ref)) - 1.5 * k6
    return SpmCoefficients(k1, 44.9, -13.82, 1.0, -6.55, k6, 0.0, f_ref, None)


#: SPM coefficients reproducing Okumura-Hata (<= 1500 MHz) and COST-231 Hata
#: (above) urban, medium city, exactly at h_rx = 1.5 m, without diffraction or
#: clutter.  K6 linearises a(h_rx) at 900 MHz, so at other receive heights the
#: SPM differs from Hata by 1.1 log10(f/900) (h_rx - 1.5) dB.
SPM_DEFAULT_K = _default_spm_k()


def spm_k1_at(k: SpmCoefficients, freq_mhz):
    """K1 of ``k`` moved to the carrier frequency (see :class:`SpmCoefficients`). [dB]

    Parameters
    ----------
    k : SpmCoefficients
        Coefficients with K1 stated at ``k.f_ref_mhz``.
    freq_mhz : array_like
        Carrier frequency, > 0. [MHz]

    Returns
    -------
    numpy.ndarray or numpy.float64
        K1 at ``freq_mhz``. [dB]

    Examples
    --------
    >>> round(float(spm_k1_at(SPM_DEFAULT_K._replace(k_freq_db_per_decade=23.0), 9000.0))
    ...       - SPM_DEFAULT_K.k1, 6)
    23.0
    """
    k = _as_spm(k)
    freq = _positive("freq_mhz", freq_mhz, "MHz")
    if k.f_ref_mhz is None:
        return result(np.full(freq.shape, k.k1))
    if k.k_freq_db_per_decade is None:
        shape, (f,) = _flat(freq)
        ref = _hata_cost_ref_loop(f).reshape(shape)
        ref0 = _hata_cost_ref_db(k.f_ref_mhz)
        return result(k.k1 + ref - ref0)
    return result(k.k1 + k.k_freq_db_per_decade * np.log10(freq / k.f_ref_mhz))


def _as_spm(k) -> SpmCoefficients:
    if isinstance(k, SpmCoefficients):
        return k.validated()
    if isinstance(k, Mapping):
        return SpmCoefficients.from_mapping(k)
    raise ValueError(
        f"k must be SpmCoefficients or a mapping of k1..k7, got {type(k).__name__}; "
        "build one with SpmCoefficients.from_mapping(...)"
    )


#: Ranges checked by :func:`spm_loss_db` (those of the Hata/COST-231 base,
#: frequency widened to the bands where planning tools apply SPM).
SPM_RANGES = {"freq_mhz": (150.0, 3500.0, "MHz"), "dist_km": (1.0, 20.0, "km")}


def spm_loss_db(
    freq_mhz,
    dist_km,
    h_tx_eff_m,
    h_rx_m,
    k=SPM_DEFAULT_K,
    diffraction_db=0.0,
    clutter_db=0.0,
    *,
    strict=True,
):
    r"""Standard Propagation Model (Atoll/Planet form) basic transmission loss.

    Parameters
    ----------
    freq_mhz : array_like
        Carrier frequency, 150-3500 (K1 is shifted to it). [MHz]
    dist_km : array_like
        Distance transmitter to receiver, 1-20. [km]
    h_tx_eff_m : array_like
        Effective transmitter antenna height, > 0. [m]
    h_rx_m : array_like
        Receiver antenna height above ground, > 0. [m]
    k : SpmCoefficients or mapping
        Coefficients; the default reproduces Hata/COST-231 urban medium city.
    diffraction_db : array_like
        Terrain diffraction (excess) loss, weighted by K4. [dB]
    clutter_db : array_like
        Clutter loss at the receiver, added as is (may be negative). [dB]
    strict : bool
        Raise ``ValueError`` outside the checked ranges (default); with
        ``False`` warn with ``ValidityRangeWarning`` and extrapolate.

    Returns
    -------
    numpy.ndarray or numpy.float64
        Loss. [dB]

    Notes
    -----
    .. math:: L = K_1(f) + K_2\log d + K_3\log h_{tx} + K_4 L_{diff}
              + K_5\log d\log h_{tx} + K_6 h_{rx} + K_7\log h_{rx} + L_{clutter}

    d in km, heights in m; K1(f) from :func:`spm_k1_at`.  The SPM is the
    Okumura-Hata form generalised for calibration, as implemented in Forsk
    Atoll ("Standard Propagation Model") and Planet.  It has no validity range
    of its own: a tuned K set holds where it was fitted.  The strict check uses
    d 1-20 km (the Hata base) and f 150-3500 MHz (the bands where planning tools
    apply it; with the default K it follows COST-231 above 1500 MHz and so
    extrapolates above 2000 MHz).

    Examples
    --------
    >>> round(float(spm_loss_db(900.0, 5.0, 50.0, 1.5)), 2)
    146.94
    >>> round(float(spm_loss_db(900.0, 5.0, 50.0, 1.5, diffraction_db=6.0, clutter_db=3.0)), 2)
    155.94
    """
    k = _as_spm(k)
    freq = _positive("freq_mhz", freq_mhz, "MHz")
    check_range("freq_mhz", freq, *SPM_RANGES["freq_mhz"], "SPM", strict)
    dist = _positive("dist_km", dist_km, "km")
    check_range("dist_km", dist, *SPM_RANGES["dist_km"], "SPM", strict)
    h_tx = _positive("h_tx_eff_m", h_tx_eff_m, "m")
    h_rx = _positive("h_rx_m", h_rx_m, "m")
    diff = as_float("diffraction_db", diffraction_db)
    clut = as_float("clutter_db", clutter_db)
    k1 = np.asarray(spm_k1_at(k, freq))
    shape, (k1f, d, ht, hr, df, cl) = _flat(k1, dist, h_tx, h_rx, diff, clut)
    out = _spm_loop(k1f, k.k2, k.k3, k.k4, k.k5, k.k6, k.k7, d, ht, hr, df, cl)
    return result(out.reshape(shape))
