r"""Longley-Rice Irregular Terrain Model (ITM), point-to-point mode.

* :func:`itm_p2p_loss_db` -- basic transmission loss over one terrain profile (DESIGN.md's signature);
* :func:`itm_p2p` -- the same for one path, with the intermediate quantities (:class:`ItmP2PResult`).

Written from G. A. Hufford, "The ITS Irregular Terrain Model, version 1.2.2, the Algorithm" (NTIA/ITS,
1995) and the documented behaviour of NTIA/ITS's reference implementation, github.com/NTIA/itm v1.4
(``ITM_P2P_TLS_Ex``; its return codes and warning flags are in that repository's ERRORS_AND_WARNINGS.md).
The kernels are in :mod:`propagation._itm_core` and :mod:`propagation._itm_profile`.

Error and warning codes of the reference model
----------------------------------------------
Every error code becomes a :class:`ValueError` naming the argument or the computed quantity; every warning
flag becomes a :class:`~propagation.ValidityRangeWarning` (its name is in :data:`WARNING_FLAGS`):

========================================  =====================================================================
reference code                            here
========================================  =====================================================================
1000/1001 TX/RX terminal height           ValueError outside [0.5, 3000] m
0x0001/0x0002 TX/RX terminal height       outside [1, 1000] m: ValueError if strict, else the warning
1002 radio climate                        ValueError unless climate is 1..7
1003/1004/1005 time/location/situation    ValueError unless 0 < pct < 100
1008 refractivity                         ValueError outside [250, 400] N-units
1009 frequency                            ValueError outside [20, 20000] MHz
0x0004 frequency                          outside [40, 10000] MHz: ValueError if strict, else the warning
1010 polarization                         ValueError unless "horizontal" or "vertical"
1011 epsilon, 1012 sigma                  ValueError unless permittivity >= 1, conductivity > 0
1014 mdvar                                ValueError unless 0-3, 10-13, 20-23 or 30-33
1013 ground impedance                     ValueError (permittivity/conductivity give Im Z_g >= Re Z_g)
1016 effective earth                      ValueError (refractivity gives a_e outside 4000-13333 km)
1021/1022 surface refractivity            ValueError (N_s < 150 or > 400 after the height scaling)
0x0040 path distance < 1 km               ValueError if strict, else the warning
0x0010 path distance > 2000 km            ValueError if strict, else the warning
0x0008 path distance > 1000 km            warning
0x0020 d < |h_e,tx - h_e,rx| / 0.2        warning
0x0080/0x0100 horizon angle > 200 mrad    warning
0x0200/0x0400 horizon dist. < 0.1 smooth  warning
0x0800/0x1000 horizon dist. > 3 x smooth  warning
0x2000 extreme variability (|z| > 3.1)    warning
0x4000 surface refractivity < 250         warning
========================================  =====================================================================

(1006/1007 confidence/reliability belong to the reference's CR entry points; 1017-1020 to its area mode.
1013 and 1016 cannot be reached once the inputs pass the checks above -- permittivity >= 1 keeps Re Z_g >=
|Im Z_g|, and N_s in [150, 400] keeps a_e inside 7100-11300 km -- but the kernel keeps the reference's checks.)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from propagation import _itm_core as _c
from propagation import _itm_profile as _p
from propagation._validity import (
    ValidityRangeWarning,
    as_float,
    check_range,
    choice,
    result,
)

__all__ = ["ITM_CLIMATES", "WARNING_FLAGS", "ItmMode", "ItmP2PResult", "itm_p2p", "itm_p2p_loss_db"]

_MODEL = "ITM (Longley-Rice)"

#: Radio climates of ITM (the ``climate`` argument).
ITM_CLIMATES = {
    1: "equatorial",
    2: "continental subtropical",
    3: "maritime subtropical",
    4: "desert",
    5: "continental temperate",
    6: "maritime temperate over land",
    7: "maritime temperate over sea",
}
_POLARIZATIONS = {"horizontal": 0, "vertical": 1}
_MDVARS = tuple(b + m for b in (0, 10, 20, 30) for m in range(4))

#: Warning bits of the reference model -> (name, meaning).
WARNING_FLAGS = {
    _c.W_TX_HEIGHT: ("tx_terminal_height", "transmitter height outside 1-1000 m"),
    _c.W_RX_HEIGHT: ("rx_terminal_height", "receiver height outside 1-1000 m"),
    _c.W_FREQUENCY: ("frequency", "frequency outside 40-10000 MHz"),
    _c.W_DIST_BIG_1: ("path_distance_too_big_1", "path longer than 1000 km (near the upper limit)"),
    _c.W_DIST_BIG_2: ("path_distance_too_big_2", "path longer than 2000 km"),
    _c.W_DIST_SMALL_1: ("path_distance_too_small_1", "path shorter than |h_e,tx - h_e,rx| / 0.2"),
    _c.W_DIST_SMALL_2: ("path_distance_too_small_2", "path shorter than 1 km"),
    _c.W_TX_HZN_ANGLE: ("tx_horizon_angle", "transmitter horizon angle above 200 mrad (small-angle approximation)"),
    _c.W_RX_HZN_ANGLE: ("rx_horizon_angle", "receiver horizon angle above 200 mrad (small-angle approximation)"),
    _c.W_TX_HZN_DIST_1: ("tx_horizon_distance_1", "transmitter horizon nearer than 1/10 of the smooth-earth horizon"),
    _c.W_RX_HZN_DIST_1: ("rx_horizon_distance_1", "receiver horizon nearer than 1/10 of the smooth-earth horizon"),
    _c.W_TX_HZN_DIST_2: ("tx_horizon_distance_2", "transmitter horizon beyond 3 times the smooth-earth horizon"),
    _c.W_RX_HZN_DIST_2: ("rx_horizon_distance_2", "receiver horizon beyond 3 times the smooth-earth horizon"),
    _c.W_EXTREME_VAR: ("extreme_variabilities", "a time/location/situation quantile beyond |z| = 3.1"),
    _c.W_SURFACE_N: ("surface_refractivity", "surface refractivity N_s below 250 N-units"),
}
_ERRORS = {
    _c.E_NS_SMALL: "surface refractivity N_s = N_0 exp(-h_sys / 9460 m) below 150 N-units (refractivity_n0 "
                   "too small for the path height)",
    _c.E_NS_LARGE: "surface refractivity N_s above 400 N-units",
    _c.E_EFFECTIVE_EARTH: "effective earth radius outside 4000-13333 km (refractivity_n0)",
    _c.E_GROUND_IMPEDANCE: "ground impedance with |Im Z_g| >= Re Z_g (permittivity / conductivity_s_per_m "
                           "not a physical ground at this frequency)",
}  # fmt: skip


class ItmMode(IntEnum):
    """Mode of propagation (the reference's ``MODE__*`` values)."""

    LINE_OF_SIGHT = 1
    DIFFRACTION = 2
    TROPOSCATTER = 3


@dataclass(frozen=True)
class ItmP2PResult:
    """Result of :func:`itm_p2p`: the loss and the intermediate quantities users check.

    Attributes
    ----------
    loss_db : float
        Basic transmission loss at the requested quantiles. [dB]
    a_ref_db : float
        Reference (median, all-year) attenuation relative to free space, >= 0. [dB]
    free_space_db : float
        ITM's free-space loss 32.45 + 20 log f_MHz + 20 log d_km. [dB]
    dist_km : float
        Path length. [km]
    mode : ItmMode
        Line of sight, diffraction or troposcatter.
    theta_hzn_rad : (float, float)
        Horizon elevation angles at the transmitter and the receiver. [rad]
    d_hzn_m : (float, float)
        Horizon distances from the transmitter and from the receiver. [m]
    h_e_m : (float, float)
        Effective antenna heights of the transmitter and the receiver. [m]
    delta_h_m : float
        Terrain irregularity parameter. [m]
    n_s : float
        Surface refractivity. [N-units]
    warning_flags : int
        The reference model's warning bits (see :data:`WARNING_FLAGS`).
    """

    loss_db: float
    a_ref_db: float
    free_space_db: float
    dist_km: float
    mode: ItmMode
    theta_hzn_rad: tuple
    d_hzn_m: tuple
    h_e_m: tuple
    delta_h_m: float
    n_s: float
    warning_flags: int

    @property
    def warnings(self) -> tuple:
        """Names of the warning flags set."""
        return tuple(name for bit, (name, _) in WARNING_FLAGS.items() if self.warning_flags & bit)


def _check_profile(height_m, step_m):
    h = as_float("height_m", height_m)
    if h.ndim != 1 or h.size < 3:
        raise ValueError(f"height_m must be a 1-D profile of at least 3 heights, got shape {h.shape}")
    step = as_float("step_m", step_m)
    if step.ndim != 0 or not step > 0.0:
        raise ValueError(f"step_m must be one number > 0 m (the profile spacing), got {step_m!r}")
    return np.ascontiguousarray(h), float(step)


def _check_scalar_int(name, value, allowed):
    try:
        ok = float(value) == int(value)
    except (TypeError, ValueError):
        ok = False
    if not ok or int(value) not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(str, allowed))}; got {value!r}")
    return int(value)


