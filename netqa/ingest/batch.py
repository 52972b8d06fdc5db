"""Column batches and the reject log shared by the ingest stages.

A :class:`Batch` holds one block of rows as plain arrays: float columns as
float64 numpy arrays (NaN = missing), ``time`` as int64 nanoseconds since the
epoch, UTC (``NAT`` = missing), string columns as :class:`pyarrow.Array`, and
``line``, the 1-based physical line (or row) of each row in its source file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: int64 value used for a missing time (numpy's NaT).
NAT = np.iinfo(np.int64).min

#: value_flags bits: a value was cleared (set to NaN) or a position altered.
FLAG_BITS: dict[str, int] = {
    "rsrq_db": 1,
    "sinr_db": 2,
    "dl_mbps": 4,
    "ul_mbps": 8,
    "position": 16,  # zero-island or unparseable position cleared
    "tech": 32,
    "speed_kmh": 64,
    "other": 128,  # any other optional column cleared
    "time_local": 256,  # naive local time converted with a time zone
    "range_end": 512,  # a range-end report kept as reported (RSRQ -20 dB = RSRQ_00, "below -19.5 dB")
    "latlon_swapped": 1024,  # the file's lat/lon were exchanged to fit the cell table (file-level check)
}


@dataclass
class Batch:
    """One block of rows; see the module docstring for the column conventions."""

    cols: dict[str, object]
    line: np.ndarray

    def __len__(self) -> int:
        return int(self.line.shape[0])

    def take(self, index: np.ndarray) -> "Batch":
        """Rows by integer positions or a boolean mask (new arrays; inputs untouched)."""
        index = np.asarray(index)
        if index.dtype == bool:
            index = np.flatnonzero(index)
        out = {}
        for k, v in self.cols.items():
            if isinstance(v, np.ndarray):
                out[k] = v[index]
            else:
                out[k] = v.take(pa.array(index, type=pa.int64()))
        return Batch(out, self.line[index])

    def slice(self, start: int, stop: int) -> "Batch":
        """Rows start:stop as views (no copy)."""
        out = {k: (v[start:stop] if isinstance(v, np.ndarray) else v.slice(start, stop - start)) for k, v in self.cols.items()}
        return Batch(out, self.line[start:stop])

    @staticmethod
    def concat(batches: list["Batch"]) -> "Batch":
        batches = [b for b in batches if b is not None]
        if len(batches) == 1:
            return batches[0]
        keys = list(dict.fromkeys(k for b in batches for k in b.cols))
        out = {}
        for k in keys:
            proto = next(b.cols[k] for b in batches if k in b.cols)
            parts = [b.cols[k] if k in b.cols else _missing_like(proto, len(b)) for b in batches]
            if isinstance(parts[0], np.ndarray):
                out[k] = np.concatenate(parts)
            else:
                out[k] = pa.concat_arrays([p if isinstance(p, pa.Array) else p.combine_chunks() for p in parts])
        return Batch(out, np.concatenate([b.line for b in batches]))

    def str_values(self, name: str) -> np.ndarray:
        """A string column as a numpy object array (None for missing); for small batches."""
        return np.asarray(self.cols[name].to_pylist(), dtype=object)


def _missing_like(proto, n: int):
    if isinstance(proto, np.ndarray):
        if proto.dtype.kind == "f":
            return np.full(n, np.nan)
        if proto.dtype == np.int8:
            return np.full(n, -1, dtype=np.int8)
        return np.zeros(n, dtype=proto.dtype)
    return pa.nulls(n, proto.type)


def string_array(values, n: int | None = None) -> pa.Array:
    """A pyarrow string array from a scalar (repeated ``n`` times) or a sequence.

    A dictionary-encoded string array is kept as it is (the ingest's string
    columns are dictionary arrays: codes plus the few distinct values).
    """
    if isinstance(values, str) or values is None:
        return pa.array([values] * int(n), type=pa.string())
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.DictionaryArray) and pa.types.is_string(values.type.value_type):
        return values
    if isinstance(values, pa.Array):
        return values if values.type == pa.string() else pc.cast(values, pa.string())
    return pa.array(values, type=pa.string())


def constant_dict(value: str | None, n: int) -> pa.DictionaryArray:
    """``n`` copies of one string (or nulls) as a dictionary array, without n Python objects."""
    if value is None:
        return pa.DictionaryArray.from_arrays(pa.nulls(n, pa.int32()), pa.array([], type=pa.string()))
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([value], type=pa.string()))


def dict_array(values) -> pa.DictionaryArray:
    """A string column as a dictionary array (codes + distinct values)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.DictionaryArray):
        return values
    return pc.dictionary_encode(values)


