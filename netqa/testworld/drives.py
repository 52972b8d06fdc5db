"""Drive sessions: what the test phone measures along each route, second by second.

The UE camps on the LTE layers only (1800 and 800; the NR 3500 cells are in
the cell table for predictions but do not serve the test phone).  Per sample:

* RSRP of every LTE cell from :mod:`netqa.testworld.truth` (median + site
  shadowing + 1 dB measurement noise); the serving cell's is reported,
  clipped to the 3GPP reporting range -140..-44 dBm (TS 36.133 section 9.1.4).
* Layer-3 filtering of the measurements (TS 36.331 section 5.5.3.2,
  F_n = (1 - a) F_{n-1} + a M_n, a = 1/2^(k/4), k = 4) and event A3 with
  offset 3 dB and cell individual offset -8 dB on the 800 MHz layer
  (1800 preferred); the report triggers when the condition held for
  ``ttt_s`` consecutive 1-s measurements.  The handover fails with
  probability rising as the serving SINR falls (logistic); after a failure
  the UE re-establishes on the target ``reestablish_s`` later.  A failure
  during a call drops the call.
* Calls: attempts separated by uniform pauses, setup failure probability
  and a drop hazard per second both logistic in SINR; otherwise the call
  ends normally after its hold time.
* Data: alternating download / idle / upload / idle periods; DL and UL
  throughput (Mbit/s) only in their periods, NaN elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from netqa.testworld import truth
from netqa.testworld.config import WorldConfig
from netqa.testworld.network import BANDS
from netqa.testworld.roads import Track
from netqa.testworld.terrain import Terrain

RSRP_RANGE_DBM = (-140.0, -44.0)
RSRQ_RANGE_DB = (-19.5, -3.0)
SINR_RANGE_DB = (-23.0, 40.0)


@dataclass
class Session:
    """Simulated samples (arrays, one per second) and events of one drive."""

    name: str
    track: Track
    serving: np.ndarray  # index into the LTE cell list, -1 = no service
    rsrp_dbm: np.ndarray
    rsrq_db: np.ndarray
    sinr_db: np.ndarray
    dl_mbps: np.ndarray
    ul_mbps: np.ndarray
    rssi_dbm: np.ndarray
    state: np.ndarray  # D, U, I
    nbr: np.ndarray  # strongest other LTE cell index
    nbr_rsrp_dbm: np.ndarray
    nbr_rsrq_db: np.ndarray
    median_serving_dbm: np.ndarray  # noiseless, unshadowed RSRP of the serving cell
    shadow_serving_db: np.ndarray
    sinr_true_db: np.ndarray
    shadow_sites_db: np.ndarray  # (n, n_sites)
    best_median: np.ndarray  # index of the strongest cell by median RSRP
    events: list  # (t_s, event, cell index, target index or -1)


def _periods(rng, total_s: int, plan) -> np.ndarray:
    """Repeat the (state, (lo, hi)) plan until ``total_s`` seconds are filled."""
    out = np.empty(total_s, dtype="<U1")
    t = 0
    k = int(rng.integers(0, len(plan)))
    while t < total_s:
        state, (lo, hi) = plan[k % len(plan)]
        n = int(rng.integers(lo, hi + 1))
        out[t:t + n] = state
        t += n
        k += 1
    return out


def simulate(name: str, track: Track, cfg: WorldConfig, terrain: Terrain, cells: list[dict], site_ids: list[str],
             clutter_loss: dict[int, float], rng: np.random.Generator) -> Session:
    """Run the radio truth along ``track`` (see the module docstring)."""
    n = track.t_s.size
    lte = [c for c in cells if c["tech"] == "LTE"]
    m = len(lte)
    median = truth.median_rsrp_dbm(cfg, terrain, lte, clutter_loss, track.x_m, track.y_m)  # (n, m)
    shadow_sites = truth.ar1_shadow_db(track.dist_m, cfg.shadow_sigma_db, cfg.shadow_decorrelation_m, rng, len(site_ids))
    site_col = np.array([site_ids.index(c["site_id"]) for c in lte])
    shadow = shadow_sites[:, site_col]
    true_dbm = median + shadow
    meas = true_dbm + cfg.meas_noise_db * rng.standard_normal((n, m))

    freq = np.array([c["freq_mhz"] for c in lte])
    n_prb = np.array([BANDS[c["band"]][8] for c in lte], dtype=np.float64)
    scs = np.array([BANDS[c["band"]][7] for c in lte])
    noise_mw = 10.0 ** (truth.thermal_noise_re_dbm(scs, cfg.noise_figure_db) / 10.0)
    p_mw = 10.0 ** (true_dbm / 10.0)
    same = freq[:, None] == freq[None, :]
    tot_same = p_mw @ same.astype(np.float64)  # (n, m): sum over co-channel cells incl. itself
    interf = cfg.load_factor * (tot_same - p_mw)
    sinr_all = 10.0 * np.log10(p_mw / (interf + noise_mw))
    rssi_mw = 12.0 * n_prb * (cfg.load_factor * tot_same + noise_mw)
    rsrq_all = 10.0 * np.log10(n_prb * p_mw / rssi_mw)

    # --- serving cell: L3 filter + A3 with CIO and TTT -----------------------
    a = 1.0 / 2.0 ** (cfg.l3_filter_k / 4.0)
    cio = np.where(freq < 1000.0, cfg.cio_800_db, 0.0)
    filt = meas[0].copy()
    serving = np.empty(n, dtype=np.int64)
    cur = int(np.argmax(filt + cio))
    count, pending, pending_t = 0, -1, -1
    events: list[tuple[float, str, int, int]] = []
    ho_fail_t: list[float] = []
    sinr_meas = sinr_all + cfg.sinr_meas_noise_db * rng.standard_normal((n, m))
    for i in range(n):
        filt = (1 - a) * filt + a * meas[i] if i else filt
        if pending >= 0 and i >= pending_t:
            cur, pending = pending, -1
        serving[i] = cur
        if pending >= 0:
            continue
        rank = filt + cio
        rank_cur = rank[cur]
        rank[cur] = -np.inf
        best = int(np.argmax(rank))
        count = count + 1 if rank[best] > rank_cur + cfg.a3_offset_db else 0
        if count >= cfg.ttt_s:
            count = 0
            t_ev = track.t_s[i] + float(rng.uniform(0.05, 0.6))
            events.append((t_ev, "ho_attempt", cur, best))
            p_fail = truth.logistic_prob(sinr_meas[i, cur], cfg.ho_fail_base, cfg.ho_fail_max,
                                         cfg.ho_fail_sinr50_db, cfg.ho_fail_width_db)
            if rng.random() < p_fail:
                events.append((t_ev + 1.0, "ho_failure", cur, best))
                ho_fail_t.append(t_ev + 1.0)
                pending, pending_t = best, i + cfg.reestablish_s
            else:
                events.append((t_ev + 0.05, "ho_success", cur, best))
                pending, pending_t = best, i + 1
    rows = np.arange(n)
    rsrp = np.clip(meas[rows, serving], *RSRP_RANGE_DBM)
    sinr = np.clip(sinr_meas[rows, serving], *SINR_RANGE_DB)
    rsrq = np.clip(rsrq_all[rows, serving] + 0.5 * rng.standard_normal(n), *RSRQ_RANGE_DB)
    rssi = 10.0 * np.log10(rssi_mw[rows, serving])
    others = meas.copy()
    others[rows, serving] = -np.inf
    nbr = np.argmax(others, axis=1)
    nbr_rsrp = np.clip(meas[rows, nbr], *RSRP_RANGE_DBM)
    nbr_rsrq = np.clip(rsrq_all[rows, nbr] + 0.5 * rng.standard_normal(n), *RSRQ_RANGE_DB)

    # --- data periods and throughput --------------------------------------------
    state = _periods(rng, n, [("D", cfg.dl_period_s), ("I", cfg.idle_period_s), ("U", cfg.ul_period_s), ("I", cfg.idle_period_s)])
    bw = np.array([c["bandwidth_mhz"] for c in lte])[serving]
    sinr_true = sinr_all[rows, serving]
    se_dl = truth.truncated_shannon(sinr_true, *cfg.shannon_dl)
    dl = cfg.sched_share * bw * se_dl * np.exp(cfg.tput_noise_sigma * rng.standard_normal(n))
    rs_epre = np.array([truth.rs_epre_dbm(c["tx_power_dbm"], BANDS[c["band"]][8]) for c in lte])
    coupling = rs_epre[serving] - true_dbm[rows, serving]
    bs_noise = truth.thermal_noise_re_dbm(scs[serving], cfg.bs_noise_figure_db)
    sinr_ul = cfg.ue_power_dbm - 10.0 * np.log10(12.0 * n_prb[serving]) - coupling - bs_noise - cfg.ul_iot_db
    ul = cfg.sched_share * bw * truth.truncated_shannon(sinr_ul, *cfg.shannon_ul) * np.exp(cfg.tput_noise_sigma * rng.standard_normal(n))
    dl = np.where(state == "D", np.round(dl, 2), np.nan)
    ul = np.where(state == "U", np.round(ul, 2), np.nan)

    # --- calls -------------------------------------------------------------------
    t = float(rng.integers(3, 10))
    ho_fail_arr = np.array(ho_fail_t)
    end_t = float(track.t_s[-1])
    while t < end_t - 5:
        i = int(t)
        events.append((t, "call_attempt", int(serving[i]), -1))
        p_sf = truth.logistic_prob(sinr[i], cfg.setup_fail_base, cfg.setup_fail_max, cfg.setup_fail_sinr50_db, cfg.setup_fail_width_db)
        if rng.random() < p_sf:
            t_f = t + float(rng.uniform(2.0, 6.0))
            events.append((min(t_f, end_t), "call_setup_failure", int(serving[min(int(t_f), n - 1)]), -1))
            t = t_f + float(rng.integers(*cfg.call_gap_s))
            continue
        hold = float(rng.integers(*cfg.call_hold_s))
        t_end = min(t + hold, end_t)
        ended = False
        for sec in range(i + 2, int(t_end)):
            fails = ho_fail_arr[(ho_fail_arr >= sec) & (ho_fail_arr < sec + 1)]
            if fails.size:
                events.append((float(fails[0]) + 0.5, "call_drop", int(serving[sec]), -1))
                ended, t_end = True, float(fails[0]) + 0.5
                break
            hz = truth.logistic_prob(sinr[sec], cfg.drop_hazard_base_per_s, cfg.drop_hazard_max_per_s, cfg.drop_sinr50_db, cfg.drop_width_db)
            if rng.random() < 1.0 - np.exp(-hz):
                t_d = sec + float(rng.uniform(0.0, 1.0))
                events.append((t_d, "call_drop", int(serving[sec]), -1))
                ended, t_end = True, t_d
                break
        if not ended:
            events.append((t_end, "call_end", int(serving[min(int(t_end), n - 1)]), -1))
        t = t_end + float(rng.integers(*cfg.call_gap_s))
    order = {"call_attempt": 0, "ho_attempt": 1, "ho_failure": 2, "ho_success": 2, "call_setup_failure": 3, "call_drop": 3, "call_end": 3}
    events.sort(key=lambda e: (round(e[0], 3), order[e[1]]))

    return Session(
        name=name, track=track, serving=serving, rsrp_dbm=rsrp, rsrq_db=rsrq, sinr_db=sinr, dl_mbps=dl, ul_mbps=ul,
        rssi_dbm=rssi, state=state, nbr=nbr, nbr_rsrp_dbm=nbr_rsrp, nbr_rsrq_db=nbr_rsrq,
        median_serving_dbm=median[rows, serving], shadow_serving_db=shadow[rows, serving], sinr_true_db=sinr_true,
        shadow_sites_db=shadow_sites, best_median=np.argmax(median, axis=1), events=events,
    )
