r"""Closed-form received-power kernel: path loss, antenna gain, clutter, accumulation.

For one *path group* (co-sited cells with the same antenna height, frequency
and radius, which share one path-loss computation) the kernel evaluates, at
every pixel of a window within the radius,

    rsrp_dbm = rs_power_dbm + gain_dbi - feeder_loss_db + A(phi, theta)
               - L_model(d) - k_diff L_terrain - L_clutter - L_ctt(f, d, p) - L_path

and folds each cell's value into the running best server and the load-weighted
co-channel power sums (see :mod:`propagation.engine.combine`).

Geometry (per pixel, shared by the cells of the group): horizontal distance d
from the mast to the pixel centre (clamped to ``min_dist_km``), bearing phi from
north clockwise, and the elevation angle theta = atan2(z_px + h_rx - z_site -
h_tx, d) from the real terrain heights.  The loss is never below free space
over d (a guard for the empirical models near the mast).

Path-loss models (cores from :mod:`propagation.pathloss` / ``tr38901``):
Hata, COST-231 and free space are affine in log10(d), so the kernel takes
L = a + b log10(d) with a, b computed once per group from the model cores (exact
to rounding).  SPM is evaluated per pixel with the effective antenna height
h_eff = max(z_site + h_tx - z_px, 1 m) ("height above the receiver's ground");
its diffraction term is K4 x terrain loss.  TR 38.901 is evaluated per pixel,
LOS where the terrain method finds a clear path (diffraction loss 0), else
NLOS; without terrain every pixel is NLOS.

Clutter: ``L_clutter`` is a per-pixel raster, one plane for all carriers or
one per carrier frequency (plane = the group's ``freq_index``).  ``L_ctt`` is
ITU-R P.2108-1 section 3.2 (:func:`propagation.p2108._l_ctt_w_db`) where the
statistical-clutter mask is set: d clamped to >= 0.25 km, capped at its 2 km
value (computed once per group; for Q^-1(p) >= 0, i.e. p <= 50 %, L_ctt is
non-decreasing in d, so pixels beyond 2 km take the cap without evaluation).
``L_path`` is the optional per-group window of clutter losses weighted along
the path (:mod:`propagation.engine.path_clutter`), never scaled by K4.
"""

from __future__ import annotations

import math

import numpy as np

from propagation._jit import jit, jit_parallel, prange
from propagation import _fastmath as _fm
from propagation.antenna import _sector_gain_db
from propagation.antenna_pattern import _pattern_gain_db
from propagation.engine._common import (
    C_AM,
    C_AZ,
    C_ETILT,
    C_FEEDER,
    C_FREQ_INDEX,
    C_GAIN,
    C_HPBW_H,
    C_HPBW_V,
    C_LOAD,
    C_MTILT,
    C_PATTERN,
    C_RS,
    C_SLA_V,
    MP_CITY,
    MP_ENV,
    MP_H_BUILDING,
    MP_K1,
    MP_K_DIFF,
    MP_HEFF_GROUND,
    _spm_h_eff_m,
    MP_MIN_DIST_KM,
    MP_RX_HEIGHT,
    MP_STREET_WIDTH,
    PATTERN_OMNI,
    PATTERN_SECTOR,
    PathLossModel,
)
from propagation.p2108 import P2108_CAP_DIST_KM, P2108_MIN_DIST_KM, _l_ctt_w_db, _w_l
from propagation.pathloss import FSPL_CONST_MHZ_KM_DB, _cost231_db, _fspl_db, _hata_db
from propagation.spm import _spm_db
from propagation.tr38901 import _tr38901_db

_RAD2DEG = 180.0 / math.pi


