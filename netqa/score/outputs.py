"""Scorecard outputs: GeoPackage layer ``scores`` (+ ``trends``), CSV, choropleth PNG.

The four files are one output set (:func:`netqa.fileio.atomic_set`): each is
written to a temporary path beside its target and all are renamed together,
so a kill leaves the complete old set or the complete new one.  The CSV holds the same columns as the
GeoPackage layer with the geometry as WKT in WGS84 (``geometry_wkt``).
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from netqa.fileio import atomic_set, reproducible_gdal

log = logging.getLogger(__name__)


def write_outputs(gdf: gpd.GeoDataFrame, trends: pd.DataFrame, paths: dict, scheme) -> None:
    """Write the GeoPackage (with QGIS styles in ``layer_styles``), the CSV, the trends CSV and the PNG (all atomically)."""
    from netqa.maps.qgis import score_styles, write_layer_styles

    table = _storable(gdf)
    with atomic_set([paths["gpkg"], paths["csv"], paths["trends_csv"], paths["png"]]) as outputs:
        with reproducible_gdal():
            tmp = outputs.path(paths["gpkg"])
            pyogrio.write_dataframe(table, tmp, layer="scores", driver="GPKG")
            if len(trends):
                pyogrio.write_dataframe(_storable(trends), tmp, layer="trends", driver="GPKG", append=False)
            geom_col = pyogrio.read_info(tmp, layer="scores").get("geometry_name") or "geom"
            write_layer_styles(tmp, score_styles(tuple(scheme.grades), geometry_column=geom_col))
        flat = pd.DataFrame(table.drop(columns=table.geometry.name))
        flat["geometry_wkt"] = table.geometry.to_crs(4326).to_wkt() if table.crs is not None else table.geometry.to_wkt()
        flat.to_csv(outputs.path(paths["csv"]), index=False)
        trends.to_csv(outputs.path(paths["trends_csv"]), index=False)
        choropleth(table, outputs.path(paths["png"]), title=f"Overall score ({scheme.name})")
    log.info("wrote %s (layer 'scores'), %s, %s, %s", paths["gpkg"], paths["csv"], paths["trends_csv"], paths["png"])


#: Text columns of the scorecard and trends tables; every other column holding only numbers or nothing is numeric.
_TEXT_COLUMNS = frozenset({"region_id", "name", "area_type", "status", "notes", "error", "scheme", "campaign",
                           "indicator", "change_flag", "region", "basis"})
_TEXT_PREFIXES = ("grade_", "basis_")


def _is_text(column: str) -> bool:
    return column in _TEXT_COLUMNS or column.startswith(_TEXT_PREFIXES)


def _storable(df):
    """Columns with GeoPackage-friendly types: numbers numeric (also when every value is missing — such as
    ``offered_traffic_mbps`` and ``load_predicted`` without traffic data, which used to be written as text),
    flags boolean, the rest text."""
    out = df.copy()
    for c in out.columns:
        if c == getattr(out, "_geometry_column_name", None):
            continue
        if out[c].dtype == object:
            vals = out[c].dropna()
            if not len(vals) and not _is_text(str(c)):
                out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
            elif len(vals) and all(isinstance(v, (bool, np.bool_)) for v in vals):
                out[c] = out[c].astype("boolean")
            elif len(vals) and all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in vals):
                out[c] = pd.to_numeric(out[c])
            else:
                out[c] = out[c].astype("string")
    return out


def choropleth(gdf: gpd.GeoDataFrame, path, title: str = "Overall score", column: str = "score_overall") -> None:
    """Draw a 0–100 choropleth of ``column`` (grey hatched where not scored)."""
    # A figure on its own Agg canvas: pyplot's global state (and a notebook's backend) stays untouched.
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=(8, 7), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    g = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    g = g.iloc[np.argsort(-g.geometry.area.to_numpy(), kind="stable")]  # small regions drawn on top
    vals = pd.to_numeric(g[column], errors="coerce")
    scored, unscored = g[vals.notna()], g[vals.isna()]
    if len(unscored):
        unscored.plot(ax=ax, color="#dddddd", edgecolor="#888888", hatch="//", linewidth=0.5)
    if len(scored):
        scored.plot(ax=ax, column=column, cmap="RdYlGn", vmin=0, vmax=100, edgecolor="black", linewidth=0.4,
                    legend=True, legend_kwds={"label": "score (0–100)", "shrink": 0.7})  # fmt: skip
    if len(g) <= 60:
        for _, r in g.iterrows():
            pt = r.geometry.representative_point()
            label = f"{r['region_id']}\n{r[column]:.0f}" if pd.notna(r[column]) else f"{r['region_id']}\nn/a"
            ax.annotate(label, (pt.x, pt.y), ha="center", va="center", fontsize=7)
    ax.set_title(title + ("  (hatched: not scored)" if len(unscored) else ""))
    ax.set_xlabel(f"x [m] ({gdf.crs.to_string() if gdf.crs else 'no CRS'})")
    ax.set_ylabel("y [m]")
    ax.set_aspect("equal")
    ax.ticklabel_format(useOffset=False, style="plain")
    fig.tight_layout()
    fig.savefig(path, format="png")
