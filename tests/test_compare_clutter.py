"""``netqa compare`` with the clutter models of ``netqa predict``: table, p2108 (P.2108 section 3.1), p2108-statistical (3.2).

The test world (``testdata/``) on every third sample of the three drives, with fspl and no terrain so that the runs
take about a second each; the events and regions are given so that the area drop model runs with each clutter model.
"""

import json
import logging
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from netqa.cli import main
from netqa.compare.run import CompareConfig, compare
from netqa.config import project_from_dict
from netqa.errors import ConfigError, InputError
from propagation import SPM_DEFAULT_K, ValidityRangeWarning, p2108_clutter_loss_db, p2108_height_gain_db

TESTDATA = Path(__file__).resolve().parents[1] / "testdata"
CELLS, DEM, REGIONS = TESTDATA / "cells.csv", TESTDATA / "dem.tif", TESTDATA / "regions.gpkg"
CLUTTER = dict(clutter=TESTDATA / "clutter.tif", clutter_table=TESTDATA / "clutter_classes.csv")
SESSIONS = ("d1_highway_valdera", "d2_valdera_sotillo", "d3_north_loop")
MODELS = ("table", "p2108", "p2108-statistical")
#: testdata/clutter_classes.csv: class name -> (P.2108 type by the name aliases, loss_db, height_m)
CLASSES = {"water": ("water_sea", 0.0, 0.0), "open": ("open_rural", 0.0, 0.0), "forest": ("trees_forest", 8.0, 15.0),
           "suburban": ("suburban", 6.0, 8.0), "urban": ("urban", 11.0, 15.0),
           "dense_urban": ("dense_urban", 15.0, 25.0)}  # fmt: skip
DESIGN_KEYS = ("n", "mean_error_db", "std_error_db", "rmse_db", "correlation", "per_cell", "per_clutter",
               "per_distance_km", "per_region")  # fmt: skip
LOCATION_PCT = 70.0
STREET_WIDTH_M = 20.0


@pytest.fixture(scope="module")
def samples():
    df = pd.concat([pd.read_csv(TESTDATA / "drives" / f"{s}.csv") for s in SESSIONS], ignore_index=True)
    return df.iloc[::3].reset_index(drop=True)  # 1 Hz logs: every event still has a sample within 2 s


@pytest.fixture(scope="module")
def events():
    return pd.concat([pd.read_csv(TESTDATA / "drives" / f"{s}.events.csv") for s in SESSIONS], ignore_index=True)


def _compare(samples, out, clutter_model, events=None, regions=None, **kw):
    model = kw.pop("model", "spm" if kw.get("model_file") else "fspl")  # a tuned model file needs the SPM
    cfg = CompareConfig(model=model, plots=False, clutter_model=clutter_model, location_pct=LOCATION_PCT,
                        street_width_m=STREET_WIDTH_M, **kw)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidityRangeWarning)  # the 3500 MHz carrier lies above section 3.1's 3 GHz
        return compare(samples, CELLS, DEM, out, events=events, regions=regions, config=cfg, **CLUTTER)


@pytest.fixture(scope="module")
def runs(samples, events, tmp_path_factory):
    d = tmp_path_factory.mktemp("cmp_clutter")
    out = {}
    for model in MODELS:
        stats = _compare(samples, d / model, model, events=events, regions=REGIONS)
        out[model] = SimpleNamespace(stats=stats, dir=d / model, res=pd.read_parquet(d / model / "residuals.parquet"))
    return out


@pytest.fixture(scope="module")
def residuals(runs):
    """Compared samples with the serving cell's carrier, the clutter class and the three predictions."""
    res = runs["table"].res
    for model in MODELS:  # same samples, same order, same labels in every run
        np.testing.assert_array_equal(runs[model].res["cell_id"], res["cell_id"])
        np.testing.assert_array_equal(runs[model].res["clutter"].astype(str), res["clutter"].astype(str))
    freq = pd.read_csv(CELLS).assign(cell_id=lambda c: c["cell_id"].astype(str)).set_index("cell_id")["freq_mhz"]
    out = pd.DataFrame({"freq_mhz": res["cell_id"].astype(str).map(freq).to_numpy(float),
                        "clutter": res["clutter"].astype(str), "dist_km": res["dist_km"],
                        **{m: runs[m].res["rsrp_predicted_dbm"] for m in MODELS}})  # fmt: skip
    return out[res["compared"].to_numpy() & out["clutter"].isin(list(CLASSES)).to_numpy()].reset_index(drop=True)


