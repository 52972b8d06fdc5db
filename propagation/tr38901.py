r"""3GPP TR 38.901 (V17.0.0, 2022-03) Table 7.4.1-1 path loss: UMa, UMi street canyon, RMa.

Median basic transmission loss without shadow fading.  The formula lives in
the numba scalar core :func:`_tr38901_db` (scenario id from
:class:`Tr38901Scenario`), which the raster engine calls directly; the public
:func:`tr38901_loss_db` validates, broadcasts and runs the same core.

Conventions (Table 7.4.1-1 and its notes):

* f_c in GHz inside the formulas, MHz at the API; distances in m inside, km at
  the API; d_3D = sqrt(d_2D^2 + (h_BS - h_UT)^2).
* UMa and UMi use the breakpoint d'_BP = 4 h'_BS h'_UT f_c / c (table note on the breakpoint) with
  effective heights h' = h - h_E and h_E = 1 m.  For UMi the table fixes
  h_E = 1 m; for UMa h_E is random for h_UT > 13 m (same note) and is taken as
  1 m here, the usual deterministic median choice.
* RMa uses d_BP = 2 pi h_BS h_UT f_c / c with actual heights (RMa breakpoint note).
* NLOS is max(PL_LOS, PL'_NLOS) evaluated at the same d_2D.
* c = 299 792 458 m/s.
"""

from __future__ import annotations

import math
from enum import IntEnum

import numpy as np

from propagation._jit import jit
from propagation._validity import as_float, check_range, flat_float64, require_positive, result

__all__ = ["Tr38901Scenario", "tr38901_loss_db"]

_C_M_S = 299_792_458.0
#: Effective environment height for UMa/UMi breakpoints. [m]
H_E_M = 1.0


class Tr38901Scenario(IntEnum):
    """TR 38.901 scenario (integer id passed to the numba core).

    >>> int(Tr38901Scenario.RMA)
    2
    """

    UMA = 0
    UMI = 1  # street canyon
    RMA = 2


_NAMES = {"UMa": Tr38901Scenario.UMA, "UMi": Tr38901Scenario.UMI, "RMa": Tr38901Scenario.RMA}


@jit
def _rma_los_db(d_2d_m, d_3d_m, fc_ghz, h_bs_m, h_ut_m, h_building_m):
    """RMa LOS PL1/PL2 of Table 7.4.1-1. [dB]"""
    d_bp = 2.0 * math.pi * h_bs_m * h_ut_m * fc_ghz * 1e9 / _C_M_S
    hp = h_building_m**1.72
    a = min(0.03 * hp, 10.0)
    b = min(0.044 * hp, 14.77)
    c = 0.002 * math.log10(h_building_m)
    if d_2d_m <= d_bp:
        return 20.0 * math.log10(40.0 * math.pi * d_3d_m * fc_ghz / 3.0) + a * math.log10(d_3d_m) - b + c * d_3d_m
    pl1_bp = 20.0 * math.log10(40.0 * math.pi * d_bp * fc_ghz / 3.0) + a * math.log10(d_bp) - b + c * d_bp
    return pl1_bp + 40.0 * math.log10(d_3d_m / d_bp)


@jit
def _umx_los_db(d_2d_m, d_3d_m, fc_ghz, h_bs_m, h_ut_m, c0, slope1, bp_coef):
    """UMa (c0 28.0, slope 22, bp 9) / UMi (32.4, 21, 9.5) LOS PL1/PL2. [dB]"""
    d_bp = 4.0 * (h_bs_m - H_E_M) * (h_ut_m - H_E_M) * fc_ghz * 1e9 / _C_M_S
    log_fc = 20.0 * math.log10(fc_ghz)
    if d_2d_m <= d_bp:
        return c0 + slope1 * math.log10(d_3d_m) + log_fc
    dh = h_bs_m - h_ut_m
    return c0 + 40.0 * math.log10(d_3d_m) + log_fc - bp_coef * math.log10(d_bp * d_bp + dh * dh)


