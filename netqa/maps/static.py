"""Static PNG coverage maps (matplotlib, no pyplot state) and the paletted uint8 GeoTIFF.

The PNG shows one band in the legend's discrete classes (with each class's
share of the mapped area), over an optional DEM hillshade, with sites and
sector wedges along their azimuths, optional measured samples drawn as circles
with a black ring on a white halo (their own legend entry; never lost in a
prediction of the same colour), a scale bar, a north arrow turned by the grid
convergence of the map CRS, and a note of the CRS and pixel size.  Site labels
(and, on best-server maps, cell labels on their cell's colour at the tips of
the sector wedges) are placed so that they do not overlap
(:mod:`netqa.maps.labels`); best-server colours differ between cells whose
areas touch (:mod:`netqa.maps.servers`).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import rasterio
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle, Wedge
from rasterio.enums import Resampling
from rasterio.warp import reproject

from netqa.errors import CRSError, RasterError
from netqa.fileio import atomic_path, check_output
from netqa.grid import to_geographic, to_projected
from netqa.maps.layers import CoverageBand, cell_half_width_deg
from netqa.maps.legend import Legend

log = logging.getLogger(__name__)

__all__ = ["render_png", "write_paletted_geotiff", "hillshade", "legend_png_bytes", "NODATA_CLASS"]

#: Class code of nodata / unclassified pixels in the paletted GeoTIFF.
NODATA_CLASS = 255
#: Most class rows in a PNG legend (best-server maps of large networks list the first ones).
_MAX_LEGEND_ROWS = 30


def hillshade(elev_m: np.ndarray, pixel_size_m: float, azimuth_deg: float = 315.0, altitude_deg: float = 45.0) -> np.ndarray:
    """Hillshade in 0..1 of an elevation grid (north-up), sun from ``azimuth_deg`` at ``altitude_deg``.

    Standard Lambertian hillshade (Horn-like central differences; Burrough &
    McDonnell, *Principles of GIS*, 1998, ch. 8).  NaN elevations give NaN.

    Flat ground is lit at cos(zenith) = sin(altitude):

    >>> round(float(hillshade(np.zeros((3, 3)), 30.0)[1, 1]), 4)
    0.7071
    """
    z = np.asarray(elev_m, dtype=np.float64)
    dz_dy, dz_dx = np.gradient(z, pixel_size_m)  # rows go south: dz_dy is d/d(south)
    slope = np.arctan(np.hypot(dz_dx, dz_dy))
    aspect = np.arctan2(-dz_dx, dz_dy)  # direction of steepest descent, clockwise from north
    zen = math.radians(90.0 - altitude_deg)
    az = math.radians(azimuth_deg)
    shade = math.cos(zen) * np.cos(slope) + math.sin(zen) * np.sin(slope) * np.cos(az - aspect)
    return np.clip(shade, 0.0, 1.0)


def _dem_on_band_grid(dem_path, band: CoverageBand) -> np.ndarray:
    with rasterio.open(dem_path) as ds:
        if ds.crs is None:
            raise CRSError(f"{dem_path}: the DEM has no CRS; it cannot be placed under the map")
        src = ds.read(1, masked=True)
        src = np.ma.filled(src.astype(np.float64), np.nan)
        dst = np.full(band.shape, np.nan)
        reproject(src, dst, src_transform=ds.transform, src_crs=ds.crs, dst_transform=band.transform,
                  dst_crs=band.crs, src_nodata=np.nan, dst_nodata=np.nan, resampling=Resampling.bilinear)
    return dst


def _metres_per_unit(band: CoverageBand) -> float:
    if band.crs.is_geographic:
        lat = 0.5 * (band.bounds[1] + band.bounds[3])
        return 111_320.0 * math.cos(math.radians(lat))
    return float(band.crs.linear_units_factor[1]) if band.crs.linear_units_factor else 1.0


def _nice_length_m(span_m: float) -> float:
    target = span_m / 5.0
    exp = 10.0 ** math.floor(math.log10(target))
    for m in (5.0, 2.0, 1.0):
        if m * exp <= target:
            return m * exp
    return exp


def _convergence_deg(band: CoverageBand) -> float:
    """Angle of true north from grid north at the map centre, clockwise positive. [deg]"""
    if band.crs.is_geographic:
        return 0.0
    l, b, r, t = band.bounds
    lon, lat = to_geographic(0.5 * (l + r), 0.5 * (b + t), band.crs)
    x0, y0 = to_projected(lon, lat, band.crs)
    x1, y1 = to_projected(lon, lat + 0.01, band.crs)
    return math.degrees(math.atan2(x1 - x0, y1 - y0))


def _crs_note(band: CoverageBand) -> str:
    name = band.crs.to_string()
    try:
        from pyproj import CRS as ProjCRS

        pc = ProjCRS.from_user_input(band.crs.to_wkt())
        epsg = pc.to_epsg()
        name = f"{pc.name} (EPSG:{epsg})" if epsg else pc.name
    except Exception:  # pragma: no cover - pyproj always parses rasterio WKT
        pass
    px = band.pixel_size * _metres_per_unit(band)
    return f"CRS: {name}  ·  pixel {px:.0f} m  ·  {Path(band.path).name or 'coverage'}"


def _legend_labels(legend: Legend, band: CoverageBand) -> list[str]:
    counts = legend.counts(band.values)
    total = counts.sum()
    if legend.categorical or total == 0:
        return [c.label for c in legend.classes]
    return [f"{c.label}   ({100.0 * n / total:.1f} %)" for c, n in zip(legend.classes, counts)]


def render_png(path, band: CoverageBand, legend: Legend, *, cells=None, samples=None, dem=None, regions=None,
               title: str | None = None, overwrite: bool = False, dpi: int = 150, width_px: int | None = None) -> Path:
    """Draw ``band`` classified by ``legend`` and write a PNG atomically.

    Parameters
    ----------
    path : path
        Output ``.png``; refused when it exists unless ``overwrite``.
    band : CoverageBand
        From :func:`netqa.maps.layers.read_band`.
    legend : Legend
        Discrete classes and colours.
    cells : pandas.DataFrame, optional
        Canonical cells (:func:`netqa.maps.layers.load_cells`): sites and sector wedges.
    samples : pandas.DataFrame, optional
        Measured samples (lat, lon and, when present, the band's column).
    dem : path, optional
        DEM GeoTIFF drawn as a hillshade under a semi-transparent coverage.
    regions : geopandas.GeoDataFrame, optional
        Region polygons (:func:`netqa.maps.layers.load_regions`): outlines labelled
        with the name and, when the layer carries ``score_overall``, the score and grade.
    title : str, optional
        Map title (default: the legend heading).
    dpi : int
        Output resolution; the figure is 10 x 8 inches.
    width_px : int, optional
        Output width in pixels instead (the figure keeps its 10:8 shape).
    """
    out = check_output(path, overwrite)
    if band.transform.b != 0 or band.transform.d != 0:
        raise RasterError(f"{band.path}: rotated rasters are not supported; warp it north-up first (gdalwarp)")
    left, bottom, right, top = band.bounds
    extent = (left, right, bottom, top)
    if width_px is not None:
        dpi = width_px / 10.0
    fig = Figure(figsize=(10, 8), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_facecolor("#f4f4f4")
    alpha = 255
    if dem is not None:
        shade = hillshade(_dem_on_band_grid(dem, band), band.pixel_size * _metres_per_unit(band))
        ax.imshow(np.ma.masked_invalid(shade), cmap="gray", vmin=0, vmax=1, extent=extent, interpolation="nearest")
        alpha = 170
    ax.imshow(legend.rgba(band.values, alpha=alpha), extent=extent, interpolation="nearest")
    counts = legend.counts(band.values)
    handles = [Patch(facecolor=c.color, edgecolor="0.3", linewidth=0.5, label=lab)
               for c, lab, n in zip(legend.classes, _legend_labels(legend, band), counts)
               if n > 0 or not legend.categorical][:_MAX_LEGEND_ROWS]
    if np.isnan(band.values).any():
        handles.append(Patch(facecolor=ax.get_facecolor(), edgecolor="0.3", linewidth=0.5, label="no data"))
    span = max(right - left, top - bottom)
    if cells is not None and len(cells):
        _draw_cells(ax, cells, band, span)
        handles.append(Line2D([], [], marker="^", color="k", linestyle="", markersize=7, label=f"site ({cells['site_id'].nunique()})"))
        handles.append(Patch(facecolor="white", edgecolor="k", label="sector (azimuth)"))
    if regions is not None and len(regions):
        _draw_regions(ax, regions, band)
        scored = "score_overall" in regions.columns or "score" in regions.columns
        handles.append(Line2D([], [], color="k", linestyle="--", linewidth=1.2,
                              label=f"region ({len(regions)}){', score (grade)' if scored else ''}"))
    if samples is not None and len(samples):
        _draw_samples(ax, samples, band, legend)
        handles.append(Line2D([], [], marker="o", markerfacecolor="white", markeredgecolor="k", linestyle="",
                              markersize=6, label=f"measured samples ({len(samples)}; ringed, on a white halo)"))
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.set_aspect("equal")
    unit_name = "deg" if band.crs.is_geographic else "m"
    ax.set_xlabel(f"{'Longitude' if band.crs.is_geographic else 'Easting'} [{unit_name}]")
    ax.set_ylabel(f"{'Latitude' if band.crs.is_geographic else 'Northing'} [{unit_name}]")
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.tick_params(labelsize=7)
    ax.set_title(title or legend.heading, fontsize=13, fontweight="bold")
    ax.legend(handles=handles, title=legend.heading, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              fontsize=8, title_fontsize=9, frameon=True, borderaxespad=0.0)
    _scale_bar(ax, band, left, right, bottom, top)
    _north_arrow(ax, _convergence_deg(band))
    if cells is not None and len(cells):
        _label_cells(fig, ax, cells, band, legend, span)
    # Inside the map's lower-right corner: below the axes it would collide with the x label on narrow figures.
    ax.text(0.995, 0.006, _crs_note(band), transform=ax.transAxes, fontsize=7, color="0.2", ha="right", va="bottom",
            zorder=9, bbox=dict(boxstyle="round,pad=0.2", facecolor="white", edgecolor="none", alpha=0.8))
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    log.info("wrote %s", out)
    return out


def _draw_cells(ax, cells, band: CoverageBand, span: float) -> None:
    x, y = to_projected(cells["lon"].to_numpy(float), cells["lat"].to_numpy(float), band.crs)
    x, y = np.atleast_1d(x), np.atleast_1d(y)
    radius = 0.035 * span
    conv = _convergence_deg(band)
    for i, row in enumerate(cells.itertuples(index=False)):
        az = getattr(row, "azimuth_deg", float("nan"))
        if not np.isfinite(az):
            continue
        hw = cell_half_width_deg(row._asdict())
        grid_az = az - conv  # azimuth from grid north
        ax.add_patch(Wedge((x[i], y[i]), radius, 90.0 - grid_az - hw, 90.0 - grid_az + hw,
                           facecolor="white", edgecolor="k", linewidth=0.8, alpha=0.85, zorder=4))
    sites = cells.groupby("site_id", sort=False).agg(lon=("lon", "first"), lat=("lat", "first")).reset_index()
    sx, sy = to_projected(sites["lon"].to_numpy(float), sites["lat"].to_numpy(float), band.crs)
    ax.plot(sx, sy, "^", color="k", markersize=6, zorder=5)


def _label_cells(fig, ax, cells, band: CoverageBand, legend: Legend, span: float) -> None:
    """Site labels (up to 40 sites) and, on best-server maps, cell labels at the tips of their sector wedges
    on the cell's own colour (up to 150 cells); placed without overlaps (:mod:`netqa.maps.labels`)."""
    from netqa.maps.labels import marker_boxes, place_labels

    sites = cells.groupby("site_id", sort=False).agg(lon=("lon", "first"), lat=("lat", "first")).reset_index()
    sx, sy = (np.atleast_1d(v) for v in to_projected(sites["lon"].to_numpy(float), sites["lat"].to_numpy(float), band.crs))
    label_sites = len(sites) <= 40
    label_cells = legend.categorical and band.name == "best_cell" and len(cells) <= 150
    if not (label_sites or label_cells):
        return
    fig.draw_without_rendering()  # final layout: labels are measured in display pixels
    renderer = fig.canvas.get_renderer()
    obstacles = marker_boxes(ax, sx, sy, size_px=6 * fig.dpi / 72.0 + 2)
    anchors, texts, faces, edges = [], [], [], []
    if label_cells:
        # cells that serve no pixel (another layer, or out of reach) get no label: they have no area to name
        colour = {c.label: c.color for c, n in zip(legend.classes, legend.counts(band.values)) if n > 0}
        x, y = (np.atleast_1d(v) for v in to_projected(cells["lon"].to_numpy(float), cells["lat"].to_numpy(float), band.crs))
        conv = _convergence_deg(band)
        reach = 0.035 * span
        for i, row in enumerate(cells.itertuples(index=False)):
            cid = str(row.cell_id)
            if cid not in colour:
                continue
            az = getattr(row, "azimuth_deg", float("nan"))
            a = math.radians((az if np.isfinite(az) else 0.0) - conv)
            r = reach if np.isfinite(az) else 0.0
            anchors.append((x[i] + r * math.sin(a), y[i] + r * math.cos(a)))
            texts.append(cid)
            faces.append(colour[cid])
            edges.append("k")  # the box stays visible on an area of its own colour
    if label_sites:
        anchors += list(zip(sx, sy))
        texts += [str(s) for s in sites["site_id"]]
        faces += ["white"] * len(sites)
        edges += [None] * len(sites)
    place_labels(ax, anchors, texts, renderer=renderer, obstacles=obstacles, facecolors=faces, edgecolors=edges,
                 fontsize=6.5 if label_cells else 7.0)


def _draw_regions(ax, regions, band: CoverageBand) -> None:
    """Outlines (white under a dashed black line, readable on every class colour) and labels."""
    import matplotlib.patheffects as pe

    from shapely.geometry import box

    from netqa.maps.layers import label_point, region_label

    gdf = regions.to_crs(band.crs.to_wkt())
    view = box(*band.bounds)
    halo = [pe.withStroke(linewidth=2.5, foreground="white")]
    for geom, (_, row) in zip(gdf.geometry, gdf.iterrows()):
        polys = list(geom.geoms) if geom.geom_type.startswith("Multi") else [geom]
        for poly in polys:
            if poly.geom_type != "Polygon":
                continue
            for ring in (poly.exterior, *poly.interiors):
                x, y = np.asarray(ring.xy)
                ax.plot(x, y, color="white", linewidth=2.4, zorder=5.5, solid_capstyle="round")
                ax.plot(x, y, color="k", linewidth=1.1, linestyle="--", zorder=5.6)
        label = region_label(row)
        c = label_point(geom, view) if label else None
        if c is None:
            continue
        # A label on a ring (or off-centre) reads outward from the region's middle; near a map edge, inward.
        l, b, r, t = band.bounds
        gx0, _, gx1, _ = geom.bounds
        frac, off = (c.x - l) / (r - l), (c.x - 0.5 * (gx0 + gx1)) / max(gx1 - gx0, 1e-9)
        ha = "center"
        if frac > 0.85 or (off < -0.25 and frac > 0.15):
            ha = "right"
        elif frac < 0.15 or off > 0.25:
            ha = "left"
        ax.text(c.x, c.y, label, ha=ha, va="center", fontsize=8, fontweight="bold", zorder=8,
                path_effects=halo, clip_on=True)


def _draw_samples(ax, samples, band: CoverageBand, legend: Legend) -> None:
    x, y = to_projected(samples["lon"].to_numpy(float), samples["lat"].to_numpy(float), band.crs)
    if band.name in samples.columns and not legend.categorical:
        colors = legend.rgba(samples[band.name].to_numpy(float)) / 255.0
        colors[colors[:, 3] == 0] = (1.0, 1.0, 1.0, 1.0)  # unmeasured: white
    else:
        colors = "white"
    # Dense drives (1 Hz over kilometres) overlap: shrink the markers so their colours stay readable.  Each
    # marker has a black ring on a white halo, so a sample never vanishes into a prediction of its own colour.
    dense = len(x) > 1000
    size = 5 if dense else 16
    ax.scatter(x, y, s=size * 2.6, c="white", edgecolors="none", zorder=6.9)
    ax.scatter(x, y, s=size, c=colors, edgecolors="k", linewidths=0.35 if dense else 0.7, zorder=7)


def _scale_bar(ax, band: CoverageBand, left, right, bottom, top) -> None:
    mpu = _metres_per_unit(band)
    length_m = _nice_length_m((right - left) * mpu)
    length = length_m / mpu
    x0 = left + 0.04 * (right - left)
    y0 = bottom + 0.04 * (top - bottom)
    h = 0.008 * (top - bottom)
    half = length / 2.0
    ax.add_patch(Rectangle((x0, y0), half, h, facecolor="k", edgecolor="k", zorder=8))
    ax.add_patch(Rectangle((x0 + half, y0), half, h, facecolor="white", edgecolor="k", zorder=8))
    label = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"
    ax.text(x0 + length / 2.0, y0 + 2.2 * h, label, ha="center", va="bottom", fontsize=8, zorder=8,
            bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.8))


