"""Measured KPIs of many groups of samples at once, by :mod:`netqa.kpi`'s definitions.

Scoring never re-defines a KPI: thresholds come from
:func:`netqa.kpi.load_profile` and every value equals what
:func:`netqa.kpi.compute_kpis` gives on the group's samples and events (the
tests check this on the synthetic world).  What differs is only *how*: one
call of :func:`grouped_kpis` computes the KPIs of every region (or every
region × campaign) of a batch from plain column arrays whose rows are grouped
(contiguous per group), with one pairwise sum and one sort per group
for percentiles and ``np.bincount`` for counts -- no DataFrame per region.

Percentiles reproduce numpy's default ``linear`` method bit for bit:
virtual index ``h = (n - 1) q``, ``a = x[floor h]``, ``b = x[floor h + 1]``,
``γ = h - floor h`` and ``a + (b - a) γ`` (``b - (b - a)(1 - γ)`` when
``γ >= 0.5``), as ``numpy.lib._function_base_impl._lerp`` does.
"""

from __future__ import annotations

import numpy as np

from netqa.kpi import EXTRA_KPI_KEYS, Profile, load_profile, period_mask, wilson_interval
from netqa.kpi import compute_kpis as _compute_kpis
from netqa.schema import KPI_KEYS

#: Float sample columns the KPIs read (missing columns are all-NaN).
SAMPLE_VALUE_COLUMNS = ("rsrp_dbm", "sinr_db", "rsrq_db", "dl_mbps", "ul_mbps")

#: Bits of the ``periods`` column: the row is in a download / upload period
#: (:func:`netqa.kpi.period_mask`, evaluated row by row when the samples are read).
DL_PERIOD, UL_PERIOD = 1, 2

#: Event names the KPIs count (code = position); other events get -1.
EVENT_NAMES = ("call_attempt", "call_setup_failure", "call_drop", "call_end", "ho_attempt", "ho_success", "ho_failure")


def profile_of(profile) -> Profile:
    """The :class:`netqa.kpi.Profile` for ``lte``, ``nr``, a TOML path or a Profile.

    >>> p = profile_of("lte")
    >>> p.rsrp_dbm_min, p.sinr_db_min
    (-110.0, -3.0)
    """
    return load_profile(profile)


def compute_kpis(samples, events, profile) -> dict:
    """:func:`netqa.kpi.compute_kpis` of one set of samples and events (the reference)."""
    return _compute_kpis(samples, events, profile)


def wilson_ci(k: int, n: int) -> tuple[float, float] | None:
    """95 % Wilson interval of k/n (:func:`netqa.kpi.wilson_interval`), k clipped to 0..n.

    Counts from inconsistent logs (more drops than set-up calls) stay a proportion.

    >>> [round(v, 4) for v in wilson_ci(8, 10)]
    [0.4902, 0.9433]
    """
    ci = wilson_interval(min(max(int(k), 0), int(n)), int(n))
    return None if ci is None else (ci[0], ci[1])


def period_bits(samples) -> np.ndarray:
    """uint8 :data:`DL_PERIOD` / :data:`UL_PERIOD` bits of each row, by :func:`netqa.kpi.period_mask`.

    >>> import pandas as pd
    >>> period_bits(pd.DataFrame({"activity": ["download", "upload", "idle", None]})).tolist()
    [1, 2, 0, 3]
    """
    dl = period_mask(samples, "download")
    ul = period_mask(samples, "upload")
    return (dl * DL_PERIOD + ul * UL_PERIOD).astype(np.uint8)


def event_codes(values) -> np.ndarray:
    """int8 codes of an ``event`` column (position in :data:`EVENT_NAMES`, -1 other)."""
    import pandas as pd  # noqa: PLC0415

    cat = pd.Categorical(values)
    lut = np.array([EVENT_NAMES.index(str(c)) if str(c) in EVENT_NAMES else -1 for c in cat.categories] + [-1], dtype=np.int8)
    return lut[cat.codes]


def _group_ids(offsets: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))


def _segments(mask: np.ndarray, gid: np.ndarray, n_groups: int):
    """Rows where ``mask`` holds (still grouped), their count per group and offsets."""
    sel = np.flatnonzero(mask)
    counts = np.bincount(gid[sel], minlength=n_groups)
    return sel, counts, np.concatenate([[0], np.cumsum(counts)])


