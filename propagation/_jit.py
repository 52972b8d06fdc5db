"""Numba JIT flags, set in one place.

``jit`` compiles a serial, cached, GIL-free kernel; ``jit_parallel`` adds
``parallel=True`` so that ``numba.prange`` really runs in parallel; ``jit_inline``
is ``jit`` inlined into the caller (hot helpers that take arrays).  Use
``prange`` only inside functions decorated with ``jit_parallel``.
"""

from __future__ import annotations

import numba

jit = numba.njit(cache=True, nogil=True, fastmath=False)
jit_parallel = numba.njit(cache=True, nogil=True, parallel=True, fastmath=False)
#: ``jit`` inlined into its caller at numba's IR level.  Use it for small helpers that take arrays and are
#: called in hot loops: a real call passes each array with an atomic reference-count increment and
#: decrement, and in a parallel loop those atomics bounce one cache line between the cores.
jit_inline = numba.njit(cache=True, nogil=True, fastmath=False, inline="always")
prange = numba.prange

__all__ = ["jit", "jit_inline", "jit_parallel", "prange"]
