"""Apply a tuned model's pattern-attenuation weight to the engine's cells (issue 12; fitted by
:mod:`netqa.calibrate.pattern`, stored as ``pattern_weight`` in the tuned-model TOML).

For the 3GPP parametric sector (TR 36.814 V9.2.0 Table A.2.1.1-2)
``w min(min(12 (phi/h)^2, A_m) + min(12 (theta/v)^2, SLA), A_m)`` is the same
pattern with ``h / sqrt(w)``, ``v / sqrt(w)``, ``w SLA`` and ``w A_m``: the
weight needs no new physics in the engine.  Measured (MSI) patterns and omni
cells are left as they are.
"""

from __future__ import annotations

import numpy as np


def apply_pattern_weights(matrix: np.ndarray, weights) -> np.ndarray:
    """A copy of the engine's cell matrix with each parametric-sector cell's pattern scaled by its weight.

    Parameters
    ----------
    matrix : numpy.ndarray
        :func:`propagation.engine.cell_matrix` output.
    weights : array_like
        One weight per cell (1 = unchanged), in ``WEIGHT_BOUNDS`` or 1. [-]

    Returns
    -------
    numpy.ndarray
        hpbw_h and hpbw_v divided by sqrt(w), SLA_v and A_m multiplied by w, on
        rows with the parametric sector pattern.

    Examples
    --------
    >>> from propagation.engine import cell_matrix
    >>> m = cell_matrix(x_m=[0.0], y_m=[0.0], height_m=[30.0], azimuth_deg=[0.0], freq_mhz=[1800.0],
    ...                 rs_power_dbm=[15.0], bandwidth_mhz=[20.0])
    >>> from propagation.engine._common import CELL_FIELDS
    >>> float(apply_pattern_weights(m, [0.25])[0, CELL_FIELDS.index("hpbw_h_deg")])
    130.0
    """
    from propagation.engine._common import CELL_FIELDS, PATTERN_SECTOR

    w = np.broadcast_to(np.asarray(weights, dtype=np.float64), (matrix.shape[0],))
    if not np.all(np.isfinite(w) & (w > 0)):
        raise ValueError(f"pattern weights must be finite and > 0, got {w[~(np.isfinite(w) & (w > 0))][0]!r}")
    out = matrix.copy()
    sector = out[:, CELL_FIELDS.index("pattern_id")] == PATTERN_SECTOR
    ws = np.where(sector, w, 1.0)
    out[:, CELL_FIELDS.index("hpbw_h_deg")] /= np.sqrt(ws)
    out[:, CELL_FIELDS.index("hpbw_v_deg")] /= np.sqrt(ws)
    out[:, CELL_FIELDS.index("sla_v_db")] *= ws
    out[:, CELL_FIELDS.index("am_db")] *= ws
    return out


def cell_pattern_weights(tuned, cells) -> np.ndarray:
    """Each cell's pattern weight from a tuned model: its band's, else the global one, else 1. [-]"""
    import pandas as pd

    tech = cells["tech"].astype(str).tolist() if "tech" in cells.columns else ["LTE"] * len(cells)
    freq = pd.to_numeric(cells["freq_mhz"], errors="coerce").to_numpy(np.float64)
    return np.array([tuned.pattern_weight_for(t, f) for t, f in zip(tech, freq)], dtype=np.float64)


__all__ = ["apply_pattern_weights", "cell_pattern_weights"]
