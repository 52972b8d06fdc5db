"""The ``[path_clutter]`` tables of the tuned-model TOML (issue 12 item 3): written and read for :mod:`.modelfile`.

Layout (global, and the same under ``[band."KEY".path_clutter]``)::

    [path_clutter]          # clutter along the path (netqa.calibrate.pathterms)
    near_m = 300.0          # the near share's stretch before the receiver [m]
    anchor = "open"         # the class whose losses are 0 (the others are relative to it)
    [path_clutter.near_db]  # loss [dB] of a near stretch entirely in the class, weighted by the class's share
    urban = 6.2
    [path_clutter.whole_db] # the same over the whole path
    forest = 3.1

A fitted band carries its own table or none (its K's were fitted without
path terms); only cells of bands without a section take the global one.
Reference: Forsk, Atoll Technical Reference Guide, "Standard Propagation
Model" (clutter losses weighted along the path).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from netqa.errors import ConfigError

_KEYS = ("near_m", "anchor", "near_db", "whole_db")


@dataclass(frozen=True)
class PathClutter:
    """Fitted path-clutter losses: ``near_db``/``whole_db`` class name -> loss [dB] of a path (stretch) fully in
    the class, ``near_m`` the near stretch [m], ``anchor`` the 0 dB class."""

    near_m: float = 300.0
    near_db: dict = field(default_factory=dict)
    whole_db: dict = field(default_factory=dict)
    anchor: str | None = None


def path_table(cal) -> dict | None:
    """The ``[path_clutter]`` table of a :class:`~netqa.calibrate.fit.Calibration`, or None when it has none."""
    near, whole = getattr(cal, "path_near_db", {}), getattr(cal, "path_whole_db", {})
    if not near and not whole:
        return None
    out = {"near_m": float(cal.near_m), "anchor": cal.path_anchor}
    if near:
        out["near_db"] = {str(c): float(v) for c, v in sorted(near.items())}
    if whole:
        out["whole_db"] = {str(c): float(v) for c, v in sorted(whole.items())}
    return {k: v for k, v in out.items() if v is not None}


def read_path_table(p, where: str, table) -> PathClutter:
    """Validate one ``[path_clutter]`` table (ConfigError naming the file and the table)."""
    if not isinstance(table, dict) or [k for k in table if k not in _KEYS]:
        raise ConfigError(f"--model-file {p}: [{where}] takes {', '.join(_KEYS)}; got {table!r}")
    near_m = table.get("near_m", 300.0)
    if isinstance(near_m, bool) or not isinstance(near_m, (int, float)) or not (math.isfinite(near_m) and near_m > 0):
        raise ConfigError(f"--model-file {p}: [{where}] near_m = {near_m!r} must be a distance > 0 m")
    losses = {}
    for key in ("near_db", "whole_db"):
        t = table.get(key, {})
        if not isinstance(t, dict):
            raise ConfigError(f"--model-file {p}: [{where}.{key}] must be a table of class name = loss [dB]")
        for name, v in t.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ConfigError(f"--model-file {p}: [{where}.{key}] {name} = {v!r} must be a finite number of dB")
        losses[key] = {str(n): float(v) for n, v in t.items()}
    anchor = table.get("anchor")
    return PathClutter(float(near_m), losses["near_db"], losses["whole_db"], None if anchor is None else str(anchor))


__all__ = ["PathClutter", "path_table", "read_path_table"]
