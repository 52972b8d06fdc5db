"""Generate the whole test world into a folder (see ``testdata/README.md``)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from netqa.testworld import drives as drives_mod
from netqa.testworld import network, roads, terrain, truth
from netqa.testworld.config import GENERATOR_VERSION, WorldConfig
from netqa.testworld.writers import fmt, quote, write_csv, write_geotiff, write_gpkg

log = logging.getLogger(__name__)

#: Start of each session (UTC).
SESSION_START_UTC = {
    "d1_highway_valdera": dt.datetime(2024, 5, 14, 7, 30, 0, tzinfo=dt.timezone.utc),
    "d2_valdera_sotillo": dt.datetime(2024, 5, 14, 10, 15, 0, tzinfo=dt.timezone.utc),
    "d3_north_loop": dt.datetime(2024, 5, 15, 15, 40, 0, tzinfo=dt.timezone.utc),
}
SAMPLE_HEADER = ("time", "lat", "lon", "session", "tech", "cell_id", "rsrp_dbm", "rsrq_db", "sinr_db", "dl_mbps", "ul_mbps", "speed_kmh")
EVENT_HEADER = ("time", "lat", "lon", "session", "event", "cell_id", "target_cell_id")
CELL_HEADER = ("site_id", "cell_id", "lat", "lon", "height_m", "azimuth_deg", "mech_tilt_deg", "elec_tilt_deg", "tx_power_dbm",
               "freq_mhz", "bandwidth_mhz", "tech", "pci", "earfcn", "antenna", "gain_dbi", "feeder_loss_db")
GNETTRACK_HEADER = ("Timestamp", "Longitude", "Latitude", "Speed", "Operatorname", "CellID", "NetworkMode", "RSRP", "RSRQ", "SNR",
                    "CQI", "RSSI", "DL_bitrate", "UL_bitrate", "State", "PINGAVG", "PINGMIN", "PINGMAX", "PINGSTDEV", "PINGLOSS",
                    "CELLHEX", "NODEHEX", "LACHEX", "RAWCELLID", "NRxRSRP", "NRxRSRQ")
OPERATOR = "NQ"
TAC = 0x2A1


class Frame:
    """Local metres <-> UTM <-> WGS84 for the world."""

    def __init__(self, cfg: WorldConfig):
        from pyproj import Transformer

        self.cfg = cfg
        self._fwd = Transformer.from_crs(cfg.crs_epsg, 4326, always_xy=True)
        self._inv = Transformer.from_crs(4326, cfg.crs_epsg, always_xy=True)

    def lonlat(self, x_m, y_m):
        lon, lat = self._fwd.transform(np.asarray(x_m) + self.cfg.origin_x_m, np.asarray(y_m) + self.cfg.origin_y_m)
        return np.asarray(lon), np.asarray(lat)

    def local(self, lon, lat):
        e, n = self._inv.transform(np.asarray(lon), np.asarray(lat))
        return np.asarray(e) - self.cfg.origin_x_m, np.asarray(n) - self.cfg.origin_y_m


def _iso(t: dt.datetime, ms: bool = False) -> str:
    if ms:
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_rasters(out: Path, cfg: WorldConfig, ter: terrain.Terrain, seed: int) -> None:
    from rasterio.transform import from_origin

    tr = from_origin(cfg.origin_x_m, cfg.origin_y_m + ter.size_m, ter.pixel_size_m, ter.pixel_size_m)
    crs = f"EPSG:{cfg.crs_epsg}"
    tags = {"SOURCE": f"netqa.testworld {GENERATOR_VERSION}", "SEED": str(seed)}
    write_geotiff(out / "dem.tif", ter.elev_m.astype(np.float32), crs=crs, transform=tr, nodata=-9999.0,
                  description="elevation_m", units="m", tags=tags)
    write_geotiff(out / "clutter.tif", ter.clutter, crs=crs, transform=tr, nodata=0, description="clutter_code",
                  tags={**tags, "CLASS_TABLE": "clutter_classes.csv"})
    write_csv(out / "clutter_classes.csv", ("code", "name", "loss_db", "height_m"),
              [(str(c), n, fmt(loss, 1), fmt(h, 1)) for c, n, loss, h in terrain.CLUTTER_CLASSES])


def write_jacksboro(out: Path) -> None:
    """The USGS 3-arc-second sample DEM shipped with matplotlib, as a GeoTIFF in EPSG:4326.

    The npz holds ``elevation`` (344 x 403, int16, row 0 = north), ``xmin``/``xmax``
    (west/east pixel edges) and ``ymin``/``ymax`` (despite the names: the north
    edge is ``ymin`` = 36.733, the south edge ``ymax`` = 36.446) and ``dx``/``dy``
    = 1/1200 deg.
    """
    import matplotlib.cbook as cbook
    from rasterio.transform import from_origin

    d = cbook.get_sample_data("jacksboro_fault_dem.npz")
    z = np.asarray(d["elevation"], dtype=np.int16)
    north = max(float(d["ymin"]), float(d["ymax"]))
    tr = from_origin(float(d["xmin"]), north, float(d["dx"]), float(d["dy"]))
    write_geotiff(out / "jacksboro_dem.tif", z, crs="EPSG:4326", transform=tr, nodata=-32768, description="elevation_m", units="m",
                  tags={"SOURCE": "USGS 3 arc-second DEM, Jacksboro fault, Tennessee; matplotlib sample data jacksboro_fault_dem.npz"})


def _cells_rows(cells, frame: Frame):
    rows = []
    for c in cells:
        lon, lat = frame.lonlat(c["x_m"], c["y_m"])
        rows.append((c["site_id"], c["cell_id"], fmt(lat, 6), fmt(lon, 6), fmt(c["height_m"], 1), fmt(c["azimuth_deg"], 1),
                     fmt(c["mech_tilt_deg"], 1), fmt(c["elec_tilt_deg"], 1), fmt(c["tx_power_dbm"], 1), fmt(c["freq_mhz"], 1),
                     fmt(c["bandwidth_mhz"], 1), c["tech"], str(c["pci"]), str(c["earfcn"]), c["antenna"], fmt(c["gain_dbi"], 1),
                     fmt(c["feeder_loss_db"], 1)))
    return rows


def write_cells(out: Path, cells, frame: Frame) -> None:
    import geopandas as gpd
    import pandas as pd

    rows = _cells_rows(cells, frame)
    write_csv(out / "cells.csv", CELL_HEADER, rows)
    df = pd.DataFrame(rows, columns=CELL_HEADER)
    for col in ("lat", "lon", "height_m", "azimuth_deg", "mech_tilt_deg", "elec_tilt_deg", "tx_power_dbm", "freq_mhz", "bandwidth_mhz",
                "gain_dbi", "feeder_loss_db"):
        df[col] = df[col].astype(float)
    for col in ("pci", "earfcn"):
        df[col] = df[col].astype("int64")
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
    write_gpkg(out / "cells.gpkg", gdf, "cells")
    (out / "antenna").mkdir(parents=True, exist_ok=True)
    (out / network.ANTENNA_FILE).write_bytes(network.msi_text().encode("ascii"))


def write_roads(out: Path, road_map: dict, frame: Frame, cfg: WorldConfig) -> None:
    import geopandas as gpd
    from shapely.geometry import LineString

    recs = []
    for k, r in enumerate(road_map.values()):
        geom = LineString(np.round(r.xy + [cfg.origin_x_m, cfg.origin_y_m], 2))
        recs.append({"road_id": f"W{k + 1:03d}", "name": r.name, "road_type": r.road_type,
                     "speed_kmh": float(cfg.speed_kmh[r.road_type]), "geometry": geom})
    write_gpkg(out / "roads.gpkg", gpd.GeoDataFrame(recs, crs=f"EPSG:{cfg.crs_epsg}"), "roads")


def _cqi(sinr_db: float) -> int:
    return int(np.clip(np.round(0.5 * sinr_db + 4.5), 1, 15))


def write_session(out: Path, s: drives_mod.Session, lte: list[dict], frame: Frame, cfg: WorldConfig, rng) -> dict:
    """Canonical samples + events CSV and the G-NetTrack export of one session; returns counts."""
    t0 = SESSION_START_UTC[s.name]
    tz = ZoneInfo(cfg.timezone)
    n = s.track.t_s.size
    # reported positions stay inside the study area (a road may run along its edge)
    gx = np.clip(s.track.x_m + cfg.gps_noise_m * rng.standard_normal(n), 1.0, cfg.size_m - 1.0)
    gy = np.clip(s.track.y_m + cfg.gps_noise_m * rng.standard_normal(n), 1.0, cfg.size_m - 1.0)
    lon, lat = frame.lonlat(gx, gy)
    ids = [c["cell_id"] for c in lte]
    rows, grows = [], []
    for i in range(n):
        t = t0 + dt.timedelta(seconds=float(s.track.t_s[i]))
        c = lte[s.serving[i]]
        rows.append((_iso(t), fmt(lat[i], 6), fmt(lon[i], 6), s.name, "LTE", c["cell_id"], fmt(s.rsrp_dbm[i], 1), fmt(s.rsrq_db[i], 1),
                     fmt(s.sinr_db[i], 1), fmt(s.dl_mbps[i], 2), fmt(s.ul_mbps[i], 2), fmt(s.track.speed_kmh[i], 1)))
        dl_kbps = "0" if np.isnan(s.dl_mbps[i]) else str(int(round(s.dl_mbps[i] * 1000)))
        ul_kbps = "0" if np.isnan(s.ul_mbps[i]) else str(int(round(s.ul_mbps[i] * 1000)))
        grows.append((t.astimezone(tz).strftime("%Y.%m.%d_%H.%M.%S"), fmt(lon[i], 6), fmt(lat[i], 6), str(int(round(s.track.speed_kmh[i]))),
                      OPERATOR, str(c["local_cell_id"]), "LTE", str(int(round(s.rsrp_dbm[i]))), str(int(np.clip(round(s.rsrq_db[i]), -19, -3))),
                      fmt(s.sinr_db[i], 1), str(_cqi(s.sinr_db[i])), str(int(round(s.rssi_dbm[i]))), dl_kbps, ul_kbps, str(s.state[i]),
                      "-", "-", "-", "-", "-", f"{c['local_cell_id']:X}", f"{c['enb_id']:X}", f"{TAC:X}", c["cell_id"],
                      fmt(s.nbr_rsrp_dbm[i], 1), fmt(s.nbr_rsrq_db[i], 1)))
    write_csv(out / "drives" / f"{s.name}.csv", SAMPLE_HEADER, rows)
    write_csv(out / "drives" / "gnettrack" / f"{s.name}.csv", GNETTRACK_HEADER, grows)
    erows = []
    counts: dict[str, int] = {}
    for t_s, ev, ci, ti in s.events:
        k = min(int(t_s), n - 1)
        frac = min(t_s - k, 1.0)
        k2 = min(k + 1, n - 1)
        ex, ey = gx[k] + frac * (gx[k2] - gx[k]), gy[k] + frac * (gy[k2] - gy[k])
        elon, elat = frame.lonlat(ex, ey)
        t = t0 + dt.timedelta(milliseconds=int(round(t_s * 1000)))
        erows.append((_iso(t, ms=True), fmt(elat, 6), fmt(elon, 6), s.name, ev, ids[ci], ids[ti] if ti >= 0 else ""))
        counts[ev] = counts.get(ev, 0) + 1
    write_csv(out / "drives" / f"{s.name}.events.csv", EVENT_HEADER, erows)
    return {"n_samples": n, "duration_s": int(s.track.t_s[-1]), "distance_km": round(float(s.track.dist_m[-1]) / 1000, 3),
            "start_utc": _iso(t0), "events": dict(sorted(counts.items())),
            "lat": lat, "lon": lon}


def write_truth_samples(path: Path, sessions, lte, site_ids, frame: Frame, cfg: WorldConfig) -> None:
    """Per-sample truth (true position, noiseless serving RSRP, shadowing of every site) as Parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols: dict[str, list] = {k: [] for k in ("session", "t_s", "x_m", "y_m", "lat", "lon", "dist_m", "speed_kmh", "road_type",
                                              "cell_id", "rsrp_median_dbm", "shadow_db", "sinr_true_db", "best_median_cell_id")}
    shadow_cols: dict[str, list] = {f"shadow_{sid}_db": [] for sid in site_ids}
    ids = np.array([c["cell_id"] for c in lte])
    for s in sessions:
        tr = s.track
        lon, lat = frame.lonlat(tr.x_m, tr.y_m)
        cols["session"].extend([s.name] * tr.t_s.size)
        for key, arr in (("t_s", tr.t_s), ("x_m", tr.x_m), ("y_m", tr.y_m), ("lat", lat), ("lon", lon), ("dist_m", tr.dist_m),
                         ("speed_kmh", tr.speed_kmh), ("rsrp_median_dbm", s.median_serving_dbm), ("shadow_db", s.shadow_serving_db),
                         ("sinr_true_db", s.sinr_true_db)):
            cols[key].extend(np.asarray(arr, dtype=np.float64).tolist())
        cols["road_type"].extend(tr.road_type.tolist())
        cols["cell_id"].extend(ids[s.serving].tolist())
        cols["best_median_cell_id"].extend(ids[s.best_median].tolist())
        for j, sid in enumerate(site_ids):
            shadow_cols[f"shadow_{sid}_db"].extend(np.round(s.shadow_sites_db[:, j], 3).tolist())
    arrays = {}
    for k, v in cols.items():
        arrays[k] = pa.array(v, type=pa.string() if k in ("session", "road_type", "cell_id", "best_median_cell_id") else pa.float64())
    for k, v in shadow_cols.items():
        arrays[k] = pa.array(v, type=pa.float32())
    table = pa.table(arrays)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd", compression_level=9, write_statistics=False)


