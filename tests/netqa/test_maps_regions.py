"""Region outlines, names and scores on the static PNG map and in the KMZ (issue 8).

Uses the small synthetic coverage of ``test_maps.py`` (UTM 29N, 40 x 50 pixels
of 50 m) and two regions: a box ("North") and a ring around another box
("Ring"), the shape of a suburb around a town centre.
"""

from __future__ import annotations

import zipfile
from xml.etree import ElementTree as ET

import numpy as np
import pytest
from test_maps import EVIL, KML_NS, ORIGIN_X, ORIGIN_Y, PIXEL_M, _cells_df, _png_rgb, _write_coverage

from netqa.errors import CRSError, InputError
from netqa.maps import write_map
from netqa.maps.layers import label_point, load_regions, region_label

INNER = (541_000.0, 5_750_300.0, 541_800.0, 5_750_900.0)
OUTER = (540_700.0, 5_750_100.0, 542_200.0, 5_751_100.0)
NORTH = (540_200.0, 5_751_300.0, 541_500.0, 5_751_900.0)


@pytest.fixture
def coverage(tmp_path):
    return _write_coverage(tmp_path / "coverage.tif")


def _regions(scored: bool = True, name0: str = "North"):
    import geopandas as gpd
    from shapely.geometry import Polygon, box

    ring = Polygon(box(*OUTER).exterior.coords, [box(*INNER).exterior.coords])
    cols = {"region_id": ["R1", "R2"], "name": [name0, "Ring"], "area_type": ["urban", "suburban"]}
    if scored:
        cols |= {"score_overall": [51.27, 76.0], "grade_overall": ["D", "B"], "rank": [2, 1]}
    return gpd.GeoDataFrame(cols, geometry=[box(*NORTH), ring], crs=32629)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"region_id": "R1", "name": "North", "score_overall": 51.27, "grade_overall": "D"}, "North\n51 (D)"),
        ({"region_id": "R1", "name": "North", "score": 80.4}, "North\n80"),
        ({"region_id": "R1", "name": None}, "R1"),
        ({"region_id": "R1", "name": "North", "score_overall": float("nan"), "grade_overall": None}, "North"),
    ],
    ids=["score-and-grade", "plain-score-column", "no-name-uses-id", "unscored"],
)
def test_region_label(row, expected):
    assert region_label(row) == expected


def test_label_point_of_a_ring_lies_on_the_ring():
    from shapely.geometry import box

    ring = _regions().geometry.iloc[1]
    p = label_point(ring)
    assert ring.contains(p) and not box(*INNER).contains(p)


def test_label_point_stays_inside_the_map():
    from shapely.geometry import box

    big = box(0, 0, 100, 100)
    view = box(90, 90, 200, 200)
    p = label_point(big, view)
    assert view.contains(p) and big.contains(p)
    assert label_point(big, box(500, 500, 600, 600)) is None


def test_load_regions_is_wgs84_and_needs_a_crs(tmp_path):
    gdf = load_regions(_regions())
    assert gdf.crs.to_epsg() == 4326 and len(gdf) == 2
    with pytest.raises(CRSError, match="no CRS"):
        load_regions(_regions().set_crs(None, allow_override=True))
    with pytest.raises(InputError, match="regions file not found"):
        load_regions(tmp_path / "nope.gpkg")


def _changed_box(a, b):
    rows, cols = np.nonzero((a != b).any(axis=2))
    return rows.min(), rows.max(), cols.min(), cols.max()


def test_png_draws_region_outlines_inside_their_extent(tmp_path, coverage):
    plain = _png_rgb(write_map(coverage, tmp_path / "plain.png"))
    with_regions = _png_rgb(write_map(coverage, tmp_path / "regions.png", regions=_regions(scored=False)))
    assert plain.shape == with_regions.shape
    changed = (plain != with_regions).any(axis=2)
    assert changed.mean() > 0.003  # outlines and labels drawn
    r0, r1, c0, c1 = _changed_box(plain, with_regions)  # spread over the map, not a speck
    assert r1 - r0 > 100 and c1 - c0 > 100


def test_png_scores_change_the_labels_only(tmp_path, coverage):
    unscored = _png_rgb(write_map(coverage, tmp_path / "a.png", regions=_regions(scored=False)))
    scored = _png_rgb(write_map(coverage, tmp_path / "b.png", regions=_regions(scored=True)))
    assert (unscored != scored).any(axis=2).mean() < 0.02  # same outlines, longer labels and legend entry
    assert (unscored != scored).any()


