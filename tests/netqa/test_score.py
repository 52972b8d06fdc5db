"""netqa score: per-region indicators, zonal statistics, complaints, outputs, resume, bad input."""

from __future__ import annotations


import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine

from netqa.cli import main as cli_main
from netqa.errors import CRSError, InputError, OutputExistsError
from netqa.score import RegionRepairWarning, load_regions, pixel_fractions, score_regions
from netqa.kpi import compute_kpis, load_profile
from netqa.score.synthetic import CRS_EPSG, X0, Y0, make_world

THR = load_profile("lte")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return make_world(tmp_path_factory.mktemp("world"), k=3, n_samples=3000)


@pytest.fixture(scope="module")
def scored(world, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "scores.gpkg"
    res = score_regions(world.regions, out, samples=world.samples, coverage=world.coverage, complaints=world.complaints, cells=world.cells)
    return res


def _samples_in_regions(world):
    s = pd.read_parquet(world.samples)
    pts = gpd.GeoDataFrame(s, geometry=gpd.points_from_xy(s["lon"], s["lat"]), crs=4326).to_crs(CRS_EPSG)
    reg = gpd.read_file(world.regions)
    return gpd.sjoin(pts, reg[["region_id", "geometry"]], predicate="within", how="inner")


# --- field test ------------------------------------------------------------------------------
@pytest.mark.parametrize("column", ["n_samples", "coverage_rate", "rsrp_dbm_p50", "sinr_db_mean", "dl_mbps_p10"])
def test_measured_kpis_match_hand_spatial_join(world, scored, column):
    joined = _samples_in_regions(world)
    got = scored.table.set_index("region_id")
    col = column if column == "n_samples" else f"{column}_measured"
    for rid, grp in joined.groupby("region_id"):
        want = compute_kpis(pd.DataFrame(grp.drop(columns="geometry")), None, "lte")[column]
        assert got.loc[rid, col] == pytest.approx(want, rel=1e-9), rid


def test_events_are_counted_per_region(world, scored):
    ev = pd.read_parquet(world.events)
    pts = gpd.GeoDataFrame(ev, geometry=gpd.points_from_xy(ev["lon"], ev["lat"]), crs=4326).to_crs(CRS_EPSG)
    reg = gpd.read_file(world.regions)
    j = gpd.sjoin(pts, reg[["region_id", "geometry"]], predicate="within")
    want = j[j["event"] == "ho_attempt"].groupby("region_id").size()
    got = scored.table.set_index("region_id")["n_ho_attempts"]
    assert got.loc[want.index].tolist() == want.tolist()


# --- simulation: area-weighted zonal statistics --------------------------------------------------
def test_predicted_coverage_equals_hand_pixel_count(world, scored):
    with rasterio.open(world.coverage) as ds:
        rsrp, sinr, t = ds.read(1), ds.read(3), ds.transform
    got = scored.table.set_index("region_id")
    px = world.side_m / t.a
    for i in range(3):
        for j in range(3):
            rows = slice(int(rsrp.shape[0] - (i + 1) * px), int(rsrp.shape[0] - i * px))
            cols = slice(int(j * px), int((j + 1) * px))
            cov = (rsrp[rows, cols] >= THR.rsrp_dbm_min) & (sinr[rows, cols] >= THR.sinr_db_min)
            assert got.loc[f"R{i}{j}", "coverage_rate_predicted"] == pytest.approx(cov.mean(), abs=1e-12)
            assert got.loc[f"R{i}{j}", "raster_covered_share"] == pytest.approx(1.0)


def _slow_fractions(geom, t, shape):
    out = np.zeros(shape)
    for r in range(shape[0]):
        for c in range(shape[1]):
            x0, y1 = t @ (c, r)
            out[r, c] = shapely.box(x0, y1 + t.e, x0 + t.a, y1).intersection(geom).area / abs(t.a * t.e)
    return out


@pytest.mark.parametrize(
    "geom",
    [
        pytest.param(shapely.Point(5.3, 4.1).buffer(3.2, quad_segs=16), id="circle"),
        pytest.param(shapely.Polygon([(0.2, 0.3), (9.7, 1.1), (4.4, 9.6)]), id="triangle"),
        pytest.param(shapely.box(1.25, 1.5, 8.75, 3.0).union(shapely.box(6.1, 2.0, 7.9, 9.9)), id="L-shape"),
    ],
)
def test_pixel_fractions_match_slow_reference(geom):
    t = Affine(1.0, 0.0, 0.0, 0.0, -1.0, 10.0)
    fast = pixel_fractions(geom, t, (10, 10))
    np.testing.assert_allclose(fast, _slow_fractions(geom, t, (10, 10)), atol=1e-12)
    assert fast.sum() == pytest.approx(geom.area, rel=1e-12)


def test_partial_raster_reports_covered_share(tmp_path):
    w = make_world(tmp_path / "w", k=3, n_samples=300, raster="partial")
    res = score_regions(w.regions, tmp_path / "s.gpkg", samples=w.samples, coverage=w.coverage)
    t = res.table.set_index("region_id")
    assert t.loc["R10", "raster_covered_share"] == pytest.approx(1.0)
    assert t.loc["R11", "raster_covered_share"] == pytest.approx(0.5)
    assert bool(t.loc["R11", "coverage_partial"]) and "covers 50.0%" in t.loc["R11", "notes"]
    assert t.loc["R12", "raster_covered_share"] == 0.0
    assert pd.isna(t.loc["R12", "coverage_rate_predicted"])
    assert "does not cover" in t.loc["R12", "notes"]
    assert "coverage_rate_predicted (raster covers 0%" in t.loc["R12", "basis_coverage"]


def test_capacity_sums_to_network_capacity(world, scored):
    """Regions tile the raster, so their capacities add up to the cells' capacities."""
    from propagation import truncated_shannon_bps_hz

    with rasterio.open(world.coverage) as ds:
        best, sinr = ds.read(2), ds.read(3)
    total = sum(bw * truncated_shannon_bps_hz(sinr[best == k].astype(float)).mean() for k, bw in ((0, 20.0), (1, 10.0)))
    assert scored.table["capacity_mbps_predicted"].sum() == pytest.approx(total, rel=1e-9)


def test_agreement_columns_compare_methods_on_driven_pixels(scored):
    t = scored.table
    assert t["coverage_agreement"].between(0, 1).all()
    diff = t["coverage_rate_measured_driven"] - t["coverage_rate_predicted_driven"]
    np.testing.assert_allclose(t["coverage_rate_diff_driven"], diff)


# --- user feedback --------------------------------------------------------------------------------
def test_complaints_per_km2_and_weak_share_by_hand(world, scored):
    c = pd.read_csv(world.complaints)
    pts = gpd.GeoDataFrame(c, geometry=gpd.points_from_xy(c["lon"], c["lat"]), crs=4326).to_crs(CRS_EPSG)
    with rasterio.open(world.coverage) as ds:
        vals = np.array(list(ds.sample(zip(pts.geometry.x, pts.geometry.y), indexes=[1, 3])))
    pts["weak"] = (vals[:, 0] < THR.rsrp_dbm_min) | (vals[:, 1] < THR.sinr_db_min)
    reg = gpd.read_file(world.regions)
    j = gpd.sjoin(pts, reg[["region_id", "geometry"]], predicate="within")
    got = scored.table.set_index("region_id")
    for rid, grp in j.groupby("region_id"):
        assert got.loc[rid, "complaints_n"] == len(grp)
        assert got.loc[rid, "complaints_per_km2"] == pytest.approx(len(grp) / 1.0)
        assert got.loc[rid, "complaints_slow_data_per_km2"] == pytest.approx((grp["category"] == "slow_data").sum())
        assert got.loc[rid, "complaints_weak_predicted_share"] == pytest.approx(grp["weak"].mean())
        n = got.loc[rid, "n_samples"]
        assert got.loc[rid, "complaints_per_1000_samples"] == pytest.approx(len(grp) * 1000.0 / n)


# --- outputs ---------------------------------------------------------------------------------------
def test_outputs_written_with_all_columns(scored):
    gpkg = scored.paths["gpkg"]
    layer = gpd.read_file(gpkg, layer="scores")
    assert len(layer) == 9 and layer.crs.to_epsg() == CRS_EPSG
    for col in ("coverage_rate_measured", "coverage_rate_predicted", "drop_rate", "score_overall", "grade_overall", "rank", "basis_speed"):
        assert col in layer.columns
    csv = pd.read_csv(scored.paths["csv"])
    assert set(layer.columns) - {"geometry"} <= set(csv.columns) and "geometry_wkt" in csv.columns
    assert scored.paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not any(p.name.startswith(".") for p in gpkg.parent.iterdir())  # no temp leftovers


def test_refuses_to_overwrite_without_flag(world, scored):
    with pytest.raises(OutputExistsError, match="--overwrite"):
        score_regions(world.regions, scored.paths["gpkg"], samples=world.samples)


def test_cli_writes_scorecards_and_maps_bad_input_to_exit_2(world, tmp_path, capsys):
    out = tmp_path / "cli.gpkg"
    rc = cli_main(["-q", "score", "--regions", str(world.regions), "--samples", str(world.samples), "--coverage", str(world.coverage),
                   "--complaints", str(world.complaints), "--out", str(out)])  # fmt: skip
    assert rc == 0 and out.exists() and out.with_suffix(".csv").exists()
    rc = cli_main(["-q", "score", "--regions", str(tmp_path / "missing.gpkg"), "--out", str(tmp_path / "x.gpkg")])
    assert rc == 2 and "missing.gpkg" in capsys.readouterr().err


# --- bad input ---------------------------------------------------------------------------------------
def _regions(tmp_path, geoms, ids=None, crs=CRS_EPSG, name="r.gpkg"):
    ids = ids or [f"A{i}" for i in range(len(geoms))]
    gdf = gpd.GeoDataFrame({"region_id": ids, "name": ids, "area_type": "urban"}, geometry=geoms, crs=crs)
    p = tmp_path / name
    gdf.to_file(p, driver="GPKG" if name.endswith(".gpkg") else None)
    return p


BOWTIE = shapely.Polygon([(X0, Y0), (X0 + 1000, Y0 + 1000), (X0 + 1000, Y0), (X0, Y0 + 1000)])


def test_self_intersecting_polygon_is_repaired_with_warning(tmp_path):
    p = _regions(tmp_path, [BOWTIE, shapely.box(X0, Y0, X0 + 10, Y0 + 10)])
    with pytest.warns(RegionRepairWarning, match="Self-intersection"):
        reg = load_regions(p)
    assert reg["status"].tolist() == ["repaired", "ok"]
    assert reg.geometry.iloc[0].is_valid and reg["area_km2"].iloc[0] == pytest.approx(0.5)


def test_invalid_polygon_rejected_without_repair(tmp_path):
    reg = load_regions(_regions(tmp_path, [BOWTIE]), repair=False)
    assert reg["status"].iloc[0] == "failed" and "Self-intersection" in reg["notes"].iloc[0]


@pytest.mark.parametrize(
    "geom, status",
    [pytest.param(shapely.Polygon(), "empty", id="empty-geometry"), pytest.param(shapely.Point(X0, Y0), "failed", id="point")],
)
def test_unusable_region_is_kept_in_its_row_not_fatal(world, tmp_path, geom, status):
    p = _regions(tmp_path, [shapely.box(X0, Y0, X0 + 1000, Y0 + 1000), geom])
    res = score_regions(p, tmp_path / "s.gpkg", samples=world.samples, coverage=world.coverage)
    t = res.table.set_index("region_id")
    assert t.loc["A1", "status"] == status and pd.isna(t.loc["A1", "score_overall"])
    assert t.loc["A0", "status"] == "ok" and t.loc["A0", "n_samples"] > 0


def test_duplicate_region_ids_rejected(tmp_path):
    p = _regions(tmp_path, [shapely.box(0, 0, 1, 1)] * 3, ids=["X", "Y", "X"])
    with pytest.raises(InputError, match=r"duplicate region_id 'X' on rows \[1, 3\]"):
        load_regions(p)


def test_regions_without_crs_rejected(tmp_path):
    p = tmp_path / "r.geojson"
    p.write_text('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"region_id":"A"},'
                 '"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}')  # fmt: skip
    gdf = gpd.read_file(p).set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match="no CRS"):
        load_regions(gdf)


