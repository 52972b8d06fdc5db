r"""The truth model of the test world: what the "real network" measures.

Deliberately independent of :mod:`propagation` (numpy only, own code), so
that the engine and calibration can be checked against it.  Equation by
equation, for a UE at local point (x, y) and a cell c:

1. Reference-signal power per resource element (RS EPRE), 12 subcarriers
   per PRB (TS 36.213 section 5.2: RS EPRE is per RE, equal power over all
   REs assumed)::

       P_RE,c = P_tot,c - 10 log10(12 N_PRB,c)                    [dBm]

   N_PRB = 100 (LTE 20 MHz), 50 (LTE 10 MHz), 273 (NR 100 MHz, 30 kHz SCS).

2. Geometry, real 3-D: antenna at z_tx = ground(site) + h_ant, UE at
   z_rx = ground(x, y) + h_rx; horizontal distance d, azimuth offset
   phi = bearing(site -> UE) - azimuth (wrapped to [-180, 180)), depression
   angle theta = atan2(z_tx - z_rx, d) (positive below the horizon).

3. Antenna gain, 3GPP parametric sector (TR 36.814 Table A.2.1.1-2,
   TR 38.901 Table 7.3-1 form), tilt = mechanical + electrical (a pure
   shift of the vertical cut)::

       A_H = -min(12 (phi / 65)^2, 25)
       A_V = -min(12 ((theta - tilt) / 10)^2, 20)
       G   = G_max - min(-(A_H + A_V), 25)                        [dBi]

4. Path loss, Standard Propagation Model with known K (config.SpmTruth),
   d in km (clamped to >= 20 m), h_eff = antenna height above the ground
   AT THE SITE (height_m of the cell table; no terrain-slope correction)::

       L = K1 + K_f log10(f / f_ref) + K2 log10 d + K3 log10 h_eff
           + K4 L_diff + K5 log10 d log10 h_eff + K6 h_rx + K7 log10 h_rx

   L_diff is single main-edge knife-edge diffraction over the DEM profile
   (the edge of largest Fresnel-Kirchhoff parameter v among
   ``n_profile_points`` equally spaced points, Earth bulge with k = 4/3),
   J(v) = 6.9 + 20 log10(sqrt((v - 0.1)^2 + 1) + v - 0.1) for v > -0.78,
   else 0 (ITU-R P.526-15 eq. (31)).

5. Clutter loss of the UE's pixel, from ``clutter_classes.csv``.

6. Received RS power::

       RSRP_c = P_RE,c + G_c - feeder_c - L_c - L_clutter + S_site(c) + n

   S is the log-normal shadowing of the site (sigma 6 dB), exponentially
   correlated along the route (Gudmundson): an AR(1) in distance travelled,
   S_i = rho S_{i-1} + sqrt(1 - rho^2) sigma e_i, rho = exp(-dd / 50 m).
   Each site has its own independent process (sectors and bands of one
   site share it: same path); sessions are independent realisations.
   n ~ N(0, 1 dB) is the measurement noise.

7. SINR per RE against co-channel cells (same frequency), each loaded at
   ``load_factor``, and thermal noise per RE::

       N_RE = -174 + 10 log10(SCS_Hz) + NF                         [dBm]
       SINR = RSRP_s / (sum_{j != s, f_j = f_s} load RSRP_j + N_RE)

8. RSSI over the N_PRB of the carrier and RSRQ (TS 36.214 section 5.1.3)::

       RSSI = 12 N_PRB (load RSRP_s + sum_j load RSRP_j + N_RE)    [mW]
       RSRQ = N_PRB RSRP_s / RSSI

   (the serving cell's own data REs are loaded like the others.)

9. Throughput, truncated Shannon (TR 36.942 Annex A) with log-normal noise::

       SE = 0 if SINR < SINR_min, else min(alpha log2(1 + SINR), SE_max)
       DL = share x B x SE x exp(N(0, 0.15))                      [Mbit/s]

   Uplink: the UE spreads 23 dBm over the carrier; the coupling loss is
   P_RE - RSRP (antenna gains included), SINR_UL = P_UE - 10 log10(12 N_PRB)
   - coupling - (N_RE,BS) - IoT, with alpha 0.4, SE_max 2.0.
"""

from __future__ import annotations

import numpy as np

from netqa.testworld.config import SpmTruth, WorldConfig
from netqa.testworld.terrain import Terrain

EARTH_RADIUS_M = 6371000.0
C_M_PER_S = 299792458.0


