"""Predicted vs measured: residual statistics, averaging, drop-rate and throughput comparison.

Public API::

    from netqa.compare import compare, CompareConfig      # the stage behind 'netqa compare'
    from netqa.compare import error_stats, grouped_stats, stats_table   # statistics on arrays
    from netqa.compare.estimate_sites import measured_cell_stats, run_estimated_sites   # logs without a site table

The residual is always **predicted minus measured**.
"""

from netqa.compare.binning import (
    SampleFilters,
    average_groups,
    filter_samples,
    filters_report,
    lee_window_m,
    lee_windows,
    square_bins,
)
from netqa.compare.run import CompareConfig, compare
from netqa.compare.stats import (
    DISTANCE_BINS_KM,
    ErrorStats,
    distance_bin_labels,
    error_stats,
    grouped_stats,
    percentiles_side_by_side,
    stats_table,
)

__all__ = [
    "CompareConfig",
    "compare",
    "DISTANCE_BINS_KM",
    "ErrorStats",
    "SampleFilters",
    "average_groups",
    "distance_bin_labels",
    "error_stats",
    "filter_samples",
    "filters_report",
    "grouped_stats",
    "lee_window_m",
    "lee_windows",
    "percentiles_side_by_side",
    "square_bins",
    "stats_table",
]
