"""Positions: a coordinate exactly 0 is no fix, and interpolation never runs across a non-fix (issue 13)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netqa.ingest import ingest_logs

HEADER = "time,lat,lon,session,tech,cell_id,rsrp_dbm,rsrq_db,sinr_db,dl_mbps,ul_mbps\n"


def _log(path: Path, positions) -> Path:
    rows = [f"2024-03-01T10:00:{i:02d}Z,{la},{lo},d,LTE,1001,-90,-10,10,20.0,5.0\n" for i, (la, lo) in enumerate(positions)]
    path.write_text(HEADER + "".join(rows))
    return path


@pytest.mark.parametrize("pos", [(51.9, 0), (0, -8.4), (0.0, 0.0), ("0.000000", "-8.400000"), ("51.900000", "-0.0")])
def test_a_coordinate_exactly_zero_is_no_fix(tmp_path, pos):
    res = ingest_logs([_log(tmp_path / "z.csv", [(51.9, -8.4), pos, (51.9002, -8.4)])], tmp_path / "s.parquet")
    s = pd.read_parquet(res.out)
    assert res.n_accepted == 3 and np.isnan(s.loc[1, "lat"]) and np.isnan(s.loc[1, "lon"])
    assert s.loc[1, "value_flags"] & 16 and not s.loc[1, "gps_interpolated"]
    rej = pd.read_csv(res.rejects_path)
    hit = rej[(rej["line"] == 3) & (rej["action"] == "cleared")]
    assert hit["reason"].str.contains("no GPS fix").any(), rej.to_string()


@pytest.mark.parametrize("bad", [(51.9, 0), (0, -8.4), (0, 0), ("", "")])
def test_interpolation_never_runs_across_a_non_fix(tmp_path, bad):
    # fix A, two stale rows, a non-fix, two stale rows, fix B: nothing between A and B is interpolated
    a, b = (51.9000, -8.4000), (51.9010, -8.4000)
    pos = [a, a, a, bad, (51.9005, -8.4), (51.9005, -8.4), b]
    res = ingest_logs([_log(tmp_path / "g.csv", pos)], tmp_path / "s.parquet")
    s = pd.read_parquet(res.out)
    assert res.n_read == res.n_accepted + res.n_rejected
    assert np.isnan(s.loc[3, "lat"])  # the non-fix stays without position
    # rows 1-2 (stale after A, before the non-fix) keep A's position, never a point towards 0 deg
    assert s.loc[1:2, "lat"].tolist() == [a[0], a[0]] and not s.loc[1:2, "gps_interpolated"].any()
    assert (s["lat"].dropna() > 51).all() and (s["lon"].dropna() < -8).all()


def test_interpolation_between_fixes_still_works(tmp_path):
    a, b = (51.9000, -8.4000), (51.9004, -8.4000)
    res = ingest_logs([_log(tmp_path / "g.csv", [a, a, a, a, b])], tmp_path / "s.parquet")
    s = pd.read_parquet(res.out)
    np.testing.assert_allclose(s["lat"], [51.9, 51.9001, 51.9002, 51.9003, 51.9004])
    assert s["gps_interpolated"].tolist() == [False, True, True, True, False]
