"""Longley-Rice ITM point to point: NTIA's published examples, a plain-Python oracle, physics, errors."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pytest

from propagation import ItmMode, ValidityRangeWarning, itm_p2p, itm_p2p_loss_db
from propagation import _itm_profile as _p
from propagation._itm_core import longley_rice
from propagation.itm import WARNING_FLAGS, _raise_or_warn
from tests.propagation.itm_oracle import itm_p2p_oracle

REF = Path(__file__).resolve().parents[2] / "testdata" / "reference"


def _rows(name):
    with open(REF / name, newline="") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def _profiles():
    out = []
    with open(REF / "itm_p2p_profiles.csv") as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            v = [float(x) for x in line.split(",")]
            assert len(v) == int(v[0]) + 3
            out.append((np.array(v[2:]), v[1]))
    return out


PROFILES = _profiles()
P2P_ROWS = _rows("itm_p2p.csv")
EXAMPLE_ROWS = _rows("itm_p2p_example.csv")
EXAMPLE_INTER = {r["quantity"]: r for r in _rows("itm_p2p_example_intermediate.csv")}
EXAMPLE_ARGS = {"h_tx_m": 15.0, "h_rx_m": 3.0, "freq_mhz": 3500.0, "climate": 5, "refractivity_n0": 301.0, "polarization": "vertical",
                    "permittivity": 15.0, "conductivity_s_per_m": 0.005, "mdvar": 1}  # fmt: skip


def _quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidityRangeWarning)
        return fn(*a, **k)


@pytest.mark.parametrize("row", P2P_ROWS, ids=lambda r: f"profile{r['profile']}-{r['f__mhz']}MHz")
def test_ntia_p2p_examples(row):
    z, xi = PROFILES[int(row["profile"])]
    loss = _quiet(
        itm_p2p_loss_db, z, xi, float(row["h_tx__meter"]), float(row["h_rx__meter"]), float(row["f__mhz"]),
        int(row["climate"]), float(row["N_0"]), "vertical" if row["pol"] == "1" else "horizontal",
        float(row["epsilon"]), float(row["sigma"]), int(row["mdvar"]), float(row["time"]), float(row["location"]),
        float(row["situation"]), strict=False,
    )  # fmt: skip
    assert loss == pytest.approx(float(row["A__db"]), abs=0.005 + 1e-9)


@pytest.mark.parametrize("row", EXAMPLE_ROWS, ids=lambda r: f"{r['kind']}-t{r['time']}-s{r['situation']}")
def test_ntia_cmd_example(row):
    z, xi = PROFILES[5]
    loss = itm_p2p_loss_db(z, xi, **EXAMPLE_ARGS, time_pct=float(row["time"]), location_pct=float(row["location"]),
                           situation_pct=float(row["situation"]))  # fmt: skip
    assert loss == pytest.approx(float(row["loss_db"]), abs=0.05 + 1e-9)


def test_ntia_cmd_example_intermediate_values():
    z, xi = PROFILES[5]
    r = itm_p2p(z, xi, **EXAMPLE_ARGS, time_pct=50.0, location_pct=50.0, situation_pct=50.0)
    got = {
        "free_space_db": r.free_space_db, "dist_km": r.dist_km, "theta_hzn_tx_mrad": 1e3 * r.theta_hzn_rad[0],
        "theta_hzn_rx_mrad": 1e3 * r.theta_hzn_rad[1], "d_hzn_tx_m": r.d_hzn_m[0], "d_hzn_rx_m": r.d_hzn_m[1],
        "h_e_tx_m": r.h_e_m[0], "h_e_rx_m": r.h_e_m[1], "n_s": r.n_s, "delta_h_m": r.delta_h_m, "a_ref_db": r.a_ref_db,
        "mode": int(r.mode),
    }  # fmt: skip
    assert set(got) == set(EXAMPLE_INTER)
    for name, ref in EXAMPLE_INTER.items():
        assert got[name] == pytest.approx(float(ref["value"]), abs=float(ref["tolerance"]) + 1e-9), name
    assert r.warning_flags == 0 and r.warnings == ()


def _random_case(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 400))
    step = float(rng.uniform(30.0, 1500.0))
    kind = seed % 3
    x = np.arange(n + 1) * step
    if kind == 0:  # rolling hills
        z = 200.0 + rng.uniform(5, 150) * np.sin(x / rng.uniform(800, 8000) + rng.uniform(0, 6)) + rng.normal(0, 5, n + 1)
    elif kind == 1:  # random walk
        z = 300.0 + np.cumsum(rng.normal(0, rng.uniform(0.5, 20.0), n + 1))
    else:  # a ridge on gently sloping ground
        z = 50.0 + x * rng.uniform(-2e-3, 2e-3) + rng.uniform(20, 400) * np.exp(-(((x - rng.uniform(0.2, 0.8) * x[-1]) / (3 * step)) ** 2))
    z = np.maximum(z, 0.0)
    args = {"h_tx_m": float(rng.uniform(2.0, 200.0)), "h_rx_m": float(rng.uniform(1.0, 20.0)),
                "freq_mhz": float(rng.uniform(50.0, 9000.0)), "climate": int(rng.integers(1, 8)),
                "refractivity_n0": float(rng.uniform(260.0, 390.0)), "polarization": ("vertical", "horizontal")[seed % 2],
                "permittivity": float(rng.uniform(4.0, 80.0)), "conductivity_s_per_m": float(rng.uniform(1e-3, 5.0)),
                "mdvar": int(rng.choice([0, 1, 2, 3, 11, 12, 23, 33])), "time_pct": float(rng.uniform(1, 99)),
                "location_pct": float(rng.uniform(1, 99)), "situation_pct": float(rng.uniform(1, 99))}  # fmt: skip
    return z, step, args


@pytest.mark.parametrize("seed", range(40))
def test_kernel_matches_plain_python_oracle(seed):
    z, step, a = _random_case(seed)
    r = _quiet(itm_p2p, z, step, **a, strict=False)
    loss, aref, mode, dh, he, dl, the = itm_p2p_oracle(
        z, step, a["h_tx_m"], a["h_rx_m"], a["freq_mhz"], a["climate"], a["refractivity_n0"], a["polarization"],
        a["permittivity"], a["conductivity_s_per_m"], a["mdvar"], a["time_pct"], a["location_pct"], a["situation_pct"],
    )  # fmt: skip
    assert int(r.mode) == mode
    assert r.delta_h_m == pytest.approx(dh, rel=1e-9, abs=1e-9)
    assert r.h_e_m == pytest.approx(tuple(he), rel=1e-9)
    assert r.d_hzn_m == pytest.approx(tuple(dl), rel=1e-9)
    assert r.theta_hzn_rad == pytest.approx(tuple(the), rel=1e-9, abs=1e-12)
    assert r.a_ref_db == pytest.approx(aref, rel=1e-9, abs=1e-9)
    assert r.loss_db == pytest.approx(loss, rel=1e-9, abs=1e-9)


def test_oracle_cases_cover_every_mode():
    modes = {_quiet(itm_p2p, *_random_case(s)[:2], **_random_case(s)[2], strict=False).mode for s in range(40)}
    assert modes == set(ItmMode)


# ---------------------------------------------------------------- physics
def _flat(dist_km, step_m=100.0, height=100.0):
    return np.full(round(dist_km * 1e3 / step_m) + 1, height), step_m


def test_flat_earth_modes_with_distance():
    modes = [itm_p2p(*_flat(d, 500.0), 30.0, 10.0, 900.0, strict=False).mode for d in (10.0, 60.0, 150.0, 600.0)]
    assert modes == [ItmMode.LINE_OF_SIGHT, ItmMode.DIFFRACTION, ItmMode.DIFFRACTION, ItmMode.TROPOSCATTER] or (
        modes[0] == ItmMode.LINE_OF_SIGHT and modes[-1] == ItmMode.TROPOSCATTER
    )


def test_loss_grows_with_distance_over_flat_earth():
    loss = [float(itm_p2p_loss_db(*_flat(d, 200.0), 30.0, 2.0, 900.0)) for d in (2, 5, 10, 20, 40, 80, 160, 320)]
    assert np.all(np.diff(loss) > 0.0)


def test_ridge_adds_loss():
    z, step = _flat(20.0)
    ridge = z.copy()
    ridge[95:106] += 150.0
    flat = float(itm_p2p_loss_db(z, step, 30.0, 2.0, 900.0))
    assert float(itm_p2p_loss_db(ridge, step, 30.0, 2.0, 900.0)) > flat + 10.0


def test_higher_mast_lowers_loss_beyond_the_horizon():
    z, step = _flat(60.0, 300.0)
    loss = itm_p2p_loss_db(z, step, np.array([10.0, 30.0, 100.0, 300.0]), 2.0, 900.0)
    assert np.all(np.diff(loss) < 0.0)


def test_time_quantile_is_monotone_and_location_ignored_with_mdvar_12():
    z, step = _flat(60.0, 300.0)
    by_time = itm_p2p_loss_db(z, step, 30.0, 2.0, 900.0, time_pct=np.array([10.0, 50.0, 90.0, 99.0]))
    assert np.all(np.diff(by_time) > 0.0)
    by_loc = itm_p2p_loss_db(z, step, 30.0, 2.0, 900.0, location_pct=np.array([10.0, 50.0, 90.0]))
    assert np.ptp(by_loc) == pytest.approx(0.0, abs=1e-9)
    rough = z + 20.0 * np.sin(np.arange(z.size) / 10.0)  # location variability grows with delta_h
    with_loc = itm_p2p_loss_db(rough, step, 30.0, 2.0, 900.0, mdvar=3, location_pct=np.array([10.0, 50.0, 90.0]))
    assert np.all(np.diff(with_loc) > 0.0)


def test_broadcasting_equals_scalar_calls():
    z, step = PROFILES[5]
    f = np.array([[300.0, 900.0], [2000.0, 3500.0]])
    out = itm_p2p_loss_db(z, step, 15.0, 3.0, f)
    assert out.shape == (2, 2)
    for idx in np.ndindex(f.shape):
        assert out[idx] == float(itm_p2p_loss_db(z, step, 15.0, 3.0, f[idx]))


def test_profile_is_not_modified():
    z, step = PROFILES[5]
    keep = z.copy()
    itm_p2p_loss_db(z, step, 15.0, 3.0, 900.0)
    assert np.array_equal(z, keep)


# ---------------------------------------------------------------- errors and warnings (reference codes)
Z10, S10 = _flat(10.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"h_tx_m": 0.4}, r"h_tx_m must lie in \[0.5, 3000\]"),  # 1000
        ({"h_rx_m": 3500.0}, r"h_rx_m must lie in \[0.5, 3000\]"),  # 1001
        ({"climate": 8}, "climate must be one of"),  # 1002
        ({"time_pct": 100.0}, r"time_pct must lie in \(0, 100\)"),  # 1003
        ({"location_pct": 0.0}, r"location_pct must lie in \(0, 100\)"),  # 1004
        ({"situation_pct": -1.0}, r"situation_pct must lie in \(0, 100\)"),  # 1005
        ({"refractivity_n0": 240.0}, r"refractivity_n0 must lie in \[250, 400\]"),  # 1008
        ({"freq_mhz": 25000.0}, r"freq_mhz must lie in \[20, 20000\]"),  # 1009
        ({"polarization": "circular"}, "polarization must be one of"),  # 1010
        ({"permittivity": 0.5}, "permittivity .* must be >= 1"),  # 1011
        ({"conductivity_s_per_m": 0.0}, "conductivity_s_per_m must be > 0"),  # 1012
        ({"mdvar": 5}, "mdvar must be one of"),  # 1014
    ],
    ids=lambda v: str(v)[:40],
)
def test_reference_error_codes_raise(kwargs, match):
    args = {"h_tx_m": 30.0, "h_rx_m": 2.0, "freq_mhz": 900.0} | kwargs
    with pytest.raises(ValueError, match=match):
        itm_p2p_loss_db(Z10, S10, strict=False, **args)


@pytest.mark.parametrize("code", [1013, 1016, 1021, 1022])
def test_computed_error_codes_map_to_value_errors(code):
    inter = np.zeros((1, _p.N_INTER))
    inter[0, _p.I_ERR] = code
    with pytest.raises(ValueError, match=f"reference error code {code}"):
        _raise_or_warn(inter)


def test_ground_impedance_check_in_kernel():  # 1013: unreachable from valid ground constants, checked in the kernel
    out = longley_rice(-0.002, -0.002, 900.0, complex(0.1, 0.2), 2e4, 2e4, 30.0, 2.0, 1.0 / 8.5e6, 301.0, 10.0, 30.0,
                       2.0, 1e4)  # fmt: skip
    assert out[3] == 1013


def test_surface_refractivity_too_small_raises():  # 1021
    z = np.full(101, 5000.0)
    with pytest.raises(ValueError, match="surface refractivity N_s .* below 150"):
        itm_p2p_loss_db(z, 100.0, 30.0, 2.0, 900.0, refractivity_n0=250.0)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"h_tx_m": 0.8}, "h_tx_m"), ({"h_rx_m": 1500.0}, "h_rx_m"), ({"freq_mhz": 30.0}, "freq_mhz")],
    ids=["tx-height", "rx-height", "frequency"],
)
def test_input_range_warnings_strict_and_lenient(kwargs, name):  # 0x0001, 0x0002, 0x0004
    args = {"h_tx_m": 30.0, "h_rx_m": 2.0, "freq_mhz": 900.0} | kwargs
    with pytest.raises(ValueError, match=f"{name} outside the validity range of ITM"):
        itm_p2p_loss_db(Z10, S10, **args)
    with pytest.warns(ValidityRangeWarning, match=name):
        r = itm_p2p(Z10, S10, **args, strict=False)
    assert np.isfinite(r.loss_db)
    assert {"h_tx_m": "tx_terminal_height", "h_rx_m": "rx_terminal_height", "freq_mhz": "frequency"}[name] in r.warnings


def test_short_path_strict_and_lenient():  # 0x0040
    z, step = _flat(0.5, 10.0)
    with pytest.raises(ValueError, match=r"path length .* outside the validity range of ITM \(Longley-Rice\): \[1, 2000\] km"):
        itm_p2p_loss_db(z, step, 30.0, 2.0, 900.0)
    with pytest.warns(ValidityRangeWarning, match="path length"):
        r = itm_p2p(z, step, 30.0, 2.0, 900.0, strict=False)
    assert "path_distance_too_small_2" in r.warnings


def test_long_path_warns():  # 0x0008, and 0x0010 beyond 2000 km
    z, step = _flat(1200.0, 4000.0)
    with pytest.warns(ValidityRangeWarning, match="path_distance_too_big_1"):
        itm_p2p_loss_db(z, step, 30.0, 2.0, 900.0)
    z, step = _flat(2400.0, 8000.0)
    with pytest.raises(ValueError, match="path length"):
        itm_p2p_loss_db(z, step, 30.0, 2.0, 900.0)


def test_computed_warnings_are_validity_range_warnings():
    z = np.full(201, 1000.0)
    z[3] = 1400.0  # a cliff 300 m from the transmitter: horizon angle > 200 mrad, horizon much nearer than smooth earth
    with pytest.warns(ValidityRangeWarning) as rec:
        r = itm_p2p(z, 100.0, 10.0, 2.0, 900.0, refractivity_n0=260.0, time_pct=0.05)
    text = " ".join(str(w.message) for w in rec)
    for name in ("tx_horizon_angle", "tx_horizon_distance_1", "extreme_variabilities", "surface_refractivity"):
        assert name in r.warnings and name in text


def test_every_reference_warning_flag_is_named():
    assert sorted(WARNING_FLAGS) == [1 << i for i in range(15)]


@pytest.mark.parametrize(
    ("args", "match"),
    [((np.zeros(2), 100.0), "at least 3 heights"), ((np.zeros((3, 3)), 100.0), "1-D profile"),
     ((np.zeros(10), 0.0), "step_m must be one number > 0"), ((np.array([0.0, np.nan, 0.0]), 100.0), "finite")],
    ids=["short", "2-d", "step", "nan"],
)
def test_bad_profile(args, match):
    with pytest.raises(ValueError, match=match):
        itm_p2p_loss_db(*args, 30.0, 2.0, 900.0)


def test_itm_p2p_rejects_arrays():
    with pytest.raises(ValueError, match="itm_p2p takes scalar arguments"):
        itm_p2p(Z10, S10, 30.0, 2.0, np.array([900.0, 1800.0]))


@pytest.mark.parametrize("seed", range(5))
def test_branch_free_selects_match_sorting(seed):
    """delta_h's order statistics: exact (numpy's sorted values), ties and constant arrays included."""
    from propagation._select import select, select2

    rng = np.random.default_rng(seed)
    for i in range(300):
        m = int(rng.integers(1, 246))
        a = np.round(rng.normal(size=m), int(rng.integers(0, 3)))  # ties included
        if i % 50 == 0:
            a[:] = 1.5  # all equal
        ref = np.sort(a)
        k_lo, k_hi = sorted(int(k) for k in rng.integers(0, m, 2))
        scratch = np.full(m, np.nan)
        assert select2(a.copy(), scratch, m, k_lo, k_hi) == (ref[k_lo], ref[k_hi])
        assert select(a.copy(), scratch, m, k_hi) == ref[k_hi]
        p10 = min(max(4, m // 10), 25)
        if m >= 10 * p10 - 5:  # delta_h's own ranks
            assert select2(a.copy(), scratch, m, p10 - 1, m - p10) == (ref[p10 - 1], ref[m - p10])
