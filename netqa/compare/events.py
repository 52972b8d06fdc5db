r"""Drop rate and handover failure, predicted vs measured.

Both come from a logistic model fitted on the **measured** events and then
applied to the **predicted** radio conditions:

* call drop: a per-second hazard.  Positives are the measured SINR and RSRP at
  the moment of each ``call_drop`` (the nearest sample of the session within
  ``max_gap_s``); negatives are the samples during set-up calls (each sample
  one second of call time).  ``P(drop in this second | SINR, RSRP)``;
* handover failure: per handover attempt.  Positives are ``ho_failure``,
  negatives ``ho_success``, with the measured conditions at the event.

.. math:: p = 1 / (1 + \exp(-(b_0 + b_1\,\mathrm{SINR} + b_2\,(\mathrm{RSRP} + 100))))

fitted by maximum likelihood with a weak ridge (``ridge`` on b1, b2) so that a
handful of events gives a finite, conservative fit.  Applied along the route,
the predicted number of drops is the sum of the hazard over the call-time
samples evaluated at their predicted SINR/RSRP; over a region's area it is
``1 - (1 - h)^T`` at predicted best-server conditions on a point grid, T the
mean measured call duration.  Intervals: Wilson 95 % for the measured rate
(E. B. Wilson, JASA 22 (1927) 209-212); for the predicted rate the normal
interval of the Poisson-binomial count (sum of p(1-p)), which ignores the
uncertainty of the fitted coefficients.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd

from netqa.kpi import wilson_interval

log = logging.getLogger(__name__)

#: Fewest positive events to fit a model.
MIN_EVENTS = 3
RSRP_REF_DBM = -100.0


def fit_logistic(sinr_db, rsrp_dbm, outcome, *, ridge: float = 1.0) -> np.ndarray:
    """Maximum-likelihood logistic coefficients (b0, b1 per dB SINR, b2 per dB RSRP).

    >>> rng = np.random.default_rng(0)
    >>> s = rng.uniform(-15, 25, 4000)
    >>> y = rng.uniform(size=s.size) < 1 / (1 + np.exp(-(-2.0 - 0.3 * s)))
    >>> b = fit_logistic(s, np.full(s.size, -100.0), y, ridge=0.0)
    >>> bool(abs(b[1] + 0.3) < 0.05)
    True
    """
    from scipy.optimize import minimize

    s = np.asarray(sinr_db, np.float64)
    r = np.asarray(rsrp_dbm, np.float64) - RSRP_REF_DBM
    y = np.asarray(outcome, bool).astype(np.float64)
    x = np.column_stack([np.ones_like(s), s, r])

    def nll(b):
        z = x @ b
        val = np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * ridge * (b[1] ** 2 + b[2] ** 2)
        p = 1.0 / (1.0 + np.exp(-z))
        grad = x.T @ (p - y) + ridge * np.array([0.0, b[1], b[2]])
        return val, grad

    b0 = np.array([math.log(max(y.mean(), 1e-6) / max(1 - y.mean(), 1e-6)), 0.0, 0.0])
    res = minimize(nll, b0, jac=True, method="L-BFGS-B")
    return res.x


def logistic_prob(b, sinr_db, rsrp_dbm) -> np.ndarray:
    """Probability of the event at the given SINR [dB] and RSRP [dBm] (NaN where either is NaN)."""
    z = b[0] + b[1] * np.asarray(sinr_db, np.float64) + b[2] * (np.asarray(rsrp_dbm, np.float64) - RSRP_REF_DBM)
    return 1.0 / (1.0 + np.exp(-z))


def _times(v) -> pd.Series:
    return pd.to_datetime(pd.Series(v), utc=True, errors="coerce", format="mixed")


def nearest_sample(events: pd.DataFrame, samples: pd.DataFrame, max_gap_s: float = 2.0) -> np.ndarray:
    """Row index into ``samples`` of the nearest sample of the same session (-1 beyond ``max_gap_s``)."""
    ev = pd.DataFrame({"t": _times(events["time"]).to_numpy(), "session": events["session"].astype(str).to_numpy(),
                       "i": np.arange(len(events))})  # fmt: skip
    sm = pd.DataFrame({"t": _times(samples["time"]).to_numpy(), "session": samples["session"].astype(str).to_numpy(),
                       "j": np.arange(len(samples))})  # fmt: skip
    ev = ev.dropna(subset=["t"]).sort_values("t")
    sm = sm.dropna(subset=["t"]).sort_values("t")
    out = np.full(len(events), -1, np.int64)
    if ev.empty or sm.empty:
        return out
    m = pd.merge_asof(ev, sm, on="t", by="session", direction="nearest", tolerance=pd.Timedelta(seconds=max_gap_s))
    ok = m["j"].notna().to_numpy()
    out[m["i"].to_numpy()[ok]] = m["j"].to_numpy()[ok].astype(np.int64)
    return out


def setup_calls(events: pd.DataFrame) -> pd.DataFrame:
    """Successfully set-up calls: ``session``, ``t`` (attempt time) and ``end`` (end or drop time).

    An attempt followed by a ``call_setup_failure`` is not a set-up call (DESIGN.md: drop rate =
    drops / successfully set-up calls).
    """
    ev = events.assign(t=_times(events["time"]), session=events["session"].astype(str)).dropna(subset=["t"])
    ev = ev.sort_values(["session", "t"])
    starts = []
    for ses, g in ev.groupby("session", sort=False):
        start = None
        for kind, t in zip(g["event"].astype(str), g["t"]):
            if kind == "call_attempt":
                start = t
            elif kind in ("call_end", "call_drop") and start is not None:
                starts.append((ses, start, t))
                start = None
            elif kind == "call_setup_failure":
                start = None
    return pd.DataFrame(starts, columns=["session", "t", "end"])


def call_time_mask(events: pd.DataFrame, samples: pd.DataFrame) -> tuple[np.ndarray, int, float]:
    """Samples inside set-up calls, the number of set-up calls and their mean duration [s]."""
    calls = setup_calls(events).sort_values("t")
    mask = np.zeros(len(samples), bool)
    if calls.empty:
        return mask, 0, math.nan
    sm = pd.DataFrame({"t": _times(samples["time"]), "session": samples["session"].astype(str).to_numpy(),
                       "j": np.arange(len(samples))}).dropna(subset=["t"]).sort_values("t")  # fmt: skip
    m = pd.merge_asof(sm, calls, on="t", by="session", direction="backward")
    inside = (m["end"].notna() & (m["t"] <= m["end"])).to_numpy()
    mask[m["j"].to_numpy()[inside]] = True
    dur = (calls["end"] - calls["t"]).dt.total_seconds()
    return mask, len(calls), float(dur.mean())


def _pred_interval(p: np.ndarray, n: int) -> list | None:
    if n <= 0:
        return None
    mean = float(np.sum(p))
    sd = math.sqrt(float(np.sum(p * (1 - p))))
    return [round(max(mean - 1.96 * sd, 0.0) / n, 5), round(min(mean + 1.96 * sd, n) / n, 5)]


def _rate(k, n):
    return None if n == 0 else round(k / n, 5)


def compare_events(events: pd.DataFrame, samples: pd.DataFrame, meas_sinr, meas_rsrp, pred_sinr, pred_rsrp, *,
                   region=None, area=None) -> dict:  # fmt: skip
    """Drop-rate and handover-failure blocks of ``stats.json``.

    ``samples`` (with ``time``, ``session``) pair with the per-sample arrays;
    ``region`` labels each sample (or None); ``area`` maps region id ->
    (predicted SINR, predicted RSRP) at points over the region.
    """
    meas_sinr, meas_rsrp, pred_sinr, pred_rsrp = (np.asarray(a, np.float64) for a in (meas_sinr, meas_rsrp, pred_sinr, pred_rsrp))
    kind = events["event"].astype(str).to_numpy()
    out = {}
    # --- call drops -----------------------------------------------------------------------------------------
    in_call, n_calls, mean_dur = call_time_mask(events, samples)
    drops = events[kind == "call_drop"]
    j = nearest_sample(drops, samples)
    pos = j[(j >= 0)]
    pos = pos[np.isfinite(meas_sinr[pos]) & np.isfinite(meas_rsrp[pos])]
    neg = np.flatnonzero(in_call & np.isfinite(meas_sinr) & np.isfinite(meas_rsrp))
    n_drops = int((kind == "call_drop").sum())
    block = {"n_calls": n_calls, "n_drops_measured": n_drops, "drop_rate_measured": _rate(n_drops, n_calls),
             "drop_rate_measured_ci": wilson_interval(n_drops, n_calls) if n_calls else None,
             "model": "per-second hazard, logistic in SINR and RSRP at the drop vs call-time samples",
             "n_positive": int(pos.size), "n_call_seconds": int(neg.size)}  # fmt: skip
    if pos.size >= MIN_EVENTS and neg.size > 10 * pos.size:
        s = np.concatenate([meas_sinr[pos], meas_sinr[neg]])
        r = np.concatenate([meas_rsrp[pos], meas_rsrp[neg]])
        b = fit_logistic(s, r, np.r_[np.ones(pos.size), np.zeros(neg.size)])
        h = logistic_prob(b, pred_sinr[in_call], pred_rsrp[in_call])
        h = h[np.isfinite(h)]
        scale = neg.size / max(h.size, 1)  # call seconds without a prediction count at the mean hazard
        k_pred = float(np.sum(h)) * scale
        block.update({"coefficients": {"b0": round(b[0], 4), "b_sinr_per_db": round(b[1], 4),
                                       "b_rsrp_per_db": round(b[2], 4), "rsrp_ref_dbm": RSRP_REF_DBM},
                      "n_drops_predicted": round(k_pred, 2), "drop_rate_predicted": _rate(k_pred, n_calls),
                      "drop_rate_predicted_ci": _pred_interval(h * scale, n_calls) if n_calls else None})  # fmt: skip
        if region is not None:
            block["per_region"] = _per_region_drop(b, events, samples, kind, region, in_call, pred_sinr, pred_rsrp,
                                                   mean_dur, area)  # fmt: skip
    else:
        block["refused"] = (f"{pos.size} drops with measured SINR/RSRP (need >= {MIN_EVENTS}) and {neg.size} "
                            "call-time samples: too few to fit a drop model")  # fmt: skip
    out["drop_rate"] = block
    # --- handover failure ------------------------------------------------------------------------------------
    ho = events[np.isin(kind, ("ho_success", "ho_failure"))]
    j = nearest_sample(ho, samples)
    fail = ho["event"].astype(str).to_numpy() == "ho_failure"
    ok = (j >= 0)
    ok[ok] = np.isfinite(meas_sinr[j[ok]]) & np.isfinite(meas_rsrp[j[ok]])
    n_att = int((kind == "ho_attempt").sum()) or len(ho)
    n_fail = int(fail.sum())
    block = {"n_ho_attempts": n_att, "n_ho_failures_measured": n_fail,
             "ho_failure_rate_measured": _rate(n_fail, len(ho)),
             "ho_failure_rate_measured_ci": wilson_interval(n_fail, len(ho)) if len(ho) else None,
             "model": "logistic in SINR and RSRP at the handover outcome (failure vs success)"}  # fmt: skip
    if int((fail & ok).sum()) >= MIN_EVENTS and int((~fail & ok).sum()) >= MIN_EVENTS:
        b = fit_logistic(meas_sinr[j[ok]], meas_rsrp[j[ok]], fail[ok])
        p = logistic_prob(b, pred_sinr[j[ok]], pred_rsrp[j[ok]])
        p = p[np.isfinite(p)]
        n_used = p.size
        block.update({"coefficients": {"b0": round(b[0], 4), "b_sinr_per_db": round(b[1], 4),
                                       "b_rsrp_per_db": round(b[2], 4), "rsrp_ref_dbm": RSRP_REF_DBM},
                      "n_ho_failures_predicted": round(float(np.sum(p)) * len(ho) / max(n_used, 1), 2),
                      "ho_failure_rate_predicted": _rate(float(np.sum(p)), n_used),
                      "ho_failure_rate_predicted_ci": _pred_interval(p, n_used)})  # fmt: skip
        if area:
            block["per_region_area"] = {str(k): {"ho_failure_rate_predicted": _rate(float(np.nansum(logistic_prob(b, *v))),
                                                 int(np.isfinite(logistic_prob(b, *v)).sum()))}
                                        for k, v in area.items()}  # fmt: skip
    else:
        block["refused"] = f"{int((fail & ok).sum())} failures / {int((~fail & ok).sum())} successes with measured conditions: too few"
    out["ho_failure"] = block
    return out


def _per_region_drop(b, events, samples, kind, region, in_call, pred_sinr, pred_rsrp, mean_dur, area) -> dict:
    region = np.asarray(region, dtype=object)
    calls = setup_calls(events)  # the denominator: successfully set-up calls, as overall
    j = nearest_sample(calls.rename(columns={"t": "time"}), samples)
    att_region = np.where(j >= 0, region[np.maximum(j, 0)], None)
    drop_j = nearest_sample(events[kind == "call_drop"], samples)
    drop_region = np.where(drop_j >= 0, region[np.maximum(drop_j, 0)], None)
    out = {}
    labels = sorted({str(r) for r in region if r is not None and not (isinstance(r, float) and math.isnan(r))})
    for lab in labels:
        n_calls = int(np.sum(att_region.astype(str) == lab))
        k = int(np.sum(drop_region.astype(str) == lab))
        sel = in_call & (region.astype(str) == lab)
        h = logistic_prob(b, pred_sinr[sel], pred_rsrp[sel])
        h = h[np.isfinite(h)]
        e = {"n_calls": n_calls, "n_drops_measured": k, "drop_rate_measured": _rate(k, n_calls),
             "drop_rate_measured_ci": wilson_interval(k, n_calls) if n_calls else None,
             "call_seconds": int(sel.sum()), "drops_per_call_second_route": None if not h.size else round(float(h.mean()), 6)}  # fmt: skip
        if area and lab in area and math.isfinite(mean_dur):
            ha = logistic_prob(b, *area[lab])
            ha = ha[np.isfinite(ha)]
            if ha.size:
                e["drop_rate_predicted_area"] = round(float(np.mean(1.0 - (1.0 - ha) ** mean_dur)), 5)
                e["area_points"] = int(ha.size)
        out[lab] = e
    return out


__all__ = ["call_time_mask", "compare_events", "fit_logistic", "logistic_prob", "nearest_sample"]
