"""The synthetic test world: determinism, the committed files, and physical sanity of the truth."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netqa.fileio import sha256_file
from netqa.testworld import generate_world, small_config, truth
from netqa.testworld.config import WorldConfig
from netqa.testworld.equivalence import compare_worlds
from netqa.testworld.generate import EVENT_HEADER, GNETTRACK_HEADER, SAMPLE_HEADER

SESSIONS = ("d1_highway_valdera", "d2_valdera_sotillo", "d3_north_loop")
EVENT_TYPES = ("call_attempt", "call_setup_failure", "call_drop", "call_end", "ho_attempt", "ho_success", "ho_failure")


def _sums(folder: Path) -> dict[str, str]:
    lines = (folder / "SHA256SUMS").read_text().splitlines()
    return {line.split("  ", 1)[1]: line.split("  ", 1)[0] for line in lines}


@pytest.fixture(scope="module")
def small_a(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("world_a")
    generate_world(out, seed=7, config=small_config())
    return out


@pytest.fixture(scope="module")
def world(testdata) -> Path:
    if not (testdata / "truth.json").exists():
        pytest.skip("testdata not generated")
    return testdata


@pytest.fixture(scope="module")
def truth_samples(world) -> pd.DataFrame:
    return pd.read_parquet(world / "drives" / "truth_samples.parquet")


@pytest.fixture(scope="module")
def samples(world) -> dict[str, pd.DataFrame]:
    return {s: pd.read_csv(world / "drives" / f"{s}.csv") for s in SESSIONS}


@pytest.fixture(scope="module")
def events(world) -> dict[str, pd.DataFrame]:
    return {s: pd.read_csv(world / "drives" / f"{s}.events.csv", dtype={"cell_id": str, "target_cell_id": str}) for s in SESSIONS}


# --- determinism ----------------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(small_a, tmp_path):
    generate_world(tmp_path, seed=7, config=small_config())
    a, b = _sums(small_a), _sums(tmp_path)
    assert a == b
    assert len(a) >= 18


def test_sha256sums_list_the_files(small_a):
    sums = _sums(small_a)
    assert all(sha256_file(small_a / rel) == h for rel, h in sums.items())


def test_different_seed_differs(small_a, tmp_path):
    generate_world(tmp_path, seed=8, config=small_config())
    a, b = _sums(small_a), _sums(tmp_path)
    for rel in ("dem.tif", "clutter.tif", "cells.csv", "drives/d1_highway_valdera.csv", "complaints.csv"):
        assert a[rel] != b[rel], rel
    assert a["jacksboro_dem.tif"] == b["jacksboro_dem.tif"]  # real data, no seed


def test_committed_testdata_matches_its_sha256sums(world):
    sums = _sums(world)
    assert {rel for rel in sums} >= {"dem.tif", "clutter.tif", "cells.csv", "cells.gpkg", "roads.gpkg", "regions.gpkg", "truth.json"}
    bad = [rel for rel, h in sums.items() if sha256_file(world / rel) != h]
    assert bad == []


def test_committed_testdata_matches_regeneration(world, tmp_path):
    """Regeneration equals the committed world within the tolerances stated in netqa.testworld.equivalence
    (bit equality across CPUs is not a promise: numpy's exp/sin/log10 may differ in the last bit)."""
    info = json.loads((world / "truth.json").read_text())
    generate_world(tmp_path, seed=info["seed"])
    assert compare_worlds(tmp_path, world) == []


# --- cross-CPU equivalence: last-bit differences pass, real differences fail ---------------------------


def _resum(folder: Path) -> None:
    from netqa.testworld.readme import write_sha256sums

    write_sha256sums(folder)


def _copy_world(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_last_bit_differences_are_equivalent(small_a, tmp_path):
    import rasterio

    b = _copy_world(small_a, tmp_path / "b")
    text = (b / "truth.json").read_text()
    m = re.search(r"(\d+\.\d{6,})", text)  # a full-precision float: change it by 5e-14
    text = text.replace(m.group(1), repr(float(m.group(1)) + 5e-14), 1)
    (b / "truth.json").write_text(text)
    lines = (b / "cells.csv").read_text().splitlines()
    cols = lines[1].split(",")
    cols[4] = f"{float(cols[4]) + 0.1:.1f}"  # height_m rounded the other way: one unit of the last digit
    (b / "cells.csv").write_text("\n".join([lines[0], ",".join(cols), *lines[2:]]) + "\n")
    with rasterio.open(b / "dem.tif", "r+") as dst:
        z = dst.read(1)
        z[3, 3] = np.nextafter(z[3, 3], np.float32(1e9))
        dst.write(z, 1)
    _resum(b)
    assert _sums(b) != _sums(small_a)
    assert compare_worlds(b, small_a) == []


@pytest.mark.parametrize("change", ["dem_1m", "csv_1db", "text_token"])
def test_real_differences_are_reported(small_a, tmp_path, change):
    import rasterio

    b = _copy_world(small_a, tmp_path / "b")
    if change == "dem_1m":
        with rasterio.open(b / "dem.tif", "r+") as dst:
            z = dst.read(1)
            z[3, 3] += 1.0
            dst.write(z, 1)
        needle = "dem.tif"
    elif change == "csv_1db":
        lines = (b / "cells.csv").read_text().splitlines()
        cols = lines[1].split(",")
        cols[4] = f"{float(cols[4]) + 1.0:.1f}"
        (b / "cells.csv").write_text("\n".join([lines[0], ",".join(cols), *lines[2:]]) + "\n")
        needle = "cells.csv"
    else:
        (b / "clutter_classes.csv").write_text((b / "clutter_classes.csv").read_text().replace("water", "lake"))
        needle = "clutter_classes.csv"
    _resum(b)
    problems = compare_worlds(b, small_a)
    assert problems and needle in problems[0]


def test_total_size_under_10_mb(world):
    total = sum(p.stat().st_size for p in world.rglob("*") if p.is_file() and "reference" not in p.parts)
    assert total < 10e6


# --- rasters ----------------------------------------------------------------------------------------


def test_dem_metadata_and_relief(world):
    import rasterio

    with rasterio.open(world / "dem.tif") as src:
        assert src.crs.to_epsg() == 32630
        assert src.dtypes[0] == "float32" and src.nodata == -9999.0
        assert src.descriptions[0] == "elevation_m"
        assert src.res == (30.0, 30.0)
        assert src.width * 30.0 == pytest.approx(20010.0)
        assert src.compression.name.lower() == "deflate"
        z = src.read(1)
    assert 300.0 < np.ptp(z) < 700.0  # ridge, valley and hills: believable relief
    assert np.isfinite(z).all() and (z != -9999.0).all()
    assert np.abs(np.diff(z, axis=1)).max() / 30.0 < 1.0  # slopes below 45 degrees


def test_jacksboro_dem_georeferencing(world):
    import matplotlib.cbook as cbook
    import rasterio

    d = cbook.get_sample_data("jacksboro_fault_dem.npz")
    with rasterio.open(world / "jacksboro_dem.tif") as src:
        assert src.crs.to_epsg() == 4326
        assert src.transform.e < 0  # north up
        assert src.bounds.left == pytest.approx(float(d["xmin"]))
        assert src.bounds.right == pytest.approx(float(d["xmax"]), abs=1e-9)
        assert src.bounds.top == pytest.approx(36.73291666666667)
        assert src.bounds.bottom == pytest.approx(36.44625, abs=1e-9)
        z = src.read(1)
    np.testing.assert_array_equal(z, d["elevation"])


def test_clutter_codes_and_table(world):
    import rasterio

    table = pd.read_csv(world / "clutter_classes.csv")
    assert list(table.columns) == ["code", "name", "loss_db", "height_m"]
    with rasterio.open(world / "clutter.tif") as src, rasterio.open(world / "dem.tif") as dem:
        assert src.transform == dem.transform and src.shape == dem.shape and src.crs == dem.crs
        c = src.read(1)
    counts = np.bincount(c.ravel(), minlength=7)
    assert set(np.unique(c)) == set(table["code"])
    assert counts[1] > 100 and counts[6] > 100  # a river and a dense core exist


# --- cells and antenna -----------------------------------------------------------------------------


def test_cells_plan(world):
    cells = pd.read_csv(world / "cells.csv", dtype={"cell_id": str})
    assert cells["cell_id"].is_unique
    assert cells["site_id"].nunique() >= 12
    assert (cells.groupby(["site_id", "freq_mhz"]).size() == 3).all()
    assert cells["height_m"].between(20, 45).all()
    assert set(cells["tech"]) == {"LTE", "NR"}
    for freq, pmax, bw in ((1815.0, 46.0, 20.0), (806.0, 43.0, 10.0), (3500.0, 49.0, 100.0)):
        band = cells[cells["freq_mhz"] == freq]
        assert len(band) >= 9 and (band["tx_power_dbm"] == pmax).all() and (band["bandwidth_mhz"] == bw).all()
    # mod-3 PCI plan: the three sectors of a site on one carrier take the three residues
    assert (cells.groupby(["site_id", "freq_mhz"])["pci"].agg(lambda p: sorted(p % 3)) .map(tuple) == (0, 1, 2)).all()


def test_msi_pattern(world):
    lines = (world / "antenna" / "sector65.msi").read_text().splitlines()
    h0 = lines.index("HORIZONTAL 360")
    v0 = lines.index("VERTICAL 360")
    hor = np.array([float(x.split()[1]) for x in lines[h0 + 1:h0 + 361]])
    ver = np.array([float(x.split()[1]) for x in lines[v0 + 1:v0 + 361]])
    assert hor[0] == 0.0 and hor[180] == 25.0 and hor[33] == pytest.approx(12 * (33 / 65) ** 2, abs=0.01)
    assert ver[0] == 0.0 and ver[5] == pytest.approx(3.0) and ver.max() == 25.0
    assert "GAIN 17.5 dBi" in lines


# --- drives -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("session", SESSIONS)
def test_samples_are_canonical_and_in_range(samples, session):
    d = samples[session]
    assert tuple(d.columns) == SAMPLE_HEADER
    assert d["time"].str.endswith("Z").all()
    t = pd.to_datetime(d["time"], utc=True)
    assert (t.diff().dropna() == pd.Timedelta(seconds=1)).all()
    assert 30 * 60 <= len(d) <= 45 * 60
    assert d["rsrp_dbm"].between(-140, -44).all()
    assert d["rsrq_db"].between(-19.5, -3).all()
    assert d["sinr_db"].between(-23, 40).all()
    assert d["dl_mbps"].notna().sum() > 300 and d["ul_mbps"].notna().sum() > 150
    assert not (d["dl_mbps"].notna() & d["ul_mbps"].notna()).any()
    assert d["speed_kmh"].max() < 125


@pytest.mark.parametrize("session", SESSIONS)
def test_event_counts_are_non_trivial(events, session):
    e = events[session]
    assert tuple(e.columns) == EVENT_HEADER
    assert set(e["event"]) <= set(EVENT_TYPES)
    n = e["event"].value_counts()
    assert n["call_attempt"] >= 30
    assert 1 <= n.get("call_drop", 0) <= 15
    assert n["ho_attempt"] >= 24
    assert 1 <= n.get("ho_failure", 0) <= 20
    assert n["ho_attempt"] == n["ho_success"] + n["ho_failure"]
    assert n["call_attempt"] == n.get("call_setup_failure", 0) + n.get("call_drop", 0) + n["call_end"]
    ho = e[e["event"].str.startswith("ho_")]
    assert ho["target_cell_id"].notna().all() and (ho["target_cell_id"] != ho["cell_id"]).all()


@pytest.mark.parametrize("session", SESSIONS)
def test_serving_cells_exist(world, samples, events, session):
    ids = set(pd.read_csv(world / "cells.csv", dtype={"cell_id": str})["cell_id"])
    assert set(samples[session]["cell_id"].astype(str)) <= ids
    e = events[session]
    assert set(e["cell_id"]) <= ids and set(e["target_cell_id"].dropna()) <= ids


@pytest.mark.parametrize("session", SESSIONS)
def test_positions_inside_dem(world, samples, session):
    import rasterio
    from pyproj import Transformer

    d = samples[session]
    x, y = Transformer.from_crs(4326, 32630, always_xy=True).transform(d["lon"].to_numpy(), d["lat"].to_numpy())
    with rasterio.open(world / "dem.tif") as src:
        b = src.bounds
    assert (x > b.left).all() and (x < b.right).all() and (y > b.bottom).all() and (y < b.top).all()


@pytest.mark.parametrize("session", SESSIONS)
def test_gnettrack_export_matches_samples(world, samples, session):
    g = pd.read_csv(world / "drives" / "gnettrack" / f"{session}.csv", dtype={"RAWCELLID": str})
    d = samples[session]
    assert tuple(g.columns) == GNETTRACK_HEADER
    assert len(g) == len(d)
    local = pd.to_datetime(g["Timestamp"], format="%Y.%m.%d_%H.%M.%S")
    utc = pd.to_datetime(d["time"], utc=True).dt.tz_localize(None)
    assert ((local - utc) == pd.Timedelta(hours=2)).all()  # Europe/Madrid in May (CEST), as truth.json says
    assert (g["RAWCELLID"] == d["cell_id"].astype(str)).all()
    assert ((g["RSRP"] - d["rsrp_dbm"]).abs() <= 0.55).all()  # integer dBm as the app shows it
    dl = g["DL_bitrate"].where(g["State"] == "D")
    np.testing.assert_allclose(dl.dropna() / 1000, d["dl_mbps"].dropna(), atol=0.001)


def test_shadowing_residual_sigma(samples, truth_samples):
    """Measured minus noiseless unshadowed truth of the serving cell: sigma 6 dB (+1 dB noise) within 0.5 dB."""
    res = []
    for s in SESSIONS:
        d = samples[s]
        t = truth_samples[truth_samples["session"] == s]
        ok = d["rsrp_dbm"].between(-139.9, -44.1).to_numpy()
        res.append((d["rsrp_dbm"].to_numpy() - t["rsrp_median_dbm"].to_numpy())[ok])
    r = np.concatenate(res)
    assert abs(r.std() - 6.0) < 0.5
    assert abs(r.mean()) < 1.5  # serving selection biases it slightly upward


def test_site_shadowing_sigma_and_50m_correlation(truth_samples):
    """Each site's shadowing: sigma 6 dB (+-0.3) and correlation exp(-1) (+-0.06) at 50 m along the route."""
    cols = [c for c in truth_samples.columns if c.startswith("shadow_") and c != "shadow_db"]
    assert abs(truth_samples[cols].to_numpy().std() - 6.0) < 0.3
    a, b = [], []
    for _s, g in truth_samples.groupby("session"):
        dist = g["dist_m"].to_numpy()
        j = np.clip(np.searchsorted(dist, dist + 50.0), 1, len(dist) - 1)
        j = np.where(np.abs(dist[j - 1] - dist - 50) < np.abs(dist[j] - dist - 50), j - 1, j)
        keep = np.abs(dist[j] - dist - 50.0) < 3.0
        for c in cols:
            v = g[c].to_numpy()
            a.append(v[keep])
            b.append(v[j[keep]])
    corr = np.corrcoef(np.concatenate(a), np.concatenate(b))[0, 1]
    assert abs(corr - math.exp(-1)) < 0.06


# --- regions and complaints ------------------------------------------------------------------------


def test_regions(world):
    import geopandas as gpd

    r = gpd.read_file(world / "regions.gpkg")
    assert len(r) >= 5 and r["region_id"].is_unique
    assert {"region_id", "name", "area_type"} <= set(r.columns)
    assert r.is_valid.all() and r.crs.to_epsg() == 4326
    assert {"urban", "suburban", "rural", "road"} <= set(r["area_type"])


def test_complaints_file(world):
    c = pd.read_csv(world / "complaints.csv")
    assert list(c.columns) == ["time", "lat", "lon", "category", "text"]
    assert set(c["category"]) <= {"no_coverage", "weak_signal", "call_drop", "slow_data", "other"}
    assert c["category"].nunique() >= 4 and c["text"].str.len().gt(5).all()
    assert pd.to_datetime(c["time"], utc=True).is_monotonic_increasing


def test_complaints_prefer_weak_coverage():
    from netqa.testworld.regions import build_complaints
    from netqa.testworld.terrain import SUBURBAN, Terrain

    cfg = WorldConfig(n_complaints=400, complaint_grid_m=100.0)
    ter = Terrain(elev_m=np.zeros((2, 2)), clutter=np.full((2, 2), SUBURBAN, dtype=np.uint8), pixel_size_m=100.0, size_m=200.0)
    gx, gy = np.array([50.0, 150.0]), np.array([50.0, 50.0])
    out = build_complaints(cfg, ter, np.array([-80.0, -120.0]), np.array([15.0, -5.0]), gx, gy, np.random.default_rng(1))
    weak = sum(1 for _t, x, _y, _c, _txt in out if x > 100.0)
    assert weak > 0.8 * len(out)


# --- truth model units -----------------------------------------------------------------------------


def test_ar1_shadow_statistics():
    s = truth.ar1_shadow_db(np.arange(20000) * 10.0, 6.0, 50.0, np.random.default_rng(3), 4)
    assert abs(s.std() - 6.0) < 0.15
    assert abs(np.corrcoef(s[:-5].ravel(), s[5:].ravel())[0, 1] - math.exp(-1)) < 0.03


@pytest.mark.parametrize("az_off, dep, expected", [(0.0, 8.0, 0.0), (32.5, 8.0, -3.0), (180.0, 8.0, -25.0), (0.0, 13.0, -3.0),
                                                    (0.0, 90.0, -20.0)], ids=["boresight", "h-half-power", "back", "v-half-power", "nadir"])
def test_sector_pattern(az_off, dep, expected):
    assert float(truth.sector_gain_rel_db(az_off, dep, 8.0)) == pytest.approx(expected)


def test_spm_distance_slope_is_k2_plus_k5_log_h():
    k = WorldConfig().spm
    l1, l10 = truth.spm_loss_db(k, 1800.0, np.array([1.0, 10.0]), 30.0, 1.5, 0.0)
    assert l10 - l1 == pytest.approx(k.k2 + k.k5 * math.log10(30.0))


def test_truth_json_records_parameters(world):
    info = json.loads((world / "truth.json").read_text())
    assert info["seed"] == 7 and info["timezone"] == "Europe/Madrid"
    assert {f"k{i}" for i in range(1, 8)} <= set(info["spm"]) and info["spm"]["f_ref_mhz"] == 1800.0
    assert info["shadowing"]["sigma_db"] == 6.0 and info["shadowing"]["decorrelation_m"] == 50.0
    assert set(info["sessions"]) == set(SESSIONS)


@pytest.mark.parametrize("name", ["k3", "k5", "k6", "k7"])
def test_truth_fixes_unidentifiable_coefficients_at_the_spm_defaults(name):
    """With 22-25 m masts and one UE height K3, K5, K6, K7 cannot be told from K1: the truth uses the defaults."""
    from propagation import SPM_DEFAULT_K

    assert getattr(WorldConfig().spm, name) == pytest.approx(getattr(SPM_DEFAULT_K, name), abs=1e-12)
