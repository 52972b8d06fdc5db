"""The ingest stage's file names: which inputs are logs or events, and where the outputs go.

``LOG.csv`` may have explicit events beside it (``LOG.events.csv`` or
``.events.parquet``); a folder contributes its log files; the samples file
``SAMPLES.parquet`` has ``SAMPLES.events.parquet`` and ``SAMPLES.rejects.csv``
beside it.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Suffixes of the log files a folder contributes.
LOG_SUFFIXES = (".csv", ".txt", ".tsv", ".parquet", ".geoparquet", ".nmf")
#: Compressed text logs a folder contributes too (``drive.csv.gz``...; see netqa.ingest.source).
COMPRESSED_LOG_SUFFIXES = tuple(f"{a}{b}" for a in (".csv", ".txt", ".tsv") for b in (".gz", ".bz2", ".xz", ".zip"))


def events_path_for(out: str | os.PathLike) -> Path:
    """``SAMPLES.parquet`` -> ``SAMPLES.events.parquet``."""
    p = Path(out)
    return p.with_name(p.name[: -len(p.suffix)] + ".events.parquet" if p.suffix else p.name + ".events.parquet")


def rejects_path_for(out: str | os.PathLike) -> Path:
    """``SAMPLES.parquet`` -> ``SAMPLES.rejects.csv``."""
    p = Path(out)
    return p.with_name(p.name[: -len(p.suffix)] + ".rejects.csv" if p.suffix else p.name + ".rejects.csv")


def session_name(p: Path) -> str:
    """The file's session name: its name without the log and compression suffixes (``d1.csv.gz`` -> ``d1``)."""
    name = p.name
    for sfx in COMPRESSED_LOG_SUFFIXES + LOG_SUFFIXES:
        if name.lower().endswith(sfx) and len(name) > len(sfx):
            return name[: -len(sfx)]
    return p.stem


def is_events_file(p: Path) -> bool:
    """``*.events.*``: a file of explicit events, read beside the logs rather than as one."""
    name = p.name.lower()
    return ".events." in name


def expand_inputs(logs) -> list[Path]:
    """Files from the given paths; folders contribute their log files (sorted)."""
    out: list[Path] = []
    for item in logs:
        p = Path(item)
        if p.is_dir():
            out.extend(sorted(q for q in p.iterdir() if q.is_file() and (q.suffix.lower() in LOG_SUFFIXES
                                                                         or q.name.lower().endswith(COMPRESSED_LOG_SUFFIXES))))
        else:
            out.append(p)
    seen, uniq = set(), []
    for p in out:
        k = p.resolve()
        if k not in seen:
            seen.add(k)
            uniq.append(p)
    return uniq


def companion_events(p: Path) -> Path | None:
    """``LOG.csv`` -> ``LOG.events.csv`` (or ``.events.parquet``) when it exists."""
    for suffix in (".events.csv", ".events.parquet"):
        q = p.with_name(p.name[: -len(p.suffix)] + suffix)
        if q.is_file():
            return q
    return None