def _seg_sum(v: np.ndarray, counts: np.ndarray, offs: np.ndarray) -> np.ndarray:
    """Sum per group, NaN for empty groups.

    One ``ndarray.sum`` per group (pairwise summation, so means equal
    ``np.mean`` bit for bit; ``np.add.reduceat`` sums in another order).
    """
    out = np.full(counts.size, np.nan)
    for g in np.flatnonzero(counts > 0):
        out[g] = v[offs[g] : offs[g + 1]].sum()
    return out


def _seg_percentiles(v: np.ndarray, counts: np.ndarray, offs: np.ndarray, qs) -> dict:
    """numpy-``linear`` percentiles per group (values grouped, any order); NaN for empty groups."""
    s = v.copy()
    for g in np.flatnonzero(counts > 1):
        s[offs[g] : offs[g + 1]].sort()
    ne = counts > 0
    n, start = counts[ne], offs[:-1][ne]
    out = {}
    for q in qs:
        h = (n - 1) * np.true_divide(q, 100)
        lo = np.floor(h)
        gamma = h - lo
        i = lo.astype(np.intp)
        top = h >= n - 1
        i[top] = n[top] - 1
        j = np.where(top, i, i + 1)
        a, b = s[start + i], s[start + j]
        d = b - a
        val = a + d * gamma
        hi = gamma >= 0.5
        val[hi] = (b - d * (1 - gamma))[hi]
        val[top] = a[top]
        res = np.full(counts.size, np.nan)
        res[ne] = val
        out[q] = res
    return out


