"""propagation — radio propagation models and numba raster kernels.

Pure physics: numpy and numba only.  This package never imports ``netqa``,
geopandas, rasterio or matplotlib.  Every public model takes scalars or
broadcastable numpy arrays, returns float64, and accepts ``strict=True``
(raise outside the model's validity range) or ``strict=False`` (extrapolate
with a :class:`ValidityRangeWarning`).  Losses are positive dB.
"""

from propagation._validity import ValidityRangeWarning
from propagation.units import (
    THERMAL_NOISE_DBM_PER_HZ,
    db_from_linear,
    dbm_from_mw,
    linear_from_db,
    mean_dbm,
    mw_from_dbm,
)

# --- closed-form path loss (pathloss.py, spm.py, tr38901.py) ---
from propagation.pathloss import (
    HataCity,
    HataEnv,
    cost231_hata_loss_db,
    free_space_loss_db,
    hata_loss_db,
)
from propagation.spm import SPM_DEFAULT_K, SpmCoefficients, spm_k1_at, spm_loss_db
from propagation.tr38901 import Tr38901Scenario, tr38901_loss_db
# --- diffraction and clutter (diffraction.py, p2108.py) ---
from propagation.diffraction import delta_bullington_loss_db
from propagation.itm import ITM_CLIMATES, ItmMode, ItmP2PResult, itm_p2p, itm_p2p_loss_db
from propagation.knife_edge import knife_edge_loss_db
from propagation.p2108 import p2108_clutter_loss_db, p2108_height_gain_db
# --- antennas and throughput (antenna.py, throughput.py) ---
from propagation.antenna import SECTOR_DEFAULTS, sector_gain_db, wrap_az_deg
from propagation.antenna_pattern import AntennaPattern, PatternMethod
from propagation.throughput import SHANNON_DL, SHANNON_UL, ShannonParams, shannon_sinr_max_db, truncated_shannon_bps_hz
# --- raster engine (engine/) ---
from propagation.engine import (  # noqa: E402
    EngineConfig,
    GridSpec,
    cell_matrix,
    iter_coverage_tiles,
    predict_coverage,
    predict_points,
    terrain_loss_reference,
    terrain_loss_sweep,
)

__version__ = "0.1.0"

__all__ = [
    "ValidityRangeWarning",
    "THERMAL_NOISE_DBM_PER_HZ",
    "db_from_linear",
    "dbm_from_mw",
    "linear_from_db",
    "mean_dbm",
    "mw_from_dbm",
    "HataCity",
    "HataEnv",
    "cost231_hata_loss_db",
    "free_space_loss_db",
    "hata_loss_db",
    "SPM_DEFAULT_K",
    "SpmCoefficients",
    "spm_k1_at",
    "spm_loss_db",
    "Tr38901Scenario",
    "tr38901_loss_db",
    "delta_bullington_loss_db",
    "ITM_CLIMATES",
    "ItmMode",
    "ItmP2PResult",
    "itm_p2p",
    "itm_p2p_loss_db",
    "knife_edge_loss_db",
    "p2108_clutter_loss_db",
    "p2108_height_gain_db",
    "SECTOR_DEFAULTS",
    "sector_gain_db",
    "wrap_az_deg",
    "AntennaPattern",
    "PatternMethod",
    "SHANNON_DL",
    "SHANNON_UL",
    "ShannonParams",
    "shannon_sinr_max_db",
    "truncated_shannon_bps_hz",
    "EngineConfig",
    "GridSpec",
    "cell_matrix",
    "iter_coverage_tiles",
    "predict_coverage",
    "predict_points",
    "terrain_loss_reference",
    "terrain_loss_sweep",
]