def rs_epre_dbm(tx_power_dbm, n_prb):
    """RS power per resource element from the total cell power (eq. 1). [dBm]

    >>> round(float(rs_epre_dbm(46.0, 100)), 2)
    15.21
    """
    return np.asarray(tx_power_dbm, dtype=np.float64) - 10.0 * np.log10(12.0 * np.asarray(n_prb, dtype=np.float64))


def thermal_noise_re_dbm(scs_khz, nf_db):
    """Thermal noise in one subcarrier: -174 dBm/Hz + 10 log10(SCS) + NF (eq. 7). [dBm]

    >>> round(float(thermal_noise_re_dbm(15.0, 7.0)), 2)
    -125.24
    """
    return -174.0 + 10.0 * np.log10(np.asarray(scs_khz, dtype=np.float64) * 1e3) + nf_db


def sector_gain_rel_db(az_off_deg, depression_deg, tilt_deg, hpbw_h_deg=65.0, hpbw_v_deg=10.0, sla_v_db=20.0, am_db=25.0):
    """3GPP parametric sector attenuation relative to the peak (eq. 3), <= 0. [dB]

    >>> float(sector_gain_rel_db(0.0, 5.0, 5.0))
    0.0
    >>> float(sector_gain_rel_db(65.0 / 2, 5.0, 5.0))
    -3.0
    """
    phi = (np.asarray(az_off_deg, dtype=np.float64) + 180.0) % 360.0 - 180.0
    a_h = np.minimum(12.0 * (phi / hpbw_h_deg) ** 2, am_db)
    a_v = np.minimum(12.0 * ((np.asarray(depression_deg) - tilt_deg) / hpbw_v_deg) ** 2, sla_v_db)
    return -np.minimum(a_h + a_v, am_db)


def knife_edge_db(v):
    """ITU-R P.526-15 eq. (31) knife-edge loss J(v), 0 for v <= -0.78. [dB]

    >>> round(float(knife_edge_db(0.0)), 2)
    6.03
    """
    v = np.asarray(v, dtype=np.float64)
    j = 6.9 + 20.0 * np.log10(np.sqrt((v - 0.1) ** 2 + 1.0) + v - 0.1)
    return np.where(v > -0.78, j, 0.0)


def spm_loss_db(k: SpmTruth, freq_mhz, dist_km, h_eff_m, h_rx_m, diffraction_db):
    """SPM path loss with the truth coefficients (eq. 4), d clamped to >= 0.02 km. [dB]

    >>> round(float(spm_loss_db(SpmTruth(), 1800.0, 1.0, 10.0, 1.5, 0.0)), 2)
    113.36
    """
    d = np.log10(np.maximum(np.asarray(dist_km, dtype=np.float64), 0.02))
    h = np.log10(np.maximum(np.asarray(h_eff_m, dtype=np.float64), 1.0))
    k1 = k.k1 + k.k_freq_db_per_decade * np.log10(np.asarray(freq_mhz) / k.f_ref_mhz)
    return (k1 + k.k2 * d + k.k3 * h + k.k4 * np.asarray(diffraction_db) + k.k5 * d * h
            + k.k6 * h_rx_m + k.k7 * np.log10(h_rx_m))


def main_edge_diffraction_db(terrain: Terrain, tx_xy, z_tx_m, rx_x, rx_y, z_rx_m, freq_mhz, n_points: int, k_factor: float):
    """Single main-edge knife-edge loss over the DEM between one site and many points (eq. 4). [dB]"""
    tx_x, tx_y = tx_xy
    rx_x = np.asarray(rx_x, dtype=np.float64)
    rx_y = np.asarray(rx_y, dtype=np.float64)
    dist = np.hypot(rx_x - tx_x, rx_y - tx_y)
    t = (np.arange(1, n_points + 1) / (n_points + 1))[:, None]  # (k, 1)
    px = tx_x + t * (rx_x - tx_x)[None, :]
    py = tx_y + t * (rx_y - tx_y)[None, :]
    ground = terrain.elev_at(px, py)
    d1 = t * dist[None, :]
    d2 = (1 - t) * dist[None, :]
    bulge = d1 * d2 / (2.0 * k_factor * EARTH_RADIUS_M)
    los = z_tx_m + t * (np.asarray(z_rx_m) - z_tx_m)[None, :]
    h = ground + bulge - los
    lam = C_M_PER_S / (freq_mhz * 1e6)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = h * np.sqrt(2.0 * dist[None, :] / (lam * d1 * d2))
    v = np.where(dist[None, :] > 1.0, v, -10.0)
    return knife_edge_db(v.max(axis=0))


