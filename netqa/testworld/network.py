"""The radio network of the test world: sites, cells and one antenna pattern.

15 three-sector sites: 5 in the main town (Valdera), 2 in the second town
(Sotillo), 1 in the village (La Vega) and 7 rural towers.  Every site has an
LTE 1800 layer (band 3, EARFCN 1300 = 1815 MHz DL, 20 MHz, 46 dBm); the rural
sites, the village and the main-town centre add an LTE 800 coverage layer
(band 20, EARFCN 6300 = 806 MHz, 10 MHz, 43 dBm); four town sites add NR
3500 (n78, NR-ARFCN 633333, 100 MHz, 49 dBm).

Cell ids are the numeric global cell identities as phones report them
(G-NetTrack ``RAWCELLID``): LTE ECI = eNB id x 256 + local cell id, NR
NCI = gNB id x 16384 + local cell id.  PCIs are planned mod 3: the three
sectors of a site take 3 g, 3 g + 1, 3 g + 2 with a group g per site.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from netqa.testworld.config import WorldConfig

#: Bands: name -> (tech, freq_mhz, bandwidth_mhz, tx_power_dbm, earfcn, local cell id base, gain_dbi, scs_khz, n_prb)
BANDS: dict[str, tuple] = {
    "L1800": ("LTE", 1815.0, 20.0, 46.0, 1300, 1, 17.5, 15.0, 100),
    "L800": ("LTE", 806.0, 10.0, 43.0, 6300, 11, 15.0, 15.0, 50),
    "N3500": ("NR", 3500.0, 100.0, 49.0, 633333, 21, 20.0, 30.0, 273),
}
ANTENNA_FILE = "antenna/sector65.msi"
HPBW_H_DEG, HPBW_V_DEG, SLA_V_DB, AM_DB = 65.0, 10.0, 20.0, 25.0


@dataclass(frozen=True)
class Site:
    site_id: str
    x_m: float
    y_m: float
    kind: str  # town, village, rural
    height_m: float
    bands: tuple[str, ...]


# (site_id, x, y, kind, bands): positions jittered by the generator
_SITE_PLAN = (
    ("VAL01", 8500, 11500, "town", ("L1800", "L800", "N3500")),
    ("VAL02", 9150, 12150, "town", ("L1800", "N3500")),
    ("VAL03", 7850, 12150, "town", ("L1800",)),
    ("VAL04", 7850, 10850, "town", ("L1800", "N3500")),
    ("VAL05", 9150, 10850, "town", ("L1800",)),
    ("SOT01", 15100, 5200, "town", ("L1800", "N3500")),
    ("SOT02", 15900, 4800, "town", ("L1800",)),
    ("VEG01", 4000, 16500, "village", ("L1800", "L800")),
    ("RUR01", 3000, 8500, "rural", ("L1800", "L800")),
    ("RUR02", 13500, 9300, "rural", ("L1800", "L800")),
    ("RUR03", 16300, 15600, "rural", ("L1800", "L800")),
    ("RUR04", 6000, 4000, "rural", ("L1800", "L800")),
    ("RUR05", 11000, 1800, "rural", ("L1800", "L800")),
    ("RUR06", 9800, 17600, "rural", ("L1800", "L800")),
    ("RUR07", 18800, 2300, "rural", ("L1800", "L800")),
)


def build_sites(cfg: WorldConfig, rng: np.random.Generator) -> list[Site]:
    """Site positions (jittered by up to 150 m) and antenna heights (20-30 m in towns, 30-45 m rural)."""
    sites = []
    for sid, x, y, kind, bands in _SITE_PLAN:
        jx, jy = rng.uniform(-150.0, 150.0, size=2)
        h = rng.uniform(20.0, 30.0) if kind != "rural" else rng.uniform(30.0, 45.0)
        sites.append(Site(sid, float(x + jx), float(y + jy), kind, round(float(h), 1), bands))
    return sites


def build_cells(sites: list[Site], rng: np.random.Generator) -> list[dict]:
    """One row per cell with the canonical Cells columns plus local ``x_m``, ``y_m`` and ``band``."""
    cells = []
    for i, s in enumerate(sites):
        rot = rng.uniform(-20.0, 20.0)
        group = (i * 37 + 11) % 168
        enb = 31000 + i  # eNB / gNB id
        for band in s.bands:
            tech, freq, bw, ptx, earfcn, lcid0, gain, _scs, _nprb = BANDS[band]
            for k in range(3):
                az = (k * 120.0 + rot + rng.uniform(-5.0, 5.0)) % 360.0
                mech = float(rng.integers(0, 3))
                if band == "L800":
                    elec = float(rng.integers(2, 4))
                elif band == "N3500":
                    elec = float(rng.integers(6, 9))
                else:
                    elec = float(rng.integers(4, 9)) if s.kind != "rural" else float(rng.integers(2, 5))
                cell_num = enb * 256 + lcid0 + k if tech == "LTE" else enb * 16384 + lcid0 + k
                cells.append({
                    "site_id": s.site_id,
                    "cell_id": str(cell_num),
                    "x_m": s.x_m,
                    "y_m": s.y_m,
                    "height_m": s.height_m,
                    "azimuth_deg": round(az, 1),
                    "mech_tilt_deg": mech,
                    "elec_tilt_deg": elec,
                    "tx_power_dbm": ptx,
                    "freq_mhz": freq,
                    "bandwidth_mhz": bw,
                    "tech": tech,
                    "pci": 3 * group + k,
                    "earfcn": earfcn,
                    "antenna": ANTENNA_FILE if band == "L1800" else "",
                    "gain_dbi": gain,
                    "feeder_loss_db": 0.5 if s.kind != "rural" else 2.0,
                    "band": band,
                    "enb_id": enb,
                    "local_cell_id": lcid0 + k,
                })
    return cells


def msi_text() -> str:
    """MSI/Planet text of the 3GPP parametric sector (65 deg / 10 deg, untilted, 17.5 dBi)."""
    lines = [
        "NAME sector65",
        "MAKE netqa synthetic (3GPP TR 36.814 Table A.2.1.1-2 parametric)",
        "FREQUENCY 1815",
        "H_WIDTH 65",
        "V_WIDTH 10",
        "FRONT_TO_BACK 25",
        "GAIN 17.5 dBi",
        "TILT ELECTRICAL 0",
        "POLARIZATION +45/-45",
        "COMMENT A_H = min(12 (phi/65)^2, 25); A_V = min(12 (theta/10)^2, 20); A = min(A_H + A_V, 25)",
        "HORIZONTAL 360",
    ]
    for a in range(360):
        phi = a if a <= 180 else a - 360
        att = min(12.0 * (phi / HPBW_H_DEG) ** 2, AM_DB)
        lines.append(f"{a} {att:.2f}")
    lines.append("VERTICAL 360")
    for a in range(360):
        # angle below the front horizon; past 90 deg the cut continues behind the antenna
        if a <= 90:
            att = min(12.0 * (a / HPBW_V_DEG) ** 2, SLA_V_DB)
        elif a >= 270:
            att = min(12.0 * ((a - 360) / HPBW_V_DEG) ** 2, SLA_V_DB)
        else:
            back = 180 - a  # elevation seen from behind
            att = min(AM_DB + min(12.0 * (back / HPBW_V_DEG) ** 2, SLA_V_DB), AM_DB)
        lines.append(f"{a} {att:.2f}")
    return "\n".join(lines) + "\n"
