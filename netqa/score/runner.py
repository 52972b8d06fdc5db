"""The ``netqa score`` batch: prepare the samples in chunks, run the regions in batches, assemble.

Execution
---------
Two kinds of independent task, the same on every path:

1. **chunk preparation** (:func:`prepare_chunk`): one per row chunk of the
   samples (Parquet row groups, about :data:`ROWS_PER_CHUNK` rows): read the
   rows, project them into the regions' CRS, look up the predicted RSRP/SINR
   under each sample, assign the samples to regions (point in polygon), count
   the samples near each complaint, and split the rows into one *piece* per
   region batch (plain column arrays, no DataFrames);
2. **region batches** (:func:`netqa.score.indicators.batch_indicators`): a few
   dozen regions each, with their pieces from every chunk, events and
   complaints: measured KPIs for all of them in one vectorised pass, zonal
   statistics, agreement, complaints and trends.

They run in this process by default; with ``workers > 1`` on a
``dask.distributed.LocalCluster`` of that many single-threaded worker
processes; with ``scheduler="tcp://host:8786"`` on an existing Dask cluster.
On a cluster the workers read the samples file, the coverage raster and the
traffic raster themselves (those paths must be readable from the workers), the pieces stay on
the workers (only their small summaries come back), and each batch task
receives only its own pieces.  A region's rows always arrive in file order and
every statistic is computed per region, so the table is identical whatever
the number of workers or batches.

Resume
------
Each finished region is written atomically to ``SCORES.gpkg.parts/`` as JSON
with a fingerprint of its inputs (input files' size and modification time,
profile, settings, the region's geometry and attributes).  A re-run after an
interruption skips regions whose part matches; failed regions are not kept, so
they are retried.  The folder is removed once the outputs are written.
"""

from __future__ import annotations

import logging
import math
import operator
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from netqa.daskclient import dask_client, task_token
from netqa.errors import InputError, NetQAError
from netqa.fileio import check_output
from netqa.progress import Progress
from netqa.score import _kpi
from netqa.score.chunks import (
    ChunkPrep,
    _merge_meta,
    _sample_sources,
    prepare_chunk,
)
from netqa.score.indicators import Batch, RegionMeta, batch_indicators, failed_row
from netqa.score.outputs import write_outputs
from netqa.score.points import (
    EVENT_READ,
    project_lonlat,
    read_complaints,
    read_table,
)
from netqa.score.regions import load_regions
from netqa.score.parts import fingerprint, json_clean, read_part, region_fp, write_part
from netqa.score.scheme import apply_scheme, load_scheme
from netqa.score.tables import cells_capacity_density, complaints_table, events_table, locate, take_groups
from netqa.score.zonal import (
    open_coverage,
    open_traffic,
)

log = logging.getLogger(__name__)

#: Most regions in one batch task (bounds a task's memory and the work lost to a failure).
REGIONS_PER_BATCH = 64

