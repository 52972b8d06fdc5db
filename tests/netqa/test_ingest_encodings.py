"""Line ends, encodings, compression, long headers, quoted newlines, NULs and bad bytes (issue 13 item 2).

Each variant of one 40-row log is read to the same 40 samples with the same
physical line numbers, or refused / quarantined with the true cause.
"""

import bz2
import codecs
import gzip
import io
import lzma
import zipfile

import pandas as pd
import pytest

from netqa.errors import LogFormatError
from netqa.ingest import ingest_logs

HEADER = "time,lat,lon,session,tech,cell_id,rsrp_dbm,rsrq_db,sinr_db,dl_mbps,ul_mbps"
N = 40


def _rows(n=N, start=0):
    return [f"2024-03-01T10:{i // 60:02d}:{i % 60:02d}Z,{51.9 + i * 1e-4:.6f},-8.400000,d1,LTE,1001,{-80 - i % 30},-10,10,20.0,5.0"
            for i in range(start, start + n)]


def _text(eol="\n", header=HEADER, rows=None):
    return eol.join([header] + (rows if rows is not None else _rows())) + eol


def _ingest(tmp_path, name, data: bytes, **kw):
    p = tmp_path / name
    p.write_bytes(data)
    res = ingest_logs([p], tmp_path / "s.parquet", **kw)
    return res, pd.read_parquet(res.out), pd.read_csv(res.rejects_path, dtype={"value": str})


