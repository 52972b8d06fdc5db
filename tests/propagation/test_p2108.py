"""Tests for propagation.p2108: ITU-R P.2108-1 clutter loss models."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import scipy.stats

from propagation import p2108_clutter_loss_db, p2108_height_gain_db
from propagation._validity import ValidityRangeWarning
from propagation.p2108 import P2108_CLUTTER_TYPES, _a_h_knife_edge_db, _a_h_log_db, _l_ctt_db, _q_inverse

REF = Path(__file__).resolve().parents[2] / "testdata" / "reference"


def _read_csv(name):
    with open(REF / name, newline="") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


TERRESTRIAL = _read_csv("p2108_terrestrial.csv")
HEIGHT_GAIN = _read_csv("p2108_height_gain.csv")
PUBLISHED_ROUNDING_DB = 0.05 + 1e-6  # the NTIA vectors are published to 0.1 dB


@pytest.mark.parametrize(
    "row", TERRESTRIAL, ids=lambda r: f"{r['freq_mhz']}MHz-{r['dist_km']}km-p{r['location_pct']}"
)
def test_terrestrial_clutter_loss_matches_reference_vectors(row):
    got = p2108_clutter_loss_db(float(row["freq_mhz"]), float(row["dist_km"]), float(row["location_pct"]))
    assert float(got) == pytest.approx(float(row["l_ctt_db"]), abs=PUBLISHED_ROUNDING_DB)


@pytest.mark.parametrize(
    "row", HEIGHT_GAIN, ids=lambda r: f"{r['clutter_type']}-{r['freq_mhz']}MHz-h{r['h_rx_m']}-R{r['clutter_height_m']}"
)
def test_height_gain_matches_reference_vectors(row):
    got = p2108_height_gain_db(
        float(row["freq_mhz"]), float(row["h_rx_m"]), row["clutter_type"],
        clutter_height_m=float(row["clutter_height_m"]), street_width_m=float(row["street_width_m"]),
    )
    assert float(got) == pytest.approx(float(row["a_h_db"]), abs=PUBLISHED_ROUNDING_DB)


@pytest.mark.parametrize("q", [1e-9, 0.001, 0.1, 0.3, 0.5, 0.77, 0.999, 1 - 1e-9], ids=lambda q: f"q={q}")
def test_inverse_q_matches_scipy(q):
    assert float(_q_inverse(np.array(q))) == pytest.approx(scipy.stats.norm.isf(q), abs=1e-9)


@pytest.mark.parametrize("clutter_type", list(P2108_CLUTTER_TYPES))
def test_none_takes_table3_default_height(clutter_type):
    default_r = P2108_CLUTTER_TYPES[clutter_type][0]
    assert float(p2108_height_gain_db(900.0, 1.5, clutter_type)) == float(
        p2108_height_gain_db(900.0, 1.5, clutter_type, clutter_height_m=default_r)
    )


def test_table3_default_heights():
    assert {k: v[0] for k, v in P2108_CLUTTER_TYPES.items()} == {
        "water_sea": 10.0, "open_rural": 10.0, "suburban": 10.0, "urban": 15.0, "trees_forest": 15.0, "dense_urban": 20.0,
    }


@pytest.mark.parametrize("clutter_type", list(P2108_CLUTTER_TYPES))
def test_height_gain_falls_with_height_and_is_zero_above_clutter(clutter_type):
    h = np.linspace(0.5, 25.0, 50)
    loss = p2108_height_gain_db(1800.0, h, clutter_type)
    assert np.all(np.diff(loss) <= 1e-12)
    r = P2108_CLUTTER_TYPES[clutter_type][0]
    assert np.all(loss[h >= r] == 0.0) and np.all(loss[h < r] > 0.0)


def test_clutter_loss_grows_with_distance_up_to_the_2km_cap():
    d = np.array([0.25, 0.5, 1.0, 2.0, 5.0, 50.0])
    loss = p2108_clutter_loss_db(3500.0, d)
    assert np.all(np.diff(loss[:4]) > 0.0)
    np.testing.assert_allclose(loss[3:], loss[3])


def test_clutter_loss_grows_with_location_percentage():
    loss = p2108_clutter_loss_db(28000.0, 1.0, np.linspace(1.0, 99.0, 99))
    assert np.all(np.diff(loss) > 0.0)


def test_clutter_loss_broadcasts_and_keeps_inputs():
    freq = np.array([[1000.0], [10000.0]])
    dist = np.array([0.5, 1.0, 3.0])
    before = (freq.copy(), dist.copy())
    out = p2108_clutter_loss_db(freq, dist)
    assert out.shape == (2, 3) and out.dtype == np.float64
    np.testing.assert_array_equal(freq, before[0])
    np.testing.assert_array_equal(dist, before[1])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(freq_mhz=400.0, dist_km=1.0), r"freq_mhz outside the validity range .*\[500, 67000\] MHz"),
        (dict(freq_mhz=67100.0, dist_km=1.0), "freq_mhz outside the validity range"),
        (dict(freq_mhz=10000.0, dist_km=0.24), r"dist_km outside the validity range .*0.25"),
        (dict(freq_mhz=6000.0, dist_km=3.0, location_pct=0.0), "location_pct must lie strictly between 0 and 100"),
        (dict(freq_mhz=6000.0, dist_km=3.0, location_pct=100.0), "location_pct must lie strictly between 0 and 100"),
        (dict(freq_mhz=6000.0, dist_km=-1.0), "dist_km must be > 0"),
        (dict(freq_mhz=np.nan, dist_km=1.0), "freq_mhz must be finite"),
    ],
    ids=["freq-low", "freq-high", "dist-short", "p-0", "p-100", "dist-negative", "nan"],
)
def test_clutter_loss_invalid_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        p2108_clutter_loss_db(**kwargs)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((20.0, 2.0, "urban"), {}, r"freq_mhz outside the validity range .*\[30, 3000\] MHz"),
        ((4000.0, 2.0, "urban"), {}, "freq_mhz outside the validity range"),
        ((1000.0, 0.0, "open_rural"), {}, "h_rx_m must be > 0"),
        ((2000.0, 1.0, "dense_urban"), dict(street_width_m=0.0), "street_width_m must be > 0"),
        ((2000.0, 1.0, "dense_urban"), dict(clutter_height_m=0.0), "clutter_height_m must be > 0"),
        ((900.0, 1.5, "forest"), {}, "clutter_type must be one of"),
    ],
    ids=["freq-low", "freq-high", "h-zero", "street-zero", "R-zero", "bad-type"],
)
def test_height_gain_invalid_arguments_raise(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        p2108_height_gain_db(*args, **kwargs)


def test_strict_false_warns_and_extrapolates():
    with pytest.warns(ValidityRangeWarning, match="freq_mhz"):
        out = p2108_height_gain_db(3500.0, 1.5, "urban", strict=False)
    assert out > 0.0
    with pytest.warns(ValidityRangeWarning, match="dist_km"):
        out = p2108_clutter_loss_db(3500.0, 0.1, strict=False)
    assert np.isfinite(out)


# --- scalar numba cores (the public functions and the raster engine run them) vs a numpy transcription -------------


def _height_gain_numpy(f_mhz, h, r, ws, model):
    """Eqs. (2a)/(2b), (3), (4a)-(4e) of P.2108-1 written out with numpy, 0 for h >= R."""
    f_ghz = f_mhz * 1e-3
    below = h < r
    if model == "urban":
        h_dif = np.where(below, r - h, 0.0)
        nu = 0.342 * np.sqrt(f_ghz) * np.sqrt(h_dif * np.degrees(np.arctan(h_dif / ws)))
        w = nu - 0.1
        loss = 6.9 + 20.0 * np.log10(np.sqrt(w * w + 1.0) + w) - 6.03
    else:
        loss = -(21.8 + 6.2 * np.log10(f_ghz)) * np.log10(np.where(below, h / r, 1.0))
    return np.where(below, loss, 0.0)


def _l_ctt_numpy(f_mhz, d_km, q_inv):
    """Eqs. (6)-(8) of P.2108-1 written out with numpy, capped at the 2 km value."""
    def l_ctt(d):
        f_ghz = f_mhz * 1e-3
        l_l = -2.0 * np.log10(10.0 ** (-5.0 * np.log10(f_ghz) - 12.5) + 10.0**-16.5)
        l_s = 32.98 + 23.9 * np.log10(d) + 3.0 * np.log10(f_ghz)
        w_l, w_s = 10.0 ** (-0.2 * l_l), 10.0 ** (-0.2 * l_s)
        return -5.0 * np.log10(w_l + w_s) - np.sqrt((16.0 * w_l + 36.0 * w_s) / (w_l + w_s)) * q_inv

    return np.minimum(l_ctt(d_km), l_ctt(2.0))


_CORE_FREQ_MHZ = [30.0, 150.0, 900.0, 2100.0, 3000.0]
_CORE_H_M = [0.5, 1.5, 4.0, 9.99, 10.0, 14.0, 30.0]
_CORE_R_M = [2.0, 10.0, 15.0, 25.0]


@pytest.mark.parametrize("clutter_type", list(P2108_CLUTTER_TYPES))
@pytest.mark.parametrize("street_width_m", [5.0, 27.0, 60.0], ids=lambda w: f"ws{w:g}")
def test_height_gain_cores_equal_the_equations(clutter_type, street_width_m):
    model = P2108_CLUTTER_TYPES[clutter_type][1]
    f, h, r = (a.ravel() for a in np.meshgrid(_CORE_FREQ_MHZ, _CORE_H_M, _CORE_R_M, indexing="ij"))
    want = _height_gain_numpy(f, h, r, street_width_m, model)
    if model == "urban":
        core = [_a_h_knife_edge_db(fi * 1e-3, hi, ri, street_width_m) for fi, hi, ri in zip(f, h, r)]
    else:
        core = [_a_h_log_db(fi * 1e-3, hi, ri) for fi, hi, ri in zip(f, h, r)]
    np.testing.assert_allclose(core, want, rtol=0.0, atol=1e-9)
    public = p2108_height_gain_db(f, h, clutter_type, clutter_height_m=r, street_width_m=street_width_m)
    np.testing.assert_allclose(public, want, rtol=0.0, atol=1e-9)
    assert np.any(want > 0.0) and np.any(want == 0.0)  # the grid spans both branches


@pytest.mark.parametrize("location_pct", [0.1, 10.0, 50.0, 85.0, 99.9], ids=lambda p: f"p{p:g}")
def test_statistical_core_equals_the_equations_including_the_2km_cap(location_pct):
    f, d = (a.ravel() for a in np.meshgrid([500.0, 900.0, 3500.0, 28000.0, 67000.0],
                                           [0.25, 0.7, 1.5, 1.999, 2.0, 2.5, 10.0, 300.0], indexing="ij"))  # fmt: skip
    q_inv = float(_q_inverse(np.array(location_pct / 100.0)))
    want = _l_ctt_numpy(f, d, q_inv)
    core = [_l_ctt_db(fi * 1e-3, di, q_inv) for fi, di in zip(f, d)]
    np.testing.assert_allclose(core, want, rtol=0.0, atol=1e-9)
    np.testing.assert_allclose(p2108_clutter_loss_db(f, d, location_pct), want, rtol=0.0, atol=1e-9)
