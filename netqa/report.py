"""The campaign report: one self-contained HTML file from a run folder.

:func:`write_report` reads what a run folder holds (``netqa run`` / ``netqa
demo`` write it) and lays it out for a reader who was not there:

1. the run -- project, status, times, netqa and library versions, each stage
   with its status and time (from ``manifest.json``);
2. the inputs with their sizes and SHA-256, and the parameters used;
3. coverage maps -- every PNG in the folder, embedded;
4. KPIs -- every JSON holding the KPI keys of DESIGN.md (one object, or one per
   region), with counts and the coverage-rate interval;
5. predicted vs measured -- every ``stats.json`` (mean error, std, RMSE,
   correlation, overall and per cell);
6. calibration -- every TOML written by ``netqa calibrate``;
7. scorecard -- every ``scores*.csv``, ranked.

Files are recognised by content and name, so the report works on a partial run
(sections with nothing to show say so).  The page has no script and a
Content-Security-Policy that forbids any network fetch; every string read from
the folder is HTML-escaped.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import logging
import math
import tomllib
from pathlib import Path

import pandas as pd

from netqa import __version__
from netqa.errors import InputError
from netqa.fileio import atomic_path, check_output

log = logging.getLogger(__name__)

__all__ = ["write_report"]

_E = html.escape
_KPI_ROWS = (
    "n_samples", "coverage_rate", "coverage_rate_ci", "rsrp_dbm_mean", "rsrp_dbm_p5", "rsrp_dbm_p50", "rsrp_dbm_p95",
    "sinr_db_mean", "sinr_db_p5", "sinr_db_p50", "sinr_db_p95", "rsrq_db_mean", "dl_mbps_mean", "dl_mbps_p10",
    "dl_mbps_p50", "dl_mbps_p90", "ul_mbps_mean", "n_calls", "n_drops", "drop_rate", "n_ho_attempts",
    "n_ho_success", "ho_success_rate",
)
_STATS_KEYS = ("n", "mean_error_db", "std_error_db", "rmse_db", "correlation")
_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; color: #222; max-width: 1100px; margin: 0 auto; padding: 16px 24px; }
h1 { font-size: 22px; } h2 { font-size: 18px; border-bottom: 2px solid #1e3ca0; padding-bottom: 2px; margin-top: 28px; }
h3 { font-size: 15px; }
table { border-collapse: collapse; margin: 6px 0 14px; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f0f2f7; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 10px 0 20px; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { color: #555; font-size: 12px; } .empty { color: #888; font-style: italic; }
pre { background: #f6f6f6; padding: 8px; overflow-x: auto; font-size: 12px; }
.status-done { color: #1a7f37; } .status-failed { color: #b42318; } .muted { color: #777; }
"""


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return "—" if math.isnan(v) else f"{v:.4g}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def _table(header, rows, numeric_from: int = 1) -> str:
    head = "".join(f"<th>{_E(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(
            f"<td{' class=num' if i >= numeric_from and isinstance(c, int | float) else ''}>{_E(_fmt(c))}</td>"
            for i, c in enumerate(r)
        ) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _empty(what: str) -> str:
    return f"<p class='empty'>{_E(what)}</p>"


def _read_json(p: Path):
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        log.warning("%s: not readable JSON; left out of the report", p)
        return None


def _is_kpi(obj) -> bool:
    return isinstance(obj, dict) and "n_samples" in obj and "coverage_rate" in obj


def _section_run(manifest: dict | None, run_dir: Path) -> str:
    if manifest is None:
        return "<h2>Run</h2>" + _empty(f"no manifest.json in {run_dir.name}: inputs and parameters are unknown")
    status = str(manifest.get("status", "?"))
    rows = [
        ("project", manifest.get("project")), ("project file", manifest.get("project_file")),
        ("status", status), ("started (UTC)", manifest.get("started_utc")),
        ("finished (UTC)", manifest.get("finished_utc")), ("netqa", manifest.get("netqa_version")),
    ]
    out = ["<h2>Run</h2>", _table(("", "value"), rows)]
    stages = manifest.get("stages") or []
    if stages:
        out.append("<h3>Stages</h3>")
        out.append(_table(("stage", "status", "time [s]", "outputs", "message"), [
            (s.get("name"), s.get("status"), round(float(s.get("seconds", 0.0)), 2), ", ".join(s.get("outputs", [])),
             s.get("message", "")) for s in stages
        ]))
    versions = manifest.get("versions") or {}
    if versions:
        out.append("<h3>Software versions</h3>" + _table(("package", "version"), sorted(versions.items())))
    inputs = manifest.get("inputs") or []
    out.append("<h2>Inputs</h2>")
    out.append(_table(("file", "bytes", "SHA-256"), [
        (i.get("path"), i.get("bytes", i.get("size")), i.get("sha256")) for i in inputs
    ]) if inputs else _empty("no input files recorded"))
    params = manifest.get("parameters")
    if params:
        out.append("<h3>Parameters</h3><pre>" + _E(json.dumps(params, indent=2, ensure_ascii=False)) + "</pre>")
    return "".join(out)


def _section_maps(run_dir: Path) -> str:
    pngs = sorted(p for p in run_dir.rglob("*.png") if not p.name.startswith("."))
    out = ["<h2>Coverage maps and plots</h2>"]
    if not pngs:
        return out[0] + _empty("no maps in the run folder")
    for p in pngs:
        data = base64.b64encode(p.read_bytes()).decode("ascii")
        rel = p.relative_to(run_dir)
        out.append(f"<figure><img alt='{_E(str(rel))}' src='data:image/png;base64,{data}'>"
                   f"<figcaption>{_E(str(rel))}</figcaption></figure>")
    others = sorted(p.relative_to(run_dir) for ext in ("*.kmz", "*.html") for p in run_dir.rglob(ext))
    if others:
        out.append("<p>Also in the run folder (open beside this report): "
                   + ", ".join(f"<code>{_E(str(o))}</code>" for o in others) + "</p>")
    return "".join(out)


