"""Regional scorecards (``netqa score``): field test, simulation and user feedback per region.

* :func:`load_regions` — read, validate and repair region polygons;
* :func:`score_regions` — the batch: indicators per region (locally or on a
  Dask cluster, resumable), the scoring scheme, trends, and the outputs;
* :func:`load_scheme` / :func:`apply_scheme` — the configurable 0–100 scoring;
* :func:`pixel_fractions` — exact area weights of raster pixels in a polygon.
"""

from __future__ import annotations

from netqa.score.regions import RegionRepairWarning, load_regions
from netqa.score.runner import ScoreResult, output_paths, score_regions
from netqa.score.scheme import DIMENSIONS, apply_scheme, load_scheme
from netqa.score.zonal import pixel_fractions

__all__ = [
    "DIMENSIONS",
    "RegionRepairWarning",
    "ScoreResult",
    "apply_scheme",
    "load_regions",
    "load_scheme",
    "output_paths",
    "pixel_fractions",
    "score_regions",
]
