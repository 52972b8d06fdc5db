"""Per-cell drive-test statistics (netqa kpi --per-cell) against values computed by hand on a tiny table."""

import math

import numpy as np
import pandas as pd
import pytest

from netqa.kpi import compute_kpis
from netqa.kpi_cells import PER_CELL_COLUMNS, per_cell_kpis, worst_cells

T0 = pd.Timestamp("2024-03-01 10:00:00", tz="UTC")


@pytest.fixture
def samples():
    # cell A: 3 samples, cell B: 2 samples, one sample without a serving cell
    return pd.DataFrame({
        "time": [T0 + pd.Timedelta(seconds=s) for s in range(6)],
        "session": ["s1"] * 6,
        "tech": ["LTE"] * 6,
        "cell_id": ["A", "A", "A", "B", "B", None],
        "rsrp_dbm": [-80.0, -90.0, -100.0, -110.0, -120.0, -70.0],
        "rsrq_db": [-10.0, -12.0, -14.0, -15.0, -16.0, -9.0],
        "sinr_db": [10.0, 0.0, -5.0, -3.0, 5.0, 20.0],
        "dl_mbps": [40.0, 20.0, np.nan, 0.0, 0.0, 50.0],
        "ul_mbps": [np.nan, np.nan, 5.0, 0.0, 0.0, np.nan],
        "activity": ["download", "download", "upload", "idle", "idle", "download"],
    })


@pytest.fixture
def events():
    t = T0 + pd.Timedelta(seconds=1)
    rows = [("call_attempt", "A"), ("call_attempt", "A"), ("call_setup_failure", "A"), ("call_drop", "A"),
            ("ho_attempt", "A"), ("ho_attempt", "A"), ("ho_success", "A"), ("ho_failure", "A"),
            ("call_attempt", "C")]
    ev = pd.DataFrame({"time": t, "session": "s1", "event": [r[0] for r in rows], "cell_id": [r[1] for r in rows]})
    # two handover events logged without a cell at 4.5 s: the last sample before them is served by B
    late = pd.DataFrame({"time": T0 + pd.Timedelta(seconds=4.5), "session": "s1", "event": ["ho_attempt", "ho_success"],
                         "cell_id": [None, None]})
    return pd.concat([ev, late], ignore_index=True)


def _row(t, cid):
    return t.set_index("cell_id").loc[cid]


def test_columns_and_rows(samples, events):
    t = per_cell_kpis(samples, events)
    assert list(t.columns) == list(PER_CELL_COLUMNS)
    assert t["cell_id"].tolist() == ["A", "B", "C"]  # C has events only; the cell-less sample is left out
    assert t["n_samples"].tolist() == [3, 2, 0]
    assert t["tech"].tolist()[:2] == ["LTE", "LTE"]


def test_cell_a_by_hand(samples, events):
    a = _row(per_cell_kpis(samples, events), "A")
    # coverage (LTE: RSRP >= -110 dBm and SINR >= -3 dB): -80/10 and -90/0 covered, -100/-5 not -> 2 of 3
    assert (a["n_covered"], a["n_coverage_samples"]) == (2, 3)
    assert a["coverage_rate"] == pytest.approx(2 / 3)
    # Wilson 95 % for 2/3 (z = 1.959964): centre 0.573 +- 0.365
    assert a["coverage_rate_ci_low"] == pytest.approx(0.2077, abs=1e-4)
    assert a["coverage_rate_ci_high"] == pytest.approx(0.9385, abs=1e-4)
    # RSRP: linear mean of 1e-8, 1e-9, 1e-10 mW = 3.7e-9 mW -> -84.318 dBm; dB mean -90
    assert a["rsrp_dbm_mean_lin"] == pytest.approx(10 * math.log10(3.7e-9), abs=1e-9)
    assert a["rsrp_dbm_mean_lin"] == pytest.approx(-84.318, abs=1e-3)
    assert a["rsrp_dbm_mean_db"] == pytest.approx(-90.0)
    # percentiles with linear interpolation over [-100, -90, -80]: rank 0.1 -> -99, 1 -> -90, 1.9 -> -81
    assert (a["rsrp_dbm_p5"], a["rsrp_dbm_p50"], a["rsrp_dbm_p95"]) == pytest.approx((-99.0, -90.0, -81.0))
    # SINR: (10 + 1 + 0.316228) / 3 = 3.772076 -> 5.7659 dB; dB mean 5/3
    assert a["sinr_db_mean_lin"] == pytest.approx(5.7659, abs=1e-4)
    assert a["sinr_db_mean_db"] == pytest.approx(5 / 3)
    # RSRQ: (0.1 + 0.0630957 + 0.0398107) / 3 = 0.0676355 -> -11.6983 dB; dB mean -12
    assert a["rsrq_db_mean_lin"] == pytest.approx(-11.6983, abs=1e-4)
    assert a["rsrq_db_mean_db"] == pytest.approx(-12.0)
    # events: 2 attempts - 1 set-up failure = 1 call, 1 drop; 2 HO attempts, 1 success, 1 failure
    assert (a["n_calls"], a["n_drops"], a["drop_rate"]) == (1, 1, 1.0)
    assert (a["n_ho_attempts"], a["n_ho_success"], a["n_ho_failures"], a["ho_success_rate"]) == (2, 1, 1, 0.5)
    # throughput over download periods only: 40, 20 -> mean 30, p10 22, p50 30, p90 38; upload: 5
    assert (a["dl_mbps_mean"], a["dl_mbps_p10"], a["dl_mbps_p50"], a["dl_mbps_p90"]) == pytest.approx((30, 22, 30, 38))
    assert (a["ul_mbps_mean"], a["ul_mbps_p50"], a["n_dl_samples"], a["n_ul_samples"]) == (5.0, 5.0, 2, 1)