def _prepare(height_m, step_m, h_tx_m, h_rx_m, freq_mhz, climate, refractivity_n0, polarization, permittivity,
             conductivity_s_per_m, mdvar, time_pct, location_pct, situation_pct, strict):  # fmt: skip
    """Validate every argument (the reference's ValidateInputs plus the profile); return the kernel arguments."""
    z, xi = _check_profile(height_m, step_m)
    climate = _check_scalar_int("climate", climate, tuple(ITM_CLIMATES))
    mdvar = _check_scalar_int("mdvar", mdvar, _MDVARS)
    pol_id = _POLARIZATIONS[choice("polarization", polarization, tuple(_POLARIZATIONS))]
    arrs = {name: as_float(name, v) for name, v in (
        ("h_tx_m", h_tx_m), ("h_rx_m", h_rx_m), ("freq_mhz", freq_mhz), ("refractivity_n0", refractivity_n0),
        ("permittivity", permittivity), ("conductivity_s_per_m", conductivity_s_per_m), ("time_pct", time_pct),
        ("location_pct", location_pct), ("situation_pct", situation_pct))}  # fmt: skip
    for name in ("h_tx_m", "h_rx_m"):
        a = arrs[name]
        if np.any((a < 0.5) | (a > 3000.0)):
            raise ValueError(f"{name} must lie in [0.5, 3000] m for ITM, got {a[(a < 0.5) | (a > 3000.0)].ravel()[0]:g}")
    f = arrs["freq_mhz"]
    if np.any((f < 20.0) | (f > 20000.0)):
        raise ValueError(f"freq_mhz must lie in [20, 20000] MHz for ITM, got {f[(f < 20.0) | (f > 20000.0)].ravel()[0]:g}")
    n0 = arrs["refractivity_n0"]
    if np.any((n0 < 250.0) | (n0 > 400.0)):
        raise ValueError(f"refractivity_n0 must lie in [250, 400] N-units, got {n0[(n0 < 250.0) | (n0 > 400.0)].ravel()[0]:g}")
    if np.any(arrs["permittivity"] < 1.0):
        raise ValueError(f"permittivity (relative) must be >= 1, got {arrs['permittivity'].min():g}")
    if np.any(arrs["conductivity_s_per_m"] <= 0.0):
        raise ValueError(f"conductivity_s_per_m must be > 0 S/m, got {arrs['conductivity_s_per_m'].min():g}")
    for name in ("time_pct", "location_pct", "situation_pct"):
        a = arrs[name]
        if np.any((a <= 0.0) | (a >= 100.0)):
            raise ValueError(f"{name} must lie in (0, 100) %, got {a[(a <= 0.0) | (a >= 100.0)].ravel()[0]:g}")
    check_range("h_tx_m", arrs["h_tx_m"], 1.0, 1000.0, "m", _MODEL, strict)
    check_range("h_rx_m", arrs["h_rx_m"], 1.0, 1000.0, "m", _MODEL, strict)
    check_range("freq_mhz", f, 40.0, 10000.0, "MHz", _MODEL, strict)
    d_km = (z.size - 1) * xi * 1e-3
    check_range("path length (profile size - 1) x step_m", np.array(d_km), 1.0, 2000.0, "km", _MODEL, strict)
    return z, xi, climate, mdvar, pol_id, arrs


