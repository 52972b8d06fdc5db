"""QGIS styles shipped with the outputs: ``.qml`` beside coverage GeoTIFFs, ``layer_styles`` in GeoPackages.

* **Coverage GeoTIFF** — ``COVERAGE.qml`` beside ``COVERAGE.tif`` (QGIS loads
  a ``.qml`` of the same name as the layer's default style): a *singleband
  pseudocolor* renderer on the ``rsrp_dbm`` band with a DISCRETE colour ramp of
  the map legend's classes (``netqa/data/legends/rsrp_dbm.toml``), so QGIS
  shows the same classes and colours as ``netqa map``.  QGIS's DISCRETE shader
  gives a value the colour of the first break at or above it (a value *on* a
  break takes the lower class), while the legend's classes are ``[min, max)``
  (a value on a bound takes the upper class); each break is therefore written
  :data:`BREAK_OFFSET` below the class's ``max`` — above QGIS's comparison
  tolerance (1e-7) and below the float32 spacing of the band's values — and the
  open top class gets the break ``inf``.
* **GeoPackage** — the ``layer_styles`` table in QGIS's own schema
  (``f_table_catalog``, ``f_table_schema``, ``f_table_name``,
  ``f_geometry_column``, ``styleName``, ``styleQML``, ``styleSLD``,
  ``useAsDefault``, ``description``, ``owner``, ``ui``, ``update_time``), which
  QGIS reads when the layer is added: the scorecard (``scores`` layer) opens
  graduated by ``score_overall`` in the grade classes of the scoring scheme
  with the region ids as labels, and a second style ``regions`` shows outlines
  labelled with the region name.  Each QML has an SLD twin for other GIS.

Reference: QGIS 3 QML (``<qgis>`` document: ``pipe/rasterrenderer``,
``renderer-v2``, ``labeling``) as written by QGIS itself; the GeoPackage
``layer_styles`` table as created by QGIS's OGR provider ("Save style ... in
database").
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pandas as pd

from netqa.fileio import GPKG_FIXED_DATE, atomic_path, reproducible_gdal
from netqa.maps.legend import Legend, default_legend

log = logging.getLogger(__name__)

__all__ = ["BREAK_OFFSET", "raster_qml", "write_raster_qml", "graduated_polygon_qml", "outline_polygon_qml",
           "graduated_polygon_sld", "write_layer_styles", "score_styles", "LAYER_STYLES_COLUMNS"]

#: How far below a class's upper bound its QGIS DISCRETE break lies (see the module docstring). [band unit]
BREAK_OFFSET = 1.5e-7
#: Columns of QGIS's ``layer_styles`` table, in QGIS's order (``id`` is the table's primary key).
LAYER_STYLES_COLUMNS = ("f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName",
                        "styleQML", "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time")
_QGIS_VERSION = "3.28.0-Firenze"
# the grade classes' fills: matplotlib's RdYlGn at the grades' middles (the scorecard choropleth's colour map)
_GRADE_COLORS = {"A": "#1a9850", "B": "#91cf60", "C": "#fee08b", "D": "#fc8d59", "E": "#d73027"}


def _rgba(color: str, alpha: int = 255) -> str:
    h = color.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha}"


def _break(v: float) -> str:
    return "inf" if math.isinf(v) and v > 0 else repr(float(v) - BREAK_OFFSET)


def raster_qml(legend: Legend, band: int = 1, opacity: float = 1.0) -> str:
    """QGIS QML of a singleband pseudocolor renderer on ``band`` (1-based) with ``legend``'s classes.

    Items are in ascending order of value, as QGIS keeps them; the label is the legend's.

    >>> q = raster_qml(default_legend("rsrp_dbm"))
    >>> 'type="singlebandpseudocolor"' in q and 'colorRampType="DISCRETE"' in q and 'value="inf"' in q
    True
    """
    classes = sorted(legend.classes, key=lambda c: c.max_value)
    finite = [c.min_value for c in classes if math.isfinite(c.min_value)] + [c.max_value for c in classes if math.isfinite(c.max_value)]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    items = "\n".join(
        f'          <item alpha="255" value="{_break(c.max_value)}" label={quoteattr(c.label)} color="{c.color}"/>'
        for c in classes
    )
    return f"""<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="{_QGIS_VERSION}" styleCategories="AllStyleCategories">
  <pipe>
    <rasterrenderer type="singlebandpseudocolor" band="{band}" opacity="{opacity:g}" alphaBand="-1" classificationMin="{lo:g}" classificationMax="{hi:g}" nodataColor="">
      <rasterTransparency/>
      <minMaxOrigin>
        <limits>None</limits>
        <extent>WholeRaster</extent>
        <statAccuracy>Estimated</statAccuracy>
        <cumulativeCutLower>0.02</cumulativeCutLower>
        <cumulativeCutUpper>0.98</cumulativeCutUpper>
        <stdDevFactor>2</stdDevFactor>
      </minMaxOrigin>
      <rastershader>
        <colorrampshader colorRampType="DISCRETE" classificationMode="3" clip="0" minimumValue="{lo:g}" maximumValue="{hi:g}" labelPrecision="1">
{items}
        </colorrampshader>
      </rastershader>
    </rasterrenderer>
    <brightnesscontrast brightness="0" contrast="0" gamma="1"/>
    <huesaturation saturation="0" grayscaleMode="0" colorizeOn="0"/>
    <rasterresampler maxOversampling="2"/>
  </pipe>
  <blendMode>0</blendMode>
