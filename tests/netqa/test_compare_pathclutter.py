"""netqa.compare.pathclutter: clutter class shares along the path (whole path, last near_m), against a slow reference."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from affine import Affine

from netqa.compare.pathclutter import clutter_shares, sample_path_shares

T = Affine(10.0, 0.0, 1000.0, 0.0, -10.0, 5000.0)


def _reference(codes, t, xt, yt, xr, yr, classes, near_m, step):
    """One path at a time, one midpoint at a time."""
    d = math.hypot(xr - xt, yr - yt)
    n = max(math.ceil(d / step), 1)
    whole = dict.fromkeys(classes, 0)
    near = dict.fromkeys(classes, 0)
    n_known = n_near = 0
    for k in range(n):
        s = (k + 0.5) * d / n
        f = s / d if d > 0 else 1.0
        x, y = xt + f * (xr - xt), yt + f * (yr - yt)
        c, r = math.floor((x - t.c) / t.a), math.floor((y - t.f) / t.e)
        if not (0 <= r < codes.shape[0] and 0 <= c < codes.shape[1]) or codes[r, c] < 0:
            continue
        n_known += 1
        is_near = d - s <= near_m
        n_near += is_near
        if int(codes[r, c]) in whole:
            whole[int(codes[r, c])] += 1
            near[int(codes[r, c])] += is_near
    return ([whole[c] / n_known if n_known else 0.0 for c in classes],
            [near[c] / n_near if n_near else 0.0 for c in classes])  # fmt: skip


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_the_reference_on_random_grids_and_paths(seed):
    rng = np.random.default_rng(seed)
    codes = rng.integers(-1, 6, (60, 80))  # -1: nodata
    n = 50
    xt, yt = rng.uniform(900, 1900, n), rng.uniform(4300, 5100, n)  # some masts off the grid
    xr, yr = rng.uniform(1000, 1800, n), rng.uniform(4400, 5000, n)
    classes = [0, 1, 2, 3, 4, 5]
    whole, near = clutter_shares(codes, T, xt, yt, xr, yr, classes, near_m=150.0)
    for i in range(n):
        w, m = _reference(codes, T, xt[i], yt[i], xr[i], yr[i], classes, 150.0, 10.0)
        np.testing.assert_allclose(whole[i], w, atol=1e-12)
        np.testing.assert_allclose(near[i], m, atol=1e-12)


def test_shares_sum_to_one_and_near_is_the_receivers_neighbourhood():
    codes = np.ones((10, 100), np.int64)
    codes[:, 90:] = 3  # the last 100 m before the receiver are class 3
    whole, near = clutter_shares(codes, T, [1005.0], [4950.0], [1995.0], [4950.0], [1, 3], near_m=100.0)
    assert whole.sum() == pytest.approx(1.0) and near.sum() == pytest.approx(1.0)
    assert near[0].tolist() == [0.0, 1.0] and whole[0, 1] == pytest.approx(0.1, abs=0.011)


def test_unknown_pixels_and_zero_length_paths():
    codes = np.full((10, 10), -1)
    whole, near = clutter_shares(codes, T, [1005.0, 1050.0], [4950.0, 4950.0], [1095.0, 1050.0], [4950.0, 4950.0], [1])
    assert whole.tolist() == [[0.0], [0.0]] and near.tolist() == [[0.0], [0.0]]


@pytest.mark.parametrize("kw, match", [({"near_m": 0.0}, "near_m must be > 0"), ({"step_m": -1.0}, "step_m must be > 0")])
def test_bad_settings_are_refused(kw, match):
    with pytest.raises(ValueError, match=match):
        clutter_shares(np.zeros((2, 2), int), T, [1000.0], [5000.0], [1010.0], [4990.0], [0], **kw)


def test_on_the_test_world_the_near_share_agrees_with_the_receivers_class():
    from netqa.compare.prepare import prepare

    td = Path(__file__).resolve().parents[2] / "testdata"
    s = pd.read_csv(td / "drives" / "d1_highway_valdera.csv").iloc[:800]
    prep = prepare(s, td / "cells.csv", td / "dem.tif", clutter=td / "clutter.tif",
                   clutter_table=td / "clutter_classes.csv")  # fmt: skip
    names, whole, near = sample_path_shares(prep.world, prep.x_m, prep.y_m, prep.serving, near_m=30.0)
    assert np.allclose(whole.sum(axis=1), 1.0) and np.allclose(near.sum(axis=1), 1.0)
    at_rx = np.array([names.index(c) if c in names else -1 for c in prep.clutter])
    agree = near[np.arange(len(at_rx)), at_rx] >= 0.5  # the last 30 m are mostly the receiver's own class
    assert agree.mean() > 0.8


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compiled_kernel_matches_the_numpy_reference(seed):
    from netqa.compare.pathclutter import fast_clutter_shares

    rng = np.random.default_rng(seed)
    codes = rng.integers(-1, 6, (60, 80))
    n = 400
    xt, yt = rng.uniform(900, 1900, n), rng.uniform(4300, 5100, n)
    xr, yr = rng.uniform(1000, 1800, n), rng.uniform(4400, 5000, n)
    xr[:5], yr[:5] = xt[:5], yt[:5]  # zero-length paths
    for classes, near_m, step in (([0, 1, 2, 3, 4, 5], 150.0, None), ([5, 2], 40.0, 7.0)):
        ref = clutter_shares(codes, T, xt, yt, xr, yr, classes, near_m=near_m, step_m=step)
        fast = fast_clutter_shares(codes, T, xt, yt, xr, yr, classes, near_m=near_m, step_m=step)
        np.testing.assert_allclose(fast[0], ref[0], atol=1e-12)
        np.testing.assert_allclose(fast[1], ref[1], atol=1e-12)


def test_compiled_kernel_refuses_bad_input():
    from propagation.engine.path_shares import path_class_shares

    with pytest.raises(ValueError, match="near_m must be > 0"):
        path_class_shares(np.zeros((2, 2), np.int64), 0.0, 10.0, 0.0, -10.0, [0.0], [0.0], [5.0], [5.0], [0],
                          near_m=0.0, step_m=10.0)  # fmt: skip
    with pytest.raises(ValueError, match="pixel_h_m must be < 0"):
        path_class_shares(np.zeros((2, 2), np.int64), 0.0, 10.0, 0.0, 10.0, [0.0], [0.0], [5.0], [5.0], [0],
                          near_m=5.0, step_m=10.0)  # fmt: skip
    with pytest.raises(ValueError, match="2-D integer grid"):
        path_class_shares(np.zeros((2, 2)), 0.0, 10.0, 0.0, -10.0, [0.0], [0.0], [5.0], [5.0], [0], near_m=5.0,
                          step_m=10.0)  # fmt: skip