def affine_loss_coefficients(model_id, freq_mhz, h_tx_m, mp):
    """(a, b) with L = a + b log10(d_km) for the models affine in log10(d); (0, 0) otherwise.

    Computed from the model cores at 1 and 10 km, so the kernel reproduces
    them to rounding.
    """
    h_rx = mp[MP_RX_HEIGHT]
    env, city = int(mp[MP_ENV]), int(mp[MP_CITY])
    if model_id == PathLossModel.FSPL:
        f = lambda d: _fspl_db(freq_mhz, d)  # noqa: E731
    elif model_id == PathLossModel.HATA:
        f = lambda d: _hata_db(freq_mhz, d, h_tx_m, h_rx, env, city)  # noqa: E731
    elif model_id == PathLossModel.COST231:
        f = lambda d: _cost231_db(freq_mhz, d, h_tx_m, h_rx, city)  # noqa: E731
    else:
        return 0.0, 0.0
    a = float(f(1.0))
    return a, float(f(10.0)) - a


@jit
def _model_loss_db(model_id, a_db, b_db, freq_mhz, dist_km, log_d, h_tx_m, h_tx_eff_m, diff_db, terrain_on, mp):
    """Median path loss of the group's model at one pixel, terrain term included. [dB]"""
    if model_id <= 2:  # FSPL, Hata, COST-231: affine in log10(d)
        loss = a_db + b_db * log_d + mp[MP_K_DIFF] * diff_db
    elif model_id == 3:  # SPM; k1 already moved to the group frequency
        loss = _spm_db(
            mp[MP_K1], mp[MP_K1 + 1], mp[MP_K1 + 2], mp[MP_K1 + 3], mp[MP_K1 + 4], mp[MP_K1 + 5], mp[MP_K1 + 6],
            dist_km, h_tx_eff_m, mp[MP_RX_HEIGHT], diff_db, 0.0,
        )  # fmt: skip
    else:
        los = 1 if (terrain_on and diff_db <= 0.0) else 0
        loss = _tr38901_db(
            model_id - 4, freq_mhz, dist_km, h_tx_m, mp[MP_RX_HEIGHT], los, mp[MP_H_BUILDING], mp[MP_STREET_WIDTH]
        ) + diff_db
    return loss


@jit
def _antenna_gain_db(cells, i, patterns, az_off_deg, elev_deg):
    """Pattern gain relative to the peak for cell ``i`` (<= 0). [dB]

    Omni: 0.  Sector: 3GPP parametric pattern with downtilt = mechanical +
    electrical.  Measured: ``patterns[k]`` holds the horizontal cut and the
    vertical cut as stored (:meth:`propagation.antenna_pattern.AntennaPattern.kernel_cuts`),
    weighted bilinear 3-D reconstruction with the cell's mechanical tilt; the
    cell's ``elec_tilt_deg`` column is the electrical tilt to ADD to the cuts.
    """
    pid = cells[i, C_PATTERN]
    if pid == PATTERN_OMNI:
        return 0.0
    if pid == PATTERN_SECTOR:
        return _sector_gain_db(
            az_off_deg, elev_deg, cells[i, C_MTILT] + cells[i, C_ETILT],
            cells[i, C_HPBW_H], cells[i, C_HPBW_V], cells[i, C_SLA_V], cells[i, C_AM],
        )  # fmt: skip
    k = int(pid)
    return _pattern_gain_db(patterns[k, 0], patterns[k, 1], az_off_deg, elev_deg, cells[i, C_MTILT], cells[i, C_ETILT], 0)


#: atan(t) / t as a polynomial in t^2 on [0, 1] (least squares on Chebyshev nodes, degree 8);
#: |atan error| <= 6.6e-9 rad (3.8e-7 deg), far below what moves a pattern gain by 1e-5 dB.
_ATAN_C = (
    0.9999998722694946, -0.33332527759618613, 0.19984927542895173, -0.14155040335031754, 0.1047824402036409,
    -0.07195615861742706, 0.03935786142469293, -0.014159102528244748, 0.002399661039689975,
)  # fmt: skip
_C0, _C1, _C2, _C3, _C4, _C5, _C6, _C7, _C8 = _ATAN_C
_HALF_PI = 0.5 * math.pi


