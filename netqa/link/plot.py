"""Drawing a :class:`~netqa.link.analyse.LinkAnalysis`: the path profile and its loss table (PNG or SVG)."""

from __future__ import annotations

import math

import numpy as np

from netqa.link.analyse import LinkAnalysis

#: Output formats :func:`draw_profile` writes (chosen by the file's extension).
FORMATS = (".png", ".svg")


def _fmt(v, spec=".1f") -> str:
    return "—" if v is None or not math.isfinite(v) else format(v, spec)


def draw_profile(link: LinkAnalysis, path) -> None:
    """Draw the profile to ``path`` (``.png`` or ``.svg``; the caller writes atomically).

    Terrain with the earth bulge (k = ``link.k_factor``) filled brown, clutter
    heights hatched green on top, the direct ray between the antennas, the
    first Fresnel zone shaded around it (60 % of it dashed), the dominant
    obstacles marked with their v and J(v), and a table of the losses and
    received powers below.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10.0, 7.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax, tab = fig.subplots(2, 1, height_ratios=(3.0, 2.0))
    d = link.dist_km
    earth = link.ground_m + link.bulge_m
    floor = float(np.min(earth) - 0.1 * max(np.ptp(earth), 10.0))
    ax.fill_between(d, floor, earth, color="#b08d57", alpha=0.85, lw=0, label=f"terrain + earth bulge (k = {link.k_factor:.3g})")
    if np.any(link.clutter_m > 0):
        ax.fill_between(d, earth, earth + link.clutter_m, facecolor="none", edgecolor="#3a7d44", hatch="///", lw=0,
                        label="clutter height")  # fmt: skip
    ax.plot(d, link.ray_m, color="tab:red", lw=1.4, label="direct ray")
    ax.fill_between(d, link.ray_m - link.fresnel_m, link.ray_m + link.fresnel_m, color="tab:blue", alpha=0.15,
                    lw=0, label="1st Fresnel zone")  # fmt: skip
    ax.plot(d, link.ray_m - 0.6 * link.fresnel_m, color="tab:blue", lw=0.8, ls="--", label="60 % of the 1st zone")
    ax.vlines([d[0], d[-1]], [link.ground_m[0], link.ground_m[-1]], [link.ray_m[0], link.ray_m[-1]], color="k", lw=2.0)
    ax.annotate(f"{link.cell_id}\n{link.h_tx_m:.0f} m", (d[0], link.ray_m[0]), textcoords="offset points",
                xytext=(4, 4), fontsize=8)  # fmt: skip
    ax.annotate(f"RX {link.h_rx_m:.1f} m", (d[-1], link.ray_m[-1]), textcoords="offset points", xytext=(-40, 6), fontsize=8)
    for o in link.obstacles:
        ax.plot([o.dist_km], [o.height_m], marker="v", color="k", ms=6)
        right = o.dist_km > 0.75 * link.length_km  # labels near the receiver go left, stacked by rank
        ax.annotate(f"#{o.rank} v = {o.v:.2f}, J(v) = {o.knife_edge_db:.1f} dB", (o.dist_km, o.height_m),
                    textcoords="offset points", xytext=(-8 if right else 6, 8 + 12 * (o.rank - 1)), fontsize=8,
                    ha="right" if right else "left", arrowprops={"arrowstyle": "-", "lw": 0.5})  # fmt: skip
    ax.set_xlim(d[0], d[-1])
    ceiling = float(max(np.max(earth + link.clutter_m), np.max(link.ray_m + link.fresnel_m)))
    ax.set_ylim(floor, ceiling + 0.15 * (ceiling - floor))
    ax.set_xlabel("distance from the transmitter [km]")
    ax.set_ylabel("height above sea level [m]")
    los = "line of sight" if link.line_of_sight else "obstructed"
    clear = "60 % Fresnel clear" if link.fresnel_clear else "Fresnel zone obstructed"
    ax.set_title(f"{link.cell_id} → RX at {link.rx_lonlat[1]:.5f}, {link.rx_lonlat[0]:.5f}: {link.length_km:.2f} km, "
                 f"{link.freq_mhz:.0f} MHz, {los}, {clear}", fontsize=10)  # fmt: skip
    ax.legend(loc="upper right", fontsize=7, framealpha=0.8)
    ax.grid(alpha=0.3)

    tab.axis("off")
    rows = [[r.model, r.kind, _fmt(r.loss_db), _fmt(r.rx_power_dbm), r.note[:70]] for r in link.losses]
    rows.append([f"netqa predict ({link.settings.get('model')}, {link.settings.get('terrain')}, clutter "
                 f"{link.settings.get('clutter_model')})", "RSRP", "", _fmt(link.predicted_rsrp_dbm),
                 f"EIRP towards RX {link.eirp_dbm:.1f} dBm"])  # fmt: skip
    if link.measured_rsrp_dbm is not None:
        rows.append(["measured", "RSRP", "", _fmt(link.measured_rsrp_dbm), "drive test"])
    table = tab.table(cellText=rows, colLabels=["model", "kind", "loss [dB]", "RSRP [dBm]", "note"],
                      colWidths=[0.30, 0.07, 0.08, 0.09, 0.46], loc="upper center", cellLoc="left", colLoc="left")  # fmt: skip
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    table.scale(1.0, 1.15)
    fig.savefig(path, dpi=110)
