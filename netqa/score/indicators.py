"""One region's indicators from the three evaluation methods (one independent task).

:func:`region_indicators` takes a :class:`RegionTask` (everything the region
needs, small enough to ship to a Dask worker) and returns its row and its trend
rows.  It never raises: an error becomes ``status = "failed"`` and ``error``
in the row, so one bad region never stops a batch.

Columns (DESIGN.md "KPI JSON" names; ``_measured`` / ``_predicted`` where both
methods give the indicator, the plain key where only one does):

* field test: ``n_samples``, ``coverage_rate_measured`` and its Wilson interval
  ``coverage_rate_ci_low_measured`` / ``coverage_rate_ci_high_measured``,
  ``rsrp_dbm_*_measured``, ``sinr_db_*_measured``, ``dl_mbps_*_measured``,
  ``ul_mbps_*_measured``, ``rsrq_db_*``, ``n_calls``, ``n_drops``,
  ``drop_rate``, ``n_ho_attempts``, ``n_ho_success``, ``ho_success_rate``;
* simulation: ``coverage_rate_predicted`` (area-weighted), RSRP/SINR/DL/UL
  ``*_predicted``, ``raster_covered_share``, ``capacity_mbps_predicted``,
  ``capacity_mbps_per_km2_predicted``, ``offered_traffic_mbps`` and
  ``load_predicted`` (offered ÷ capacity) where traffic is given;
* user feedback: ``complaints_n``, ``complaints_per_km2``,
  ``complaints_per_1000_samples``, the same per category
  (``complaints_<category>_per_km2`` ...), ``complaints_coverage_per_km2``
  (no_coverage + weak_signal), ``complaints_weak_share`` and its
  ``_predicted`` / ``_measured`` parts;
* agreement: on the driven pixels (each sample against the prediction of the
  pixel it lies in) ``coverage_rate_measured_driven``,
  ``coverage_rate_predicted_driven``, ``coverage_rate_diff_driven`` (measured −
  predicted) and ``coverage_agreement`` (share of samples where both say the
  same covered / not covered).
"""

from __future__ import annotations

import logging
import math
import traceback
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from netqa.schema import COMPLAINT_CATEGORIES, KPI_KEYS
from netqa.score import _kpi
from netqa.score.zonal import PREDICTED_KEYS, CoverageInfo, zonal_indicators

log = logging.getLogger(__name__)

#: KPI keys that both methods give (they get _measured / _predicted suffixes).
BOTH = tuple(k for k in KPI_KEYS if k in PREDICTED_KEYS)

#: Indicators followed across campaigns: key -> how its interval is made.
TREND_INDICATORS = {
    "coverage_rate": "wilson",
    "drop_rate": "wilson",
    "ho_success_rate": "wilson",
    "dl_mbps_mean": "normal",
    "ul_mbps_mean": "normal",
    "rsrp_dbm_p50": None,
    "sinr_db_p50": None,
}


@dataclass
class RegionTask:
    """Inputs of one region (picklable)."""

    region_id: str
    name: str
    area_type: str
    status: str
    notes: str
    geometry: object  # shapely, in the coverage raster's CRS when there is one
    area_km2: float
    profile: object = "lte"
    samples: pd.DataFrame | None = None
    events: pd.DataFrame | None = None
    complaints: pd.DataFrame | None = None
    coverage: CoverageInfo | None = None
    capacity_density: np.ndarray | None = None
    offered_traffic_mbps: float | None = None
    has_samples_input: bool = False
    has_complaints_input: bool = False
    extra: dict = field(default_factory=dict)


def measured_columns(kpis: dict) -> dict:
    """KPI dict -> output columns (suffixes where both methods exist, CI split in two)."""
    out = {}
    for k in KPI_KEYS:
        v = kpis.get(k)
        if k == "coverage_rate_ci":
            lo, hi = (v if v is not None and len(v) == 2 else (None, None))
            out["coverage_rate_ci_low_measured"] = _f(lo)
            out["coverage_rate_ci_high_measured"] = _f(hi)
        elif k in BOTH:
            out[f"{k}_measured"] = _f(v)
        else:
            out[k] = _f(v) if not k.startswith("n_") else (None if v is None else int(v))
    return out


