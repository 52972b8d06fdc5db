"""Truncated Shannon bound (3GPP TR 36.942 Annex A): reference values, oracle, properties, validation."""

import csv
import math
from pathlib import Path

import numpy as np
import pytest

import propagation
from propagation import SHANNON_DL, SHANNON_UL, ShannonParams, shannon_sinr_max_db, truncated_shannon_bps_hz
from propagation.throughput import _truncated_shannon

REF = Path(__file__).resolve().parents[2] / "testdata" / "reference" / "shannon_tr36942.csv"


def _rows():
    with REF.open() as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    return [pytest.param(r, id=f"{r['link']}_{r['sinr_db']}dB") for r in rows]


@pytest.mark.parametrize("row", _rows())
def test_reference_values(row):
    params = SHANNON_DL if row["link"] == "dl" else SHANNON_UL
    got = truncated_shannon_bps_hz(float(row["sinr_db"]), *params)
    assert got == pytest.approx(float(row["se_bps_hz"]), abs=1e-12)


def test_named_constants_follow_table_a2():
    assert SHANNON_DL == ShannonParams(alpha=0.6, sinr_min_db=-10.0, se_max_bps_hz=4.4)
    assert SHANNON_UL == ShannonParams(alpha=0.4, sinr_min_db=-10.0, se_max_bps_hz=2.0)
    assert propagation.truncated_shannon_bps_hz is truncated_shannon_bps_hz


@pytest.mark.parametrize(("params", "expected_db"), [(SHANNON_DL, 22.0485), (SHANNON_UL, 14.9136)], ids=["dl", "ul"])
def test_sinr_max_is_where_the_bound_meets_thr_max(params, expected_db):
    sinr_max = float(shannon_sinr_max_db(params.alpha, params.se_max_bps_hz))
    assert sinr_max == pytest.approx(expected_db, abs=1e-4)
    below = truncated_shannon_bps_hz(sinr_max - 1e-9, *params)
    assert below == pytest.approx(params.se_max_bps_hz, abs=1e-9)  # continuous at SINR_MAX


def _oracle(sinr_db, alpha, sinr_min_db, se_max):
    if sinr_db < sinr_min_db:
        return 0.0
    return min(alpha * math.log2(1.0 + 10.0 ** (sinr_db / 10.0)), se_max)


def test_kernel_matches_oracle_on_random_inputs():
    rng = np.random.default_rng(36942)
    sinr = rng.uniform(-30.0, 40.0, 500)
    alpha = rng.uniform(0.1, 1.0, 500)
    smin = rng.uniform(-15.0, 0.0, 500)
    semax = rng.uniform(0.5, 8.0, 500)
    got = truncated_shannon_bps_hz(sinr, alpha, smin, semax)
    want = [_oracle(*args) for args in zip(sinr, alpha, smin, semax)]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    assert _truncated_shannon(5.0, 0.6, -10.0, 4.4) == pytest.approx(_oracle(5.0, 0.6, -10.0, 4.4))


@pytest.mark.parametrize("params", [SHANNON_DL, SHANNON_UL], ids=["dl", "ul"])
def test_monotonic_and_bounded(params):
    sinr = np.linspace(-30.0, 50.0, 2001)
    se = truncated_shannon_bps_hz(sinr, *params)
    assert np.all(np.diff(se) >= 0.0)
    assert se.min() == 0.0 and se.max() == params.se_max_bps_hz


def test_broadcasts_and_keeps_shape():
    got = truncated_shannon_bps_hz(np.zeros((2, 3)), alpha=[[0.6], [0.4]])
    assert got.shape == (2, 3)
    np.testing.assert_allclose(got[:, 0], [0.6, 0.4])


def test_scalar_in_scalar_out():
    got = truncated_shannon_bps_hz(0.0)
    assert isinstance(got, np.float64) and got == 0.6


def test_nan_raises_when_strict():
    with pytest.raises(ValueError, match="sinr_db must be finite"):
        truncated_shannon_bps_hz([1.0, np.nan])


def test_nan_passes_through_when_not_strict():
    got = truncated_shannon_bps_hz([np.nan, np.inf, -np.inf, 0.0], strict=False)
    assert np.isnan(got[0])
    np.testing.assert_array_equal(got[1:], [4.4, 0.0, 0.6])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"alpha": 0.0}, "alpha outside"),
        ({"alpha": 1.5}, "alpha outside"),
        ({"se_max_bps_hz": 0.0}, "se_max_bps_hz outside"),
        ({"sinr_min_db": np.nan}, "sinr_min_db must be finite"),
    ],
    ids=["alpha_zero", "alpha_above_one", "se_max_zero", "sinr_min_nan"],
)
def test_bad_parameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        truncated_shannon_bps_hz(0.0, **kwargs)


def test_input_not_modified():
    sinr = np.array([-20.0, 0.0, 30.0])
    before = sinr.copy()
    truncated_shannon_bps_hz(sinr)
    np.testing.assert_array_equal(sinr, before)
