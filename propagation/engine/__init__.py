"""The raster engine: cells x grid x terrain -> received power, best server, SINR, throughput.

numpy + numba only.  Public, typed functions validate and call private
numba kernels:

* :func:`predict_coverage` / :func:`iter_coverage_tiles` -- the coverage
  raster (closed-form model + terrain method + antenna + clutter, best server,
  SINR, throughput), tile by tile;
* :func:`predict_points` -- the same physics at arbitrary points (:func:`prepare_terrain`
  checks a large DEM once for many calls);
* :func:`terrain_loss_sweep` -- the radial-sweep delta-Bullington kernel, and
  :func:`terrain_loss_reference`, its slow per-pixel reference;
* :func:`path_clutter_loss_db` -- clutter losses weighted along the path from a
  mast to every pixel (:class:`PathClutterGrid` passes them to the coverage run);
* :func:`itm_loss_sweep` / :func:`itm_loss_reference` -- the same for ITM (``terrain="itm"``);
* :mod:`propagation.engine.sites` -- the coverage run split by site: each path group's
  contribution over its own disk, folded per output tile into the same accumulators.
"""

from propagation.engine._common import CELL_FIELDS, MODEL_IDS, TERRAIN_IDS, PathLossModel, TerrainMethod
from propagation.engine.config import BANDS, Coverage, EngineConfig, GridSpec, cell_matrix
from propagation.engine.path_clutter import PathClutterGrid, path_clutter_loss_db
from propagation.engine.raster import iter_coverage_tiles, predict_coverage
from propagation.engine.points import PreparedTerrain, predict_points, prepare_terrain
from propagation.engine.terrain import default_n_rays, terrain_loss_reference, terrain_loss_sweep
from propagation.engine.terrain_itm import itm_loss_reference, itm_loss_sweep

__all__ = [
    "BANDS",
    "CELL_FIELDS",
    "MODEL_IDS",
    "TERRAIN_IDS",
    "Coverage",
    "EngineConfig",
    "GridSpec",
    "PathClutterGrid",
    "PathLossModel",
    "PreparedTerrain",
    "TerrainMethod",
    "cell_matrix",
    "default_n_rays",
    "itm_loss_reference",
    "itm_loss_sweep",
    "iter_coverage_tiles",
    "path_clutter_loss_db",
    "predict_coverage",
    "predict_points",
    "prepare_terrain",
    "terrain_loss_reference",
    "terrain_loss_sweep",
]
