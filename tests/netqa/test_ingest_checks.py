"""Range-end RSRQ reports and file-level lat/lon swaps."""

import numpy as np
import pandas as pd
import pytest

from netqa.errors import InputError

from netqa.ingest import ingest_logs, load_samples
from netqa.ingest.batch import FLAG_BITS

HEADER = "time,lat,lon,session,tech,cell_id,rsrp_dbm,rsrq_db,sinr_db,dl_mbps,ul_mbps\n"


def _rsrq_log(path, tech, values):
    rows = [f"2024-03-01T10:00:{i:02d}Z,{51.9 + i * 1e-4:.6f},-8.400000,d1,{tech},1001,-90,{v},10,," for i, v in enumerate(values)]
    path.write_text(HEADER + "\n".join(rows) + "\n")
    return path


# (tech, logged RSRQ, kept value or None if cleared, flagged as a range-end report)
RSRQ_CASES = [
    ("LTE", -20.0, -20.0, True),  # integer RSRQ_00 report: "below -19.5 dB"
    ("LTE", -19.5, -19.5, False),
    ("LTE", -19.0, -19.0, False),
    ("LTE", -20.5, None, False),
    ("LTE", -3.0, -3.0, False),
    ("LTE", -2.5, -2.5, True),  # RSRQ_34 "-3 dB or better", written half a step up
    ("LTE", -1.0, None, False),
    ("NR", -43.5, -43.5, True),
    ("NR", -45.0, None, False),
]


@pytest.mark.parametrize("tech,logged,kept,flagged", RSRQ_CASES, ids=[f"{c[0]}{c[1]:g}" for c in RSRQ_CASES])
def test_rsrq_range_end_reports_kept_and_flagged(tmp_path, tech, logged, kept, flagged):
    log = _rsrq_log(tmp_path / "d.csv", tech, [-10.0, logged])
    res = ingest_logs([log], tmp_path / "s.parquet")
    assert (res.n_read, res.n_accepted, res.n_rejected) == (2, 2, 0)
    s = load_samples(res.out)
    v, f = s["rsrq_db"].iloc[1], int(s["value_flags"].iloc[1])
    if kept is None:
        assert np.isnan(v) and f & FLAG_BITS["rsrq_db"]
    else:
        assert v == kept
    assert bool(f & FLAG_BITS["range_end"]) == flagged
    rej = pd.read_csv(res.rejects_path)
    assert len(rej) == (1 if kept is None else 0)  # a flagged value is no reject
    assert sum(n for k, n in res.reasons.items() if k.startswith("flagged: rsrq_db")) == int(flagged)


TESTDATA = __import__("pathlib").Path(__file__).resolve().parents[2] / "testdata"
CELLS = TESTDATA / "cells.csv"
DRIVE = TESTDATA / "drives" / "d1_highway_valdera.csv"
needs_world = pytest.mark.skipif(not (CELLS.is_file() and DRIVE.is_file()), reason="test world not generated")


def _swapped_copy(tmp_path):
    """The test world's drive with the lat and lon columns exchanged (both stay within +-90)."""
    df = pd.read_csv(DRIVE, dtype=str)
    df = df.rename(columns={"lat": "lon", "lon": "lat"})
    p = tmp_path / "d1_swapped.csv"
    df.to_csv(p, index=False)
    return p


@needs_world
def test_log_fitting_the_cells_only_swapped_is_refused_never_fixed(tmp_path):
    """Issue 13: a lat/lon exchange between log and table is never a reason to alter the log."""
    # alone, the swapped log cannot say which side is wrong: the run stops with an error that names the table
    with pytest.raises(InputError, match=r"cells\.csv: the cell table's latitude and longitude look exchanged"):
        ingest_logs([_swapped_copy(tmp_path)], tmp_path / "s.parquet", cells=CELLS)
    assert not (tmp_path / "s.parquet").exists()
    # beside a log that fits the table as given, the swapped log is the odd one out: that file is refused
    res = ingest_logs([DRIVE, _swapped_copy(tmp_path)], tmp_path / "s.parquet", cells=CELLS)
    assert res.files_latlon_swapped == (str(tmp_path / "d1_swapped.csv"),)
    assert [f for f, _ in res.files_failed] == [str(tmp_path / "d1_swapped.csv")]
    assert "only with latitude and longitude exchanged" in res.files_failed[0][1]
    s = load_samples(res.out)
    assert set(s["source_file"].astype(str)) == {str(DRIVE)}
    assert not (s["value_flags"] & FLAG_BITS["latlon_swapped"]).any()
    assert res.n_read == res.n_accepted + res.n_rejected


