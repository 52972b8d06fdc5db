r"""A synthetic urban district: buildings, streets, masts on roofs, a scanner drive and a cell table with known errors.

``python -m netqa.testworld --district --out testdata/district`` writes it
(byte-identical for a given seed, GDAL and PROJ); :func:`generate_district`
is the library call.  It is the ground truth of the antenna audit
(:mod:`netqa.calibrate.audit`) and of building-aware calibration work.

The district, in local metres east/north of its south-west corner (UTM 30N,
east of the main test world, which it does not overlap):

* ``size_m`` square; ground a plane rising ``slope`` towards the north-east
  plus one low hill (``dem.tif``, 10 m pixels, heights above sea level);
* a street grid every ``block_m`` (streets ``street_m`` wide; centre lines in
  ``streets.gpkg``), each block
  split into 4 x 4 parcels whose buildings have a height drawn uniformly
  from 9-30 m, one parcel in twelve a 35-50 m tower (``buildings.tif``,
  5 m pixels, height above ground, 0 on streets);
* ``SITES``: masts on roofs, antenna ``mast_m`` above the roof (the cell
  table's ``height_m`` is above ground: building + mast);
* two LTE layers whose antennas are NOT the default 65/10 deg sector:
  1800 MHz with 45 deg horizontal / 7 deg vertical half-power beamwidths,
  800 MHz with 80 / 12 deg (3GPP parametric form, TR 36.814 Table A.2.1.1-2,
  side-lobe 20 dB, front-to-back 25 dB); the cell table names no pattern
  (``antenna`` empty), as operators' tables often do;
* every cell's true azimuth differs from the database by a small installation
  error (normal, 4 deg std) and its tilt by a small one (0.7 deg std); a few
  cells are deliberately wrong (``WRONG``): azimuth off by 50-100 deg, two
  sectors of one site swapped, one tilt 8 deg off;
* a scanner drive along every other street (4 sessions of streets): every
  ``step_m`` metres, one row per cell within ``scan_radius_km`` (selection by
  distance, never by the measured value, so the fit is unbiased).

A second drive, ``drives/district_buildings.csv``, holds the same rows with
a building obstruction subtracted: ``building_k4`` x the main knife edge over
ground + buildings (:func:`building_loss_db`; per row in
``truth_buildings.parquet``) — the truth for building-aware calibration
(``--surface``).

Truth model per row (numpy, :mod:`netqa.testworld.truth` functions)::

    RSRP = P_RE + G_max - feeder + A(phi - az_true, theta - tilt_true; hpbw_h, hpbw_v)
           - L_SPM(f, d, h_eff) + S_site(street) + n

with ``L_SPM = K1 + K_f log10(f / 1800) + K2 log10(d_km) + K3 log10(h_eff)``
(``SPM`` below, d clamped to >= 20 m, h_eff = ``height_m``), the antenna
angles in 3-D (theta the depression angle from the antenna to the receiver
1.5 m above the street), ``S`` a per-site log-normal shadowing, exponentially
correlated along each street (AR(1), ``shadow_decorrelation_m``), independent
between streets and sites, and ``n`` 1 dB measurement noise.  Buildings do not
add a separate loss in this truth: their effect is in ``S`` (a later
surface-profile term can be added with a generator version bump).

Reference for the pattern: 3GPP TR 36.814 V9.2.0 Table A.2.1.1-2; for the
shadowing: M. Gudmundson, Electronics Letters 27(23), 1991.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from netqa.testworld import truth
from netqa.testworld.writers import fmt, write_csv, write_geotiff

log = logging.getLogger(__name__)

DISTRICT_VERSION = "1.0.0"
CELL_HEADER = ("site_id", "cell_id", "lat", "lon", "height_m", "azimuth_deg", "mech_tilt_deg", "elec_tilt_deg", "tx_power_dbm",
               "freq_mhz", "bandwidth_mhz", "tech", "pci", "earfcn", "antenna", "gain_dbi", "feeder_loss_db")
SAMPLE_HEADER = ("time", "lat", "lon", "session", "tech", "cell_id", "rsrp_dbm")
START_UTC = dt.datetime(2024, 6, 3, 9, 0, 0, tzinfo=dt.UTC)

#: band -> (freq_mhz, bandwidth_mhz, tx_power_dbm, earfcn, local cell id base, gain_dbi, n_prb, true hpbw_h, true hpbw_v)
BANDS = {
    "L1800": (1815.0, 20.0, 46.0, 1300, 1, 17.5, 100, 45.0, 7.0),
    "L800": (806.0, 10.0, 43.0, 6300, 11, 15.0, 50, 80.0, 12.0),
}
SLA_V_DB, AM_DB = 20.0, 25.0

#: (site_id, x [m], y [m], bands, sector rotation [deg]); every site stands on a building
SITES = (
    ("D01", 560.0, 560.0, ("L1800", "L800"), 10.0),
    ("D02", 1340.0, 440.0, ("L1800",), -15.0),
    ("D03", 2000.0, 800.0, ("L1800", "L800"), 25.0),
    ("D04", 800.0, 1580.0, ("L1800",), 0.0),
    ("D05", 1580.0, 1340.0, ("L1800",), 40.0),
    ("D06", 1220.0, 2050.0, ("L1800", "L800"), -30.0),
)

#: Deliberate database errors: (site, band, sector index k) -> (kind, azimuth error [deg], tilt error [deg]).
#: The error is TRUE minus DATABASE.  "swapped" pairs: the database azimuths of the two sectors are exchanged.
WRONG = {
    ("D02", "L1800", 0): ("azimuth", 70.0, 0.0),
    ("D04", "L1800", 2): ("azimuth", -100.0, 0.0),
    ("D06", "L800", 0): ("azimuth", 50.0, 0.0),
    ("D03", "L1800", 1): ("tilt", 0.0, 8.0),
}
SWAPPED = (("D05", "L1800", 0, 1),)


@dataclass(frozen=True)
class DistrictConfig:
    """Parameters of the district (lengths in m, powers in dBm, angles in degrees)."""

    crs_epsg: int = 32630
    origin_x_m: float = 510000.0
    origin_y_m: float = 4476000.0
    size_m: float = 2400.0
    dem_pixel_m: float = 10.0
    building_pixel_m: float = 5.0
    base_elev_m: float = 700.0
    slope: float = 0.008  # ground rise per metre towards the north-east [-]
    block_m: float = 120.0
    street_m: float = 16.0
    mast_m: float = 4.0
    h_rx_m: float = 1.5
    step_m: float = 25.0
    speed_kmh: float = 36.0
    scan_radius_km: float = 0.9
    shadow_sigma_db: float = 6.0
    shadow_decorrelation_m: float = 30.0
    meas_noise_db: float = 1.0
    building_k4: float = 0.6  # weight of the rooftop knife edge in drives/district_buildings.csv [-]
    building_profile_points: int = 240
    az_install_sigma_deg: float = 4.0
    tilt_install_sigma_deg: float = 0.7
    spm: dict = field(default_factory=lambda: {"k1": 136.0, "k2": 38.0, "k3": -13.82, "k_freq_db_per_decade": 26.0,
                                               "f_ref_mhz": 1800.0})  # fmt: skip

    def to_dict(self) -> dict:
        return asdict(self)


def ground_m(cfg: DistrictConfig, x_m, y_m):
    """Ground height above sea level at local points: plane + one Gaussian hill. [m]"""
    x = np.asarray(x_m, dtype=np.float64)
    y = np.asarray(y_m, dtype=np.float64)
    hill = 18.0 * np.exp(-(((x - 1700.0) / 500.0) ** 2 + ((y - 1900.0) / 450.0) ** 2))
    return cfg.base_elev_m + cfg.slope * (x + y) / np.sqrt(2.0) + hill


def building_heights(cfg: DistrictConfig, rng: np.random.Generator) -> np.ndarray:
    """Building height above ground per ``building_pixel_m`` pixel, row 0 at the north edge, 0 on streets. [m]"""
    p = cfg.building_pixel_m
    n = round(cfg.size_m / p)
    centres = (np.arange(n) + 0.5) * p
    nb = round(cfg.size_m / cfg.block_m)
    heights = rng.uniform(9.0, 30.0, size=(nb, 4, nb, 4))
    towers = rng.random(size=heights.shape) < 1.0 / 12.0
    heights = np.where(towers, rng.uniform(35.0, 50.0, size=heights.shape), heights)
    heights = np.round(heights, 1)
    half = cfg.street_m / 2.0
    # position within a block along one axis: street if within half a street of the block edge
    within = np.mod(centres, cfg.block_m)
    street = (within < half) | (within > cfg.block_m - half)
    parcel = np.clip(((within - half) / (cfg.block_m - cfg.street_m) * 4).astype(np.int64), 0, 3)
    block = (centres // cfg.block_m).astype(np.int64)
    x_street, y_street = street[None, :], street[::-1][:, None]
    bx, px = block[None, :], parcel[None, :]
    by, py = block[::-1][:, None], parcel[::-1][:, None]
    h = heights[by, py, bx, px]
    return np.where(x_street | y_street, 0.0, h).astype(np.float32)


def _height_at(cfg: DistrictConfig, bh: np.ndarray, x_m: float, y_m: float) -> float:
    p = cfg.building_pixel_m
    n = bh.shape[0]
    return float(bh[n - 1 - int(y_m // p), int(x_m // p)])


def build_cells(cfg: DistrictConfig, bh: np.ndarray, rng: np.random.Generator) -> list[dict]:
    """Database and true parameters of every cell (true azimuth/tilt/beamwidths under ``true_*``)."""
    cells = []
    for i, (sid, x, y, bands, rot) in enumerate(SITES):
        roof = _height_at(cfg, bh, x, y)
        if roof <= 0.0:
            raise ValueError(f"site {sid} is on a street")
        enb = 41000 + i
        for band in bands:
            freq, bw, ptx, earfcn, lcid0, gain, n_prb, hh, hv = BANDS[band]
            db_az = [round((k * 120.0 + rot) % 360.0, 1) for k in range(3)]
            for k in range(3):
                mech = float(rng.integers(0, 3))
                elec = float(rng.integers(2, 7)) if band == "L1800" else float(rng.integers(2, 5))
                az_err = float(rng.normal(0.0, cfg.az_install_sigma_deg))
                tilt_err = float(rng.normal(0.0, cfg.tilt_install_sigma_deg))
                kind = "ok"
                if (sid, band, k) in WRONG:
                    kind, az_err, tilt_err = WRONG[(sid, band, k)]
                true_az = (db_az[k] + az_err) % 360.0
                for s, b, k0, k1 in SWAPPED:  # the database shows the other sector's azimuth
                    if (s, b) == (sid, band) and k in (k0, k1):
                        kind = "swapped"
                        true_az = (db_az[k1 if k == k0 else k0] + az_err) % 360.0
                cells.append({
                    "site_id": sid, "cell_id": str(enb * 256 + lcid0 + k), "x_m": x, "y_m": y, "band": band,
                    "height_m": round(roof + cfg.mast_m, 1), "roof_m": roof, "azimuth_deg": db_az[k],
                    "mech_tilt_deg": mech, "elec_tilt_deg": elec, "tx_power_dbm": ptx, "freq_mhz": freq,
                    "bandwidth_mhz": bw, "tech": "LTE", "pci": 3 * ((i * 29 + 5) % 168) + k, "earfcn": earfcn,
                    "gain_dbi": gain, "feeder_loss_db": 0.5, "n_prb": n_prb, "kind": kind,
                    "true_azimuth_deg": round(true_az, 2), "true_tilt_deg": round(mech + elec + tilt_err, 2),
                    "true_hpbw_h_deg": hh, "true_hpbw_v_deg": hv,
                })  # fmt: skip
    return cells


def streets(cfg: DistrictConfig) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """The driven streets (every other one): (session, street name, x, y) with points every ``step_m``."""
    out = []
    nb = round(cfg.size_m / cfg.block_m)
    along = np.arange(cfg.block_m / 2.0, cfg.size_m - cfg.block_m / 2.0, cfg.step_m)  # stay off the area's edge
    for j in range(1, nb, 2):
        pos = j * cfg.block_m
        for axis in ("ew", "ns"):
            half = "a" if j < nb // 2 else "b"
            name = f"{axis}_{j:02d}"
            x, y = (along, np.full_like(along, pos)) if axis == "ew" else (np.full_like(along, pos), along)
            if (j // 2) % 2:  # drive alternate streets the other way
                x, y = x[::-1], y[::-1]
            out.append((f"district_{axis}_{half}", name, x, y))
    return out


def simulate(cfg: DistrictConfig, cells: list[dict], rng: np.random.Generator) -> list[dict]:
    """One record per (position, cell within ``scan_radius_km``) with the truth terms."""
    site_ids = sorted({c["site_id"] for c in cells})
    spm = cfg.spm
    rows = []
    t_s = 0.0
    dt_s = cfg.step_m / (cfg.speed_kmh / 3.6)
    for session, name, x, y in streets(cfg):
        shadow = truth.ar1_shadow_db(np.arange(x.size) * cfg.step_m, cfg.shadow_sigma_db, cfg.shadow_decorrelation_m,
                                     rng, len(site_ids))  # fmt: skip
        noise = rng.normal(0.0, cfg.meas_noise_db, size=(x.size, len(cells)))
        z_rx = ground_m(cfg, x, y) + cfg.h_rx_m
        for j, c in enumerate(cells):
            dx, dy = x - c["x_m"], y - c["y_m"]
            dist_m = np.hypot(dx, dy)
            z_tx = float(ground_m(cfg, c["x_m"], c["y_m"])) + c["height_m"]
            bearing = np.degrees(np.arctan2(dx, dy))
            depression = np.degrees(np.arctan2(z_tx - z_rx, np.maximum(dist_m, 1.0)))
            att = truth.sector_gain_rel_db(bearing - c["true_azimuth_deg"], depression, c["true_tilt_deg"],
                                           c["true_hpbw_h_deg"], c["true_hpbw_v_deg"], SLA_V_DB, AM_DB)  # fmt: skip
            loss = (spm["k1"] + spm["k_freq_db_per_decade"] * np.log10(c["freq_mhz"] / spm["f_ref_mhz"])
                    + spm["k2"] * np.log10(np.maximum(dist_m, 20.0) / 1000.0) + spm["k3"] * np.log10(c["height_m"]))
            median = truth.rs_epre_dbm(c["tx_power_dbm"], c["n_prb"]) + c["gain_dbi"] - c["feeder_loss_db"] + att - loss
            s = shadow[:, site_ids.index(c["site_id"])]
            for i in np.flatnonzero(dist_m <= cfg.scan_radius_km * 1000.0):
                rows.append({"t_s": t_s + i * dt_s, "x_m": float(x[i]), "y_m": float(y[i]), "session": session,
                             "street": name, "cell_id": c["cell_id"], "median_dbm": float(median[i]),
                             "shadow_db": float(s[i]), "noise_db": float(noise[i, j]),
                             "rsrp_dbm": round(float(median[i] + s[i] + noise[i, j]), 1)})  # fmt: skip
        t_s += x.size * dt_s + 60.0
    rows.sort(key=lambda r: (r["t_s"], r["cell_id"]))
    return rows


def write_streets(path: Path, cfg: DistrictConfig) -> None:
    """Street centre lines (interior streets of the grid) as a GeoPackage layer ``streets`` in the district's UTM CRS:
    ``street_id``, ``name``, ``width_m``, ``session`` (the drive that covers it, empty if none)."""
    import geopandas as gpd
    from shapely.geometry import LineString

    from netqa.testworld.writers import write_gpkg

    driven = {name: session for session, name, _x, _y in streets(cfg)}
    nb = round(cfg.size_m / cfg.block_m)
    recs = []
    for axis in ("ew", "ns"):
        for j in range(1, nb):
            pos = j * cfg.block_m
            a, b = ((0.0, pos), (cfg.size_m, pos)) if axis == "ew" else ((pos, 0.0), (pos, cfg.size_m))
            name = f"{axis}_{j:02d}"
            recs.append({"street_id": f"S{len(recs) + 1:03d}", "name": name, "width_m": cfg.street_m,
                         "session": driven.get(name, ""),
                         "geometry": LineString([(cfg.origin_x_m + a[0], cfg.origin_y_m + a[1]),
                                                 (cfg.origin_x_m + b[0], cfg.origin_y_m + b[1])])})  # fmt: skip
    write_gpkg(path, gpd.GeoDataFrame(recs, crs=f"EPSG:{cfg.crs_epsg}"), "streets")


def _lonlat(cfg: DistrictConfig, x_m, y_m):
    from pyproj import Transformer

    tr = Transformer.from_crs(cfg.crs_epsg, 4326, always_xy=True)
    lon, lat = tr.transform(np.asarray(x_m, dtype=np.float64) + cfg.origin_x_m, np.asarray(y_m, dtype=np.float64) + cfg.origin_y_m)
    return np.asarray(lon), np.asarray(lat)


def _local(cfg: DistrictConfig, lon, lat):
    from pyproj import Transformer

    tr = Transformer.from_crs(4326, cfg.crs_epsg, always_xy=True)
    e, n = tr.transform(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return np.asarray(e) - cfg.origin_x_m, np.asarray(n) - cfg.origin_y_m


def generate_district(out_dir, seed: int = 12, config: DistrictConfig | None = None) -> dict:
    """Write the district into ``out_dir`` (``dem.tif``, ``buildings.tif``, ``streets.gpkg``, ``cells.csv``,
    ``drives/district.csv``,
    ``truth_samples.parquet``, ``truth.json``, ``SHA256SUMS``) and return the truth dict."""
    from rasterio.transform import from_origin

    from netqa.testworld.readme import write_sha256sums

    cfg = config or DistrictConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    streams = np.random.SeedSequence(seed).spawn(3)
    rng_b, rng_c, rng_d = (np.random.Generator(np.random.PCG64(s)) for s in streams)
    crs = f"EPSG:{cfg.crs_epsg}"
    tags = {"SOURCE": f"netqa.testworld.district {DISTRICT_VERSION}", "SEED": str(seed)}
    n_dem = round(cfg.size_m / cfg.dem_pixel_m)
    c_dem = (np.arange(n_dem) + 0.5) * cfg.dem_pixel_m
    dem = ground_m(cfg, c_dem[None, :], c_dem[::-1][:, None]).astype(np.float32)
    write_geotiff(out / "dem.tif", dem, crs=crs, transform=from_origin(cfg.origin_x_m, cfg.origin_y_m + cfg.size_m,
                  cfg.dem_pixel_m, cfg.dem_pixel_m), nodata=-9999.0, description="elevation_m", units="m", tags=tags)  # fmt: skip
    bh = building_heights(cfg, rng_b)
    write_geotiff(out / "buildings.tif", bh, crs=crs, transform=from_origin(cfg.origin_x_m, cfg.origin_y_m + cfg.size_m,
                  cfg.building_pixel_m, cfg.building_pixel_m), nodata=-9999.0, description="building_height_m", units="m",
                  tags=tags)  # fmt: skip
    cells = build_cells(cfg, bh, rng_c)
    # snap the sites onto the 1e-6 degree grid of cells.csv so the truth uses the published positions
    for c in cells:
        lon, lat = _lonlat(cfg, c["x_m"], c["y_m"])
        c["lon"], c["lat"] = round(float(lon), 6), round(float(lat), 6)
        x, y = _local(cfg, c["lon"], c["lat"])
        c["x_m"], c["y_m"] = float(x), float(y)
        if _height_at(cfg, bh, c["x_m"], c["y_m"]) != c["roof_m"]:
            raise ValueError(f"site {c['site_id']} is too close to a building's edge; move it in SITES")
    write_streets(out / "streets.gpkg", cfg)
    write_csv(out / "cells.csv", CELL_HEADER, [
        (c["site_id"], c["cell_id"], fmt(c["lat"], 6), fmt(c["lon"], 6), fmt(c["height_m"], 1), fmt(c["azimuth_deg"], 1),
         fmt(c["mech_tilt_deg"], 1), fmt(c["elec_tilt_deg"], 1), fmt(c["tx_power_dbm"], 1), fmt(c["freq_mhz"], 1),
         fmt(c["bandwidth_mhz"], 1), c["tech"], str(c["pci"]), str(c["earfcn"]), "", fmt(c["gain_dbi"], 1),
         fmt(c["feeder_loss_db"], 1)) for c in cells])  # fmt: skip
    rows = simulate(cfg, cells, rng_d)
    xs = np.array([r["x_m"] for r in rows])
    ys = np.array([r["y_m"] for r in rows])
    lon, lat = _lonlat(cfg, xs, ys)
    times = [(START_UTC + dt.timedelta(seconds=round(r["t_s"], 1))).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-5] + "Z" for r in rows]
    write_csv(out / "drives" / "district.csv", SAMPLE_HEADER, [
        (t, fmt(la, 6), fmt(lo, 6), r["session"], "LTE", r["cell_id"], fmt(r["rsrp_dbm"], 1))
        for t, la, lo, r in zip(times, lat, lon, rows)])  # fmt: skip
    _write_truth_samples(out / "truth_samples.parquet", rows)
    building_db = building_loss_db(cfg, bh, cells, rows)
    write_csv(out / "drives" / "district_buildings.csv", SAMPLE_HEADER, [
        (t, fmt(la, 6), fmt(lo, 6), r["session"], "LTE", r["cell_id"], fmt(r["rsrp_dbm"] - b, 1))
        for t, la, lo, r, b in zip(times, lat, lon, rows, building_db)])  # fmt: skip
    _write_building_truth(out / "truth_buildings.parquet", building_db)
    err = np.array([r["rsrp_dbm"] - r["median_dbm"] for r in rows])
    info = truth_dict(cfg, seed, cells, rows, err)
    (out / "truth.json").write_bytes((json.dumps(info, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    write_sha256sums(out)
    return info


class _Surface:
    """Ground + buildings at local points (nearest building pixel): the obstruction profile of the building drive."""

    def __init__(self, cfg: DistrictConfig, bh: np.ndarray):
        self.cfg, self.bh = cfg, bh

    def elev_at(self, x_m, y_m):
        p, n = self.cfg.building_pixel_m, self.bh.shape[0]
        col = np.clip((np.asarray(x_m) // p).astype(np.int64), 0, n - 1)
        row = np.clip(n - 1 - (np.asarray(y_m) // p).astype(np.int64), 0, n - 1)
        return ground_m(self.cfg, x_m, y_m) + self.bh[row, col]


def building_loss_db(cfg: DistrictConfig, bh: np.ndarray, cells: list[dict], rows: list[dict]) -> np.ndarray:
    """Per row: ``building_k4`` x the main knife edge over ground + buildings (ITU-R P.526-15 eq. (31), the main
    test world's truth method, :func:`netqa.testworld.truth.main_edge_diffraction_db`). [dB]"""
    surf = _Surface(cfg, bh)
    by_id = {c["cell_id"]: c for c in cells}
    cell_of = np.array([r["cell_id"] for r in rows])
    x = np.array([r["x_m"] for r in rows])
    y = np.array([r["y_m"] for r in rows])
    out = np.zeros(len(rows))
    for cid in sorted(set(cell_of.tolist())):
        c, sel = by_id[cid], cell_of == cid
        z_tx = float(ground_m(cfg, c["x_m"], c["y_m"])) + c["height_m"]
        z_rx = ground_m(cfg, x[sel], y[sel]) + cfg.h_rx_m
        out[sel] = cfg.building_k4 * truth.main_edge_diffraction_db(
            surf, (c["x_m"], c["y_m"]), z_tx, x[sel], y[sel], z_rx, c["freq_mhz"], cfg.building_profile_points, 4.0 / 3.0)
    return out


def _write_building_truth(path: Path, building_db: np.ndarray) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"building_loss_db": pa.array(np.round(building_db, 2), type=pa.float32())})
    pq.write_table(table, path, compression="zstd", compression_level=9, write_statistics=False)


