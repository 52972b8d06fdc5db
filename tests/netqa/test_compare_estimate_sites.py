"""Estimated sites: the method on synthetic drives with a known site, then the Cork experiment (skipped without the data)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netqa.compare.estimate_sites import (
    enb_of,
    estimate_sites,
    estimated_cell_table,
    measured_cell_stats,
    run_estimated_sites,
    split_sessions,
)
from netqa.grid import to_geographic

REPO = Path(__file__).resolve().parents[2]
CORK = (REPO / ".." / "shared" / "realdata" / "uccmisl-5g-cork").resolve()
CRS = "EPSG:32629"
SITE_XY = (520_000.0, 5_750_000.0)


def _drive(seed=3, n=3000, slope_n=3.5, sigma_db=4.0):
    """One eNB (id 1000: cells 256000..256002) at SITE_XY, samples on a 4 x 4 km grid of roads around it."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(-2000, 2000, n)
    road = rng.integers(-4, 5, n) * 500.0
    horiz = rng.random(n) < 0.5
    x = SITE_XY[0] + np.where(horiz, t, road) + 250.0
    y = SITE_XY[1] + np.where(horiz, road, t) + 250.0
    d_km = np.sqrt((x - SITE_XY[0]) ** 2 + (y - SITE_XY[1]) ** 2 + 25.0**2) / 1000.0
    rsrp = -95.0 - 10 * slope_n * np.log10(d_km) + rng.normal(0, sigma_db, n)
    lon, lat = to_geographic(x, y, CRS)
    return pd.DataFrame({"time": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(np.arange(n), "s"),
                         "lat": lat, "lon": lon, "session": np.where(np.arange(n) < n // 2, "s1", "s2"),
                         "tech": np.where(rng.random(n) < 0.3, "NR", "LTE"), "cell_id": (256000 + rng.integers(0, 3, n)).astype(str),
                         "rsrp_dbm": rsrp, "sinr_db": 5.0, "dl_mbps": 10.0})  # fmt: skip


def _dist_m(lat, lon):
    from netqa.grid import to_projected

    x, y = to_projected(np.array([lon]), np.array([lat]), CRS)
    return float(np.hypot(np.asarray(x)[0] - SITE_XY[0], np.asarray(y)[0] - SITE_XY[1]))


@pytest.mark.parametrize("method, tol_m", [("logdistance", 150.0), ("centroid", 500.0)], ids=["logdistance", "centroid"])
def test_estimate_sites_finds_a_known_site(method, tol_m):
    s = estimate_sites(_drive(), method=method)
    row = s.iloc[0]
    assert len(s) == 1 and row["enb"] == 1000 and row["reason"] == ""
    assert _dist_m(row["lat"], row["lon"]) < tol_m
    if method == "logdistance":
        assert row["slope_n"] == pytest.approx(3.5, abs=0.3)
        assert row["fit_std_db"] == pytest.approx(4.0, abs=1.0)


def test_estimate_sites_refuses_thin_enbs_with_reason():
    d = _drive().iloc[:5]
    s = estimate_sites(d)
    assert np.isnan(s["lat"]).all() and "bins" in s["reason"].iloc[0]
    assert estimated_cell_table(s, d).empty


def test_cell_table_has_design_columns_and_stated_defaults():
    d = _drive()
    cells = estimated_cell_table(estimate_sites(d), d)
    assert sorted(cells["cell_id"]) == ["256000", "256001", "256002"]
    assert (cells["antenna"] == "omni").all() and (cells["tech"] == "LTE").all() and (cells["site_id"] == "ENB1000").all()
    for col in ("height_m", "azimuth_deg", "tx_power_dbm", "freq_mhz", "bandwidth_mhz"):
        assert cells[col].notna().all()


def test_measured_stats_group_by_enb_and_count_other_techs():
    d = _drive()
    d.loc[:99, "tech"] = "UMTS"
    m = measured_cell_stats(d)
    assert m["counts"]["read"] == len(d) == m["counts"]["eutran"] + m["counts"]["other_tech"]
    assert m["n_enb"] == 1 and m["per_enb"][0]["cells"] == 3 and m["per_enb"][0]["n"] == len(d) - 100
    assert sum(c["n"] for c in m["per_cell"]) == m["per_enb"][0]["n"]


def test_enb_of_and_split_sessions():
    assert enb_of(["11016972", 256, None]).tolist() == [43035, 1, -1]
    train, held = split_sessions([f"s{i:02d}" for i in range(8)], every=4)
    assert held == ["s03", "s07"] and len(train) == 6


# ------------------------------------------------------------------ real Cork logs


@pytest.fixture(scope="module")
def cork(tmp_path_factory):
    if not CORK.is_dir():
        pytest.skip(f"real data not available at {CORK}")
    from netqa.ingest import ingest_logs

    d = tmp_path_factory.mktemp("cork_sites")
    res = ingest_logs(sorted(CORK.glob("Download/Driving/*.csv")), d / "cork.parquet", tz="Europe/Dublin")
    return res, run_estimated_sites(res.out, d / "exp"), d / "exp"


@pytest.mark.realdata
def test_cork_counts_reconcile(cork):
    res, r, _ = cork
    m = r["measured"]["counts"]
    assert m["read"] == res.n_accepted == m["eutran"] + m["other_tech"]
    c = r["calibration"]["samples"]
    assert c["read"] == c["used"] + sum(v for k, v in c.items() if k not in ("read", "used"))
    t = r["held_out_tuned"]["samples"]
    assert t["read"] == t["compared"] + sum(v for k, v in t.items() if k not in ("read", "compared") and isinstance(v, int))
    assert c["read"] + t["read"] == m["eutran"]  # train + held-out sessions, E-UTRAN rows only
    assert set(r["sessions"]["train"]).isdisjoint(r["sessions"]["held_out"])


@pytest.mark.realdata
def test_cork_estimated_sites_inside_the_drive_area(cork):
    res, r, d = cork
    s = pd.read_parquet(res.out)
    sites = pd.read_csv(d / "sites.csv")
    est = sites[sites["lat"].notna()]
    assert len(est) >= 10 and r["sites"]["estimated"] == len(est)
    assert (sites.loc[sites["lat"].isna(), "reason"].str.len() > 0).all()
    pad_lat, pad_lon = 3.0 / 111.0, 3.0 / (111.0 * np.cos(np.radians(51.9)))  # 3 km
    assert est["lat"].between(s["lat"].min() - pad_lat, s["lat"].max() + pad_lat).all()
    assert est["lon"].between(s["lon"].min() - pad_lon, s["lon"].max() + pad_lon).all()


@pytest.mark.realdata
def test_cork_fit_plausible_and_held_out_error_reported(cork):
    _, r, d = cork
    assert 20.0 <= r["calibration"]["k2"] <= 60.0
    t = r["held_out_tuned"]
    assert t["n"] > 1000 and np.isfinite(t["std_error_db"]) and np.isfinite(t["mean_error_db"])
    assert json.loads((d / "estimated_sites.json").read_text())["held_out_tuned"]["n"] == t["n"]
    assert any("ESTIMATED" in c for c in r["caveats"]) and any("flat" in c for c in r["caveats"])
