"""Interactive HTML coverage map: one self-contained file that works offline.

Why not folium/Leaflet: folium's page template loads Leaflet, jQuery and
Bootstrap from public CDNs (``cdn.jsdelivr.net``, ``code.jquery.com``...), and
no Leaflet build ships in the installed packages; opened on a laptop in the
field without a network such a page shows nothing.  Vendoring Leaflet would add
a third-party script to maintain and audit.  This module writes instead a
small inline SVG viewer (about 80 lines of plain JavaScript, no library):

* prediction overlays -- one WGS84 PNG per band (embedded as ``data:`` URIs),
  switched with radio buttons, with an opacity slider and each band's legend;
* measured bins, sites and sector wedges, region outlines with their scores --
  each a layer switched with a checkbox; hovering shows the attributes;
* pan (drag), zoom (wheel, buttons), the cursor's lat/lon and the view width.

There is no basemap (no tile server is contacted, ever).  A Content-Security-
Policy forbids every network fetch and allows only the page's own script (by
its SHA-256), so even a string that escaped escaping could not load or run
code.  Every string from an input file is HTML-escaped (:func:`html.escape`)
before it is written into the page.

The map is drawn in a local equirectangular projection (x = lon·cos(lat0),
y = lat), true to scale near the study area, which is what a coverage study of
a few tens of kilometres needs.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import logging
import math
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from netqa.fileio import atomic_path, check_output
from netqa.grid import utm_crs_for
from netqa.maps.layers import (
    REGION_COLUMNS,
    band_legend,
    band_names,
    bin_samples,
    cell_half_width_deg,
    load_regions,
    region_label,
    read_band,
    sector_wedge_lonlat,
    to_wgs84_rgba,
)
from netqa.maps.legend import LEGEND_BANDS, Legend, legend_for

log = logging.getLogger(__name__)

__all__ = ["write_html_map", "REGION_SCORE_COLUMNS"]

#: Metres per degree of latitude: the viewer's map unit is about one metre.
_M_PER_DEG = 111_320.0
#: Region columns shown in the hover text when present (KPI names of DESIGN.md).
REGION_SCORE_COLUMNS = REGION_COLUMNS
_E = html.escape


class _Proj:
    """Local equirectangular projection: map units ~ metres."""

    def __init__(self, lon0: float, lat0: float):
        self.lon0, self.lat0, self.k = lon0, lat0, math.cos(math.radians(lat0))

    def x(self, lon):
        return (np.asarray(lon, float) - self.lon0) * self.k * _M_PER_DEG

    def y(self, lat):
        return -(np.asarray(lat, float) - self.lat0) * _M_PER_DEG


def _png_data_uri(rgba: np.ndarray) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba), mode="RGBA").save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _legend_html(legend: Legend, key: str, counts=None, hidden: bool = False) -> str:
    total = counts.sum() if counts is not None else 0
    rows = []
    for i, c in enumerate(legend.classes):
        if legend.categorical and counts is not None and counts[i] == 0:
            continue
        share = f" <span class='pct'>{100.0 * counts[i] / total:.1f} %</span>" if total and not legend.categorical else ""
        rows.append(f"<div><i style='background:{_E(c.color)}'></i>{_E(c.label)}{share}</div>")
    style = " style='display:none'" if hidden else ""
    return f"<div class='legend' data-key='{_E(key)}'{style}><b>{_E(legend.heading)}</b>{''.join(rows)}</div>"


def _tooltip(pairs) -> str:
    lines = []
    for k, v in pairs:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            continue
        sval = f"{float(v):.4g}" if isinstance(v, float | np.floating) else str(v)
        lines.append(f"{k}: {sval}")
    return f"<title>{_E(chr(10).join(lines))}</title>"


def _path(points, proj: _Proj, close: bool = True) -> str:
    xs, ys = proj.x([p[0] for p in points]), proj.y([p[1] for p in points])
    d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys))
    return d + (" Z" if close else "")


_load_regions = load_regions


def _regions_svg(gdf, proj: _Proj) -> str:
    parts = []
    for _, row in gdf.iterrows():
        geom = row.geometry
        if geom is None or geom.is_empty:
            continue
        polys = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
        d = " ".join(
            _path(list(ring.coords), proj) for poly in polys if poly.geom_type == "Polygon"
            for ring in [poly.exterior, *poly.interiors]
        )
        tip = _tooltip((c, row[c]) for c in REGION_SCORE_COLUMNS if c in row.index)
        parts.append(f"<path class='region' fill-rule='evenodd' d='{d}'>{tip}</path>")
        label = region_label(row).replace("\n", " · ")
        if label:
            c = geom.representative_point()
            parts.append(f"<text class='rlabel' x='{proj.x(c.x):.1f}' y='{proj.y(c.y):.1f}'>{_E(label)}</text>")
    return "".join(parts)


def _cells_svg(cells: pd.DataFrame, proj: _Proj, radius_m: float) -> str:
    from netqa.maps.kmz import CELL_BALLOON_COLUMNS

    parts = []
    for _, row in cells.iterrows():
        az = float(row["azimuth_deg"])
        if not math.isfinite(az):
            continue
        ring = sector_wedge_lonlat(float(row["lon"]), float(row["lat"]), az, radius_m, cell_half_width_deg(row))
        tip = _tooltip((c, row[c]) for c in CELL_BALLOON_COLUMNS if c in row.index)
        parts.append(f"<path class='sector' d='{_path(ring, proj)}'>{tip}</path>")
    size = radius_m * 0.35
    for site_id, group in cells.groupby("site_id", sort=False):
        x, y = float(proj.x(group["lon"].iloc[0])), float(proj.y(group["lat"].iloc[0]))
        tri = f"M{x:.1f},{y - size:.1f} L{x + size:.1f},{y + size * 0.7:.1f} L{x - size:.1f},{y + size * 0.7:.1f} Z"
        tip = _tooltip([("site_id", site_id), ("cells", ", ".join(map(str, group["cell_id"])))])
        parts.append(f"<path class='site' d='{tri}'>{tip}</path>")
    return "".join(parts)


def _samples_svg(bins: pd.DataFrame, legend: Legend | None, column: str | None, proj: _Proj, r_m: float) -> str:
    idx = legend.classify(bins["value"].to_numpy(float)) if legend is not None else np.full(len(bins), -1)
    parts = []
    for k, row in enumerate(bins.itertuples(index=False)):
        fill = legend.classes[idx[k]].color if idx[k] >= 0 else "#ffffff"
        pairs = [("samples", int(row.n))]
        if column is not None:
            pairs.insert(0, (f"{column} (bin mean)", float(row.value)))
        parts.append(
            f"<circle class='bin' cx='{float(proj.x(row.lon)):.1f}' cy='{float(proj.y(row.lat)):.1f}' r='{r_m:.1f}' "
            f"fill='{_E(fill)}'>{_tooltip(pairs)}</circle>"
        )
    return "".join(parts)


def write_html_map(path, coverage, *, band: str = "rsrp_dbm", legend: Legend | None = None, cells=None, samples=None,
                   regions=None, title: str | None = None, bin_m: float | None = None, overwrite: bool = False) -> Path:
    """Write the interactive offline HTML map.

    Parameters
    ----------
    path : path
        Output ``.html``; refused when it exists unless ``overwrite``.
    coverage : path
        Coverage GeoTIFF: every band with a legend becomes an overlay, ``band`` shown first.
    band : str
        The band shown when the page opens.
    legend : Legend, optional
        Legend of ``band`` (others use their defaults).
    cells, samples : pandas.DataFrame, optional
        From :func:`netqa.maps.layers.load_cells` / :func:`~netqa.maps.layers.load_samples`.
    regions : path or GeoDataFrame, optional
        Region polygons, or the ``scores`` layer of ``netqa score``.
    bin_m : float, optional
        Bin size for measured samples [m]; default the raster's pixel size.
    """
    out = check_output(path, overwrite)
    names = band_names(coverage)
    first = read_band(coverage, band)
    wanted = [band] + [b for b in names if b != band and (b in LEGEND_BANDS or b == "best_cell")]
    overlays = []
    for name in wanted:
        cov = first if name == band else read_band(coverage, name)
        leg = legend if (name == band and legend is not None) else band_legend(cov)
        overlays.append((name, cov, leg, to_wgs84_rgba(cov, leg, alpha=255)))
    img0 = overlays[0][3]
    west, south, east, north = img0.west, img0.south, img0.east, img0.north
    proj = _Proj(0.5 * (west + east), 0.5 * (south + north))
    x0, x1, y0, y1 = float(proj.x(west)), float(proj.x(east)), float(proj.y(north)), float(proj.y(south))
    span_m = max(x1 - x0, y1 - y0)

    images, legends, radios = [], [], []
    for i, (name, cov, leg, img) in enumerate(overlays):
        key = f"band-{i}"
        images.append(
            f"<image class='overlay' data-key='{key}' x='{x0:.1f}' y='{y0:.1f}' width='{x1 - x0:.1f}' "
            f"height='{y1 - y0:.1f}' preserveAspectRatio='none' style='image-rendering:pixelated"
            f"{';display:none' if i else ''}' href='{_png_data_uri(img.rgba)}'/>"
        )
        legends.append(_legend_html(leg, key, leg.counts(cov.values), hidden=bool(i)))
        radios.append(
            f"<label><input type='radio' name='band' value='{key}'{' checked' if i == 0 else ''}> {_E(leg.heading)}</label>"
        )

    groups, toggles, extra_legends = [], [], []
    if regions is not None:
        gdf = _load_regions(regions)
        groups.append(f"<g id='layer-regions'>{_regions_svg(gdf, proj)}</g>")
        toggles.append(f"<label><input type='checkbox' data-layer='layer-regions' checked> Regions ({len(gdf)})</label>")
    if samples is not None and len(samples):
        metric = first.crs if first.crs.is_projected else utm_crs_for(proj.lon0, proj.lat0)
        size = bin_m or (first.pixel_size if first.crs.is_projected else 50.0)
        if not overlays[0][2].categorical and band in samples.columns:
            s_leg, col = overlays[0][2], band
        elif "rsrp_dbm" in samples.columns:
            s_leg, col = legend_for("rsrp_dbm"), "rsrp_dbm"
        else:
            s_leg, col = None, None
        bins = bin_samples(samples if col else samples.assign(_n=1.0), col or "_n", metric, size)
        groups.append(f"<g id='layer-samples'>{_samples_svg(bins, s_leg, col, proj, 0.45 * size)}</g>")
        toggles.append(
            f"<label><input type='checkbox' data-layer='layer-samples' checked> Measured ({len(samples)} samples, "
            f"{len(bins)} bins of {size:g} m)</label>"
        )
        if s_leg is not None:
            extra_legends.append(_legend_html(s_leg, "measured").replace("<b>", "<b>Measured: ", 1))
    if cells is not None and len(cells):
        groups.append(f"<g id='layer-cells'>{_cells_svg(cells, proj, max(30.0, 0.025 * span_m))}</g>")
        toggles.append(
            f"<label><input type='checkbox' data-layer='layer-cells' checked> Sites ({cells['site_id'].nunique()}) "
            f"and sectors ({len(cells)})</label>"
        )

    script = resources.files("netqa").joinpath("data/viewer/map.js").read_text(encoding="utf-8")
    script_hash = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    css = resources.files("netqa").joinpath("data/viewer/map.css").read_text(encoding="utf-8")
    heading = title or f"netqa coverage map — {Path(str(coverage)).name}"
    pad = 0.03 * span_m
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'">
<title>{_E(heading)}</title>
<style>{css}</style>
</head>
<body>
<div id="panel">
<h1>{_E(heading)}</h1>
<fieldset><legend>Prediction</legend>{''.join(radios)}
<label><input type="checkbox" id="show-overlay" checked> show overlay</label>
<label>opacity <input type="range" id="opacity" min="0" max="100" value="75"></label></fieldset>
<fieldset><legend>Layers</legend>{''.join(toggles) or '<i>none</i>'}</fieldset>
{''.join(legends)}{''.join(extra_legends)}
<p class="note">No basemap: this file works offline and contacts no server. Drag to pan, wheel or +/− to zoom,
hover for details. WGS84; local equirectangular view centred at {proj.lat0:.4f}°, {proj.lon0:.4f}°.</p>
</div>
<div id="mapbox">
<svg id="map" xmlns="http://www.w3.org/2000/svg" data-lon0="{proj.lon0:.8f}" data-lat0="{proj.lat0:.8f}"
 data-k="{proj.k:.10f}" viewBox="{x0 - pad:.1f} {y0 - pad:.1f} {x1 - x0 + 2 * pad:.1f} {y1 - y0 + 2 * pad:.1f}">
<g id="layer-overlay" opacity="0.75">{''.join(images)}</g>
<rect class="frame" x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}"/>
{''.join(groups)}
</svg>
<div id="zoom"><button id="zin" title="zoom in">+</button><button id="zout" title="zoom out">−</button><button id="zfit" title="whole map">⤢</button></div>
<div id="status"></div>
</div>
<script>{script}</script>
</body>
</html>
"""
    with atomic_path(out) as tmp:
        tmp.write_text(page, encoding="utf-8")
    log.info("wrote %s (%d overlays, %.0f kB)", out, len(overlays), len(page) / 1024)
    return out
