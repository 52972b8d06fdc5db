"""Path-profile analysis of one link: terrain, earth curvature, line of sight, Fresnel zone, obstacles, losses.

:func:`analyse_link` takes one cell of a cell table (or a site given by
position and height) and one receiver position, samples the terrain along
the straight path at the DEM grid's pixel size and returns a
:class:`LinkAnalysis`:

* the profile: distance from the transmitter [km], ground height AMSL [m],
  the earth bulge at the effective earth radius k a (a = 6371 km), the
  clutter height where a clutter class table gives one, the direct ray
  between the two antennas, the first Fresnel zone radius
  r1 = sqrt(lambda d1 d2 / d);
* the dominant obstacles, chosen by the Deygout construction (ITU-R
  P.526-15 section 4.5.1's principal edge, then the principal edge of each
  side), each with its clearance above the ray it blocks, its Fresnel-
  Kirchhoff parameter v = h sqrt(2 d / (lambda d1 d2)) (P.526-15 eq. 22)
  and its single knife-edge loss J(v) (eq. 31);
* a table of losses by every model netqa has, each computed by the same
  engine that draws the coverage raster (points mode), so that the table
  agrees with ``netqa predict`` to the decibel: free space (P.525-4), Okumura-
  Hata, COST-231 Hata, the SPM (default and, with a tuned model file, tuned),
  the delta-Bullington terrain excess (P.526-15 section 4.5) and the total with
  it, Longley-Rice ITM (NTIA, point to point, with its mode of propagation), the P.2108-1 clutter terms at the receiver; and the received power
  (RSRP per resource element) each gives with the cell's EIRP towards the
  receiver (RS power + peak gain - feeder loss + pattern gain).

Heights: antennas stand ``height_m`` above the ground at their own position;
the earth bulge is added to the terrain (the ray is straight), as path-
profile plots of planning tools draw it.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from netqa.errors import InputError
from propagation import ValidityRangeWarning, knife_edge_loss_db
from propagation.engine import EngineConfig
from propagation.engine._common import C_FREQ, C_FREQ_INDEX
from propagation.engine.points import predict_points
from propagation.pathloss import COST231_RANGES, HATA_RANGES, free_space_loss_db

#: Earth radius used with the k-factor (ITU-R P.452/P.1812 a = 6371 km). [km]
EARTH_RADIUS_KM = 6371.0
#: Speed of light (ITU-R P.525-4). [m/s]
SPEED_OF_LIGHT_M_S = 299_792_458.0
#: Knife edges with v at or below this lose nothing (ITU-R P.526-15 eq. 31 is 0 there).
V_NO_LOSS = -0.78
#: Clutter this close to either antenna is the terminal's own environment: drawn, but left out of the obstacle
#: search (the clutter-loss rows -- class table, P.2108 -- account for it, as planning tools separate them). [m]
NEAR_TERMINAL_CLUTTER_M = 50.0

__all__ = ["LinkAnalysis", "LossRow", "Obstacle", "analyse_link", "site_cell_table"]


@dataclass(frozen=True)
class Obstacle:
    """One dominant obstacle of the path (Deygout order: ``rank`` 1 is the principal edge)."""

    rank: int
    dist_km: float  # from the transmitter [km]
    height_m: float  # terrain + clutter + earth bulge at the edge [m AMSL]
    clearance_m: float  # above the ray it blocks (positive: obstructs) [m]
    v: float  # Fresnel-Kirchhoff diffraction parameter [1]
    knife_edge_db: float  # J(v), ITU-R P.526-15 eq. (31) [dB]


@dataclass(frozen=True)
class LossRow:
    """One model's loss on the link and the received power it gives."""

    model: str
    source: str
    kind: str  # "total": basic transmission loss; "excess": added to a total
    loss_db: float
    rx_power_dbm: float  # RSRP per resource element with the cell's EIRP towards the receiver (NaN for excess)
    note: str = ""


