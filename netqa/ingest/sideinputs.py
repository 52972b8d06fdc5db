"""The inputs beside the logs: the cell table serving cells are matched against, and explicit events files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from netqa.errors import InputError, LogFormatError
from netqa.ingest.batch import RejectLog
from netqa.schema import EVENT_TYPES


def load_cells(cells):
    """The cell table to match serving cells against (path or DataFrame), without geometry; None for None."""
    if cells is None:
        return None
    if isinstance(cells, pd.DataFrame):
        df = cells
    else:
        try:
            from netqa.io.cells import read_cells  # written in another issue
        except ImportError:
            read_cells = None
        if read_cells is not None:
            df = read_cells(cells)
        else:
            try:
                df = pd.read_csv(cells)
            except (OSError, ValueError) as exc:
                raise InputError(f"{cells}: cell table cannot be read ({exc})") from None
    missing = [c for c in ("cell_id", "lat", "lon") if c not in df.columns]
    if missing:
        raise InputError(f"{cells}: cell table lacks column(s) {missing} needed to match serving cells")
    return pd.DataFrame(df.drop(columns="geometry", errors="ignore"))


def read_events_file(path: Path, rejects: RejectLog, tz: str | None = None) -> tuple[pd.DataFrame, int]:
    """Explicit events (canonical Events columns) from CSV or Parquet; bad rows to ``rejects``."""
    try:
        if path.suffix.lower() in (".parquet", ".geoparquet"):
            df = pd.read_parquet(path)
            lines = np.arange(1, len(df) + 1)
        else:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#", skip_blank_lines=True)
            lines = np.arange(2, len(df) + 2)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise LogFormatError(f"{path}: events file cannot be read ({exc})") from None
    if "time" not in df.columns or "event" not in df.columns:
        raise LogFormatError(f"{path}: events file needs columns 'time' and 'event'; has {list(df.columns)[:12]}")
    n = len(df)
    f = str(path)
    t = pd.to_datetime(df["time"], utc=True, errors="coerce", format="ISO8601") if n else pd.Series([], dtype="datetime64[ns, UTC]")
    bad_t = t.isna().to_numpy()
    rejects.add(f, lines[bad_t], "time", df["time"][bad_t].astype(str).tolist(), "unparseable or missing event time")
    ev = df["event"].astype(str).str.strip()
    bad_e = ~ev.isin(EVENT_TYPES).to_numpy() & ~bad_t
    rejects.add(f, lines[bad_e], "event", ev[bad_e].tolist(), f"unknown event type (valid: {', '.join(EVENT_TYPES)})")
    keep = ~(bad_t | bad_e)
    out = pd.DataFrame({"time": t[keep].to_numpy()})
    out["time"] = pd.to_datetime(out["time"], utc=True)
    for c in ("lat", "lon"):
        out[c] = pd.to_numeric(df[c][keep], errors="coerce").to_numpy(np.float64) if c in df else np.nan
    for c in ("session", "cell_id", "target_cell_id"):
        if c in df:
            v = df[c][keep].astype(object).to_numpy()
            out[c] = pd.array([None if (x is None or str(x) in ("", "nan", "<NA>")) else str(x) for x in v], dtype="string")
        else:
            out[c] = pd.array([None] * int(keep.sum()), dtype="string")
    out["event"] = pd.array(ev[keep].tolist(), dtype="string")
    out["source"] = "explicit"
    return out, n