@jit
def _atan2_deg(y, x):
    """atan2(y, x) in degrees by a polynomial (|error| <= 4e-7 deg); 0 at the origin."""
    ax = abs(x)
    ay = abs(y)
    if ax >= ay:
        if ax == 0.0:
            return 0.0
        t = ay / ax
        swap = False
    else:
        t = ax / ay
        swap = True
    u = t * t
    a = t * (_C0 + u * (_C1 + u * (_C2 + u * (_C3 + u * (_C4 + u * (_C5 + u * (_C6 + u * (_C7 + u * _C8))))))))
    if swap:
        a = _HALF_PI - a
    if x < 0.0:
        a = math.pi - a
    if y < 0.0:
        a = -a
    return a * _RAD2DEG


@jit
def _atan2_deg_bf(y, x):
    """Same as :func:`_atan2_deg` (bit for bit) with selects instead of branches, so a row loop vectorises."""
    ax = abs(x)
    ay = abs(y)
    swap = ay > ax
    t = min(ax, ay) / max(max(ax, ay), 1e-300)
    u = t * t
    a = t * (_C0 + u * (_C1 + u * (_C2 + u * (_C3 + u * (_C4 + u * (_C5 + u * (_C6 + u * (_C7 + u * _C8))))))))
    a = _HALF_PI - a if swap else a
    a = math.pi - a if x < 0.0 else a
    a = -a if y < 0.0 else a
    return a * _RAD2DEG


@jit
def _member_constants(cells, members, mp):
    """Per-member constants of a path group, (n_members, 8): EIRP part, azimuth, total tilt, 12/hpbw_h^2,
    12/hpbw_v^2, SLA_V, A_m, load x 10^(EIRP/10) (all dB/deg as in the cell matrix)."""
    out = np.empty((members.size, 8))
    for m in range(members.size):
        i = members[m]
        eirp = cells[i, C_RS] + cells[i, C_GAIN] - cells[i, C_FEEDER]
        out[m, 0] = eirp
        out[m, 1] = cells[i, C_AZ]
        out[m, 2] = cells[i, C_MTILT] + cells[i, C_ETILT]
        out[m, 3] = 12.0 / (cells[i, C_HPBW_H] * cells[i, C_HPBW_H])
        out[m, 4] = 12.0 / (cells[i, C_HPBW_V] * cells[i, C_HPBW_V])
        out[m, 5] = cells[i, C_SLA_V]
        out[m, 6] = cells[i, C_AM]
        out[m, 7] = cells[i, C_LOAD]
    return out


