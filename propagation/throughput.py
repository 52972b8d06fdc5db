r"""Throughput mapping: SINR to spectral efficiency (truncated Shannon bound).

The numba core :func:`_truncated_shannon` is called by the raster engine per
pixel; :func:`truncated_shannon_bps_hz` validates and broadcasts.  Multiply the
spectral efficiency by the bandwidth [Hz] (and a scheduling share, if any) for
a throughput.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from propagation._jit import jit
from propagation import _fastmath as _fm
from propagation._validity import as_float, check_range, result

__all__ = [
    "ShannonParams",
    "SHANNON_DL",
    "SHANNON_UL",
    "shannon_sinr_max_db",
    "truncated_shannon_bps_hz",
]


class ShannonParams(NamedTuple):
    """Parameters of the truncated Shannon bound (3GPP TR 36.942 Annex A.2).

    alpha : attenuation factor for implementation losses [1];
    sinr_min_db : SINR below which the throughput is zero [dB];
    se_max_bps_hz : maximum spectral efficiency Thr_MAX [bit/s/Hz].
    """

    alpha: float
    sinr_min_db: float
    se_max_bps_hz: float


#: LTE downlink, 3GPP TR 36.942 V17.0.0 (2022-03) Annex A.2, Table A.2 (alpha 0.6, -10 dB, 4.4 bps/Hz).
SHANNON_DL = ShannonParams(alpha=0.6, sinr_min_db=-10.0, se_max_bps_hz=4.4)
#: LTE uplink, 3GPP TR 36.942 V17.0.0 (2022-03) Annex A.2, Table A.2 (alpha 0.4, -10 dB, 2.0 bps/Hz).
SHANNON_UL = ShannonParams(alpha=0.4, sinr_min_db=-10.0, se_max_bps_hz=2.0)


@jit
def _truncated_shannon(sinr_db, alpha, sinr_min_db, se_max_bps_hz):
    """Truncated Shannon bound, TR 36.942 Annex A.1. [bit/s/Hz]

    0 below sinr_min_db, min(alpha log2(1 + SINR), se_max) above; NaN in, NaN out.
    """
    if math.isnan(sinr_db):
        return math.nan
    if sinr_db < sinr_min_db:
        return 0.0
    se = alpha * np.log2(1.0 + _fm.db_to_lin(sinr_db))  # np.log2 and exp2: glibc's fast ones (see _fastmath)
    return min(se, se_max_bps_hz)


@jit
def _shannon_loop(sinr_db, alpha, sinr_min_db, se_max_bps_hz):
    out = np.empty(sinr_db.size)
    for i in range(out.size):
        out[i] = _truncated_shannon(sinr_db[i], alpha[i], sinr_min_db[i], se_max_bps_hz[i])
    return out


def shannon_sinr_max_db(alpha=0.6, se_max_bps_hz=4.4):
    r"""SINR at which the truncated Shannon bound reaches its maximum. [dB]

    :math:`\mathrm{SINR_{MAX}} = 10\log_{10}(2^{Thr_{MAX}/\alpha} - 1)`, the point
    where :math:`\alpha\log_2(1+\mathrm{SINR}) = Thr_{MAX}`.

    >>> round(float(shannon_sinr_max_db(*SHANNON_DL[::2])), 2)
    22.05
    >>> round(float(shannon_sinr_max_db(0.4, 2.0)), 2)
    14.91
    """
    a = as_float("alpha", alpha)
    se = as_float("se_max_bps_hz", se_max_bps_hz)
    return result(10.0 * np.log10(np.exp2(se / a) - 1.0))


def truncated_shannon_bps_hz(sinr_db, alpha=0.6, sinr_min_db=-10.0, se_max_bps_hz=4.4, *, strict=True):
    r"""Spectral efficiency from SINR by the truncated (attenuated) Shannon bound.

    Parameters
    ----------
    sinr_db : array_like
        Signal to interference-plus-noise ratio. [dB]
    alpha : array_like
        Attenuation factor for implementation losses, (0, 1]. [1]
    sinr_min_db : array_like
        Minimum SINR of the code set; below it the throughput is 0. [dB]
    se_max_bps_hz : array_like
        Maximum spectral efficiency of the code set, > 0. [bit/s/Hz]
    strict : bool
        With ``True`` (default) NaN or infinite ``sinr_db`` raise
        ``ValueError``; with ``False`` NaN passes through as NaN (a pixel with
        no server) and +/-inf map to Thr_MAX / 0.  The parameters must always
        be finite and in range.

    Returns
    -------
    numpy.ndarray or numpy.float64
        Spectral efficiency, in [0, se_max_bps_hz]. [bit/s/Hz]

    Notes
    -----
    .. math::
        Thr(\mathrm{SINR}) = \begin{cases}
            0 & \mathrm{SINR} < \mathrm{SINR_{MIN}} \\
            \alpha \log_2(1 + \mathrm{SINR}) & \mathrm{SINR_{MIN}} \le \mathrm{SINR} < \mathrm{SINR_{MAX}} \\
            Thr_{MAX} & \mathrm{SINR} \ge \mathrm{SINR_{MAX}}
        \end{cases}

    with SINR linear in the logarithm and :math:`\mathrm{SINR_{MAX}}` where
    :math:`\alpha\log_2(1+\mathrm{SINR_{MAX}}) = Thr_{MAX}` (see
    :func:`shannon_sinr_max_db`: 22.05 dB for the downlink, 14.91 dB for the
    uplink defaults).  3GPP TR 36.942 V17.0.0 (2022-03), Annex A.1 eq. (A.1)
    and Table A.2: downlink alpha = 0.6, SINR_MIN = -10 dB, Thr_MAX = 4.4
    bit/s/Hz (:data:`SHANNON_DL`, the defaults); uplink alpha = 0.4,
    SINR_MIN = -10 dB, Thr_MAX = 2.0 bit/s/Hz (:data:`SHANNON_UL`).

    Validity: the fit represents LTE link-level curves (AMC over the LTE MCS
    set, 10 MHz, typical urban channel) for SINR from SINR_MIN up to
    SINR_MAX; outside that it is the truncation by construction.  It gives a
    spectral efficiency per used bandwidth, before any overhead or scheduling
    share.

    Examples
    --------
    >>> round(float(truncated_shannon_bps_hz(10.0)), 4)
    2.0756
    >>> truncated_shannon_bps_hz([-20.0, 0.0, 30.0]).tolist()
    [0.0, 0.6, 4.4]
    >>> float(truncated_shannon_bps_hz(30.0, *SHANNON_UL))
    2.0
    """
    if strict:
        sinr = as_float("sinr_db", sinr_db)
    else:
        try:
            sinr = np.asarray(sinr_db, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"sinr_db must be numeric, got {sinr_db!r}") from exc
    a = as_float("alpha", alpha)
    smin = as_float("sinr_min_db", sinr_min_db)
    semax = as_float("se_max_bps_hz", se_max_bps_hz)
    model = "the truncated Shannon bound"
    check_range("alpha", a, 0.0, 1.0, "", model, True, lo_inclusive=False)
    check_range("se_max_bps_hz", semax, 0.0, np.inf, "bit/s/Hz", model, True, lo_inclusive=False)
    bcast = np.broadcast_arrays(sinr, a, smin, semax)
    shape = bcast[0].shape
    flat = [np.ascontiguousarray(x, dtype=np.float64).reshape(-1) for x in bcast]
    return result(_shannon_loop(*flat).reshape(shape))
