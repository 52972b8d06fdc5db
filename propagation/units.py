"""dB <-> linear conversions.  Average dBm quantities in the linear domain."""

from __future__ import annotations

import numpy as np


def mw_from_dbm(power_dbm):
    """Power in milliwatts from dBm: ``10 ** (P / 10)``. [dBm] -> [mW]"""
    return np.power(10.0, np.asarray(power_dbm, dtype=np.float64) / 10.0)


def dbm_from_mw(power_mw):
    """Power in dBm from milliwatts: ``10 log10(P)``. [mW] -> [dBm]; 0 mW gives -inf."""
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.asarray(power_mw, dtype=np.float64))


def linear_from_db(ratio_db):
    """Power ratio from dB. [dB] -> [1]"""
    return np.power(10.0, np.asarray(ratio_db, dtype=np.float64) / 10.0)


def db_from_linear(ratio):
    """Power ratio in dB. [1] -> [dB]"""
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.asarray(ratio, dtype=np.float64))


def mean_dbm(power_dbm, axis=None):
    """Linear-domain mean of dBm values (NaN ignored), returned in dBm.

    >>> round(float(mean_dbm([-100.0, -90.0])), 2)
    -92.6
    """
    mw = mw_from_dbm(power_dbm)
    return dbm_from_mw(np.nanmean(mw, axis=axis))


#: Thermal noise power spectral density at 290 K. [dBm/Hz]
THERMAL_NOISE_DBM_PER_HZ = -173.975

__all__ = [
    "mw_from_dbm",
    "dbm_from_mw",
    "linear_from_db",
    "db_from_linear",
    "mean_dbm",
    "THERMAL_NOISE_DBM_PER_HZ",
]
