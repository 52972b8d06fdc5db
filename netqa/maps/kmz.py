"""KMZ for Google Earth, written with the standard library (zipfile + xml.etree).

Layout of the archive (``doc.kml`` first, as Google Earth expects)::

    doc.kml              KML 2.2 (namespace http://www.opengis.net/kml/2.2)
    files/overlay.png    the classified band reprojected to WGS84, transparent nodata
    files/legend.png     the legend, shown as a ScreenOverlay
    files/dot.png        white disc, tinted per class for measured bins
    files/site.png       site symbol

One ``Folder`` per layer: the coverage ``GroundOverlay`` (its ``LatLonBox`` is
the raster's bounds reprojected to WGS84, see
:func:`netqa.maps.layers.to_wgs84_rgba`), the legend ``ScreenOverlay``, sites
(a ``Point`` placemark per site, a ``Polygon`` wedge per sector along its
azimuth, cell attributes in the balloons), regions (outline and a label point
named with the region and its score, scorecard columns in the balloon) and
measured bins (coloured points).

Every string from an input file goes through :func:`html.escape` before it is
put into a balloon (Google Earth renders balloons as HTML) and through
ElementTree's XML escaping when serialised; no CDATA sections are written, so a
name holding ``]]>`` or markup stays inert text.
"""

from __future__ import annotations

import html
import io
import logging
import math
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd

from netqa.fileio import atomic_path, check_output, zip_member
from netqa.grid import utm_crs_for
from netqa.maps.layers import (
    REGION_COLUMNS,
    CoverageBand,
    bin_samples,
    cell_half_width_deg,
    region_label,
    sector_wedge_lonlat,
    to_wgs84_rgba,
    wgs84_bounds,
)
from netqa.maps.legend import Legend, legend_for

log = logging.getLogger(__name__)

__all__ = ["write_kmz", "KML_NS", "kml_color", "balloon_table", "wgs84_bounds"]

KML_NS = "http://www.opengis.net/kml/2.2"
#: Cell attributes shown in balloons, in this order, when present.
CELL_BALLOON_COLUMNS = (
    "cell_id", "site_id", "tech", "freq_mhz", "bandwidth_mhz", "azimuth_deg", "height_m", "mech_tilt_deg",
    "elec_tilt_deg", "tx_power_dbm", "pci", "earfcn", "antenna", "gain_dbi", "lat", "lon",
)


def kml_color(rgb: tuple[int, int, int], alpha: int = 255) -> str:
    """KML colour ``aabbggrr`` (hex) of an RGB triple.

    >>> kml_color((255, 0, 16), 128)
    '801000ff'
    """
    r, g, b = rgb
    return f"{alpha:02x}{b:02x}{g:02x}{r:02x}"


def _sub(parent, tag: str, text=None, **attrib) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: str(v) for k, v in attrib.items()})
    if text is not None:
        el.text = str(text)
    return el


