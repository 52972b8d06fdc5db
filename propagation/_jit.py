"""Numba JIT flags, set in one place.

``jit`` compiles a serial, cached, GIL-free kernel; ``jit_parallel`` adds
``parallel=True`` so that ``numba.prange`` really runs in parallel.  Use
``prange`` only inside functions decorated with ``jit_parallel``.
"""

from __future__ import annotations

import numba

jit = numba.njit(cache=True, nogil=True, fastmath=False)
jit_parallel = numba.njit(cache=True, nogil=True, parallel=True, fastmath=False)
prange = numba.prange

__all__ = ["jit", "jit_parallel", "prange"]
