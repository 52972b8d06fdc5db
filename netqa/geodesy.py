"""Geodesic distances on the WGS84 ellipsoid and the UTM zone of a point.

* :func:`geodesic_km` — the ellipsoidal geodesic (Karney, C. F. F., 2013,
  "Algorithms for geodesics", J. Geodesy 87, 43-55), computed by
  :class:`pyproj.Geod` (PROJ's port of GeographicLib); accurate to
  nanometres, where a spherical haversine errs by up to 0.5 %.
* :func:`utm_zone` — the UTM zone number, with the two irregular areas of
  the UTM grid (NGA.SIG.0012_2.0.0_UTMUPS, "The Universal Grids and the
  Transverse Mercator and Polar Stereographic Map Projections", NGA 2014,
  UTM zone definition): zone 32 widened to 3-12 deg E in latitude band V
  (56-64 deg N, south-west Norway), and in band X (72-84 deg N, Svalbard)
  zones 31 (0-9 deg E), 33 (9-21 deg E), 35 (21-33 deg E), 37 (33-42 deg E),
  with 32X, 34X and 36X unused.

  Why hand-written: ``pyproj.database.query_utm_crs_info`` looks zones up by
  their EPSG areas of use, which are the plain 6-degree strips (it returns
  zone 31 for Bergen and zone 34 at 20 deg E, 79 deg N), and pyproj has no
  MGRS grid-zone function; the exceptions are five comparisons, applied here
  and tested (``tests/netqa/test_geodesy.py``).
"""

from __future__ import annotations

import math

import numpy as np
from pyproj import Geod

from netqa.errors import CRSError

#: The WGS84 ellipsoid's geodesic solver.
WGS84_GEOD = Geod(ellps="WGS84")


def geodesic_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Geodesic distance on the WGS84 ellipsoid between points (numpy broadcasting).

    Parameters
    ----------
    lat1, lon1, lat2, lon2 : array_like
        WGS84 latitudes and longitudes. [deg]

    Returns
    -------
    numpy.ndarray
        Distance [km], NaN where an input is NaN; shape of the broadcast inputs.

    Examples
    --------
    >>> round(float(geodesic_km(0.0, 0.0, 90.0, 0.0)), 6)  # the WGS84 meridian quadrant
    10001.965729
    """
    a, b, c, d = np.broadcast_arrays(*(np.asarray(x, dtype=np.float64) for x in (lat1, lon1, lat2, lon2)))
    shape = a.shape
    a, b, c, d = (np.ascontiguousarray(x).ravel() for x in (a, b, c, d))
    out = np.full(a.shape, np.nan)
    ok = np.isfinite(a) & np.isfinite(b) & np.isfinite(c) & np.isfinite(d)
    if ok.any():
        _, _, dist_m = WGS84_GEOD.inv(b[ok], a[ok], d[ok], c[ok])
        out[ok] = np.asarray(dist_m) / 1000.0
    return out.reshape(shape)


def utm_zone(lon: float, lat: float) -> int:
    """UTM zone number (1-60) of a point, with the Norway and Svalbard exceptions.

    Parameters
    ----------
    lon : float
        WGS84 longitude, -180..180. [deg]
    lat : float
        WGS84 latitude, -80..84 (the UTM range). [deg]

    Examples
    --------
    >>> utm_zone(-8.47, 51.9), utm_zone(5.32, 60.39), utm_zone(20.0, 79.0)
    (29, 32, 33)
    """
    lon, lat = float(lon), float(lat)
    if not math.isfinite(lon) or not (-180.0 <= lon <= 180.0):
        raise CRSError(f"lon = {lon!r} is outside -180..180 deg; cannot choose a UTM zone")
    if not math.isfinite(lat) or not (-80.0 <= lat <= 84.0):
        raise CRSError(f"lat = {lat!r} is outside the UTM range -80..84 deg; use a polar projection (e.g. EPSG:3413/3031)")
    zone = min(math.floor((lon + 180.0) / 6.0) + 1, 60)
    if 56.0 <= lat < 64.0 and 3.0 <= lon < 12.0:
        return 32  # band V: south-west Norway
    if 72.0 <= lat <= 84.0 and 0.0 <= lon < 42.0:  # band X: Svalbard
        for east, z in ((9.0, 31), (21.0, 33), (33.0, 35), (42.0, 37)):
            if lon < east:
                return z
    return zone
