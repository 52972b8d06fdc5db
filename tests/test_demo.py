"""The demo chain end to end: every stage runs, and the same inputs give the same outputs."""

import json

import pytest

from netqa.cli import main

#: Files that record when the run happened (and so differ between two runs by design).
TIMESTAMPED = {"manifest.json", "report.html"}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "run"
    hashes = []
    for _ in range(2):
        assert main(["demo", "--out", str(out), "--overwrite", "--quiet"]) == 0
        manifest = json.loads((out / "manifest.json").read_text())
        hashes.append((manifest, {o["path"]: o["sha256"] for o in manifest["outputs"]}))
    return out, hashes


@pytest.mark.slow
def test_demo_runs_every_stage(two_runs):
    out, [(manifest, outputs), _] = two_runs
    assert manifest["status"] == "done"
    assert {s["name"]: s["status"] for s in manifest["stages"]} == {
        "ingest": "done", "kpi": "done", "calibrate": "done", "predict": "done", "compare": "done",
        "score": "done", "map": "done", "report": "done",
    }
    for name in ("samples.parquet", "kpi.json", "tuned_model.toml", "coverage.tif", "compare/stats.json",
                 "compare/tuned/stats.json", "scores.gpkg", "maps/rsrp_dbm.png", "maps/rsrp_dbm.kmz",
                 "maps/coverage.html", "compare/profiles/worst_1.png", "compare/profiles/index.json"):
        assert name in outputs, name
    assert (out / "report.html").stat().st_size > 10_000
    assert "Worst-predicted samples and their path profiles" in (out / "report.html").read_text()
    tuned = json.loads((out / "compare" / "tuned" / "stats.json").read_text())
    assert abs(tuned["mean_error_db"]) < 1.0 and tuned["std_error_db"] < 7.0  # the calibrated SPM fits the drives


@pytest.mark.slow
def test_same_inputs_give_the_same_outputs(two_runs):
    _, [(_, first), (_, second)] = two_runs
    assert set(first) == set(second)
    differ = sorted(p for p in first if first[p] != second[p] and p.split("/")[-1] not in TIMESTAMPED)
    assert differ == []
