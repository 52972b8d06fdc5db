"""Indicators of a batch of regions from the three evaluation methods (one independent task).

:func:`batch_indicators` takes a :class:`Batch` (the regions' metadata,
events and complaints) and the batch's sample *pieces* (plain column arrays
tagged with the batch-local region index, one piece per row chunk of the
samples file) and returns each region's row and trend rows.  The measured KPIs
of all regions of the batch, and of every region × campaign, come from one
vectorised pass (:func:`netqa.score._kpi.grouped_kpis`, netqa.kpi's
definitions); the zonal statistics open the coverage raster once per batch.
It never raises: an error in one region becomes ``status = "failed"`` and
``error`` in that region's row (if the batch-wide pass fails, each region is
redone alone so that only the bad one fails), so one bad region never stops a
batch.

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
  ``load_predicted`` (offered ÷ capacity) where traffic is given: a regions
  column, or a traffic-density raster summed over the region's area
  (:func:`netqa.score.zonal.zonal_traffic`, ``traffic_covered_share``);
* user feedback: ``complaints_n``, ``complaints_per_km2``,
  ``complaints_per_1000_samples``, the same per category
  (``complaints_<category>_per_km2`` ...), ``complaints_coverage_per_km2``
  (no_coverage + weak_signal), ``complaints_weak_share`` and its
  ``_predicted`` / ``_measured`` parts;
* trends (rows of their own): per campaign the indicators of
  :data:`TREND_INDICATORS` with a 95 % interval (Wilson for rates; mean ±
  1.96 s/√n over the throughput periods for throughput means) and the change
  from the previous campaign, flagged when it exceeds the combined half-width;
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
from dataclasses import dataclass

import numpy as np

from netqa.schema import COMPLAINT_CATEGORIES, KPI_KEYS
from netqa.score import _kpi
from netqa.score.zonal import PREDICTED_KEYS, CoverageInfo, TrafficInfo, read_block, zonal_indicators, zonal_traffic

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

#: z of a two-sided 95 % interval.
Z95 = 1.959963984540054


@dataclass
class RegionMeta:
    """One region's attributes (picklable)."""

    region_id: str
    name: str
    area_type: str
    status: str
    notes: str
    geometry: object  # shapely, in the coverage raster's CRS when there is one
    area_km2: float
    offered_traffic_mbps: float | None = None
    crs_wkt: str | None = None  # CRS of ``geometry``


@dataclass
class Batch:
    """Everything a batch of regions needs except the sample pieces (picklable, small).

    ``events`` / ``complaints`` are column dicts grouped by region with
    ``offsets`` (region ``j`` is rows ``offsets[j]:offsets[j+1]``): events have
    int8 ``event`` codes (:func:`netqa.score._kpi.event_codes`) and int16
    ``campaign`` codes (-1 none); complaints int8 ``category`` (index in
    COMPLAINT_CATEGORIES), ``weak_predicted`` and ``weak_measured`` (1, 0,
    NaN unknown).
    """

    regions: list
    profile: object
    coverage: CoverageInfo | None = None
    capacity_density: np.ndarray | None = None
    campaigns: tuple = ()  # sorted campaign labels; sample/event codes index them
    events: dict | None = None
    complaints: dict | None = None
    has_samples_input: bool = False
    has_complaints_input: bool = False
    traffic: TrafficInfo | None = None  # offered-traffic density raster (replaces the regions' column)


