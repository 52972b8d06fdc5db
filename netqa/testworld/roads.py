"""Roads of the test world and the vehicle kinematics of the drive sessions.

Road types and free-flow speeds (``WorldConfig.speed_kmh``): ``highway``
(105 km/h), ``rural`` (70 km/h), ``street`` (35 km/h; town grids with 300 m
blocks).  Rural roads get smooth random bends (endpoints fixed).  A vehicle
accelerates at 1.5 m/s^2, brakes at 2 m/s^2, takes turns sharper than 30 deg
at 20 km/h and stops at a town junction with probability ``stop_prob`` for
5-30 s (traffic lights).  Positions are taken every second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from netqa.testworld.config import WorldConfig

ACCEL_M_S2, BRAKE_M_S2, TURN_SPEED_M_S = 1.5, 2.0, 20.0 / 3.6

#: Town street grids: name -> (x0, y0, spacing, n) ; node (i, j) = (x0 + i s, y0 + j s)
GRIDS = {
    "Valdera": (7000.0, 10000.0, 300.0, 11),
    "Sotillo": (14600.0, 4100.0, 300.0, 7),
    "La Vega": (3700.0, 16200.0, 300.0, 3),
}

_HIGHWAY = [(0.0, 7200.0), (3000.0, 8200.0), (6000.0, 9400.0), (8500.0, 10000.0), (11000.0, 9700.0),
            (13500.0, 9800.0), (16500.0, 11000.0), (20000.0, 12300.0)]
_RURAL = {
    "R1 Valdera-Sotillo": [(10000.0, 11500.0), (11500.0, 10500.0), (12800.0, 8000.0), (13500.0, 6500.0), (14600.0, 5000.0)],
    "R2 Valdera-La Vega": [(7000.0, 13000.0), (6000.0, 14200.0), (5000.0, 15300.0), (4000.0, 16200.0)],
    "R3 Sotillo south": [(15500.0, 4100.0), (15800.0, 2500.0), (15200.0, 100.0)],
    "R4 north road": [(4300.0, 16500.0), (7000.0, 17600.0), (10000.0, 18400.0), (13000.0, 17800.0), (16000.0, 17000.0),
                      (18500.0, 15500.0), (19900.0, 15000.0)],
    "R5 west road": [(3700.0, 16200.0), (2500.0, 13000.0), (2000.0, 10000.0), (3000.0, 8200.0)],
}


@dataclass(frozen=True)
class Road:
    name: str
    road_type: str
    xy: np.ndarray  # (n, 2) local metres


def _densify(pts, step_m: float = 25.0) -> np.ndarray:
    pts = np.asarray(pts, dtype=np.float64)
    out = [pts[0]]
    for a, b in zip(pts[:-1], pts[1:]):
        n = max(int(np.ceil(np.hypot(*(b - a)) / step_m)), 1)
        t = (np.arange(1, n + 1) / n)[:, None]
        out.extend(a + t * (b - a))
    return np.array(out)


def _wiggle(xy: np.ndarray, rng: np.random.Generator, amp_m: float) -> np.ndarray:
    """Bend a densified polyline sideways smoothly, keeping both end points."""
    seg = np.hypot(*np.diff(xy, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    t = s / s[-1]
    phases = rng.uniform(0, 2 * np.pi, 3)
    waves = sum(np.sin(2 * np.pi * (k + 1) * t * s[-1] / 4000.0 + p) / (k + 1) for k, p in enumerate(phases))
    off = amp_m * np.sin(np.pi * t) * waves
    d = np.gradient(xy, axis=0)
    nrm = np.stack([-d[:, 1], d[:, 0]], axis=1) / np.hypot(d[:, 0], d[:, 1])[:, None]
    return xy + off[:, None] * nrm


def grid_node(town: str, i: int, j: int) -> tuple[float, float]:
    x0, y0, s, _n = GRIDS[town]
    return (x0 + i * s, y0 + j * s)


def build_roads(rng: np.random.Generator) -> dict[str, Road]:
    """All roads by name: the highway, five rural roads and the town street grids."""
    roads = {"A-31 highway": Road("A-31 highway", "highway", _densify(_HIGHWAY))}
    for name, pts in _RURAL.items():
        roads[name] = Road(name, "rural", _wiggle(_densify(pts), rng, 120.0))
    for town, (x0, y0, s, n) in GRIDS.items():
        span = (n - 1) * s
        for k in range(n):
            roads[f"{town} street E{k + 1}"] = Road(f"{town} street E{k + 1}", "street",
                                                    _densify([(x0, y0 + k * s), (x0 + span, y0 + k * s)]))
            roads[f"{town} street N{k + 1}"] = Road(f"{town} street N{k + 1}", "street",
                                                    _densify([(x0 + k * s, y0), (x0 + k * s, y0 + span)]))
    return roads


def _hw(i0: int, i1: int) -> list:
    pts = _HIGHWAY[i0:i1 + 1] if i1 >= i0 else _HIGHWAY[i1:i0 + 1][::-1]
    return [("highway", _densify(pts), False)]


def _rural(roads, name: str, reverse: bool = False) -> list:
    xy = roads[name].xy
    return [("rural", xy[::-1] if reverse else xy, False)]


def _streets(town: str, nodes: list[tuple[int, int]]) -> list:
    out = []
    for a, b in zip(nodes[:-1], nodes[1:]):
        out.append(("street", _densify([grid_node(town, *a), grid_node(town, *b)], 25.0), True))
    return out


def session_routes(roads: dict[str, Road]) -> dict[str, list]:
    """The three drive sessions as lists of (road type, polyline, junction stops allowed) pieces."""
    return {
        "d1_highway_valdera": (
            _hw(0, 3)
            + _streets("Valdera", [(5, 0), (5, 5), (8, 5), (8, 8), (2, 8), (2, 2), (5, 2), (5, 4), (10, 4), (10, 1),
                                          (7, 1), (7, 0), (5, 0)])
            + _hw(3, 7)
        ),
        "d2_valdera_sotillo": (
            _streets("Valdera", [(5, 5), (10, 5)])
            + _rural(roads, "R1 Valdera-Sotillo")
            + _streets("Sotillo", [(0, 3), (3, 3), (3, 6), (6, 6), (6, 0), (3, 0)])
            + _rural(roads, "R3 Sotillo south")
            + _rural(roads, "R3 Sotillo south", reverse=True)
            + _streets("Sotillo", [(3, 0), (3, 3), (0, 3)])
            + _rural(roads, "R1 Valdera-Sotillo", reverse=True)
        ),
        "d3_north_loop": (
            _streets("Valdera", [(5, 5), (5, 10), (0, 10)])
            + _rural(roads, "R2 Valdera-La Vega")
            + _streets("La Vega", [(1, 0), (0, 0)])
            + _rural(roads, "R5 west road")
            + _rural(roads, "R5 west road", reverse=True)
            + _streets("La Vega", [(0, 0), (0, 2), (2, 2), (2, 1)])
            + _rural(roads, "R4 north road")
        ),
    }


@dataclass(frozen=True)
class Track:
    """One session's true positions at 1 Hz."""

    t_s: np.ndarray  # seconds from the start
    x_m: np.ndarray
    y_m: np.ndarray
    dist_m: np.ndarray  # distance travelled
    speed_kmh: np.ndarray
    road_type: np.ndarray  # str per sample


