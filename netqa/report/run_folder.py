"""What a run folder holds, for the campaign report (:mod:`netqa.report`): files recognised by name and content."""

from __future__ import annotations

import json
import logging
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from netqa.errors import NetQAError
from netqa.report.html import _missing

log = logging.getLogger("netqa.report")

def _read_json(p: Path):
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        log.warning("%s: not readable JSON; left out of the report", p)
        return None


def _is_kpi(obj) -> bool:
    return isinstance(obj, dict) and "n_samples" in obj and "coverage_rate" in obj


@dataclass
class _Run:
    root: Path
    manifest: dict | None = None
    kpi_path: Path | None = None
    kpi: dict | None = None  # overall KPI object
    kpi_regions: dict = field(default_factory=dict)
    stats: list = field(default_factory=list)  # [(label, path, obj)], configured model first
    models: list = field(default_factory=list)  # [(path, text, dict)]
    scores: list = field(default_factory=list)  # [(path, DataFrame)]
    predicted: dict | None = None
    pngs: list = field(default_factory=list)
    cells: tuple | None = None  # (path, DataFrame): per-cell statistics (netqa kpi --per-cell)

    @property
    def best_scores(self):
        return self.scores[0][1] if self.scores else None


# --- names and columns in what the run holds (the summary and the sections share them) -----------


def _model_name(obj: dict) -> str:
    m = obj.get("model")
    if isinstance(m, dict):
        return str(m.get("model", "?"))
    return str(m) if m else "?"


def _region_label(df: pd.DataFrame | None, rid) -> str:
    if df is not None and "region_id" in df.columns and "name" in df.columns:
        hit = df.loc[df["region_id"].astype(str) == str(rid), "name"]
        if len(hit) and not _missing(hit.iloc[0]):
            return f"{rid} {hit.iloc[0]}"
    return str(rid)


def _score_cols(df: pd.DataFrame) -> tuple[str | None, str | None]:
    score = "score_overall" if "score_overall" in df.columns else ("score" if "score" in df.columns else None)
    grade = "grade_overall" if "grade_overall" in df.columns else ("grade" if "grade" in df.columns else None)
    return score, grade


def _holdout(model: dict) -> dict | None:
    h = ((model.get("calibration") or {}).get("holdout") or {}).get("tuned")
    return h if isinstance(h, dict) else None


def _find_kpi(run: _Run) -> None:
    candidates = [run.root / "kpi.json"] + [p for p in sorted(run.root.rglob("*.json")) if p.name != "kpi.json"]
    for p in candidates:
        if not p.is_file() or p.name == "manifest.json" or p.name.startswith("stats"):
            continue
        obj = _read_json(p)
        if not isinstance(obj, dict):
            continue
        regions = obj.get("regions") if isinstance(obj.get("regions"), dict) else obj
        regions = {str(k): v for k, v in regions.items() if _is_kpi(v)}
        if _is_kpi(obj) or regions:
            run.kpi_path, run.kpi, run.kpi_regions = p, (obj if _is_kpi(obj) else None), regions
            return


def _find_stats(run: _Run) -> None:
    found = []
    for p in sorted(run.root.rglob("stats*.json")):
        obj = _read_json(p)
        if isinstance(obj, dict) and "rmse_db" in obj:
            found.append((p, obj))
    tuned = [x for x in found if "tuned" in x[0].relative_to(run.root).parts]
    other = [x for x in found if x not in tuned]
    for p, obj in other:
        run.stats.append(("configured model" if tuned else "model", p, obj))
    for p, obj in tuned:
        run.stats.append(("tuned model", p, obj))


def _find_models(run: _Run) -> None:
    for p in sorted(run.root.rglob("*.toml")):
        text = p.read_text(encoding="utf-8", errors="replace")
        try:
            d = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            continue
        if "spm" in d or "band" in d or "calibration" in d:
            run.models.append((p, text, d))


def _find_scores(run: _Run) -> None:
    for p in sorted(run.root.rglob("scores*.csv")):
        if p.name.endswith(".trends.csv"):
            continue
        try:
            df = pd.read_csv(p, dtype={"region_id": "string"})
        except (OSError, ValueError, pd.errors.ParserError):
            log.warning("%s: not readable CSV; left out of the report", p)
            continue
        for key, asc in (("rank", True), ("score_overall", False), ("score", False)):
            if key in df.columns:
                df = df.sort_values(key, ascending=asc, na_position="last")
                break
        run.scores.append((p, df.reset_index(drop=True)))


def _find_cells(run: _Run) -> None:
    """The per-cell statistics table: ``kpi_cells.csv``, else any ``*cells*.csv`` with its columns."""
    need = {"cell_id", "n_samples", "coverage_rate"}
    candidates = [run.root / "kpi_cells.csv"] + [p for p in sorted(run.root.rglob("*cells*.csv")) if p.name != "kpi_cells.csv"]
    for p in candidates:
        if not p.is_file():
            continue
        try:
            df = pd.read_csv(p, dtype={"cell_id": "string"})
        except (OSError, ValueError, pd.errors.ParserError):
            continue
        if need <= set(df.columns):
            run.cells = (p, df)
            return


def _predicted_coverage(run: _Run) -> None:
    """Share of the predicted area meeting the KPI profile's thresholds, from the coverage GeoTIFF."""
    path = run.root / "coverage.tif"
    if not path.is_file():
        return
    from netqa.maps.layers import band_names, read_band

    profile = (run.kpi or {}).get("profile") or {}
    rsrp_min = float(profile.get("rsrp_dbm_min", -110.0))
    sinr_min = float(profile.get("sinr_db_min", -3.0))
    try:
        rsrp = read_band(path, "rsrp_dbm")
        ok = np.isfinite(rsrp.values)
        covered = ok & (np.nan_to_num(rsrp.values, nan=-np.inf) >= rsrp_min)
        if "sinr_db" in band_names(path):
            sinr = read_band(path, "sinr_db").values
            covered &= np.nan_to_num(sinr, nan=-np.inf) >= sinr_min
    except NetQAError as exc:
        log.warning("%s: predicted coverage left out of the report (%s)", path, exc)
        return
    n = int(ok.sum())
    if n == 0:
        return
    px_km2 = abs(rsrp.transform.a * rsrp.transform.e) / 1e6 if rsrp.crs.is_projected else float("nan")
    run.predicted = {"rate": float(covered.sum()) / n, "area_km2": n * px_km2, "rsrp_dbm_min": rsrp_min,
                     "sinr_db_min": sinr_min, "model": _coverage_model(path)}


def _coverage_model(path: Path) -> str | None:
    """The model that drew the coverage, from the GeoTIFF's own tags (issue 13: never the compare stage's)."""
    import rasterio

    try:
        with rasterio.open(path) as ds:
            tags = ds.tags()
    except Exception:  # noqa: BLE001 - an unreadable file was reported above
        return None
    model = tags.get("model")
    if model and tags.get("model_file"):
        model = f"{model} (tuned: {tags['model_file']})"
    return model


def _collect(root: Path) -> _Run:
    run = _Run(root)
    mp = root / "manifest.json"
    run.manifest = _read_json(mp) if mp.is_file() else None
    _find_kpi(run)
    _find_stats(run)
    _find_models(run)
    _find_scores(run)
    _find_cells(run)
    _predicted_coverage(run)
    run.pngs = sorted(p for p in root.rglob("*.png") if not p.name.startswith("."))
    return run