def _height_gain_db(freq_mhz, name):
    kind, _, r_m = CLASSES[name]
    if r_m == 0.0:
        return 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidityRangeWarning)
        return float(p2108_height_gain_db(freq_mhz, 1.5, kind, clutter_height_m=r_m, street_width_m=STREET_WIDTH_M,
                                          strict=False))  # fmt: skip


def _few(residuals, classes):
    """Up to three samples per class and carrier (a handful, each checked against the public functions)."""
    sel = residuals[residuals["clutter"].isin(classes)]
    picked = sel.groupby(["clutter", "freq_mhz"], sort=True).head(3)
    assert picked["freq_mhz"].nunique() == 2 and set(picked["clutter"]) == set(classes)
    return picked


@pytest.mark.parametrize("name", ["forest", "suburban", "urban", "dense_urban", "open"])
def test_p2108_changes_predictions_by_height_gain_minus_table_loss(residuals, name):
    few = _few(residuals, [name])
    got = (few["table"] - few["p2108"]).to_numpy()
    expected = np.array([_height_gain_db(f, name) for f in few["freq_mhz"]]) - CLASSES[name][1]
    # the height-gain loss of a class is tabled in float32 per carrier (as in netqa predict): 1e-5 dB
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


def test_p2108_hand_value_for_urban_at_1815_mhz_and_20_m_streets():
    # P.2108-1 eqs. (2a), (2b): R = 15 m, h = 1.5 m, w_s = 20 m: theta = atan(13.5 / 20) = 34.019 deg,
    # nu = 0.342 sqrt(1.815) sqrt(13.5 x 34.019) = 9.874, J(nu) = 6.9 + 20 log10(sqrt((nu - 0.1)^2 + 1) + nu - 0.1)
    # = 32.745 dB, A_h = J - 6.03 = 26.715 dB
    assert _height_gain_db(1815.0, "urban") == pytest.approx(26.715, abs=0.001)


@pytest.mark.parametrize("name", ["suburban", "urban", "dense_urban", "forest", "open"])
def test_statistical_model_changes_predictions_by_l_ctt_on_urban_types_only(residuals, name):
    few = _few(residuals, [name])
    got = (few["table"] - few["p2108-statistical"]).to_numpy()
    urban = CLASSES[name][0] in ("suburban", "urban", "dense_urban")
    l_ctt = p2108_clutter_loss_db(few["freq_mhz"].to_numpy(), np.maximum(few["dist_km"].to_numpy(), 0.25), LOCATION_PCT)
    expected = (l_ctt if urban else 0.0) - CLASSES[name][1]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("key", DESIGN_KEYS)
def test_stats_json_keeps_design_keys(runs, model, key):
    stats = json.loads((runs[model].dir / "stats.json").read_text())
    assert key in stats and key in stats["rsrp_averaged"]


@pytest.mark.parametrize("model, extra", [("table", {}), ("p2108", {"street_width_m": STREET_WIDTH_M}),
                                          ("p2108-statistical", {"location_pct": LOCATION_PCT})])  # fmt: skip
def test_stats_json_records_the_clutter_model(runs, model, extra):
    assert runs[model].stats["model"] == {"model": "fspl", "terrain": "none", "clutter_model": model, **extra}


@pytest.mark.parametrize("model", ["p2108", "p2108-statistical"])
def test_area_drop_model_uses_the_clutter_model(runs, model):
    # the urban centre R01: 20-30 dB of statistical loss / 14 dB of height gain change its predicted area conditions
    table = runs["table"].stats["drop_rate"]["per_region"]["R01"]["drop_rate_predicted_area"]
    other = runs[model].stats["drop_rate"]["per_region"]["R01"]["drop_rate_predicted_area"]
    assert table is not None and other is not None and other != table