def _f(v):
    if v is None:
        return None
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def region_indicators(task: RegionTask) -> tuple[dict, list[dict]]:
    """Row and trend rows of one region; failures are recorded, never raised."""
    row = {
        "region_id": task.region_id,
        "name": task.name,
        "area_type": task.area_type,
        "area_km2": task.area_km2,
        "status": task.status,
        "notes": task.notes,
        "error": None,
    }
    if task.status in ("failed", "empty"):
        return row, []
    try:
        trends = _fill(row, task)
    except Exception as exc:  # noqa: BLE001 -- one region's failure must not stop the batch
        log.debug("region %s failed:\n%s", task.region_id, traceback.format_exc())
        row["status"] = "failed"
        row["error"] = f"{type(exc).__name__}: {exc}"
        return row, []
    return row, trends


def _notes(row: dict, text: str) -> None:
    row["notes"] = "; ".join(p for p in (row.get("notes"), text) if p)


def _fill(row: dict, task: RegionTask) -> list[dict]:
    thr = _kpi.thresholds_for(task.profile)
    samples = task.samples if task.samples is not None else pd.DataFrame()
    events = task.events
    n = len(samples)
    # --- field test --------------------------------------------------------
    if n or (events is not None and len(events)):
        kpis = _kpi.compute_kpis(samples, events, task.profile)
    else:
        kpis = dict.fromkeys(KPI_KEYS)
        kpis.update(n_samples=0)
    row.update(measured_columns(kpis))
    if task.has_samples_input and n == 0:
        _notes(row, "no samples in the region")
    # --- simulation --------------------------------------------------------
    if task.coverage is not None:
        geom_area_m2 = float(task.geometry.area)
        pred = zonal_indicators(task.coverage, task.geometry, geom_area_m2, thr, task.capacity_density)
        for k in PREDICTED_KEYS:
            row[f"{k}_predicted"] = _f(pred.get(k))
        share = pred["raster_covered_share"]
        row["raster_covered_share"] = share
        row["coverage_partial"] = bool(share < 0.999)
        if share <= 0.0:
            _notes(row, "the coverage raster does not cover the region")
        elif share < 0.999:
            _notes(row, f"coverage raster covers {share:.1%} of the region (predicted indicators are over that part)")
        cap = _f(pred.get("capacity_mbps"))
        row["capacity_mbps_predicted"] = cap
        row["capacity_mbps_per_km2_predicted"] = cap / task.area_km2 if cap is not None and task.area_km2 > 0 else None
    row["offered_traffic_mbps"] = _f(task.offered_traffic_mbps)
    cap = row.get("capacity_mbps_predicted")
    row["load_predicted"] = (row["offered_traffic_mbps"] / cap) if (row["offered_traffic_mbps"] is not None and cap) else None
    # --- agreement on the driven pixels -------------------------------------
    if task.coverage is not None and n and "_pred_rsrp_dbm" in samples.columns:
        meas = _covered(samples["rsrp_dbm"], samples.get("sinr_db"), thr)
        prsrp = samples["_pred_rsrp_dbm"].to_numpy(dtype=float)
        psinr = samples["_pred_sinr_db"].to_numpy(dtype=float)
        ok = np.isfinite(prsrp) & np.isfinite(meas)
        pcov = (prsrp >= thr.rsrp_dbm) & ~(psinr < thr.sinr_db)
        row["n_samples_driven_predicted"] = int(ok.sum())
        if ok.any():
            m, p = meas[ok] > 0.5, pcov[ok]
            row["coverage_rate_measured_driven"] = float(m.mean())
            row["coverage_rate_predicted_driven"] = float(p.mean())
            row["coverage_rate_diff_driven"] = float(m.mean() - p.mean())
            row["coverage_agreement"] = float((m == p).mean())
    # --- user feedback --------------------------------------------------------
    if task.has_complaints_input:
        _complaints(row, task.complaints if task.complaints is not None else pd.DataFrame(), task.area_km2, kpis.get("n_samples"))
    # --- status -----------------------------------------------------------------
    has_any = bool(n) or (events is not None and len(events)) or (row.get("raster_covered_share") or 0) > 0 or bool(row.get("complaints_n"))
    if not has_any:
        row["status"] = "no_data"
        _notes(row, "no samples, events, raster pixels or complaints in the region")
    return _trends(task, samples, events)


