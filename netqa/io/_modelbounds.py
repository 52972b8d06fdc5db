"""Physical bounds of a tuned-model file's values, checked when the file is read (``--model-file``, a prior).

``netqa calibrate`` holds every fitted coefficient inside its physical range
(:mod:`netqa.calibrate.bounds`, :data:`netqa.calibrate.pathterms.PATH_BOUND`); a
file that holds a value outside it was edited by hand or written by another
tool, and would predict what no radio path does (a distance slope below free
space, an obstruction that raises the signal).  The reader refuses it with the
section, the key, the value and the reason (:class:`~netqa.errors.ConfigError`,
exit 2), the same ranges the fit applies:

* K3..K7: the ranges of :data:`netqa.calibrate.bounds.SPM_BOUNDS`;
* K2 (global, per band and per cell): the fit bounds the *effective* slope
  K2 + K5 log10 h_eff at the data's median effective height, which the file does
  not record; the reader refuses a K2 whose effective slope lies outside the
  range at every effective height of :data:`H_EFF_RANGE_M` (3..300 m);
* path-clutter losses: :data:`netqa.calibrate.pathterms.PATH_BOUND`;
* tuned clutter losses per class: within +-:data:`CLUTTER_LIMIT_DB` (no clutter
  class adds or removes that much; the table loss plus the fitted offset).
"""

from __future__ import annotations

import math

from netqa.errors import ConfigError

#: Effective antenna heights over which a K2 must give a physical distance slope somewhere. [m]
H_EFF_RANGE_M = (3.0, 300.0)
#: Largest tuned clutter loss (or gain) of one class a model file may hold. [dB]
CLUTTER_LIMIT_DB = 100.0


def _bounds():
    from netqa.calibrate.bounds import SPM_BOUNDS  # lazy: netqa.calibrate imports this package's reader

    return SPM_BOUNDS


def check_k_bounds(p, where: str, k, *, keys=("k2", "k3", "k4", "k5", "k6", "k7")) -> None:
    """Refuse coefficients of ``k`` (a :class:`propagation.SpmCoefficients`) outside their physical ranges."""
    bounds = _bounds()
    for name in keys:
        if name == "k2":
            check_slope(p, where, float(k.k2), float(k.k5))
            continue
        b, v = bounds[name], float(getattr(k, name))
        if not b.contains(v):
            hint = ""
            if name == "k3" and v > 0:  # Atoll's K3 goes with d in metres: K3 + 3 K5 with d in km (netqa's)
                hint = (f"; an Atoll-style K3 (distance in metres) is K3 + 3 K5 = {v + 3.0 * float(k.k5):.2f} with "
                        "netqa's distance in km")  # fmt: skip
            raise ConfigError(f"--model-file {p}: [{where}] {name} = {v:g} is outside the physical range "
                              f"{b.lo:g}..{b.hi:g} {b.unit} ({b.why}){hint}; netqa calibrate never writes it: "
                              "correct the value or recalibrate")  # fmt: skip


def check_slope(p, where: str, k2: float, k5: float) -> None:
    """Refuse a K2 whose effective slope K2 + K5 log10 h_eff is unphysical at every h_eff of :data:`H_EFF_RANGE_M`."""
    b = _bounds()["k2"]
    lo_h, hi_h = (math.log10(h) for h in H_EFF_RANGE_M)
    s1, s2 = k2 + k5 * lo_h, k2 + k5 * hi_h
    if max(s1, s2) < b.lo or min(s1, s2) > b.hi:
        raise ConfigError(f"--model-file {p}: [{where}] k2 = {k2:g} (with k5 = {k5:g}) gives an effective distance "
                          f"slope of {min(s1, s2):.1f}..{max(s1, s2):.1f} dB/decade for effective heights "
                          f"{H_EFF_RANGE_M[0]:g}..{H_EFF_RANGE_M[1]:g} m, outside the physical range {b.lo:g}..{b.hi:g} "
                          f"{b.unit} ({b.why}); correct the value or recalibrate")  # fmt: skip


def check_clutter_losses(p, where: str, losses: dict) -> None:
    """Refuse a tuned clutter loss beyond +-:data:`CLUTTER_LIMIT_DB`."""
    for name, v in losses.items():
        if abs(v) > CLUTTER_LIMIT_DB:
            raise ConfigError(f"--model-file {p}: [{where}] {name} = {v:g} dB is outside -{CLUTTER_LIMIT_DB:g}.."
                              f"{CLUTTER_LIMIT_DB:g} dB: no clutter class adds or removes that much loss")  # fmt: skip


def check_path_losses(p, where: str, pc) -> None:
    """Refuse path-clutter losses outside the fit's range (:data:`netqa.calibrate.pathterms.PATH_BOUND`)."""
    from netqa.calibrate.pathterms import PATH_BOUND as b

    for key, table in (("near_db", pc.near_db), ("whole_db", pc.whole_db)):
        for name, v in table.items():
            if not b.contains(v):
                raise ConfigError(f"--model-file {p}: [{where}.{key}] {name} = {v:g} dB is outside the physical "
                                  f"range {b.lo:g}..{b.hi:g} {b.unit} ({b.why})")  # fmt: skip


__all__ = ["CLUTTER_LIMIT_DB", "H_EFF_RANGE_M", "check_clutter_losses", "check_k_bounds", "check_path_losses",
           "check_slope"]
