"""Bridge to the measured-KPI library (issue #5) and the coverage thresholds.

Per-region field-test indicators are the KPIs of DESIGN.md ("KPI JSON")
computed by :func:`netqa.kpi.compute_kpis` on the samples and events inside the
region; scoring never re-defines them.  Until that module is importable this
file carries a thin stand-in with the same keys and the DESIGN.md definitions.

TODO(#5): drop :func:`_fallback_kpis` once ``netqa.kpi.compute_kpis`` has
landed everywhere, and take the thresholds from its profile loader.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from netqa.errors import ConfigError
from netqa.schema import KPI_KEYS


class Thresholds(NamedTuple):
    """Coverage thresholds: a sample or pixel is covered when both hold."""

    rsrp_dbm: float
    sinr_db: float


#: DESIGN.md "KPIs": LTE RSRP >= -110 dBm and SINR >= -3 dB; NR SS-RSRP >= -105 dBm and SS-SINR >= -3 dB.
BUILTIN_THRESHOLDS = {"lte": Thresholds(-110.0, -3.0), "nr": Thresholds(-105.0, -3.0)}


def thresholds_for(profile) -> Thresholds:
    """Coverage thresholds of a profile (``lte``, ``nr`` or a TOML file).

    The KPI library's profile loader is used when it exists; otherwise a TOML
    profile is read for ``coverage_rsrp_dbm`` / ``coverage_sinr_db`` at the top
    level or ``rsrp_dbm`` / ``sinr_db`` under ``[coverage]``.

    >>> thresholds_for("lte")
    Thresholds(rsrp_dbm=-110.0, sinr_db=-3.0)
    """
    loaded = _profile_from_kpi(profile)
    if loaded is not None:
        return loaded
    key = str(profile).lower()
    if key in BUILTIN_THRESHOLDS:
        return BUILTIN_THRESHOLDS[key]
    p = Path(str(profile))
    if not p.exists():
        raise ConfigError(f"--profile {profile!r}: not a built-in profile (lte, nr) and no such TOML file")
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from exc
    cov = doc.get("coverage", {}) if isinstance(doc.get("coverage"), dict) else {}
    base = BUILTIN_THRESHOLDS[str(doc.get("tech", "lte")).lower()] if str(doc.get("tech", "lte")).lower() in BUILTIN_THRESHOLDS else BUILTIN_THRESHOLDS["lte"]
    rsrp = doc.get("coverage_rsrp_dbm", cov.get("rsrp_dbm", base.rsrp_dbm))
    sinr = doc.get("coverage_sinr_db", cov.get("sinr_db", base.sinr_db))
    try:
        return Thresholds(float(rsrp), float(sinr))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{p}: coverage thresholds must be numbers, got rsrp {rsrp!r}, sinr {sinr!r}") from exc


def _profile_from_kpi(profile) -> Thresholds | None:
    try:
        from netqa import kpi as _k  # noqa: PLC0415
    except ImportError:
        return None
    loader = getattr(_k, "load_profile", None)
    if loader is None:
        return None
    try:
        prof = loader(profile)
    except Exception:  # an unknown profile is reported by our own reader below
        return None
    for r_name, s_name in (("rsrp_dbm_min", "sinr_db_min"), ("coverage_rsrp_dbm", "coverage_sinr_db"), ("rsrp_dbm", "sinr_db")):
        r = prof.get(r_name) if isinstance(prof, dict) else getattr(prof, r_name, None)
        s = prof.get(s_name) if isinstance(prof, dict) else getattr(prof, s_name, None)
        if r is not None and s is not None:
            return Thresholds(float(r), float(s))
    return None


def compute_kpis(samples: pd.DataFrame, events: pd.DataFrame | None, profile) -> dict:
    """KPI dict with exactly :data:`netqa.schema.KPI_KEYS` for one set of samples/events."""
    try:
        from netqa.kpi import compute_kpis as lib  # noqa: PLC0415
    except ImportError:
        lib = None
    if lib is not None:
        out = lib(samples, events, profile=profile)
        return {k: out.get(k) for k in KPI_KEYS}
    return _fallback_kpis(samples, events, thresholds_for(profile))


def wilson_ci(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float] | None:
    """Wilson score interval of a proportion k/n (95 % by default); None when n == 0.

    >>> [round(v, 4) for v in wilson_ci(8, 10)]
    [0.4902, 0.9433]
    """
    if n <= 0:
        return None
    p = min(max(k / n, 0.0), 1.0)  # counts from inconsistent logs (more drops than calls) stay a proportion
    den = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, round(centre - half, 12)), min(1.0, round(centre + half, 12)))


def _fallback_kpis(samples: pd.DataFrame, events: pd.DataFrame | None, thr: Thresholds) -> dict:
    """DESIGN.md KPI definitions (stand-in until netqa.kpi lands)."""
    out: dict = dict.fromkeys(KPI_KEYS)
    n = len(samples)
    out["n_samples"] = int(n)
    rsrp = _col(samples, "rsrp_dbm")
    sinr = _col(samples, "sinr_db")
    valid = np.isfinite(rsrp)
    covered = valid & (rsrp >= thr.rsrp_dbm) & (sinr >= thr.sinr_db)
    n_valid = int(valid.sum())
    if n_valid:
        k = int(covered.sum())
        out["coverage_rate"] = k / n_valid
        out["coverage_rate_ci"] = list(wilson_ci(k, n_valid))
    for name, pcts in (("rsrp_dbm", (5, 50, 95)), ("sinr_db", (5, 50, 95)), ("rsrq_db", (5, 50, 95)),
                       ("dl_mbps", (10, 50, 90)), ("ul_mbps", (10, 50, 90))):  # fmt: skip
        v = _col(samples, name)
        v = v[np.isfinite(v)]
        if v.size == 0:
            continue
        if name == "rsrp_dbm":
            out[f"{name}_mean"] = float(10.0 * np.log10(np.mean(10.0 ** (v / 10.0))))
        else:
            out[f"{name}_mean"] = float(np.mean(v))
        for q, val in zip(pcts, np.percentile(v, pcts)):
            out[f"{name}_p{q}"] = float(val)
    ev = events["event"].astype(str).to_numpy() if events is not None and len(events) else np.array([], dtype=str)
    attempts = int((ev == "call_attempt").sum())
    setup_fail = int((ev == "call_setup_failure").sum())
    drops = int((ev == "call_drop").sum())
    calls = max(attempts - setup_fail, 0)
    out["n_calls"] = calls
    out["n_drops"] = drops
    out["drop_rate"] = drops / calls if calls else None
    ho_att = int((ev == "ho_attempt").sum())
    ho_ok = int((ev == "ho_success").sum())
    out["n_ho_attempts"] = ho_att
    out["n_ho_success"] = ho_ok
    out["ho_success_rate"] = ho_ok / ho_att if ho_att else None
    return out


def _col(df: pd.DataFrame, name: str) -> np.ndarray:
    if name not in df.columns:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