def _write_truth_samples(path: Path, rows: list[dict]) -> None:
    """Per-row truth, in the row order of ``drives/district.csv``: street, noiseless RSRP, shadowing, noise (Parquet)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "street": pa.array([r["street"] for r in rows], type=pa.string()),
        "median_dbm": pa.array([round(r["median_dbm"], 2) for r in rows], type=pa.float32()),
        "shadow_db": pa.array([round(r["shadow_db"], 2) for r in rows], type=pa.float32()),
        "noise_db": pa.array([round(r["noise_db"], 2) for r in rows], type=pa.float32()),
    })  # fmt: skip
    pq.write_table(table, path, compression="zstd", compression_level=9, write_statistics=False)


def truth_dict(cfg: DistrictConfig, seed: int, cells: list[dict], rows: list[dict], err: np.ndarray) -> dict:
    """Every parameter of the district's truth, the deliberate errors and the realised shadowing."""
    sessions: dict[str, int] = {}
    for r in rows:
        sessions[r["session"]] = sessions.get(r["session"], 0) + 1
    keys = ("site_id", "band", "height_m", "roof_m", "azimuth_deg", "mech_tilt_deg", "elec_tilt_deg", "kind", "true_azimuth_deg",
            "true_tilt_deg", "true_hpbw_h_deg", "true_hpbw_v_deg")
    return {
        "generator": "netqa.testworld.district", "generator_version": DISTRICT_VERSION, "seed": seed,
        "crs": f"EPSG:{cfg.crs_epsg}",
        "area": {"origin_x_m": cfg.origin_x_m, "origin_y_m": cfg.origin_y_m, "size_m": cfg.size_m},
        "spm": {**cfg.spm, "distance_unit": "km", "h_eff_definition": "antenna height above ground at the site (height_m)",
                "diffraction": "none (buildings act through the shadowing)", "min_dist_m": 20.0},
        "antenna": {"model": "3GPP parametric sector TR 36.814 Table A.2.1.1-2", "sla_v_db": SLA_V_DB, "am_db": AM_DB,
                    "bands": {b: {"hpbw_h_deg": v[7], "hpbw_v_deg": v[8], "gain_dbi": v[5]} for b, v in BANDS.items()},
                    "database": "antenna column empty: tools assume their default sector (65/10 deg)"},
        "shadowing": {"sigma_db": cfg.shadow_sigma_db, "decorrelation_m": cfg.shadow_decorrelation_m,
                      "correlation": "per site, along each street (AR(1)); independent between streets and sites"},
        "measurement": {"rsrp_noise_db": cfg.meas_noise_db, "scanner": f"every cell within {cfg.scan_radius_km} km",
                        "rsrp_decimals": 1},
        "realised": {"n_samples": len(rows), "sessions": dict(sorted(sessions.items())),
                     "rms_shadow_plus_noise_db": round(float(np.sqrt(np.mean(err**2))), 3),
                     "std_shadow_plus_noise_db": round(float(np.std(err)), 3)},
        "wrong_cells": {c["cell_id"]: c["kind"] for c in cells if c["kind"] != "ok"},
        "cells": {c["cell_id"]: {k: c[k] for k in keys} for c in cells},
        "config": cfg.to_dict(),
    }


__all__ = ["BANDS", "SITES", "SWAPPED", "WRONG", "DistrictConfig", "building_heights", "generate_district", "ground_m"]
