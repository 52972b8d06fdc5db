"""Chapter-3 KPIs from measured samples and events (DESIGN.md "KPIs", "KPI JSON").

Definitions (all pure functions of DataFrames with the canonical columns):

* **coverage rate** — share of evaluated samples with RSRP >= threshold and
  SINR >= threshold (profile; LTE -110 dBm / -3 dB, NR SS-RSRP -105 dBm /
  SS-SINR -3 dB).  Evaluated = RSRP measured and, when the data carry SINR at
  all, SINR measured too (a log without any SINR is judged on RSRP alone).
  Numerator ``n_covered``, denominator ``n_coverage_samples``; 95 % Wilson
  score interval ``coverage_rate_ci`` (E. B. Wilson, JASA 22 (1927) 209-212):
  ``(p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)``, z = 1.959964.
* **signal** — RSRP mean in the linear domain (mean of mW, back to dBm);
  RSRQ and SINR means in dB; 5th/50th/95th percentiles (linear interpolation
  between order statistics) and CDF points.
* **drop rate** — call drops ÷ successfully set-up calls.  ``n_calls`` =
  call attempts − call set-up failures (logs that record no attempts:
  drops + normal ends).
* **handover success rate** — ho_success ÷ ho_attempt (logs that record no
  attempts: successes + failures).
* **throughput** — DL mean and 10/50/90th percentiles over download periods
  only (rows with ``activity == "download"``; rows with no activity and no
  ``connected`` state count with their measured ``dl_mbps``); UL likewise over
  upload periods.  Idle rows (G-NetTrack ``State`` = I writes 0 kbit/s) never
  count: see :func:`period_mask`.

Every rate is ``None`` (JSON null) when its denominator is 0, never 0.
"""

from __future__ import annotations

import logging
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from netqa.errors import ConfigError, InputError
from netqa.schema import KPI_KEYS

log = logging.getLogger(__name__)

PROFILE_DIR = Path(__file__).resolve().parent / "data" / "profiles"
#: Keys added after KPI_KEYS: numerators/denominators not named in DESIGN.md.
EXTRA_KPI_KEYS = ("n_covered", "n_coverage_samples", "n_dl_samples", "n_ul_samples")
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Profile:
    """Thresholds of one KPI profile (``lte``, ``nr`` or a custom TOML)."""

    name: str
    tech: str
    rsrp_dbm_min: float
    sinr_db_min: float
    bin_size_m: float = 100.0
    bin_min_samples: int = 5
    watch: dict = field(default_factory=dict)
    source: str = ""

    def as_dict(self) -> dict:
        return {"name": self.name, "tech": self.tech, "rsrp_dbm_min": self.rsrp_dbm_min, "sinr_db_min": self.sinr_db_min,
                "source": self.source}


WATCH_KEYS = ("window_s", "min_samples", "coverage_rate_min", "drop_rate_max", "ho_success_rate_min", "dl_mbps_p50_min")


def load_profile(profile: "str | Path | Profile" = "lte") -> Profile:
    """``lte``, ``nr`` or a path to a profile TOML (same layout as netqa/data/profiles/lte.toml)."""
    if isinstance(profile, Profile):
        return profile
    name = str(profile)
    path = PROFILE_DIR / f"{name}.toml" if name in ("lte", "nr") else Path(name)
    if not path.is_file():
        raise ConfigError(f"--profile {name!r}: not 'lte', 'nr' or an existing TOML file")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a valid profile TOML: {exc}") from None
    unknown = set(doc) - {"profile", "coverage", "bins", "watch"}
    if unknown:
        raise ConfigError(f"{path}: unknown table(s) {sorted(unknown)}; valid: profile, coverage, bins, watch")
    base = {} if name in ("lte", "nr") else _builtin_doc(str(doc.get("profile", {}).get("tech", "LTE")).lower())
    prof = {**base.get("profile", {}), **doc.get("profile", {})}
    cov = {**base.get("coverage", {}), **doc.get("coverage", {})}
    bins = {**base.get("bins", {}), **doc.get("bins", {})}
    watch = {**base.get("watch", {}), **doc.get("watch", {})}
    bad = set(watch) - set(WATCH_KEYS)
    if bad:
        raise ConfigError(f"{path}: [watch] unknown key(s) {sorted(bad)}; valid: {', '.join(WATCH_KEYS)}")
    try:
        rsrp, sinr = float(cov["rsrp_dbm_min"]), float(cov["sinr_db_min"])
    except (KeyError, TypeError, ValueError):
        raise ConfigError(f"{path}: [coverage] needs numeric rsrp_dbm_min and sinr_db_min") from None
    if not (-160 <= rsrp <= -30):
        raise ConfigError(f"{path}: [coverage] rsrp_dbm_min = {rsrp} outside -160..-30 dBm")
    if not (-30 <= sinr <= 50):
        raise ConfigError(f"{path}: [coverage] sinr_db_min = {sinr} outside -30..50 dB")
    return Profile(name=str(prof.get("name", path.stem)), tech=str(prof.get("tech", "LTE")), rsrp_dbm_min=rsrp,
                   sinr_db_min=sinr, bin_size_m=float(bins.get("size_m", 100.0)), bin_min_samples=int(bins.get("min_samples", 5)),
                   watch=watch, source=str(path))


