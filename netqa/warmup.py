"""Compile the engine's numba kernels ahead of the first run: ``python -m netqa.warmup`` (``make setup`` runs it).

numba compiles a kernel the first time it is called with a new type signature
and caches the machine code under ``__pycache__`` (``cache=True``).  Without
this step the first ``netqa predict`` after an install spends 20-60 s
compiling (about 46 functions: the coverage kernel, the delta-Bullington
sweep, the combiner and every helper they call, and, because the model is a
run-time value of the cell matrix, every path-loss model's code), and a run
after any edit of :mod:`propagation` does it again (the cache is stamped
with the whole package).

:func:`warm_up` runs :func:`netqa.predict.predict_to_file` on a tiny
synthetic area for each input combination that gives the kernels another
signature (terrain none / delta-Bullington / ITM, clutter none / class table /
P.2108, per-cell output; measured antenna patterns are not needed: their
signature is that of sector patterns), then
:func:`propagation.engine.predict_points` once (the points mode of compare,
calibrate, audit and link: one signature for every model and terrain method),
so that the CLI's runs only load from the cache.  :func:`notice_if_cold` tells
the user before a run compiles (predict: the kernels of its terrain method;
compare, calibrate, audit, link: the points kernel).  Not warmed: the kernels of
a model file's clutter along the path (about 1 s of CPU to compile) and of the
learned correction, compiled by the first run that uses them.

Examples
--------
``make setup`` or, after ``pip install``::

    python -m netqa.warmup
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

#: The kernels a coverage run always calls: ``(module, function)``.
COVERAGE_KERNELS = (("propagation.engine.closed_form", "_accumulate_group"), ("propagation.engine.combine", "_combine"))
#: The kernel a terrain-aware run adds (delta-Bullington).
TERRAIN_KERNEL = ("propagation.engine.terrain", "_sweep")
#: The kernel ``--terrain itm`` adds instead (about 23 s of CPU to compile).
ITM_KERNEL = ("propagation.engine.terrain_itm", "_itm_sweep")
#: The points mode of compare, calibrate, audit and link (every terrain method; about 12 s of CPU to compile).
POINTS_KERNEL = ("propagation.engine.points", "_points_kernel")

#: Input combinations compiled by :func:`warm_up`: (terrain, clutter model or None, per-cell output).
COMBINATIONS = (
    ("none", None, False),
    ("delta-bullington", None, False),
    ("delta-bullington", None, True),
    ("none", "table", False),
    ("delta-bullington", "table", False),
    ("delta-bullington", "p2108", False),
    ("delta-bullington", "p2108-statistical", False),
    ("itm", None, False),
)


def _cached(module: str, name: str) -> bool | None:
    """Whether numba has a cache index for kernel ``module.name`` (None: cannot tell)."""
    import importlib

    try:
        disp = getattr(importlib.import_module(module), name)
        return Path(disp._cache._cache_file._index_path).exists()
    except Exception:  # noqa: BLE001 - a numba without these internals: say nothing
        return None


def _run_kernels(terrain, points: bool) -> tuple:
    """The kernels a run loads: a coverage run's (``terrain``: its method, True for delta-Bullington, False or
    ``"none"`` for none), or the points mode's (``points``)."""
    if points:
        return (POINTS_KERNEL,)
    if terrain == "itm":
        return COVERAGE_KERNELS + (ITM_KERNEL,)
    return COVERAGE_KERNELS + ((TERRAIN_KERNEL,) if terrain not in (False, None, "none") else ())


def kernels_cached(terrain: bool | str = True, *, points: bool = False) -> bool | None:
    """Whether the kernels of a run are compiled and cached (None: cannot tell).

    ``terrain``: the coverage run's terrain method (True: delta-Bullington; False or ``"none"``: none);
    ``points``: the points mode instead (compare, calibrate, audit, link).
    """
    states = [_cached(m, n) for m, n in _run_kernels(terrain, points)]
    if any(s is None for s in states):
        return None
    return all(states)


def notice_if_cold(terrain: bool | str = True, *, points: bool = False) -> bool:
    """Log a warning when this run will compile the kernels first; returns whether it did."""
    if kernels_cached(terrain, points=points) is False:
        log.warning(
            "compiling the propagation kernels (the first run after an install or an update; 20-60 s, once). "
            "'make setup' or 'python -m netqa.warmup' does it ahead of time"
        )
        return True
    return False


