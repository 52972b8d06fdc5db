r"""Combination kernel: best server, SINR and throughput from the accumulators.

Per pixel, with b the best server (highest RSRP) and f its carrier:

    S = P_b,  I = sum_{j != b, f_j = f} load_j P_j,  N = N0 + 10 log10(15 kHz) + NF_ue
    SINR = S / (I + N)                       (all per resource element, linear mW)

``P`` is each cell's RSRP (reference-signal power per resource element) in
mW; ``load`` the share of resource elements a cell occupies.  The kernel gets
the load-weighted sum over *all* cells of each carrier (float64) and subtracts
the serving cell's own term.

Throughput (3GPP TR 36.942 v17 Annex A.2, truncated Shannon):
SE(SINR) = 0 below SINR_min, alpha log2(1 + SINR) capped at SE_max;
DL: alpha 0.6, SINR_min -10 dB, SE_max 4.4 bit/s/Hz; UL: alpha 0.4,
SINR_min -10 dB, SE_max 2.0 bit/s/Hz.  Throughput = bandwidth x SE [Mbit/s].

Uplink SNR (documented simplification, one UE on the whole carrier, no
uplink interference beyond a fixed margin):
SNR_ul = P_ue - 10 log10(N_sc) - CL - (N0 + 10 log10(15 kHz) + NF_bs) - M_ul,
with the coupling loss CL = rs_power_dbm_b - RSRP (path loss, antenna gains,
feeder and clutter, reciprocal), N_sc the carrier's subcarriers.
"""

from __future__ import annotations

import math

import numpy as np

from propagation._jit import jit, jit_parallel, prange
from propagation import _fastmath as _fm
from propagation.engine._common import C_BW, C_FREQ_INDEX, C_LOAD
from propagation.throughput import SHANNON_DL, SHANNON_UL, _truncated_shannon

_LN10_10 = math.log(10.0) / 10.0

#: Truncated-Shannon parameters (alpha, SINR_min [dB], SE_max [bit/s/Hz]), TR 36.942 Annex A.
SHANNON_DL_PARAMS = tuple(float(v) for v in SHANNON_DL)
SHANNON_UL_PARAMS = tuple(float(v) for v in SHANNON_UL)


def _cap_db(alpha, se_max_bps_hz):
    """SINR above which alpha log2(1 + SINR) >= se_max for sure (1e-6 dB over the exact crossing). [dB]"""
    return 10.0 * math.log10(2.0 ** (se_max_bps_hz / alpha) - 1.0) + 1e-6


#: Above these SINRs the truncated Shannon value is SE_max exactly (the pow and log2 are skipped).
SHANNON_DL_CAP_DB = _cap_db(SHANNON_DL_PARAMS[0], SHANNON_DL_PARAMS[2])
SHANNON_UL_CAP_DB = _cap_db(SHANNON_UL_PARAMS[0], SHANNON_UL_PARAMS[2])


@jit
def _shannon_capped(sinr_db, alpha, sinr_min_db, se_max_bps_hz, cap_db):
    """:func:`_truncated_shannon`, returning ``se_max_bps_hz`` at once above ``cap_db`` (same value). [bit/s/Hz]"""
    if sinr_db > cap_db:
        return se_max_bps_hz
    return _truncated_shannon(sinr_db, alpha, sinr_min_db, se_max_bps_hz)


@jit_parallel
def _combine(cells, ul_offset_db, best_rsrp, best_idx, pow_sum, noise_ue_dbm, noise_bs_dbm, ul_margin_db, sh, out):
    """Fill ``out`` (5, rows, cols) float32: rsrp_dbm, best_cell, sinr_db, dl_mbps, ul_mbps (NaN where no cell).

    ``sh`` = (alpha_dl, min_dl, max_dl, alpha_ul, min_ul, max_ul, cap_dl_db, cap_ul_db): the caps are
    :func:`_cap_db` of the DL and UL parameters (above them SE = max without evaluating the log).
    """
    n_rows, n_cols = best_rsrp.shape
    noise_mw = math.exp(noise_ue_dbm * _LN10_10)
    for r in prange(n_rows):
        for c in range(n_cols):
            b = best_idx[r, c]
            if b < 0:
                for k in range(5):
                    out[k, r, c] = np.nan
                continue
            rsrp = best_rsrp[r, c]
            p_mw = _fm.db_to_lin(rsrp)
            interf = pow_sum[int(cells[b, C_FREQ_INDEX]), r, c] - cells[b, C_LOAD] * p_mw
            interf = max(interf, 0.0)
            sinr = 10.0 * _fm.log10(p_mw / (interf + noise_mw))
            snr_ul = ul_offset_db[b] + rsrp - noise_bs_dbm - ul_margin_db
            bw = cells[b, C_BW]
            out[0, r, c] = rsrp
            out[1, r, c] = b
            out[2, r, c] = sinr
            out[3, r, c] = bw * _shannon_capped(sinr, sh[0], sh[1], sh[2], sh[6])
            out[4, r, c] = bw * _shannon_capped(snr_ul, sh[3], sh[4], sh[5], sh[7])
