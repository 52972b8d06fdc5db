"""The campaign report: one self-contained HTML file from a run folder.

:func:`write_report` reads what a run folder holds (``netqa run`` / ``netqa
demo`` write it) and lays it out for a reader who was not there, results first:

1. a title, the key figures and a one-paragraph summary written from the data
   (measured coverage rate with its interval, drop rate, handover success,
   median DL throughput; predicted coverage; calibration result; best and
   worst region);
2. coverage maps -- the PNGs under ``maps/``, embedded;
3. KPIs -- overall and per region, each rate with its counts and Wilson 95 %
   interval;
4. predicted vs measured -- ``stats.json`` of each comparison (the configured
   model and, when ``compare/tuned/`` exists, the tuned one side by side) and
   their plots;
5. calibration -- the tuned model file: per-band K1/K2, fit and held-out error;
6. scorecard -- regions ranked, with grades and what each score used;
7. provenance, collapsed -- stages, inputs with SHA-256, parameters, versions.

Files are recognised by name and content, so the report works on a partial run
(sections with nothing to show say so).  The page has no script and a
Content-Security-Policy that forbids any network fetch; every string read from
the folder is HTML-escaped.

Package layout (arrows point down)::

    write           write_report(): the page from its sections, written atomically
    summary         the summary paragraph, key-figure cards and stage line
    sections        maps, KPIs (worst cells), scorecard, other figures, provenance
    model_sections  predicted vs measured (with path profiles), calibration
    run_folder      what a run folder holds, recognised by name and content
    html            escaping, tables, numbers and images as HTML
"""

from netqa.report.write import write_report

__all__ = ["write_report"]
