"""A synthetic scoring world of any size (tests and ``benchmarks/bench_score.py``).

A ``k × k`` grid of square regions in UTM zone 32N, samples spread uniformly
over them with an RSRP/SINR field that falls off from the centre, events,
complaints and a coverage GeoTIFF (the five DESIGN.md bands, ``best_cell``
lookup in the metadata) covering the whole area or only part of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from pyproj import Transformer

#: CRS of the synthetic world.
CRS_EPSG = 32632
X0, Y0 = 500_000.0, 5_000_000.0


@dataclass
class World:
    regions: Path
    samples: Path
    events: Path
    complaints: Path
    coverage: Path | None
    cells: Path
    side_m: float
    k: int


def field(x: np.ndarray, y: np.ndarray, extent_m: float) -> tuple[np.ndarray, np.ndarray]:
    """(rsrp_dbm, sinr_db) of the synthetic network at projected (x, y)."""
    d = np.hypot(x - (X0 + 0.3 * extent_m), y - (Y0 + 0.4 * extent_m)) / extent_m
    rsrp = -70.0 - 55.0 * d
    sinr = 25.0 - 30.0 * d
    return rsrp, sinr


def make_world(
    folder,
    *,
    k: int = 3,
    side_m: float = 1000.0,
    n_samples: int = 3000,
    n_complaints: int = 60,
    raster: str = "full",
    pixel_m: float = 50.0,
    campaigns: int = 2,
    seed: int = 7,
    samples_format: str = "parquet",
) -> World:
    """Write a synthetic world under ``folder`` and return its paths.

    ``raster`` is ``"full"`` (covers every region), ``"partial"`` (the left
    half of the area) or ``"none"``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ext = k * side_m
    polys, ids, types = [], [], []
    for i in range(k):
        for j in range(k):
            polys.append(shapely.box(X0 + j * side_m, Y0 + i * side_m, X0 + (j + 1) * side_m, Y0 + (i + 1) * side_m))
            ids.append(f"R{i}{j}" if k <= 10 else f"R{i:04d}_{j:04d}")
            types.append("rural" if (i + j) % 3 == 2 else "urban")
    regions = gpd.GeoDataFrame({"region_id": ids, "name": [f"Region {r}" for r in ids], "area_type": types}, geometry=polys, crs=CRS_EPSG)
    rpath = folder / "regions.gpkg"
    regions.to_file(rpath, layer="regions", driver="GPKG")
    inv = Transformer.from_crs(CRS_EPSG, 4326, always_xy=True)
    # keep a small margin inside the area so no sample sits exactly on the outer edge
    x = X0 + rng.uniform(1.0, ext - 1.0, n_samples)
    y = Y0 + rng.uniform(1.0, ext - 1.0, n_samples)
    lon, lat = inv.transform(x, y)
    rsrp, sinr = field(x, y, ext)
    rsrp = rsrp + rng.normal(0.0, 4.0, n_samples)
    sinr = sinr + rng.normal(0.0, 3.0, n_samples)
    camp = rng.integers(0, max(campaigns, 1), n_samples)
    t0 = pd.Timestamp("2024-01-01", tz="UTC")
    times = t0 + pd.to_timedelta(camp * 31 * 86400 + rng.uniform(0, 86400 * 5, n_samples), unit="s")
    dl = np.clip(2.0 + 2.5 * (sinr + 5.0), 0.1, None) * rng.uniform(0.7, 1.3, n_samples)
    samples = pd.DataFrame(
        {
            "time": times, "lat": lat, "lon": lon,
            "session": pd.Categorical([f"drive{c}" for c in camp]), "tech": pd.Categorical(["LTE"] * n_samples),
            "cell_id": pd.Categorical(np.where(x < X0 + ext / 2, "C1", "C2")),
            "rsrp_dbm": rsrp, "rsrq_db": -10.0 + 0.2 * sinr, "sinr_db": sinr, "dl_mbps": dl, "ul_mbps": dl / 4.0,
            "campaign": pd.Categorical([f"2024-{c + 1:02d}" for c in camp]) if campaigns > 1 else None,
        }
    )  # fmt: skip
    if campaigns <= 1:
        samples = samples.drop(columns="campaign")
    spath = folder / ("samples.parquet" if samples_format == "parquet" else "samples.csv")
    if samples_format == "parquet":
        samples.to_parquet(spath, index=False)
    else:
        samples.to_csv(spath, index=False)
    n_ev = max(n_samples // 20, 4)
    pick = rng.integers(0, n_samples, n_ev)
    kinds = rng.choice(["call_attempt", "call_drop", "ho_attempt", "ho_success", "call_attempt", "ho_attempt", "ho_success"], n_ev)
    events = pd.DataFrame(
        {"time": times[pick], "lat": lat[pick], "lon": lon[pick], "session": samples["session"].to_numpy()[pick],
         "event": kinds, "cell_id": "C1", "target_cell_id": "C2"}  # fmt: skip
    )
    epath = folder / (spath.stem + ".events.parquet")
    events.to_parquet(epath, index=False)
    cx = X0 + rng.uniform(1.0, ext - 1.0, n_complaints)
    cy = Y0 + rng.uniform(1.0, ext - 1.0, n_complaints)
    clon, clat = inv.transform(cx, cy)
    complaints = pd.DataFrame(
        {"time": t0 + pd.to_timedelta(rng.uniform(0, 86400 * 60, n_complaints), unit="s"), "lat": clat, "lon": clon,
         "category": rng.choice(["no_coverage", "weak_signal", "call_drop", "slow_data", "other"], n_complaints),
         "text": "synthetic"}  # fmt: skip
    )
    cpath = folder / "complaints.csv"
    complaints.to_csv(cpath, index=False)
    cells = pd.DataFrame(
        {"site_id": ["S1", "S2"], "cell_id": ["C1", "C2"], "lat": [lat[0], lat[1]], "lon": [lon[0], lon[1]],
         "height_m": 30.0, "azimuth_deg": [0.0, 180.0], "mech_tilt_deg": 0.0, "elec_tilt_deg": 4.0,
         "tx_power_dbm": 46.0, "freq_mhz": 1800.0, "bandwidth_mhz": [20.0, 10.0], "tech": "LTE"}  # fmt: skip
    )
    cellpath = folder / "cells.csv"
    cells.to_csv(cellpath, index=False)
    tpath = None
    if raster != "none":
        tpath = folder / "coverage.tif"
        write_coverage(tpath, ext if raster == "full" else ext / 2.0, ext, pixel_m)
    return World(rpath, spath, epath, cpath, tpath, cellpath, side_m, k)


def write_coverage(path, width_m: float, height_m: float, pixel_m: float, extent_m: float | None = None) -> Path:
    """Coverage GeoTIFF over ``[X0, X0+width_m] × [Y0, Y0+height_m]`` with the synthetic field."""
    import rasterio  # noqa: PLC0415

    ext = extent_m if extent_m is not None else max(width_m, height_m)
    w, h = int(round(width_m / pixel_m)), int(round(height_m / pixel_m))
    tr = Affine(pixel_m, 0.0, X0, 0.0, -pixel_m, Y0 + height_m)
    cols, rows = np.meshgrid(np.arange(w), np.arange(h))
    xs, ys = tr @ (cols + 0.5, rows + 0.5)
    rsrp, sinr = field(xs, ys, ext)
    best = np.where(xs < X0 + ext / 2, 0.0, 1.0)
    dl = np.clip(2.0 + 2.5 * (sinr + 5.0), 0.1, None)
    bands = {"rsrp_dbm": rsrp, "best_cell": best, "sinr_db": sinr, "dl_mbps": dl, "ul_mbps": dl / 4.0}
    nodata = -9999.0
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=5, dtype="float32", crs=f"EPSG:{CRS_EPSG}",
                       transform=tr, nodata=nodata) as ds:  # fmt: skip
        for i, (name, arr) in enumerate(bands.items(), start=1):
            ds.write(arr.astype("float32"), i)
            ds.set_band_description(i, name)
            ds.update_tags(i, name=name)
        ds.update_tags(best_cell='["C1", "C2"]', netqa_product="coverage")
    return Path(path)
