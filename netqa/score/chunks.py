"""Phase 1 of regional scoring: one chunk of samples -> per-batch partial sums (runs on Dask workers).

:func:`prepare_chunk` reads one chunk of the samples file (a Parquet row-group
range or a slice of a CSV frame), projects it, assigns every sample to the
regions that hold it and returns what :mod:`netqa.score.runner` merges: the
per-region partial sums by batch, campaign and session codes, complaint
neighbourhood counts.  :class:`ChunkPrep` is what every chunk task needs
besides its rows (sent to each worker once).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import CRS

from netqa.errors import InputError
from netqa.score import _kpi
from netqa.score.points import (
    SAMPLE_READ,
    assign_points,
    project_lonlat,
    read_table,
)
from netqa.score.zonal import sample_points

#: Rows per preparation chunk (whole Parquet row groups are joined up to about this).
ROWS_PER_CHUNK = 1_000_000
#: Start-anchored offsets (``--campaign-window MS``) and the period they name (pandas periods take ``M``).
PERIOD_ALIASES = {"MS": "M", "QS": "Q", "YS": "Y", "AS": "Y", "BMS": "M", "BQS": "Q", "BYS": "Y"}


@dataclass
class ChunkPrep:
    """What every chunk task needs besides its rows (sent to each worker once)."""

    crs_wkt: str
    geoms: list
    region_batch: np.ndarray  # batch index of each region, -1 when not computed
    region_local: np.ndarray  # index of each region inside its batch
    n_batches: int
    profile: object
    coverage: object = None
    campaigns: bool = False
    campaign_window: str | None = None
    sessions: bool = False
    complaints_xy: tuple | None = None
    complaint_radius_m: float = 100.0
    columns: tuple = ()


def _sample_sources(samples, window) -> tuple[list, tuple]:
    """Chunk descriptions of the samples file and the columns to read."""
    p = Path(samples)
    if not p.exists():
        raise InputError(f"{p}: samples file not found")
    if p.suffix.lower() in (".parquet", ".pq", ".geoparquet"):
        import pyarrow.parquet as pq  # noqa: PLC0415

        try:
            pf = pq.ParquetFile(p)
        except (OSError, ValueError) as exc:
            raise InputError(f"{p}: cannot read samples ({exc})") from exc
        names = pf.schema_arrow.names
        columns = tuple(c for c in SAMPLE_READ if c in names)
        _check_columns(p, columns, window)
        sources, group, rows = [], [], 0
        for rg in range(pf.metadata.num_row_groups):
            n = pf.metadata.row_group(rg).num_rows
            if n > 2 * ROWS_PER_CHUNK:  # one large row group: read it once per slice
                if group:
                    sources.append(("parquet", str(p.resolve()), tuple(group), 0, None))
                    group, rows = [], 0
                for lo in range(0, n, ROWS_PER_CHUNK):
                    sources.append(("parquet", str(p.resolve()), (rg,), lo, min(lo + ROWS_PER_CHUNK, n)))
                continue
            group.append(rg)
            rows += n
            if rows >= ROWS_PER_CHUNK:
                sources.append(("parquet", str(p.resolve()), tuple(group), 0, None))
                group, rows = [], 0
        if group:
            sources.append(("parquet", str(p.resolve()), tuple(group), 0, None))
        return sources, columns
    df = read_table(p, "samples", SAMPLE_READ)
    columns = tuple(df.columns)
    _check_columns(p, columns, window)
    return [("frame", df.iloc[lo : lo + ROWS_PER_CHUNK]) for lo in range(0, max(len(df), 1), ROWS_PER_CHUNK)], columns


def _check_columns(p, columns, window) -> None:
    for c in ("lat", "lon"):
        if c not in columns:
            raise InputError(f"{p}: samples have no {c!r} column (WGS84 degrees); columns are {', '.join(map(str, columns))}")
    if window and "time" not in columns:
        raise InputError(f"--campaign-window {window!r}: the samples have no 'time' column")


def _read_source(src, columns) -> pd.DataFrame:
    if src[0] == "frame":
        return src[1]
    import pyarrow.parquet as pq  # noqa: PLC0415

    _, path, groups, lo, hi = src
    try:
        tab = pq.ParquetFile(path).read_row_groups(list(groups), columns=list(columns))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read samples row group(s) {list(groups)} ({exc})") from exc
    if hi is not None:
        tab = tab.slice(lo, hi - lo)
    df = tab.to_pandas()
    if "time" in df.columns and not pd.api.types.is_datetime64_any_dtype(df["time"]):
        df["time"] = pd.to_datetime(df["time"], utc=True, errors="coerce")
    return df


def prepare_chunk(src, prep: ChunkPrep) -> dict:
    """Phase-1 task: one chunk of samples -> per-batch pieces and a small summary.

    Returns ``{"meta": {...}, "pieces": {batch: {column: array}}}``; each
    piece's rows are sorted by (region, row) with the batch-local region index
    in ``_region``.
    """
    df = _read_source(src, prep.columns)
    n = len(df)
    x, y = project_lonlat(df, CRS.from_wkt(prep.crs_wkt))
    cols = {c: pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            for c in _kpi.SAMPLE_VALUE_COLUMNS if c in df.columns}  # fmt: skip
    if "activity" in df.columns or "connected" in df.columns:
        cols["periods"] = _kpi.period_bits(df)
    labels: tuple = ()
    if prep.campaigns:
        cols["_campaign"], labels = _campaign_codes(df, prep.campaign_window)
    if prep.coverage is not None:
        pv = sample_points(prep.coverage, x, y)
        cols["_pred_rsrp_dbm"] = pv["rsrp_dbm"].astype(np.float32)  # the raster is float32: exact
        cols["_pred_sinr_db"] = pv["sinr_db"].astype(np.float32)
    nan = np.full(n, np.nan)
    meta = {
        "n_rows": n,
        "has_sinr": bool(np.isfinite(cols.get("sinr_db", nan)).any()),
        "campaign_labels": labels,
        "complaint_counts": _complaint_counts(x, y, cols.get("rsrp_dbm", nan), cols.get("sinr_db", nan), prep) if prep.complaints_xy is not None else None,
        "sessions": _first_campaign_of_session(df, cols.get("_campaign"), labels) if prep.sessions and prep.campaigns else None,
    }
    del df
    p_idx, r_idx = assign_points(x, y, prep.geoms)
    meta["n_assigned"] = int(p_idx.size)
    bid = prep.region_batch[r_idx]
    keep = bid >= 0
    p_idx, r_idx, bid = p_idx[keep], r_idx[keep], bid[keep]
    order = np.argsort(bid, kind="stable")  # pairs are (region, row) sorted; keep that inside each batch
    p_idx, r_idx, bid = p_idx[order], r_idx[order], bid[order]
    bounds = np.concatenate([[0], np.cumsum(np.bincount(bid, minlength=prep.n_batches))])
    pieces = {}
    for b in np.flatnonzero(np.diff(bounds)):
        sl = slice(bounds[b], bounds[b + 1])
        rows = p_idx[sl]
        piece = {"_region": prep.region_local[r_idx[sl]].astype(np.int32)}
        piece.update({c: v[rows] for c, v in cols.items()})
        if prep.campaigns:
            piece["_campaign_labels"] = labels
        pieces[int(b)] = piece
    return {"meta": meta, "pieces": pieces}


def _campaign_codes(df: pd.DataFrame, window: str | None) -> tuple[np.ndarray, tuple]:
    """int16 campaign codes of the rows and their labels (missing campaign: label "")."""
    if "campaign" in df.columns and not window:
        cat = pd.Categorical(df["campaign"])
        labels = [str(c) for c in cat.categories]
        codes = cat.codes.astype(np.int16)
        if (codes < 0).any():
            codes[codes < 0] = len(labels)
            labels.append("")
        return codes, tuple(labels)
    t = pd.to_datetime(df["time"], utc=True).dt.tz_localize(None)
    try:
        codes, uniq = pd.factorize(t.dt.to_period(PERIOD_ALIASES.get(window, window)))
        labels = [str(u) for u in uniq]
    except ValueError:
        try:
            codes, uniq = pd.factorize(t.dt.floor(window))
        except ValueError as exc:
            raise InputError(f"--campaign-window {window!r}: not a pandas frequency (e.g. MS, W, 7D)") from exc
        labels = [u.strftime("%Y-%m-%dT%H:%M") for u in uniq]
    codes = codes.astype(np.int16)
    if (codes < 0).any():
        codes[codes < 0] = len(labels)
        labels.append("NaT")
    return codes, tuple(labels)


def _first_campaign_of_session(df, codes, labels) -> dict:
    """{session: campaign label of its first row in this chunk} (missing session: "<NA>")."""
    cat = pd.Categorical(df["session"])
    sc = cat.codes.astype(np.int64)
    uniq, first = np.unique(sc, return_index=True)
    names = [("<NA>" if u < 0 else str(cat.categories[u])) for u in uniq]
    return {k: labels[codes[i]] for k, i in zip(names, first)}


def _complaint_counts(x, y, rsrp, sinr, prep: ChunkPrep) -> np.ndarray:
    """(4, n_complaints) counts of this chunk's samples within the radius of each complaint.

    Rows: evaluated on RSRP alone, covered on RSRP alone, evaluated on RSRP and
    SINR, covered on both (the driver keeps the pair netqa.kpi would use: SINR
    counts when the samples carry it at all).  Samples are bucketed in a grid
    of the radius; each complaint checks the 3 × 3 buckets around it.
    """
    cx, cy = prep.complaints_xy
    r = prep.complaint_radius_m
    prof = prep.profile
    out = np.zeros((4, len(cx)), dtype=np.int64)
    f_r = np.isfinite(rsrp) & np.isfinite(x) & np.isfinite(y)
    good = np.flatnonzero(np.isfinite(cx) & np.isfinite(cy))
    if not f_r.any() or not good.size:
        return out
    sel = np.flatnonzero(f_r)
    sx, sy = x[sel], y[sel]
    with np.errstate(invalid="ignore"):
        cov_r = rsrp[sel] >= prof.rsrp_dbm_min
        f_s = np.isfinite(sinr[sel])
        cov_s = cov_r & (sinr[sel] >= prof.sinr_db_min)
    big = np.int64(1) << 32
    key = np.floor(sx / r).astype(np.int64) * big + np.floor(sy / r).astype(np.int64)
    order = np.argsort(key, kind="stable")
    skey = key[order]
    kx = np.floor(cx[good] / r).astype(np.int64)
    ky = np.floor(cy[good] / r).astype(np.int64)
    owners, cands = [], []
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            k = (kx + dx) * big + (ky + dy)
            lo = np.searchsorted(skey, k, "left")
            hi = np.searchsorted(skey, k, "right")
            ln = hi - lo
            tot = int(ln.sum())
            if not tot:
                continue
            starts = np.repeat(lo - np.concatenate([[0], np.cumsum(ln)[:-1]]), ln)
            cands.append(order[starts + np.arange(tot)])
            owners.append(np.repeat(good, ln))
    if not cands:
        return out
    cand, own = np.concatenate(cands), np.concatenate(owners)
    near = (sx[cand] - cx[own]) ** 2 + (sy[cand] - cy[own]) ** 2 <= r * r
    cand, own = cand[near], own[near]
    m = len(cx)
    out[0] = np.bincount(own, minlength=m)
    out[1] = np.bincount(own[cov_r[cand]], minlength=m)
    out[2] = np.bincount(own[f_s[cand]], minlength=m)
    out[3] = np.bincount(own[cov_s[cand]], minlength=m)
    return out


def _merge_meta(metas: list, prep: ChunkPrep) -> dict:
    labels = sorted({lab for m in metas for lab in m["campaign_labels"]}) if prep.campaigns else []
    sessions: dict = {}
    for m in metas:
        for k, v in (m.get("sessions") or {}).items():
            sessions.setdefault(k, v)
    counts = [m["complaint_counts"] for m in metas if m.get("complaint_counts") is not None]
    return {
        "n_rows": sum(m["n_rows"] for m in metas),
        "n_assigned": sum(m["n_assigned"] for m in metas),
        "has_sinr": any(m["has_sinr"] for m in metas),
        "campaigns": tuple(labels),
        "sessions": sessions,
        "complaint_counts": np.sum(counts, axis=0) if counts else None,
    }
