"""Small synthetic calibration data for the bounds, shrinkage and cross-validation tests (not a test module)."""

from __future__ import annotations

import numpy as np

from netqa.calibrate import CalibrationData

#: Everything but K1, K2 and K4 kept at the prior (so the tests control what is fitted).
FIX_K1_K2_K4 = {n: "test" for n in ("k3", "k5", "k6", "k7", "clutter")}


def synth(*, slope_db=35.0, k4=0.6, cell_k1_sd_db=0.0, site_k1_sd_db=0.0, sigma_db=4.0, n_sites=8, cells_per_site=3,
          n_per_cell=600, n_sessions=2, h_eff_m=30.0, seed=3) -> CalibrationData:
    """Samples around ``n_sites`` masts of co-sited cells; the loss is 120 + slope log d + k4 L_diff + site and cell
    offsets + iid noise, with the effective slope ``slope_db`` at the fixed ``h_eff_m`` [dB/decade]."""
    rng = np.random.default_rng(seed)
    cols = {k: [] for k in CalibrationData._fields}
    for s in range(n_sites):
        mast = rng.uniform(-20_000, 20_000, 2)
        site_off = rng.normal(0.0, site_k1_sd_db) if site_k1_sd_db else 0.0
        for c in range(cells_per_site):
            cell_off = rng.normal(0.0, cell_k1_sd_db) if cell_k1_sd_db else 0.0
            d_km = 10 ** rng.uniform(np.log10(0.2), np.log10(5.0), n_per_cell)
            az = rng.uniform(0, 2 * np.pi / cells_per_site, n_per_cell) + 2 * np.pi * c / cells_per_site
            diff = np.where(rng.uniform(size=n_per_cell) < 0.4, rng.uniform(0, 20, n_per_cell), 0.0)
            loss = (120 + slope_db * np.log10(d_km) + k4 * diff + site_off + cell_off
                    + rng.normal(0.0, sigma_db, n_per_cell))  # fmt: skip
            cols["loss_db"].append(loss)
            cols["dist_km"].append(d_km)
            cols["h_tx_eff_m"].append(np.full(n_per_cell, h_eff_m))
            cols["h_rx_m"].append(np.full(n_per_cell, 1.5))
            cols["diffraction_db"].append(diff)
            cols["freq_mhz"].append(np.full(n_per_cell, 1800.0))
            cols["clutter"].append(np.full(n_per_cell, "urban", object))
            cols["clutter_db"].append(np.zeros(n_per_cell))
            cols["cell"].append(np.full(n_per_cell, f"C{s}{c}", object))
            cols["session"].append(np.array([f"S{i % n_sessions}" for i in range(n_per_cell)], object))
            cols["x_m"].append(mast[0] + 1000 * d_km * np.cos(az))
            cols["y_m"].append(mast[1] + 1000 * d_km * np.sin(az))
            cols["site"].append(np.full(n_per_cell, f"SITE{s}", object))
    return CalibrationData(**{k: np.concatenate(v) for k, v in cols.items() if v})
