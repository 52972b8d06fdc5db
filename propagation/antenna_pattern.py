r"""Measured base-station antenna patterns: 3-D gain from the horizontal and vertical cuts.

:class:`AntennaPattern` holds the two cuts of an MSI/Planet file (read by
``netqa.io.antenna.read_msi``); the numba core :func:`_pattern_gain_db` builds
the gain in any direction by the weighted bilinear interpolation of Gil,
Claro, Ferreira, Pardelinha and Correia, IEEE Antennas Propag. Mag. 43(2),
2001 (or by summing the cuts, 3GPP style), with mechanical and electrical
tilt.  Conventions as :mod:`propagation.antenna` (gain relative to the peak,
never above 0 dB; elevation positive above the horizon, tilts positive below).
The raster engine calls :func:`_pattern_gain_db` directly.
"""

from __future__ import annotations

import dataclasses
import math
from enum import IntEnum

import numpy as np

from propagation._jit import jit
from propagation._validity import as_float, check_range, choice, flat_float64, require_positive, result
from propagation.antenna import _wrap180, sector_gain_db

__all__ = ["N_CUT", "AntennaPattern", "PatternMethod"]


# ----------------------------------------------------------------------------------
# measured patterns: horizontal and vertical cuts (MSI/Planet convention)
# ----------------------------------------------------------------------------------


class PatternMethod(IntEnum):
    """How a 3-D gain is built from the two cuts (integer id for the numba core)."""

    WEIGHTED = 0  # weighted bilinear interpolation, Gil et al. (2001)
    SUMMING = 1  # A = -min(-(A_H + A_V), A_max)


#: Number of samples in each cut (1 degree steps, MSI/Planet format).
N_CUT = 360


@jit
def _cut_at(cut, angle_deg):
    """Linear interpolation of a 360-sample, 1-degree circular cut at any angle. [dB]"""
    a = angle_deg % 360.0
    i = int(math.floor(a))
    f = a - i
    i0 = i % 360
    i1 = (i + 1) % 360
    if f == 0.0:
        return cut[i0]
    return cut[i0] + f * (cut[i1] - cut[i0])


@jit
def _v_angle(back, elev_deg):
    """MSI vertical-cut angle of a direction at ``elev_deg`` in front of (back=False) or behind the antenna.

    MSI: 0 = front horizon, 90 = straight down, 180 = back horizon, 270 = straight up.
    """
    if back:
        return 180.0 + elev_deg
    return (-elev_deg) % 360.0


@jit
def _antenna_frame(az_off_deg, elev_deg, mech_tilt_deg):
    """Direction (azimuth offset, elevation) seen in the frame of an antenna tilted down by mech_tilt_deg.

    Rotation of the unit vector (x forward, y clockwise/right, z up) about the y
    axis: x' = x cos t - z sin t, z' = x sin t + z cos t.  Returns degrees;
    the azimuth of a vertical direction is taken as 0.
    """
    if mech_tilt_deg == 0.0:
        return _wrap180(az_off_deg), elev_deg
    a = math.radians(az_off_deg)
    e = math.radians(elev_deg)
    t = math.radians(mech_tilt_deg)
    x = math.cos(e) * math.cos(a)
    y = math.cos(e) * math.sin(a)
    z = math.sin(e)
    xr = x * math.cos(t) - z * math.sin(t)
    zr = x * math.sin(t) + z * math.cos(t)
    zr = min(1.0, max(-1.0, zr))
    el = math.degrees(math.asin(zr))
    if xr == 0.0 and y == 0.0:
        return 0.0, el
    return math.degrees(math.atan2(y, xr)), el