def merge_pieces(pieces, n_regions: int, campaigns: tuple = ()) -> tuple[dict, np.ndarray]:
    """Concatenate sample pieces and group their rows by batch-local region.

    Each piece is a dict of equal-length arrays with ``_region`` (batch-local
    region index) and, with campaigns, ``_campaign`` codes into the piece's
    own ``_campaign_labels`` (remapped here onto ``campaigns``).  Pieces come in
    row-chunk order and each is sorted by (region, row), so the stable sort
    keeps every region's rows in file order: the result does not depend on
    how many workers or batches there are.
    """
    pieces = [p for p in pieces if p is not None and len(p["_region"])]
    if not pieces:
        return {}, np.zeros(n_regions + 1, dtype=np.int64)
    names = [k for k in pieces[0] if not k.startswith("_campaign_labels")]
    if campaigns and "_campaign" in pieces[0]:
        lut_all = []
        for p in pieces:
            labels = p["_campaign_labels"]
            lut = np.searchsorted(np.asarray(campaigns, dtype=object), np.asarray(labels, dtype=object)) if len(labels) else np.zeros(0, np.int64)
            lut_all.append(lut.astype(np.int16))
        camp = np.concatenate([lut[p["_campaign"]] if lut.size else np.full(len(p["_region"]), -1, np.int16) for lut, p in zip(lut_all, pieces)])
    else:
        camp = None
    cols = {k: np.concatenate([p[k] for p in pieces]) if len(pieces) > 1 else pieces[0][k] for k in names if k != "_campaign"}
    if camp is not None:
        cols["_campaign"] = camp
    region = cols["_region"]
    if len(pieces) > 1 and np.any(np.diff(region) < 0):
        order = np.argsort(region, kind="stable")
        cols = {k: v[order] for k, v in cols.items()}
    offsets = np.concatenate([[0], np.cumsum(np.bincount(cols["_region"], minlength=n_regions))]).astype(np.int64)
    return cols, offsets


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


def _base_row(m: RegionMeta) -> dict:
    return {"region_id": m.region_id, "name": m.name, "area_type": m.area_type, "area_km2": m.area_km2,
            "status": m.status, "notes": m.notes, "error": None}  # fmt: skip


def failed_row(m: RegionMeta, error: str) -> dict:
    """The row of a region whose computation failed."""
    row = _base_row(m)
    row["status"] = "failed"
    row["error"] = error
    return row


def batch_indicators(batch: Batch, *pieces) -> list[tuple[dict, list[dict]]]:
    """Row and trend rows of every region of ``batch`` (same order); failures recorded, never raised."""
    n_reg = len(batch.regions)
    prof = _kpi.profile_of(batch.profile)
    try:
        smp, s_off = merge_pieces(pieces, n_reg, batch.campaigns)
    except Exception as exc:  # noqa: BLE001 -- a corrupt piece fails the batch's regions, not the run
        log.debug("batch merge failed:\n%s", traceback.format_exc())
        return [(failed_row(m, f"{type(exc).__name__}: {exc}"), []) for m in batch.regions]
    ev = batch.events or {}
    e_off = ev.get("offsets", np.zeros(n_reg + 1, dtype=np.int64))
    kpis = agreement = trend_kpis = None
    try:
        kpis = _kpi.grouped_kpis(smp, s_off, prof, ev.get("event"), e_off)
        agreement = _agreement(smp, s_off, prof) if batch.coverage is not None and "_pred_rsrp_dbm" in smp else None
        trend_kpis = _trend_kpis(smp, s_off, ev, e_off, len(batch.campaigns), prof) if batch.campaigns and "_campaign" in smp else None
    except Exception:  # noqa: BLE001 -- redo region by region below, so that only the bad one fails
        log.debug("batch-wide KPI pass failed; computing regions one by one:\n%s", traceback.format_exc())
        kpis = agreement = trend_kpis = None
        batch_failed = True
    else:
        batch_failed = False
    out = []
    ds = tds = to_traffic = None
    import rasterio  # noqa: PLC0415

    block = None
    if batch.coverage is not None:
        ds = rasterio.open(batch.coverage.path)
        try:
            block = read_block(batch.coverage, ds, [m.geometry.bounds for m in batch.regions if m.status not in ("failed", "empty")])
        except Exception:  # noqa: BLE001 -- a bad tile is reported per region below
            log.debug("batch raster block unreadable; reading region by region:\n%s", traceback.format_exc())
    if batch.traffic is not None:
        tds = rasterio.open(batch.traffic.path)
        to_traffic = _reprojector(batch.regions, batch.traffic.crs_wkt)
    try:
        for j, m in enumerate(batch.regions):
            row = _base_row(m)
            if m.status in ("failed", "empty"):
                out.append((row, []))
                continue
            try:
                if batch_failed:
                    sub = {k: v[s_off[j] : s_off[j + 1]] for k, v in smp.items()}
                    sub_off = np.array([0, s_off[j + 1] - s_off[j]])
                    sub_ev = {k: v[e_off[j] : e_off[j + 1]] for k, v in ev.items() if k != "offsets"}
                    sub_ev_off = np.array([0, e_off[j + 1] - e_off[j]])
                    k_j = _kpi.grouped_kpis(sub, sub_off, prof, sub_ev.get("event"), sub_ev_off)[0]
                    ag_j = _agreement(sub, sub_off, prof)[0] if batch.coverage is not None and "_pred_rsrp_dbm" in sub else None
                    tk = _trend_kpis(sub, sub_off, sub_ev, sub_ev_off, len(batch.campaigns), prof) if batch.campaigns and "_campaign" in sub else None
                    tr_j = tk[0] if tk is not None else None
                else:
                    k_j = kpis[j]
                    ag_j = agreement[j] if agreement is not None else None
                    tr_j = trend_kpis[j] if trend_kpis is not None else None
                n_ev = int(e_off[j + 1] - e_off[j])
                traffic = zonal_traffic(batch.traffic, to_traffic(m.geometry), float(m.geometry.area), ds=tds) if batch.traffic is not None else None
                trends = _fill(row, batch, j, m, k_j, n_ev, ag_j, tr_j, prof, ds, traffic, block)
            except Exception as exc:  # noqa: BLE001 -- one region's failure must not stop the batch
                log.debug("region %s failed:\n%s", m.region_id, traceback.format_exc())
                out.append((failed_row(m, f"{type(exc).__name__}: {exc}"), []))
                continue
            out.append((row, trends))
    finally:
        for d in (ds, tds):
            if d is not None:
                d.close()
    return out