def drive(pieces: list, cfg: WorldConfig, rng: np.random.Generator) -> Track:
    """Simulate the vehicle along the route; sample at 1 Hz (see the module docstring)."""
    xy_parts, vmax_parts, types, junction_end = [], [], [], []
    driver = rng.normal(1.0, 0.05)  # this driver's speed factor
    n_pts = 0
    for kind, xy, junction in pieces:
        if xy_parts and np.allclose(xy[0], xy_parts[-1][-1]):
            xy = xy[1:]
        xy_parts.append(xy)
        vmax_parts.append(np.full(len(xy), cfg.speed_kmh[kind] / 3.6 * driver))
        types.append(np.full(len(xy), kind))
        n_pts += len(xy)
        junction_end.append((n_pts - 1, junction))
    xy = np.vstack(xy_parts)
    vmax = np.concatenate(vmax_parts)
    rtype = np.concatenate(types)
    s_v = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
    total = s_v[-1]
    stops: list[tuple[float, float, float]] = []  # (s, speed limit there, wait)
    for idx, junction in junction_end[:-1]:
        if junction:
            wait = rng.uniform(5.0, 30.0) if rng.random() < cfg.stop_prob else 0.0
            stops.append((s_v[idx], 0.0 if wait > 0 else TURN_SPEED_M_S, wait))
    heading = np.arctan2(*np.diff(xy, axis=0).T[::-1])
    turn = np.abs((np.diff(heading) + np.pi) % (2 * np.pi) - np.pi) > np.radians(30.0)
    stops.extend((s_v[k + 1], TURN_SPEED_M_S, 0.0) for k in np.nonzero(turn)[0])
    stops.append((total, 0.0, 0.0))
    stops.sort()
    stop_s = np.array([p[0] for p in stops])
    stop_v = np.array([p[1] for p in stops])
    stop_w = np.array([p[2] for p in stops])

    dt = 0.1
    s = v = t = waiting = 0.0
    nxt = 0
    ts, ss, vs = [], [], []
    while len(ts) < cfg.max_session_s:
        if t + 1e-9 >= len(ts):
            ts.append(float(len(ts)))
            ss.append(s)
            vs.append(v)
        if s >= total - 0.01 and v < 0.1:
            break
        t += dt
        if waiting > 0:
            waiting -= dt
            continue
        while nxt < len(stop_s) - 1 and s >= stop_s[nxt] - 0.5:
            if stop_w[nxt] > 0:
                waiting, v = stop_w[nxt], 0.0
            nxt += 1
        if waiting > 0:
            continue
        lim = vmax[min(np.searchsorted(s_v, s), len(vmax) - 1)]
        for k in range(nxt, min(nxt + 4, len(stop_s))):
            lim = min(lim, np.sqrt(stop_v[k] ** 2 + 2 * BRAKE_M_S2 * max(stop_s[k] - s, 0.0)))
        lim = max(lim, 0.3) if s < total - 1.0 else lim
        v = min(v + ACCEL_M_S2 * dt, lim) if v < lim else max(v - 2 * BRAKE_M_S2 * dt, lim)
        s = min(s + v * dt, total)
    ss_a = np.array(ss)
    x = np.interp(ss_a, s_v, xy[:, 0])
    y = np.interp(ss_a, s_v, xy[:, 1])
    idx = np.clip(np.searchsorted(s_v, ss_a), 0, len(rtype) - 1)
    return Track(np.array(ts), x, y, ss_a, np.array(vs) * 3.6, rtype[idx])
