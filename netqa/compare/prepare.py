"""Shared input preparation of ``compare`` and ``calibrate``: samples matched to cells, terrain and clutter.

Every sample that cannot be used is counted under a named reason (never
dropped silently): no measured RSRP, serving cell not in the cell table,
outside the DEM.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from netqa.compare.points import PointWorld, load_world, sample_clutter
from netqa.compare.select import Selection
from netqa.errors import InputError
from netqa.timings import phase

log = logging.getLogger(__name__)


def read_samples(samples) -> pd.DataFrame:
    """Samples from GeoParquet/Parquet/CSV (canonical columns) or a DataFrame."""
    if isinstance(samples, pd.DataFrame):
        return samples.reset_index(drop=True)
    p = Path(samples)
    if not p.exists():
        raise InputError(f"--samples {p}: file not found")
    try:
        if p.suffix.lower() in (".parquet", ".geoparquet", ".pq"):
            df = pd.read_parquet(p)
        else:
            df = pd.read_csv(p, comment="#")
    except Exception as exc:  # noqa: BLE001 (pyarrow/pandas raise many types)
        raise InputError(f"--samples {p}: cannot read ({exc})") from exc
    if "geometry" in df.columns:
        df = df.drop(columns="geometry")
    return df.reset_index(drop=True)


@dataclass
class Prepared:
    """Usable samples (``df`` rows, in input order) with their projected position and serving-cell row.

    ``source`` is the table as read (every row) and ``rows`` the row of each
    usable sample in it (``df == source.iloc[rows]``): the measured event
    conditions (drop and handover models) use every measured sample.
    """

    df: pd.DataFrame
    world: PointWorld
    x_m: np.ndarray
    y_m: np.ndarray
    serving: np.ndarray
    clutter: np.ndarray
    clutter_db: np.ndarray
    removed: dict = field(default_factory=dict)
    unknown_cells: list = field(default_factory=list)
    n_read: int = 0
    source: pd.DataFrame | None = None
    rows: np.ndarray | None = None


@phase("input")  # samples, cells, DEM and clutter (netqa.timings)
def prepare(samples, cells, dem, *, clutter=None, clutter_table=None, resolution_m: float | None = None,
            radius_km: float = 15.0, need_rsrp: bool = True, selection: Selection | None = None,
            surface=None) -> Prepared:  # fmt: skip
    """Read and match the inputs; counts of removed samples per reason in ``removed``.

    ``resolution_m``: grid of the DEM and clutter (None: their native
    resolution, :func:`~netqa.compare.points.load_world`) [m]; ``selection``:
    the serving cells whose samples are kept (:mod:`netqa.compare.select`;
    the others are counted under ``not_selected``); ``surface``:
    building/obstacle heights above ground (:func:`netqa.compare.points.load_world`).
    """
    df = read_samples(samples)
    label = str(samples) if not isinstance(samples, pd.DataFrame) else "samples"
    missing = [c for c in ("lat", "lon", "cell_id", "session") if c not in df.columns]
    if need_rsrp and "rsrp_dbm" not in df.columns:
        missing.append("rsrp_dbm")
    if missing:
        raise InputError(f"--samples {label}: missing canonical column(s) {', '.join(missing)}; run netqa ingest first")
    n_read = len(df)
    if n_read == 0:
        raise InputError(f"--samples {label}: no samples")
    lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(np.float64)
    lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(np.float64)
    world, inside = load_world(cells, dem, samples_lonlat=(lon, lat), clutter=clutter, clutter_table=clutter_table,
                               resolution_m=resolution_m, radius_km=radius_km, surface=surface)  # fmt: skip
    sx, sy = world.sample_xy
    removed = {}
    keep = np.ones(n_read, bool)
    if need_rsrp:
        bad = ~np.isfinite(pd.to_numeric(df["rsrp_dbm"], errors="coerce").to_numpy(np.float64))
        removed["no_rsrp"] = int(bad.sum())
        keep &= ~bad
    index = {cid: i for i, cid in enumerate(world.cell_ids)}
    cell_str = df["cell_id"].astype("string").fillna("").to_numpy(dtype=object)
    serving = np.array([index.get(c, -1) for c in pd.unique(cell_str)])
    serving = pd.Series(cell_str).map(dict(zip(pd.unique(cell_str), serving))).to_numpy(np.int64)
    unknown = keep & (serving < 0)
    removed["serving_cell_not_in_cell_table"] = int(unknown.sum())
    unknown_ids = sorted({str(c) for c in cell_str[unknown]})
    if unknown.any():
        log.warning("%d samples have a serving cell missing from the cell table (%s%s); left out of the comparison",
                    int(unknown.sum()), ", ".join(unknown_ids[:5]), ", ..." if len(unknown_ids) > 5 else "")  # fmt: skip
    keep &= ~unknown
    if selection is not None and selection.active:
        chosen = selection.cell_mask(world.cells)
        out_sel = keep & ~chosen[np.maximum(serving, 0)]
        removed["not_selected"] = int(out_sel.sum())
        keep &= ~out_sel
    outside = keep & ~inside
    removed["outside_dem"] = int(outside.sum())
    if outside.any():
        log.warning("%d samples lie outside the DEM; left out of the comparison", int(outside.sum()))
    keep &= ~outside
    if not keep.any():
        raise InputError(f"--samples {label}: no usable sample left ({', '.join(f'{k}: {v}' for k, v in removed.items())})")
    rows = np.flatnonzero(keep)
    names, loss = sample_clutter(world, sx[rows], sy[rows])
    return Prepared(df.iloc[rows].reset_index(drop=True), world, sx[rows], sy[rows], serving[rows], names, loss,
                    removed, unknown_ids, n_read, df, rows)  # fmt: skip


__all__ = ["Prepared", "prepare", "read_samples"]