@dataclass(frozen=True)
class LinkAnalysis:
    """The result of :func:`analyse_link` (arrays along the profile, from the transmitter)."""

    cell_id: str
    freq_mhz: float
    k_factor: float
    tx_lonlat: tuple[float, float]
    rx_lonlat: tuple[float, float]
    h_tx_m: float
    h_rx_m: float
    dist_km: np.ndarray
    ground_m: np.ndarray
    bulge_m: np.ndarray
    clutter_m: np.ndarray
    ray_m: np.ndarray
    fresnel_m: np.ndarray
    eirp_dbm: float
    obstacles: tuple[Obstacle, ...]
    losses: tuple[LossRow, ...]
    predicted_rsrp_dbm: float
    measured_rsrp_dbm: float | None = None
    rx_clutter: str | None = None
    settings: dict = field(default_factory=dict)

    @property
    def length_km(self) -> float:
        return float(self.dist_km[-1])

    @property
    def line_of_sight(self) -> bool:
        """No terrain, clutter or bulge above the direct ray between the antennas."""
        top = self.ground_m + self.bulge_m + self.clutter_m
        return bool(np.all(top[1:-1] <= self.ray_m[1:-1]))

    @property
    def fresnel_clear(self) -> bool:
        """60 % of the first Fresnel zone free everywhere (the usual clearance criterion)."""
        top = self.ground_m + self.bulge_m + self.clutter_m
        return bool(np.all(top[1:-1] <= self.ray_m[1:-1] - 0.6 * self.fresnel_m[1:-1]))

    def to_dict(self) -> dict:
        """JSON-ready: units in every key, arrays as lists rounded to 0.01."""
        def r(a):
            return [round(float(v), 2) for v in np.asarray(a)]

        out = {
            "cell_id": self.cell_id, "freq_mhz": self.freq_mhz, "k_factor": self.k_factor,
            "tx_lon": self.tx_lonlat[0], "tx_lat": self.tx_lonlat[1], "rx_lon": self.rx_lonlat[0],
            "rx_lat": self.rx_lonlat[1], "h_tx_m": self.h_tx_m, "h_rx_m": self.h_rx_m,
            "length_km": round(self.length_km, 4), "line_of_sight": self.line_of_sight,
            "fresnel_60pct_clear": self.fresnel_clear, "eirp_dbm": round(self.eirp_dbm, 2),
            "predicted_rsrp_dbm": _round(self.predicted_rsrp_dbm), "measured_rsrp_dbm": _round(self.measured_rsrp_dbm),
            "rx_clutter": self.rx_clutter,
            "obstacles": [{k: _round(v) for k, v in asdict(o).items()} for o in self.obstacles],
            "losses": [{k: _round(v) for k, v in asdict(row).items()} for row in self.losses],
            "settings": self.settings,
            "profile": {"dist_km": r(self.dist_km), "ground_m": r(self.ground_m), "bulge_m": r(self.bulge_m),
                        "clutter_m": r(self.clutter_m), "ray_m": r(self.ray_m), "fresnel_m": r(self.fresnel_m)},
        }  # fmt: skip
        return out


def _round(v, nd: int = 3):
    if isinstance(v, (float, np.floating)):
        return None if not math.isfinite(v) else round(float(v), nd)
    return v


def site_cell_table(lat: float, lon: float, height_m: float, freq_mhz: float, *, rs_power_dbm: float = 15.0,
                    gain_dbi: float = 0.0, bandwidth_mhz: float = 10.0, tech: str = "LTE") -> pd.DataFrame:  # fmt: skip
    """A one-cell table for a bare site: omni antenna (``antenna = "omni"``) at ``height_m`` above ground.

    ``rs_power_dbm`` [dBm per resource element], ``gain_dbi`` [dBi], ``freq_mhz`` and ``bandwidth_mhz`` [MHz];
    the total power is the one that gives ``rs_power_dbm`` over the bandwidth (12 subcarriers per PRB).
    """
    from netqa.io.cells import rs_power_dbm as rs_from_total

    tx_power_dbm = rs_power_dbm - float(rs_from_total(0.0, bandwidth_mhz, tech))
    return pd.DataFrame([{
        "site_id": "site", "cell_id": "site", "lat": lat, "lon": lon, "height_m": height_m, "azimuth_deg": 0.0,
        "mech_tilt_deg": 0.0, "elec_tilt_deg": 0.0, "rs_power_dbm": rs_power_dbm, "tx_power_dbm": tx_power_dbm,
        "freq_mhz": freq_mhz, "bandwidth_mhz": bandwidth_mhz, "tech": tech, "antenna": "omni", "gain_dbi": gain_dbi,
    }])  # fmt: skip