def test_cell_b_and_c_by_hand(samples, events):
    t = per_cell_kpis(samples, events)
    b, c = _row(t, "B"), _row(t, "C")
    # -110/-3 is covered (thresholds inclusive), -120/5 is not
    assert (b["n_covered"], b["coverage_rate"]) == (1, 0.5)
    # idle rows never count for throughput: no DL/UL statistic, and empty rather than 0
    assert b["n_dl_samples"] == 0 and math.isnan(b["dl_mbps_mean"]) and math.isnan(b["ul_mbps_p90"])
    # the cell-less handover events are placed on B (the serving cell of the last sample before them)
    assert (b["n_ho_attempts"], b["n_ho_success"], b["ho_success_rate"]) == (1, 1, 1.0)
    # no calls on B: the drop rate has no denominator -> NaN, never 0
    assert b["n_calls"] == 0 and math.isnan(b["drop_rate"])
    assert (c["n_samples"], c["n_calls"]) == (0, 1) and math.isnan(c["coverage_rate"])


def test_counts_add_up_to_the_overall_kpis(samples, events):
    t = per_cell_kpis(samples, events)
    served = samples[samples["cell_id"].notna()]
    k = compute_kpis(served)
    assert t["n_covered"].sum() == k["n_covered"]
    assert t["n_coverage_samples"].sum() == k["n_coverage_samples"]
    assert t["n_samples"].sum() == len(served)


def test_linear_mean_never_below_db_mean():
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"cell_id": rng.choice(list("ABCDE"), 500), "rsrp_dbm": rng.uniform(-130, -50, 500),
                       "sinr_db": rng.uniform(-10, 30, 500), "rsrq_db": rng.uniform(-20, -3, 500)})
    t = per_cell_kpis(df)
    for q in ("rsrp_dbm", "sinr_db", "rsrq_db"):
        assert (t[f"{q}_mean_lin"] >= t[f"{q}_mean_db"] - 1e-12).all()


def test_worst_cells_ranks_by_coverage_and_needs_samples():
    t = pd.DataFrame({"cell_id": ["A", "B", "C", "D"], "n_samples": [100, 100, 5, 100],
                      "coverage_rate": [0.9, 0.5, 0.1, 0.5], "drop_rate": [0.0, 0.01, 0.0, 0.05]})
    w = worst_cells(t, n=2, min_samples=30)
    assert w["cell_id"].tolist() == ["D", "B"]  # C has too few samples; D before B on the drop rate


def test_no_cell_column_gives_an_empty_table():
    t = per_cell_kpis(pd.DataFrame({"rsrp_dbm": [-80.0]}))
    assert len(t) == 0 and list(t.columns) == list(PER_CELL_COLUMNS)


def test_cli_kpi_per_cell_csv_and_xlsx(tmp_path, samples, events):
    from openpyxl import load_workbook

    from netqa.cli import main

    s = tmp_path / "s.csv"
    samples.assign(lat=51.9, lon=-8.4).to_csv(s, index=False)
    e = tmp_path / "e.csv"
    events.assign(lat=51.9, lon=-8.4).to_csv(e, index=False)
    out, cells, xlsx = tmp_path / "k.json", tmp_path / "cells.csv", tmp_path / "k.xlsx"
    assert main(["kpi", "--samples", str(s), "--events", str(e), "--out", str(out), "--per-cell", str(cells),
                 "--xlsx", str(xlsx)]) == 0
    t = pd.read_csv(cells, dtype={"cell_id": "string"})
    assert t["cell_id"].tolist() == ["A", "B", "C"] and list(t.columns) == list(PER_CELL_COLUMNS)
    assert t.loc[0, "rsrp_dbm_mean_lin"] == pytest.approx(-84.318, abs=1e-3)
    assert pd.isna(t.loc[1, "drop_rate"])  # empty in the CSV, never 0
    wb = load_workbook(xlsx)
    assert wb.sheetnames == ["KPI", "Per cell", "Notes"]
    # an existing per-cell table is refused before any work, naming nothing overwritten
    out.unlink()
    assert main(["kpi", "--samples", str(s), "--out", str(out), "--per-cell", str(cells)]) == 2
    assert not out.exists()