@jit
def _tr38901_db(scenario_id, freq_mhz, dist_2d_km, h_bs_m, h_ut_m, los, h_building_m, street_width_m):
    """TR 38.901 Table 7.4.1-1 median path loss; ``los`` nonzero for LOS. [dB]"""
    fc_ghz = freq_mhz / 1000.0
    d_2d = dist_2d_km * 1000.0
    dh = h_bs_m - h_ut_m
    d_3d = math.sqrt(d_2d * d_2d + dh * dh)
    log_d3 = math.log10(d_3d)
    if scenario_id == 2:  # RMa
        pl_los = _rma_los_db(d_2d, d_3d, fc_ghz, h_bs_m, h_ut_m, h_building_m)
        if los:
            return pl_los
        log_hbs = math.log10(h_bs_m)
        pl_nlos = (
            161.04
            - 7.1 * math.log10(street_width_m)
            + 7.5 * math.log10(h_building_m)
            - (24.37 - 3.7 * (h_building_m / h_bs_m) ** 2) * log_hbs
            + (43.42 - 3.1 * log_hbs) * (log_d3 - 3.0)
            + 20.0 * math.log10(fc_ghz)
            - (3.2 * math.log10(11.75 * h_ut_m) ** 2 - 4.97)
        )
        return max(pl_los, pl_nlos)
    if scenario_id == 0:  # UMa
        pl_los = _umx_los_db(d_2d, d_3d, fc_ghz, h_bs_m, h_ut_m, 28.0, 22.0, 9.0)
        if los:
            return pl_los
        pl_nlos = 13.54 + 39.08 * log_d3 + 20.0 * math.log10(fc_ghz) - 0.6 * (h_ut_m - 1.5)
        return max(pl_los, pl_nlos)
    # UMi street canyon
    pl_los = _umx_los_db(d_2d, d_3d, fc_ghz, h_bs_m, h_ut_m, 32.4, 21.0, 9.5)
    if los:
        return pl_los
    pl_nlos = 35.3 * log_d3 + 22.4 + 21.3 * math.log10(fc_ghz) - 0.3 * (h_ut_m - 1.5)
    return max(pl_los, pl_nlos)


@jit
def _tr38901_loop(scenario_id, freq_mhz, dist_2d_km, h_bs_m, h_ut_m, los, h_building_m, street_width_m):
    out = np.empty(freq_mhz.size)
    for i in range(out.size):
        out[i] = _tr38901_db(
            scenario_id, freq_mhz[i], dist_2d_km[i], h_bs_m[i], h_ut_m[i],
            los[i], h_building_m[i], street_width_m[i],
        )  # fmt: skip
    return out


#: Applicability ranges of Table 7.4.1-1 per scenario: (lo, hi, unit).
TR38901_RANGES = {
    Tr38901Scenario.UMA: {
        "freq_mhz": (500.0, 100_000.0, "MHz"),
        "dist_2d_km": (0.010, 5.0, "km"),
        "h_bs_m": (25.0, 25.0, "m"),
        "h_ut_m": (1.5, 22.5, "m"),
    },
    Tr38901Scenario.UMI: {
        "freq_mhz": (500.0, 100_000.0, "MHz"),
        "dist_2d_km": (0.010, 5.0, "km"),
        "h_bs_m": (10.0, 10.0, "m"),
        "h_ut_m": (1.5, 22.5, "m"),
    },
    Tr38901Scenario.RMA: {
        "freq_mhz": (500.0, 30_000.0, "MHz"),
        "dist_2d_km": (0.010, 10.0, "km"),  # LOS; NLOS up to 5 km
        "h_bs_m": (10.0, 150.0, "m"),
        "h_ut_m": (1.0, 10.0, "m"),
        "h_building_m": (5.0, 50.0, "m"),
        "street_width_m": (5.0, 50.0, "m"),
    },
}
#: RMa NLOS d_2D upper limit. [km]
RMA_NLOS_MAX_KM = 5.0


def _scenario_id(scenario) -> Tr38901Scenario:
    if isinstance(scenario, Tr38901Scenario):
        return scenario
    if isinstance(scenario, str):
        for name, sid in _NAMES.items():
            if scenario.lower() == name.lower():
                return sid
    raise ValueError(f"scenario must be one of {', '.join(map(repr, _NAMES))}; got {scenario!r}")


def _los_array(los) -> np.ndarray:
    arr = np.asarray(los)
    if arr.dtype == np.bool_:
        return arr.astype(np.int64)
    if arr.dtype.kind in "iuf" and np.all((arr == 0) | (arr == 1)):
        return arr.astype(np.int64)
    raise ValueError(f"los must be boolean (True for line of sight) or 0/1, got {los!r}")


