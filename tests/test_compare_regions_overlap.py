"""One rule for samples in overlapping regions: ``netqa compare`` counts a sample in every region holding it, as kpi.

The test world's A-31 corridor (R06) lies over the suburbs R02 and the rural south R05.  Before, compare gave each
sample to its first region only and placed calls through the usable samples only (R05 20 calls vs kpi's 21: a call
whose samples lie outside the DEM; R06 12 vs 18).
"""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from netqa.compare.regional import _disjoint_layers, region_members
from netqa.compare.run import CompareConfig, compare
from netqa.kpi import compute_kpis_by_region

TESTDATA = Path(__file__).resolve().parents[1] / "testdata"
SESSIONS = ("d1_highway_valdera", "d2_valdera_sotillo", "d3_north_loop")
REGION_IDS = ("R01", "R02", "R03", "R04", "R05", "R06")


@pytest.fixture(scope="module")
def world():
    samples = pd.concat([pd.read_csv(TESTDATA / "drives" / f"{s}.csv") for s in SESSIONS], ignore_index=True)
    events = pd.concat([pd.read_csv(TESTDATA / "drives" / f"{s}.events.csv") for s in SESSIONS], ignore_index=True)
    return samples, events, gpd.read_file(TESTDATA / "regions.gpkg")


@pytest.fixture(scope="module")
def run(world, tmp_path_factory):
    samples, events, _ = world
    out = tmp_path_factory.mktemp("cmp_regions")
    stats = compare(samples, TESTDATA / "cells.csv", TESTDATA / "dem.tif", out, events=events,
                    regions=TESTDATA / "regions.gpkg", config=CompareConfig(plots=False))  # fmt: skip
    return stats, pd.read_parquet(out / "residuals.parquet")


@pytest.fixture(scope="module")
def kpi(world):
    samples, events, regions = world
    return compute_kpis_by_region(samples, events, regions)


def test_the_test_world_has_overlapping_regions(world):
    samples, _, regions = world
    members = region_members(regions, samples["lon"].to_numpy(), samples["lat"].to_numpy())
    shared = members["R06"] & (members["R02"] | members["R05"])
    assert shared.sum() > 100


@pytest.mark.parametrize("rid", REGION_IDS)
@pytest.mark.parametrize("count, kpi_key", [("n_calls", "n_calls"), ("n_drops_measured", "n_drops")])
def test_per_region_calls_and_drops_equal_kpi(run, kpi, rid, count, kpi_key):
    stats, _ = run
    assert stats["drop_rate"]["per_region"][rid][count] == kpi[rid][kpi_key]


@pytest.mark.parametrize("rid", REGION_IDS)
def test_per_region_compared_samples_equal_kpi_on_the_same_samples(run, rid):
    stats, res = run
    compared = res[res["compared"]].reset_index(drop=True)
    regions = gpd.read_file(TESTDATA / "regions.gpkg")
    assert stats["per_region"][rid]["n"] == compute_kpis_by_region(compared, None, regions)[rid]["n_samples"]


def test_shared_samples_count_in_both_regions(run):
    stats, res = run
    labels = res.loc[res["compared"], "region"].dropna()
    assert {"R02,R06", "R05,R06"} <= set(labels)
    pairs = int(labels.str.split(",").str.len().sum())  # (sample, region) pairs: the corridor's samples twice
    assert sum(v["n"] for v in stats["per_region"].values()) == pairs > len(labels)


def test_residual_region_column_lists_every_holding_region(run, world):
    _, res = run
    _, _, regions = world
    members = region_members(regions, res["lon"].to_numpy(), res["lat"].to_numpy())
    for rid, mask in members.items():
        listed = res["region"].fillna("").str.split(",").apply(lambda ids, r=rid: r in ids).to_numpy()
        np.testing.assert_array_equal(listed, mask, err_msg=rid)


@pytest.mark.parametrize("rid", REGION_IDS)
def test_throughput_per_region_counts_every_holding_region(run, rid):
    stats, res = run
    inside = res["region"].fillna("").str.split(",").apply(lambda ids: rid in ids)
    expected = int((res["compared"] & inside & res["dl_measured_mbps"].notna()).sum())
    assert stats["dl_mbps"]["per_region"][rid]["n"] == expected > 0


def test_averaged_block_has_every_region(run):
    stats, _ = run
    assert set(stats["rsrp_averaged"]["per_region"]) == set(REGION_IDS)


def test_region_members_counts_a_point_in_every_holding_region():
    regions = gpd.GeoDataFrame({"region_id": ["A", "B", "C"]},
                               geometry=[box(0, 0, 2, 2), box(1, 0, 3, 2), box(10, 10, 11, 11)], crs="EPSG:4326")  # fmt: skip
    lon, lat = np.array([0.5, 1.5, 2.5, 5.0, np.nan]), np.array([1.0, 1.0, 1.0, 1.0, 1.0])
    got = {k: v.tolist() for k, v in region_members(regions, lon, lat).items()}
    assert got == {"A": [True, True, False, False, False], "B": [False, True, True, False, False],
                   "C": [False] * 5}  # fmt: skip


@pytest.mark.parametrize(
    "masks, layers",
    [({"A": [1, 0, 0], "B": [0, 1, 0]}, [["A", "B"]]),
     ({"A": [1, 1, 0], "B": [0, 1, 1], "C": [0, 0, 1]}, [["A", "C"], ["B"]]),
     ({"A": [1, 1, 1], "B": [1, 0, 0], "C": [0, 1, 0]}, [["A"], ["B", "C"]])],
    ids=["disjoint", "chain", "one-over-two"],
)  # fmt: skip
def test_disjoint_layers_put_overlapping_regions_apart(masks, layers):
    members = {k: np.array(v, bool) for k, v in masks.items()}
    got = _disjoint_layers(members)
    assert got == layers
    for layer in got:  # within a layer no sample has two regions
        assert np.sum([members[r] for r in layer], axis=0).max() <= 1
