"""KPIs against hand-computed values on small tables; JSON keys exactly as DESIGN.md names them."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from netqa.errors import ConfigError
from netqa.kpi import EXTRA_KPI_KEYS, compute_kpis, compute_kpis_by_region, linear_mean_dbm, load_profile, spatial_bins, wilson_interval
from netqa.schema import KPI_KEYS

DESIGN_KPI_KEYS = [
    "n_samples", "coverage_rate", "coverage_rate_ci",
    "rsrp_dbm_mean", "rsrp_dbm_p5", "rsrp_dbm_p50", "rsrp_dbm_p95",
    "sinr_db_mean", "sinr_db_p5", "sinr_db_p50", "sinr_db_p95",
    "rsrq_db_mean", "rsrq_db_p5", "rsrq_db_p50", "rsrq_db_p95",
    "dl_mbps_mean", "dl_mbps_p10", "dl_mbps_p50", "dl_mbps_p90",
    "ul_mbps_mean", "ul_mbps_p10", "ul_mbps_p50", "ul_mbps_p90",
    "n_calls", "n_drops", "drop_rate", "n_ho_attempts", "n_ho_success", "ho_success_rate",
]


@pytest.fixture
def samples():
    return pd.DataFrame({
        "time": pd.date_range("2024-03-01", periods=5, freq="s", tz="UTC"),
        "lat": [51.90, 51.90, 51.91, 51.91, 51.92],
        "lon": [-8.40, -8.40, -8.41, -8.41, -8.42],
        "tech": ["LTE"] * 5,
        "rsrp_dbm": [-80.0, -90.0, -100.0, -115.0, np.nan],
        "rsrq_db": [-8.0, -10.0, -12.0, -14.0, -9.0],
        "sinr_db": [20.0, 10.0, -5.0, 0.0, 3.0],
        "dl_mbps": [50.0, 40.0, 30.0, 20.0, 10.0],
        "ul_mbps": [5.0, 4.0, np.nan, np.nan, np.nan],
        "activity": ["download", "download", "download", "idle", "upload"],
    })


@pytest.fixture
def events():
    ev = ["call_attempt"] * 4 + ["call_setup_failure"] + ["call_drop"] + ["call_end"] * 2 + ["ho_attempt"] * 4 + ["ho_success"] * 3 + ["ho_failure"]
    return pd.DataFrame({"time": pd.Timestamp("2024-03-01", tz="UTC"), "lat": 51.9, "lon": -8.4, "event": ev})


def test_kpi_keys_exactly_as_design(samples):
    k = compute_kpis(samples)
    assert list(KPI_KEYS) == DESIGN_KPI_KEYS
    assert list(k) == DESIGN_KPI_KEYS + list(EXTRA_KPI_KEYS)


def test_coverage_rate_and_wilson(samples):
    k = compute_kpis(samples, profile="lte")
    # evaluated: rows with RSRP and SINR (4); covered: -80/20 and -90/10 (the -100 row has SINR -5 < -3)
    assert (k["n_covered"], k["n_coverage_samples"]) == (2, 4)
    assert k["coverage_rate"] == 0.5
    assert k["coverage_rate_ci"] == pytest.approx(wilson_interval(2, 4))
    assert k["n_samples"] == 5


def test_wilson_reference_values():
    # Newcombe (1998), Stat. Med. 17:857, Table I: 81/263 -> 0.2553..0.3662; 15/148 -> 0.0624..0.1605
    assert wilson_interval(81, 263) == pytest.approx([0.2553, 0.3662], abs=1e-4)
    assert wilson_interval(15, 148) == pytest.approx([0.0624, 0.1605], abs=1e-4)
    assert wilson_interval(0, 0) is None


def test_rsrp_mean_in_linear_domain(samples):
    k = compute_kpis(samples)
    mw = np.mean(10 ** (np.array([-80.0, -90, -100, -115]) / 10))
    assert k["rsrp_dbm_mean"] == pytest.approx(10 * np.log10(mw))
    assert k["rsrp_dbm_mean"] > np.mean([-80.0, -90, -100, -115])
    assert k["rsrp_dbm_p50"] == pytest.approx(-95.0)
    assert k["sinr_db_mean"] == pytest.approx(np.mean([20.0, 10, -5, 0, 3]))
    assert linear_mean_dbm([]) is None


def test_throughput_over_download_and_upload_periods_only(samples):
    k = compute_kpis(samples)
    assert k["dl_mbps_mean"] == pytest.approx(40.0)  # rows 0-2 are download periods
    assert k["dl_mbps_p50"] == pytest.approx(40.0)
    assert k["dl_mbps_p10"] == pytest.approx(32.0)
    assert k["n_dl_samples"] == 3
    assert k["ul_mbps_mean"] is None and k["n_ul_samples"] == 0  # upload row has no UL value


def test_throughput_without_activity_uses_measured_values():
    k = compute_kpis(pd.DataFrame({"rsrp_dbm": [-90.0, -90.0, -90.0], "dl_mbps": [10.0, np.nan, 30.0]}))
    assert k["dl_mbps_mean"] == 20.0 and k["n_dl_samples"] == 2


def test_drop_and_handover_rates(samples, events):
    k = compute_kpis(samples, events)
    # set-up calls = 4 attempts - 1 set-up failure = 3; 1 drop
    assert (k["n_calls"], k["n_drops"]) == (3, 1)
    assert k["drop_rate"] == pytest.approx(1 / 3)
    assert (k["n_ho_attempts"], k["n_ho_success"]) == (4, 3)
    assert k["ho_success_rate"] == 0.75


def test_rates_without_denominator_are_null(samples):
    k = compute_kpis(samples.iloc[0:0])
    assert k["coverage_rate"] is None and k["coverage_rate_ci"] is None
    assert k["drop_rate"] is None and k["ho_success_rate"] is None
    assert k["n_samples"] == 0 and k["rsrp_dbm_mean"] is None
    json.dumps(k)  # JSON-ready


def test_nr_profile_threshold(samples):
    s = samples.assign(rsrp_dbm=[-104.0, -106.0, -50.0, -50.0, np.nan], sinr_db=[0.0, 0.0, 0.0, 0.0, 0.0])
    assert compute_kpis(s, profile="nr")["n_covered"] == 3
    assert compute_kpis(s, profile="lte")["n_covered"] == 4


def test_custom_profile_toml(tmp_path):
    p = tmp_path / "strict.toml"
    p.write_text('[profile]\nname = "strict"\ntech = "LTE"\n[coverage]\nrsrp_dbm_min = -95.0\nsinr_db_min = 0.0\n')
    prof = load_profile(p)
    assert (prof.rsrp_dbm_min, prof.sinr_db_min, prof.name) == (-95.0, 0.0, "strict")
    assert prof.watch["window_s"] == 60.0  # inherited from the built-in LTE profile


@pytest.mark.parametrize("text,fragment", [
    ('[coverage]\nrsrp_dbm_min = 10\nsinr_db_min = 0\n', "outside -160..-30"),
    ('[coverrage]\n', "unknown table"),
    ('[watch]\nwindow = 5\n', "unknown key"),
], ids=["rsrp-range", "typo-table", "watch-key"])
def test_bad_profile(tmp_path, text, fragment):
    p = tmp_path / "p.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=fragment):
        load_profile(p)


def test_per_region(samples, events):
    gpd = pytest.importorskip("geopandas")
    from shapely.geometry import box

    regions = gpd.GeoDataFrame({"region_id": ["A", "B", "C"]},
                               geometry=[box(-8.405, 51.895, -8.395, 51.905), box(-8.43, 51.905, -8.405, 51.93), box(0, 0, 1, 1)], crs="EPSG:4326")
    ev = events.assign(lat=51.90, lon=-8.40)
    out = compute_kpis_by_region(samples, ev, regions)
    assert set(out) == {"A", "B", "C"}
    assert out["A"]["n_samples"] == 2 and out["B"]["n_samples"] == 3
    assert out["A"]["ho_success_rate"] == 0.75 and out["B"]["ho_success_rate"] is None
    assert out["C"]["n_samples"] == 0 and out["C"]["coverage_rate"] is None


def test_a_sample_on_a_shared_edge_counts_in_both_regions_as_in_score(samples):
    gpd = pytest.importorskip("geopandas")
    from shapely.geometry import box

    from netqa.score.points import assign_points

    edge = samples.iloc[:1].assign(lat=51.90, lon=-8.40)  # on the boundary between A and B
    regions = gpd.GeoDataFrame({"region_id": ["A", "B"]},
                               geometry=[box(-8.41, 51.89, -8.40, 51.91), box(-8.40, 51.89, -8.39, 51.91)], crs="EPSG:4326")  # fmt: skip
    out = compute_kpis_by_region(edge, None, regions)
    assert out["A"]["n_samples"] == 1 and out["B"]["n_samples"] == 1
    p, r = assign_points(edge["lon"].to_numpy(), edge["lat"].to_numpy(), list(regions.geometry))
    assert sorted(r.tolist()) == [0, 1]


def test_spatial_bins_linear_average_and_min_samples(samples):
    pytest.importorskip("geopandas")
    b = spatial_bins(samples, size_m=50.0, min_samples=2)
    assert list(b["n"]) == [2, 2] or sorted(b["n"]) == [2, 2]
    first = b.sort_values("rsrp_dbm_mean", ascending=False).iloc[0]
    assert first["rsrp_dbm_mean"] == pytest.approx(10 * math.log10((1e-8 + 1e-9) / 2))


def test_cli_kpi_writes_json_with_regions(tmp_path, samples, events):
    gpd = pytest.importorskip("geopandas")
    from shapely.geometry import box

    from netqa.cli import main

    s = tmp_path / "s.csv"
    samples.to_csv(s, index=False)
    e = tmp_path / "e.csv"
    events.to_csv(e, index=False)
    reg = tmp_path / "r.gpkg"
    gpd.GeoDataFrame({"region_id": ["A"]}, geometry=[box(-9, 51, -8, 52)], crs="EPSG:4326").to_file(reg)
    out = tmp_path / "k.json"
    assert main(["kpi", str(s), "--events", str(e), "--regions", str(reg), "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert [k for k in doc if k in KPI_KEYS] == list(KPI_KEYS)
    assert doc["drop_rate"] == pytest.approx(1 / 3) and doc["regions"]["A"]["n_samples"] == 5
    assert len(doc["cdf"]["rsrp_dbm"]["value"]) == 101
    assert main(["kpi", str(s), "--out", str(out)]) == 2  # exists, no --overwrite
    bins = tmp_path / "b.gpkg"
    assert main(["kpi", str(s), "--out", str(out), "--overwrite", "--bin-m", "50", "--bins-out", str(bins)]) == 0
    assert len(gpd.read_file(bins)) == 0  # the profile's minimum of 5 samples per bin
    assert main(["kpi", str(s), "--out", str(out), "--overwrite", "--bin-m", "50", "--bins-out", str(bins), "--bin-min-samples", "2"]) == 0
    assert sorted(gpd.read_file(bins)["n"]) == [2, 2]


# ------------------------------------------------------------------ test world and Cork, end to end

from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TESTDATA = REPO / "testdata"
CORK = (REPO / ".." / "shared" / "realdata" / "uccmisl-5g-cork").resolve()


@pytest.mark.skipif(not (TESTDATA / "truth.json").is_file() or not (TESTDATA / "drives").is_dir(), reason="test world not generated yet")
def test_world_ingest_then_kpi_matches_truth_counts(tmp_path):
    from netqa.cli import main

    truth = json.loads((TESTDATA / "truth.json").read_text())["sessions"]
    logs = [str(p) for p in sorted((TESTDATA / "drives").glob("*.csv")) if ".events." not in p.name]
    assert main(["ingest", *logs, "--out", str(tmp_path / "s.parquet"), "-q"]) == 0
    args = ["kpi", str(tmp_path / "s.parquet"), "--out", str(tmp_path / "k.json"), "-q"]
    if (TESTDATA / "regions.gpkg").is_file():
        args += ["--regions", str(TESTDATA / "regions.gpkg")]
    assert main(args) == 0
    k = json.loads((tmp_path / "k.json").read_text())
    ev = {e: sum(v["events"].get(e, 0) for v in truth.values()) for e in ("call_attempt", "call_setup_failure", "call_drop", "ho_attempt", "ho_success")}
    assert k["n_samples"] == sum(v["n_samples"] for v in truth.values())
    assert k["n_calls"] == ev["call_attempt"] - ev["call_setup_failure"]
    assert k["n_drops"] == ev["call_drop"] and k["drop_rate"] == pytest.approx(ev["call_drop"] / k["n_calls"])
    assert (k["n_ho_attempts"], k["n_ho_success"]) == (ev["ho_attempt"], ev["ho_success"])
    assert 0 <= k["coverage_rate_ci"][0] <= k["coverage_rate"] <= k["coverage_rate_ci"][1] <= 1
    if "regions" in k:
        assert sum(r["n_samples"] for r in k["regions"].values()) <= k["n_samples"]


@pytest.mark.realdata
@pytest.mark.skipif(not CORK.is_dir(), reason="real data not available")
def test_cork_ingest_then_kpi(tmp_path):
    from netqa.ingest import ingest_logs, load_events, load_samples

    res = ingest_logs(sorted(CORK.glob("Download/Driving/*.csv")), tmp_path / "c.parquet", tz="Europe/Dublin")
    k = compute_kpis(load_samples(res.out), load_events(res.events_path), "lte")
    assert k["n_samples"] == res.n_accepted
    assert k["drop_rate"] is None and k["n_calls"] == 0  # no call events in these logs
    assert k["n_ho_attempts"] > 0 and k["ho_success_rate"] == 1.0  # derived from serving-cell changes
    assert k["ul_mbps_mean"] is None  # no upload periods (State D = download only)
    assert -110 < k["rsrp_dbm_p50"] < -60 and k["dl_mbps_p50"] > 0
