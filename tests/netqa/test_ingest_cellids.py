"""Cell ids are normalised the same way on both sides of the match (issue 13 item 2)."""

import pandas as pd
import pytest

from netqa.ingest import ingest_logs
from netqa.ingest.values import normalise_cell_id


@pytest.mark.parametrize("raw,want", [
    ("7936001", "7936001"), ("7936001.0", "7936001"), (" 7936001 ", "7936001"), ("007936001", "7936001"),
    ("7.936001e+06", "7936001"), ('"7936001"', "7936001"), ("7936001.", "7936001"), ("0", "0"),
    ("A81B", "A81B"), ("272-1-40001-7936001", "272-1-40001-7936001"), ("7936001.5", "7936001.5"),
    ("", None), ("   ", None), ("nan", None), (7936001.0, "7936001"), (7936001, "7936001"),
])
def test_normalise_cell_id(raw, want):
    assert normalise_cell_id(raw) == want


@pytest.mark.parametrize("table_id", ["7936001", "7936001.0", " 7936001 ", 7936001.0, 7936001])
@pytest.mark.parametrize("log_id", ["7936001", "7936001.0", " 7936001", "7936001 ", "007936001", '"7936001"'])
def test_log_and_table_ids_match_whatever_their_spelling(tmp_path, table_id, log_id):
    cells = pd.DataFrame({"cell_id": [table_id, "9999"], "lat": [51.90, 51.95], "lon": [-8.40, -8.45]})
    log = tmp_path / "d.csv"
    log.write_text("time,lat,lon,cell_id,rsrp_dbm\n" + "".join(
        f"2024-03-01T10:00:{i:02d}Z,{51.90 + i * 1e-4:.6f},-8.40,{log_id},-90\n" for i in range(5)))
    res = ingest_logs([log], tmp_path / "s.parquet", cells=cells)
    s = pd.read_parquet(res.out)
    assert res.n_cells_matched == 5 and res.n_cells_unmatched == 0
    assert s["cell_matched"].all()
    assert set(s["cell_id"]) == {str(table_id).strip()}  # the table's own spelling of the id