</qgis>
"""


def write_raster_qml(tif, band_name: str = "rsrp_dbm", legend: Legend | None = None) -> Path:
    """Write ``<tif stem>.qml`` beside a coverage GeoTIFF: ``band_name`` drawn in its map legend's classes.

    The band is found by name (``name`` tag or description); a file without it
    gets no style (returns the path it would have had, logs why).
    """
    from netqa.maps.layers import band_names

    tif = Path(tif)
    qml = tif.with_suffix(".qml")
    names = band_names(tif)
    if band_name not in names:
        log.info("%s: no band %r; no QGIS style written", tif, band_name)
        return qml
    with atomic_path(qml) as tmp:
        tmp.write_text(raster_qml(legend or default_legend(band_name), band=names.index(band_name) + 1), encoding="utf-8")
    log.info("wrote %s (QGIS style of %s)", qml, band_name)
    return qml


def _fill_symbol(name: str, color: str, outline: str = "#323232", width_mm: float = 0.26, style: str = "solid") -> str:
    return f"""      <symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <prop k="color" v="{_rgba(color)}"/>
          <prop k="outline_color" v="{_rgba(outline)}"/>
          <prop k="outline_style" v="solid"/>
          <prop k="outline_width" v="{width_mm:g}"/>
          <prop k="outline_width_unit" v="MM"/>
          <prop k="style" v="{style}"/>
        </layer>
      </symbol>"""


def _labeling(field: str) -> str:
    return f"""  <labeling type="simple">
    <settings calloutType="simple">
      <text-style fieldName={quoteattr(field)} isExpression="0" fontSize="9" fontWeight="75" textColor="0,0,0,255" textOpacity="1">
        <text-buffer bufferDraw="1" bufferSize="1" bufferSizeUnits="MM" bufferColor="255,255,255,255" bufferOpacity="1"/>
      </text-style>
      <placement placement="1" offsetType="0" priority="5"/>
      <rendering obstacle="1" displayAll="0" drawLabels="1" labelPerPart="0"/>
    </settings>
  </labeling>"""


def graduated_polygon_qml(field: str, classes: list[tuple[float, float, str, str]], label_field: str | None = None) -> str:
    """QML of a graduated polygon renderer on ``field``: ``classes`` = ``[(lower, upper, colour, label), ...]``.

    Features without a value fall in no range and are not drawn by this style
    (the ``regions`` outline style shows every region).
    """
    ranges = "\n".join(
        f'      <range lower="{lo:g}" upper="{hi:g}" symbol="{i}" label={quoteattr(lab)} render="true"/>'
        for i, (lo, hi, _, lab) in enumerate(classes)
    )
    symbols = "\n".join(_fill_symbol(str(i), col) for i, (_, _, col, _) in enumerate(classes))
    labels = _labeling(label_field) if label_field else ""
    return f"""<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="{_QGIS_VERSION}" styleCategories="AllStyleCategories" labelsEnabled="{int(bool(label_field))}">
  <renderer-v2 type="graduatedSymbol" attr={quoteattr(field)} graduatedMethod="GraduatedColor" symbollevels="0" enableorderby="0" forceraster="0">
    <ranges>
{ranges}
    </ranges>
    <symbols>
{symbols}
    </symbols>
    <mode name="manual"/>
  </renderer-v2>
{labels}
  <layerGeometryType>2</layerGeometryType>
</qgis>
"""


def outline_polygon_qml(label_field: str) -> str:
    """QML of outlines only (no fill), labelled with ``label_field``: the regions as a reference layer."""
    return f"""<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="{_QGIS_VERSION}" styleCategories="AllStyleCategories" labelsEnabled="1">
  <renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">
    <symbols>
{_fill_symbol("0", "#ffffff", outline="#000000", width_mm=0.6, style="no")}
    </symbols>
  </renderer-v2>
{_labeling(label_field)}
  <layerGeometryType>2</layerGeometryType>