def write_regions_and_complaints(out: Path, cfg: WorldConfig, ter, lte, road_map, frame: Frame, rng) -> dict:
    import geopandas as gpd
    import shapely

    from netqa.testworld import regions as reg

    recs = []
    for rid, name, area_type, geom in reg.build_regions(cfg, road_map["A-31 highway"].xy):
        g = shapely.transform(geom, lambda xy: np.round(np.column_stack(frame.lonlat(xy[:, 0], xy[:, 1])), 7))
        recs.append({"region_id": rid, "name": name, "area_type": area_type, "geometry": g})
    write_gpkg(out / "regions.gpkg", gpd.GeoDataFrame(recs, crs="EPSG:4326"), "regions")

    step = cfg.complaint_grid_m
    centres = np.arange(step / 2, ter.size_m, step)
    gx, gy = np.meshgrid(centres, centres)
    gx, gy = gx.ravel(), gy.ravel()
    clutter_loss = {c: loss for c, _n, loss, _h in terrain.CLUTTER_CLASSES}
    med = truth.median_rsrp_dbm(cfg, ter, lte, clutter_loss, gx, gy)
    best = np.argmax(med, axis=1)
    rows = np.arange(gx.size)
    best_rsrp = med[rows, best]
    p = 10.0 ** (med / 10.0)
    freq = np.array([c["freq_mhz"] for c in lte])
    same = (freq[:, None] == freq[None, :]).astype(np.float64)
    noise = 10.0 ** (truth.thermal_noise_re_dbm(15.0, cfg.noise_figure_db) / 10.0)
    interf = cfg.load_factor * ((p @ same)[rows, best] - p[rows, best])
    best_sinr = 10.0 * np.log10(p[rows, best] / (interf + noise))
    comps = reg.build_complaints(cfg, ter, best_rsrp, best_sinr, gx, gy, rng)
    crow = []
    for t, x, y, cat, text in comps:
        lon, lat = frame.lonlat(x, y)
        crow.append((_iso(t), fmt(lat, 6), fmt(lon, 6), cat, quote(text)))
    write_csv(out / "complaints.csv", ("time", "lat", "lon", "category", "text"), crow)
    cats: dict[str, int] = {}
    for c in comps:
        cats[c[3]] = cats.get(c[3], 0) + 1
    return {"n": len(comps), "by_category": dict(sorted(cats.items())),
            "median_best_rsrp_dbm_p5": round(float(np.percentile(best_rsrp, 5)), 2),
            "median_best_rsrp_dbm_p50": round(float(np.percentile(best_rsrp, 50)), 2)}