def _reprojector(regions, crs_wkt: str):
    """geometry -> geometry in ``crs_wkt`` (identity when the regions are already in it)."""
    import shapely  # noqa: PLC0415
    from pyproj import CRS, Transformer  # noqa: PLC0415

    src = getattr(regions[0], "crs_wkt", None) if regions else None
    dst = CRS.from_wkt(crs_wkt)
    if src is None or CRS.from_wkt(src) == dst:
        return lambda g: g
    tr = Transformer.from_crs(CRS.from_wkt(src), dst, always_xy=True)
    return lambda g: shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def _notes(row: dict, text: str) -> None:
    row["notes"] = "; ".join(p for p in (row.get("notes"), text) if p)


def _fill(row, batch: Batch, j: int, m: RegionMeta, kpis: dict, n_events: int, agree, trend_kpis, prof, ds, traffic=None, block=None) -> list[dict]:
    n = int(kpis["n_samples"])
    # --- field test --------------------------------------------------------
    if not (n or n_events):
        kpis = dict.fromkeys(KPI_KEYS)
        kpis.update(n_samples=0)
    row.update(measured_columns(kpis))
    if batch.has_samples_input and n == 0:
        _notes(row, "no samples in the region")
    # --- simulation --------------------------------------------------------
    if batch.coverage is not None:
        geom_area_m2 = float(m.geometry.area)
        pred = zonal_indicators(batch.coverage, m.geometry, geom_area_m2, prof, batch.capacity_density, ds=ds, block=block)
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
        row["capacity_mbps_per_km2_predicted"] = cap / m.area_km2 if cap is not None and m.area_km2 > 0 else None
    if traffic is not None:
        row["offered_traffic_mbps"] = _f(traffic["offered_traffic_mbps"])
        row["traffic_covered_share"] = traffic["traffic_covered_share"]
        if traffic["traffic_covered_share"] < 0.999:
            _notes(row, f"traffic raster covers {traffic['traffic_covered_share']:.1%} of the region")
    else:
        row["offered_traffic_mbps"] = _f(m.offered_traffic_mbps)
    cap = row.get("capacity_mbps_predicted")
    row["load_predicted"] = (row["offered_traffic_mbps"] / cap) if (row["offered_traffic_mbps"] is not None and cap) else None
    # --- agreement on the driven pixels -------------------------------------
    if agree is not None and n:
        row.update(agree)
    # --- user feedback --------------------------------------------------------
    if batch.has_complaints_input:
        _complaints(row, batch.complaints, j, m.area_km2, kpis.get("n_samples"))
    # --- status -----------------------------------------------------------------
    has_any = bool(n) or bool(n_events) or (row.get("raster_covered_share") or 0) > 0 or bool(row.get("complaints_n"))
    if not has_any:
        row["status"] = "no_data"
        _notes(row, "no samples, events, raster pixels or complaints in the region")
    return _trend_rows(m.region_id, batch.campaigns, trend_kpis) if trend_kpis else []


