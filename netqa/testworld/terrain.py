"""Synthetic terrain (DEM) and land cover (clutter) of the test world.

The study area is a square of ``size_m`` in UTM zone 30N.  Local coordinates
``(x, y)`` are metres east and north of the south-west corner; arrays are
``(row, col)`` with row 0 at the north edge (GeoTIFF order).

Relief, in metres above sea level, is a sum of shaped features:

* a regional plane rising 80 m towards the north-west;
* a river valley: the river runs north to south along a meandering centre
  line x_r(y); the terrain is pulled down to the river level by a factor
  1 - exp(-(dist / 1800 m)^2), and the channel is 2 m below the river level;
* a ridge (north-east), a Gaussian cross-section 320 m high and 1.3 km wide
  along a segment, modulated along its length to make saddles;
* 14 rolling hills (Gaussian bumps 30-130 m high, 0.8-2.5 km wide);
* smooth fractal noise: a Gaussian random field with power spectrum
  proportional to k^-3.2 (brown-ish), 10 m standard deviation;
* the two towns are flattened towards their mean level.

Land cover codes (``clutter_classes.csv``): 1 water, 2 open, 3 forest,
4 suburban, 5 urban, 6 dense urban.  Towns are concentric zones with noisy
edges, forest follows a smooth random field and the high ground, water is
the river channel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from netqa.testworld.config import WorldConfig

#: Clutter class table: code, name, loss [dB], height [m].  The truth model
#: subtracts ``loss_db`` at the receiver's pixel.
CLUTTER_CLASSES: tuple[tuple[int, str, float, float], ...] = (
    (1, "water", 0.0, 0.0),
    (2, "open", 0.0, 0.0),
    (3, "forest", 8.0, 15.0),
    (4, "suburban", 6.0, 8.0),
    (5, "urban", 11.0, 15.0),
    (6, "dense_urban", 15.0, 25.0),
)
WATER, OPEN, FOREST, SUBURBAN, URBAN, DENSE_URBAN = 1, 2, 3, 4, 5, 6

#: Settlements: name, centre (x, y) [m], radius [m], densest class at the centre.
TOWNS: tuple[tuple[str, float, float, float, int], ...] = (
    ("Valdera", 8500.0, 11500.0, 1800.0, DENSE_URBAN),
    ("Sotillo", 15500.0, 5000.0, 1000.0, URBAN),
    ("La Vega", 4000.0, 16500.0, 450.0, SUBURBAN),
)

RIDGE = ((12500.0, 19500.0), (19800.0, 12000.0))  # end points (x, y) [m]


def river_x_m(y_m):
    """Centre line of the river: easting [m] as a function of northing [m]."""
    y = np.asarray(y_m, dtype=np.float64)
    return 11600.0 + 1100.0 * np.sin(2 * np.pi * y / 9000.0) + 450.0 * np.sin(2 * np.pi * y / 3700.0 + 1.0)


def river_level_m(cfg: WorldConfig, y_m):
    """Water level [m above sea level]: rises 40 m from the south to the north edge."""
    return cfg.base_elev_m + 40.0 * np.asarray(y_m) / cfg.size_m


def fractal_field(rng: np.random.Generator, shape: tuple[int, int], pixel_m: float, beta: float, lowcut_m: float) -> np.ndarray:
    """Zero-mean, unit-std Gaussian field with power spectrum ~ k^-beta (FFT synthesis).

    Wavelengths shorter than two pixels are cut and wavelengths longer than
    ``lowcut_m`` flattened, so the field is smooth and has no single huge tilt.
    """
    ny, nx = shape
    white = rng.standard_normal(shape)
    ky = np.fft.fftfreq(ny, d=pixel_m)
    kx = np.fft.rfftfreq(nx, d=pixel_m)
    k = np.hypot(ky[:, None], kx[None, :])
    k0 = 1.0 / lowcut_m
    amp = (np.maximum(k, k0)) ** (-beta / 2.0)
    amp[0, 0] = 0.0
    f = np.fft.irfft2(np.fft.rfft2(white) * amp, s=shape)
    f -= f.mean()
    return f / f.std()


@dataclass(frozen=True)
class Terrain:
    """DEM and clutter on the world grid, with point samplers in local metres."""

    elev_m: np.ndarray  # (row, col) float64, row 0 north
    clutter: np.ndarray  # (row, col) uint8
    pixel_size_m: float
    size_m: float

    @property
    def shape(self) -> tuple[int, int]:
        return self.elev_m.shape

    def _frac_index(self, x_m, y_m):
        col = np.asarray(x_m, dtype=np.float64) / self.pixel_size_m - 0.5
        row = (self.size_m - np.asarray(y_m, dtype=np.float64)) / self.pixel_size_m - 0.5
        return row, col

    def elev_at(self, x_m, y_m) -> np.ndarray:
        """Bilinear ground elevation at local points. [m]"""
        row, col = self._frac_index(x_m, y_m)
        ny, nx = self.shape
        row = np.clip(row, 0.0, ny - 1.000001)
        col = np.clip(col, 0.0, nx - 1.000001)
        r0 = np.floor(row).astype(np.int64)
        c0 = np.floor(col).astype(np.int64)
        fr, fc = row - r0, col - c0
        z = self.elev_m
        return (z[r0, c0] * (1 - fr) * (1 - fc) + z[r0, c0 + 1] * (1 - fr) * fc
                + z[r0 + 1, c0] * fr * (1 - fc) + z[r0 + 1, c0 + 1] * fr * fc)

    def clutter_at(self, x_m, y_m) -> np.ndarray:
        """Clutter code of the pixel containing each local point (nearest)."""
        row, col = self._frac_index(x_m, y_m)
        ny, nx = self.shape
        r = np.clip(np.round(row).astype(np.int64), 0, ny - 1)
        c = np.clip(np.round(col).astype(np.int64), 0, nx - 1)
        return self.clutter[r, c]


def _seg_dist_m(x, y, a, b):
    """Distance from points to the segment a-b, and the position t in [0, 1] along it."""
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    t = np.clip(((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
    return np.hypot(x - ax - t * dx, y - ay - t * dy), t


def build_terrain(cfg: WorldConfig, rng: np.random.Generator) -> Terrain:
    """Generate the DEM and the clutter raster (see the module docstring)."""
    n = int(round(cfg.size_m / cfg.pixel_size_m))
    px = cfg.pixel_size_m
    xs = (np.arange(n) + 0.5) * px
    ys = cfg.size_m - (np.arange(n) + 0.5) * px  # row 0 = north
    x, y = np.meshgrid(xs, ys)

    # regional plane rising to the north-west
    elev = 80.0 * (0.5 * (1 - x / cfg.size_m) + 0.5 * (y / cfg.size_m))
    # rolling hills
    hills = rng.uniform([0.0, 0.0, 30.0, 800.0], [cfg.size_m, cfg.size_m, 130.0, 2500.0], size=(14, 4))
    for hx, hy, hh, hw in hills:
        elev = elev + hh * np.exp(-((x - hx) ** 2 + (y - hy) ** 2) / (2 * hw**2))
    # ridge with saddles
    dist, t = _seg_dist_m(x, y, *RIDGE)
    elev = elev + 320.0 * (0.75 + 0.25 * np.sin(2 * np.pi * 2.5 * t)) * np.exp(-0.5 * (dist / 1300.0) ** 2)
    # smooth fractal noise
    elev = elev + 10.0 * fractal_field(rng, (n, n), px, beta=3.2, lowcut_m=6000.0)
    # towns are flatter
    for _name, tx, ty, tr, _top in TOWNS:
        w = np.exp(-((x - tx) ** 2 + (y - ty) ** 2) / (2 * (1.2 * tr) ** 2))
        inside = ((x - tx) ** 2 + (y - ty) ** 2) < (1.2 * tr) ** 2
        mean = float(elev[inside].mean()) if inside.any() else 0.0
        elev = elev * (1 - 0.7 * w) + mean * 0.7 * w
    # river valley: pull the terrain down to the water level near the river
    d_river = np.abs(x - river_x_m(y))
    level = river_level_m(cfg, y)
    above = np.maximum(elev, 0.0) + 3.0
    elev = level + above * (1.0 - np.exp(-((d_river / 1800.0) ** 2)))
    channel = d_river < 45.0
    elev = np.where(channel, level - 2.0, elev)
    elev = np.round(elev, 1)

    # --- clutter ----------------------------------------------------------
    clutter = np.full((n, n), OPEN, dtype=np.uint8)
    forest_field = fractal_field(rng, (n, n), px, beta=3.0, lowcut_m=4000.0)
    height_above = elev - level
    forest = forest_field + 0.012 * np.maximum(height_above - 60.0, 0.0) > 1.1
    clutter[forest] = FOREST
    edge_noise = fractal_field(rng, (n, n), px, beta=2.5, lowcut_m=1500.0)
    for _name, tx, ty, tr, top in TOWNS:
        r = np.hypot(x - tx, y - ty) / tr * (1.0 + 0.15 * edge_noise)
        clutter[r < 1.0] = SUBURBAN
        if top >= URBAN:
            clutter[r < 0.6] = URBAN
        if top >= DENSE_URBAN:
            clutter[r < 0.3] = DENSE_URBAN
    clutter[channel] = WATER
    return Terrain(elev_m=elev, clutter=clutter, pixel_size_m=px, size_m=n * px)