</qgis>
"""


def graduated_polygon_sld(layer: str, field: str, classes: list[tuple[float, float, str, str]]) -> str:
    """The SLD 1.0 twin of :func:`graduated_polygon_qml` (rules ``lower <= field < upper``)."""
    rules = []
    for lo, hi, col, lab in classes:
        rules.append(f"""      <se:Rule>
        <se:Name>{escape(lab)}</se:Name>
        <ogc:Filter><ogc:And>
          <ogc:PropertyIsGreaterThanOrEqualTo><ogc:PropertyName>{escape(field)}</ogc:PropertyName><ogc:Literal>{lo:g}</ogc:Literal></ogc:PropertyIsGreaterThanOrEqualTo>
          <ogc:PropertyIsLessThan><ogc:PropertyName>{escape(field)}</ogc:PropertyName><ogc:Literal>{hi:g}</ogc:Literal></ogc:PropertyIsLessThan>
        </ogc:And></ogc:Filter>
        <se:PolygonSymbolizer>
          <se:Fill><se:SvgParameter name="fill">{col}</se:SvgParameter></se:Fill>
          <se:Stroke><se:SvgParameter name="stroke">#323232</se:SvgParameter><se:SvgParameter name="stroke-width">1</se:SvgParameter></se:Stroke>
        </se:PolygonSymbolizer>
      </se:Rule>""")
    body = "\n".join(rules)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<StyledLayerDescriptor version="1.1.0" xmlns="http://www.opengis.net/sld" xmlns:se="http://www.opengis.net/se" xmlns:ogc="http://www.opengis.net/ogc">
  <NamedLayer>
    <se:Name>{escape(layer)}</se:Name>
    <UserStyle>
      <se:Name>{escape(layer)}</se:Name>
      <se:FeatureTypeStyle>
{body}
      </se:FeatureTypeStyle>
    </UserStyle>
  </NamedLayer>
</StyledLayerDescriptor>
"""


def score_styles(grades: tuple[tuple[str, float], ...] = (("A", 85.0), ("B", 70.0), ("C", 55.0), ("D", 40.0), ("E", 0.0)),
                 layer: str = "scores", geometry_column: str = "geom") -> list[dict]:
    """The ``layer_styles`` rows of a scorecard layer: ``score_overall`` by grade (default) and ``regions``.

    ``grades`` are ``(grade, lowest score)`` best first, as in the scoring scheme.
    """
    bounds = sorted(grades, key=lambda g: -g[1])
    classes = []
    upper = 100.0 + 1e-9
    for g, low in bounds:
        label = f"{g}  ({low:g}–{min(upper, 100.0):g})"
        classes.append((float(low), upper, _GRADE_COLORS.get(g, "#999999"), label))
        upper = float(low)
    classes.reverse()
    return [
        {"f_table_name": layer, "f_geometry_column": geometry_column, "styleName": "score_overall",
         "styleQML": graduated_polygon_qml("score_overall", classes, label_field="region_id"),
         "styleSLD": graduated_polygon_sld(layer, "score_overall", classes), "useAsDefault": True,
         "description": "overall score 0-100 in the scheme's grade classes, labelled with region_id (netqa score)"},
        {"f_table_name": layer, "f_geometry_column": geometry_column, "styleName": "regions",
         "styleQML": outline_polygon_qml("name"), "styleSLD": "", "useAsDefault": False,
         "description": "region outlines labelled with their name"},
    ]


def write_layer_styles(gpkg, styles: list[dict]) -> None:
    """Add (replace) the ``layer_styles`` table of GeoPackage ``gpkg`` with ``styles`` (QGIS's schema).

    Written through GDAL as a non-spatial table, registered in
    ``gpkg_contents`` as QGIS does; ``update_time`` is the fixed date of
    :func:`netqa.fileio.reproducible_gdal` so that the file stays byte-reproducible.
    """
    import pyogrio

    rows = [{"f_table_catalog": "", "f_table_schema": "", "owner": "", "ui": "", **s} for s in styles]
    df = pd.DataFrame(rows, columns=list(LAYER_STYLES_COLUMNS))
    df["useAsDefault"] = df["useAsDefault"].astype(bool)
    df["update_time"] = pd.Timestamp(GPKG_FIXED_DATE).tz_convert("UTC")
    with reproducible_gdal():
        pyogrio.write_dataframe(df, gpkg, layer="layer_styles", driver="GPKG", layer_options={"FID": "id"})
