"""netqa.calibrate: SPM least squares on binned synthetic measurements, refusals, session hold-out, TOML."""

import numpy as np
import pytest

from netqa.calibrate import (
    CalibrationConfig,
    CalibrationData,
    fit_spm,
    read_model_file,
    session_folds,
    write_model_file,
)
from netqa.errors import ConfigError, InputError, OutputExistsError
from propagation import SPM_DEFAULT_K, SpmCoefficients, spm_k1_at

TRUTH = SpmCoefficients(24.0, 40.0, -10.0, 1.0, -6.55, 0.0, 0.0, 1800.0, 23.0)
PRIOR = SpmCoefficients(10.0, 44.9, -13.82, 1.0, -6.55, 0.0, 0.0, 1800.0, 23.0)
CLUTTER_DB = {"open": 0.0, "suburban": 8.0, "urban": 14.0}
SIGMA_DB = 6.0
NOISE_DB = 1.0


def synth(n_sessions=5, n_per=2000, seed=1, radius_m=5000.0, truth=TRUTH, offset_db=None):
    """Sessions driving among 8 sites; truth SPM + AR(1) shadowing (50 m decorrelation) + noise."""
    rng = np.random.default_rng(seed)
    sites = rng.uniform(-6000, 6000, (8, 2))
    mast = rng.uniform(20, 50, 8) + rng.uniform(0, 80, 8)  # antenna height above sea level
    offset_db = offset_db or {}
    rows = []
    for s in range(n_sessions):
        pos = rng.uniform(-radius_m, radius_m, 2)
        heading, shadow = rng.uniform(0, 2 * np.pi), rng.normal(0, SIGMA_DB)
        for _ in range(n_per):
            heading += rng.normal(0, 0.15)
            step = rng.uniform(8, 15)
            pos = pos + step * np.array([np.cos(heading), np.sin(heading)])
            if np.abs(pos).max() > radius_m + 2000:
                heading += np.pi
            rho = np.exp(-step / 50.0)
            shadow = rho * shadow + np.sqrt(1 - rho**2) * rng.normal(0, SIGMA_DB)
            d = np.hypot(*(sites - pos).T)
            c = int(np.argmin(d))
            ground = 40 + 30 * np.sin(pos[0] / 3000) * np.cos(pos[1] / 2500)
            h_eff, d_km = max(mast[c] - ground, 1.0), max(d[c] / 1000, 0.05)
            cl = ("open", "suburban", "urban")[int((pos[0] + 7000) // 4700) % 3]
            freq = 1800.0 if c % 2 == 0 else 800.0
            loss = (spm_k1_at(truth, freq) + truth.k2 * np.log10(d_km) + truth.k3 * np.log10(h_eff)
                    + truth.k5 * np.log10(d_km) * np.log10(h_eff) + CLUTTER_DB[cl] + offset_db.get(cl, 0.0))  # fmt: skip
            rows.append((loss + shadow + rng.normal(0, NOISE_DB), d_km, h_eff, 1.5, 0.0, freq, cl, CLUTTER_DB[cl],
                         f"C{c}", f"S{s}", pos[0], pos[1]))  # fmt: skip
    cols = list(zip(*rows))
    return CalibrationData(*(np.array(c, dtype=object if isinstance(c[0], str) else float) for c in cols))


@pytest.fixture(scope="module")
def data():
    return synth()


@pytest.fixture(scope="module")
def cal(data):
    return fit_spm(data, CalibrationConfig(prior=PRIOR))


def test_recovers_k1_and_k2_within_targets(cal):
    k1_fit = float(spm_k1_at(cal.k, 1800.0))
    assert k1_fit == pytest.approx(float(spm_k1_at(TRUTH, 1800.0)), abs=2.0)
    assert cal.k.k2 == pytest.approx(TRUTH.k2, abs=3.0)
    assert {"k1", "k2"} <= set(cal.fitted)


def test_holdout_sigma_matches_injected_and_prior_is_worse(cal):
    tuned, prior = cal.holdout["tuned"], cal.holdout["prior"]
    expected = np.hypot(SIGMA_DB, NOISE_DB)
    assert tuned["std_error_db"] == pytest.approx(expected, abs=0.5)
    assert abs(tuned["mean_error_db"]) < 1.0
    assert prior["rmse_db"] > tuned["rmse_db"] + 3.0
    assert cal.holdout["n_folds"] == 5


def test_optional_coefficients_chosen_on_holdout(cal):
    trials = cal.fit["selection_holdout_rmse_db"]
    assert trials["+k3"] < trials["k1+k2"]
    assert "k3" in cal.fitted


def test_refuses_what_the_data_cannot_determine(cal):
    assert "single receiver height" in cal.refused["k6"]
    assert "no terrain diffraction" in cal.refused["k4"]
    assert cal.k.k6 == PRIOR.k6 and cal.k.k4 == PRIOR.k4


def test_clutter_offsets_recovered_relative_to_anchor():
    d = synth(seed=3, offset_db={"urban": 5.0})
    c = fit_spm(d, CalibrationConfig(prior=PRIOR), holdout=False)
    off = {cl: c.clutter_offset_db.get(cl, 0.0) for cl in CLUTTER_DB}
    assert c.clutter_offset_db[c.clutter_anchor] == 0.0
    assert off["urban"] - off["open"] == pytest.approx(5.0, abs=1.5)
    assert off["suburban"] - off["open"] == pytest.approx(0.0, abs=1.5)


def test_narrow_distance_range_refuses_k2(data):
    near = data.subset((data.dist_km > 1.0) & (data.dist_km < 1.4))
    c = fit_spm(near, CalibrationConfig(prior=PRIOR, min_bins=10), holdout=False)
    assert "k2" not in c.fitted and "distance span" in c.refused["k2"]
    assert c.k.k2 == PRIOR.k2


def test_too_few_bins_is_a_clear_error(data):
    with pytest.raises(InputError, match="at least 30 bins"):
        fit_spm(data.subset(np.arange(data.n) < 20), CalibrationConfig(prior=PRIOR))


def test_single_session_holdout_refused(data):
    one = data.subset(data.session == "S0")
    c = fit_spm(one, CalibrationConfig(prior=PRIOR))
    assert "at least 2 sessions" in c.holdout["refused"]


def test_session_folds_never_split_a_session():
    sessions = np.array(["a", "b", "c", "a", "d", "b", "e"])
    folds = session_folds(sessions, 3)
    assert np.sum(folds, axis=0).tolist() == [1] * 7
    for test in folds:
        assert not set(sessions[test]) & set(sessions[~test])


def test_per_cell_k_where_enough_bins(cal):
    fitted = [e for e in cal.per_cell.values() if "k1" in e]
    refused = [e for e in cal.per_cell.values() if "refused" in e]
    assert fitted and all(e["n_bins"] >= 30 for e in fitted)
    assert all(e["n_bins"] < 30 for e in refused)


def test_model_file_round_trip_and_predict_reads_it(cal, tmp_path):
    path = write_model_file(tmp_path / "tuned.toml", cal, clutter_table_loss_db=CLUTTER_DB)
    mf = read_model_file(path)
    np.testing.assert_allclose(mf.k[:7], cal.k[:7], atol=1e-5)
    assert mf.k.f_ref_mhz == 1800.0 and mf.k.k_freq_db_per_decade == 23.0
    assert set(mf.clutter_loss_db) == set(CLUTTER_DB)
    assert mf.calibration["holdout"]["tuned"]["n"] == cal.holdout["tuned"]["n"]
    from netqa.predict.inputs import read_tuned_model

    np.testing.assert_allclose(read_tuned_model(path).k[:7], cal.k[:7], atol=1e-5)
    with pytest.raises(OutputExistsError):
        write_model_file(path, cal)


def test_model_file_keeps_hata_frequency_rule(tmp_path):
    from netqa.calibrate import Calibration

    path = write_model_file(tmp_path / "t.toml", Calibration(k=SPM_DEFAULT_K))
    assert read_model_file(path).k == SPM_DEFAULT_K


@pytest.mark.parametrize(
    "text, match",
    [
        ("[spm]\nk1=1\nk2=2\nk3=3\nk4=4\nk5=5\nk6=6\nk7=7\n[tuning]\nx=1\n", "unknown key.*'tuning'"),
        ("[spm]\nk1=1\nk2=2\nk3=3\nk4=4\nk5=5\nk6=6\nk7=7\nk9=1\n", "unknown SPM coefficient key.*'k9'"),
        ("[spm]\nk1=1\n", "missing required key"),
        ("[spm]\nk1=1\nk2=2\nk3=3\nk4=4\nk5=5\nk6=6\nk7=7\n[cells.A]\nk3=1\n", r"\[cells.A\] takes k1"),
        ("[clutter_loss_db]\nurban=1\n", r"no \[spm\] section"),
    ],
    ids=["unknown-section", "unknown-k", "missing-k", "bad-cell-key", "no-spm"],
)
def test_model_file_bad_keys_are_named(tmp_path, text, match):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match):
        read_model_file(path)


def test_model_file_hand_written_top_level_ks(tmp_path):
    path = tmp_path / "hand.toml"
    path.write_text("k1=120\nk2=44.9\nk3=-13.82\nk4=1\nk5=-6.55\nk6=-2.55\nk7=-7\n")  # physical values (bounds)
    assert read_model_file(path).k.k7 == -7.0


def test_not_toml_is_input_error(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text("k1 = = 3")
    with pytest.raises(InputError, match="cannot read TOML"):
        read_model_file(path)
