"""Reading ingest's outputs back: samples and events as DataFrames."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from netqa.errors import InputError, NetQAError
from netqa.fileio import finish_pending_commits


def load_samples(path, columns=None) -> pd.DataFrame:
    """Samples from GeoParquet (netqa's output) or canonical CSV, as a DataFrame (no geometry)."""
    p = Path(path)
    finish_pending_commits(p.parent)  # an ingest killed mid-commit: complete its set before reading
    if not p.is_file():
        raise InputError(f"{p}: samples file not found")
    try:
        if p.suffix.lower() in (".parquet", ".geoparquet"):
            import pyarrow.parquet as pq

            names = pq.ParquetFile(p).schema_arrow.names
            cols = [c for c in (columns or names) if c in names and c != "geometry"]
            return pd.read_parquet(p, columns=cols)
        df = pd.read_csv(p, comment="#")
    except NetQAError:
        raise
    except Exception as exc:
        raise InputError(f"{p}: samples cannot be read ({exc})") from None
    if "time" in df:
        df["time"] = pd.to_datetime(df["time"], utc=True, errors="coerce", format="ISO8601")
    return df


def load_events(path) -> pd.DataFrame:
    """Events from Parquet or CSV (canonical Events columns)."""
    p = Path(path)
    finish_pending_commits(p.parent)
    if not p.is_file():
        raise InputError(f"{p}: events file not found")
    try:
        if p.suffix.lower() in (".parquet", ".geoparquet"):
            df = pd.read_parquet(p)
        else:
            df = pd.read_csv(p, comment="#")
            df["time"] = pd.to_datetime(df["time"], utc=True, errors="coerce", format="ISO8601")
    except Exception as exc:
        raise InputError(f"{p}: events cannot be read ({exc})") from None
    if "event" not in df.columns:
        raise InputError(f"{p}: events table has no 'event' column")
    return df.drop(columns="geometry", errors="ignore")