def _zip(b: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("drive.csv", b)
    return buf.getvalue()


VARIANTS = {
    "lf": ("d.csv", lambda: _text().encode()),
    "crlf": ("d.csv", lambda: _text("\r\n").encode()),
    "cr-only": ("d.csv", lambda: _text("\r").encode()),
    "utf8-bom": ("d.csv", lambda: codecs.BOM_UTF8 + _text().encode()),
    "utf16-le-bom": ("d.csv", lambda: _text().encode("utf-16")),  # Python writes the BOM, native (LE) order
    "utf16-be-bom": ("d.csv", lambda: codecs.BOM_UTF16_BE + _text().encode("utf-16-be")),
    "utf16-le-no-bom": ("d.csv", lambda: _text("\r\n").encode("utf-16-le")),
    "utf16-be-no-bom": ("d.csv", lambda: _text().encode("utf-16-be")),
    "utf32-bom": ("d.csv", lambda: _text().encode("utf-32")),
    "utf16-cr-only": ("d.csv", lambda: _text("\r").encode("utf-16")),
    "gzip": ("d.csv.gz", lambda: gzip.compress(_text().encode())),
    "gzip-misnamed": ("d.csv", lambda: gzip.compress(_text().encode())),
    "gzip-crlf": ("d.csv.gz", lambda: gzip.compress(_text("\r\n").encode())),
    "gzip-utf16": ("d.csv.gz", lambda: gzip.compress(_text().encode("utf-16"))),
    "bzip2": ("d.csv.bz2", lambda: bz2.compress(_text().encode())),
    "xz": ("d.csv.xz", lambda: lzma.compress(_text().encode())),
    "zip": ("d.csv.zip", lambda: _zip(_text().encode())),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_encoding_variant_reads_the_same_samples(tmp_path, variant):
    name, make = VARIANTS[variant]
    res, s, rej = _ingest(tmp_path, name, make())
    assert (res.n_read, res.n_accepted, res.n_rejected) == (N, N, 0), rej.to_string()
    assert s["source_line"].tolist() == list(range(2, N + 2))
    assert s["rsrp_dbm"].tolist() == [float(-80 - i % 30) for i in range(N)]
    assert (s["session"] == "d1").all() and (s["source_file"] == str(tmp_path / name)).all()


def test_compressed_logs_in_a_folder_are_found(tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "a.csv.gz").write_bytes(gzip.compress(_text().encode()))
    res = ingest_logs([tmp_path / "logs"], tmp_path / "s.parquet")
    assert res.n_accepted == N and res.files == (str(tmp_path / "logs" / "a.csv.gz"),)


def test_damaged_gzip_is_refused_with_the_true_cause(tmp_path):
    data = gzip.compress(_text().encode())[:-30]
    with pytest.raises(LogFormatError, match=r"d\.csv\.gz: damaged gzip data"):
        _ingest(tmp_path, "d.csv.gz", data)


def test_zip_with_several_files_is_refused(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.csv", _text())
        zf.writestr("b.csv", _text())
    with pytest.raises(LogFormatError, match=r"zip archive holds 2 files"):
        _ingest(tmp_path, "d.zip", buf.getvalue())


@pytest.mark.parametrize("extra_cols", [3000, 12000])
def test_header_longer_than_the_sniff_window(tmp_path, extra_cols):
    header = HEADER + "," + ",".join(f"vendor_extra_column_{i}" for i in range(extra_cols))  # > 64 KiB for 3000
    rows = [r + "," * extra_cols for r in _rows()]
    res, s, rej = _ingest(tmp_path, "d.csv", _text(header=header, rows=rows).encode())
    assert (res.n_read, res.n_accepted) == (N, N), rej.head().to_string()
    assert s["source_line"].tolist() == list(range(2, N + 2))


def test_comments_longer_than_the_sniff_window_before_the_header(tmp_path):
    comments = "".join(f"# logger setting {i} = {'x' * 60}\n" for i in range(2000))  # ~150 KB
    res, s, _ = _ingest(tmp_path, "d.csv", (comments + _text()).encode())
    assert (res.n_read, res.n_accepted) == (N, N)
    assert s["source_line"].iloc[0] == 2002


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_quoted_field_with_a_newline_is_one_row(tmp_path, eol):
    rows = [r + ",ok" for r in _rows()]
    rows[5] = rows[5][:-2] + '"driver note:' + eol + 'tunnel, GPS lost"'  # an unmapped free-text column
    rows[9] = rows[9][:-2] + '"a' + eol + 'b' + eol + 'c"'
    res, s, rej = _ingest(tmp_path, "d.csv", _text(eol, header=HEADER + ",note", rows=rows).encode())
    assert (res.n_read, res.n_accepted, res.n_rejected) == (N, N, 0), rej.to_string()
    # each row keeps its first physical line; the rows after a multi-line field keep theirs
    assert s["source_line"].tolist() == list(range(2, 8)) + list(range(9, 13)) + list(range(15, N + 5))
    assert s["rsrp_dbm"].tolist() == [float(-80 - i % 30) for i in range(N)]


def test_stray_quote_does_not_swallow_the_following_lines(tmp_path):
    rows = _rows()
    rows[5] = rows[5].replace(",d1,", ',d1 "car,', 1)  # an unbalanced quote inside a field
    res, s, _rej = _ingest(tmp_path, "d.csv", _text(rows=rows).encode())
    assert res.n_read == N and res.n_read == res.n_accepted + res.n_rejected
    assert res.n_accepted >= N - 1  # at most the line itself is lost, never the 34 after it
    assert s["source_line"].max() == N + 1


@pytest.mark.parametrize("block_bytes", [300, 1 << 20])
def test_nul_bytes_after_the_first_block_are_quarantined_with_their_cause(tmp_path, block_bytes):
    rows = _rows(1500)  # ~130 KB: the damage lies past the 64 KiB sniff window
    rows[1400] = rows[1400][:20] + "\x00\x00\x00" + rows[1400][20:]
    data = _text(rows=rows).encode() + b"\x00" * 500  # a crash left the file padded with NULs
    res, s, rej = _ingest(tmp_path, "d.csv", data, block_bytes=block_bytes)
    assert res.n_read == res.n_accepted + res.n_rejected
    assert res.n_accepted == 1499 and 1402 not in s["source_line"].tolist()
    nul = rej[rej["reason"].str.contains("NUL", case=False)]
    assert set(nul["line"]) == {1402, 1502} and (nul["action"] == "rejected").all(), rej.to_string()
    assert not rej["reason"].str.contains("missing time").any()


def test_invalid_utf8_after_the_first_block_names_the_byte(tmp_path):
    rows = _rows(1500)
    data = bytearray(_text(rows=rows).encode())
    at = data.index(b",LTE,", 70000)  # a damaged technology name far past the sniff window
    data[at + 2] = 0xFF
    res, _s, rej = _ingest(tmp_path, "d.csv", bytes(data), block_bytes=4096)
    assert res.n_read == 1500 and res.n_read == res.n_accepted + res.n_rejected
    hit = rej[rej["reason"].str.contains("UTF-8")]
    assert len(hit) == 1, rej.to_string()


def test_invalid_utf8_in_the_head_is_refused_with_the_true_cause(tmp_path):
    data = _text().encode().replace(b",LTE,", b",LT\xe9,", 1)
    with pytest.raises(LogFormatError, match=r"not UTF-8 text \(bad byte 0xe9 at offset \d+\)"):
        _ingest(tmp_path, "d.csv", data)


def test_binary_file_is_refused_as_such(tmp_path):
    with pytest.raises(LogFormatError, match=r"NUL byte at offset 3 .*not a delimited text log"):
        _ingest(tmp_path, "d.csv", b"\x89PN\x00G\r\n\x1a\n" + bytes(range(256)) * 4)