#: Batches per worker at least, so that the cluster's workers stay busy to the end.
BATCHES_PER_WORKER = 4




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
    traffic_raster=None,
    overwrite: bool = False,
    repair: bool = True,
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
        KPI threshold profile (``lte``, ``nr`` or a TOML file; :func:`netqa.kpi.load_profile`).
    scheduler : str, optional
        Address of a Dask scheduler to run the tasks on.
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
    traffic_raster : path, optional
        Offered-traffic density GeoTIFF [Mbit/s per km²], summed over each
        region's area (replaces ``traffic_column``).
    overwrite : bool
        Replace existing outputs.
    repair : bool
        Repair invalid polygons with a warning (default); ``False`` rejects
        them (their rows are ``failed`` with the reason).
    on_region_done : callable, optional
        Called with each region id as its result is stored (progress hooks).
    """
    paths = output_paths(out)
    for p in paths.values():
        check_output(p, overwrite)
    sch = load_scheme(scheme)
    prof = _kpi.profile_of(profile)
    cov = open_coverage(coverage) if coverage else None
    target_crs = CRS.from_wkt(cov.crs_wkt) if cov else None
    reg = load_regions(regions, target_crs=target_crs, repair=repair)
    n_reg = len(reg)
    geoms = [g if st not in ("failed", "empty") else None for g, st in zip(reg.geometry, reg["status"])]
    traffic = pd.to_numeric(reg[traffic_column], errors="coerce") if traffic_column in reg.columns else None
    tinfo = open_traffic(traffic_raster) if traffic_raster else None
    if tinfo is not None and traffic is not None:
        log.info("offered traffic from %s; the regions' %r column is not used", traffic_raster, traffic_column)

    # --- resume state ----------------------------------------------------------------
    parts_dir = Path(str(paths["gpkg"]) + ".parts")
    base_fp = fingerprint([regions, samples, events, coverage, complaints, cells, traffic_raster], profile, campaign_window, complaint_radius_m, traffic_column, repair)
    fps = [region_fp(base_fp, r) for r in reg.itertuples(index=False)]
    results: list = [None] * n_reg
    n_resumed = 0
    if parts_dir.exists():
        for i, rid in enumerate(reg["region_id"]):
            got = read_part(parts_dir, rid, fps[i])
            if got is not None:
                results[i] = got
                n_resumed += 1
        if n_resumed:
            log.info("resuming: %d of %d regions already done in %s", n_resumed, n_reg, parts_dir)
    todo = np.array([i for i in range(n_reg) if results[i] is None], dtype=np.int64)

    metas = [
        RegionMeta(region_id=str(r["region_id"]), name=str(r["name"]), area_type=str(r["area_type"]), status=str(r["status"]),
                   notes=str(r["notes"] or ""), geometry=r.geometry, area_km2=float(r["area_km2"]),
                   offered_traffic_mbps=None if traffic is None or pd.isna(traffic.iloc[i]) else float(traffic.iloc[i]),
                   crs_wkt=reg.crs.to_wkt())
        for i, (_, r) in enumerate(reg.iterrows())
    ]  # fmt: skip

    def store(i: int, res) -> None:
        results[i] = res
        row = res[0]
        if row.get("status") != "failed":
            write_part(parts_dir, row["region_id"], fps[i], res)
        else:
            log.warning("region %s failed: %s", row["region_id"], row.get("error"))
        if on_region_done is not None:
            on_region_done(row["region_id"])

    # --- inputs read by the driver: events, complaints, the samples' layout -----------
    if events is None and samples:
        guess = Path(str(Path(samples).with_suffix("")) + ".events.parquet")
        if guess.exists():
            log.info("events: using %s beside the samples", guess)
            events = guess
    sources, columns = _sample_sources(samples, campaign_window) if samples else ([], ())
    evt = read_table(events, "events", EVENT_READ) if events else None
    cmp = read_complaints(complaints) if complaints else None
    cxy = project_lonlat(cmp, reg.crs) if cmp is not None else None
    dens = cells_capacity_density(cells, cov) if cells and cov is not None else None

    parts_dir.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    client = cluster = None
    try:
        if len(todo) and (scheduler or workers > 1):
            client, cluster = dask_client(scheduler, workers)
            n_workers = max(1, len(client.scheduler_info().get("workers", {})) or int(workers))
        else:
            n_workers = 1
        batches = _make_batches(todo, n_workers if client is not None else 0)
        region_batch = np.full(n_reg, -1, dtype=np.int64)
        region_local = np.zeros(n_reg, dtype=np.int64)
        for b, idx in enumerate(batches):
            region_batch[idx] = b
            region_local[idx] = np.arange(idx.size)
        prep = ChunkPrep(
            crs_wkt=reg.crs.to_wkt(), geoms=geoms, region_batch=region_batch, region_local=region_local, n_batches=len(batches),
            profile=prof, coverage=cov, campaigns="campaign" in columns or bool(campaign_window), campaign_window=campaign_window,
            sessions=evt is not None and "session" in columns and "session" in evt.columns,
            complaints_xy=cxy, complaint_radius_m=float(complaint_radius_m), columns=columns,
        )  # fmt: skip

        # --- phase 1: sample chunks ------------------------------------------------------
        ev_pairs = None
        if not len(todo):
            chunk_meta, pieces = [], []
        elif client is not None:
            futs = _submit_chunks(client, sources, prep)
            ev_pairs = locate(evt, reg.crs, geoms) if evt is not None else None  # while the workers read the samples
            chunk_meta, pieces = _collect_chunks(client, futs, prep.n_batches, samples)
            del futs
        else:
            chunk_meta, pieces = [], []
            for src in sources:
                res = prepare_chunk(src, prep)
                chunk_meta.append(res["meta"])
                pieces.append(res["pieces"])
        summary = _merge_meta(chunk_meta, prep)
        log.info("samples prepared: %d rows in %d chunk(s), %d region batch(es) (%.1f s)", summary["n_rows"], len(chunk_meta), len(batches), time.perf_counter() - t_start)
        if samples and summary["n_rows"] and not summary["n_assigned"]:
            log.warning("%s: none of the %d samples fall in any region; check that the regions' CRS (%s) is right",
                        samples, summary["n_rows"], reg.crs.to_string() if reg.crs else "none")  # fmt: skip

        # --- events and complaints, grouped by batch ---------------------------------------
        if evt is not None and ev_pairs is None:
            ev_pairs = locate(evt, reg.crs, geoms)
        ev_tab = events_table(evt, ev_pairs, len(geoms), summary, campaign_window) if evt is not None else None
        cmp_tab = complaints_table(cmp, cxy, cov, prof, geoms, summary) if cmp is not None else None
        batch_objs = [
            Batch(regions=[metas[i] for i in idx], profile=prof, coverage=cov, capacity_density=dens, campaigns=summary["campaigns"],
                  events=take_groups(ev_tab, idx), complaints=take_groups(cmp_tab, idx),
                  has_samples_input=bool(samples), has_complaints_input=cmp is not None, traffic=tinfo)
            for idx in batches
        ]  # fmt: skip

        # --- phase 2: region batches ---------------------------------------------------------
        with Progress("score", total=n_reg, unit="regions") as bar:
            if n_resumed:
                bar.update(n_resumed)

            def done(b: int, res) -> None:
                for i, r in zip(batches[b], res):
                    store(int(i), r)
                bar.update(len(batches[b]))

            if client is not None:
                _batches_dask(client, batch_objs, pieces, batches, metas, done)
            else:
                for b, bo in enumerate(batch_objs):
                    res = batch_indicators(bo, *[pc.get(b) for pc in pieces])
                    pieces_b = [pc.pop(b, None) for pc in pieces]  # free the batch's rows
                    del pieces_b
                    done(b, res)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    log.info("regions computed (%.1f s since the samples were read)", time.perf_counter() - t_start)
    # --- assemble, score, write ---------------------------------------------------------
    rows = [json_clean(r[0]) for r in results]
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


# --- batches and the Dask paths ------------------------------------------------------------
def _make_batches(todo: np.ndarray, n_workers: int) -> list[np.ndarray]:
    """Consecutive runs of the regions to compute: at most REGIONS_PER_BATCH each, and on a
    cluster at least BATCHES_PER_WORKER per worker."""
    if not len(todo):
        return []
    n = math.ceil(len(todo) / REGIONS_PER_BATCH)
    if n_workers:
        n = max(n, min(len(todo), BATCHES_PER_WORKER * n_workers))
    return [a for a in np.array_split(todo, n) if a.size]


def _submit_chunks(client, sources, prep):
    """Phase 1 on the cluster: one task per chunk; the workers read the samples file themselves."""
    prep_f = client.scatter(prep, broadcast=True, hash=False)
    return [client.submit(prepare_chunk, src, prep_f, pure=False, key=f"netqa-score-chunk-{k}-{task_token()}") for k, src in enumerate(sources)]


def _collect_chunks(client, futs, n_batches: int, samples):
    """Only the chunk summaries come back; the pieces stay on the workers as futures."""
    try:
        meta = client.gather([client.submit(operator.getitem, f, "meta", pure=False) for f in futs])
    except NetQAError:
        raise
    except Exception as exc:  # noqa: BLE001 -- e.g. the path is not readable on a remote worker
        raise InputError(
            f"{samples}: preparing the samples on the Dask workers failed ({type(exc).__name__}: {exc}); "
            "the samples file and the rasters must be readable from every worker at the same path"
        ) from exc
    pieces = [{b: client.submit(_piece, f, b, pure=False) for b in range(n_batches)} for f in futs]
    return meta, pieces


def _piece(res: dict, b: int):
    return res["pieces"].get(b)


def _batches_dask(client, batch_objs, pieces, batches, metas, done) -> None:
    from dask.distributed import as_completed  # noqa: PLC0415

    index = {}
    futs = []
    for b, bo in enumerate(batch_objs):
        f = client.submit(batch_indicators, bo, *[pc.pop(b) for pc in pieces], pure=False, key=f"netqa-score-batch-{b}-{task_token()}")
        index[f.key] = b
        futs.append(f)
    for fut in as_completed(futs):
        b = index.pop(fut.key)
        try:
            res = fut.result()
        except Exception as exc:  # noqa: BLE001 -- a lost worker or unpicklable task fails its regions only
            res = [(failed_row(metas[i], f"{type(exc).__name__}: {exc}"), []) for i in batches[b]]
        fut.release()
        done(b, res)
