"""Faster scalar log and exp for the numba kernels (same values to a few ulp).

glibc's ``log10`` is its old, slow implementation and ``exp`` goes through a
wrapper, while ``log`` and ``exp2`` are the newer fast ones.  Measured in a
numba loop on the project's machine (AMD EPYC, glibc 2.36): log10 6.7 ns vs
log x 1/ln 10 3.5 ns; exp 4.2 ns vs exp2 3.3 ns.  The results differ from
the direct calls by a few units in the last place (relative ~1e-16), far
below anything a dB figure shows; every kernel test compares against the
model formulas with a tolerance.
"""

from __future__ import annotations

import math

import numpy as np

from propagation._jit import jit_inline

_INV_LN10 = 1.0 / math.log(10.0)
_LOG2_E = 1.0 / math.log(2.0)
_LOG2_10_OVER_10 = math.log2(10.0) / 10.0


@jit_inline
def log10(x):
    """log10(x) as ln(x) / ln(10)."""
    return math.log(x) * _INV_LN10


@jit_inline
def exp(x):
    """e^x as 2^(x log2 e)."""
    return np.exp2(x * _LOG2_E)


@jit_inline
def db_to_lin(x_db):
    """10^(x / 10) as 2^(x log2(10) / 10): dB (dBm) to a linear power ratio (mW)."""
    return np.exp2(x_db * _LOG2_10_OVER_10)
