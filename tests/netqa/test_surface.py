"""Building-height surface (--surface) in points mode: diffraction over ground + buildings, heights kept above ground.

The district's building drive (testdata/district/drives/district_buildings.csv) is the scanner drive with a rooftop
knife edge over ground + buildings added (truth_buildings.parquet): calibrating with the surface must explain it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netqa.calibrate.audit import corrected_cells
from netqa.calibrate.run import CalibrateOptions, calibrate
from netqa.compare.points import load_world, profile_grid
from netqa.errors import InputError

REPO = Path(__file__).resolve().parents[2]
DISTRICT = REPO / "testdata" / "district"
pytestmark = pytest.mark.skipif(not (DISTRICT / "drives" / "district_buildings.csv").exists(),
                                reason="testdata/district not generated")  # fmt: skip


def _lonlat(cells: pd.DataFrame):
    return cells["lon"].to_numpy(float), cells["lat"].to_numpy(float)


def test_surface_is_ground_plus_buildings_and_masts_stay_on_the_ground(tmp_path):
    cells = pd.read_csv(DISTRICT / "cells.csv", dtype={"cell_id": str})
    plain, _ = load_world(cells, DISTRICT / "dem.tif", samples_lonlat=_lonlat(cells), resolution_m=5.0)
    world, _ = load_world(cells, DISTRICT / "dem.tif", samples_lonlat=_lonlat(cells), resolution_m=5.0,
                          surface=DISTRICT / "buildings.tif")  # fmt: skip
    extra = profile_grid(world) - world.elev_m
    assert np.array_equal(world.elev_m, plain.elev_m) and profile_grid(plain) is plain.elev_m
    assert extra.min() >= 0.0 and extra.max() >= 35.0 and (extra == 0).mean() > 0.15  # streets stay at ground level
    from netqa.compare.points import ground_heights

    # the mast's ground is the DEM's, not the roof (antenna top = ground + height_m, height_m = roof + mast)
    dem_ground = ground_heights(plain, world.matrix[:, 0], world.matrix[:, 1])
    np.testing.assert_allclose(world.matrix[:, 2], dem_ground, atol=1e-6)
    truth = json.loads((DISTRICT / "truth.json").read_text())
    roofs = np.array([truth["cells"][c]["roof_m"] for c in world.cell_ids])
    s = world.spec
    col = ((world.matrix[:, 0] - s.x0_m) // s.pixel_m).astype(int)
    row = ((s.y0_m - world.matrix[:, 1]) // s.pixel_m).astype(int)
    np.testing.assert_allclose(profile_grid(world)[row, col] - world.elev_m[row, col], roofs, atol=0.05)


def test_bad_surface_is_refused(tmp_path):
    import rasterio

    cells = pd.read_csv(DISTRICT / "cells.csv", dtype={"cell_id": str})
    with rasterio.open(DISTRICT / "dem.tif") as src:  # absolute heights (a DSM) instead of heights above ground
        profile, z = src.profile, src.read(1)
    with rasterio.open(tmp_path / "dsm.tif", "w", **profile) as dst:
        dst.write(z + 1000.0, 1)
    with pytest.raises(InputError, match=r"--surface .*dsm.tif: heights .* above ground"):
        load_world(cells, DISTRICT / "dem.tif", samples_lonlat=_lonlat(cells), resolution_m=10.0,
                   surface=tmp_path / "dsm.tif")  # fmt: skip


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """The audit's corrected cell table, then calibrate on the building drive without and with the surface."""
    from netqa.calibrate.audit import audit

    d = tmp_path_factory.mktemp("surface")
    table, _ = audit(DISTRICT / "drives" / "district.csv", DISTRICT / "cells.csv", DISTRICT / "dem.tif", d / "a.csv")
    cells = corrected_cells(pd.read_csv(DISTRICT / "cells.csv", dtype={"cell_id": str}), table)
    cells.to_csv(d / "cells.csv", index=False)
    opts = CalibrateOptions(terrain="delta-bullington", h_eff="ground", resolution_m=5.0)
    out = {}
    for name, surface in (("plain", None), ("surface", DISTRICT / "buildings.tif")):
        out[name] = calibrate(DISTRICT / "drives" / "district_buildings.csv", d / "cells.csv", DISTRICT / "dem.tif",
                              d / f"{name}.toml", options=opts, surface=surface)  # fmt: skip
    return out


def test_surface_brings_the_held_out_error_to_the_shadowing(fitted):
    injected = json.loads((DISTRICT / "truth.json").read_text())["realised"]["rms_shadow_plus_noise_db"]
    for band in ("LTE-1815", "LTE-806"):
        plain = fitted["plain"].bands[band]["cal"].holdout["tuned"]["rmse_db"]
        surf = fitted["surface"].bands[band]["cal"]
        rmse = surf.holdout["tuned"]["rmse_db"]
        assert abs(rmse - injected) < 0.5, (band, rmse, injected)
        assert rmse < plain - 0.5, (band, rmse, plain)
        assert 0.2 < surf.k.k4 < 1.0  # a positive diffraction weight (the truth's rooftop edge: 0.6 x single knife edge)


def test_building_truth_rows_match_the_drive():
    drive = pd.read_csv(DISTRICT / "drives" / "district_buildings.csv", dtype={"cell_id": str})
    base = pd.read_csv(DISTRICT / "drives" / "district.csv", dtype={"cell_id": str})
    loss = pd.read_parquet(DISTRICT / "truth_buildings.parquet")["building_loss_db"].to_numpy()
    assert len(drive) == len(base) == loss.size
    np.testing.assert_allclose(base["rsrp_dbm"] - drive["rsrp_dbm"], loss, atol=0.11)


def test_world_terrain_is_checked_once_and_follows_its_arrays():
    """The points mode gets the DEM + buildings checked once per world (not once per serving cell)."""
    cells = pd.read_csv(DISTRICT / "cells.csv", dtype={"cell_id": str})
    world, _ = load_world(cells, DISTRICT / "dem.tif", samples_lonlat=_lonlat(cells), resolution_m=10.0,
                          surface=DISTRICT / "buildings.tif")  # fmt: skip
    t = world.terrain()
    assert world.terrain() is t  # cached
    np.testing.assert_array_equal(t.profile_m, profile_grid(world))
    world.obstacle_m = np.zeros_like(world.obstacle_m)  # a replaced array: rebuilt, not stale
    t2 = world.terrain()
    assert t2 is not t and np.array_equal(t2.profile_m, world.elev_m)