def _north_arrow(ax, convergence_deg: float) -> None:
    # Points to true north: rotated by -convergence from grid north (up).
    a = math.radians(-convergence_deg)
    cx, cy, r = 0.94, 0.88, 0.06
    dx, dy = r * math.sin(a), r * math.cos(a)
    ax.annotate("", xy=(cx + dx / 2, cy + dy / 2), xytext=(cx - dx / 2, cy - dy / 2), xycoords="axes fraction",
                arrowprops=dict(facecolor="k", edgecolor="k", width=3, headwidth=10, headlength=10), zorder=9)
    ax.text(cx + 0.62 * dx, cy + 0.62 * dy, "N", transform=ax.transAxes, ha="center", va="bottom",
            fontsize=11, fontweight="bold", zorder=9)


def legend_png_bytes(legend: Legend, labels: list[str] | None = None, dpi: int = 110) -> bytes:
    """A small PNG of the legend alone (KMZ ScreenOverlay, HTML)."""
    import io

    labels = labels or [c.label for c in legend.classes]
    n = len(legend.classes)
    fig = Figure(figsize=(2.4, 0.35 + 0.24 * n), dpi=dpi)
    FigureCanvasAgg(fig)
    handles = [Patch(facecolor=c.color, edgecolor="0.3", label=lab) for c, lab in zip(legend.classes, labels)]
    fig.legend(handles=handles, title=legend.heading, loc="center", fontsize=8, title_fontsize=9, frameon=True)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", pad_inches=0.02)
    return buf.getvalue()


