r"""Base-station antenna patterns: the 3GPP parametric sector (measured cuts: :mod:`propagation.antenna_pattern`).

Conventions (DESIGN.md, "Public model API"):

* every function returns the gain **relative to the antenna's peak**, in dB,
  never above 0; the caller adds the peak gain (``gain_dbi``);
* ``az_off_deg`` is the horizontal angle from the antenna boresight,
  clockwise seen from above (the same sense as a compass azimuth), wrapped to
  (-180, 180];
* ``elev_deg`` is the elevation angle of the direction, positive ABOVE the
  horizon, in [-90, 90];
* tilts (``downtilt_deg``, ``mech_tilt_deg``, ``elec_tilt_deg``) are positive
  BELOW the horizon: a beam with downtilt t points at elevation -t.

Two pattern families live here:

:func:`sector_gain_db`
    the 3GPP parametric sector pattern, numba core :func:`_sector_gain_db`;
:class:`AntennaPattern`
    a measured pattern given by its horizontal and vertical cuts (MSI/Planet
    files, read by ``netqa.io.antenna.read_msi``), numba core
    :func:`_pattern_gain_db`.

The raster engine calls the two ``_..._gain_db`` cores directly inside its
kernels (float64 scalars, float64 arrays of 360 values, an integer method id
from :class:`PatternMethod`).
"""

from __future__ import annotations


import numpy as np

from propagation._jit import jit
from propagation._validity import as_float, check_range, flat_float64, require_positive, result

__all__ = ["SECTOR_DEFAULTS", "sector_gain_db", "wrap_az_deg"]

#: Default parameters of :func:`sector_gain_db`: 3 dB beamwidths [deg], SLA_V and A_m [dB].
SECTOR_DEFAULTS = {"hpbw_h_deg": 65.0, "hpbw_v_deg": 10.0, "sla_v_db": 20.0, "am_db": 25.0}


# ----------------------------------------------------------------------------------
# numba scalar cores
# ----------------------------------------------------------------------------------


@jit
def _wrap180(angle_deg):
    """Wrap an angle to (-180, 180]. [deg]"""
    a = angle_deg % 360.0  # [0, 360), Python semantics in numba too
    if a > 180.0:
        a -= 360.0
    return a


@jit
def _sector_gain_db(az_off_deg, elev_deg, downtilt_deg, hpbw_h_deg, hpbw_v_deg, sla_v_db, am_db):
    """3GPP parametric sector pattern, gain relative to the peak (<= 0). [dB]

    A_H = -min(12 (phi/phi_3dB)^2, A_m); A_V = -min(12 ((theta - theta_tilt)/theta_3dB)^2, SLA_V)
    with theta = -elev (angle below the horizon) and theta_tilt = downtilt;
    A = -min(-(A_H + A_V), A_m).
    """
    phi = _wrap180(az_off_deg)
    att_h = min(12.0 * (phi / hpbw_h_deg) ** 2, am_db)
    x = (elev_deg + downtilt_deg) / hpbw_v_deg  # (theta - theta_tilt) with theta = -elev, sign irrelevant
    att_v = min(12.0 * x * x, sla_v_db)
    return 0.0 - min(att_h + att_v, am_db)  # 0.0 - x: never -0.0


@jit
def _sector_loop(az_off_deg, elev_deg, downtilt_deg, hpbw_h_deg, hpbw_v_deg, sla_v_db, am_db):
    out = np.empty(az_off_deg.size)
    for i in range(out.size):
        out[i] = _sector_gain_db(
            az_off_deg[i], elev_deg[i], downtilt_deg[i],
            hpbw_h_deg[i], hpbw_v_deg[i], sla_v_db[i], am_db[i],
        )  # fmt: skip
    return out


def wrap_az_deg(az_deg):
    """Wrap angles to (-180, 180]. [deg]

    >>> wrap_az_deg([180.0, -180.0, 270.0, 360.0]).tolist()
    [180.0, 180.0, -90.0, 0.0]
    """
    a = np.asarray(az_deg, dtype=np.float64)
    w = np.mod(a + 180.0, 360.0) - 180.0  # [-180, 180)
    return result(np.where(w == -180.0, 180.0, w))


# ----------------------------------------------------------------------------------
# public: 3GPP parametric sector
# ----------------------------------------------------------------------------------