def test_regions_in_another_crs_give_the_same_scores(world, scored, tmp_path):
    wgs = gpd.read_file(world.regions).to_crs(4326)
    p = tmp_path / "wgs84.geojson"
    wgs.to_file(p, driver="GeoJSON")
    res = score_regions(p, tmp_path / "s.gpkg", samples=world.samples, coverage=world.coverage, complaints=world.complaints, cells=world.cells)
    a = res.table.set_index("region_id")
    b = scored.table.set_index("region_id")
    assert (a["n_samples"] == b["n_samples"]).all()
    np.testing.assert_allclose(a["coverage_rate_predicted"], b["coverage_rate_predicted"], atol=2e-3)


def test_no_samples_in_region_reported_and_not_scored_as_zero(world, tmp_path):
    far = shapely.box(X0 + 50_000, Y0, X0 + 51_000, Y0 + 1000)
    p = _regions(tmp_path, [shapely.box(X0, Y0, X0 + 1000, Y0 + 1000), far])
    res = score_regions(p, tmp_path / "s.gpkg", samples=world.samples, coverage=world.coverage)
    t = res.table.set_index("region_id")
    assert t.loc["A1", "n_samples"] == 0 and t.loc["A1", "status"] == "no_data"
    assert pd.isna(t.loc["A1", "coverage_rate_measured"]) and pd.isna(t.loc["A1", "score_overall"])
    assert "no samples in the region" in t.loc["A1", "notes"]


