"""Ingest: readers, normalisation, outputs (small synthetic logs, the test world and the real Cork logs)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netqa.errors import ConfigError
from netqa.ingest import builtin_mapping, detect_format, ingest_logs, load_mapping, read_log
from netqa.ingest.normalise import interpolate_positions

REPO = Path(__file__).resolve().parents[2]
TESTDATA = REPO / "testdata"
# ../shared beside a clone; a worktree under /work/wt/NAME finds it two levels up
CORK = next((p for p in ((REPO / ".." / "shared" / "realdata" / "uccmisl-5g-cork").resolve(),
                         (REPO.parents[1] / "shared" / "realdata" / "uccmisl-5g-cork").resolve()) if p.is_dir()),
            (REPO / ".." / "shared" / "realdata" / "uccmisl-5g-cork").resolve())

GNT_HEADER = "Timestamp,Longitude,Latitude,Speed,Operatorname,CellID,NetworkMode,RSRP,RSRQ,SNR,CQI,RSSI,DL_bitrate,UL_bitrate,State,PINGAVG,PINGMIN,PINGMAX,PINGSTDEV,PINGLOSS,CELLHEX,NODEHEX,LACHEX,RAWCELLID,NRxRSRP,NRxRSRQ\n"


def gnt_row(ts, lon, lat, rsrp=-90, cell=11016972, state="D", dl=9675, mode="LTE"):
    return f"{ts},{lon},{lat},31,B,12,{mode},{rsrp},-9,10.0,15,-77,{dl},87,{state},-,-,-,-,-,C,A81B,9CBA,{cell},-97.0,-5.0\n"


@pytest.fixture
def gnt_log(tmp_path):
    rows = [
        gnt_row("2020.07.01_10.00.00", -8.40, 51.90),
        gnt_row("2020.07.01_10.00.01", -8.40, 51.90),
        gnt_row("2020.07.01_10.00.02", -8.40, 51.90),
        gnt_row("2020.07.01_10.00.03", -8.40, 51.90, cell=11016973),
        gnt_row("2020.07.01_10.00.04", -8.36, 51.94, cell=11016973),
        gnt_row("2020.07.01_10.00.05", -8.36, 51.94, cell=11016974, state="I"),
        gnt_row("2020.07.01_10.10.00", -8.30, 51.95, cell=11016974, rsrp="-"),
        gnt_row("2020.07.01_10.10.01", -8.30, 51.95, rsrp=-200),
    ]
    p = tmp_path / "B_2020.07.01_10.00.00.csv"
    p.write_text(GNT_HEADER + "".join(rows))
    return p


def test_detect_formats(gnt_log):
    assert detect_format(gnt_log).name == "gnettrack"
    assert detect_format(REPO / "tests" / "data" / "logs" / "good.csv").name == "netqa"


def test_gnettrack_reader_units_tech_time_and_tz(tmp_path, gnt_log):
    res = ingest_logs([gnt_log], tmp_path / "s.parquet", tz="Europe/Dublin")
    assert (res.n_read, res.n_accepted, res.n_rejected) == (8, 7, 1)
    s = pd.read_parquet(res.out)
    # Dublin summer time is UTC+1
    assert s["time"].iloc[0] == pd.Timestamp("2020-07-01T09:00:00Z")
    assert s["dl_mbps"].iloc[0] == pytest.approx(9.675)
    assert s["ul_mbps"].iloc[0] == pytest.approx(0.087)
    assert set(s["tech"]) == {"LTE"}
    assert s["cell_id"].iloc[0] == "11016972"
    assert np.isnan(s["rsrp_dbm"].iloc[6])  # '-' is missing, the row is kept
    assert s["activity"].iloc[0] == "download" and s["activity"].iloc[5] == "idle"


def test_gnettrack_session_split_on_gap(tmp_path, gnt_log):
    res = ingest_logs([gnt_log], tmp_path / "s.parquet", gap_s=120)
    s = pd.read_parquet(res.out)
    assert res.n_sessions == 2
    assert s["session"].tolist()[:6] == ["B_2020.07.01_10.00.00"] * 6
    assert s["session"].iloc[6] == "B_2020.07.01_10.00.00-s2"


def test_gnettrack_stale_gps_interpolated(tmp_path, gnt_log):
    res = ingest_logs([gnt_log], tmp_path / "s.parquet")
    s = pd.read_parquet(res.out)
    # fix at 10:00:00 (51.90) and the next at 10:00:04 (51.94): rows 1-3 move 1/4 of the way per second
    assert s["lat"].iloc[:5].tolist() == pytest.approx([51.90, 51.91, 51.92, 51.93, 51.94])
    assert s["gps_interpolated"].iloc[:5].tolist() == [False, True, True, True, False]


def test_handover_derived_in_connected_state_only(tmp_path, gnt_log):
    res = ingest_logs([gnt_log], tmp_path / "s.parquet")
    ev = pd.read_parquet(res.events_path)
    ho = ev[ev["event"] == "ho_success"]
    # 72 -> 73 in connected state; 73 -> 74 lands on an idle row (reselection, not a handover)
    assert ho[["cell_id", "target_cell_id"]].values.tolist() == [["11016972", "11016973"]]
    assert (ev["event"] == "ho_attempt").sum() == 1


def test_geoparquet_points_epsg4326(tmp_path, gnt_log):
    gpd = pytest.importorskip("geopandas")
    res = ingest_logs([gnt_log], tmp_path / "s.parquet")
    g = gpd.read_parquet(res.out)
    assert g.crs.to_epsg() == 4326
    assert (g.geometry.geom_type == "Point").all()
    assert np.allclose(g.geometry.x, g["lon"]) and np.allclose(g.geometry.y, g["lat"])


def test_interpolate_positions_not_across_segments():
    t = np.arange(4, dtype=np.int64) * 1_000_000_000
    lat = np.array([0.0, 0.0, 1.0, 1.0])
    la, lo, moved = interpolate_positions(t, lat, lat.copy(), np.array([0, 0, 1, 1]))
    assert not moved.any() and la.tolist() == lat.tolist()


def test_networksurvey_lte_file(tmp_path):
    p = tmp_path / "craxiom-lte-20230601-101500.csv"
    p.write_text(
        "# CSV Version=0.5.0\n"
        "deviceTime,latitude,longitude,altitude,speed,accuracy,missionId,recordNumber,groupNumber,mcc,mnc,tac,eci,earfcn,pci,rsrp,rsrq,ta,servingCell,provider\n"
        "2023-06-01T10:15:00.000-04:00,38.8977,-77.0365,20.0,10.0,5,NS mission 1,1,1,310,410,1234,12345678,5230,101,-95,-11,3,true,AT&T\n"
        "2023-06-01T10:15:00.000-04:00,38.8977,-77.0365,20.0,10.0,5,NS mission 1,2,1,310,410,,,5230,202,-105,-14,,false,AT&T\n"
        "2023-06-01T10:15:01.000-04:00,38.8978,-77.0364,20.0,10.0,5,NS mission 1,3,2,310,410,1234,12345678,5230,101,-96,-12,3,true,AT&T\n"
    )
    assert detect_format(p).name == "networksurvey"
    res = ingest_logs([p], tmp_path / "s.parquet")
    assert (res.n_read, res.n_accepted, res.n_rejected) == (3, 2, 1)
    s = pd.read_parquet(res.out)
    assert s["time"].iloc[0] == pd.Timestamp("2023-06-01T14:15:00Z")
    assert set(s["tech"]) == {"LTE"} and s["speed_kmh"].iloc[0] == pytest.approx(36.0)
    assert s["pci"].iloc[0] == 101 and s["session"].iloc[0] == "NS mission 1"
    rej = pd.read_csv(res.rejects_path)
    assert rej["reason"].str.contains("neighbour-cell record").all()


def test_user_mapping_toml(tmp_path):
    m = tmp_path / "mytool.toml"
    m.write_text(
        '[format]\nname = "mytool"\ndelimiter = ";"\nmissing = ["NA"]\n'
        '[time]\ncolumn = "When"\nformat = "%d/%m/%Y %H:%M:%S"\ntimezone = "Asia/Tokyo"\n'
        '[columns]\nLat = "lat"\nLon = "lon"\nLevel = "rsrp_dbm"\nDown = "dl_mbps"\nRat = "tech"\n'
        '[units]\ndl_mbps = "kbit/s"\n[values.tech]\n"L" = "LTE"\n'
    )
    log = tmp_path / "x.log"
    log.write_text("When;Lat;Lon;Level;Down;Rat\n01/02/2024 09:00:00;35.6;139.7;-88;2500;L\n01/02/2024 09:00:01;35.6;139.7;NA;NA;L\n")
    res = ingest_logs([log], tmp_path / "s.parquet", fmt=str(m))
    s = pd.read_parquet(res.out)
    assert res.n_accepted == 2
    assert s["time"].iloc[0] == pd.Timestamp("2024-02-01T00:00:00Z")
    assert s["dl_mbps"].iloc[0] == pytest.approx(2.5) and s["tech"].iloc[0] == "LTE"
    assert np.isnan(s["rsrp_dbm"].iloc[1])


@pytest.mark.parametrize(
    "text,fragment",
    [
        ('[columns]\nA = "nonsense"\n', "unknown canonical name"),
        ('[time]\ncolumn = "T"\n[columns]\nA = "lat"\n[units]\ndl_mbps = "furlongs"\n', "unknown unit"),
        ("not toml = = =\n", "not a valid TOML"),
        ('[colums]\nA = "lat"\n', "unknown table"),
    ],
    ids=["bad-target", "bad-unit", "bad-toml", "typo-table"],
)
def test_bad_mapping_file(tmp_path, text, fragment):
    p = tmp_path / "m.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=fragment):
        load_mapping(p)


def test_ready_mappings_load():
    for name in ("netqa", "gnettrack", "networksurvey"):
        assert builtin_mapping(name).name == name


def test_explicit_events_companion_and_session_relabel(tmp_path):
    log = tmp_path / "d1.csv"
    rows = ["time,lat,lon,session,tech,cell_id,rsrp_dbm,rsrq_db,sinr_db,dl_mbps,ul_mbps\n"]
    for i in range(4):
        rows.append(f"2024-03-01T10:00:0{i}Z,51.9,-8.4,d1,LTE,A,-90,-10,10,,\n")
    rows.append("2024-03-01T11:00:00Z,51.9,-8.4,d1,LTE,B,-90,-10,10,,\n")
    log.write_text("".join(rows))
    (tmp_path / "d1.events.csv").write_text(
        "time,lat,lon,session,event,cell_id,target_cell_id\n"
        "2024-03-01T10:00:01Z,51.9,-8.4,d1,call_attempt,A,\n"
        "2024-03-01T11:00:00Z,51.9,-8.4,d1,call_drop,B,\n"
        "2024-03-01T11:00:00Z,51.9,-8.4,d1,teleport,B,\n"
    )
    res = ingest_logs([log], tmp_path / "s.parquet")
    ev = pd.read_parquet(res.events_path)
    assert (res.n_events_read, res.n_events_accepted, res.n_events_rejected) == (3, 2, 1)
    assert ev["session"].tolist() == ["d1", "d1-s2"]
    assert res.n_events_derived == 0  # explicit events: nothing derived


def test_cells_matching_by_id_and_pci(tmp_path):
    log = tmp_path / "d.csv"
    log.write_text(
        "time,lat,lon,tech,cell_id,pci,earfcn,rsrp_dbm\n"
        "2024-03-01T10:00:00Z,51.90,-8.40,LTE,C1,,,-90\n"
        "2024-03-01T10:00:01Z,51.90,-8.40,LTE,,7,100,-90\n"
        "2024-03-01T10:00:02Z,51.90,-8.40,LTE,ZZ,,,-90\n"
    )
    cells = pd.DataFrame({"cell_id": ["C1", "C2", "C3"], "lat": [51.9, 51.91, 53.0], "lon": [-8.4, -8.41, -6.0],
                          "pci": [1, 7, 7], "earfcn": [100, 100, 100]})
    res = ingest_logs([log], tmp_path / "s.parquet", cells=cells)
    s = pd.read_parquet(res.out)
    assert s["cell_id"].tolist()[:2] == ["C1", "C2"] and pd.isna(s["cell_id"].iloc[2])
    assert s["log_cell_id"].iloc[2] == "ZZ"
    assert (res.n_cells_matched, res.n_cells_unmatched) == (2, 1)


def test_read_log_in_memory(gnt_log):
    samples, events, rejects = read_log(gnt_log)
    assert len(samples) == 7 and len(rejects) >= 1 and set(events["event"]) == {"ho_attempt", "ho_success"}


def test_block_boundaries_do_not_change_results(tmp_path, gnt_log):
    a = ingest_logs([gnt_log], tmp_path / "a.parquet")
    b = ingest_logs([gnt_log], tmp_path / "b.parquet", block_bytes=150)
    sa, sb = pd.read_parquet(a.out), pd.read_parquet(b.out)
    pd.testing.assert_frame_equal(sa, sb)
    assert (a.n_read, a.n_accepted, a.n_rejected) == (b.n_read, b.n_accepted, b.n_rejected)


# ------------------------------------------------------------------ test world


def _world_logs():
    return sorted(p for p in (TESTDATA / "drives").glob("*.csv") if ".events." not in p.name) if (TESTDATA / "drives").is_dir() else []


def _truth():
    import json

    return json.loads((TESTDATA / "truth.json").read_text())


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    if not _world_logs() or not (TESTDATA / "truth.json").is_file():
        pytest.skip("test world (testdata/drives, truth.json) not generated yet")
    out = tmp_path_factory.mktemp("world") / "s.parquet"
    cells = TESTDATA / "cells.csv"
    return ingest_logs(_world_logs(), out, cells=cells if cells.is_file() else None)


def test_world_canonical_logs_every_row_accounted(world):
    truth = _truth()["sessions"]
    assert world.n_read == world.n_accepted + world.n_rejected
    assert world.n_read == sum(v["n_samples"] for v in truth.values())
    assert not world.files_failed
    s = pd.read_parquet(world.out)
    assert s["rsrp_dbm"].dropna().between(-156, -31).all()
    assert set(s["session"]) == set(truth)
    assert s.groupby("session")["time"].apply(lambda t: t.is_monotonic_increasing).all()
    for name, v in truth.items():
        assert s.loc[s["session"] == name, "time"].min() == pd.Timestamp(v["start_utc"])


def test_world_explicit_events_kept(world):
    truth = _truth()["sessions"]
    ev = pd.read_parquet(world.events_path)
    assert world.n_events_derived == 0 and world.n_events_rejected == 0
    for name, v in truth.items():
        got = ev[ev["session"] == name]["event"].value_counts().to_dict()
        assert got == v["events"]


def test_world_serving_cells_matched(world):
    if world.n_cells_matched is None:
        pytest.skip("testdata/cells.csv not generated yet")
    assert world.n_cells_unmatched == 0 and world.n_cells_matched == world.n_accepted


@pytest.mark.skipif(not (TESTDATA / "drives" / "gnettrack").is_dir(), reason="test world G-NetTrack logs not generated yet")
def test_world_gnettrack_matches_canonical(tmp_path, world):
    files = sorted((TESTDATA / "drives" / "gnettrack").glob("*.csv"))
    g = ingest_logs(files, tmp_path / "g.parquet", tz=_truth().get("timezone", "Europe/Madrid"))
    assert g.n_read == g.n_accepted + g.n_rejected == world.n_read
    a = pd.read_parquet(world.out).set_index(["session", "time"])
    b = pd.read_parquet(g.out).set_index(["session", "time"])
    assert b.index.equals(a.index)  # local Madrid time -> the same UTC instants
    assert (b["rsrp_dbm"] - a["rsrp_dbm"]).abs().max() <= 0.5  # G-NetTrack rounds to 1 dB
    assert g.n_events_derived > 0  # no events file: handovers derived from cell changes


# ------------------------------------------------------------------ real Cork logs


@pytest.fixture(scope="module")
def cork(tmp_path_factory):
    if not CORK.is_dir():
        pytest.skip(f"real data not available at {CORK}")
    out = tmp_path_factory.mktemp("cork") / "cork.parquet"
    files = sorted(CORK.glob("Download/*/*.csv"))
    return files, ingest_logs(files, out, tz="Europe/Dublin")


@pytest.mark.realdata
def test_cork_counts_reconcile(cork):
    files, res = cork
    assert len(files) == 21 and res.n_read == 43208
    assert res.n_read == res.n_accepted + res.n_rejected
    assert not res.files_failed and res.n_sessions >= 21


@pytest.mark.realdata
def test_cork_minus_200_rsrp_rows_rejected(cork):
    _, res = cork
    rej = pd.read_csv(res.rejects_path)
    r = rej[(rej["column"] == "rsrp_dbm") & (rej["action"] == "rejected")]
    assert len(r) == 3 and set(r["value"].astype(float)) == {-200.0}
    assert r["file"].str.endswith("B_2019.12.14_10.16.30.csv").all()
    assert sorted(r["line"]) == [560, 561, 562]


@pytest.mark.realdata
def test_cork_ranges_and_timestamps(cork):
    _, res = cork
    s = pd.read_parquet(res.out)
    assert s["lat"].between(51.88, 51.96).all() and s["lon"].between(-8.51, -8.38).all()
    assert s["time"].min() >= pd.Timestamp("2019-12-01", tz="UTC") and s["time"].max() <= pd.Timestamp("2020-03-01", tz="UTC")
    assert set(s["tech"].dropna()) <= {"NR", "LTE", "UMTS"}
    assert s["dl_mbps"].max() < 2000  # kbit/s converted


@pytest.mark.realdata
def test_cork_interpolated_positions_lie_between_fixes(cork):
    _, res = cork
    s = pd.read_parquet(res.out)
    d = s[s["session"] == "B_2019.12.16_07.22.43"].reset_index(drop=True)
    assert d["gps_interpolated"].mean() > 0.5  # stale GPS most of the time
    fix = ~d["gps_interpolated"]
    prev_lat = d["lat"].where(fix).ffill()
    next_lat = d["lat"].where(fix).bfill()
    lo, hi = np.minimum(prev_lat, next_lat), np.maximum(prev_lat, next_lat)
    inner = d["gps_interpolated"] & prev_lat.notna() & next_lat.notna()
    assert ((d["lat"][inner] >= lo[inner] - 1e-12) & (d["lat"][inner] <= hi[inner] + 1e-12)).all()