def _raise_or_warn(inter, shape_note=""):
    errs = inter[..., _p.I_ERR].astype(np.int64).ravel()
    bad = errs[errs != 0]
    if bad.size:
        raise ValueError(f"{_MODEL}: {_ERRORS[int(bad[0])]} (reference error code {int(bad[0])}){shape_note}")
    flags = np.bitwise_or.reduce(inter[..., _p.I_WARN].astype(np.int64).ravel()) if inter.size else 0
    # input-range flags (heights, frequency, d < 1 km, d > 2000 km) were already raised or warned by check_range
    flags &= ~(_c.W_TX_HEIGHT | _c.W_RX_HEIGHT | _c.W_FREQUENCY | _c.W_DIST_SMALL_2 | _c.W_DIST_BIG_2)
    for bit, (name, meaning) in WARNING_FLAGS.items():
        if flags & bit:
            warnings.warn(f"{_MODEL} warning {name} (0x{bit:04x}): {meaning}; care must be taken with the result",
                          ValidityRangeWarning, stacklevel=3)  # fmt: skip


def _run(height_m, step_m, h_tx_m, h_rx_m, freq_mhz, climate, refractivity_n0, polarization, permittivity,
         conductivity_s_per_m, mdvar, time_pct, location_pct, situation_pct, strict):  # fmt: skip
    z, xi, climate, mdvar, pol_id, arrs = _prepare(height_m, step_m, h_tx_m, h_rx_m, freq_mhz, climate, refractivity_n0,
                                                   polarization, permittivity, conductivity_s_per_m, mdvar, time_pct,
                                                   location_pct, situation_pct, strict)  # fmt: skip
    names = ("h_tx_m", "h_rx_m", "freq_mhz", "refractivity_n0", "permittivity", "conductivity_s_per_m", "time_pct",
             "location_pct", "situation_pct")  # fmt: skip
    b = np.broadcast_arrays(*(arrs[k] for k in names))
    shape = b[0].shape
    flat = [np.ascontiguousarray(a.ravel(), dtype=np.float64) for a in b]
    inter = np.empty((flat[0].size, _p.N_INTER))
    _p.itm_p2p_many(z, xi, flat[0], flat[1], climate, flat[3], flat[2], pol_id, flat[4], flat[5], mdvar,
                    flat[6] / 100.0, flat[7] / 100.0, flat[8] / 100.0, inter)  # fmt: skip
    # the reference's own input-range warning bits, so that ItmP2PResult.warning_flags is complete
    extra = np.zeros(flat[0].size, np.int64)
    extra |= np.where((flat[0] < 1.0) | (flat[0] > 1000.0), _c.W_TX_HEIGHT, 0)
    extra |= np.where((flat[1] < 1.0) | (flat[1] > 1000.0), _c.W_RX_HEIGHT, 0)
    extra |= np.where((flat[2] < 40.0) | (flat[2] > 10000.0), _c.W_FREQUENCY, 0)
    inter[:, _p.I_WARN] = inter[:, _p.I_WARN].astype(np.int64) | extra
    _raise_or_warn(inter)
    return inter.reshape(shape + (_p.N_INTER,))


