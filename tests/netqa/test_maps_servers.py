"""Legible best-server maps: touching cells differ in colour (on the test world), labels do not overlap,
measured samples stay visible on a prediction of their own colour."""

import itertools

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from netqa.maps.labels import boxes_overlap, place_labels
from netqa.maps.legend import _QUALITATIVE
from netqa.maps.servers import adjacency, best_server_legend, dsatur


def _voronoi(n_sites, shape=(80, 80), seed=0):
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, shape[0], (n_sites, 2))
    r, c = np.mgrid[0:shape[0], 0:shape[1]]
    d = (r[None] - pts[:, 0, None, None]) ** 2 + (c[None] - pts[:, 1, None, None]) ** 2
    return np.argmin(d, axis=0)


def _brute_adjacency(codes):
    pairs = set()
    rows, cols = codes.shape
    for i in range(rows):
        for j in range(cols):
            for di, dj in ((0, 1), (1, 0)):
                if i + di < rows and j + dj < cols:
                    a, b = codes[i, j], codes[i + di, j + dj]
                    if a != b and a >= 0 and b >= 0:
                        pairs.add((min(a, b), max(a, b)))
    return pairs


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_adjacency_matches_a_pixel_by_pixel_scan(seed):
    codes = _voronoi(25, (40, 40), seed)
    codes[:3, :5] = -1  # nodata touches nothing
    assert adjacency(codes) == _brute_adjacency(codes)


@pytest.mark.parametrize("seed", range(5))
def test_dsatur_is_a_proper_colouring_with_few_colours(seed):
    codes = _voronoi(120, seed=seed)
    edges = adjacency(codes)
    colour = dsatur(120, edges)
    assert all(colour[a] != colour[b] for a, b in edges)
    degree = np.bincount(np.array(list(edges)).ravel(), minlength=120)
    assert colour.max() + 1 <= degree.max() + 1
    assert colour.max() + 1 <= 6  # a planar map: DSatur needs a handful, far below the palette's 20


def test_dsatur_on_known_graphs():
    assert dsatur(5, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0)]).max() == 2  # odd cycle: 3 colours
    assert dsatur(6, [(i, (i + 1) % 6) for i in range(6)]).max() == 1  # even cycle: 2 colours (DSatur is exact on bipartite graphs)
    k4 = list(itertools.combinations(range(4), 2))
    assert sorted(dsatur(4, k4).tolist()) == [0, 1, 2, 3]
    assert dsatur(3, []).tolist() == [0, 0, 0]


@pytest.fixture(scope="module")
def testworld_best_server(tmp_path_factory, testdata):
    from netqa.maps.layers import read_band
    from netqa.predict import PredictConfig, predict, write_coverage

    out = tmp_path_factory.mktemp("bs") / "coverage.tif"
    r = predict(testdata / "cells.csv", testdata / "dem.tif", config=PredictConfig(resolution_m=200.0, radius_km=8.0),
                show_progress=False)
    write_coverage(r, out)
    return out, read_band(out, "best_cell")


def test_testworld_touching_cells_differ_in_colour(testworld_best_server):
    from netqa.maps.layers import band_legend

    _, band = testworld_best_server
    legend = band_legend(band)
    codes = np.where(np.isfinite(band.values), band.values, -1).astype(int)
    edges = adjacency(codes)
    assert len(edges) > 50  # the test world's best-server areas do touch
    colour = {i: c.color for i, c in enumerate(legend.classes)}
    clashes = [(band.cell_ids[a], band.cell_ids[b]) for a, b in edges if colour[a] == colour[b]]
    assert clashes == []
    # colouring by index (the old scheme) would have clashed: the test is not trivially met
    assert any(_QUALITATIVE[a % 20] == _QUALITATIVE[b % 20] for a, b in edges) or len(band.cell_ids) <= 20
    assert [c.label for c in legend.classes[: len(band.cell_ids)]] == band.cell_ids


def test_testworld_best_server_png_is_written(tmp_path, testworld_best_server, testdata):
    from netqa.maps import write_map

    cov, _ = testworld_best_server
    out = write_map(cov, tmp_path / "bs.png", band="best_cell", cells=testdata / "cells.csv")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_best_server_legend_without_pixels():
    leg = best_server_legend(np.full((3, 3), np.nan), [])
    assert len(leg.classes) == 1 and leg.categorical


def _axes():
    fig = Figure(figsize=(4, 4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_xlim(0, 1000)
    ax.set_ylim(0, 1000)
    fig.draw_without_rendering()
    return fig, ax


def test_labels_in_a_dense_cluster_do_not_overlap():
    fig, ax = _axes()
    rng = np.random.default_rng(4)
    anchors = list(zip(rng.uniform(450, 550, 14), rng.uniform(450, 550, 14)))  # 14 sites within ~10 px
    texts = [f"SITE{i:02d}" for i in range(14)]
    renderer = fig.canvas.get_renderer()
    arts = place_labels(ax, anchors, texts, renderer=renderer)
    boxes = [Text.get_window_extent(a, renderer) for a in arts if a is not None]
    assert len(boxes) >= 10
    for a, b in itertools.combinations(boxes, 2):
        assert not boxes_overlap((a.x0, a.y0, a.x1, a.y1), (b.x0, b.y0, b.x1, b.y1))


def test_labels_avoid_obstacles_and_prefer_the_first_place():
    fig, ax = _axes()
    renderer = fig.canvas.get_renderer()
    (free,) = place_labels(ax, [(200, 800)], ["A"], renderer=renderer)
    assert free.get_horizontalalignment() == "left" and free.get_verticalalignment() == "top"
    px, py = ax.transData.transform((500, 500))
    blocker = (px, py - 40, px + 80, py)  # covers the right-below place
    (moved,) = place_labels(ax, [(500, 500)], ["B"], renderer=renderer, obstacles=[blocker])
    bb = moved.get_window_extent(renderer)
    assert not boxes_overlap((bb.x0, bb.y0, bb.x1, bb.y1), blocker)


def test_samples_have_a_halo_and_a_black_ring(tmp_path):
    from test_maps import _write_coverage

    from netqa.maps.layers import read_band
    from netqa.maps.legend import default_legend
    from netqa.maps.static import _draw_samples

    band = read_band(_write_coverage(tmp_path / "c.tif"), "rsrp_dbm")
    _, ax = _axes()
    lon0, lat0 = -8.45, 51.9
    s = pd.DataFrame({"lon": [lon0, lon0 + 0.001], "lat": [lat0, lat0], "rsrp_dbm": [-85.0, -95.0]})
    _draw_samples(ax, s, band, default_legend("rsrp_dbm"))
    halo, dots = ax.collections[-2:]
    assert np.allclose(halo.get_facecolors()[:, :3], 1.0)  # white underlay
    assert halo.get_sizes()[0] > dots.get_sizes()[0]
    assert np.allclose(dots.get_edgecolors()[:, :3], 0.0) and dots.get_linewidths()[0] >= 0.35  # black ring
    assert halo.get_zorder() < dots.get_zorder()
