"""Issue 13 item 6: ``netqa kpi`` in bounded memory gives the same figures as reading everything.

The compact reader (:mod:`netqa.kpi_io`) keeps only the KPI columns, about 60 bytes a sample;
the binning works on bin indices instead of per-sample geometry.  Both must leave every KPI,
CDF and bin unchanged.  The 10 M-sample peak is measured by ``benchmarks/bench_kpi.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from netqa.kpi import kpi_report, load_profile, spatial_bins
from netqa.kpi_io import bin_samples, read_kpi_samples


@pytest.fixture(scope="module")
def samples_file(tmp_path_factory):
    rng = np.random.default_rng(3)
    n = 20_000
    act = rng.choice(np.array(["download", "upload", "idle", None], dtype=object), n)
    df = pd.DataFrame({
        "time": pd.Timestamp("2024-05-01", tz="UTC") + pd.to_timedelta(np.arange(n), unit="s"),
        "lat": 40.4 + rng.uniform(0, 0.1, n), "lon": -3.2 + rng.uniform(0, 0.1, n),
        "session": rng.choice(["a", "b"], n), "tech": rng.choice(np.array(["LTE", "NR", None], dtype=object), n),
        "cell_id": rng.integers(1, 50, n).astype(str),
        "rsrp_dbm": np.round(rng.normal(-95, 10, n), 1), "rsrq_db": np.round(rng.normal(-10, 2, n), 1),
        "sinr_db": np.round(rng.normal(8, 6, n), 1), "dl_mbps": rng.uniform(0, 80, n), "ul_mbps": rng.uniform(0, 20, n),
        "activity": act, "connected": pd.array(np.where(act == None, None, act != "idle"), dtype="boolean"),
    })  # fmt: skip
    df.loc[::97, "rsrp_dbm"] = np.nan
    df.loc[::101, ["lat", "lon"]] = np.nan
    path = tmp_path_factory.mktemp("kpimem") / "samples.parquet"
    df.to_parquet(path, row_group_size=4096)
    return path, df


def test_compact_reader_keeps_the_values(samples_file):
    path, df = samples_file
    s = read_kpi_samples(path)
    for c in ("rsrp_dbm", "sinr_db", "rsrq_db", "dl_mbps", "ul_mbps", "lat", "lon"):
        np.testing.assert_array_equal(s[c].to_numpy(), df[c].to_numpy(np.float64))
    for c in ("tech", "activity"):
        def norm(values):
            return [None if pd.isna(v) else str(v) for v in values]

        assert norm(s[c].astype(object)) == norm(df[c])
    assert s["connected"].tolist() == df["connected"].tolist()
    assert s.memory_usage(deep=True).sum() / len(s) < 70  # bytes per sample (all columns read: > 300)


def test_kpi_report_is_unchanged_by_the_compact_reader(samples_file):
    path, df = samples_file
    prof = load_profile("lte")
    compact = kpi_report(read_kpi_samples(path), None, prof)
    full = kpi_report(df, None, prof)
    assert compact == full


def _bins_reference(samples, size_m, min_samples, prof):
    """The former implementation: per-sample points, GeoPandas' UTM estimate, a pandas group-by."""
    import geopandas as gpd

    from netqa.kpi import _col, period_mask

    ok = np.isfinite(_col(samples, "lat")) & np.isfinite(_col(samples, "lon"))
    g = gpd.GeoDataFrame(samples[ok], geometry=gpd.points_from_xy(samples["lon"][ok], samples["lat"][ok]), crs="EPSG:4326")
    xy = g.to_crs(g.estimate_utm_crs())
    d = pd.DataFrame({"bx": np.floor(xy.geometry.x.to_numpy() / size_m).astype(np.int64),
                      "by": np.floor(xy.geometry.y.to_numpy() / size_m).astype(np.int64),
                      "rsrp_mw": 10 ** (_col(g, "rsrp_dbm") / 10), "sinr_db": _col(g, "sinr_db"),
                      "rsrq_db": _col(g, "rsrq_db"),
                      "dl_mbps": np.where(period_mask(g, "download"), _col(g, "dl_mbps"), np.nan)})  # fmt: skip
    rsrp, sinr = _col(g, "rsrp_dbm"), _col(g, "sinr_db")
    with np.errstate(invalid="ignore"):
        d["covered"] = np.where(np.isfinite(rsrp), (rsrp >= prof.rsrp_dbm_min) & ~(sinr < prof.sinr_db_min), np.nan)
    agg = d.groupby(["bx", "by"]).agg(n=("rsrp_mw", "size"), rsrp_mw=("rsrp_mw", "mean"), sinr=("sinr_db", "mean"),
                                      rsrq=("rsrq_db", "mean"), dl=("dl_mbps", "mean"), cov=("covered", "mean"))
    return agg[agg["n"] >= min_samples].reset_index()


@pytest.mark.parametrize("size_m", [100.0, 1000.0])
def test_bins_equal_the_former_group_by(samples_file, size_m):
    path, df = samples_file
    prof = load_profile("lte")
    got = spatial_bins(read_kpi_samples(path), size_m, 3, prof)
    ref = _bins_reference(df, size_m, 3, prof)
    assert len(got) == len(ref) > 10
    np.testing.assert_array_equal(got["n"].to_numpy(), ref["n"].to_numpy())
    np.testing.assert_allclose(got["rsrp_dbm_mean"], 10 * np.log10(ref["rsrp_mw"]), rtol=0, atol=1e-9)
    np.testing.assert_allclose(got["sinr_db_mean"], ref["sinr"], atol=1e-9)
    np.testing.assert_allclose(got["dl_mbps_mean"], ref["dl"], atol=1e-9)
    np.testing.assert_allclose(got["coverage_rate"], ref["cov"], atol=1e-12)


def test_bin_lookup_and_unique_paths_agree(monkeypatch):
    import netqa.kpi_io as kio

    rng = np.random.default_rng(1)
    lon, lat = -3.2 + rng.uniform(0, 0.2, 5000), 40.4 + rng.uniform(0, 0.2, 5000)
    lon[::50] = np.nan
    dense = bin_samples(lon, lat, 250.0)
    monkeypatch.setattr(kio, "DENSE_BINS_MAX", 0)
    sparse = bin_samples(lon, lat, 250.0)
    for a, b in zip(dense[:3], sparse[:3]):
        np.testing.assert_array_equal(a, b)
    assert (dense[0][::50] == -1).all() and (dense[0] >= -1).all()