def dict_codes(values) -> tuple[np.ndarray, list]:
    """(int64 codes with -1 for null, list of the dictionary's values) of a string column."""
    d = dict_array(values)
    codes = pc.fill_null(d.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return codes, d.dictionary.to_pylist()


def per_value(values, fn, null_value, dtype) -> np.ndarray:
    """``fn`` of each row's string as a numpy array, calling ``fn`` once per distinct value."""
    codes, uniq = dict_codes(values)
    lut = np.array([fn(u) for u in uniq] + [null_value], dtype=dtype)
    return lut[codes]  # code -1 takes the last entry (null_value)


def map_dict(values, fn) -> pa.DictionaryArray:
    """Apply ``fn`` (str -> str or None) to the distinct values; the result's dictionary has no duplicates."""
    codes, uniq = dict_codes(values)
    new = [fn(u) for u in uniq]
    out_vals: dict[str, int] = {}
    lut = np.full(len(new) + 1, -1, dtype=np.int32)
    for i, v in enumerate(new):
        if v is not None:
            lut[i] = out_vals.setdefault(v, len(out_vals))
    idx = lut[codes]
    mask = idx < 0
    return pa.DictionaryArray.from_arrays(pa.array(idx, mask=mask if mask.any() else None),
                                          pa.array(list(out_vals), type=pa.string()))


@dataclass
class RejectLog:
    """Quarantined rows and cleared values, kept as column chunks.

    ``action`` is ``rejected`` (the row left the samples) or ``cleared`` (the
    value became NaN, the row was kept and flagged in ``value_flags``).
    """

    chunks: list[tuple[str, np.ndarray, str, object, object, str]] = field(default_factory=list)
    n_rejected: int = 0
    n_cleared: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, file: str, lines, column: str, values, reason, action: str = "rejected", key: str | None = None) -> None:
        lines = np.atleast_1d(np.asarray(lines, dtype=np.int64))
        if lines.size == 0:
            return
        self.chunks.append((file, lines, column, values, reason, action))
        if action == "rejected":
            self.n_rejected += int(lines.size)
        else:
            self.n_cleared += int(lines.size)
        k = key or (reason if isinstance(reason, str) else column)
        self.reasons[f"{action}: {k}"] = self.reasons.get(f"{action}: {k}", 0) + int(lines.size)

    def note(self, key: str, count: int) -> None:
        """Count values kept but flagged (no rejects-file line: the row and value stay)."""
        if count:
            self.reasons[key] = self.reasons.get(key, 0) + int(count)

    def absorb(self, other: "RejectLog") -> None:
        """Move the entries and counts of ``other`` into this log."""
        self.chunks.extend(other.chunks)
        self.n_rejected += other.n_rejected
        self.n_cleared += other.n_cleared
        for k, v in other.reasons.items():
            self.reasons[k] = self.reasons.get(k, 0) + v
        other.chunks, other.n_rejected, other.n_cleared, other.reasons = [], 0, 0, {}

    def table(self) -> pa.Table:
        """All entries as a table: file, line, column, value, reason, action."""
        names = ["file", "line", "column", "value", "reason", "action"]
        if not self.chunks:
            return pa.table({n: pa.array([], type=pa.int64() if n == "line" else pa.string()) for n in names})
        parts = []
        for file, lines, column, values, reason, action in self.chunks:
            n = lines.size
            vals = _to_str_array(values, n)
            rsn = string_array(reason, n) if isinstance(reason, str) else _to_str_array(reason, n)
            parts.append(pa.table({
                "file": string_array(file, n), "line": pa.array(lines), "column": string_array(column, n),
                "value": vals, "reason": rsn, "action": string_array(action, n),
            }))
        return pa.concat_tables(parts)


def _to_str_array(values, n: int) -> pa.Array:
    if values is None:
        return pa.array([None] * n, type=pa.string())
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return string_array(values)
    arr = np.asarray(values)
    if arr.ndim == 0:
        return string_array(str(arr.item()), n)
    if arr.dtype.kind == "f":
        return pa.array([None if np.isnan(v) else format(float(v), "g") for v in arr], type=pa.string())
    return pa.array([None if v is None else str(v) for v in arr.tolist()], type=pa.string())
