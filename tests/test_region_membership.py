"""Issue 13 item 7: kpi, compare and score put every sample in the same regions.

Before, score reprojected the lon/lat region polygons to UTM vertex by vertex (long edges not
densified) and counted 1,480 samples in the test world's R04 where kpi and compare counted 1,481.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Polygon

from netqa.cli import main
from netqa.compare.regional import _regions, region_members
from netqa.kpi import compute_kpis_by_region
from netqa.regions import region_masks, reproject_regions
from netqa.score import score_regions

T = Path(__file__).resolve().parents[1] / "testdata"


@pytest.fixture(scope="module")
def samples_path(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("membership") / "samples.parquet"
    logs = sorted(str(p) for p in (T / "drives").glob("d*_*.csv") if ".events." not in p.name)
    assert main(["-q", "ingest", *logs, "--cells", str(T / "cells.csv"), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module", params=["file-crs", "utm"])
def regions_path(request, tmp_path_factory) -> Path:
    if request.param == "file-crs":
        return T / "regions.gpkg"
    out = tmp_path_factory.mktemp("utm") / "regions_utm.gpkg"
    gpd.read_file(T / "regions.gpkg").to_crs("EPSG:32630").to_file(out)  # edges straight in UTM now
    return out


def test_kpi_compare_and_score_agree_on_every_region(samples_path, regions_path, tmp_path):
    samples = pd.read_parquet(samples_path)
    regions = gpd.read_file(regions_path)
    kpi = {rid: v["n_samples"] for rid, v in compute_kpis_by_region(samples, None, regions).items()}
    cmp = {rid: int(m.sum()) for rid, m in
           region_members(_regions(str(regions_path)), samples["lon"].to_numpy(), samples["lat"].to_numpy()).items()}
    score_regions(str(regions_path), tmp_path / "scores.gpkg", samples=str(samples_path))
    scored = gpd.read_file(tmp_path / "scores.gpkg")
    score = dict(zip(scored["region_id"].astype(str), scored["n_samples"].astype(int)))
    assert set(kpi) == set(cmp) == set(score) and len(kpi) >= 6
    assert kpi == cmp == score
    assert sum(kpi.values()) > 0.5 * len(samples)  # not vacuous


def test_r04_holds_the_sample_near_its_long_edge(samples_path):
    """The test world's R04 counts 1,481 samples (the count kpi and compare always gave)."""
    samples = pd.read_parquet(samples_path)
    masks = region_masks(gpd.read_file(T / "regions.gpkg"), samples["lon"], samples["lat"])
    assert int(masks["R04"].sum()) == 1481


def test_reprojection_follows_a_long_lon_lat_edge():
    """A point 0.5 m inside a 20 km edge that is straight in lon/lat stays inside after reprojection to UTM."""
    lon0, lon1, lat0, lat1 = -3.3, -3.06, 40.40, 40.60
    tri = gpd.GeoDataFrame({"region_id": ["t"]}, geometry=[Polygon([(lon0, lat0), (lon1, lat1), (lon1, lat0)])],
                           crs="EPSG:4326")  # hypotenuse: straight in degrees, curved in UTM
    t = 0.37
    lon, lat = lon0 + t * (lon1 - lon0), lat0 + t * (lat1 - lat0)
    inside_lon = lon + 0.5 / 85_000.0  # 0.5 m east of the edge: inside the triangle
    utm = reproject_regions(tri, "EPSG:32630")
    m_file = region_masks(tri, np.array([inside_lon]), np.array([lat]))["t"]
    m_utm = region_masks(utm, np.array([inside_lon]), np.array([lat]))["t"]
    assert m_file[0] and m_utm[0]
    plain = tri.to_crs("EPSG:32630")  # vertex-only reprojection: the edge moves by metres, the cause of the bug
    assert utm.geometry[0].hausdorff_distance(plain.geometry[0]) > 1.0
