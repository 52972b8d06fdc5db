"""Events and complaints per region (small tables prepared in the driver) and capacity density for the scorecards."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from netqa.schema import COMPLAINT_CATEGORIES
from netqa.score import _kpi
from netqa.score.chunks import _campaign_codes
from netqa.score.points import (
    assign_points,
    group_offsets,
    project_lonlat,
)
from netqa.score.zonal import (
    capacity_density,
    sample_points,
)

log = logging.getLogger("netqa.score")


def label_codes(values, labels: tuple) -> np.ndarray:
    """Codes of string labels in the sorted ``labels`` (-1 when absent)."""
    v = np.asarray(values, dtype=object)
    lab = np.asarray(labels, dtype=object)
    if not lab.size:
        return np.full(v.size, -1, np.int16)
    pos = np.clip(np.searchsorted(lab, v.astype(str)), 0, lab.size - 1)
    return np.where(lab[pos] == v.astype(str), pos, -1).astype(np.int16)


def locate(tab: pd.DataFrame, crs, geoms):
    """(row, region) pairs of a small point table (events)."""
    x, y = project_lonlat(tab, crs)
    return assign_points(x, y, geoms)


def events_table(evt: pd.DataFrame, pairs, n_reg: int, summary: dict, window) -> dict | None:
    cols = {"event": _kpi.event_codes(evt["event"]) if "event" in evt.columns else np.full(len(evt), -1, np.int8)}
    labels = summary["campaigns"]
    if labels:
        if "campaign" in evt.columns and not window:
            codes, labs = _campaign_codes(evt, None)
            cols["campaign"] = label_codes(np.asarray(labs, dtype=object)[codes], labels)
        elif window and "time" in evt.columns:
            codes, labs = _campaign_codes(evt, window)
            cols["campaign"] = label_codes(np.asarray(labs, dtype=object)[codes], labels)
        elif "session" in evt.columns and summary["sessions"]:
            lab = evt["session"].astype("string").fillna("<NA>").map(summary["sessions"])
            cols["campaign"] = label_codes(lab.fillna("\0none").to_numpy(dtype=object), labels)
        else:
            cols["campaign"] = np.full(len(evt), -1, np.int16)
    return grouped(cols, pairs, n_reg)


def complaints_table(cmp: pd.DataFrame, cxy, cov, prof, geoms, summary: dict) -> dict:
    cx, cy = cxy
    n = len(cmp)
    wp = np.full(n, np.nan)
    if cov is not None:
        pv = sample_points(cov, cx, cy)
        r, s = pv["rsrp_dbm"], pv["sinr_db"]
        with np.errstate(invalid="ignore"):
            wp = ((r < prof.rsrp_dbm_min) | (s < prof.sinr_db_min)).astype(float)
        wp[~np.isfinite(r)] = np.nan
    wm = np.full(n, np.nan)
    cnt = summary["complaint_counts"]
    if cnt is not None:
        n_eval, n_cov = (cnt[2], cnt[3]) if summary["has_sinr"] else (cnt[0], cnt[1])
        ok = n_eval > 0
        wm[ok] = (n_cov[ok] / n_eval[ok] < 0.5).astype(float)
    cat = pd.Categorical(cmp["category"], categories=list(COMPLAINT_CATEGORIES)).codes.astype(np.int8)
    cols = {"category": cat, "weak_predicted": wp, "weak_measured": wm}
    return grouped(cols, assign_points(cx, cy, geoms), len(geoms))


def grouped(cols: dict, pairs, n_reg: int) -> dict:
    """Columns of (point, region) pairs, grouped by region, with ``offsets``."""
    p, r = pairs
    out = {k: v[p] for k, v in cols.items()}
    out["offsets"] = group_offsets(r, n_reg)
    return out


def take_groups(tab: dict | None, idx: np.ndarray) -> dict | None:
    """The groups of regions ``idx`` (in that order), re-offset."""
    if tab is None:
        return None
    off = tab["offsets"]
    lens = off[idx + 1] - off[idx]
    rows = np.concatenate([np.arange(off[i], off[i + 1]) for i in idx]) if idx.size else np.zeros(0, np.int64)
    out = {k: v[rows] for k, v in tab.items() if k != "offsets"}
    out["offsets"] = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    return out


def cells_capacity_density(cells, cov):
    """Capacity density over the coverage raster from the cells' bandwidths (truncated Shannon, TR 36.942 A.1)."""
    from netqa.io.cells import read_cells  # noqa: PLC0415
    from propagation import truncated_shannon_bps_hz  # noqa: PLC0415

    tab = read_cells(cells)
    bw = dict(zip(tab["cell_id"].astype(str), pd.to_numeric(tab["bandwidth_mhz"], errors="coerce")))
    missing = [c for c in cov.cell_ids if c not in bw]
    if missing:
        log.warning("%s: %d cell(s) of the coverage raster are not in the cell table (first %r); their capacity is unknown", cells, len(missing), missing[0])
    return capacity_density(cov, bw, lambda s: truncated_shannon_bps_hz(np.clip(s, -50.0, 60.0)))


__all__ = ["cells_capacity_density", "complaints_table", "events_table", "grouped", "label_codes",
           "locate", "take_groups"]
