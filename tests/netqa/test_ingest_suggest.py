"""Mapping assistant: suggested mappings for realistic headers ingest correctly."""

import tomllib

import numpy as np
import pandas as pd
import pytest

from netqa.cli import main
from netqa.ingest import ingest_logs, load_mapping
from netqa.ingest.suggest import render_toml, suggest_mapping

# (tool, delimiter, header, two rows); expectations below are per tool
LOGS = {
    "tems_discovery": (",", ["Time", "All-Latitude", "All-Longitude", "Serving Cell RSRP (dBm)", "Serving Cell RSRQ (dB)",
                             "RS SINR Rx[0] (dB)", "Serving Cell PCI", "Serving Cell EARFCN", "Neighbor Cell RSRP (dBm)"],
                       [["2024-07-01 10:00:00.000", "51.89", "-8.47", "-95.5", "-10.5", "12.0", "51", "1850", "-101.0"],
                        ["2024-07-01 10:00:01.000", "51.8901", "-8.4701", "-96.5", "-11.0", "11.0", "51", "1850", "-102.0"]]),
    "qualipoc": (";", ["Time", "Latitude", "Longitude", "Technology", "LTE RSRP [dBm]", "LTE RSRQ [dB]", "LTE SINR [dB]",
                       "Data DL Throughput [kbit/s]", "Operator"],
                 [["01.07.2024 10:00:00", "51.89", "-8.47", "LTE", "-95", "-10", "12", "25000", "Eir"],
                  ["01.07.2024 10:00:01", "51.8901", "-8.4701", "LTE", "-96", "-11", "11", "30000", "Eir"]]),
    "xcal": (",", ["TIME_STAMP", "Lat", "Lon", "LTE KPI PCell Serving RSRP[dBm]", "LTE KPI PCell Serving RSRQ[dB]",
                   "LTE KPI PCell Serving RS CINR[dB]", "LTE KPI PDSCH Throughput[Mbps]"],
             [["2024-07-01T10:00:00Z", "51.89", "-8.47", "-95", "-10", "12", "25.5"],
              ["2024-07-01T10:00:01Z", "51.8901", "-8.4701", "-96", "-11", "11", "30.5"]]),
    "netmonster": (",", ["timestamp", "latitude", "longitude", "network", "ssRsrp", "ssRsrq", "ssSinr", "pci", "nrArfcn"],
                   [["1719828000000", "51.89", "-8.47", "NR", "-95", "-10", "12", "51", "632628"],
                    ["1719828001000", "51.8901", "-8.4701", "NR", "-96", "-11", "11", "51", "632628"]]),
    "gnettrack": (",", ["Timestamp", "Longitude", "Latitude", "Speed", "NetworkMode", "RSRP", "RSRQ", "SNR", "DL_bitrate", "UL_bitrate", "NRxRSRP"],
                  [["2024.07.01_10.00.00", "-8.47", "51.89", "31", "LTE", "-95", "-10", "12.0", "25000", "87", "-101"],
                   ["2024.07.01_10.00.01", "-8.4701", "51.8901", "31", "LTE", "-96", "-11", "11.0", "30000", "87", "-102"]]),
}


def _write(tmp_path, tool):
    d, header, rows = LOGS[tool]
    p = tmp_path / f"{tool}.csv"
    p.write_text("\n".join(d.join(r) for r in [header, *rows]) + "\n")
    return p