def test_one_failing_region_recorded_and_batch_goes_on(world, tmp_path, monkeypatch):
    import netqa.score.indicators as ind

    real = ind.zonal_indicators

    def boom(info, geom, *a, **k):
        if geom.bounds[0] > X0 + 1500:
            raise RuntimeError("corrupt tile")
        return real(info, geom, *a, **k)

    monkeypatch.setattr(ind, "zonal_indicators", boom)
    res = score_regions(world.regions, tmp_path / "s.gpkg", samples=world.samples, coverage=world.coverage)
    t = res.table.set_index("region_id")
    assert t.loc["R02", "status"] == "failed" and "corrupt tile" in t.loc["R02", "error"]
    assert res.n_failed == 3 and (t.loc[["R00", "R01"], "status"] == "ok").all()


# --- resume --------------------------------------------------------------------------------------------
def test_resume_after_interrupted_run_skips_done_regions(world, scored, tmp_path):
    out = tmp_path / "s.gpkg"
    done = []

    def interrupt(rid):
        done.append(rid)
        if len(done) == 4:
            raise KeyboardInterrupt

    kw = dict(samples=world.samples, coverage=world.coverage, complaints=world.complaints, cells=world.cells)
    with pytest.raises(KeyboardInterrupt):
        score_regions(world.regions, out, on_region_done=interrupt, **kw)
    assert not out.exists() and len(list((tmp_path / "s.gpkg.parts").glob("*.json"))) == 4
    res = score_regions(world.regions, out, **kw)
    assert (res.n_resumed, res.n_computed) == (4, 5)
    assert not (tmp_path / "s.gpkg.parts").exists()
    pd.testing.assert_frame_equal(_plain(res.table), _plain(scored.table))