@jit_parallel
def _accumulate_group(
    cells, members, patterns, elev_m, clutter_db, stat_mask, stat_q_inv, x0_m, y0_m, pixel_m,
    win, tile, excess_db, path_db, model_id, a_db, b_db, mp, best_rsrp, best_idx, pow_sum, per_cell,
):  # fmt: skip
    """Fold the cells ``members`` (one path group) into the tile accumulators.

    ``clutter_db`` is (n_planes, rows, cols) float32 over the full grid (one
    plane for all carriers, or one per ``freq_index``), (0, 0, 0) for none;
    ``stat_mask`` (rows, cols) uint8, or (0, 0) for no statistical clutter
    loss; ``stat_q_inv`` = Q^-1(p / 100) of its location percentage.

    ``win`` = (row0, row1, col0, col1) in full-grid pixels; ``tile`` = (row0,
    col0) of the accumulators in the full grid; ``excess_db`` the terrain loss
    over the window (float32, shape of the window) or a (0, 0) array for none;
    ``path_db`` the clutter loss weighted along the path (float64, shape of
    the window; :mod:`propagation.engine.path_clutter`) or (0, 0) for none,
    added to the loss after the free-space floor and never scaled by K4 /
    ``k_diff`` (it is no terrain loss).
    ``per_cell`` is (n_cells, tile rows, tile cols) or (0, 0, 0).

    Per pixel the group's loss, bearing and elevation are computed once (a
    polynomial atan2); per member the pattern gain and one exp (float64: the
    combination subtracts the server's own term from the sum, so float32 would not do); the members'
    best value and load-weighted power (one carrier per group) are folded
    locally and written once.
    """
    c0 = members[0]
    xs = cells[c0, 0]
    ys = cells[c0, 1]
    z_tx = cells[c0, 2] + cells[c0, 3]
    h_tx = cells[c0, 3]
    freq = cells[c0, 7]
    f_idx = int(cells[c0, C_FREQ_INDEX])
    radius_m = cells[c0, 13] * 1000.0
    r2_max = radius_m * radius_m
    h_rx = mp[MP_RX_HEIGHT]
    min_d_km = mp[MP_MIN_DIST_KM]
    fspl_a = FSPL_CONST_MHZ_KM_DB + 20.0 * math.log10(freq)
    k_diff = mp[MP_K_DIFF]
    # SPM: L = c0 + k2 log d + (k3 + k5 log d) log h_eff + k4 diff (k6, k7 terms folded in c0)
    spm_c0 = mp[MP_K1] + mp[MP_K1 + 5] * h_rx + mp[MP_K1 + 6] * math.log10(h_rx)
    spm_ground = mp[MP_HEFF_GROUND] > 0.5
    log_h_ground = math.log10(h_tx)
    has_excess = excess_db.shape[0] > 0
    has_path = path_db.shape[0] > 0
    has_clutter = clutter_db.shape[0] > 0
    c_plane = f_idx if clutter_db.shape[0] > 1 else 0
    has_stat = stat_mask.shape[0] > 0
    f_ghz = freq * 1e-3
    stat_w_l = _w_l(f_ghz) if has_stat else 0.0  # the carrier's eq. (7) term, once per group
    stat_cap_db = _l_ctt_w_db(stat_w_l, f_ghz, P2108_CAP_DIST_KM, stat_q_inv) if has_stat else 0.0
    stat_far_is_cap = stat_q_inv >= 0.0  # p <= 50 %: L_ctt non-decreasing in d, min(L_ctt(d), cap) = cap beyond 2 km
    write_per_cell = per_cell.shape[0] > 0
    r0, r1, cc0, cc1 = win[0], win[1], win[2], win[3]
    tr0, tc0 = tile[0], tile[1]
    n_mem = members.size
    mc = _member_constants(cells, members, mp)
    need_angles = False
    pids = np.empty(n_mem, np.int64)  # 0 omni, 1 sector, 2 measured (checked once, not per pixel)
    for m in range(n_mem):
        pid_m = cells[members[m], C_PATTERN]
        pids[m] = 0 if pid_m == PATTERN_OMNI else (1 if pid_m == PATTERN_SECTOR else 2)
        if pid_m != PATTERN_OMNI:
            need_angles = True
    n_c = cc1 - cc0
    for r in prange(r0, r1):
        dy = (y0_m - (r + 0.5) * pixel_m) - ys
        dy2 = dy * dy
        tr = r - tr0
        # the row's geometry first, in a branch-free loop the compiler vectorises (angles only for patterns)
        row_d2 = np.empty(n_c)
        row_dist = np.empty(n_c)
        row_elev = np.empty(n_c if need_angles else 0)
        row_bear = np.empty(n_c if need_angles else 0)
        for k in range(n_c):
            dx = (x0_m + (cc0 + k + 0.5) * pixel_m) - xs
            d2 = dx * dx + dy2
            row_d2[k] = d2
            row_dist[k] = math.sqrt(d2)
        if need_angles:
            # only the chord of the disk on this row (one pixel of margin; the exact test is below)
            half = math.sqrt(max(r2_max - dy2, 0.0)) / pixel_m + 1.0
            k_mid = (xs - x0_m) / pixel_m - 0.5 - cc0
            k_lo = min(max(int(math.floor(k_mid - half)), 0), n_c)
            k_hi = min(max(int(math.ceil(k_mid + half)) + 1, k_lo), n_c)
            for k in range(k_lo, k_hi):
                dx = (x0_m + (cc0 + k + 0.5) * pixel_m) - xs
                row_elev[k] = _atan2_deg_bf(elev_m[r, cc0 + k] + h_rx - z_tx, max(row_dist[k], 1e-3))
                row_bear[k] = _atan2_deg_bf(dx, dy)
        for c in range(cc0, cc1):
            if row_d2[c - cc0] > r2_max:
                continue
            dist_m = row_dist[c - cc0]
            dist_km = max(dist_m * 1e-3, min_d_km)
            log_d = _fm.log10(dist_km)
            z_px = elev_m[r, c]
            diff = 0.0
            if has_excess:
                diff = excess_db[r - r0, c - cc0]
            if model_id <= 2:  # FSPL, Hata, COST-231: affine in log10(d)
                loss = a_db + b_db * log_d + k_diff * diff
            elif model_id == 3:  # SPM
                if spm_ground:
                    log_ht = log_h_ground
                else:
                    log_ht = _fm.log10(max(z_tx - z_px, 1.0))
                loss = spm_c0 + mp[MP_K1 + 1] * log_d + (mp[MP_K1 + 2] + mp[MP_K1 + 4] * log_d) * log_ht + mp[MP_K1 + 3] * diff
            else:
                h_eff = _spm_h_eff_m(h_tx, z_tx, z_px, mp)
                loss = _model_loss_db(model_id, a_db, b_db, freq, dist_km, log_d, h_tx, h_eff, diff, has_excess, mp)
            loss = max(loss, fspl_a + 20.0 * log_d)
            if has_path:
                loss += path_db[r - r0, c - cc0]
            if has_clutter:
                loss += clutter_db[c_plane, r, c]
            if has_stat:
                if stat_mask[r, c] != 0:
                    d_stat_km = max(dist_m * 1e-3, P2108_MIN_DIST_KM)
                    if d_stat_km < P2108_CAP_DIST_KM or not stat_far_is_cap:
                        loss += min(_l_ctt_w_db(stat_w_l, f_ghz, d_stat_km, stat_q_inv), stat_cap_db)
                    else:
                        loss += stat_cap_db
            elev_deg = 0.0
            bearing = 0.0
            if need_angles:
                elev_deg = row_elev[c - cc0]
                bearing = row_bear[c - cc0]
            tc = c - tc0
            best = best_rsrp[tr, tc]
            best_i = -1
            p_sum = 0.0
            for m in range(n_mem):
                i = members[m]
                pid = pids[m]
                if pid == 1:
                    phi = bearing - mc[m, 1]
                    # wrap to [-180, 180); the pattern is even in phi.  Bearing in [-180, 180] and azimuth in
                    # [0, 360) give phi in [-540, 180]: one add (same arithmetic as the floor form), else the floor form
                    if -540.0 <= phi < -180.0:
                        phi += 360.0
                    elif phi >= 180.0 or phi < -540.0:
                        phi -= 360.0 * math.floor((phi + 180.0) / 360.0)
                    x = elev_deg + mc[m, 2]
                    att = min(mc[m, 3] * phi * phi, mc[m, 6]) + min(mc[m, 4] * x * x, mc[m, 5])
                    g = 0.0 - min(att, mc[m, 6])
                elif pid == 0:
                    g = 0.0
                else:
                    g = _antenna_gain_db(cells, i, patterns, bearing - mc[m, 1], elev_deg)
                rsrp = mc[m, 0] + g - loss
                if rsrp > best:
                    best = rsrp
                    best_i = i
                if mc[m, 7] > 0.0:
                    p_sum += mc[m, 7] * _fm.db_to_lin(rsrp)
                if write_per_cell:
                    per_cell[i, tr, tc] = rsrp
            if best_i >= 0:
                best_rsrp[tr, tc] = best
                best_idx[tr, tc] = best_i
            pow_sum[f_idx, tr, tc] += p_sum