def _agreement(smp: dict, s_off: np.ndarray, prof) -> list[dict]:
    """Per region: measured vs predicted coverage on the driven pixels.

    A sample is judged as :mod:`netqa.kpi` counts it (RSRP needed, and SINR
    too when the region's samples carry SINR at all) against the prediction
    of the pixel it lies in.
    """
    n_reg = len(s_off) - 1
    gid = np.repeat(np.arange(n_reg), np.diff(s_off))
    n_rows = gid.size
    nan = np.full(n_rows, np.nan)
    r = smp.get("rsrp_dbm", nan)
    s = smp.get("sinr_db", nan)
    f_s = np.isfinite(s)
    hs = (np.bincount(gid[f_s], minlength=n_reg) > 0)[gid]
    valid = np.isfinite(r) & (f_s | ~hs)
    with np.errstate(invalid="ignore"):
        meas = (r >= prof.rsrp_dbm_min) & ((s >= prof.sinr_db_min) | ~hs)
        prsrp = np.asarray(smp["_pred_rsrp_dbm"], dtype=np.float64)
        psinr = np.asarray(smp["_pred_sinr_db"], dtype=np.float64)
        pcov = (prsrp >= prof.rsrp_dbm_min) & ~(psinr < prof.sinr_db_min)
    ok = np.isfinite(prsrp) & valid
    n_ok = np.bincount(gid[ok], minlength=n_reg)
    n_m = np.bincount(gid[ok & meas], minlength=n_reg)
    n_p = np.bincount(gid[ok & pcov], minlength=n_reg)
    n_same = np.bincount(gid[ok & (meas == pcov)], minlength=n_reg)
    out = []
    for g in range(n_reg):
        d = {"n_samples_driven_predicted": int(n_ok[g])}
        if n_ok[g]:
            mm, pp = float(n_m[g] / n_ok[g]), float(n_p[g] / n_ok[g])
            d.update(coverage_rate_measured_driven=mm, coverage_rate_predicted_driven=pp, coverage_rate_diff_driven=mm - pp,
                     coverage_agreement=float(n_same[g] / n_ok[g]))  # fmt: skip
        out.append(d)
    return out


def _trend_kpis(smp: dict, s_off, ev: dict, e_off, n_camp: int, prof) -> list[dict]:
    """Per region: {campaign code: KPI object} over the region's samples and events of that campaign."""
    n_reg = len(s_off) - 1
    gid = np.repeat(np.arange(n_reg), np.diff(s_off))
    camp = smp["_campaign"].astype(np.int64)
    keep = camp >= 0
    key = gid[keep] * n_camp + camp[keep]
    order = np.flatnonzero(keep)[np.argsort(key, kind="stable")]
    cols = {k: v[order] for k, v in smp.items() if k in _kpi.SAMPLE_VALUE_COLUMNS or k == "periods"}
    t_off = np.concatenate([[0], np.cumsum(np.bincount(key, minlength=n_reg * n_camp))])
    e_codes = e_toff = None
    if ev.get("event") is not None and "campaign" in ev:
        egid = np.repeat(np.arange(n_reg), np.diff(e_off))
        ec = ev["campaign"].astype(np.int64)
        ek = ec >= 0
        ekey = egid[ek] * n_camp + ec[ek]
        eorder = np.flatnonzero(ek)[np.argsort(ekey, kind="stable")]
        e_codes = ev["event"][eorder]
        e_toff = np.concatenate([[0], np.cumsum(np.bincount(ekey, minlength=n_reg * n_camp))])
    ks = _kpi.grouped_kpis(cols, t_off, prof, e_codes, e_toff, with_sd=True)
    sizes = np.diff(t_off)
    return [{c: ks[g * n_camp + c] for c in range(n_camp) if sizes[g * n_camp + c] > 0} for g in range(n_reg)]


