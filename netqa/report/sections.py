"""The report's sections on coverage maps, KPIs (with the worst cells), the scorecard, other figures and provenance.

The summary is in :mod:`netqa.report.summary`; the comparison and calibration sections in
:mod:`netqa.report.model_sections`.
"""

from __future__ import annotations

import json
from pathlib import Path

from netqa.report.html import _ci, _E, _empty, _img, _missing, _num, _pct, _Raw, _table, _wilson
from netqa.report.run_folder import _region_label, _Run, _score_cols


def _section_maps(run: _Run, target: Path) -> str:
    out = ["<h2 id='maps'>Coverage maps</h2>"]
    order = {"rsrp_dbm.png": 0, "sinr_db.png": 1, "dl_mbps.png": 2}
    maps = sorted((p for p in run.pngs if "maps" in p.relative_to(run.root).parts),
                  key=lambda p: (order.get(p.name, 9), p.name))
    if not maps:
        out.append(_empty("no coverage maps in the run folder"))
    else:
        out.append("<p class='muted'>Predicted coverage in the field's classes; measured samples are drawn as "
                   "black-edged dots over the prediction, sites as triangles with their sectors, regions as dashed outlines with their score and grade.</p>")
        out.append(_img(maps[0], run.root))
        for i in range(1, len(maps), 2):
            out.append(f"<div class='pair'>{''.join(_img(p, run.root) for p in maps[i:i + 2])}</div>")
    others = sorted(p.relative_to(run.root) for ext in ("*.kmz", "*.html") for p in run.root.rglob(ext)
                    if p.resolve() != target.resolve())
    if others:
        out.append("<p>Open beside this report (Google Earth, a browser): "
                   + ", ".join(f"<code>{_E(str(o))}</code>" for o in others) + "</p>")
    return "".join(out)


def _rate_row(label, rate, k, n, ci=None):
    ci = ci if ci is not None else _wilson(k, n)
    counts = f"{k} of {n}" if not _missing(n) else "—"
    return (label, _pct(rate), counts, _ci(ci) or "—")


def _section_kpis(run: _Run) -> str:
    out = ["<h2 id='kpis'>KPIs</h2>"]
    k = run.kpi
    if not k and not run.kpi_regions:
        return out[0] + _empty("no KPI results in the run folder")
    profile = (k or {}).get("profile") or {}
    if profile:
        out.append(f"<p class='muted'>Profile {_E(str(profile.get('name', '?')))}: a sample is covered when RSRP ≥ "
                   f"{_E(_num(profile.get('rsrp_dbm_min'), 0))} dBm and SINR ≥ {_E(_num(profile.get('sinr_db_min'), 0))} dB. "
                   "Intervals are Wilson 95 %; dBm means are linear-domain; a rate with no denominator is —.</p>")
    if k:
        rows = [
            _rate_row("coverage rate", k.get("coverage_rate"), k.get("n_covered", "?"),
                      k.get("n_coverage_samples", k.get("n_samples")), k.get("coverage_rate_ci")),
            _rate_row("call drop rate", k.get("drop_rate"), k.get("n_drops"), k.get("n_calls")),
            _rate_row("handover success rate", k.get("ho_success_rate"), k.get("n_ho_success"), k.get("n_ho_attempts")),
        ]
        out.append("<h3>Rates (all measurements)</h3>" + _table(("KPI", "value", "counts", "95 % interval"), rows))
        dist = []
        for q, unit, ps in (("rsrp_dbm", "dBm", ("mean", "p5", "p50", "p95")), ("sinr_db", "dB", ("mean", "p5", "p50", "p95")),
                            ("rsrq_db", "dB", ("mean", "p5", "p50", "p95")), ("dl_mbps", "Mbps", ("mean", "p10", "p50", "p90")),
                            ("ul_mbps", "Mbps", ("mean", "p10", "p50", "p90"))):
            if any(f"{q}_{p}" in k for p in ps):
                n = k.get(f"n_{q.split('_')[0]}_samples", k.get("n_samples"))
                dist.append((f"{q} [{unit}]", n, *(_num(k.get(f"{q}_{p}"), 1) for p in ps)))
        if dist:
            out.append("<h3>Signal and throughput (all measurements)</h3>"
                       + _table(("quantity", "samples", "mean", "p5 / p10", "p50", "p95 / p90"), dist))
    if run.kpi_regions:
        sc = run.best_scores
        pred = {}
        if sc is not None and "coverage_rate_predicted" in sc.columns:
            pred = dict(zip(sc["region_id"].astype(str), sc["coverage_rate_predicted"]))
        rows = []
        for rid, v in run.kpi_regions.items():
            drop_ci = _wilson(v.get("n_drops"), v.get("n_calls"))
            ho_ci = _wilson(v.get("n_ho_success"), v.get("n_ho_attempts"))
            rows.append((
                _region_label(sc, rid), v.get("n_samples"),
                _pct(v.get("coverage_rate")), _ci(v.get("coverage_rate_ci")) or "—", _pct(pred.get(rid)),
                _num(v.get("rsrp_dbm_p50")), _num(v.get("sinr_db_p50")), _num(v.get("dl_mbps_mean")),
                _num(v.get("dl_mbps_p10")),
                f"{_pct(v.get('drop_rate'))} ({v.get('n_drops', '—')}/{v.get('n_calls', '—')})", _ci(drop_ci) or "—",
                f"{_pct(v.get('ho_success_rate'))} ({v.get('n_ho_success', '—')}/{v.get('n_ho_attempts', '—')})",
                _ci(ho_ci) or "—",
            ))
        out.append("<h3>Per region</h3>" + _table(
            ("region", "samples", "coverage", "95 % CI", "predicted coverage", "RSRP p50 [dBm]", "SINR p50 [dB]",
             "DL mean [Mbps]", "DL p10 [Mbps]", "drop rate (drops/calls)", "95 % CI", "HO success (ok/attempts)",
             "95 % CI"), rows))
    out.append(f"<p class='muted'>From <code>{_E(str(run.kpi_path.relative_to(run.root)))}</code>.</p>")
    out.append(_worst_cells(run))
    return "".join(out)


