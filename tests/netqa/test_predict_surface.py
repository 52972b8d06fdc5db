"""``netqa predict --surface`` (issue 12): buildings in the raster engine, as in points mode.

On the synthetic urban district (5 m building heights, masts on roofs): the
coverage over ground + buildings against the points mode of compare/calibrate
at the same pixel centres (the terrain sweep's accuracy goals), the project
key, the refusals (ITM, absolute heights) and the CLI flag.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netqa.errors import InputError
from netqa.predict import PredictConfig, predict

REPO = Path(__file__).resolve().parents[2]
DISTRICT = REPO / "testdata" / "district"
pytestmark = pytest.mark.skipif(not (DISTRICT / "buildings.tif").exists(), reason="testdata/district not generated")
ALL_CELLS = DISTRICT / "cells.csv"
DEM = DISTRICT / "dem.tif"
SURFACE = DISTRICT / "buildings.tif"


@pytest.fixture(scope="module")
def cells_d03(tmp_path_factory):
    """The cells of site D03 (a mast on a roof), so that the prediction area can be small."""
    path = tmp_path_factory.mktemp("cells") / "d03.csv"
    cells = pd.read_csv(ALL_CELLS, dtype={"cell_id": str})
    cells[cells["site_id"] == "D03"].to_csv(path, index=False)
    return path


def _config(**kw):
    from netqa.grid import to_projected

    cells = pd.read_csv(ALL_CELLS)
    site = cells[cells["site_id"] == "D03"].iloc[0]
    x, y = (float(np.ravel(v)[0]) for v in to_projected(np.array([site["lon"]]), np.array([site["lat"]]), "EPSG:32630"))
    b = (x - 250.0, y - 250.0, x + 250.0, y + 250.0)
    return PredictConfig(**{"model": "fspl", "terrain": "delta-bullington", "resolution_m": 5.0, "radius_km": 0.3,
                            "bounds": b, "bounds_crs": "EPSG:32630", **kw})  # fmt: skip


@pytest.fixture(scope="module")
def coverages(cells_d03):
    return {s: predict(cells_d03, DEM, config=_config(), surface=s, show_progress=False) for s in (None, SURFACE)}


def test_buildings_add_obstruction_loss_and_are_recorded(coverages):
    plain, built = coverages[None], coverages[SURFACE]
    both = np.isfinite(plain.rsrp_dbm) & np.isfinite(built.rsrp_dbm)
    drop = plain.rsrp_dbm[both] - built.rsrp_dbm[both]
    assert drop.min() >= -1e-3  # buildings never help
    assert np.median(drop) > 5.0  # most of the district is shadowed by some building
    assert built.settings["surface"] == "buildings.tif" and "surface" not in plain.settings


def test_raster_agrees_with_points_mode_at_the_same_pixels(coverages, cells_d03):
    from netqa.compare.points import load_world, predict_samples
    from netqa.grid import to_geographic
    from propagation.engine import EngineConfig

    cov = coverages[SURFACE]
    rr, cc = np.nonzero(np.isfinite(cov.rsrp_dbm))
    sel = np.random.default_rng(5).choice(rr.size, 600, replace=False)
    x, y = cov.grid.xy(rr[sel], cc[sel])
    lon, lat = to_geographic(np.asarray(x), np.asarray(y), cov.grid.crs)
    world, inside = load_world(cells_d03, DEM, samples_lonlat=(np.asarray(lon), np.asarray(lat)), resolution_m=5.0,
                               radius_km=0.3, surface=SURFACE)  # fmt: skip
    assert inside.all()
    sx, sy = world.sample_xy
    pts = predict_samples(world, sx, sy, np.full(sx.size, -1), EngineConfig(model="fspl", terrain="delta-bullington"))
    err = np.abs(cov.rsrp_dbm[rr[sel], cc[sel]] - pts.best_rsrp_dbm)
    # the terrain sweep's goals: mean |error| 0.15 dB, P95 1 dB, 99.5 % within 3 dB; reached 0.070 / 0.26 dB / 99.8 %
    assert np.isfinite(err).all()
    assert err.mean() <= 0.15
    assert np.percentile(err, 95) <= 1.0
    assert (err <= 3.0).mean() >= 0.995


def test_itm_with_a_surface_is_refused(cells_d03):
    with pytest.raises(InputError, match="--surface .*--terrain itm"):
        predict(cells_d03, DEM, config=_config(terrain="itm"), surface=SURFACE, show_progress=False)


def test_absolute_heights_are_refused(tmp_path, cells_d03):
    import rasterio

    with rasterio.open(DEM) as src:
        profile, z = src.profile, src.read(1)
    with rasterio.open(tmp_path / "dsm.tif", "w", **profile) as dst:
        dst.write(z + 1000.0, 1)
    with pytest.raises(InputError, match=r"--surface .*dsm.tif: heights .* above ground"):
        predict(cells_d03, DEM, config=_config(), surface=tmp_path / "dsm.tif", show_progress=False)


def test_project_key_and_cli_flag(tmp_path, cells_d03):
    from netqa.cli import main
    from netqa.config import load_project

    (tmp_path / "p.toml").write_text(f'[inputs]\ncells = "{cells_d03}"\ndem = "{DEM}"\nsurface = "{SURFACE}"\n')
    assert Path(load_project(tmp_path / "p.toml").inputs.surface) == SURFACE

    def args(out, terrain):
        return ["predict", "--cells", str(cells_d03), "--dem", str(DEM), "--out", str(tmp_path / out), "--model", "fspl",
                "--terrain", terrain, "--resolution-m", "10", "--radius-km", "0.2", "--surface", str(SURFACE)]

    assert main(args("c.tif", "delta-bullington")) == 0
    assert main(args("d.tif", "itm")) == 2 and not (tmp_path / "d.tif").exists()


def test_surface_is_read_per_tile_like_the_dem(cells_d03):
    """Small tiles (each reading its own window of DEM and surface plus the terrain margin) give the same pixels."""
    one = predict(cells_d03, DEM, config=_config(radius_km=0.15), surface=SURFACE, show_progress=False)
    tiled = predict(cells_d03, DEM, config=_config(radius_km=0.15, tile_px=32), surface=SURFACE, show_progress=False)
    np.testing.assert_array_equal(one.rsrp_dbm, tiled.rsrp_dbm)
