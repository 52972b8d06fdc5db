"""Coverage maps: static PNG, paletted GeoTIFF, KMZ for Google Earth, self-contained HTML.

The one entry point is :func:`write_map`, which picks the format from the
output's extension; the writers behind it are

* :func:`netqa.maps.static.render_png` -- matplotlib PNG with legend, scale bar,
  north arrow, CRS note, sites and sector wedges, samples and hillshade;
* :func:`netqa.maps.static.write_paletted_geotiff` -- uint8 class codes with a
  colour table, for GIS display beside the float coverage raster;
* :func:`netqa.maps.kmz.write_kmz` -- KML 2.2 in a KMZ (standard library only);
* :func:`netqa.maps.html.write_html_map` -- one offline HTML file.

Legends (:mod:`netqa.maps.legend`) are discrete classes ``[min, max)``, lower
bound inclusive, configurable in TOML.  Best-server maps colour touching cells
differently (:mod:`netqa.maps.servers`, graph colouring) and place site and
cell labels without overlaps (:mod:`netqa.maps.labels`); QGIS styles for the
outputs (``.qml`` beside coverage GeoTIFFs, GeoPackage ``layer_styles``) come
from :mod:`netqa.maps.qgis`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from netqa.errors import InputError
from netqa.fileio import check_output
from netqa.maps.layers import (
    band_legend,
    band_names,
    bin_samples,
    load_cells,
    load_regions,
    load_samples,
    read_band,
)
from netqa.maps.legend import Legend, LegendClass, default_legend, legend_for, load_legend

log = logging.getLogger(__name__)

__all__ = [
    "write_map",
    "MAP_SUFFIXES",
    "Legend",
    "LegendClass",
    "load_legend",
    "default_legend",
    "legend_for",
    "read_band",
    "band_names",
    "load_cells",
    "load_samples",
    "load_regions",
    "bin_samples",
]

#: Output extension -> format.
MAP_SUFFIXES = {".png": "png", ".tif": "geotiff", ".tiff": "geotiff", ".kmz": "kmz", ".html": "html", ".htm": "html"}


def map_format(out) -> str:
    """The format of ``out`` from its extension (see :data:`MAP_SUFFIXES`)."""
    suffix = Path(out).suffix.lower()
    if suffix not in MAP_SUFFIXES:
        raise InputError(
            f"--out {out}: unknown map format {suffix or '(no extension)'!r}; "
            f"use one of {', '.join(MAP_SUFFIXES)}"
        )
    return MAP_SUFFIXES[suffix]


def write_map(coverage, out, *, band: str = "rsrp_dbm", cells=None, samples=None, legend=None, dem=None,
              regions=None, overwrite: bool = False, title: str | None = None) -> Path:
    """Write a coverage map of one band; the format follows ``out``'s extension.

    Parameters
    ----------
    coverage : path
        Coverage GeoTIFF (``netqa predict``).
    out : path
        ``.png``, ``.tif`` (paletted classes), ``.kmz`` or ``.html``.
    band : str
        Band to draw (``rsrp_dbm``, ``sinr_db``, ``dl_mbps``, ``ul_mbps``, ``best_cell``).
        The HTML map carries every band that has a legend as switchable layers,
        this one shown first.
    cells : path or DataFrame, optional
        Cell table: sites and sector wedges.
    samples : path or DataFrame, optional
        Measured samples: drawn distinctly from the prediction (PNG points, KMZ/HTML bins).
    legend : Legend or path, optional
        Legend TOML; default: the built-in legend of ``band``.
    dem : path, optional
        DEM for a hillshade under the PNG.
    regions : path or GeoDataFrame, optional
        Region polygons (a scores GeoPackage from ``netqa score`` works): outlines with
        names on every map, and the overall score and grade when the layer has them.
    overwrite : bool
        Replace an existing output.

    Returns
    -------
    pathlib.Path
    """
    fmt = map_format(out)
    check_output(out, overwrite)  # fail before any work
    cov = read_band(coverage, band)
    leg = band_legend(cov, legend)
    cells_df = load_cells(cells)
    samples_df = load_samples(samples)
    regions_gdf = load_regions(regions) if fmt != "geotiff" else None
    if fmt == "png":
        from netqa.maps.static import render_png

        return render_png(out, cov, leg, cells=cells_df, samples=samples_df, dem=dem, regions=regions_gdf,
                          title=title, overwrite=overwrite)
    if fmt == "geotiff":
        from netqa.maps.static import write_paletted_geotiff

        return write_paletted_geotiff(out, cov, leg, overwrite=overwrite)
    if fmt == "kmz":
        from netqa.maps.kmz import write_kmz

        return write_kmz(out, cov, leg, cells=cells_df, samples=samples_df, regions=regions_gdf, title=title,
                         overwrite=overwrite)
    from netqa.maps.html import write_html_map

    return write_html_map(out, coverage, band=band, legend=leg, cells=cells_df, samples=samples_df,
                          regions=regions_gdf, title=title, overwrite=overwrite)