def _builtin_doc(tech: str) -> dict:
    p = PROFILE_DIR / ("nr.toml" if tech == "nr" else "lte.toml")
    return tomllib.loads(p.read_text(encoding="utf-8"))


def wilson_interval(k: int, n: int, z: float = Z95) -> list[float] | None:
    """Wilson score interval [low, high] for k successes in n trials; None when n == 0.

    >>> [round(v, 4) for v in wilson_interval(8, 10)]
    [0.4902, 0.9433]
    """
    if n <= 0:
        return None
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return [max(0.0, centre - half), min(1.0, centre + half)]


def linear_mean_dbm(values) -> float | None:
    """Mean of dBm values in the linear (mW) domain, back in dBm; None when empty.

    >>> round(linear_mean_dbm([-60.0, -70.0]), 3)
    -62.596
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    total, n = 0.0, 0
    for i in range(0, v.size, 1 << 20):  # in chunks: no full-size temporaries for 10 M samples
        part = v[i:i + (1 << 20)]
        part = part[np.isfinite(part)]
        total += float(np.sum(10.0 ** (part / 10.0)))
        n += part.size
    if n == 0:
        return None
    return float(10.0 * np.log10(total / n))


def _pct(v: np.ndarray, q) -> float | None:
    return float(np.percentile(v, q)) if v.size else None


def _col(df: pd.DataFrame, name: str) -> np.ndarray:
    """A column as float64 (NaN where missing or not a number); a read-only view when it is float64 already."""
    if name not in df.columns:
        return np.full(len(df), np.nan)
    col = df[name]
    if col.dtype == np.float64:  # no copy: 10 M samples would cost 80 MB a column
        view = col.to_numpy()
        view = view.view()
        view.flags.writeable = False
        return view
    return pd.to_numeric(col, errors="coerce").to_numpy(np.float64)


def _rate(num: int, den: int) -> float | None:
    return float(num / den) if den > 0 else None


def period_mask(samples: pd.DataFrame, activity: str) -> np.ndarray:
    """Rows that belong to ``activity`` periods (``download`` or ``upload``) for the throughput KPIs.

    A row counts when its ``activity`` is ``activity``.  A row without an
    activity counts only when nothing says what it was doing (no ``connected``
    state either): a bare canonical log's measured throughput.  So the zeros
    that G-NetTrack writes in idle seconds (``State`` = I -> activity ``idle``)
    and in the other direction's transfers never enter DL/UL statistics.

    >>> df = pd.DataFrame({"activity": ["download", "idle", None], "connected": [True, False, None]})
    >>> period_mask(df, "download").tolist()
    [True, False, True]
    """
    n = len(samples)
    if "activity" in samples.columns:
        a = samples["activity"]
        if not isinstance(a.dtype, pd.CategoricalDtype):
            a = a.astype("string")
        else:  # compare the categories once, not every row (10 M rows: seconds, not minutes)
            a = a.cat.rename_categories([str(c) for c in a.cat.categories])
        mask = (a == activity).fillna(False).to_numpy(bool)
        unknown = a.isna().to_numpy(bool)
    else:
        mask, unknown = np.zeros(n, dtype=bool), np.ones(n, dtype=bool)
    if "connected" in samples.columns:
        unknown = unknown & samples["connected"].isna().to_numpy(bool)
    return mask | unknown


def _period_values(samples: pd.DataFrame, col: str, activity: str) -> np.ndarray:
    v = _col(samples, col)[period_mask(samples, activity)]
    return v[np.isfinite(v)]


def event_counts(events: pd.DataFrame | None) -> dict:
    """n_calls, n_drops, n_ho_attempts, n_ho_success (definitions in the module docstring)."""
    if events is None or len(events) == 0 or "event" not in events.columns:
        return {"n_calls": 0, "n_drops": 0, "n_ho_attempts": 0, "n_ho_success": 0}
    c = events["event"].astype("string").value_counts()
    g = lambda k: int(c.get(k, 0))  # noqa: E731
    n_calls = g("call_attempt") - g("call_setup_failure") if g("call_attempt") else g("call_drop") + g("call_end")
    n_ho = g("ho_attempt") if g("ho_attempt") else g("ho_success") + g("ho_failure")
    return {"n_calls": max(n_calls, 0), "n_drops": g("call_drop"), "n_ho_attempts": n_ho, "n_ho_success": g("ho_success")}


def compute_kpis(samples: pd.DataFrame, events: pd.DataFrame | None = None, profile="lte") -> dict:
    """The chapter-3 KPI object: DESIGN.md's KPI keys, then ``EXTRA_KPI_KEYS``.

    Parameters
    ----------
    samples : pandas.DataFrame
        Canonical samples (``rsrp_dbm``, ``sinr_db``, ``rsrq_db``, ``dl_mbps``,
        ``ul_mbps``; optional ``activity``).  Not modified.
    events : pandas.DataFrame, optional
        Canonical events (``event`` column).
    profile : str, Path or Profile
        Thresholds (``lte``, ``nr`` or a TOML path).

    Returns
    -------
    dict
        JSON-ready values; rates with no denominator are None.

    Examples
    --------
    >>> df = pd.DataFrame({"rsrp_dbm": [-100.0, -115.0], "sinr_db": [5.0, 5.0]})
    >>> k = compute_kpis(df)
    >>> k["coverage_rate"], k["n_covered"], k["n_coverage_samples"], k["drop_rate"]
    (0.5, 1, 2, None)
    """
    prof = load_profile(profile)
    rsrp, sinr, rsrq = _col(samples, "rsrp_dbm"), _col(samples, "sinr_db"), _col(samples, "rsrq_db")
    has_sinr = bool(np.isfinite(sinr).any())
    evaluated = np.isfinite(rsrp) & (np.isfinite(sinr) if has_sinr else True)
    with np.errstate(invalid="ignore"):
        covered = evaluated & (rsrp >= prof.rsrp_dbm_min) & ((sinr >= prof.sinr_db_min) if has_sinr else True)
    n_eval, n_cov = int(evaluated.sum()), int(covered.sum())
    out: dict = {"n_samples": int(len(samples)), "coverage_rate": _rate(n_cov, n_eval), "coverage_rate_ci": wilson_interval(n_cov, n_eval)}
    r = rsrp[np.isfinite(rsrp)]
    out["rsrp_dbm_mean"] = linear_mean_dbm(r)
    for q in (5, 50, 95):
        out[f"rsrp_dbm_p{q}"] = _pct(r, q)
    for name, v in (("sinr_db", sinr), ("rsrq_db", rsrq)):
        v = v[np.isfinite(v)]
        out[f"{name}_mean"] = float(v.mean()) if v.size else None
        for q in (5, 50, 95):
            out[f"{name}_p{q}"] = _pct(v, q)
    dl = _period_values(samples, "dl_mbps", "download")
    ul = _period_values(samples, "ul_mbps", "upload")
    for name, v in (("dl_mbps", dl), ("ul_mbps", ul)):
        out[f"{name}_mean"] = float(v.mean()) if v.size else None
        for q in (10, 50, 90):
            out[f"{name}_p{q}"] = _pct(v, q)
    ev = event_counts(events)
    out["n_calls"], out["n_drops"] = ev["n_calls"], ev["n_drops"]
    out["drop_rate"] = _rate(ev["n_drops"], ev["n_calls"])
    out["n_ho_attempts"], out["n_ho_success"] = ev["n_ho_attempts"], ev["n_ho_success"]
    out["ho_success_rate"] = _rate(ev["n_ho_success"], ev["n_ho_attempts"])
    out["n_covered"], out["n_coverage_samples"] = n_cov, n_eval
    out["n_dl_samples"], out["n_ul_samples"] = int(dl.size), int(ul.size)
    ordered = {k: out[k] for k in KPI_KEYS}
    ordered.update({k: out[k] for k in EXTRA_KPI_KEYS})
    return ordered


def cdf_points(values, n_points: int = 101) -> dict | None:
    """CDF of a measurement as {"value": quantiles, "fraction": 0..1} with ``n_points`` points."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return None
    p = np.linspace(0.0, 1.0, n_points)
    return {"value": np.quantile(v, p).round(4).tolist(), "fraction": p.round(4).tolist()}