def _deygout(dist_m, top_m, z_a, z_b, i0, i1, wavelength_m, depth, out):
    """Principal edge between profile points i0 and i1 (exclusive), then each side's, up to ``depth`` levels."""
    if depth <= 0 or i1 - i0 < 2:
        return
    d = dist_m[i1] - dist_m[i0]
    idx = np.arange(i0 + 1, i1)
    d1 = dist_m[idx] - dist_m[i0]
    d2 = dist_m[i1] - dist_m[idx]
    ray = z_a + (z_b - z_a) * d1 / d
    clearance = top_m[idx] - ray
    v = clearance * np.sqrt(2.0 * d / (wavelength_m * d1 * d2))
    k = int(np.argmax(v))
    if v[k] <= V_NO_LOSS:
        return
    j = int(idx[k])
    out.append((j, float(clearance[k]), float(v[k]), depth))
    _deygout(dist_m, top_m, z_a, top_m[j], i0, j, wavelength_m, depth - 1, out)
    _deygout(dist_m, top_m, top_m[j], z_b, j, i1, wavelength_m, depth - 1, out)


def _path_clutter_row(world, i, xs, ys, tuned, model_file, rows) -> float:
    """The tuned model's clutter loss along this path (as ``netqa compare`` and ``netqa predict`` add it to the
    tuned SPM), appended to ``rows`` as an excess-loss row; 0 when the model file holds none. [dB]"""
    if not tuned.has_path_clutter:
        return 0.0
    from netqa.compare.pathclutter import path_clutter_loss_db

    if world.clutter_code is None:
        raise InputError(f"--model-file {model_file}: holds path-clutter losses ([path_clutter]); give --clutter "
                         "RASTER and --clutter-table CSV to apply them")  # fmt: skip
    tech = str(world.cells["tech"].iloc[i]) if "tech" in world.cells else "LTE"
    pc = tuned.path_clutter_for(tech, float(world.matrix[i, 7]))
    tables = [None] * world.matrix.shape[0]
    tables[i] = pc
    loss = float(path_clutter_loss_db(world, xs, ys, tables)[0, i])
    if pc is not None:
        rows.append(LossRow("clutter along the path (tuned)", "netqa calibrate --path-clutter; SPM clutter weighting",
                            "excess", loss, float("nan"), f"last {pc.near_m:g} m and whole path, class shares"))  # fmt: skip
    return loss


def _validity_note(name: str, ranges: dict, values: dict) -> str:
    outside = [f"{k} {values[k]:.4g} outside {lo:g}-{hi:g} {unit}" for k, (lo, hi, unit) in ranges.items()
               if k in values and not lo <= values[k] <= hi]  # fmt: skip
    return (f"{name} extrapolated: " + "; ".join(outside)) if outside else ""


