"""netqa.calibrate.shrink: per-cell K1/K2 shrunk toward the band by empirical Bayes, instead of free fits."""

from __future__ import annotations

import numpy as np
import pytest

from _calib_synth import FIX_K1_K2_K4, synth
from netqa.calibrate import CalibrationConfig, fit_spm
from netqa.calibrate.shrink import shrink_cells


def _fit(data):
    return fit_spm(data, CalibrationConfig(), holdout=False, fixed=dict(FIX_K1_K2_K4))


def _free_k2(data, cal):
    """Per-cell free least-squares slopes of the band residual (what the fit did before shrinkage)."""
    out = []
    for c in np.unique(data.cell):
        s = data.cell == c
        ld = np.log10(data.dist_km[s])
        r = data.loss_db[s] - cal.k.k4 * data.diffraction_db[s]
        out.append(np.polyfit(ld, r, 1)[0])
    return np.array(out)


def test_no_between_cell_spread_pulls_every_cell_to_the_band():
    data = synth(sigma_db=8.0, n_per_cell=150)  # every cell has the band's K1/K2; only noise differs
    cal = _fit(data)
    k2 = np.array([e["k2"] for e in cal.per_cell.values() if "k2" in e])
    free = _free_k2(data, cal)
    assert np.std(k2) < 0.5 * np.std(free)  # much narrower than the free fits
    s = cal.settings["per_cell_shrinkage"]
    assert s["method"] == "empirical-bayes" and s["n_cells"] == 24
    assert s["tau_k1_db"] < 1.0


def test_real_cell_offsets_are_kept():
    data = synth(cell_k1_sd_db=6.0, sigma_db=3.0, n_per_cell=400, seed=5)
    cal = _fit(data)
    band = cal.k.k1
    got = np.array([cal.per_cell[c]["k1"] - band for c in sorted(cal.per_cell)])
    w = np.array([cal.per_cell[c]["weight_k1"] for c in sorted(cal.per_cell)])
    assert w.min() > 0.9  # large spread, plenty of bins: each cell keeps its own level
    assert cal.settings["per_cell_shrinkage"]["tau_k1_db"] == pytest.approx(6.0, rel=0.5)
    assert np.std(got) > 3.0


def test_fewer_than_three_cells_keep_the_band():
    data = synth(n_sites=1, cells_per_site=2)
    cal = _fit(data)
    assert all("refused" in e and "between-cell spread" in e["refused"] for e in cal.per_cell.values())


def test_weights_between_zero_and_one_and_slope_kept_physical():
    data = synth(sigma_db=6.0, n_per_cell=120, seed=11)
    cal = _fit(data)
    for e in cal.per_cell.values():
        assert 0.0 <= e["weight_k1"] <= 1.0 and 0.0 <= e["weight_k2"] <= 1.0
        assert 20.0 <= e["k2"] + cal.k.k5 * np.log10(30.0) <= 70.0


def test_cell_slope_outside_the_range_is_held():
    # one cell whose bins fall at 80 dB/decade over the band: its own slope is clipped at 70 (effective)
    n = 60
    ld = np.linspace(-0.5, 0.6, n)
    x = np.zeros((3 * n, 7))
    x[:, 0] = 1.0
    x[:, 1] = np.tile(ld, 3)
    x[:, 2] = np.log10(30.0)
    k = np.array([120.0, 44.9, -13.82, 0.0, -6.55, 0.0, 0.0])
    y = x @ k
    y[:n] += 60.0 * ld  # cell A: much steeper
    y[n:2 * n] += -3.0
    y[2 * n:] += 3.0 + np.random.default_rng(0).normal(0, 1, n)
    cells = np.array(["A"] * n + ["B"] * n + ["C"] * n, dtype=object)
    out, stats = shrink_cells(y, x, np.zeros((3 * n, 0)), cells, k, np.zeros(0), min_bins=30,
                              min_distance_decades=0.3)  # fmt: skip
    assert out["A"]["k2"] + k[4] * np.log10(30.0) == pytest.approx(70.0)
    assert "held at 70" in out["A"]["k2_note"]


def test_weights_and_spread_are_written_to_the_model_file(tmp_path):
    from netqa.calibrate import read_model_file, write_model_file

    cal = _fit(synth(n_per_cell=150))
    mf = read_model_file(write_model_file(tmp_path / "t.toml", cal))
    s = mf.calibration["settings"]["per_cell_shrinkage"]
    assert s["method"] == "empirical-bayes" and set(s["weights"]) == set(mf.per_cell)
    assert all(len(w) == 2 and 0.0 <= min(w) and max(w) <= 1.0 for w in s["weights"].values())


def _route_bins(rho, n_cells=8, n=80, seed=2):
    """Bins along one straight route per cell, no real cell effect, AR(1) shadowing of correlation rho between
    neighbouring bins."""
    rng = np.random.default_rng(seed)
    k = np.array([120.0, 35.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    ys, xs, cells, ij = [], [], [], []
    for c in range(n_cells):
        e = np.empty(n)
        e[0] = rng.normal(0, 6.0)
        for i in range(1, n):
            e[i] = rho * e[i - 1] + np.sqrt(1 - rho**2) * rng.normal(0, 6.0)
        ld = np.linspace(-0.6, 0.6, n)
        x = np.zeros((n, 7))
        x[:, 0], x[:, 1] = 1.0, ld
        ys.append(x @ k + e)
        xs.append(x)
        cells += [f"C{c}"] * n
        ij.append(np.column_stack([np.arange(n) + 1000 * c, np.zeros(n, int)]))
    return np.concatenate(ys), np.vstack(xs), np.array(cells, object), np.vstack(ij), k


def test_correlated_neighbours_are_detected_and_shrink_more():
    y, x, cells, ij, k = _route_bins(rho=0.85, n_cells=40)
    kw = dict(min_bins=30, min_distance_decades=0.3)
    naive, s_naive = shrink_cells(y, x, np.zeros((y.size, 0)), cells, k, np.zeros(0), **kw)
    aware, s_aware = shrink_cells(y, x, np.zeros((y.size, 0)), cells, k, np.zeros(0), bin_ij=ij, **kw)
    # detrending each cell's own line biases the estimate low (0.79 here), and the design effect is then a partial
    # correction: it removes a third or more of the spurious spread, not all of it
    assert s_aware["neighbour_correlation"] == pytest.approx(0.85, abs=0.1)
    assert s_naive["tau_k1_db"] > 1.5 and s_naive["tau_k2_db_per_decade"] > 4.0  # shadowing posing as cell effects
    assert s_aware["tau_k1_db"] < 0.75 * s_naive["tau_k1_db"]
    assert s_aware["tau_k2_db_per_decade"] < 0.75 * s_naive["tau_k2_db_per_decade"]
    assert np.mean([e["weight_k1"] for e in aware.values()]) < np.mean([e["weight_k1"] for e in naive.values()])


def test_independent_bins_need_no_correction():
    y, x, cells, ij, k = _route_bins(rho=0.0)
    _, s = shrink_cells(y, x, np.zeros((y.size, 0)), cells, k, np.zeros(0), bin_ij=ij, min_bins=30,
                        min_distance_decades=0.3)  # fmt: skip
    assert s["neighbour_correlation"] < 0.15
