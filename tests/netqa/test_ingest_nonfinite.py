"""NaN, inf and their spellings in a log: a reason in the rejects file, never a silent missing value (issue 13)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netqa.ingest import ingest_logs

HEADER = "time,lat,lon,session,tech,cell_id,rsrp_dbm,rsrq_db,sinr_db,dl_mbps,ul_mbps\n"
SPELLINGS = ["NaN", "nan", "-nan", "inf", "-inf", "Inf", "+inf", "Infinity", "-Infinity", "INF"]


def _log(path: Path, column: str, value: str, extra_bad: bool = False) -> Path:
    rows = []
    for i in range(6):
        vals = {"lat": f"{51.9 + i * 1e-4:.6f}", "lon": "-8.4", "rsrp_dbm": "-90", "rsrq_db": "-10", "sinr_db": "10", "dl_mbps": "20.0"}
        if i == 2:
            vals[column] = value
        if extra_bad and i == 4:
            vals["rsrq_db"] = "abc"  # sends the block down the value-by-value path too
        rows.append(f"2024-03-01T10:00:0{i}Z,{vals['lat']},{vals['lon']},d,LTE,1001,{vals['rsrp_dbm']},{vals['rsrq_db']},{vals['sinr_db']},{vals['dl_mbps']},5.0\n")
    path.write_text(HEADER + "".join(rows))
    return path


@pytest.mark.parametrize("slow", [False, True], ids=["typed", "value-by-value"])
@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("column", ["rsrp_dbm", "lat", "lon"])
def test_nonfinite_in_a_row_critical_column_rejects_the_row_with_a_reason(tmp_path, column, spelling, slow):
    res = ingest_logs([_log(tmp_path / "x.csv", column, spelling, slow)], tmp_path / "s.parquet")
    assert res.n_read == 6 and res.n_rejected == 1 and res.n_accepted == 5
    rej = pd.read_csv(res.rejects_path, dtype={"value": str})
    hit = rej[(rej["line"] == 4) & (rej["action"] == "rejected")]
    assert len(hit) == 1 and hit["column"].iloc[0] == column and "non-finite" in hit["reason"].iloc[0], rej.to_string()
    assert 4 not in pd.read_parquet(res.out)["source_line"].tolist()


@pytest.mark.parametrize("slow", [False, True], ids=["typed", "value-by-value"])
@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("column,bit", [("sinr_db", 2), ("dl_mbps", 4)])
def test_nonfinite_in_an_optional_column_is_cleared_flagged_and_reported(tmp_path, column, bit, spelling, slow):
    res = ingest_logs([_log(tmp_path / "x.csv", column, spelling, slow)], tmp_path / "s.parquet")
    assert res.n_read == res.n_accepted == 6
    s = pd.read_parquet(res.out).set_index("source_line")
    assert np.isnan(s.loc[4, column]) and s.loc[4, "value_flags"] & bit
    rej = pd.read_csv(res.rejects_path, dtype={"value": str})
    hit = rej[(rej["line"] == 4) & (rej["column"] == column)]
    assert (hit["action"] == "cleared").all() and hit["reason"].str.contains("non-finite").any(), rej.to_string()


def test_missing_markers_stay_plain_missing(tmp_path):
    """An empty field is the log saying 'not measured': NaN with no rejects entry, as before."""
    res = ingest_logs([_log(tmp_path / "x.csv", "sinr_db", "")], tmp_path / "s.parquet")
    rej = pd.read_csv(res.rejects_path)
    assert res.n_accepted == 6 and rej.empty
