"""Region membership: one rule for ``netqa kpi``, ``netqa compare`` and ``netqa score``.

A region's polygon is what its file says, in the file's CRS: its edges are
straight lines *in that CRS*.  Reprojecting only the vertices bends nothing —
a 5 km edge of a lon/lat polygon drawn straight in UTM is off the true edge by
up to a few metres, enough to move a sample from one side to the other (the
test world's region R04 held 1,481 samples in kpi and compare, 1,480 in score).
So every reprojection of regions goes through :func:`reproject_regions`, which
first densifies each edge in the source CRS (vertices at most
:data:`MAX_SEGMENT_M` apart) so that the reprojected ring follows the true
edge to well under a millimetre; and every point-in-region test goes through
:func:`region_pairs`: a sample counts in every region whose polygon holds it,
its edge included (``intersects``); a sample without a position is in none.
"""

from __future__ import annotations

import numpy as np

#: Longest edge kept when regions are reprojected: longer edges get vertices this far apart. [m]
MAX_SEGMENT_M = 10.0
#: The same in degrees for geographic CRSs (10 m of latitude). [deg]
MAX_SEGMENT_DEG = MAX_SEGMENT_M / 111_320.0


def reproject_regions(gdf, crs):
    """Regions in ``crs``, their edges densified in the source CRS first (see the module docstring).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Regions with a CRS (a frame without one is taken as WGS84 lon/lat).
    crs : CRS-like
        Target CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy in ``crs`` (``gdf`` itself, unchanged, when it is already in ``crs``).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame({"region_id": ["a"]}, geometry=[box(-3.2, 40.4, -3.1, 40.5)], crs="EPSG:4326")
    >>> len(reproject_regions(g, "EPSG:32630").geometry[0].exterior.coords) > 1000
    True
    """
    import geopandas as gpd
    import shapely
    from pyproj import CRS

    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
    target = CRS.from_user_input(crs)
    if gdf.crs == target:
        return gdf
    step = MAX_SEGMENT_DEG if gdf.crs.is_geographic else MAX_SEGMENT_M / _unit_m(gdf.crs)
    dense = shapely.segmentize(gdf.geometry.to_numpy(), step)
    out = gdf.set_geometry(gpd.GeoSeries(dense, index=gdf.index, crs=gdf.crs)).to_crs(target)
    return out


def _unit_m(crs) -> float:
    """Metres per unit of a projected CRS's first axis (1 for metres, 0.3048 for feet)."""
    try:
        factor = crs.axis_info[0].unit_conversion_factor
        return float(factor) if factor else 1.0
    except (AttributeError, IndexError):
        return 1.0


def region_pairs(geoms, crs, lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """(sample index, region index) of every sample inside or on the edge of every region.

    Parameters
    ----------
    geoms : sequence of shapely geometries
        Region polygons in ``crs`` (None or empty: a region that holds nothing).
    crs : CRS-like
        CRS of ``geoms``; the WGS84 sample positions are projected into it.
    lon, lat : array_like
        Sample positions, WGS84; NaN or out of range: in no region. [deg]

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        int64 sample and region indices, sorted by region then sample.
    """
    from pyproj import CRS, Transformer

    from netqa.score.points import assign_points

    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    bad = ~((np.abs(lat) <= 90.0) & (np.abs(lon) <= 180.0))
    target = CRS.from_user_input(crs)
    if target == CRS.from_epsg(4326):
        x, y = lon.copy(), lat.copy()
    else:
        x, y = Transformer.from_crs("EPSG:4326", target, always_xy=True).transform(lon, lat)
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    x[bad] = np.nan
    y[bad] = np.nan
    return assign_points(x, y, list(geoms))


def region_masks(gdf, lon, lat) -> dict[str, np.ndarray]:
    """``{region_id: bool mask over the samples}`` in ``region_id`` order (regions sharing an id share a mask).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Regions with ``region_id`` and a CRS (none: WGS84).
    lon, lat : array_like
        Sample positions, WGS84. [deg]
    """
    lon = np.asarray(lon, dtype=np.float64)
    ids = gdf["region_id"].astype(str).to_numpy()
    point, reg = region_pairs(list(gdf.geometry), gdf.crs or "EPSG:4326", lon, lat)
    out = {rid: np.zeros(lon.size, bool) for rid in sorted(set(ids))}
    for i, rid in enumerate(ids):
        out[rid][point[reg == i]] = True
    return out
