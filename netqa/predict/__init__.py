"""Coverage prediction: cells + DEM + clutter + settings -> coverage arrays and GeoTIFF.

The bridge between netqa's domain objects (the Cells table, rasters on a
:class:`~netqa.grid.Grid`) and the numba raster engine
(:mod:`propagation.engine`), which only sees float64 arrays.  The inputs half
(cell checks, the engine's cell matrix, clutter physics) is
:mod:`netqa.predict.inputs`, shared with the point predictions of
:mod:`netqa.compare`.

>>> from netqa.predict import PredictConfig
>>> PredictConfig(model="cost231", radius_km=5.0).radius_km
5.0

Python API::

    from netqa.predict import predict, write_coverage
    result = predict("testdata/cells.csv", "testdata/dem.tif", config=PredictConfig(model="hata"))
    result.rsrp_dbm, result.transform, result.crs          # arrays on result.grid
    write_coverage(result, "coverage.tif")

Physics per cell (see :mod:`propagation.engine` for the kernels):
RSRP = RS power per resource element (``rs_power_dbm``, else total power
minus 10 log10(12 N_PRB)) + antenna peak gain - feeder loss + pattern gain
(3GPP parametric sector with mechanical + electrical downtilt, or the measured
MSI pattern named in the ``antenna`` column, or omni) - path loss (model +
terrain method) - clutter loss of the pixel's class.

Clutter models (``PredictConfig.clutter_model``, ``--clutter-model``; they need
the clutter raster and class table):

* ``table`` -- the class table's ``loss_db`` (a tuned model file's per-class
  clutter losses replace it), the same for every carrier;
* ``p2108`` -- ITU-R P.2108-1 section 3.1 height-gain terminal correction at
  the receiver, per class and carrier: the class's P.2108 clutter type (a
  ``p2108_type`` column, else its name by :data:`P2108_TYPE_ALIASES`), R = the
  class's ``height_m`` (0: no loss), w_s = ``street_width_m``, h =
  ``rx_height_m``;
* ``p2108-statistical`` -- ITU-R P.2108-1 section 3.2 statistical clutter loss
  L_ctt(f, d, p = ``location_pct``) on pixels of types suburban, urban and
  dense_urban (the section models a terminal in urban/suburban clutter; it has
  no statement for water, open or forest, which get no loss).

Hata, COST-231 and the SPM already contain average clutter in their fit, so the


Package layout (arrows point down; nothing imports upward)::

    run         predict(), predict_to_file(): plan once, walk the tiles, assemble or stream
    dask_tiles  the tiles as Dask tasks (--workers / --scheduler)
    dask_sites  --tasks sites on Dask: one task per site, one reduction per tile
    sites       --tasks sites: a site's pieces per tile (compute_site), a tile's fold (reduce_tile)
    tiles       make_plan() and compute_tile(): the one per-tile code path
    write       the coverage and per-cell GeoTIFFs (file arguments defined once)
    inputs      cell checks, the engine's cell matrix, clutter physics (shared with netqa.compare)
    config      PredictConfig, CoverageResult, band names and units
"""

from netqa.predict.config import (
    BAND_UNITS,
    CLUTTER_MODELS,
    MODELS,
    NODATA,
    TERRAIN_METHODS,
    CoverageResult,
    PredictConfig,
)
from netqa.predict.inputs import P2108_STATISTICAL_TYPES, P2108_TYPE_ALIASES, clutter_arrays, p2108_class_types
from netqa.predict.run import predict, predict_to_file
from netqa.predict.tiles import TILE_MARGIN_PX
from netqa.predict.write import write_coverage, write_per_cell

__all__ = [
    "PredictConfig",
    "CoverageResult",
    "predict",
    "predict_to_file",
    "write_coverage",
    "write_per_cell",
    "clutter_arrays",
    "p2108_class_types",
    "BAND_UNITS",
    "NODATA",
    "TILE_MARGIN_PX",
    "CLUTTER_MODELS",
    "MODELS",
    "TERRAIN_METHODS",
    "P2108_TYPE_ALIASES",
    "P2108_STATISTICAL_TYPES",
]