@jit
def _pattern_gain_db(h_att_db, v_att_db, az_off_deg, elev_deg, mech_tilt_deg, elec_tilt_deg, method_id):
    """Gain (<= 0 dB) of a measured pattern in a direction; see :meth:`AntennaPattern.gain_db`.

    ``h_att_db`` and ``v_att_db`` are the cuts as stored (:meth:`AntennaPattern.kernel_cuts`);
    ``elec_tilt_deg`` is the electrical tilt to ADD to them: the total wanted
    minus :attr:`AntennaPattern.elec_tilt_deg`; ``method_id`` a :class:`PatternMethod`.
    """
    a, e = _antenna_frame(az_off_deg, elev_deg, mech_tilt_deg)
    eb = min(90.0, max(-90.0, e + elec_tilt_deg))  # electrical tilt: elevation shift (cone)
    abs_a = abs(a)
    h_val = _cut_at(h_att_db, a)
    v_front = _cut_at(v_att_db, _v_angle(False, eb))
    v_back = _cut_at(v_att_db, _v_angle(True, eb))
    if method_id == 1:  # summing
        w = abs_a / 180.0
        att = h_val + (1.0 - w) * (v_front - h_att_db[0]) + w * (v_back - h_att_db[180])
        cap = 0.0
        for k in range(h_att_db.size):
            cap = max(cap, h_att_db[k], v_att_db[k])
        att = min(max(att, 0.0), cap)
        return 0.0 - att
    # weighted bilinear interpolation (Gil et al. 2001, eq. as in the docstring)
    pole = v_att_db[90] if eb < 0.0 else v_att_db[270]
    p1 = abs_a  # distance to the front vertical half-cut
    p2 = 180.0 - abs_a  # distance to the back vertical half-cut
    t1 = abs(eb)  # distance to the horizontal cut
    t2 = 90.0 - t1  # distance to the pole
    wp = (p1 + p2) * t1 * t2 / (t1 + t2) ** 2  # weight of the azimuthal interpolation
    wt = (t1 + t2) * p1 * p2 / (p1 + p2) ** 2  # weight of the elevation interpolation
    if t2 == 0.0:  # a pole
        att = pole
    elif t1 == 0.0:  # on the horizontal cut (also where it crosses the vertical one)
        att = h_val
    elif p1 == 0.0:  # on the front half of the vertical cut
        att = v_front
    elif p2 == 0.0:  # on the back half
        att = v_back
    else:
        num = (p1 * v_back + p2 * v_front) * t1 * t2 / (t1 + t2) ** 2 + (
            t1 * pole + t2 * h_val
        ) * p1 * p2 / (p1 + p2) ** 2
        att = max(num / (wp + wt), 0.0)
    return 0.0 - att


@jit
def _pattern_loop(h_att_db, v_att_db, az_off_deg, elev_deg, mech_tilt_deg, elec_tilt_deg, method_id):
    out = np.empty(az_off_deg.size)
    for i in range(out.size):
        out[i] = _pattern_gain_db(
            h_att_db, v_att_db, az_off_deg[i], elev_deg[i], mech_tilt_deg[i], elec_tilt_deg[i], method_id
        )
    return out


def _cut_array(name: str, values) -> np.ndarray:
    """Validate a cut: 360 finite attenuations >= 0; return a read-only float64 copy."""
    try:
        arr = np.array(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be 360 numbers (attenuation in dB), got {values!r}") from exc
    if arr.size != N_CUT:
        raise ValueError(f"{name} must hold exactly 360 values (one per degree 0..359), got {arr.size}")
    bad = ~np.isfinite(arr) | (arr < 0)
    if np.any(bad):
        k = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name}[{k}] = {float(arr[k])!r}: attenuations must be finite and >= 0 dB "
            "(relative to the peak; MSI files store them without the minus sign)"
        )
    arr.setflags(write=False)
    return arr


