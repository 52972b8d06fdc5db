"""Nemo .nmf reader: records, time zone and midnight, GPS placement, rejects with reasons, events."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netqa.cli import main
from netqa.errors import LogFormatError
from netqa.ingest import ingest_logs, read_log
from netqa.ingest.batch import RejectLog
from netqa.ingest.nemo import is_nemo, read_nemo

DATA = Path(__file__).resolve().parents[1] / "data" / "logs" / "nemo"
NMF = DATA / "drive_lte.nmf"


@pytest.fixture(scope="module")
def parsed():
    return read_log(NMF)


def test_counts_reconcile(tmp_path):
    res = ingest_logs([NMF], tmp_path / "s.parquet")
    assert (res.n_read, res.n_accepted, res.n_rejected) == (9, 3, 6)
    assert res.n_read == res.n_accepted + res.n_rejected


def test_serving_and_neighbour_values(parsed):
    s, _, _ = parsed
    assert s["source_line"].tolist() == [8, 12, 20]
    first = s.iloc[0]
    assert (first.rsrp_dbm, first.rsrq_db, first.rssi_dbm, first.pci, first.earfcn) == (-95.0, -10.0, -60.0, 51.0, 1850.0)
    assert (first.nbr_rsrp_dbm, first.nbr_rsrq_db) == (-101.0, -13.5)
    assert first.sinr_db == 12.5  # CI at the same time
    assert first.dl_mbps == pytest.approx(25.0) and first.ul_mbps == pytest.approx(1.0)  # DRATE bit/s -> Mbit/s
    assert (s["tech"] == "LTE").all()
    # line 12: CI and DRATE are 1.5 s away (beyond 1 s): not attached
    assert np.isnan(s.iloc[1].sinr_db) and np.isnan(s.iloc[1].dl_mbps)
    assert np.isnan(s.iloc[1].nbr_rsrp_dbm)  # serving cell only


def test_time_zone_and_midnight(parsed):
    s, _, _ = parsed
    # #UT 120 min: local 23:59:58.5 on 30.6.2024 is 21:59:58.5 UTC; line 12 is past local midnight (1.7.2024)
    assert s["time"].iloc[0] == pd.Timestamp("2024-06-30T21:59:58.5Z")
    assert s["time"].iloc[1] == pd.Timestamp("2024-06-30T22:00:00Z")


def test_tz_flag_overrides_ut_header(tmp_path):
    res = ingest_logs([NMF], tmp_path / "s.parquet", tz="UTC")
    s = pd.read_parquet(res.out)
    assert s["time"].iloc[0] == pd.Timestamp("2024-06-30T23:59:58.5Z")


def test_positions_from_gps_records(parsed):
    s, _, _ = parsed
    # line 8 at 58.5 s lies half-way between the fixes at 58 s and 59 s
    assert (s.lat.iloc[0], s.lon.iloc[0]) == pytest.approx((60.1705, 24.9405), abs=1e-9)
    assert bool(s.gps_interpolated.iloc[0])
    assert (s.lat.iloc[1], s.lon.iloc[1]) == pytest.approx((60.172, 24.942))  # on the fix at 00:00:00
    assert not bool(s.gps_interpolated.iloc[1])


def test_rejects_name_the_reason(parsed):
    _, _, r = parsed
    by_line = dict(zip(r["line"], r["reason"]))
    assert "without a serving cell" in by_line[16]
    assert "system 5 (UMTS FDD) not read" in by_line[17]
    assert "truncated CELLMEAS" in by_line[22]
    assert "without a fix" in by_line[24]
    assert "17.0 s gap" in by_line[28]
    assert "after the GPS track" in by_line[29]
    assert set(r["action"]) == {"rejected"}


def test_events(parsed):
    _, e, _ = parsed
    assert e["event"].tolist() == ["ho_attempt", "ho_success", "call_attempt", "call_drop"]
    assert (e["source"] == "file").all()
    assert e["lat"].iloc[0] == pytest.approx(60.1722)  # HOA at 00.2 s between fixes at 00 and 01 s
    assert e["time"].iloc[3] == pd.Timestamp("2024-06-30T22:00:04Z")


def test_header_fields():
    nl = read_nemo(NMF, RejectLog())
    assert (nl.header.format_version, nl.header.device, nl.header.utc_offset_min) == ("2.26", "Qualcomm", 120.0)
    assert nl.header.start_date == pd.Timestamp("2024-06-30")


def test_detected_by_content_and_format_flag(tmp_path):
    other = tmp_path / "drive.txt"
    shutil.copy(NMF, other)
    assert is_nemo(other)
    res = ingest_logs([other], tmp_path / "a.parquet")
    assert res.n_accepted == 3
    res = ingest_logs([other], tmp_path / "b.parquet", fmt="nemo")
    assert res.n_accepted == 3


def test_not_a_nemo_file_with_format_nemo(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("time,lat,lon,rsrp\n2024-01-01T00:00:00Z,1,2,-90\n")
    with pytest.raises(LogFormatError, match="not a Nemo file"):
        read_nemo(p, RejectLog())


def test_bad_start_date(tmp_path):
    p = tmp_path / "bad.nmf"
    p.write_text('#START,10:00:00.000,,"2024-06-30"\n')
    with pytest.raises(LogFormatError, match="expected d.m.yyyy"):
        read_nemo(p, RejectLog())


def test_cli(tmp_path, capsys):
    assert main(["ingest", str(NMF), "--out", str(tmp_path / "s.parquet")]) == 0
    assert "read 9, accepted 3, rejected 6" in capsys.readouterr().out


def test_binary_file_fails(tmp_path):
    p = tmp_path / "bin.nmf"
    p.write_bytes(b'#FF,,,"2.26"\n\x00\x01\x02,CELLMEAS\n')
    with pytest.raises(LogFormatError, match="not a Nemo (file|text record)"):
        read_nemo(p, RejectLog())


def test_without_ut_header_times_are_utc(tmp_path, caplog):
    p = tmp_path / "noz.nmf"
    p.write_text('#START,10:00:00.000,,"1.7.2024"\nGPS,10:00:00.000,,24.94,60.17,12,0,1,9,0\n'
                 "CELLMEAS,10:00:00.000,,8,0,1,9,0,70041,40936,7,-60.0,-95.0,-10.0,,\n")
    s, _, r = read_log(p)
    assert s.time.iloc[0] == pd.Timestamp("2024-07-01T10:00:00Z") and s.rsrp_dbm.iloc[0] == -95.0  # LTE TDD (8) read too
    assert "taken as UTC" in caplog.text


def test_malformed_non_sample_records_are_counted(tmp_path):
    p = tmp_path / "m.nmf"
    p.write_text('#START,10:00:00.000,,"1.7.2024"\nGPS,10:00:00.000,,24.94,60.17,12,0,1,9,0\nGPS,10:00:01.000,,east,60.17,12,0,1,9,0\n'
                 "DRATE,xx:00,1,12,3,,1,,1\nCELLMEAS,10:00:00.000,,7,0,1,9,0,70003,1850,51,-60.0,-95.0,-10.0,,\n")
    res = ingest_logs([p], tmp_path / "s.parquet")
    assert res.n_accepted == 1
    assert res.reasons["skipped: malformed Nemo GPS record"] == 1
    assert res.reasons["skipped: Nemo DRATE record with an unparseable time"] == 1