def _worst_cells(run: _Run, n: int = 10, min_samples: int = 30) -> str:
    """The cells with the lowest measured coverage (netqa kpi --per-cell), with enough samples to rank."""
    if run.cells is None:
        return ""
    from netqa.kpi_cells import worst_cells

    def count(v) -> str:
        return "—" if _missing(v) else f"{int(v)}"

    path, table = run.cells
    worst = worst_cells(table, n=n, min_samples=min_samples)
    if worst.empty:
        return "<h3>Worst cells</h3>" + _empty(f"no serving cell has {min_samples} samples or more")
    rows = [(
        str(r["cell_id"]), count(r["n_samples"]), _pct(r["coverage_rate"]),
        _ci([r.get("coverage_rate_ci_low"), r.get("coverage_rate_ci_high")]) or "—",
        _num(r.get("rsrp_dbm_mean_lin")), _num(r.get("rsrp_dbm_p5")), _num(r.get("sinr_db_p50")),
        f"{_pct(r.get('drop_rate'))} ({count(r.get('n_drops'))}/{count(r.get('n_calls'))})",
        f"{_pct(r.get('ho_success_rate'))} ({count(r.get('n_ho_success'))}/{count(r.get('n_ho_attempts'))})",
        _num(r.get("dl_mbps_p50")),
    ) for _, r in worst.iterrows()]
    return ("<h3>Worst cells</h3><p class='muted'>Serving cells with the lowest measured coverage rate among the "
            f"{int((table['n_samples'] >= min_samples).sum())} cells with at least {min_samples} samples (ties: higher "
            "drop rate first); RSRP mean in the linear domain.</p>"
            + _table(("cell", "samples", "coverage", "95 % CI", "RSRP mean [dBm]", "RSRP p5 [dBm]", "SINR p50 [dB]",
                      "drop rate (drops/calls)", "HO success (ok/attempts)", "DL p50 [Mbps]"), rows)
            + f"<p class='muted'>From <code>{_E(str(path.relative_to(run.root)))}</code>; all cells there.</p>")


def _grade_cell(score, grade) -> _Raw:
    g = "" if _missing(grade) else str(grade)
    txt = "—" if _missing(score) else f"{float(score):.0f}{' ' + g if g else ''}"
    cls = f"num g-{_E(g[:1])}" if g[:1].isalpha() else "num"
    return _Raw(f"<td class='{cls}'>{_E(txt)}</td>")


