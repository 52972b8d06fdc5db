"""Cell-table readers: canonical CSV/XLSX, GeoPackage/GeoJSON, OpenCelliD, mapped operator sheets."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from netqa.errors import CellTableError, ConfigError, OutputExistsError
from netqa.io.cells import (
    OPENCELLID_COLUMNS,
    detect_format,
    load_mapping,
    packaged_mappings,
    read_cells,
    rs_power_dbm,
    write_cells,
)
from netqa.schema import CELL_COLUMNS

HEADER = list(CELL_COLUMNS)
ROWS = [
    ["S1", "S1A", "51.90", "-8.47", "30", "0", "2", "4", "46", "1842.5", "20", "LTE"],
    ["S1", "S1B", "51.90", "-8.47", "30", "120", "2", "4", "46", "1842.5", "20", "LTE"],
    ["S2", "S2A", "51.91", "-8.45", "25", "240", "0", "6", "49", "3500", "100", "NR"],
]


def write_csv(path, header=HEADER, rows=ROWS):
    lines = [",".join(header)] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def mutated(field: str, value: str, row: int = 1):
    rows = [list(r) for r in ROWS]
    rows[row][HEADER.index(field)] = value
    return rows


def test_canonical_csv(tmp_path):
    gdf = read_cells(write_csv(tmp_path / "cells.csv"))
    assert list(gdf.columns[: len(HEADER)]) == HEADER
    assert gdf.crs.to_epsg() == 4326 and len(gdf) == 3
    assert gdf.geometry.iloc[2].x == pytest.approx(-8.45) and gdf.geometry.iloc[2].y == pytest.approx(51.91)
    assert gdf["cell_id"].dtype == "string" and gdf["height_m"].dtype == "float64"
    assert (gdf["gain_dbi"] == 17.0).all() and (gdf["feeder_loss_db"] == 0.0).all()
    assert (gdf["flags"] == "defaults:gain_dbi").all()
    assert gdf["rs_power_dbm"].iloc[0] == pytest.approx(46 - 10 * math.log10(1200))
    assert gdf["rs_power_dbm"].iloc[2] == pytest.approx(49 - 10 * math.log10(12 * 273))


def test_semicolon_csv_with_bom_and_decimal_commas(tmp_path):
    p = tmp_path / "cells.csv"
    lines = [";".join(HEADER)] + [";".join(v.replace(".", ",") for v in r) for r in ROWS]
    p.write_bytes(("\ufeff" + "\n".join(lines) + "\n").encode("utf-8"))
    gdf = read_cells(p)
    assert gdf["lat"].iloc[2] == pytest.approx(51.91) and gdf["freq_mhz"].iloc[0] == 1842.5


def test_optional_columns_kept_and_rs_power_given(tmp_path):
    header = HEADER + ["pci", "gain_dbi", "rs_power_dbm", "vendor"]
    rows = [r + ["101", "18", "12.5", "acme"] for r in ROWS]
    gdf = read_cells(write_csv(tmp_path / "cells.csv", header, rows))
    assert gdf["pci"].dtype == "Int64" and gdf["pci"].iloc[0] == 101
    assert (gdf["rs_power_dbm"] == 12.5).all() and (gdf["flags"] == "").all()
    assert list(gdf.columns[-3:]) == ["vendor", "flags", "geometry"]


def test_defaults_fill_missing_columns_and_values(tmp_path):
    header = [c for c in HEADER if c != "height_m"]
    rows = [[v for c, v in zip(HEADER, r) if c != "height_m"] for r in ROWS]
    rows[0][header.index("azimuth_deg")] = ""
    gdf = read_cells(write_csv(tmp_path / "cells.csv", header, rows), defaults={"height_m": 30.0, "azimuth_deg": 0.0})
    assert (gdf["height_m"] == 30.0).all()
    assert gdf["flags"].iloc[0] == "defaults:height_m,azimuth_deg,gain_dbi"
    assert gdf["flags"].iloc[1] == "defaults:height_m,gain_dbi"


MALFORMED = [
    pytest.param(dict(rows=mutated("azimuth_deg", "400")), r"row 2 \(line 3\): field 'azimuth_deg' = 400 is outside 0\.\.360 deg", id="azimuth-range"),
    pytest.param(dict(rows=mutated("lat", "95")), r"row 2 \(line 3\): field 'lat' = 95 is outside -90\.\.90 deg", id="lat-range"),
    pytest.param(dict(rows=mutated("lon", "-181")), r"field 'lon' = -181 is outside -180\.\.180 deg", id="lon-range"),
    pytest.param(dict(rows=[r if i != 1 else r[:2] + ["0", "0"] + r[4:] for i, r in enumerate(ROWS)]), r"row 2 \(line 3\): field 'lat/lon' = '0, 0' is the null island", id="null-island"),
    pytest.param(dict(rows=mutated("height_m", "350")), r"field 'height_m' = 350 is outside 0\.\.300 m", id="height-range"),
    pytest.param(dict(rows=mutated("mech_tilt_deg", "-12")), r"field 'mech_tilt_deg' = -12 is outside -10\.\.30 deg", id="mech-tilt-range"),
    pytest.param(dict(rows=mutated("elec_tilt_deg", "31")), r"field 'elec_tilt_deg' = 31 is outside -10\.\.30 deg", id="elec-tilt-range"),
    pytest.param(dict(rows=mutated("tx_power_dbm", "61")), r"field 'tx_power_dbm' = 61 is outside 0\.\.60 dBm", id="power-range"),
    pytest.param(dict(rows=mutated("freq_mhz", "300")), r"field 'freq_mhz' = 300 is outside 400\.\.7125 MHz", id="freq-range"),
    pytest.param(dict(rows=mutated("bandwidth_mhz", "7")), r"row 2 \(line 3\): field 'bandwidth_mhz' = 7 is not a LTE channel bandwidth \(1\.4, 3, 5, 10, 15, 20 MHz\)", id="lte-bandwidth"),
    pytest.param(dict(rows=mutated("bandwidth_mhz", "35", row=2)), r"row 3 \(line 4\): field 'bandwidth_mhz' = 35 is not a NR channel bandwidth", id="nr-bandwidth"),
    pytest.param(dict(rows=mutated("tech", "CDMA")), r"field 'tech' = 'CDMA' is not one of GSM, UMTS, LTE, NR", id="tech-unknown"),
    pytest.param(dict(rows=mutated("height_m", "tall")), r"row 2 \(line 3\): field 'height_m' = 'tall' is not a number", id="non-numeric"),
    pytest.param(dict(rows=mutated("freq_mhz", "")), r"row 2 \(line 3\): field 'freq_mhz' = '' is empty", id="empty-required"),
    pytest.param(dict(rows=mutated("cell_id", "S1A")), r"duplicate cell_id 'S1A' at row 1 \(line 2\), row 2 \(line 3\)", id="duplicate-id"),
    pytest.param(dict(header=[h for h in HEADER if h not in ("tech", "freq_mhz")], rows=[r[:9] + r[10:11] for r in ROWS]), r"missing required column\(s\) freq_mhz, tech", id="missing-columns"),
    pytest.param(dict(header=HEADER + ["pci"], rows=[r + ["504"] for r in ROWS]), r"row 1 \(line 2\): field 'pci' = 504 is outside 0\.\.503 for LTE", id="lte-pci"),
    pytest.param(dict(header=HEADER + ["pci"], rows=[r + [pci] for r, pci in zip(ROWS, ["1", "2", "1008"])]), r"row 3 \(line 4\): field 'pci' = 1008 is outside 0\.\.1007 for NR", id="nr-pci"),
    pytest.param(dict(rows=[mutated("azimuth_deg", "400", row=0)[0], *mutated("azimuth_deg", "-5")[1:]]), r"row 1 \(line 2\): field 'azimuth_deg' = 400 .* \(and 1 more problem, e\.g\. row 2 \(line 3\): field 'azimuth_deg' = -5", id="counts-more"),
]


@pytest.mark.parametrize(("layout", "message"), MALFORMED)
def test_malformed_canonical_csv(tmp_path, layout, message):
    path = write_csv(tmp_path / "bad_cells.csv", **layout)
    with pytest.raises(CellTableError, match=r"bad_cells\.csv: .*" + message):
        read_cells(path, format="canonical")


def test_empty_table(tmp_path):
    with pytest.raises(CellTableError, match=r"has no rows"):
        read_cells(write_csv(tmp_path / "c.csv", rows=[]), format="canonical")


def test_unknown_default_column(tmp_path):
    with pytest.raises(CellTableError, match=r"defaults for unknown column\(s\) hieght_m"):
        read_cells(write_csv(tmp_path / "c.csv"), defaults={"hieght_m": 30})


def test_undetectable_format_names_what_was_expected(tmp_path):
    p = tmp_path / "mystery.csv"
    p.write_text("name,x,y\na,1,2\n")
    with pytest.raises(CellTableError, match=r"mystery\.csv: cannot tell the cell-table format .*missing site_id.* pass format="):
        read_cells(p)


def test_unknown_format_option(tmp_path):
    with pytest.raises(CellTableError, match=r"format = 'kml' is unknown; choose one of auto, canonical"):
        read_cells(write_csv(tmp_path / "c.csv"), format="kml")


def test_missing_file(tmp_path):
    with pytest.raises(CellTableError, match=r"nope\.csv: cell table not found"):
        read_cells(tmp_path / "nope.csv")


# --- vector ----------------------------------------------------------------------


def _frame():
    return pd.DataFrame(ROWS, columns=HEADER)


@pytest.mark.parametrize("ext", ["gpkg", "geojson"])
def test_vector_layer_takes_position_from_geometry(tmp_path, ext):
    df = _frame()
    utm = gpd.GeoDataFrame(
        df.drop(columns=["lat", "lon"]),
        geometry=gpd.points_from_xy(df["lon"].astype(float), df["lat"].astype(float), crs="EPSG:4326"),
    ).to_crs("EPSG:32629")
    p = tmp_path / f"cells.{ext}"
    utm.to_file(p, engine="pyogrio")
    gdf = read_cells(p)
    assert gdf["lat"].to_numpy() == pytest.approx([51.90, 51.90, 51.91], abs=1e-9)
    assert gdf["lon"].to_numpy() == pytest.approx([-8.47, -8.47, -8.45], abs=1e-9)
    assert gdf.crs.to_epsg() == 4326


def test_vector_bad_value_names_the_feature(tmp_path):
    df = _frame()
    df.loc[2, "azimuth_deg"] = "361"
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"].astype(float), df["lat"].astype(float)), crs="EPSG:4326")
    gdf.to_file(tmp_path / "c.gpkg", engine="pyogrio")
    with pytest.raises(CellTableError, match=r"c\.gpkg: feature 3: field 'azimuth_deg' = 361 is outside 0\.\.360"):
        read_cells(tmp_path / "c.gpkg")


@pytest.mark.parametrize("ext", ["csv", "gpkg"])
def test_write_cells_round_trip(tmp_path, ext):
    gdf = read_cells(write_csv(tmp_path / "in.csv"))
    out = write_cells(gdf, tmp_path / f"out.{ext}")
    back = read_cells(out)
    pd.testing.assert_frame_equal(
        pd.DataFrame(back.drop(columns="geometry")), pd.DataFrame(gdf.drop(columns="geometry")), check_dtype=False
    )
    with pytest.raises(OutputExistsError):
        write_cells(gdf, out)


# --- OpenCelliD --------------------------------------------------------------------

OCID_ROWS = [
    "LTE,272,1,1001,5126913,101,-8.4700,51.9000,1000,12,1,1500000000,1600000000,0",
    "LTE,272,1,1001,5126914,102,-8.4700,51.9000,1000,9,1,1500000000,1600000000,0",
    "UMTS,272,2,31,123456,400,-8.4500,51.8900,2000,3,1,1500000000,1600000000,-90",
    "GSM,272,3,40,2211,,-8.4400,51.8800,3000,1,1,1500000000,1600000000,0",
    "NR,272,1,1001,98765432,-1,-8.4600,51.9100,500,2,1,1500000000,1600000000,0",
    "CDMA,310,4,1,1,,-8.4,51.8,100,1,1,1500000000,1600000000,0",
]


@pytest.mark.parametrize("with_header", [True, False], ids=["header", "no-header"])
def test_opencellid(tmp_path, with_header):
    p = tmp_path / "ocid.csv"
    lines = ([",".join(OPENCELLID_COLUMNS)] if with_header else []) + OCID_ROWS
    p.write_text("\n".join(lines) + "\n")
    assert detect_format(p) == "opencellid"
    gdf = read_cells(p)
    assert list(gdf["cell_id"]) == ["272-1-1001-5126913", "272-1-1001-5126914", "272-2-31-123456", "272-3-40-2211", "272-1-1001-98765432"]
    # LTE: eNB id = cell // 256 = 20027 for both sectors
    assert list(gdf["site_id"][:2]) == ["272-1-20027", "272-1-20027"]
    assert gdf["site_id"].iloc[3] == "272-3-40-2211"
    assert list(gdf["tech"]) == ["LTE", "LTE", "UMTS", "GSM", "NR"]
    assert gdf["pci"].iloc[0] == 101 and pd.isna(gdf["pci"].iloc[3]) and pd.isna(gdf["pci"].iloc[4])
    assert list(gdf["bandwidth_mhz"]) == [20.0, 20.0, 5.0, 0.2, 100.0]
    assert (gdf["height_m"] == 30.0).all() and (gdf["antenna"] == "omni").all()
    assert gdf["flags"].iloc[0].startswith("defaults:freq_mhz,bandwidth_mhz,tx_power_dbm,height_m,azimuth_deg")
    assert np.isnan(gdf["rs_power_dbm"].iloc[3]) and gdf["rs_power_dbm"].iloc[0] == pytest.approx(46 - 10 * math.log10(1200))


def test_opencellid_user_defaults_override(tmp_path):
    p = tmp_path / "ocid.csv"
    p.write_text("\n".join(OCID_ROWS[:2]) + "\n")
    gdf = read_cells(p, format="opencellid", defaults={"height_m": 25.0})
    assert (gdf["height_m"] == 25.0).all() and "height_m" in gdf["flags"].iloc[0]


def test_opencellid_bad_line_number(tmp_path):
    p = tmp_path / "ocid.csv"
    rows = list(OCID_ROWS[:3])
    rows[2] = rows[2].replace("51.8900", "91.5")
    p.write_text(",".join(OPENCELLID_COLUMNS) + "\n" + "\n".join(rows) + "\n")
    with pytest.raises(CellTableError, match=r"ocid\.csv: line 4: field 'lat' = 91\.5 is outside -90\.\.90"):
        read_cells(p)


def test_opencellid_non_integer_id(tmp_path):
    p = tmp_path / "ocid.csv"
    p.write_text(OCID_ROWS[0].replace("5126913", "abc") + "\n")
    with pytest.raises(CellTableError, match=r"line 1: field 'cell' = 'abc' is not a non-negative integer"):
        read_cells(p)


# --- mapped operator sheets --------------------------------------------------------

SHEET = pd.DataFrame(
    {
        "Site ID": ["CRK001", "CRK001", "CRK002"],
        "Cell Name": ["CRK001_L18_1", "CRK001_L18_2", "CRK002_N35_1"],
        "Latitude": [51.9, 51.9, 51.91],
        "Longitude": [-8.47, -8.47, -8.45],
        "Antenna Height (m)": [30, 30, 25],
        "Azimuth": [0, 120, 240],
        "M-Tilt": [None, 2, 0],
        "E-Tilt": [4, 4, 6],
        "Max Tx Power (W)": [40, 40, 80],
        "DL Frequency (MHz)": [1842.5, 1842.5, 3500],
        "Bandwidth (MHz)": [20, 20, 100],
        "Technology": ["4G", "4G", "5G"],
        "PCI": [101, 102, 500],
    }
)


def test_packaged_mapping_reads_xlsx_with_unit_conversion(tmp_path):
    p = tmp_path / "ep.xlsx"
    with pd.ExcelWriter(p, engine="openpyxl") as xw:
        pd.DataFrame({"note": ["cover sheet"]}).to_excel(xw, sheet_name="Info", index=False)
        SHEET.to_excel(xw, sheet_name="Cells", index=False)
    assert "operator_example" in packaged_mappings()
    gdf = read_cells(p, mapping="operator_example")
    assert list(gdf["tech"]) == ["LTE", "LTE", "NR"]
    assert gdf["tx_power_dbm"].to_numpy() == pytest.approx([46.0206, 46.0206, 49.0309], abs=1e-4)
    assert gdf["mech_tilt_deg"].iloc[0] == 0.0 and gdf["flags"].iloc[0] == "defaults:mech_tilt_deg,gain_dbi"
    assert gdf["flags"].iloc[1] == "defaults:gain_dbi"


def test_mapped_sheet_error_names_sheet_row(tmp_path):
    p = tmp_path / "ep.xlsx"
    bad = SHEET.copy()
    bad.loc[2, "Azimuth"] = 400
    bad.to_excel(p, sheet_name="Cells", index=False)
    with pytest.raises(CellTableError, match=r"ep\.xlsx: sheet 'Cells' row 4: field 'azimuth_deg' = 400 is outside 0\.\.360"):
        read_cells(p, mapping="operator_example")


def test_mapping_toml_on_csv_with_semicolons(tmp_path):
    toml = tmp_path / "m.toml"
    toml.write_text(
        '[source]\ndelimiter = ";"\nheader_row = 2\n'
        '[columns]\nSITE = "site_id"\nCELL = "cell_id"\nLAT = "lat"\nLON = "lon"\nHGT_FT = "height_m"\nAZ = "azimuth_deg"\n'
        'PWR_DBW = "tx_power_dbm"\nFREQ_GHZ = "freq_mhz"\nRAT = "tech"\n'
        '[units]\nheight_m = "ft"\ntx_power_dbm = "dBW"\nfreq_mhz = "GHz"\n'
        '[defaults]\nmech_tilt_deg = 0\nelec_tilt_deg = 4\nbandwidth_mhz = 20\n'
    )
    csv = tmp_path / "sheet.csv"
    csv.write_text("exported 2024-05-01\nSITE;CELL;LAT;LON;HGT_FT;AZ;PWR_DBW;FREQ_GHZ;RAT\nA;A1;51,9;-8,47;100;90;16;1,8425;LTE\n")
    gdf = read_cells(csv, format=str(toml))
    assert gdf["height_m"].iloc[0] == pytest.approx(30.48)
    assert gdf["tx_power_dbm"].iloc[0] == pytest.approx(46.0)
    assert gdf["freq_mhz"].iloc[0] == pytest.approx(1842.5)
    assert gdf["lat"].iloc[0] == pytest.approx(51.9)
    assert gdf["flags"].iloc[0] == "defaults:mech_tilt_deg,elec_tilt_deg,bandwidth_mhz,gain_dbi"


@pytest.mark.parametrize(
    ("mapping", "exc", "message"),
    [
        pytest.param({"columns": {"A": "height"}}, ConfigError, r"\[columns\] names unknown canonical column\(s\) height", id="unknown-target"),
        pytest.param({"columns": {"A": "cell_id"}, "units": {"tx_power_dbm": "hp"}}, ConfigError, r"\[units\] tx_power_dbm = 'hp' is unknown; allowed: dbm, dbw, w, mw", id="unknown-unit"),
        pytest.param({"columns": {}}, ConfigError, r"\[columns\] section is empty", id="no-columns"),
        pytest.param({"columns": {"A": "cell_id"}, "colums": {}}, ConfigError, r"unknown section\(s\) colums", id="typo-section"),
        pytest.param({"columns": {"A": "cell_id", "B": "cell_id"}}, ConfigError, r"maps several source columns onto cell_id", id="duplicate-target"),
    ],
)
def test_malformed_mapping(mapping, exc, message):
    with pytest.raises(exc, match=message):
        load_mapping(mapping)


def test_mapping_column_absent_from_sheet(tmp_path):
    csv = tmp_path / "sheet.csv"
    csv.write_text("SITE,CELL\nA,A1\n")
    with pytest.raises(CellTableError, match=r"sheet\.csv: column\(s\) 'LAT' named in <mapping dict> are not in the sheet \(it has 'SITE', 'CELL'\)"):
        read_cells(csv, mapping={"columns": {"SITE": "site_id", "CELL": "cell_id", "LAT": "lat"}})


def test_mapping_not_found():
    with pytest.raises(ConfigError, match=r"mapping 'nosuch' not found; give a TOML path or one of: operator_example"):
        load_mapping("nosuch")


def test_xlsx_without_mapping_is_explained(tmp_path):
    p = tmp_path / "ep.xlsx"
    SHEET.to_excel(p, index=False)
    with pytest.raises(CellTableError, match=r"ep\.xlsx: the first sheet's header .* read an operator sheet with a mapping TOML"):
        read_cells(p)


# --- rs_power_dbm --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tech", "bw", "n_rb"),
    [("LTE", 1.4, 6), ("LTE", 3, 15), ("LTE", 5, 25), ("LTE", 10, 50), ("LTE", 15, 75), ("LTE", 20, 100),
     ("NR", 5, 11), ("NR", 20, 51), ("NR", 40, 106), ("NR", 100, 273)],
    ids=lambda v: str(v),
)
def test_rs_power_n_rb(tech, bw, n_rb):
    assert rs_power_dbm(43.0, bw, tech) == pytest.approx(43.0 - 10 * math.log10(12 * n_rb))


def test_rs_power_vectorised_and_non_ofdm():
    out = rs_power_dbm([46.0, 43.0, 43.0], [20.0, 5.0, 0.2], ["LTE", "UMTS", "GSM"])
    assert out[0] == pytest.approx(15.2082, abs=1e-4) and np.isnan(out[1:]).all()


def test_rs_power_rejects_bad_bandwidth():
    with pytest.raises(ValueError, match=r"bandwidth_mhz = \[7\.0\] has no resource-block count"):
        rs_power_dbm(46.0, 7.0, "LTE")


# --- the shared synthetic test world (skips until it exists) -------------------------


@pytest.mark.parametrize("name", ["cells.csv", "cells.gpkg"])
def test_world_cells(testdata, name):
    p = testdata / name
    if not p.exists():
        pytest.skip(f"testdata/{name} not generated yet")
    gdf = read_cells(p)
    assert len(gdf) > 0 and gdf["cell_id"].is_unique and gdf.crs.to_epsg() == 4326
