"""Scoring scheme: indicators → 0–100 scores per dimension and overall, grades, rank.

The scheme is a TOML file; the documented default is
``netqa/data/scoring/default.toml`` (its comments justify each threshold).
An indicator scores ``100 × clip((value − bad) / (good − bad), 0, 1)``; a
dimension is the weighted mean of its *available* indicators (weights
re-spread); the overall score the weighted mean of the available dimensions,
given only when at least ``min_dimensions`` are scored.  Nothing missing is
ever scored as zero: each ``basis_<dimension>`` column lists the indicators
used and those missing with the reason.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from netqa.errors import ConfigError

#: Dimensions, in output order.
DIMENSIONS = ("coverage", "stability", "speed", "capacity")


@dataclass(frozen=True)
class Indicator:
    column: str
    weight: float
    good: float
    bad: float
    count_column: str | None = None
    min_count: float | None = None


@dataclass(frozen=True)
class Dimension:
    name: str
    weight: float
    indicators: tuple[Indicator, ...]


@dataclass(frozen=True)
class Scheme:
    """A validated scoring scheme (build it with :func:`load_scheme`)."""

    name: str
    source: str
    min_samples: int
    min_predicted_share: float
    min_dimensions: int
    grades: tuple[tuple[str, float], ...]
    dimensions: tuple[Dimension, ...]
    overrides: tuple[tuple[str, str, float, float], ...]  # (area_type, column, good, bad)

    def grade(self, score: float) -> str | None:
        """Grade of a score (None for a missing score).

        >>> load_scheme().grade(91.0)
        'A'
        """
        if score is None or not math.isfinite(score):
            return None
        for g, low in self.grades:
            if score >= low:
                return g
        return self.grades[-1][0]


def load_scheme(path=None) -> Scheme:
    """Read and validate a scoring scheme (default: the packaged ``default.toml``)."""
    if path is None:
        src = "netqa/data/scoring/default.toml"
        text = resources.files("netqa").joinpath("data/scoring/default.toml").read_text(encoding="utf-8")
    else:
        p = Path(path)
        if not p.exists():
            raise ConfigError(f"--scheme {p}: file not found")
        src, text = str(p), p.read_text(encoding="utf-8")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{src}: not valid TOML ({exc})") from exc
    unknown = set(doc) - {"scheme", "grades", "dimensions", "overrides"}
    if unknown:
        raise ConfigError(f"{src}: unknown section(s) {sorted(unknown)}; allowed: scheme, grades, dimensions, overrides")
    head = doc.get("scheme", {})
    grades = doc.get("grades") or {"A": 85, "B": 70, "C": 55, "D": 40, "E": 0}
    try:
        glist = tuple(sorted(((str(k), float(v)) for k, v in grades.items()), key=lambda kv: -kv[1]))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{src}: [grades] values must be numbers (lowest score of each grade)") from exc
    dims_doc = doc.get("dimensions", {})
    bad_dims = set(dims_doc) - set(DIMENSIONS)
    if bad_dims:
        raise ConfigError(f"{src}: unknown dimension(s) {sorted(bad_dims)}; dimensions are {', '.join(DIMENSIONS)}")
    dims = []
    for name in DIMENSIONS:
        d = dims_doc.get(name)
        if d is None:
            continue
        inds = []
        for i, ind in enumerate(d.get("indicators", [])):
            where = f"{src}: dimensions.{name}.indicators[{i}]"
            extra = set(ind) - {"column", "weight", "good", "bad", "count_column", "min_count"}
            if extra:
                raise ConfigError(f"{where}: unknown key(s) {sorted(extra)}")
            try:
                good, bad, w = float(ind["good"]), float(ind["bad"]), float(ind.get("weight", 1.0))
            except KeyError as exc:
                raise ConfigError(f"{where}: missing {exc.args[0]!r} (each indicator needs column, good, bad)") from exc
            if good == bad or w < 0:
                raise ConfigError(f"{where}: good ({good}) must differ from bad ({bad}) and weight ({w}) be >= 0")
            inds.append(Indicator(str(ind["column"]), w, good, bad, ind.get("count_column"), ind.get("min_count")))
        w = float(d.get("weight", 1.0))
        if w < 0 or not inds:
            raise ConfigError(f"{src}: dimensions.{name} needs weight >= 0 and at least one indicator")
        dims.append(Dimension(name, w, tuple(inds)))
    if not dims:
        raise ConfigError(f"{src}: no [dimensions.*] defined; define some of {', '.join(DIMENSIONS)}")
    overrides = []
    for i, o in enumerate(doc.get("overrides", [])):
        try:
            overrides.append((str(o["area_type"]), str(o["column"]), float(o["good"]), float(o["bad"])))
        except KeyError as exc:
            raise ConfigError(f"{src}: overrides[{i}] is missing {exc.args[0]!r} (area_type, column, good, bad)") from exc
    return Scheme(
        name=str(head.get("name", Path(src).stem)),
        source=src,
        min_samples=int(head.get("min_samples", 30)),
        min_predicted_share=float(head.get("min_predicted_share", 0.5)),
        min_dimensions=int(head.get("min_dimensions", 2)),
        grades=glist,
        dimensions=tuple(dims),
        overrides=tuple(overrides),
    )


def _num(table: pd.DataFrame, col: str) -> np.ndarray:
    if col not in table.columns:
        return np.full(len(table), np.nan)
    return pd.to_numeric(table[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _availability(table: pd.DataFrame, ind: Indicator, scheme: Scheme) -> tuple[np.ndarray, list]:
    """(values with NaN where unavailable, reason per row or None)."""
    v = _num(table, ind.column)
    reasons: list = [None] * len(table)
    if ind.column not in table.columns:
        return v, ["no such column"] * len(table)
    count_col, min_count = ind.count_column, ind.min_count
    if count_col is None and ind.column.endswith("_measured"):
        count_col, min_count = "n_samples", scheme.min_samples
    if count_col is not None and min_count is not None:
        cnt = np.nan_to_num(_num(table, count_col), nan=0.0)
        low = cnt < float(min_count)
        for i in np.flatnonzero(low):
            reasons[i] = f"{count_col} {int(cnt[i])} < {min_count:g}"
        v = np.where(low, np.nan, v)
    if ind.column.endswith("_predicted"):
        share = np.nan_to_num(_num(table, "raster_covered_share"), nan=0.0)
        low = share < scheme.min_predicted_share
        for i in np.flatnonzero(low & ("raster_covered_share" in table.columns)):
            reasons[i] = f"raster covers {share[i]:.0%} < {scheme.min_predicted_share:.0%}"
        v = np.where(low, np.nan, v)
    for i in np.flatnonzero(~np.isfinite(v)):
        if reasons[i] is None:
            reasons[i] = "no data"
    return v, reasons


def apply_scheme(table: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """Add ``score_<dim>``, ``grade_<dim>``, ``basis_<dim>``, ``score_overall``, ``grade_overall``, ``rank``.

    Rows whose ``status`` is ``failed`` or ``empty`` get no scores.
    """
    out = table.copy()
    n = len(out)
    usable = ~out.get("status", pd.Series(["ok"] * n, index=out.index)).isin(["failed", "empty"]).to_numpy()
    area = out["area_type"].astype(str).to_numpy() if "area_type" in out else np.array(["other"] * n)
    dim_scores = {}
    for dim in scheme.dimensions:
        num = np.zeros(n)
        den = np.zeros(n)
        used = [[] for _ in range(n)]
        missing = [[] for _ in range(n)]
        for ind in dim.indicators:
            v, reasons = _availability(out, ind, scheme)
            good = np.full(n, ind.good)
            bad = np.full(n, ind.bad)
            for at, col, g, b in scheme.overrides:
                if col == ind.column:
                    sel = area == at
                    good[sel], bad[sel] = g, b
            s = 100.0 * np.clip((v - bad) / (good - bad), 0.0, 1.0)
            ok = np.isfinite(s) & usable
            num += np.where(ok, s * ind.weight, 0.0)
            den += np.where(ok, ind.weight, 0.0)
            for i in range(n):
                if ok[i]:
                    used[i].append(ind.column)
                else:
                    missing[i].append(f"{ind.column} ({reasons[i] or 'region not scored'})")
        with np.errstate(invalid="ignore", divide="ignore"):
            score = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
        dim_scores[dim.name] = score
        out[f"score_{dim.name}"] = np.round(score, 2)
        out[f"grade_{dim.name}"] = [scheme.grade(s) for s in score]
        out[f"basis_{dim.name}"] = [
            "used: " + (", ".join(u) or "none") + ("; missing: " + ", ".join(m) if m else "") for u, m in zip(used, missing)
        ]
    num = np.zeros(n)
    den = np.zeros(n)
    cnt = np.zeros(n, dtype=int)
    for dim in scheme.dimensions:
        s = dim_scores[dim.name]
        ok = np.isfinite(s)
        num += np.where(ok, s * dim.weight, 0.0)
        den += np.where(ok, dim.weight, 0.0)
        cnt += ok
    with np.errstate(invalid="ignore", divide="ignore"):
        overall = np.where((den > 0) & (cnt >= scheme.min_dimensions), num / np.where(den > 0, den, 1.0), np.nan)
    out["score_overall"] = np.round(overall, 2)
    out["grade_overall"] = [scheme.grade(s) for s in overall]
    out["n_dimensions_scored"] = cnt
    rank = pd.Series(np.round(overall, 2)).rank(ascending=False, method="min")
    out["rank"] = pd.array(rank.to_numpy(), dtype="Int64") if n else pd.array([], dtype="Int64")
    out["scheme"] = scheme.name
    return out
