"""Scoring regions and user complaints of the test world.

Regions (``regions.gpkg``, EPSG:4326 as users usually deliver them):
Valdera centre (urban), Valdera suburbs (suburban ring), Sotillo (urban),
rural north, rural south (without Sotillo), and the A-31 corridor (a 300 m
buffer of the highway, road).  Regions may overlap (the corridor crosses
the others), as real reporting areas do.

Complaints (``complaints.csv``) are drawn on a grid of the truth's median
coverage (best LTE RSRP and its SINR, no shadowing): the chance of a
complaint from a grid cell is proportional to people there (by clutter
class) times how bad the service is, so they are denser where coverage is
weak.  The category follows the local condition; the text is a short
free-text message in the customer's words.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np

from netqa.testworld import terrain
from netqa.testworld.config import WorldConfig

#: People weight of a grid cell by clutter code.
POPULATION_WEIGHT = {terrain.WATER: 0.0, terrain.OPEN: 0.3, terrain.FOREST: 0.1, terrain.SUBURBAN: 3.0,
                     terrain.URBAN: 6.0, terrain.DENSE_URBAN: 10.0}

TEXTS = {
    "no_coverage": ("No signal at all at home since last week", "Phone shows no service on the road out of town",
                    "Zero bars in the kitchen and garden", "Emergency calls only near the farm"),
    "weak_signal": ("Only one bar inside the house", "Signal very weak upstairs", "Weak reception at my shop",
                    "Have to stand by the window to get signal"),
    "call_drop": ("Calls keep dropping when I drive to work", "Call cut off three times today",
                  "Calls drop after a minute near the river", "Cannot finish a call on the bus"),
    "slow_data": ("Internet is very slow in the evening", "Videos keep buffering", "Speed test below 1 Mbit/s",
                  "Maps take ages to load"),
    "other": ("Bill shows roaming charges but I am at home", "Voicemail notification arrives late",
              "SMS arrive hours late", "App says network busy"),
}


def build_regions(cfg: WorldConfig, highway_xy: np.ndarray):
    """Region polygons in local metres: list of (region_id, name, area_type, shapely geometry)."""
    from shapely.geometry import LineString, Point, box

    (_n, vx, vy, vr, _t), (_n2, sx, sy, sr, _t2) = terrain.TOWNS[0], terrain.TOWNS[1]
    core = Point(vx, vy).buffer(0.6 * vr, 32)
    town = Point(vx, vy).buffer(1.1 * vr, 32)
    sot = Point(sx, sy).buffer(1.1 * sr, 32)
    size = cfg.size_m
    north = box(0.0, 14000.0, size, size).difference(town)
    south = box(0.0, 0.0, size, 8000.0).difference(sot)
    corridor = LineString(highway_xy).buffer(300.0, 16).intersection(box(0.0, 0.0, size, size))
    return [
        ("R01", "Valdera centre", "urban", core),
        ("R02", "Valdera suburbs", "suburban", town.difference(core)),
        ("R03", "Sotillo", "urban", sot),
        ("R04", "Rural north", "rural", north),
        ("R05", "Rural south", "rural", south),
        ("R06", "A-31 corridor", "road", corridor),
    ]


def build_complaints(cfg: WorldConfig, ter: terrain.Terrain, best_rsrp_dbm: np.ndarray, best_sinr_db: np.ndarray,
                     gx: np.ndarray, gy: np.ndarray, rng: np.random.Generator):
    """Complaint points: list of (utc datetime, x_m, y_m, category, text), sorted by time."""
    codes = ter.clutter_at(gx, gy)
    people = np.array([POPULATION_WEIGHT.get(int(c), 0.0) for c in codes])
    bad = (1.0 + 8.0 / (1.0 + np.exp((best_rsrp_dbm + 105.0) / 4.0))
           + 4.0 / (1.0 + np.exp(best_sinr_db / 2.0)))
    w = people * bad
    idx = rng.choice(gx.size, size=cfg.n_complaints, replace=True, p=w / w.sum())
    half = cfg.complaint_grid_m / 2
    tz = ZoneInfo(cfg.timezone)
    out = []
    for k in idx:
        x = float(np.clip(gx[k] + rng.uniform(-half, half), 1.0, ter.size_m - 1.0))
        y = float(np.clip(gy[k] + rng.uniform(-half, half), 1.0, ter.size_m - 1.0))
        r, q = best_rsrp_dbm[k], best_sinr_db[k]
        if r < -115.0:
            cat = "no_coverage" if rng.random() < 0.7 else "weak_signal"
        elif r < -105.0:
            cat = "weak_signal" if rng.random() < 0.7 else "call_drop"
        elif q < 0.0:
            cat = "call_drop" if rng.random() < 0.5 else "slow_data"
        else:
            cat = str(rng.choice(["slow_data", "call_drop", "other"], p=[0.5, 0.2, 0.3]))
        text = TEXTS[cat][int(rng.integers(0, len(TEXTS[cat])))]
        local = dt.datetime(2024, 5, 1, tzinfo=tz) + dt.timedelta(days=int(rng.integers(0, 31)),
                                                                  seconds=int(rng.integers(7 * 3600, 23 * 3600)))
        out.append((local.astimezone(dt.timezone.utc), x, y, cat, text))
    out.sort(key=lambda r: (r[0], r[1], r[2]))
    return out
