r"""Standard Propagation Model (SPM): the calibratable Hata form of planning tools.

Coefficients (:class:`SpmCoefficients`, :data:`SPM_DEFAULT_K`), the K1
frequency convention (:func:`spm_k1_at`) and the public model
(:func:`spm_loss_db`).  The scalar core ``_spm_db`` is
here too (the raster engine calls it); the Hata/COST-231 frequency term it
defaults to comes from :mod:`propagation.pathloss`.
"""

from __future__ import annotations

import math
from typing import Mapping, NamedTuple

import numpy as np

from propagation._jit import jit
from propagation._validity import as_float, check_range, flat_float64, positive_float, result
from propagation.pathloss import _hata_cost_ref_db, _hata_cost_ref_loop

__all__ = ["SpmCoefficients", "SPM_DEFAULT_K", "spm_loss_db", "spm_k1_at", "PLANNING_K1_SLOPE_DB_PER_DECADE"]


#: K1 frequency slope used by planning tools when moving a tuned K1 to another band. [dB/decade]
PLANNING_K1_SLOPE_DB_PER_DECADE = 23.0

_SPM_KEYS = ("k1", "k2", "k3", "k4", "k5", "k6", "k7", "f_ref_mhz", "k_freq_db_per_decade")


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
def _spm_loop(k1, k2, k3, k4, k5, k6, k7, dist_km, h_tx_eff_m, h_rx_m, diffraction_db, clutter_db):
    out = np.empty(dist_km.size)
    for i in range(out.size):
        out[i] = _spm_db(
            k1[i], k2, k3, k4, k5, k6, k7,
            dist_km[i], h_tx_eff_m[i], h_rx_m[i], diffraction_db[i], clutter_db[i],
        )  # fmt: skip
    return out


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
    # the Python body, not the compiled kernel: an import then compiles nothing (the nested Hata core gets
    # the same signature as a Hata run's coefficients, so a first run compiles no extra specialisation)
    k1 = float(_hata_cost_ref_db.py_func(f_ref)) - 1.5 * k6
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
    freq = positive_float("freq_mhz", freq_mhz, "MHz")
    if k.f_ref_mhz is None:
        return result(np.full(freq.shape, k.k1))
    if k.k_freq_db_per_decade is None:
        shape, (f,) = flat_float64(freq)
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
    freq = positive_float("freq_mhz", freq_mhz, "MHz")
    check_range("freq_mhz", freq, *SPM_RANGES["freq_mhz"], "SPM", strict)
    dist = positive_float("dist_km", dist_km, "km")
    check_range("dist_km", dist, *SPM_RANGES["dist_km"], "SPM", strict)
    h_tx = positive_float("h_tx_eff_m", h_tx_eff_m, "m")
    h_rx = positive_float("h_rx_m", h_rx_m, "m")
    diff = as_float("diffraction_db", diffraction_db)
    clut = as_float("clutter_db", clutter_db)
    k1 = np.asarray(spm_k1_at(k, freq))
    shape, (k1f, d, ht, hr, df, cl) = flat_float64(k1, dist, h_tx, h_rx, diff, clut)
    out = _spm_loop(k1f, k.k2, k.k3, k.k4, k.k5, k.k6, k.k7, d, ht, hr, df, cl)
    return result(out.reshape(shape))
