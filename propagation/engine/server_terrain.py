"""The best server's terrain excess loss per pixel, kept from the raster engine's sweeps (opt-in output).

:func:`propagation.engine.predict_coverage` with ``best_terrain_db=True``
returns, beside the coverage bands, the terrain method's excess loss over free
space (``delta-bullington`` or ``itm``, with a surface over ground +
obstacles) on the path from the pixel's **best server** -- the same per-pixel
value the path-loss model used (the sweep's ``excess`` window of the best
cell's path group), clipped at 0 dB as the points-mode obstruction feature
of the learned correction (``netqa.compare.points.calibration_geometry``:
``max(free-space RSRP - terrain RSRP, 0)``).  Without a terrain method it
is 0 where a cell serves; NaN where none does.

How: after each path group is folded into a tile's accumulators, the pixels
whose best cell (so far) belongs to that group take the group's excess.  A
later group that takes a pixel over writes its own; the final best server's
group is the last to win the pixel, so every pixel ends with its final best
server's value (groups have disjoint members).  One pass over the group's
window per group: small beside the group's path-loss pass.

Accuracy: that of the sweep against the exact straight profile (issue 4's
goals for delta-Bullington: mean |error| <= 0.15 dB, P95 <= 1 dB, 99.5 % within
3 dB; :mod:`propagation.engine.terrain`).

Reference: ITU-R P.526-15 section 4.5 / P.1812-6 section 4.3 (delta-Bullington
excess loss); the engine's sweep, :func:`propagation.engine.terrain._sweep_window`.
"""

from __future__ import annotations

import math

import numpy as np

from propagation._jit import jit


def check_best_terrain(value) -> bool:
    """``best_terrain_db`` as a bool; ``ValueError`` naming the option for anything but True/False."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"best_terrain_db must be True or False, got {value!r}")  # noqa: TRY004 (the engine's options raise ValueError)
    return bool(value)


def member_masks(n_cells: int, groups) -> list[np.ndarray]:
    """Per ``(sweep id, members)`` group: a bool mask over the cells, True for its members."""
    out = []
    for _sweep_id, members in groups:
        m = np.zeros(n_cells, np.bool_)
        m[members] = True
        out.append(m)
    return out


@jit
def _take_server_excess(best_idx, tile_r0, tile_c0, win, is_member, excess_db, out):  # pragma: no cover
    """Pixels of ``win`` (full-grid rows/cols) whose best cell is a member take the group's excess (>= 0) [dB]."""
    has_excess = excess_db.shape[0] > 0
    for r in range(win[0], win[1]):
        tr = r - tile_r0
        for c in range(win[2], win[3]):
            tc = c - tile_c0
            i = best_idx[tr, tc]
            if i < 0 or not is_member[i]:
                continue
            v = 0.0
            if has_excess:
                v = excess_db[r - win[0], c - win[2]]
                if not math.isnan(v) and v < 0.0:
                    v = 0.0
            out[tr, tc] = v


__all__ = ["check_best_terrain", "member_masks"]