def median_rsrp_dbm(cfg: WorldConfig, terrain: Terrain, cells: list[dict], clutter_loss_db: dict[int, float], x_m, y_m):
    """Noiseless, unshadowed RSRP of every cell at every point (eqs. 1-5): shape (n_points, n_cells). [dBm]"""
    from netqa.testworld.network import BANDS

    x = np.asarray(x_m, dtype=np.float64)
    y = np.asarray(y_m, dtype=np.float64)
    z_rx = terrain.elev_at(x, y) + cfg.h_rx_m
    codes = terrain.clutter_at(x, y)
    lut = np.zeros(256)
    for code, loss in clutter_loss_db.items():
        lut[code] = loss
    l_clutter = lut[codes]
    out = np.empty((x.size, len(cells)))
    site_cache: dict[tuple, np.ndarray] = {}
    for j, c in enumerate(cells):
        tech, _f, _bw, _p, _e, _l, _g, _scs, n_prb = BANDS[c["band"]]
        ground_tx = float(terrain.elev_at(c["x_m"], c["y_m"]))
        z_tx = ground_tx + c["height_m"]
        dx, dy = x - c["x_m"], y - c["y_m"]
        dist_m = np.hypot(dx, dy)
        bearing = np.degrees(np.arctan2(dx, dy))
        depression = np.degrees(np.arctan2(z_tx - z_rx, np.maximum(dist_m, 1.0)))
        tilt = c["mech_tilt_deg"] + c["elec_tilt_deg"]
        gain = c["gain_dbi"] + sector_gain_rel_db(bearing - c["azimuth_deg"], depression, tilt)
        key = (c["site_id"], c["freq_mhz"])
        if key not in site_cache:
            site_cache[key] = main_edge_diffraction_db(terrain, (c["x_m"], c["y_m"]), z_tx, x, y, z_rx, c["freq_mhz"],
                                                       cfg.n_profile_points, cfg.earth_k_factor)
        loss = spm_loss_db(cfg.spm, c["freq_mhz"], dist_m / 1000.0, c["height_m"], cfg.h_rx_m, site_cache[key])
        out[:, j] = rs_epre_dbm(c["tx_power_dbm"], n_prb) + gain - c["feeder_loss_db"] - loss - l_clutter
    return out


def ar1_shadow_db(dist_along_m, sigma_db: float, decorrelation_m: float, rng: np.random.Generator, n_proc: int) -> np.ndarray:
    """``n_proc`` independent exponentially correlated shadowing series along a route (eq. 6). [dB]

    Correlation between two points dd metres apart (along the route) is exp(-dd / decorrelation_m).
    """
    s = np.asarray(dist_along_m, dtype=np.float64)
    e = rng.standard_normal((s.size, n_proc))
    out = np.empty((s.size, n_proc))
    out[0] = sigma_db * e[0]
    rho = np.exp(-np.diff(s) / decorrelation_m)
    for i in range(1, s.size):
        out[i] = rho[i - 1] * out[i - 1] + np.sqrt(1.0 - rho[i - 1] ** 2) * sigma_db * e[i]
    return out


def truncated_shannon(sinr_db, alpha: float, sinr_min_db: float, se_max: float):
    """Spectral efficiency, TR 36.942 Annex A (eq. 9). [bit/s/Hz]

    >>> float(truncated_shannon(-20.0, 0.6, -10.0, 4.4))
    0.0
    >>> float(truncated_shannon(40.0, 0.6, -10.0, 4.4))
    4.4
    """
    s = np.asarray(sinr_db, dtype=np.float64)
    se = np.minimum(alpha * np.log2(1.0 + 10.0 ** (s / 10.0)), se_max)
    return np.where(s < sinr_min_db, 0.0, se)


def logistic_prob(sinr_db, base: float, top: float, sinr50_db: float, width_db: float):
    """Probability rising from ``base`` (good SINR) to ``top`` (bad SINR): base + (top-base)/(1+exp((SINR-s50)/w)).

    >>> round(float(logistic_prob(-4.0, 0.0, 0.5, -4.0, 1.5)), 3)
    0.25
    """
    s = np.asarray(sinr_db, dtype=np.float64)
    return base + (top - base) / (1.0 + np.exp((s - sinr50_db) / width_db))