def itm_p2p_loss_db(height_m, step_m, h_tx_m, h_rx_m, freq_mhz, climate=5, refractivity_n0=301.0,
                    polarization="vertical", permittivity=15.0, conductivity_s_per_m=0.005, mdvar=12, time_pct=50.0,
                    location_pct=50.0, situation_pct=50.0, *, strict=True):  # fmt: skip
    r"""Longley-Rice ITM point-to-point basic transmission loss over one terrain profile.

    Parameters
    ----------
    height_m : array_like, 1-D
        Terrain heights above sea level, equally spaced, the first at the
        transmitter and the last at the receiver; at least 3. [m]
    step_m : float
        Spacing of the profile, > 0. [m]
    h_tx_m, h_rx_m : array_like
        Antenna heights above ground; ITM's range 1 to 1000 m (0.5 to 3000 m
        with ``strict=False``). [m]
    freq_mhz : array_like
        Frequency; range 40 to 10000 MHz (20 to 20000 MHz with ``strict=False``). [MHz]
    climate : int, optional
        Radio climate 1..7 (:data:`ITM_CLIMATES`; 5 continental temperate).
    refractivity_n0 : array_like, optional
        Surface refractivity reduced to sea level, 250 to 400. [N-units]
    polarization : {"vertical", "horizontal"}, optional
    permittivity : array_like, optional
        Relative permittivity of the ground, >= 1 (15: average ground). [1]
    conductivity_s_per_m : array_like, optional
        Ground conductivity, > 0 (0.005: average ground). [S/m]
    mdvar : int, optional
        Mode of variability: 0 single message, 1 accidental, 2 mobile,
        3 broadcast; +10 removes location variability, +20 situation
        variability (12: mobile, no location variability).
    time_pct, location_pct, situation_pct : array_like, optional
        Quantiles, 0 < pct < 100: the loss is not exceeded for this
        percentage of time / locations / situations. [%]
    strict : bool, optional
        True raises ``ValueError`` when an antenna height, the frequency or the
        path length (1 to 2000 km) lies outside ITM's range; False warns with
        :class:`~propagation.ValidityRangeWarning` and extrapolates.

    Every argument but the profile, ``climate``, ``polarization`` and
    ``mdvar`` broadcasts; the profile is shared.

    Returns
    -------
    numpy.ndarray or numpy.float64
        Basic transmission loss between isotropic antennas (free space plus
        ITM's attenuation at the quantiles), positive. [dB]

    Raises
    ------
    ValueError
        For every error code of the reference model (see the module
        docstring); warning flags become :class:`~propagation.ValidityRangeWarning`.

    Notes
    -----
    Hufford, "The ITS Irregular Terrain Model, version 1.2.2, the Algorithm"
    (1995): profile analysis (horizons, effective heights, delta_h; section 3),
    reference attenuation A_ref by line of sight (two-ray, eqs. (4.43)-(4.50)),
    diffraction (knife edge and Vogler's smooth earth, eqs. (4.10)-(4.21)) or
    troposcatter (eqs. (4.61)-(4.67)), then the variability (section 5):
    L = L_fs + A_ref - V_med - Y_R - Y_S.  Behaviour as NTIA's reference
    implementation github.com/NTIA/itm v1.4, against whose published examples
    (p2p.csv, 0.01 dB; cmd_examples, 0.1 dB) it is tested.

    Examples
    --------
    A flat 10 km path at 900 MHz, 30 m and 1.5 m antennas:

    >>> round(float(itm_p2p_loss_db(np.zeros(101), 100.0, 30.0, 1.5, 900.0)), 1)
    127.4
    """
    inter = _run(height_m, step_m, h_tx_m, h_rx_m, freq_mhz, climate, refractivity_n0, polarization, permittivity,
                 conductivity_s_per_m, mdvar, time_pct, location_pct, situation_pct, strict)  # fmt: skip
    return result(inter[..., _p.I_LOSS])


