"""Geodesic distances (pyproj.Geod) and UTM zones with the Norway/Svalbard exceptions."""

import numpy as np
import pytest

from netqa.errors import CRSError
from netqa.geodesy import geodesic_km, utm_zone
from netqa.grid import utm_crs_for


def test_published_ellipsoid_lengths():
    # WGS84 meridian quadrant 10 001 965.729 m; one degree of the equator a*pi/180 = 111 319.491 m
    assert geodesic_km(0.0, 0.0, 90.0, 0.0) == pytest.approx(10001.965729, abs=1e-6)
    assert geodesic_km(0.0, 0.0, 0.0, 1.0) == pytest.approx(6378137.0 * np.pi / 180.0 / 1000.0, abs=1e-9)


def test_broadcasting_nan_and_sphere_agreement():
    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(-80, 80, 50), rng.uniform(-180, 180, 50)
    d = geodesic_km(lat[:, None], lon[:, None], lat[None, :5], lon[None, :5])
    assert d.shape == (50, 5) and np.allclose(np.diag(d[:5]), 0.0)
    p1, p2 = np.radians(lat[:, None]), np.radians(lat[None, :5])
    hav = 2 * 6371.0088 * np.arcsin(np.sqrt(np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon[None, :5] - lon[:, None]) / 2) ** 2))
    far = d > 1.0
    assert np.all(np.abs(d[far] / hav[far] - 1) < 0.006)  # the sphere errs by at most ~0.5 %
    assert np.isnan(geodesic_km(np.nan, 0.0, 1.0, 1.0))


@pytest.mark.parametrize(("lon", "lat", "zone"), [
    (-8.47, 51.9, 29),      # Cork: a regular zone
    (5.32, 60.39, 32),      # Bergen, 32V (the standard zone would be 31)
    (3.0, 56.0, 32),        # south-west corner of 32V
    (2.99, 60.0, 31),       # just west of 32V
    (11.99, 63.9, 32),      # inside 32V, east part (regular zone 32 anyway)
    (5.0, 64.0, 31),        # north of band V: regular again
    (5.0, 55.99, 31),       # south of band V
    (8.9, 78.0, 31),        # Svalbard 31X: 0-9 E
    (11.93, 78.92, 33),     # Ny-Alesund, 33X (regular would be 32)
    (20.0, 79.0, 33),       # 33X up to 21 E (regular would be 34)
    (21.0, 79.0, 35),       # 35X from 21 E
    (32.9, 80.0, 35),
    (33.0, 80.0, 37),       # 37X from 33 E
    (41.9, 81.0, 37),
    (42.0, 81.0, 38),       # east of the exceptions
    (15.6, 71.9, 33),       # south of band X: regular
    (151.2, -33.9, 56),     # Sydney
    (180.0, 0.0, 60),
])
def test_utm_zone(lon, lat, zone):
    assert utm_zone(lon, lat) == zone
    assert utm_crs_for(lon, lat).to_epsg() == (32600 if lat >= 0 else 32700) + zone


def test_utm_out_of_range():
    with pytest.raises(CRSError, match="outside the UTM range"):
        utm_zone(0.0, 85.0)
    with pytest.raises(CRSError, match="outside -180..180"):
        utm_zone(181.0, 0.0)
