"""Per-cell drive-test statistics (what TEMS and Nemo call *cell statistics*).

One row per serving cell (the samples' ``cell_id``) with the chapter-3 KPI
definitions of :mod:`netqa.kpi` applied to the samples and events of that cell:

* ``n_samples``: samples served by the cell; samples without a serving cell
  are left out of the table (their count is logged);
* ``coverage_rate`` with ``n_covered`` / ``n_coverage_samples`` and its 95 %
  Wilson interval ``coverage_rate_ci_low`` / ``_high``: RSRP >= and SINR >=
  the profile's thresholds, exactly as :func:`netqa.kpi.compute_kpis` (a log
  without any SINR is judged on RSRP alone, decided once for the whole log so
  that the per-cell counts add up to the overall ones);
* RSRP, RSRQ and SINR: ``<q>_mean_lin`` — the mean in the **linear** domain
  (mW for RSRP, power ratio for RSRQ and SINR), back in dBm / dB — and
  ``<q>_mean_db`` — the arithmetic mean of the logged dB values (TEMS/Nemo's
  "average (dB)"); 5th/50th/95th percentiles ``_p5``/``_p50``/``_p95`` of the
  logged values (linear interpolation between order statistics).  The
  linear-domain mean is never below the dB-domain one (AM >= GM);
* calls and drops (``n_calls`` = attempts - set-up failures, ``n_drops``,
  ``drop_rate`` = drops / calls) and handovers (``n_ho_attempts``,
  ``n_ho_failures``, ``n_ho_success``, ``ho_success_rate``) from the events,
  each counted in the event's ``cell_id`` (for a handover: the source cell);
  an event without a ``cell_id`` takes the serving cell of the last sample of
  its session at or before its time;
* DL/UL throughput over download/upload periods only
  (:func:`netqa.kpi.period_mask`): mean and 10/50/90th percentiles, with the
  sample counts ``n_dl_samples`` / ``n_ul_samples``.

A rate with no denominator is empty (NaN in the table, empty in the CSV),
never 0.  ``netqa kpi --per-cell CELLS.csv`` writes the table; the report
shows the worst cells; ``netqa kpi --xlsx`` puts it on its own sheet.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from netqa.kpi import _col, event_counts, load_profile, period_mask, wilson_interval

log = logging.getLogger(__name__)

__all__ = ["PER_CELL_COLUMNS", "per_cell_kpis", "write_per_cell_csv", "worst_cells", "run_per_cell"]

_SIGNAL = ("rsrp_dbm", "rsrq_db", "sinr_db")
_SIGNAL_COLS = tuple(f"{q}_{s}" for q in _SIGNAL for s in ("mean_lin", "mean_db", "p5", "p50", "p95"))
_TPUT_COLS = tuple(f"{q}_{s}" for q in ("dl_mbps", "ul_mbps") for s in ("mean", "p10", "p50", "p90"))
#: Columns of the per-cell table, in order.
PER_CELL_COLUMNS = (
    "cell_id", "tech", "n_samples", "n_coverage_samples", "n_covered", "coverage_rate", "coverage_rate_ci_low",
    "coverage_rate_ci_high", *_SIGNAL_COLS, "n_calls", "n_drops", "drop_rate", "n_ho_attempts", "n_ho_failures",
    "n_ho_success", "ho_success_rate", *_TPUT_COLS, "n_dl_samples", "n_ul_samples",
)  # fmt: skip


def _db_from_lin(x: float) -> float:
    return float(10.0 * np.log10(x)) if x > 0 else float("nan")


def _signal_stats(name: str, v: np.ndarray) -> dict:
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {f"{name}_{s}": np.nan for s in ("mean_lin", "mean_db", "p5", "p50", "p95")}
    out = {f"{name}_mean_lin": _db_from_lin(float(np.mean(10.0 ** (v / 10.0)))), f"{name}_mean_db": float(v.mean())}
    for q in (5, 50, 95):
        out[f"{name}_p{q}"] = float(np.percentile(v, q))
    return out


def _tput_stats(name: str, v: np.ndarray) -> dict:
    v = v[np.isfinite(v)]
    out = {f"{name}_mean": float(v.mean()) if v.size else np.nan}
    for q in (10, 50, 90):
        out[f"{name}_p{q}"] = float(np.percentile(v, q)) if v.size else np.nan
    return out


def _cell_ids(df: pd.DataFrame) -> pd.Series:
    if "cell_id" not in df.columns:
        return pd.Series(pd.NA, index=df.index, dtype="string")
    ids = df["cell_id"].astype("string").str.strip()
    return ids.mask(ids == "")


def _event_cells(samples: pd.DataFrame, events: pd.DataFrame) -> pd.Series:
    """The event's ``cell_id``, else the serving cell of the last sample of its session at or before its time."""
    ev_cell = _cell_ids(events)
    missing = ev_cell.isna()
    if not missing.any() or "time" not in events.columns or "time" not in samples.columns:
        return ev_cell
    s = pd.DataFrame({"time": pd.to_datetime(samples["time"], utc=True, errors="coerce"), "cell": _cell_ids(samples),
                      "session": samples["session"].astype("string") if "session" in samples else "_"})
    s = s.dropna(subset=["time", "cell"]).sort_values("time", kind="stable")
    e = pd.DataFrame({"time": pd.to_datetime(events.loc[missing, "time"], utc=True, errors="coerce"),
                      "session": events.loc[missing, "session"].astype("string") if "session" in events else "_",
                      "row": np.flatnonzero(missing.to_numpy())})
    e = e.dropna(subset=["time"]).sort_values("time", kind="stable")
    if e.empty or s.empty:
        return ev_cell
    m = pd.merge_asof(e, s, on="time", by="session", direction="backward")
    filled = ev_cell.to_numpy(dtype=object).copy()
    filled[m["row"].to_numpy()] = m["cell"].to_numpy(dtype=object)
    return pd.Series(filled, index=events.index, dtype="string")