def generate_world(out_dir, seed: int = 7, config: WorldConfig | None = None) -> dict:
    """Generate every file of the test world into ``out_dir``; return the truth dict (also in truth.json).

    The same ``seed`` and configuration give byte-identical files (for a given
    GDAL / PROJ / pyarrow version); ``SHA256SUMS`` lists them.
    """
    from netqa.testworld.readme import readme_text, write_sha256sums

    cfg = config or WorldConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    root = np.random.SeedSequence(seed)
    streams = dict(zip(("terrain", "network", "roads", "drives", "complaints"), root.spawn(5)))
    rng = {k: np.random.Generator(np.random.PCG64(v)) for k, v in streams.items()}
    frame = Frame(cfg)

    log.info("terrain")
    ter = terrain.build_terrain(cfg, rng["terrain"])
    write_rasters(out, cfg, ter, seed)
    write_jacksboro(out)

    log.info("network")
    sites = network.build_sites(cfg, rng["network"])
    # snap sites onto the 1e-6 degree grid written to cells.csv so the truth uses exactly the published positions
    snapped = []
    for st in sites:
        lon, lat = frame.lonlat(st.x_m, st.y_m)
        x, y = frame.local(round(float(lon), 6), round(float(lat), 6))
        snapped.append(network.Site(st.site_id, float(x), float(y), st.kind, st.height_m, st.bands))
    sites = snapped
    cells = network.build_cells(sites, rng["network"])
    write_cells(out, cells, frame)
    site_ids = [s.site_id for s in sites]

    log.info("roads and drives")
    road_map = roads.build_roads(rng["roads"])
    write_roads(out, road_map, frame, cfg)
    lte = [c for c in cells if c["tech"] == "LTE"]
    clutter_loss = {c: loss for c, _n, loss, _h in terrain.CLUTTER_CLASSES}
    sessions, summaries = [], {}
    for name, pieces in roads.session_routes(road_map).items():
        track = roads.drive(pieces, cfg, rng["roads"])
        s = drives_mod.simulate(name, track, cfg, ter, cells, site_ids, clutter_loss, rng["drives"])
        summ = write_session(out, s, lte, frame, cfg, rng["drives"])
        summ.pop("lat"), summ.pop("lon")
        sessions.append(s)
        summaries[name] = summ
    write_truth_samples(out / "drives" / "truth_samples.parquet", sessions, lte, site_ids, frame, cfg)

    log.info("regions and complaints")
    complaints = write_regions_and_complaints(out, cfg, ter, lte, road_map, frame, rng["complaints"])

    info = truth_dict(cfg, seed, sites, summaries, complaints)
    (out / "truth.json").write_bytes((json.dumps(info, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    (out / "README.md").write_bytes(readme_text(info).encode("utf-8"))
    write_sha256sums(out)
    return info


def truth_dict(cfg: WorldConfig, seed: int, sites, summaries: dict, complaints: dict) -> dict:
    """Every parameter of the truth, for calibration tests and for the README."""
    c = cfg.to_dict()
    return {
        "generator": "netqa.testworld",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "crs": f"EPSG:{cfg.crs_epsg}",
        "timezone": cfg.timezone,
        "area": {"origin_x_m": cfg.origin_x_m, "origin_y_m": cfg.origin_y_m, "size_m": cfg.size_m, "pixel_size_m": cfg.pixel_size_m},
        "spm": {**c["spm"], "distance_unit": "km", "h_eff_definition": "antenna height above ground at the site (cells.csv height_m)",
                "h_rx_m": cfg.h_rx_m, "diffraction": "single main knife edge over the DEM, ITU-R P.526-15 eq. (31), Earth k=4/3"},
        "antenna": {"model": "3GPP parametric sector TR 36.814 Table A.2.1.1-2", "hpbw_h_deg": network.HPBW_H_DEG,
                    "hpbw_v_deg": network.HPBW_V_DEG, "sla_v_db": network.SLA_V_DB, "am_db": network.AM_DB,
                    "tilt": "mech_tilt_deg + elec_tilt_deg, shift of the vertical cut", "geometry": "3-D with terrain heights"},
        "rs_power": "RS EPRE = tx_power_dbm - 10 log10(12 N_PRB); N_PRB 100 (LTE 20 MHz), 50 (LTE 10 MHz), 273 (NR 100 MHz, 30 kHz)",
        "clutter": [{"code": k, "name": n, "loss_db": loss, "height_m": h} for k, n, loss, h in terrain.CLUTTER_CLASSES],
        "shadowing": {"sigma_db": cfg.shadow_sigma_db, "decorrelation_m": cfg.shadow_decorrelation_m,
                      "model": "AR(1) in distance travelled, rho = exp(-dd/decorrelation_m) (Gudmundson)",
                      "correlation": "independent between sites; shared by all cells of a site; independent between sessions"},
        "measurement": {"rsrp_noise_db": cfg.meas_noise_db, "sinr_noise_db": cfg.sinr_meas_noise_db, "rsrq_noise_db": 0.5,
                        "gps_noise_m": cfg.gps_noise_m, "rsrp_range_dbm": list(drives_mod.RSRP_RANGE_DBM)},
        "interference": {"load_factor": cfg.load_factor, "noise_figure_db": cfg.noise_figure_db,
                         "thermal_noise_dbm_per_hz": -174.0, "subcarrier_khz": 15.0, "co_channel": "same freq_mhz"},
        "mobility": {k: c[k] for k in ("a3_offset_db", "ttt_s", "l3_filter_k", "cio_800_db", "reestablish_s", "ho_fail_base",
                                       "ho_fail_max", "ho_fail_sinr50_db", "ho_fail_width_db")},
        "calls": {k: c[k] for k in ("call_hold_s", "call_gap_s", "setup_fail_base", "setup_fail_max", "setup_fail_sinr50_db",
                                    "setup_fail_width_db", "drop_hazard_base_per_s", "drop_hazard_max_per_s", "drop_sinr50_db",
                                    "drop_width_db")},
        "throughput": {k: c[k] for k in ("shannon_dl", "shannon_ul", "sched_share", "tput_noise_sigma", "ue_power_dbm",
                                         "bs_noise_figure_db", "ul_iot_db", "dl_period_s", "ul_period_s", "idle_period_s")},
        "bands": {k: {"tech": v[0], "freq_mhz": v[1], "bandwidth_mhz": v[2], "tx_power_dbm": v[3], "earfcn": v[4], "gain_dbi": v[6],
                      "subcarrier_khz": v[7], "n_prb": v[8]} for k, v in network.BANDS.items()},
        "sites": [{"site_id": s.site_id, "kind": s.kind, "height_m": s.height_m, "bands": list(s.bands)} for s in sites],
        "sessions": summaries,
        "complaints": complaints,
        "config": c,
    }