def _kml(path):
    with zipfile.ZipFile(path) as zf:
        raw = zf.read("doc.kml").decode("utf-8")
    return raw, ET.fromstring(raw)


def _region_folder(root):
    for f in root.iter(f"{KML_NS}Folder"):
        if f.findtext(f"{KML_NS}name", "").startswith("Regions"):
            return f
    raise AssertionError("no Regions folder")


def _coords(el):
    return [tuple(map(float, c.split(",")[:2])) for c in el.text.split()]


def test_kmz_regions_folder_outlines_names_and_scores(tmp_path, coverage):
    from netqa.grid import to_geographic

    _, root = _kml(write_map(coverage, tmp_path / "c.kmz", cells=_cells_df(), regions=_regions()))
    folder = _region_folder(root)
    assert folder.findtext(f"{KML_NS}name") == "Regions (2) with scores"
    pms = {p.findtext(f"{KML_NS}name"): p for p in folder.findall(f"{KML_NS}Placemark")}
    assert set(pms) == {"North · 51 (D)", "Ring · 76 (B)"}
    # outline vertices are the region corners in WGS84
    outer = _coords(pms["North · 51 (D)"].find(f".//{KML_NS}outerBoundaryIs//{KML_NS}coordinates"))
    x0, y0, x1, y1 = NORTH
    lon, lat = to_geographic(np.array([x0, x1, x1, x0]), np.array([y0, y0, y1, y1]), "EPSG:32629")
    got = np.array(outer)
    assert len(got) == 5 and tuple(got[0]) == tuple(got[-1])  # closed ring of the four corners
    for corner in zip(lon, lat):
        assert np.abs(got - corner).max(axis=1).min() < 1e-6
    # the ring keeps its hole, and its label point lies on the ring
    ring = pms["Ring · 76 (B)"]
    assert len(ring.findall(f".//{KML_NS}innerBoundaryIs")) == 1
    (plon, plat), = _coords(ring.find(f".//{KML_NS}Point/{KML_NS}coordinates"))
    ilon, ilat = to_geographic(np.array([INNER[0], INNER[2]]), np.array([INNER[1], INNER[3]]), "EPSG:32629")
    inside_hole = ilon.min() < plon < ilon.max() and ilat.min() < plat < ilat.max()
    assert not inside_hole
    balloon = ring.findtext(f"{KML_NS}description")
    assert "score_overall" in balloon and "76" in balloon and "suburban" in balloon
    style = root.find(f".//{KML_NS}Style[@id='region']")
    assert style.findtext(f".//{KML_NS}PolyStyle/{KML_NS}fill") == "0"


def test_kmz_without_regions_has_no_region_folder(tmp_path, coverage):
    _, root = _kml(write_map(coverage, tmp_path / "c.kmz"))
    assert not any(f.findtext(f"{KML_NS}name", "").startswith("Regions") for f in root.iter(f"{KML_NS}Folder"))


def test_region_names_with_markup_are_escaped_in_kmz_and_png(tmp_path, coverage):
    regions = _regions(name0=EVIL)
    raw, root = _kml(write_map(coverage, tmp_path / "c.kmz", regions=regions))
    assert "<script>" not in raw and "]]>" not in raw
    names = [e.text for e in root.iter(f"{KML_NS}name")]
    assert f"{EVIL} · 51 (D)" in names  # plain text to Google Earth
    balloons = [e.text for e in _region_folder(root).iter(f"{KML_NS}description")]
    assert any("&lt;script&gt;alert(1)" in b for b in balloons) and all("<script>" not in b for b in balloons)
    assert write_map(coverage, tmp_path / "m.png", regions=regions).stat().st_size > 10_000  # drawn as text


def test_cli_map_regions_on_png_and_kmz(tmp_path, coverage):
    from netqa.cli import main

    gpkg = tmp_path / "scores.gpkg"
    _regions().to_file(gpkg, layer="scores", driver="GPKG")
    for suffix in (".png", ".kmz"):
        out = tmp_path / f"m{suffix}"
        assert main(["map", str(coverage), "--out", str(out), "--regions", str(gpkg), "-q"]) == 0
    raw, _ = _kml(tmp_path / "m.kmz")
    assert "North · 51 (D)" in raw


def test_origin_constants_match_the_shared_fixture():
    # the region boxes above are placed against test_maps.py's raster; fail loudly if it moves
    assert (ORIGIN_X, ORIGIN_Y, PIXEL_M) == (540_000.0, 5_752_000.0, 50.0)
