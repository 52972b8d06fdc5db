"""Clutter losses weighted along the path in the raster engine (issue 12 item 3): kernel vs a plain-Python
reference, the loss enters each cell's path loss before the best server, never scaled by K4, tiles identical."""

import math

import numpy as np
import pytest

from propagation.engine import (
    EngineConfig,
    GridSpec,
    PathClutterGrid,
    cell_matrix,
    path_clutter_loss_db,
    predict_coverage,
)
from propagation.spm import SPM_DEFAULT_K

GRID = GridSpec(1000.0, 5000.0, 20.0, 60, 70)
RNG = np.random.default_rng(3)
CODES = RNG.integers(-1, 5, GRID.shape)  # -1: nodata
NEAR = np.array([0.0, 4.0, 9.0, 2.5, 13.0])
WHOLE = np.array([1.0, 0.0, 6.0, 3.0, 0.5])


def _reference(codes, x0, y0, p, xt, yt, xr, yr, near_db, whole_db, near_m, step):
    """The rule of netqa.compare.pathclutter.clutter_shares, one path at a time, plain Python."""
    d = math.hypot(xr - xt, yr - yt)
    n = max(math.ceil(d / step), 1)
    known = near_n = 0
    s_w = s_n = 0.0
    for k in range(n):
        s = (k + 0.5) * d / n
        f = s / d if d > 0 else 1.0
        c = math.floor((xt + f * (xr - xt) - x0) / p)
        r = math.floor((yt + f * (yr - yt) - y0) / -p)
        if not (0 <= r < codes.shape[0] and 0 <= c < codes.shape[1]) or codes[r, c] < 0:
            continue
        code = codes[r, c]
        known += 1
        w = whole_db[code] if code < len(whole_db) else 0.0
        s_w += w
        if d - s <= near_m:
            near_n += 1
            s_n += near_db[code] if code < len(near_db) else 0.0
    return (s_w / known if known else 0.0) + (s_n / near_n if near_n else 0.0)


@pytest.mark.parametrize("mast", [(1333.3, 4411.7), (1000.0, 5000.0), (2389.9, 3801.1), (1711.0, 4390.0),
                                  (1711.0000001, 4390.0)],
                         ids=["inside", "corner", "far-corner", "pixel-centre", "near-pixel-centre"])  # fmt: skip
@pytest.mark.parametrize("near_m", [60.0, 300.0])
@pytest.mark.parametrize("whole_db", [WHOLE, np.zeros(5)], ids=["near+whole", "near-only"])
def test_kernel_matches_the_plain_reference(mast, near_m, whole_db):
    xt, yt = mast
    got = path_clutter_loss_db(CODES, GRID.x0_m, GRID.y0_m, GRID.pixel_m, xt, yt, NEAR, whole_db, near_m=near_m)
    for r, c in np.ndindex(GRID.shape):
        xr = GRID.x0_m + (c + 0.5) * GRID.pixel_m
        yr = GRID.y0_m - (r + 0.5) * GRID.pixel_m
        ref = _reference(CODES, GRID.x0_m, GRID.y0_m, GRID.pixel_m, xt, yt, xr, yr, NEAR, whole_db, near_m, GRID.pixel_m)
        assert got[r, c] == pytest.approx(ref, abs=1e-9)


def test_uniform_class_gives_its_losses_and_nodata_does_not_count():
    codes = np.full(GRID.shape, 2)
    codes[::3] = -1
    got = path_clutter_loss_db(codes, GRID.x0_m, GRID.y0_m, GRID.pixel_m, 1555.0, 4444.0, NEAR, WHOLE)
    np.testing.assert_allclose(got[1::3], NEAR[2] + WHOLE[2], atol=1e-12)


def test_window_and_radius():
    full = path_clutter_loss_db(CODES, GRID.x0_m, GRID.y0_m, GRID.pixel_m, 1555.0, 4444.0, NEAR, WHOLE)
    part = path_clutter_loss_db(CODES, GRID.x0_m, GRID.y0_m, GRID.pixel_m, 1555.0, 4444.0, NEAR, WHOLE,
                                window=(10, 30, 5, 40), radius_m=300.0)  # fmt: skip
    yy, xx = np.mgrid[10:30, 5:40]
    inside = np.hypot(GRID.x0_m + (xx + 0.5) * 20 - 1555.0, GRID.y0_m - (yy + 0.5) * 20 - 4444.0) <= 300.0
    np.testing.assert_array_equal(part[inside], full[10:30, 5:40][inside])
    assert (part[~inside] == 0).all()


def _cells(n_sites=3):
    xs = [1333.3, 1911.7, 1555.5][:n_sites]
    ys = [4411.7, 4207.3, 4700.1][:n_sites]
    x, y, az = [], [], []
    for sx, sy in zip(xs, ys):
        for a in (0.0, 120.0, 240.0):
            x.append(sx)
            y.append(sy)
            az.append(a)
    x += [xs[0]] * 2  # a second carrier on the first mast: its own path group, the same walk
    y += [ys[0]] * 2
    az += [60.0, 300.0]
    n = len(x)
    return cell_matrix(x_m=x, y_m=y, height_m=[30.0] * n, azimuth_deg=az, freq_mhz=[1800.0] * (n - 2) + [800.0] * 2,
                       rs_power_dbm=[18.0] * n, bandwidth_mhz=[20.0] * n, radius_km=[0.9] * n)  # fmt: skip


