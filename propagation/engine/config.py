"""The raster engine's inputs and result: :class:`GridSpec`, :class:`EngineConfig`, :func:`cell_matrix`, :class:`Coverage`.

Validated here once, so that the kernels of :mod:`propagation.engine.raster` never validate.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from propagation._validity import ValidityRangeWarning
from propagation.diffraction import POLARIZATIONS
from propagation.engine._common import (
    C_FREQ,
    C_FREQ_INDEX,
    C_GROUND,
    C_X,
    C_Y,
    CELL_FIELDS,
    MODEL_IDS,
    MP_CITY,
    MP_ENV,
    MP_H_BUILDING,
    MP_HEFF_GROUND,
    MP_K1,
    MP_K_DIFF,
    MP_MIN_DIST_KM,
    MP_RX_HEIGHT,
    MP_STREET_WIDTH,
    N_CELL_FIELDS,
    N_MP,
    PATTERN_OMNI,
    PATTERN_SECTOR,
    TERRAIN_IDS,
    _bilinear_many,
)
from propagation.engine.terrain_itm import itm_params
from propagation.p2108 import P2108_STATISTICAL_FREQ_MHZ, _q_inverse
from propagation.spm import SPM_DEFAULT_K, SpmCoefficients, spm_k1_at

#: Bands of the coverage result, in order (DESIGN.md "Coverage raster").
BANDS = ("rsrp_dbm", "best_cell", "sinr_db", "dl_mbps", "ul_mbps")
#: Resource-element spacing (LTE/NR 15 kHz numerology). [Hz]
SUBCARRIER_HZ = 15_000.0

_HATA_ENVS = {"urban": 0, "suburban": 1, "open": 2}
_HATA_CITIES = {"medium": 0, "large": 1}

#: Defaults of the optional cell-matrix columns.
CELL_DEFAULTS = {
    "ground_m": np.nan,  # NaN: bilinear from the grid's terrain
    "mech_tilt_deg": 0.0,
    "elec_tilt_deg": 0.0,
    "gain_dbi": 17.0,
    "feeder_loss_db": 0.0,
    "load": 1.0,
    "radius_km": 15.0,
    "hpbw_h_deg": 65.0,
    "hpbw_v_deg": 10.0,
    "sla_v_db": 20.0,
    "am_db": 25.0,
    "pattern_id": float(PATTERN_SECTOR),
}
_REQUIRED = ("x_m", "y_m", "height_m", "azimuth_deg", "freq_mhz", "rs_power_dbm", "bandwidth_mhz")


@dataclass(frozen=True)
class GridSpec:
    """A north-up grid of square pixels in a projected CRS.

    ``x0_m``/``y0_m`` are the left and top edges; pixel (r, c) has its centre at
    (x0 + (c + 0.5) p, y0 - (r + 0.5) p).
    """

    x0_m: float
    y0_m: float
    pixel_m: float
    n_rows: int
    n_cols: int

    def __post_init__(self):
        if not (math.isfinite(self.pixel_m) and self.pixel_m > 0):
            raise ValueError(f"pixel_m must be > 0 m, got {self.pixel_m!r}")
        if self.n_rows < 1 or self.n_cols < 1:
            raise ValueError(f"grid must have at least one row and column, got {self.n_rows} x {self.n_cols}")

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_rows, self.n_cols)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of the pixel centres, each (rows, cols). [m]"""
        x = self.x0_m + (np.arange(self.n_cols) + 0.5) * self.pixel_m
        y = self.y0_m - (np.arange(self.n_rows) + 0.5) * self.pixel_m
        return np.meshgrid(x, y)


#: Effective-height methods of the SPM (see :class:`EngineConfig`).
SPM_H_EFF_METHODS = ("relative", "ground")