def _covered(rsrp, sinr, thr) -> np.ndarray:
    """1.0 covered / 0.0 not / NaN not evaluated, as netqa.kpi counts samples.

    A sample needs RSRP, and SINR too when the samples carry SINR at all.
    """
    r = pd.to_numeric(rsrp, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    s = pd.to_numeric(sinr, errors="coerce").to_numpy(dtype=float, na_value=np.nan) if sinr is not None else np.full(r.shape, np.nan)
    has_sinr = bool(np.isfinite(s).any())
    c = ((r >= thr.rsrp_dbm) & ((s >= thr.sinr_db) if has_sinr else True)).astype(float)
    c[~np.isfinite(r) | (~np.isfinite(s) if has_sinr else False)] = np.nan
    return c


def _complaints(row: dict, c: pd.DataFrame, area_km2: float, n_samples) -> None:
    n = len(c)
    row["complaints_n"] = n
    row["complaints_per_km2"] = n / area_km2 if area_km2 > 0 else None
    per_k = (1000.0 / n_samples) if n_samples else None
    row["complaints_per_1000_samples"] = n * per_k if per_k is not None else None
    cats = c["category"].astype(str).to_numpy() if n else np.array([], dtype=str)
    for cat in COMPLAINT_CATEGORIES:
        k = int((cats == cat).sum())
        row[f"complaints_{cat}_per_km2"] = k / area_km2 if area_km2 > 0 else None
        row[f"complaints_{cat}_per_1000_samples"] = k * per_k if per_k is not None else None
    k_cov = int(np.isin(cats, ("no_coverage", "weak_signal")).sum())
    row["complaints_coverage_per_km2"] = k_cov / area_km2 if area_km2 > 0 else None
    wp = c["_weak_predicted"].to_numpy(dtype=float) if "_weak_predicted" in c else np.full(n, np.nan)
    wm = c["_weak_measured"].to_numpy(dtype=float) if "_weak_measured" in c else np.full(n, np.nan)
    row["complaints_weak_predicted_share"] = float(np.nanmean(wp)) if np.isfinite(wp).any() else None
    row["complaints_weak_measured_share"] = float(np.nanmean(wm)) if np.isfinite(wm).any() else None
    known = np.isfinite(wp) | np.isfinite(wm)
    weak = (wp == 1.0) | (wm == 1.0)
    row["complaints_weak_share"] = float(weak[known].mean()) if known.any() else None


def _trends(task: RegionTask, samples: pd.DataFrame, events: pd.DataFrame | None) -> list[dict]:
    if "_campaign" not in samples.columns or samples.empty:
        return []
    labels = sorted(samples["_campaign"].dropna().astype(str).unique())
    if len(labels) < 1:
        return []
    ev_lab = events["_campaign"].astype(str).to_numpy() if events is not None and "_campaign" in events else None
    rows, prev = [], {}
    for lab in labels:
        s = samples[samples["_campaign"].astype(str).to_numpy() == lab]
        e = events[ev_lab == lab] if ev_lab is not None else None
        k = _kpi.compute_kpis(s, e, task.profile)
        for ind, how in TREND_INDICATORS.items():
            v = _f(k.get(ind))
            lo = hi = None
            cnt = k.get("n_samples")
            if v is not None and how == "wilson":
                num, den = {"coverage_rate": (None, None), "drop_rate": ("n_drops", "n_calls"),
                            "ho_success_rate": ("n_ho_success", "n_ho_attempts")}[ind]  # fmt: skip
                if ind == "coverage_rate":
                    ci = k.get("coverage_rate_ci")
                    lo, hi = (ci[0], ci[1]) if ci is not None else (None, None)
                else:
                    cnt = k.get(den)
                    ci = _kpi.wilson_ci(int(k.get(num) or 0), int(cnt or 0))
                    lo, hi = ci if ci else (None, None)
            elif v is not None and how == "normal":
                vals = pd.to_numeric(s[ind.replace("_mean", "")], errors="coerce").dropna().to_numpy() if ind.replace("_mean", "") in s else np.array([])
                if vals.size > 1:
                    h = 1.959963984540054 * vals.std(ddof=1) / math.sqrt(vals.size)
                    lo, hi = v - h, v + h
            r = {"region_id": task.region_id, "campaign": lab, "indicator": ind, "value": v,
                 "ci_low": _f(lo), "ci_high": _f(hi), "n": None if cnt is None else int(cnt),
                 "change": None, "change_ci_half": None, "change_flag": None}  # fmt: skip
            p = prev.get(ind)
            if p is not None and p["value"] is not None and v is not None:
                r["change"] = v - p["value"]
                if None not in (lo, hi, p["ci_low"], p["ci_high"]):
                    half = math.hypot((hi - lo) / 2.0, (p["ci_high"] - p["ci_low"]) / 2.0)
                    r["change_ci_half"] = half
                    r["change_flag"] = bool(abs(r["change"]) > half)
            prev[ind] = r
            rows.append(r)
    return rows
