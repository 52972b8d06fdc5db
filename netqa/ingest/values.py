"""Value normalisation shared by the readers: cell ids as one canonical string, activity states."""

from __future__ import annotations

import logging
import re

import numpy as np
import pyarrow as pa

from netqa.ingest.batch import constant_dict, dict_codes
from netqa.ingest.mapping import LogMapping

log = logging.getLogger(__name__)

_INT_FLOAT = re.compile(r"^(-?\d+)\.0*$")
_DIGITS = re.compile(r"^\d+$")
_EXP = re.compile(r"^\d+(?:\.\d+)?[eE]\+?\d+$")


def normalise_cell_id(v) -> str | None:
    """One spelling of a cell id, used on both sides of the match (log and cell table).

    Surrounding spaces and quotes go; an integer written as a float by a
    spreadsheet or a NaN-holding pandas column (``7936001.0``, ``7.936001e+06``)
    becomes the integer; leading zeros of an all-digit id go (``007936001``),
    as any numeric reader drops them.  Other ids (hex ``A81B``, OpenCelliD's
    ``272-1-...``) are kept as they are.  Empty -> None.

    >>> [normalise_cell_id(x) for x in (" 7936001.0 ", "007936001", "7.936001e+06", "A81B", "", '"12"')]
    ['7936001', '7936001', '7936001', 'A81B', None, '12']
    """
    if v is None:
        return None
    t = str(v).strip().strip('"').strip("'").strip()
    if not t or t.lower() in ("nan", "none", "<na>"):
        return None
    m = _INT_FLOAT.match(t)
    if m:
        t = m.group(1)
    elif _EXP.match(t):
        f = float(t)
        if f.is_integer():
            t = str(int(f))
    if _DIGITS.match(t):
        t = t.lstrip("0") or "0"
    return t


def int_id(v: str) -> str | None:
    return normalise_cell_id(v)


#: Activity codes of the ``activity`` column.
ACTIVITIES = ("download", "upload", "idle")
#: Spellings accepted in an explicit ``activity`` column -> index in ACTIVITIES.
ACTIVITY_ALIASES = {"download": 0, "dl": 0, "d": 0, "upload": 1, "ul": 1, "u": 1, "idle": 2, "i": 2}


def state_columns(state, m: LogMapping, n: int) -> tuple[np.ndarray, pa.Array]:
    """(connected int8: 1 / 0 / -1 unknown, activity: download / upload / idle / null) from the state column."""
    if state is None or not m.state:
        return np.full(n, -1, dtype=np.int8), constant_dict(None, n)
    codes, uniq = dict_codes(state)
    uniq = [u.strip() for u in uniq]
    con = set(m.state.get("connected", ())) | set(m.state.get("download", ())) | set(m.state.get("upload", ()))
    idle = set(m.state.get("idle", ()))
    conn_u = np.array([1 if u in con else (0 if u in idle else -1) for u in uniq] + [-1], dtype=np.int8)
    act_u = np.array([(0 if u in m.state.get("download", ()) else 1 if u in m.state.get("upload", ()) else 2 if u in idle else -1)
                      for u in uniq] + [-1], dtype=np.int32)
    act = act_u[codes]
    mask = act < 0
    activity = pa.DictionaryArray.from_arrays(pa.array(act, mask=mask if mask.any() else None), pa.array(ACTIVITIES, type=pa.string()))
    return conn_u[codes], activity