def per_cell_kpis(samples: pd.DataFrame, events: pd.DataFrame | None = None, profile="lte") -> pd.DataFrame:
    """Per-serving-cell statistics: one row per ``cell_id``, columns :data:`PER_CELL_COLUMNS`.

    Parameters
    ----------
    samples : pandas.DataFrame
        Canonical samples (``cell_id``, ``rsrp_dbm`` [dBm], ``rsrq_db`` [dB],
        ``sinr_db`` [dB], ``dl_mbps``/``ul_mbps`` [Mbit/s]; optional ``tech``,
        ``activity``, ``time``, ``session``).  Not modified.
    events : pandas.DataFrame, optional
        Canonical events (``event``, ``cell_id``; ``time`` and ``session`` to
        place events without a cell).
    profile : str, Path or Profile
        Coverage thresholds (``lte``, ``nr`` or a TOML path).

    Returns
    -------
    pandas.DataFrame
        Sorted by ``cell_id``; rates without a denominator are NaN.

    Examples
    --------
    >>> df = pd.DataFrame({"cell_id": ["A", "A", "B"], "rsrp_dbm": [-60.0, -70.0, -115.0], "sinr_db": [5.0, 5.0, 5.0]})
    >>> t = per_cell_kpis(df)
    >>> t[["cell_id", "n_samples", "coverage_rate"]].values.tolist()
    [['A', 2, 1.0], ['B', 1, 0.0]]
    >>> round(float(t.loc[0, "rsrp_dbm_mean_lin"]), 3), float(t.loc[0, "rsrp_dbm_mean_db"])
    (-62.596, -65.0)
    """
    prof = load_profile(profile)
    cells = _cell_ids(samples)
    n_unserved = int(cells.isna().sum())
    if n_unserved:
        log.info("per-cell statistics: %d of %d samples have no serving cell and are left out", n_unserved, len(samples))
    rsrp, sinr, rsrq = _col(samples, "rsrp_dbm"), _col(samples, "sinr_db"), _col(samples, "rsrq_db")
    has_sinr = bool(np.isfinite(sinr).any())  # decided once, as for the overall KPIs
    evaluated = np.isfinite(rsrp) & (np.isfinite(sinr) if has_sinr else True)
    with np.errstate(invalid="ignore"):
        covered = evaluated & (rsrp >= prof.rsrp_dbm_min) & ((sinr >= prof.sinr_db_min) if has_sinr else True)
    dl = np.where(period_mask(samples, "download"), _col(samples, "dl_mbps"), np.nan)
    ul = np.where(period_mask(samples, "upload"), _col(samples, "ul_mbps"), np.nan)
    tech = samples["tech"].astype("string") if "tech" in samples.columns else pd.Series(pd.NA, index=samples.index, dtype="string")
    ev_groups = {}
    if events is not None and len(events) and "event" in events.columns:
        ev_cell = _event_cells(samples, events)
        ev_groups = {str(k): g for k, g in events.groupby(ev_cell.to_numpy(dtype=object), sort=False, dropna=True)}
    codes, uniques = pd.factorize(cells, sort=True)
    ids = [str(u) for u in uniques]
    for extra in sorted(set(ev_groups) - set(ids)):  # a cell with events but no samples still gets a row
        ids.append(extra)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    rows = []
    for i, cid in enumerate(ids):
        sel = order[bounds[i]:bounds[i + 1]] if i < len(uniques) else np.array([], dtype=np.int64)
        n_eval, n_cov = int(evaluated[sel].sum()), int(covered[sel].sum())
        ci = wilson_interval(n_cov, n_eval) or [np.nan, np.nan]
        t = tech.iloc[sel].dropna()
        row = {"cell_id": cid, "tech": str(t.mode().iloc[0]) if len(t) else pd.NA, "n_samples": int(sel.size),
               "n_coverage_samples": n_eval, "n_covered": n_cov, "coverage_rate": n_cov / n_eval if n_eval else np.nan,
               "coverage_rate_ci_low": ci[0], "coverage_rate_ci_high": ci[1]}
        for name, v in (("rsrp_dbm", rsrp), ("rsrq_db", rsrq), ("sinr_db", sinr)):
            row.update(_signal_stats(name, v[sel]))
        ev = ev_groups.get(cid)
        c = event_counts(ev)
        n_fail = int((ev["event"].astype("string") == "ho_failure").sum()) if ev is not None else 0
        row.update(n_calls=c["n_calls"], n_drops=c["n_drops"],
                   drop_rate=c["n_drops"] / c["n_calls"] if c["n_calls"] else np.nan,
                   n_ho_attempts=c["n_ho_attempts"], n_ho_failures=n_fail, n_ho_success=c["n_ho_success"],
                   ho_success_rate=c["n_ho_success"] / c["n_ho_attempts"] if c["n_ho_attempts"] else np.nan)  # fmt: skip
        row.update(_tput_stats("dl_mbps", dl[sel]))
        row.update(_tput_stats("ul_mbps", ul[sel]))
        row["n_dl_samples"] = int(np.isfinite(dl[sel]).sum())
        row["n_ul_samples"] = int(np.isfinite(ul[sel]).sum())
        rows.append(row)
    out = pd.DataFrame(rows, columns=list(PER_CELL_COLUMNS))
    for c in PER_CELL_COLUMNS:
        if c.startswith("n_"):
            out[c] = out[c].astype(np.int64)
    out["cell_id"] = out["cell_id"].astype("string")
    out["tech"] = out["tech"].astype("string")
    return out.sort_values("cell_id", kind="stable").reset_index(drop=True)