CELLS = _cells()
ELEV = 50.0 + 15.0 * np.sin(np.arange(GRID.n_cols) / 7.0)[None, :] * np.cos(np.arange(GRID.n_rows) / 5.0)[:, None]


def _pc(n, scale=1.0, near_m=200.0):
    near = np.tile(NEAR * scale, (n, 1))
    near[0] *= 2.0  # one cell with its own table
    return PathClutterGrid(CODES, near, np.tile(WHOLE * scale, (n, 1)), near_m)


@pytest.mark.parametrize("terrain", ["none", "delta-bullington"])
@pytest.mark.parametrize("k4", [0.0, 0.6])
def test_per_cell_rsrp_drops_by_the_path_loss_whatever_k4(terrain, k4):
    cfg = EngineConfig(model="spm", terrain=terrain, spm_k=SPM_DEFAULT_K._replace(k4=k4), tile_px=32)
    pc = _pc(CELLS.shape[0])
    base = predict_coverage(CELLS, ELEV, GRID, cfg, per_cell=True)
    with_pc = predict_coverage(CELLS, ELEV, GRID, cfg, per_cell=True, path_clutter=pc)
    for i in (0, 1, 4, 8, 9, 10):
        loss = path_clutter_loss_db(CODES, GRID.x0_m, GRID.y0_m, GRID.pixel_m, CELLS[i, 0], CELLS[i, 1], pc.near_db[i],
                                    pc.whole_db[i], near_m=200.0)  # fmt: skip
        ok = np.isfinite(base.per_cell[i])
        np.testing.assert_allclose(with_pc.per_cell[i][ok], (base.per_cell[i] - loss)[ok], atol=2e-5)  # float32
    # the best server is the argmax of the lowered per-cell values (it moved somewhere)
    ok = np.isfinite(with_pc.rsrp_dbm)
    np.testing.assert_array_equal(with_pc.best_cell[ok], np.nanargmax(with_pc.per_cell, axis=0)[ok])
    assert (with_pc.best_cell[ok] != base.best_cell[ok]).any()
    assert (with_pc.sinr_db[ok] != base.sinr_db[ok]).any()


def test_tiles_and_regions_are_identical_to_one_tile():
    pc = _pc(CELLS.shape[0])
    one = predict_coverage(CELLS, ELEV, GRID, EngineConfig(model="hata", tile_px=4096), path_clutter=pc)
    tiled = predict_coverage(CELLS, ELEV, GRID, EngineConfig(model="hata", tile_px=17), path_clutter=pc)
    np.testing.assert_array_equal(one.bands(), tiled.bands())
    part = predict_coverage(CELLS, ELEV, GRID, EngineConfig(model="hata"), path_clutter=pc, region=(7, 40, 11, 52))
    np.testing.assert_array_equal(part.bands(), one.bands()[:, 7:40, 11:52])


def test_all_zero_tables_are_bit_identical_to_none():
    n = CELLS.shape[0]
    zero = PathClutterGrid(CODES, np.zeros((n, 5)), np.zeros((n, 5)), 300.0)
    a = predict_coverage(CELLS, ELEV, GRID, EngineConfig(model="hata"))
    b = predict_coverage(CELLS, ELEV, GRID, EngineConfig(model="hata"), path_clutter=zero)
    np.testing.assert_array_equal(a.bands(), b.bands())


@pytest.mark.parametrize(
    "bad, match",
    [
        (lambda n: PathClutterGrid(CODES[:-1], np.zeros((n, 5)), np.zeros((n, 5))), r"codes has shape \(59, 70\)"),
        (lambda n: PathClutterGrid(CODES.astype(float), np.zeros((n, 5)), np.zeros((n, 5))), "integer grid"),
        (lambda n: PathClutterGrid(CODES, np.zeros((n - 1, 5)), np.zeros((n, 5))), r"near_db must be \(n_cells = 11"),
        (lambda n: PathClutterGrid(CODES, np.full((n, 5), np.nan), np.zeros((n, 5))), "near_db has NaN"),
        (lambda n: PathClutterGrid(CODES, np.zeros((n, 5)), np.zeros((n, 4))), "must have one shape"),
        (lambda n: PathClutterGrid(CODES, np.zeros((n, 5)), np.zeros((n, 5)), -3.0), r"near_m must be > 0 m"),
        (lambda n: PathClutterGrid(CODES, np.zeros((n, 5)), np.zeros((n, 5)), 300.0, 0.0), r"step_m must be > 0"),
    ],
    ids=["shape", "float-codes", "rows", "nan", "mismatch", "near_m", "step"],
)
def test_bad_path_clutter_is_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        predict_coverage(CELLS, ELEV, GRID, EngineConfig(model="hata"), path_clutter=bad(CELLS.shape[0]))


@pytest.mark.parametrize("a_px, expected", [(35.5, True), (35.0, True), (35.25, False), (35.55, False), (30.5, True),
                                            (35.3172846153, False), (1234.5678912345, False)])  # fmt: skip
def test_masts_where_midpoints_can_sit_on_pixel_edges_are_recognised(a_px, expected):
    from propagation.engine.path_clutter import _may_tie

    assert _may_tie(a_px, 500) is expected


def test_path_clutter_of_another_type_is_refused():
    with pytest.raises(TypeError, match="must be a PathClutterGrid, got tuple"):
        predict_coverage(CELLS, ELEV, GRID, EngineConfig(model="hata"), path_clutter=(CODES,))
