"""Plots of ``netqa compare``: predicted and measured always in distinct colours and line styles.

Measured is black/grey (solid line, hatched bars), predicted is blue (dashed
line, plain bars); the residual is predicted minus measured.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from netqa.fileio import atomic_path, check_output

MEASURED = dict(color="0.15", label="measured")
PREDICTED = dict(color="tab:blue", label="predicted")


def _fig(figsize=(6.4, 4.8), *, bottom_in: float = 0.55, right_in: float = 0.2):
    """A figure on its own Agg canvas: pyplot's global state (and a notebook's backend) stays untouched.

    The axes get fixed margins [inch] that hold the tick labels, axis labels and title of these plots
    (``bottom_in``: room below the axes, more for rotated tick labels; ``right_in``: more for a colour
    bar).  A layout engine (constrained layout) would measure every text first: about half the drawing
    time of these plots, for margins that do not change with the data."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    w, h = figsize
    fig = Figure(figsize=figsize)
    fig.subplots_adjust(left=0.75 / w, right=1.0 - right_in / w, bottom=bottom_in / h, top=1.0 - 0.4 / h)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


#: Every PNG that :func:`write_plots` may write (members of compare's output set).
PLOT_NAMES = ("scatter.png", "error_histogram.png", "error_vs_distance.png", "cdf_rsrp.png", "cdf_dl_mbps.png",
              "cdf_ul_mbps.png", "per_cell.png")


#: PNG options: zlib level 1 instead of PIL's 6 (about 0.1 s less for the seven plots, files ~2 % larger).
_PNG = dict(dpi=110, format="png", pil_kwargs={"compress_level": 1})


def _save(fig, path: Path, overwrite: bool, outputs=None) -> Path:
    check_output(path, overwrite)
    if outputs is not None:  # a member of the caller's output set (netqa.fileio.atomic_set)
        fig.savefig(outputs.path(path), **_PNG)
        return path
    with atomic_path(path) as tmp:
        fig.savefig(tmp, **_PNG)
    return path


def _stats_text(s: dict) -> str:
    def f(v, fmt):
        return "n/a" if v is None else format(v, fmt)

    return (f"n = {s['n']}\nmean error = {f(s['mean_error_db'], '+.2f')} dB\nstd = {f(s['std_error_db'], '.2f')} dB\n"
            f"RMSE = {f(s['rmse_db'], '.2f')} dB\nr = {f(s['correlation'], '.3f')}")  # fmt: skip