def compute_kpis_by_region(samples: pd.DataFrame, events: pd.DataFrame | None, regions, profile="lte") -> dict:
    """One KPI object per ``region_id``: samples and events inside each polygon.

    ``regions`` is a GeoDataFrame with ``region_id`` (any CRS).  A sample or
    event counts in every region that holds it, its edge included (the rule of
    ``netqa score`` and ``netqa compare``: overlapping regions each count the
    samples they share).  Samples and events without a position fall in no
    region.
    """
    if "region_id" not in regions.columns:
        raise InputError(f"regions need a 'region_id' column; have {list(regions.columns)}")
    from netqa.regions import region_masks

    reg = regions[["region_id", "geometry"]]
    reg = reg if reg.crs is not None else reg.set_crs("EPSG:4326")
    # the one membership rule of kpi, compare and score (netqa.regions), in the regions' own CRS
    s_masks = region_masks(reg, _col(samples, "lon"), _col(samples, "lat"))
    e_masks = (region_masks(reg, _col(events, "lon"), _col(events, "lat"))
               if events is not None and len(events) else None)  # fmt: skip
    out = {}
    for rid in reg["region_id"].astype(str):
        s = samples[s_masks[rid]]
        e = events[e_masks[rid]] if e_masks is not None else None
        out[rid] = compute_kpis(s, e, profile)
    return out


