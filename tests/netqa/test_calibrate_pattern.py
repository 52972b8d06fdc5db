"""The pattern-attenuation weight: the engine equivalence, the profile fit, the model file, and calibrate/compare on
the synthetic district (whose antennas are not the assumed 65/10 deg sector and whose database has wrong azimuths)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from netqa.calibrate.fit import CalibrationConfig, CalibrationData
from netqa.calibrate.modelfile import read_model_file
from netqa.calibrate.pattern import apply_pattern_weights, fit_with_pattern_weight  # re-exported
from netqa.cli import main
from netqa.errors import ConfigError
from propagation import sector_gain_db
from propagation.engine import cell_matrix
from propagation.engine._common import CELL_FIELDS

REPO = Path(__file__).resolve().parents[2]
DISTRICT = REPO / "testdata" / "district"
#: K1..K7 lines of a hand-written model file.
K = "k1 = 130.0\nk2 = 40.0\nk3 = -13.82\nk4 = 0.0\nk5 = -6.55\nk6 = 0.0\nk7 = 0.0\n"


@pytest.mark.parametrize("w", [0.1, 0.43, 1.0, 1.5], ids=lambda w: f"w{w}")
def test_weighted_matrix_is_the_weighted_attenuation(w):
    m = cell_matrix(x_m=[0.0, 0.0], y_m=[0.0, 0.0], height_m=[30.0, 30.0], azimuth_deg=[0.0, 0.0], freq_mhz=[1800.0, 1800.0],
                    rs_power_dbm=[15.0, 15.0], bandwidth_mhz=[20.0, 20.0], pattern_id=[-1.0, -2.0])  # fmt: skip
    mw = apply_pattern_weights(m, w)
    c = {n: CELL_FIELDS.index(n) for n in ("hpbw_h_deg", "hpbw_v_deg", "sla_v_db", "am_db")}
    rng = np.random.default_rng(5)
    az, el = rng.uniform(-180, 180, 400), rng.uniform(-10, 60, 400)
    g = sector_gain_db(az, el, 6.0, m[0, c["hpbw_h_deg"]], m[0, c["hpbw_v_deg"]], m[0, c["sla_v_db"]], m[0, c["am_db"]])
    gw = sector_gain_db(az, el, 6.0, mw[0, c["hpbw_h_deg"]], mw[0, c["hpbw_v_deg"]], mw[0, c["sla_v_db"]], mw[0, c["am_db"]])
    np.testing.assert_allclose(gw, w * g, atol=1e-9)
    np.testing.assert_array_equal(mw[1], m[1])  # omni row untouched
    assert not np.shares_memory(mw, m)


def test_bad_weight_is_refused():
    m = cell_matrix(x_m=[0.0], y_m=[0.0], height_m=[30.0], azimuth_deg=[0.0], freq_mhz=[1800.0], rs_power_dbm=[15.0],
                    bandwidth_mhz=[20.0])  # fmt: skip
    with pytest.raises(ValueError, match="finite and > 0"):
        apply_pattern_weights(m, 0.0)


def _synthetic(w_true: float, n: int = 4000, seed: int = 2) -> tuple[CalibrationData, np.ndarray]:
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, 6000, n), rng.uniform(0, 6000, n)
    d_km = np.hypot(x - 3000, y - 3000) / 1000 + 0.1
    att = np.minimum(12 * (rng.uniform(-180, 180, n) / 65) ** 2, 25.0)
    spm = 130.0 + 38.0 * np.log10(d_km) - 13.82 * np.log10(30.0) - 6.55 * np.log10(d_km) * np.log10(30.0)
    loss = spm + (w_true - 1.0) * att + rng.normal(0, 2.0, n)  # loss measured with the assumed (full) pattern
    data = CalibrationData(loss_db=loss, dist_km=d_km, h_tx_eff_m=np.full(n, 30.0), h_rx_m=np.full(n, 1.5),
                           diffraction_db=np.zeros(n), freq_mhz=np.full(n, 1800.0), clutter=np.full(n, "none", object),
                           clutter_db=np.zeros(n), cell=np.full(n, "A", object),
                           session=np.array([f"s{i % 4}" for i in range(n)], object), x_m=x, y_m=y)  # fmt: skip
    return data, att


def test_profile_fit_recovers_the_weight_and_adopts_it():
    data, att = _synthetic(0.5)
    cal = fit_with_pattern_weight(data, att, CalibrationConfig(per_cell=False))
    assert cal.pattern_weight == pytest.approx(0.5, abs=0.05)
    assert cal.settings["pattern_weight"]["adopted"] is True
    assert cal.k.k2 == pytest.approx(38.0, abs=1.0)  # K5 stays at the prior (one antenna height)


def test_profile_fit_keeps_the_pattern_when_it_is_right():
    data, att = _synthetic(1.0)
    cal = fit_with_pattern_weight(data, att, CalibrationConfig(per_cell=False))
    assert cal.pattern_weight == 1.0
    info = cal.settings["pattern_weight"]
    assert info["adopted"] is False and "less than" in info["reason"] and info["fitted"] == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("text, match", [
    ("[spm]\n" + K + "[antenna]\npattern_weight = 0.0\n", r"\[antenna\] pattern_weight = 0.0 must be"),
    ("[spm]\n" + K + "[antenna]\nweight = 0.5\n", r"\[antenna\] takes only pattern_weight"),
    ("[spm]\n" + K + '[band."LTE-1815"]\ntech = "LTE"\nfreq_mhz = 1815.0\n' + K + "pattern_weight = 3.0\n",
     r"\[band.LTE-1815\] pattern_weight = 3.0 must be"),
], ids=["zero", "unknown-key", "band-too-large"])  # fmt: skip
def test_model_file_refuses_bad_weights(tmp_path, text, match):
    p = tmp_path / "m.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=match):
        read_model_file(p)


def test_model_file_weight_by_band(tmp_path):
    p = tmp_path / "m.toml"
    p.write_text("[spm]\n" + K + '[antenna]\npattern_weight = 0.9\n[band."LTE-1815"]\ntech = "LTE"\n'
                 "freq_mhz = 1815.0\n" + K + "pattern_weight = 0.4\n")  # fmt: skip
    tm = read_model_file(p)
    assert tm.pattern_weight_for("LTE", 1815.0) == 0.4
    assert tm.pattern_weight_for("LTE", 806.0) == 0.9


@pytest.mark.skipif(not (DISTRICT / "cells.csv").exists(), reason="testdata/district not generated")
def test_district_calibrate_fits_the_weight_and_compare_uses_it(tmp_path):
    common = ["--samples", str(DISTRICT / "drives" / "district.csv"), "--cells", str(DISTRICT / "cells.csv"),
              "--dem", str(DISTRICT / "dem.tif"), "--model", "spm"]  # fmt: skip
    for name, extra in (("plain", []), ("weighted", ["--fit-pattern-weight"])):
        assert main(["calibrate", *common, "--h-eff", "ground", "--out", str(tmp_path / f"{name}.toml"), "--quiet", *extra]) == 0
        assert main(["compare", *common, "--model-file", str(tmp_path / f"{name}.toml"), "--out", str(tmp_path / name),
                     "--quiet"]) == 0  # fmt: skip
    tm = read_model_file(tmp_path / "weighted.toml")
    w = tm.pattern_weight_for("LTE", 1815.0)
    assert 0.2 < w < 0.8  # the database's wrong azimuths and 65/10 deg pattern: much of its attenuation does not apply
    info = tm.calibration["band"]["LTE-1815"]["settings"]["pattern_weight"]
    assert info["adopted"] and info["holdout_rmse_db_weighted"] < info["holdout_rmse_db_unweighted"] - 1.0
    plain, weighted = (json.loads((tmp_path / n / "stats.json").read_text()) for n in ("plain", "weighted"))
    assert weighted["rmse_db"] < plain["rmse_db"] - 0.5


@pytest.mark.skipif(not (DISTRICT / "cells.csv").exists(), reason="testdata/district not generated")
def test_cell_table_beamwidth_columns_reach_the_engine():
    import pandas as pd

    from netqa.errors import CellTableError
    from netqa.predict.inputs import check_cells, engine_cells

    df = pd.read_csv(DISTRICT / "cells.csv", dtype={"cell_id": str}).iloc[:3].copy()
    df["hpbw_h_deg"] = [45.0, np.nan, 90.0]
    df["hpbw_v_deg"] = [7.0, np.nan, 12.0]
    check_cells(df, "cells.csv")
    m, _ = engine_cells(df, "cells.csv", np.zeros(3), np.zeros(3), radius_km=5.0, load=1.0)
    np.testing.assert_array_equal(m[:, CELL_FIELDS.index("hpbw_h_deg")], [45.0, 65.0, 90.0])
    np.testing.assert_array_equal(m[:, CELL_FIELDS.index("hpbw_v_deg")], [7.0, 10.0, 12.0])
    df.loc[df.index[1], "hpbw_h_deg"] = 0.2
    with pytest.raises(CellTableError, match="hpbw_h_deg"):
        check_cells(df, "cells.csv")
