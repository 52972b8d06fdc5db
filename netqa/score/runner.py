"""The ``netqa score`` batch: prepare inputs once, run one task per region, assemble.

Execution
---------
Regions are independent tasks (:func:`netqa.score.indicators.region_indicators`).
They run in this process by default; with ``workers > 1`` on a
``dask.distributed.LocalCluster`` of that many single-threaded worker processes;
with ``scheduler="tcp://host:8786"`` on an existing Dask cluster (the coverage
raster path must be readable from the workers; samples, events and complaints
travel with each task).  The same function computes every region on every
path, so the table is identical.

Resume
------
Each finished region is written atomically to ``SCORES.gpkg.parts/`` as JSON
with a fingerprint of its inputs (input files' size and modification time,
profile, settings, the region's geometry and attributes).  A re-run after an
interruption skips regions whose part matches; failed regions are not kept, so
they are retried.  The folder is removed once the outputs are written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from netqa.errors import InputError
from netqa.fileio import check_output, write_text_atomic
from netqa.progress import Progress
from netqa.score import _kpi
from netqa.score.indicators import RegionTask, region_indicators
from netqa.score.outputs import write_outputs
from netqa.score.points import EVENT_READ, SAMPLE_READ, assign_points, group_offsets, project_lonlat, read_complaints, read_table
from netqa.score.regions import load_regions
from netqa.score.scheme import apply_scheme, load_scheme
from netqa.score.zonal import capacity_density, open_coverage, sample_points

log = logging.getLogger(__name__)

#: Bump when indicator definitions change, so old resume parts are not reused.
PARTS_VERSION = "score-1"

#: Most tasks in flight on a cluster at once, per worker (bounds driver memory).
IN_FLIGHT_PER_WORKER = 4

#: Seconds to wait for a Dask scheduler to answer.
CONNECT_TIMEOUT_S = 30


@dataclass
class ScoreResult:
    """What :func:`score_regions` produced."""

    table: gpd.GeoDataFrame
    trends: pd.DataFrame
    paths: dict
    n_computed: int
    n_resumed: int
    n_failed: int


def output_paths(out) -> dict:
    """The files ``netqa score --out SCORES.gpkg`` writes."""
    p = Path(out)
    stem = p.with_suffix("")
    return {"gpkg": p, "csv": stem.with_suffix(".csv"), "png": stem.with_suffix(".png"), "trends_csv": Path(f"{stem}.trends.csv")}


def score_regions(
    regions,
    out,
    *,
    samples=None,
    events=None,
    coverage=None,
    complaints=None,
    cells=None,
    scheme=None,
    profile="lte",
    scheduler: str | None = None,
    workers: int = 1,
    campaign_window: str | None = None,
    complaint_radius_m: float = 100.0,
    traffic_column: str = "offered_traffic_mbps",
    overwrite: bool = False,
    on_region_done: Callable[[str], None] | None = None,
) -> ScoreResult:
    """Regional scorecards from field test, simulation and user feedback.

    Parameters
    ----------
    regions : path or GeoDataFrame
        Polygons with ``region_id``, ``name``, ``area_type``.
    out : path
        ``SCORES.gpkg``; ``SCORES.csv``, ``SCORES.png`` and
        ``SCORES.trends.csv`` are written beside it.
    samples, events, complaints : path, optional
        Canonical samples and events (Parquet or CSV); complaints CSV.  Events
        default to ``SAMPLES.events.parquet`` beside the samples when present.
    coverage : path, optional
        Coverage GeoTIFF of ``netqa predict``.
    cells : path, optional
        Cell table (for ``bandwidth_mhz``: predicted capacity and load).
    scheme : path, optional
        Scoring scheme TOML (default: the packaged ``default.toml``).
    profile : str
        KPI threshold profile (``lte``, ``nr`` or a TOML file).
    scheduler : str, optional
        Address of a Dask scheduler to run the regions on.
    workers : int
        Local Dask workers (1: run in this process).
    campaign_window : str, optional
        Pandas frequency (``"MS"``, ``"7D"``) that makes campaigns from sample
        time when the samples have no ``campaign`` column.
    complaint_radius_m : float
        Radius around a complaint in which samples say whether measurement
        shows weak coverage there. [m]
    traffic_column : str
        Regions column with the offered traffic per region. [Mbit/s]
    overwrite : bool
        Replace existing outputs.
    on_region_done : callable, optional
        Called with each region id as its result is stored (progress hooks).
    """
    paths = output_paths(out)
    for p in paths.values():
        check_output(p, overwrite)
    sch = load_scheme(scheme)
    thr = _kpi.thresholds_for(profile)
    cov = open_coverage(coverage) if coverage else None
    target_crs = CRS.from_wkt(cov.crs_wkt) if cov else None
    reg = load_regions(regions, target_crs=target_crs)
    n_reg = len(reg)
    geoms = [g if st not in ("failed", "empty") else None for g, st in zip(reg.geometry, reg["status"])]

    # --- points: read once, project once, assign once --------------------------------
    smp = read_table(samples, "samples", SAMPLE_READ) if samples else None
    if events is None and samples:
        guess = Path(str(Path(samples).with_suffix("")) + ".events.parquet")
        if guess.exists():
            log.info("events: using %s beside the samples", guess)
            events = guess
    evt = read_table(events, "events", EVENT_READ) if events else None
    cmp = read_complaints(complaints) if complaints else None
    s_idx = e_idx = c_idx = None
    if smp is not None:
        x, y = project_lonlat(smp, reg.crs)
        if "campaign" in smp.columns or campaign_window:
            smp["_campaign"] = _campaigns(smp, campaign_window)
        if cov is not None:
            pv = sample_points(cov, x, y)
            smp["_pred_rsrp_dbm"] = pv["rsrp_dbm"]
            smp["_pred_sinr_db"] = pv["sinr_db"]
        s_idx = _pairs(assign_points(x, y, geoms), n_reg)
        _check_overlap("samples", samples, smp, s_idx, reg)
    if evt is not None:
        ex, ey = project_lonlat(evt, reg.crs)
        if smp is not None and "_campaign" in smp.columns:
            evt["_campaign"] = _event_campaigns(evt, smp, campaign_window)
        e_idx = _pairs(assign_points(ex, ey, geoms), n_reg)
    if cmp is not None:
        cx, cy = project_lonlat(cmp, reg.crs)
        _flag_complaints(cmp, cx, cy, cov, smp, x if smp is not None else None, y if smp is not None else None, thr, complaint_radius_m)
        c_idx = _pairs(assign_points(cx, cy, geoms), n_reg)
    dens = None
    if cells and cov is not None:
        dens = _capacity_density(cells, cov)
    traffic = pd.to_numeric(reg[traffic_column], errors="coerce") if traffic_column in reg.columns else None

    # --- resume state ----------------------------------------------------------------
    parts_dir = Path(str(paths["gpkg"]) + ".parts")
    base_fp = _fingerprint([regions, samples, events, coverage, complaints, cells], profile, campaign_window, complaint_radius_m, traffic_column)
    fps = [_region_fp(base_fp, r) for r in reg.itertuples(index=False)]
    results: list = [None] * n_reg
    n_resumed = 0
    if parts_dir.exists():
        for i, rid in enumerate(reg["region_id"]):
            got = _read_part(parts_dir, rid, fps[i])
            if got is not None:
                results[i] = got
                n_resumed += 1
        if n_resumed:
            log.info("resuming: %d of %d regions already done in %s", n_resumed, n_reg, parts_dir)
    todo = [i for i in range(n_reg) if results[i] is None]

    smp_cols = _Columns(smp) if smp is not None else None
    evt_cols = _Columns(evt) if evt is not None else None
    cmp_cols = _Columns(cmp) if cmp is not None else None

    def make_task(i: int) -> RegionTask:
        r = reg.iloc[i]
        return RegionTask(
            region_id=str(r["region_id"]), name=str(r["name"]), area_type=str(r["area_type"]),
            status=str(r["status"]), notes=str(r["notes"] or ""), geometry=r.geometry, area_km2=float(r["area_km2"]),
            profile=profile,
            samples=_slice(smp_cols, s_idx, i, n_reg), events=_slice(evt_cols, e_idx, i, n_reg), complaints=_slice(cmp_cols, c_idx, i, n_reg),
            coverage=cov, capacity_density=dens,
            offered_traffic_mbps=None if traffic is None or pd.isna(traffic.iloc[i]) else float(traffic.iloc[i]),
            has_samples_input=smp is not None, has_complaints_input=cmp is not None,
        )  # fmt: skip

    def store(i: int, res) -> None:
        results[i] = res
        row = res[0]
        if row.get("status") != "failed":
            _write_part(parts_dir, row["region_id"], fps[i], res)
        else:
            log.warning("region %s failed: %s", row["region_id"], row.get("error"))
        if on_region_done is not None:
            on_region_done(row["region_id"])

    parts_dir.mkdir(parents=True, exist_ok=True)
    with Progress("score", total=n_reg, unit="regions") as bar:
        if n_resumed:
            bar.update(n_resumed)
        if scheduler or workers > 1:
            _run_dask(todo, make_task, store, bar, scheduler, workers, reg)
        else:
            for i in todo:
                res = region_indicators(make_task(i))
                log.debug("region %s: %s", res[0]["region_id"], res[0]["status"])
                store(i, res)
                bar.update(1)

    # --- assemble, score, write ---------------------------------------------------------
    rows = [_json_clean(r[0]) for r in results]
    trend_rows = [t for r in results for t in r[1]]
    table = pd.DataFrame(rows)
    table = apply_scheme(table, sch)
    gdf = gpd.GeoDataFrame(table, geometry=list(reg.geometry), crs=reg.crs)
    trends = pd.DataFrame(trend_rows, columns=["region_id", "campaign", "indicator", "value", "ci_low", "ci_high", "n", "change", "change_ci_half", "change_flag"])
    if len(trends):
        gdf["n_campaigns"] = gdf["region_id"].map(trends.groupby("region_id")["campaign"].nunique()).fillna(0).astype(int)
    write_outputs(gdf, trends, paths, sch)
    shutil.rmtree(parts_dir, ignore_errors=True)
    n_failed = int((gdf["status"] == "failed").sum())
    log.info("scored %d regions (%d computed, %d resumed, %d failed) -> %s", n_reg, len(todo), n_resumed, n_failed, paths["gpkg"])
    return ScoreResult(gdf, trends, paths, len(todo), n_resumed, n_failed)


def _run_dask(todo, make_task, store, bar, scheduler, workers, reg) -> None:
    from dask.distributed import Client, LocalCluster, as_completed  # noqa: PLC0415

    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"--scheduler {scheduler!r}: cannot connect to the Dask scheduler ({exc})") from exc
    else:
        cluster = LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})) or int(workers))
        limit = IN_FLIGHT_PER_WORKER * n_workers
        pending = iter(todo)
        index = {}

        def submit_next(ac):
            i = next(pending, None)
            if i is None:
                return False
            fut = client.submit(region_indicators, make_task(i), pure=False, key=f"netqa-score-{reg['region_id'].iloc[i]}-{i}")
            index[fut.key] = i
            ac.add(fut)
            return True

        ac = as_completed([])
        for _ in range(limit):
            if not submit_next(ac):
                break
        for fut in ac:
            i = index.pop(fut.key)
            try:
                res = fut.result()
            except Exception as exc:  # noqa: BLE001 -- a lost worker or unpicklable task fails one region
                r = reg.iloc[i]
                res = ({"region_id": str(r["region_id"]), "name": str(r["name"]), "area_type": str(r["area_type"]),
                        "area_km2": float(r["area_km2"]), "status": "failed", "notes": str(r["notes"] or ""),
                        "error": f"{type(exc).__name__}: {exc}"}, [])  # fmt: skip
            fut.release()
            store(i, res)
            bar.update(1)
            submit_next(ac)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _pairs(assigned, n_reg: int):
    p, r = assigned
    return p, group_offsets(r, n_reg)


class _Columns:
    """A table held as plain column arrays (strings as categorical codes) for cheap row slicing."""

    def __init__(self, df: pd.DataFrame):
        self.cols = {}
        for c in df.columns:
            s = df[c]
            if isinstance(s.dtype, pd.CategoricalDtype):
                self.cols[c] = (s.cat.codes.to_numpy(), s.cat.categories, s.dtype)
            elif s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
                cat = pd.Categorical(s)
                self.cols[c] = (cat.codes, cat.categories, cat.dtype)
            elif isinstance(s.dtype, pd.DatetimeTZDtype):
                self.cols[c] = s.array  # keeps datetime64 storage (to_numpy would box Timestamps)
            else:
                self.cols[c] = s.to_numpy()

    def take(self, idx: np.ndarray) -> pd.DataFrame:
        out = {}
        for c, v in self.cols.items():
            if isinstance(v, tuple):
                codes, _, dtype = v
                out[c] = pd.Categorical.from_codes(codes[idx], dtype=dtype)
            else:
                out[c] = v[idx]
        return pd.DataFrame(out)


def _slice(cols, pairs, i: int, n: int):
    if cols is None:
        return None
    p_idx, offs = pairs
    return cols.take(p_idx[offs[i] : offs[i + 1]])


def _campaigns(smp: pd.DataFrame, window: str | None) -> np.ndarray:
    if "campaign" in smp.columns and not window:
        return smp["campaign"].astype("string").fillna("").to_numpy(dtype=object)
    if "time" not in smp.columns:
        raise InputError(f"--campaign-window {window!r}: the samples have no 'time' column")
    t = pd.to_datetime(smp["time"], utc=True).dt.tz_localize(None)
    try:
        return t.dt.to_period(window).astype(str).to_numpy(dtype=object)
    except ValueError:
        try:
            return t.dt.floor(window).dt.strftime("%Y-%m-%dT%H:%M").to_numpy(dtype=object)
        except ValueError as exc:
            raise InputError(f"--campaign-window {window!r}: not a pandas frequency (e.g. MS, W, 7D)") from exc


def _event_campaigns(evt: pd.DataFrame, smp: pd.DataFrame, window: str | None) -> np.ndarray:
    if "campaign" in evt.columns and not window:
        return evt["campaign"].astype("string").fillna("").to_numpy(dtype=object)
    if window and "time" in evt.columns:
        return _campaigns(evt, window)
    if "session" in evt.columns and "session" in smp.columns:
        lookup = pd.Series(smp["_campaign"].to_numpy(), index=smp["session"].astype(str).to_numpy())
        lookup = lookup[~lookup.index.duplicated()]
        return evt["session"].astype(str).map(lookup).to_numpy(dtype=object)
    return np.full(len(evt), None, dtype=object)


def _flag_complaints(cmp, cx, cy, cov, smp, sx, sy, thr, radius_m) -> None:
    """Per complaint: does prediction / measurement show weak coverage there? (1, 0 or NaN unknown)."""
    if cov is not None:
        pv = sample_points(cov, cx, cy)
        r, s = pv["rsrp_dbm"], pv["sinr_db"]
        weak = ((r < thr.rsrp_dbm) | (s < thr.sinr_db)).astype(float)
        weak[~np.isfinite(r)] = np.nan
        cmp["_weak_predicted"] = weak
    if smp is not None and len(smp):
        from scipy.spatial import cKDTree  # noqa: PLC0415

        from netqa.score.indicators import _covered  # noqa: PLC0415

        covered = _covered(smp["rsrp_dbm"] if "rsrp_dbm" in smp else pd.Series(np.nan, index=smp.index), smp.get("sinr_db"), thr)
        ok = np.isfinite(sx) & np.isfinite(sy) & np.isfinite(covered)
        weak = np.full(len(cmp), np.nan)
        if ok.any():
            tree = cKDTree(np.column_stack([sx[ok], sy[ok]]))
            cov_ok = covered[ok]
            good = np.isfinite(cx) & np.isfinite(cy)
            hits = tree.query_ball_point(np.column_stack([cx[good], cy[good]]), r=float(radius_m))
            vals = [(np.nan if not h else float(np.mean(cov_ok[h]) < 0.5)) for h in hits]
            weak[good] = vals
        cmp["_weak_measured"] = weak


def _capacity_density(cells, cov):
    from propagation import truncated_shannon_bps_hz  # noqa: PLC0415

    from netqa.io.cells import read_cells  # noqa: PLC0415

    tab = read_cells(cells)
    bw = dict(zip(tab["cell_id"].astype(str), pd.to_numeric(tab["bandwidth_mhz"], errors="coerce")))
    missing = [c for c in cov.cell_ids if c not in bw]
    if missing:
        log.warning("%s: %d cell(s) of the coverage raster are not in the cell table (first %r); their capacity is unknown", cells, len(missing), missing[0])
    return capacity_density(cov, bw, lambda s: truncated_shannon_bps_hz(np.clip(s, -50.0, 60.0)))


def _check_overlap(what, path, df, pairs, reg) -> None:
    p_idx, _ = pairs
    if len(df) and p_idx.size == 0:
        log.warning(
            "%s: none of the %d %s fall in any region; check that the regions' CRS (%s) is right",
            path, len(df), what, reg.crs.to_string() if reg.crs else "none",
        )


def _fingerprint(files, *settings) -> str:
    h = hashlib.sha256(PARTS_VERSION.encode())
    for f in files:
        if f is None or isinstance(f, (gpd.GeoDataFrame, pd.DataFrame)):
            h.update(b"<none>" if f is None else pd.util.hash_pandas_object(pd.DataFrame(f).drop(columns="geometry", errors="ignore")).values.tobytes())
            continue
        p = Path(f)
        st = p.stat()
        h.update(f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode())
    h.update(json.dumps([str(s) for s in settings]).encode())
    return h.hexdigest()


def _region_fp(base: str, r) -> str:
    g = r.geometry.wkb if r.geometry is not None else b""
    return hashlib.sha256(base.encode() + g + f"{r.region_id}|{r.name}|{r.area_type}|{r.status}".encode()).hexdigest()


def _part_path(parts_dir: Path, rid: str) -> Path:
    return parts_dir / (hashlib.sha1(str(rid).encode()).hexdigest()[:20] + ".json")


def _write_part(parts_dir: Path, rid: str, fp: str, res) -> None:
    doc = {"fingerprint": fp, "region_id": rid, "row": _json_clean(res[0]), "trends": [_json_clean(t) for t in res[1]]}
    write_text_atomic(_part_path(parts_dir, rid), json.dumps(doc))


def _read_part(parts_dir: Path, rid: str, fp: str):
    p = _part_path(parts_dir, rid)
    if not p.exists():
        return None
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if doc.get("fingerprint") != fp:
        return None
    return doc["row"], doc["trends"]


def _json_clean(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, (np.floating, float)):
            v = float(v)
            v = v if math.isfinite(v) else None
        elif isinstance(v, np.integer):
            v = int(v)
        elif isinstance(v, np.bool_):
            v = bool(v)
        out[k] = v
    return out


__all__ = ["score_regions", "ScoreResult", "output_paths"]
