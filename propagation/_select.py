"""Exact order statistics of small float arrays without data-dependent branches (numba kernels).

ITM's terrain irregularity delta_h is an interdecile range: the 10 % and 90 % order statistics of up to 245
residuals, once per profile (and once per knot of the ``--terrain itm`` raster sweep).  A classic in-place
quickselect spends most of its time in mispredicted branches (each comparison is a coin flip).  Here each
partition pass copies every element to both ends of a second buffer and advances one of two counters by the
comparison's outcome (no branch on the data), ping-ponging between the two buffers:

    lower = buf[off : off + n_lt]        elements < pivot
    upper = buf[off + n - n_gt : off + n] elements > pivot; the n - n_lt - n_gt equal ones are the pivot's value

so every pass removes at least the pivot and the loop ends.  :func:`select2` shares the passes of two ranks
while they fall on the same side, then finishes each on its own side.  The values are the exact order
statistics (``numpy.partition``'s), so callers get bit-identical results to any other exact select.
"""

from __future__ import annotations

from propagation._jit import jit_inline


@jit_inline
def _pivot(a, off, n):
    """Median of the first, middle and last elements of a[off:off + n]."""
    x = a[off]
    y = a[off + (n >> 1)]
    z = a[off + n - 1]
    return max(min(x, y), min(max(x, y), z))


@jit_inline
def _partition(src, dst, off, n, p):
    """Branch-free split of src[off:off + n] around p into dst (lower block first, upper block last): (n_lt, n_gt)."""
    n_lt = 0
    n_gt = 0
    top = off + n - 1
    for i in range(off, off + n):
        x = src[i]
        dst[off + n_lt] = x
        dst[top - n_gt] = x
        n_lt += x < p
        n_gt += x > p
    return n_lt, n_gt


@jit_inline
def _select_from(a, b, off, n, k, in_a):
    """The k-th smallest (0-based) of the n values at [off, off + n) of a (in_a) or b; a and b are scratch."""
    while n > 1:
        src = a if in_a else b
        dst = b if in_a else a
        p = _pivot(src, off, n)
        n_lt, n_gt = _partition(src, dst, off, n, p)
        in_a = not in_a
        if k < n_lt:
            n = n_lt
        elif k >= n - n_gt:
            k -= n - n_gt
            off += n - n_gt
            n = n_gt
        else:
            return p
    return a[off] if in_a else b[off]


@jit_inline
def select(a, b, n, k):
    """The k-th smallest (0-based) of a[:n]; a[:n] and b[:n] are overwritten (b is scratch, len(b) >= n)."""
    return _select_from(a, b, 0, n, k, True)


@jit_inline
def _partition2(src, dst, n, p_lo, p_hi):
    """Branch-free: the values < p_lo to dst[:n_lt], those > p_hi to dst[n - n_gt:n]; returns (n_lt, n_gt)."""
    n_lt = 0
    n_gt = 0
    for i in range(n):
        x = src[i]
        dst[n_lt] = x
        dst[n - 1 - n_gt] = x
        n_lt += x < p_lo
        n_gt += x > p_hi
    return n_lt, n_gt


#: select2's sample: N_SAMPLE values spread over the array, sorted; the two pivots are its S_LO-th and
#: S_HI-th (0-based) values, about the 28 % and 72 % points.
N_SAMPLE = 15
S_LO = 4
S_HI = 10


@jit_inline
def select2(a, b, n, k_lo, k_hi):
    """(k_lo-th, k_hi-th) smallest (0-based, k_lo <= k_hi) of a[:n]; a[:n] and b[:n] are overwritten.

    For ranks in the outer quarters (delta_h's 10 % and 90 %) of 40 values or more, one pass around two
    pivots from a sorted sample of 15 leaves each rank in a block of about a quarter of the values; when a
    rank is not in its block (the sample was unlucky, or the ranks are central) the general passes follow.
    """
    if n >= 40:
        for i in range(N_SAMPLE):  # insertion sort of the sample into b
            x = a[(i * (n - 1)) // (N_SAMPLE - 1)]
            j = i
            while j > 0 and b[j - 1] > x:
                b[j] = b[j - 1]
                j -= 1
            b[j] = x
        p_lo = b[S_LO]
        p_hi = b[S_HI]
        n_lt, n_gt = _partition2(a, b, n, p_lo, p_hi)
        if k_lo < n_lt and k_hi >= n - n_gt:
            v_lo = _select_from(b, a, 0, n_lt, k_lo, True)
            v_hi = _select_from(b, a, n - n_gt, n_gt, k_hi - (n - n_gt), True)
            return v_lo, v_hi
    off = 0
    in_a = True
    while n > 1:
        src = a if in_a else b
        dst = b if in_a else a
        p = _pivot(src, off, n)
        n_lt, n_gt = _partition(src, dst, off, n, p)
        in_a = not in_a
        n_le = n - n_gt
        if k_hi < n_lt:  # both below the pivot
            n = n_lt
        elif k_lo >= n_le:  # both above
            k_lo -= n_le
            k_hi -= n_le
            off += n_le
            n = n_gt
        else:  # split (either may be the pivot's value)
            v_lo = p if k_lo >= n_lt else _select_from(a, b, off, n_lt, k_lo, in_a)
            v_hi = p if k_hi < n_le else _select_from(a, b, off + n_le, n_gt, k_hi - n_le, in_a)
            return v_lo, v_hi
    v = a[off] if in_a else b[off]
    return v, v
