"""Argument checking shared by every public model.

Public model functions take scalars or array-likes, broadcast them, and return
float64.  Two kinds of check apply:

* *impossible* input (NaN, infinite, distance <= 0, frequency <= 0, ...) always
  raises :class:`ValueError` naming the argument;
* input outside a model's *validity range* raises :class:`ValueError` naming the
  argument and the range when ``strict=True`` and, with ``strict=False``, emits a
  :class:`ValidityRangeWarning` and extrapolates the same formula.
"""

from __future__ import annotations

import warnings

import numpy as np


class ValidityRangeWarning(UserWarning):
    """An input lies outside the empirical validity range of a model.

    Emitted with ``strict=False``; the model extrapolates its formula.
    """


def as_float(name: str, value) -> np.ndarray:
    """Return ``value`` as a float64 array (a copy is never modified in place).

    Raises ``ValueError`` if it cannot be converted or holds NaN/inf.
    """
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric, got {value!r}") from exc
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf), got {_show(arr[~np.isfinite(arr)])}")
    return arr


def require_positive(name: str, arr: np.ndarray, unit: str = "") -> None:
    """Raise ``ValueError`` unless every element of ``arr`` is > 0."""
    bad = arr <= 0
    if np.any(bad):
        raise ValueError(f"{name} must be > 0{(' ' + unit) if unit else ''}, got {_show(arr[bad])}")


def require_nonnegative(name: str, arr: np.ndarray, unit: str = "") -> None:
    """Raise ``ValueError`` unless every element of ``arr`` is >= 0."""
    bad = arr < 0
    if np.any(bad):
        raise ValueError(f"{name} must be >= 0{(' ' + unit) if unit else ''}, got {_show(arr[bad])}")


def check_range(
    name: str,
    arr: np.ndarray,
    lo: float,
    hi: float,
    unit: str,
    model: str,
    strict: bool,
    *,
    lo_inclusive: bool = True,
    hi_inclusive: bool = True,
) -> None:
    """Check ``lo <= arr <= hi`` (the model's validity range).

    ``strict=True`` raises ``ValueError``; ``strict=False`` warns with
    :class:`ValidityRangeWarning` and returns (the caller extrapolates).
    """
    below = (arr < lo) if lo_inclusive else (arr <= lo)
    above = (arr > hi) if hi_inclusive else (arr >= hi)
    bad = below | above
    if not np.any(bad):
        return
    lb = "[" if lo_inclusive else "("
    rb = "]" if hi_inclusive else ")"
    msg = (
        f"{name} outside the validity range of {model}: {lb}{lo:g}, {hi:g}{rb} {unit}, "
        f"got {_show(arr[bad])}"
    )
    if strict:
        raise ValueError(msg + "; pass strict=False to extrapolate")
    warnings.warn(msg + "; extrapolating", ValidityRangeWarning, stacklevel=3)


def choice(name: str, value: str, allowed) -> str:
    """Return ``value`` if it is one of ``allowed``, else raise ``ValueError`` listing them."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def result(arr: np.ndarray):
    """Return a float64 array, or a NumPy float64 scalar for 0-d results."""
    arr = np.asarray(arr, dtype=np.float64)
    return arr[()] if arr.ndim == 0 else arr


def flat_float64(*arrays):
    """Broadcast arrays as float64; return (shape, contiguous 1-D copies) for the scalar-core loops."""
    bcast = np.broadcast_arrays(*arrays)
    shape = bcast[0].shape
    return shape, [np.ascontiguousarray(a, dtype=np.float64).reshape(-1) for a in bcast]


def positive_float(name: str, value, unit: str = "") -> np.ndarray:
    """``value`` as a float64 array, every element finite and > 0, else ``ValueError`` naming ``name``."""
    arr = as_float(name, value)
    require_positive(name, arr, unit)
    return arr


def _show(bad: np.ndarray) -> str:
    flat = np.ravel(bad)
    head = ", ".join(f"{v:g}" for v in flat[:3])
    more = f" (and {flat.size - 3} more)" if flat.size > 3 else ""
    return head + more
