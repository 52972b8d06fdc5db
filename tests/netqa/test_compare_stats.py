"""netqa.compare statistics, averaging and filters on plain arrays."""

import math

import numpy as np
import pytest

from netqa.compare import (
    SampleFilters,
    average_groups,
    distance_bin_labels,
    error_stats,
    filter_samples,
    grouped_stats,
    lee_window_m,
    lee_windows,
    square_bins,
    stats_table,
)


def _oracle(p, m):
    """Plain-Python statistics of p - m."""
    e = [a - b for a, b in zip(p, m)]
    n = len(e)
    mean = sum(e) / n
    std = math.sqrt(sum((x - mean) ** 2 for x in e) / n)
    rmse = math.sqrt(sum(x * x for x in e) / n)
    mp, mm = sum(p) / n, sum(m) / n
    cov = sum((a - mp) * (b - mm) for a, b in zip(p, m))
    corr = cov / math.sqrt(sum((a - mp) ** 2 for a in p) * sum((b - mm) ** 2 for b in m))
    return n, mean, std, rmse, corr


@pytest.mark.parametrize("seed", [0, 1, 2], ids=lambda s: f"seed{s}")
def test_error_stats_matches_plain_python_oracle(seed):
    rng = np.random.default_rng(seed)
    m = rng.uniform(-120, -60, 200)
    p = m + rng.normal(3.0, 6.0, 200)
    got = error_stats(p, m)
    want = _oracle(p.tolist(), m.tolist())
    assert got.n == want[0]
    np.testing.assert_allclose(got[1:], want[1:], rtol=1e-9, atol=1e-9)


def test_error_is_predicted_minus_measured():
    s = error_stats([-80.0], [-90.0])
    assert s.mean_error_db == pytest.approx(10.0)


def test_rmse_identity_and_nan_pairs_skipped():
    p = np.array([-80.0, np.nan, -95.0, -70.0])
    m = np.array([-82.0, -90.0, np.nan, -75.0])
    s = error_stats(p, m)
    assert s.n == 2
    assert s.rmse_db**2 == pytest.approx(s.mean_error_db**2 + s.std_error_db**2)


@pytest.mark.parametrize(
    "p, m",
    [([1.0], [2.0]), ([1.0, 1.0, 1.0], [0.0, 1.0, 2.0]), ([], [])],
    ids=["one-sample", "constant-prediction", "empty"],
)
def test_correlation_undefined_is_null_in_json(p, m):
    d = error_stats(p, m).to_dict()
    assert d["correlation"] is None


def test_mismatched_lengths_raise():
    with pytest.raises(ValueError, match="pair up"):
        error_stats([1.0, 2.0], [1.0])


def test_grouped_stats_equal_per_group_error_stats():
    rng = np.random.default_rng(5)
    m = rng.uniform(-120, -60, 300)
    p = m + rng.normal(0.0, 5.0, 300)
    g = rng.choice(["A", "B", "C"], 300)
    got = grouped_stats(p, m, g)
    assert sorted(got) == ["A", "B", "C"]
    for label in "ABC":
        want = error_stats(p[g == label], m[g == label])
        np.testing.assert_allclose(got[label], want, rtol=1e-9)


def test_distance_bins_label_edges_and_open_end():
    labels = distance_bin_labels([0.0, 0.99, 1.0, 25.0, np.nan], (0.0, 1.0, 20.0, math.inf))
    assert labels.tolist() == ["0-1", "0-1", "1-20", "20-", None]


def test_stats_table_has_design_keys():
    t = stats_table([1.0, 2.0, 3.0], [0.0, 0.0, 0.0], cell=["A", "A", "B"], clutter=["u", "u", "o"],
                    dist_km=[0.1, 1.5, 2.5])  # fmt: skip
    for key in ("n", "mean_error_db", "std_error_db", "rmse_db", "correlation", "per_cell", "per_clutter",
                "per_distance_km"):  # fmt: skip
        assert key in t
    assert list(t["per_distance_km"]) == ["0-0.25", "1-2", "2-3"]


def test_stats_table_throughput_unit_suffix():
    t = stats_table([10.0, 20.0], [12.0, 18.0], unit="mbps")
    assert set(t) == {"n", "mean_error_mbps", "std_error_mbps", "rmse_mbps", "correlation"}


def test_lee_window_is_40_wavelengths():
    assert lee_window_m(900.0) == pytest.approx(40 * 299_792_458.0 / 900e6)


def test_lee_windows_split_on_session_and_cell_change():
    session = ["a", "a", "a", "b", "b"]
    cell = ["X", "X", "Y", "X", "X"]
    x = [0.0, 1.0, 2.0, 0.0, 1.0]
    codes = lee_windows(session, cell, [0, 1, 2, 0, 1], x, [0.0] * 5, [1800.0] * 5)
    assert codes[0] == codes[1]
    assert len({codes[1], codes[2], codes[3]}) == 3
    assert codes[3] == codes[4]


def test_lee_windows_follow_time_order_not_row_order():
    # rows shuffled: the window is found along the route
    codes = lee_windows(["s"] * 3, ["A"] * 3, [2, 0, 1], [100.0, 0.0, 1.0], [0.0] * 3, [1800.0] * 3)
    assert codes[1] == codes[2] != codes[0]


def test_square_bins_split_by_cell():
    codes = square_bins(["A", "B", "A"], [5.0, 5.0, 49.0], [5.0, 5.0, 49.0], 50.0)
    assert codes[0] == codes[2] != codes[1]


def test_average_linear_vs_db_domain():
    values = {"rsrp_dbm": np.array([-100.0, -80.0]), "dist_km": np.array([1.0, 3.0]), "cell": np.array(["A", "A"])}
    lin = average_groups([0, 0], values, power=("rsrp_dbm",), domain="linear", first=("cell",))
    db = average_groups([0, 0], values, power=("rsrp_dbm",), domain="db", first=("cell",))
    assert lin["rsrp_dbm"].iloc[0] == pytest.approx(10 * math.log10((1e-10 + 1e-8) / 2))
    assert db["rsrp_dbm"].iloc[0] == pytest.approx(-90.0)
    assert lin["dist_km"].iloc[0] == pytest.approx(2.0)
    assert lin["n_samples"].iloc[0] == 2 and lin["cell"].iloc[0] == "A"


def test_average_groups_never_mutates_inputs():
    r = np.array([-100.0, -80.0])
    average_groups([0, 0], {"rsrp_dbm": r}, power=("rsrp_dbm",))
    assert r.tolist() == [-100.0, -80.0]


def test_filters_count_each_removed_sample_once():
    keep, removed = filter_samples([0.05, 30.0, 1.0, 1.0], [-150.0, -90.0, -150.0, -90.0],
                                   SampleFilters(min_dist_km=0.1, max_dist_km=20.0, rsrp_floor_dbm=-130.0))  # fmt: skip
    assert keep.tolist() == [False, False, False, True]
    assert removed == {"min_dist_km": 1, "max_dist_km": 1, "rsrp_floor_dbm": 1}


@pytest.mark.parametrize(
    "kwargs, match",
    [({"min_dist_km": 2.0, "max_dist_km": 1.0}, "distance filter"), ({"min_samples_per_bin": 0}, "min_samples_per_bin")],
    ids=["empty-distance-range", "zero-min-samples"],
)
def test_filter_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SampleFilters(**kwargs)
