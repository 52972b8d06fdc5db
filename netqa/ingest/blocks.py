"""Byte blocks of a text log cut at line ends, and the scan of a block into lines and fields (quotes, comments)."""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass

import numpy as np


log = logging.getLogger(__name__)

#: Bytes per block read from a text log.
BLOCK_BYTES = 32 << 20


# --------------------------------------------------------------------------- blocks


def iter_line_blocks(fh, block_bytes: int = BLOCK_BYTES, final: bool = True):
    """Yield byte blocks that end at a line end (about ``block_bytes`` each).

    Each block is one read plus the rest of its last line (``readline``), so
    the data are copied once.  With ``final`` a last line without a newline is
    yielded with one added; otherwise it is held back (a live log's
    half-written line) and returned.
    """
    while True:
        chunk = fh.read(block_bytes)
        if not chunk:
            return b""
        if chunk[-1:] != b"\n":
            tail = fh.readline()
            if tail:
                chunk += tail
        if chunk[-1:] == b"\n":
            yield chunk
            continue
        cut = chunk.rfind(b"\n")  # end of file inside a line
        if cut >= 0:
            yield chunk[: cut + 1]
        carry = chunk[cut + 1 :]
        if final:
            yield carry + b"\n"
            return b""
        return carry


@dataclass
class BlockLines:
    """Line bookkeeping of one block."""

    keep: np.ndarray  # bool per line: a data line with the right field count
    bad_fields: np.ndarray  # indices of lines with the wrong field count
    field_counts: np.ndarray
    n_lines: int
    has_quote: bool
    cont: np.ndarray | None = None  # continuation lines of a quoted field with a line break (part of the row before)


#: A quoted field may span at most this many physical lines (a stray quote must not swallow the file).
MAX_QUOTED_LINES = 20


def scan_block(buf: bytes, delimiter: str, comment: str, n_fields: int, count_fields: bool = True) -> BlockLines:
    """Classify the lines of ``buf`` (which ends with a newline) in vectorised numpy.

    Without ``count_fields`` the fields are not counted when the block has no
    quotes or stray CRs (the typed parse then detects a wrong count itself).
    """
    arr = np.frombuffer(buf, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    n = nl.size
    starts = np.empty(n, dtype=np.int64)
    starts[0:1] = 0
    starts[1:] = nl[:-1] + 1
    ends = nl.copy()
    cr = (ends > starts) & (arr[np.maximum(ends - 1, 0)] == 13)
    ends = ends - cr
    lengths = ends - starts
    # blank = empty or only spaces/tabs (rare): test the first byte, then refine
    first = np.where(lengths > 0, arr[np.minimum(starts, arr.size - 1)], 10)
    blank = lengths == 0
    maybe_ws = ~blank & ((first == 32) | (first == 9))
    for i in np.flatnonzero(maybe_ws):
        blank[i] = not buf[starts[i] : ends[i]].strip()
    is_comment = np.zeros(n, dtype=bool)
    if comment:
        is_comment = (first == ord(comment[0])) & ~blank
    data = ~blank & ~is_comment
    has_quote = bool((arr == 34).any())
    has_cr = int((arr == 13).sum()) > int(cr.sum())  # a bare CR inside a line
    cont = None
    if has_quote or has_cr:
        counts = np.full(n, n_fields, dtype=np.int64)
        skip_to = -1
        for i in np.flatnonzero(data):
            if i <= skip_to:
                continue
            text = buf[starts[i] : ends[i]].decode("utf-8", "replace")
            fields = split_line(text, delimiter)
            if fields is None and text.count('"') % 2 == 1:  # a quoted field with a line break?
                j = _quoted_row_end(buf, starts, ends, i, n, delimiter, n_fields)
                if j > i:
                    if cont is None:
                        cont = np.zeros(n, dtype=bool)
                    cont[i + 1 : j + 1] = True
                    data[i + 1 : j + 1] = False
                    counts[i] = n_fields
                    skip_to = j
                    continue
            counts[i] = -1 if fields is None else len(fields)
    elif not count_fields:
        counts = np.full(n, n_fields, dtype=np.int64)
    else:
        dpos = np.flatnonzero(arr == ord(delimiter))
        counts = np.searchsorted(dpos, ends) - np.searchsorted(dpos, starts) + 1
    has_quote = has_quote or has_cr
    good = data & (counts == n_fields)
    bad = np.flatnonzero(data & (counts != n_fields))
    return BlockLines(good, bad, counts, n, has_quote, cont)


def _quoted_row_end(buf: bytes, starts, ends, i: int, n: int, delimiter: str, n_fields: int) -> int:
    """Last physical line of the row starting at line ``i`` whose quoted field holds line breaks; ``i`` if none fits.

    Lines are joined while the quotes stay unbalanced (at most :data:`MAX_QUOTED_LINES`); the join
    counts only when it parses to exactly ``n_fields`` fields, so a stray quote never swallows rows.
    """
    quotes = 0
    for j in range(i, min(n, i + MAX_QUOTED_LINES)):
        quotes += buf[starts[j] : ends[j]].count(b'"')
        if quotes % 2 == 0:
            text = buf[starts[i] : ends[j]].decode("utf-8", "replace").replace("\r\n", "\n")
            try:
                rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
            except csv.Error:
                return i
            return j if len(rows) == 1 and len(rows[0]) == n_fields else i
    return i


def filtered_bytes(buf: bytes, keep: np.ndarray) -> bytes:
    if keep.all():
        return buf
    arr = np.frombuffer(buf, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    lens = np.diff(np.concatenate([[-1], nl]))
    return arr[np.repeat(keep, lens)].tobytes()




def split_line(text: str, delimiter: str) -> list[str] | None:
    """Fields of one physical line (quotes honoured, no multi-line fields); None if unparseable."""
    if "\r" in text or "\x00" in text:
        return None
    try:
        return next(csv.reader([text], delimiter=delimiter, strict=True), [])
    except csv.Error:
        return None
