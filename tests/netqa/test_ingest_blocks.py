"""Block reading: results do not depend on the block size; the fast and slow parse paths agree."""

import threading

import numpy as np
import pandas as pd
import pytest

from netqa.ingest import ingest_logs
from netqa.ingest.core import prefetched

HEADER = "time,lat,lon,session,tech,cell_id,rsrp_dbm,rsrq_db,sinr_db,dl_mbps,ul_mbps\n"


def _log(path, n=400, blank_every=0, bad_line_at=None, quote=False):
    lines = [HEADER]
    for i in range(n):
        fix = (i // 5) * 5
        rsrp = -200 if i % 97 == 13 else -90 - (i % 30)
        cell = f'"{1000 + i // 50}"' if quote else str(1000 + i // 50)
        lines.append(f"2024-03-01T00:{i // 60:02d}:{i % 60:02d}Z,{51.9 + 1e-4 * fix:.6f},{-8.4 + 1e-4 * fix:.6f},s1,LTE,{cell},{rsrp},-9.5,7.5,{(i % 7) * 3.0},1.5\n")
        if blank_every and i % blank_every == blank_every - 1:
            lines.append("\n")
        if bad_line_at == i:
            lines.append("2024-03-01T00:00:00Z,51.9,-8.4\n")
    path.write_text("".join(lines))
    return path


def _ingest(path, out, block_bytes):
    res = ingest_logs([path], out, block_bytes=block_bytes)
    s = pd.read_parquet(res.out).drop(columns=["source_file"])
    rej = pd.read_csv(res.rejects_path, dtype={"value": str}).sort_values(["line", "column"]).reset_index(drop=True)
    return res, s, rej


@pytest.mark.parametrize(
    "kind,kwargs",
    [("plain", {}), ("blank-lines", {"blank_every": 37}), ("bad-line", {"bad_line_at": 250}), ("quoted", {"quote": True})],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_small_blocks_give_the_same_result(tmp_path, kind, kwargs):
    log = _log(tmp_path / "d.csv", **kwargs)
    r1, s1, j1 = _ingest(log, tmp_path / "a.parquet", block_bytes=1 << 20)
    r2, s2, j2 = _ingest(log, tmp_path / "b.parquet", block_bytes=700)
    assert (r1.n_read, r1.n_accepted, r1.n_rejected) == (r2.n_read, r2.n_accepted, r2.n_rejected)
    assert r1.n_read == r1.n_accepted + r1.n_rejected
    pd.testing.assert_frame_equal(s1, s2)
    pd.testing.assert_frame_equal(j1, j2)


def test_blank_lines_without_comment_char_keep_line_numbers(tmp_path):
    log = _log(tmp_path / "d.csv", n=40, blank_every=10)
    res, s, _ = _ingest(log, tmp_path / "a.parquet", block_bytes=1 << 20)
    assert res.n_read == 40
    # data line i sits at 2 + i + (blank lines before it)
    i = np.arange(40)
    expected = 2 + i + i // 10
    keep = ~((i % 97) == 13)
    assert s["source_line"].tolist() == expected[keep].tolist()


def test_bad_line_in_a_late_block_is_rejected_with_its_line(tmp_path):
    log = _log(tmp_path / "d.csv", n=300, bad_line_at=250)
    _, _, rej = _ingest(log, tmp_path / "a.parquet", block_bytes=900)
    hit = rej[rej["reason"].str.contains("truncated or malformed line")]
    assert hit["line"].tolist() == [2 + 251]


def test_prefetched_raises_producer_error_in_consumer():
    def gen():
        yield 1
        raise ValueError("boom")

    it = prefetched(gen())
    assert next(it) == 1
    with pytest.raises(ValueError, match="boom"):
        next(it)


def test_prefetched_stops_producer_when_consumer_leaves():
    before = threading.active_count()
    for x in prefetched(iter(range(1000))):
        if x == 3:
            break
    assert threading.active_count() == before
