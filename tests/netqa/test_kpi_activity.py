"""Throughput KPIs use download/upload periods only: idle zeros never enter DL/UL statistics."""

import pandas as pd
import pytest

from netqa.ingest import ingest_logs, load_samples
from netqa.kpi import compute_kpis, period_mask, spatial_bins

GNT_HEADER = ("Timestamp,Longitude,Latitude,Speed,Operatorname,CellID,NetworkMode,RSRP,RSRQ,SNR,CQI,RSSI,DL_bitrate,UL_bitrate,"
              "State,PINGAVG,PINGMIN,PINGMAX,PINGSTDEV,PINGLOSS,CELLHEX,NODEHEX,LACHEX,RAWCELLID,NRxRSRP,NRxRSRQ\n")
# (state, DL kbit/s, UL kbit/s): 4 idle seconds with the zeros G-NetTrack writes, 3 downloading, 3 uploading
ROWS = [("I", 0, 0)] * 4 + [("D", 30000, 0), ("D", 20000, 0), ("D", 10000, 0)] + [("U", 0, 4000), ("U", 0, 2000), ("U", 0, 6000)]


def _gnettrack(path):
    lines = [GNT_HEADER]
    for i, (state, dl, ul) in enumerate(ROWS):
        lines.append(f"2024.05.14_09.30.{i:02d},{-8.47 + i * 1e-4:.6f},{51.89 + i * 1e-4:.6f},30,OP,13,LTE,-90,-9,10.0,11,-60,"
                     f"{dl},{ul},{state},-,-,-,-,-,D,7920,2A1,7938061,-100,-10\n")
    path.write_text("".join(lines))
    return path


def _canonical(path):
    lines = ["time,lat,lon,session,tech,cell_id,rsrp_dbm,rsrq_db,sinr_db,dl_mbps,ul_mbps,activity\n"]
    act = {"I": "idle", "D": "download", "U": "upload"}
    for i, (state, dl, ul) in enumerate(ROWS):
        lines.append(f"2024-05-14T09:30:{i:02d}Z,{51.89 + i * 1e-4:.6f},{-8.47 + i * 1e-4:.6f},d1,LTE,7938061,-90,-9,10,"
                     f"{dl / 1000:g},{ul / 1000:g},{act[state]}\n")
    path.write_text("".join(lines))
    return path


def _check(k):
    assert k["n_dl_samples"] == 3 and k["dl_mbps_mean"] == pytest.approx(20.0) and k["dl_mbps_p50"] == pytest.approx(20.0)
    assert k["n_ul_samples"] == 3 and k["ul_mbps_mean"] == pytest.approx(4.0) and k["ul_mbps_p10"] == pytest.approx(2.4)


@pytest.mark.parametrize("maker", [_gnettrack, _canonical], ids=["gnettrack", "canonical-csv"])
def test_idle_zeros_never_enter_throughput(tmp_path, maker):
    log = maker(tmp_path / "log.csv")
    res = ingest_logs([log], tmp_path / "s.parquet")
    assert res.n_accepted == len(ROWS)
    s = load_samples(res.out)
    assert (s["dl_mbps"] == 0).sum() == 7  # ingest keeps the logged zeros...
    _check(compute_kpis(s))  # ...and the KPIs leave them out


def test_parquet_reingest_keeps_activity(tmp_path):
    first = ingest_logs([_gnettrack(tmp_path / "log.csv")], tmp_path / "a.parquet")
    again = ingest_logs([first.out], tmp_path / "b.parquet")
    s = load_samples(again.out)
    assert s["activity"].tolist() == ["idle"] * 4 + ["download"] * 3 + ["upload"] * 3
    _check(compute_kpis(s))


def test_row_without_activity_or_state_counts_its_measurement():
    df = pd.DataFrame({"dl_mbps": [0.0, 10.0, 30.0, 50.0], "activity": ["idle", "download", None, None],
                       "connected": [False, True, None, True]})
    assert period_mask(df, "download").tolist() == [False, True, True, False]
    k = compute_kpis(df)
    assert k["n_dl_samples"] == 2 and k["dl_mbps_mean"] == pytest.approx(20.0)


def test_bare_log_without_activity_uses_every_measured_value():
    k = compute_kpis(pd.DataFrame({"dl_mbps": [0.0, 10.0, float("nan")]}))
    assert k["n_dl_samples"] == 2 and k["dl_mbps_mean"] == pytest.approx(5.0)


def test_spatial_bins_dl_mean_over_download_periods_only():
    df = pd.DataFrame({"lat": [51.9] * 6, "lon": [-8.4] * 6, "rsrp_dbm": [-90.0] * 6, "sinr_db": [10.0] * 6,
                       "dl_mbps": [0.0, 0.0, 0.0, 10.0, 20.0, 30.0], "activity": ["idle"] * 3 + ["download"] * 3})
    b = spatial_bins(df, 100.0, min_samples=1)
    assert b["dl_mbps_mean"].tolist() == pytest.approx([20.0])
