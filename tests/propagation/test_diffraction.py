"""Tests for propagation.diffraction: P.526 knife edge and P.1812 delta-Bullington."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.special

from propagation import delta_bullington_loss_db, knife_edge_loss_db
from propagation._validity import ValidityRangeWarning
from propagation.diffraction import (
    _bullington_db,
    _delta_bullington_db,
    _delta_bullington_parts,
    _smooth_earth_heights,
    _spherical_earth_db,
)
from propagation.knife_edge import _fresnel_cs, _knife_edge_j

REF = Path(__file__).resolve().parents[2] / "testdata" / "reference"


def _read_csv(name):
    with open(REF / name, newline="") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def _profiles():
    out = {}
    for row in _read_csv("p1812_profiles.csv"):
        out.setdefault(row["profile"], []).append((float(row["dist_km"]), float(row["ground_m"]), float(row["clutter_m"])))
    profiles = {}
    for name, rows in out.items():
        dist, ground, clutter = (np.array(col) for col in zip(*rows))
        surface = ground.copy()
        surface[1:-1] += clutter[1:-1]  # P.1812-6 eq. (1c): clutter at intermediate points only
        profiles[name] = (dist, ground, surface)
    return profiles


PROFILES = _profiles()
KNIFE_ROWS = _read_csv("p526_knife_edge.csv")
P1812_ROWS = _read_csv("p1812_delta_bullington.csv")
SMOOTH_ROWS = _read_csv("p1812_smooth_earth.csv")


def _row_id(row):
    return f"{row['profile']}-{row['polarization'][0]}-k{float(row['k_factor']):.2f}"


# ----------------------------------------------------------------------------- knife edge
@pytest.mark.parametrize(
    "x", [0.0, 1e-8, 0.3, -0.7, 1.2, 1.4999, 1.5, 1.5001, 2.7, -3.3, 7.9, 31.0, 1000.0], ids=lambda x: f"x={x}"
)
def test_fresnel_integrals_match_scipy(x):
    s_ref, c_ref = scipy.special.fresnel(x)
    c_val, s_val = _fresnel_cs(x)
    assert c_val == pytest.approx(c_ref, abs=1e-12)
    assert s_val == pytest.approx(s_ref, abs=1e-12)


def test_exact_j_matches_fresnel_formula_on_a_grid():
    v = np.linspace(-5.0, 20.0, 2501)
    s_ref, c_ref = scipy.special.fresnel(v)
    expected = -20.0 * np.log10(np.hypot(1.0 - c_ref - s_ref, c_ref - s_ref) / 2.0)
    np.testing.assert_allclose(knife_edge_loss_db(v, exact=True), expected, atol=1e-9)


@pytest.mark.parametrize("row", [r for r in KNIFE_ROWS if r["exact_db"]], ids=lambda r: f"v={r['v']}")
def test_exact_j_reference_values(row):
    assert float(knife_edge_loss_db(float(row["v"]), exact=True)) == pytest.approx(float(row["exact_db"]), abs=1e-4)


@pytest.mark.parametrize("row", KNIFE_ROWS, ids=lambda r: f"v={r['v']}")
def test_eq31_reference_values(row):
    v = float(row["v"])
    assert float(knife_edge_loss_db(v)) == pytest.approx(float(row["eq31_db"]), abs=1e-8)
    assert _knife_edge_j(v) == pytest.approx(float(row["eq31_db"]), abs=1e-8)


def test_eq31_approximates_exact_within_a_fraction_of_a_db():
    v = np.linspace(-0.7, 10.0, 500)
    assert np.max(np.abs(knife_edge_loss_db(v) - knife_edge_loss_db(v, exact=True))) < 0.6


def test_knife_edge_keeps_shape_and_does_not_modify_input():
    v = np.array([[0.0, 1.0], [2.0, -1.0]])
    before = v.copy()
    out = knife_edge_loss_db(v)
    assert out.shape == (2, 2) and out.dtype == np.float64
    np.testing.assert_array_equal(v, before)


def test_knife_edge_rejects_nan():
    with pytest.raises(ValueError, match="v must be finite"):
        knife_edge_loss_db([0.0, np.nan])


# ----------------------------------------------------------------------------- P.1812 validation
@pytest.mark.parametrize("row", P1812_ROWS, ids=_row_id)
def test_delta_bullington_matches_itu_validation_set(row):
    dist, ground, surface = PROFILES[row["profile"]]
    pol_id = 0 if row["polarization"] == "horizontal" else 1
    parts = _delta_bullington_parts(
        dist, ground, surface, float(row["h_tx_m"]), float(row["h_rx_m"]), float(row["freq_mhz"]),
        6371.0 * float(row["k_factor"]), float(row["sea_fraction"]), pol_id,
    )
    # Tolerance 1e-4 dB: the published values carry 10 significant digits.
    for value, key in zip(parts, ("l_d_db", "l_bulla_db", "l_bulls_db", "l_dsph_db")):
        if row[key]:
            assert value == pytest.approx(float(row[key]), abs=1e-4), key


@pytest.mark.parametrize("row", [r for r in P1812_ROWS if r["profile"] == "rburg_rural_noclutter"], ids=_row_id)
def test_public_function_matches_itu_validation_on_bare_profile(row):
    dist, ground, _ = PROFILES[row["profile"]]
    loss = delta_bullington_loss_db(
        dist, ground, float(row["h_tx_m"]), float(row["h_rx_m"]), float(row["freq_mhz"]),
        k_factor=float(row["k_factor"]), sea_fraction=float(row["sea_fraction"]), polarization=row["polarization"],
    )
    assert float(loss) == pytest.approx(float(row["l_d_db"]), abs=1e-4)


@pytest.mark.parametrize("row", SMOOTH_ROWS, ids=lambda r: r["profile"])
def test_smooth_earth_heights_match_itu_validation_set(row):
    dist, ground, _ = PROFILES[row["profile"]]
    h_std, h_srd = _smooth_earth_heights(
        dist, ground, ground[0] + float(row["h_tx_m"]), ground[-1] + float(row["h_rx_m"])
    )
    assert h_std == pytest.approx(float(row["h_std_m"]), abs=1e-5)
    assert h_srd == pytest.approx(float(row["h_srd_m"]), abs=1e-5)


# ----------------------------------------------------------------------------- oracle
def _j_oracle(v):
    return 0.0 if v <= -0.78 else 6.9 + 20 * math.log10(math.sqrt((v - 0.1) ** 2 + 1) + v - 0.1)


def _bullington_oracle(dist, height, h_ts, h_rs, freq_mhz, ae_km):
    """P.1812-6 eqs. (13)-(21) written directly from the Recommendation, plain Python."""
    d = float(dist[-1])
    lam = 0.2998 / (freq_mhz / 1000.0)
    inner = range(1, len(dist) - 1)
    bulge = [500.0 / ae_km * dist[i] * (d - dist[i]) for i in inner]
    s_tim = max((height[i] + b - h_ts) / dist[i] for i, b in zip(inner, bulge))
    s_tr = (h_rs - h_ts) / d
    if s_tim < s_tr:
        v_max = max(
            (height[i] + b - (h_ts * (d - dist[i]) + h_rs * dist[i]) / d)
            * math.sqrt(0.002 * d / (lam * dist[i] * (d - dist[i])))
            for i, b in zip(inner, bulge)
        )
        l_uc = _j_oracle(v_max)
    else:
        s_rim = max((height[i] + b - h_rs) / (d - dist[i]) for i, b in zip(inner, bulge))
        d_bp = (h_rs - h_ts + s_rim * d) / (s_tim + s_rim)
        v_b = (h_ts + s_tim * d_bp - (h_ts * (d - d_bp) + h_rs * d_bp) / d) * math.sqrt(
            0.002 * d / (lam * d_bp * (d - d_bp))
        )
        l_uc = _j_oracle(v_b)
    return l_uc + (1 - math.exp(-l_uc / 6)) * (10 + 0.02 * d)


@pytest.mark.parametrize("seed", range(12), ids=lambda s: f"seed{s}")
def test_bullington_kernel_matches_plain_python_oracle(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 200))
    dist = np.sort(rng.uniform(0.05, 60.0, n - 1))
    dist = np.concatenate([[0.0], dist])
    dist = np.unique(dist)
    height = rng.uniform(0.0, 400.0, dist.size) * rng.uniform(0.0, 1.0)
    h_ts = height[0] + rng.uniform(2.0, 200.0)
    h_rs = height[-1] + rng.uniform(2.0, 200.0)
    freq, ae = rng.uniform(30.0, 6000.0), 6371.0 * rng.uniform(1.0, 3.0)
    expected = _bullington_oracle(dist, height, h_ts, h_rs, freq, ae)
    assert _bullington_db(dist, height, h_ts, h_rs, freq, ae) == pytest.approx(expected, rel=1e-12, abs=1e-12)


# ----------------------------------------------------------------------------- properties
def test_flat_low_terrain_with_tall_antennas_has_no_excess_loss():
    dist = np.linspace(0.0, 5.0, 51)
    height = np.full(dist.size, 10.0)
    assert float(delta_bullington_loss_db(dist, height, 60.0, 40.0, 900.0)) == 0.0


def test_single_knife_edge_gives_bullington_of_its_own_j():
    # Short path, huge earth radius: the spherical part vanishes and the
    # Bullington apex is the edge itself, with v from the textbook geometry.
    d1, d2, edge_m, freq = 2.0, 3.0, 40.0, 1000.0
    dist = np.linspace(0.0, d1 + d2, 51)
    height = np.where(np.isclose(dist, d1), edge_m, 0.0)
    lam = 0.2998 / (freq / 1000.0)
    h_line = 10.0  # both antennas 10 m above flat ground: the ray is level at 10 m
    v = (edge_m - h_line) * math.sqrt(2.0 / lam * (1.0 / (d1 * 1000.0) + 1.0 / (d2 * 1000.0)))
    j = _j_oracle(v)
    expected = j + (1 - math.exp(-j / 6)) * (10 + 0.02 * (d1 + d2))
    got = float(delta_bullington_loss_db(dist, height, 10.0, 10.0, freq, k_factor=1e6))
    assert got == pytest.approx(expected, abs=1e-3)


def test_loss_does_not_decrease_as_an_obstacle_rises_on_flat_ground():
    dist = np.linspace(0.0, 10.0, 101)
    losses = []
    for top in np.linspace(0.0, 300.0, 61):
        height = np.where(np.isclose(dist, 4.0), top, 0.0)
        losses.append(float(delta_bullington_loss_db(dist, height, 20.0, 10.0, 800.0)))
    assert np.all(np.diff(losses) >= 0.0)
    assert losses[-1] > losses[0] + 30.0


def test_bullington_part_does_not_decrease_as_an_obstacle_rises_on_rough_ground():
    # The full delta-Bullington sum is NOT monotone here: once the raised point
    # becomes the highest obstruction it moves the smooth surface (P.1812-6
    # Att. 1 eq. (90)) and the spherical-earth correction drops -- a property
    # of the method, which the ITU validation values above pin down.
    dist = np.linspace(0.0, 20.0, 201)
    base = 50.0 * np.sin(dist / 3.0) ** 2
    losses = []
    for top in np.linspace(0.0, 300.0, 31):
        height = base + np.where(np.isclose(dist, 8.0), top, 0.0)
        losses.append(_bullington_db(dist, height, base[0] + 20.0, base[-1] + 10.0, 800.0, 8494.0))
    assert np.all(np.diff(losses) >= 0.0)
    assert losses[-1] > losses[0] + 10.0


def test_larger_k_factor_gives_less_loss_over_smooth_earth():
    dist = np.linspace(0.0, 80.0, 161)
    height = np.zeros(dist.size)
    ks = [1.0, 4.0 / 3.0, 2.0, 3.0, 10.0]
    losses = [float(delta_bullington_loss_db(dist, height, 30.0, 10.0, 600.0, k_factor=k)) for k in ks]
    assert np.all(np.diff(losses) < 0.0)
    assert losses[0] > 20.0


def test_spherical_earth_kernel_is_zero_with_ample_clearance():
    assert _spherical_earth_db(5.0, 200.0, 200.0, 900.0, 8494.0, 0.0, 0) == 0.0


def test_kernel_equals_public_function():
    dist, ground, _ = PROFILES["rburg_rural_noclutter"]
    kernel = _delta_bullington_db(dist, ground, 12.0, 19.0, 98.2, 6371.0 * 4.0 / 3.0, 0.3, 1)
    public = delta_bullington_loss_db(dist, ground, 12.0, 19.0, 98.2, sea_fraction=0.3, polarization="vertical")
    assert float(public) == pytest.approx(kernel, abs=1e-12)


def test_broadcasts_scalar_parameters_over_one_profile():
    dist, ground, _ = PROFILES["b2iseac_rural_land_10km"]
    out = delta_bullington_loss_db(dist, ground, [[10.0], [60.0]], 7.0, [100.0, 900.0, 2400.0])
    assert out.shape == (2, 3)
    single = delta_bullington_loss_db(dist, ground, 60.0, 7.0, 900.0)
    assert out[1, 1] == pytest.approx(float(single))


def test_inputs_are_not_modified():
    dist = np.linspace(0.0, 10.0, 21)
    height = np.linspace(100.0, 50.0, 21)
    h_tx = np.array([10.0, 20.0])
    copies = [a.copy() for a in (dist, height, h_tx)]
    delta_bullington_loss_db(dist, height, h_tx, 5.0, 900.0)
    for before, after in zip(copies, (dist, height, h_tx)):
        np.testing.assert_array_equal(before, after)


# ----------------------------------------------------------------------------- validation
GOOD = dict(dist_km=[0.0, 1.0, 2.0], height_m=[0.0, 5.0, 0.0], h_tx_m=10.0, h_rx_m=10.0, freq_mhz=900.0)


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(dist_km=[0.0, 1.0]), "same length"),
        (dict(dist_km=[0.0, 1.0], height_m=[0.0, 1.0]), "at least 3 points"),
        (dict(dist_km=[0.5, 1.0, 2.0]), "must start at 0"),
        (dict(dist_km=[0.0, 2.0, 1.0]), "strictly increasing"),
        (dict(dist_km=[0.0, 1.0, 1.0]), "strictly increasing"),
        (dict(height_m=[0.0, np.nan, 0.0]), "height_m must be finite"),
        (dict(dist_km=[[0.0, 1.0, 2.0]]), "1-D"),
        (dict(h_tx_m=0.0), "h_tx_m must be > 0"),
        (dict(freq_mhz=-5.0), "freq_mhz must be > 0"),
        (dict(freq_mhz=10.0), r"freq_mhz outside the validity range .*\[30, 6000\] MHz"),
        (dict(h_rx_m=0.5), r"h_rx_m outside the validity range"),
        (dict(k_factor=0.0), "k_factor must be > 0"),
        (dict(sea_fraction=1.5), r"sea_fraction must lie in \[0, 1\]"),
        (dict(polarization="circular"), "polarization must be one of"),
    ],
    ids=["length", "too-short", "start", "decreasing", "repeated", "nan", "2-d", "h_tx", "freq-neg",
         "freq-range", "h_rx-range", "k", "sea", "polarization"],
)
def test_invalid_arguments_raise(change, match):
    with pytest.raises(ValueError, match=match):
        delta_bullington_loss_db(**{**GOOD, **change})


def test_strict_false_warns_and_extrapolates():
    with pytest.warns(ValidityRangeWarning, match="freq_mhz"):
        out = delta_bullington_loss_db(**{**GOOD, "freq_mhz": 10000.0}, strict=False)
    assert np.isfinite(out) and out >= 0.0