def sector_gain_db(
    az_off_deg,
    elev_deg,
    downtilt_deg=0.0,
    hpbw_h_deg=65.0,
    hpbw_v_deg=10.0,
    sla_v_db=20.0,
    am_db=25.0,
    *,
    strict=True,
):
    r"""3GPP parametric sector antenna pattern, gain relative to the peak.

    Parameters
    ----------
    az_off_deg : array_like
        Horizontal angle from boresight, clockwise; any value, wrapped to
        (-180, 180]. [deg]
    elev_deg : array_like
        Elevation of the direction, positive above the horizon, [-90, 90]. [deg]
    downtilt_deg : array_like
        Downtilt of the beam, positive below the horizon, [-90, 90]; the beam
        points at elevation ``-downtilt_deg``. [deg]
    hpbw_h_deg : array_like
        Horizontal 3 dB beamwidth phi_3dB, (0, 360]. [deg]
    hpbw_v_deg : array_like
        Vertical 3 dB beamwidth theta_3dB, (0, 180]. [deg]
    sla_v_db : array_like
        Side-lobe attenuation limit of the vertical pattern SLA_V, >= 0. [dB]
    am_db : array_like
        Front-to-back / overall attenuation limit A_m, >= 0. [dB]
    strict : bool
        Raise ``ValueError`` when ``elev_deg`` or ``downtilt_deg`` lie outside
        [-90, 90] (default); with ``False`` warn with ``ValidityRangeWarning``
        and evaluate the same formula.  NaN and inf always raise.

    Returns
    -------
    numpy.ndarray or numpy.float64
        Gain relative to the peak, in [-A_m, 0]. [dB]

    Notes
    -----
    With :math:`\varphi` the wrapped azimuth offset and :math:`\theta = -\mathrm{elev}`
    the angle below the horizon:

    .. math::
        A_H(\varphi) &= -\min\left[12(\varphi/\varphi_{3dB})^2,\ A_m\right] \\
        A_V(\theta) &= -\min\left[12((\theta - \theta_{tilt})/\theta_{3dB})^2,\ SLA_V\right] \\
        A(\varphi, \theta) &= -\min\left[-(A_H(\varphi) + A_V(\theta)),\ A_m\right]

    This is the form of 3GPP TR 36.814 V9.2.0 (2017-03) Annex A.2.1.1,
    Table A.2.1.1-2 (3-D pattern, "combining method"), whose defaults are
    taken here: theta_3dB = 10 deg, SLA_V = 20 dB, A_m = 25 dB.  The
    horizontal default phi_3dB = 65 deg is the value of TR 38.901 Table 7.3-1
    and TR 36.942 section 4.2.1 (TR 36.814 uses 70 deg for its case; pass
    ``hpbw_h_deg=70.0`` for it).

    Mapping onto TR 38.901 V17.0.0 Table 7.3-1, which writes the vertical cut in
    the zenith angle :math:`\theta'' \in [0, 180]` (90 deg = horizon) as
    :math:`-\min[12((\theta''-90°)/\theta_{3dB})^2, SLA_V]`:
    :math:`\theta'' = 90° - \mathrm{elev}`, so :math:`\theta'' - 90° = \theta`;
    a downtilt enters 38.901 as the rotation angle beta of the LCS, which for
    this separable pattern is the shift :math:`\theta \to \theta - \theta_{tilt}`
    used here (the 36.814 electrical-tilt form).  To reproduce the 38.901
    element exactly pass ``hpbw_v_deg=65, sla_v_db=30, am_db=30`` (and add
    G_E,max = 8 dBi yourself).

    Validity: any azimuth; elevation and downtilt in [-90, 90] deg.  The
    pattern is an idealised envelope for macro-cell sectors (no side lobes in
    azimuth), not a measured antenna.

    Examples
    --------
    >>> float(sector_gain_db(0.0, 0.0))
    0.0
    >>> float(sector_gain_db(32.5, 0.0))   # half the beamwidth: -3 dB
    -3.0
    >>> float(sector_gain_db(180.0, 0.0))  # back: -A_m
    -25.0
    >>> float(sector_gain_db(0.0, -8.0, downtilt_deg=8.0))  # beam at -8 deg elevation
    0.0
    """
    az = as_float("az_off_deg", az_off_deg)
    elev = as_float("elev_deg", elev_deg)
    tilt = as_float("downtilt_deg", downtilt_deg)
    h3 = as_float("hpbw_h_deg", hpbw_h_deg)
    v3 = as_float("hpbw_v_deg", hpbw_v_deg)
    sla = as_float("sla_v_db", sla_v_db)
    am = as_float("am_db", am_db)
    require_positive("hpbw_h_deg", h3, "deg")
    require_positive("hpbw_v_deg", v3, "deg")
    check_range("hpbw_h_deg", h3, 0.0, 360.0, "deg", "the 3GPP sector pattern", True, lo_inclusive=False)
    check_range("hpbw_v_deg", v3, 0.0, 180.0, "deg", "the 3GPP sector pattern", True, lo_inclusive=False)
    check_range("sla_v_db", sla, 0.0, np.inf, "dB", "the 3GPP sector pattern", True)
    check_range("am_db", am, 0.0, np.inf, "dB", "the 3GPP sector pattern", True)
    check_range("elev_deg", elev, -90.0, 90.0, "deg", "the 3GPP sector pattern", strict)
    check_range("downtilt_deg", tilt, -90.0, 90.0, "deg", "the 3GPP sector pattern", strict)
    shape, flat = flat_float64(az, elev, tilt, h3, v3, sla, am)
    return result(_sector_loop(*flat).reshape(shape))