def spatial_bins(samples: pd.DataFrame, size_m: float = 100.0, min_samples: int = 5, profile="lte"):
    """Square bins of ``size_m`` in the local UTM zone with linear-domain RSRP means.

    Returns a GeoDataFrame (EPSG:4326 bin centres) with ``n``, ``rsrp_dbm_mean``
    (linear domain), ``sinr_db_mean``, ``rsrq_db_mean``, ``dl_mbps_mean`` and
    ``coverage_rate``; bins with fewer than ``min_samples`` samples are dropped.
    Means skip missing values; ``coverage_rate`` counts samples with an RSRP.
    Bins are accumulated with ``numpy.bincount`` on the samples' bin indices (no
    per-sample geometry: 10 M samples bin in bounded memory, see
    :mod:`netqa.kpi_io`).
    """
    import geopandas as gpd

    from netqa.kpi_io import bin_samples

    if not (size_m > 0):
        raise InputError(f"bin size {size_m} m must be > 0")
    prof = load_profile(profile)
    lon, lat = _col(samples, "lon"), _col(samples, "lat")
    b, bx, by, utm = bin_samples(lon, lat, float(size_m))
    if bx.size == 0:
        return gpd.GeoDataFrame({"n": []}, geometry=[], crs="EPSG:4326")
    nb = bx.size
    inb = b >= 0
    every = bool(inb.all())  # the usual case: no copies of the columns
    bi = b if every else b[inb]

    def mean(values):
        v = values if every else values[inb]
        f = np.isfinite(v)
        cnt = np.bincount(bi[f], minlength=nb)
        tot = np.bincount(bi[f], weights=v[f], minlength=nb)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)

    rsrp = _col(samples, "rsrp_dbm")
    sinr = _col(samples, "sinr_db")
    with np.errstate(invalid="ignore"):
        covered = np.where(np.isfinite(rsrp), (rsrp >= prof.rsrp_dbm_min) & ~(sinr < prof.sinr_db_min), np.nan)
        rsrp_mw = mean(10.0 ** (rsrp / 10.0))
    dl = np.where(period_mask(samples, "download"), _col(samples, "dl_mbps"), np.nan)  # download periods only
    agg = pd.DataFrame({"n": np.bincount(bi, minlength=nb), "sinr_db_mean": mean(sinr),
                        "rsrq_db_mean": mean(_col(samples, "rsrq_db")), "dl_mbps_mean": mean(dl),
                        "coverage_rate": mean(covered)})  # fmt: skip
    with np.errstate(divide="ignore", invalid="ignore"):
        agg["rsrp_dbm_mean"] = 10.0 * np.log10(rsrp_mw)
    keep = (agg["n"] >= min_samples).to_numpy()
    agg = agg[keep]
    cx, cy = (bx[keep] + 0.5) * size_m, (by[keep] + 0.5) * size_m
    out = gpd.GeoDataFrame(agg, geometry=gpd.points_from_xy(cx, cy), crs=utm).to_crs("EPSG:4326")
    out["bin_size_m"] = size_m
    return out.reset_index(drop=True)


