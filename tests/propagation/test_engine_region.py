"""Raster engine ``region=``: a sub-window of the grid equals the same pixels of a whole-grid run, bit for bit."""

import numpy as np
import pytest

from propagation.engine import EngineConfig, GridSpec, cell_matrix, iter_coverage_tiles, predict_coverage

GRID = GridSpec(500_010.0, 4_400_040.0, 30.0, 90, 110)


def _terrain():
    """Rolling hills with a ridge (deterministic), so terrain losses are far from zero."""
    rng = np.random.default_rng(7)
    xx, yy = np.meshgrid(np.arange(GRID.n_cols), np.arange(GRID.n_rows))
    hills = 40.0 * np.sin(xx / 9.0) * np.cos(yy / 13.0) + 60.0 * np.exp(-((xx - 55.0) ** 2) / 40.0)
    return 200.0 + hills + rng.normal(0.0, 2.0, GRID.shape)


ELEV = _terrain()


def _cells():
    """Three sites, four cells, two carriers (co-channel interference), sector and omni patterns."""
    x = GRID.x0_m + np.array([20.5, 20.5, 80.0, 60.0]) * GRID.pixel_m
    y = GRID.y0_m - np.array([30.0, 30.0, 70.0, 10.0]) * GRID.pixel_m
    return cell_matrix(
        x_m=x, y_m=y, height_m=[30.0, 30.0, 25.0, 40.0], azimuth_deg=[60.0, 200.0, 300.0, 0.0],
        mech_tilt_deg=[2.0, 2.0, 1.0, 0.0], freq_mhz=[1800.0, 1800.0, 1800.0, 800.0],
        rs_power_dbm=[18.0, 18.0, 16.0, 20.0], bandwidth_mhz=[20.0, 20.0, 20.0, 10.0],
        pattern_id=[-1, -1, -1, -2], radius_km=[1.6, 1.6, 1.2, 1.5],
    )  # fmt: skip


CELLS = _cells()
REGIONS = {
    "interior": (20, 50, 30, 75),
    "top-left-corner": (0, 17, 0, 23),
    "bottom-right-edge": (61, 90, 70, 110),
    "one-pixel": (44, 45, 90, 91),
    "whole-grid": (0, 90, 0, 110),
}


@pytest.fixture(scope="module", params=["none", "delta-bullington"])
def whole(request):
    cfg = EngineConfig(model="hata", terrain=request.param)
    return cfg, predict_coverage(CELLS, ELEV, GRID, cfg, per_cell=True)


@pytest.mark.parametrize("region", list(REGIONS.values()), ids=list(REGIONS))
def test_region_is_bit_identical_to_the_same_pixels_of_a_whole_grid_run(whole, region):
    cfg, full = whole
    r0, r1, c0, c1 = region
    part = predict_coverage(CELLS, ELEV, GRID, cfg, per_cell=True, region=region)
    np.testing.assert_array_equal(part.bands(), full.bands()[:, r0:r1, c0:c1])
    np.testing.assert_array_equal(part.per_cell, full.per_cell[:, r0:r1, c0:c1])


def test_region_values_are_not_all_nan(whole):
    cfg, _ = whole
    part = predict_coverage(CELLS, ELEV, GRID, cfg, region=REGIONS["interior"])
    assert np.isfinite(part.rsrp_dbm).all()


def test_region_is_tiled_from_its_own_first_pixel():
    cfg = EngineConfig(model="hata", terrain="delta-bullington", tile_px=16)
    tiles = list(iter_coverage_tiles(CELLS, ELEV, GRID, cfg, region=(5, 40, 7, 30)))
    assert [(r, c, b.shape[1:]) for r, c, b, _ in tiles] == [
        (5, 7, (16, 16)), (5, 23, (16, 7)), (21, 7, (16, 16)), (21, 23, (16, 7)), (37, 7, (3, 16)), (37, 23, (3, 7)),
    ]  # fmt: skip


def test_small_tiles_inside_a_region_equal_one_tile():
    region = (10, 60, 20, 90)
    one = predict_coverage(CELLS, ELEV, GRID, EngineConfig(terrain="delta-bullington"), region=region)
    many = predict_coverage(CELLS, ELEV, GRID, EngineConfig(terrain="delta-bullington", tile_px=16), region=region)
    np.testing.assert_array_equal(many.bands(), one.bands())


def test_cells_out_of_reach_of_the_region_do_not_matter():
    region = (60, 90, 0, 25)  # only the first site's radius reaches it
    near = predict_coverage(CELLS[:2], ELEV, GRID, EngineConfig(terrain="delta-bullington"), region=region)
    allc = predict_coverage(CELLS, ELEV, GRID, EngineConfig(terrain="delta-bullington"), region=region)
    np.testing.assert_array_equal(allc.bands(), near.bands())


@pytest.mark.parametrize(
    "region, match",
    [
        ((0, 0, 0, 10), "row0 < row1"),
        ((0, 91, 0, 10), "row1 <= 90"),
        ((-1, 10, 0, 10), "0 <= row0"),
        ((0, 10, 5, 111), "col1 <= 110"),
        ((0, 10, 0), "4 integers"),
        ((0.0, 10, 0, 10), "4 integers"),
        ("abcd", "4 integers"),
    ],
    ids=["empty", "rows-beyond", "negative", "cols-beyond", "three-values", "float", "string"],
)
def test_bad_region_is_refused_naming_the_rule(region, match):
    with pytest.raises(ValueError, match="region") as info:
        predict_coverage(CELLS, ELEV, GRID, region=region)
    assert match in str(info.value)