def write_plots(res, stats: dict, out: Path, *, overwrite: bool = False, outputs=None) -> list[Path]:
    """Scatter with 1:1 line, error histogram, error vs log-distance, CDFs, per-cell bars (PNG files in ``out``).

    With ``outputs`` (a :class:`netqa.fileio.OutputSet` holding ``out / name`` for
    every name in :data:`PLOT_NAMES`) the PNGs are written as members of that set.
    """
    out = Path(out)
    meas = res["rsrp_measured_dbm"].to_numpy(float)
    pred = res["rsrp_predicted_dbm"].to_numpy(float)
    err = pred - meas
    ok = np.isfinite(err)
    written = []
    # scatter
    dense = ok.sum() > 20000
    fig, ax = _fig((5.6, 5.6), right_in=0.8 if dense else 0.2)  # room for the colour bar's labels
    if dense:
        hb = ax.hexbin(meas[ok], pred[ok], gridsize=80, mincnt=1, bins="log", cmap="viridis")
        fig.colorbar(hb, ax=ax, label="samples")
    else:
        ax.scatter(meas[ok], pred[ok], s=4, alpha=0.35, color="tab:blue", edgecolors="none", label="samples")
    lo = float(np.nanmin([meas[ok].min(), pred[ok].min()])) if ok.any() else -140.0
    hi = float(np.nanmax([meas[ok].max(), pred[ok].max()])) if ok.any() else -40.0
    ax.plot([lo, hi], [lo, hi], color="0.15", lw=1.2, ls="--", label="1:1")
    ax.set(xlabel="measured RSRP [dBm]", ylabel="predicted RSRP [dBm]", title="Predicted vs measured RSRP (serving cell)",
           xlim=(lo, hi), ylim=(lo, hi), aspect="equal")  # fmt: skip
    ax.text(0.03, 0.97, _stats_text(stats["rsrp"]), transform=ax.transAxes, va="top", fontsize=9,
            bbox=dict(boxstyle="round", fc="white", ec="0.6"))  # fmt: skip
    ax.legend(loc="lower right")
    written.append(_save(fig, out / "scatter.png", overwrite, outputs))
    # histogram
    fig, ax = _fig()
    ax.hist(err[ok], bins=60, color="tab:purple", alpha=0.8)
    ax.axvline(0.0, color="0.15", lw=1)
    if stats["mean_error_db"] is not None:
        ax.axvline(stats["mean_error_db"], color="tab:red", ls="--", label=f"mean {stats['mean_error_db']:+.2f} dB")
    ax.set(xlabel="error = predicted - measured [dB]", ylabel="samples", title="Error histogram")
    ax.legend()
    written.append(_save(fig, out / "error_histogram.png", overwrite, outputs))
    # error vs log-distance
    fig, ax = _fig()
    d = res["dist_km"].to_numpy(float)
    okd = ok & (d > 0)
    ax.scatter(d[okd], err[okd], s=3, alpha=0.25, color="tab:purple", edgecolors="none", label="samples")
    if okd.any():
        edges = np.logspace(np.log10(d[okd].min()), np.log10(d[okd].max()), 16)
        idx = np.digitize(d[okd], edges)
        centres, means = [], []
        for i in range(1, len(edges)):
            sel = idx == i
            if sel.sum() >= 5:
                centres.append(np.sqrt(edges[i - 1] * edges[i]))
                means.append(err[okd][sel].mean())
        ax.plot(centres, means, "o-", color="tab:red", label="bin mean")
    ax.axhline(0.0, color="0.15", lw=1)
    ax.set(xscale="log", xlabel="distance to the serving cell [km] (log)", ylabel="error [dB]",
           title="Error vs log-distance")  # fmt: skip
    ax.legend()
    written.append(_save(fig, out / "error_vs_distance.png", overwrite, outputs))
    # CDFs
    fig, ax = _fig()
    for vals, style, ls in ((meas[ok], MEASURED, "-"), (pred[ok], PREDICTED, "--")):
        v = np.sort(vals)
        ax.plot(v, np.arange(1, v.size + 1) / max(v.size, 1), ls=ls, lw=2, **style)
    ax.set(xlabel="RSRP [dBm]", ylabel="CDF", title="RSRP distribution, measured vs predicted", ylim=(0, 1))
    ax.grid(alpha=0.3)
    ax.legend()
    written.append(_save(fig, out / "cdf_rsrp.png", overwrite, outputs))
    for d_ in ("dl", "ul"):
        mm = res[f"{d_}_measured_mbps"].to_numpy(float)
        pp = res[f"{d_}_predicted_mbps"].to_numpy(float)
        sel = np.isfinite(mm) & np.isfinite(pp)
        if sel.sum() < 2:
            continue
        fig, ax = _fig()
        for vals, style, ls in ((mm[sel], MEASURED, "-"), (pp[sel], PREDICTED, "--")):
            v = np.sort(vals)
            ax.plot(v, np.arange(1, v.size + 1) / v.size, ls=ls, lw=2, **style)
        ax.set(xlabel=f"{d_.upper()} throughput [Mbit/s]", ylabel="CDF", ylim=(0, 1),
               title=f"{d_.upper()} throughput in {'download' if d_ == 'dl' else 'upload'} periods")  # fmt: skip
        ax.grid(alpha=0.3)
        ax.legend()
        written.append(_save(fig, out / f"cdf_{d_}_mbps.png", overwrite, outputs))
    # per-cell bars
    per = res[ok].groupby("cell_id").agg(meas=("rsrp_measured_dbm", "mean"), pred=("rsrp_predicted_dbm", "mean"),
                                         n=("error_db", "size"), err=("error_db", "mean"))  # fmt: skip
    per = per.sort_values("n", ascending=False).head(30).sort_index()
    longest = max((len(str(c)) for c in per.index), default=0)  # cell ids, rotated 60 deg at 8 pt: ~0.06 in a character
    fig, ax = _fig((max(6.4, 0.45 * len(per) + 2), 4.8), bottom_in=min(0.3 + 0.06 * longest, 2.4))
    xx = np.arange(len(per))
    bottom = float(np.nanmin([per["meas"].min(), per["pred"].min()])) - 10 if len(per) else -140.0
    top = float(np.nanmax([per["meas"].max(), per["pred"].max()])) + 12 if len(per) else -40.0
    ax.bar(xx - 0.2, per["meas"] - bottom, bottom=bottom, width=0.4, color="0.75", edgecolor="0.15", hatch="//",
           label="measured (mean)")  # fmt: skip
    ax.bar(xx + 0.2, per["pred"] - bottom, bottom=bottom, width=0.4, color="tab:blue", label="predicted (mean)")
    for i, (e, n) in enumerate(zip(per["err"], per["n"])):
        ax.text(i, 0.99, f"{e:+.1f}\nn={n}", transform=ax.get_xaxis_transform(), ha="center", va="top", fontsize=7)
    ax.set_xticks(xx, per.index.astype(str), rotation=60, ha="right", fontsize=8)
    ax.set_ylim(bottom, top)
    ax.set(ylabel="mean RSRP [dBm]", title="Per serving cell: mean RSRP (labels: mean error [dB], samples)")
    ax.legend(loc="lower right")
    written.append(_save(fig, out / "per_cell.png", overwrite, outputs))
    return written


__all__ = ["write_plots"]
