"""Settings and result of a coverage prediction: :class:`PredictConfig`, :class:`CoverageResult`, band names.

The bottom of :mod:`netqa.predict`: every other module of the package imports
from here, nothing here imports them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from netqa.errors import ConfigError
from netqa.grid import Grid
from propagation.engine import BANDS

MODELS = ("hata", "cost231", "spm", "tr38901-uma", "tr38901-umi", "tr38901-rma", "fspl")
TERRAIN_METHODS = ("none", "delta-bullington", "itm")
CLUTTER_MODELS = ("table", "p2108", "p2108-statistical")

#: Band descriptions and units written to the coverage GeoTIFF.
BAND_UNITS = {
    "rsrp_dbm": "dBm",
    "best_cell": "index into the best_cell metadata list (cells table order)",
    "sinr_db": "dB",
    "dl_mbps": "Mbit/s",
    "ul_mbps": "Mbit/s",
}
NODATA = -9999.0

#: ``--itm-*`` flag / ``[predict]`` key -> :class:`propagation.engine.EngineConfig` field.
ITM_KEYS = {
    "itm_climate": "itm_climate", "itm_n0": "itm_refractivity_n0", "itm_permittivity": "itm_permittivity",
    "itm_conductivity": "itm_conductivity_s_per_m", "itm_mdvar": "itm_mdvar", "itm_time_pct": "itm_time_pct",
    "itm_location_pct": "itm_location_pct", "itm_situation_pct": "itm_situation_pct", "polarization": "polarization",
}  # fmt: skip


def itm_pairs(source) -> tuple:
    """The ``itm`` pairs of the :data:`ITM_KEYS` attributes of ``source`` (CLI args or a ``[predict]`` section)
    that are set (not None)."""
    return tuple((field_, getattr(source, key)) for key, field_ in ITM_KEYS.items()
                 if getattr(source, key, None) is not None)  # fmt: skip


#: The EngineConfig fields an ``itm`` pair may set.
ITM_FIELDS = tuple(ITM_KEYS.values())


def check_itm_pairs(itm, terrain: str) -> None:
    """ConfigError unless ``itm`` is ``(field, value)`` pairs of :data:`ITM_FIELDS` that the engine accepts and
    that ``terrain`` uses (``itm``; ``polarization`` alone also counts for ``delta-bullington``)."""
    from propagation.engine import EngineConfig

    try:
        pairs = dict(itm)
    except (TypeError, ValueError):
        raise ConfigError(f"itm = {itm!r} must be (field, value) pairs, e.g. (('itm_climate', 6),)") from None
    bad = sorted(set(pairs) - set(ITM_FIELDS))
    if bad:
        raise ConfigError(f"itm: unknown setting(s) {', '.join(bad)}; choose from {', '.join(ITM_FIELDS)}")
    if pairs and terrain != "itm" and not (set(pairs) == {"polarization"} and terrain == "delta-bullington"):
        raise ConfigError(f"itm: {', '.join(pairs)} would be ignored with terrain {terrain!r}; they are "
                          "Longley-Rice settings (terrain 'itm')")  # fmt: skip
    try:
        EngineConfig(terrain="itm", **pairs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"itm: {exc}") from None
    mdvar = pairs.get("itm_mdvar", 12)
    if "itm_location_pct" in pairs and (int(mdvar) % 100) // 10 in (1, 3):
        raise ConfigError(f"itm: itm_location_pct has no effect with itm_mdvar {mdvar} (+10: location variability "
                          "eliminated, as in the default 12); set itm_mdvar 2 or drop it")  # fmt: skip


@dataclass(frozen=True)
class PredictConfig:
    """Settings of :func:`predict` (the ``[predict]`` project section and ``netqa predict`` flags).

    ``model``/``terrain``: names of DESIGN.md; ``model_file``: tuned SPM TOML
    (K1..K7 at top level or under ``[spm]``); ``resolution_m`` pixel size
    [m]; ``radius_km`` coverage radius of every cell [km]; ``rx_height_m``
    [m]; ``noise_figure_db`` of the UE [dB]; ``cell_load`` share of resource
    elements every cell occupies (interference weight, 0..1); ``bounds``
    (left, bottom, right, top) in ``bounds_crs`` (default: the cells' radius,
    clipped to the DEM); ``tile_px`` side of the tiles that are read,
    computed and written one at a time [px]; ``clutter_model``
    table, p2108 or p2108-statistical (module docstring); ``location_pct``
    percentage of locations of the statistical clutter loss (0 < p < 100)
    [%]; ``street_width_m`` street width w_s of the P.2108 height-gain model [m];
    ``itm`` Longley-Rice settings of ``terrain="itm"`` as ``(field, value)`` pairs of
    :class:`propagation.engine.EngineConfig` (``itm_climate``, ``itm_refractivity_n0``,
    ``itm_permittivity``, ``itm_conductivity_s_per_m``, ``itm_mdvar``, ``itm_time_pct``,
    ``itm_location_pct``, ``itm_situation_pct``, ``polarization``; the CLI's ``--itm-*`` flags).
    """

    model: str = "hata"
    terrain: str = "none"
    model_file: Path | None = None
    resolution_m: float = 30.0
    radius_km: float = 15.0
    rx_height_m: float = 1.5
    noise_figure_db: float = 7.0
    cell_load: float = 1.0
    bounds: tuple[float, float, float, float] | None = None
    bounds_crs: str | None = None
    tile_px: int = 4096
    clutter_model: str = "table"
    location_pct: float = 50.0
    street_width_m: float = 27.0
    itm: tuple = ()
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.clutter_model not in CLUTTER_MODELS:
            raise ConfigError(f"--clutter-model {self.clutter_model!r} is unknown; choose one of {', '.join(CLUTTER_MODELS)}")
        p = self.location_pct
        if not (isinstance(p, (int, float)) and math.isfinite(p) and 0.0 < p < 100.0):
            raise ConfigError(f"--location-pct = {p!r} must lie strictly between 0 and 100 %; use 50 for the median")
        if self.model not in MODELS and self.model != "auto":  # auto: netqa.modelcheck.auto_model of the cells
            raise ConfigError(f"--model {self.model!r} is unknown; choose one of {', '.join(MODELS)}")
        tp = self.tile_px
        if not (isinstance(tp, (int, np.integer)) and not isinstance(tp, bool) and 16 <= tp <= 65_536):
            raise ConfigError(f"--tile-px = {tp!r} must be a whole number of pixels in 16..65536; 4096 is the default "
                              "(smaller tiles hold less memory, larger ones re-read less terrain margin)")  # fmt: skip
        if self.terrain not in TERRAIN_METHODS:
            raise ConfigError(f"--terrain {self.terrain!r} is unknown; choose one of {', '.join(TERRAIN_METHODS)}")
        check_itm_pairs(self.itm, self.terrain)
        object.__setattr__(self, "itm", tuple(dict(self.itm).items()))  # hashable, one pair per field
        for name, lo, hi, unit in (("resolution_m", 1.0, 10_000.0, "m"), ("radius_km", 0.1, 200.0, "km"),
                                   ("rx_height_m", 0.5, 50.0, "m"), ("noise_figure_db", 0.0, 20.0, "dB"),
                                   ("cell_load", 0.0, 1.0, ""), ("street_width_m", 1.0, 1000.0, "m")):  # fmt: skip
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and lo <= v <= hi):
                flag = "--" + name.replace("_", "-")
                raise ConfigError(f"{flag} = {v!r} is outside {lo:g}..{hi:g} {unit}".rstrip())

    @classmethod
    def from_section(cls, section, **overrides) -> "PredictConfig":
        """The settings of a ``[predict]`` project section (:class:`netqa.config.PredictSection`), every key that
        is also a field here (so the two cannot drift), then ``overrides``.

        >>> from netqa.config import PredictSection
        >>> PredictConfig.from_section(PredictSection(radius_km=5.0), model="cost231").radius_km
        5.0
        """
        import dataclasses

        mine = {f.name: f for f in dataclasses.fields(cls)}
        values = {}
        for f in dataclasses.fields(section):
            if f.name in mine:
                v = getattr(section, f.name)
                if mine[f.name].type in ("int", int) and v is not None:
                    if float(v) != int(v):
                        raise ConfigError(f"[predict] {f.name} = {v!r} must be a whole number")
                    v = int(v)
                values[f.name] = v
        values["itm"] = itm_pairs(section)
        values.update(overrides)
        return cls(**values)


@dataclass(frozen=True)
class CoverageResult:
    """Coverage arrays on :attr:`grid` (float32, NaN where no cell reaches).

    ``best_cell`` is int32, -1 where none; ``cell_ids[best_cell]`` is the
    serving cell's id.  ``per_cell`` is (n_cells, rows, cols) RSRP or None.
    """

    rsrp_dbm: np.ndarray
    best_cell: np.ndarray
    sinr_db: np.ndarray
    dl_mbps: np.ndarray
    ul_mbps: np.ndarray
    grid: Grid
    cell_ids: tuple[str, ...]
    per_cell: np.ndarray | None = None
    settings: dict = field(default_factory=dict)

    @property
    def transform(self):
        return self.grid.transform

    @property
    def crs(self):
        return self.grid.crs

    def band(self, name: str) -> np.ndarray:
        if name not in BANDS:
            raise KeyError(f"unknown band {name!r}; bands: {', '.join(BANDS)}")
        return getattr(self, name)