def write_paletted_geotiff(path, band: CoverageBand, legend: Legend, *, overwrite: bool = False) -> Path:
    """Write ``band`` as a one-band uint8 GeoTIFF of class codes with a colour table.

    Code ``i`` is ``legend.classes[i]``; 255 is nodata (and unclassified).  The
    class labels and bounds are stored in the file's tags (``class_<i>`` and a
    ``legend`` JSON tag) so a GIS user can read what each colour means.
    """
    import json

    from netqa.io.raster import open_cog_dataset

    out = check_output(path, overwrite)
    idx = legend.classify(band.values)
    codes = np.where(idx < 0, NODATA_CLASS, idx).astype(np.uint8)
    rows, cols = band.shape
    profile = dict(driver="GTiff", width=cols, height=rows, count=1, dtype="uint8", crs=band.crs,
                   transform=band.transform, nodata=NODATA_CLASS, photometric="palette")
    cmap = {i: (*c.rgb, 255) for i, c in enumerate(legend.classes)}
    cmap[NODATA_CLASS] = (0, 0, 0, 0)
    tags = {f"class_{i}": f"{c.label} [{c.min_value:g}, {c.max_value:g})" for i, c in enumerate(legend.classes)}
    tags["legend"] = json.dumps([
        {"code": i, "label": c.label, "min": c.min_value if np.isfinite(c.min_value) else None,
         "max": c.max_value if np.isfinite(c.max_value) else None, "color": c.color}
        for i, c in enumerate(legend.classes)
    ], ensure_ascii=False)
    # a Cloud-Optimized GeoTIFF like every raster netqa writes (overviews by nearest neighbour keep the codes)
    with open_cog_dataset(out, profile, overwrite=overwrite) as ds:
        ds.write(codes, 1)
        ds.write_colormap(1, cmap)
        ds.set_band_description(1, f"{band.name}_class")
        ds.update_tags(1, name=f"{band.name}_class", source_band=band.name)
        ds.update_tags(**tags)
    log.info("wrote %s", out)
    return out