def _inputs(tmp: Path) -> dict:
    """A 3 x 3 km area: synthetic DEM and clutter (two classes), one three-sector site."""
    import numpy as np
    import rasterio
    from pyproj import Transformer
    from rasterio.transform import from_origin

    n, px, crs = 100, 30.0, "EPSG:32630"
    x0, y1 = 500000.0 - n * px / 2, 4480000.0 + n * px / 2
    yy, xx = np.mgrid[0:n, 0:n]
    elev = (300.0 + 40.0 * np.sin(xx / 9.0) * np.cos(yy / 13.0)).astype(np.float32)
    common = dict(driver="GTiff", width=n, height=n, count=1, crs=crs, transform=from_origin(x0, y1, px, px))
    with rasterio.open(tmp / "dem.tif", "w", dtype="float32", nodata=-9999.0, **common) as ds:
        ds.write(elev, 1)
    with rasterio.open(tmp / "clutter.tif", "w", dtype="uint8", nodata=0, **common) as ds:
        ds.write(np.where(xx < n // 2, 1, 2).astype(np.uint8), 1)
    (tmp / "classes.csv").write_text("code,name,loss_db,height_m\n1,open,0,0\n2,urban,12,15\n")
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(500000.0, 4480000.0)
    rows = [f"W1,W1{i},{lat:.7f},{lon:.7f},25,{az},2,4,43,1800,20,LTE" for i, az in enumerate((0, 120, 240))]
    (tmp / "cells.csv").write_text(
        "site_id,cell_id,lat,lon,height_m,azimuth_deg,mech_tilt_deg,elec_tilt_deg,tx_power_dbm,freq_mhz,bandwidth_mhz,tech\n"
        + "\n".join(rows) + "\n"
    )  # fmt: skip
    return {"dem": tmp / "dem.tif", "cells": tmp / "cells.csv", "clutter": tmp / "clutter.tif", "table": tmp / "classes.csv"}


def warm_up(show_progress: bool = True) -> float:
    """Compile and cache every kernel signature the CLI's runs use; returns the seconds it took.

    Progress (one line per combination, with its time) goes to stderr when
    ``show_progress``.  A second call only loads from the cache (about a second).
    """
    from netqa.predict import PredictConfig, predict_to_file

    t_all = time.perf_counter()
    steps = len(COMBINATIONS)
    with tempfile.TemporaryDirectory(prefix="netqa-warmup-") as tmp:
        tmp = Path(tmp)
        inp = _inputs(tmp)
        for k, (terrain, clutter_model, per_cell) in enumerate(COMBINATIONS, start=1):
            t0 = time.perf_counter()
            clutter = {} if clutter_model is None else {"clutter": inp["clutter"], "clutter_table": inp["table"]}
            cfg = PredictConfig(model="hata", terrain=terrain, radius_km=1.5, resolution_m=30.0,
                                clutter_model=clutter_model or "table")  # fmt: skip
            predict_to_file(inp["cells"], inp["dem"], tmp / f"c{k}.tif", config=cfg, show_progress=False,
                            per_cell_out=tmp / f"p{k}.tif" if per_cell else None, **clutter)  # fmt: skip
            if show_progress:
                what = f"terrain {terrain}, clutter {clutter_model or 'none'}{', per-cell' if per_cell else ''}"
                print(f"netqa warm-up {k}/{steps}: {what}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        _points_mode()
        if show_progress:
            print(f"netqa warm-up: points mode (compare, calibrate, audit, link): {time.perf_counter() - t0:.1f} s",
                  file=sys.stderr, flush=True)  # fmt: skip
    # the SPM's K1 at a carrier: EngineConfig.model_params calls it for SPM runs only (a Hata run compiles no SPM code)
    from propagation.spm import SPM_DEFAULT_K, spm_k1_at

    spm_k1_at(SPM_DEFAULT_K, 1800.0)
    return time.perf_counter() - t_all


def _points_mode() -> None:
    """The points kernel: one signature for every model, terrain method and clutter input (the engine casts them)."""
    import numpy as np

    from propagation.engine import EngineConfig, GridSpec, cell_matrix, predict_points

    elev = np.full((20, 20), 100.0, np.float32)
    cells = cell_matrix(x_m=[300.0], y_m=[300.0], height_m=[30.0], azimuth_deg=[0.0], freq_mhz=[1800.0],
                        rs_power_dbm=[15.0], bandwidth_mhz=[20.0])  # fmt: skip
    predict_points(cells, elev, GridSpec(0.0, 600.0, 30.0, 20, 20), [450.0], [150.0],
                   EngineConfig(model="hata", terrain="delta-bullington"))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """``python -m netqa.warmup [-q]``: compile the kernels, printing progress."""
    argv = sys.argv[1:] if argv is None else argv
    quiet = "-q" in argv or "--quiet" in argv
    if not quiet:
        print("netqa: compiling the propagation kernels once (numba; cached for every later run)", file=sys.stderr)
    total = warm_up(show_progress=not quiet)
    if not quiet:
        print(f"netqa: kernels ready ({total:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
