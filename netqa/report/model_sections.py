"""The model sections of the report: predicted vs measured, and calibration.

Predicted vs measured: the statistics of each comparison side by side, their
plots, the error tables per region, distance, clutter class and cell, and the
worst-predicted samples with their path profiles.  Calibration: the tuned
model file's parameters, fit and held-out errors.
"""

from __future__ import annotations

from netqa.report.html import _COMPARE_PLOTS, _E, _empty, _img, _missing, _num, _pct, _table
from netqa.report.run_folder import _model_name, _region_label, _Run


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
