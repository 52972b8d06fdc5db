"""Per-file unit sanity of serving RSRP: dBW, report indices and constant offsets are refused (or converted when stated).

Reporting range: 3GPP TS 36.133 section 9.1.4 (LTE RSRP -140..-44 dBm), TS 38.133 (NR SS-RSRP -156..-31 dBm).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netqa.errors import LogFormatError
from netqa.ingest import ingest_logs

HEADER = "time,lat,lon,session,tech,cell_id,rsrp_dbm,rsrq_db,sinr_db,dl_mbps,ul_mbps\n"


def _log(path: Path, rsrp, tech="LTE") -> Path:
    rows = [f"2024-03-01T10:{i // 60:02d}:{i % 60:02d}Z,{51.9 + i * 1e-4:.6f},-8.4,d,{tech},1001,{v},-10,10,20.0,5.0\n"
            for i, v in enumerate(rsrp)]
    path.write_text(HEADER + "".join(rows))
    return path


def _drive_dbm(n=200, seed=1, lo=-128.0, hi=-62.0):
    """A plausible drive: RSRP spread over lo..hi dBm (integers, as phones report)."""
    return np.round(np.random.default_rng(seed).uniform(lo, hi, n)).astype(int)


MAPPING = """
[format]
name = "netqa-csv"
[time]
column = "time"
[columns]
lat = "lat"
lon = "lon"
session = "session"
tech = "tech"
cell_id = "cell_id"
rsrp_dbm = "rsrp_dbm"
[units]
rsrp_dbm = "{unit}"
"""


@pytest.mark.parametrize("tech", ["LTE", "NR", None])
def test_rsrp_in_dbw_is_refused_not_kept_30_db_off(tmp_path, tech):
    p = _log(tmp_path / "dbw.csv", _drive_dbm() - 30, tech=tech or "")
    with pytest.raises(LogFormatError, match=r"dbw\.csv: rsrp_dbm is not in dBm: .*with \+30 dB .* probably in dBW.*\[units\] rsrp_dbm = \"dBW\""):
        ingest_logs([p], tmp_path / "s.parquet")


def test_city_drive_in_dbw_is_refused(tmp_path):
    """A city drive (-118..-58 dBm, so -148..-88 dBW) leaves a short tail below -140: enough to refuse the file.

    (A dBW log whose dBm values all lie above -110 dBm cannot be told from a weak dBm log by range alone;
    README's ingest section says so.)
    """
    p = _log(tmp_path / "dbw.csv", _drive_dbm(lo=-118, hi=-58) - 30)
    with pytest.raises(LogFormatError, match="dBW"):
        ingest_logs([p], tmp_path / "s.parquet")


def test_rsrp_report_index_is_refused(tmp_path):
    p = _log(tmp_path / "idx.csv", _drive_dbm() + 140)  # RSRP_nn / ASU 0..97
    with pytest.raises(LogFormatError, match=r"with -140 dB .*report index RSRP_nn"):
        ingest_logs([p], tmp_path / "s.parquet")


def test_one_bad_file_refused_the_others_kept(tmp_path):
    good = _log(tmp_path / "good.csv", _drive_dbm(seed=2))
    bad = _log(tmp_path / "bad.csv", _drive_dbm(seed=3) - 30)
    res = ingest_logs([good, bad], tmp_path / "s.parquet")
    assert [f for f, _ in res.files_failed] == [str(bad)]
    assert "not in dBm" in res.files_failed[0][1]
    assert res.n_read == res.n_accepted + res.n_rejected == 200
    assert set(pd.read_parquet(res.out)["source_file"].astype(str)) == {str(good)}


@pytest.mark.parametrize("unit,offset", [("dBW", 30), ("index", -140), ("asu", -140)])
def test_declared_unit_is_converted(tmp_path, unit, offset):
    dbm = _drive_dbm(seed=4)
    p = _log(tmp_path / "x.csv", dbm - offset)
    m = tmp_path / "m.toml"
    m.write_text(MAPPING.format(unit=unit))
    res = ingest_logs([p], tmp_path / "s.parquet", fmt=str(m))
    s = pd.read_parquet(res.out)
    assert res.n_accepted == 200
    np.testing.assert_array_equal(s["rsrp_dbm"].to_numpy(), dbm.astype(float))


def test_declared_dbm_keeps_the_file_and_rejects_rows_one_by_one(tmp_path):
    p = _log(tmp_path / "x.csv", _drive_dbm(seed=5) - 30)
    m = tmp_path / "m.toml"
    m.write_text(MAPPING.format(unit="dBm"))
    res = ingest_logs([p], tmp_path / "s.parquet", fmt=str(m))
    assert res.n_rejected > 0 and res.n_read == res.n_accepted + res.n_rejected


@pytest.mark.parametrize("values", [
    pytest.param(list(_drive_dbm(seed=6)) + [-200, -200, -200], id="sentinels"),  # Cork's -200 marker: rows rejected
    pytest.param(list(_drive_dbm(seed=7, lo=-140, hi=-110)), id="weak-at-floor"),
    pytest.param(list(_drive_dbm(seed=8, lo=-75, hi=-44)), id="strong"),
    pytest.param([-140] * 30 + list(_drive_dbm(seed=9)), id="floor-reports"),
])
def test_plausible_dbm_logs_are_accepted(tmp_path, values):
    res = ingest_logs([_log(tmp_path / "ok.csv", values)], tmp_path / "s.parquet")
    assert not res.files_failed
    assert res.n_accepted >= len(values) - 3


def test_unknown_unit_in_mapping_is_a_config_error(tmp_path):
    from netqa.errors import ConfigError
    from netqa.ingest import load_mapping

    m = tmp_path / "m.toml"
    m.write_text(MAPPING.format(unit="mW"))
    with pytest.raises(ConfigError, match=r"\[units\] rsrp_dbm = 'mW': unknown unit; valid: dBm, dBW"):
        load_mapping(m)
