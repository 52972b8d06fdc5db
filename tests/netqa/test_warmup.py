"""Cold start (issue 14): the install-time kernel warm-up and the notice before a run that compiles."""

from __future__ import annotations

import logging

import pytest

from netqa import warmup


def test_kernels_of_this_tree_are_found_in_the_numba_cache():
    warmup.warm_up(show_progress=False)  # compiles once when the cache is cold; loads otherwise
    assert warmup.kernels_cached(terrain=True) is True
    assert warmup.kernels_cached(terrain="itm") is True  # --terrain itm: its own sweep kernel
    assert warmup.kernels_cached(points=True) is True  # compare, calibrate, audit, link


def test_each_run_asks_for_its_own_kernels(monkeypatch):
    asked = []
    monkeypatch.setattr(warmup, "_cached", lambda module, name: asked.append(name) or True)
    for kwargs, expect in (({"terrain": "none"}, {"_accumulate_group", "_combine"}),
                           ({"terrain": False}, {"_accumulate_group", "_combine"}),
                           ({"terrain": "delta-bullington"}, {"_accumulate_group", "_combine", "_sweep"}),
                           ({"terrain": True}, {"_accumulate_group", "_combine", "_sweep"}),
                           ({"terrain": "itm"}, {"_accumulate_group", "_combine", "_itm_sweep"}),
                           ({"points": True}, {"_points_kernel"})):  # fmt: skip
        asked.clear()
        assert warmup.kernels_cached(**kwargs) is True
        assert set(asked) == expect, kwargs


def test_the_kernel_names_exist():
    import importlib

    for module, name in (*warmup.COVERAGE_KERNELS, warmup.TERRAIN_KERNEL, warmup.ITM_KERNEL, warmup.POINTS_KERNEL):
        assert hasattr(importlib.import_module(module), name), (module, name)


def test_warm_up_shows_one_progress_line_per_combination(capsys):
    warmup.warm_up(show_progress=True)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == len(warmup.COMBINATIONS) + 1  # and the points mode
    assert lines[-1].startswith("netqa warm-up: points mode")
    assert lines[0].startswith(f"netqa warm-up 1/{len(warmup.COMBINATIONS)}: terrain none, clutter none: ")


@pytest.mark.parametrize(("cached", "warned"), [(False, True), (True, False), (None, False)])
def test_notice_only_when_a_kernel_is_not_cached(monkeypatch, caplog, cached, warned):
    monkeypatch.setattr(warmup, "_cached", lambda module, name: cached)
    with caplog.at_level(logging.WARNING, logger="netqa.warmup"):
        assert warmup.notice_if_cold() is warned
    assert ("compiling the propagation kernels" in caplog.text) is warned
    assert ("python -m netqa.warmup" in caplog.text) is warned
