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

from propagation._jit import jit_parallel, prange
from propagation.engine._common import C_BW, C_FREQ_INDEX, C_LOAD
from propagation.throughput import SHANNON_DL, SHANNON_UL, _truncated_shannon

_LN10_10 = math.log(10.0) / 10.0

#: Truncated-Shannon parameters (alpha, SINR_min [dB], SE_max [bit/s/Hz]), TR 36.942 Annex A.
SHANNON_DL_PARAMS = tuple(float(v) for v in SHANNON_DL)
SHANNON_UL_PARAMS = tuple(float(v) for v in SHANNON_UL)


@jit_parallel
def _combine(cells, ul_offset_db, best_rsrp, best_idx, pow_sum, noise_ue_dbm, noise_bs_dbm, ul_margin_db, sh, out):
    """Fill ``out`` (5, rows, cols) float32: rsrp_dbm, best_cell, sinr_db, dl_mbps, ul_mbps (NaN where no cell).

    ``sh`` = (alpha_dl, min_dl, max_dl, alpha_ul, min_ul, max_ul).
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
            p_mw = math.exp(rsrp * _LN10_10)
            interf = pow_sum[int(cells[b, C_FREQ_INDEX]), r, c] - cells[b, C_LOAD] * p_mw
            interf = max(interf, 0.0)
            sinr = 10.0 * math.log10(p_mw / (interf + noise_mw))
            snr_ul = ul_offset_db[b] + rsrp - noise_bs_dbm - ul_margin_db
            bw = cells[b, C_BW]
            out[0, r, c] = rsrp
            out[1, r, c] = b
            out[2, r, c] = sinr
            out[3, r, c] = bw * _truncated_shannon(sinr, sh[0], sh[1], sh[2])
            out[4, r, c] = bw * _truncated_shannon(snr_ul, sh[3], sh[4], sh[5])
