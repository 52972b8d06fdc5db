"""Tests for propagation.pathloss: free space, Okumura-Hata, COST-231 Hata, SPM."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from propagation import (
    SPM_DEFAULT_K,
    HataCity,
    HataEnv,
    SpmCoefficients,
    ValidityRangeWarning,
    cost231_hata_loss_db,
    free_space_loss_db,
    hata_loss_db,
    spm_k1_at,
    spm_loss_db,
)
from propagation._jit import jit
from propagation.pathloss import _cost231_db, _fspl_db, _hata_db
from propagation.spm import _spm_db

REFERENCE = Path(__file__).resolve().parents[2] / "testdata" / "reference"


def _read_reference(name):
    with open(REFERENCE / name, newline="") as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    return [pytest.param(row, id=row["case"]) for row in rows]


# --------------------------------------------------------------------------
# slow oracles written straight from the equations (plain Python, math module)
# --------------------------------------------------------------------------


def oracle_fspl(f, d):
    return 20 * math.log10(4 * math.pi * 1e9 / 299_792_458.0) + 20 * math.log10(f) + 20 * math.log10(d)


def oracle_a_hrx(f, hm, city):
    if city == "large":
        if f <= 300:
            return 8.29 * math.log10(1.54 * hm) ** 2 - 1.1
        return 3.2 * math.log10(11.75 * hm) ** 2 - 4.97
    return (1.1 * math.log10(f) - 0.7) * hm - (1.56 * math.log10(f) - 0.8)


def oracle_hata(f, d, hb, hm, env, city):
    lu = (
        69.55
        + 26.16 * math.log10(f)
        - 13.82 * math.log10(hb)
        - oracle_a_hrx(f, hm, city)
        + (44.9 - 6.55 * math.log10(hb)) * math.log10(d)
    )
    if env == "suburban":
        return lu - 2 * (math.log10(f / 28)) ** 2 - 5.4
    if env == "open":
        return lu - 4.78 * math.log10(f) ** 2 + 18.33 * math.log10(f) - 40.94
    return lu


def oracle_cost231(f, d, hb, hm, city):
    if f == 1500.0:
        return oracle_hata(f, d, hb, hm, "urban", city)
    cm = 3.0 if city == "large" else 0.0
    return (
        46.3
        + 33.9 * math.log10(f)
        - 13.82 * math.log10(hb)
        - oracle_a_hrx(f, hm, city)
        + (44.9 - 6.55 * math.log10(hb)) * math.log10(d)
        + cm
    )


def oracle_spm(k1f, k, d, ht, hr, diff, clutter):
    ld, lh = math.log10(d), math.log10(ht)
    return (
        k1f + k.k2 * ld + k.k3 * lh + k.k4 * diff + k.k5 * ld * lh
        + k.k6 * hr + k.k7 * math.log10(hr) + clutter
    )  # fmt: skip


# --------------------------------------------------------------------------
# published / hand-computed reference values
# --------------------------------------------------------------------------


@pytest.mark.parametrize("row", _read_reference("fspl_reference.csv"))
def test_fspl_reference(row):
    got = free_space_loss_db(float(row["freq_mhz"]), float(row["dist_km"]))
    assert got == pytest.approx(float(row["loss_db"]), abs=float(row["tol_db"]))


@pytest.mark.parametrize("row", _read_reference("hata_reference.csv"))
def test_hata_reference(row):
    got = hata_loss_db(
        float(row["freq_mhz"]), float(row["dist_km"]), float(row["h_tx_m"]), float(row["h_rx_m"]),
        env=row["env"], city=row["city"],
    )  # fmt: skip
    assert got == pytest.approx(float(row["loss_db"]), abs=float(row["tol_db"]))


@pytest.mark.parametrize("row", _read_reference("cost231_reference.csv"))
def test_cost231_reference(row):
    args = (float(row["freq_mhz"]), float(row["dist_km"]), float(row["h_tx_m"]), float(row["h_rx_m"]))
    if args[0] <= 2000.0:
        got = cost231_hata_loss_db(*args, city=row["city"])
    else:  # ns-3 case above the model's 2000 MHz limit
        with pytest.warns(ValidityRangeWarning, match="freq_mhz"):
            got = cost231_hata_loss_db(*args, city=row["city"], strict=False)
    assert got == pytest.approx(float(row["loss_db"]), abs=float(row["tol_db"]))


def _spm_k(row):
    return SpmCoefficients(
        *(float(row[f"k{i}"]) for i in range(1, 8)),
        f_ref_mhz=float(row["f_ref_mhz"]) if row["f_ref_mhz"] else None,
        k_freq_db_per_decade=float(row["k_freq_db_per_decade"]),
    )


@pytest.mark.parametrize("row", _read_reference("spm_reference.csv"))
def test_spm_reference(row):
    k = _spm_k(row)
    freq = float(row["freq_mhz"])
    if row["quantity"] == "k1_at":
        got = spm_k1_at(k, freq)
    else:
        got = spm_loss_db(
            freq, float(row["dist_km"]), float(row["h_tx_eff_m"]), float(row["h_rx_m"]), k=k,
            diffraction_db=float(row["diffraction_db"]), clutter_db=float(row["clutter_db"]),
        )  # fmt: skip
    assert got == pytest.approx(float(row["value"]), abs=float(row["tol_db"]))


# --------------------------------------------------------------------------
# vectorised path == slow oracle on seeded random inputs
# --------------------------------------------------------------------------

N_RANDOM = 300


@pytest.fixture
def rng():
    return np.random.default_rng(20240601)


def _uniform_log(rng, lo, hi, n=N_RANDOM):
    return np.exp(rng.uniform(np.log(lo), np.log(hi), n))


def test_fspl_matches_oracle(rng):
    f, d = _uniform_log(rng, 1.0, 1e5), _uniform_log(rng, 1e-4, 1e3)
    want = [oracle_fspl(a, b) for a, b in zip(f, d)]
    np.testing.assert_allclose(free_space_loss_db(f, d), want, rtol=0, atol=1e-9)


@pytest.mark.parametrize("env", ["urban", "suburban", "open"])
@pytest.mark.parametrize("city", ["medium", "large"])
def test_hata_matches_oracle(rng, env, city):
    f = rng.uniform(150, 1500, N_RANDOM)
    d, hb, hm = rng.uniform(1, 20, N_RANDOM), rng.uniform(30, 200, N_RANDOM), rng.uniform(1, 10, N_RANDOM)
    want = [oracle_hata(*args, env, city) for args in zip(f, d, hb, hm)]
    np.testing.assert_allclose(hata_loss_db(f, d, hb, hm, env=env, city=city), want, rtol=0, atol=1e-9)


@pytest.mark.parametrize("city", ["medium", "large"])
def test_cost231_matches_oracle(rng, city):
    f = np.concatenate([[1500.0], rng.uniform(1500, 2000, N_RANDOM)])
    n = f.size
    d, hb, hm = rng.uniform(1, 20, n), rng.uniform(30, 200, n), rng.uniform(1, 10, n)
    want = [oracle_cost231(*args, city) for args in zip(f, d, hb, hm)]
    np.testing.assert_allclose(cost231_hata_loss_db(f, d, hb, hm, city=city), want, rtol=0, atol=1e-9)


def test_spm_matches_oracle(rng):
    k = SpmCoefficients(18.0, 42.0, 4.0, 0.7, -5.5, -0.2, -1.0, f_ref_mhz=2100.0, k_freq_db_per_decade=23.0)
    f = rng.uniform(150, 3500, N_RANDOM)
    d, ht, hr = rng.uniform(1, 20, N_RANDOM), rng.uniform(1, 300, N_RANDOM), rng.uniform(1, 10, N_RANDOM)
    diff, clut = rng.uniform(0, 30, N_RANDOM), rng.uniform(-5, 25, N_RANDOM)
    want = [
        oracle_spm(k.k1 + 23.0 * math.log10(fi / 2100.0), k, *rest)
        for fi, *rest in zip(f, d, ht, hr, diff, clut)
    ]
    got = spm_loss_db(f, d, ht, hr, k=k, diffraction_db=diff, clutter_db=clut)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


@jit
def _engine_like_sum(freq_mhz, dist_km):
    """Call every scalar core from inside a numba kernel, as the raster engine does."""
    total = 0.0
    for i in range(dist_km.size):
        total += _fspl_db(freq_mhz, dist_km[i])
        total += _hata_db(freq_mhz, dist_km[i], 40.0, 1.5, 1, 0)
        total += _cost231_db(1800.0, dist_km[i], 40.0, 1.5, 1)
        total += _spm_db(150.0, 44.9, -13.82, 1.0, -6.55, 0.0, 0.0, dist_km[i], 40.0, 1.5, 2.0, 3.0)
    return total


def test_scalar_cores_callable_from_numba():
    d = np.array([1.0, 5.0])
    want = sum(
        oracle_fspl(900.0, x)
        + oracle_hata(900.0, x, 40.0, 1.5, "suburban", "medium")
        + oracle_cost231(1800.0, x, 40.0, 1.5, "large")
        + 150.0 + 44.9 * math.log10(x) - 13.82 * math.log10(40.0) + 2.0 - 6.55 * math.log10(x) * math.log10(40.0) + 3.0
        for x in d
    )  # fmt: skip
    assert _engine_like_sum(900.0, d) == pytest.approx(want, abs=1e-9)
    assert int(HataEnv.SUBURBAN) == 1 and int(HataCity.LARGE) == 1


# --------------------------------------------------------------------------
# physical properties
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "factor, step_db",
    [pytest.param(10.0, 20.0, id="decade"), pytest.param(2.0, 20 * math.log10(2.0), id="octave")],
)
@pytest.mark.parametrize("axis", ["distance", "frequency"])
def test_fspl_slope(factor, step_db, axis):
    f, d = 900.0, np.array([0.1, 1.0, 7.0])
    base = free_space_loss_db(f, d)
    moved = free_space_loss_db(f * factor, d) if axis == "frequency" else free_space_loss_db(f, d * factor)
    np.testing.assert_allclose(moved - base, step_db, atol=1e-9)
    assert 20 * math.log10(2.0) == pytest.approx(6.02, abs=0.005)


DIST_KM = np.linspace(1.0, 20.0, 60)


@pytest.mark.parametrize(
    "model",
    [
        pytest.param(lambda d: free_space_loss_db(900.0, d), id="fspl"),
        *(
            pytest.param(lambda d, e=e, c=c: hata_loss_db(450.0, d, 45.0, 1.5, env=e, city=c), id=f"hata-{e}-{c}")
            for e in ("urban", "suburban", "open")
            for c in ("medium", "large")
        ),
        pytest.param(lambda d: cost231_hata_loss_db(1800.0, d, 200.0, 10.0, city="large"), id="cost231"),
        pytest.param(lambda d: spm_loss_db(2100.0, d, 200.0, 1.5), id="spm-default"),
    ],
)
def test_monotone_in_distance(model):
    assert np.all(np.diff(model(DIST_KM)) > 0)


@pytest.mark.parametrize("city", ["medium", "large"])
@pytest.mark.parametrize("freq_mhz", [150.0, 450.0, 900.0, 1500.0])
def test_hata_environment_ordering(freq_mhz, city):
    args = (freq_mhz, DIST_KM, 50.0, 1.5)
    urban = hata_loss_db(*args, env="urban", city=city)
    suburban = hata_loss_db(*args, env="suburban", city=city)
    open_ = hata_loss_db(*args, env="open", city=city)
    assert np.all(suburban < urban) and np.all(open_ < suburban)


def test_cost231_at_1500_is_hata_and_large_city_adds_cm():
    args = (np.array([1.0, 10.0]), 50.0, np.array([[1.5], [6.0]]))
    for city in ("medium", "large"):
        np.testing.assert_array_equal(
            cost231_hata_loss_db(1500.0, *args, city=city), hata_loss_db(1500.0, *args, env="urban", city=city)
        )
    # h_rx = 1.5 m: the two a(h_rx) agree to 0.05 dB, so "large" is C_M = 3 dB above "medium"
    diff = cost231_hata_loss_db(1800.0, 5.0, 50.0, 1.5, city="large") - cost231_hata_loss_db(1800.0, 5.0, 50.0, 1.5)
    assert diff == pytest.approx(3.0, abs=0.05)


F_HATA = np.geomspace(150.0, 1500.0, 25)
F_COST = np.linspace(1500.0, 2000.0, 11)[1:]


def test_spm_default_equals_hata_cost231_at_1p5m():
    """SPM_DEFAULT_K reproduces Hata/COST-231 urban medium city at h_rx = 1.5 m (tolerance 1e-9 dB)."""
    d = DIST_KM[:, None]
    hb = np.array([30.0, 75.0, 200.0])[:, None, None]
    hata = hata_loss_db(F_HATA, d, hb, 1.5)
    cost = cost231_hata_loss_db(F_COST, d, hb, 1.5)
    np.testing.assert_allclose(spm_loss_db(F_HATA, d, hb, 1.5), hata, rtol=0, atol=1e-9)
    np.testing.assert_allclose(spm_loss_db(F_COST, d, hb, 1.5), cost, rtol=0, atol=1e-9)


@pytest.mark.parametrize("h_rx_m", [1.0, 3.0, 10.0])
def test_spm_default_residual_is_a_hrx_linearisation(h_rx_m):
    """Away from 1.5 m the residual is exactly the frozen K6: 1.1 log10(f/900) (h_rx - 1.5) dB."""
    f = np.concatenate([F_HATA, F_COST])
    ref = np.where(
        f <= 1500.0,
        hata_loss_db(np.minimum(f, 1500.0), 5.0, 50.0, h_rx_m),
        cost231_hata_loss_db(np.maximum(f, 1500.0), 5.0, 50.0, h_rx_m),
    )
    residual = spm_loss_db(f, 5.0, 50.0, h_rx_m) - ref
    np.testing.assert_allclose(residual, 1.1 * np.log10(f / 900.0) * (h_rx_m - 1.5), atol=1e-9)


def test_spm_k1_conventions():
    k = SpmCoefficients(20.0, 44.9, 5.83, 1.0, -6.55, 0.0, 0.0)
    assert spm_k1_at(k, 2600.0) == 20.0  # no f_ref: K1 used as is
    k23 = k._replace(f_ref_mhz=1800.0)
    assert spm_k1_at(k23, 18000.0) == pytest.approx(43.0)  # 23 dB per decade by default
    assert spm_k1_at(k23._replace(k_freq_db_per_decade=30.0), [180.0, 1800.0]).tolist() == pytest.approx([-10.0, 20.0])
    hata_slope = k._replace(f_ref_mhz=900.0, k_freq_db_per_decade=None)
    step = hata_loss_db(1200.0, 1.0, 30.0, 1.5) - hata_loss_db(900.0, 1.0, 30.0, 1.5)
    assert spm_k1_at(hata_slope, 1200.0) - 20.0 == pytest.approx(step, abs=1e-9)


# --------------------------------------------------------------------------
# validation behaviour
# --------------------------------------------------------------------------

VALID_HATA = {"freq_mhz": 900.0, "dist_km": 5.0, "h_tx_m": 50.0, "h_rx_m": 1.5}


@pytest.mark.parametrize(
    "name, value",
    [("freq_mhz", 100.0), ("freq_mhz", 1600.0), ("dist_km", 0.5), ("dist_km", 25.0),
     ("h_tx_m", 20.0), ("h_tx_m", 250.0), ("h_rx_m", 0.5), ("h_rx_m", 12.0)],
)  # fmt: skip
def test_hata_out_of_range_strict_raises_and_lenient_warns(name, value):
    args = {**VALID_HATA, name: value}
    with pytest.raises(ValueError, match=rf"{name} outside the validity range of Okumura-Hata"):
        hata_loss_db(**args)
    with pytest.warns(ValidityRangeWarning, match=name):
        got = hata_loss_db(**args, strict=False)
    want = oracle_hata(*args.values(), "urban", "medium")
    assert got == pytest.approx(want, abs=1e-9)


@pytest.mark.parametrize(
    "name, value",
    [("freq_mhz", 1400.0), ("freq_mhz", 2100.0), ("dist_km", 21.0), ("h_tx_m", 29.0), ("h_rx_m", 11.0)],
)
def test_cost231_out_of_range(name, value):
    args = {**VALID_HATA, "freq_mhz": 1800.0, name: value}
    with pytest.raises(ValueError, match=rf"{name} outside the validity range of COST-231 Hata"):
        cost231_hata_loss_db(**args)
    with pytest.warns(ValidityRangeWarning):
        got = cost231_hata_loss_db(**args, strict=False)
    assert got == pytest.approx(oracle_cost231(*args.values(), "medium"), abs=1e-9)


@pytest.mark.parametrize(
    "index, value, match",
    [
        pytest.param(0, float("nan"), "freq_mhz must be finite", id="freq-nan"),
        pytest.param(1, 0.0, "dist_km must be > 0", id="dist-zero"),
        pytest.param(1, -1.0, "dist_km must be > 0", id="dist-negative"),
        pytest.param(0, -900.0, "freq_mhz must be > 0", id="freq-negative"),
        pytest.param(2, 0.0, r"h_tx(_eff)?_m must be > 0", id="htx-zero"),
        pytest.param(3, -1.5, "h_rx_m must be > 0", id="hrx-negative"),
        pytest.param(1, "far", "dist_km must be numeric", id="dist-text"),
    ],
)
@pytest.mark.parametrize("func", [hata_loss_db, spm_loss_db], ids=["hata", "spm"])
@pytest.mark.parametrize("strict", [True, False], ids=["strict", "lenient"])
def test_impossible_input_always_raises(func, index, value, match, strict):
    args = [900.0, 5.0, 50.0, 1.5]
    args[index] = value
    with pytest.raises(ValueError, match=match):
        func(*args, strict=strict)


@pytest.mark.parametrize(
    "call, match",
    [
        pytest.param(lambda: free_space_loss_db(0.0, 1.0), "freq_mhz must be > 0", id="fspl-freq"),
        pytest.param(lambda: free_space_loss_db(900.0, [1.0, np.inf]), "dist_km must be finite", id="fspl-inf"),
        pytest.param(lambda: spm_loss_db(900.0, 5.0, 50.0, 1.5, diffraction_db=np.nan), "diffraction_db", id="spm-nan-diff"),
    ],
)
def test_impossible_input_other_models(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"env": "rural"}, r"env must be one of 'urban', 'suburban', 'open'; got 'rural'"),
        ({"city": "small"}, r"city must be one of 'medium', 'large'; got 'small'"),
    ],
)
def test_unknown_options_list_valid_ones(kwargs, match):
    with pytest.raises(ValueError, match=match):
        hata_loss_db(**VALID_HATA, **kwargs)


def test_cost231_unknown_city():
    with pytest.raises(ValueError, match="city must be one of 'medium', 'large'"):
        cost231_hata_loss_db(1800.0, 5.0, 50.0, 1.5, city="metropolitan")


@pytest.mark.parametrize("name, value", [("freq_mhz", 100.0), ("freq_mhz", 4000.0), ("dist_km", 0.2), ("dist_km", 30.0)])
def test_spm_ranges(name, value):
    args = {"freq_mhz": 900.0, "dist_km": 5.0, "h_tx_eff_m": 50.0, "h_rx_m": 1.5, name: value}
    with pytest.raises(ValueError, match=rf"{name} outside the validity range of SPM"):
        spm_loss_db(**args)
    with pytest.warns(ValidityRangeWarning):
        assert np.isfinite(spm_loss_db(**args, strict=False))


# --------------------------------------------------------------------------
# SpmCoefficients mapping (calibration TOML)
# --------------------------------------------------------------------------

K_MAPPING = {"k1": 21.5, "k2": 44.9, "k3": 5.83, "k4": 1, "k5": -6.55, "k6": 0, "k7": -0.8, "f_ref_mhz": 1800}


def test_from_mapping_round_trip():
    k = SpmCoefficients.from_mapping(K_MAPPING)
    assert all(isinstance(v, float) for v in k)
    assert SpmCoefficients.from_mapping(k.to_mapping()) == k
    assert spm_loss_db(1800.0, 3.0, 40.0, 1.5, k=K_MAPPING) == spm_loss_db(1800.0, 3.0, 40.0, 1.5, k=k)
    assert SpmCoefficients.from_mapping(SPM_DEFAULT_K.to_mapping() | {"k_freq_db_per_decade": 26.0}).k1 == SPM_DEFAULT_K.k1


@pytest.mark.parametrize(
    "mapping, match",
    [
        pytest.param(K_MAPPING | {"k8": 1.0}, r"unknown SPM coefficient key\(s\) 'k8'; valid keys: k1, k2", id="unknown-key"),
        pytest.param({k: v for k, v in K_MAPPING.items() if k != "k3"}, "missing required key.*k3", id="missing-k3"),
        pytest.param(K_MAPPING | {"k2": "44.9"}, "k2 must be a number, got '44.9'", id="string"),
        pytest.param(K_MAPPING | {"k4": True}, "k4 must be a number", id="bool"),
        pytest.param(K_MAPPING | {"k1": float("nan")}, "k1 must be finite", id="nan"),
        pytest.param(K_MAPPING | {"f_ref_mhz": 0.0}, "f_ref_mhz must be > 0", id="fref-zero"),
    ],
)
def test_from_mapping_rejects(mapping, match):
    with pytest.raises(ValueError, match=match):
        SpmCoefficients.from_mapping(mapping)


def test_spm_rejects_bad_k_type():
    with pytest.raises(ValueError, match="k must be SpmCoefficients or a mapping"):
        spm_loss_db(900.0, 5.0, 50.0, 1.5, k=[1, 2, 3])


# --------------------------------------------------------------------------
# array behaviour: broadcasting, dtype, 0-d results, inputs untouched
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "func, args",
    [
        pytest.param(free_space_loss_db, (np.array([[900.0], [1800.0], [2600.0]]), np.array([1.0, 2.0, 5.0, 9.0])), id="fspl"),
        pytest.param(hata_loss_db, (np.array([[900.0], [450.0], [150.0]]), np.array([1.0, 2.0, 5.0, 9.0]), 50.0, 1.5), id="hata"),
        pytest.param(cost231_hata_loss_db, (np.array([[1800.0], [1900.0], [2000.0]]), np.array([1.0, 2.0, 5.0, 9.0]), 50.0, 1.5), id="cost231"),
        pytest.param(spm_loss_db, (np.array([[900.0], [1800.0], [2600.0]]), np.array([1.0, 2.0, 5.0, 9.0]), 50.0, 1.5), id="spm"),
    ],
)
def test_broadcasting_dtype_and_inputs_untouched(func, args):
    copies = [np.copy(a) for a in args]
    out = func(*args)
    assert out.shape == (3, 4) and out.dtype == np.float64
    for a, c in zip(args, copies):
        np.testing.assert_array_equal(a, c)
    element = [float(b[1, 2]) for b in np.broadcast_arrays(*args)]
    assert out[1, 2] == func(*element)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: free_space_loss_db(900, 1), id="fspl"),
        pytest.param(lambda: hata_loss_db(900, 5, 50, 2), id="hata"),
        pytest.param(lambda: cost231_hata_loss_db(1800, 5, 50, 2), id="cost231"),
        pytest.param(lambda: spm_loss_db(900, 5, 50, 2), id="spm"),
        pytest.param(lambda: spm_k1_at(SPM_DEFAULT_K, 900), id="spm_k1_at"),
    ],
)
def test_scalar_in_numpy_float64_out(call):
    out = call()
    assert type(out) is np.float64


def test_empty_arrays():
    assert hata_loss_db(np.array([]), 5.0, 50.0, 1.5).shape == (0,)
