"""From parsed columns to a canonical :class:`~netqa.ingest.batch.Batch`: the steps every reader shares.

The text reader (:mod:`netqa.ingest.reader`), canonical Parquet and Nemo
files all end here: non-finite numbers written in a log are rejected (time,
position, RSRP) or cleared and flagged, never kept as silent NaN; naive local
times are converted to UTC in the zone given (``--tz``, else the mapping's);
the mapping's scales, offsets and value tables are applied; RAT names are
canonicalised; connected/activity states are derived.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from netqa.errors import LogFormatError
from netqa.ingest.batch import FLAG_BITS, NAT, Batch, RejectLog, constant_dict, dict_array, dict_codes, map_dict, per_value, string_array
from netqa.ingest.plan import ROW_CRITICAL, TECH_ALIASES, FilePlan
from netqa.ingest.values import ACTIVITIES, ACTIVITY_ALIASES, int_id, state_columns


def note_nonfinite(cols: dict, name: str, values: np.ndarray, present: np.ndarray) -> None:
    """Remember the values written as text NaN / inf / Infinity (present, not a missing marker, yet not finite)."""
    with np.errstate(invalid="ignore"):
        bad = present & ~np.isfinite(values)
    if bad.any():
        cols.setdefault("_nonfinite", {})[name] = (bad, values[bad])


def _settle_nonfinite(cols: dict, rows_line: np.ndarray, plan: FilePlan, rejects: RejectLog) -> None:
    """A non-finite number is never a silent missing value: the row is rejected (time, position, RSRP)
    or the value cleared and flagged, with a reason in the rejects file."""
    nonfinite = cols.pop("_nonfinite", None)
    if not nonfinite:
        return
    n = rows_line.size
    file = str(plan.path)
    for name, (bad, vals) in nonfinite.items():
        text = [format(float(v)) for v in vals]
        reason = f"{name}: non-finite value (NaN or infinity written in the log) is not a measurement"
        if name in ROW_CRITICAL:
            prior = cols.get("_bad_rows", np.zeros(n, bool))
            new = bad & ~prior
            rejects.add(file, rows_line[new], name, np.asarray(text, dtype=object)[new[bad]], reason, key=f"{name} non-finite")
            cols["_bad_rows"] = prior | bad
        else:
            keep = ~cols.get("_bad_rows", np.zeros(n, bool))[bad]  # rows already rejected need no clearing
            bad = bad & ~cols.get("_bad_rows", np.zeros(n, bool))
            rejects.add(file, rows_line[bad], name, np.asarray(text, dtype=object)[keep], reason + "; cleared", "cleared", key=f"{name} non-finite")
            col = cols[name].copy()
            col[bad] = np.nan
            cols[name] = col
            cols.setdefault("_flags_extra", np.zeros(n, np.int32))
            cols["_flags_extra"] |= np.where(bad, FLAG_BITS.get(name, FLAG_BITS["other"]), 0).astype(np.int32)


def _localize(t: np.ndarray, naive: np.ndarray, tz: str) -> np.ndarray:
    """Convert naive local times (int64 ns) in zone ``tz`` to UTC; NaT where ambiguous."""
    sel = naive & (t != NAT)
    if not sel.any() or tz.upper() == "UTC":
        return t
    out = t.copy()
    idx = pd.DatetimeIndex(t[sel].view("datetime64[ns]"))
    try:
        loc = idx.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    except Exception as exc:  # unknown zone name
        raise LogFormatError(f"time zone {tz!r} is not known ({exc}); use an IANA name such as Europe/Dublin") from None
    out[sel] = loc.tz_convert("UTC").tz_localize(None).to_numpy("datetime64[ns]").view(np.int64)
    return out


def _map_values(arr: pa.Array, table: dict[str, str], canonical: dict[str, str] | None = None) -> tuple[pa.Array, np.ndarray]:
    """Map a string column through ``table`` then ``canonical``; return (mapped dictionary array, unknown mask).

    The mapping runs once per distinct value, never per row.
    """
    codes, uniq = dict_codes(arr)
    mapped, unknown = [], []
    for u in uniq:
        v = table.get(u, u) if table else u
        if canonical is not None:
            key = v.strip().upper() if isinstance(v, str) else v
            c = canonical.get(key)
            unknown.append(c is None)
            v = c
        else:
            unknown.append(False)
        mapped.append(v)
    lut = dict(zip(uniq, mapped))
    out = map_dict(arr, lut.get)
    unk = np.asarray(unknown + [False], dtype=bool)
    return out, unk[codes]


def finish_batch(cols: dict, rows_line: np.ndarray, plan: FilePlan, rejects: RejectLog, tz: str | None) -> Batch:
    """Parsed columns of one block -> a canonical :class:`Batch`.

    Non-finite numbers rejected or cleared, local times converted to UTC
    (ambiguous or non-existent ones rejected), the mapping's scale and
    offset applied, then :func:`batch_from_columns`.
    """
    m = plan.mapping
    _settle_nonfinite(cols, rows_line, plan, rejects)
    zone = tz or m.timezone
    naive = cols.pop("_time_naive")
    t = cols["time"]
    if zone.lower() == "local":  # the log's local time in a zone nobody stated: the documented default, UTC
        zone = "UTC"
        n_assumed = int((naive & (t != NAT)).sum())
        if n_assumed:
            plan.extra["tz_assumed_utc"] = plan.extra.get("tz_assumed_utc", 0) + n_assumed
    if zone and zone.upper() != "UTC":
        t2 = _localize(t, naive, zone)
        amb = (t2 == NAT) & (t != NAT)
        if amb.any():
            vals = pd.DatetimeIndex(t[amb].view("datetime64[ns]")).astype(str).tolist()
            rejects.add(str(plan.path), rows_line[amb], "time", vals, f"ambiguous or non-existent local time in {zone} (daylight-saving change)")
            cols["_bad_rows"] = cols.get("_bad_rows", np.zeros(t.size, bool)) | amb
        cols["time"] = t2
    for dst, factor in m.scale.items():
        if dst in cols and isinstance(cols[dst], np.ndarray) and factor != 1.0:
            cols[dst] = cols[dst] * factor
    for dst, add_db in m.offset.items():
        if dst in cols and isinstance(cols[dst], np.ndarray) and add_db:
            cols[dst] = cols[dst] + add_db
    return batch_from_columns(cols, rows_line, plan)


def batch_from_columns(cols: dict, rows_line: np.ndarray, plan: FilePlan) -> Batch:
    """Canonical value columns: RAT names, dictionary strings, mapped values, connected/activity, value flags."""
    m = plan.mapping
    n = rows_line.size
    flags = np.zeros(n, dtype=np.int32)
    if "_cleared" in cols:
        flags[cols.pop("_cleared")] |= 128
    if "_flags_extra" in cols:
        flags |= cols.pop("_flags_extra")
    bad = cols.pop("_bad_rows", None)
    if "tech" in cols:
        mapped, unknown = _map_values(cols["tech"], m.values.get("tech", {}), TECH_ALIASES)
        cols["tech"] = mapped
        cols["_tech_unknown"] = unknown
    else:
        cols["tech"] = constant_dict(plan.constant_tech, n)
    for name in ("session", "cell_id", "state", "call_state", "serving"):
        if name in cols:
            cols[name] = dict_array(string_array(cols[name]))
            if name == "cell_id":  # '11016972.0' from a float-typed export -> '11016972'
                cols[name] = map_dict(cols[name], int_id)
    for name, table in m.values.items():
        if name != "tech" and name in cols and not isinstance(cols[name], np.ndarray):
            cols[name], _ = _map_values(cols[name], table)
    connected, activity = state_columns(cols.get("state"), m, n)
    given_conn = cols.pop("_connected", None)
    if "activity" in cols:  # an explicit activity column (netqa's own CSV/Parquet) fills what the state leaves open
        act_codes = per_value(cols["activity"], lambda v: ACTIVITY_ALIASES.get(v.strip().lower(), -1), -1, np.int32)
        state_codes = pc.fill_null(activity.indices, -1).to_numpy(zero_copy_only=False)
        act_codes = np.where(state_codes >= 0, state_codes, act_codes)
        mask = act_codes < 0
        activity = pa.DictionaryArray.from_arrays(pa.array(act_codes, mask=mask if mask.any() else None), pa.array(ACTIVITIES, type=pa.string()))
        connected = np.where(connected >= 0, connected, np.array([1, 1, 0, -1], dtype=np.int8)[act_codes])
    if given_conn is not None:
        connected = np.where(connected >= 0, connected, given_conn).astype(np.int8)
    cols["connected"], cols["activity"] = connected, activity
    cols["value_flags"] = flags
    if bad is not None:
        cols["_bad_rows"] = bad
    return Batch(cols, rows_line)
