"""Block reading: results do not depend on the block size; the fast and slow parse paths agree."""

import threading

import numpy as np
import pandas as pd
import pytest

from netqa.ingest import ingest_logs
from netqa.ingest.stream import prefetched

HEADER = "time,lat,lon,session,tech,cell_id,rsrp_dbm,rsrq_db,sinr_db,dl_mbps,ul_mbps\n"


def _log(path, n=400, blank_every=0, bad_line_at=None, quote=False, dup_every=0, crlf=False):
    lines = [HEADER]
    for i in range(n):
        if dup_every and i % dup_every == dup_every - 1:
            lines.append(lines[-1])  # an exact duplicate of the previous line
        if dup_every and i % (3 * dup_every) == 5:
            lines.append("2024-02-29T23:59:59Z,51.9,-8.4,s1,LTE,1000,-95,-9.5,7.5,1.0,1.5\n")  # time backwards
        fix = (i // 5) * 5
        rsrp = -200 if i % 97 == 13 else -90 - (i % 30)
        cell = f'"{1000 + i // 50}"' if quote else str(1000 + i // 50)
        lines.append(f"2024-03-01T00:{i // 60:02d}:{i % 60:02d}Z,{51.9 + 1e-4 * fix:.6f},{-8.4 + 1e-4 * fix:.6f},s1,LTE,{cell},{rsrp},-9.5,7.5,{(i % 7) * 3.0},1.5\n")
        if blank_every and i % blank_every == blank_every - 1:
            lines.append("\n")
        if bad_line_at == i:
            lines.append("2024-03-01T00:00:00Z,51.9,-8.4\n")
    text = "".join(lines)
    path.write_bytes((text.replace("\n", "\r\n") if crlf else text).encode())
    return path


def _ingest(path, out, block_bytes):
    res = ingest_logs([path], out, block_bytes=block_bytes)
    s = pd.read_parquet(res.out).drop(columns=["source_file"])
    rej = pd.read_csv(res.rejects_path, dtype={"value": str}).sort_values(["line", "column"]).reset_index(drop=True)
    return res, s, rej


@pytest.mark.parametrize(
    "kind,kwargs",
    [("plain", {}), ("blank-lines", {"blank_every": 37}), ("bad-line", {"bad_line_at": 250}), ("quoted", {"quote": True}),
     ("duplicates-and-backwards", {"dup_every": 9}), ("crlf", {"crlf": True}), ("crlf-blank-lines", {"crlf": True, "blank_every": 37})],
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


def test_duplicates_and_backwards_rows_across_blocks_are_rejected(tmp_path):
    log = _log(tmp_path / "d.csv", n=300, dup_every=9)
    res, _, rej = _ingest(log, tmp_path / "a.parquet", block_bytes=500)
    assert res.n_read == 300 + 300 // 9 + len(range(5, 300, 27))
    # the backwards line is the same line each time: its first copy is out of order, its repeats duplicates of it
    assert (rej["reason"].str.startswith("duplicate of line")).sum() == 300 // 9 + len(range(5, 300, 27)) - 1
    assert (rej["reason"].str.startswith("time goes backwards")).sum() == 1


def _interp_reference(t, lat, lon, seg, max_gap_s):
    """Row-by-row: place each stale row on the line between the fixes around it in its segment.

    Never across a row without position (issue 13: interpolation never runs across a non-fix).
    """
    n = len(t)
    fix = [not (np.isnan(lat[i]) or np.isnan(lon[i])) and (i == 0 or seg[i] != seg[i - 1] or lat[i] != lat[i - 1] or lon[i] != lon[i - 1]) for i in range(n)]
    la, lo, mv = lat.copy(), lon.copy(), np.zeros(n, bool)
    for i in range(n):
        if fix[i]:
            continue
        p = next((j for j in range(i, -1, -1) if fix[j] and seg[j] == seg[i]), None)
        q = next((j for j in range(i + 1, n) if fix[j] and seg[j] == seg[i]), None)
        if p is None or q is None or any(seg[j] != seg[i] for j in range(p, q + 1)) or t[q] - t[p] > max_gap_s * 1e9:
            continue
        if any(np.isnan(lat[j]) or np.isnan(lon[j]) for j in range(p, q + 1)):
            continue
        w = min(max((t[i] - t[p]) / (t[q] - t[p]), 0.0), 1.0) if t[q] > t[p] else 0.0
        la[i], lo[i], mv[i] = lat[p] + w * (lat[q] - lat[p]), lon[p] + w * (lon[q] - lon[p]), True
    return la, lo, mv


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_interpolation_matches_row_by_row_reference(seed):
    from netqa.ingest.normalise import interpolate_positions

    rng = np.random.default_rng(seed)
    n = 200
    t = np.cumsum(rng.integers(0, 40, n)).astype(np.int64) * 1_000_000_000
    fixes = np.repeat(rng.normal(51.9, 0.01, n // 4), 4)[:n]
    lat, lon = fixes.copy(), fixes.copy() - 60
    lat[rng.random(n) < 0.1] = np.nan
    seg = np.sort(rng.integers(0, 3, n))
    got = interpolate_positions(t, lat, lon, seg, 60.0)
    want = _interp_reference(t, lat, lon, seg, 60.0)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, equal_nan=True)


def test_file_failing_part_way_still_reconciles(tmp_path):
    # block 1: plain rows and one RSRP sentinel, no throughput; a later block: kbit/s logged as Mbit/s
    lines = [HEADER]
    for i in range(90):  # ~41 lines per 3000-byte block: the check needs 20 throughput values in one block
        dl = "" if i < 30 else "25000"
        rsrp = -200 if i == 3 else -90
        lines.append(f"2024-03-01T00:{i // 60:02d}:{i % 60:02d}Z,{51.9 + 1e-3 * i:.6f},-8.400000,s1,LTE,1000,{rsrp},-9.5,7.5,{dl},\n")
    log = tmp_path / "late_kbps.csv"
    log.write_text("".join(lines))
    res = ingest_logs([log, tmp_path / "missing.csv"], tmp_path / "s.parquet", block_bytes=3000)
    assert any("probably in kbit/s" in m for _, m in res.files_failed)
    assert res.n_read == res.n_accepted + res.n_rejected
    assert res.n_rejected == 1 and res.n_accepted > 0 and len(pd.read_parquet(res.out)) == res.n_accepted


def test_crlf_log_same_samples_as_lf(tmp_path):
    _, a, _ = _ingest(_log(tmp_path / "lf.csv", n=200), tmp_path / "a.parquet", block_bytes=1 << 20)
    _, b, _ = _ingest(_log(tmp_path / "crlf.csv", n=200, crlf=True), tmp_path / "b.parquet", block_bytes=1 << 20)
    pd.testing.assert_frame_equal(a, b)
