"""Bad inputs of the newer features: one clear error (exit 2) or a loud warning, never a silent wrong value.

Surface rasters, tuned-model files (physical bounds, the learned correction's sidecar, a file that does not fit
the cell table), cells' ``ground_m`` against the DEM, flag types and an output folder left by a failed run.
The whole CLI case table is ``benchmarks/fault_audit.py``; these are its classes on tiny inputs.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from netqa.cli import main
from netqa.errors import ConfigError, InputError

TESTDATA = Path(__file__).resolve().parents[2] / "testdata"
DISTRICT = TESTDATA / "district"

_BASE = """[model]
h_eff_method = "relative"

[spm]
k1 = 120.0
k2 = 44.9
k3 = -13.82
k4 = 1.0
k5 = -6.55
k6 = -2.55
k7 = 0.0
f_ref_mhz = 900.0
"""


def _model(tmp_path, text):
    p = tmp_path / "m.toml"
    p.write_text(text)
    return p


def test_a_sane_hand_written_model_file_is_read(tmp_path):
    from netqa.io.modelfile import read_model_file

    tm = read_model_file(_model(tmp_path, _BASE + '\n[cells.A]\nk1 = 121.0\nk2 = 40.0\n'))
    assert tm.k.k2 == 44.9 and tm.per_cell["A"]["k2"] == 40.0 and tm.source.endswith("m.toml")


@pytest.mark.parametrize("edit, match", [
    (lambda t: t.replace("k2 = 44.9", "k2 = -5.0"), r"\[spm\] k2 = -5 .*effective distance slope"),
    (lambda t: t.replace("k4 = 1.0", "k4 = -3.0"), r"\[spm\] k4 = -3 is outside the physical range 0..1.2"),
    (lambda t: t.replace("k3 = -13.82", "k3 = 40.0"), r"\[spm\] k3 = 40 is outside"),
    (lambda t: t.replace("k7 = 0.0", "k7 = 5.0"), r"\[spm\] k7 = 5 is outside"),
    (lambda t: t + '\n[cells.A]\nk1 = 121.0\nk2 = 500.0\n', r"\[cells.A\] k2 = 500"),
    (lambda t: t + '\n[band.LTE-1815]\ntech = "LTE"\nfreq_mhz = 1815.0\nk1 = 1\nk2 = 44.9\nk3 = -13.82\nk4 = 2.5\n'
                   'k5 = -6.55\nk6 = -2.55\nk7 = 0.0\nf_ref_mhz = 900.0\n', r"\[band.LTE-1815\] k4 = 2.5"),
    (lambda t: t + '\n[path_clutter]\nnear_m = 300.0\n[path_clutter.near_db]\nurban = 900.0\n',
     r"\[path_clutter.near_db\] urban = 900 dB is outside the physical range 0..40"),
    (lambda t: t + '\n[clutter_loss_db]\nurban = -400.0\n', r"\[clutter_loss_db\] urban = -400 dB"),
], ids=["k2", "k4", "k3", "k7", "cell-k2", "band-k4", "path-clutter", "clutter"])  # fmt: skip
def test_model_file_values_outside_physical_bounds_are_refused(tmp_path, edit, match):
    from netqa.io.modelfile import read_model_file

    with pytest.raises(ConfigError, match=match):
        read_model_file(_model(tmp_path, edit(_BASE)))


def test_calibrate_refuses_an_unphysical_prior_on_the_command_line(tmp_path, capsys):
    p = _model(tmp_path, _BASE.replace("k2 = 44.9", "k2 = -5.0"))
    code = main(["calibrate", "--samples", "x.csv", "--cells", "c.csv", "--dem", "d.tif", "--model-file", str(p),
                 "--out", str(tmp_path / "o" / "t.toml")])  # fmt: skip
    assert code == 2 and "k2 = -5" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # no output folder left behind


def _tiny_lightgbm_text() -> str:
    lgb = pytest.importorskip("lightgbm")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 3))
    booster = lgb.train({"objective": "regression", "num_leaves": 4, "verbose": -1, "min_data_in_leaf": 5},
                        lgb.Dataset(x, x[:, 0] * 2.0), num_boost_round=3)  # fmt: skip
    return booster.model_to_string()


def test_lightgbm_text_check_passes_a_model_and_refuses_a_truncated_one():
    from netqa.io.learnedfile import check_lightgbm_text

    text = _tiny_lightgbm_text()
    check_lightgbm_text(text)
    cut = text.index("end of trees")
    for bad in (text[: len(text) // 2], text[: cut // 2], "not a model\n", text.replace("Tree=1\n", "Tree=7\n")):
        with pytest.raises(ConfigError):  # LightGBM itself crashes the process on the first two
            check_lightgbm_text(bad)


def _raster(path, data, *, crs="EPSG:32630", nodata=None, x0=510000.0, y0=4478400.0, px=5.0):
    import rasterio
    from affine import Affine

    arr = np.asarray(data, dtype=np.float32)
    arr = arr[None] if arr.ndim == 2 else arr
    with rasterio.open(path, "w", driver="GTiff", width=arr.shape[2], height=arr.shape[1], count=arr.shape[0],
                       dtype="float32", crs=crs, transform=Affine(px, 0, x0, 0, -px, y0), nodata=nodata) as ds:  # fmt: skip
        ds.write(arr)
    return path


@pytest.mark.parametrize("kind, match", [
    ("bands", r"3 bands"), ("nocrs", r"no CRS"), ("absolute", r"surface elevations above sea level"),
    ("inf", r"infinite"), ("negative", r"heights -50"),
], ids=lambda v: v if isinstance(v, str) and " " not in v else "")  # fmt: skip
def test_bad_surface_rasters_are_refused(tmp_path, kind, match):
    from netqa.predict.surface import check_surface

    h = np.zeros((20, 20), np.float32)
    h[5:10, 5:10] = 12.0
    data = {"bands": np.stack([h, h, h]), "nocrs": h, "absolute": h + 700.0, "inf": np.where(h > 0, np.inf, 0.0),
            "negative": h - 50.0}[kind]  # fmt: skip
    path = _raster(tmp_path / "s.tif", data, crs=None if kind == "nocrs" else "EPSG:32630")
    with pytest.raises(InputError, match=match):
        check_surface(path, 5.0, "delta-bullington")


def test_surface_without_obstacles_or_coarse_is_warned(tmp_path, caplog):
    from netqa.predict.surface import check_surface

    with caplog.at_level(logging.WARNING, logger="netqa"):
        check_surface(_raster(tmp_path / "z.tif", np.full((8, 8), -9999.0), nodata=-9999.0), 5.0, "delta-bullington")
        check_surface(_raster(tmp_path / "c.tif", np.full((8, 8), 10.0), px=50.0), 5.0, "delta-bullington")
        check_surface(_raster(tmp_path / "n.tif", np.full((8, 8), 10.0)), 5.0, "none")
    text = caplog.text
    assert "holds no obstacle" in text and "coarser than the 5 m grid" in text and "obstructs no path" in text


def test_surface_area_overlap_and_nodata_read_as_zero(tmp_path, caplog):
    from rasterio.crs import CRS

    from netqa.grid import Grid
    from netqa.predict.surface import check_surface_area, read_surface

    h = np.full((40, 40), 8.0, np.float32)
    h[:10] = np.nan  # NaN nodata: 0 m (documented), not a refused "void"
    path = _raster(tmp_path / "s.tif", h, nodata=float("nan"))
    area = (510000.0, 4478200.0, 510200.0, 4478400.0)
    crs = CRS.from_epsg(32630)
    assert check_surface_area(path, area, crs) == pytest.approx(1.0)
    with pytest.raises(InputError, match="covers none of the area"):
        check_surface_area(path, (610000.0, 4478200.0, 610200.0, 4478400.0), crs)
    with caplog.at_level(logging.WARNING, logger="netqa"):
        share = check_surface_area(path, (510100.0, 4478200.0, 510500.0, 4478400.0), crs)
    assert share == pytest.approx(0.25) and "covers 25 %" in caplog.text
    g = Grid.from_bounds(crs, (510000.0, 4478100.0, 510300.0, 4478400.0), 5.0)  # wider than the raster
    got = read_surface(path, g)
    assert got.shape == (60, 60) and got[:10].max() == 0.0 and got[12:38, :38].min() == 8.0 and got[45:].max() == 0.0


def test_model_file_that_does_not_fit_the_cells_is_warned(tmp_path, caplog):
    from netqa.io.modelfile import read_model_file
    from netqa.modelcheck import check_tuned_cells

    text = _BASE + ('\n[band.LTE-2600]\ntech = "LTE"\nfreq_mhz = 2600.0\nk1 = 120.0\nk2 = 44.9\nk3 = -13.82\n'
                    'k4 = 1.0\nk5 = -6.55\nk6 = -2.55\nk7 = 0.0\nf_ref_mhz = 900.0\n\n[cells.GONE]\nk1 = 121.0\n')  # fmt: skip
    tm = read_model_file(_model(tmp_path, text))
    cells = pd.DataFrame({"cell_id": ["A", "B"], "tech": ["LTE", "LTE"], "freq_mhz": [1815.0, 806.0]})
    with caplog.at_level(logging.WARNING, logger="netqa"):
        assert check_tuned_cells(tm, cells, "m.toml") == ["LTE-1815", "LTE-806"]
    assert "take the global [spm]" in caplog.text and "GONE" in caplog.text


@pytest.mark.skipif(not (DISTRICT / "cells.csv").exists(), reason="testdata/district not generated")
def test_ground_m_far_from_the_dem_is_warned(caplog):
    from netqa.predict.inputs import check_cells_ground

    cells = pd.read_csv(DISTRICT / "cells.csv", dtype={"cell_id": str}).head(3)
    with caplog.at_level(logging.WARNING, logger="netqa"):
        assert check_cells_ground(cells.assign(ground_m=np.nan), DISTRICT / "dem.tif") == []
        assert len(check_cells_ground(cells.assign(ground_m=-5.0), DISTRICT / "dem.tif")) == 3
    assert "ground_m of 3 cell(s)" in caplog.text and "below" in caplog.text


@pytest.mark.parametrize("argv, match", [
    (["link", "--dem", "d.tif", "--site", "40.4,-2.8", "--height-m", "20", "--freq-mhz", "1800", "--gain-dbi", "inf",
      "--to", "40.41,-2.8", "--out", "p.png"], "--gain-dbi"),
    (["audit", "--samples", "s", "--cells", "c", "--dem", "d", "--out", "a.csv", "--rx-height-m", "-1"], "--rx-height-m"),
    (["compare", "--samples", "s", "--cells", "c", "--dem", "d", "--out", "o", "--resolution-m", "1e7"], "--resolution-m"),
    (["calibrate", "--samples", "s", "--cells", "c", "--dem", "d", "--out", "t.toml", "--path-clutter-near-m", "100"],
     "applies only with --path-clutter near or both"),
], ids=["link-gain", "audit-rx-height", "compare-resolution", "near-m-ignored"])  # fmt: skip
def test_flags_that_would_be_wrong_or_ignored_exit_2(argv, match, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert match in err and "Traceback" not in err


def test_check_output_creates_no_folder_and_refuses_a_file_as_folder(tmp_path):
    from netqa.fileio import check_output, write_text_atomic

    target = tmp_path / "a" / "b" / "out.json"
    assert check_output(target, False) == target and not (tmp_path / "a").exists()
    write_text_atomic(target, "{}")
    assert target.read_text() == "{}"
    (tmp_path / "f").write_text("x")
    with pytest.raises(NotADirectoryError):
        check_output(tmp_path / "f" / "out.json", False)


def test_atoll_style_k3_is_refused_with_the_conversion(tmp_path):
    from netqa.io.modelfile import read_model_file

    with pytest.raises(ConfigError, match=r"k3 = 5.83 .*Atoll-style K3 .* K3 \+ 3 K5 = -13.82"):
        read_model_file(_model(tmp_path, _BASE.replace("k3 = -13.82", "k3 = 5.83")))


def test_layout_errors_come_before_bounds(tmp_path):
    from netqa.io.modelfile import read_model_file

    with pytest.raises(ConfigError, match="unknown key"):  # the structural problem is named first
        read_model_file(_model(tmp_path, _BASE.replace("k2 = 44.9", "k2 = -5.0") + "\n[tuning]\nx = 1\n"))


@pytest.mark.skipif(not (DISTRICT / "cells.csv").exists(), reason="testdata/district not generated")
@pytest.mark.parametrize("kind, match", [("bands", "3 bands"), ("far", "covers none of the area")])
def test_project_surface_is_checked_before_the_stages(tmp_path, kind, match):
    from netqa.config import load_project
    from netqa.preflight import check_project

    h = np.full((20, 20), 5.0, np.float32)
    data = np.stack([h, h, h]) if kind == "bands" else h
    _raster(tmp_path / "s.tif", data, x0=610000.0 if kind == "far" else 510000.0)
    (tmp_path / "project.toml").write_text(
        f'[inputs]\ncells = "{DISTRICT / "cells.csv"}"\ndem = "{DISTRICT / "dem.tif"}"\nsurface = "s.tif"\n'
        '[predict]\nterrain = "delta-bullington"\n')  # fmt: skip
    with pytest.raises(ConfigError, match=rf"\[inputs\] surface.*{match}"):
        check_project(load_project(tmp_path / "project.toml"))


def test_model_file_applied_with_another_terrain_or_surface_is_warned(tmp_path, caplog):
    from netqa.io.modelfile import read_model_file
    from netqa.modelcheck import check_tuned_terrain

    text = _BASE + '\n[calibration.provenance]\nterrain = "delta-bullington"\nsurface = "b.tif"\n'
    tm = read_model_file(_model(tmp_path, text))
    with caplog.at_level(logging.WARNING, logger="netqa"):
        assert not check_tuned_terrain(tm, "m.toml", terrain="delta-bullington", surface="b.tif")
        assert check_tuned_terrain(tm, "m.toml", terrain="none", surface="b.tif")
        assert check_tuned_terrain(tm, "m.toml", terrain="delta-bullington", surface=None)
    assert "calibrated with --terrain delta-bullington, applied with --terrain none" in caplog.text
    assert "calibrated with --surface, applied without one" in caplog.text


@pytest.mark.skipif(not (DISTRICT / "cells.csv").exists(), reason="testdata/district not generated")
def test_rs_power_contradicting_total_power_is_warned(tmp_path, caplog):
    from netqa.io.cells import read_cells

    cells = pd.read_csv(DISTRICT / "cells.csv", dtype={"cell_id": str}).head(2)
    cells.assign(rs_power_dbm=15.2).to_csv(tmp_path / "ok.csv", index=False)  # 46 dBm over 100 RB: 15.2 dBm
    cells.assign(rs_power_dbm=30.0).to_csv(tmp_path / "bad.csv", index=False)
    with caplog.at_level(logging.WARNING, logger="netqa"):
        read_cells(tmp_path / "ok.csv")
        assert "rs_power_dbm" not in caplog.text
        read_cells(tmp_path / "bad.csv")
    assert "rs_power_dbm of 2 row(s) differs" in caplog.text


@pytest.mark.skipif(not (DISTRICT / "cells.csv").exists(), reason="testdata/district not generated")
def test_python_api_refuses_a_surface_that_covers_none_of_the_area(tmp_path):
    """predict_to_file (no CLI pre-checks): a surface elsewhere would read as 0 m everywhere; refused instead."""
    from netqa.predict import PredictConfig, predict_to_file

    _raster(tmp_path / "s.tif", np.full((20, 20), 5.0, np.float32), x0=610000.0)
    cfg = PredictConfig(model="fspl", terrain="delta-bullington", radius_km=0.5, resolution_m=10.0)
    with pytest.raises(InputError, match="covers none of the area"):
        predict_to_file(DISTRICT / "cells.csv", DISTRICT / "dem.tif", tmp_path / "c.tif", config=cfg,
                        surface=tmp_path / "s.tif", show_progress=False)  # fmt: skip
    assert not (tmp_path / "c.tif").exists()
