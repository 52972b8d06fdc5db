"""Compare two generated test worlds with stated tolerances (issue 13: portability).

The generator is deterministic on one machine (same seed, same bytes:
``tests/test_testworld.py`` checks it), but bit equality across CPUs is not a
promise: numpy's transcendental functions (``exp``, ``sin``, ``log10``) may use
other SIMD code paths on another x86-64 CPU and differ in the last bit
(one float of the committed world differed by 5e-14 on another machine).  A
last-bit difference can also flip a value that is rounded before it is written.
:func:`compare_worlds` therefore compares the regenerated world with the
committed one file by file, byte-identical files aside, with these tolerances:

==================  ==================================================================
text (CSV, JSON,    every token equal, or both numbers within one unit of the last
README, MSI)        printed digit (``-94.4`` vs ``-94.5``; ``12`` vs ``13``), plus
                    1e-9 relative; at most ``MAX_FLIPPED_SHARE`` of numbers may differ
GeoTIFF             same size, transform, CRS, dtype, nodata; floats within 0.1
                    (the DEM's rounding step) + 1e-6 relative; integer classes equal
                    on all but ``MAX_FLIPPED_SHARE`` of pixels
GeoParquet, GPKG    same columns and rows; numbers within 1e-6 relative + 1e-9;
                    geometries equal within 1e-7 (degrees: about 1 cm)
==================  ==================================================================
"""

from __future__ import annotations

import re
from pathlib import Path

#: Largest share of numbers (text) or pixels (rasters) allowed to differ within tolerance. [1]
MAX_FLIPPED_SHARE = 1e-3
_NUM = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_SPLIT = re.compile(r"([,;\s:\[\]{}()|=\"'`]+)")


def _sums(folder: Path) -> dict[str, str]:
    lines = (folder / "SHA256SUMS").read_text().splitlines()
    return {line.split("  ", 1)[1]: line.split("  ", 1)[0] for line in lines if line.strip()}


def compare_worlds(a: Path, b: Path) -> list[str]:
    """Differences beyond the stated tolerances between two generated worlds.

    Parameters
    ----------
    a, b : Path
        Folders written by :func:`netqa.testworld.generate_world`, each with its ``SHA256SUMS``.

    Returns
    -------
    list of str
        One line per difference (empty: the worlds are equivalent).
    """
    sa, sb = _sums(Path(a)), _sums(Path(b))
    problems = []
    if set(sa) != set(sb):
        problems.append(f"file lists differ: only in a {sorted(set(sa) - set(sb))}, only in b {sorted(set(sb) - set(sa))}")
    for rel in sorted(set(sa) & set(sb)):
        if sa[rel] == sb[rel]:
            continue
        pa, pb = Path(a) / rel, Path(b) / rel
        suffix = pa.suffix.lower()
        if suffix == ".tif":
            problems += [f"{rel}: {p}" for p in _compare_rasters(pa, pb)]
        elif suffix == ".parquet":
            problems += [f"{rel}: {p}" for p in _compare_tables(pa, pb)]
        elif suffix == ".gpkg":
            problems += [f"{rel}: {p}" for p in _compare_tables(pa, pb, vector=True)]
        else:
            problems += [f"{rel}: {p}" for p in _compare_text(pa.read_text("utf-8"), pb.read_text("utf-8"))]
    return problems


def _last_digit_unit(token: str) -> float:
    mant, _, exp = token.lower().partition("e")
    decimals = len(mant.split(".")[1]) if "." in mant else 0
    return 10.0 ** (-decimals + (int(exp) if exp else 0))


def _compare_text(ta: str, tb: str) -> list[str]:
    if ta.count("\n") != tb.count("\n"):
        return [f"{ta.count(chr(10))} vs {tb.count(chr(10))} lines"]
    n_num = n_diff = 0
    for i, (la, lb) in enumerate(zip(ta.splitlines(), tb.splitlines(), strict=True), start=1):
        if la == lb:
            n_num += sum(bool(_NUM.match(t)) for t in _SPLIT.split(la))
            continue
        xa, xb = _SPLIT.split(la), _SPLIT.split(lb)
        if len(xa) != len(xb):
            return [f"line {i} differs in structure: {la[:80]!r} vs {lb[:80]!r}"]
        for u, v in zip(xa, xb, strict=True):
            is_num = bool(_NUM.match(u)) and bool(_NUM.match(v))
            n_num += is_num
            if u == v:
                continue
            if not is_num:
                return [f"line {i}: {u!r} vs {v!r}"]
            x, y = float(u), float(v)
            tol = max(_last_digit_unit(u), _last_digit_unit(v)) * 1.000001 + 1e-9 * max(abs(x), abs(y))
            if abs(x - y) > tol:
                return [f"line {i}: {u} vs {v} (beyond one unit of the last digit)"]
            n_diff += 1
    if n_diff > MAX_FLIPPED_SHARE * max(n_num, 1) + 1:
        return [f"{n_diff} of {n_num} numbers differ in the last digit (more than {MAX_FLIPPED_SHARE:g})"]
    return []


def _compare_rasters(pa: Path, pb: Path) -> list[str]:
    import numpy as np
    import rasterio

    with rasterio.open(pa) as a, rasterio.open(pb) as b:
        for attr in ("width", "height", "count", "dtypes", "crs", "transform", "nodata", "descriptions"):
            if getattr(a, attr) != getattr(b, attr):
                return [f"{attr} {getattr(a, attr)} vs {getattr(b, attr)}"]
        xa, xb = a.read(), b.read()
    if np.issubdtype(xa.dtype, np.floating):
        close = np.isclose(xa, xb, rtol=1e-6, atol=0.1 * 1.0001, equal_nan=True)
        if not close.all():
            return [f"{int((~close).sum())} pixels differ by more than 0.1 + 1e-6 relative"]
        return []
    n = int((xa != xb).sum())
    return [f"{n} of {xa.size} pixels differ"] if n > MAX_FLIPPED_SHARE * xa.size else []


def _compare_tables(pa: Path, pb: Path, vector: bool = False) -> list[str]:
    import numpy as np
    import pandas as pd

    if vector:
        import geopandas as gpd
        import pyogrio

        layers = [name for name, _ in pyogrio.list_layers(pa)]
        if layers != [name for name, _ in pyogrio.list_layers(pb)]:
            return ["layers differ"]
        frames = [(gpd.read_file(pa, layer=layer), gpd.read_file(pb, layer=layer)) for layer in layers]
    else:
        frames = [(pd.read_parquet(pa), pd.read_parquet(pb))]
    for da, db in frames:
        if list(da.columns) != list(db.columns) or len(da) != len(db):
            return [f"columns/rows {list(da.columns)}x{len(da)} vs {list(db.columns)}x{len(db)}"]
        for col in da.columns:
            ca, cb = da[col], db[col]
            if vector and col == da.geometry.name:
                ok = ca.geom_equals_exact(cb, tolerance=1e-7)
                if not ok.all():
                    return [f"{int((~ok).sum())} geometries differ by more than 1e-7"]
            elif pd.api.types.is_float_dtype(ca) and pd.api.types.is_float_dtype(cb):
                if not np.allclose(ca.to_numpy(), cb.to_numpy(), rtol=1e-6, atol=1e-9, equal_nan=True):
                    return [f"column {col} differs beyond 1e-6 relative"]
            elif not ca.equals(cb):
                return [f"column {col} differs"]
    return []


__all__ = ["MAX_FLIPPED_SHARE", "compare_worlds"]