def _itm_note(ground_m, step_m, h_tx_m, h_rx_m, freq_mhz, cfg) -> str:
    """ITM's mode of propagation, terrain irregularity and warnings on this profile (``itm_p2p``'s intermediates),
    with the Longley-Rice settings of ``cfg`` (an EngineConfig: those of the ITM row)."""
    from propagation import itm_p2p

    settings = dict(climate=cfg.itm_climate, refractivity_n0=cfg.itm_refractivity_n0, polarization=cfg.polarization,
                    permittivity=cfg.itm_permittivity, conductivity_s_per_m=cfg.itm_conductivity_s_per_m,
                    mdvar=cfg.itm_mdvar, time_pct=cfg.itm_time_pct, location_pct=cfg.itm_location_pct,
                    situation_pct=cfg.itm_situation_pct)  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ValidityRangeWarning)
        r = itm_p2p(ground_m, step_m, h_tx_m, h_rx_m, freq_mhz, strict=False, **settings)
    note = f"{r.mode.name.lower().replace('_', ' ')}, delta h {r.delta_h_m:.0f} m"
    if caught:
        note += "; " + str(caught[0].message).split(";")[0]
    return note


def _p2108_row(world, xs, ys, one, clutter_model, name, source, rx_height_m, dist_km, rx_class) -> LossRow:
    """One P.2108-1 clutter term at the receiver, as ``netqa predict --clutter-model`` would apply it."""
    from netqa.compare.points import point_clutter
    from netqa.predict.config import PredictConfig
    from propagation import p2108_clutter_loss_db

    freq_mhz = float(one[0, C_FREQ])
    cfg = PredictConfig(model="fspl", clutter_model=clutter_model, rx_height_m=rx_height_m)
    with warnings.catch_warnings(record=True) as caught:  # warnings about other carriers of the table are not ours
        warnings.simplefilter("always", ValidityRangeWarning)
        try:
            db, stat_mask = point_clutter(world, xs, ys, cfg)
        except InputError as exc:  # a class without a P.2108 type: say so in the table
            return LossRow(name, source, "excess", float("nan"), float("nan"), str(exc))
    notes = [str(w.message).split(";")[0] for w in caught if f"{freq_mhz:g} " in str(w.message)]
    if clutter_model == "p2108":
        loss = float(np.asarray(db)[int(one[0, C_FREQ_INDEX]), 0])
        notes.insert(0, f"class {rx_class}")
    elif not bool(np.asarray(stat_mask).ravel()[0]):
        return LossRow(name, source, "excess", 0.0, float("nan"), f"not applied: class {rx_class} is not urban/suburban")
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ValidityRangeWarning)
            loss = float(p2108_clutter_loss_db(freq_mhz, max(dist_km, 0.25), 50.0, strict=False))
        notes += [str(w.message).split(";")[0] for w in caught]
    return LossRow(name, source, "excess", loss, float("nan"), "; ".join(notes))


