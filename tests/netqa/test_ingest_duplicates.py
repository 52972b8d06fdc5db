"""Duplicates anywhere in a run, and a clock that jumps back quarantined as a whole stretch (issue 13 item 2)."""


import pandas as pd
import pytest

from netqa.ingest import ingest_logs

HEADER = "time,lat,lon,session,tech,cell_id,rsrp_dbm,rsrq_db,sinr_db,dl_mbps,ul_mbps\n"


def _rows(n, start=0, minute=10):
    return [f"2024-03-01T{minute:02d}:{i // 60:02d}:{i % 60:02d}Z,{51.9 + i * 1e-4:.6f},-8.4,d1,LTE,1001,{-80 - i % 30},-10,10,20.0,5.0\n"
            for i in range(start, start + n)]


def _run(tmp_path, files: dict[str, str], **kw):
    paths = []
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        paths.append(tmp_path / name)
    res = ingest_logs(paths, tmp_path / "s.parquet", **kw)
    assert res.n_read == res.n_accepted + res.n_rejected
    return res, pd.read_parquet(res.out), pd.read_csv(res.rejects_path, dtype={"value": str})


@pytest.mark.parametrize("block_bytes", [700, 1 << 20])
def test_log_concatenated_with_itself_every_repeat_is_a_duplicate(tmp_path, block_bytes):
    rows = _rows(50)
    res, s, rej = _run(tmp_path, {"d.csv": HEADER + "".join(rows + rows)}, block_bytes=block_bytes)
    assert (res.n_read, res.n_accepted, res.n_rejected) == (100, 50, 50)
    dup = rej[rej["reason"].str.startswith("duplicate of line")]
    assert len(dup) == 50 and dup["line"].tolist() == list(range(52, 102))
    assert dup["reason"].iloc[0].startswith("duplicate of line 2 ")
    assert s["source_line"].tolist() == list(range(2, 52))


def test_two_files_concatenated_with_their_headers(tmp_path):
    rows = _rows(30)
    res, _s, rej = _run(tmp_path, {"d.csv": HEADER + "".join(rows) + HEADER + "".join(rows)})
    assert res.n_accepted == 30 and res.n_rejected == 31  # the second header line and 30 duplicates
    assert (rej["reason"].str.startswith("duplicate of")).sum() == 30


@pytest.mark.parametrize("fmt_rows", ["netqa", "gnettrack"])
def test_same_drive_under_two_file_names(tmp_path, fmt_rows):
    if fmt_rows == "netqa":
        text = HEADER + "".join(_rows(40))
    else:  # no session column: the session would come from the file name, yet the rows are the same
        hdr = "Timestamp,Longitude,Latitude,Speed,Operatorname,CellID,NetworkMode,RSRP,RSRQ,SNR,CQI,RSSI,DL_bitrate,UL_bitrate,State,PINGAVG,PINGMIN,PINGMAX,PINGSTDEV,PINGLOSS,CELLHEX,NODEHEX,LACHEX,RAWCELLID,NRxRSRP,NRxRSRQ\n"
        text = hdr + "".join(f"2020.01.16_10.00.{i:02d},-8.40,{51.90 + i * 1e-4:.4f},31,B,12,LTE,{-80 - i},-9,10.0,15,-77,9675,87,D,-,-,-,-,-,C,A81B,9CBA,11016972,-97.0,-5.0\n" for i in range(40))
    res, s, rej = _run(tmp_path, {"drive.csv": text, "drive copy.csv": text}, tz="UTC")
    assert (res.n_read, res.n_accepted, res.n_rejected) == (80, 40, 40)
    assert set(s["source_file"].astype(str)) == {str(tmp_path / "drive.csv")}
    dup = rej[rej["file"] == str(tmp_path / "drive copy.csv")]
    assert len(dup) == 40 and dup["reason"].str.contains(f"duplicate of {tmp_path / 'drive.csv'} line").all()


def test_partly_overlapping_files_lose_only_the_overlap(tmp_path):
    rows = _rows(60)
    res, _s, rej = _run(tmp_path, {"a.csv": HEADER + "".join(rows[:40]), "b.csv": HEADER + "".join(rows[30:])})
    assert (res.n_accepted, res.n_rejected) == (60, 10)
    assert rej["line"].tolist() == list(range(2, 12)) and (rej["file"] == str(tmp_path / "b.csv")).all()


def test_non_adjacent_repeat_within_one_second_is_a_duplicate(tmp_path):
    a = "2024-03-01T10:00:00Z,51.9,-8.4,d1,LTE,1001,-80,-10,10,20.0,5.0\n"
    b = "2024-03-01T10:00:00Z,51.9,-8.4,d1,LTE,1001,-81,-10,10,20.0,5.0\n"
    res, _s, rej = _run(tmp_path, {"d.csv": HEADER + a + b + a + "".join(_rows(5, start=1))})
    assert res.n_rejected == 1 and rej["line"].tolist() == [4] and rej["reason"].iloc[0].startswith("duplicate of line 2")


@pytest.mark.parametrize("block_bytes", [600, 1 << 20])
def test_clock_jumping_back_is_quarantined_as_a_whole_stretch(tmp_path, block_bytes):
    before = _rows(20)  # 10:00:00 .. 10:00:19
    jumped = _rows(25, start=0, minute=9)  # the clock jumps back an hour: 09:00:00 .. 09:00:24
    jumped = [r.replace(",-80,", ",-99,").replace(",-81,", ",-98,") for r in jumped]  # not duplicates
    after = _rows(10, start=20)  # 10:00:20 .. : the clock is past the jump again
    res, s, rej = _run(tmp_path, {"d.csv": HEADER + "".join(before + jumped + after)}, block_bytes=block_bytes)
    assert (res.n_read, res.n_accepted, res.n_rejected) == (55, 30, 25)
    back = rej[rej["reason"].str.startswith("time goes backwards")]
    assert back["line"].tolist() == list(range(22, 47))
    assert back["reason"].str.contains("earlier than 2024-03-01T10:00:19Z on line 21").all()
    assert s["source_line"].tolist() == list(range(2, 22)) + list(range(47, 57))


def test_jump_back_per_session_not_across_sessions(tmp_path):
    a = [r.replace(",d1,", ",carA,") for r in _rows(10)]
    b = [r.replace(",d1,", ",carB,") for r in _rows(10, minute=9)]  # another car, an hour earlier: no jump
    res, _s, _rej = _run(tmp_path, {"d.csv": HEADER + "".join(a + b)})
    assert res.n_rejected == 0 and res.n_accepted == 20
