"""The report's summary paragraph, key-figure cards and sections, each a function of the collected run folder."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import pandas as pd

from netqa.report.html import (
    _COMPARE_PLOTS,
    _E,
    _ci,
    _empty,
    _img,
    _missing,
    _num,
    _pct,
    _Raw,
    _table,
    _wilson,
)
from netqa.report.run_folder import (
    _Run,
)

log = logging.getLogger(__name__)


# --- summary ------------------------------------------------------------------------------------


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


def _summary(run: _Run) -> tuple[str, list[tuple[str, str, str]]]:
    """The executive-summary paragraph (escaped HTML) and the key-figure cards ``(label, value, detail)``."""
    parts, cards = [], []
    k = run.kpi
    if k:
        profile = k.get("profile") or {}
        thr = ""
        if "rsrp_dbm_min" in profile:
            thr = f" (RSRP ≥ {_num(profile['rsrp_dbm_min'], 0)} dBm and SINR ≥ {_num(profile.get('sinr_db_min'), 0)} dB)"
        ci = _ci(k.get("coverage_rate_ci"))
        parts.append(
            f"Over {k.get('n_samples', 0):,} measured samples, the coverage rate{thr} was "
            f"<b>{_pct(k.get('coverage_rate'))}</b>{f' (95 % interval {ci})' if ci else ''}."
        )
        cards.append(("measured coverage", _pct(k.get("coverage_rate")), ci and f"95 % CI {ci}"))
        tail = []
        if not _missing(k.get("drop_rate")):
            tail.append(f"the call drop rate was {_pct(k['drop_rate'])} ({k.get('n_drops')} of {k.get('n_calls')} calls)")
            cards.append(("call drop rate", _pct(k["drop_rate"]), f"{k.get('n_drops')} of {k.get('n_calls')} calls"))
        if not _missing(k.get("ho_success_rate")):
            tail.append(f"handover success {_pct(k['ho_success_rate'])} "
                        f"({k.get('n_ho_success')} of {k.get('n_ho_attempts')})")
            cards.append(("handover success", _pct(k["ho_success_rate"]),
                          f"{k.get('n_ho_success')} of {k.get('n_ho_attempts')} attempts"))
        if not _missing(k.get("dl_mbps_p50")):
            tail.append(f"median DL throughput {_num(k['dl_mbps_p50'], 1, 'Mbps')}")
            cards.append(("median DL", _num(k["dl_mbps_p50"], 1, "Mbps"),
                          f"p10 {_num(k.get('dl_mbps_p10'), 1)} · p90 {_num(k.get('dl_mbps_p90'), 1)}"))
        if tail:
            sentence = ", ".join(tail[:-1]) + (" and " if len(tail) > 1 else "") + tail[-1]
            parts.append(_E(sentence[0].upper() + sentence[1:] + "."))
    if run.predicted:
        pr = run.predicted
        model = ""
        if pr.get("model"):  # the model that drew the coverage (its GeoTIFF tags), not the compare stage's
            model = f" with the {pr['model']} model"
        area = f" of {pr['area_km2']:.0f} km²" if math.isfinite(pr["area_km2"]) else ""
        parts.append(f"The prediction{_E(model)} covers <b>{_pct(pr['rate'])}</b> of the mapped area{area}.")
        cards.append(("predicted coverage", _pct(pr["rate"]), f"of the mapped area{area}"))
    if run.stats:
        first = run.stats[0][2]
        s = (f"Predicted minus measured RSRP had a mean of {_num(first.get('mean_error_db'), 1, 'dB')} and "
             f"σ {_num(first.get('std_error_db'), 1, 'dB')} with the {_model_name(first)} model")
        tuned = [x for x in run.stats if x[0] == "tuned model"]
        if tuned:
            t = tuned[0][2]
            s += (f"; calibration brought it to mean {_num(t.get('mean_error_db'), 1, 'dB')}, "
                  f"σ {_num(t.get('std_error_db'), 1, 'dB')}")
            cards.append(("model error after tuning", f"σ {_num(t.get('std_error_db'), 1, 'dB')}",
                          f"mean {_num(t.get('mean_error_db'), 1, 'dB')} (before: {_num(first.get('mean_error_db'), 1)})"))
        hold = _holdout(run.models[0][2]) if run.models else None
        if hold:
            s += f" (σ {_num(hold.get('std_error_db'), 1, 'dB')} on drives held out of the fit)"
        parts.append(_E(s + "."))
    df = run.best_scores
    if df is not None and len(df):
        score, grade = _score_cols(df)
        if score:
            ok = df[df[score].notna()]
            if len(ok):
                best, worst = ok.loc[ok[score].idxmax()], ok.loc[ok[score].idxmin()]

                def one(r):
                    g = f", grade {r[grade]}" if grade and not _missing(r[grade]) else ""
                    return f"{_region_label(df, r['region_id']) if 'region_id' in r else '?'} (score {r[score]:.0f}{g})"

                parts.append(_E(f"Of {len(ok)} regions scored, the best is {one(best)} and the worst {one(worst)}."))
                cards.append(("best region", _E(str(best.get("name", best.get("region_id", "?")))),
                              f"score {best[score]:.0f}" + (f" · {best[grade]}" if grade else "")))
                cards.append(("worst region", _E(str(worst.get("name", worst.get("region_id", "?")))),
                              f"score {worst[score]:.0f}" + (f" · {worst[grade]}" if grade else "")))
    text = " ".join(parts) or _E("The run folder holds no KPI, comparison or scorecard results yet.")
    return text, cards


# --- sections -----------------------------------------------------------------------------------


def _stage_line(manifest: dict | None) -> str:
    if manifest is None:
        return "<p class='sub'>No manifest.json in the run folder: inputs and parameters are unknown.</p>"
    stages = manifest.get("stages") or []
    chips = " · ".join(
        f"{_E(str(s.get('name')))} <span class='st-{_E(str(s.get('status', '?')).split()[0])}'>"
        f"{_E(str(s.get('status')))}</span>" for s in stages
    )
    status = str(manifest.get("status", "?"))
    if status == "running":
        note = "report written before the run finished (the report is its last stage); see manifest.json for the final status"
    else:
        note = f"run {status}"
    return f"<p class='sub'>Stages: {chips or '—'} — {_E(note)}.</p>"


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


def _group(obj: dict, name: str):
    sub = obj.get(name)
    if not isinstance(sub, dict):
        sub = (obj.get("rsrp") or {}).get(name)
    return sub if isinstance(sub, dict) else {}


def _compare_group_table(run: _Run, name: str) -> str:
    keys = []
    for _, _, obj in run.stats:
        keys += [k for k in _group(obj, name) if k not in keys]
    if not keys:
        return ""
    header = [name.removeprefix("per_").replace("_", " ")]
    for label, _, _ in run.stats:
        header += [f"n ({label})", f"mean [dB] ({label})", f"σ [dB] ({label})"]
    sc = run.best_scores if name == "per_region" else None
    rows = []
    for key in keys:
        row = [_region_label(sc, key) if sc is not None else key]
        for _, _, obj in run.stats:
            v = _group(obj, name).get(key) or {}
            row += [v.get("n"), _num(v.get("mean_error_db"), 2), _num(v.get("std_error_db"), 2)]
        rows.append(row)
    return _table(header, rows)


def _section_compare(run: _Run) -> str:
    out = ["<h2 id='compare'>Predicted vs measured</h2>"]
    if not run.stats:
        return out[0] + _empty("no comparison statistics in the run folder")
    out.append("<p class='muted'>Error = predicted − measured RSRP at each sample's serving cell [dB]; a negative "
               "mean means the model is pessimistic.</p>")
    labels = [f"{label}: {_model_name(obj)}" for label, _, obj in run.stats]
    rows = []
    for key, what, digits in (("n", "samples compared", 0), ("mean_error_db", "mean error [dB]", 2),
                              ("std_error_db", "σ [dB]", 2), ("rmse_db", "RMSE [dB]", 2),
                              ("correlation", "correlation", 3)):
        rows.append((what, *(obj.get(key) if key == "n" else _num(obj.get(key), digits) for _, _, obj in run.stats)))
    extra = (
        ("rsrp_best_server", "mean_error_db", "best-server RSRP mean error [dB]", 2),
        ("rsrp_best_server", "std_error_db", "best-server RSRP σ [dB]", 2),
        ("dl_mbps", "mean_error_mbps", "DL throughput mean error [Mbps]", 2),
        ("dl_mbps", "rmse_mbps", "DL throughput RMSE [Mbps]", 2),
        ("drop_rate", "drop_rate_predicted", "drop rate predicted (measured {m})", None),
        ("ho_failure", "ho_failure_rate_predicted", "HO failure predicted (measured {m})", None),
    )
    for grp, key, what, digits in extra:
        vals = [(obj.get(grp) or {}).get(key) for _, _, obj in run.stats]
        if all(_missing(v) for v in vals):
            continue
        if digits is None:
            measured = (run.stats[0][2].get(grp) or {}).get(key.replace("predicted", "measured"))
            rows.append((what.format(m=_pct(measured)), *(_pct(v) for v in vals)))
        else:
            rows.append((what, *(_num(v, digits) for v in vals)))
    out.append(_table(("statistic", *labels), rows))
    # plots: the same figure of each comparison side by side
    by_dir = [sorted(p for p in run.pngs if p.parent == path.parent) for _, path, _ in run.stats]
    names = [n for n in _COMPARE_PLOTS if any(p.name == n for ps in by_dir for p in ps)]
    names += sorted({p.name for ps in by_dir for p in ps} - set(names))
    blocks = []
    for n in names:
        figs = [_img(p, run.root, f"{lab} — {p.relative_to(run.root)}")
                for lab, ps in zip(labels, by_dir) for p in ps if p.name == n]
        blocks.append(f"<div class='pair'>{''.join(figs)}</div>" if len(figs) > 1 else "".join(figs))
    out.extend(blocks[:3])
    if blocks[3:]:
        out.append("<details><summary>More comparison plots (CDFs, per cell, throughput)</summary>"
                   + "".join(blocks[3:]) + "</details>")
    out.append(_compare_profiles(run))
    for grp, title, open_ in (("per_region", "Error per region", True), ("per_distance_km", "Error per distance bin [km]", True),
                              ("per_clutter", "Error per clutter class", False), ("per_cell", "Error per cell", False)):
        t = _compare_group_table(run, grp)
        if t:
            out.append(f"<h3>{_E(title)}</h3>{t}" if open_ else f"<details><summary>{_E(title)}</summary>{t}</details>")
    return "".join(out)


def profile_pngs(run: _Run) -> set:
    """The path-profile pictures of the worst-predicted samples (``profiles/`` beside a ``stats.json``)."""
    dirs = {path.parent / "profiles" for _, path, _ in run.stats}
    return {p for p in run.pngs if p.parent in dirs}


def _compare_profiles(run: _Run) -> str:
    """The worst-predicted samples with their path profiles (``netqa link``), from ``profiles/index.json``."""
    import json

    blocks = []
    for label, path, obj in run.stats:
        index = path.parent / "profiles" / "index.json"
        try:
            entries = json.loads(index.read_text(encoding="utf-8")).get("profiles") or []
        except (OSError, ValueError, AttributeError):
            continue
        rows, figs = [], []
        for e in entries:
            png = index.parent / str(e.get("png", ""))
            rows.append((e.get("rank"), e.get("cell_id"), _num(e.get("dist_km"), 2), _num(e.get("rsrp_measured_dbm"), 1),
                         _num(e.get("rsrp_predicted_dbm"), 1), _num(e.get("error_db"), 1),
                         "yes" if e.get("line_of_sight") else "no", _num(e.get("principal_obstacle_v"), 2)))  # fmt: skip
            if png.is_file() and png in run.pngs:
                figs.append(_img(png, run.root, f"#{e.get('rank')}: cell {e.get('cell_id')}, error "
                                                f"{_num(e.get('error_db'), 1)} dB — {png.relative_to(run.root)}"))  # fmt: skip
        if rows:
            blocks.append(f"<h4>{_E(label)}: {_E(_model_name(obj))}</h4>" + _table(
                ("#", "cell", "distance [km]", "measured [dBm]", "predicted [dBm]", "error [dB]", "line of sight",
                 "principal obstacle v"), rows) + "".join(figs))  # fmt: skip
    if not blocks:
        return ""
    return ("<details><summary>Worst-predicted samples and their path profiles (netqa link)</summary>"
            "<p class='muted'>One sample per serving cell, largest |error| first; each profile shows the terrain "
            "with the earth bulge, clutter heights, the direct ray, the first Fresnel zone and the dominant "
            "obstacles with their diffraction parameter v, and the losses of every model.</p>"
            + "".join(blocks) + "</details>")


def _section_calibration(run: _Run) -> str:
    out = ["<h2 id='calibration'>Calibration</h2>"]
    if not run.models:
        return out[0] + _empty("no calibration result in the run folder")
    for path, text, d in run.models:
        rel = str(path.relative_to(run.root))
        cal = d.get("calibration") or {}
        models = [("global (fallback)", d.get("spm") or {}, cal)]
        for key, m in (d.get("band") or {}).items():
            models.append((f"band {key}", m, (cal.get("band") or {}).get(key) or {}))
        rows = []
        for name, m, c in models:
            hold, prior = (c.get("holdout") or {}).get("tuned") or {}, (c.get("holdout") or {}).get("prior") or {}
            fit = (c.get("fit") or {}).get("samples") or {}
            rows.append((
                name, m.get("tech", ""), _num(m.get("freq_mhz"), 0), _num(m.get("k1"), 2), _num(m.get("k2"), 2),
                _num(m.get("k3"), 2), _num(m.get("f_ref_mhz"), 0), ", ".join(map(str, c.get("fitted", []))) or "—",
                fit.get("n", (c.get("fit") or {}).get("n_samples")), _num(fit.get("std_error_db"), 2),
                _num(hold.get("mean_error_db"), 2), _num(hold.get("std_error_db"), 2), _num(hold.get("rmse_db"), 2),
                _num(prior.get("mean_error_db"), 2), _num(prior.get("std_error_db"), 2),
            ))
        out.append(f"<h3>Standard Propagation Model — <code>{_E(rel)}</code></h3>")
        out.append("<p class='muted'>K1 is given at f_ref (shifted to the band's carrier by the frequency rule); "
                   "fit and held-out errors are predicted − measured; held-out = drives left out of the fit "
                   "(k-fold over sessions); prior = the untuned model on the same held-out drives.</p>")
        out.append(_table(("model", "tech", "carrier [MHz]", "K1 [dB]", "K2 [dB/dec]", "K3", "f_ref [MHz]", "fitted",
                           "fit samples", "fit σ [dB]", "held-out mean [dB]", "held-out σ [dB]",
                           "held-out RMSE [dB]", "prior held-out mean [dB]", "prior held-out σ [dB]"), rows))
        clutter = {name: (m.get("clutter_loss_db") or (d.get("clutter_loss_db") if name.startswith("global") else None))
                   for name, m, _ in models}
        classes = sorted({c for v in clutter.values() if v for c in v})
        if classes:
            out.append("<h3>Clutter loss [dB]</h3>" + _table(
                ("class", *clutter), [(c, *(_num((v or {}).get(c), 1) for v in clutter.values())) for c in classes]))
        n_cells, refused = len(d.get("cells") or {}), cal.get("cells_refused") or {}
        if n_cells or refused:
            out.append(f"<p>{n_cells} cells carry their own K1/K2; {len(refused)} were left on the band model "
                       "(too few bins).</p>")
        why = [(name, p, r) for name, _, c in models for p, r in (c.get("refused") or {}).items()]
        if why:
            out.append("<details><summary>Parameters not fitted, and why</summary>"
                       + _table(("model", "parameter", "reason"), why) + "</details>")
        out.append(f"<details><summary>The model file as written</summary><pre>{_E(text)}</pre></details>")
    return "".join(out)


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