def _plain(gdf):
    return pd.DataFrame(gdf.drop(columns="geometry")).reset_index(drop=True)


# --- trends --------------------------------------------------------------------------------------------
def test_trends_per_campaign_with_change_flag(tmp_path):
    rng = np.random.default_rng(1)
    n = 400
    good = rng.uniform(0, 1, n) < 0.98
    worse = rng.uniform(0, 1, n) < 0.70
    same = rng.uniform(0, 1, n) < 0.98
    from pyproj import Transformer

    inv = Transformer.from_crs(CRS_EPSG, 4326, always_xy=True)
    frames = []
    for lab, cov_ok, xoff in (("c1", good, 0), ("c2", worse, 0), ("c1", good, 2000), ("c2", same, 2000)):
        lon, lat = inv.transform(X0 + xoff + rng.uniform(10, 990, n), Y0 + rng.uniform(10, 990, n))
        frames.append(pd.DataFrame({"lat": lat, "lon": lon, "campaign": lab, "rsrp_dbm": np.where(cov_ok, -80.0, -120.0), "sinr_db": 10.0}))
    s = tmp_path / "s.csv"
    pd.concat(frames).to_csv(s, index=False)
    p = _regions(tmp_path, [shapely.box(X0, Y0, X0 + 1000, Y0 + 1000), shapely.box(X0 + 2000, Y0, X0 + 3000, Y0 + 1000)])
    res = score_regions(p, tmp_path / "o.gpkg", samples=s)
    tr = res.trends[(res.trends["indicator"] == "coverage_rate") & (res.trends["campaign"] == "c2")].set_index("region_id")
    assert tr.loc["A0", "change"] < -0.2 and bool(tr.loc["A0", "change_flag"])
    assert not tr.loc["A1", "change_flag"]
    assert (res.table["n_campaigns"] == 2).all()
    assert pd.read_csv(res.paths["trends_csv"]).shape[0] == len(res.trends)


