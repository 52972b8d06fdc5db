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

Package layout (arrows point down)::

    core          ingest_logs(): every log of a run into one output set; read_log()
    stream        one log: blocks parsed ahead in a thread, validated, normalised, written
    source        compressed, UTF-16 or CR-terminated logs prepared as UTF-8 lines
    nemo, track   Nemo .nmf files; GPS tracks joined onto logs without positions
    reader        text blocks and canonical Parquet -> parsed columns
    finish        parsed columns -> a canonical batch (non-finite values, time zones, units, states)
    plan          format detection, header, column plan
    validate      checks, quarantine and clearing (duplicates: rows repeated anywhere in a run)
    normalise     sessions, stale-GPS interpolation, derived events
    cellmatch     serving cells matched to the cell table; the lat/lon exchange check
    writer        GeoParquet samples and events, the rejects CSV
    files         which inputs are logs or events; the output names beside the samples
    sideinputs    the cell table and explicit events files
    load          load_samples(), load_events(): the outputs read back
    values        cell ids as one canonical string, activity states
    blocks        byte blocks cut at line ends, split into lines and fields
    mapping       mapping TOMLs (the built-in formats and the user's)
    batch         the column batch every step passes on, and the rejects log
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
