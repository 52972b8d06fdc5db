"""The kernels' fast log/exp helpers agree with numpy to a few ulp (propagation._fastmath)."""

import numpy as np
import numba
import pytest

from propagation import _fastmath as fm


@numba.njit
def _apply(kind, x):
    out = np.empty(x.size)
    for i in range(x.size):
        if kind == 0:
            out[i] = fm.exp2(x[i])
        elif kind == 1:
            out[i] = fm.exp(x[i])
        elif kind == 2:
            out[i] = fm.db_to_lin(x[i])
        else:
            out[i] = fm.log10(x[i])
    return out


X = np.random.default_rng(0).uniform(-1000.0, 1000.0, 200_000)


@pytest.mark.parametrize(
    "kind, x, ref, rtol",
    [
        (0, X, np.exp2, 2e-15),
        (0, np.linspace(-60.0, 0.0, 100_001), np.exp2, 2e-15),
        (1, X / 2.0, np.exp, 5e-13),  # relative error grows with |x log2 e| by the rounding of the product
        (2, np.linspace(-200.0, 60.0, 100_001), lambda v: 10.0 ** (v / 10.0), 5e-14),
        (3, 10.0 ** np.random.default_rng(1).uniform(-10, 10, 100_000), np.log10, 1e-15),
    ],
    ids=["exp2-wide", "exp2-dbm-range", "exp", "db_to_lin", "log10"],
)
def test_fast_functions_match_numpy(kind, x, ref, rtol):
    got = _apply(kind, x)
    want = ref(x)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=0.0 if kind != 3 else 1e-15)


def test_exp2_limits():
    x = np.array([-1e6, -1074.5, 1024.0, 1e6, np.nan, 0.0, 1.0, -1.0])
    got = _apply(0, x)
    assert got[0] == 0.0 and got[1] == 0.0
    assert np.isinf(got[2]) and np.isinf(got[3])
    assert np.isnan(got[4])
    assert got[5] == 1.0 and got[6] == 2.0 and got[7] == 0.5