def _section_scores(run: _Run) -> str:
    out = ["<h2 id='scores'>Regional scorecard</h2>"]
    if not run.scores:
        return out[0] + _empty("no scorecard in the run folder")
    for path, df in run.scores:
        rel = str(path.relative_to(run.root))
        score, grade = _score_cols(df)
        dims = [c.removeprefix("score_") for c in df.columns if c.startswith("score_") and c != "score_overall"]
        scheme = f" (scheme {df['scheme'].dropna().iloc[0]})" if "scheme" in df.columns and df["scheme"].notna().any() else ""
        out.append(f"<p class='muted'>{len(df)} regions from <code>{_E(rel)}</code>{_E(scheme)}, ranked by the "
                   "overall score (0–100, higher is better); each dimension's grade is coloured.</p>")
        if score is None:
            view = df.drop(columns=[c for c in ("geometry", "wkt", "geometry_wkt") if c in df.columns])
            out.append(_table(list(view.columns), [tuple(None if _missing(v) else v for v in r)
                                                  for r in view.itertuples(index=False)]))
            continue
        ident = [c for c in ("rank", "region_id", "name", "area_type", "n_samples") if c in df.columns]
        rows = []
        for _, r in df.iterrows():
            row = [None if _missing(r[c]) else r[c] for c in ident]
            row.append(_grade_cell(r[score], r[grade] if grade else None))
            row += [_grade_cell(r.get(f"score_{d}"), r.get(f"grade_{d}")) for d in dims]
            rows.append(row)
        out.append(_table((*ident, "overall", *dims), rows, numeric_from=len(ident)))
        bdims = [d for d in dims if f"basis_{d}" in df.columns]
        if bdims and "region_id" in df.columns:
            rows = [(_region_label(df, r["region_id"]),
                     *(_Raw(f"<td class='basis'>{_E(str(r[f'basis_{d}']) if not _missing(r[f'basis_{d}']) else '—')}</td>")
                       for d in bdims)) for _, r in df.iterrows()]
            out.append("<h3>What each score was computed from</h3><p class='muted'>Indicators each dimension used, "
                       "and those left out with the reason (a dimension is scored from the indicators it has).</p>"
                       + _table(("region", *bdims), rows))
    for p in run.pngs:
        if p.name.startswith("scores"):
            out.append(_img(p, run.root))
    return "".join(out)


def _section_other_figures(run: _Run, shown: set) -> str:
    rest = [p for p in run.pngs if p not in shown]
    if not rest:
        return ""
    return ("<details><summary>Other figures in the run folder</summary>"
            + "".join(_img(p, run.root) for p in rest) + "</details>")


def _section_provenance(run: _Run) -> str:
    m = run.manifest
    out = ["<h2 id='provenance'>Provenance</h2>"]
    if m is None:
        return out[0] + _empty(f"no manifest.json in {run.root.name}: inputs and parameters are unknown")
    out.append("<details><summary>Run, stages, inputs with SHA-256, parameters and software versions</summary>")
    status = str(m.get("status", "?"))
    if status == "running":
        status = "running when this report was written (the report is the last stage; see manifest.json)"
    out.append(_table(("", "value"), [
        ("project", m.get("project")), ("project file", m.get("project_file")), ("status", status),
        ("started (UTC)", m.get("started_utc")), ("manifest written (UTC)", m.get("finished_utc")),
        ("netqa", m.get("netqa_version")),
    ]))
    stages = m.get("stages") or []
    if stages:
        out.append("<h3>Stages</h3>" + _table(("stage", "status", "time [s]", "outputs", "message"), [
            (s.get("name"), s.get("status"), round(float(s.get("seconds", 0.0)), 2), ", ".join(s.get("outputs", [])),
             s.get("message", "")) for s in stages
        ], numeric_from=2))
    inputs = m.get("inputs") or []
    out.append("<h3>Inputs</h3>" + (_table(("file", "bytes", "SHA-256"), [
        (i.get("path"), i.get("bytes", i.get("size")), i.get("sha256")) for i in inputs
    ]) if inputs else _empty("no input files recorded")))
    params = m.get("parameters")
    if params:
        out.append("<h3>Parameters</h3><pre>" + _E(json.dumps(params, indent=2, ensure_ascii=False)) + "</pre>")
    versions = m.get("versions") or {}
    if versions:
        out.append("<h3>Software versions</h3>" + _table(("package", "version"), sorted(versions.items())))
    out.append("</details>")
    return "".join(out)
