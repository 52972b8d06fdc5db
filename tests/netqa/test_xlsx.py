"""The --xlsx workbooks open in openpyxl with their sheets, units, frozen header, formats and legend colours."""

import pandas as pd
import pytest
from openpyxl import load_workbook

from netqa.errors import InputError, OutputExistsError
from netqa.kpi import kpi_report
from netqa.kpi_cells import per_cell_kpis
from netqa.maps.legend import default_legend
from netqa.xlsx import column_unit, compare_sheets, kpi_sheets, score_sheets, write_workbook


@pytest.fixture
def samples():
    return pd.DataFrame({"cell_id": ["A", "A", "B"], "tech": "LTE", "rsrp_dbm": [-80.0, -95.0, -112.0],
                         "sinr_db": [12.0, 3.0, -4.0], "rsrq_db": [-9.0, -11.0, -15.0], "dl_mbps": [40.0, 10.0, 1.0]})


def _headers(ws):
    return [c.value for c in ws[1]]


def test_kpi_workbook(tmp_path, samples):
    doc = kpi_report(samples)
    out = write_workbook(tmp_path / "kpi.xlsx", kpi_sheets(doc, per_cell_kpis(samples)), notes={"profile": "lte"})
    wb = load_workbook(out)
    assert wb.sheetnames == ["KPI", "Per cell", "Notes"]
    ws = wb["KPI"]
    heads = _headers(ws)
    assert heads[0] == "scope" and "rsrp_dbm_mean [dBm]" in heads and "coverage_rate [%]" in heads
    assert "dl_mbps_p50 [Mbit/s]" in heads and "n_samples" in heads
    assert ws.freeze_panes == "B2"
    assert ws.cell(row=2, column=1).value == "overall"
    col = heads.index("coverage_rate [%]") + 1
    assert ws.cell(row=2, column=col).number_format == "0.0%"
    assert ws.cell(row=2, column=col).value == pytest.approx(2 / 3)  # -112 dBm is below -110
    rsrp_col = heads.index("rsrp_dbm_p50 [dBm]") + 1
    assert ws.cell(row=2, column=rsrp_col).number_format == "0.0"
    cells = wb["Per cell"]
    assert [r[0].value for r in cells.iter_rows(min_row=2)] == ["A", "B"]
    assert cells.freeze_panes == "B2"


def test_conditional_colours_follow_the_map_legend(tmp_path, samples):
    out = write_workbook(tmp_path / "c.xlsx", kpi_sheets(kpi_report(samples), per_cell_kpis(samples))[1:])
    ws = load_workbook(out)["Per cell"]
    heads = _headers(ws)
    letter = ws.cell(row=1, column=heads.index("rsrp_dbm_mean_lin [dBm]") + 1).column_letter
    rules = [r for rng in ws.conditional_formatting for r in rng.rules if str(rng.sqref).startswith(letter)]
    legend = default_legend("rsrp_dbm")
    assert len(rules) == len(legend.classes)
    fills = {r.dxf.fill.fgColor.rgb[-6:].lower() for r in rules}
    assert fills == {c.color[1:] for c in legend.classes}
    # [min, max): the class "-90 ... -80" is AND(x >= -90, x < -80)
    assert any(">=-90" in r.formula[0] and "<-80" in r.formula[0] for r in rules)


def test_score_workbook_colour_scale(tmp_path):
    scores = pd.DataFrame({"region_id": ["R1", "R2"], "score_overall": [80.0, 30.0], "grade_overall": ["B", "E"],
                           "coverage_rate_measured": [0.97, 0.8], "n_samples": [100, 40], "geometry_wkt": ["", ""]})
    out = write_workbook(tmp_path / "s.xlsx", score_sheets(scores))
    ws = load_workbook(out)["Scorecard"]
    assert _headers(ws) == ["region_id", "score_overall [0-100]", "grade_overall", "coverage_rate_measured [%]", "n_samples"]
    types = {r.type for rng in ws.conditional_formatting for r in rng.rules}
    assert "colorScale" in types
    assert ws.cell(row=2, column=5).number_format == "#,##0"


def test_compare_workbook(tmp_path):
    stats = {"rsrp": {"n": 10, "mean_error_db": 1.0, "std_error_db": 2.0, "rmse_db": 2.2, "correlation": 0.9,
                      "per_cell": {"A": {"n": 6, "mean_error_db": 0.5, "std_error_db": 1.0, "rmse_db": 1.1, "correlation": 0.8}},
                      "per_distance_km": {"0-1": {"n": 10, "mean_error_db": 1.0, "std_error_db": 2.0, "rmse_db": 2.2,
                                                  "correlation": None}}}}
    wb = load_workbook(write_workbook(tmp_path / "c.xlsx", compare_sheets(stats)))
    ws = wb["RSRP error"]
    assert _headers(ws) == ["group", "key", "n", "mean_error_db [dB]", "std_error_db [dB]", "rmse_db [dB]", "correlation"]
    assert [(r[0].value, r[1].value) for r in ws.iter_rows(min_row=2)] == [("overall", "all"), ("per_cell", "A"), ("per_distance_km", "0-1")]
    assert ws.cell(row=4, column=7).value is None  # a null correlation stays empty
    # errors are not coloured with the RSRP legend (a -5 dB error is not a -5 dBm signal)
    assert not list(ws.conditional_formatting)


def test_refuses_existing_and_wrong_suffix(tmp_path, samples):
    p = tmp_path / "k.xlsx"
    write_workbook(p, kpi_sheets(kpi_report(samples)))
    with pytest.raises(OutputExistsError):
        write_workbook(p, kpi_sheets(kpi_report(samples)))
    with pytest.raises(InputError, match=r"--xlsx .*\.xlsx"):
        write_workbook(tmp_path / "k.xls", kpi_sheets(kpi_report(samples)))


@pytest.mark.parametrize("name, unit", [("rsrp_dbm_mean_measured", "dBm"), ("sinr_db_p5", "dB"), ("drop_rate", "%"),
                                        ("complaints_per_km2", "1/km²"), ("capacity_mbps_predicted", "Mbit/s"),
                                        ("raster_covered_share", "%"), ("n_ho_attempts", ""), ("region_id", "")])
def test_column_units(name, unit):
    assert column_unit(name) == unit


def test_same_tables_same_bytes(tmp_path, samples):
    import time

    a = write_workbook(tmp_path / "a.xlsx", kpi_sheets(kpi_report(samples), per_cell_kpis(samples)))
    time.sleep(2.1)  # zip dates have a 2 s resolution
    b = write_workbook(tmp_path / "b.xlsx", kpi_sheets(kpi_report(samples), per_cell_kpis(samples)))
    assert a.read_bytes() == b.read_bytes()
