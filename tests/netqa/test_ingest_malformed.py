"""Every check of the ingest validation, one malformed log each (tests/data/logs/)."""

from pathlib import Path

import pandas as pd
import pytest

from netqa.errors import LogFormatError, NetQAError
from netqa.ingest import ingest_logs

LOGS = Path(__file__).resolve().parents[1] / "data" / "logs"

# file, read, accepted, rejected, (line, column, reason fragment, action) of one expected rejects entry
CASES = [
    ("good.csv", 6, 6, 0, None),
    ("rsrp_sentinel.csv", 6, 4, 2, (4, "rsrp_dbm", "outside the LTE reporting range -140..-44", "rejected")),
    ("rsrq_sinr_out_of_range.csv", 6, 6, 0, (3, "rsrq_db", "outside the reporting range", "cleared")),
    ("swapped_latlon.csv", 6, 5, 1, (4, "lat", "look swapped", "rejected")),
    ("position_out_of_range.csv", 6, 5, 1, (5, "lat", "outside -90..90", "rejected")),
    ("zero_island.csv", 6, 6, 0, (3, "lat", "zero-island", "cleared")),
    ("bad_time.csv", 6, 5, 1, (4, "time", "unparseable time", "rejected")),
    ("out_of_order.csv", 6, 5, 1, (5, "time", "time goes backwards", "rejected")),
    ("duplicate_row.csv", 6, 5, 1, (5, "*", "duplicate of line 4", "rejected")),
    ("truncated_last_line.csv", 6, 5, 1, (7, "*", "truncated or malformed line", "rejected")),
    ("not_a_number.csv", 6, 5, 1, (3, "rsrp_dbm", "not a number", "rejected")),
    ("blank_and_comment_lines.csv", 6, 6, 0, None),
    ("quoted_fields.csv", 6, 6, 0, None),
    ("unknown_tech.csv", 6, 6, 0, (4, "tech", "unknown technology", "cleared")),
    ("extra_field.csv", 6, 5, 1, (6, "*", "7 fields" if False else "12 fields, header has 11", "rejected")),
    ("nr_ranges.csv", 6, 5, 1, (7, "rsrp_dbm", "NR reporting range -156..-31", "rejected")),
    ("negative_throughput.csv", 6, 6, 0, (5, "dl_mbps", "outside 0..20000", "cleared")),
]


@pytest.mark.parametrize("name,n_read,n_acc,n_rej,entry", CASES, ids=[c[0] for c in CASES])
def test_malformed_log_reason_and_reconciliation(tmp_path, name, n_read, n_acc, n_rej, entry):
    res = ingest_logs([LOGS / name], tmp_path / "s.parquet")
    assert (res.n_read, res.n_accepted, res.n_rejected) == (n_read, n_acc, n_rej)
    assert res.n_read == res.n_accepted + res.n_rejected
    rej = pd.read_csv(res.rejects_path, dtype={"value": str})
    assert list(rej.columns) == ["file", "line", "column", "value", "reason", "action"]
    assert int((rej["action"] == "rejected").sum()) == n_rej
    assert len(pd.read_parquet(res.out)) == n_acc
    if entry is not None:
        line, column, fragment, action = entry
        hit = rej[(rej["line"] == line) & (rej["column"] == column) & (rej["action"] == action)]
        assert hit["reason"].str.contains(fragment, regex=False).any(), rej.to_string()
        assert (hit["file"] == str(LOGS / name)).all()


def test_blank_and_comment_lines_keep_physical_line_numbers(tmp_path):
    res = ingest_logs([LOGS / "blank_and_comment_lines.csv"], tmp_path / "s.parquet")
    lines = pd.read_parquet(res.out)["source_line"].tolist()
    assert lines == [3, 4, 7, 9, 10, 11]


def test_cleared_value_is_nan_and_flagged(tmp_path):
    res = ingest_logs([LOGS / "rsrq_sinr_out_of_range.csv"], tmp_path / "s.parquet")
    s = pd.read_parquet(res.out)
    assert pd.isna(s.loc[1, "rsrq_db"]) and s.loc[1, "value_flags"] & 1
    assert pd.isna(s.loc[3, "sinr_db"]) and s.loc[3, "value_flags"] & 2
    assert s.loc[0, "value_flags"] == 0


def test_zero_island_position_cleared_geometry_null(tmp_path):
    res = ingest_logs([LOGS / "zero_island.csv"], tmp_path / "s.parquet")
    s = pd.read_parquet(res.out)
    assert pd.isna(s.loc[1, "lat"]) or s.loc[1, "gps_interpolated"]  # cleared, then placed between fixes


@pytest.mark.parametrize(
    "name,fragment",
    [
        ("throughput_in_kbps.csv", "probably in kbit/s"),
        ("bad_encoding.csv", "not UTF-8"),
        ("missing_lat_column.csv", "log format not recognised"),
        ("unknown_format.txt", "log format not recognised"),
        ("empty.csv", "file is empty"),
    ],
    ids=["kbps-units", "encoding", "missing-column", "unknown-format", "empty"],
)
def test_unreadable_file_fails_alone(tmp_path, name, fragment):
    # alone: the run fails with a message naming the file and the reason
    with pytest.raises(LogFormatError, match=fragment) as info:
        ingest_logs([LOGS / name], tmp_path / "a.parquet")
    assert name in str(info.value)
    # with a good file: the good one still ingests, the bad one is reported
    res = ingest_logs([LOGS / name, LOGS / "good.csv"], tmp_path / "b.parquet")
    assert res.n_accepted == 6
    assert len(res.files_failed) == 1 and fragment in res.files_failed[0][1]


def test_missing_required_column_with_explicit_format(tmp_path):
    with pytest.raises(LogFormatError, match="required column for 'lat' missing"):
        ingest_logs([LOGS / "missing_lat_column.csv"], tmp_path / "a.parquet", fmt="netqa")


def test_cli_exit_2_names_file(tmp_path, capsys):
    from netqa.cli import main

    rc = main(["ingest", str(LOGS / "unknown_format.txt"), str(LOGS / "good.csv"), "--out", str(tmp_path / "s.parquet")])
    err = capsys.readouterr()
    assert rc == 2
    assert "unknown_format.txt" in err.err
    assert "read 6, accepted 6, rejected 0" in err.out


def test_refuses_to_overwrite(tmp_path):
    out = tmp_path / "s.parquet"
    ingest_logs([LOGS / "good.csv"], out)
    with pytest.raises(NetQAError, match="--overwrite"):
        ingest_logs([LOGS / "good.csv"], out)
    assert ingest_logs([LOGS / "good.csv"], out, overwrite=True).n_accepted == 6