def grouped_kpis(
    cols: dict,
    offsets: np.ndarray,
    profile,
    events: np.ndarray | None = None,
    event_offsets: np.ndarray | None = None,
    with_sd: bool = False,
) -> list[dict]:
    """:func:`netqa.kpi.compute_kpis` of every group of rows, in one vectorised pass.

    Parameters
    ----------
    cols : dict of numpy.ndarray
        Sample columns, rows grouped: float64 ``rsrp_dbm``, ``sinr_db``,
        ``rsrq_db``, ``dl_mbps``, ``ul_mbps`` [dBm, dB, dB, Mbit/s, Mbit/s]
        (absent = not measured) and uint8 ``periods`` (:func:`period_bits`;
        absent = every row is in both periods, as netqa.kpi treats a log
        without activity or connected state).
    offsets : numpy.ndarray
        Group ``g`` is rows ``offsets[g]:offsets[g+1]``.
    profile : str, Path or Profile
        KPI thresholds.
    events, event_offsets : numpy.ndarray, optional
        int8 event codes (:func:`event_codes`) grouped the same way.
    with_sd : bool
        Also return ``_dl_mbps_sd`` / ``_ul_mbps_sd`` (sample standard deviation
        over the throughput periods, ddof 1; None below 2 values).

    Returns
    -------
    list of dict
        One KPI object per group: DESIGN.md's KPI keys, then ``EXTRA_KPI_KEYS``.

    Examples
    --------
    >>> c = {"rsrp_dbm": np.array([-100.0, -115.0, -90.0]), "sinr_db": np.array([5.0, 5.0, -9.0])}
    >>> [k["coverage_rate"] for k in grouped_kpis(c, np.array([0, 2, 3]), "lte")]
    [0.5, 0.0]
    """
    prof = profile_of(profile)
    offsets = np.asarray(offsets, dtype=np.int64)
    n_groups = len(offsets) - 1
    n_rows = int(offsets[-1]) - int(offsets[0])
    base = int(offsets[0])
    offsets = offsets - base
    gid = _group_ids(offsets)
    nan = np.full(n_rows, np.nan)

    def col(name):
        v = cols.get(name)
        return nan if v is None else np.asarray(v, dtype=np.float64)[base : base + n_rows]

    rsrp, sinr, rsrq = col("rsrp_dbm"), col("sinr_db"), col("rsrq_db")
    f_rsrp, f_sinr = np.isfinite(rsrp), np.isfinite(sinr)
    has_sinr = np.bincount(gid[f_sinr], minlength=n_groups) > 0
    hs = has_sinr[gid]
    evaluated = f_rsrp & (f_sinr | ~hs)
    with np.errstate(invalid="ignore"):
        covered = evaluated & (rsrp >= prof.rsrp_dbm_min) & ((sinr >= prof.sinr_db_min) | ~hs)
    n_eval = np.bincount(gid[evaluated], minlength=n_groups)
    n_cov = np.bincount(gid[covered], minlength=n_groups)
    stats: dict = {}
    sel, cnt, offs = _segments(f_rsrp, gid, n_groups)
    r = rsrp[sel]
    stats["rsrp_dbm_mean"] = 10.0 * np.log10(_seg_sum(10.0 ** (r / 10.0), cnt, offs) / np.where(cnt > 0, cnt, 1))
    for q, v in _seg_percentiles(r, cnt, offs, (5, 50, 95)).items():
        stats[f"rsrp_dbm_p{q}"] = v
    for name, arr in (("sinr_db", sinr), ("rsrq_db", rsrq)):
        sel, cnt, offs = _segments(np.isfinite(arr), gid, n_groups)
        v = arr[sel]
        stats[f"{name}_mean"] = _seg_sum(v, cnt, offs) / np.where(cnt > 0, cnt, 1)
        for q, p in _seg_percentiles(v, cnt, offs, (5, 50, 95)).items():
            stats[f"{name}_p{q}"] = p
    per = cols.get("periods")
    per = np.full(n_rows, DL_PERIOD | UL_PERIOD, np.uint8) if per is None else np.asarray(per)[base : base + n_rows]
    n_period = {}
    for name, bit in (("dl_mbps", DL_PERIOD), ("ul_mbps", UL_PERIOD)):
        arr = col(name)
        sel, cnt, offs = _segments(np.isfinite(arr) & ((per & bit) != 0), gid, n_groups)
        v = arr[sel]
        n_period[name] = cnt
        mean = _seg_sum(v, cnt, offs) / np.where(cnt > 0, cnt, 1)
        stats[f"{name}_mean"] = mean
        for q, p in _seg_percentiles(v, cnt, offs, (10, 50, 90)).items():
            stats[f"{name}_p{q}"] = p
        if with_sd:
            dev = (v - np.repeat(mean, cnt)) ** 2
            stats[f"_{name}_sd"] = np.sqrt(_seg_sum(dev, cnt, offs) / np.where(cnt > 1, cnt - 1, 1))
            stats[f"_{name}_sd"][cnt < 2] = np.nan
    ev = np.zeros((n_groups, len(EVENT_NAMES)), dtype=np.int64)
    if events is not None and event_offsets is not None:
        eo = np.asarray(event_offsets, dtype=np.int64)
        e = np.asarray(events)[int(eo[0]) : int(eo[-1])]
        eg = _group_ids(eo - eo[0])
        ok = e >= 0
        ev = np.bincount(eg[ok] * len(EVENT_NAMES) + e[ok], minlength=n_groups * len(EVENT_NAMES)).reshape(n_groups, -1)
    att, fail, drop, end, ho_att, ho_ok, ho_fail = (ev[:, k] for k in range(len(EVENT_NAMES)))
    n_calls = np.maximum(np.where(att > 0, att - fail, drop + end), 0)
    n_ho = np.where(ho_att > 0, ho_att, ho_ok + ho_fail)
    sizes = np.diff(offsets)
    out = []
    for g in range(n_groups):
        k: dict = {"n_samples": int(sizes[g])}
        ne, nc = int(n_eval[g]), int(n_cov[g])
        k["coverage_rate"] = float(nc / ne) if ne > 0 else None
        k["coverage_rate_ci"] = wilson_interval(nc, ne)
        for key, arr in stats.items():
            v = float(arr[g])
            k[key] = v if v == v else None
        k["n_calls"], k["n_drops"] = int(n_calls[g]), int(drop[g])
        k["drop_rate"] = float(drop[g] / n_calls[g]) if n_calls[g] > 0 else None
        k["n_ho_attempts"], k["n_ho_success"] = int(n_ho[g]), int(ho_ok[g])
        k["ho_success_rate"] = float(ho_ok[g] / n_ho[g]) if n_ho[g] > 0 else None
        k["n_covered"], k["n_coverage_samples"] = nc, ne
        k["n_dl_samples"], k["n_ul_samples"] = int(n_period["dl_mbps"][g]), int(n_period["ul_mbps"][g])
        ordered = {key: k[key] for key in KPI_KEYS}
        ordered.update({key: k[key] for key in EXTRA_KPI_KEYS})
        if with_sd:
            ordered.update({key: k[key] for key in ("_dl_mbps_sd", "_ul_mbps_sd")})
        out.append(ordered)
    return out


__all__ = ["profile_of", "compute_kpis", "grouped_kpis", "wilson_ci", "period_bits", "event_codes", "EVENT_NAMES"]
