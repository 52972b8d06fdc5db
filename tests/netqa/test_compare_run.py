"""netqa compare on the committed test world: stats.json, residuals, drop/HO, throughput, plots, CLI, bad input."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netqa.calibrate.run import CalibrateOptions, calibrate
from netqa.compare.run import CompareConfig, compare

TESTDATA = Path(__file__).resolve().parents[2] / "testdata"
SESSIONS = ("d1_highway_valdera", "d2_valdera_sotillo", "d3_north_loop")
CLUTTER = dict(clutter=TESTDATA / "clutter.tif", clutter_table=TESTDATA / "clutter_classes.csv")
DESIGN_KEYS = ("n", "mean_error_db", "std_error_db", "rmse_db", "correlation", "per_cell", "per_clutter",
               "per_distance_km", "per_region")  # fmt: skip


@pytest.fixture(scope="module")
def samples():
    return pd.concat([pd.read_csv(TESTDATA / "drives" / f"{s}.csv") for s in SESSIONS], ignore_index=True)


@pytest.fixture(scope="module")
def runs(samples, tmp_path_factory):
    d = tmp_path_factory.mktemp("cmp")
    tuned = d / "tuned.toml"
    calibrate(samples, TESTDATA / "cells.csv", TESTDATA / "dem.tif", tuned, **CLUTTER,
              options=CalibrateOptions(terrain="delta-bullington", h_eff="ground"))  # fmt: skip
    events = [TESTDATA / "drives" / f"{s}.events.csv" for s in SESSIONS]
    out = {}
    for name, cfg in (("tuned", CompareConfig(model="spm", terrain="delta-bullington", model_file=tuned)),
                      ("default", CompareConfig(model="spm", plots=False))):  # fmt: skip
        out[name] = compare(samples, TESTDATA / "cells.csv", TESTDATA / "dem.tif", d / name, events=events,
                            regions=TESTDATA / "regions.gpkg", config=cfg, **CLUTTER)  # fmt: skip
    return d, out


@pytest.mark.parametrize("key", DESIGN_KEYS)
def test_stats_json_has_design_keys(runs, key):
    d, _ = runs
    stats = json.loads((d / "tuned" / "stats.json").read_text())
    assert key in stats and key in stats["rsrp_averaged"]


def test_removed_samples_counted(runs):
    _, out = runs
    s = out["tuned"]["samples"]
    removed = sum(v for k, v in s.items() if k not in ("read", "compared") and isinstance(v, int))
    assert s["read"] == s["compared"] + removed and s["outside_dem"] >= 0


def test_tuned_model_matches_shadowing_and_default_is_worse(runs):
    _, out = runs
    t, dflt = out["tuned"], out["default"]
    assert abs(t["mean_error_db"]) < 1.0
    assert t["std_error_db"] == pytest.approx(6.0, abs=0.5)
    assert dflt["rmse_db"] > 2.0 * t["rmse_db"]


def test_residuals_parquet_one_row_per_usable_sample(runs):
    d, out = runs
    res = pd.read_parquet(d / "tuned" / "residuals.parquet")
    assert int(res["compared"].sum()) == out["tuned"]["n"]
    ok = res["compared"]
    assert np.allclose(res.loc[ok, "error_db"], res.loc[ok, "rsrp_predicted_dbm"] - res.loc[ok, "rsrp_measured_dbm"])


@pytest.mark.parametrize("block, rate", [("drop_rate", "drop_rate"), ("ho_failure", "ho_failure_rate")])
def test_event_rates_predicted_vs_measured(runs, block, rate):
    _, out = runs
    b = out["tuned"][block]
    lo_m, hi_m = b[f"{rate}_measured_ci"]
    lo_p, hi_p = b[f"{rate}_predicted_ci"]
    assert lo_m <= b[f"{rate}_measured"] <= hi_m
    assert lo_p <= hi_m and lo_m <= hi_p  # the tuned model's prediction agrees with the measurement
    assert out["default"][block][f"{rate}_predicted"] > b[f"{rate}_predicted"]  # the pessimistic default predicts more


def test_drop_rate_counts_match_truth():
    truth = json.loads((TESTDATA / "truth.json").read_text())["sessions"]
    assert sum(s["events"]["call_drop"] for s in truth.values()) >= 3


def test_throughput_only_in_data_periods_with_percentiles(runs, samples):
    _, out = runs
    dl = out["tuned"]["throughput"]["dl_mbps"]
    assert dl["n"] <= int(samples["dl_mbps"].notna().sum())
    assert set(dl["percentiles"]) == {"p10", "p50", "p90"}
    assert "bandwidth" in out["tuned"]["throughput"]["assumptions"]
    assert out["tuned"]["dl_mbps"]["mean_error_mbps"] is not None


def test_plots_written(runs):
    d, out = runs
    for name in ("scatter.png", "error_histogram.png", "error_vs_distance.png", "cdf_rsrp.png", "per_cell.png"):
        assert (d / "tuned" / name).stat().st_size > 5000
    assert "per_cell.png" in out["tuned"]["plots"]


def test_unknown_serving_cell_counted_not_dropped_silently(samples, tmp_path):
    s = samples.iloc[:400].astype({"cell_id": str})
    s.loc[s.index[:50], "cell_id"] = "NOPE"
    r = compare(s, TESTDATA / "cells.csv", TESTDATA / "dem.tif", tmp_path / "o", config=CompareConfig(plots=False))
    assert r["samples"]["serving_cell_not_in_cell_table"] == 50 and r["samples"]["unknown_serving_cells"] == ["NOPE"]


def test_cli_compare_writes_refuses_overwrite_and_bad_model_file(samples, tmp_path):
    from netqa.cli import main

    p = tmp_path / "s.csv"
    samples.iloc[:300].to_csv(p, index=False)
    argv = ["compare", "--samples", str(p), "--cells", str(TESTDATA / "cells.csv"), "--dem", str(TESTDATA / "dem.tif"),
            "--out", str(tmp_path / "c"), "--no-plots", "-q"]  # fmt: skip
    assert main(argv) == 0 and (tmp_path / "c" / "stats.json").exists()
    assert main(argv) == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[spm]\nk1=1\nk2=2\nk3=3\nk4=4\nk5=5\nk6=6\nk7=7\n[whatever]\nx=1\n")
    assert main(argv + ["--overwrite", "--model", "spm", "--model-file", str(bad)]) == 2


def test_filters_reported_with_removed_counts(runs):
    _, out = runs
    f, s = out["tuned"]["filters"], out["tuned"]["samples"]
    assert set(f) == {"min_dist_km", "max_dist_km", "rsrp_floor_dbm", "min_samples_per_bin"}
    for name in ("min_dist_km", "max_dist_km", "rsrp_floor_dbm"):
        assert f[name]["removed_samples"] == s[name]
    # one default filter set with calibrate (netqa.compare.select.DEFAULT_FILTERS): 0.1-20 km, RSRP >= -130 dBm
    assert f["min_dist_km"]["value"] == CompareConfig().filters.min_dist_km == 0.1
    assert f["max_dist_km"]["value"] == 20.0 and f["rsrp_floor_dbm"]["value"] == -130.0
    avg = out["tuned"]["rsrp_averaged"]
    assert f["min_samples_per_bin"]["removed_samples"] == out["tuned"]["n"] - avg["n_samples"]


def test_best_server_within_serving_layer(runs):
    d, out = runs
    res = pd.read_parquet(d / "tuned" / "residuals.parquet")
    res = res[res["compared"]]
    cells = pd.read_csv(TESTDATA / "cells.csv", comment="#").astype({"cell_id": str})
    layer = dict(zip(cells["cell_id"], cells["tech"] + "|" + cells["freq_mhz"].astype(str)))
    assert len(set(layer.values())) > 1  # the test world has several layers
    assert (res["cell_id"].astype(str).map(layer) == res["best_cell_id"].astype(str).map(layer)).all()
    assert (res["best_rsrp_predicted_dbm"] >= res["rsrp_predicted_dbm"] - 1e-9).all()  # the serving cell is a candidate
    assert "layer" in out["tuned"]["rsrp_best_server"]["definition"]


def test_predict_samples_layer_restricts_best_server(samples):
    from netqa.compare.points import predict_samples
    from netqa.compare.prepare import prepare
    from netqa.compare.run import cell_layers
    from propagation.engine import EngineConfig

    prep = prepare(samples.iloc[::50], TESTDATA / "cells.csv", TESTDATA / "dem.tif")
    lay = cell_layers(prep.world)
    p = predict_samples(prep.world, prep.x_m, prep.y_m, prep.serving, EngineConfig(model="spm"), layer=lay)
    ok = p.best_layer_cell >= 0
    assert ok.any() and (lay[p.best_layer_cell[ok]] == lay[prep.serving[ok]]).all()
    other = ok & (p.best_cell >= 0) & (lay[np.maximum(p.best_cell, 0)] != lay[prep.serving])
    assert other.any()  # without the restriction some samples' best server is on another layer
    assert (p.best_rsrp_dbm[other] >= p.best_layer_rsrp_dbm[other]).all()


@pytest.mark.parametrize("flags, key", [(["--min-dist-km", "0.5"], "min_dist_km"), (["--max-dist-km", "2"], "max_dist_km"),
                                        (["--rsrp-floor-dbm", "-100"], "rsrp_floor_dbm")],
                         ids=["min-dist", "max-dist", "rsrp-floor"])  # fmt: skip
def test_cli_compare_filter_flags_remove_and_report(samples, tmp_path, flags, key):
    from netqa.cli import main

    p = tmp_path / "s.csv"
    samples.iloc[::20].to_csv(p, index=False)
    argv = ["compare", "--samples", str(p), "--cells", str(TESTDATA / "cells.csv"), "--dem", str(TESTDATA / "dem.tif"),
            "--no-plots", "-q", "--min-bin-samples", "2"]  # fmt: skip
    assert main(argv + ["--out", str(tmp_path / "a")]) == 0
    assert main(argv + flags + ["--out", str(tmp_path / "b")]) == 0
    a, b = (json.loads((tmp_path / x / "stats.json").read_text()) for x in "ab")
    assert b["filters"][key]["removed_samples"] > a["filters"][key]["removed_samples"]
    assert b["n"] < a["n"]
    removed = sum(v for k, v in b["samples"].items() if k not in ("read", "compared") and isinstance(v, int))
    assert b["samples"]["read"] == b["n"] + removed
    assert b["filters"]["min_samples_per_bin"]["value"] == 2


def test_cli_compare_empty_distance_range_is_a_clear_error(samples, tmp_path):
    from netqa.cli import main

    p = tmp_path / "s.csv"
    samples.iloc[:50].to_csv(p, index=False)
    argv = ["compare", "--samples", str(p), "--cells", str(TESTDATA / "cells.csv"), "--dem", str(TESTDATA / "dem.tif"),
            "--out", str(tmp_path / "c"), "--min-dist-km", "3", "--max-dist-km", "1", "-q"]  # fmt: skip
    assert main(argv) == 2 and not (tmp_path / "c" / "stats.json").exists()


def test_setup_calls_exclude_setup_failures():
    import pandas as pd

    from netqa.compare.events import setup_calls

    t0 = pd.Timestamp("2024-05-14T07:30:00Z")
    ev = pd.DataFrame({
        "time": [t0, t0 + pd.Timedelta(seconds=3), t0 + pd.Timedelta(seconds=10), t0 + pd.Timedelta(seconds=40),
                 t0 + pd.Timedelta(seconds=50), t0 + pd.Timedelta(seconds=70)],
        "session": ["a"] * 6,
        "event": ["call_attempt", "call_setup_failure", "call_attempt", "call_end", "call_attempt", "call_drop"],
    })  # fmt: skip
    calls = setup_calls(ev)
    assert len(calls) == 2  # the attempt that failed set-up is not a call (drop rate = drops / set-up calls)
    assert list((calls["end"] - calls["t"]).dt.total_seconds()) == [30.0, 20.0]