def itm_p2p(height_m, step_m, h_tx_m, h_rx_m, freq_mhz, climate=5, refractivity_n0=301.0, polarization="vertical",
            permittivity=15.0, conductivity_s_per_m=0.005, mdvar=12, time_pct=50.0, location_pct=50.0,
            situation_pct=50.0, *, strict=True) -> ItmP2PResult:  # fmt: skip
    """:func:`itm_p2p_loss_db` for one path (scalar arguments), with the intermediate quantities.

    Returns
    -------
    ItmP2PResult
        Loss, reference attenuation, free-space loss, mode of propagation,
        horizon angles and distances, effective heights, delta_h, N_s and the
        reference model's warning flags.

    Examples
    --------
    >>> r = itm_p2p(np.zeros(101), 100.0, 30.0, 1.5, 900.0)
    >>> r.mode.name, round(r.dist_km, 1), round(r.delta_h_m, 1)
    ('LINE_OF_SIGHT', 10.0, 0.0)
    """
    for name, v in (("h_tx_m", h_tx_m), ("h_rx_m", h_rx_m), ("freq_mhz", freq_mhz), ("time_pct", time_pct),
                    ("location_pct", location_pct), ("situation_pct", situation_pct),
                    ("refractivity_n0", refractivity_n0), ("permittivity", permittivity),
                    ("conductivity_s_per_m", conductivity_s_per_m)):  # fmt: skip
        if np.ndim(v) != 0:
            raise ValueError(f"itm_p2p takes scalar arguments ({name} has shape {np.shape(v)}); "
                             "use itm_p2p_loss_db for arrays")  # fmt: skip
    v = _run(height_m, step_m, h_tx_m, h_rx_m, freq_mhz, climate, refractivity_n0, polarization, permittivity,
             conductivity_s_per_m, mdvar, time_pct, location_pct, situation_pct, strict)  # fmt: skip
    return ItmP2PResult(
        loss_db=float(v[_p.I_LOSS]), a_ref_db=float(v[_p.I_AREF]), free_space_db=float(v[_p.I_AFS]),
        dist_km=float(v[_p.I_D_M]) * 1e-3, mode=ItmMode(int(v[_p.I_MODE])),
        theta_hzn_rad=(float(v[_p.I_TH_TX]), float(v[_p.I_TH_RX])), d_hzn_m=(float(v[_p.I_DH_TX]), float(v[_p.I_DH_RX])),
        h_e_m=(float(v[_p.I_HE_TX]), float(v[_p.I_HE_RX])), delta_h_m=float(v[_p.I_DELTA_H]), n_s=float(v[_p.I_NS]),
        warning_flags=int(v[_p.I_WARN]),
    )  # fmt: skip