def test_section_31_range_warning_given_once_per_run(samples, tmp_path):
    cfg = CompareConfig(model="fspl", plots=False, clutter_model="p2108")
    with pytest.warns(ValidityRangeWarning, match=r"freq_mhz 3500 outside .*section 3.1") as rec:
        compare(samples, CELLS, DEM, tmp_path / "o", regions=REGIONS, config=cfg, **CLUTTER)
    assert len([w for w in rec if "section 3.1" in str(w.message)]) == 1


# --- model files: their tuned clutter losses belong to the table model ----------------------------------------------


def _model_file(path, clutter_loss_db):
    k = SPM_DEFAULT_K
    lines = ["[spm]"] + [f"{n} = {getattr(k, n)!r}" for n in ("k1", "k2", "k3", "k4", "k5", "k6", "k7", "f_ref_mhz")]
    if clutter_loss_db:
        lines += ["[clutter_loss_db]"] + [f"{n} = {v!r}" for n, v in clutter_loss_db.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def tuned_runs(samples, tmp_path_factory):
    d = tmp_path_factory.mktemp("cmp_tuned")
    plain, offsets = _model_file(d / "plain.toml", {}), _model_file(d / "urban.toml", {"urban": 40.0, "forest": 30.0})
    few = samples.iloc[::4].reset_index(drop=True)
    out = {}
    for model in ("table", "p2108"):
        for name, path in (("plain", plain), ("offsets", offsets)):
            _compare(few, d / f"{model}-{name}", model, model_file=path)
            out[model, name] = pd.read_parquet(d / f"{model}-{name}" / "residuals.parquet")
    return out


def test_model_file_clutter_losses_apply_in_table_mode(tuned_runs):
    plain, offsets = tuned_runs["table", "plain"], tuned_runs["table", "offsets"]
    urban = (plain["clutter"] == "urban").to_numpy()
    assert urban.any()
    diff = (plain["rsrp_predicted_dbm"] - offsets["rsrp_predicted_dbm"]).to_numpy()
    np.testing.assert_allclose(diff[urban], 40.0 - CLASSES["urban"][1], atol=1e-9)


def test_model_file_clutter_losses_ignored_with_p2108(tuned_runs):
    np.testing.assert_array_equal(tuned_runs["p2108", "plain"]["rsrp_predicted_dbm"],
                                  tuned_runs["p2108", "offsets"]["rsrp_predicted_dbm"])  # fmt: skip


def test_model_file_clutter_losses_ignored_with_a_warning(samples, tmp_path, caplog):
    path = _model_file(tmp_path / "m.toml", {"urban": 40.0})
    with caplog.at_level(logging.WARNING, logger="netqa"):
        _compare(samples.iloc[::20], tmp_path / "o", "p2108-statistical", model_file=path)
    assert "--clutter-model p2108-statistical: the model file's clutter losses are not used" in caplog.text


# --- the library refuses what cannot work --------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["p2108", "p2108-statistical"])
def test_p2108_without_a_clutter_raster_is_refused_before_any_work(samples, tmp_path, model):
    with pytest.raises(InputError, match=f"--clutter-model {model} needs a clutter class raster: give --clutter"):
        compare(samples, CELLS, DEM, tmp_path / "o", config=CompareConfig(clutter_model=model))
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "kwargs, match",
    [(dict(clutter_model="itu"), "--clutter-model 'itu' is unknown; choose one of table, p2108, p2108-statistical"),
     (dict(location_pct=0.0), "--location-pct = 0.0 must lie strictly between 0 and 100"),
     (dict(street_width_m=2000.0), "--street-width-m = 2000.0 is outside 1..1000 m")],
    ids=["model", "pct", "street"],
)  # fmt: skip
def test_compare_config_refuses_bad_values(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        CompareConfig(**kwargs)


# --- command line ----------------------------------------------------------------------------------------------------


def _cli(tmp_path, *extra):
    return ["compare", "--samples", str(tmp_path / "s.csv"), "--cells", str(CELLS), "--dem", str(DEM),
            "--out", str(tmp_path / "out"), "--model", "fspl", "--no-plots", "--quiet", *extra]  # fmt: skip


@pytest.fixture
def samples_csv(samples, tmp_path):
    samples.iloc[::10].to_csv(tmp_path / "s.csv", index=False)
    return tmp_path / "s.csv"


@pytest.mark.filterwarnings("ignore::propagation.ValidityRangeWarning")
def test_cli_runs_with_a_clutter_model(tmp_path, samples_csv):
    rc = main(_cli(tmp_path, "--clutter", str(CLUTTER["clutter"]), "--clutter-table", str(CLUTTER["clutter_table"]),
                   "--clutter-model", "p2108-statistical", "--location-pct", "60"))  # fmt: skip
    assert rc == 0
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert stats["model"]["clutter_model"] == "p2108-statistical" and stats["model"]["location_pct"] == 60.0


@pytest.mark.parametrize(
    "flags, expected",
    [([], ("table", 50.0, 27.0)),
     (["--clutter-model", "p2108", "--street-width-m", "12.5"], ("p2108", 50.0, 12.5)),
     (["--clutter-model", "p2108-statistical", "--location-pct", "95"], ("p2108-statistical", 95.0, 27.0))],
    ids=["defaults", "p2108", "statistical"],
)  # fmt: skip
def test_cli_flags_reach_the_config(tmp_path, samples_csv, monkeypatch, flags, expected):
    import netqa.compare.run as run_module

    seen = {}
    monkeypatch.setattr(run_module, "compare", lambda *a, config, **kw: seen.setdefault("config", config))
    assert main(_cli(tmp_path, *flags)) == 0
    c = seen["config"]
    assert (c.clutter_model, c.location_pct, c.street_width_m) == expected


@pytest.mark.parametrize(
    "flags, message",
    [(["--clutter-model", "p2108-statistical", "--location-pct", "100"], "argument --location-pct: '100' is not"),
     (["--clutter-model", "p2108-statistical", "--location-pct", "nan"], "argument --location-pct: 'nan' is not"),
     (["--clutter-model", "p2108", "--street-width-m", "0"], "argument --street-width-m: '0' is not a finite number >= 1"),
     (["--clutter-model", "p2108"], "--clutter-model p2108 needs a clutter class raster")],
    ids=["pct-100", "pct-nan", "street-0", "no-raster"],
)  # fmt: skip
def test_cli_bad_values_exit_2_with_a_clear_message(tmp_path, samples_csv, capsys, flags, message):
    assert main(_cli(tmp_path, *flags)) == 2
    err = capsys.readouterr().err
    assert err.startswith("netqa compare: error: ") and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_cli_unknown_clutter_model_is_refused_by_the_parser(tmp_path, samples_csv, capsys):
    assert main(_cli(tmp_path, "--clutter-model", "itu")) == 2  # one line, exit 2 (netqa.cli)
    assert "--clutter-model: invalid choice: 'itu'" in capsys.readouterr().err


def test_cli_help_names_the_clutter_models(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    out = capsys.readouterr().out
    for text in ("--clutter-model {table,p2108,p2108-statistical}", "--location-pct", "--street-width-m",
                 "p2108-statistical  ITU-R P.2108-1 section 3.2"):  # fmt: skip
        assert text in out


# --- project files and the run stage ---------------------------------------------------------------------------------


def test_project_keys_round_trip_and_reach_the_compare_stage(tmp_path, monkeypatch):
    import netqa.compare.run as run_module
    from netqa.pipeline import stages

    section = {"clutter_model": "p2108-statistical", "location_pct": 90, "street_width_m": 20}
    cfg = project_from_dict({"inputs": {"cells": str(CELLS), "dem": str(DEM), **{k: str(v) for k, v in CLUTTER.items()}},
                             "compare": section}, base_dir=tmp_path)  # fmt: skip
    assert (cfg.compare.enabled, cfg.compare.clutter_model, cfg.compare.location_pct, cfg.compare.street_width_m) == (
        True, "p2108-statistical", 90.0, 20.0)
    assert {k: cfg.to_dict()["compare"][k] for k in section} == {k: float(v) if k != "clutter_model" else v
                                                                 for k, v in section.items()}  # fmt: skip
    assert cfg.predict.clutter_model == "table"  # [compare] has its own keys
    seen = []

    def fake_compare(*a, config, **kw):
        seen.append(config)
        (Path(a[3])).mkdir(parents=True, exist_ok=True)

    monkeypatch.setattr(run_module, "compare", fake_compare)
    ctx = SimpleNamespace(config=cfg, products={"samples": tmp_path / "s.parquet", "tuned_model": tmp_path / "t.toml"},
                          out_dir=tmp_path, overwrite=False)  # fmt: skip
    stages.compare(ctx)
    assert len(seen) == 2  # the configured model and the one calibrated in the run
    for c in seen:
        assert (c.clutter_model, c.location_pct, c.street_width_m) == ("p2108-statistical", 90.0, 20.0)


def test_compare_stage_takes_the_predict_clutter_settings_unless_compare_sets_them(tmp_path, monkeypatch):
    import netqa.compare.run as run_module
    from netqa.pipeline import stages

    inputs = {"cells": str(CELLS), "dem": str(DEM), **{k: str(v) for k, v in CLUTTER.items()}}
    seen = []

    def fake_compare(*a, config, **kw):
        seen.append(config)
        (Path(a[3])).mkdir(parents=True, exist_ok=True)

    monkeypatch.setattr(run_module, "compare", fake_compare)
    predict = {"clutter_model": "p2108", "street_width_m": 18, "location_pct": 70}
    for compare_keys, want in [({}, ("p2108", 70.0, 18.0)),
                               ({"clutter_model": "table"}, ("table", 70.0, 18.0)),
                               ({"location_pct": 90}, ("p2108", 90.0, 18.0))]:  # fmt: skip
        seen.clear()
        cfg = project_from_dict({"inputs": inputs, "predict": predict, "compare": compare_keys}, base_dir=tmp_path)
        ctx = SimpleNamespace(config=cfg, products={"samples": tmp_path / "s.parquet"}, out_dir=tmp_path, overwrite=False)
        stages.compare(ctx)
        assert [(c.clutter_model, c.location_pct, c.street_width_m) for c in seen] == [want]


def test_project_compare_defaults_and_enabled_still_work(tmp_path):
    cfg = project_from_dict({"compare": {"enabled": False}}, base_dir=tmp_path)
    assert (cfg.compare.enabled, cfg.compare.clutter_model, cfg.compare.location_pct, cfg.compare.street_width_m) == (
        False, None, None, None)  # None: as [predict]
    from netqa.pipeline import stages

    assert stages.compare(SimpleNamespace(config=cfg, products={"samples": tmp_path / "s"}, out_dir=tmp_path)) is None


@pytest.mark.parametrize(
    "key, value, match",
    [("clutter_model", "itu", r"\[compare\] clutter_model = 'itu' is not one of table, p2108, p2108-statistical"),
     ("location_pct", 100, r"\[compare\] location_pct = 100 is outside 0.001..99.999 %"),
     ("street_width_m", 0, r"\[compare\] street_width_m = 0 is outside 1..1000 m"),
     ("location_pct", "50", r"\[compare\] location_pct must be a number \[%\], got '50'"),
     ("clutter", "p2108", r"\[compare\] unknown key 'clutter'; valid keys: enabled, clutter_model, location_pct, street_width_m")],
    ids=["model", "pct", "street", "pct-type", "unknown-key"],
)  # fmt: skip
def test_project_refuses_bad_compare_keys(tmp_path, key, value, match):
    with pytest.raises(ConfigError, match=match):
        project_from_dict({"compare": {key: value}}, base_dir=tmp_path)