def _kpi_table(name: str, obj) -> str:
    if _is_kpi(obj):
        return f"<h3>{_E(name)}</h3>" + _table(("KPI", "value"), [(k, obj.get(k)) for k in _KPI_ROWS if k in obj])
    regions = {k: v for k, v in obj.items() if _is_kpi(v)}
    keys = [k for k in _KPI_ROWS if any(k in v for v in regions.values())]
    rows = [(rid, *(v.get(k) for k in keys)) for rid, v in regions.items()]
    return f"<h3>{_E(name)} — per region</h3>" + _table(("region", *keys), rows)


def _section_kpis(run_dir: Path) -> str:
    out = ["<h2>KPIs</h2>",
           "<p class='muted'>Coverage rate: share of samples with RSRP and SINR at or above the profile thresholds, "
           "with its Wilson 95 % interval; a rate with no denominator is shown as —.</p>"]
    found = False
    for p in sorted(run_dir.rglob("*.json")):
        if p.name == "manifest.json":
            continue
        obj = _read_json(p)
        if _is_kpi(obj) or (isinstance(obj, dict) and obj and any(_is_kpi(v) for v in obj.values())):
            out.append(_kpi_table(str(p.relative_to(run_dir)), obj))
            found = True
    return "".join(out) if found else out[0] + _empty("no KPI results in the run folder")


def _section_compare(run_dir: Path) -> str:
    out = ["<h2>Predicted vs measured</h2>",
           "<p class='muted'>Error = predicted − measured [dB].</p>"]
    found = False
    for p in sorted(run_dir.rglob("stats*.json")):
        obj = _read_json(p)
        if not isinstance(obj, dict) or "rmse_db" not in obj:
            continue
        found = True
        out.append(f"<h3>{_E(str(p.relative_to(run_dir)))}</h3>")
        out.append(_table(("group", *_STATS_KEYS), [("overall", *(obj.get(k) for k in _STATS_KEYS))]))
        for group in ("per_cell", "per_clutter", "per_distance_km"):
            sub = obj.get(group)
            if isinstance(sub, dict) and sub:
                out.append(f"<h3>{_E(group.replace('_', ' '))}</h3>")
                out.append(_table((group.removeprefix("per_"), *_STATS_KEYS), [
                    (k, *(v.get(s) if isinstance(v, dict) else None for s in _STATS_KEYS)) for k, v in sub.items()
                ]))
    return "".join(out) if found else out[0] + _empty("no comparison statistics in the run folder")


def _section_calibration(run_dir: Path) -> str:
    out = ["<h2>Calibration</h2>"]
    found = False
    for p in sorted(run_dir.rglob("*.toml")):
        text = p.read_text(encoding="utf-8", errors="replace")
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            continue
        found = True
        out.append(f"<h3>{_E(str(p.relative_to(run_dir)))}</h3><pre>{_E(text)}</pre>")
    return "".join(out) if found else out[0] + _empty("no calibration result in the run folder")


def _section_scores(run_dir: Path) -> str:
    out = ["<h2>Regional scorecard</h2>"]
    found = False
    for p in sorted(run_dir.rglob("scores*.csv")):
        try:
            df = pd.read_csv(p)
        except (OSError, ValueError, pd.errors.ParserError):
            log.warning("%s: not readable CSV; left out of the report", p)
            continue
        found = True
        for key, asc in (("rank", True), ("score", False)):
            if key in df.columns:
                df = df.sort_values(key, ascending=asc)
                break
        df = df.drop(columns=[c for c in ("geometry", "wkt") if c in df.columns])
        rows = [tuple(None if (isinstance(v, float) and math.isnan(v)) else v for v in r)
                for r in df.itertuples(index=False)]
        out.append(f"<h3>{_E(str(p.relative_to(run_dir)))} ({len(df)} regions)</h3>")
        out.append(_table(list(df.columns), rows))
    return "".join(out) if found else out[0] + _empty("no scorecard in the run folder")


def write_report(run_dir, out, *, overwrite: bool = False, title: str | None = None) -> Path:
    """Write the campaign report of ``run_dir`` as one self-contained HTML file.

    Parameters
    ----------
    run_dir : path
        Run folder (``netqa run`` / ``netqa demo``).
    out : path
        Output ``.html``; refused when it exists unless ``overwrite``.
    title : str, optional
        Page title (default: the project name).

    Raises
    ------
    netqa.errors.InputError
        ``run_dir`` is not a folder.
    """
    root = Path(run_dir)
    if not root.is_dir():
        raise InputError(f"{root}: run folder not found (give the folder written by netqa run or netqa demo)")
    target = check_output(out, overwrite)
    manifest_path = root / "manifest.json"
    manifest = _read_json(manifest_path) if manifest_path.is_file() else None
    name = title or (manifest or {}).get("project") or root.name
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    body = "".join((
        _section_run(manifest, root), _section_maps(root), _section_kpis(root), _section_compare(root),
        _section_calibration(root), _section_scores(root),
    ))
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>{_E(str(name))} — netqa campaign report</title>
<style>{_CSS}</style>
</head>
<body>
<h1>{_E(str(name))} — campaign report</h1>
<p class="muted">Written by netqa {_E(__version__)} on {_E(now)} from the run folder <code>{_E(root.name)}</code>.</p>
{body}
</body>
</html>
"""
    with atomic_path(target) as tmp:
        tmp.write_text(page, encoding="utf-8")
    log.info("wrote %s (%.0f kB)", target, len(page) / 1024)
    return target
