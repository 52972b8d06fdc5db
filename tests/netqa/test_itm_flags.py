"""--itm-* flags: Longley-Rice settings reach the engine in predict, compare, calibrate and link; refused when ignored."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from netqa.cli import main
from netqa.commands import add_itm_flags, itm_settings
from netqa.errors import ConfigError, InputError
from netqa.predict import PredictConfig, predict

TESTDATA = Path(__file__).resolve().parents[2] / "testdata"


def _args(*argv):
    p = argparse.ArgumentParser()
    add_itm_flags(p)
    return p.parse_args(list(argv))


def test_flags_map_to_engine_fields():
    args = _args("--itm-climate", "6", "--itm-time-pct", "90", "--itm-permittivity", "80", "--itm-conductivity", "5",
                 "--polarization", "vertical")  # fmt: skip
    pairs = dict(itm_settings(args, "itm"))
    assert pairs == {"itm_climate": 6, "itm_time_pct": 90.0, "itm_permittivity": 80.0,
                     "itm_conductivity_s_per_m": 5.0, "polarization": "vertical"}  # fmt: skip
    assert itm_settings(_args(), "none") == ()


def test_flags_that_would_be_ignored_or_refused_by_the_model_are_errors():
    with pytest.raises(InputError, match="--itm-climate: Longley-Rice settings are only used with --terrain itm"):
        itm_settings(_args("--itm-climate", "6"), "delta-bullington")
    assert itm_settings(_args("--polarization", "vertical"), "delta-bullington") == (("polarization", "vertical"),)
    with pytest.raises(InputError, match="--polarization"):
        itm_settings(_args("--polarization", "vertical"), "none")
    with pytest.raises(InputError, match="Longley-Rice flags"):
        itm_settings(_args("--itm-mdvar", "5"), "itm")  # not a mode of variability
    with pytest.raises(SystemExit):
        _args("--itm-time-pct", "100")
    with pytest.raises(InputError, match="no effect with mode of variability 12"):  # +10: location variability off
        itm_settings(_args("--itm-location-pct", "90"), "itm")
    assert dict(itm_settings(_args("--itm-location-pct", "90", "--itm-mdvar", "2"), "itm"))["itm_location_pct"] == 90
    with pytest.raises(ConfigError, match="unknown setting"):
        PredictConfig(terrain="itm", itm=(("itm_climat", 5),))
    with pytest.raises(ConfigError, match="would be ignored"):
        PredictConfig(terrain="none", itm=(("itm_climate", 6),))


def test_predict_uses_the_settings():
    kw = dict(model="fspl", terrain="itm", radius_km=3.0, resolution_m=120.0)
    base = predict(TESTDATA / "cells.csv", TESTDATA / "dem.tif", config=PredictConfig(**kw), show_progress=False)
    q90 = predict(TESTDATA / "cells.csv", TESTDATA / "dem.tif", show_progress=False,
                  config=PredictConfig(**kw, itm=(("itm_time_pct", 90.0), ("itm_situation_pct", 90.0))))  # fmt: skip
    ok = np.isfinite(base.rsrp_dbm) & np.isfinite(q90.rsrp_dbm)
    assert ok.mean() > 0.3
    assert np.nanmean(base.rsrp_dbm[ok] - q90.rsrp_dbm[ok]) > 0.5  # a 90 % quantile loses more than the median


def test_cli_refuses_itm_flags_without_itm(tmp_path, capsys):
    rc = main(["predict", "--cells", str(TESTDATA / "cells.csv"), "--dem", str(TESTDATA / "dem.tif"), "--out",
               str(tmp_path / "c.tif"), "--terrain", "delta-bullington", "--itm-climate", "6"])  # fmt: skip
    assert rc == 2 and "--terrain itm" in capsys.readouterr().err
    assert not (tmp_path / "c.tif").exists()


def test_link_itm_row_follows_the_settings(tmp_path):
    from netqa.link import analyse_link

    cells = TESTDATA / "cells.csv"
    import pandas as pd

    c = pd.read_csv(cells).iloc[0]
    rx = (float(c["lon"]) + 0.03, float(c["lat"]) + 0.02)
    rows = {}
    for name, itm in (("median", ()), ("q90", (("itm_time_pct", 90.0), ("itm_situation_pct", 90.0)))):
        link = analyse_link(cells, TESTDATA / "dem.tif", cell_id=str(c["cell_id"]), rx_lonlat=rx, itm=itm)
        rows[name] = {r.model: r for r in link.losses}["Longley-Rice ITM"]
    assert rows["q90"].loss_db > rows["median"].loss_db + 0.5


def test_tr38901_with_itm_is_warned(caplog):
    import logging

    from netqa.modelcheck import resolve_model

    with caplog.at_level(logging.WARNING, logger="netqa"):
        assert resolve_model("auto", [3500.0], what="predict", terrain="itm") == "tr38901-uma"
    assert "LOS and NLOS flip" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="netqa"):
        resolve_model("auto", [3500.0], what="predict", terrain="delta-bullington")
        resolve_model("hata", [900.0], what="predict", terrain="itm")
    assert "LOS and NLOS flip" not in caplog.text


def test_tuned_model_applied_with_other_itm_settings_is_warned(caplog):
    import logging
    from types import SimpleNamespace

    from netqa.modelcheck import check_tuned_terrain

    tuned = SimpleNamespace(calibration={"provenance": {"terrain": "itm", "itm": {"itm_climate": 6}}})
    with caplog.at_level(logging.WARNING, logger="netqa"):
        assert not check_tuned_terrain(tuned, "t.toml", terrain="itm", itm=(("itm_climate", 6),))
        assert check_tuned_terrain(tuned, "t.toml", terrain="itm")
    assert "calibrated with the Longley-Rice settings {'itm_climate': 6}, applied with defaults" in caplog.text
    plain = SimpleNamespace(calibration={"provenance": {"terrain": "itm"}})
    assert not check_tuned_terrain(plain, "t.toml", terrain="itm")


def test_project_predict_section_carries_the_itm_settings(tmp_path):
    from netqa.config import load_project
    from netqa.preflight import check_project

    (tmp_path / "project.toml").write_text(
        f'[inputs]\ncells = "{TESTDATA / "cells.csv"}"\ndem = "{TESTDATA / "dem.tif"}"\n'
        '[predict]\nterrain = "itm"\nitm_climate = 6\nitm_situation_pct = 90\npolarization = "vertical"\n')  # fmt: skip
    cfg = load_project(tmp_path / "project.toml")
    config = PredictConfig.from_section(cfg.predict)
    assert dict(config.itm) == {"itm_climate": 6, "itm_situation_pct": 90.0, "polarization": "vertical"}
    (tmp_path / "bad.toml").write_text(
        f'[inputs]\ncells = "{TESTDATA / "cells.csv"}"\ndem = "{TESTDATA / "dem.tif"}"\n'
        '[predict]\nterrain = "none"\nitm_climate = 6\n')  # fmt: skip
    with pytest.raises(ConfigError, match="would be ignored"):
        check_project(load_project(tmp_path / "bad.toml"))