# --- KPI definitions: netqa.kpi's, computed for many regions at once -----------------------------
def _drive_world(tmp_path):
    """The committed test world's three drives (canonical CSV) and their events, as one file each."""
    from pathlib import Path

    d = Path(__file__).resolve().parents[2] / "testdata" / "drives"
    s = pd.concat([pd.read_csv(p, comment="#") for p in sorted(d.glob("d*_*.csv")) if ".events" not in p.name], ignore_index=True)
    e = pd.concat([pd.read_csv(p, comment="#") for p in sorted(d.glob("d*_*.events.csv"))], ignore_index=True)
    s.to_csv(tmp_path / "samples.csv", index=False)
    e.to_csv(tmp_path / "events.csv", index=False)
    return tmp_path / "samples.csv", tmp_path / "events.csv", d.parent / "regions.gpkg"


def test_test_world_kpis_equal_netqa_kpi_by_region(tmp_path):
    """Every measured KPI of every test-world region equals netqa.kpi on a hand spatial join.

    The join is done in the metric CRS that scoring works in (the regions'
    edges are straight lines there, not in lon/lat); regions overlap.
    """
    from netqa.schema import KPI_KEYS

    s_path, e_path, r_path = _drive_world(tmp_path)
    res = score_regions(r_path, tmp_path / "s.gpkg", samples=s_path, events=e_path)
    reg = load_regions(r_path)[["region_id", "geometry"]]
    s, e = pd.read_csv(s_path), pd.read_csv(e_path)
    sj, ej = (gpd.sjoin(gpd.GeoDataFrame(t, geometry=gpd.points_from_xy(t["lon"], t["lat"]), crs=4326).to_crs(reg.crs), reg, predicate="within")
              for t in (s, e))  # fmt: skip
    want = {rid: compute_kpis(pd.DataFrame(sj[sj["region_id"] == rid]), pd.DataFrame(ej[ej["region_id"] == rid]), "lte") for rid in reg["region_id"]}
    got = res.table.set_index("region_id")
    assert got["n_samples"].sum() > 1000 and got["n_ho_attempts"].sum() > 0
    for rid, k in want.items():
        for key in KPI_KEYS:
            if key == "coverage_rate_ci":
                cols, vals = ["coverage_rate_ci_low_measured", "coverage_rate_ci_high_measured"], k[key] or [None, None]
            else:
                cols, vals = [key if key.startswith("n_") or key.endswith("_rate") and key != "coverage_rate" else f"{key}_measured"], [k[key]]
                cols = [c if c in got.columns else key for c in cols]
            for c, v in zip(cols, vals):
                g = got.loc[rid, c]
                if v is None:
                    assert pd.isna(g), (rid, c)
                else:
                    assert g == pytest.approx(v, rel=1e-12, abs=1e-12), (rid, c)


