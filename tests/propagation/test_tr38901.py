"""Tests for propagation.tr38901: 3GPP TR 38.901 Table 7.4.1-1 (UMa, UMi street canyon, RMa)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from propagation import Tr38901Scenario, ValidityRangeWarning, tr38901_loss_db
from propagation._jit import jit
from propagation.tr38901 import _tr38901_db

REFERENCE = Path(__file__).resolve().parents[2] / "testdata" / "reference"
C = 299_792_458.0


def _read_reference(name):
    with open(REFERENCE / name, newline="") as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    return [pytest.param(row, id=row["case"]) for row in rows]


# --------------------------------------------------------------------------
# slow oracle straight from Table 7.4.1-1 (plain Python, math module)
# --------------------------------------------------------------------------


def oracle(scenario, freq_mhz, d2d_km, hbs, hut, los, h=5.0, w=20.0):
    fc = freq_mhz / 1000.0
    d2d = d2d_km * 1000.0
    d3d = math.sqrt(d2d**2 + (hbs - hut) ** 2)
    if scenario == "RMa":
        dbp = 2 * math.pi * hbs * hut * fc * 1e9 / C

        def pl1(d):
            return (
                20 * math.log10(40 * math.pi * d * fc / 3)
                + min(0.03 * h**1.72, 10) * math.log10(d)
                - min(0.044 * h**1.72, 14.77)
                + 0.002 * math.log10(h) * d
            )

        pl_los = pl1(d3d) if d2d <= dbp else pl1(dbp) + 40 * math.log10(d3d / dbp)
        pl_nlos = (
            161.04 - 7.1 * math.log10(w) + 7.5 * math.log10(h)
            - (24.37 - 3.7 * (h / hbs) ** 2) * math.log10(hbs)
            + (43.42 - 3.1 * math.log10(hbs)) * (math.log10(d3d) - 3)
            + 20 * math.log10(fc) - (3.2 * math.log10(11.75 * hut) ** 2 - 4.97)
        )  # fmt: skip
    else:
        dbp = 4 * (hbs - 1.0) * (hut - 1.0) * fc * 1e9 / C
        a, b, e = (28.0, 22.0, 9.0) if scenario == "UMa" else (32.4, 21.0, 9.5)
        if d2d <= dbp:
            pl_los = a + b * math.log10(d3d) + 20 * math.log10(fc)
        else:
            pl_los = a + 40 * math.log10(d3d) + 20 * math.log10(fc) - e * math.log10(dbp**2 + (hbs - hut) ** 2)
        if scenario == "UMa":
            pl_nlos = 13.54 + 39.08 * math.log10(d3d) + 20 * math.log10(fc) - 0.6 * (hut - 1.5)
        else:
            pl_nlos = 35.3 * math.log10(d3d) + 22.4 + 21.3 * math.log10(fc) - 0.3 * (hut - 1.5)
    return pl_los if los else max(pl_los, pl_nlos)


# --------------------------------------------------------------------------
# reference values
# --------------------------------------------------------------------------


@pytest.mark.parametrize("row", _read_reference("tr38901_reference.csv"))
def test_reference_values(row):
    got = tr38901_loss_db(
        row["scenario"], float(row["freq_mhz"]), float(row["dist_2d_km"]), float(row["h_bs_m"]),
        float(row["h_ut_m"]), bool(int(row["los"])), float(row["h_building_m"]), float(row["street_width_m"]),
    )  # fmt: skip
    assert got == pytest.approx(float(row["loss_db"]), abs=float(row["tol_db"]))


# --------------------------------------------------------------------------
# vectorised == oracle on seeded random inputs
# --------------------------------------------------------------------------

SETUPS = {
    # scenario: (freq range MHz, d2d range km, h_bs sampler, h_ut range)
    "UMa": ((500.0, 100_000.0), (0.01, 5.0), (25.0, 25.0), (1.5, 22.5)),
    "UMi": ((500.0, 100_000.0), (0.01, 5.0), (10.0, 10.0), (1.5, 22.5)),
    "RMa": ((500.0, 30_000.0), (0.01, 5.0), (10.0, 150.0), (1.0, 10.0)),
}


@pytest.mark.parametrize("scenario", list(SETUPS))
def test_matches_oracle(scenario):
    rng = np.random.default_rng(38901)
    n = 400
    (f0, f1), (d0, d1), (b0, b1), (u0, u1) = SETUPS[scenario]
    f = np.exp(rng.uniform(np.log(f0), np.log(f1), n))
    d = np.exp(rng.uniform(np.log(d0), np.log(d1), n))
    hbs, hut = rng.uniform(b0, b1, n), rng.uniform(u0, u1, n)
    los = rng.random(n) < 0.5
    h, w = rng.uniform(5, 50, n), rng.uniform(5, 50, n)
    want = [oracle(scenario, *args) for args in zip(f, d, hbs, hut, los, h, w)]
    got = tr38901_loss_db(scenario, f, d, hbs, hut, los, h, w)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    beyond = d > np.array([_breakpoint_km(scenario, *args) for args in zip(f, hbs, hut)])
    assert beyond.any() and (~beyond).any(), "both sides of the breakpoint must be exercised"


@jit
def _core_sum(dist_2d_km):
    total = 0.0
    for i in range(dist_2d_km.size):
        total += _tr38901_db(0, 3500.0, dist_2d_km[i], 25.0, 1.5, 0, 5.0, 20.0)
        total += _tr38901_db(2, 700.0, dist_2d_km[i], 35.0, 1.5, 1, 5.0, 20.0)
    return total


def test_scalar_core_callable_from_numba():
    d = np.array([0.05, 2.0])
    want = sum(oracle("UMa", 3500.0, x, 25.0, 1.5, False) + oracle("RMa", 700.0, x, 35.0, 1.5, True) for x in d)
    assert _core_sum(d) == pytest.approx(want, abs=1e-9)


# --------------------------------------------------------------------------
# physical properties
# --------------------------------------------------------------------------

CASES = [
    pytest.param("UMa", 3500.0, 25.0, 1.5, id="UMa-3.5GHz"),
    pytest.param("UMa", 28000.0, 25.0, 10.0, id="UMa-28GHz-hut10"),
    pytest.param("UMi", 3500.0, 10.0, 1.5, id="UMi-3.5GHz"),
    pytest.param("UMi", 700.0, 10.0, 5.0, id="UMi-700MHz-hut5"),
    pytest.param("RMa", 700.0, 35.0, 1.5, id="RMa-700MHz"),
    pytest.param("RMa", 6000.0, 100.0, 8.0, id="RMa-6GHz-hbs100"),
]
D2D_KM = np.geomspace(0.01, 5.0, 400)


@pytest.mark.parametrize("scenario, freq_mhz, h_bs_m, h_ut_m", CASES)
def test_nlos_at_least_los(scenario, freq_mhz, h_bs_m, h_ut_m):
    los = tr38901_loss_db(scenario, freq_mhz, D2D_KM, h_bs_m, h_ut_m, True)
    nlos = tr38901_loss_db(scenario, freq_mhz, D2D_KM, h_bs_m, h_ut_m, False)
    assert np.all(nlos >= los)
    assert np.any(nlos > los + 1.0)


@pytest.mark.parametrize("los", [True, False], ids=["LOS", "NLOS"])
@pytest.mark.parametrize("scenario, freq_mhz, h_bs_m, h_ut_m", CASES)
def test_monotone_in_distance(scenario, freq_mhz, h_bs_m, h_ut_m, los):
    assert np.all(np.diff(tr38901_loss_db(scenario, freq_mhz, D2D_KM, h_bs_m, h_ut_m, los)) > 0)


def _breakpoint_km(scenario, freq_mhz, h_bs_m, h_ut_m):
    if scenario == "RMa":
        return 2 * math.pi * h_bs_m * h_ut_m * freq_mhz * 1e6 / C / 1000
    return 4 * (h_bs_m - 1.0) * (h_ut_m - 1.0) * freq_mhz * 1e6 / C / 1000


@pytest.mark.parametrize(
    "scenario, freq_mhz, h_bs_m, h_ut_m, tol_db",
    [
        pytest.param("UMa", 3500.0, 25.0, 1.5, 1e-6, id="UMa"),
        pytest.param("UMi", 3500.0, 10.0, 1.5, 1e-6, id="UMi"),
        pytest.param("RMa", 700.0, 35.0, 1.5, 0.01, id="RMa"),
    ],
)
def test_continuity_at_breakpoint(scenario, freq_mhz, h_bs_m, h_ut_m, tol_db):
    """UMa/UMi: PL2 meets PL1 exactly at d'_BP (d3D^2 = d'_BP^2 + dh^2 there).

    RMa: the table evaluates PL1 at d3D below d_BP but at d_BP in PL2, so a step of
    about (40 - 20.5) log10(d3D/d_BP) remains: 0.007 dB here (d3D - d_BP = 0.73 m).
    """
    d_bp = _breakpoint_km(scenario, freq_mhz, h_bs_m, h_ut_m)
    assert 0.01 < d_bp < 5.0
    eps = 1e-9
    below, above = tr38901_loss_db(scenario, freq_mhz, [d_bp * (1 - eps), d_bp * (1 + eps)], h_bs_m, h_ut_m, True)
    assert above == pytest.approx(below, abs=tol_db)


def test_rma_slope_40db_per_decade_beyond_breakpoint():
    d = np.array([2.0, 20.0])  # d_BP is 0.77 km at 700 MHz; 20 km only with strict=False
    with pytest.warns(ValidityRangeWarning, match="dist_2d_km"):
        pl = tr38901_loss_db("RMa", 700.0, d, 35.0, 1.5, True, strict=False)
    assert pl[1] - pl[0] == pytest.approx(40.0, abs=0.01)


# --------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scenario, name, value",
    [
        ("UMa", "freq_mhz", 400.0),
        ("UMa", "freq_mhz", 120_000.0),
        ("RMa", "freq_mhz", 40_000.0),
        ("UMa", "dist_2d_km", 0.005),
        ("UMi", "dist_2d_km", 6.0),
        ("UMa", "h_bs_m", 30.0),
        ("UMi", "h_bs_m", 25.0),
        ("RMa", "h_bs_m", 200.0),
        ("UMa", "h_ut_m", 1.0),
        ("RMa", "h_ut_m", 12.0),
        ("RMa", "h_building_m", 60.0),
        ("RMa", "street_width_m", 2.0),
    ],
)
def test_out_of_range_strict_and_lenient(scenario, name, value):
    args = {
        "freq_mhz": 3500.0,
        "dist_2d_km": 1.0,
        "h_bs_m": {"UMa": 25.0, "UMi": 10.0, "RMa": 35.0}[scenario],
        "h_ut_m": 1.5,
        "los": False,
        "h_building_m": 5.0,
        "street_width_m": 20.0,
        name: value,
    }
    with pytest.raises(ValueError, match=rf"{name} outside the validity range of 3GPP TR 38.901 {scenario}"):
        tr38901_loss_db(scenario, **args)
    with pytest.warns(ValidityRangeWarning, match=name):
        got = tr38901_loss_db(scenario, **args, strict=False)
    assert got == pytest.approx(oracle(scenario, *(args[k] for k in ("freq_mhz", "dist_2d_km", "h_bs_m", "h_ut_m", "los", "h_building_m", "street_width_m"))), abs=1e-9)


def test_rma_distance_limit_depends_on_los():
    assert np.isfinite(tr38901_loss_db("RMa", 700.0, 8.0, 35.0, 1.5, True))
    with pytest.raises(ValueError, match=r"dist_2d_km outside the validity range of 3GPP TR 38.901 RMa NLOS: \[0.01, 5\] km"):
        tr38901_loss_db("RMa", 700.0, [8.0, 8.0], 35.0, 1.5, [True, False])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        pytest.param({"freq_mhz": np.nan}, "freq_mhz must be finite", id="freq-nan"),
        pytest.param({"dist_2d_km": 0.0}, "dist_2d_km must be > 0", id="dist-zero"),
        pytest.param({"h_ut_m": -1.5}, "h_ut_m must be > 0", id="hut-negative"),
        pytest.param({"h_bs_m": 0.0}, "h_bs_m must be > 0", id="hbs-zero"),
        pytest.param({"street_width_m": 0.0}, "street_width_m must be > 0", id="w-zero"),
        pytest.param({"los": 2}, "los must be boolean", id="los-2"),
        pytest.param({"los": "yes"}, "los must be boolean", id="los-text"),
    ],
)
@pytest.mark.parametrize("strict", [True, False], ids=["strict", "lenient"])
def test_impossible_input_always_raises(kwargs, match, strict):
    args = {"freq_mhz": 700.0, "dist_2d_km": 1.0, "h_bs_m": 35.0, "h_ut_m": 1.5, "los": True} | kwargs
    with pytest.raises(ValueError, match=match):
        tr38901_loss_db("RMa", **args, strict=strict)


def test_unknown_scenario_lists_valid_ones():
    with pytest.raises(ValueError, match=r"scenario must be one of 'UMa', 'UMi', 'RMa'; got 'InH'"):
        tr38901_loss_db("InH", 3500.0, 0.1, 3.0, 1.5, True)


@pytest.mark.parametrize("scenario", ["uma", "UMA", Tr38901Scenario.UMA], ids=["lower", "upper", "enum"])
def test_scenario_spellings(scenario):
    assert tr38901_loss_db(scenario, 3500.0, 0.3, 25.0, 1.5, True) == tr38901_loss_db("UMa", 3500.0, 0.3, 25.0, 1.5, True)


# --------------------------------------------------------------------------
# array behaviour
# --------------------------------------------------------------------------


def test_broadcasting_dtype_and_inputs_untouched():
    freq = np.array([[700.0], [3500.0], [28000.0]])
    dist = np.array([0.05, 0.5, 1.0, 4.0])
    los = np.array([True, False, True, False])
    copies = (freq.copy(), dist.copy(), los.copy())
    out = tr38901_loss_db("RMa", freq, dist, 35.0, 1.5, los)
    assert out.shape == (3, 4) and out.dtype == np.float64
    np.testing.assert_array_equal(freq, copies[0])
    np.testing.assert_array_equal(dist, copies[1])
    np.testing.assert_array_equal(los, copies[2])
    assert out[2, 1] == tr38901_loss_db("RMa", 28000.0, 0.5, 35.0, 1.5, False)


def test_scalar_in_numpy_float64_out_and_int_los():
    out = tr38901_loss_db("UMi", 3500, 1, 10, 2, 1)
    assert type(out) is np.float64
    assert out == tr38901_loss_db("UMi", 3500.0, 1.0, 10.0, 2.0, True)