@dataclasses.dataclass(frozen=True, eq=False)
class AntennaPattern:
    r"""A measured antenna pattern given by its horizontal and vertical cuts.

    Attributes
    ----------
    name : str
        Pattern name (MSI ``NAME``).
    gain_dbi : float
        Peak gain. [dBi]
    h_att_db : numpy.ndarray
        Horizontal cut: 360 attenuations >= 0 relative to the peak; index k is
        the azimuth k degrees clockwise from boresight (seen from above). [dB]
    v_att_db : numpy.ndarray
        Vertical cut in the boresight plane: 360 attenuations >= 0; index k is
        the MSI/Planet vertical angle: 0 = horizon in front, increasing
        DOWNWARD, 90 = straight down, 180 = horizon behind, 270 = straight up.
        So the front half at elevation e (positive up) is at index -e mod 360
        and the back half at 180 + e. [dB]
    freq_mhz : float or None
        Frequency the pattern was measured at. [MHz]
    elec_tilt_deg : float
        Electrical downtilt already contained in the cuts (MSI ``TILT
        ELECTRICAL`` with the tilt in the comment or file name; 0 if none). [deg]
    mech_tilt_deg : float
        Mechanical downtilt the cuts were measured with (MSI ``TILT
        MECHANICAL``); kept for the record, not removed. [deg]
    make, polarization, comment : str
        MSI ``MAKE``, ``POLARIZATION`` and ``COMMENT``.
    extra : tuple of (str, str)
        Any other header lines (``H_WIDTH``, ``V_WIDTH``, ``FRONT_TO_BACK``,
        vendor keys), kept verbatim so that a file round-trips.

    Notes
    -----
    The MSI/Planet format defines both cuts as attenuation in dB relative to the
    peak, positive numbers, 360 one-degree samples; 0 deg of the horizontal cut
    is the boresight, 0 deg of the vertical cut the horizon, and the vertical
    angle grows downward (Radio Mobile's description of the Planet format;
    crc-covlib and planning tools read it the same way).  The format does not
    state the sense of the horizontal angle; netqa reads it clockwise (as a
    compass bearing, like crc-covlib).  Sector patterns are nearly symmetric,
    so the difference is usually immaterial.
    """

    name: str
    gain_dbi: float
    h_att_db: np.ndarray
    v_att_db: np.ndarray
    freq_mhz: float | None = None
    elec_tilt_deg: float = 0.0
    mech_tilt_deg: float = 0.0
    make: str = ""
    polarization: str = ""
    comment: str = ""
    extra: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "h_att_db", _cut_array("h_att_db", self.h_att_db))
        object.__setattr__(self, "v_att_db", _cut_array("v_att_db", self.v_att_db))
        gain = float(as_float("gain_dbi", self.gain_dbi))
        object.__setattr__(self, "gain_dbi", gain)
        if self.freq_mhz is not None:
            f = as_float("freq_mhz", self.freq_mhz)
            require_positive("freq_mhz", f, "MHz")
            object.__setattr__(self, "freq_mhz", float(f))
        for tilt in ("elec_tilt_deg", "mech_tilt_deg"):
            t = as_float(tilt, getattr(self, tilt))
            check_range(tilt, t, -90.0, 90.0, "deg", "an antenna pattern", True)
            object.__setattr__(self, tilt, float(t))
        object.__setattr__(self, "extra", tuple((str(k), str(v)) for k, v in self.extra))

    def __eq__(self, other):
        if not isinstance(other, AntennaPattern):
            return NotImplemented
        return all(
            np.array_equal(getattr(self, f.name), getattr(other, f.name))
            if f.name in ("h_att_db", "v_att_db")
            else getattr(self, f.name) == getattr(other, f.name)
            for f in dataclasses.fields(self)
        )

    def __hash__(self):
        return hash((self.name, self.gain_dbi, self.h_att_db.tobytes(), self.v_att_db.tobytes()))

    @classmethod
    def from_sector(
        cls,
        name="3GPP sector",
        gain_dbi=17.0,
        downtilt_deg=0.0,
        hpbw_h_deg=65.0,
        hpbw_v_deg=10.0,
        sla_v_db=20.0,
        am_db=25.0,
        **kwargs,
    ):
        """Sample :func:`sector_gain_db` into the two cuts (a synthetic MSI pattern).

        The downtilt, if any, is recorded as ``elec_tilt_deg``.

        >>> p = AntennaPattern.from_sector(gain_dbi=17.0)
        >>> float(p.h_att_db[0]), float(p.h_att_db[180]), float(p.v_att_db[5])
        (0.0, 25.0, 3.0)
        """
        k = np.arange(N_CUT, dtype=np.float64)
        h = -sector_gain_db(k, 0.0, downtilt_deg, hpbw_h_deg, hpbw_v_deg, sla_v_db, am_db)
        back = (k > 90) & (k < 270)
        az = np.where(back, 180.0, 0.0)
        elev = np.where(back, k - 180.0, np.where(k <= 90, -k, 360.0 - k))
        v = -sector_gain_db(az, elev, downtilt_deg, hpbw_h_deg, hpbw_v_deg, sla_v_db, am_db)
        return cls(
            name=name, gain_dbi=gain_dbi, h_att_db=h + 0.0, v_att_db=v + 0.0,
            elec_tilt_deg=downtilt_deg, **kwargs,
        )  # fmt: skip

    def kernel_cuts(self):
        """The two contiguous float64 arrays the numba core :func:`_pattern_gain_db` takes.

        Returns ``(h_att_db, v_att_db)`` as stored; pass the core the electrical
        tilt to add, ``total_elec_tilt_deg - self.elec_tilt_deg``.
        """
        return (
            np.ascontiguousarray(self.h_att_db, dtype=np.float64),
            np.ascontiguousarray(self.v_att_db, dtype=np.float64),
        )

    def gain_db(self, az_off_deg, elev_deg, mech_tilt_deg=0.0, elec_tilt_deg=None, *, method="weighted", strict=True):
        r"""Gain relative to the peak in any direction, with mechanical and electrical tilt.

        Parameters
        ----------
        az_off_deg : array_like
            Horizontal angle from the antenna azimuth, clockwise; wrapped. [deg]
        elev_deg : array_like
            Elevation of the direction, positive above the horizon, [-90, 90]. [deg]
        mech_tilt_deg : array_like
            Mechanical downtilt (positive down), [-90, 90]: the whole antenna
            is rotated about its horizontal axis perpendicular to boresight. [deg]
        elec_tilt_deg : array_like or None
            Total electrical downtilt (positive down), [-90, 90].  ``None``
            (default) keeps the pattern's own tilt; otherwise only the
            difference ``elec_tilt_deg - self.elec_tilt_deg`` changes the
            pattern. [deg]
        method : {"weighted", "summing"}
            How the cuts are combined (see Notes).
        strict : bool
            Raise ``ValueError`` for elevations or tilts outside [-90, 90]
            (default); with ``False`` warn and evaluate anyway (elevations are
            then clamped by the geometry).

        Returns
        -------
        numpy.ndarray or numpy.float64
            Gain relative to the peak, <= 0; add :attr:`gain_dbi`. [dB]

        Notes
        -----
        1. Mechanical tilt t: the direction vector
           :math:`(\cos e\cos a, \cos e\sin a, \sin e)` is rotated into the
           antenna frame, :math:`x' = x\cos t - z\sin t`, :math:`z' = x\sin t + z\cos t`
           (the back lobe rises by t while the front beam falls by t; at
           +/-90 deg azimuth the tilt has no effect).
        2. Electrical tilt: only the difference :math:`\Delta = T - T_{file}`
           between the wanted total tilt T and the tilt already in the cuts
           is applied, as an elevation shift :math:`e_b = e' + \Delta` of the
           whole pattern (front and back lobes both move down, as for a
           phased vertical array; clamped at +/-90 deg).  The cuts are used
           as measured: the horizontal cut lies in the antenna's horizontal
           plane (where MSI files measure it, so that it meets the vertical
           cut at 0 and 180 deg), and with :math:`\Delta = 0` both cuts are
           reproduced exactly.
        3. Combination, in dB of attenuation A (gain = -A), with
           :math:`\phi_1 = |a|`, :math:`\phi_2 = 180° - |a|` the angular
           distances to the front and back halves of the vertical cut and
           :math:`\vartheta_1 = |e_b|`, :math:`\vartheta_2 = 90° - |e_b|` those
           to the horizontal cut and to the pole:

           * ``"weighted"`` — weighted bilinear interpolation (F. Gil, A. R.
             Claro, J. M. Ferreira, C. Pardelinha, L. M. Correia, "A 3D
             interpolation method for base-station-antenna radiation
             patterns", IEEE Antennas Propag. Mag. 43(2), 132-137, 2001; the
             form given in the Altair WinProp AMan manual, "Weighted Bilinear
             Interpolation"):

             .. math::
                A = \frac{(\phi_1 V_b + \phi_2 V_f)\frac{\vartheta_1\vartheta_2}{(\vartheta_1+\vartheta_2)^2}
                        + (\vartheta_1 V_p + \vartheta_2 H)\frac{\phi_1\phi_2}{(\phi_1+\phi_2)^2}}
                       {(\phi_1+\phi_2)\frac{\vartheta_1\vartheta_2}{(\vartheta_1+\vartheta_2)^2}
                        + (\vartheta_1+\vartheta_2)\frac{\phi_1\phi_2}{(\phi_1+\phi_2)^2}}

             with H = horizontal cut at a, V_f / V_b the front / back vertical
             cut at e_b, V_p the vertical cut at the nearer pole.  It returns
             the horizontal cut exactly on the horizon and the vertical cut
             exactly in the boresight plane.
           * ``"summing"`` — :math:`A = \min[\max(H + (1-w)(V_f - H(0)) + w(V_b - H(180)), 0), A_{max}]`
             with :math:`w = |a|/180°` and A_max the deepest value of either
             cut: the 3GPP combination :math:`-\min(-(A_H + A_V), A_{max})`
             with the vertical term taken relative to the horizon and blended
             between front and back; it also reproduces both cuts.

        Cuts are interpolated linearly between their 1-degree samples.

        Examples
        --------
        >>> p = AntennaPattern.from_sector()
        >>> float(p.gain_db(0.0, 0.0)), float(p.gain_db(32.5, 0.0)), float(p.gain_db(0.0, -5.0))
        (0.0, -3.0, -3.0)
        >>> round(float(p.gain_db(0.0, -6.0, mech_tilt_deg=6.0)), 6)
        0.0
        >>> round(float(p.gain_db(0.0, -6.0, elec_tilt_deg=6.0)), 6)
        0.0
        """
        method_id = int(PatternMethod[choice("method", method, ("weighted", "summing")).upper()])
        model = f"antenna pattern {self.name!r}"
        az = as_float("az_off_deg", az_off_deg)
        elev = as_float("elev_deg", elev_deg)
        mech = as_float("mech_tilt_deg", mech_tilt_deg)
        elec = as_float("elec_tilt_deg", self.elec_tilt_deg if elec_tilt_deg is None else elec_tilt_deg)
        for nm, arr in (("elev_deg", elev), ("mech_tilt_deg", mech), ("elec_tilt_deg", elec)):
            check_range(nm, arr, -90.0, 90.0, "deg", model, strict)
        elev = np.clip(elev, -90.0, 90.0)
        h, v = self.kernel_cuts()
        shape, (a, e, m, t) = flat_float64(az, elev, mech, elec - self.elec_tilt_deg)
        return result(_pattern_loop(h, v, a, e, m, t, method_id).reshape(shape))