def test_grouped_kpis_bit_equal_to_compute_kpis():
    """The vectorised pass reproduces netqa.kpi.compute_kpis exactly, group by group (edge groups included)."""
    from netqa.score._kpi import EVENT_NAMES, SAMPLE_VALUE_COLUMNS, event_codes, grouped_kpis, period_bits

    rng = np.random.default_rng(3)
    sizes = [0, 1, 2, 3, 7, 50, 1000, 5]
    n = sum(sizes)
    df = pd.DataFrame({"rsrp_dbm": rng.normal(-100, 10, n), "sinr_db": rng.normal(3, 6, n), "rsrq_db": rng.normal(-10, 2, n),
                       "dl_mbps": rng.uniform(0, 50, n), "ul_mbps": rng.uniform(0, 10, n),
                       "activity": rng.choice(["download", "upload", None, "idle"], n),
                       "connected": rng.choice([True, False, None], n)})  # fmt: skip
    df.loc[rng.uniform(size=n) < 0.1, "rsrp_dbm"] = np.nan
    df.loc[rng.uniform(size=n) < 0.1, "sinr_db"] = np.nan
    offs = np.concatenate([[0], np.cumsum(sizes)])
    df.loc[offs[5] : offs[6] - 1, "sinr_db"] = np.nan  # a group without SINR: judged on RSRP alone
    df.loc[offs[4] : offs[5] - 1, ["activity", "connected"]] = None  # a group without state: every sample is a period
    ev = pd.DataFrame({"event": rng.choice(list(EVENT_NAMES) + ["rrc_setup"], 300)})
    eoffs = np.concatenate([[0], np.cumsum([0, 10, 0, 40, 50, 100, 100, 0])])
    cols = {c: df[c].to_numpy(float) for c in SAMPLE_VALUE_COLUMNS}
    cols["periods"] = period_bits(df)
    got = grouped_kpis(cols, offs, "lte", event_codes(ev["event"]), eoffs)
    for g in range(len(sizes)):
        want = compute_kpis(df.iloc[offs[g] : offs[g + 1]], ev.iloc[eoffs[g] : eoffs[g + 1]], "lte")
        assert got[g] == want, g


def test_profile_thresholds_come_from_netqa_kpi(world, tmp_path):
    prof = tmp_path / "strict.toml"
    prof.write_text('[profile]\nname = "strict"\ntech = "LTE"\n[coverage]\nrsrp_dbm_min = -90.0\nsinr_db_min = 0.0\n')
    a = score_regions(world.regions, tmp_path / "a.gpkg", samples=world.samples, coverage=world.coverage).table
    b = score_regions(world.regions, tmp_path / "b.gpkg", samples=world.samples, coverage=world.coverage, profile=str(prof)).table
    assert (b["coverage_rate_measured"] < a["coverage_rate_measured"]).all()
    assert (b["coverage_rate_predicted"] <= a["coverage_rate_predicted"]).all()


def test_chunks_and_batches_do_not_change_the_table(world, scored, tmp_path, monkeypatch):
    """Samples prepared in 5 row chunks and regions run in batches of 2 give the very same table."""
    import netqa.score.chunks as chunks
    import netqa.score.runner as runner

    monkeypatch.setattr(chunks, "ROWS_PER_CHUNK", 600)
    monkeypatch.setattr(runner, "REGIONS_PER_BATCH", 2)
    assert len(chunks._sample_sources(world.samples, None)[0]) == 5
    res = score_regions(world.regions, tmp_path / "s.gpkg", samples=world.samples, coverage=world.coverage, complaints=world.complaints, cells=world.cells)
    pd.testing.assert_frame_equal(_plain(res.table), _plain(scored.table))
    pd.testing.assert_frame_equal(res.trends, scored.trends)


def test_complaint_neighbourhood_counts_match_kdtree():
    from scipy.spatial import cKDTree

    import netqa.score.chunks as chunks

    rng = np.random.default_rng(5)
    x, y = rng.uniform(0, 2000, 5000), rng.uniform(0, 2000, 5000)
    rsrp, sinr = rng.normal(-105, 8, 5000), rng.normal(0, 5, 5000)
    rsrp[::17] = np.nan
    cx, cy = rng.uniform(-100, 2100, 200), rng.uniform(-100, 2100, 200)
    prep = chunks.ChunkPrep(crs_wkt="", geoms=[], region_batch=np.zeros(0), region_local=np.zeros(0), n_batches=0,
                            profile=load_profile("lte"), complaints_xy=(cx, cy), complaint_radius_m=150.0)  # fmt: skip
    got = chunks._complaint_counts(x, y, rsrp, sinr, prep)
    ok = np.isfinite(rsrp)
    hits = cKDTree(np.column_stack([x[ok], y[ok]])).query_ball_point(np.column_stack([cx, cy]), r=150.0)
    r_ok, s_ok = rsrp[ok], sinr[ok]
    want = np.array([[len(h), (r_ok[h] >= -110).sum(), len(h), ((r_ok[h] >= -110) & (s_ok[h] >= -3)).sum()] for h in hits]).T
    np.testing.assert_array_equal(got, want)


