"""Local-time logs without --tz: read as UTC, the documented default, with a visible warning (issue 13)."""

import logging
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from netqa.ingest import ingest_logs

REPO = Path(__file__).resolve().parents[2]
GNT_HEADER = "Timestamp,Longitude,Latitude,Speed,Operatorname,CellID,NetworkMode,RSRP,RSRQ,SNR,CQI,RSSI,DL_bitrate,UL_bitrate,State,PINGAVG,PINGMIN,PINGMAX,PINGSTDEV,PINGLOSS,CELLHEX,NODEHEX,LACHEX,RAWCELLID,NRxRSRP,NRxRSRQ\n"


def _gnt(path: Path) -> Path:
    rows = [f"2020.07.01_10.00.0{i},-8.40,{51.90 + i * 1e-4:.4f},31,B,12,LTE,-90,-9,10.0,15,-77,9675,87,D,-,-,-,-,-,C,A81B,9CBA,11016972,-97.0,-5.0\n" for i in range(5)]
    path.write_text(GNT_HEADER + "".join(rows))
    return path


def test_gnettrack_without_tz_is_read_as_utc_with_a_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        res = ingest_logs([_gnt(tmp_path / "g.csv")], tmp_path / "s.parquet")
    assert res.files_tz_assumed_utc == (str(tmp_path / "g.csv"),)
    assert "g.csv: timestamps are local time" in caplog.text and "--tz" in caplog.text
    assert pd.read_parquet(res.out)["time"].iloc[0] == pd.Timestamp("2020-07-01T10:00:00Z")


@pytest.mark.parametrize("tz,first", [("Europe/Dublin", "2020-07-01T09:00:00Z"), ("UTC", "2020-07-01T10:00:00Z")])
def test_gnettrack_with_tz_is_converted_without_warning(tmp_path, caplog, tz, first):
    with caplog.at_level(logging.WARNING):
        res = ingest_logs([_gnt(tmp_path / "g.csv")], tmp_path / "s.parquet", tz=tz)
    assert res.files_tz_assumed_utc == () and "local time" not in caplog.text
    assert pd.read_parquet(res.out)["time"].iloc[0] == pd.Timestamp(first)  # Irish summer time is UTC+1


def test_log_with_utc_offsets_needs_no_tz(tmp_path, caplog):
    p = tmp_path / "n.csv"
    p.write_text("time,lat,lon,rsrp_dbm\n2024-03-01T10:00:00Z,51.9,-8.4,-90\n2024-03-01T10:00:01+01:00,51.9001,-8.4,-90\n")
    with caplog.at_level(logging.WARNING):
        res = ingest_logs([p], tmp_path / "s.parquet")
    assert res.files_tz_assumed_utc == () and "local time" not in caplog.text


def test_cli_prints_the_warning(tmp_path):
    log = _gnt(tmp_path / "g.csv")
    r = subprocess.run([sys.executable, "-m", "netqa", "ingest", str(log), "--out", str(tmp_path / "s.parquet")],
                       capture_output=True, text=True, check=False, cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert "read as UTC" in r.stderr and "--tz" in r.stderr