def analyse_link(cells, dem, *, cell_id: str, rx_lonlat, rx_height_m: float = 1.5, k_factor: float = 4.0 / 3.0,
                 clutter=None, clutter_table=None, model_file=None, resolution_m: float = 30.0,
                 model: str = "auto", terrain: str = "delta-bullington", measured_rsrp_dbm: float | None = None,
                 max_obstacle_levels: int = 2, itm: tuple = ()) -> LinkAnalysis:  # fmt: skip
    """Analyse the path from one cell to one receiver position.

    Parameters
    ----------
    cells : path or pandas.DataFrame
        Cell table (canonical columns, DESIGN.md), e.g. from :func:`site_cell_table`.
    dem : path or list of paths
        DEM GeoTIFF(s) / SRTM tiles covering both ends.
    cell_id : str
        The transmitting cell.
    rx_lonlat : (float, float)
        Receiver longitude and latitude (WGS84). [deg]
    rx_height_m : float
        Receiver antenna height above ground. [m]
    k_factor : float
        Effective earth-radius factor (4/3: standard atmosphere). [1]
    clutter, clutter_table : path, optional
        Clutter class raster and table (heights drawn along the path; table
        loss and P.2108 terms at the receiver).
    model_file : path, optional
        Tuned model TOML of ``netqa calibrate`` (adds the tuned SPM row).
    resolution_m : float
        Profile sample spacing and DEM grid pixel. [m]
    model, terrain : str
        The ``netqa predict`` settings whose received power is reported as
        :attr:`LinkAnalysis.predicted_rsrp_dbm` (with table clutter when given);
        ``auto`` picks the model ``netqa predict`` would for the cell's carrier
        (:func:`netqa.modelcheck.auto_model`), or the SPM with a ``model_file``.
    measured_rsrp_dbm : float, optional
        A measurement at the receiver, shown beside the predictions. [dBm]
    max_obstacle_levels : int
        Deygout levels of obstacles (1: the principal edge; 2: and one per side).
    itm : tuple of (str, value)
        Longley-Rice settings of the ITM row (and of ``terrain="itm"``), as
        :class:`netqa.predict.PredictConfig`'s ``itm`` (``polarization`` also sets delta-Bullington's).

    Returns
    -------
    LinkAnalysis

    Raises
    ------
    netqa.errors.InputError
        Unknown cell, receiver outside the DEM or on the mast, bad k-factor or height.
    """
    from netqa.compare.points import ground_heights, load_world, point_clutter
    from netqa.predict.config import MODELS, PredictConfig, TERRAIN_METHODS

    if not (math.isfinite(k_factor) and 0.5 <= k_factor <= 10.0):
        raise InputError(f"--k-factor {k_factor!r} must lie in 0.5..10 (4/3 for the standard atmosphere)")
    if not (math.isfinite(rx_height_m) and 0.5 <= rx_height_m <= 1000.0):
        raise InputError(f"--rx-height-m {rx_height_m!r} must lie in 0.5..1000 m")
    if model not in MODELS and model != "auto":
        raise InputError(f"--model {model!r} is unknown; choose auto or one of {', '.join(MODELS)}")
    if terrain not in TERRAIN_METHODS:
        raise InputError(f"--terrain {terrain!r} is unknown; choose one of {', '.join(TERRAIN_METHODS)}")
    rx_lon, rx_lat = (float(v) for v in rx_lonlat)
    world, _ = load_world(cells, dem, samples_lonlat=([rx_lon], [rx_lat]), clutter=clutter, clutter_table=clutter_table,
                          resolution_m=resolution_m, radius_km=200.0, margin_m=500.0)  # raises: receiver outside the DEM
    ids = world.cells["cell_id"].astype(str).str.strip().tolist()
    if str(cell_id).strip() not in ids:
        raise InputError(f"--cell {cell_id!r} is not in the cell table (it has {len(ids)} cells, e.g. "
                         f"{', '.join(map(repr, ids[:5]))})")  # fmt: skip
    i = ids.index(str(cell_id).strip())
    one = world.matrix[i : i + 1].copy()
    freq_mhz = float(one[0, C_FREQ])
    x_tx, y_tx = float(one[0, 0]), float(one[0, 1])
    x_rx, y_rx = (float(v[0]) for v in world.sample_xy)
    dist_m = math.hypot(x_rx - x_tx, y_rx - y_tx)
    pixel_m = world.spec.pixel_m
    if dist_m < 2.0 * pixel_m:
        raise InputError(f"the receiver lies {dist_m:.0f} m from cell {cell_id!r}, closer than two profile samples "
                         f"({2 * pixel_m:.0f} m); choose a farther point or a smaller --resolution-m")  # fmt: skip
    n = max(2, int(math.ceil(dist_m / pixel_m - 1e-9)))
    t = np.linspace(0.0, 1.0, n + 1)
    px, py = x_tx + t * (x_rx - x_tx), y_tx + t * (y_rx - y_tx)
    ground = ground_heights(world, px, py).astype(np.float64)
    if math.isfinite(one[0, 2]):  # the table's site ground altitude, where given
        ground[0] = one[0, 2]
    one[0, 2] = ground[0]
    d_m = t * dist_m
    bulge = d_m * (dist_m - d_m) / (2.0 * k_factor * EARTH_RADIUS_KM * 1000.0)
    clutter_h = np.zeros_like(ground)
    rx_class = None
    if world.clutter_code is not None:
        row, col = world.grid.rowcol(px, py)
        code = world.clutter_code[np.clip(row, 0, world.spec.n_rows - 1), np.clip(col, 0, world.spec.n_cols - 1)]
        known = code >= 0
        clutter_h[known] = world.clutter_table.height_m(code[known])
        rx_class = world.clutter_name.get(int(code[-1])) if known[-1] else None
        clutter_h[0] = clutter_h[-1] = 0.0  # antennas stand at their own height above ground
    h_tx = float(one[0, 3])
    z_tx, z_rx = ground[0] + h_tx, ground[-1] + rx_height_m
    ray = z_tx + (z_rx - z_tx) * t
    wavelength_m = SPEED_OF_LIGHT_M_S / (freq_mhz * 1e6)
    fresnel = np.sqrt(wavelength_m * d_m * (dist_m - d_m) / dist_m)
    near = (d_m < NEAR_TERMINAL_CLUTTER_M) | (d_m > dist_m - NEAR_TERMINAL_CLUTTER_M)
    top = ground + bulge + np.where(near, 0.0, clutter_h)
    edges: list = []
    _deygout(d_m, top, z_tx, z_rx, 0, n, wavelength_m, max_obstacle_levels, edges)
    obstacles = tuple(
        Obstacle(rank, d_m[j] / 1000.0, float(top[j]), clr, v, float(knife_edge_loss_db(v)))
        for rank, (j, clr, v, _) in enumerate(sorted(edges, key=lambda e: (-e[3], -e[2])), start=1)
    )

    # losses through the engine's points mode (the physics of netqa predict)
    z_pt = np.array([ground[-1]])
    xs, ys = np.array([x_rx]), np.array([y_rx])

    def engine_rsrp(cfg: EngineConfig, clutter_db=None, stat_mask=None) -> float:
        return float(predict_points(one, world.elev_m, world.spec, xs, ys, cfg, ground_m=z_pt, patterns=world.patterns,
                                    clutter_db=clutter_db, clutter_stat_mask=stat_mask)[0, 0])  # fmt: skip

    from netqa.predict.config import check_itm_pairs

    check_itm_pairs(itm, "itm")  # the ITM row is always drawn: the settings are never ignored
    base = {"rx_height_m": rx_height_m, "k_factor": k_factor, **dict(itm)}
    dist_km = dist_m / 1000.0
    p_free = engine_rsrp(EngineConfig(model="fspl", terrain="none", **base))
    eirp = p_free + float(free_space_loss_db(freq_mhz, max(dist_km, EngineConfig().min_dist_km), strict=False))
    h_eff = max(z_tx - ground[-1], 1.0)
    vals = {"freq_mhz": freq_mhz, "dist_km": dist_km, "h_tx_m": h_eff, "h_rx_m": rx_height_m}
    rows = []

    def total(name, source, cfg, note=""):
        p = engine_rsrp(cfg)
        rows.append(LossRow(name, source, "total", eirp - p, p, note))
        return p

    total("free space", "ITU-R P.525-4 eq. (6)", EngineConfig(model="fspl", terrain="none", **base))
    total("Okumura-Hata (urban, medium city)", "Hata 1980; COST 231 Final Report §4.4",
          EngineConfig(model="hata", terrain="none", **base), _validity_note("Hata", HATA_RANGES, vals))  # fmt: skip
    total("COST-231 Hata", "COST 231 Final Report (1999) §4.4", EngineConfig(model="cost231", terrain="none", **base),
          _validity_note("COST-231", COST231_RANGES, vals))  # fmt: skip
    total("SPM (default K)", "Standard Propagation Model, Hata/COST slopes",
          EngineConfig(model="spm", terrain="none", **base))  # fmt: skip
    spm_tuned, path_db = {}, 0.0
    if model_file is not None:
        from netqa.predict.inputs import read_tuned_model, tuned_engine_settings

        tuned = read_tuned_model(model_file)
        from netqa.modelcheck import check_tuned_cells, check_tuned_terrain

        check_tuned_cells(tuned, world.cells, model_file)
        check_tuned_terrain(tuned, model_file, terrain=terrain)
        spm_tuned = tuned_engine_settings(tuned, world.cells.iloc[[i]], check=False)
        total(f"SPM (tuned: {model_file})", "netqa calibrate", EngineConfig(model="spm", terrain="none", **base, **spm_tuned))
        path_db = _path_clutter_row(world, i, xs, ys, tuned, model_file, rows)  # issue 12 item 3
    p_fs_terr = engine_rsrp(EngineConfig(model="fspl", terrain="delta-bullington", **base))
    rows.append(LossRow("delta-Bullington terrain", "ITU-R P.526-15 §4.5", "excess", max(p_free - p_fs_terr, 0.0),
                        float("nan"), "over the profile, k = {:.3g}".format(k_factor)))  # fmt: skip
    total("free space + delta-Bullington", "ITU-R P.525-4 + P.526-15 §4.5",
          EngineConfig(model="fspl", terrain="delta-bullington", **base))  # fmt: skip
    itm_cfg = EngineConfig(model="fspl", terrain="itm", **base)
    p_fs_itm = engine_rsrp(itm_cfg)
    rows.append(LossRow("Longley-Rice ITM", "NTIA ITM 1.2.2 point to point (Hufford 1995)", "total", eirp - p_fs_itm,
                        p_fs_itm, _itm_note(ground, pixel_m, h_tx, rx_height_m, freq_mhz, itm_cfg)))  # fmt: skip
    settings = {"model": model, "terrain": terrain, "clutter_model": "table" if world.clutter_code is not None else "none",
                "rx_height_m": rx_height_m, "k_factor": k_factor, "resolution_m": pixel_m}  # fmt: skip
    clutter_db = None
    if world.clutter_code is not None:
        cfg = PredictConfig(model="fspl", clutter_model="table", rx_height_m=rx_height_m)
        clutter_db, _ = point_clutter(world, xs, ys, cfg)
        rows.append(LossRow(f"clutter table ({rx_class or 'no class'})", "clutter class table loss_db", "excess",
                            float(np.asarray(clutter_db).ravel()[0]), float("nan")))  # fmt: skip
        for clutter_model, name, source in (("p2108", "P.2108 height gain at receiver", "ITU-R P.2108-1 §3.1"),
                                            ("p2108-statistical", "P.2108 statistical clutter (50 %)",
                                             "ITU-R P.2108-1 §3.2")):  # fmt: skip
            rows.append(_p2108_row(world, xs, ys, one, clutter_model, name, source, rx_height_m, dist_km, rx_class))
    from netqa.modelcheck import resolve_model

    model = "spm" if model_file is not None and model == "auto" else resolve_model(model, [freq_mhz], what="link", terrain=terrain)
    settings["model"] = model
    chosen = EngineConfig(model=model, terrain=terrain, **base, **(spm_tuned if model == "spm" else {}))
    predicted = engine_rsrp(chosen, clutter_db=clutter_db) - (path_db if model == "spm" else 0.0)
    lon_tx = float(pd.to_numeric(world.cells["lon"]).iloc[i])
    lat_tx = float(pd.to_numeric(world.cells["lat"]).iloc[i])
    return LinkAnalysis(
        cell_id=ids[i], freq_mhz=freq_mhz, k_factor=k_factor, tx_lonlat=(lon_tx, lat_tx), rx_lonlat=(rx_lon, rx_lat),
        h_tx_m=h_tx, h_rx_m=rx_height_m, dist_km=d_m / 1000.0, ground_m=ground, bulge_m=bulge, clutter_m=clutter_h,
        ray_m=ray, fresnel_m=fresnel, eirp_dbm=eirp, obstacles=obstacles, losses=tuple(rows),
        predicted_rsrp_dbm=predicted, measured_rsrp_dbm=measured_rsrp_dbm, rx_clutter=rx_class, settings=settings,
    )  # fmt: skip
