"""Scoring scheme: indicator scores, re-spread weights, missing data, grades, rank, overrides."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from netqa.errors import ConfigError
from netqa.score import apply_scheme, load_scheme

SCHEME = """
[scheme]
name = "t"
min_samples = 30
min_dimensions = 1
[grades]
A = 80
B = 50
C = 0
[dimensions.coverage]
weight = 1.0
indicators = [
  { column = "coverage_rate_measured", weight = 3.0, good = 1.0, bad = 0.5 },
  { column = "coverage_rate_predicted", weight = 1.0, good = 1.0, bad = 0.5 },
]
[dimensions.stability]
weight = 1.0
indicators = [{ column = "drop_rate", weight = 1.0, good = 0.0, bad = 0.1, count_column = "n_calls", min_count = 10 }]
[[overrides]]
area_type = "rural"
column = "coverage_rate_measured"
good = 0.9
bad = 0.4
"""


@pytest.fixture
def scheme(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text(SCHEME)
    return load_scheme(p)


def _table(**cols):
    n = len(next(iter(cols.values())))
    base = {"region_id": [f"r{i}" for i in range(n)], "area_type": ["urban"] * n, "status": ["ok"] * n,
            "n_samples": [100] * n, "raster_covered_share": [1.0] * n, "n_calls": [50] * n}  # fmt: skip
    base.update(cols)
    return pd.DataFrame(base)


@pytest.mark.parametrize("value, expected", [(1.0, 100.0), (0.5, 0.0), (0.75, 50.0), (0.2, 0.0), (1.2, 100.0)], ids=["good", "bad", "mid", "below-bad", "above-good"])
def test_indicator_score_is_linear_between_bad_and_good(scheme, value, expected):
    t = apply_scheme(_table(coverage_rate_measured=[value], coverage_rate_predicted=[np.nan], drop_rate=[np.nan]), scheme)
    assert t["score_coverage"].iloc[0] == pytest.approx(expected)


def test_lower_is_better_indicator(scheme):
    t = apply_scheme(_table(coverage_rate_measured=[np.nan], coverage_rate_predicted=[np.nan], drop_rate=[0.025]), scheme)
    assert t["score_stability"].iloc[0] == pytest.approx(75.0)


def test_missing_indicator_reweights_not_zero(scheme):
    t = apply_scheme(_table(coverage_rate_measured=[1.0, 1.0], coverage_rate_predicted=[0.5, np.nan], drop_rate=[np.nan, np.nan]), scheme)
    assert t["score_coverage"].tolist() == pytest.approx([75.0, 100.0])
    assert "missing: coverage_rate_predicted (no data)" in t["basis_coverage"].iloc[1]
    assert pd.isna(t["score_stability"].iloc[0]) and "used: none" in t["basis_stability"].iloc[0]


def test_too_few_samples_or_calls_make_an_indicator_missing(scheme):
    t = apply_scheme(_table(coverage_rate_measured=[0.5], coverage_rate_predicted=[1.0], drop_rate=[0.0], n_samples=[12], n_calls=[3]), scheme)
    assert t["score_coverage"].iloc[0] == pytest.approx(100.0)
    assert "n_samples 12 < 30" in t["basis_coverage"].iloc[0] and "n_calls 3 < 10" in t["basis_stability"].iloc[0]


def test_overall_grade_and_rank(scheme):
    t = apply_scheme(_table(coverage_rate_measured=[1.0, 0.75, np.nan], coverage_rate_predicted=[1.0, 0.75, np.nan], drop_rate=[0.0, 0.1, np.nan]), scheme)
    assert t["score_overall"].iloc[:2].tolist() == pytest.approx([100.0, 25.0])
    assert t["grade_overall"].iloc[:2].tolist() == ["A", "C"] and pd.isna(t["grade_overall"].iloc[2])
    assert t["rank"].tolist()[:2] == [1, 2] and pd.isna(t["rank"].iloc[2])


def test_failed_rows_are_not_scored(scheme):
    t = apply_scheme(_table(coverage_rate_measured=[1.0], coverage_rate_predicted=[1.0], drop_rate=[0.0], status=["failed"]), scheme)
    assert pd.isna(t["score_overall"].iloc[0])


def test_area_type_override(scheme):
    t = apply_scheme(_table(coverage_rate_measured=[0.9], coverage_rate_predicted=[np.nan], drop_rate=[np.nan], area_type=["rural"]), scheme)
    assert t["score_coverage"].iloc[0] == pytest.approx(100.0)


def test_default_scheme_loads_and_covers_four_dimensions():
    s = load_scheme()
    assert [d.name for d in s.dimensions] == ["coverage", "stability", "speed", "capacity"]
    assert s.grade(100.0) == "A" and s.grade(float("nan")) is None


@pytest.mark.parametrize(
    "text, match",
    [
        pytest.param("[dimensions.beauty]\nweight=1\nindicators=[{column='x', good=1, bad=0}]", "unknown dimension", id="unknown-dimension"),
        pytest.param("[dimensions.coverage]\nindicators=[{column='x', good=1, bad=1}]", "must differ", id="good-equals-bad"),
        pytest.param("[dimensions.coverage]\nindicators=[{column='x', good=1}]", "missing 'bad'", id="missing-bad"),
        pytest.param("[colours]\n", "unknown section", id="unknown-section"),
        pytest.param("[scheme\n", "not valid TOML", id="bad-toml"),
    ],
)
def test_bad_scheme_rejected(tmp_path, text, match):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_scheme(p)
