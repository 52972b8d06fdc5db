"""GPS tracks (GPX, NMEA) and their time join onto a log without positions (``--track``)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netqa.cli import main
from netqa.errors import LogFormatError
from netqa.ingest import ingest_logs
from netqa.ingest.track import Track, read_gpx, read_nmea, read_track

DATA = Path(__file__).resolve().parents[1] / "data" / "logs" / "track"
LOG, MAPPING = DATA / "scanner.csv", DATA / "scanner.toml"
NS = 1_000_000_000


@pytest.mark.parametrize("name", ["drive.gpx", "drive.nmea"])
def test_track_points(name):
    t = read_track(DATA / name)
    assert len(t) == 10 and t.n_fixes == 9
    assert t.time[0] == pd.Timestamp("2024-07-01T10:00:00Z").value
    assert t.lat[:2] == pytest.approx([51.89, 51.8901], abs=1e-6)
    assert t.lon[:2] == pytest.approx([-8.47, -8.4701], abs=1e-6)
    assert not t.fix[7] and np.isnan(t.lat[7])  # the no-fix epoch at 10:00:31


def test_nmea_bad_checksum_is_skipped():
    t = read_nmea(DATA / "drive.nmea")
    assert t.skipped == {"bad checksum": 1}
    assert np.nanmax(t.lat) < 52  # the altered sentence (52 deg 53') was not used
    assert pd.Timestamp("2024-07-01T10:00:03.5Z").value not in t.time


@pytest.mark.parametrize("name", ["drive.gpx", "drive.nmea"])
def test_join_places_and_quarantines(tmp_path, name):
    res = ingest_logs([LOG], tmp_path / "s.parquet", fmt=str(MAPPING), track=DATA / name)
    assert (res.n_read, res.n_accepted, res.n_rejected) == (8, 4, 4)
    s = pd.read_parquet(res.out)
    assert s["source_line"].tolist() == [3, 4, 5, 8]
    assert s.lat.tolist() == pytest.approx([51.89, 51.89025, 51.8905, 51.89325], abs=1e-6)
    assert s.lon.tolist() == pytest.approx([-8.47, -8.47025, -8.4705, -8.47325], abs=1e-6)
    assert s.gps_interpolated.tolist() == [False, True, False, True]
    r = pd.read_csv(res.rejects_path)
    why = dict(zip(r["line"], r["reason"]))
    assert "before the GPS track" in why[2]
    assert "25.0 s gap" in why[6] and "--track-max-gap-s 10" in why[6]
    assert "not interpolated across a non-fix" in why[7]
    assert "after the GPS track" in why[9]


def test_longer_gap_flag_interpolates_the_gap(tmp_path):
    res = ingest_logs([LOG], tmp_path / "s.parquet", fmt=str(MAPPING), track=DATA / "drive.gpx", track_max_gap_s=30)
    s = pd.read_parquet(res.out)
    row = s[s.source_line == 6].iloc[0]  # 10:00:10, 5 s into the 25 s gap from (51.8905, -8.4705) to (51.8930, -8.4730)
    assert row.lat == pytest.approx(51.8905 + 0.2 * 0.0025) and row.lon == pytest.approx(-8.4705 - 0.2 * 0.0025)
    assert 7 not in set(s.source_line)  # never across the non-fix, whatever the gap limit


def test_antimeridian():
    t = Track(np.array([0, 2 * NS]), np.array([0.0, 0.0]), np.array([179.9, -179.9]), np.array([True, True]))
    _lat, lon, interp, reason = t.locate(np.array([NS]))
    assert abs(abs(lon[0]) - 180.0) < 1e-9 and interp[0] and reason[0] is None


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-80, 80), min_size=2, max_size=8), st.floats(0, 1))
def test_interpolated_points_lie_between_fixes(lats, w):
    n = len(lats)
    tt = np.arange(n, dtype=np.int64) * NS
    t = Track(tt, np.array(lats), np.zeros(n), np.ones(n, bool))
    q = np.array([int(w * (n - 1) * NS)])
    lat, _, _, reason = t.locate(q)
    k = min(int(q[0] // NS), n - 2)
    assert reason[0] is None
    assert min(lats[k], lats[k + 1]) - 1e-9 <= lat[0] <= max(lats[k], lats[k + 1]) + 1e-9


def test_gga_without_rmc(tmp_path):
    p = tmp_path / "gga.nmea"
    p.write_text("$GNGGA,100000.00,5153.4000,N,00828.2000,W,1,09,0.9,20.0,M,55.0,M,,*55\n")
    with pytest.raises(LogFormatError, match="no RMC sentence"):
        read_nmea(p)


def test_malformed_gpx(tmp_path):
    p = tmp_path / "bad.gpx"
    p.write_text('<?xml version="1.0"?><gpx><trk><trkseg><trkpt lat="1" lon="2">')
    with pytest.raises(LogFormatError, match="not well-formed GPX"):
        read_gpx(p)


def test_not_a_track(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("hello\n")
    with pytest.raises(LogFormatError, match="neither GPX"):
        read_track(p)


def test_log_without_positions_needs_a_track(tmp_path):
    with pytest.raises(LogFormatError, match="needs --track"):
        ingest_logs([LOG], tmp_path / "s.parquet", fmt=str(MAPPING))


def test_cli_track(tmp_path, capsys):
    rc = main(["ingest", str(LOG), "--format", str(MAPPING), "--track", str(DATA / "drive.nmea"), "--out", str(tmp_path / "s.parquet")])
    assert rc == 0
    assert "read 8, accepted 4, rejected 4" in capsys.readouterr().out


def test_track_replaces_own_positions(tmp_path, caplog):
    log = tmp_path / "withpos.csv"
    log.write_text("time,lat,lon,rsrp_dbm\n2024-07-01T10:00:01Z,10.0,10.0,-90\n")
    res = ingest_logs([log], tmp_path / "s.parquet", fmt="netqa", track=DATA / "drive.gpx")
    s = pd.read_parquet(res.out)
    assert (s.lat.iloc[0], s.lon.iloc[0]) == pytest.approx((51.8901, -8.4701))
    assert "replaces them" in caplog.text


def test_nemo_with_external_track(tmp_path):
    nmf = Path(__file__).resolve().parents[1] / "data" / "logs" / "nemo" / "drive_lte.nmf"
    # the GPX track is on another day: every Nemo sample lies outside it and is rejected with that reason
    res = ingest_logs([nmf], tmp_path / "s.parquet", track=DATA / "drive.gpx")
    r = pd.read_csv(res.rejects_path)
    assert res.n_accepted == 0 and r["reason"].str.contains("before the GPS track").sum() == 6


def test_project_file_track(tmp_path):
    from netqa.config import load_project

    proj = tmp_path / "p.toml"
    proj.write_text(f"[inputs]\nlogs = [{str(LOG)!r}]\n[ingest]\nformat = {str(MAPPING)!r}\ntrack = {str(DATA / 'drive.gpx')!r}\ntrack_max_gap_s = 30\n")
    cfg = load_project(proj)
    assert cfg.ingest.track == DATA / "drive.gpx" and cfg.ingest.track_max_gap_s == 30.0


def test_track_interpolations_are_counted(tmp_path):
    res = ingest_logs([LOG], tmp_path / "s.parquet", fmt=str(MAPPING), track=DATA / "drive.gpx")
    assert res.n_interpolated == 2
