"""QGIS styles shipped with the outputs: the coverage .qml, the GeoPackage layer_styles table (read back with
GDAL/OGR through pyogrio), numeric scorecard fields, and the KMZ LookAt on the study area."""

import math
import xml.etree.ElementTree as ET

import numpy as np
import pyogrio
import pytest
import rasterio
from rasterio.warp import transform_bounds
from test_maps import KML_NS, _kmz, _write_coverage

from netqa.maps.legend import default_legend
from netqa.maps.qgis import BREAK_OFFSET, LAYER_STYLES_COLUMNS, raster_qml, score_styles, write_layer_styles, write_raster_qml


@pytest.fixture
def coverage(tmp_path):
    return _write_coverage(tmp_path / "coverage.tif")


def _items(qml_text):
    root = ET.fromstring(qml_text.split("\n", 1)[1])  # drop the DOCTYPE line
    r = root.find("pipe/rasterrenderer")
    shader = r.find("rastershader/colorrampshader")
    return root, r, shader, shader.findall("item")


def test_coverage_qml_has_the_legend_classes(coverage):
    qml = write_raster_qml(coverage)
    assert qml == coverage.with_suffix(".qml") and qml.is_file()
    root, r, shader, items = _items(qml.read_text(encoding="utf-8"))
    assert root.tag == "qgis"
    assert r.get("type") == "singlebandpseudocolor" and r.get("band") == "1"
    assert shader.get("colorRampType") == "DISCRETE"
    legend = default_legend("rsrp_dbm")
    classes = sorted(legend.classes, key=lambda c: c.max_value)
    assert [i.get("color") for i in items] == [c.color for c in classes]
    assert [i.get("label") for i in items] == [c.label for c in classes]
    values = [float(i.get("value")) for i in items]
    # breaks just below each class's (exclusive) upper bound: -110, -105, -100, -90, -80, then the open top class
    assert values[:-1] == pytest.approx([-110.0, -105.0, -100.0, -90.0, -80.0], abs=1e-6)
    assert all(v < c.max_value for v, c in zip(values[:-1], classes))
    assert math.isinf(values[-1])


def _qgis_discrete(values_breaks, v, tol=1e-7):
    """QGIS's DISCRETE rule: the first break at or above the value (within QGIS's 1e-7 tolerance)."""
    for i, b in enumerate(values_breaks):
        if b + tol >= v:
            return i
    return None


@pytest.mark.parametrize("v", [-80.0, -80.0001, -110.0, -110.0001, -79.99, -130.0, -40.0])
def test_qgis_discrete_rule_puts_bounds_in_the_legend_class(v):
    legend = default_legend("rsrp_dbm")
    classes = sorted(legend.classes, key=lambda c: c.max_value)
    _, _, _, items = _items(raster_qml(legend))
    breaks = [float(i.get("value")) for i in items]
    v32 = float(np.float32(v))
    got = _qgis_discrete(breaks, v32)
    want = classes.index(legend.classes[int(legend.classify([v32])[0])])
    assert got == want


def test_qml_band_index_follows_the_band_name(tmp_path):
    p = tmp_path / "two.tif"
    with rasterio.open(p, "w", driver="GTiff", width=2, height=2, count=2, dtype="float32", crs="EPSG:32629",
                       transform=rasterio.Affine(50, 0, 0, 0, -50, 100)) as ds:
        for i, name in enumerate(["best_cell", "rsrp_dbm"], 1):
            ds.write(np.zeros((2, 2), "float32"), i)
            ds.update_tags(i, name=name)
    _, r, _, _ = _items(write_raster_qml(p).read_text(encoding="utf-8"))
    assert r.get("band") == "2"


