"""The report's top: the summary paragraph written from the data, the key-figure cards and the stage line."""

from __future__ import annotations

import math

from netqa.report.html import _ci, _E, _missing, _num, _pct
from netqa.report.run_folder import _holdout, _model_name, _region_label, _Run, _score_cols


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
