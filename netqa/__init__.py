"""netqa — network-quality analyzer for RF engineers.

Reading and validating inputs, grids and CRSs, coverage prediction over the
:mod:`propagation` models, drive-test KPIs, predicted-vs-measured comparison,
calibration, regional scoring, maps and reports, and the ``netqa`` command.
"""

__version__ = "0.1.0"
