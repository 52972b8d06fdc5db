"""NETQA_TIMINGS: the phase split a command writes for the end-to-end benchmark (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

from netqa import timings
from netqa.cli import main

TESTDATA = Path(__file__).resolve().parents[2] / "testdata"


def test_phases_add_up_and_reset():
    timings.reset()
    with timings.phase("engine"):
        pass
    with timings.phase("engine"):
        pass
    assert list(timings.totals()) == ["engine"] and timings.totals()["engine"] >= 0.0
    timings.reset()
    assert timings.totals() == {}


def test_predict_writes_its_phase_split(tmp_path, monkeypatch):
    monkeypatch.setenv(timings.ENV_VAR, str(tmp_path / "t.json"))
    rc = main(["-q", "predict", "--cells", str(TESTDATA / "cells.csv"), "--dem", str(TESTDATA / "dem.tif"),
               "--model", "hata", "--radius-km", "2", "--resolution-m", "100", "--out", str(tmp_path / "c.tif")])  # fmt: skip
    assert rc in (0, None)
    doc = json.loads((tmp_path / "t.json").read_text())
    assert doc["command"] == "predict" and doc["end_epoch_s"] >= doc["start_epoch_s"]
    assert {"imports", "input", "engine", "output"} <= set(doc["phases_s"])
    assert all(v >= 0.0 for v in doc["phases_s"].values())