@pytest.mark.parametrize("tool", sorted(LOGS))
def test_suggested_mapping_ingests(tmp_path, tool):
    log = _write(tmp_path, tool)
    out = tmp_path / f"{tool}.toml"
    assert main(["ingest", str(log), "--suggest-mapping", str(out)]) == 0
    tomllib.loads(out.read_text())  # valid TOML
    load_mapping(out)  # and a valid mapping
    res = ingest_logs([log], tmp_path / f"{tool}.parquet", fmt=str(out))
    assert (res.n_read, res.n_accepted, res.n_rejected) == (2, 2, 0)
    s = pd.read_parquet(res.out)
    assert s.time.iloc[0] == pd.Timestamp("2024-07-01T10:00:00Z")
    assert s.time.iloc[1] - s.time.iloc[0] == pd.Timedelta(seconds=1)
    assert (s.lat.iloc[0], s.lon.iloc[0]) == pytest.approx((51.89, -8.47))
    assert s.rsrp_dbm.tolist() == pytest.approx([-95.5, -96.5] if tool == "tems_discovery" else [-95, -96])
    assert s.rsrq_db.notna().all() and s.sinr_db.notna().all()
    assert s.tech.iloc[0] == ("NR" if tool == "netmonster" else "LTE")


def test_units_and_neighbours(tmp_path):
    qp = suggest_mapping(_write(tmp_path, "qualipoc"))
    assert qp.delimiter == ";" and qp.units["dl_mbps"][0] == "kbit/s"
    assert qp.time_format == "%d.%m.%Y %H:%M:%S"
    assert "Operator" in qp.unmapped
    gn = suggest_mapping(_write(tmp_path, "gnettrack"))
    assert gn.columns["NRxRSRP"] == "nbr_rsrp_dbm" and gn.columns["RSRP"] == "rsrp_dbm"
    assert gn.units["dl_mbps"][0] == "kbit/s" and "CHECK" in gn.units["dl_mbps"][1]  # guessed from values
    assert gn.units["ul_mbps"][0] == "kbit/s" and "like" in gn.units["ul_mbps"][1]  # its unit-less twin follows
    tems = suggest_mapping(_write(tmp_path, "tems_discovery"))
    assert tems.columns["Neighbor Cell RSRP (dBm)"] == "nbr_rsrp_dbm"
    assert suggest_mapping(_write(tmp_path, "netmonster")).time_format == "epoch_ms"


def test_ingested_throughput_in_mbps(tmp_path):
    log = _write(tmp_path, "qualipoc")
    out = tmp_path / "m.toml"
    out.write_text(render_toml(suggest_mapping(log)))
    s = pd.read_parquet(ingest_logs([log], tmp_path / "s.parquet", fmt=str(out)).out)
    assert s.dl_mbps.tolist() == pytest.approx([25.0, 30.0])


def test_decimal_comma_and_ambiguous_dates_are_flagged(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("Time;Lat;Lon;RSRP\n01/02/2024 10:00:00;51,89;-8,47;-95,5\n02/03/2024 10:00:01;51,89;-8,47;-96,5\n")
    sug = suggest_mapping(p)
    assert any("decimal commas" in w for w in sug.warnings)
    assert "CHECK: day/month order" in sug.time_note
    text = render_toml(sug)
    assert "# WARNING:" in text and "decimal commas" in text


def test_no_position_columns_points_to_track(tmp_path):
    p = tmp_path / "scan.csv"
    p.write_text("time,rsrp\n2024-07-01T10:00:00Z,-90\n")
    sug = suggest_mapping(p)
    assert any("--track" in w for w in sug.warnings)
    assert sug.tech_from_columns == {"rsrp": "LTE"}


def test_refuses_to_overwrite(tmp_path, capsys):
    log = _write(tmp_path, "xcal")
    out = tmp_path / "m.toml"
    out.write_text("x")
    assert main(["ingest", str(log), "--suggest-mapping", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert np.char.startswith(out.read_text(), "x")


@pytest.mark.parametrize(("argv", "message"), [
    (["ingest", "LOG"], "--out SAMPLES.parquet is required"),
    (["ingest", "LOG", "--suggest-mapping", "m.toml", "--out", "s.parquet"], "writes only the mapping"),
    (["ingest", "LOG", "LOG", "--suggest-mapping", "m.toml"], "exactly one LOG"),
    (["ingest", "LOG", "--out", "s.parquet", "--track", "missing.gpx"], "--track missing.gpx: cannot be read"),
])
def test_cli_errors(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "xcal").rename(tmp_path / "LOG")
    assert main(argv) == 2
    assert message in capsys.readouterr().err
