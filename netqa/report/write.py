"""Assembling the campaign report page from its sections and writing it atomically."""

from __future__ import annotations

import datetime as _dt
import logging
from pathlib import Path

from netqa import __version__
from netqa.errors import InputError
from netqa.fileio import atomic_path, check_output
from netqa.report.html import _CSS, _E
from netqa.report.run_folder import _collect
from netqa.report.model_sections import _section_calibration, _section_compare, profile_pngs
from netqa.report.sections import (
    _section_kpis,
    _section_maps,
    _section_other_figures,
    _section_provenance,
    _section_scores,
)
from netqa.report.summary import _stage_line, _summary

log = logging.getLogger("netqa.report")


def _section_audit(root: Path) -> str:
    """The antenna audits found in the run folder (``audit/*_audit.csv`` + ``.json``, issue 12), else nothing."""
    import json

    import pandas as pd

    from netqa.calibrate.audit_report import audit_section_html

    parts = []
    for csv in sorted((root / "audit").glob("*_audit.csv")) if (root / "audit").is_dir() else []:
        js = csv.with_suffix(".json")
        if js.is_file():
            table = pd.read_csv(csv, dtype={"cell_id": str, "site_id": str, "swapped_with": str})
            parts.append(audit_section_html(table, json.loads(js.read_text()), title=f"Antenna audit ({csv.stem})"))
    return "".join(parts)

__all__ = ["write_report"]


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
    run = _collect(root)
    name = title or (run.manifest or {}).get("project") or root.name
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    summary, cards = _summary(run)
    card_html = "".join(
        f"<div class='card'><div class='k'>{_E(k)}</div><div class='v'>{v}</div><div class='d'>{_E(d or '')}</div></div>"
        for k, v, d in cards
    )
    shown = {p for p in run.pngs if "maps" in p.relative_to(root).parts or p.name.startswith("scores")}
    shown |= {p for _, sp, _ in run.stats for p in run.pngs if p.parent == sp.parent}
    shown |= profile_pngs(run)
    body = "".join((
        _section_maps(run, target), _section_kpis(run), _section_compare(run), _section_calibration(run),
        _section_scores(run), _section_audit(root), _section_other_figures(run, shown), _section_provenance(run),
    ))
    started = (run.manifest or {}).get("started_utc")
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
<h1>{_E(str(name))}</h1>
<p class="sub">Campaign report · run started {_E(str(started or '—'))} · written {_E(now)} by netqa {_E(__version__)} from the run folder <code>{_E(root.name)}</code></p>
{_stage_line(run.manifest)}
<nav><a href="#summary">Summary</a><a href="#maps">Maps</a><a href="#kpis">KPIs</a><a href="#compare">Predicted vs measured</a><a href="#calibration">Calibration</a><a href="#scores">Scorecard</a><a href="#provenance">Provenance</a></nav>
<h2 id="summary">Summary</h2>
<p class="summary">{summary}</p>
<div class="cards">{card_html}</div>
{body}
</body>
</html>
"""
    with atomic_path(target) as tmp:
        tmp.write_text(page, encoding="utf-8")
    log.info("wrote %s (%.0f kB)", target, len(page) / 1024)
    return target
