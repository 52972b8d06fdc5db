"""Drive-test ingest: readers, validation and quarantine, normalisation, GeoParquet writer.

``ingest_logs`` is the stage function behind ``netqa ingest``; ``read_log``
loads one log in memory; ``detect_format`` and the ready mappings in
``netqa/data/log_mappings/`` cover G-NetTrack Pro, Network Survey and netqa's
own CSV; any other delimited log is read through a mapping TOML
(:mod:`netqa.ingest.mapping`).  The checks and their reject/clear choices are
listed in :mod:`netqa.ingest.validate`.

Nemo ``.nmf`` files are read by :mod:`netqa.ingest.nemo`, GPS tracks (GPX,
NMEA) joined onto logs without positions by :mod:`netqa.ingest.track`, and
:mod:`netqa.ingest.suggest` guesses a mapping TOML from a CSV header.
"""

from netqa.ingest.core import IngestResult, ingest_logs, read_log
from netqa.ingest.files import events_path_for, rejects_path_for
from netqa.ingest.load import load_events, load_samples
from netqa.ingest.mapping import LogMapping, builtin_mapping, load_mapping
from netqa.ingest.plan import detect_format

__all__ = [
    "IngestResult",
    "LogMapping",
    "builtin_mapping",
    "detect_format",
    "events_path_for",
    "ingest_logs",
    "load_events",
    "load_mapping",
    "load_samples",
    "read_log",
    "rejects_path_for",
]
