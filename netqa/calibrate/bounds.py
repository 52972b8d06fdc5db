r"""Physical bounds of the Standard Propagation Model coefficients, and the check the fit applies.

The fit (:mod:`netqa.calibrate.fit`) solves an unconstrained least-squares
problem; measurements with a narrow geometry, a biased cell database or
spatially correlated shadowing can push a coefficient to a value no radio
path has (a distance slope below free space, a diffraction weight below
zero).  Such a value fits the calibration drive and fails everywhere else.
Each coefficient therefore has a range (:data:`SPM_BOUNDS`); a fitted value
outside it is **refused**: the coefficient is held at the nearer bound, the
other coefficients are refitted (an active-set least squares, one
coefficient at a time, the worst first), and the reason, with the value the
data asked for, goes into :attr:`Calibration.refused` (the model file's
``[calibration] refused``) and a warning.

Ranges (model of :func:`propagation.spm_loss_db`, d in km, heights in m):

===  =================  ====================================================================
K    range              why
===  =================  ====================================================================
K2   20 .. 70 dB/dec    applied to the effective distance slope ``K2 + K5 log10 h_eff`` at the
                        data's median effective height (K2 alone when K5 is 0).  20: free space
                        (ITU-R P.525-4 eq. (6)), the least a mean path loss can grow; Hata's
                        slope 44.9 - 6.55 log10 h_b is 35 .. 30 dB/decade for h_b = 30 .. 200 m
                        (Hata 1980, eq. (4)) and 40 beyond the two-ray breakpoint (plane earth);
                        70: the maximum of Forsk's SPM calibration table (steep urban shadowing)
K3   -30 .. 0 dB/dec    height gain of the base station: a higher mast never adds loss (<= 0);
                        Hata -13.82, plane earth -20 (20 log10 h_tx); -30 leaves margin
K4   0 .. 1.2           weight of the terrain excess loss: 0 ignores it, 1 is the full
                        deterministic loss (ITU-R P.526-15 s. 4.5); negative would make an
                        obstruction *raise* the signal; 1.2 allows the Bullington
                        construction's known underestimate against multiple-edge methods
K5   -10 .. 0 dB/dec^2  the slope flattens as the mast rises: Hata -6.55; Forsk's range -10 .. 0
K6   -5 .. 0 dB/m       receiver height gain: Hata a(h_m) slope 1.1 log10 f - 0.7 is 1.7 (150 MHz)
                        to 3.5 (6 GHz) dB/m, i.e. K6 = -a'; a higher receiver never adds loss
K7   -15 .. 0 dB/dec    large-city a(h_m) = 3.2 (log10 11.75 h_m)^2 - 4.97 has a log-height
                        slope of 6.8 .. 13 for h_m = 1 .. 10 m (Hata 1980, eq. (5))
===  =================  ====================================================================

K1 is not bounded: it absorbs the EIRP errors of the cell database
(feeder, gain, power), which the audit (issue 12 item 1) reports.

References: M. Hata, "Empirical formula for propagation loss in land mobile
radio services", IEEE Trans. Veh. Technol. VT-29(3), 1980, eqs. (4)-(5);
ITU-R P.525-4 eq. (6); ITU-R P.526-15 s. 4.5; Forsk, Atoll Technical
Reference Guide, "Standard Propagation Model", calibration guidelines (the
min/typical/max table of K1..K7, with d in metres, which changes K3 but not
K2, K4..K7).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Bound:
    """Inclusive physical range of one coefficient, its unit and the reason (for the refusal message)."""

    lo: float
    hi: float
    unit: str
    why: str

    def contains(self, value: float) -> bool:
        return self.lo <= value <= self.hi

    def nearest(self, value: float) -> float:
        return min(max(value, self.lo), self.hi)

    def excess(self, value: float) -> float:
        """Distance outside the range, relative to its width (0 inside)."""
        return max(self.lo - value, value - self.hi, 0.0) / (self.hi - self.lo)


SPM_BOUNDS: dict[str, Bound] = {
    "k2": Bound(20.0, 70.0, "dB/decade",
                "free space is 20 dB/decade, Hata 30-45, Forsk's calibration maximum 70"),
    "k3": Bound(-30.0, 0.0, "dB/decade of h_eff",
                "a higher mast never adds loss; Hata -13.82, plane earth -20"),
    "k4": Bound(0.0, 1.2, "",
                "0 ignores the terrain obstruction, 1 is the full deterministic loss; a negative weight "
                "would make an obstacle raise the signal"),
    "k5": Bound(-10.0, 0.0, "dB/decade^2", "the distance slope flattens as the mast rises; Hata -6.55"),
    "k6": Bound(-5.0, 0.0, "dB/m", "a higher receiver never adds loss; Hata a(h_m) slope 1.7-3.5 dB/m"),
    "k7": Bound(-15.0, 0.0, "dB/decade of h_rx", "a higher receiver never adds loss; Hata large city 7-13"),
}  # fmt: skip


def effective_slope(k2: float, k5: float, log_h_med: float) -> float:
    """Distance slope of the SPM at the median effective height, K2 + K5 log10 h_eff. [dB/decade]

    >>> round(effective_slope(44.9, -6.55, math.log10(30.0)), 2)
    35.22
    """
    return float(k2) + float(k5) * float(log_h_med)


def check_bounds(k: np.ndarray, free: list[str], log_h_med: float,
                 bounds: dict[str, Bound] | None = None) -> tuple[str, float, float, str] | None:  # fmt: skip
    """The worst bound violation among the free coefficients, or None.

    Parameters
    ----------
    k : numpy.ndarray
        K1..K7 as fitted.
    free : list of str
        Names of the fitted coefficients (only these are checked).
    log_h_med : float
        log10 of the data's median effective antenna height (for the K2 slope). [log10 m]
    bounds : dict, optional
        name -> :class:`Bound` (default :data:`SPM_BOUNDS`).

    Returns
    -------
    tuple or None
        ``(name, value to hold the coefficient at, value the data asked for, reason)``.
    """
    bounds = SPM_BOUNDS if bounds is None else bounds
    worst = None
    for name in free:
        b = bounds.get(name)
        if b is None:
            continue
        j = int(name[1]) - 1
        value = float(k[j])
        if name == "k2":  # the bound is on the effective slope at the data's heights
            slope = effective_slope(k[1], k[4], log_h_med)
            if b.contains(slope):
                continue
            hold = b.nearest(slope) - float(k[4]) * log_h_med
            why = (f"fitted effective distance slope K2 + K5 log10 h_eff = {slope:.1f} dB/decade (K2 {value:.1f}, "
                   f"median h_eff {10 ** log_h_med:.0f} m) is outside the physical range {b.lo:g}..{b.hi:g} "
                   f"{b.unit} ({b.why}); held at the slope {b.nearest(slope):g} (K2 {hold:.2f})")  # fmt: skip
            excess = b.excess(slope)
        else:
            if b.contains(value):
                continue
            hold = b.nearest(value)
            why = (f"fitted {value:.3g} is outside the physical range {b.lo:g}..{b.hi:g} {b.unit} ({b.why}); "
                   f"held at the bound {hold:g}")  # fmt: skip
            excess = b.excess(value)
        if worst is None or excess > worst[0]:
            worst = (excess, name, hold, value, why)
    return None if worst is None else worst[1:]


def bounds_table(bounds: dict[str, Bound] | None = None) -> dict:
    """The bounds as a plain dict for the model file's ``[calibration] settings``."""
    bounds = SPM_BOUNDS if bounds is None else bounds
    return {name: [b.lo, b.hi] for name, b in bounds.items()}


def clip_cell_slope(k2_cell: float, k5: float, log_h_med: float) -> tuple[float, str | None]:
    """A per-cell K2 held so that its effective slope lies in the K2 range; the note when it was held."""
    b = SPM_BOUNDS["k2"]
    slope = effective_slope(k2_cell, k5, log_h_med)
    if b.contains(slope) or not math.isfinite(slope):
        return float(k2_cell), None
    held = b.nearest(slope) - float(k5) * log_h_med
    return float(held), (f"cell effective slope {slope:.1f} dB/decade outside {b.lo:g}..{b.hi:g}; "
                         f"held at {b.nearest(slope):g}")  # fmt: skip


__all__ = ["SPM_BOUNDS", "Bound", "bounds_table", "check_bounds", "clip_cell_slope", "effective_slope"]