def kpi_report(samples: pd.DataFrame, events: pd.DataFrame | None = None, profile="lte", regions=None) -> dict:
    """The ``netqa kpi`` JSON document: the overall KPI object at the top level,
    then ``profile``, ``per_tech``, ``cdf`` and, with regions, ``regions``."""
    prof = load_profile(profile)
    doc = compute_kpis(samples, events, prof)
    doc["profile"] = prof.as_dict()
    if "tech" in samples.columns:
        tech = samples["tech"]
        if isinstance(tech.dtype, pd.CategoricalDtype):  # the compact reader's (netqa.kpi_io): no per-row strings
            names = np.array([str(c) for c in tech.cat.categories] + ["unknown"], dtype=object)
            codes = tech.cat.codes.to_numpy()
            key = np.where(codes >= 0, codes, len(names) - 1)
            used = [c for c in ("rsrp_dbm", "sinr_db", "rsrq_db", "dl_mbps", "ul_mbps", "activity", "connected")
                    if c in samples.columns]  # fmt: skip
            groups = sorted(np.unique(key), key=lambda c: str(names[c]))
            # one technology (the usual case): the whole frame, no copy; else only the columns the KPIs read
            doc["per_tech"] = {str(names[c]): compute_kpis(samples if len(groups) == 1 else samples.loc[key == c, used],
                                                           None, prof) for c in groups}  # fmt: skip
        else:
            doc["per_tech"] = {str(t): compute_kpis(s, None, prof)
                               for t, s in samples.groupby(tech.astype("string").fillna("unknown"))}  # fmt: skip
    doc["cdf"] = {c: cdf_points(_col(samples, c)) for c in ("rsrp_dbm", "rsrq_db", "sinr_db")}
    doc["cdf"]["dl_mbps"] = cdf_points(_period_values(samples, "dl_mbps", "download"))
    doc["cdf"]["ul_mbps"] = cdf_points(_period_values(samples, "ul_mbps", "upload"))
    if regions is not None:
        doc["regions"] = compute_kpis_by_region(samples, events, regions, prof)
    return doc


def _json_clean(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _json_clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_json_clean(x) for x in v]
    return v


def run_kpi(samples, out, *, events=None, regions=None, profile="lte", bin_m: float | None = None,
            bins_out=None, bin_min_samples: int | None = None, overwrite: bool = False) -> dict:
    """The ``netqa kpi`` stage on files: read samples/events/regions, write KPI JSON (and bins).

    ``events`` defaults to ``SAMPLES.events.parquet`` when it exists.  Returns the JSON document.
    """
    import json

    from netqa.fileio import atomic_set, check_output, reproducible_gdal, write_text_atomic
    from netqa.ingest import events_path_for, load_events

    out = check_output(out, overwrite)
    if bin_m:
        bins_out = Path(bins_out) if bins_out else out.with_name(out.stem + ".bins.gpkg")
        check_output(bins_out, overwrite)
    from netqa.kpi_io import read_kpi_samples

    prof = load_profile(profile)
    s = read_kpi_samples(samples)  # the KPI columns only, streamed by row groups (bounded memory)
    ev_path = events or (str(events_path_for(samples)) if events_path_for(samples).is_file() else None)
    ev = load_events(ev_path) if ev_path else None
    reg = None
    if regions is not None:
        import geopandas as gpd

        try:
            reg = gpd.read_file(regions)
        except Exception as exc:
            raise InputError(f"{regions}: regions cannot be read ({exc})") from None
    doc = kpi_report(s, ev, prof, reg)
    doc["inputs"] = {"samples": str(samples), "events": None if ev_path is None else str(ev_path),
                     "regions": None if regions is None else str(regions)}
    if not bin_m:
        write_text_atomic(out, json.dumps(_json_clean(doc), indent=2) + "\n")
        return doc
    bins = spatial_bins(s, bin_m, prof.bin_min_samples if bin_min_samples is None else bin_min_samples, prof)
    text = json.dumps(_json_clean(doc), indent=2) + "\n"
    doc["bins_path"] = str(bins_out)
    with atomic_set([out, bins_out]) as outputs:  # the JSON and its bins change together (netqa.fileio.atomic_set)
        with reproducible_gdal():
            tmp = outputs.path(bins_out)
            if bins_out.suffix.lower() == ".gpkg":
                bins.to_file(tmp, layer="bins", driver="GPKG")
            else:
                bins.to_parquet(tmp)
        outputs.path(out).write_text(text, encoding="utf-8")
    log.info("wrote %d bins to %s", len(bins), bins_out)
    return doc