def tr38901_loss_db(
    scenario,
    freq_mhz,
    dist_2d_km,
    h_bs_m,
    h_ut_m,
    los,
    h_building_m=5.0,
    street_width_m=20.0,
    *,
    strict=True,
):
    r"""3GPP TR 38.901 median path loss for UMa, UMi street canyon and RMa.

    Parameters
    ----------
    scenario : {"UMa", "UMi", "RMa"} or Tr38901Scenario
        Scenario (case-insensitive); "UMi" is UMi street canyon.
    freq_mhz : array_like
        Carrier frequency: 500-100 000 (UMa, UMi), 500-30 000 (RMa). [MHz]
    dist_2d_km : array_like
        Horizontal BS-UT distance, 0.01-5 (RMa LOS: 0.01-10). [km]
    h_bs_m : array_like
        BS antenna height: 25 (UMa), 10 (UMi), 10-150 (RMa). [m]
    h_ut_m : array_like
        UT antenna height: 1.5-22.5 (UMa, UMi), 1-10 (RMa). [m]
    los : array_like of bool
        True for line of sight, False for NLOS (broadcast).
    h_building_m : array_like
        Average building height h, 5-50; RMa only. [m]
    street_width_m : array_like
        Average street width W, 5-50; RMa only. [m]
    strict : bool
        Raise ``ValueError`` outside the table's applicability ranges
        (default); with ``False`` warn with ``ValidityRangeWarning`` and
        extrapolate.

    Returns
    -------
    numpy.ndarray or numpy.float64
        Median path loss, positive. [dB]

    Notes
    -----
    f_c in GHz, distances in m.  UMa LOS: :math:`PL_1 = 28.0 + 22\log d_{3D} +
    20\log f_c` for d_2D <= d'_BP, else :math:`PL_2 = 28.0 + 40\log d_{3D} +
    20\log f_c - 9\log(d'^2_{BP} + (h_{BS}-h_{UT})^2)`; UMa NLOS
    :math:`PL' = 13.54 + 39.08\log d_{3D} + 20\log f_c - 0.6(h_{UT}-1.5)`.
    UMi LOS: the same with 32.4, 21 and 9.5; UMi NLOS :math:`PL' = 35.3\log
    d_{3D} + 22.4 + 21.3\log f_c - 0.3(h_{UT}-1.5)`.  RMa LOS:
    :math:`PL_1 = 20\log(40\pi d_{3D} f_c/3) + \min(0.03h^{1.72},10)\log d_{3D}
    - \min(0.044h^{1.72},14.77) + 0.002\log(h)\,d_{3D}`, :math:`PL_2 =
    PL_1(d_{BP}) + 40\log(d_{3D}/d_{BP})`; RMa NLOS :math:`PL' = 161.04 -
    7.1\log W + 7.5\log h - (24.37 - 3.7(h/h_{BS})^2)\log h_{BS} + (43.42 -
    3.1\log h_{BS})(\log d_{3D} - 3) + 20\log f_c - (3.2(\log 11.75 h_{UT})^2
    - 4.97)`.  NLOS loss is :math:`\max(PL_{LOS}, PL')`.  Breakpoints, h_E
    and c: see the module docstring.

    Reference: 3GPP TR 38.901 V17.0.0 (2022-03), "Study on channel model for
    frequencies from 0.5 to 100 GHz", §7.4.1, Table 7.4.1-1.

    Examples
    --------
    >>> round(float(tr38901_loss_db("UMa", 5000.0, 0.1, 25.0, 1.5, los=True)), 2)
    86.24
    >>> tr38901_loss_db("RMa", 5000.0, 1.0, 35.0, 1.5, [True, False]).round(2).tolist()
    [108.56, 133.52]
    """
    sid = _scenario_id(scenario)
    ranges = TR38901_RANGES[sid]
    model = f"3GPP TR 38.901 {next(k for k, v in _NAMES.items() if v == sid)}"
    values = {
        "freq_mhz": freq_mhz,
        "dist_2d_km": dist_2d_km,
        "h_bs_m": h_bs_m,
        "h_ut_m": h_ut_m,
        "h_building_m": h_building_m,
        "street_width_m": street_width_m,
    }
    arrays = {}
    for name, value in values.items():
        arr = as_float(name, value)
        require_positive(name, arr, "km" if name.endswith("_km") else ("MHz" if name == "freq_mhz" else "m"))
        arrays[name] = arr
        if name in ranges and not (name == "dist_2d_km" and sid == Tr38901Scenario.RMA):
            lo, hi, unit = ranges[name]  # RMa distance is checked below, per LOS state
            check_range(name, arr, lo, hi, unit, model, strict)
    los_arr = _los_array(los)
    shape, flat = flat_float64(
        arrays["freq_mhz"], arrays["dist_2d_km"], arrays["h_bs_m"], arrays["h_ut_m"],
        los_arr, arrays["h_building_m"], arrays["street_width_m"],
    )  # fmt: skip
    f, d, hbs, hut, los_f, hb, w = flat
    if sid == Tr38901Scenario.RMA:
        lo, hi, unit = ranges["dist_2d_km"]
        check_range("dist_2d_km", d[los_f == 1], lo, hi, unit, model + " LOS", strict)
        check_range("dist_2d_km", d[los_f == 0], lo, RMA_NLOS_MAX_KM, unit, model + " NLOS", strict)
    out = _tr38901_loop(int(sid), f, d, hbs, hut, los_f.astype(np.int64), hb, w)
    return result(out.reshape(shape))
