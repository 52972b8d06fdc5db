"""Writing a :class:`~netqa.predict.config.CoverageResult`: the coverage GeoTIFF and the per-cell one.

The file arguments (nodata, units, tags) are defined once here and used by
both the in-memory writers below and the streamed writer of
:func:`netqa.predict.predict_to_file`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from netqa.errors import InputError
from netqa.predict.config import BAND_UNITS, NODATA, CoverageResult
from propagation.engine import BANDS


def write_coverage(result: CoverageResult, path, *, overwrite: bool = False) -> Path:
    """Write the coverage GeoTIFF of DESIGN.md ("Coverage raster"), atomically.

    Five float32 bands ``rsrp_dbm``, ``best_cell``, ``sinr_db``, ``dl_mbps``,
    ``ul_mbps`` (descriptions = band names, units set), nodata -9999, tiled and
    deflate-compressed; dataset metadata ``best_cell`` = JSON list of cell ids
    (index -> id) and the prediction settings.  A QGIS style ``COVERAGE.qml``
    (the RSRP legend's classes, :func:`write_coverage_style`) is written beside it.
    """
    from netqa.io.raster import write_raster

    best = np.where(result.best_cell < 0, np.nan, result.best_cell).astype(np.float32)
    bands = {name: (best if name == "best_cell" else result.band(name)) for name in BANDS}
    out = write_raster(path, bands, result.grid, **coverage_file_args(result.cell_ids, result.settings),
                       overwrite=overwrite)  # fmt: skip
    write_coverage_style(out)
    return out


def write_coverage_style(path) -> Path:
    """The QGIS default style ``COVERAGE.qml`` beside a coverage GeoTIFF: ``rsrp_dbm`` in the map legend's classes."""
    from netqa.maps.qgis import write_raster_qml

    return write_raster_qml(path, "rsrp_dbm")


def coverage_file_args(cell_ids, settings) -> dict:
    """nodata, units and tags of the coverage GeoTIFF (one place for the in-memory and the streamed writer)."""
    meta = {"best_cell": list(cell_ids), "netqa_product": "coverage", **{k: str(v) for k, v in settings.items()}}
    return {"nodata": NODATA, "units": BAND_UNITS, "metadata": meta}


def per_cell_file_args(cell_ids) -> dict:
    """nodata, units, descriptions and tags of the per-cell RSRP GeoTIFF (band names = the cell ids)."""
    return {"nodata": NODATA, "units": {c: "dBm" for c in cell_ids}, "descriptions": {c: f"rsrp_dbm {c}" for c in cell_ids},
            "metadata": {"netqa_product": "per_cell_rsrp_dbm", "cell_ids": list(cell_ids)}}  # fmt: skip


def write_per_cell(result: CoverageResult, path, *, overwrite: bool = False) -> Path:
    """Write one ``rsrp_dbm`` band per cell (description = the cell id), atomically."""
    from netqa.io.raster import write_raster

    if result.per_cell is None:
        raise InputError("per-cell RSRP was not computed; call predict(..., per_cell=True)")
    bands = {cid: result.per_cell[i] for i, cid in enumerate(result.cell_ids)}
    return write_raster(path, bands, result.grid, **per_cell_file_args(result.cell_ids), overwrite=overwrite)