def _png_bytes(rgba: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba), mode="RGBA").save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _dot_png(size: int = 32) -> bytes:
    from PIL import Image, ImageDraw

    im = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(im).ellipse((2, 2, size - 3, size - 3), fill=(255, 255, 255, 255), outline=(0, 0, 0, 255), width=3)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def _site_png(size: int = 32) -> bytes:
    from PIL import Image, ImageDraw

    im = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    ImageDraw.Draw(im).polygon([(size / 2, 3), (size - 4, size - 5), (4, size - 5)], fill=(0, 0, 0, 255),
                               outline=(255, 255, 255, 255))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def _fmt_value(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return ""
    if isinstance(v, float | np.floating):
        return f"{float(v):.6g}"
    return str(v)


def balloon_table(pairs) -> str:
    """An HTML table of ``(key, value)`` pairs with every key and value HTML-escaped."""
    rows = "".join(
        f"<tr><th align='left'>{html.escape(str(k))}</th><td>{html.escape(_fmt_value(v))}</td></tr>" for k, v in pairs
    )
    return f"<table>{rows}</table>"


def _coords(ring) -> str:
    return " ".join(f"{lon:.7f},{lat:.7f},0" for lon, lat in ring)


def _styles(doc, legend: Legend, sample_legend: Legend | None) -> None:
    st = _sub(doc, "Style", id="site")
    icon_style = _sub(st, "IconStyle")
    _sub(icon_style, "scale", "0.9")
    _sub(_sub(icon_style, "Icon"), "href", "files/site.png")
    st = _sub(doc, "Style", id="sector")
    _sub(_sub(st, "LineStyle"), "color", "ff000000")
    _sub(_sub(st, "PolyStyle"), "color", kml_color((255, 255, 255), 190))
    if sample_legend is not None:
        for i, c in enumerate(sample_legend.classes):
            st = _sub(doc, "Style", id=f"bin{i}")
            icon_style = _sub(st, "IconStyle")
            _sub(icon_style, "color", kml_color(c.rgb))
            _sub(icon_style, "scale", "0.6")
            _sub(_sub(icon_style, "Icon"), "href", "files/dot.png")
            _sub(_sub(st, "LabelStyle"), "scale", "0")
    st = _sub(doc, "Style", id="region")
    _sub(_sub(st, "IconStyle"), "scale", "0")  # the label point shows its name only
    _sub(_sub(st, "LabelStyle"), "scale", "0.9")
    line = _sub(st, "LineStyle")
    _sub(line, "color", "ffffffff")
    _sub(line, "width", "2")
    poly = _sub(st, "PolyStyle")
    _sub(poly, "fill", "0")
    _sub(poly, "outline", "1")
    st = _sub(doc, "Style", id="bin_none")
    icon_style = _sub(st, "IconStyle")
    _sub(icon_style, "scale", "0.6")
    _sub(_sub(icon_style, "Icon"), "href", "files/dot.png")


def _cells_folder(doc, cells: pd.DataFrame, radius_m: float) -> None:
    folder = _sub(doc, "Folder")
    _sub(folder, "name", f"Sites ({cells['site_id'].nunique()}) and sectors ({len(cells)})")
    for site_id, group in cells.groupby("site_id", sort=False):
        first = group.iloc[0]
        pm = _sub(folder, "Placemark")
        _sub(pm, "name", site_id)
        pairs = [("site_id", site_id), ("cells", ", ".join(map(str, group["cell_id"])))]
        _sub(pm, "description", balloon_table(pairs))
        _sub(pm, "styleUrl", "#site")
        _sub(_sub(pm, "Point"), "coordinates", f"{float(first['lon']):.7f},{float(first['lat']):.7f},0")
        for _, row in group.iterrows():
            az = float(row["azimuth_deg"])
            if not math.isfinite(az):
                continue
            pm = _sub(folder, "Placemark")
            _sub(pm, "name", row["cell_id"])
            _sub(pm, "description", balloon_table((c, row[c]) for c in CELL_BALLOON_COLUMNS if c in row.index))
            _sub(pm, "styleUrl", "#sector")
            ring = sector_wedge_lonlat(float(row["lon"]), float(row["lat"]), az, radius_m, cell_half_width_deg(row))
            poly = _sub(pm, "Polygon")
            _sub(poly, "tessellate", "1")
            _sub(_sub(_sub(poly, "outerBoundaryIs"), "LinearRing"), "coordinates", _coords(ring))


def _region_rings(geom):
    polys = list(geom.geoms) if geom.geom_type.startswith("Multi") else [geom]
    return [(list(p.exterior.coords), [list(r.coords) for r in p.interiors]) for p in polys if p.geom_type == "Polygon"]


def _regions_folder(doc, regions) -> None:
    """One placemark per region: its outline (no fill) and a label point named with the name and score."""
    folder = _sub(doc, "Folder")
    scored = "score_overall" in regions.columns or "score" in regions.columns
    _sub(folder, "name", f"Regions ({len(regions)}){' with scores' if scored else ''}")
    for _, row in regions.iterrows():
        pm = _sub(folder, "Placemark")
        _sub(pm, "name", region_label(row).replace("\n", " · "))
        _sub(pm, "description", balloon_table((c, row[c]) for c in REGION_COLUMNS if c in row.index))
        _sub(pm, "styleUrl", "#region")
        multi = _sub(pm, "MultiGeometry")
        c = row.geometry.representative_point()
        _sub(_sub(multi, "Point"), "coordinates", f"{c.x:.7f},{c.y:.7f},0")
        for outer, inners in _region_rings(row.geometry):
            poly = _sub(multi, "Polygon")
            _sub(poly, "tessellate", "1")
            _sub(_sub(_sub(poly, "outerBoundaryIs"), "LinearRing"), "coordinates", _coords(outer))
            for ring in inners:
                _sub(_sub(_sub(poly, "innerBoundaryIs"), "LinearRing"), "coordinates", _coords(ring))


def _samples_folder(doc, bins: pd.DataFrame, legend: Legend | None, column: str | None, bin_m: float, n_samples: int):
    folder = _sub(doc, "Folder")
    what = legend.title if legend is not None else "samples"
    _sub(folder, "name", f"Measured {what} ({n_samples} samples in {len(bins)} bins of {bin_m:g} m)")
    idx = legend.classify(bins["value"].to_numpy(float)) if legend is not None else np.full(len(bins), -1)
    unit = legend.unit if legend is not None else ""
    for k, row in enumerate(bins.itertuples(index=False)):
        pm = _sub(folder, "Placemark")
        pairs = [("samples", int(row.n))]
        if column is not None:
            pairs.insert(0, (f"{column} (bin mean)", f"{row.value:.1f} {unit}".strip()))
        _sub(pm, "description", balloon_table(pairs))
        _sub(pm, "styleUrl", f"#bin{idx[k]}" if idx[k] >= 0 else "#bin_none")
        _sub(_sub(pm, "Point"), "coordinates", f"{row.lon:.7f},{row.lat:.7f},0")


def _sample_legend(samples: pd.DataFrame, band: CoverageBand, legend: Legend) -> tuple[Legend | None, str | None]:
    if not legend.categorical and band.name in samples.columns:
        return legend, band.name
    if "rsrp_dbm" in samples.columns:
        return legend_for("rsrp_dbm"), "rsrp_dbm"
    return None, None


#: Half the field of view Google Earth's default camera shows across the narrower side (about 60 degrees). [deg]
_HALF_FOV_DEG = 30.0


def look_at(west: float, south: float, east: float, north: float, margin: float = 1.2) -> dict:
    """KML ``LookAt`` that frames a WGS84 box from straight above (heading 0, tilt 0).

    ``range`` is the distance from the box centre at which the larger of its
    east-west and north-south extents, widened by ``margin``, fills a field of
    view of 2 × 30 degrees: ``range = margin × span / (2 tan 30°)``; spans from
    a spherical Earth (6 371 km, east-west at the centre latitude).  Here 0.1° of latitude = 11.12 km is the
    larger span: 1.2 × 11 119.5 m / (2 tan 30°) = 11 556 m.

    >>> v = look_at(-8.5, 51.85, -8.4, 51.95)
    >>> v["longitude"], v["latitude"], round(v["range"])
    (-8.45, 51.9, 11556)
    """
    lat0 = 0.5 * (south + north)
    r_m = 6_371_000.0
    ew_m = math.radians(abs(east - west)) * r_m * math.cos(math.radians(lat0))
    ns_m = math.radians(abs(north - south)) * r_m
    span_m = max(ew_m, ns_m, 100.0)
    rng = margin * span_m / (2.0 * math.tan(math.radians(_HALF_FOV_DEG)))
    return {"longitude": round(0.5 * (west + east), 9), "latitude": round(lat0, 9), "altitude": 0.0, "heading": 0.0,
            "tilt": 0.0, "range": rng, "altitudeMode": "relativeToGround"}


def write_kmz(path, band: CoverageBand, legend: Legend, *, cells: pd.DataFrame | None = None,
              samples: pd.DataFrame | None = None, regions=None, title: str | None = None,
              bin_m: float | None = None, overwrite: bool = False) -> Path:
    """Write a KMZ: coverage overlay, legend, sites and sectors, measured bins.

    Parameters
    ----------
    path : path
        Output ``.kmz``; refused when it exists unless ``overwrite``.
    band : CoverageBand
        The band to overlay.
    legend : Legend
        Its classes.
    cells : pandas.DataFrame, optional
        Canonical cells.
    samples : pandas.DataFrame, optional
        Measured samples; binned on ``bin_m`` squares (dBm averaged in the linear domain).
    regions : geopandas.GeoDataFrame, optional
        Region polygons in WGS84 (:func:`netqa.maps.layers.load_regions`): a folder of
        outlines named with the region name and, when present, the overall score and grade.
    bin_m : float, optional
        Bin size for samples [m]; default the raster's pixel size (metric CRS) or 50 m.
    """
    out = check_output(path, overwrite)
    image = to_wgs84_rgba(band, legend)
    west, south, east, north = image.west, image.south, image.east, image.north
    metric_crs = band.crs if band.crs.is_projected else utm_crs_for(0.5 * (west + east), 0.5 * (south + north))
    if bin_m is None:
        bin_m = band.pixel_size if band.crs.is_projected else 50.0

    kml = ET.Element("kml", xmlns=KML_NS)
    doc = _sub(kml, "Document")
    _sub(doc, "name", title or legend.heading)
    _sub(doc, "open", "1")
    _sub(doc, "description", f"netqa coverage map of band {band.name} from {Path(band.path).name}")
    view = _sub(doc, "LookAt")  # Google Earth opens on the study area
    for tag, v in look_at(west, south, east, north).items():
        _sub(view, tag, v if isinstance(v, str) else f"{v:.9g}" if tag != "range" else f"{v:.1f}")
    sample_legend, sample_column = (None, None)
    if samples is not None and len(samples):
        sample_legend, sample_column = _sample_legend(samples, band, legend)
    _styles(doc, legend, sample_legend)

    folder = _sub(doc, "Folder")
    _sub(folder, "name", f"Coverage: {legend.heading}")
    go = _sub(folder, "GroundOverlay")
    _sub(go, "name", legend.heading)
    _sub(go, "color", "ffffffff")
    _sub(_sub(go, "Icon"), "href", "files/overlay.png")
    box = _sub(go, "LatLonBox")
    for tag, v in (("north", north), ("south", south), ("east", east), ("west", west)):
        _sub(box, tag, f"{v:.9f}")
    _sub(box, "rotation", "0")

    folder = _sub(doc, "Folder")
    _sub(folder, "name", "Legend")
    so = _sub(folder, "ScreenOverlay")
    _sub(so, "name", legend.heading)
    _sub(_sub(so, "Icon"), "href", "files/legend.png")
    _sub(so, "overlayXY", x="0", y="0", xunits="fraction", yunits="fraction")
    _sub(so, "screenXY", x="10", y="30", xunits="pixels", yunits="pixels")
    _sub(so, "size", x="0", y="0", xunits="pixels", yunits="pixels")

    if cells is not None and len(cells):
        span_m = max(east - west, north - south) * 111_320.0 * math.cos(math.radians(0.5 * (south + north)))
        _cells_folder(doc, cells, radius_m=max(30.0, 0.02 * span_m))
    if regions is not None and len(regions):
        _regions_folder(doc, regions)
    if samples is not None and len(samples):
        if sample_column is not None:
            bins = bin_samples(samples, sample_column, metric_crs, bin_m)
        else:
            tmp = samples.assign(_count=1.0)
            bins = bin_samples(tmp, "_count", metric_crs, bin_m)
        _samples_folder(doc, bins, sample_legend, sample_column, bin_m, len(samples))

    from netqa.maps.static import legend_png_bytes

    ET.indent(kml, space=" ")
    xml = ET.tostring(kml, encoding="utf-8", xml_declaration=True)
    with atomic_path(out) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(zip_member("doc.kml"), xml)
            zf.writestr(zip_member("files/overlay.png"), _png_bytes(image.rgba))
            zf.writestr(zip_member("files/legend.png"), legend_png_bytes(legend))
            zf.writestr(zip_member("files/dot.png"), _dot_png())
            zf.writestr(zip_member("files/site.png"), _site_png())
    log.info("wrote %s (LatLonBox W %.6f S %.6f E %.6f N %.6f)", out, west, south, east, north)
    return out

