"""Region polygons for scorecards: reading, validation and repair.

A regions file (GeoPackage, GeoJSON, Shapefile, anything pyogrio reads) holds
polygons with ``region_id``, ``name`` and ``area_type`` (DESIGN.md,
"Canonical tables").  :func:`load_regions` checks it and returns a
GeoDataFrame in a metric CRS with two extra columns per region:

``status``
    ``ok``, ``repaired`` (the geometry was invalid and was repaired),
    ``empty`` (no area) or ``failed`` (unusable geometry).
``notes``
    Human-readable reasons, ``; ``-separated.

Bad input and what happens to it (documented contract):

* missing file, missing ``region_id`` column, no CRS → :class:`InputError` /
  :class:`CRSError` (the whole run stops: nothing sensible can be scored);
* duplicate ``region_id`` → :class:`InputError` listing the duplicates and
  their row numbers (ids key the results and the resume state, so they must be
  unique; rename or dissolve the duplicates);
* invalid geometry (self-intersection, bow-tie, unclosed ring, ...) →
  repaired with ``shapely.make_valid`` keeping only the polygonal parts; a
  :class:`RegionRepairWarning` is issued and the row is marked ``repaired``
  with the GEOS reason; if nothing polygonal is left the row is ``failed``;
* a non-polygon geometry (point, line) → the row is ``failed``;
* an empty or null geometry, or zero area → the row is ``empty``;
* a region in another CRS than the samples or raster → reprojected (samples
  are WGS84 lon/lat by contract; the raster's CRS is used for zonal statistics).

A failed or empty region stays in the output with its reason, so one bad
polygon never stops a batch.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from netqa.errors import CRSError, InputError
from netqa.grid import is_metric, utm_crs_for

log = logging.getLogger(__name__)

#: Columns a regions file must have (``name`` and ``area_type`` are filled when absent).
REQUIRED = ("region_id",)


class RegionRepairWarning(UserWarning):
    """An invalid region polygon was repaired (see the row's ``notes``)."""


def load_regions(path, *, target_crs=None, repair: bool = True) -> gpd.GeoDataFrame:
    """Read, validate and (where needed) repair region polygons.

    Parameters
    ----------
    path : path or geopandas.GeoDataFrame
        Regions file (GeoPackage/GeoJSON/Shapefile) or an in-memory frame.
    target_crs : CRS-like, optional
        Metric CRS to return the polygons in (the coverage raster's).  Default:
        the file's CRS when it is metric, else the UTM zone of the regions'
        centre.
    repair : bool
        Repair invalid polygons (default).  With ``False`` an invalid polygon
        marks its row ``failed`` instead.

    Returns
    -------
    geopandas.GeoDataFrame
        ``region_id`` (str), ``name``, ``area_type``, ``geometry`` (metric CRS),
        ``area_km2``, ``status``, ``notes``, in file order.

    Raises
    ------
    netqa.errors.InputError
        Missing file or column, duplicate ids.
    netqa.errors.CRSError
        The file has no CRS.
    """
    if isinstance(path, gpd.GeoDataFrame):
        gdf, src = path.copy(), "<regions>"
    else:
        p = Path(path)
        if not p.exists():
            raise InputError(f"{p}: regions file not found")
        try:
            gdf = gpd.read_file(p)
        except Exception as exc:  # pyogrio raises DataSourceError and friends
            raise InputError(f"{p}: cannot read regions ({exc})") from exc
        src = str(p)
    missing = [c for c in REQUIRED if c not in gdf.columns]
    if missing:
        raise InputError(
            f"{src}: missing column(s) {', '.join(missing)}; columns are {', '.join(map(str, gdf.columns))}. "
            "A regions file needs region_id, name, area_type and polygon geometries"
        )
    if gdf.crs is None:
        raise CRSError(f"{src}: the regions have no CRS; set one (e.g. EPSG:4326 for lon/lat) in the file")
    if len(gdf) == 0:
        raise InputError(f"{src}: no regions in the file")
    ids = gdf["region_id"]
    if ids.isna().any():
        rows = (np.flatnonzero(ids.isna().to_numpy()) + 1).tolist()
        raise InputError(f"{src}: region_id is empty on row(s) {rows[:10]}; every region needs an id")
    ids = ids.astype(str)
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        detail = "; ".join(
            f"{rid!r} on rows {(np.flatnonzero((ids == rid).to_numpy()) + 1).tolist()}" for rid in dict.fromkeys(dup)
        )
        raise InputError(f"{src}: duplicate region_id {detail}; region ids must be unique (rename or dissolve them)")
    out = gpd.GeoDataFrame(
        {
            "region_id": ids.to_numpy(dtype=object),
            "name": gdf["name"].astype(str).to_numpy(dtype=object) if "name" in gdf else ids.to_numpy(dtype=object),
            "area_type": gdf["area_type"].astype(str).to_numpy(dtype=object) if "area_type" in gdf else "other",
        },
        geometry=gdf.geometry.to_numpy(),
        crs=gdf.crs,
    )
    for extra in gdf.columns:
        if extra not in out.columns and extra != gdf.geometry.name:
            out[extra] = gdf[extra].to_numpy()
    if target_crs is None:
        if is_metric(gdf.crs):
            target_crs = gdf.crs
        else:
            lon, lat = _centre_lonlat(out)
            target_crs = utm_crs_for(lon, lat)
    if out.crs != target_crs:
        log.info("%s: regions reprojected from %s to %s", src, out.crs.to_string(), gpd.GeoSeries(crs=target_crs).crs.to_string())
    status, notes, geoms = [], [], []
    for rid, geom in zip(out["region_id"], out.geometry):
        g, st, note = _check_geometry(geom, repair)
        if st == "repaired":
            warnings.warn(f"{src}: region {rid!r}: {note}", RegionRepairWarning, stacklevel=2)
        status.append(st)
        notes.append(note)
        geoms.append(g)
    # edges densified before the reprojection: the same membership as kpi and compare (netqa.regions)
    from netqa.regions import reproject_regions

    out = reproject_regions(out.set_geometry(gpd.GeoSeries(geoms, crs=gdf.crs)), target_crs)
    # reprojection can make a valid ring slightly invalid; repair silently (not the user's fault)
    bad = ~out.geometry.is_valid & out.geometry.notna()
    if bad.any():
        out.loc[bad, "geometry"] = shapely.make_valid(out.geometry[bad].to_numpy())
    out["area_km2"] = out.geometry.area.fillna(0.0).to_numpy() / 1e6
    out["status"] = status
    out["notes"] = notes
    zero = (out["area_km2"] <= 0.0) & (out["status"].isin(["ok", "repaired"]))
    out.loc[zero, "status"] = "empty"
    out.loc[zero, "notes"] = [_join(n, "the region has zero area") for n in out.loc[zero, "notes"]]
    return out.reset_index(drop=True)


def _check_geometry(geom, repair: bool):
    """(geometry or None, status, note) for one region geometry."""
    if geom is None or shapely.is_empty(geom):
        return None, "empty", "the region has no geometry"
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        return None, "failed", f"geometry is a {geom.geom_type}, not a polygon"
    if shapely.is_valid(geom):
        return geom, "ok", ""
    reason = shapely.is_valid_reason(geom)
    if not repair:
        return None, "failed", f"invalid polygon ({reason}); repair it or run with repair enabled"
    fixed = _polygonal(shapely.make_valid(geom))
    if fixed is None or fixed.area <= 0.0:
        return None, "failed", f"invalid polygon ({reason}) with no polygonal area left after repair"
    return fixed, "repaired", f"invalid polygon ({reason}) repaired with make_valid; area {geom.area:.6g} -> {fixed.area:.6g} (source CRS units)"


def _polygonal(geom):
    """The polygonal part of a geometry (collections from make_valid keep only polygons)."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    if geom.geom_type == "GeometryCollection":
        polys = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        return shapely.union_all(polys) if polys else None
    return None


def _centre_lonlat(gdf: gpd.GeoDataFrame) -> tuple[float, float]:
    g = gdf.geometry[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    if g.empty:
        return 0.0, 0.0
    minx, miny, maxx, maxy = g.to_crs(4326).total_bounds
    if not np.all(np.isfinite([minx, miny, maxx, maxy])):
        return 0.0, 0.0
    return (minx + maxx) / 2.0, (miny + maxy) / 2.0


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)