def test_cli_no_repair_rejects_invalid_polygon_in_its_row(world, tmp_path):
    p = _regions(tmp_path, [BOWTIE, shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)])
    out = tmp_path / "nr.gpkg"
    assert cli_main(["-q", "score", "--regions", str(p), "--samples", str(world.samples), "--no-repair", "--out", str(out)]) == 0
    t = gpd.read_file(out, layer="scores").set_index("region_id")
    assert t.loc["A0", "status"] == "failed" and "Self-intersection" in t.loc["A0", "notes"]
    assert t.loc["A1", "status"] == "ok" and t.loc["A1", "n_samples"] > 0


# --- offered traffic from a raster -------------------------------------------------------------------------
def _traffic_tif(path, crs, width_m, density, x0=X0, y0=Y0, extent_m=3000.0, pixel_m=100.0):
    w, h = int(width_m / pixel_m), int(extent_m / pixel_m)
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32", crs=crs,
                       transform=Affine(pixel_m, 0, x0, 0, -pixel_m, y0 + extent_m), nodata=-1.0) as ds:  # fmt: skip
        ds.write(np.full((1, h, w), density, dtype="float32"))
        ds.set_band_description(1, "offered_traffic_mbps_per_km2")
    return path


@pytest.mark.parametrize("crs", [pytest.param(CRS_EPSG, id="same-crs"), pytest.param(25832, id="other-crs")])
def test_traffic_raster_gives_offered_traffic_and_load(world, scored, tmp_path, crs):
    t = _traffic_tif(tmp_path / "traffic.tif", crs, 1500.0, 40.0)  # covers the left half of the area
    res = score_regions(world.regions, tmp_path / "s.gpkg", samples=world.samples, coverage=world.coverage, cells=world.cells, traffic_raster=t)
    g = res.table.set_index("region_id")
    assert g.loc["R10", "offered_traffic_mbps"] == pytest.approx(40.0, rel=1e-3)  # 1 km² × 40 Mbit/s/km²
    assert g.loc["R11", "offered_traffic_mbps"] == pytest.approx(20.0, rel=1e-3) and g.loc["R11", "traffic_covered_share"] == pytest.approx(0.5, rel=1e-3)
    assert pd.isna(g.loc["R12", "offered_traffic_mbps"]) and pd.isna(g.loc["R12", "load_predicted"])
    assert g.loc["R10", "load_predicted"] == pytest.approx(40.0 / g.loc["R10", "capacity_mbps_predicted"], rel=1e-3)
    assert "traffic raster covers 50.0%" in g.loc["R11", "notes"]


def test_campaign_window_cuts_campaigns_from_time_for_samples_and_events(world, tmp_path, monkeypatch):
    """--campaign-window MS: campaigns from sample and event time, the same in 5 chunks as in one."""
    import netqa.score.chunks as chunks

    kw = dict(samples=world.samples, campaign_window="MS")
    one = score_regions(world.regions, tmp_path / "a.gpkg", **kw).trends
    monkeypatch.setattr(chunks, "ROWS_PER_CHUNK", 600)
    five = score_regions(world.regions, tmp_path / "b.gpkg", **kw).trends
    pd.testing.assert_frame_equal(one, five)
    assert sorted(one["campaign"].unique()) == ["2024-01", "2024-02"]
    calls = one[one["indicator"] == "drop_rate"]["n"]
    assert calls.notna().all() and calls.sum() > 0  # events fall in the campaigns too


def test_batch_raster_block_gives_the_same_zonal_statistics(world):
    """Pixels sliced from one batch-wide read equal a read of each region's own window."""
    from netqa.score.zonal import open_coverage, read_block, zonal_indicators

    info = open_coverage(world.coverage)
    geoms = [shapely.box(X0 + 130, Y0 + 70, X0 + 1210, Y0 + 990), shapely.Point(X0 + 2500, Y0 + 2500).buffer(700.0),
             shapely.box(X0 + 2900, Y0 - 200, X0 + 3400, Y0 + 300)]  # the last one partly outside the raster  # fmt: skip
    with rasterio.open(world.coverage) as ds:
        block = read_block(info, ds, [g.bounds for g in geoms])
        assert block is not None
        for g in geoms:
            a = zonal_indicators(info, g, g.area, THR, ds=ds)
            b = zonal_indicators(info, g, g.area, THR, ds=ds, block=block)
            assert a == b