def test_layer_styles_table_reads_back_with_ogr(tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    gpkg = tmp_path / "s.gpkg"
    gdf = gpd.GeoDataFrame({"region_id": ["R1"], "name": ["Centre"], "score_overall": [77.0]}, geometry=[box(0, 0, 1, 1)],
                           crs="EPSG:32629")
    pyogrio.write_dataframe(gdf, gpkg, layer="scores", driver="GPKG")
    write_layer_styles(gpkg, score_styles())
    assert {name for name, _ in pyogrio.list_layers(gpkg)} == {"scores", "layer_styles"}
    st = pyogrio.read_dataframe(gpkg, layer="layer_styles")
    assert list(st.columns) == list(LAYER_STYLES_COLUMNS)
    assert st["f_table_name"].tolist() == ["scores", "scores"]
    assert st["f_geometry_column"].tolist() == ["geom", "geom"]
    assert st["styleName"].tolist() == ["score_overall", "regions"]
    assert st["useAsDefault"].tolist() == [True, False]
    qml = ET.fromstring(st.loc[0, "styleQML"].split("\n", 1)[1])
    renderer = qml.find("renderer-v2")
    assert renderer.get("type") == "graduatedSymbol" and renderer.get("attr") == "score_overall"
    ranges = [(float(r.get("lower")), float(r.get("upper"))) for r in renderer.find("ranges")]
    assert [lo for lo, _ in ranges] == [0.0, 40.0, 55.0, 70.0, 85.0]  # the default grades E..A
    assert ET.fromstring(st.loc[0, "styleSLD"].split("\n", 1)[1]).tag.endswith("StyledLayerDescriptor")
    # the table has QGIS's primary key name
    import sqlite3

    with sqlite3.connect(gpkg) as con:
        cols = [r[1] for r in con.execute("PRAGMA table_info(layer_styles)")]
    assert cols == ["id", *LAYER_STYLES_COLUMNS]


def test_scorecard_gpkg_has_styles_and_numeric_fields(tmp_path, testdata):
    from netqa.score import score_regions

    out = tmp_path / "scores.gpkg"
    score_regions(testdata / "regions.gpkg", out, complaints=testdata / "complaints.csv")
    info = pyogrio.read_info(out, layer="scores")
    types = dict(zip(info["fields"], info["dtypes"]))
    # no traffic data: the two traffic fields are empty but numeric, not text
    assert types["offered_traffic_mbps"] == "float64" and types["load_predicted"] == "float64"
    text = {f for f, t in types.items() if t == "object"}
    assert all(f in {"region_id", "name", "area_type", "status", "notes", "error", "scheme"} or
               f.startswith(("grade_", "basis_")) for f in text), text
    st = pyogrio.read_dataframe(out, layer="layer_styles")
    assert st["styleName"].tolist() == ["score_overall", "regions"] and bool(st["useAsDefault"].iloc[0])
    # the same scorecard as a workbook (netqa score --xlsx): one row per region, numeric fields numeric
    from openpyxl import load_workbook

    from netqa.xlsx import write_score_workbook

    ws = load_workbook(write_score_workbook(out, tmp_path / "scores.xlsx"))["Scorecard"]
    heads = [c.value for c in ws[1]]
    assert heads[0] == "region_id" and "complaints_per_km2 [1/km²]" in heads and ws.max_row == 1 + 6
    assert ws.freeze_panes == "B2"


def test_kmz_lookat_frames_the_study_area(tmp_path, coverage):
    from netqa.maps import write_map

    _, root, _ = _kmz(write_map(coverage, tmp_path / "c.kmz"))
    doc = root.find(f"{KML_NS}Document")
    la = doc.find(f"{KML_NS}LookAt")
    assert la is not None
    lon, lat, rng = (float(la.findtext(f"{KML_NS}{k}")) for k in ("longitude", "latitude", "range"))
    with rasterio.open(coverage) as ds:
        west, south, east, north = transform_bounds(ds.crs, "EPSG:4326", *ds.bounds, densify_pts=101)
    assert west < lon < east and south < lat < north
    assert lon == pytest.approx(0.5 * (west + east), abs=1e-3) and lat == pytest.approx(0.5 * (south + north), abs=1e-3)
    span_m = 50 * 50.0  # the test raster is 2.5 km wide
    assert span_m < rng < 2 * span_m
    assert la.findtext(f"{KML_NS}tilt") == "0" and la.findtext(f"{KML_NS}altitudeMode") == "relativeToGround"
    # KML order: LookAt after the description and before the styles
    tags = [c.tag.replace(KML_NS, "") for c in doc]
    assert tags.index("LookAt") == tags.index("description") + 1


def test_break_offset_is_between_the_qgis_tolerance_and_float32_spacing():
    assert 1e-7 < BREAK_OFFSET < float(np.spacing(np.float32(1.0))) + 1e-7


@pytest.mark.parametrize("streamed", [True, False], ids=["predict_to_file", "write_coverage"])
def test_predict_writes_the_qml_beside_the_coverage(tmp_path, testdata, streamed):
    from netqa.predict import PredictConfig, predict, predict_to_file, write_coverage

    cfg = PredictConfig(resolution_m=400.0, radius_km=4.0)
    out = tmp_path / "cov.tif"
    if streamed:
        predict_to_file(testdata / "cells.csv", testdata / "dem.tif", out, config=cfg, show_progress=False)
    else:
        write_coverage(predict(testdata / "cells.csv", testdata / "dem.tif", config=cfg, show_progress=False), out)
    qml = out.with_suffix(".qml")
    _, r, _, items = _items(qml.read_text(encoding="utf-8"))
    assert r.get("band") == "1" and len(items) == len(default_legend("rsrp_dbm").classes)