def worst_cells(table: pd.DataFrame, n: int = 10, min_samples: int = 30) -> pd.DataFrame:
    """The ``n`` cells with the lowest coverage rate among those with at least ``min_samples`` samples.

    Ties are broken by the higher drop rate, then by more samples.  Cells with
    fewer samples are too uncertain to rank (a Wilson half-width beyond ±18
    points) and are left out.
    """
    t = table[(table["n_samples"] >= min_samples) & table["coverage_rate"].notna()]
    key = t.assign(_drop=t["drop_rate"].fillna(-1.0))
    key = key.sort_values(["coverage_rate", "_drop", "n_samples"], ascending=[True, False, False], kind="stable")
    return key.drop(columns="_drop").head(n).reset_index(drop=True)


def write_per_cell_csv(table: pd.DataFrame, path) -> None:
    """Write the per-cell table as CSV atomically (empty fields for missing values)."""
    from netqa.fileio import atomic_path

    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")


def run_per_cell(samples, kpi_doc: dict | None = None, *, per_cell=None, xlsx=None, events=None, profile="lte",
                 overwrite: bool = False) -> pd.DataFrame:
    """``netqa kpi --per-cell/--xlsx`` on files: the per-cell table as CSV and/or the KPI workbook.

    ``events`` defaults to ``SAMPLES.events.parquet`` when it exists (as for
    :func:`netqa.kpi.run_kpi`); ``kpi_doc`` is the KPI JSON document for the
    workbook's ``KPI`` sheet.  Returns the per-cell table.
    """
    from netqa.fileio import check_output
    from netqa.ingest import events_path_for, load_events, load_samples

    if per_cell is not None:
        check_output(per_cell, overwrite)
    s = load_samples(samples)
    ev_path = events or (str(events_path_for(samples)) if events_path_for(samples).is_file() else None)
    ev = load_events(ev_path) if ev_path else None
    table = per_cell_kpis(s, ev, profile)
    if per_cell is not None:
        write_per_cell_csv(table, per_cell)
        log.info("wrote %s (%d cells)", per_cell, len(table))
    if xlsx is not None:
        from netqa.xlsx import kpi_sheets, write_workbook

        prof = load_profile(profile)
        notes = {"samples": str(samples), "events": str(ev_path), "profile": f"{prof.name}: RSRP >= {prof.rsrp_dbm_min:g} dBm "
                 f"and SINR >= {prof.sinr_db_min:g} dB", "means": "rsrp_dbm_mean (KPI sheet) and *_mean_lin are "
                 "linear-domain means; *_mean_db are arithmetic means of the dB values"}  # fmt: skip
        write_workbook(xlsx, kpi_sheets(kpi_doc or {}, table), overwrite=overwrite, notes=notes)
    return table