def _complaints(row: dict, c: dict | None, j: int, area_km2: float, n_samples) -> None:
    if c is None:
        cats = np.zeros(0, np.int8)
        wp = wm = np.zeros(0)
    else:
        a, b = c["offsets"][j], c["offsets"][j + 1]
        cats, wp, wm = c["category"][a:b], c["weak_predicted"][a:b], c["weak_measured"][a:b]
    n = int(cats.size)
    row["complaints_n"] = n
    row["complaints_per_km2"] = n / area_km2 if area_km2 > 0 else None
    per_k = (1000.0 / n_samples) if n_samples else None
    row["complaints_per_1000_samples"] = n * per_k if per_k is not None else None
    counts = np.bincount(cats[cats >= 0], minlength=len(COMPLAINT_CATEGORIES))
    for i, cat in enumerate(COMPLAINT_CATEGORIES):
        k = int(counts[i])
        row[f"complaints_{cat}_per_km2"] = k / area_km2 if area_km2 > 0 else None
        row[f"complaints_{cat}_per_1000_samples"] = k * per_k if per_k is not None else None
    cov_codes = [COMPLAINT_CATEGORIES.index(x) for x in ("no_coverage", "weak_signal")]
    k_cov = int(np.isin(cats, cov_codes).sum())
    row["complaints_coverage_per_km2"] = k_cov / area_km2 if area_km2 > 0 else None
    row["complaints_weak_predicted_share"] = float(np.nanmean(wp)) if np.isfinite(wp).any() else None
    row["complaints_weak_measured_share"] = float(np.nanmean(wm)) if np.isfinite(wm).any() else None
    known = np.isfinite(wp) | np.isfinite(wm)
    weak = (wp == 1.0) | (wm == 1.0)
    row["complaints_weak_share"] = float(weak[known].mean()) if known.any() else None


def _trend_rows(region_id: str, labels: tuple, per_campaign: dict) -> list[dict]:
    rows, prev = [], {}
    for code in sorted(per_campaign):
        lab = labels[code]
        k = per_campaign[code]
        for ind, how in TREND_INDICATORS.items():
            v = _f(k.get(ind))
            lo = hi = None
            cnt = k.get("n_samples")
            if v is not None and how == "wilson":
                if ind == "coverage_rate":
                    ci = k.get("coverage_rate_ci")
                    lo, hi = (ci[0], ci[1]) if ci is not None else (None, None)
                    cnt = k.get("n_coverage_samples")
                else:
                    num, den = {"drop_rate": ("n_drops", "n_calls"), "ho_success_rate": ("n_ho_success", "n_ho_attempts")}[ind]
                    cnt = k.get(den)
                    ci = _kpi.wilson_ci(int(k.get(num) or 0), int(cnt or 0))
                    lo, hi = ci if ci else (None, None)
            elif v is not None and how == "normal":
                q = ind.replace("_mean", "")
                cnt = k.get(f"n_{q.split('_')[0]}_samples")
                sd = k.get(f"_{q}_sd")
                if sd is not None and cnt and cnt > 1:
                    h = Z95 * sd / math.sqrt(cnt)
                    lo, hi = v - h, v + h
            r = {"region_id": region_id, "campaign": lab, "indicator": ind, "value": v,
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