def test_cell_table_with_swapped_latlon_is_an_error_about_the_table(tmp_path):
    cells = pd.DataFrame({"site_id": ["s1", "s2"], "cell_id": ["1001", "1002"], "lat": [-8.40, -8.38], "lon": [51.90, 51.92],  # Cork, swapped
                          "height_m": 30, "azimuth_deg": [0, 120], "mech_tilt_deg": 0, "elec_tilt_deg": 4, "tx_power_dbm": 46,
                          "freq_mhz": 1800, "bandwidth_mhz": 20, "tech": "LTE"})
    cells.to_csv(tmp_path / "cells.csv", index=False)
    log = tmp_path / "d.csv"
    log.write_text("time,lat,lon,cell_id,rsrp_dbm\n" + "".join(
        f"2024-03-01T10:00:{i:02d}Z,{51.90 + i * 1e-4:.6f},-8.40,1001,-90\n" for i in range(20)))
    with pytest.raises(InputError, match=r"cells\.csv: the cell table's latitude and longitude look exchanged.*fix the table"):
        ingest_logs([log], tmp_path / "s.parquet", cells=tmp_path / "cells.csv")


@needs_world
def test_latlon_swap_left_alone_without_cells(tmp_path):
    res = ingest_logs([_swapped_copy(tmp_path)], tmp_path / "s.parquet")
    assert res.files_latlon_swapped == ()
    s = load_samples(res.out)
    assert s["lat"].between(-4, -3).all()  # still the swapped values: nothing to tell them from a drive elsewhere


def test_swap_check_undecided_without_positions():
    from netqa.ingest.cellmatch import LatLonSwapCheck

    chk = LatLonSwapCheck(pd.DataFrame({"cell_id": ["a"], "lat": [51.9], "lon": [-8.4]}))
    assert chk.decide(np.array([np.nan]), np.array([np.nan])) is None
    assert chk.decide(np.array([-8.41]), np.array([51.91])) is True
    assert chk.decide(np.array([51.91]), np.array([-8.41])) is False


def test_pci_matching_picks_nearest_cell_with_that_pci_and_earfcn():
    from netqa.ingest.batch import Batch, constant_dict
    from netqa.ingest.cellmatch import CellMatcher, _haversine_km

    rng = np.random.default_rng(5)
    cells = pd.DataFrame({"cell_id": [f"C{i}" for i in range(40)], "lat": rng.uniform(51.8, 52.0, 40),
                          "lon": rng.uniform(-8.6, -8.3, 40), "pci": rng.integers(0, 6, 40), "earfcn": rng.choice([100, 300], 40)})
    n = 300
    lat, lon = rng.uniform(51.8, 52.0, n), rng.uniform(-8.6, -8.3, n)
    pci = rng.integers(0, 8, n).astype(float)  # 6 and 7 exist in no cell
    earfcn = np.where(rng.random(n) < 0.3, np.nan, rng.choice([100.0, 300.0], n))
    b = Batch({"lat": lat, "lon": lon, "pci": pci, "earfcn": earfcn, "cell_id": constant_dict(None, n)}, np.arange(n))
    got = CellMatcher(cells).match(b).cols["cell_id"].to_pylist()
    for i in range(n):  # row by row: nearest cell with the same PCI (and EARFCN when logged), within 30 km
        sel = (cells["pci"] == pci[i]) & (np.isnan(earfcn[i]) | (cells["earfcn"] == earfcn[i]))
        if not sel.any():
            assert got[i] is None
            continue
        d = _haversine_km(lat[i], lon[i], cells["lat"][sel].to_numpy(), cells["lon"][sel].to_numpy())
        assert got[i] == cells["cell_id"][sel].to_numpy()[np.argmin(d)]
