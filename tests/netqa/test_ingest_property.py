"""Property tests: random garbage never escapes ingest as anything but a NetQAError."""

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netqa.errors import NetQAError
from netqa.ingest import ingest_logs

HEADER = "time,lat,lon,session,tech,cell_id,rsrp_dbm,rsrq_db,sinr_db,dl_mbps,ul_mbps\n"
GNT = "Timestamp,Longitude,Latitude,Speed,Operatorname,CellID,NetworkMode,RSRP,RSRQ,SNR,CQI,RSSI,DL_bitrate,UL_bitrate,State\n"

cell = st.one_of(
    st.sampled_from(["", "-", "NaN", "-200", "0", "255", "2147483647", "1e308", "-1e308", "inf", "LTE", "5G", "abc",
                     "2024-03-01T10:00:00Z", "2019.12.16_07.24.21", "51.9", "-8.4", '"q,q"', '"', "\t", "é"]),
    st.text(alphabet=string.printable, max_size=12),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
row = st.lists(cell, min_size=0, max_size=14).map(lambda cells: ",".join(cells))
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _run(tmp_path, content: bytes, fmt="auto"):
    p = tmp_path / "g.csv"
    p.write_bytes(content)
    out = tmp_path / "o.parquet"
    try:
        res = ingest_logs([p], out, fmt=fmt, overwrite=True)
    except NetQAError:
        return None
    assert res.n_read == res.n_accepted + res.n_rejected
    return res


@SETTINGS
@given(data=st.binary(max_size=400))
def test_random_bytes(tmp_path, data):
    _run(tmp_path, data)


@SETTINGS
@given(rows=st.lists(row, max_size=12), newline=st.sampled_from(["\n", "\r\n"]))
def test_random_rows_under_canonical_header(tmp_path, rows, newline):
    _run(tmp_path, (HEADER + newline.join(rows)).encode("utf-8"))


@SETTINGS
@given(rows=st.lists(row, max_size=12))
def test_random_rows_under_gnettrack_header(tmp_path, rows):
    _run(tmp_path, (GNT + "\n".join(rows) + "\n").encode("utf-8"), fmt="gnettrack")


@SETTINGS
@given(text=st.text(max_size=300))
def test_random_text(tmp_path, text):
    _run(tmp_path, text.encode("utf-8", "surrogatepass") if False else text.encode("utf-8", "replace"))