@dataclass(frozen=True)
class EngineConfig:
    """Physics and computation settings of the raster engine (all validated).

    Attributes: ``model`` and ``terrain`` (names of DESIGN.md), ``rx_height_m``
    [m], Hata ``hata_env``/``hata_city``, SPM coefficients ``spm_k``, TR 38.901
    ``h_building_m``/``street_width_m`` [m], ``k_factor`` (effective earth
    radius), ``polarization``, ``min_dist_km`` (distances are clamped to it)
    [km], UE and base-station noise figures [dB], UE power [dBm], uplink
    interference margin [dB], ``tile_px`` (tile side) and ``rays_per_pixel``
    (rays per pixel width at the outer radius of a sweep), and
    ``clutter_location_pct``: the percentage of locations p (0 < p < 100) at
    which the ITU-R P.2108 section 3.2 statistical clutter loss is evaluated
    where a ``clutter_stat_mask`` is set [%].
    """

    model: str = "hata"
    terrain: str = "none"
    rx_height_m: float = 1.5
    hata_env: str = "urban"
    hata_city: str = "medium"
    spm_k: SpmCoefficients = SPM_DEFAULT_K
    h_building_m: float = 5.0
    street_width_m: float = 20.0
    k_factor: float = 4.0 / 3.0
    polarization: str = "horizontal"
    min_dist_km: float = 0.01
    noise_figure_db: float = 7.0
    bs_noise_figure_db: float = 5.0
    ue_power_dbm: float = 23.0
    ul_margin_db: float = 3.0
    tile_px: int = 4096
    rays_per_pixel: float = 2.0
    #: SPM effective height: "relative" (mast top minus receiver ground, >= 1 m) or "ground"
    #: (antenna height above ground at the site, the planning tools' default method).
    spm_h_eff: str = "relative"
    #: Per-band SPM coefficients, ``((freq_mhz, SpmCoefficients), ...)``: a cell whose carrier is
    #: within 0.5 MHz of a band's uses that band's K (tuned models hold one set per band).
    spm_k_bands: tuple = ()
    #: Per-cell SPM coefficients, ``((cell_row, SpmCoefficients), ...)`` by row of the cell matrix: a cell listed
    #: here uses its own K instead of its band's (a tuned model's per-cell K1/K2, shrunk toward the band).
    spm_k_cells: tuple = ()
    #: P.2108-1 section 3.2: percentage of locations of the statistical clutter loss (``clutter_stat_mask``). [%]
    clutter_location_pct: float = 50.0
    #: ``terrain="itm"`` (Longley-Rice, ``polarization`` above): radio climate 1..7, surface refractivity
    #: [N-units], ground relative permittivity and conductivity [S/m], mode of variability, and the time,
    #: location and situation percentages of the quantile (50: the median) [%], as :func:`propagation.itm_p2p_loss_db`.
    itm_climate: int = 5
    itm_refractivity_n0: float = 301.0
    itm_permittivity: float = 15.0
    itm_conductivity_s_per_m: float = 0.005
    itm_mdvar: int = 12
    itm_time_pct: float = 50.0
    itm_location_pct: float = 50.0
    itm_situation_pct: float = 50.0

    def __post_init__(self):
        p = self.clutter_location_pct
        if not (isinstance(p, (int, float)) and math.isfinite(p) and 0.0 < p < 100.0):
            raise ValueError(f"clutter_location_pct must lie strictly between 0 and 100 %, got {p!r}; use 50 for the median")
        if self.spm_h_eff not in SPM_H_EFF_METHODS:
            raise ValueError(f"spm_h_eff must be one of {', '.join(map(repr, SPM_H_EFF_METHODS))}; got {self.spm_h_eff!r}")
        for entry in self.spm_k_bands:
            if len(entry) != 2 or not isinstance(entry[1], SpmCoefficients) or not math.isfinite(float(entry[0])):
                raise ValueError(f"spm_k_bands entries must be (freq_mhz, SpmCoefficients), got {entry!r}")
        rows = [entry[0] if len(entry) == 2 else None for entry in self.spm_k_cells]
        for entry, row in zip(self.spm_k_cells, rows):
            if (row is None or not isinstance(row, (int, np.integer)) or isinstance(row, bool) or row < 0
                    or not isinstance(entry[1], SpmCoefficients)):  # fmt: skip
                raise ValueError(f"spm_k_cells entries must be (cell_row >= 0, SpmCoefficients), got {entry!r}")
        if len(set(rows)) != len(rows):
            raise ValueError("spm_k_cells lists a cell row twice")
        for name, table in (("model", MODEL_IDS), ("terrain", TERRAIN_IDS), ("hata_env", _HATA_ENVS),
                            ("hata_city", _HATA_CITIES), ("polarization", POLARIZATIONS)):  # fmt: skip
            if getattr(self, name) not in table:
                raise ValueError(f"{name} must be one of {', '.join(map(repr, table))}; got {getattr(self, name)!r}")
        for name in ("rx_height_m", "k_factor", "min_dist_km", "h_building_m", "street_width_m", "rays_per_pixel"):
            val = getattr(self, name)
            if not (math.isfinite(val) and val > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {val!r}")
        for name in ("noise_figure_db", "bs_noise_figure_db", "ue_power_dbm", "ul_margin_db"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be finite, got {getattr(self, name)!r}")
        if int(self.tile_px) < 16:
            raise ValueError(f"tile_px must be >= 16, got {self.tile_px!r}")
        if self.terrain == "itm":
            self.itm_params()  # raises ValueError naming the bad itm_* setting

    def check_k_cells(self, n_cells: int) -> None:
        """Raise ``ValueError`` when ``spm_k_cells`` names a row beyond the ``n_cells`` cells."""
        bad = [row for row, _ in self.spm_k_cells if row >= n_cells]
        if bad:
            raise ValueError(f"spm_k_cells names cell row(s) {bad[:5]} but there are {n_cells} cells")

    def itm_params(self) -> np.ndarray:
        """The ITM parameter vector of ``terrain="itm"`` (:func:`propagation.engine.terrain_itm.itm_params`)."""
        try:
            return itm_params(self.itm_climate, self.itm_refractivity_n0, self.polarization, self.itm_permittivity,
                              self.itm_conductivity_s_per_m, self.itm_mdvar, self.itm_time_pct, self.itm_location_pct,
                              self.itm_situation_pct)  # fmt: skip
        except ValueError as exc:
            raise ValueError(f"itm_* setting: {exc}") from None

    @property
    def model_id(self) -> int:
        return int(MODEL_IDS[self.model])

    @property
    def terrain_id(self) -> int:
        return int(TERRAIN_IDS[self.terrain])

    def spm_k_for(self, freq_mhz: float, cell: int | None = None) -> SpmCoefficients:
        """The SPM coefficients of a cell (row ``cell``) or carrier: the cell's own from ``spm_k_cells``, else its
        band's from ``spm_k_bands``, else ``spm_k``."""
        if cell is not None:
            for row, k in self.spm_k_cells:
                if row == cell:
                    return k
        for band_freq, k in self.spm_k_bands:
            if abs(float(band_freq) - freq_mhz) <= 0.5:
                return k
        return self.spm_k

    def model_params(self, freq_mhz: float, cell: int | None = None) -> np.ndarray:
        """The float64 parameter vector the kernels read (SPM K1 moved to ``freq_mhz``; K of cell row ``cell``;
        K1-K7 zero unless the model is the SPM)."""
        mp = np.zeros(N_MP)
        mp[MP_ENV] = _HATA_ENVS[self.hata_env]
        mp[MP_CITY] = _HATA_CITIES[self.hata_city]
        mp[MP_RX_HEIGHT] = self.rx_height_m
        mp[MP_MIN_DIST_KM] = self.min_dist_km
        mp[MP_H_BUILDING] = self.h_building_m
        mp[MP_STREET_WIDTH] = self.street_width_m
        mp[MP_K_DIFF] = 1.0
        mp[MP_HEFF_GROUND] = 1.0 if self.spm_h_eff == "ground" else 0.0
        if self.model_id == MODEL_IDS["spm"]:  # read by the SPM only: other runs compile no SPM kernel
            k = self.spm_k_for(freq_mhz, cell)
            mp[MP_K1 : MP_K1 + 7] = (float(spm_k1_at(k, freq_mhz)), k.k2, k.k3, k.k4, k.k5, k.k6, k.k7)
        return mp


class Coverage(NamedTuple):
    """Coverage arrays on a grid (float32, NaN where no cell reaches).

    ``best_cell`` holds the row index of the best server in the cell matrix
    (float32 so that all bands share one type; NaN where none).
    ``per_cell`` is (n_cells, rows, cols) RSRP [dBm] or None; ``terrain_db`` the best server's terrain excess
    loss [dB] (``predict_coverage(..., best_terrain_db=True)``) or None.
    """

    rsrp_dbm: np.ndarray
    best_cell: np.ndarray
    sinr_db: np.ndarray
    dl_mbps: np.ndarray
    ul_mbps: np.ndarray
    per_cell: np.ndarray | None = None
    terrain_db: np.ndarray | None = None

    def bands(self) -> np.ndarray:
        """The five bands stacked, (5, rows, cols) float32, in :data:`BANDS` order."""
        return np.stack([self.rsrp_dbm, self.best_cell, self.sinr_db, self.dl_mbps, self.ul_mbps])


def cell_matrix(**columns) -> np.ndarray:
    """Build and check the (n_cells, N_CELL_FIELDS) float64 cell matrix from named 1-D arrays.

    Required: ``x_m``, ``y_m``, ``height_m`` [m above ground], ``azimuth_deg``,
    ``freq_mhz``, ``rs_power_dbm`` (per resource element), ``bandwidth_mhz``.
    Optional (defaults in :data:`CELL_DEFAULTS`): ``ground_m`` (NaN: from the
    grid), tilts, ``gain_dbi``, ``feeder_loss_db``, ``load`` (0..1),
    ``radius_km``, 3GPP sector parameters, ``pattern_id`` (-1 sector, -2 omni,
    >= 0 a measured pattern).  ``freq_index`` is assigned here (co-channel =
    same frequency).

    >>> m = cell_matrix(x_m=[0.0], y_m=[0.0], height_m=[30.0], azimuth_deg=[0.0],
    ...                 freq_mhz=[900.0], rs_power_dbm=[15.0], bandwidth_mhz=[10.0])
    >>> m.shape == (1, len(CELL_FIELDS))
    True
    """
    unknown = sorted(set(columns) - set(CELL_FIELDS) - {"freq_index"})
    if unknown:
        raise ValueError(f"unknown cell column(s) {', '.join(unknown)}; valid: {', '.join(CELL_FIELDS[:-1])}")
    missing = [name for name in _REQUIRED if name not in columns]
    if missing:
        raise ValueError(f"cell column(s) {', '.join(missing)} are required")
    n = np.asarray(columns["x_m"]).size
    if n == 0:
        raise ValueError("at least one cell is required")
    m = np.empty((n, N_CELL_FIELDS))
    for j, name in enumerate(CELL_FIELDS[:-1]):
        val = np.asarray(columns.get(name, CELL_DEFAULTS.get(name)), dtype=np.float64)
        try:
            m[:, j] = np.broadcast_to(val, (n,))
        except ValueError as exc:
            raise ValueError(f"cell column {name} has {val.size} values for {n} cells") from exc
        finite = np.isfinite(m[:, j])
        if name != "ground_m" and not finite.all():
            raise ValueError(f"cell column {name} must be finite, got {m[~finite, j][0]!r} for cell {int(np.argmax(~finite))}")
    _positive = {"height_m": "m", "freq_mhz": "MHz", "bandwidth_mhz": "MHz", "radius_km": "km",
                 "hpbw_h_deg": "deg", "hpbw_v_deg": "deg"}  # fmt: skip
    for name, unit in _positive.items():
        col = m[:, CELL_FIELDS.index(name)]
        if np.any(col <= 0):
            i = int(np.argmax(col <= 0))
            raise ValueError(f"cell {i}: {name} must be > 0 {unit}, got {col[i]:g}")
    load = m[:, CELL_FIELDS.index("load")]
    if np.any((load < 0) | (load > 1)):
        i = int(np.argmax((load < 0) | (load > 1)))
        raise ValueError(f"cell {i}: load must lie in [0, 1], got {load[i]:g}")
    _, m[:, C_FREQ_INDEX] = np.unique(m[:, C_FREQ], return_inverse=True)
    return m


def _n_freq(cells) -> int:
    """Number of carrier frequencies the cell matrix indexes (``freq_index`` max + 1)."""
    return int(cells[:, C_FREQ_INDEX].max()) + 1


def _check_clutter(clutter_db, shape, n_freq, *, at_least=False, dtype=np.float32):
    """``clutter_db`` as a C-contiguous ``dtype`` (n_planes, *shape) array; (0, ...) when None.

    ``shape`` is the grid's (rows, cols) (raster) or (n_points,) (points).  One
    plane applies to every carrier; n_freq planes are indexed by the cells'
    ``freq_index`` (``at_least``: more planes are allowed, for cell subsets).
    """
    if clutter_db is None:
        return np.zeros((0,) + (0,) * len(shape), dtype)
    clutter = np.asarray(clutter_db, dtype=dtype)
    if clutter.shape == shape:
        clutter = clutter[None]
    if clutter.ndim != len(shape) + 1 or clutter.shape[1:] != shape:
        what = "(rows, cols) or (n_freq, rows, cols)" if len(shape) == 2 else "(n_points,) or (n_freq, n_points)"
        raise ValueError(f"clutter_db has shape {clutter.shape}; expected {what} = {shape} or ({n_freq},) + {shape}")
    n = clutter.shape[0]
    if n != 1 and (n < n_freq if at_least else n != n_freq):
        raise ValueError(
            f"clutter_db has {n} frequency planes, the cells have {n_freq} carrier frequencies; give one plane "
            "per sorted unique freq_mhz (the cells' freq_index), or a single plane for all carriers"
        )
    if not np.isfinite(clutter).all():
        raise ValueError("clutter_db must be finite everywhere (0 where there is no clutter loss)")
    return np.ascontiguousarray(clutter)


def _check_stat_mask(mask, shape, cells, stacklevel=4):
    """``clutter_stat_mask`` as C-contiguous uint8 of ``shape``; an empty array when None or all zero.

    Warns once (:class:`ValidityRangeWarning`) when a carrier lies outside
    P.2108-1 section 3.2's 500-67 000 MHz (the loss is extrapolated).
    """
    if mask is None:
        return np.zeros((0,) * len(shape), np.uint8)
    m = np.asarray(mask)
    if m.shape != shape:
        raise ValueError(f"clutter_stat_mask has shape {m.shape}, expected {shape}")
    if m.dtype != np.bool_ and not np.issubdtype(m.dtype, np.integer):
        raise ValueError(f"clutter_stat_mask must be boolean or 0/1 integers, got dtype {m.dtype}")
    m = np.ascontiguousarray(m != 0, dtype=np.uint8)
    if not m.any():
        return np.zeros((0,) * len(shape), np.uint8)
    lo, hi = P2108_STATISTICAL_FREQ_MHZ
    freqs = np.unique(cells[:, C_FREQ])
    out = freqs[(freqs < lo) | (freqs > hi)]
    if out.size:
        warnings.warn(
            f"freq_mhz {', '.join(f'{f:g}' for f in out)} outside the validity range of ITU-R P.2108-1 section 3.2 "
            f"statistical clutter loss: [{lo:g}, {hi:g}] MHz; extrapolating",
            ValidityRangeWarning, stacklevel=stacklevel,
        )  # fmt: skip
    return m


def stat_q_inverse(config) -> float:
    """Q^-1(p / 100) of ``config.clutter_location_pct`` (the kernels take it precomputed)."""
    return float(_q_inverse(np.array(config.clutter_location_pct / 100.0)))


def _check_elev(elev_m, grid):
    """``elev_m`` as contiguous float32 on ``grid``, finite everywhere (ValueError otherwise)."""
    elev = np.ascontiguousarray(elev_m, dtype=np.float32)
    if elev.shape != grid.shape:
        raise ValueError(f"elev_m has shape {elev.shape}, the grid is {grid.shape}")
    if not np.isfinite(elev).all():
        raise ValueError("elev_m has NaN/inf pixels (DEM voids); fill or crop them before predicting")
    return elev


def _check_inputs(cells, elev_m, grid, clutter_db, patterns, elev_checked=False):
    cells = np.ascontiguousarray(cells, dtype=np.float64)
    if cells.ndim != 2 or cells.shape[1] != N_CELL_FIELDS:
        raise ValueError(f"cells must be a (n, {N_CELL_FIELDS}) matrix from cell_matrix(), got shape {cells.shape}")
    elev = elev_m if elev_checked else _check_elev(elev_m, grid)
    clutter = _check_clutter(clutter_db, grid.shape, _n_freq(cells))
    if patterns is None:
        patterns = np.zeros((0, 2, 360))
    patterns = np.ascontiguousarray(patterns, dtype=np.float64)
    if patterns.ndim != 3 or patterns.shape[1:] != (2, 360):
        raise ValueError(f"patterns must be (n_patterns, 2, 360) attenuations [dB], got shape {patterns.shape}")
    pid = cells[:, CELL_FIELDS.index("pattern_id")]
    bad = (pid >= patterns.shape[0]) | ((pid < 0) & (pid != PATTERN_SECTOR) & (pid != PATTERN_OMNI))
    if np.any(bad):
        i = int(np.argmax(bad))
        raise ValueError(f"cell {i}: pattern_id {pid[i]:g} is neither -1, -2 nor a row of patterns ({patterns.shape[0]})")
    ground = cells[:, C_GROUND]
    if np.isnan(ground).any():
        cells = cells.copy()
        nan = np.isnan(ground)
        cells[nan, C_GROUND] = _bilinear_many(elev, grid.x0_m, grid.y0_m, grid.pixel_m, cells[nan, C_X], cells[nan, C_Y])
    return cells, elev, clutter, patterns


#: NR resource blocks at 30 kHz subcarrier spacing by channel bandwidth (TS 38.101-1 Table 5.3.2-1).
_NR_PRB_30KHZ = {25: 65, 30: 78, 40: 106, 50: 133, 60: 162, 70: 189, 80: 217, 90: 245, 100: 273}


def _n_prb(bandwidth_mhz: float) -> int:
    """Resource blocks of a carrier (used for the uplink power per subcarrier).

    Up to 20 MHz: LTE at 15 kHz, 6 at 1.4 MHz, else 5 per MHz (TS 36.101
    Table 5.6-1).  Wider carriers can only be NR: 30 kHz subcarriers, TS 38.101-1
    Table 5.3.2-1 (100 MHz -> 273), else 2.73 per MHz.
    """
    if bandwidth_mhz < 3.0:
        return 6
    if bandwidth_mhz <= 20.0:
        return int(round(5.0 * bandwidth_mhz))
    return _NR_PRB_30KHZ.get(int(round(bandwidth_mhz)), int(round(2.73 * bandwidth_mhz)))
