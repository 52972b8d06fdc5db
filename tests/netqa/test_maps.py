"""Coverage maps (issue 8): legends, PNG, paletted GeoTIFF, KMZ, HTML, escaping, CLI.

Every test builds its own small synthetic coverage GeoTIFF (DESIGN.md "Coverage
raster": float32 bands rsrp_dbm, best_cell, sinr_db, dl_mbps, ul_mbps with
descriptions, nodata and a best_cell lookup tag, UTM CRS) with rasterio.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from rasterio.warp import transform_bounds

from netqa.errors import ConfigError, CRSError, InputError, OutputExistsError, RasterError
from netqa.maps import write_map
from netqa.maps.layers import bin_samples, read_band, sector_wedge_lonlat
from netqa.maps.legend import default_legend, legend_from_dict, load_legend

EVIL = "<script>alert(1)</script> ]]> & \"q\" 'a'"
KML_NS = "{http://www.opengis.net/kml/2.2}"
#: UTM 29N, near Cork: 40 x 50 pixels of 50 m.
ORIGIN_X, ORIGIN_Y, PIXEL_M, ROWS, COLS = 540_000.0, 5_752_000.0, 50.0, 40, 50
SITES = [("S1", 541_000.0, 5_751_000.0), ("S2", 542_000.0, 5_750_600.0)]


def _cells_df() -> pd.DataFrame:
    from netqa.grid import to_geographic

    rows = []
    for site, x, y in SITES:
        lon, lat = to_geographic(x, y, "EPSG:32629")
        for k, az in enumerate((0.0, 120.0, 240.0)):
            rows.append(dict(site_id=site, cell_id=f"{site}-{k + 1}", lat=lat, lon=lon, height_m=30.0,
                             azimuth_deg=az, mech_tilt_deg=2.0, elec_tilt_deg=4.0, tx_power_dbm=46.0,
                             freq_mhz=1800.0, bandwidth_mhz=20.0, tech="LTE"))
    return pd.DataFrame(rows)


def _write_coverage(path: Path, *, crs="EPSG:32629", cell_ids=None) -> Path:
    """A smooth synthetic coverage: RSRP falls with distance to the nearest site."""
    cols, rows = np.meshgrid(np.arange(COLS), np.arange(ROWS))
    x = ORIGIN_X + (cols + 0.5) * PIXEL_M
    y = ORIGIN_Y - (rows + 0.5) * PIXEL_M
    d = np.stack([np.hypot(x - sx, y - sy) for _, sx, sy in SITES])
    site = np.argmin(d, axis=0)
    sx, sy = np.array([s[1] for s in SITES])[site], np.array([s[2] for s in SITES])[site]
    bearing = np.degrees(np.arctan2(x - sx, y - sy)) % 360.0
    best = site * 3 + np.round(bearing / 120.0).astype(int) % 3
    dist_km = np.maximum(d.min(axis=0), 20.0) / 1000.0
    rsrp = -55.0 - 35.0 * np.log10(dist_km / 0.02)
    sinr = 25.0 - 10.0 * np.log10(1 + dist_km * 10)
    dl = np.clip(sinr * 3.0, 0, None)
    ul = dl / 3.0
    bands = [rsrp, best.astype(float), sinr, dl, ul]
    nodata = -9999.0
    for b in bands:
        b[:2, :3] = np.nan  # a nodata corner
    names = ["rsrp_dbm", "best_cell", "sinr_db", "dl_mbps", "ul_mbps"]
    units = ["dBm", "", "dB", "Mbit/s", "Mbit/s"]
    profile = dict(driver="GTiff", width=COLS, height=ROWS, count=5, dtype="float32", crs=crs,
                   transform=Affine(PIXEL_M, 0, ORIGIN_X, 0, -PIXEL_M, ORIGIN_Y), nodata=nodata)
    ids = cell_ids if cell_ids is not None else [f"{s}-{k}" for s, _, _ in SITES for k in (1, 2, 3)]
    with rasterio.open(path, "w", **profile) as ds:
        for i, (name, unit, b) in enumerate(zip(names, units, bands), 1):
            ds.write(np.where(np.isfinite(b), b, nodata).astype("float32"), i)
            ds.set_band_description(i, name)
            ds.update_tags(i, name=name, unit=unit)
        ds.update_tags(best_cell=json.dumps(ids))
    return path


@pytest.fixture
def coverage(tmp_path) -> Path:
    return _write_coverage(tmp_path / "coverage.tif")


@pytest.fixture
def cells() -> pd.DataFrame:
    return _cells_df()


@pytest.fixture
def samples(coverage) -> pd.DataFrame:
    from netqa.grid import to_geographic

    rng = np.random.default_rng(3)
    x = rng.uniform(ORIGIN_X + 300, ORIGIN_X + COLS * PIXEL_M - 300, 60)
    y = np.full(60, ORIGIN_Y - 1000.0) + rng.normal(0, 30, 60)
    lon, lat = to_geographic(x, y, "EPSG:32629")
    return pd.DataFrame({"lat": lat, "lon": lon, "rsrp_dbm": rng.uniform(-120, -70, 60),
                         "sinr_db": rng.uniform(-5, 25, 60), "cell_id": "S1-1"})


# --- legends -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "label"),
    [
        (-80.01, "−90 … −80"),
        (-79.99, "≥ −80"),
        (-80.0, "≥ −80"),
        (-30.0, "≥ −80"),
        (-90.0, "−90 … −80"),
        (-100.0, "−100 … −90"),
        (-105.0, "−105 … −100"),
        (-105.0001, "−110 … −105"),
        (-110.0, "−110 … −105"),
        (-110.0001, "< −110"),
        (-150.0, "< −110"),
    ],
    ids=lambda v: str(v),
)
def test_rsrp_class_boundaries_lower_bound_inclusive(value, label):
    leg = default_legend("rsrp_dbm")
    assert leg.classes[int(leg.classify([value])[0])].label == label


def test_float32_boundary_pixel_falls_in_its_class():
    leg = default_legend("rsrp_dbm")
    idx = leg.classify(np.array([-110.0, -105.0, -80.0], dtype=np.float32))
    assert [leg.classes[i].label for i in idx] == ["−110 … −105", "−105 … −100", "≥ −80"]


def test_nan_is_unclassified_and_transparent():
    leg = default_legend("sinr_db")
    assert leg.classify([np.nan])[0] == -1
    assert leg.rgba(np.array([np.nan, 25.0]))[:, 3].tolist() == [0, 255]


@pytest.mark.parametrize("band", ["rsrp_dbm", "sinr_db", "rsrq_db", "dl_mbps", "ul_mbps"])
def test_default_legends_cover_the_real_line(band):
    leg = default_legend(band)
    lows = sorted(c.min_value for c in leg.classes)
    highs = sorted(c.max_value for c in leg.classes)
    assert lows[0] == -math.inf and highs[-1] == math.inf
    assert lows[1:] == highs[:-1]
    assert leg.band == band and leg.unit


def _doc(*classes):
    return {"band": "rsrp_dbm", "title": "RSRP", "unit": "dBm", "class": list(classes)}


@pytest.mark.parametrize(
    ("classes", "match"),
    [
        (({"min": -90.0, "color": "#00ff00"}, {"min": -100.0, "max": -85.0, "color": "#ff0000"}), "overlap"),
        (({"min": -90.0, "color": "#00ff00"}, {"min": -100.0, "max": -95.0, "color": "#ff0000"}), r"gap .*\[-95, -90\)"),
        (({"max": -90.0, "color": "#00ff00"}, {"max": -100.0, "color": "#ff0000"}), "overlap"),
        (({"min": -80.0, "max": -90.0, "color": "#00ff00"},), "min = -80 >= max = -90"),
        (({"min": -80.0, "color": "green"},), "'green' is not #rrggbb"),
        (({"min": "low", "color": "#0f0"},), "min = 'low' is not a number"),
        (({"min": -80.0, "colour": "#0f0"},), "unknown key.*colour"),
        ((), "no \\[\\[class\\]\\] tables"),
    ],
    ids=["overlap", "gap", "two-open-below", "min-above-max", "bad-colour", "bad-number", "unknown-key", "empty"],
)
def test_bad_legend_is_a_clear_config_error(classes, match):
    with pytest.raises(ConfigError, match=match):
        legend_from_dict(_doc(*classes), source="my.toml")


def test_legend_toml_round_trip_and_short_colour(tmp_path):
    p = tmp_path / "leg.toml"
    p.write_text(
        'band = "rsrp_dbm"\ntitle = "RSRP"\nunit = "dBm"\n'
        '[[class]]\nmin = -95.0\ncolor = "#0f0"\n'
        '[[class]]\nmax = -95.0\ncolor = "#f00"\nlabel = "weak"\n',
        encoding="utf-8",
    )
    leg = load_legend(p)
    assert [c.label for c in leg.classes] == ["≥ −95", "weak"]
    assert leg.classes[0].color == "#00ff00"
    assert leg.classify([-95.0, -95.5]).tolist() == [0, 1]


def test_legend_file_with_overlap_names_the_file(tmp_path):
    p = tmp_path / "overlap.toml"
    p.write_text('[[class]]\nmin = -90.0\ncolor = "#0f0"\n[[class]]\nmin = -100.0\nmax = -80.0\ncolor = "#f00"\n')
    with pytest.raises(ConfigError, match=r"overlap\.toml.*overlap"):
        load_legend(p)


# --- reading the coverage raster -----------------------------------------------------------------


def test_unknown_band_lists_the_bands(coverage):
    with pytest.raises(RasterError, match=r"no band named 'rsrq_dbm'; bands are rsrp_dbm, best_cell, sinr_db, dl_mbps, ul_mbps"):
        read_band(coverage, "rsrq_dbm")


def test_raster_without_crs_is_a_clear_error(tmp_path):
    p = tmp_path / "nocrs.tif"
    with rasterio.open(p, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32",
                       transform=Affine(1, 0, 0, 0, -1, 4)) as ds:
        ds.write(np.zeros((4, 4), "float32"), 1)
    with pytest.raises(CRSError, match=r"nocrs\.tif: the raster has no CRS"):
        read_band(p, "1")


def test_read_band_nodata_and_lookup(coverage):
    band = read_band(coverage, "best_cell")
    assert np.isnan(band.values[0, 0]) and np.isfinite(band.values[5, 5])
    assert band.cell_ids == ["S1-1", "S1-2", "S1-3", "S2-1", "S2-2", "S2-3"]
    assert band.crs.to_epsg() == 32629


# --- PNG -----------------------------------------------------------------------------------------


def _png_rgb(path):
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


@pytest.mark.parametrize("band", ["rsrp_dbm", "sinr_db", "dl_mbps", "best_cell"])
def test_png_map_has_size_and_the_legend_colours(tmp_path, coverage, cells, band):
    out = write_map(coverage, tmp_path / f"{band}.png", band=band, cells=cells)
    img = _png_rgb(out)
    assert img.shape == (1200, 1500, 3)  # 10 x 8 in at 150 dpi
    leg = read_band(coverage, band)
    from netqa.maps.layers import band_legend

    legend = band_legend(leg)
    present = {legend.classes[i].rgb for i in np.unique(legend.classify(leg.values)) if i >= 0}
    pixels = {tuple(p) for p in img.reshape(-1, 3)[::7]}
    assert present <= pixels  # every class drawn shows up in the picture


def test_png_with_samples_and_hillshade(tmp_path, coverage, cells, samples):
    dem = tmp_path / "dem.tif"
    yy, xx = np.mgrid[0:60, 0:70]
    with rasterio.open(dem, "w", driver="GTiff", width=70, height=60, count=1, dtype="float32", crs="EPSG:32629",
                       transform=Affine(40, 0, ORIGIN_X - 200, 0, -40, ORIGIN_Y + 200), nodata=-32768) as ds:
        ds.write((50 + 30 * np.sin(xx / 6.0) * np.cos(yy / 9.0)).astype("float32"), 1)
    plain = _png_rgb(write_map(coverage, tmp_path / "plain.png", cells=cells))
    out = write_map(coverage, tmp_path / "full.png", cells=cells, samples=samples, dem=dem)
    full = _png_rgb(out)
    assert full.shape == plain.shape
    assert (full != plain).any(axis=2).mean() > 0.05  # hillshade and samples change the picture


def test_png_refuses_to_overwrite(tmp_path, coverage):
    out = write_map(coverage, tmp_path / "a.png")
    with pytest.raises(OutputExistsError, match="pass --overwrite"):
        write_map(coverage, out)
    assert write_map(coverage, out, overwrite=True) == out
    assert not list(tmp_path.glob(".a.*part*"))  # no temporary left behind


def test_unknown_extension_is_an_input_error(tmp_path, coverage):
    with pytest.raises(InputError, match=r"unknown map format '\.jpg'"):
        write_map(coverage, tmp_path / "a.jpg")


# --- paletted GeoTIFF ----------------------------------------------------------------------------


def test_paletted_geotiff_codes_colours_and_georeference(tmp_path, coverage):
    out = write_map(coverage, tmp_path / "rsrp_classes.tif")
    leg = default_legend("rsrp_dbm")
    src = read_band(coverage, "rsrp_dbm")
    with rasterio.open(out) as ds:
        assert ds.dtypes == ("uint8",) and ds.nodata == 255 and ds.count == 1
        assert ds.crs == src.crs and ds.transform == src.transform
        codes = ds.read(1)
        cmap = ds.colormap(1)
        tags = ds.tags()
    expected = leg.classify(src.values)
    assert (codes == np.where(expected < 0, 255, expected)).all()
    assert codes[0, 0] == 255
    for i, c in enumerate(leg.classes):
        assert cmap[i][:3] == c.rgb
    assert json.loads(tags["legend"])[0]["label"] == "≥ −80"


# --- KMZ -----------------------------------------------------------------------------------------


def _kmz(path):
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        root = ET.fromstring(zf.read("doc.kml"))
        files = {n: zf.read(n) for n in names}
    return names, root, files


def _folder(root, prefix):
    for f in root.iter(f"{KML_NS}Folder"):
        if f.findtext(f"{KML_NS}name", "").startswith(prefix):
            return f
    raise AssertionError(f"no folder {prefix!r}")


def test_kmz_zip_layout_and_namespace(tmp_path, coverage, cells, samples):
    names, root, files = _kmz(write_map(coverage, tmp_path / "c.kmz", cells=cells, samples=samples))
    assert names[0] == "doc.kml"
    assert set(names) == {"doc.kml", "files/overlay.png", "files/legend.png", "files/dot.png", "files/site.png"}
    assert root.tag == f"{KML_NS}kml"
    assert files["doc.kml"].startswith(b"<?xml")
    hrefs = {e.text for e in root.iter(f"{KML_NS}href")}
    assert hrefs <= set(names)  # every referenced file is inside the archive: nothing from the network
    folders = [f.findtext(f"{KML_NS}name") for f in root.iter(f"{KML_NS}Folder")]
    assert [n.split(":")[0].split(" (")[0] for n in folders] == ["Coverage", "Legend", "Sites", "Measured RSRP"]


def test_kmz_latlonbox_is_raster_bounds_in_wgs84_within_half_a_pixel(tmp_path, coverage):
    _, root, files = _kmz(write_map(coverage, tmp_path / "c.kmz"))
    box = root.find(f".//{KML_NS}GroundOverlay/{KML_NS}LatLonBox")
    got = {k: float(box.findtext(f"{KML_NS}{k}")) for k in ("west", "south", "east", "north")}
    with rasterio.open(coverage) as ds:
        west, south, east, north = transform_bounds(ds.crs, "EPSG:4326", *ds.bounds, densify_pts=101)
    from PIL import Image

    with Image.open(io.BytesIO(files["files/overlay.png"])) as im:
        w, h = im.size
        alpha = np.asarray(im)[..., 3]
    half_px_lon, half_px_lat = 0.5 * (east - west) / w, 0.5 * (north - south) / h
    assert abs(got["west"] - west) < half_px_lon and abs(got["east"] - east) < half_px_lon
    assert abs(got["south"] - south) < half_px_lat and abs(got["north"] - north) < half_px_lat
    # roughly the source resolution, transparent nodata in the top-left corner, opaque inside
    assert 0.7 * COLS < w < 1.5 * COLS and 0.7 * ROWS < h < 1.5 * ROWS
    assert alpha[0, 0] == 0 and alpha[h // 2, w // 2] > 0


def test_kmz_sites_and_sector_wedges_at_the_cell_coordinates(tmp_path, coverage, cells):
    _, root, _ = _kmz(write_map(coverage, tmp_path / "c.kmz", cells=cells))
    sites = _folder(root, "Sites")
    placemarks = sites.findall(f"{KML_NS}Placemark")
    by_name = {p.findtext(f"{KML_NS}name"): p for p in placemarks}
    assert set(by_name) == set(cells["site_id"]) | set(cells["cell_id"])
    s1 = cells[cells.site_id == "S1"].iloc[0]
    lon, lat, _ = map(float, by_name["S1"].findtext(f".//{KML_NS}coordinates").split(","))
    assert lon == pytest.approx(s1.lon, abs=1e-6) and lat == pytest.approx(s1.lat, abs=1e-6)
    ring = [tuple(map(float, c.split(",")[:2])) for c in by_name["S1-2"].findtext(f".//{KML_NS}coordinates").split()]
    assert ring[0] == ring[-1] == pytest.approx((s1.lon, s1.lat), abs=1e-6)
    # the wedge's middle arc point lies along the sector azimuth (120 deg: east-south-east)
    mid_lon, mid_lat = ring[len(ring) // 2]
    bearing = math.degrees(math.atan2((mid_lon - s1.lon) * math.cos(math.radians(s1.lat)), mid_lat - s1.lat)) % 360
    assert bearing == pytest.approx(120.0, abs=0.5)
    balloon = by_name["S1-2"].findtext(f"{KML_NS}description")
    assert "azimuth_deg" in balloon and "1800" in balloon and "LTE" in balloon


def test_kmz_measured_bins_coloured_by_class(tmp_path, coverage, samples):
    _, root, _ = _kmz(write_map(coverage, tmp_path / "c.kmz", samples=samples))
    measured = _folder(root, "Measured")
    pms = measured.findall(f"{KML_NS}Placemark")
    bins = bin_samples(samples, "rsrp_dbm", "EPSG:32629", PIXEL_M)
    assert len(pms) == len(bins) and sum(int(b) for b in bins["n"]) == len(samples)
    leg = default_legend("rsrp_dbm")
    styles = {f"#bin{i}" for i in leg.classify(bins["value"].to_numpy())}
    assert {p.findtext(f"{KML_NS}styleUrl") for p in pms} == styles
    style = root.find(f".//{KML_NS}Style[@id='bin0']")
    assert style.findtext(f".//{KML_NS}color") == "ff2c6d00"  # #006d2c as aabbggrr


def test_bin_mean_of_dbm_is_linear_domain():
    df = pd.DataFrame({"lon": [-8.40, -8.40], "lat": [51.91, 51.91], "rsrp_dbm": [-70.0, -100.0]})
    b = bin_samples(df, "rsrp_dbm", "EPSG:32629", 50.0)
    assert len(b) == 1 and b["n"][0] == 2
    assert b["value"][0] == pytest.approx(10 * math.log10((1e-7 + 1e-10) / 2), abs=1e-9)  # -73.0 dBm, not -85


def test_sector_wedge_points_along_azimuth():
    ring = sector_wedge_lonlat(0.0, 0.0, 90.0, 1000.0, half_width_deg=10.0, n_arc=2)
    assert ring[2] == pytest.approx((1000.0 / 111_320.0, 0.0), abs=1e-9)


# --- HTML ----------------------------------------------------------------------------------------

VOID = {"meta", "input", "br", "img", "link", "hr", "image", "rect", "circle", "path"}


class _Page:
    """Parse an HTML page with the standard library: tags, nesting errors, attributes, text."""

    def __init__(self, text: str):
        from html.parser import HTMLParser

        self.tags, self.errors, self.attrs, self.text = [], [], [], []
        stack = []
        page = self

        class P(HTMLParser):
            def handle_starttag(self, tag, attrs):
                page.tags.append(tag)
                page.attrs.append((tag, dict(attrs)))
                if tag not in VOID:
                    stack.append(tag)

            def handle_startendtag(self, tag, attrs):
                page.tags.append(tag)
                page.attrs.append((tag, dict(attrs)))

            def handle_endtag(self, tag):
                if tag in VOID and (not stack or stack[-1] != tag):
                    return
                if not stack or stack[-1] != tag:
                    page.errors.append(f"unexpected </{tag}> (open: {stack[-3:]})")
                else:
                    stack.pop()

            def handle_data(self, data):
                page.text.append(data)

        p = P(convert_charrefs=True)
        p.feed(text)
        p.close()
        if stack:
            self.errors.append(f"unclosed {stack}")


@pytest.fixture
def regions():
    import geopandas as gpd
    from shapely.geometry import box

    return gpd.GeoDataFrame(
        {"region_id": ["R1", "R2"], "name": ["North", "South"], "area_type": ["urban", "rural"],
         "coverage_rate": [0.91, 0.52]},
        geometry=[box(540_200, 5_751_000, 541_500, 5_751_800), box(541_000, 5_750_100, 542_300, 5_750_900)],
        crs=32629,
    )


def test_html_map_is_well_formed_and_self_contained(tmp_path, coverage, cells, samples, regions):
    out = write_map(coverage, tmp_path / "m.html", cells=cells, samples=samples, regions=regions)
    text = out.read_text(encoding="utf-8")
    page = _Page(text)
    assert page.errors == []
    assert text.startswith("<!DOCTYPE html>")
    for tag, attrs in page.attrs:
        for key in ("src", "href"):
            assert not attrs.get(key, "data:").startswith(("http", "//")), (tag, attrs)  # nothing from the network
    assert "<link" not in text and "@import" not in text and "url(" not in text
    # the CSP allows exactly the page's own script, by hash
    import base64
    import hashlib
    import re

    script = re.search(r"<script>(.*)</script>", text, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in text and "default-src 'none'" in text
    assert page.tags.count("script") == 1


def test_html_map_layers_overlays_and_legends(tmp_path, coverage, cells, samples, regions):
    out = write_map(coverage, tmp_path / "m.html", band="sinr_db", cells=cells, samples=samples, regions=regions)
    page = _Page(out.read_text(encoding="utf-8"))
    overlays = [a for t, a in page.attrs if t == "image" and "overlay" in a.get("class", "")]
    # one overlay per band with a legend (the asked band first and visible), best server included
    assert len(overlays) == 5
    assert "display:none" not in overlays[0]["style"] and all("display:none" in o["style"] for o in overlays[1:])
    import base64

    from PIL import Image

    png = base64.b64decode(overlays[0]["href"].split(",", 1)[1])
    with Image.open(io.BytesIO(png)) as im:
        assert im.mode == "RGBA" and im.size[0] > 10
    layers = {a["data-layer"] for t, a in page.attrs if t == "input" and "data-layer" in a}
    assert layers == {"layer-regions", "layer-samples", "layer-cells"}
    ids = {a.get("id") for _, a in page.attrs}
    assert layers <= ids
    legends = [a["data-key"] for t, a in page.attrs if t == "div" and a.get("class") == "legend"]
    assert legends == ["band-0", "band-1", "band-2", "band-3", "band-4", "measured"]
    text = "".join(page.text)
    assert "RSRP (best server) [dBm]" in text and "Measured: SINR [dB]" in text
    n_bins = len(bin_samples(samples, "sinr_db", "EPSG:32629", PIXEL_M))
    assert sum(1 for t, a in page.attrs if t == "circle") == n_bins
    assert sum(1 for t, a in page.attrs if t == "path" and a.get("class") == "sector") == len(cells)
    assert sum(1 for t, a in page.attrs if t == "path" and a.get("class") == "region") == 2


def test_html_map_from_a_regions_file(tmp_path, coverage, regions):
    gpkg = tmp_path / "scores.gpkg"
    regions.to_file(gpkg, layer="scores", driver="GPKG")
    text = write_map(coverage, tmp_path / "m.html", regions=gpkg).read_text(encoding="utf-8")
    assert "coverage_rate: 0.91" in text and "North" in text


# --- escaping of strings from input files ----------------------------------------------------------


@pytest.fixture
def evil_inputs(cells, regions):
    cells = cells.copy()
    cells.loc[0, "site_id"] = EVIL
    cells.loc[:, "antenna"] = EVIL
    cells.loc[1, "cell_id"] = EVIL + "-2"
    regions = regions.copy()
    regions.loc[0, "name"] = EVIL
    return cells, regions


def test_html_escapes_every_input_string(tmp_path, coverage, evil_inputs):
    cells, regions = evil_inputs
    text = write_map(coverage, tmp_path / "m.html", cells=cells, regions=regions).read_text(encoding="utf-8")
    assert "<script>alert" not in text and "</script> ]]>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; ]]&gt; &amp; &quot;q&quot; &#x27;a&#x27;" in text
    page = _Page(text)
    assert page.errors == [] and page.tags.count("script") == 1
    assert EVIL in "".join(page.text)  # shown literally to the reader


def test_kmz_escapes_every_input_string(tmp_path, coverage, evil_inputs):
    cells, _ = evil_inputs
    out = write_map(coverage, tmp_path / "c.kmz", cells=cells)
    with zipfile.ZipFile(out) as zf:
        raw = zf.read("doc.kml").decode("utf-8")
    assert "<script>" not in raw and "<![CDATA[" not in raw and "]]>" not in raw
    root = ET.fromstring(raw)  # still well-formed XML
    names = [e.text for e in root.iter(f"{KML_NS}name")]
    assert EVIL in names  # a placemark name is plain text in Google Earth
    balloons = [e.text for e in root.iter(f"{KML_NS}description") if e.text and "antenna" in e.text]
    assert balloons and all("<script>" not in b and "&lt;script&gt;alert(1)" in b for b in balloons)
    assert all("&lt;/script&gt; ]]&gt; &amp; &quot;q&quot;" in b for b in balloons)


# --- netqa map -----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".png", ".kmz", ".html", ".tif"])
def test_cli_map_writes_each_format(tmp_path, coverage, cells, samples, suffix, capsys):
    from netqa.cli import main

    cells_csv = tmp_path / "cells.csv"
    cells.to_csv(cells_csv, index=False)
    samples_csv = tmp_path / "samples.csv"
    samples.to_csv(samples_csv, index=False)
    out = tmp_path / f"map{suffix}"
    args = [ "map", str(coverage), "--out", str(out), "--band", "sinr_db", "--samples", str(samples_csv), "-q"]
    if suffix != ".tif":
        args += ["--cells", str(cells_csv)]
    assert main(args) == 0
    assert out.stat().st_size > 200
    assert main(args) == 2
    assert "output exists; pass --overwrite" in capsys.readouterr().err
    assert main(args + ["--overwrite"]) == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--band", "rsrq"], "no band named 'rsrq'; bands are rsrp_dbm, best_cell, sinr_db, dl_mbps, ul_mbps"),
        (["--legend", "missing.toml"], "legend missing.toml: file not found"),
        (["--samples", "nowhere.parquet"], "nowhere.parquet: samples file not found"),
    ],
    ids=["unknown-band", "missing-legend", "missing-samples"],
)
def test_cli_map_bad_input_exits_2_with_one_line(tmp_path, coverage, extra, message, capsys):
    from netqa.cli import main

    assert main(["map", str(coverage), "--out", str(tmp_path / "m.png"), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and err.count("\n") == 0
    assert not (tmp_path / "m.png").exists()


def test_cli_map_raster_without_crs_exits_2(tmp_path, capsys):
    from netqa.cli import main

    p = tmp_path / "nocrs.tif"
    with rasterio.open(p, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32",
                       transform=Affine(1, 0, 0, 0, -1, 4)) as ds:
        ds.write(np.zeros((4, 4), "float32"), 1)
        ds.set_band_description(1, "rsrp_dbm")
    assert main(["map", str(p), "--out", str(tmp_path / "m.png")]) == 2
    assert "has no CRS" in capsys.readouterr().err


# --- a real browser (Debian's chromium), skipped with a reason when absent ------------------------


def _chromium():
    import shutil

    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        pytest.skip("no chromium on PATH: the headless-browser check of the HTML map needs Debian's 'chromium'")
    return exe


@pytest.mark.slow
def test_html_map_in_headless_chromium(tmp_path, coverage, cells, samples, evil_inputs):
    import subprocess

    exe = _chromium()
    cells_evil, regions_evil = evil_inputs
    out = write_map(coverage, tmp_path / "m.html", cells=cells_evil, samples=samples, regions=regions_evil)
    common = [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
              f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run([*common, "--dump-dom", out.as_uri()], capture_output=True, text=True, timeout=90)
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []  # no script error, no CSP violation, no blocked fetch
    assert "km wide</div>" in dom.stdout  # the viewer's script ran
    assert "alert(1)" not in "".join(line for line in dom.stderr.splitlines())
    shot = tmp_path / "shot.png"
    subprocess.run([*common, "--window-size=1200,800", f"--screenshot={shot}", out.as_uri()],
                   capture_output=True, text=True, timeout=90)
    img = _png_rgb(shot)
    assert img.shape[:2] == (800, 1200)
    assert len(np.unique(img.reshape(-1, 3)[::5], axis=0)) > 20  # not blank: overlay colours, legend, text
