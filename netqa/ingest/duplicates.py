"""Duplicate rows anywhere in an ingest run: 64-bit row hashes and a sorted index of the rows kept.

A row is a duplicate when its time and every mapped value equal those of a
row already kept — earlier in the same block, in an earlier block of the same
file (a log concatenated with itself), or in an earlier file of the run (the
same drive saved under two names).  Rows are compared through a 64-bit hash
of their values (SplitMix64 finaliser over the float bits and the strings'
pandas hashes); two different rows collide with probability about
n^2 / 2^65 (3e-6 for ten million rows).  Memory: 20 bytes per kept row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from netqa.ingest.batch import Batch, dict_codes

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)
_NULL_STR = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (Steele, Lea and Flood 2014): a bijective 64-bit scrambler."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _column_hash(v, n: int) -> np.ndarray:
    if isinstance(v, np.ndarray):
        if v.dtype.kind == "f":
            w = np.where(np.isnan(v), np.nan, v.astype(np.float64) + 0.0)  # one NaN, and -0.0 == 0.0
            return _mix(w.view(np.uint64))
        return _mix(v.astype(np.int64).view(np.uint64))
    codes, uniq = dict_codes(v if isinstance(v, pa.Array) else pa.array(v))
    lut = np.append(pd.util.hash_array(np.asarray(uniq, dtype=object)) if uniq else np.empty(0, np.uint64), _NULL_STR)
    return lut[codes].astype(np.uint64)


def row_hashes(b: Batch, names: list[str]) -> np.ndarray:
    """One uint64 per row over the columns ``names`` (order matters, values compared exactly)."""
    n = len(b)
    h = np.full(n, np.uint64(0x84222325CBF29CE4), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k, name in enumerate(names):
            h = _mix(h ^ (_column_hash(b.cols[name], n) + np.uint64(k + 1) * np.uint64(0x9E3779B97F4A7C15)))
    return h


class SeenRows:
    """The hashes of the rows kept so far in a run, with where each was (file number, line)."""

    def __init__(self) -> None:
        self.hash = np.empty(0, np.uint64)
        self.file = np.empty(0, np.int32)
        self.line = np.empty(0, np.int64)
        self.files: list[str] = []
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def file_number(self, file: str) -> int:
        self.files.append(file)
        return len(self.files) - 1

    def _settle(self) -> None:
        if not self._pending:
            return
        h = np.concatenate([self.hash] + [p[0] for p in self._pending])
        f = np.concatenate([self.file] + [p[1] for p in self._pending])
        ln = np.concatenate([self.line] + [p[2] for p in self._pending])
        order = np.argsort(h, kind="stable")
        self.hash, self.file, self.line = h[order], f[order], ln[order]
        self._pending = []

    def lookup(self, h: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(found, file number, line) of the first kept row with each hash."""
        self._settle()
        pos = np.searchsorted(self.hash, h)
        pos_c = np.minimum(pos, max(self.hash.size - 1, 0))
        found = (pos < self.hash.size) & (self.hash[pos_c] == h) if self.hash.size else np.zeros(h.size, bool)
        return found, self.file[pos_c] if self.hash.size else np.zeros(h.size, np.int32), \
            self.line[pos_c] if self.hash.size else np.zeros(h.size, np.int64)

    def add(self, h: np.ndarray, file_no: int, lines: np.ndarray) -> None:
        if h.size:
            self._pending.append((h, np.full(h.size, file_no, np.int32), np.asarray(lines, np.int64)))


def first_in_block(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(is a repeat of an earlier row of the block, index of that earlier row) per row."""
    order = np.argsort(h, kind="stable")
    hs = h[order]
    same = np.zeros(h.size, bool)
    same[1:] = hs[1:] == hs[:-1]
    start = np.maximum.accumulate(np.where(~same, np.arange(h.size), 0))
    rep = np.zeros(h.size, bool)
    rep[order] = same
    first = np.empty(h.size, np.int64)
    first[order] = order[start]
    return rep, first
